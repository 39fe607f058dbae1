"""Calibration metrics against scikit-learn, independent fits and known ground truth."""

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from {{ cookiecutter.package_name }}.metrics.calibration import (
    brier_score,
    brier_skill_score,
    calibration_intercept_slope,
    clipped_logit,
    expected_calibration_error,
    reliability_from_sorted,
)
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1.0 - p))


def _calibrated(n, seed, a=2.0, b=5.0):
    """Ground truth: p ~ Beta(a, b) is the true risk, y ~ Bernoulli(p)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, n)
    return (rng.random(n) < p).astype(int), p


def _miscalibrate(p):
    """Over-confident and too high: slope 0.5 and intercept -0.25 recover the truth."""
    return _expit(2.0 * _logit(p) + 0.5)


def test_brier_and_skill_match_sklearn_and_definition():
    # given labels and probabilities
    y, p = _calibrated(5000, seed=0)
    # when / then Brier equals sklearn and the skill score compares with the prevalence model
    brier = brier_score(y, p)
    assert brier == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    prevalence = y.mean()
    reference = np.mean((prevalence - y) ** 2)
    assert brier_skill_score(brier, prevalence) == pytest.approx(1 - brier / reference)


def test_slope_and_intercept_match_sklearn_and_root_finding():
    # given a miscalibrated model on 2,000 rows
    y, p = _calibrated(2000, seed=1)
    q = _miscalibrate(p)
    x = clipped_logit(q)
    # when the recalibration fits run
    result = calibration_intercept_slope(y, q)
    # then the slope model equals an unpenalised sklearn fit of y on logit(q)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    assert result["slope"]["estimate"] == pytest.approx(reference.coef_[0, 0], abs=1e-5)
    assert result["slope"]["model_intercept"] == pytest.approx(reference.intercept_[0], abs=1e-5)
    # and calibration-in-the-large solves the score equation sum(y - expit(a + logit q)) = 0
    root = optimize.brentq(lambda a: np.sum(y - _expit(a + x)), -5, 5, xtol=1e-12)
    assert result["intercept"]["estimate"] == pytest.approx(root, abs=1e-8)


def test_wald_intervals_use_the_observed_information():
    # given a fit on 2,000 rows
    y, p = _calibrated(2000, seed=2)
    q = _miscalibrate(p)
    result = calibration_intercept_slope(y, q, alpha=0.05)
    # when the information matrix is computed independently at the estimates
    x = clipped_logit(q)
    a, b = result["slope"]["model_intercept"], result["slope"]["estimate"]
    mu = _expit(a + b * x)
    design = np.column_stack((np.ones_like(x), x))
    covariance = np.linalg.inv(design.T @ (design * (mu * (1 - mu))[:, None]))
    mu0 = _expit(result["intercept"]["estimate"] + x)
    se_intercept = 1.0 / np.sqrt(np.sum(mu0 * (1 - mu0)))
    # then the standard errors and bounds agree
    assert result["slope"]["se"] == pytest.approx(np.sqrt(covariance[1, 1]), rel=1e-5)
    assert result["slope"]["lo"] == pytest.approx(b - 1.959964 * result["slope"]["se"], abs=1e-6)
    assert result["intercept"]["se"] == pytest.approx(se_intercept, rel=1e-5)


def test_probabilities_of_exactly_zero_and_one_are_clipped():
    # given predictions at exactly 0 and 1 (labels not separable by p)
    y = np.array([0, 0, 1, 0, 0, 1, 1, 1])
    p = np.array([0.0, 0.2, 1.0, 0.7, 0.4, 0.6, 0.9, 0.3])
    # when the fits run, then estimates are finite
    result = calibration_intercept_slope(y, p)
    assert np.isfinite(result["intercept"]["estimate"])
    assert np.isfinite(result["slope"]["estimate"])


def test_separated_labels_give_no_slope_instead_of_a_huge_number():
    # given labels perfectly separated by p (the slope MLE is infinite)
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    # when / then the slope is reported as undefined
    assert calibration_intercept_slope(y, p)["slope"]["estimate"] is None


def test_perfectly_calibrated_model_has_slope_one_intercept_zero_and_ici_zero():
    # given ground-truth calibrated probabilities on 100,000 rows
    y, p = _calibrated(100_000, seed=3)
    # when evaluated
    calibration = evaluate_binary(y, p, threshold=0.3, n_bootstrap=0)["calibration"]
    # then slope ~ 1 and intercept ~ 0 (within their intervals) and ICI, E90 ~ 0
    assert calibration["slope"]["lo"] < 1.0 < calibration["slope"]["hi"]
    assert calibration["intercept"]["lo"] < 0.0 < calibration["intercept"]["hi"]
    assert calibration["ici"] < 0.006
    assert calibration["e90"] < 0.01
    assert calibration["ece"]["estimate"] < 0.01


def test_injected_miscalibration_is_recovered():
    # given p' = expit(2 logit(p) + 0.5) of true risks p ~ Beta(2, 5)
    y, p = _calibrated(100_000, seed=4)
    q = _miscalibrate(p)
    # when evaluated
    calibration = evaluate_binary(y, q, threshold=0.3, n_bootstrap=0)["calibration"]
    # then the slope is 0.5 and the slope model's intercept -0.25 (logit p = -0.25 + 0.5 logit p')
    slope = calibration["slope"]
    assert abs(slope["estimate"] - 0.5) < 4 * slope["se"]
    assert slope["model_intercept"] == pytest.approx(-0.25, abs=0.04)
    # and calibration-in-the-large equals the analytic a: E[expit(a + logit p')] = E[p] = 2/7
    density = stats.beta(2, 5).pdf

    def mean_risk(a):
        return integrate.quad(lambda t: _expit(a + 2 * _logit(t) + 0.5) * density(t), 0, 1)[0]

    truth = optimize.brentq(lambda a: mean_risk(a) - 2 / 7, -3, 3)
    intercept = calibration["intercept"]
    assert abs(intercept["estimate"] - truth) < 4 * intercept["se"]
    # and ICI equals the analytic E|p' - p| (0.0841), E50/E90 the sample's quantiles of |p' - p|
    ici_truth = integrate.quad(lambda t: abs(_miscalibrate(t) - t) * density(t), 0, 1)[0]
    assert ici_truth == pytest.approx(0.0841, abs=1e-4)
    assert calibration["ici"] == pytest.approx(ici_truth, abs=0.004)
    gap = np.abs(q - p)
    assert calibration["e50"] == pytest.approx(np.median(gap), abs=0.006)
    assert calibration["e90"] == pytest.approx(np.quantile(gap, 0.9), abs=0.006)


def test_reliability_bins_match_sklearn_calibration_curve():
    # given continuous probabilities (no value exactly on a bin edge)
    y, p = _calibrated(20_000, seed=5)
    order = np.argsort(p)
    # when the uniform 10-bin reliability table is built
    table = reliability_from_sorted(p[order], y[order], n_bins=10, strategy="uniform")
    # then the non-empty bins equal sklearn's calibration_curve
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose([b["observed"] for b in table["bins"]], prob_true)
    np.testing.assert_allclose([b["mean_predicted"] for b in table["bins"]], prob_pred)
    assert sum(b["count"] for b in table["bins"]) == y.size
    assert all(b["observed_lo"] <= b["observed"] <= b["observed_hi"] for b in table["bins"])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_ece_equals_the_weighted_gap_computed_directly(strategy):
    # given probabilities and a binning strategy
    y, p = _calibrated(10_000, seed=6)
    q = _miscalibrate(p)
    # when ECE is computed
    ece = expected_calibration_error(y, q, n_bins=10, strategy=strategy)
    # then it equals sum_k n_k/n |mean(y) - mean(p)| over left-closed bins [e_k, e_(k+1))
    if strategy == "uniform":
        edges = np.linspace(0, 1, 11)[1:-1]
    else:
        edges = np.unique(np.sort(q)[(np.arange(1, 10) * q.size) // 10])
    bins = np.searchsorted(edges, q, side="right")
    direct = sum(
        np.sum(bins == k) / q.size * abs(y[bins == k].mean() - q[bins == k].mean())
        for k in np.unique(bins)
    )
    assert ece == pytest.approx(direct, abs=1e-12)
