"""Paired model comparison: DeLong by definition, bootstrap against a row-level bootstrap."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from {{ cookiecutter.package_name }}.metrics.compare import compare_models
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pair(n, seed, noise):
    """Labels, a model and a reference whose logits differ by N(0, noise) noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < _expit(z)).astype(np.int8)
    logit = z + rng.normal(0.0, 0.5, n)
    return y, _expit(logit), _expit(logit + rng.normal(0.0, noise, n))


def _placements(y, p):
    x, z = p[y == 1], p[y == 0]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def test_paired_delong_matches_the_pairwise_definition():
    # given two correlated models on 300 rows, with ties
    y, p, q = _pair(300, seed=0, noise=0.7)
    p, q = np.round(p, 2), np.round(q, 2)
    # when compared
    auc = compare_models(y, p, q, n_resamples=0)["auc_difference"]
    # then the variance is DeLong's with the covariance of the two models' placement values
    v10_p, v01_p = _placements(y, p)
    v10_q, v01_q = _placements(y, q)
    s10 = np.cov(np.stack((v10_p, v10_q)))
    s01 = np.cov(np.stack((v01_p, v01_q)))
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / v10_p.size + (
        s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]
    ) / v01_p.size
    assert auc["estimate"] == pytest.approx(roc_auc_score(y, p) - roc_auc_score(y, q), abs=1e-12)
    assert auc["se"] ** 2 == pytest.approx(variance, rel=1e-9)
    assert auc["hi"] - auc["lo"] == pytest.approx(2 * 1.959964 * np.sqrt(variance), rel=1e-5)


def test_a_model_compared_with_itself_differs_by_exactly_zero():
    # given the same probabilities twice
    y, p, _ = _pair(2000, seed=1, noise=0.1)
    # when compared
    result = compare_models(y, p, p.copy(), n_resamples=200)
    # then every difference and interval bound is zero
    for name in ("auc_difference", "brier_difference", "ap_difference"):
        assert result[name]["estimate"] == pytest.approx(0.0, abs=1e-12)
        assert result[name]["lo"] == pytest.approx(0.0, abs=1e-12)
        assert result[name]["hi"] == pytest.approx(0.0, abs=1e-12)


def test_point_differences_are_exact():
    # given two models
    y, p, q = _pair(5000, seed=2, noise=0.8)
    # when compared
    result = compare_models(y, p, q, n_resamples=100)
    # then the Brier and AP differences are the exact ones
    brier = np.mean((p - y) ** 2) - np.mean((q - y) ** 2)
    assert result["brier_difference"]["estimate"] == pytest.approx(brier, abs=1e-14)
    ap = average_precision_score(y, p) - average_precision_score(y, q)
    assert result["ap_difference"]["estimate"] == pytest.approx(ap, abs=1e-12)


def test_paired_bootstrap_agrees_with_row_level_paired_bootstrap_and_beats_unpaired():
    # given a model and a reference differing by logit noise 0.3 on 20,000 rows
    y, p, q = _pair(20_000, seed=3, noise=0.3)
    result = compare_models(y, p, q, n_resamples=1000, rng=np.random.default_rng(0))
    # and a row-level paired Poisson bootstrap (same weights for both models), 400 resamples
    rng = np.random.default_rng(1)
    order_p, order_q = np.argsort(-p), np.argsort(-q)
    squared = (p - y) ** 2 - (q - y) ** 2

    def weighted_ap(order, w):
        ws, ys = w[order], y[order]
        tp = np.cumsum(ws * ys)
        return np.sum(ws * ys * tp / np.maximum(np.cumsum(ws), 1e-12)) / tp[-1]

    ap, brier, ap_p, ap_q = [], [], [], []
    for _ in range(400):
        w = rng.poisson(1.0, y.size).astype(float)
        ap_p.append(weighted_ap(order_p, w))
        ap_q.append(weighted_ap(order_q, w))
        ap.append(ap_p[-1] - ap_q[-1])
        brier.append(np.sum(w * squared) / w.sum())

    def width(values):
        return np.quantile(values, 0.975) - np.quantile(values, 0.025)

    # then the interval widths agree within 20% (Monte-Carlo noise of a 400-resample width ~7%)
    ap_width = result["ap_difference"]["hi"] - result["ap_difference"]["lo"]
    brier_width = result["brier_difference"]["hi"] - result["brier_difference"]["lo"]
    assert 0.8 < ap_width / width(ap) < 1.2
    assert 0.8 < brier_width / width(brier) < 1.2
    # and pairing matters: ignoring the correlation would give a much wider interval
    unpaired = 2 * 1.959964 * np.sqrt(np.var(ap_p) + np.var(ap_q))
    assert ap_width < 0.6 * unpaired


def test_evaluate_binary_reports_comparisons_per_reference():
    # given a reference model that is clearly worse
    y, p, q = _pair(5000, seed=4, noise=1.5)
    # when evaluated with it
    result = evaluate_binary(y, p, threshold=0.5, references={"baseline": q}, n_bootstrap=200)
    comparison = result["comparisons"]["baseline"]
    # then the model is better on every difference and the intervals exclude zero
    assert comparison["auc_difference"]["lo"] > 0
    assert comparison["ap_difference"]["lo"] > 0
    assert comparison["brier_difference"]["hi"] < 0
