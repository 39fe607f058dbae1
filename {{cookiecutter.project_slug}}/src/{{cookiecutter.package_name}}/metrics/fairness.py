"""Per-group metrics and group-fairness gaps for one sensitive attribute.

Gaps follow fairlearn's ``between_groups`` definitions on hard predictions ``p >= threshold``:

* demographic-parity difference: largest minus smallest selection rate ``P(pred=1 | group)``;
* equalized-odds difference: the larger of the TPR gap and the FPR gap (max minus min over
  groups).

A group whose rate is undefined (no positives for TPR, no negatives for FPR) is left out of that
gap. Intervals of the gaps and of each group's net benefit come from a Poisson bootstrap of the
(group, label, predicted) count table; rates get Wilson intervals, AUC a DeLong interval and
the recalibration intercept/slope Wald intervals.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._checks import MetricsInputError
from ._report import interval
from .bootstrap import poisson_resamples
from .calibration import recalibration_fits, recalibration_summary
from .discrimination import auc_delong
from .intervals import normal_interval, percentile_interval, wilson_interval
from .sorting import SortedScores
from .threshold import confusion_counts, net_benefit

MISSING_GROUP = "(missing)"


def encode_groups(values: Any, name: str, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes and printable labels of a sensitive attribute (missing is its own group).

    Args:
        values: one label per row (array, list, pandas Series or Categorical).
        name: attribute name, used in error messages.
        n: required length.

    Returns:
        ``(codes, labels)`` with ``codes`` in ``0..len(labels)-1`` and labels sorted when the
        values are sortable.
    """
    import pandas as pd  # lazy: only needed when groups or slices are evaluated

    if isinstance(values, (list, tuple)):
        values = np.asarray(values, dtype=object)
    if getattr(values, "ndim", 1) != 1 or len(values) != n:
        raise MetricsInputError(
            f"groups[{name!r}] must be 1-d with one label per prediction ({n}), "
            f"got length {len(values)}."
        )
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # mixed, unorderable labels: keep first-seen order
        codes, uniques = pd.factorize(values, sort=False)
    labels = [str(value) for value in uniques]
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING_GROUP)
    return codes, labels


def _range(values: np.ndarray) -> np.ndarray:
    """Max minus min over the last axis, ignoring NaN (NaN when fewer than two values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1)
    enough = np.isfinite(values).sum(axis=-1) >= 2
    return np.where(enough, spread, np.nan)


def _rates(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """TPR, FPR, PPV and selection rate from ``(..., group, label, predicted)`` counts."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = confusion[..., 1, 1] / confusion[..., 1, :].sum(axis=-1)
        fpr = confusion[..., 0, 1] / confusion[..., 0, :].sum(axis=-1)
        ppv = confusion[..., 1, 1] / confusion[..., :, 1].sum(axis=-1)
        selection = confusion[..., :, 1].sum(axis=-1) / confusion.sum(axis=(-1, -2))
    return {"tpr": tpr, "fpr": fpr, "ppv": ppv, "selection_rate": selection}


def _gaps(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The fairness differences from per-group rates (last axis = groups)."""
    tpr_gap = _range(rates["tpr"])
    fpr_gap = _range(rates["fpr"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        odds = np.nanmax(np.stack((tpr_gap, fpr_gap)), axis=0)
    return {
        "equalized_odds_difference": odds,
        "demographic_parity_difference": _range(rates["selection_rate"]),
        "tpr_difference": tpr_gap,
        "fpr_difference": fpr_gap,
    }


def group_report(
    scores: SortedScores,
    logit_sorted: np.ndarray,
    codes_sorted: np.ndarray,
    labels: list[str],
    *,
    threshold: float,
    alpha: float,
    n_resamples: int,
    rng: np.random.Generator,
    gap_tolerance: float,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Metrics per group and fairness gaps for one sensitive attribute.

    Args:
        scores: all rows, sorted by score.
        logit_sorted: ``clipped_logit(p)`` in the same order.
        codes_sorted: group code of each row in the same order.
        labels: group label of each code.
        threshold: decision threshold (``p >= threshold`` is positive).
        alpha: miss rate of the intervals.
        n_resamples: bootstrap resamples (0 skips bootstrap intervals).
        rng: random generator for this attribute.
        gap_tolerance: a gap above this is flagged.

    Returns:
        ``(groups, fairness)``. ``groups`` is a list with, per group: ``group``, ``n``,
        ``share``, ``prevalence``, ``auc``, ``brier`` (normal interval), ``intercept`` and
        ``slope`` (recalibration, Wald), ``tpr``, ``fpr``, ``ppv``, ``selection_rate``
        (Wilson) and ``net_benefit`` (bootstrap), each ``{"estimate", "lo", "hi"}``.
        ``fairness`` has ``equalized_odds_difference``, ``demographic_parity_difference``,
        ``tpr_difference`` and ``fpr_difference`` (each with bootstrap ``lo``/``hi`` and
        ``exceeds_tolerance``), ``tolerance`` and ``flagged`` (any gap above tolerance).
    """
    n_groups = len(labels)
    sizes = np.bincount(codes_sorted, minlength=n_groups)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    # A stable sort by group keeps each group's rows in score order: contiguous sorted segments.
    # Small integer codes make numpy use an O(n) radix sort.
    small = codes_sorted.astype(
        np.uint8 if n_groups <= 255 else np.uint16 if n_groups <= 65535 else np.int64
    )
    perm = np.argsort(small, kind="stable")
    del small
    confusion = np.zeros((n_groups, 2, 2))
    groups: list[dict[str, Any]] = []
    for code, label in enumerate(labels):
        # One group's rows at a time keeps the peak memory at one group's copy.
        rows = perm[bounds[code] : bounds[code + 1]]
        group_labels = scores.labels[rows]
        sub = SortedScores.from_sorted(scores.scores[rows], group_labels)
        n = sub.n
        n_pos = sub.n_pos
        counts = confusion_counts(sub, threshold)
        confusion[code] = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
        squared = (sub.scores - sub.labels) ** 2
        brier_se = squared.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        row: dict[str, Any] = {
            "group": label,
            "n": n,
            "share": n / scores.n,
            "n_positive": n_pos,
            "prevalence": interval(n_pos / n, *wilson_interval(n_pos, n, alpha)),
            "brier": interval(squared.mean(), *normal_interval(squared.mean(), brier_se, alpha)),
        }
        if 0 < n_pos < n:
            auc = auc_delong(sub, alpha)
            row["auc"] = interval(auc["estimate"], auc["lo"], auc["hi"])
            fits = recalibration_fits(logit_sorted[rows], group_labels)
            calibration = recalibration_summary(*fits, alpha=alpha)
        else:
            row["auc"] = interval(None)
            calibration = recalibration_summary(None, None, alpha=alpha)
        row["intercept"] = calibration["intercept"]
        row["slope"] = calibration["slope"]
        groups.append(row)

    point_rates = _rates(confusion)
    successes = {
        "tpr": confusion[:, 1, 1],
        "fpr": confusion[:, 0, 1],
        "ppv": confusion[:, 1, 1],
        "selection_rate": confusion[:, :, 1].sum(axis=1),
    }
    trials = {
        "tpr": confusion[:, 1, :].sum(axis=1),
        "fpr": confusion[:, 0, :].sum(axis=1),
        "ppv": confusion[:, :, 1].sum(axis=1),
        "selection_rate": sizes,
    }
    point_nb = net_benefit(confusion[:, 1, 1], confusion[:, 0, 1], sizes, threshold)
    point_gaps = _gaps(point_rates)

    resampled_nb = np.empty((n_resamples, n_groups))
    resampled_gaps = {name: np.empty(n_resamples) for name in point_gaps}
    done = 0
    for weights in poisson_resamples(confusion, n_resamples, rng):
        part = slice(done, done + weights.shape[0])
        rows = weights.sum(axis=(-1, -2))
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled_nb[part] = net_benefit(
                weights[:, :, 1, 1], weights[:, :, 0, 1], rows, threshold
            )
        for name, values in _gaps(_rates(weights)).items():
            resampled_gaps[name][part] = values
        done += weights.shape[0]

    nb_lo, nb_hi = percentile_interval(resampled_nb, alpha)
    for code, row in enumerate(groups):
        for name in ("tpr", "fpr", "ppv", "selection_rate"):
            lo, hi = wilson_interval(successes[name][code], trials[name][code], alpha)
            row[name] = interval(point_rates[name][code], lo, hi)
        row["net_benefit"] = interval(point_nb[code], nb_lo[code], nb_hi[code])

    fairness: dict[str, Any] = {"tolerance": float(gap_tolerance), "threshold": float(threshold)}
    flagged = False
    for name, value in point_gaps.items():
        lo, hi = percentile_interval(resampled_gaps[name], alpha)
        exceeds = bool(np.isfinite(value) and value > gap_tolerance)
        flagged = flagged or exceeds
        fairness[name] = {**interval(value, lo, hi), "exceeds_tolerance": exceeds}
    fairness["flagged"] = flagged
    return groups, fairness
