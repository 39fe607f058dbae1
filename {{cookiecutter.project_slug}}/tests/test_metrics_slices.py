"""Slice finding: an injected weak slice is found first; slice metrics are the subset's own."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.metrics._checks import MetricsInputError
from {{ cookiecutter.package_name }}.metrics.slices import slice_report
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary
from {{ cookiecutter.package_name }}.metrics.table import make_score_bins

THRESHOLD = 0.4


def _data(n=20_000, seed=0):
    """Region "w" gets uninformative scores; "rare" has only 20 rows."""
    rng = np.random.default_rng(seed)
    region = rng.choice(np.array(["n", "s", "e", "w"]), size=n, p=[0.3, 0.3, 0.25, 0.15])
    region[:20] = "rare"
    age = rng.normal(45, 12, n)
    p = rng.beta(2, 3, n)
    y = (rng.random(n) < p).astype(int)
    weak = region == "w"
    p = np.where(weak, rng.random(n), p)  # scores unrelated to the outcome in region w
    features = pd.DataFrame({"region": region, "age": age, "plan": rng.integers(0, 3, n)})
    return y, p, features


def test_injected_weak_slice_ranks_first():
    # given region "w" where the scores carry no signal
    y, p, features = _data()
    # when slices are ranked by Brier gap x share
    slices = evaluate_binary(y, p, threshold=THRESHOLD, features=features, n_bootstrap=0)["slices"]
    # then region = w is the top slice, with an AUC near 0.5 and a worse Brier than overall
    top = slices["slices"][0]
    assert top["slice"] == "region = w"
    assert top["auc"]["lo"] < 0.5 < top["auc"]["hi"]
    assert top["brier"]["lo"] > slices["overall"]["brier"]
    assert top["score"] == pytest.approx(top["gap"] * top["share"])
    scores = [row["score"] for row in slices["slices"] if row["score"] is not None]
    assert scores == sorted(scores, reverse=True)


def test_slice_metrics_equal_direct_subset_computation():
    # given the data and one 2-way slice
    y, p, features = _data(seed=1)
    scores = SortedScores.build(y, p)
    bins = make_score_bins(scores.scores, 2000, [THRESHOLD])
    overall = {"auc": 0.7, "brier": 0.2, "error_rate": 0.3}
    # when every slice is kept (no top-50 cut)
    result = slice_report(
        scores,
        bins,
        bins.bin_of_sorted_rows(),
        features,
        threshold=THRESHOLD,
        overall=overall,
        max_slices=1000,
    )
    rows = {row["slice"]: row for row in result["slices"]}
    # (4 regions besides "rare", 4 age bins, 3 plans, then their pairs; "rare" is too small)
    assert result["n_candidates"] == len(rows) == (4 + 4 + 3) + (4 * 4 + 4 * 3 + 4 * 3)
    for name, mask in (
        ("region = s", features["region"] == "s"),
        ("region = n & plan = 2", (features["region"] == "n") & (features["plan"] == 2)),
    ):
        row = rows[name]
        mask = mask.to_numpy()
        # then n, share, Brier and error rate are exact and AUC is within binning error
        assert row["n"] == mask.sum()
        assert row["share"] == pytest.approx(mask.mean())
        assert row["brier"]["estimate"] == pytest.approx(np.mean((p[mask] - y[mask]) ** 2))
        errors = np.mean((p[mask] >= THRESHOLD) != (y[mask] == 1))
        assert row["error_rate"]["estimate"] == pytest.approx(errors)
        assert row["auc"]["estimate"] == pytest.approx(roc_auc_score(y[mask], p[mask]), abs=2e-3)


def test_numeric_columns_are_cut_into_quartiles_and_small_slices_dropped():
    # given a numeric age column and a 20-row category
    y, p, features = _data(seed=2)
    result = evaluate_binary(y, p, threshold=THRESHOLD, features=features, n_bootstrap=0)
    slices = result["slices"]
    age_rows = [row for row in slices["slices"] if row["columns"] == ["age"]]
    # then age has four quantile bins of ~25% each (those ranked in the top 50)
    assert age_rows and all(abs(row["share"] - 0.25) < 0.01 for row in age_rows)
    # labelled as people write intervals: age < a, a ≤ age < b, age ≥ c
    pattern = r"age < [\d.]+|[\d.]+ ≤ age < [\d.]+|age ≥ [\d.]+"
    assert all(re.fullmatch(pattern, row["conditions"]["age"]) for row in age_rows)
    # and the 20-row category is dropped under min_size=50 and counted
    assert not any("rare" in row["slice"] for row in slices["slices"])
    assert slices["n_too_small"] >= 1
    assert slices["pairs_included"]


def test_features_of_wrong_length_are_rejected():
    y, p, features = _data(seed=3)
    with pytest.raises(MetricsInputError, match="features"):
        evaluate_binary(y, p, threshold=THRESHOLD, features=features.iloc[:-5])


def test_slice_labels_read_as_conditions():
    # given a few-valued float column (integers stored as floats, with a gap) and a numeric one
    y, p, features = _data(seed=4)
    features["prior_admissions"] = features["plan"].astype(float)
    features.loc[:99, "prior_admissions"] = np.nan
    # when the slices are labelled
    result = evaluate_binary(y, p, threshold=THRESHOLD, features=features, n_bootstrap=0)
    labels = {row["slice"] for row in result["slices"]["slices"]}
    single = {label for label in labels if " & " not in label}
    # then integers read without ".0", conditions with spaces and ≥, missing values in words
    assert not any(re.search(r"\.0(?!\d)|=>|>=", label) for label in labels)
    assert {"prior_admissions = 1", "prior_admissions missing"} & single
    assert any(re.fullmatch(r"age ≥ \d+(\.\d+)?", label) for label in single)
