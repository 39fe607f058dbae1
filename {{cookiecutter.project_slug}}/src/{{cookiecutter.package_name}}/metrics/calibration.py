"""Calibration: Brier score, logistic recalibration (intercept, slope), ICI/E50/E90, ECE.

Definitions used:

* calibration-in-the-large (``intercept``): ``a`` in ``logit P(y=1) = a + logit(p)`` (slope fixed
  at 1, ``logit(p)`` as offset); 0 when the average risk is right, > 0 when risks are too low.
* calibration slope: ``b`` in ``logit P(y=1) = a' + b * logit(p)``; 1 is ideal, < 1 means the
  predictions are too extreme (over-fitting), > 1 too modest.
* ICI, E50, E90 (Austin & Steyerberg 2019): mean, median and 90th percentile over the rows of
  ``|p - c(p)|`` where ``c`` is a smooth calibration curve. Instead of a lowess (slow at 10^6
  rows) ``c`` is a logistic regression of ``y`` on a restricted cubic spline of ``logit(p)``
  with 5 knots at the 5, 27.5, 50, 72.5 and 95th percentiles (Harrell's default knots; a
  common smooth alternative to loess for flexible calibration curves). It is fitted to the
  events and trials in the ~2,000 score bins of the bootstrap table (each bin at its mean
  ``logit(p)``, which moves the fit far less than its standard error), then evaluated at
  every row. The family contains every logistic recalibration ``expit(a + b logit p)``, so a
  known miscalibration of that form is recovered without bias.
* ECE: ``sum_k n_k / n * |observed_k - mean predicted_k|`` over reliability bins ``[e_k,
  e_(k+1))`` (last bin closed), either equal-width on [0, 1] (``"uniform"``, default) or
  equal-mass at the quantiles of ``p`` (``"quantile"``).

``p`` is clipped to ``[CLIP_EPS, 1 - CLIP_EPS]`` before ``logit`` so a prediction of exactly
0 or 1 has finite leverage (``|logit| <= 13.8``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import MetricsInputError, as_labels, as_probabilities
from ._format import interval
from .intervals import normal_interval, wilson_interval
from .logistic import LogisticFit, expit, fit_logistic

CLIP_EPS = 1e-6
SPLINE_KNOT_QUANTILES = (0.05, 0.275, 0.5, 0.725, 0.95)
RELIABILITY_STRATEGIES = ("uniform", "quantile")
# Blocks of score-sorted rows for the warm start of the recalibration fits (see _warm_start).
_WARM_START_BLOCKS = 4096


def clipped_logit(p: np.ndarray) -> np.ndarray:
    """``logit(p)`` after clipping ``p`` to ``[CLIP_EPS, 1 - CLIP_EPS]``.

    Args:
        p: probabilities.
    """
    clipped = np.clip(p, CLIP_EPS, 1.0 - CLIP_EPS)
    logit = np.subtract(1.0, clipped)  # reused for the odds and the log: one buffer, not three
    np.divide(clipped, logit, out=logit)
    return np.log(logit, out=logit)


def brier_score(y: Any, p: Any) -> float:
    """Mean squared error of the probabilities, ``mean((p - y)^2)``.

    Args:
        y: 0/1 labels.
        p: predicted probabilities of class 1.
    """
    labels = as_labels(y)
    probs = as_probabilities(p, labels.shape[0])
    return float(np.mean((probs - labels) ** 2))


def brier_skill_score(brier: float, prevalence: float) -> float:
    """``1 - Brier / Brier_ref`` with the prevalence model (everyone gets ``prevalence``).

    ``Brier_ref = prevalence * (1 - prevalence)``; 0 means no better than the base rate.

    Args:
        brier: the model's Brier score.
        prevalence: observed fraction of positives in the same data.
    """
    reference = prevalence * (1.0 - prevalence)
    return float("nan") if reference <= 0 else 1.0 - brier / reference


def _warm_start(x_sorted: np.ndarray, y_sorted: np.ndarray, slope: bool) -> np.ndarray | None:
    """Coefficients fitted to block aggregates of rows sorted by ``x`` (None for small data).

    Consecutive rows sorted by score have nearly equal ``x``, so a grouped-binomial fit on the
    block means lands within ~1e-6 of the full fit; one or two exact Newton steps on all rows
    then finish it (instead of four to six from a cold start).
    """
    n = x_sorted.shape[0]
    blocks = min(_WARM_START_BLOCKS, n // 20)
    if blocks < 64:
        return None
    starts = (np.arange(blocks) * n) // blocks
    trials = np.diff(np.append(starts, n)).astype(np.float64)
    events = np.add.reduceat(y_sorted, starts, dtype=np.float64)
    mean_x = np.add.reduceat(x_sorted, starts) / trials
    fit = fit_logistic(
        [None, mean_x] if slope else [None],
        events / trials,
        weights=trials,
        offset=None if slope else mean_x,
        start=np.array([0.0, 1.0]) if slope else np.zeros(1),
    )
    return fit.coef if fit.converged else None


def recalibration_fits(
    x_sorted: np.ndarray, y_sorted: np.ndarray
) -> tuple[LogisticFit | None, LogisticFit | None]:
    """Fit calibration-in-the-large and the calibration slope model on rows sorted by ``x``.

    Args:
        x_sorted: ``clipped_logit(p)`` in ascending order.
        y_sorted: the 0/1 labels in the same order.

    Returns:
        ``(intercept_fit, slope_fit)``; a fit is None when a class is absent or it diverges.
    """
    n_pos = int(y_sorted.sum())
    if n_pos == 0 or n_pos == y_sorted.shape[0]:
        return None, None
    labels = y_sorted.astype(np.float64)
    start = _warm_start(x_sorted, y_sorted, slope=False)
    citl = fit_logistic([None], labels, offset=x_sorted, start=start)
    start = _warm_start(x_sorted, y_sorted, slope=True)
    slope = fit_logistic(
        [None, x_sorted], labels, start=np.array([0.0, 1.0]) if start is None else start
    )
    return (citl if citl.converged else None), (slope if slope.converged else None)


def recalibration_summary(
    citl: LogisticFit | None, slope: LogisticFit | None, alpha: float = 0.05
) -> dict[str, dict[str, float | None]]:
    """Shape the two recalibration fits as intervals with Wald bounds.

    Args:
        citl: calibration-in-the-large fit (or None).
        slope: slope-model fit (or None).
        alpha: miss rate of the two-sided intervals.

    Returns:
        dict with ``intercept`` (estimate, lo, hi, se) and ``slope`` (estimate, lo, hi, se,
        model_intercept); the values are ``None`` for a missing fit.
    """
    result: dict[str, dict[str, float | None]] = {}
    if citl is None:
        result["intercept"] = {**interval(None), "se": None}
    else:
        lo, hi = normal_interval(citl.coef[0], citl.se[0], alpha)
        result["intercept"] = {**interval(citl.coef[0], lo, hi), "se": float(citl.se[0])}
    if slope is None:
        result["slope"] = {**interval(None), "se": None, "model_intercept": None}
    else:
        lo, hi = normal_interval(slope.coef[1], slope.se[1], alpha)
        result["slope"] = {
            **interval(slope.coef[1], lo, hi),
            "se": float(slope.se[1]),
            "model_intercept": float(slope.coef[0]),
        }
    return result


def calibration_intercept_slope(y: Any, p: Any, alpha: float = 0.05) -> dict[str, Any]:
    """Calibration-in-the-large and calibration slope with Wald intervals.

    Args:
        y: 0/1 labels.
        p: predicted probabilities of class 1.
        alpha: miss rate of the two-sided intervals.

    Returns:
        See :func:`recalibration_summary`.
    """
    labels = as_labels(y)
    x = clipped_logit(as_probabilities(p, labels.shape[0]))
    order = np.argsort(x, kind="stable")
    return recalibration_summary(*recalibration_fits(x[order], labels[order]), alpha=alpha)


def spline_basis(x: np.ndarray, knots: np.ndarray) -> list[np.ndarray | None]:
    """Restricted cubic spline columns (Harrell): intercept (None), ``x``, ``len(knots) - 2`` terms.

    Linear beyond the outer knots; the cubic terms are scaled by ``(t_K - t_1)^2`` so their
    size is comparable to ``x``.

    Args:
        x: points to evaluate.
        knots: increasing knot positions (at least 3 for any non-linear term).
    """
    columns: list[np.ndarray | None] = [None, x]
    if knots.shape[0] >= 3:
        last, before = knots[-1], knots[-2]
        scale = (last - knots[0]) ** 2
        tail_last = np.maximum(x - last, 0.0) ** 3
        tail_before = np.maximum(x - before, 0.0) ** 3
        for knot in knots[:-2]:
            term = np.maximum(x - knot, 0.0) ** 3
            term -= tail_before * ((last - knot) / (last - before))
            term += tail_last * ((before - knot) / (last - before))
            term /= scale
            columns.append(term)
    return columns


def spline_predictor(x: np.ndarray, knots: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Linear predictor ``spline_basis(x, knots) @ coef`` without building the columns.

    Args:
        x: points to evaluate.
        knots: the knots used for the fit.
        coef: fitted coefficients, one per column of :func:`spline_basis`.
    """
    eta = coef[0] + coef[1] * x
    if knots.shape[0] >= 3:
        last, before = knots[-1], knots[-2]
        scale = (last - knots[0]) ** 2
        # Collect the weights of each truncated cubic (x - t)_+^3, then add each cubic once.
        cubic_weight = np.zeros(knots.shape[0])
        for index, knot in enumerate(knots[:-2]):
            weight = coef[2 + index] / scale
            cubic_weight[index] += weight
            cubic_weight[-2] -= weight * (last - knot) / (last - before)
            cubic_weight[-1] += weight * (before - knot) / (last - before)
        ascending = _is_sorted(x)
        for knot, weight in zip(knots, cubic_weight, strict=True):
            # Only rows above the knot contribute: for sorted x that is a tail slice.
            first = int(np.searchsorted(x, knot, side="right")) if ascending else 0
            tail = np.maximum(x[first:] - knot, 0.0)
            eta[first:] += weight * tail * tail * tail
    return eta


def _is_sorted(x: np.ndarray) -> bool:
    """Whether ``x`` is ascending (cheap check that enables tail slicing)."""
    return bool(x.shape[0] < 2 or (x[1:] >= x[:-1]).all())


def spline_knots(x_sorted: np.ndarray) -> np.ndarray:
    """Knots at :data:`SPLINE_KNOT_QUANTILES` of sorted ``x``; fewer when ``x`` has few values."""
    n = x_sorted.shape[0]
    positions = np.minimum((np.asarray(SPLINE_KNOT_QUANTILES) * n).astype(np.int64), n - 1)
    return np.unique(x_sorted[positions])


def smooth_calibration(
    bin_x: np.ndarray,
    bin_events: np.ndarray,
    bin_trials: np.ndarray,
    knots: np.ndarray,
    x_rows: np.ndarray,
    p_rows: np.ndarray,
    grid_points: int = 101,
) -> dict[str, Any]:
    """ICI, E50, E90 and a plot-ready smooth calibration curve (see module docstring).

    Args:
        bin_x: mean ``logit(p)`` per score bin.
        bin_events: positives per bin.
        bin_trials: rows per bin.
        knots: spline knots on the logit scale.
        x_rows: ``clipped_logit(p)`` of every row (where the curve is evaluated).
        p_rows: the raw probabilities of the same rows.
        grid_points: points of the returned curve, evenly spaced in ``p`` quantiles.

    Returns:
        ``{"ici", "e50", "e90", "emax", "curve": {"predicted", "observed"}, "method"}``;
        values are NaN if the smoother does not converge.
    """
    kept = bin_trials > 0
    fit = fit_logistic(
        spline_basis(bin_x[kept], knots),
        bin_events[kept] / bin_trials[kept],
        weights=bin_trials[kept],
    )
    method = "logistic restricted cubic spline of logit(p), 5 knots, on quantile bins"
    if not fit.converged:
        nan = float("nan")
        empty: dict[str, list[float]] = {"predicted": [], "observed": []}
        return {"ici": nan, "e50": nan, "e90": nan, "emax": nan, "curve": empty, "method": method}
    error = np.abs(p_rows - expit(spline_predictor(x_rows, knots, fit.coef)))
    e50, e90 = np.quantile(error, [0.5, 0.9])
    # Curve for plots: at evenly spaced quantiles of the rows (x_rows sorted by the caller).
    index = np.linspace(0, x_rows.shape[0] - 1, grid_points).astype(np.int64)
    index = np.unique(index)
    observed = expit(spline_predictor(x_rows[index], knots, fit.coef))
    return {
        "ici": float(error.mean()),
        "e50": float(e50),
        "e90": float(e90),
        "emax": float(error.max()),
        "curve": {"predicted": p_rows[index].tolist(), "observed": observed.tolist()},
        "method": method,
    }


def reliability_edges(scores_sorted: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Interior reliability-bin edges (``n_bins - 1`` values or fewer after ties).

    Args:
        scores_sorted: ascending probabilities.
        n_bins: number of bins (>= 1).
        strategy: ``"uniform"`` (equal width on [0, 1]) or ``"quantile"`` (equal mass).
    """
    if strategy not in RELIABILITY_STRATEGIES:
        raise MetricsInputError(
            f"reliability strategy {strategy!r} is unknown; use one of "
            f"{', '.join(RELIABILITY_STRATEGIES)}."
        )
    if n_bins < 1:
        raise MetricsInputError(f"n_bins must be at least 1, got {n_bins}.")
    if strategy == "uniform":
        return np.arange(1, n_bins) / n_bins
    n = scores_sorted.shape[0]
    return np.unique(scores_sorted[(np.arange(1, n_bins) * n) // n_bins])


def reliability_from_sorted(
    scores_sorted: np.ndarray,
    labels_sorted: np.ndarray,
    n_bins: int = 10,
    strategy: str = "uniform",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Reliability-diagram table and ECE from rows sorted by probability.

    Args:
        scores_sorted: ascending probabilities.
        labels_sorted: 0/1 labels in the same order.
        n_bins: number of reliability bins.
        strategy: ``"uniform"`` or ``"quantile"`` (see module docstring).
        alpha: miss rate of the Wilson intervals of the observed fractions.

    Returns:
        ``{"strategy", "ece", "bins": [{"lower", "upper", "count", "mean_predicted",
        "observed", "observed_lo", "observed_hi"}]}``; empty bins are left out.
    """
    edges = reliability_edges(scores_sorted, n_bins, strategy)
    bounds = np.concatenate(([0], np.searchsorted(scores_sorted, edges, side="left"))).astype(
        np.int64
    )
    bounds = np.append(bounds, scores_sorted.shape[0])
    cum_p = np.concatenate(([0.0], np.cumsum(scores_sorted)))
    cum_y = np.concatenate(([0], np.cumsum(labels_sorted, dtype=np.int64)))
    counts = np.diff(bounds)
    sum_p = cum_p[bounds[1:]] - cum_p[bounds[:-1]]
    positives = cum_y[bounds[1:]] - cum_y[bounds[:-1]]
    table = reliability_table(counts, sum_p, positives, edges, alpha)
    return {"strategy": strategy, **table}


def reliability_table(
    counts: np.ndarray,
    sum_p: np.ndarray,
    positives: np.ndarray,
    edges: np.ndarray,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Shape per-bin sums as the reliability table with ECE.

    Args:
        counts: rows per reliability bin.
        sum_p: sum of probabilities per bin.
        positives: positives per bin.
        edges: the interior edges between the bins.
        alpha: miss rate of the Wilson intervals.

    Returns:
        ``{"ece", "bins": [...]}`` as in :func:`reliability_from_sorted`.
    """
    lower = np.concatenate(([0.0], edges))
    upper = np.append(edges, 1.0)
    total = counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_p = sum_p / counts
        observed = positives / counts
    lo, hi = wilson_interval(positives, counts, alpha)
    ece = float(np.abs(positives - sum_p).sum() / total)
    bins = [
        {
            "lower": float(lower[k]),
            "upper": float(upper[k]),
            "count": int(counts[k]),
            "mean_predicted": float(mean_p[k]),
            "observed": float(observed[k]),
            "observed_lo": float(lo[k]),
            "observed_hi": float(hi[k]),
        }
        for k in np.flatnonzero(counts > 0)
    ]
    return {"ece": ece, "bins": bins}


def expected_calibration_error(
    y: Any, p: Any, n_bins: int = 10, strategy: str = "uniform"
) -> float:
    """ECE over ``n_bins`` reliability bins (see module docstring for the bin definition).

    Args:
        y: 0/1 labels.
        p: predicted probabilities of class 1.
        n_bins: number of bins.
        strategy: ``"uniform"`` or ``"quantile"``.
    """
    labels = as_labels(y)
    probs = as_probabilities(p, labels.shape[0])
    order = np.argsort(probs, kind="stable")
    return reliability_from_sorted(probs[order], labels[order], n_bins, strategy)["ece"]
