"""Per-group metrics and fairness gaps against fairlearn and injected ground truth."""

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score, roc_auc_score

from {{ cookiecutter.package_name }}.metrics import (
    MetricsInputError,
    calibration_intercept_slope,
    evaluate_binary,
)

THRESHOLD = 0.35


def _data(n, seed, gap=0.0):
    """Calibrated scores; with ``gap`` > 0 group "b" gets its positives' scores shrunk."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 4, n)
    y = (rng.random(n) < p).astype(int)
    group = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.5, 0.3, 0.2])
    shrink = (group == "b") & (y == 1)
    p = np.where(shrink, p * (1.0 - gap), p)
    return y, p, group


def test_group_rates_and_gaps_match_fairlearn():
    # given three groups on 3,000 rows
    y, p, group = _data(3000, seed=0)
    # when evaluated with the groups
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=200)
    rows = {row["group"]: row for row in result["groups"]["g"]}
    # then TPR, FPR, PPV and selection rate per group equal fairlearn's MetricFrame
    y_pred = (p >= THRESHOLD).astype(int)
    frame = MetricFrame(
        metrics={
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "selection_rate": selection_rate,
            "ppv": precision_score,
        },
        y_true=y,
        y_pred=y_pred,
        sensitive_features=group,
    )
    for name in ("tpr", "fpr", "selection_rate", "ppv"):
        for label, value in frame.by_group[name].items():
            assert rows[label][name]["estimate"] == pytest.approx(value, abs=1e-12)
            assert rows[label][name]["lo"] <= value <= rows[label][name]["hi"]
    # and the gaps equal fairlearn's between-group differences
    fairness = result["fairness"]["g"]
    assert fairness["equalized_odds_difference"]["estimate"] == pytest.approx(
        equalized_odds_difference(y, y_pred, sensitive_features=group), abs=1e-12
    )
    assert fairness["demographic_parity_difference"]["estimate"] == pytest.approx(
        demographic_parity_difference(y, y_pred, sensitive_features=group), abs=1e-12
    )


def test_group_auc_calibration_and_counts_equal_subset_computations():
    # given three groups
    y, p, group = _data(3000, seed=1)
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=0)
    for row in result["groups"]["g"]:
        mask = group == row["group"]
        # then n, share, prevalence, AUC and the recalibration fits are the subset's own
        assert row["n"] == mask.sum()
        assert row["share"] == pytest.approx(mask.mean())
        assert row["prevalence"]["estimate"] == pytest.approx(y[mask].mean())
        assert row["auc"]["estimate"] == pytest.approx(roc_auc_score(y[mask], p[mask]), abs=1e-12)
        fits = calibration_intercept_slope(y[mask], p[mask])
        assert row["slope"]["estimate"] == pytest.approx(fits["slope"]["estimate"], abs=1e-7)
        assert row["intercept"]["estimate"] == pytest.approx(
            fits["intercept"]["estimate"], abs=1e-7
        )
        assert row["brier"]["estimate"] == pytest.approx(np.mean((p[mask] - y[mask]) ** 2))


def test_injected_subgroup_gap_is_flagged_with_an_interval_above_tolerance():
    # given group "b" whose positives get 60% lower scores (its TPR collapses)
    y, p, group = _data(20_000, seed=2, gap=0.6)
    # when evaluated with tolerance 0.1
    result = evaluate_binary(
        y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300, gap_tolerance=0.1
    )
    fairness = result["fairness"]["g"]
    # then the equalized-odds gap is flagged and its whole interval lies above the tolerance
    odds = fairness["equalized_odds_difference"]
    assert fairness["flagged"] and odds["exceeds_tolerance"]
    assert odds["lo"] > 0.1
    assert odds["lo"] <= odds["estimate"] <= odds["hi"]
    tpr = {row["group"]: row["tpr"]["estimate"] for row in result["groups"]["g"]}
    assert tpr["b"] < tpr["a"] - 0.2


def test_no_gap_is_not_flagged():
    # given groups assigned at random (no true gap) on 20,000 rows
    y, p, group = _data(20_000, seed=3)
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300)
    fairness = result["fairness"]["g"]
    # then nothing is flagged and the interval of the gap covers small values only
    assert not fairness["flagged"]
    assert fairness["equalized_odds_difference"]["hi"] < 0.1


def test_missing_group_labels_form_their_own_group():
    # given some rows without a group label
    y, p, group = _data(2000, seed=4)
    labels = group.astype(object)
    labels[:100] = None
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": labels}, n_bootstrap=0)
    rows = {row["group"]: row for row in result["groups"]["g"]}
    # then a "(missing)" group holds exactly those rows
    assert rows["(missing)"]["n"] == 100
    assert sum(row["n"] for row in rows.values()) == 2000


def test_group_array_of_wrong_length_is_rejected_by_name():
    y, p, group = _data(500, seed=5)
    with pytest.raises(MetricsInputError, match="sex"):
        evaluate_binary(y, p, threshold=THRESHOLD, groups={"sex": group[:-1]})
