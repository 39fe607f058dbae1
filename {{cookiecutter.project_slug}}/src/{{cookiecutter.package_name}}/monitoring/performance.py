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
  z = (sum y - sum p) / sqrt(sum p (1 - p)) and the matching interval
  (sum y -/+ z_conf sqrt(sum p (1 - p))) / sum p, and the log-odds shift ``a`` in
  logit P(y) = a + logit(p);
* logistic recalibration logit P(y) = a + b logit(p): slope ``b`` with its Wald interval, its
  change against the reference slope (both standard errors), and the recalibration line's
  log-odds offset at the reference case mix, ``c = a + (b - 1) L_ref`` with ``L_ref`` the mean
  logit of the reference predictions (Wald interval from the fit's covariance). ``c`` is the
  intercept shift the labels show where the model was validated: a prior shift moves it by the
  shift, a covariate shift that only exposes a miscalibrated region of the model (slope off in
  the shifted region) leaves it near 0. It is reported as the O/E the shift would give on the
  reference predictions (``oe_at_reference_mix``);
* ranking check: the real AUC against the AUC expected from this batch's own predictions if
  they were calibrated up to the base rate (the CBPE estimate on the intercept-shifted
  probabilities expit(logit(p) + a)). A prior shift changes the real AUC a little by itself (the
  positives' score mix changes); this check separates that from a ranking that really
  deteriorated (concept drift). Its interval uses the DeLong standard error (conservative: the
  expectation is computed on the same rows). When the reference has labels, the same gap on
  the reference (real minus CBPE AUC; a model that is under- or over-confident shows one) is
  the baseline: the change of the gap uses both standard errors.

Flags are judged on intervals at ``confidence``, not on point estimates:

* ``auc_drop``: AUC change below ``-auc_tolerance`` and its interval below 0;
* ``ranking_off``: real minus expected AUC below ``-auc_tolerance``, its interval below 0 and,
  with a labelled reference, the interval of its change against the reference's gap below 0;
* ``slope_weakened`` / ``slope_strengthened``: the slope's whole interval below
  ``1 - slope_tolerance`` / above ``1 + slope_tolerance`` and, with a reference slope, the
  interval of the change against it below / above 0 (a model whose slope was already off on the
  reference is not drifting); ``slope_off`` is either (``evidence["slope"]["under_confident"]``,
  not a flag, says the slope's interval lies above 1);
* ``miscalibrated_in_the_large``: O/E off 1 by ``oe_tolerance`` or more with its interval
  excluding 1; ``miscalibrated_at_reference_mix``: the same for ``oe_at_reference_mix``.

The slope needs its whole interval outside the tolerated band (a flexible model's slope is often
significantly, but harmlessly, off 1); AUC and O/E need a material point estimate and an
interval that excludes no change. ``pvalues_adjusted`` (Holm or Bonferroni over the O/E, slope,
AUC-change and ranking tests) is reported for reading; the flags use the intervals, whose
tolerances are what keeps false alarms rare. DeLong, Wilson, the recalibration fits and
``logit`` come from the project's ``metrics`` package (imported only on the labelled path, so
an unlabelled batch does not pay for it); what is particular to monitoring (the CBPE estimate,
the score test, the offset at the reference mix, Holm) lives here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

if TYPE_CHECKING:
    from ..core.settings import MonitorThresholds

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
        ``prevalence_ci`` (Wilson), ``mean_predicted``, ``oe_ratio``, ``oe_ci``, ``citl_z``,
        ``citl_pvalue``, ``citl_shift``, and the recalibration ``calibration_intercept``,
        ``calibration_slope``, ``slope_se``, ``slope_ci`` (Wald), ``slope_pvalue`` and
        ``calibration_cov`` (Wald covariance of intercept and slope, 2 x 2 nested list).
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
    oe_low, oe_high = normal_interval(events, citl_sd, alpha)
    slope = slope_se = slope_ci = None
    if slope_fit is not None:
        slope, slope_se = float(slope_fit.coef[1]), float(slope_fit.se[1])
        slope_ci = [float(b) for b in normal_interval(slope, slope_se, alpha)]
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
        "oe_ci": (
            [float(oe_low) / expected_events, float(oe_high) / expected_events]
            if expected_events > 0
            else None
        ),
        "citl_z": citl_z,
        "citl_pvalue": _two_sided_p(citl_z),
        "citl_shift": None if citl_fit is None else float(citl_fit.coef[0]),
        "calibration_intercept": None if slope_fit is None else float(slope_fit.coef[0]),
        "calibration_slope": slope,
        "slope_se": slope_se,
        "slope_ci": slope_ci,
        "slope_pvalue": slope_p,
        "calibration_cov": None if slope_fit is None else np.asarray(slope_fit.cov).tolist(),
    }


def assess_performance(
    p: np.ndarray,
    y: np.ndarray | None,
    reference: Mapping[str, Any],
    thresholds: MonitorThresholds | Mapping[str, Any] | None = None,
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
        (``auc_drop``, ``miscalibrated_in_the_large``, ``miscalibrated_at_reference_mix``,
        ``slope_off``, ``slope_weakened``, ``slope_strengthened``, ``ranking_off``; see the
        module docstring) and the estimates and intervals behind them in ``evidence``.

    Raises:
        ValueError: On predictions outside [0, 1] or labels that are not 0/1.
    """
    from .thresholds import resolve_thresholds

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
    evidence = _evidence(observed, comparison, reference, limits)
    result["evidence"] = evidence
    result["flags"] = _flags(evidence, limits)
    return result


def _interval(estimate: float | None, se: float | None, alpha: float) -> list[float] | None:
    """The metrics package's Wald interval as a list, or None when undefined."""
    if estimate is None or se is None or not (math.isfinite(estimate) and math.isfinite(se)):
        return None
    from ..metrics.intervals import normal_interval

    low, high = normal_interval(float(estimate), float(se), alpha)
    return [float(low), float(high)]


def _finite(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a finite number (not None, NaN or infinite)."""
    return value is not None and math.isfinite(float(value))


def _reference_logits(reference: Mapping[str, Any]) -> np.ndarray | None:
    """Logits of the reference predictions (their KS sketch, i.e. quantiles), or None."""
    from ..metrics.calibration import clipped_logit

    sketch = np.asarray((reference.get("prediction") or {}).get("sketch") or [], dtype=float)
    return clipped_logit(sketch) if sketch.size else None


def _evidence(
    observed: dict[str, Any],
    comparison: Mapping[str, Any],
    reference: Mapping[str, Any],
    limits: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Estimates and intervals (at ``confidence``) behind the label flags.

    Also records ``oe_at_reference_mix`` in ``observed``.
    """
    from ..metrics.logistic import expit

    alpha = 1.0 - float(limits["confidence"])
    ref_perf = reference.get("performance", {})
    ref_obs = ref_perf.get("observed") or {}
    ref_expected_auc = (ref_perf.get("expected") or {}).get("auc")
    auc, auc_se = observed["auc"], observed["auc_se"]
    evidence: dict[str, dict[str, Any]] = {}

    evidence["auc_change"] = {
        "estimate": comparison.get("auc_change"),
        "interval": comparison.get("auc_change_ci"),
    }

    expected = observed.get("expected_auc_after_prior_shift")
    gap = observed.get("ranking_change")
    ranking: dict[str, Any] = {
        "auc": auc,
        "auc_interval": observed.get("auc_ci"),
        "expected": expected,
        "estimate": gap,
        "interval": _interval(gap, auc_se, alpha),
        "reference_gap": None,
        "change": None,
        "change_interval": None,
    }
    if _finite(gap) and _finite(ref_obs.get("auc")) and _finite(ref_expected_auc):
        reference_gap = float(ref_obs["auc"]) - float(ref_expected_auc)
        change = gap - reference_gap
        se = math.sqrt(auc_se**2 + float(ref_obs.get("auc_se") or 0.0) ** 2)
        ranking.update(
            reference_gap=reference_gap, change=change, change_interval=_interval(change, se, alpha)
        )
    evidence["ranking"] = ranking

    slope, slope_se = observed.get("calibration_slope"), observed.get("slope_se")
    slope_entry: dict[str, Any] = {
        "estimate": slope,
        "interval": observed.get("slope_ci") or _interval(slope, slope_se, alpha),
        "reference": ref_obs.get("calibration_slope"),
        "reference_interval": _interval(
            ref_obs.get("calibration_slope"), ref_obs.get("slope_se"), alpha
        ),
        "change": None,
        "change_interval": None,
    }
    # Significantly above 1: the labels separate more sharply than p says. Not a problem by
    # itself (the verdict asks whether a covariate shift and a holding ranking explain it).
    slope_entry["under_confident"] = _above(slope_entry["interval"], 1.0)
    if _finite(slope) and _finite(slope_se) and _finite(ref_obs.get("calibration_slope")):
        change = slope - float(ref_obs["calibration_slope"])
        se = math.sqrt(slope_se**2 + float(ref_obs.get("slope_se") or 0.0) ** 2)
        slope_entry.update(change=change, change_interval=_interval(change, se, alpha))
    evidence["slope"] = slope_entry

    evidence["oe"] = {"estimate": observed.get("oe_ratio"), "interval": observed.get("oe_ci")}

    # The recalibration line's log-odds offset at the reference case mix, as an O/E there.
    mix: dict[str, Any] = {
        "offset": None,
        "offset_interval": None,
        "estimate": None,
        "interval": None,
    }
    logits = _reference_logits(reference)
    cov = observed.get("calibration_cov")
    intercept = observed.get("calibration_intercept")
    if logits is not None and cov is not None and _finite(slope) and _finite(intercept):
        centre = float(np.mean(logits))
        offset = float(intercept) + (float(slope) - 1.0) * centre
        variance = cov[0][0] + centre**2 * cov[1][1] + 2.0 * centre * cov[0][1]
        base = float(np.mean(expit(logits)))

        def oe_at_mix(shift: float) -> float:
            return float(np.mean(expit(logits + shift))) / base

        bounds = _interval(offset, math.sqrt(max(variance, 0.0)), alpha)
        mix.update(
            offset=offset,
            offset_interval=bounds,
            estimate=oe_at_mix(offset),
            interval=None if bounds is None else [oe_at_mix(b) for b in bounds],
        )
    observed["oe_at_reference_mix"] = mix["estimate"]
    evidence["oe_at_reference_mix"] = mix
    return evidence


def _below(interval: list[float] | None, bound: float) -> bool:
    return interval is not None and interval[1] < bound


def _above(interval: list[float] | None, bound: float) -> bool:
    return interval is not None and interval[0] > bound


def _flags(evidence: Mapping[str, Mapping[str, Any]], limits: Mapping[str, Any]) -> dict:
    """Boolean label flags from the evidence (rules in the module docstring)."""
    auc_tol, slope_tol, oe_tol = (
        float(limits["auc_tolerance"]),
        float(limits["slope_tolerance"]),
        float(limits["oe_tolerance"]),
    )
    change = evidence["auc_change"]
    ranking = evidence["ranking"]
    slope = evidence["slope"]

    def off_one(entry: Mapping[str, Any]) -> bool:
        value, interval = entry.get("estimate"), entry.get("interval")
        return bool(
            _finite(value)
            and abs(value - 1.0) >= oe_tol
            and (_below(interval, 1.0) or _above(interval, 1.0))
        )

    has_slope_change = slope.get("change_interval") is not None
    weakened = _below(slope["interval"], 1.0 - slope_tol) and (
        not has_slope_change or _below(slope["change_interval"], 0.0)
    )
    strengthened = _above(slope["interval"], 1.0 + slope_tol) and (
        not has_slope_change or _above(slope["change_interval"], 0.0)
    )
    return {
        # Drop beyond the tolerance AND the interval of the change excludes zero.
        "auc_drop": bool(
            _finite(change["estimate"])
            and change["estimate"] < -auc_tol
            and _below(change["interval"], 0.0)
        ),
        "miscalibrated_in_the_large": off_one(evidence["oe"]),
        "miscalibrated_at_reference_mix": off_one(evidence["oe_at_reference_mix"]),
        # Real AUC below what the batch's own predictions lead one to expect: ranking degraded.
        "ranking_off": bool(
            _finite(ranking["estimate"])
            and ranking["estimate"] < -auc_tol
            and _below(ranking["interval"], 0.0)
            and (ranking["change_interval"] is None or _below(ranking["change_interval"], 0.0))
        ),
        "slope_off": bool(weakened or strengthened),
        "slope_weakened": bool(weakened),
        "slope_strengthened": bool(strengthened),
    }
