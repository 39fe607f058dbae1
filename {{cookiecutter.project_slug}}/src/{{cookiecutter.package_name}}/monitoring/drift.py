"""Per-feature and prediction drift of a batch against the reference profile.

Statistics
----------
* PSI on the reference quantile bins plus a missing-value cell (numeric, predictions) or on the
  reference categories plus an "unseen" and a missing cell (categorical):
  ``PSI = sum (b - r) ln(b / r)``. Shares are floored at ``psi_epsilon`` (default 1e-4) so
  that a cell empty on one side gives a large but finite term (a vanished 10 % bin adds about
  0.69) and a cell empty on both sides adds exactly 0. Shares are not renormalised after the
  floor, which keeps PSI identical to the hand formula whenever no cell is empty.
* Numeric: two-sample KS statistic against the stored reference sketch, p-value from the
  two-sample Kolmogorov distribution with the real reference size (as scipy's ``ks_2samp``
  with ``method="asymp"``); missing values are excluded from KS and count in the PSI cell.
* Categorical: chi-square test of homogeneity on the 2 x K table reference/batch counts over
  the reference categories, the pooled unseen cell and the missing cell (cells empty on both
  sides dropped); Jensen-Shannon distance (base 2, in [0, 1]) over the same cells. Categories
  rarer than about 5 expected counts make the chi-square approximation liberal; the effect-size
  gate below keeps this from raising alarms.
* Predictions: PSI and KS on p.

Decision per feature
--------------------
All test p-values of a batch (KS per numeric feature, chi-square per categorical feature, KS on
the predictions) form one family; Holm's step-down correction (or Bonferroni) keeps the
probability of any false "significant" at ``alpha``. With thousands of rows tiny shifts are
significant, so a feature is only flagged when BOTH its adjusted p-value is below ``alpha`` AND
its effect size reaches a threshold: ``drift`` when PSI >= ``psi_drift`` (0.25, the usual
"significant shift") or KS D >= ``ks_drift``; ``watch`` when PSI >= ``psi_watch`` (0.1) or
KS D >= ``ks_watch``; otherwise ``stable``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import UserError
from .reference import ProfileError, binned_shares, category_strings, numeric_values

if TYPE_CHECKING:
    import pandas as pd

    from ..core.settings import MonitorThresholds


def psi(reference_shares: np.ndarray, batch_shares: np.ndarray, epsilon: float = 1e-4) -> float:
    """Population stability index between two share vectors over the same cells.

    Args:
        reference_shares: Reference share of every cell.
        batch_shares: Batch share of every cell.
        epsilon: Floor applied to both shares so empty cells give finite terms.

    Returns:
        ``sum (b - r) ln(b / r)`` with both shares floored at ``epsilon``.
    """
    ref = np.maximum(np.asarray(reference_shares, dtype=float), epsilon)
    bat = np.maximum(np.asarray(batch_shares, dtype=float), epsilon)
    return float(np.sum((bat - ref) * np.log(bat / ref)))


def ks_against_sketch(
    sketch: np.ndarray, n_reference: int, batch_sorted: np.ndarray
) -> tuple[float, float]:
    """Two-sample KS statistic and asymptotic p-value, the reference given by its sketch.

    Args:
        sketch: Sorted reference sketch (the full sample when small enough).
        n_reference: Number of non-missing reference values the sketch stands for.
        batch_sorted: Sorted non-missing batch values.

    Returns:
        ``(statistic, pvalue)``; NaN for an empty side.
    """
    if sketch.size == 0 or batch_sorted.size == 0:
        return float("nan"), float("nan")
    from scipy.stats import kstwo

    points = np.concatenate([sketch, batch_sorted])
    cdf_ref = np.searchsorted(sketch, points, side="right") / sketch.size
    cdf_batch = np.searchsorted(batch_sorted, points, side="right") / batch_sorted.size
    statistic = float(np.max(np.abs(cdf_ref - cdf_batch)))
    n_eff = n_reference * batch_sorted.size / (n_reference + batch_sorted.size)
    pvalue = float(kstwo.sf(statistic, np.round(n_eff)))
    return statistic, min(max(pvalue, 0.0), 1.0)


def chi_square_homogeneity(
    reference_counts: np.ndarray, batch_counts: np.ndarray
) -> tuple[float, int, float]:
    """Pearson chi-square test that two count vectors come from one distribution.

    Args:
        reference_counts: Reference count per cell.
        batch_counts: Batch count per cell.

    Returns:
        ``(statistic, dof, pvalue)`` on the cells that are non-empty on at least one side;
        ``(0, 0, 1)`` when fewer than two such cells exist.
    """
    table = np.vstack([reference_counts, batch_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 0, 1.0
    from scipy.stats import chi2

    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return statistic, dof, float(chi2.sf(statistic, dof))


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (square root of the divergence), base 2, in [0, 1].

    Args:
        p: Non-negative weights of the first distribution (normalised here).
        q: Non-negative weights of the second distribution over the same cells.

    Returns:
        The distance; 0 for identical distributions.
    """
    p = np.asarray(p, dtype=float) / np.sum(p)
    q = np.asarray(q, dtype=float) / np.sum(q)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        used = a > 0
        return float(np.sum(a[used] * np.log2(a[used] / m[used])))

    return math.sqrt(max(0.5 * kl(p) + 0.5 * kl(q), 0.0))


def _numeric_drift(values: np.ndarray, profile: Mapping[str, Any], epsilon: float) -> dict:
    ref_shares = np.append(profile["bin_shares"], profile["missing_share"])
    shares = binned_shares(values, profile["edges"])
    present = np.sort(values[~np.isnan(values)])
    statistic, pvalue = ks_against_sketch(
        np.asarray(profile["sketch"], dtype=float), int(profile["n_present"]), present
    )
    mean = float(present.mean()) if present.size else None
    ref_mean, ref_std = profile.get("mean"), profile.get("std")
    return {
        "psi": psi(ref_shares, shares, epsilon),
        "ks_statistic": statistic,
        "ks_pvalue": pvalue,
        "pvalue": pvalue,
        "missing_share_reference": float(profile["missing_share"]),
        "missing_share": float(shares[-1]),
        "missing_change": float(shares[-1] - profile["missing_share"]),
        "mean": mean,
        "mean_reference": ref_mean,
        "mean_shift_sd": (
            (mean - ref_mean) / ref_std
            if mean is not None and ref_mean is not None and ref_std
            else None
        ),
    }


def _category_counts(series: pd.Series) -> tuple[pd.Series, int]:
    """Rows per canonical label (as ``value_counts`` of ``category_strings``) and missing rows.

    Labels are made once per distinct value rather than once per row, which is most of the
    cost on large batches. Object columns holding anything but strings take the row-wise path:
    there, distinct values can compare equal (``1`` and ``1.0``) yet have different labels.
    """
    import pandas as pd

    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) != "string":
        labels, missing = category_strings(series)
        return pd.Series(labels[~missing]).value_counts(), int(missing.sum())
    codes, uniques = pd.factorize(series)
    present = codes[codes >= 0]
    labels, _ = category_strings(pd.Series(uniques))
    per_label = pd.Series(np.bincount(present, minlength=len(uniques)), index=labels)
    # value_counts' order: labels by first appearance, then a sort by count
    counts = per_label.groupby(level=0, sort=False).sum()
    return counts.sort_values(ascending=False, kind="stable"), int(codes.size - present.size)


def _categorical_drift(column: Any, profile: Mapping[str, Any], epsilon: float) -> dict:
    import pandas as pd

    series = column if isinstance(column, pd.Series) else pd.Series(column)
    n = len(series)
    counts, n_missing = _category_counts(series)
    known = list(profile["counts"])
    batch_known = counts.reindex(known, fill_value=0).to_numpy(dtype=float)
    unseen = counts[~counts.index.isin(known)]
    n_ref_missing = int(profile["n_missing"])
    ref_counts = np.append(np.asarray(list(profile["counts"].values()), dtype=float), [0.0])
    ref_counts = np.append(ref_counts, n_ref_missing)
    batch_counts = np.append(batch_known, [float(unseen.sum()), float(n_missing)])
    n_ref = ref_counts.sum()
    statistic, dof, pvalue = chi_square_homogeneity(ref_counts, batch_counts)
    return {
        "psi": psi(ref_counts / n_ref, batch_counts / max(n, 1), epsilon),
        "chi2_statistic": statistic,
        "chi2_dof": dof,
        "chi2_pvalue": pvalue,
        "pvalue": pvalue,
        "js_distance": jensen_shannon_distance(ref_counts, batch_counts) if n else float("nan"),
        "unseen_share": float(unseen.sum()) / max(n, 1),
        "unseen_categories": [str(c) for c in unseen.index[:20]],
        "n_unseen_categories": int(unseen.size),
        "missing_share_reference": float(profile["missing_share"]),
        "missing_share": float(n_missing) / max(n, 1),
        "missing_change": float(n_missing) / max(n, 1) - float(profile["missing_share"]),
    }


def _effect_level(entry: Mapping[str, Any], limits: Mapping[str, Any]) -> str:
    score_psi = entry.get("psi", 0.0)
    score_ks = entry.get("ks_statistic")
    score_ks = 0.0 if score_ks is None or not math.isfinite(score_ks) else score_ks
    if score_psi >= limits["psi_drift"] or score_ks >= limits["ks_drift"]:
        return "drift"
    if score_psi >= limits["psi_watch"] or score_ks >= limits["ks_watch"]:
        return "watch"
    return "stable"


def compute_drift(
    X: Any,
    p: np.ndarray | None,
    reference: Mapping[str, Any],
    thresholds: MonitorThresholds | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Drift of every monitored feature and of the predictions against the reference.

    Args:
        X: pandas DataFrame of the batch; extra columns are ignored.
        p: Calibrated predicted probabilities of the batch rows, or None to skip
            prediction drift.
        reference: Dict from ``build_reference``.
        thresholds: Overrides of the monitor thresholds (``alpha``, ``correction``,
            ``psi_epsilon``, ``psi_watch``, ``psi_drift``, ``ks_watch``, ``ks_drift``).

    Returns:
        Dict with ``n``, ``features`` (per feature: type, importance, statistics, ``pvalue``,
        ``pvalue_adjusted``, ``effect_level``, ``status`` in stable/watch/drift, or
        ``status`` "schema-error" with a message), ``prediction`` (same statistics as a numeric
        feature), ``schema_issues`` (messages) and ``summary`` (``n_drift``, ``n_watch``,
        ``max_psi``, ``max_psi_feature``, ``prediction_psi``, ``prediction_ks``).

    Raises:
        ValueError: If ``p`` is misaligned with ``X`` or not a probability.
    """
    from .performance import holm_adjust
    from .thresholds import resolve_thresholds

    limits = resolve_thresholds(thresholds)
    epsilon = limits["psi_epsilon"]
    n = len(X)
    if n == 0:
        raise UserError("The batch is empty; nothing to monitor: check data.batch_path.")
    features: dict[str, dict[str, Any]] = {}
    schema_issues: list[str] = []
    for name, profile in reference["features"].items():
        base = {"type": profile["type"], "importance": float(profile.get("importance", 0.0))}
        if name not in X.columns:
            schema_issues.append(f"column '{name}' is missing from the batch")
            features[name] = {**base, "status": "schema-error", "error": "missing column"}
            continue
        if profile["type"] == "numeric":
            try:
                values = numeric_values(X[name], name)
            except ProfileError as error:
                schema_issues.append(str(error))
                features[name] = {**base, "status": "schema-error", "error": str(error)}
                continue
            features[name] = {**base, **_numeric_drift(values, profile, epsilon)}
        else:
            features[name] = {**base, **_categorical_drift(X[name], profile, epsilon)}

    prediction: dict[str, Any] | None = None
    if p is not None:
        probs = np.asarray(p, dtype=float).ravel()
        if probs.size != n:
            raise ValueError(f"Batch predictions 'p' have {probs.size} rows but X has {n}.")
        if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
            raise ValueError("Batch predictions 'p' must be finite probabilities in [0, 1].")
        prediction = _numeric_drift(probs, reference["prediction"], epsilon)

    family = {k: v.get("pvalue") for k, v in features.items() if "pvalue" in v}
    if prediction is not None:
        family["__prediction__"] = prediction["pvalue"]
    adjusted = holm_adjust(family, limits["correction"])
    for name, entry in [*features.items(), ("__prediction__", prediction)]:
        if entry is None or entry.get("status") == "schema-error":
            continue
        entry["pvalue_adjusted"] = adjusted.get(name)
        entry["effect_level"] = _effect_level(entry, limits)
        significant = adjusted.get(name, 1.0) < limits["alpha"]
        entry["status"] = entry["effect_level"] if significant else "stable"

    scored = {k: v["psi"] for k, v in features.items() if "psi" in v}
    worst = max(scored, key=lambda name: scored[name]) if scored else None
    summary = {
        "n_drift": sum(v["status"] == "drift" for v in features.values()),
        "n_watch": sum(v["status"] == "watch" for v in features.values()),
        "max_psi": scored[worst] if worst else None,
        "max_psi_feature": worst,
        "prediction_psi": prediction["psi"] if prediction else None,
        "prediction_ks": prediction["ks_statistic"] if prediction else None,
    }
    return {
        "n": int(n),
        "features": features,
        "prediction": prediction,
        "schema_issues": schema_issues,
        "summary": summary,
    }
