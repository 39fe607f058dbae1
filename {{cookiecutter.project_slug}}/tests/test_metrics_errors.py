"""Most confident errors against a brute-force search."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics._checks import MetricsInputError
from {{ cookiecutter.package_name }}.metrics.misclassified import confident_errors
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores

THRESHOLD = 0.5


def _data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    y = (rng.random(n) < p).astype(np.int8)
    return y, p


def test_top_false_positives_and_negatives_match_brute_force():
    # given labels and scores
    y, p = _data()
    # when the 5 most confident errors are listed
    result = confident_errors(SortedScores.build(y, p), THRESHOLD, k=5)
    # then false positives are the negatives with the highest p (above threshold), descending
    negatives = np.flatnonzero((y == 0) & (p >= THRESHOLD))
    expected_fp = negatives[np.argsort(-p[negatives])][:5]
    assert [row["index"] for row in result["false_positives"]] == expected_fp.tolist()
    # and false negatives are the positives with the lowest p (below threshold), ascending
    positives = np.flatnonzero((y == 1) & (p < THRESHOLD))
    expected_fn = positives[np.argsort(p[positives])][:5]
    assert [row["index"] for row in result["false_negatives"]] == expected_fn.tolist()
    assert result["n_false_positive"] == negatives.size
    assert result["n_false_negative"] == positives.size
    assert all(row["y"] == 0 and row["p"] >= THRESHOLD for row in result["false_positives"])


def test_ids_and_suspected_labels_are_carried_through():
    # given string ids and a suspected-label mask flagging every third row
    y, p = _data(seed=1)
    ids = np.array([f"row-{index}" for index in range(y.size)])
    suspected = np.arange(y.size) % 3 == 0
    # when errors are listed
    result = confident_errors(SortedScores.build(y, p), THRESHOLD, 3, ids, suspected)
    # then each row keeps its id and flag, and flagged errors are counted
    for row in result["false_positives"] + result["false_negatives"]:
        assert row["id"] == f"row-{row['index']}"
        assert row["suspected"] == (row["index"] % 3 == 0)
    fp_rows = np.flatnonzero((y == 0) & (p >= THRESHOLD))
    assert result["n_suspected_false_positive"] == int(suspected[fp_rows].sum())


def test_mask_of_wrong_length_is_rejected():
    y, p = _data()
    with pytest.raises(MetricsInputError, match="suspected"):
        confident_errors(SortedScores.build(y, p), THRESHOLD, suspected=np.ones(3, bool))
