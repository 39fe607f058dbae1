"""Label quality: conflicting duplicates, suspected label errors, agreement and corrections.

Typical use in the "label" stage::

    proba = out_of_fold_probabilities(X, y, make_pipeline)
    suspects = suspected_label_errors(y, proba, df[id_col])
    write_suspects_csv(suspects, "reports/label_suspects.csv")
    corrections = read_corrections("data/labels/corrections.csv")
    cleaned, applied = apply_corrections(df, corrections, id_col=id_col, target=target)
    report = label_quality_report(y, suspects, conflicts=..., corrections=applied)

Suspects are *candidates for human review*, never auto-corrected: a reviewer copies the ids
they confirm into the corrections CSV (versioned in git), which is the only thing that
changes labels.

Suspects come from confident learning, implemented here in numpy (no label-noise library at
run time). Binary targets are coded 0/1. scikit-learn is imported inside the functions that
need it so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..core.io import atomic_path

if TYPE_CHECKING:
    from ..core.settings import Settings

DUPLICATE_GROUP_COL = "duplicate_group"
CORRECTION_COLUMNS = ("id", "action", "label", "reason")
CORRECTION_ACTIONS = ("relabel", "exclude")
SUSPECT_COLUMNS = (
    "rank",
    "id",
    "given_label",
    "suggested_label",
    "p_given_label",
    "label_quality",
    "reason",
)
# Rules that decide which rows are suspects (see label_issue_mask); the first is the default.
LABEL_ISSUE_FILTERS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
)
SCORE_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
DETECTION_METHODS = ("confident_learning",)


class CorrectionsError(UserError, ValueError):
    """A corrections file is malformed or does not match the data it should correct."""


# --------------------------------------------------------------------------- duplicates


def conflicting_duplicates(
    df: pd.DataFrame, feature_cols: Sequence[str], target: str, id_col: str
) -> pd.DataFrame:
    """Rows whose feature values are identical but whose labels differ.

    Such rows cannot all be labelled correctly by any model on these features, so they are
    either label errors or a sign that an informative feature is missing.

    Args:
        df: Labelled data.
        feature_cols: Columns that define "identical"; NaN counts as equal to NaN.
        target: Label column. Rows with a missing label are ignored.
        id_col: Row identifier column, returned so reviewers can find the rows.

    Returns:
        Columns ``[id_col, "duplicate_group", target]``, one row per conflicting row, sorted
        by group then id. Rows sharing ``duplicate_group`` have identical features.
        Empty (same columns) when there are no conflicts.
    """
    _require_columns(df, [*feature_cols, target, id_col], "conflicting_duplicates")
    if not feature_cols:
        raise ValueError("conflicting_duplicates: feature_cols is empty; pass the feature columns.")
    labelled = df.loc[df[target].notna(), [id_col, target, *feature_cols]]
    # dropna=False keeps NaN as its own key value, so NaN == NaN for grouping purposes.
    group = labelled.groupby(list(feature_cols), dropna=False, sort=False).ngroup()
    n_labels = labelled[target].groupby(group).transform("nunique")
    conflicts = labelled.loc[n_labels > 1, [id_col, target]].copy()
    conflicts.insert(1, DUPLICATE_GROUP_COL, group[n_labels > 1].to_numpy())
    # Renumber groups 0..k-1 so the output does not depend on unrelated rows.
    conflicts[DUPLICATE_GROUP_COL] = pd.factorize(conflicts[DUPLICATE_GROUP_COL])[0]
    return conflicts.sort_values([DUPLICATE_GROUP_COL, id_col], kind="mergesort").reset_index(
        drop=True
    )


# --------------------------------------------------------------- out-of-fold predictions


def out_of_fold_probabilities(
    X: pd.DataFrame,
    y: Sequence[Any] | np.ndarray | pd.Series,
    make_pipeline: Callable[[], Any],
    n_splits: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Predicted class probabilities for every row from a model that never saw that row.

    Label-error detection needs out-of-fold probabilities: in-sample probabilities have
    memorised the (possibly wrong) labels.

    Args:
        X: Feature frame (raw; preprocessing belongs in the pipeline).
        y: Labels, same length as ``X``.
        make_pipeline: Zero-argument factory returning an unfitted scikit-learn classifier
            with ``predict_proba`` (preprocessing lives in the caller's package).
        n_splits: Number of stratified folds (>= 2, <= size of the smallest class).
        seed: Seed of the fold shuffling.

    Returns:
        Array of shape ``(n_rows, n_classes)``; column order is the sorted class labels.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y_arr = np.asarray(y)
    if len(X) != len(y_arr):
        raise ValueError(f"out_of_fold_probabilities: X has {len(X)} rows but y has {len(y_arr)}.")
    if pd.isna(y_arr).any():
        raise ValueError(
            "out_of_fold_probabilities: y contains missing labels; drop unlabelled rows first."
        )
    _, counts = np.unique(y_arr, return_counts=True)
    if len(counts) < 2:
        raise ValueError("out_of_fold_probabilities: y has a single class; need at least two.")
    if not 2 <= n_splits <= counts.min():
        raise ValueError(
            f"out_of_fold_probabilities: n_splits={n_splits} must be between 2 and the size of "
            f"the smallest class ({counts.min()}); lower n_splits or collect more labels."
        )
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return cross_val_predict(make_pipeline(), X, y_arr, cv=cv, method="predict_proba")


# ------------------------------------------------------------- confident learning
#
# Confident learning (Northcutt, Jiang & Chuang 2021, "Confident learning: estimating
# uncertainty in dataset labels", JAIR 70:1373), written here in numpy so that the runtime
# needs no label-noise library. It reproduces cleanlab 2.x's ``filter.find_label_issues`` and
# ``rank.get_label_quality_scores`` (the project's tests compare the two on several data sets).
# They can differ only on exact ties (equal scores at a ranking cut, equal remainders when
# rounding the calibrated joint): cleanlab leaves those to numpy's default sort, which is not
# stable and depends on the CPU; here ties go by position (earlier rows are flagged first),
# the same on every machine.
#
# Labels are integer codes 0..K-1 and every class occurs; ``proba`` rows sum to 1.

# Fuzzy comparison: a probability within this of a threshold counts as reaching it, and a
# prediction this close to the given label counts as agreeing with it.
_FUZZ = 1e-6
_THRESHOLD_FLOOR = 2 * _FUZZ  # a class threshold is never 0 (nothing would be unconfident)
_TINY = 1e-100  # guards divisions by an empty row of the confident joint


def confident_thresholds(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per-class thresholds: the mean predicted probability of class k over rows labelled k.

    Args:
        labels: Integer label codes 0..K-1, every class present.
        proba: Out-of-fold probabilities, shape ``(n, K)``.

    Returns:
        Array of K thresholds (at least ``2e-6``).
    """
    means = [proba[labels == k, k].mean() for k in range(proba.shape[1])]
    return np.clip(means, _THRESHOLD_FLOOR, None)


def confident_joint(
    labels: np.ndarray, proba: np.ndarray, *, calibrate: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of (given label, confidently predicted true label) and the off-diagonal rows.

    A row is *confidently* of class j when ``proba[:, j]`` reaches class j's threshold; with
    several such classes the most probable one is taken, with none the row is not counted.

    Args:
        labels: Integer label codes 0..K-1, every class present.
        proba: Out-of-fold probabilities, shape ``(n, K)``.
        calibrate: Rescale each row to the number of rows with that given label (rounded to
            integers that keep the row totals), the estimate of the joint's counts.

    Returns:
        ``(joint, off_diagonal)``: the ``(K, K)`` integer matrix indexed [given, true] (its
        diagonal is at least 1 before calibration), and a boolean mask of the rows counted
        off the diagonal (confidently of another class than their given one).
    """
    n_classes = proba.shape[1]
    confident = proba >= confident_thresholds(labels, proba) - _FUZZ
    n_confident = confident.sum(axis=1)
    guess = np.where(n_confident > 1, proba.argmax(axis=1), confident.argmax(axis=1))
    counted = n_confident > 0
    joint = np.bincount(
        labels[counted] * n_classes + guess[counted], minlength=n_classes * n_classes
    ).reshape(n_classes, n_classes)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    if calibrate:
        counts = np.bincount(labels, minlength=n_classes)
        scaled = (joint.T / np.clip(joint.sum(axis=1), _TINY, None) * counts).T
        scaled = scaled / np.clip(scaled.sum(), _TINY, None) * counts.sum()
        joint = np.array([_round_preserving_sum(row) for row in scaled])
    return joint, counted & (guess != labels)


def label_issue_mask(
    labels: np.ndarray, proba: np.ndarray, *, filter_by: str = "prune_by_noise_rate"
) -> np.ndarray:
    """Boolean mask of rows whose given label is likely wrong (confident learning).

    Rules (``filter_by``), all from the confident joint ``C`` of :func:`confident_joint`:

    * ``prune_by_noise_rate``: for each given class k and other class j, the ``C[k, j]``
      rows labelled k with the largest margin ``proba[:, j] - proba[:, k]``;
    * ``prune_by_class``: for each class k, the ``n_k - C[k, k]`` rows labelled k with the
      lowest ``proba[:, k]``;
    * ``both``: rows flagged by both of the above;
    * ``confident_learning``: the off-diagonal rows of the confident joint;
    * ``predicted_neq_given``: rows whose most probable class is not the given one;
    * ``low_self_confidence`` / ``low_normalized_margin``: as many rows as
      ``confident_learning`` flags, those with the lowest score of that name.

    ``C`` is calibrated for the three ``prune_*`` rules, with every diagonal count raised to
    at least 1 (taken evenly from the row's other non-zero counts); classes with a single row
    are never pruned. Except for the two ``low_*`` rules, rows whose given label is within
    1e-6 of the top probability are then unflagged. Ties in a ranking go to the earlier row.

    Args:
        labels: Integer label codes 0..K-1, every class present.
        proba: Out-of-fold probabilities, shape ``(n, K)``.
        filter_by: One of ``LABEL_ISSUE_FILTERS``.

    Returns:
        Boolean array of length n, True = suspected label error.
    """
    if filter_by not in LABEL_ISSUE_FILTERS:
        raise ValueError(
            f"label_issue_mask: filter_by={filter_by!r} unknown; use one of "
            f"{', '.join(LABEL_ISSUE_FILTERS)}."
        )
    n_rows, n_classes = proba.shape
    agrees = _agrees_with_prediction(labels, proba)
    if filter_by == "predicted_neq_given":
        return (proba.argmax(axis=1) != labels) & ~agrees
    if filter_by in ("confident_learning", "low_self_confidence", "low_normalized_margin"):
        _, off_diagonal = confident_joint(labels, proba, calibrate=False)
        issues = off_diagonal & ~agrees
        if filter_by == "confident_learning":
            return issues
        scores = label_quality_scores(labels, proba, method=filter_by.removeprefix("low_"))
        return _lowest(scores, int(issues.sum()))

    joint, _ = confident_joint(labels, proba, calibrate=True)
    prune = _keep_one_per_class(joint)
    by_class = np.zeros(n_rows, dtype=bool)
    by_noise = np.zeros(n_rows, dtype=bool)
    for k in range(n_classes):
        rows = np.flatnonzero(labels == k)
        if len(rows) <= 1:
            continue  # a class of one row is never emptied
        p = proba[rows]
        by_class[rows] = _lowest(p[:, k], len(rows) - prune[k, k])
        flagged = np.zeros(len(rows), dtype=bool)
        for j in range(n_classes):
            if j != k and prune[k, j] > 0:
                flagged |= _lowest(-(p[:, j] - p[:, k]), prune[k, j])
        by_noise[rows] = flagged
    issues = {"prune_by_class": by_class, "prune_by_noise_rate": by_noise}.get(
        filter_by, by_class & by_noise
    )
    return issues & ~agrees


def label_quality_scores(
    labels: np.ndarray, proba: np.ndarray, *, method: str = "self_confidence"
) -> np.ndarray:
    """Per-row label quality in [0, 1] (low = likely wrong).

    * ``self_confidence``: ``proba`` of the given label;
    * ``normalized_margin``: ``(p_given - max p_other + 1) / 2``;
    * ``confidence_weighted_entropy``: ``log(1 + s) / s`` with ``s`` = normalised entropy of
      the row divided by its self-confidence (both floored at 1e-6).

    Args:
        labels: Integer label codes 0..K-1.
        proba: Out-of-fold probabilities, shape ``(n, K)``.
        method: One of ``SCORE_METHODS``.

    Returns:
        Array of n scores.
    """
    if method not in SCORE_METHODS:
        raise ValueError(
            f"label_quality_scores: method={method!r} unknown; use one of "
            f"{', '.join(SCORE_METHODS)}."
        )
    rows = np.arange(len(labels))
    self_confidence = proba[rows, labels]
    if method == "self_confidence":
        return self_confidence
    if method == "normalized_margin":
        others = proba.copy()
        others[rows, labels] = -np.inf
        return (self_confidence - others.max(axis=1) + 1) / 2
    positive = proba > 0
    plogp = np.where(positive, proba * np.log(np.where(positive, proba, 1.0)), 0.0)
    entropy = -plogp.sum(axis=1) / np.log(proba.shape[1])
    ratio = entropy / np.clip(self_confidence, _FUZZ, None)
    return np.log(ratio + 1) / np.clip(ratio, _FUZZ, None)


def _agrees_with_prediction(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Rows whose given label is the top class once it gets a 1e-6 head start."""
    nudged = proba.copy()
    nudged[np.arange(len(labels)), labels] += _FUZZ
    return nudged.argmax(axis=1) == labels


def _keep_one_per_class(joint: np.ndarray) -> np.ndarray:
    """The calibrated joint with each diagonal count raised to at least 1.

    What a diagonal count gains is taken evenly from the non-zero counts of its row (clipped
    at 0), and counts are then truncated to integers.
    """
    counts = joint.astype(float)
    diagonal = joint.diagonal()
    raised = np.maximum(diagonal, 1)
    n_other = np.maximum(np.count_nonzero(joint, axis=1) - 1.0, 1.0)
    counts = counts - ((raised - diagonal) / n_other)[:, None]
    counts[counts < 0] = 0
    np.fill_diagonal(counts, raised)
    return counts.astype(int)


def _round_preserving_sum(values: np.ndarray) -> np.ndarray:
    """Round to integers whose sum is the rounded sum, moving the largest remainders."""
    ints = values.round()
    target = values.sum().round()
    while abs(ints.sum().round() - target) > _FUZZ:
        step = 1 if target > ints.sum().round() else -1
        changes = min(int(abs(np.round(target - ints.sum().round()))), len(values))
        order = np.argsort(values - ints, kind="stable")[::-step][:changes]
        ints[order] += step
    return ints.astype(int)


def _lowest(values: np.ndarray, m: int) -> np.ndarray:
    """Mask of the ``m`` smallest values; among equal values the earlier rows win. O(n)."""
    n = len(values)
    m = max(0, min(int(m), n))
    if m == 0 or m == n:
        return np.full(n, m == n, dtype=bool)
    cut = np.partition(values, m - 1)[m - 1]
    mask = values < cut
    mask[np.flatnonzero(values == cut)[: m - int(mask.sum())]] = True
    return mask


# ------------------------------------------------------------------ suspected label errors


def suspected_label_errors(
    y: Sequence[Any] | np.ndarray | pd.Series,
    oof_proba: np.ndarray,
    ids: Sequence[Any] | np.ndarray | pd.Series,
    *,
    method: str = "confident_learning",
    filter_by: str = "prune_by_noise_rate",
    score_method: str = "self_confidence",
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Rows whose given label disagrees with out-of-fold predictions (confident learning).

    Flags rows with :func:`label_issue_mask` and scores them with
    :func:`label_quality_scores` (numpy implementations of confident learning).

    Args:
        y: Given labels, same order as ``oof_proba`` rows.
        oof_proba: Out-of-fold probabilities, shape ``(n, n_classes)``, columns in sorted
            label order (as returned by :func:`out_of_fold_probabilities`).
        ids: Row identifiers, same length as ``y``.
        method: Detector; only ``"confident_learning"`` is implemented.
        filter_by: Rule deciding the suspects, one of ``LABEL_ISSUE_FILTERS``.
        score_method: Label-quality score, one of ``SCORE_METHODS``.
        n_jobs: Ignored (the computation is vectorised in one process); kept so existing
            calls keep working.

    Returns:
        One row per suspect with columns ``SUSPECT_COLUMNS``, sorted by ``label_quality``
        ascending (most suspicious first). ``p_given_label`` is the out-of-fold probability
        of the given label; ``label_quality`` is in [0, 1], low = likely wrong.
    """
    del n_jobs
    if method not in DETECTION_METHODS:
        raise ValueError(
            f"suspected_label_errors: method={method!r} unknown; use 'confident_learning'."
        )
    if filter_by not in LABEL_ISSUE_FILTERS:
        raise ValueError(
            f"suspected_label_errors: filter_by={filter_by!r} unknown; use one of "
            f"{', '.join(LABEL_ISSUE_FILTERS)}."
        )
    if score_method not in SCORE_METHODS:
        raise ValueError(
            f"suspected_label_errors: score_method={score_method!r} unknown; use one of "
            f"{', '.join(SCORE_METHODS)}."
        )

    y_arr = np.asarray(y)
    ids_arr = np.asarray(ids)
    proba = np.asarray(oof_proba, dtype=float)
    if proba.ndim != 2 or len(proba) != len(y_arr) or len(ids_arr) != len(y_arr):
        raise ValueError(
            f"suspected_label_errors: need y ({len(y_arr)}), ids ({len(ids_arr)}) and "
            f"oof_proba rows ({proba.shape[0] if proba.ndim else 0}) of equal length and a 2-D "
            "oof_proba; pass the output of out_of_fold_probabilities for the same rows."
        )
    classes, codes = np.unique(y_arr, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("suspected_label_errors: y has a single class; need at least two.")
    if len(classes) != proba.shape[1]:
        raise ValueError(
            f"suspected_label_errors: y has {len(classes)} classes but oof_proba has "
            f"{proba.shape[1]} columns; every class must occur in y."
        )
    if not np.isfinite(proba).all() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(
            "suspected_label_errors: oof_proba rows must be finite and sum to 1 "
            "(use predict_proba output)."
        )

    is_issue = label_issue_mask(codes, proba, filter_by=filter_by)
    quality = label_quality_scores(codes, proba, method=score_method)
    rows = np.flatnonzero(is_issue)
    given = codes[rows]
    suggested = proba[rows].argmax(axis=1)
    p_given = proba[rows, given]
    p_suggested = proba[rows, suggested]
    reasons = [
        f"given {classes[g]!s} but out-of-fold P({classes[g]!s})={pg:.3f}; "
        f"model suggests {classes[s]!s} (P={ps:.3f})"
        for g, s, pg, ps in zip(given, suggested, p_given, p_suggested, strict=True)
    ]
    suspects = pd.DataFrame(
        {
            "id": ids_arr[rows],
            "given_label": classes[given],
            "suggested_label": classes[suggested],
            "p_given_label": p_given,
            "label_quality": quality[rows],
            "reason": reasons,
        },
        columns=[c for c in SUSPECT_COLUMNS if c != "rank"],
    )
    suspects = suspects.sort_values("label_quality", kind="mergesort").reset_index(drop=True)
    suspects.insert(0, "rank", np.arange(1, len(suspects) + 1))
    return suspects


# ------------------------------------------------------------------ what to review first
#
# Confident learning says which labels disagree with the features, not how many of them are
# wrong: with a noisy outcome (most clinical ones) many correct labels disagree too, and
# 1 - P(given label) counts those as errors (on the synthetic data it expects 80% of the
# suspects to be wrong where 27% are). The share of real errors needs a model of the errors:
# labels flipped at random at a rate rho, independent of the features and of the class
# (symmetric noise). Then P(observed 1 | x) = rho + (1 - 2 rho) eta(x) with eta the clean
# risk, and a row labelled g is wrong with probability
#     P(wrong | x, g=1) = rho (1 - eta) / P(observed 1 | x),
#     P(wrong | x, g=0) = rho eta / P(observed 0 | x).
# rho is estimated by maximum likelihood in that model, with eta = sigmoid(a + b s) of the
# out-of-fold logit s (the contaminated logistic regression of Copas 1988, JRSS B 50:225):
# the floor and ceiling the flips put on P(observed 1 | x) identify it. It is a model-based
# estimate: a weak or misspecified model inflates rho (the fit cannot tell a flat link from a
# floor), so the expected share is an upper-side guide, checked against the synthetic data's
# recorded flips in the project's tests.

MIN_REVIEW_SHARE = 0.5  # review first: the rows where, on average, at least every other is wrong


def noise_model(labels: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The random-flip model of the labels, fitted by maximum likelihood (binary labels).

    Args:
        labels: 0/1 labels.
        proba: out-of-fold probabilities, shape ``(n, 2)``.

    Returns:
        ``rho`` (the estimated flip rate, in [0, 0.5)), ``intercept`` and ``slope`` of the
        clean risk ``eta = sigmoid(intercept + slope * s)`` on the out-of-fold logit ``s``.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(labels, dtype=float)
    score = _logit_of_positive(proba)

    def negative_log_likelihood(theta: np.ndarray) -> float:
        rho = 0.5 * expit(theta[0])
        q = np.clip(rho + (1 - 2 * rho) * expit(theta[1] + theta[2] * score), 1e-12, 1 - 1e-12)
        return float(-np.sum(y * np.log(q) + (1 - y) * np.log1p(-q)))

    # the likelihood has local optima in rho: start from a low, a middle and a high rate
    fits = [minimize(negative_log_likelihood, np.array([start, 0.0, 1.0]), method="L-BFGS-B")
            for start in (-6.0, -3.0, -1.5)]
    best = min(fits, key=lambda fit: fit.fun)
    return {"rho": float(0.5 * expit(best.x[0])), "intercept": float(best.x[1]),
            "slope": float(best.x[2])}


def error_probability(labels: np.ndarray, proba: np.ndarray,
                      model: dict[str, float]) -> np.ndarray:
    """Per row, the probability that its label is one of the random flips (binary labels).

    Args:
        labels: 0/1 labels.
        proba: out-of-fold probabilities, shape ``(n, 2)``.
        model: :func:`noise_model`'s fit.
    """
    from scipy.special import expit

    rho = model["rho"]
    clean = expit(model["intercept"] + model["slope"] * _logit_of_positive(proba))
    observed = rho + (1 - 2 * rho) * clean  # P(observed 1 | x), at least rho: no ratio over 1
    return np.where(np.asarray(labels) == 1, rho * (1 - clean) / observed,
                    rho * clean / (1 - observed))


def _logit_of_positive(proba: np.ndarray) -> np.ndarray:
    from scipy.special import logit

    return np.asarray(logit(np.clip(np.asarray(proba, dtype=float)[:, 1], 1e-9, 1 - 1e-9)))


def review_first(p_wrong: np.ndarray, *, rho: float,
                 min_share: float = MIN_REVIEW_SHARE) -> dict[str, Any]:
    """How many of the ranked suspects to review first, and the share of real errors expected.

    Args:
        p_wrong: :func:`error_probability` of the suspects, in their rank order.
        rho: the flip rate the probabilities assume (:func:`noise_model`).
        min_share: the expected share of real errors the first ``k`` must keep.

    Returns:
        ``k`` (the most suspects whose expected share of real errors is at least
        ``min_share``; 0 when not even the first reaches it), ``expected_true_error_share``
        among them (None for none), ``expected_true_errors`` (their sum),
        ``expected_share_all_suspects``, ``min_share``, ``noise_rate`` and ``assumption``.
    """
    p = np.asarray(p_wrong, dtype=float)
    share = np.cumsum(p) / np.arange(1, len(p) + 1) if len(p) else np.zeros(0)
    meets = np.flatnonzero(share >= min_share)
    k = int(meets[-1] + 1) if len(meets) else 0
    return {
        "k": k,
        "expected_true_error_share": float(share[k - 1]) if k else None,
        "expected_true_errors": float(p[:k].sum()),
        "expected_share_all_suspects": float(share[-1]) if len(p) else None,
        "min_share": min_share,
        "noise_rate": rho,
        "assumption": (
            "labels flipped at random at one rate, whatever the features and the class "
            f"(estimated: {rho:.1%} of labels), and out-of-fold probabilities that are "
            "calibrated; a weak model makes the estimate high"
        ),
    }


def detection_scores(
    suspected_ids: Iterable[Any], true_flipped_ids: Iterable[Any]
) -> dict[str, float | int]:
    """Precision/recall of a label-error detector against known (injected) errors.

    Args:
        suspected_ids: Ids the detector flagged.
        true_flipped_ids: Ids whose labels are known to be wrong.

    Returns:
        ``precision``, ``recall``, ``f1`` (0.0 when undefined, as sklearn's
        ``zero_division=0``), ``n_suspected``, ``n_flipped`` and ``n_true_positive``.
    """
    suspected = set(suspected_ids)
    flipped = set(true_flipped_ids)
    tp = len(suspected & flipped)
    precision = tp / len(suspected) if suspected else 0.0
    recall = tp / len(flipped) if flipped else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "n_suspected": len(suspected),
        "n_flipped": len(flipped),
        "n_true_positive": tp,
    }


# ------------------------------------------------------------------------ agreement


def label_agreement(
    a: Sequence[Any] | np.ndarray | pd.Series,
    b: Sequence[Any] | np.ndarray | pd.Series,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Agreement between two labelings of the same items (e.g. two annotators).

    Kappa is ``sklearn.metrics.cohen_kappa_score``. Its standard error is the large-sample
    (non-null) formula of Fleiss, Cohen & Everitt (1969, Psychol. Bull. 72:323), as in
    Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions* (3rd ed., 18.1),
    with p_ij the joint proportions, p_i. / p_.j the margins of a / b:

        var = [ sum_i p_ii ((1 - pe) - (p_.i + p_i.)(1 - po))^2
                + (1 - po)^2 sum_(i != j) p_ij (p_.i + p_j.)^2
                - (po pe - 2 pe + po)^2 ] / (n (1 - pe)^4)

    The CI is the Wald interval kappa +/- z * se, clipped to [-1, 1]; it is approximate and
    too narrow for small n (< ~50 items) or kappa near 1.

    Args:
        a: Labels from the first rater.
        b: Labels from the second rater, same items in the same order.
        confidence: Two-sided confidence level of the interval, in (0, 1).

    Returns:
        ``n``, ``kappa``, ``kappa_se``, ``kappa_ci_low``, ``kappa_ci_high``, ``confidence``,
        ``observed_agreement``, ``expected_agreement`` and ``confusion`` =
        ``{"labels": [...], "counts": [[...]]}`` (rows = a, columns = b). Kappa and its CI
        are NaN when chance agreement is 1 (both raters used one and the same label).
    """
    from sklearn.metrics import cohen_kappa_score

    from ..metrics.intervals import normal_interval

    a_arr, b_arr = np.asarray(a), np.asarray(b)
    if len(a_arr) != len(b_arr) or len(a_arr) == 0:
        raise ValueError(
            f"label_agreement: a ({len(a_arr)}) and b ({len(b_arr)}) must be non-empty and "
            "rate the same items."
        )
    if pd.isna(a_arr).any() or pd.isna(b_arr).any():
        raise ValueError("label_agreement: missing labels; keep only items both raters labelled.")
    if not 0 < confidence < 1:
        raise ValueError(f"label_agreement: confidence={confidence} must be in (0, 1).")

    labels, codes = np.unique(np.concatenate([a_arr, b_arr]), return_inverse=True)
    k = len(labels)
    code_a, code_b = codes[: len(a_arr)], codes[len(a_arr) :]
    counts = np.bincount(code_a * k + code_b, minlength=k * k).reshape(k, k)
    n = int(counts.sum())
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)  # p_i. (rater a), p_.j (rater b)
    po = float(np.trace(p))
    pe = float(rows @ cols)

    if math.isclose(pe, 1.0):
        kappa = se = low = high = math.nan
    else:
        kappa = float(cohen_kappa_score(a_arr, b_arr, labels=labels))
        diag = np.diag(p)
        term_diag = np.sum(diag * ((1 - pe) - (cols + rows) * (1 - po)) ** 2)
        # Off-diagonal cell (i, j) weighs (p_.i + p_j.)^2.
        weight = (cols[:, None] + rows[None, :]) ** 2
        off = p * weight
        term_off = (1 - po) ** 2 * (off.sum() - np.trace(off))
        term_corr = (po * pe - 2 * pe + po) ** 2
        var = (term_diag + term_off - term_corr) / (n * (1 - pe) ** 4)
        se = math.sqrt(max(float(var), 0.0))
        wald_low, wald_high = normal_interval(kappa, se, 1.0 - confidence)
        low, high = max(-1.0, float(wald_low)), min(1.0, float(wald_high))

    return {
        "n": n,
        "kappa": kappa,
        "kappa_se": se,
        "kappa_ci_low": low,
        "kappa_ci_high": high,
        "confidence": confidence,
        "observed_agreement": po,
        "expected_agreement": pe,
        "confusion": {"labels": labels.tolist(), "counts": counts.tolist()},
    }


# ---------------------------------------------------------------------- corrections


def read_corrections(path: str | Path) -> pd.DataFrame:
    """Read a corrections CSV (columns ``id, action, label, reason``) as strings.

    Args:
        path: CSV file. A missing file, an empty file or a header-only file all mean
            "no corrections".

    Returns:
        Frame with exactly the columns ``CORRECTION_COLUMNS`` (string dtype, whitespace
        stripped); ``attrs["source"]`` holds the path for error messages.
    """
    path = Path(path)
    empty = pd.DataFrame({c: pd.Series([], dtype=str) for c in CORRECTION_COLUMNS})
    empty.attrs["source"] = str(path)
    if not path.exists() or path.stat().st_size == 0:
        return empty
    # Everything as text, and "" stays "" (not NaN), so validation sees what was typed.
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in CORRECTION_COLUMNS if c not in raw.columns]
    if missing:
        raise CorrectionsError(
            f"Corrections file {path}: missing column(s) {missing}; the header must be "
            f"'{','.join(CORRECTION_COLUMNS)}'."
        )
    if raw.empty:
        return empty
    corrections = raw[list(CORRECTION_COLUMNS)].apply(lambda col: col.str.strip())
    corrections.attrs["source"] = str(path)
    return corrections


def apply_corrections(
    df: pd.DataFrame,
    corrections: pd.DataFrame,
    id_col: str,
    target: str,
    *,
    source: str | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validate and apply reviewed label corrections.

    Every problem in the file is collected and reported at once, each with its CSV line
    number (header = line 1), so a reviewer can fix the file in one pass.

    Args:
        df: Labelled data; ``id_col`` must be unique.
        corrections: Output of :func:`read_corrections` (columns ``id, action, label,
            reason``). ``action`` is ``relabel`` (``label`` must be 0 or 1) or ``exclude``
            (row is dropped; ``label`` ignored). ``reason`` must be non-empty: the file is
            the audit trail of every label change.
        id_col: Id column of ``df`` matched (as text) against the corrections' ``id``.
        target: Label column to overwrite.
        source: Name of the corrections file for messages; defaults to
            ``corrections.attrs["source"]``.

    Returns:
        The corrected copy of ``df`` (excluded rows removed, index reset) and counts
        ``relabelled`` (label actually changed), ``relabel_unchanged`` (already had that
        label), ``excluded``, ``n_rows_before``, ``n_rows_after``.
    """
    source = source or corrections.attrs.get("source", "<corrections frame>")
    _require_columns(df, [id_col, target], "apply_corrections")
    missing = [c for c in CORRECTION_COLUMNS if c not in corrections.columns]
    if missing:
        raise CorrectionsError(
            f"Corrections file {source}: missing column(s) {missing}; the header must be "
            f"'{','.join(CORRECTION_COLUMNS)}'."
        )
    data_ids = df[id_col].astype(str)
    if data_ids.duplicated().any():
        dup = data_ids[data_ids.duplicated()].unique()[:5].tolist()
        raise CorrectionsError(
            f"apply_corrections: id column '{id_col}' is not unique (e.g. {dup}); corrections "
            "need one row per id - deduplicate the data first."
        )
    counts = {
        "relabelled": 0,
        "relabel_unchanged": 0,
        "excluded": 0,
        "n_rows_before": len(df),
        "n_rows_after": len(df),
    }
    if corrections.empty:
        return df.copy(), counts

    corr = corrections[list(CORRECTION_COLUMNS)].astype(str).apply(lambda col: col.str.strip())
    action = corr["action"].str.lower()
    known = set(data_ids)
    problems: list[str] = []
    seen: dict[str, int] = {}
    new_labels: dict[str, int] = {}
    for pos, (cid, act, label, reason) in enumerate(
        zip(corr["id"], action, corr["label"], corr["reason"], strict=True)
    ):
        where = f"row {pos + 1} (line {pos + 2}, id={cid!r})"
        if cid == "":
            problems.append(f"{where}: empty id; fill in the '{id_col}' of the row to correct.")
            continue
        if cid in seen:
            problems.append(
                f"{where}: id already corrected at row {seen[cid] + 1}; keep one row per id."
            )
        seen.setdefault(cid, pos)
        if cid not in known:
            problems.append(
                f"{where}: id not found in column '{id_col}' of the data; fix the id or delete "
                "the row."
            )
        if act not in CORRECTION_ACTIONS:
            problems.append(f"{where}: action {act!r} unknown; use 'relabel' or 'exclude'.")
        elif act == "relabel":
            parsed = _parse_binary_label(label)
            if parsed is None:
                problems.append(f"{where}: relabel needs label 0 or 1, got {label!r}.")
            else:
                new_labels[cid] = parsed
        if reason == "":
            problems.append(f"{where}: empty reason; say why the label is changed.")
    if problems:
        shown = problems[:20]
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CorrectionsError(
            f"Corrections file {source} has {len(problems)} problem(s):\n  "
            + "\n  ".join(shown)
            + more
        )

    out = df.copy()
    to_relabel = data_ids.map(new_labels)
    mask = to_relabel.notna().to_numpy()
    new = to_relabel[mask].astype(int).to_numpy()
    # Numeric comparison so a text label "1" counts as unchanged by a relabel to 1.
    old = pd.to_numeric(out.loc[mask, target], errors="coerce").to_numpy(dtype=float)
    unchanged = int(np.sum(old == new))
    new_col = out[target].astype(object)
    new_col[mask] = new
    out[target] = _restore_dtype(new_col, df[target].dtype)
    exclude_ids = set(corr.loc[action == "exclude", "id"])
    out = out.loc[~data_ids.isin(exclude_ids).to_numpy()].reset_index(drop=True)

    counts.update(
        relabelled=int(mask.sum()) - unchanged,
        relabel_unchanged=unchanged,
        excluded=len(exclude_ids),
        n_rows_after=len(out),
    )
    return out, counts


def load_corrected(params: Settings, schema: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """The validated data with the reviewed label corrections applied.

    Args:
        params: the project's settings.
        schema: the dataset schema.

    Returns:
        The corrected table and the counts of corrections applied.
    """
    from ..core.config import project_root
    from ..core.io import read_parquet
    from ..core.paths import CORRECTIONS, VALIDATED

    frame = read_parquet(project_root() / VALIDATED)
    path = project_root() / CORRECTIONS
    corrections = read_corrections(path)
    if len(corrections) and schema.get("id_generated"):
        from ..core.errors import ConfigError

        raise ConfigError(
            f"{path} corrects rows by id, but the data has no id column (rows are numbered by "
            "position, which moves when the file is re-exported): set data.id_column in "
            "conf/data/ to a stable unique id first."
        )
    return apply_corrections(
        frame, corrections, id_col=schema["id_column"], target=schema["target"], source=str(path)
    )


# -------------------------------------------------------------------------- report


def label_quality_report(
    y: Sequence[Any] | np.ndarray | pd.Series,
    suspects: pd.DataFrame,
    *,
    conflicts: pd.DataFrame | None = None,
    corrections: dict[str, int] | None = None,
    detection: dict[str, float | int] | None = None,
) -> dict[str, Any]:
    """JSON-ready summary of the label-quality step (for DVC metrics / MLflow).

    Args:
        y: Labels the suspects were computed on.
        suspects: Output of :func:`suspected_label_errors`.
        conflicts: Output of :func:`conflicting_duplicates`, if run.
        corrections: Counts returned by :func:`apply_corrections`, if applied.
        detection: Output of :func:`detection_scores`, if true errors are known.

    Returns:
        Dict with ``n_rows``, ``class_counts``, ``n_suspected``, ``suspected_fraction``,
        ``suspected_by_given_label``, ``n_conflicting_rows``, ``n_conflict_groups`` and, if
        given, ``corrections`` and ``detection``. Label keys are strings (JSON).
    """
    y_ser = pd.Series(np.asarray(y))
    n_rows = len(y_ser)
    class_counts = {str(k): int(v) for k, v in y_ser.value_counts().sort_index().items()}
    by_label = suspects["given_label"].value_counts().sort_index().to_dict() if len(suspects) \
        else {}
    report: dict[str, Any] = {
        "n_rows": n_rows,
        "class_counts": class_counts,
        "n_suspected": len(suspects),
        "suspected_fraction": len(suspects) / n_rows if n_rows else 0.0,
        "suspected_by_given_label": {str(k): int(v) for k, v in by_label.items()},
        "n_conflicting_rows": 0 if conflicts is None else len(conflicts),
        "n_conflict_groups": (
            0 if conflicts is None else int(conflicts[DUPLICATE_GROUP_COL].nunique())
        ),
    }
    if corrections is not None:
        report["corrections"] = {k: int(v) for k, v in corrections.items()}
    if detection is not None:
        report["detection"] = dict(detection)
    return report


def write_suspects_csv(suspects: pd.DataFrame, path: str | Path) -> Path:
    """Write suspects for human review, atomically (creates parent directories).

    Args:
        suspects: Output of :func:`suspected_label_errors`.
        path: Destination CSV.

    Returns:
        The path written.
    """
    path = Path(path)
    # io.write_table has no float_format; atomic_path gives the same temp-then-rename write.
    with atomic_path(path) as tmp:
        suspects.to_csv(tmp, index=False, float_format="%.6g")
    return path


# ------------------------------------------------------------------------- helpers


def _require_columns(df: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: column(s) {missing} not in the data (have {list(df.columns)[:20]}); "
            "check the column names in the config."
        )


def _parse_binary_label(text: str) -> int | None:
    """'0', '1', '0.0', '1.0' -> int; anything else -> None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (0.0, 1.0) else None


def _restore_dtype(values: pd.Series, dtype: Any) -> pd.Series:
    """Cast corrected labels back to the original label dtype when it can hold 0/1."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
