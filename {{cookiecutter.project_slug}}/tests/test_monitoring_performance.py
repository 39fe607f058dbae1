"""Performance estimates and intervals checked against brute force and published values.

DeLong, Wilson and the recalibration fits are the metrics package's (tested there against the
same references); these tests check that the monitor's ``observed_performance`` wires them up
right: standard error not variance, confidence turned into the right level, which fit
coefficient lands under which key.
"""

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.monitoring.performance import (
    assess_performance,
    expected_auc,
    expected_performance,
    observed_performance,
)
from {{ cookiecutter.package_name }}.monitoring.reference import build_reference


def _tied_scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(2, 5, size=n), 1)  # rounding creates many ties
    y = (rng.random(n) < p).astype(float)
    return y, p


def test_observed_auc_and_se_match_brute_force_delong():
    # given 300 labelled scores with ties
    y, s = _tied_scores(300, 0)
    pos, neg = s[y == 1], s[y == 0]
    # when the O(n^2) pair kernel gives AUC and DeLong variance
    kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v_pos, v_neg = kernel.mean(axis=1), kernel.mean(axis=0)
    var = v_pos.var(ddof=1) / pos.size + v_neg.var(ddof=1) / neg.size
    obs = observed_performance(y, s, confidence=0.95)
    auc, se = obs["auc"], obs["auc_se"]
    # then the fast mid-rank version agrees, and the AUC equals sklearn's
    assert auc == pytest.approx(kernel.mean(), rel=1e-12)
    assert auc == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    assert se == pytest.approx(math.sqrt(var), rel=1e-10)
    # and the interval is the unclipped Wald interval at the requested confidence
    assert obs["auc_ci"] == pytest.approx([auc - 1.959964 * se, auc + 1.959964 * se], abs=1e-6)


def test_expected_auc_matches_weighted_pair_brute_force():
    # given 200 probabilities with ties
    _, p = _tied_scores(200, 1)
    # when every ordered pair i != j is weighted p_i (1 - p_j)
    weight = p[:, None] * (1 - p[None, :])
    np.fill_diagonal(weight, 0.0)
    order = (p[:, None] > p[None, :]) + 0.5 * (p[:, None] == p[None, :])
    # then the CBPE estimate is the weighted share of correctly ordered pairs
    assert expected_auc(p) == pytest.approx(np.sum(weight * order) / np.sum(weight), rel=1e-12)


def test_label_free_estimates_track_real_metrics_under_calibration():
    # given a large calibrated sample (y ~ Bernoulli(p))
    rng = np.random.default_rng(2)
    p = rng.beta(2, 5, size=200_000)
    y = (rng.random(p.size) < p).astype(float)
    # when estimated without labels and measured with them
    est = expected_performance(p)
    obs = observed_performance(y, p)
    # then estimates fall within 3 standard errors of the measured values
    assert abs(est["auc"] - obs["auc"]) < 3 * obs["auc_se"]
    assert est["prevalence"] == pytest.approx(obs["prevalence"], abs=3 * 0.001)
    assert est["brier"] == pytest.approx(obs["brier"], abs=0.002)
    # and calibration diagnostics show no miscalibration
    assert obs["oe_ratio"] == pytest.approx(1.0, abs=0.02)
    assert obs["calibration_slope"] == pytest.approx(1.0, abs=4 * obs["slope_se"])


def test_prevalence_interval_is_the_wilson_interval_at_the_requested_confidence():
    # given Newcombe's (1998, Statistics in Medicine 17:857) worked example 81 / 263 as a
    # batch (the formula is checked on all his examples in the metrics tests)
    y = np.zeros(263)
    y[:81] = 1.0
    # when measured at 95 %, then the prevalence interval is his Wilson interval to 4 decimals
    result = observed_performance(y, np.full(263, 0.3), confidence=0.95)["prevalence_ci"]
    assert result == pytest.approx([0.2553, 0.3662], abs=5e-5)


def test_recalibration_fit_matches_unpenalised_sklearn():
    # given labels generated with intercept 0.5 and slope 0.7 on the logit of p
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, size=20000)
    true = 0.5 + 0.7 * np.log(p / (1 - p))
    y = (rng.random(p.size) < 1 / (1 + np.exp(-true))).astype(float)
    # when recalibrated by Newton-Raphson
    obs = observed_performance(y, p)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(
        np.log(p / (1 - p))[:, None], y
    )
    # then intercept and slope equal sklearn's maximum-likelihood fit
    assert obs["calibration_intercept"] == pytest.approx(reference.intercept_[0], abs=1e-5)
    assert obs["calibration_slope"] == pytest.approx(reference.coef_[0, 0], abs=1e-5)
    assert abs(obs["calibration_slope"] - 0.7) < 4 * obs["slope_se"]


def test_intercept_shift_recovers_prior_odds_change():
    # given labels whose log-odds are those of p plus 0.8 (a pure prior shift)
    rng = np.random.default_rng(4)
    p = rng.beta(2, 6, size=50000)
    shifted = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + 0.8)))
    y = (rng.random(p.size) < shifted).astype(float)
    # when the calibration-in-the-large shift is fitted, then it recovers 0.8
    assert observed_performance(y, p)["citl_shift"] == pytest.approx(0.8, abs=0.05)


def test_observed_performance_one_class_gives_nan_auc():
    # given a batch with positives only, when measured, then AUC is NaN, not an error
    obs = observed_performance(np.ones(50), np.full(50, 0.4))
    assert math.isnan(obs["auc"])
    assert obs["calibration_slope"] is None
    assert obs["citl_shift"] is None
    assert obs["prevalence"] == 1.0


def _logit(p):
    return np.log(p / (1 - p))


def _labels_from(logit, rng):
    return (rng.random(logit.size) < 1 / (1 + np.exp(-logit))).astype(float)


def _reference(p, y):
    import pandas as pd

    return build_reference(pd.DataFrame({"x": p}), p, y, numeric=["x"], categorical=[])


def test_offset_at_reference_mix_separates_a_shifted_case_mix_from_a_prior_shift():
    # given a model under-confident by a slope of 1.3 pivoting at the reference's mean logit,
    # a reference where it is judged, and batches whose scores moved up (a sicker case mix)
    rng = np.random.default_rng(5)
    p_ref = rng.beta(2, 6, size=20000)
    centre = _logit(p_ref).mean()

    def true_logit(p, prior=0.0):
        return centre + 1.3 * (_logit(p) - centre) + prior

    reference = _reference(p_ref, _labels_from(true_logit(p_ref), rng))
    p = rng.beta(4, 5, size=20000)
    # when the same relation produces the labels, and when the base rate moved as well
    same = assess_performance(p, _labels_from(true_logit(p), rng), reference)
    prior = assess_performance(p, _labels_from(true_logit(p, prior=0.5), rng), reference)
    # then the shifted case mix alone puts O/E off 1 at the batch's mix but not at the
    # reference's, while the prior shift is off at both
    assert same["flags"]["miscalibrated_in_the_large"]
    mix = same["evidence"]["oe_at_reference_mix"]
    assert mix["interval"][0] < 1 < mix["interval"][1]
    assert not same["flags"]["miscalibrated_at_reference_mix"]
    assert prior["flags"]["miscalibrated_at_reference_mix"]
    shifted = np.mean(1 / (1 + np.exp(-(_logit(p_ref) + 0.5)))) / p_ref.mean()
    assert prior["observed"]["oe_at_reference_mix"] == pytest.approx(shifted, abs=0.05)


def test_slope_flags_judge_the_whole_interval_against_the_tolerance():
    # given a calibrated reference, and batches whose labels follow a slope of 0.7
    rng = np.random.default_rng(6)
    p_ref = rng.uniform(0.05, 0.6, size=20000)
    reference = _reference(p_ref, _labels_from(_logit(p_ref), rng))
    results = {}
    for n in (400, 40000):
        p = rng.uniform(0.05, 0.6, size=n)
        # when a small and a large batch are assessed
        results[n] = assess_performance(p, _labels_from(0.7 * _logit(p), rng), reference)
    # then only the large batch's interval lies wholly below 1 - slope_tolerance (0.8)
    small, large = results[400], results[40000]
    assert small["evidence"]["slope"]["interval"][1] >= 0.8
    assert not small["flags"]["slope_weakened"]
    assert large["evidence"]["slope"]["interval"][1] < 0.8
    assert large["flags"]["slope_weakened"] and large["flags"]["slope_off"]
    assert not large["flags"]["slope_strengthened"]
    # and the slope's interval is its Wald interval at the requested confidence
    observed = large["observed"]
    half = 1.959964 * observed["slope_se"]
    assert observed["slope_ci"] == pytest.approx(
        [observed["calibration_slope"] - half, observed["calibration_slope"] + half], abs=1e-6
    )
