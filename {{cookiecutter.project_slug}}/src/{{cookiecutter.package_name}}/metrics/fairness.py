"""Per-group metrics and group-fairness gaps for one sensitive attribute.

Gaps follow fairlearn's ``between_groups`` definitions on hard predictions ``p >= threshold``:

* demographic-parity difference: largest minus smallest selection rate ``P(pred=1 | group)``;
* equalized-odds difference: the larger of the TPR gap and the FPR gap (max minus min over
  groups);
* the AUC difference: largest minus smallest group AUC (groups holding both classes).

A group whose rate is undefined (no positives for TPR, no negatives for FPR) is left out of that
gap. Rates get Wilson intervals, AUC a DeLong interval, the recalibration intercept/slope Wald
intervals and each group's net benefit a Poisson bootstrap of the (group, label, predicted)
count table.

Intervals of the gaps (:func:`gap_interval`). A gap is a maximum of absolute differences,
``G = max |r_i - r_j|``; a percentile bootstrap of it is biased away from 0 (noise only ever
widens a range), so with no true gap its interval lies above the estimate and misses 0 nearly
always. Instead the interval is the set of values ``g`` that a test of ``G = g`` at level
``alpha`` does not reject (a test-inversion interval):

* upper bound: the estimate plus ``z`` standard errors of the difference of the two groups that
  attain it (never above 1);
* lower bound: the smallest ``g`` whose test accepts. The test simulates the estimated gap and
  the upper bound under a configuration of group values whose gap is exactly ``g`` (the
  estimates moved to a range of width ``g``; a group within ``kappa = 2`` standard errors of an
  edge is placed on it, as in generalized moment selection, Andrews & Soares 2010), with
  independent normal errors of each group's standard error; ``g`` is accepted when the observed
  gap is within the ``1 - alpha`` quantile of the draws whose upper bound reaches ``g``.

Calibrating the lower bound jointly with the fixed upper-bound rule spends the whole ``alpha``
on the lower side when ``g`` is near 0 (where the upper bound cannot miss) and about half on
each side for a clear gap, so the interval covers the true gap ~95% of the time whether it is 0
or not (``tests/test_metrics_coverage.py``: 2 to 5 groups of 60-2,000 rows, 93.7%-96.5%), and
its lower bound is 0 exactly when a simultaneous, max-type test finds no difference between the
groups. It errs on the wide side (~97-98%) when several noisy groups lie within one or two
standard errors of an extreme without being level with it. Why not intervals of each pairwise
difference with a Bonferroni or max-t correction, projected onto the gap: such a box is exact
for the gap only when there is no gap, and covers a clear gap of 3 or 5 groups 98% and 99% of
the time (its lower bound pays for every pair). Standard errors are ``sqrt(q (1 - q) / n)``
for rates (``q`` kept half a count from 0 and 1), taken in the simulated test at the
hypothesised rates (as a score test does: with groups of a few dozen positives the estimated
ones make it too liberal), and DeLong's for AUCs; ``n_resamples`` normal draws are used.

Small groups: a group with fewer than ``min_group_size`` rows keeps its numbers (and takes part
in the gaps of all groups, which match fairlearn) but is never flagged: ``large_groups`` holds
the gaps among the large-enough groups only, and the tolerance and ``flagged`` are judged on
those.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd  # at import time, so that no first call pays an import inside it

from ._checks import MetricsInputError
from ._format import interval
from .bootstrap import poisson_resamples
from .calibration import recalibration_fits, recalibration_summary
from .discrimination import auc_delong
from .intervals import normal_interval, percentile_interval, wilson_interval, z_value
from .sorting import SortedScores
from .threshold import confusion_counts, net_benefit

MISSING_GROUP = "(missing)"
# Default smallest group judged by the bias audit (``evaluate.bias.min_group_size``).
MIN_GROUP_SIZE = 50
# Moment-selection margin of the gap intervals, in standard errors (see the module docstring).
GAP_KAPPA = 2.0
# The decision gaps (judged against the tolerance) and the per-group rates each is made of.
GAP_RATES = {
    "equalized_odds_difference": ("tpr", "fpr"),
    "demographic_parity_difference": ("selection_rate",),
    "tpr_difference": ("tpr",),
    "fpr_difference": ("fpr",),
}


def encode_groups(values: Any, name: str, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes and printable labels of a sensitive attribute (missing is its own group).

    Args:
        values: one label per row (array, list, pandas Series or Categorical).
        name: attribute name, used in error messages.
        n: required length.

    Returns:
        ``(codes, labels)`` with ``codes`` in ``0..len(labels)-1`` (of type
        :func:`code_dtype`) and labels sorted when the values are sortable.
    """
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
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(MISSING_GROUP)
    return codes.astype(code_dtype(len(labels)), copy=False), labels


def code_dtype(n_groups: int) -> type[np.unsignedinteger] | type[np.signedinteger]:
    """Smallest integer type for group codes ``0..n_groups-1``.

    One byte per row instead of eight, and small unsigned codes make numpy's stable argsort a
    linear-time radix sort.
    """
    return np.uint8 if n_groups <= 255 else np.uint16 if n_groups <= 65535 else np.int64


def _range(values: np.ndarray) -> np.ndarray:
    """Max minus min over the last axis, ignoring NaN (NaN when fewer than two values)."""
    if values.shape[-1] == 0:  # no group at all (e.g. none large enough)
        return np.full(values.shape[:-1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1)
    enough = np.isfinite(values).sum(axis=-1) >= 2
    return np.where(enough, spread, np.nan)


def rate_se(rates: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Standard error ``sqrt(q (1 - q) / n)`` of proportions, ``q`` the rate kept half a count
    away from 0 and 1 (so never 0); NaN where ``n == 0``.
    """
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = 0.5 / (n + 1.0)
        q = np.clip(np.asarray(rates, dtype=np.float64), margin, 1.0 - margin)
        return np.where(n > 0, np.sqrt(q * (1.0 - q) / n), np.nan)


def _largest_range(
    values: np.ndarray, parts: list[slice], se: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Largest max-minus-min over the parts (last axis) and the SE of the pair attaining it."""
    best: np.ndarray | None = None
    best_se: np.ndarray | None = None
    for part in parts:
        block = values[..., part]
        spread = block.max(axis=-1) - block.min(axis=-1)
        errors = se[part]
        pair_se = np.hypot(errors[block.argmax(axis=-1)], errors[block.argmin(axis=-1)])
        if best is None or best_se is None:
            best, best_se = spread, pair_se
        else:
            wider = spread > best
            best, best_se = np.where(wider, spread, best), np.where(wider, pair_se, best_se)
    if best is None or best_se is None:
        raise ValueError("_largest_range needs at least one part.")
    return best, best_se


def _band_floor(values: np.ndarray, weights: np.ndarray, gap: float) -> float:
    """Lower edge ``L`` minimising ``sum w_i (v_i - clip(v_i, L, L + gap))^2`` (weighted least
    squares under "range <= gap").

    The derivative is piecewise linear and increasing in ``L`` with kinks at ``v_i`` and
    ``v_i - gap``: the root is found exactly between the two kinks where it changes sign.
    """

    def slope(low: np.ndarray) -> np.ndarray:
        below = np.clip(low[:, None] - values, 0.0, None)
        above = np.clip(values - gap - low[:, None], 0.0, None)
        return (below - above) @ weights

    kinks = np.unique(np.concatenate((values, values - gap)))
    at_kinks = slope(kinks)
    first = int(np.searchsorted(at_kinks, 0.0, side="left"))  # first kink with slope >= 0
    if first == 0:
        return float(kinks[0])
    left, right = kinks[first - 1], kinks[first]
    s_left, s_right = at_kinks[first - 1], at_kinks[first]
    return float(left + (right - left) * (-s_left) / (s_right - s_left))


def _configuration(
    estimates: np.ndarray, se: np.ndarray, parts: list[slice], gap: float, kappa: float
) -> np.ndarray:
    """Group values closest to the estimates whose largest range is ``gap`` (moment selection).

    A part whose range is below ``gap`` by more than ``kappa`` SEs keeps its estimates. Any
    other part is moved to a range of width ``gap``: a wider part is clipped to the band that
    is closest in weighted least squares (weights ``1 / SE^2``; at ``gap = 0`` every group
    sits at the precision-weighted mean), a narrower one has its two extreme groups moved
    apart in proportion to their variances; then a group within ``kappa`` SEs of an edge is
    placed on it.
    """
    out = estimates.copy()
    for part in parts:
        values, errors = estimates[part], se[part]
        top, bottom = int(values.argmax()), int(values.argmin())
        spread = values[top] - values[bottom]
        if spread < gap - kappa * np.hypot(errors[top], errors[bottom]):
            continue
        variance = errors[top] ** 2 + errors[bottom] ** 2
        share = errors[bottom] ** 2 / variance if variance > 0 else 0.5
        low = values[bottom] + (spread - gap) * share
        if spread > gap:
            low = _band_floor(values, 1.0 / np.maximum(errors, 1e-12) ** 2, gap)
        high = low + gap
        moved = np.clip(values, low, high)
        near_high = values >= high - kappa * errors
        near_low = values <= low + kappa * errors
        to_high = near_high & (~near_low | (high - values <= values - low))
        moved[to_high] = high
        moved[near_low & ~to_high] = low
        moved[top], moved[bottom] = high, low
        out[part] = moved
    return out


def gap_interval(
    estimates: Sequence[np.ndarray],
    *,
    trials: Sequence[np.ndarray] | None = None,
    standard_errors: Sequence[np.ndarray] | None = None,
    alpha: float,
    n_draws: int,
    rng: np.random.Generator,
    kappa: float = GAP_KAPPA,
) -> tuple[float, float]:
    """Test-inversion interval of the largest max-minus-min spread of independent estimates.

    The gap is ``max over parts of (max - min over groups)`` (one part for a single rate, two
    for the equalized-odds difference). The upper bound is the gap plus ``z`` SEs of the pair
    attaining it; the lower bound is the smallest ``g`` not rejected by a simulated test of
    "the gap is ``g``" (see the module docstring), 0 when the groups do not differ.

    Args:
        estimates: one array per part, one value per group (non-finite values are left out).
        trials: for proportions, their denominators (same shapes): the standard errors are
            :func:`rate_se`, in the simulated test at the hypothesised group values.
        standard_errors: otherwise, fixed standard errors (same shapes).
        alpha: miss rate of the two-sided interval.
        n_draws: normal draws of the simulated test (0 gives no interval).
        rng: random generator (consumed in order).
        kappa: moment-selection margin in SEs.

    Returns:
        ``(lo, hi)`` with ``0 <= lo <= gap <= hi <= 1``; NaN without draws or without a part
        holding two groups.
    """
    sizes = trials if standard_errors is None else standard_errors
    if sizes is None or (trials is not None and standard_errors is not None):
        raise ValueError("gap_interval needs exactly one of trials and standard_errors.")
    values, scales, parts = [], [], []
    start = 0
    for part_values, part_scale in zip(estimates, sizes, strict=True):
        part_values = np.asarray(part_values, dtype=np.float64)
        part_scale = np.asarray(part_scale, dtype=np.float64)
        keep = np.isfinite(part_values) & np.isfinite(part_scale)
        if trials is not None:
            keep &= part_scale > 0
        if keep.sum() < 2:
            continue
        values.append(part_values[keep])
        scales.append(part_scale[keep])
        parts.append(slice(start, start + int(keep.sum())))
        start += int(keep.sum())
    if not parts or n_draws <= 0:
        return float("nan"), float("nan")
    est, scale = np.concatenate(values), np.concatenate(scales)

    def errors_at(group_values: np.ndarray) -> np.ndarray:
        return rate_se(group_values, scale) if trials is not None else scale

    se = errors_at(est)
    z = z_value(alpha)
    gap, gap_se = _largest_range(est, parts, se)
    hi = float(np.minimum(gap + z * gap_se, 1.0))
    normal = rng.standard_normal((int(n_draws), est.shape[0]))
    rank = int(np.ceil((1.0 - alpha) * (n_draws + 1))) - 1  # the draws' (1 - alpha) quantile

    def accepted(g: float) -> bool:
        hypothesis = _configuration(est, se, parts, g, kappa)
        draws = hypothesis + normal * errors_at(hypothesis)
        gaps, gaps_se = _largest_range(draws, parts, se)
        # a draw whose upper bound misses g is a miss already: it counts as an infinite gap
        spent = np.where(gaps + z * gaps_se >= g, gaps, np.inf)
        return rank >= n_draws or bool(gap <= np.partition(spent, rank)[rank])

    if accepted(0.0):
        return 0.0, hi
    # the first accepted point of a coarse grid (the acceptance set's hull), then bisection
    grid = np.linspace(0.0, gap, 9)
    first = next((i for i in range(1, grid.shape[0]) if accepted(float(grid[i]))), None)
    if first is None:
        return float(gap), hi
    below, above = float(grid[first - 1]), float(grid[first])
    for _ in range(16):  # to gap / 8 / 2^16
        middle = 0.5 * (below + above)
        if accepted(middle):
            above = middle
        else:
            below = middle
    return above, hi


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
    min_group_size: int = MIN_GROUP_SIZE,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Metrics per group and fairness gaps for one sensitive attribute.

    Args:
        scores: all rows, sorted by score.
        logit_sorted: ``clipped_logit(p)`` in the same order.
        codes_sorted: group code of each row in the same order.
        labels: group label of each code.
        threshold: decision threshold (``p >= threshold`` is positive).
        alpha: miss rate of the intervals.
        n_resamples: bootstrap resamples and draws of the gap intervals (0 skips them).
        rng: random generator for this attribute.
        gap_tolerance: a gap above this is flagged.
        min_group_size: groups with fewer rows are reported but never flagged.

    Returns:
        ``(groups, fairness)``. ``groups`` is a list with, per group: ``group``, ``n``,
        ``share``, ``large_enough`` (``n >= min_group_size``), ``prevalence``, ``auc``,
        ``brier`` (normal interval), ``intercept`` and ``slope`` (recalibration, Wald),
        ``tpr``, ``fpr``, ``ppv``, ``selection_rate`` (Wilson) and ``net_benefit``
        (bootstrap), each ``{"estimate", "lo", "hi"}``. ``fairness`` is
        :func:`fairness_gaps` with the group AUCs.
    """
    n_groups = len(labels)
    sizes = np.bincount(codes_sorted, minlength=n_groups)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    # A stable sort by group keeps each group's rows in score order: contiguous sorted segments.
    # Small integer codes make numpy use an O(n) radix sort.
    small = codes_sorted.astype(code_dtype(n_groups), copy=False)
    perm = np.argsort(small, kind="stable")
    del small
    confusion = np.zeros((n_groups, 2, 2))
    auc_values = np.full(n_groups, np.nan)
    auc_errors = np.full(n_groups, np.nan)
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
        squared = np.subtract(sub.scores, sub.labels)
        np.square(squared, out=squared)
        brier_se = squared.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        row: dict[str, Any] = {
            "group": label,
            "n": n,
            "share": n / scores.n,
            "large_enough": bool(n >= min_group_size),
            "n_positive": n_pos,
            "prevalence": interval(n_pos / n, *wilson_interval(n_pos, n, alpha)),
            "brier": interval(squared.mean(), *normal_interval(squared.mean(), brier_se, alpha)),
        }
        if 0 < n_pos < n:
            auc = auc_delong(sub, alpha)
            row["auc"] = interval(auc["estimate"], auc["lo"], auc["hi"])
            auc_values[code], auc_errors[code] = auc["estimate"], auc["se"]
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

    resampled_nb = np.empty((n_resamples, n_groups))
    done = 0
    for weights in poisson_resamples(confusion, n_resamples, rng):
        part = slice(done, done + weights.shape[0])
        rows = weights.sum(axis=(-1, -2))
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled_nb[part] = net_benefit(
                weights[:, :, 1, 1], weights[:, :, 0, 1], rows, threshold
            )
        done += weights.shape[0]

    nb_lo, nb_hi = percentile_interval(resampled_nb, alpha)
    for code, row in enumerate(groups):
        for name in ("tpr", "fpr", "ppv", "selection_rate"):
            lo, hi = wilson_interval(successes[name][code], trials[name][code], alpha)
            row[name] = interval(point_rates[name][code], lo, hi)
        row["net_benefit"] = interval(point_nb[code], nb_lo[code], nb_hi[code])

    fairness = fairness_gaps(
        confusion,
        labels,
        threshold=threshold,
        alpha=alpha,
        n_draws=n_resamples,
        rng=rng,
        gap_tolerance=gap_tolerance,
        min_group_size=min_group_size,
        auc=auc_values,
        auc_se=auc_errors,
    )
    return groups, fairness


def fairness_gaps(
    confusion: np.ndarray,
    labels: list[str],
    *,
    threshold: float,
    alpha: float,
    n_draws: int,
    rng: np.random.Generator,
    gap_tolerance: float,
    min_group_size: int = MIN_GROUP_SIZE,
    auc: np.ndarray | None = None,
    auc_se: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fairness gaps of one attribute with intervals, judged on the large-enough groups.

    Args:
        confusion: ``(group, label, predicted)`` counts at the threshold.
        labels: group label of each row of ``confusion``.
        threshold: the decision threshold (reported).
        alpha: miss rate of the intervals.
        n_draws: draws of each :func:`gap_interval` (0 gives no intervals).
        rng: random generator (consumed in order).
        gap_tolerance: a gap among large-enough groups above this is flagged.
        min_group_size: smallest group (rows) that is judged; smaller ones are reported only.
        auc, auc_se: per-group AUC and DeLong SE (NaN where undefined); None skips the AUC gap.

    Returns:
        ``tolerance``, ``threshold``; ``equalized_odds_difference``,
        ``demographic_parity_difference``, ``tpr_difference`` and ``fpr_difference`` over all
        groups (as fairlearn), each ``{"estimate", "lo", "hi", "exceeds_tolerance"}`` where
        ``exceeds_tolerance`` is the large-groups verdict; ``auc_difference`` (with ``auc``,
        ``{"estimate", "lo", "hi"}``, never flagged); ``flagged`` (a gap among large-enough
        groups above the tolerance); ``min_group_size``; ``large_enough`` (group ->
        ``n >= min_group_size``); ``small_groups`` (labels below it); ``reportable`` (at least
        two large-enough groups, so that their gaps exist); ``large_groups``: the same gaps
        among the large-enough groups only (each with its own ``exceeds_tolerance``), the
        numbers the flag is based on.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    sizes = confusion.sum(axis=(1, 2))
    large = sizes >= min_group_size
    rates = _rates(confusion)
    trials = {
        "tpr": confusion[:, 1, :].sum(axis=1),
        "fpr": confusion[:, 0, :].sum(axis=1),
        "selection_rate": sizes,
    }

    def gaps_among(keep: np.ndarray) -> dict[str, Any]:
        point = _gaps({name: values[keep] for name, values in rates.items()})
        block: dict[str, Any] = {}
        for name, parts in GAP_RATES.items():
            lo, hi = gap_interval(
                [rates[part][keep] for part in parts],
                trials=[trials[part][keep] for part in parts],
                alpha=alpha,
                n_draws=n_draws,
                rng=rng,
            )
            value = point[name]
            exceeds = bool(np.isfinite(value) and value > gap_tolerance)
            block[name] = {**interval(value, lo, hi), "exceeds_tolerance": exceeds}
        if auc is not None:
            values = np.asarray(auc, dtype=np.float64)[keep]
            errors = np.asarray(auc_se, dtype=np.float64)[keep]
            lo, hi = gap_interval(
                [values], standard_errors=[errors], alpha=alpha, n_draws=n_draws, rng=rng
            )
            block["auc_difference"] = interval(_range(values), lo, hi)
        return block

    every = gaps_among(np.ones(sizes.shape[0], dtype=bool))
    judged = gaps_among(large) if not large.all() else {k: dict(v) for k, v in every.items()}
    fairness: dict[str, Any] = {"tolerance": float(gap_tolerance), "threshold": float(threshold)}
    for name in GAP_RATES:
        fairness[name] = {**every[name], "exceeds_tolerance": judged[name]["exceeds_tolerance"]}
    if "auc_difference" in every:
        fairness["auc_difference"] = every["auc_difference"]
    fairness["flagged"] = any(judged[name]["exceeds_tolerance"] for name in GAP_RATES)
    fairness["min_group_size"] = int(min_group_size)
    fairness["large_enough"] = {label: bool(ok) for label, ok in zip(labels, large, strict=True)}
    fairness["small_groups"] = [label for label, ok in zip(labels, large, strict=True) if not ok]
    fairness["reportable"] = int(large.sum()) >= 2
    fairness["large_groups"] = judged
    return fairness
