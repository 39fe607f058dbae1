"""Metrics at a decision threshold, net benefit, decision curves and threshold choice.

Convention: a row is predicted positive when ``p >= threshold``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import MetricsInputError, as_labels, as_probabilities, check_both_classes
from ._format import interval
from .intervals import likelihood_ratio_intervals, wilson_interval
from .sorting import SortedScores

THRESHOLD_METHODS = ("fixed", "youden", "cost")


def confusion_counts(scores: SortedScores, threshold: float) -> dict[str, int]:
    """Confusion counts at ``threshold`` (``p >= threshold`` is predicted positive).

    Args:
        scores: sorted scores with level counts.
        threshold: decision threshold.

    Returns:
        ``{"tp", "fp", "tn", "fn"}`` as ints.
    """
    tp_at, fp_at = scores.counts_at_or_above(threshold)
    tp, fp = int(tp_at), int(fp_at)
    return {"tp": tp, "fp": fp, "tn": scores.n_neg - fp, "fn": scores.n_pos - tp}


def net_benefit(
    tp: np.ndarray | float, fp: np.ndarray | float, n: np.ndarray | float,
    threshold: np.ndarray | float,
) -> np.ndarray:
    """Net benefit ``TP/n - FP/n * t / (1 - t)`` (Vickers & Elkin 2006), vectorised.

    Args:
        tp: true positives at threshold ``t``.
        fp: false positives at threshold ``t``.
        n: number of rows.
        threshold: threshold probability ``t`` in (0, 1), the harm-to-benefit odds ``t/(1-t)``.
    """
    t = np.asarray(threshold, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(tp) - np.asarray(fp) * t / (1.0 - t)) / np.asarray(n)


def threshold_metrics(
    scores: SortedScores, threshold: float, alpha: float = 0.05
) -> dict[str, Any]:
    """Confusion counts and rates at a threshold, each rate with its Wilson interval.

    Args:
        scores: sorted scores with level counts.
        threshold: decision threshold in (0, 1).
        alpha: miss rate of the two-sided intervals.

    Returns:
        dict with ``threshold``; ``confusion`` (tp, fp, tn, fn); ``sensitivity`` (TPR),
        ``specificity`` (TNR), ``ppv`` (precision), ``npv``, ``accuracy`` and
        ``predicted_positive_rate`` as ``{"estimate", "lo", "hi"}`` with Wilson bounds;
        ``lr_positive`` and ``lr_negative`` with log-method bounds; ``net_benefit`` (point
        estimate only: the caller adds a bootstrap interval). Undefined values (e.g. PPV with
        nothing predicted positive) are ``None``.
    """
    counts = confusion_counts(scores, threshold)
    tp, fp, tn, fn = counts["tp"], counts["fp"], counts["tn"], counts["fn"]
    fractions = {
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "ppv": (tp, tp + fp),
        "npv": (tn, tn + fn),
        "accuracy": (tp + tn, scores.n),
        "predicted_positive_rate": (tp + fp, scores.n),
    }
    successes = np.array([value[0] for value in fractions.values()], dtype=np.float64)
    trials = np.array([value[1] for value in fractions.values()], dtype=np.float64)
    lo, hi = wilson_interval(successes, trials, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimates = successes / trials
    result: dict[str, Any] = {"threshold": float(threshold), "confusion": counts}
    for index, name in enumerate(fractions):
        result[name] = interval(estimates[index], lo[index], hi[index])
    ratios = likelihood_ratio_intervals(tp, fp, fn, tn, alpha)
    result["lr_positive"] = interval(*ratios["positive"])
    result["lr_negative"] = interval(*ratios["negative"])
    result["net_benefit"] = interval(net_benefit(tp, fp, scores.n, threshold))
    return result


def default_threshold_grid() -> np.ndarray:
    """Thresholds 0.01, 0.02, ..., 0.99 used for decision curves."""
    return np.round(np.arange(1, 100) / 100.0, 2)


def decision_curve(scores: SortedScores, thresholds: np.ndarray | None = None) -> dict[str, Any]:
    """Net benefit of the model, of treating everyone and of treating no one over thresholds.

    Args:
        scores: sorted scores with level counts.
        thresholds: threshold probabilities in (0, 1); default :func:`default_threshold_grid`.

    Returns:
        ``{"thresholds", "model", "treat_all", "treat_none"}`` lists of equal length.
    """
    grid = default_threshold_grid() if thresholds is None else np.asarray(thresholds, dtype=float)
    if grid.size and (grid.min() <= 0.0 or grid.max() >= 1.0):
        raise MetricsInputError("decision-curve thresholds must lie strictly between 0 and 1.")
    tp, fp = scores.counts_at_or_above(grid)
    model = net_benefit(tp, fp, scores.n, grid)
    treat_all = net_benefit(scores.n_pos, scores.n_neg, scores.n, grid)
    return {
        "thresholds": grid.tolist(),
        "model": model.tolist(),
        "treat_all": treat_all.tolist(),
        "treat_none": [0.0] * grid.shape[0],
    }


def choose_threshold(
    y: Any,
    p: Any,
    method: str,
    fixed: float = 0.5,
    cost_fp: float = 1.0,
    cost_fn: float = 1.0,
) -> float:
    """Choose a decision threshold on validation data (never on the test data you report).

    Args:
        y: 0/1 labels of the validation rows.
        p: predicted probabilities of class 1.
        method: ``"fixed"`` returns ``fixed``; ``"youden"`` maximises ``sensitivity +
            specificity - 1``; ``"cost"`` minimises ``cost_fp * FP + cost_fn * FN``.
        fixed: the threshold returned by ``"fixed"``.
        cost_fp: cost of one false positive (``"cost"`` only), > 0.
        cost_fn: cost of one false negative (``"cost"`` only), > 0.

    Returns:
        A threshold ``t``; predict positive when ``p >= t``. For ``"youden"`` and ``"cost"`` it
        is one of the observed scores (the highest one among equally good thresholds, i.e. the
        fewest positive predictions), or just above the maximum score when predicting no
        positive at all is cheapest.

    Raises:
        MetricsInputError: for an unknown method, non-positive costs or bad inputs.
    """
    if method not in THRESHOLD_METHODS:
        raise MetricsInputError(
            f"threshold method {method!r} is unknown; use one of {', '.join(THRESHOLD_METHODS)}."
        )
    if method == "fixed":
        return float(fixed)
    labels = as_labels(y)
    probs = as_probabilities(p, labels.shape[0])
    check_both_classes(labels)
    scores = SortedScores.build(labels, probs)
    # Candidate k predicts positive the levels k.. (top); candidate L (past the end) predicts none.
    tp = np.concatenate((np.cumsum(scores.pos[::-1])[::-1], [0])).astype(np.float64)
    fp = np.concatenate((np.cumsum(scores.neg[::-1])[::-1], [0])).astype(np.float64)
    candidates = np.append(scores.level_values, np.nextafter(scores.level_values[-1], np.inf))
    if method == "youden":
        objective = tp / scores.n_pos - fp / scores.n_neg
    else:
        if cost_fp <= 0 or cost_fn <= 0:
            raise MetricsInputError(
                f"cost_fp and cost_fn must be positive, got {cost_fp!r} and {cost_fn!r}."
            )
        objective = -(cost_fp * fp + cost_fn * (scores.n_pos - tp))
    best = np.flatnonzero(objective >= objective.max() - 1e-12 * max(1.0, abs(objective.max())))
    return float(candidates[best[-1]])
