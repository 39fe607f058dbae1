"""Discrimination: ROC AUC with the fast DeLong interval, average precision, ROC and PR curves.

All functions work on the per-level counts of :class:`SortedScores` (one sort, then linear passes).
Convention everywhere: a row is predicted positive when ``p >= threshold``.
"""

from __future__ import annotations

import numpy as np

from .intervals import normal_interval
from .sorting import SortedScores


def delong_from_counts(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC and its DeLong variance from positive/negative counts per ascending score level.

    This is the fast DeLong algorithm of Sun & Xu (2014) written with counts: the midrank
    placement value of a positive at level ``k`` is ``V10 = (negatives below k + 0.5 *
    negatives at k) / n_neg`` and of a negative ``V01 = (positives above k + 0.5 * positives at
    k) / n_pos``; ``AUC = mean(V10)`` and ``Var = var(V10) / n_pos + var(V01) / n_neg``
    (sample variances, ddof=1). With one level per distinct score it is exact; with score bins
    as levels it is the AUC of the binned scores (ties inside a bin count one half).

    Args:
        pos: positives per level, ascending score; shape ``(..., levels)``.
        neg: negatives per level, same shape.

    Returns:
        ``(auc, variance)`` arrays of shape ``pos.shape[:-1]``; NaN where a class is absent
        (variance also NaN when a class has a single member).
    """
    pos = _counts_array(pos)
    neg = _counts_array(neg)
    m = pos.sum(axis=-1, keepdims=True, dtype=np.float64)
    n = neg.sum(axis=-1, keepdims=True, dtype=np.float64)
    # Three level-sized buffers reused in place (at 10^6 distinct scores each is 8 MB); the
    # arithmetic is that of the textbook expressions in the comments, operation for operation.
    with np.errstate(divide="ignore", invalid="ignore"):
        scratch = np.multiply(neg, 0.5, dtype=np.float64)
        v10 = np.cumsum(neg, axis=-1, dtype=np.float64)
        v10 -= scratch
        v10 /= n  # (cumsum(neg) - 0.5 neg) / n
        np.multiply(pos, 0.5, out=scratch)
        v01 = np.cumsum(pos, axis=-1, dtype=np.float64)
        np.subtract(m, v01, out=v01)
        v01 += scratch
        v01 /= m  # (m - cumsum(pos) + 0.5 pos) / m
        np.multiply(pos, v10, out=scratch)
        auc = scratch.sum(axis=-1, keepdims=True) / m  # mean(V10) over the positives
        v10 -= auc
        np.square(v10, out=v10)
        v10 *= pos
        s10 = v10.sum(axis=-1, keepdims=True) / (m - 1.0)  # sum(pos (v10 - auc)^2) / (m - 1)
        v01 -= auc
        np.square(v01, out=v01)
        v01 *= neg
        s01 = v01.sum(axis=-1, keepdims=True) / (n - 1.0)
        variance = s10 / m + s01 / n
    return auc[..., 0], variance[..., 0]


def _counts_array(counts: np.ndarray) -> np.ndarray:
    """Integer counts unchanged (exact in float64 arithmetic, no copy), anything else float64."""
    values = np.asarray(counts)
    return values if values.dtype.kind in "iub" else values.astype(np.float64, copy=False)


def auc_delong(scores: SortedScores, alpha: float = 0.05) -> dict[str, float]:
    """ROC AUC with its DeLong standard error and Wald interval (clipped to [0, 1]).

    Args:
        scores: sorted scores with level counts.
        alpha: miss rate of the two-sided interval.

    Returns:
        ``{"estimate", "se", "lo", "hi"}`` (floats, NaN when a class is missing).
    """
    auc, variance = delong_from_counts(scores.pos, scores.neg)
    se = float(np.sqrt(variance))
    lo, hi = normal_interval(auc, se, alpha)
    return {
        "estimate": float(auc),
        "se": se,
        "lo": float(np.clip(lo, 0.0, 1.0)),
        "hi": float(np.clip(hi, 0.0, 1.0)),
    }


def placement_values(scores: SortedScores) -> tuple[np.ndarray, np.ndarray]:
    """Per-row DeLong placement values in the ORIGINAL row order (for paired comparisons).

    Args:
        scores: sorted scores with level counts.

    Returns:
        ``(v10, v01)``: ``v10[i]`` is meaningful for positive rows, ``v01[i]`` for negative rows
        (the other entries hold the value their level would have, unused).
    """
    m, n = scores.n_pos, scores.n_neg
    neg = scores.neg.astype(np.float64)
    pos = scores.pos.astype(np.float64)
    v10_level = (np.cumsum(neg) - 0.5 * neg) / n
    v01_level = (m - np.cumsum(pos) + 0.5 * pos) / m
    sizes = np.diff(np.append(scores.level_starts, scores.n))
    level_of_sorted = np.repeat(np.arange(sizes.shape[0]), sizes)
    v10 = np.empty(scores.n)
    v01 = np.empty(scores.n)
    v10[scores.order] = v10_level[level_of_sorted]
    v01[scores.order] = v01_level[level_of_sorted]
    return v10, v01


def average_precision_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step-wise definition) from counts per ascending level.

    ``AP = sum_k (R_k - R_(k-1)) * P_k`` over thresholds taken from the highest score down,
    where a tie group (or a score bin) enters as one threshold.

    Args:
        pos: positives per level, ascending score; shape ``(..., levels)``.
        neg: negatives per level, same shape.

    Returns:
        AP of shape ``pos.shape[:-1]`` (NaN without positives).
    """
    pos = _counts_array(pos)[..., ::-1]
    neg = _counts_array(neg)[..., ::-1]
    # Two level-sized buffers, reused in place: precision = tp / predicted (0 where nothing is
    # predicted), then AP = sum(pos * precision) / sum(pos), operation for operation.
    tp = np.cumsum(pos, axis=-1, dtype=np.float64)
    predicted = np.cumsum(neg, axis=-1, dtype=np.float64)
    predicted += tp
    nothing = predicted > 0
    np.logical_not(nothing, out=nothing)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.divide(tp, predicted, out=tp)
        precision[nothing] = 0.0
        precision *= pos
        return precision.sum(axis=-1) / pos.sum(axis=-1, dtype=np.float64)


def average_precision(scores: SortedScores) -> float:
    """Average precision of the sorted scores (equals ``sklearn.metrics.average_precision_score``).

    Args:
        scores: sorted scores with level counts.
    """
    return float(average_precision_from_counts(scores.pos, scores.neg))


def roc_points(scores: SortedScores, max_points: int | None = None) -> dict[str, np.ndarray]:
    """ROC points, one per distinct score from the highest down, starting at (0, 0).

    With ``max_points=None`` this matches ``sklearn.metrics.roc_curve(...,
    drop_intermediate=False)``; the first threshold is ``inf`` (nothing predicted positive).

    Args:
        scores: sorted scores with level counts.
        max_points: if given, keep at most this many points (see :func:`downsample_curve`).

    Returns:
        ``{"fpr", "tpr", "thresholds"}`` arrays.
    """
    fpr = np.zeros(scores.pos.shape[0] + 1)
    tpr = np.zeros(scores.pos.shape[0] + 1)
    np.cumsum(scores.neg[::-1], out=fpr[1:])
    np.cumsum(scores.pos[::-1], out=tpr[1:])
    fpr /= scores.n_neg
    tpr /= scores.n_pos
    return _with_thresholds(scores, {"fpr": fpr, "tpr": tpr}, ("fpr", "tpr"), max_points)


def pr_points(scores: SortedScores, max_points: int | None = None) -> dict[str, np.ndarray]:
    """Precision-recall points from the highest score down, as ``sklearn`` computes them.

    Starts at (recall 0, precision 1) and has one point per distinct score (like
    ``sklearn.metrics.precision_recall_curve``, reversed into decreasing-threshold order).

    Args:
        scores: sorted scores with level counts.
        max_points: if given, keep at most this many points (see :func:`downsample_curve`).

    Returns:
        ``{"recall", "precision", "thresholds"}``; the first threshold is ``inf``.
    """
    recall = np.zeros(scores.pos.shape[0] + 1)
    precision = np.ones(scores.pos.shape[0] + 1)
    np.cumsum(scores.pos[::-1], out=recall[1:])
    np.cumsum(scores.neg[::-1], out=precision[1:])
    # precision = tp / (tp + fp), built in place from the two running counts.
    precision[1:] += recall[1:]
    np.divide(recall[1:], precision[1:], out=precision[1:])
    recall /= scores.n_pos
    curve = {"recall": recall, "precision": precision}
    return _with_thresholds(scores, curve, ("recall", "precision"), max_points)


def _with_thresholds(
    scores: SortedScores,
    curve: dict[str, np.ndarray],
    axes: tuple[str, str],
    max_points: int | None,
) -> dict[str, np.ndarray]:
    """Optionally down-sample a curve, then add the threshold of each kept point."""
    count = curve[axes[0]].shape[0]
    keep = (
        np.arange(count)
        if max_points is None
        else downsample_curve(curve[axes[0]], curve[axes[1]], max_points)
    )
    # Point k > 0 predicts positive the k highest levels: its threshold is level L - k.
    n_levels = scores.pos.shape[0]
    level = np.minimum(n_levels - keep, n_levels - 1)
    thresholds = np.where(keep == 0, np.inf, scores.scores[scores.level_starts[level]])
    result = {name: values[keep] for name, values in curve.items()}
    result["thresholds"] = thresholds
    return result


def downsample_curve(x: np.ndarray, y: np.ndarray, max_points: int = 200) -> np.ndarray:
    """Indices of at most ``max_points`` curve points, evenly spaced along the curve's length.

    Keeps the first and last point; spacing by arc length keeps corners where the curve bends
    instead of wasting points on long straight runs.

    Args:
        x: curve x coordinates (in drawing order).
        y: curve y coordinates.
        max_points: upper bound on the number of returned indices (>= 2).

    Returns:
        Sorted unique indices into ``x``/``y``.
    """
    count = x.shape[0]
    if count <= max_points:
        return np.arange(count)
    length = np.zeros(count)
    step = np.diff(x)
    np.hypot(step, np.diff(y), out=step)
    np.cumsum(step, out=length[1:])
    targets = np.linspace(0.0, length[-1], max_points)
    picked = np.searchsorted(length, targets, side="left")
    picked = np.clip(picked, 0, count - 1)
    picked[0], picked[-1] = 0, count - 1
    return np.unique(picked)
