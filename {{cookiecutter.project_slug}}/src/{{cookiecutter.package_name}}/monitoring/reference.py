"""Reference profile of the data and predictions a model was evaluated on.

The monitor step compares every new batch against this profile, so it stores exactly what
the drift tests and the verdict need, as plain JSON:

* numeric features: interior quantile edges (deciles by default), the reference share of each
  bin plus a separate share for missing values (for PSI), a KS sketch, mean / std;
* categorical features: category counts and shares plus the missing share;
* the prediction distribution, with the numeric treatment;
* test-set performance (AUC with its DeLong standard error, Brier, prevalence, mean predicted)
  when labels are given, and the label-free estimates of the same quantities;
* a label-free importance of every feature (how much of the variance of logit(p) the feature's
  bins explain), used to weigh covariate drift.

KS sketch
---------
For a feature with at most ``sketch_size`` non-missing reference values the sketch is the full
sorted sample and the KS test is exact. Above that the sketch is the reference quantile function
on the mid-point grid ``(i + 0.5) / m`` (``method="inverted_cdf"``, so every sketch value is an
observed value). The step function of that grid differs from the full reference ECDF by at most
``1 / (2 m)`` everywhere, hence the KS statistic computed from the sketch differs from the full
two-sample statistic by at most ``1 / (2 m)`` (0.00025 for the default ``m = 2000``). The p-value
is computed with the real reference size, so the test keeps the power of the full two-sample
test: the statistic error moves ``sqrt(n_eff) * D`` by at most ``sqrt(n_eff) / (2 m)``
(0.03 for a 20,000-row reference and a 100,000-row batch, against a 5 % critical value of 1.36).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import UserError
from ..core.io import write_text

REFERENCE_FORMAT_VERSION = 1
DEFAULT_SKETCH_SIZE = 2000
# Categories are stored as strings (JSON object keys); this is the key used for missing values
# in share vectors, never a stored category.
MISSING_CELL = "__missing__"
UNSEEN_CELL = "__unseen__"


class ProfileError(UserError, ValueError):
    """Raised when the reference inputs or a stored reference file are unusable."""


# ----------------------------------------------------------------------------- small helpers


def numeric_values(column: Any, name: str) -> np.ndarray:
    """Convert a column to float with NaN for missing values.

    Args:
        column: A pandas Series (or array-like) holding the feature.
        name: Feature name, used in the error message.

    Returns:
        Float array; missing values (None, NaN, pandas NA) become NaN.

    Raises:
        ProfileError: If a non-missing value cannot be read as a number.
    """
    import pandas as pd

    series = pd.Series(column) if not isinstance(column, pd.Series) else column
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bool(bad.any()):
        examples = series[bad].astype(str).unique()[:3].tolist()
        raise ProfileError(
            f"Numeric feature '{name}' holds non-numeric values (e.g. {examples}); "
            "clean the column or declare it categorical."
        )
    values = converted.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def category_strings(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """Canonical string labels of a categorical column.

    Numeric-typed categories are written without a trailing ``.0`` when integral, because an
    integer column read back with missing values becomes float (``1`` versus ``1.0``) and must
    still match its reference categories.

    Args:
        column: A pandas Series (or array-like) holding the feature.

    Returns:
        ``(labels, missing)``: object array of strings (empty string where missing) and a
        boolean mask of missing values.
    """
    import pandas as pd

    series = pd.Series(column) if not isinstance(column, pd.Series) else column
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        safe = np.where(missing, 0.0, values)
        integral = np.isfinite(safe) & (safe == np.round(safe)) & (np.abs(safe) < 2**53)
        as_int = np.where(integral, safe, 0).astype(np.int64).astype(str).astype(object)
        labels = np.where(integral, as_int, safe.astype(str).astype(object))
    else:
        labels = series.astype(object).map(str).to_numpy(dtype=object)
    labels = np.where(missing, "", labels).astype(object)
    return labels, missing


def bin_index(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Bin of every value on the reference edges, intervals closed on the right.

    Args:
        values: Non-missing float values.
        edges: Sorted interior cut points; ``len(edges) + 1`` bins.

    Returns:
        Integer bin index in ``0 .. len(edges)``.
    """
    return np.searchsorted(np.asarray(edges, dtype=float), values, side="left")


def binned_shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Shares of the quantile bins plus a final missing cell, relative to all rows.

    Args:
        values: Float values with NaN for missing.
        edges: Sorted interior cut points.

    Returns:
        Array of length ``len(edges) + 2``: bin shares, then the missing share; sums to 1.
    """
    n = values.size
    present = values[~np.isnan(values)]
    counts = np.bincount(bin_index(present, edges), minlength=len(edges) + 1).astype(float)
    shares = np.append(counts, n - present.size)
    return shares / max(n, 1)


def ks_sketch(sorted_values: np.ndarray, sketch_size: int) -> np.ndarray:
    """Sorted sample, or its quantile function on a mid-point grid when larger than the sketch.

    Args:
        sorted_values: Non-missing values, sorted ascending.
        sketch_size: Maximum number of stored values ``m``.

    Returns:
        At most ``m`` sorted values whose step ECDF is within ``1 / (2 m)`` of the sample ECDF.
    """
    if sorted_values.size <= sketch_size:
        return sorted_values
    grid = (np.arange(sketch_size) + 0.5) / sketch_size
    return np.quantile(sorted_values, grid, method="inverted_cdf")


def correlation_ratio(target: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of ``target`` explained by group means (eta squared).

    Args:
        target: Float values, e.g. logit of the predictions.
        groups: Non-negative integer group of every value.

    Returns:
        Between-group variance over total variance, in [0, 1]; 0 for a constant target.
    """
    total = float(np.var(target))
    if target.size == 0 or total == 0.0:
        return 0.0
    counts = np.bincount(groups).astype(float)
    sums = np.bincount(groups, weights=target)
    used = counts > 0
    means = sums[used] / counts[used]
    between = float(np.sum(counts[used] * (means - target.mean()) ** 2) / target.size)
    return min(max(between / total, 0.0), 1.0)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# ----------------------------------------------------------------------------- profiles


def numeric_profile(
    values: np.ndarray, *, n_quantile_bins: int, sketch_size: int
) -> dict[str, Any]:
    """Reference profile of one numeric variable.

    Args:
        values: Float values with NaN for missing.
        n_quantile_bins: Number of quantile bins (10 gives deciles); ties merge bins.
        sketch_size: Maximum size of the stored KS sketch.

    Returns:
        JSON-ready dict with ``edges``, ``bin_shares``, ``missing_share``, ``sketch``,
        ``n_present``, ``mean`` and ``std``.
    """
    present = np.sort(values[~np.isnan(values)])
    if present.size == 0:
        edges: list[float] = []
    else:
        probs = np.arange(1, n_quantile_bins) / n_quantile_bins
        cuts = np.unique(np.quantile(present, probs))
        # A cut at the maximum would leave an always-empty top bin.
        edges = [float(c) for c in cuts if c < present[-1]]
    shares = binned_shares(values, edges)
    return {
        "edges": edges,
        "bin_shares": [float(s) for s in shares[:-1]],
        "missing_share": float(shares[-1]),
        "sketch": [float(v) for v in ks_sketch(present, sketch_size)],
        "n_present": int(present.size),
        "mean": _finite_or_none(float(present.mean())) if present.size else None,
        "std": _finite_or_none(float(present.std(ddof=1))) if present.size > 1 else None,
    }


def categorical_profile(column: Any) -> dict[str, Any]:
    """Reference profile of one categorical variable.

    Args:
        column: The feature column.

    Returns:
        JSON-ready dict with ``counts`` and ``shares`` per category (string keys, relative to
        all rows), ``missing_share`` and ``n_missing``.
    """
    import pandas as pd

    labels, missing = category_strings(column)
    counts = pd.Series(labels[~missing]).value_counts()
    n = labels.size
    return {
        "counts": {str(k): int(v) for k, v in counts.items()},
        "shares": {str(k): float(v) / max(n, 1) for k, v in counts.items()},
        "missing_share": float(missing.sum()) / max(n, 1),
        "n_missing": int(missing.sum()),
    }


def _labels(y: Any, n: int) -> np.ndarray:
    labels = np.asarray(y, dtype=float).ravel()
    if labels.size != n:
        raise ProfileError(f"Labels 'y' have {labels.size} rows but X has {n}; pass aligned y.")
    known = labels[~np.isnan(labels)]
    if not np.isin(known, (0.0, 1.0)).all():
        raise ProfileError("Labels 'y' must be 0/1 (NaN for unlabelled rows); map them first.")
    return labels


def _predictions(p: Any, n: int) -> np.ndarray:
    probs = np.asarray(p, dtype=float).ravel()
    if probs.size != n:
        raise ProfileError(f"Predictions 'p' have {probs.size} rows but X has {n}.")
    if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise ProfileError("Predictions 'p' must be finite probabilities in [0, 1].")
    return probs


def build_reference(
    X: Any,
    p: np.ndarray,
    y: np.ndarray | None,
    *,
    numeric: list[str],
    categorical: list[str],
    n_quantile_bins: int = 10,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    importance: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Build the JSON-serialisable reference profile the monitor compares batches against.

    Args:
        X: pandas DataFrame of the reference (test-set) features.
        p: Calibrated predicted probabilities of the positive class, one per row of ``X``.
        y: 0/1 labels (NaN for unlabelled rows), or None when unknown.
        numeric: Names of the numeric features to monitor.
        categorical: Names of the categorical features to monitor.
        n_quantile_bins: Quantile bins for PSI (10 = deciles).
        sketch_size: Maximum number of stored values per KS sketch (see module docstring).
        importance: Optional feature importance (e.g. permutation importance) overriding the
            label-free default (eta squared of logit(p) on the feature's bins / categories).

    Returns:
        The reference dict (see module docstring for its content).

    Raises:
        ProfileError: On missing columns, overlapping feature lists, misaligned or invalid
            predictions/labels, or non-numeric values in a numeric feature.
    """
    if n_quantile_bins < 2:
        raise ProfileError(f"n_quantile_bins must be >= 2, got {n_quantile_bins}.")
    if sketch_size < 10:
        raise ProfileError(f"sketch_size must be >= 10, got {sketch_size}.")
    overlap = sorted(set(numeric) & set(categorical))
    if overlap:
        raise ProfileError(f"Features {overlap} are listed as both numeric and categorical.")
    absent = [c for c in [*numeric, *categorical] if c not in X.columns]
    if absent:
        raise ProfileError(f"Reference data lacks the monitored columns {absent}.")
    n = len(X)
    if n == 0:
        raise ProfileError("Reference data is empty; build the reference from the test set.")
    from ..metrics.calibration import clipped_logit

    probs = _predictions(p, n)
    scores = clipped_logit(probs)

    features: dict[str, Any] = {}
    for name in numeric:
        values = numeric_values(X[name], name)
        prof = numeric_profile(values, n_quantile_bins=n_quantile_bins, sketch_size=sketch_size)
        groups = np.where(
            np.isnan(values),
            len(prof["edges"]) + 1,
            bin_index(np.nan_to_num(values), prof["edges"]),
        )
        features[name] = {
            "type": "numeric",
            **prof,
            "importance": correlation_ratio(scores, groups),
        }
    for name in categorical:
        prof = categorical_profile(X[name])
        labels, _ = category_strings(X[name])
        groups = np.unique(labels, return_inverse=True)[1].ravel()
        features[name] = {
            "type": "categorical",
            **prof,
            "importance": correlation_ratio(scores, groups),
        }
    if importance is not None:
        unknown = sorted(set(importance) - set(features))
        if unknown:
            raise ProfileError(f"Importance given for unmonitored features {unknown}.")
        for name, value in importance.items():
            features[name]["importance"] = float(value)

    from .performance import expected_performance, observed_performance

    performance: dict[str, Any] = {"expected": expected_performance(probs)}
    if y is not None:
        labels = _labels(y, n)
        known = ~np.isnan(labels)
        if known.any():
            performance["observed"] = observed_performance(labels[known], probs[known])

    return {
        "format_version": REFERENCE_FORMAT_VERSION,
        "n": int(n),
        "n_quantile_bins": int(n_quantile_bins),
        "sketch_size": int(sketch_size),
        "numeric": list(numeric),
        "categorical": list(categorical),
        "features": features,
        "prediction": numeric_profile(
            probs, n_quantile_bins=n_quantile_bins, sketch_size=sketch_size
        ),
        "performance": performance,
    }


def save_reference(reference: Mapping[str, Any], path: str | Path) -> Path:
    """Write the reference as JSON, atomically (strict: NaN/inf are rejected, not written).

    Args:
        reference: Dict returned by :func:`build_reference`.
        path: Destination file; parent directories are created.

    Returns:
        The path written.
    """
    # Serialise first: a NaN raises before anything is written, and write_text replaces the
    # file atomically, so a failed save never leaves a truncated reference behind.
    return write_text(path, json.dumps(reference, allow_nan=False, separators=(",", ":")))


def load_reference(path: str | Path) -> dict[str, Any]:
    """Read a reference written by :func:`save_reference`.

    Args:
        path: JSON file.

    Returns:
        The reference dict.

    Raises:
        ProfileError: If the file is missing, not JSON, or of an unknown format version.
    """
    source = Path(path)
    if not source.is_file():
        raise ProfileError(
            f"Reference file '{source}' not found; run the evaluate step that writes it."
        )
    try:
        reference = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ProfileError(f"Reference file '{source}' is not valid JSON: {error}.") from error
    version = reference.get("format_version") if isinstance(reference, dict) else None
    if version != REFERENCE_FORMAT_VERSION:
        raise ProfileError(
            f"Reference file '{source}' has format_version {version!r}, expected "
            f"{REFERENCE_FORMAT_VERSION}; rebuild it with build_reference."
        )
    return reference
