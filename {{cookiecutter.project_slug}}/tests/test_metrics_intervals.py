"""Interval formulas against published worked values and hand computations."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics.intervals import (
    likelihood_ratio_intervals,
    normal_interval,
    percentile_interval,
    wilson_interval,
    z_value,
)


def test_z_value_is_the_normal_quantile():
    # given / when / then the usual two-sided quantiles
    assert z_value(0.05) == pytest.approx(1.959963985, abs=1e-9)
    assert z_value(0.10) == pytest.approx(1.644853627, abs=1e-9)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Newcombe (1998), Statist. Med. 17:857-872, Table II, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_worked_examples(k, n, lo, hi):
    # given a published count / total; when the Wilson interval is computed
    low, high = wilson_interval(k, n, 0.05)
    # then it matches the published 4-decimal bounds
    assert float(low) == pytest.approx(lo, abs=5e-5)
    assert float(high) == pytest.approx(hi, abs=5e-5)


def test_wilson_is_vectorised_and_nan_for_empty_denominators():
    # given several counts including an empty denominator
    low, high = wilson_interval(np.array([0, 5, 10]), np.array([0, 10, 10]))
    # then the empty one is NaN, the full one reaches 1 and the half one is symmetric
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert high[2] == 1.0
    assert low[1] == pytest.approx(1.0 - high[1])


def test_likelihood_ratios_log_method_by_hand():
    # given a 2x2 table: tp=90, fn=10, fp=30, tn=170
    result = likelihood_ratio_intervals(tp=90, fp=30, fn=10, tn=170, alpha=0.05)
    # then LR+ = 0.9 / 0.15 = 6 with SE(log) = sqrt(1/90 - 1/100 + 1/30 - 1/200)
    se = np.sqrt(1 / 90 - 1 / 100 + 1 / 30 - 1 / 200)
    lr, lo, hi = result["positive"]
    assert lr == pytest.approx(6.0)
    assert lo == pytest.approx(6.0 * np.exp(-1.959964 * se), rel=1e-6)
    assert hi == pytest.approx(6.0 * np.exp(1.959964 * se), rel=1e-6)
    # and LR- = 0.1 / 0.85 with SE(log) = sqrt(1/10 - 1/100 + 1/170 - 1/200)
    se = np.sqrt(1 / 10 - 1 / 100 + 1 / 170 - 1 / 200)
    lr, lo, hi = result["negative"]
    assert lr == pytest.approx(0.1 / 0.85)
    assert hi == pytest.approx(0.1 / 0.85 * np.exp(1.959964 * se), rel=1e-6)


def test_likelihood_ratio_with_a_zero_cell_is_undefined():
    # given no false positives, LR+ is infinite
    result = likelihood_ratio_intervals(tp=10, fp=0, fn=5, tn=20)
    # then it is reported as NaN (None in JSON), not a made-up number
    assert all(np.isnan(value) for value in result["positive"])
    assert np.isfinite(result["negative"][0])


def test_normal_and_percentile_intervals():
    # given a standard normal sample of 100,000 draws
    sample = np.random.default_rng(0).standard_normal(100_000)
    # when the percentile interval is taken
    lo, hi = percentile_interval(sample, 0.05)
    # then it is close to -/+ 1.96, like the normal interval with se 1
    n_lo, n_hi = normal_interval(0.0, 1.0, 0.05)
    assert lo == pytest.approx(n_lo, abs=0.03)
    assert hi == pytest.approx(n_hi, abs=0.03)


def test_percentile_interval_ignores_nan_resamples_per_column():
    # given two columns, the second NaN half of the time and the third always NaN
    values = np.column_stack(
        (
            np.arange(100.0),
            np.where(np.arange(100) % 2, np.nan, np.arange(100.0)),
            np.full(100, np.nan),
        )
    )
    # when / then NaN rows are skipped per column and an all-NaN column gives NaN bounds
    lo, hi = percentile_interval(values, 0.1)
    assert lo[0] == pytest.approx(np.quantile(np.arange(100.0), 0.05))
    assert lo[1] == pytest.approx(np.quantile(np.arange(0, 100, 2.0), 0.05))
    assert np.isnan(lo[2]) and np.isnan(hi[2])
