"""The evaluate entry point: JSON-safe, deterministic, consistent with scikit-learn."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from {{ cookiecutter.package_name }}.metrics._checks import MetricsInputError
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary, headline

THRESHOLD = 0.35


def _inputs(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 4, n)
    y = (rng.random(n) < p).astype(int)
    groups = {"sex": rng.choice(np.array(["f", "m"]), n), "age_band": rng.integers(0, 3, n)}
    features = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(np.array(["u", "v"]), n)})
    baseline = np.clip(p + rng.normal(0, 0.1, n), 0, 1)
    return y, p, groups, features, baseline


@pytest.fixture(scope="module")
def full_result():
    y, p, groups, features, baseline = _inputs()
    result = evaluate_binary(
        y,
        p,
        threshold=THRESHOLD,
        groups=groups,
        features=features,
        ids=np.arange(y.size) + 1000,
        suspected=np.arange(y.size) % 7 == 0,
        references={"baseline": baseline},
        n_bootstrap=300,
        seed=3,
    )
    return y, p, result


def test_result_is_strict_json_with_every_section(full_result):
    # given a full evaluation; when it is dumped as strict JSON (NaN forbidden)
    _, _, result = full_result
    text = json.dumps(result, allow_nan=False)
    # then it round-trips and has every section
    assert json.loads(text) == result
    for section in (
        "discrimination",
        "calibration",
        "threshold_metrics",
        "decision_curve",
        "curves",
        "groups",
        "fairness",
        "slices",
        "errors",
        "comparisons",
        "settings",
    ):
        assert section in result
    assert set(result["groups"]) == {"sex", "age_band"}
    assert len(result["curves"]["roc"]["fpr"]) <= 200
    assert result["curves"]["roc"]["thresholds"][0] is None  # inf is not JSON


def test_headline_numbers_match_sklearn(full_result):
    # given the evaluation; when flattened
    y, p, result = full_result
    flat = headline(result)
    # then every value is a float and the key ones equal scikit-learn's
    assert all(isinstance(value, float) for value in flat.values())
    assert flat["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert flat["ap"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert flat["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    for name in ("auc", "ap", "brier", "cal_slope", "sensitivity", "net_benefit", "ece"):
        assert flat[name + "_lo"] <= flat[name] <= flat[name + "_hi"], name
    assert {"eod_sex", "dpd_age_band", "auc_diff_baseline", "ici", "e90"} <= set(flat)


def test_errors_carry_ids_and_flags(full_result):
    _, p, result = full_result
    first = result["errors"]["false_positives"][0]
    assert first["id"] == first["index"] + 1000
    assert first["suspected"] == (first["index"] % 7 == 0)
    assert first["p"] == pytest.approx(p[first["index"]])


def test_same_seed_gives_identical_results_and_another_seed_other_intervals():
    # given the same inputs evaluated twice with one seed and once with another
    y, p, groups, _, _ = _inputs(seed=1)
    first = evaluate_binary(y, p, threshold=THRESHOLD, groups=groups, n_bootstrap=200, seed=5)
    again = evaluate_binary(y, p, threshold=THRESHOLD, groups=groups, n_bootstrap=200, seed=5)
    other = evaluate_binary(y, p, threshold=THRESHOLD, groups=groups, n_bootstrap=200, seed=6)
    # then the first two are identical and the third differs only in bootstrap bounds
    assert first == again
    assert first["calibration"]["brier"]["lo"] != other["calibration"]["brier"]["lo"]
    assert first["discrimination"]["auc"] == other["discrimination"]["auc"]


def test_without_bootstrap_the_bootstrap_bounds_are_none():
    y, p, _, _, _ = _inputs(seed=2)
    result = evaluate_binary(y, p, threshold=THRESHOLD, n_bootstrap=0)
    assert result["discrimination"]["ap"]["lo"] is None
    assert result["discrimination"]["auc"]["lo"] is not None  # DeLong needs no resampling
    assert "ap_lo" not in headline(result)


def test_optional_sections_are_empty_not_missing():
    # given only labels and probabilities
    y, p, _, _, _ = _inputs(seed=3)
    result = evaluate_binary(y, p, threshold=THRESHOLD, n_bootstrap=0)
    # then groups, fairness and comparisons are empty and slices has an empty list
    assert result["groups"] == {} and result["fairness"] == {} and result["comparisons"] == {}
    assert result["slices"]["slices"] == [] and result["slices"]["n_candidates"] == 0
    assert result["discrimination"]["prevalence"] == pytest.approx(np.mean(y))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"y": [0, 1, 2, 1]}, "only 0 and 1"),
        ({"p": [0.1, 0.5, 1.2, 0.3]}, r"\[0, 1\]"),
        ({"p": [0.1, np.nan, 0.2, 0.3]}, "NaN"),
        ({"p": [0.1, 0.2, 0.3]}, "length 4"),
        ({"y": [1, 1, 1, 1]}, "both classes"),
        ({"threshold": 1.0}, "threshold"),
        ({"ids": [1, 2]}, "ids"),
        ({"references": dict(old=[0.1, 0.2])}, "old"),
    ],
)
def test_bad_inputs_raise_clear_errors(change, message):
    # given valid inputs with one thing broken
    arguments = {"y": [0, 1, 0, 1], "p": [0.1, 0.8, 0.3, 0.6], "threshold": 0.5, **change}
    y, p = arguments.pop("y"), arguments.pop("p")
    # when / then a ValueError subclass names the problem
    with pytest.raises(MetricsInputError, match=message):
        evaluate_binary(y, p, **arguments)
    assert issubclass(MetricsInputError, ValueError)
