"""Threshold metrics, net benefit, decision curves and threshold choice."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_curve

from {{ cookiecutter.package_name }}.metrics._checks import MetricsInputError
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.metrics.threshold import (
    choose_threshold,
    decision_curve,
    net_benefit,
    threshold_metrics,
)


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(2, 4, n), 3)  # ties, including values equal to the threshold
    y = (rng.random(n) < p).astype(int)
    return y, p


@pytest.mark.parametrize("threshold", [0.2, 0.3, 0.5])
def test_confusion_and_rates_match_sklearn(threshold):
    # given labels and probabilities with ties at the threshold
    y, p = _data()
    # when the metrics at the threshold are computed (p >= threshold is positive)
    result = threshold_metrics(SortedScores.build(y, p), threshold)
    # then the counts equal sklearn's confusion matrix of the same hard predictions
    tn, fp, fn, tp = confusion_matrix(y, (p >= threshold).astype(int)).ravel()
    assert result["confusion"] == {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    assert result["sensitivity"]["estimate"] == pytest.approx(tp / (tp + fn))
    assert result["specificity"]["estimate"] == pytest.approx(tn / (tn + fp))
    assert result["ppv"]["estimate"] == pytest.approx(tp / (tp + fp))
    assert result["npv"]["estimate"] == pytest.approx(tn / (tn + fn))
    assert result["sensitivity"]["lo"] < tp / (tp + fn) < result["sensitivity"]["hi"]
    assert result["lr_positive"]["estimate"] == pytest.approx((tp / (tp + fn)) / (fp / (fp + tn)))
    expected_nb = tp / y.size - fp / y.size * threshold / (1 - threshold)
    assert result["net_benefit"]["estimate"] == pytest.approx(expected_nb)


def test_decision_curve_against_direct_net_benefit():
    # given data and a threshold grid
    y, p = _data(seed=1)
    grid = np.array([0.05, 0.2, 0.35, 0.6])
    # when the decision curve is computed
    curve = decision_curve(SortedScores.build(y, p), grid)
    # then each point equals the net-benefit formula; treat-all uses the prevalence
    prevalence = y.mean()
    for index, t in enumerate(grid):
        predicted = p >= t
        tp, fp = np.sum(predicted & (y == 1)), np.sum(predicted & (y == 0))
        assert curve["model"][index] == pytest.approx(float(net_benefit(tp, fp, y.size, t)))
        assert curve["treat_all"][index] == pytest.approx(
            prevalence - (1 - prevalence) * t / (1 - t)
        )
    assert curve["treat_none"] == [0.0] * 4


def test_default_decision_curve_grid_is_one_to_ninety_nine_percent():
    y, p = _data(seed=2)
    curve = decision_curve(SortedScores.build(y, p))
    assert curve["thresholds"][0] == 0.01 and curve["thresholds"][-1] == 0.99
    assert len(curve["thresholds"]) == 99


def test_choose_threshold_fixed_returns_the_value():
    assert choose_threshold([0, 1], [0.2, 0.8], "fixed", fixed=0.37) == 0.37


def test_choose_threshold_youden_maximises_tpr_minus_fpr():
    # given validation data
    y, p = _data(seed=3)
    # when Youden's threshold is chosen
    threshold = choose_threshold(y, p, "youden")
    # then its J equals the best J over sklearn's ROC thresholds
    fpr, tpr, _ = roc_curve(y, p)
    predicted = p >= threshold
    j = predicted[y == 1].mean() - predicted[y == 0].mean()
    assert j == pytest.approx(np.max(tpr - fpr), abs=1e-12)


def test_choose_threshold_cost_minimises_expected_cost_by_brute_force():
    # given false negatives five times as costly as false positives
    y, p = _data(seed=4)
    threshold = choose_threshold(y, p, "cost", cost_fp=1.0, cost_fn=5.0)

    # then no candidate threshold has a lower cost
    def cost(t):
        predicted = p >= t
        return np.sum(predicted & (y == 0)) * 1.0 + np.sum(~predicted & (y == 1)) * 5.0

    candidates = np.append(np.unique(p), 1.01)
    assert cost(threshold) == pytest.approx(min(cost(t) for t in candidates))
    # and with costs 1:5 the threshold sits near 1 / (1 + 5) for these roughly calibrated scores
    assert 0.08 < threshold < 0.3


def test_choose_threshold_rejects_unknown_method_and_bad_costs():
    with pytest.raises(MetricsInputError, match="youden"):
        choose_threshold([0, 1], [0.1, 0.9], "f1")
    with pytest.raises(MetricsInputError, match="positive"):
        choose_threshold([0, 1], [0.1, 0.9], "cost", cost_fp=0.0)
