"""Performance of the model on a batch: estimated without labels, measured with them.

Label-free estimates assume the model stays calibrated on the new batch (P(y=1 | p) = p):

* expected prevalence = mean p;
* expected Brier = mean p (1 - p) (the Brier score's expectation when y ~ Bernoulli(p));
* expected AUC (the CBPE idea): every row counts as a positive with weight p and as a negative
  with weight 1 - p; the AUC is the weighted share of correctly ordered (positive, negative)
  pairs, ties counting one half, pairs of a row with itself excluded.

They react to covariate drift (a different mix of easy and hard cases) but are blind to concept
or prior drift, which only labels reveal. With labels:

* AUC with a DeLong standard error and normal interval; the change against the reference AUC
  uses both standard errors (independent samples);
* Brier score, prevalence with a Wilson interval;
* calibration-in-the-large: observed over expected events (O/E) with the score test
  z = (sum y - sum p) / sqrt(sum p (1 - p)), and the log-odds shift ``a`` in
  logit P(y) = a + logit(p);
* logistic recalibration logit P(y) = a + b logit(p): slope ``b`` and its Wald test of b = 1;
* ranking check: the real AUC against the AUC expected if only the base rate had moved (the CBPE
  estimate on the intercept-shifted probabilities expit(logit(p) + a)). A prior shift changes
  the real AUC a little by itself (the positives' score mix changes); this check separates that
  from a ranking that really deteriorated (concept drift). Its z-test uses the DeLong standard
  error, conservative because the expectation is computed on the same rows.

The four label tests (O/E, slope, AUC change, ranking) form one Holm family at level ``alpha``.
DeLong, Wilson, the recalibration fits and ``logit`` come from the project's ``metrics``
package (imported only on the labelled path, so an unlabelled batch does not pay for it); what
is particular to monitoring (the CBPE estimate, the score test, Holm) lives here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import numpy as np

_NORMAL = NormalDist()


# ----------------------------------------------------------------------------- small helpers


def _two_sided_p(z: float) -> float:
    return 2.0 * _NORMAL.cdf(-abs(z)) if math.isfinite(z) else float("nan")


def holm_adjust(pvalues: Mapping[str, float | None], method: str = "holm") -> dict[str, float]:
    """Family-wise adjusted p-values (Holm step-down, or Bonferroni).

    Args:
        pvalues: Raw p-value per test name; None or NaN tests are left out of the family.
        method: ``"holm"`` or ``"bonferroni"``.

    Returns:
        Adjusted p-value per test name (only the tests that had a p-value).

    Raises:
        ValueError: On an unknown method.
    """
    if method not in ("holm", "bonferroni"):
        raise ValueError(f"Multiple-testing method '{method}' unknown; use 'holm' or 'bonferroni'.")
    items = [(k, float(v)) for k, v in pvalues.items() if v is not None and math.isfinite(v)]
    m = len(items)
    if method == "bonferroni":
        return {k: min(1.0, v * m) for k, v in items}
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, (name, value) in enumerate(sorted(items, key=lambda kv: kv[1])):
        running = max(running, min(1.0, (m - rank) * value))  # step-down keeps monotone
        adjusted[name] = running
    return adjusted


# ----------------------------------------------------------------------------- estimates


def expected_auc(p: np.ndarray) -> float:
    """AUC expected if the model is calibrated on these rows (confidence-based estimate).

    Args:
        p: Predicted probabilities, also used as the ranking score.

    Returns:
        Weighted share of correctly ordered pairs; NaN for fewer than two rows.
    """
    if p.size < 2:
        return float("nan")
    uniq, inverse = np.unique(p, return_inverse=True)
    inverse = inverse.ravel()
    pos = np.bincount(inverse, weights=p, minlength=uniq.size)
    neg = np.bincount(inverse, weights=1.0 - p, minlength=uniq.size)
    self_pairs = np.bincount(inverse, weights=p * (1.0 - p), minlength=uniq.size)
    neg_below = np.cumsum(neg) - neg
    numerator = np.sum(pos * neg_below) + 0.5 * np.sum(pos * neg - self_pairs)
    denominator = pos.sum() * neg.sum() - self_pairs.sum()
    return float(numerator / denominator) if denominator > 0 else float("nan")


def expected_performance(p: np.ndarray) -> dict[str, float]:
    """Label-free performance expected under calibration.

    Args:
        p: Predicted probabilities.

    Returns:
        ``prevalence`` (mean p), ``brier`` (mean p(1-p)), ``auc`` (CBPE) and ``n``.
    """
    probs = np.asarray(p, dtype=float)
    return {
        "n": int(probs.size),
        "prevalence": float(probs.mean()) if probs.size else float("nan"),
        "brier": float(np.mean(probs * (1.0 - probs))) if probs.size else float("nan"),
        "auc": expected_auc(probs),
    }


def observed_performance(y: np.ndarray, p: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """Measured performance on labelled rows, with intervals and calibration diagnostics.

    Args:
        y: 0/1 labels (no NaN).
        p: Predicted probabilities of the same rows.
        confidence: Two-sided level of the intervals.

    Returns:
        Dict with ``n``, ``auc``, ``auc_se``, ``auc_ci``, ``brier``, ``prevalence``,
        ``prevalence_ci`` (Wilson), ``mean_predicted``, ``oe_ratio``, ``citl_z``,
        ``citl_pvalue``, ``citl_shift``, and the recalibration ``calibration_intercept``,
        ``calibration_slope``, ``slope_se``, ``slope_pvalue``.
    """
    from ..metrics.calibration import clipped_logit, recalibration_fits
    from ..metrics.discrimination import delong_from_counts
    from ..metrics.intervals import normal_interval, wilson_interval
    from ..metrics.sorting import SortedScores

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = int(y.size)
    alpha = 1.0 - confidence
    # One sort serves DeLong (counts per score level) and the recalibration fits (which want
    # rows in logit order; logit is monotone, so the score order is that order).
    scores = SortedScores.build(y.astype(np.int8), p)
    auc_array, variance = delong_from_counts(scores.pos, scores.neg)
    auc, auc_se = float(auc_array), float(np.sqrt(variance))
    auc_low, auc_high = normal_interval(auc, auc_se, alpha)
    citl_fit, slope_fit = recalibration_fits(clipped_logit(scores.scores), scores.labels)
    events = float(y.sum())
    expected_events = float(p.sum())
    citl_sd = math.sqrt(float(np.sum(p * (1.0 - p))))
    citl_z = (events - expected_events) / citl_sd if citl_sd > 0 else float("nan")
    slope = None if slope_fit is None else float(slope_fit.coef[1])
    slope_se = None if slope_fit is None else float(slope_fit.se[1])
    slope_p = (
        _two_sided_p((slope - 1.0) / slope_se)
        if slope is not None and slope_se is not None and slope_se > 0
        else float("nan")
    )
    prevalence_low, prevalence_high = wilson_interval(int(events), n, alpha)
    return {
        "n": n,
        "auc": auc,
        "auc_se": auc_se,
        "auc_ci": [float(auc_low), float(auc_high)],
        "brier": float(np.mean((p - y) ** 2)) if n else float("nan"),
        "prevalence": events / n if n else float("nan"),
        "prevalence_ci": [float(prevalence_low), float(prevalence_high)],
        "mean_predicted": expected_events / n if n else float("nan"),
        "oe_ratio": events / expected_events if expected_events > 0 else float("nan"),
        "citl_z": citl_z,
        "citl_pvalue": _two_sided_p(citl_z),
        "citl_shift": None if citl_fit is None else float(citl_fit.coef[0]),
        "calibration_intercept": None if slope_fit is None else float(slope_fit.coef[0]),
        "calibration_slope": slope,
        "slope_se": slope_se,
        "slope_pvalue": slope_p,
    }


def assess_performance(
    p: np.ndarray,
    y: np.ndarray | None,
    reference: Mapping[str, Any],
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimated and (when labels exist) measured performance of a batch against the reference.

    Args:
        p: Calibrated predicted probabilities of the batch.
        y: 0/1 labels with NaN for unlabelled rows, or None.
        reference: Dict from ``build_reference``.
        thresholds: Overrides of the monitor thresholds (``alpha``, ``correction``,
            ``confidence``, ``auc_tolerance``, ``oe_tolerance``, ``slope_tolerance``).

    Returns:
        Dict with ``n``, ``has_labels``, ``expected`` (label-free), ``reference`` (reference
        performance), ``expected_auc_change``, and with labels ``observed`` plus ``comparison``
        (AUC change with interval and p-value), ``pvalues_adjusted`` and boolean ``flags``
        (``auc_drop``, ``miscalibrated_in_the_large``, ``slope_off``, ``ranking_off``).

    Raises:
        ValueError: On predictions outside [0, 1] or labels that are not 0/1.
    """
    from .verdict import resolve_thresholds

    limits = resolve_thresholds(thresholds)
    probs = np.asarray(p, dtype=float).ravel()
    if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise ValueError("Batch predictions 'p' must be finite probabilities in [0, 1].")
    ref_perf = reference.get("performance", {})
    expected = expected_performance(probs)
    ref_expected_auc = ref_perf.get("expected", {}).get("auc")
    result: dict[str, Any] = {
        "n": int(probs.size),
        "has_labels": False,
        "expected": expected,
        "reference": dict(ref_perf),
        "expected_auc_change": (
            expected["auc"] - ref_expected_auc if ref_expected_auc is not None else None
        ),
    }
    if y is None:
        return result
    labels = np.asarray(y, dtype=float).ravel()
    if labels.size != probs.size:
        raise ValueError(f"Batch labels have {labels.size} rows but predictions {probs.size}.")
    known = ~np.isnan(labels)
    if not np.isin(labels[known], (0.0, 1.0)).all():
        raise ValueError("Batch labels must be 0/1 (NaN for unlabelled rows).")
    if known.sum() == 0:
        return result

    from ..metrics.calibration import clipped_logit
    from ..metrics.intervals import normal_interval
    from ..metrics.logistic import expit

    observed = observed_performance(labels[known], probs[known], limits["confidence"])
    result["has_labels"] = True
    result["observed"] = observed
    ref_obs = ref_perf.get("observed")
    comparison: dict[str, Any] = {"auc_change": None, "auc_change_ci": None, "auc_pvalue": None}
    shift = observed["citl_shift"]
    ranking_change, ranking_p = None, float("nan")
    if shift is not None and math.isfinite(observed["auc_se"]) and observed["auc_se"] > 0:
        shifted = expit(clipped_logit(probs[known]) + shift)
        observed["expected_auc_after_prior_shift"] = expected_auc(shifted)
        ranking_change = observed["auc"] - observed["expected_auc_after_prior_shift"]
        ranking_p = _two_sided_p(ranking_change / observed["auc_se"])
    observed["ranking_change"] = ranking_change
    if ref_obs and ref_obs.get("auc") is not None and math.isfinite(observed["auc_se"]):
        change = observed["auc"] - ref_obs["auc"]
        se = math.sqrt(observed["auc_se"] ** 2 + (ref_obs.get("auc_se") or 0.0) ** 2)
        change_low, change_high = normal_interval(change, se, 1.0 - limits["confidence"])
        comparison = {
            "auc_change": change,
            "auc_change_ci": [float(change_low), float(change_high)],
            "auc_pvalue": _two_sided_p(change / se) if se > 0 else float("nan"),
            "prevalence_change": observed["prevalence"] - ref_obs["prevalence"],
            "brier_change": observed["brier"] - ref_obs["brier"],
        }
    result["comparison"] = comparison

    adjusted = holm_adjust(
        {
            "citl": observed["citl_pvalue"],
            "slope": observed["slope_pvalue"],
            "auc": comparison["auc_pvalue"],
            "ranking": ranking_p,
        },
        limits["correction"],
    )
    result["pvalues_adjusted"] = adjusted
    alpha = limits["alpha"]

    def significant(name: str) -> bool:
        return adjusted.get(name, 1.0) < alpha

    oe = observed["oe_ratio"]
    slope = observed["calibration_slope"]
    change = comparison["auc_change"]
    result["flags"] = {
        # Drop beyond the tolerance AND the interval of the change excludes zero.
        "auc_drop": bool(
            change is not None and change < -limits["auc_tolerance"] and significant("auc")
        ),
        "miscalibrated_in_the_large": bool(
            math.isfinite(oe) and abs(oe - 1.0) >= limits["oe_tolerance"] and significant("citl")
        ),
        # Real AUC below what a pure prior shift would give: the ranking itself degraded.
        "ranking_off": bool(
            ranking_change is not None
            and ranking_change < -limits["auc_tolerance"]
            and significant("ranking")
        ),
        "slope_off": bool(
            slope is not None
            and abs(slope - 1.0) >= limits["slope_tolerance"]
            and significant("slope")
        ),
    }
    return result
