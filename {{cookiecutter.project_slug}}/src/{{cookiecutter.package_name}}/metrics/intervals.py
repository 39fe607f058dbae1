"""Confidence intervals: Wilson score, normal (Wald), likelihood-ratio log method, percentile."""

from __future__ import annotations

import warnings
from statistics import NormalDist

import numpy as np

from ._checks import check_open_unit


def z_value(alpha: float = 0.05) -> float:
    """Two-sided standard normal quantile ``z`` with ``P(|Z| <= z) = 1 - alpha``.

    Args:
        alpha: miss rate of the interval (0.05 gives 1.959964).
    """
    check_open_unit(alpha, "alpha")
    # stdlib NormalDist: exact enough (1e-15) and avoids importing scipy.stats at stage start.
    return NormalDist().inv_cdf(1.0 - alpha / 2.0)


def wilson_interval(
    successes: np.ndarray | int, trials: np.ndarray | int, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (Newcombe 1998, method 3).

    Vectorised over arrays of counts; returns NaN bounds where ``trials == 0``.

    Args:
        successes: number of successes ``k``.
        trials: number of trials ``n`` (same shape as ``successes``).
        alpha: miss rate of the two-sided interval.

    Returns:
        ``(lo, hi)`` float arrays (0-d arrays for scalar input).
    """
    z = z_value(alpha)
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        phat = k / n
        denom = 1.0 + z * z / n
        centre = (phat + z * z / (2.0 * n)) / denom
        half = z / denom * np.sqrt(phat * (1.0 - phat) / n + z * z / (4.0 * n * n))
    lo = np.clip(centre - half, 0.0, 1.0)
    hi = np.clip(centre + half, 0.0, 1.0)
    # Exact 0 and 1 at the boundaries (floating-point rounding leaves ~1e-17 otherwise).
    lo = np.where((k == 0) & (n > 0), 0.0, lo)
    hi = np.where((k == n) & (n > 0), 1.0, hi)
    return lo, hi


def normal_interval(
    estimate: np.ndarray | float, se: np.ndarray | float, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric Wald interval ``estimate -/+ z * se``.

    Args:
        estimate: point estimate(s).
        se: standard error(s), same shape.
        alpha: miss rate of the two-sided interval.
    """
    z = z_value(alpha)
    est = np.asarray(estimate, dtype=np.float64)
    err = np.asarray(se, dtype=np.float64)
    return est - z * err, est + z * err


def likelihood_ratio_intervals(
    tp: int, fp: int, fn: int, tn: int, alpha: float = 0.05
) -> dict[str, tuple[float, float, float]]:
    """Positive and negative likelihood ratios with the log-method interval (Simel et al. 1991).

    ``LR+ = sens / (1 - spec)``, ``SE(log LR+) = sqrt(1/tp - 1/(tp+fn) + 1/fp - 1/(fp+tn))``;
    ``LR- = (1 - sens) / spec``, ``SE(log LR-) = sqrt(1/fn - 1/(tp+fn) + 1/tn - 1/(fp+tn))``.
    A ratio with a zero cell in its formula is infinite or zero; its values are NaN (reported
    as ``None``) rather than an arbitrary continuity correction.

    Args:
        tp, fp, fn, tn: confusion counts at the threshold.
        alpha: miss rate of the two-sided interval.

    Returns:
        ``{"positive": (lr, lo, hi), "negative": (lr, lo, hi)}``.
    """
    z = z_value(alpha)
    pos, neg = tp + fn, fp + tn

    def ratio(num: int, den: int) -> tuple[float, float, float]:
        # num / pos over den / neg; both counts must be non-zero for a finite log-interval.
        if num == 0 or den == 0 or pos == 0 or neg == 0:
            return (float("nan"),) * 3
        value = (num / pos) / (den / neg)
        se = np.sqrt(1.0 / num - 1.0 / pos + 1.0 / den - 1.0 / neg)
        return value, float(value * np.exp(-z * se)), float(value * np.exp(z * se))

    return {"positive": ratio(tp, fp), "negative": ratio(fn, tn)}


def percentile_interval(samples: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along axis 0, ignoring NaN resamples.

    Args:
        samples: array of shape ``(n_resamples, ...)``.
        alpha: miss rate of the two-sided interval.

    Returns:
        ``(lo, hi)`` arrays of shape ``samples.shape[1:]`` (NaN where every resample is NaN).
    """
    check_open_unit(alpha, "alpha")
    values = np.asarray(samples, dtype=np.float64)
    if values.shape[0] == 0:
        nan = np.full(values.shape[1:], np.nan)
        return nan, nan.copy()
    levels = [alpha / 2.0, 1.0 - alpha / 2.0]
    if np.isfinite(values).all():
        bounds = np.quantile(values, levels, axis=0)
    else:
        with warnings.catch_warnings():
            # A group absent from every resample is an all-NaN column: its bounds stay NaN.
            warnings.simplefilter("ignore", RuntimeWarning)
            bounds = np.nanquantile(np.where(np.isfinite(values), values, np.nan), levels, axis=0)
    return bounds[0], bounds[1]
