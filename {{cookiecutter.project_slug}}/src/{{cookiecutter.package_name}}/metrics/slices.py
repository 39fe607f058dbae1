"""Slice finding: where does the model do worst, weighted by how much data is there?

Each feature column becomes a set of levels: categorical values (the ``max_levels`` most
frequent, the rest pooled as ``"(other)"``), or quantile bins for numeric columns with more than
``max_numeric_levels`` distinct values; missing values form their own level. Slices are the
levels of every column and, with ``max_order=2``, of every pair of columns.

Per slice: ``n``, ``share``, prevalence, AUC (DeLong on the 2,000-bin score table), error rate
at the threshold (Wilson) and Brier score (normal interval). Slices smaller than ``min_size``
are dropped. The rest are ranked by ``gap * share`` where ``gap`` is how much worse the slice is
than all rows on the ranking metric (``brier``: slice - overall; ``error_rate``: slice -
overall; ``auc``: overall - slice), so a large slice that is a little worse can outrank a tiny
slice that is much worse.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd  # at import time, so that no first call pays an import inside it

from ._checks import MetricsInputError
from ._format import interval, number
from .discrimination import delong_from_counts
from .intervals import normal_interval, wilson_interval
from .sorting import SortedScores
from .table import ScoreBins, label_bin_cells, stratified_counts

RANK_METRICS = ("brier", "error_rate", "auc")
OTHER_LEVEL = "(other)"


def _format(value: float) -> str:
    """Short, readable number for slice labels: integers without ``.0``, no exponents."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.0f}" if abs(value) >= 1_000 else f"{value:.4g}"


def _level(value: Any) -> str:
    """A category as people write it: ``2`` for the float 2.0 of a column with gaps."""
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        return _format(float(value))
    return str(value)


def _has_many_values(series: Any, limit: int) -> bool:
    """Whether a numeric column has more than ``limit`` distinct values (sample first: cheap)."""
    head = series.iloc[:10_000]
    if head.nunique(dropna=True) > limit:
        return True
    return bool(series.nunique(dropna=True) > limit)


def encode_column(
    values: Any, *, n_quantiles: int = 4, max_levels: int = 20, max_numeric_levels: int = 10,
    name: str | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Level codes and level labels of one feature column.

    Labels are conditions as people read them: ``age < 40``, ``40 ≤ age < 55``, ``age ≥ 73``,
    ``prior_admissions = 2``, ``region = (other)``, ``age missing``.

    Args:
        values: a pandas Series.
        n_quantiles: quantile bins for a numeric column with many distinct values.
        max_levels: most frequent categories kept; the others pool into ``"(other)"``.
        max_numeric_levels: a numeric column with at most this many distinct values is
            treated as categorical.
        name: the column's name in the labels (default: the Series' name).

    Returns:
        ``(codes, labels)`` with codes in ``0..len(labels)-1``.
    """
    series = pd.Series(values)
    column = name if name is not None else "value" if series.name is None else str(series.name)
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric and _has_many_values(series, max_numeric_levels):
        data = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(data)
        qs = np.linspace(0.0, 1.0, n_quantiles + 1)[1:-1]
        edges = np.unique(np.quantile(data[finite], qs)) if finite.any() else np.zeros(0)
        codes = np.searchsorted(edges, data, side="right").astype(np.int64)
        bounds = [None, *edges.tolist(), None]
        labels = []
        for low, high in zip(bounds[:-1], bounds[1:], strict=True):
            if low is None:
                labels.append(f"{column} < {_format(high)}" if high is not None else "all")
            elif high is None:
                labels.append(f"{column} ≥ {_format(low)}")
            else:
                labels.append(f"{_format(low)} ≤ {column} < {_format(high)}")
        if not finite.all():
            codes[~finite] = len(labels)
            labels.append(f"{column} missing")
        return codes, labels
    codes, uniques = pd.factorize(series, sort=False)
    codes = np.asarray(codes, dtype=np.int64)
    labels = [f"{column} = {_level(value)}" for value in uniques]
    if len(labels) > max_levels:
        frequency = np.bincount(codes[codes >= 0], minlength=len(labels))
        keep = np.argsort(-frequency, kind="stable")[:max_levels]
        remap = np.full(len(labels), max_levels, dtype=np.int64)
        remap[keep] = np.arange(max_levels)
        labels = [labels[index] for index in keep] + [f"{column} = {OTHER_LEVEL}"]
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(f"{column} missing")
    return codes, labels


def slice_report(
    scores: SortedScores,
    bins: ScoreBins,
    bin_of_sorted: np.ndarray,
    features: Any,
    *,
    threshold: float,
    overall: dict[str, float],
    alpha: float = 0.05,
    min_size: int = 50,
    max_order: int = 2,
    max_pair_columns: int = 10,
    rank_by: str = "brier",
    max_slices: int = 50,
    n_quantiles: int = 4,
    max_levels: int = 20,
) -> dict[str, Any]:
    """Rank feature slices by (performance gap vs all rows) x share.

    Args:
        scores: all rows sorted by score.
        bins: score bins of the same rows (the threshold must be a bin edge).
        bin_of_sorted: bin of each sorted row (``bins.bin_of_sorted_rows()``).
        features: pandas DataFrame with one row per prediction, in the original row order.
        threshold: decision threshold for the error rate.
        overall: ``{"auc", "brier", "error_rate"}`` of all rows (the reference for gaps).
        alpha: miss rate of the intervals.
        min_size: slices with fewer rows are dropped.
        max_order: 1 for single columns, 2 to add every pair of columns.
        max_pair_columns: pairs are formed only if there are at most this many columns.
        rank_by: ``"brier"`` (default), ``"error_rate"`` or ``"auc"``.
        max_slices: number of top-ranked slices returned.
        n_quantiles: bins per numeric column.
        max_levels: categories kept per column.

    Returns:
        ``{"rank_by", "min_size", "overall", "n_candidates", "n_too_small", "pairs_included",
        "slices": [{"slice", "conditions", "n", "share", "n_positive", "prevalence", "auc",
        "error_rate", "brier", "gap", "score"}]}`` best (worst-performing) first; ``auc`` is
        ``None`` for a slice holding one class only.
    """
    if rank_by not in RANK_METRICS:
        raise MetricsInputError(
            f"rank_by must be one of {', '.join(RANK_METRICS)}, got {rank_by!r}."
        )
    if not isinstance(features, pd.DataFrame):
        raise MetricsInputError("features must be a pandas DataFrame (one row per prediction).")
    if len(features) != scores.n:
        raise MetricsInputError(
            f"features has {len(features)} rows but there are {scores.n} predictions; "
            "pass the feature rows of the evaluated predictions, in the same order."
        )
    columns = [str(column) for column in features.columns]
    encoded = {}
    for column, name in zip(features.columns, columns, strict=True):
        codes, labels = encode_column(
            features[column], n_quantiles=n_quantiles, max_levels=max_levels, name=name
        )
        encoded[name] = (codes[scores.order].astype(np.int32), labels)
    families: list[tuple[str, ...]] = [(name,) for name in columns]
    pairs_included = max_order >= 2 and len(columns) <= max_pair_columns
    if pairs_included:
        families += list(combinations(columns, 2))

    squared = np.subtract(scores.scores, scores.labels)
    np.square(squared, out=squared)
    squared_sq = squared * squared
    cells = label_bin_cells(scores.labels, bin_of_sorted, bins.n_bins)
    threshold_bin = bins.first_bin_at_or_above(threshold)
    candidates: list[dict[str, Any]] = []
    n_too_small = 0
    for family in families:
        codes, labels_per_level = _family_codes(family, encoded)
        n_levels = len(labels_per_level)
        sizes = np.bincount(codes, minlength=n_levels)
        big = sizes >= min_size
        n_too_small += int(((sizes > 0) & ~big).sum())
        if not big.any():
            continue
        # Count only the kept slices: small ones map to -1 and are skipped by the bincount.
        if big.all():
            strata = codes
        else:
            kept = np.full(n_levels, -1, dtype=np.int64)
            kept[big] = np.arange(int(big.sum()))
            strata = kept[codes]
        counts = stratified_counts(strata, int(big.sum()), cells, bins.n_bins)
        del strata
        brier_sum = np.bincount(codes, weights=squared, minlength=n_levels)[big]
        brier_sq = np.bincount(codes, weights=squared_sq, minlength=n_levels)[big]
        candidates += _slice_rows(
            family,
            [labels_per_level[index] for index in np.flatnonzero(big)],
            counts,
            brier_sum,
            brier_sq,
            threshold_bin=threshold_bin,
            n_total=scores.n,
            overall=overall,
            rank_by=rank_by,
            alpha=alpha,
        )
    candidates.sort(key=lambda row: -np.inf if row["score"] is None else row["score"], reverse=True)
    return {
        "rank_by": rank_by,
        "min_size": int(min_size),
        "overall": {key: number(value) for key, value in overall.items()},
        "n_candidates": len(candidates),
        "n_too_small": n_too_small,
        "pairs_included": pairs_included,
        "slices": candidates[:max_slices],
    }


def _family_codes(
    family: tuple[str, ...], encoded: dict[str, tuple[np.ndarray, list[str]]]
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Combined level codes of one or two columns, and each level's conditions."""
    codes, labels = encoded[family[0]]
    conditions = [{family[0]: label} for label in labels]
    for name in family[1:]:
        other_codes, other_labels = encoded[name]
        codes = codes * len(other_labels) + other_codes
        conditions = [
            {**condition, name: label} for condition in conditions for label in other_labels
        ]
    return codes, conditions


def _slice_rows(
    family: tuple[str, ...],
    conditions: list[dict[str, str]],
    counts: np.ndarray,
    brier_sum: np.ndarray,
    brier_sq: np.ndarray,
    *,
    threshold_bin: int,
    n_total: int,
    overall: dict[str, float],
    rank_by: str,
    alpha: float,
) -> list[dict[str, Any]]:
    """Metrics of the slices of one family from their (slice, label, bin) counts."""
    n = counts.sum(axis=(1, 2))
    n_pos = counts[:, 1].sum(axis=1)
    auc, auc_var = delong_from_counts(counts[:, 1], counts[:, 0])
    auc_lo, auc_hi = normal_interval(auc, np.sqrt(auc_var), alpha)
    errors = counts[:, 0, threshold_bin:].sum(axis=1) + counts[:, 1, :threshold_bin].sum(axis=1)
    error_lo, error_hi = wilson_interval(errors, n, alpha)
    brier = brier_sum / n
    with np.errstate(divide="ignore", invalid="ignore"):
        brier_var = (brier_sq / n - brier**2) * n / (n - 1.0)
        brier_lo, brier_hi = normal_interval(brier, np.sqrt(np.maximum(brier_var, 0.0) / n), alpha)
    prevalence_lo, prevalence_hi = wilson_interval(n_pos, n, alpha)
    metric = {"brier": brier, "error_rate": errors / n, "auc": auc}[rank_by]
    gap = overall["auc"] - metric if rank_by == "auc" else metric - overall[rank_by]
    share = n / n_total
    rows = []
    for index, condition in enumerate(conditions):
        has_both = 0 < n_pos[index] < n[index]
        rows.append(
            {
                "slice": " & ".join(condition.values()),
                "conditions": condition,
                "columns": list(family),
                "n": int(n[index]),
                "share": float(share[index]),
                "n_positive": int(n_pos[index]),
                "prevalence": interval(
                    n_pos[index] / n[index], prevalence_lo[index], prevalence_hi[index]
                ),
                "auc": interval(auc[index], max(auc_lo[index], 0.0), min(auc_hi[index], 1.0))
                if has_both
                else interval(None),
                "error_rate": interval(errors[index] / n[index], error_lo[index], error_hi[index]),
                "brier": interval(brier[index], brier_lo[index], brier_hi[index]),
                "gap": number(gap[index]),
                "score": number(gap[index] * share[index]),
            }
        )
    return rows
