"""Paired comparison of a model with a reference (baseline or champion) on the same rows.

Differences are always ``model - reference``: positive AUC/AP differences and negative Brier
differences favour the model.

* AUC: paired DeLong (DeLong et al. 1988) from per-row placement values of both models.
* Brier: paired Poisson bootstrap of the per-row difference ``d = (p - y)^2 - (p_ref - y)^2``
  over a table of 2,000 quantile bins of ``d`` (rows in a bin have nearly equal ``d``, so this
  is a row-level bootstrap of the mean difference up to negligible binning).
* AP: paired Poisson bootstrap, the SAME resample applied to both models, over the joint
  (label, model bin, reference bin) count table. Its grid is adaptive: the finest of 1024,
  724, 512, ... quantile bins per model whose occupied cells fit in ``max_cells`` (the cost of
  a resample). Similar models crowd near the diagonal and keep a fine grid; very different
  models get a coarser grid, where the large-scale differences that dominate their variance
  remain visible. Resamples are shifted by the exact-minus-binned AP difference. Against a
  row-level paired bootstrap the interval widths agree within ~5%, except for nearly identical
  models (logit noise ~0.02 between them), where binning makes the interval conservative
  (~15-35% wider); the paired DeLong AUC interval has no such limitation.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from ._format import interval
from .bootstrap import poisson_resamples
from .discrimination import (
    auc_delong,
    average_precision,
    average_precision_from_counts,
    placement_values,
)
from .intervals import normal_interval, percentile_interval
from .sorting import SortedScores
from .table import make_score_bins

DEFAULT_MAX_CELLS = 12_000
_FINEST_GRID = 1024
# Grid sizes tried from fine to coarse, in steps of sqrt(2).
_GRIDS = (1024, 724, 512, 362, 256, 181, 128, 91, 64, 45, 32, 23, 16, 11, 8)
_DIFFERENCE_BINS = 2000


def paired_delong(
    model: SortedScores, reference: SortedScores, labels: np.ndarray, alpha: float = 0.05
) -> dict[str, float | None]:
    """AUC difference with the paired DeLong standard error, Wald interval and p-value.

    Args:
        model: the model's sorted scores (built from the same rows as ``reference``).
        reference: the reference's sorted scores.
        labels: 0/1 labels in the ORIGINAL row order.
        alpha: miss rate of the two-sided interval.

    Returns:
        ``{"estimate", "lo", "hi", "se", "p_value", "model", "reference"}`` (estimate and
        bounds None when undefined).
    """
    positive = labels == 1
    v10_model, v01_model = placement_values(model)
    v10_ref, v01_ref = placement_values(reference)
    s10 = _covariance(v10_model[positive], v10_ref[positive])
    s01 = _covariance(v01_model[~positive], v01_ref[~positive])
    m, n = int(positive.sum()), int((~positive).sum())
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (
        s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]
    ) / n
    auc_model = auc_delong(model)["estimate"]
    auc_ref = auc_delong(reference)["estimate"]
    diff = auc_model - auc_ref
    se = float(np.sqrt(max(variance, 0.0)))
    lo, hi = normal_interval(diff, se, alpha)
    p_value = 2.0 * (1.0 - NormalDist().cdf(abs(diff) / se)) if se > 0 else float("nan")
    return {
        **interval(diff, lo, hi),
        "se": se,
        "p_value": p_value,
        "model": auc_model,
        "reference": auc_ref,
    }


def _covariance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2 x 2 sample covariance (ddof=1) of two vectors, with einsum rather than BLAS."""
    a = a - a.mean()
    b = b - b.mean()
    cross = float(np.einsum("i,i->", a, b))
    matrix = np.array([[np.einsum("i,i->", a, a), cross], [cross, np.einsum("i,i->", b, b)]])
    return matrix / (a.shape[0] - 1)


def _bins_in_original_order(scores: SortedScores, n_bins: int) -> tuple[np.ndarray, int]:
    """Quantile-bin index of every row in the original order, and the number of bins."""
    bins = make_score_bins(scores.scores, n_bins)
    per_row = np.empty(scores.n, dtype=np.int64)
    per_row[scores.order] = bins.bin_of_sorted_rows()
    return per_row, bins.n_bins


def _joint_table(
    labels: np.ndarray,
    bin_model: np.ndarray,
    bin_ref: np.ndarray,
    n_model: int,
    n_ref: int,
    max_cells: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Occupied joint cells at the finest grid that fits ``max_cells``.

    Returns:
        ``(key, counts, grid)``: sorted cell keys ``(label * grid + a) * grid + b``, rows per
        cell, and the grid size.
    """
    for grid in _GRIDS:
        coarse_model = (bin_model * grid) // n_model
        coarse_ref = (bin_ref * grid) // n_ref
        key = (labels.astype(np.int64) * grid + coarse_model) * grid + coarse_ref
        counts = np.bincount(key, minlength=2 * grid * grid)
        if np.count_nonzero(counts) <= max_cells:
            break
    return key, counts, grid


def _brier_difference_resamples(
    difference: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Poisson-bootstrap means of the per-row Brier difference over quantile bins of it."""
    edges = np.unique(np.quantile(difference, np.linspace(0, 1, _DIFFERENCE_BINS + 1)[1:-1]))
    cell = np.searchsorted(edges, difference, side="right")
    counts = np.bincount(cell, minlength=edges.size + 1).astype(np.float64)
    sums = np.bincount(cell, weights=difference, minlength=edges.size + 1)
    mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    out = np.empty(n_resamples)
    done = 0
    for weights in poisson_resamples(counts, n_resamples, rng):
        # einsum, not BLAS: see logistic._dot on thread wake-up latency.
        totals = np.einsum("rc,c->r", weights, mean)
        out[done : done + weights.shape[0]] = totals / weights.sum(axis=1)
        done += weights.shape[0]
    return out


def paired_bootstrap(
    labels: np.ndarray,
    p_model: np.ndarray,
    p_ref: np.ndarray,
    model: SortedScores,
    reference: SortedScores,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> dict[str, Any]:
    """Paired Poisson-bootstrap intervals for the Brier and AP differences (module docstring).

    Args:
        labels: 0/1 labels, original order.
        p_model: the model's probabilities, original order.
        p_ref: the reference's probabilities, original order.
        model: the model's sorted scores.
        reference: the reference's sorted scores.
        n_resamples: number of resamples.
        rng: random generator.
        alpha: miss rate of the intervals.
        max_cells: largest number of occupied joint cells (cost of one resample).

    Returns:
        ``{"brier_difference", "ap_difference", "grid", "cells"}``; the differences are
        ``{"estimate", "lo", "hi", "model", "reference"}``.
    """
    bin_model, n_model = _bins_in_original_order(model, _FINEST_GRID)
    bin_ref, n_ref = _bins_in_original_order(reference, _FINEST_GRID)
    key, dense_counts, grid = _joint_table(labels, bin_model, bin_ref, n_model, n_ref, max_cells)
    occupied = np.flatnonzero(dense_counts)
    counts = dense_counts[occupied].astype(np.float64)
    label_of = occupied // (grid * grid)
    model_of = (occupied // grid) % grid
    ref_of = occupied % grid
    # Cells are sorted by (label, model bin): the model's margins are contiguous runs; the
    # reference's margins need the cells re-sorted by (label, reference bin).
    model_key = label_of * grid + model_of
    ref_order = np.argsort(label_of * grid + ref_of, kind="stable")
    ref_key = (label_of * grid + ref_of)[ref_order]

    def margins(weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
        starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
        out = np.zeros((weights.shape[0], 2 * grid))
        out[:, keys[starts]] = np.add.reduceat(weights, starts, axis=1)
        return out.reshape(weights.shape[0], 2, grid)

    def ap_difference(weights: np.ndarray) -> np.ndarray:
        model_margin = margins(weights, model_key)
        ref_margin = margins(weights[:, ref_order], ref_key)
        return average_precision_from_counts(
            model_margin[:, 1], model_margin[:, 0]
        ) - average_precision_from_counts(ref_margin[:, 1], ref_margin[:, 0])

    ap_model, ap_ref = average_precision(model), average_precision(reference)
    ap_exact = ap_model - ap_ref
    ap_shift = ap_exact - ap_difference(counts[None, :])[0]
    ap_samples = np.empty(n_resamples)
    done = 0
    for weights in poisson_resamples(counts, n_resamples, rng):
        ap_samples[done : done + weights.shape[0]] = ap_difference(weights) + ap_shift
        done += weights.shape[0]
    difference = (p_model - labels) ** 2 - (p_ref - labels) ** 2
    brier_samples = _brier_difference_resamples(difference, n_resamples, rng)
    brier_model = float(np.mean((p_model - labels) ** 2))
    brier_ref = float(np.mean((p_ref - labels) ** 2))
    brier_lo, brier_hi = percentile_interval(brier_samples, alpha)
    ap_lo, ap_hi = percentile_interval(ap_samples, alpha)
    return {
        "brier_difference": {
            **interval(brier_model - brier_ref, brier_lo, brier_hi),
            "model": brier_model,
            "reference": brier_ref,
        },
        "ap_difference": {
            **interval(ap_exact, ap_lo, ap_hi),
            "model": ap_model,
            "reference": ap_ref,
        },
        "grid": grid,
        "cells": int(occupied.shape[0]),
    }


def compare_models(
    labels: np.ndarray,
    p_model: np.ndarray,
    p_ref: np.ndarray,
    *,
    model: SortedScores | None = None,
    n_resamples: int = 1000,
    rng: np.random.Generator | None = None,
    alpha: float = 0.05,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> dict[str, Any]:
    """Paired comparison of ``p_model`` against ``p_ref`` on the same labelled rows.

    Args:
        labels: validated 0/1 labels (original order).
        p_model: validated probabilities of the model.
        p_ref: validated probabilities of the reference, same rows.
        model: the model's sorted scores if already built (saves one sort).
        n_resamples: bootstrap resamples for the Brier and AP differences (0 skips them).
        rng: random generator (default: seed 0).
        alpha: miss rate of the intervals.
        max_cells: joint-table budget, see module docstring.

    Returns:
        ``{"auc_difference": {estimate, lo, hi, se, p_value, model, reference},
        "brier_difference": {estimate, lo, hi, model, reference}, "ap_difference": {...},
        "bootstrap_grid", "bootstrap_cells"}``.
    """
    model = SortedScores.build(labels, p_model) if model is None else model
    reference = SortedScores.build(labels, p_ref)
    result: dict[str, Any] = {"auc_difference": paired_delong(model, reference, labels, alpha)}
    paired = paired_bootstrap(
        labels,
        p_model,
        p_ref,
        model,
        reference,
        n_resamples=n_resamples,
        rng=np.random.default_rng(0) if rng is None else rng,
        alpha=alpha,
        max_cells=max_cells,
    )
    result["brier_difference"] = paired["brier_difference"]
    result["ap_difference"] = paired["ap_difference"]
    result["bootstrap_grid"] = paired["grid"]
    result["bootstrap_cells"] = paired["cells"]
    return result
