"""Turn drift and performance results into one verdict per batch, and keep a history CSV.

Verdicts, most severe first (the most severe rule that fires wins; every finding is listed in
``reasons`` regardless):

1. ``investigate-data``: a data-quality problem makes the statistics untrustworthy: a monitored
   column missing or unreadable (schema), a missing share up by ``max_missing_increase`` or
   more, or at least ``max_unseen_share`` of a categorical's values being unseen categories.
2. ``retrain`` (labels present; every rule judged on intervals at ``confidence``, the numbers
   and intervals named in the reason; details in ``monitoring/performance.py``):
   * performance: real AUC below the reference by more than ``auc_tolerance`` with the interval
     of the change below zero;
   * concept drift, evidence that P(y | x) changed:
     - the relation weakened: the calibration slope's whole interval below
       ``1 - slope_tolerance`` (and below the reference slope: the interval of the change
       below 0);
     - the ranking degraded: the real AUC below the AUC expected from this batch's own
       predictions (CBPE, calibrated up to the base rate) by more than ``auc_tolerance``, the
       interval of the difference below 0 (and below the reference's own gap, if labelled);
     - the relation strengthened: the slope's whole interval above ``1 + slope_tolerance``
       (and above the reference slope) while nothing explains it (see the covariate rule);
   * prior drift: only the base rate moved: observed over expected events off 1 by
     ``oe_tolerance`` with its interval excluding 1, and no concept drift. Under covariate
     drift the O/E is judged at the reference case mix (the recalibration line's offset where
     the model was validated), so a shift that only exposes a miscalibrated region of the model
     is not taken for prior drift. An intercept recalibration may suffice.
   An under-confident slope (interval above 1) under covariate drift (a feature or the
   predictions moved) with the real AUC's interval reaching the AUC the batch's predictions
   lead one to expect is covariate drift, not concept drift: the model is too cautious where
   the features moved, and its ranking holds. It counts as ``watch``; an O/E off only at the
   batch's case mix (not at the reference's) is reported as a note.
3. ``retrain`` (no labels, or labels that do not show the model still performing): strong
   covariate drift (status ``drift``) on an important feature (importance >= ``importance_min``)
   or strong prediction drift.
4. ``watch``: moderate covariate drift on an important feature, strong drift on a minor one,
   moderate prediction drift, a label-free estimated AUC down by more than ``auc_tolerance``, an
   under-confident slope the covariate drift explains (above), or strong covariate or
   prediction drift while the labels show the model holding (no performance, concept or prior
   rule fired).
5. ``ok``: none of the above. Moderate drift on minor features is reported but does not act.

Covariate drift = feature distributions moved (P(x)); prior drift = P(y) moved with P(y | x) up
to an intercept; concept drift = the relation P(y | x) itself moved. The last two need labels.

Each rule is a function of the batch's facts (:func:`read_batch`) and the thresholds that
returns its findings (:class:`Finding`): :func:`data_quality_rule`, :func:`performance_rule`,
:func:`concept_drift_rule` (its parts :func:`weakened_relation`, :func:`degraded_ranking`,
:func:`strengthened_relation`), :func:`prior_drift_rule`, :func:`covariate_drift_rule`,
:func:`prediction_drift_rule`, :func:`calibration_slope_rule`,
:func:`calibration_in_the_large_rule`, :func:`estimated_auc_rule`, :func:`low_power_rule`;
:func:`decide` composes them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ..core.io import atomic_path
from ..core.settings import MonitorThresholds
from .thresholds import monitor_thresholds

VERDICTS = ("ok", "watch", "retrain", "investigate-data")
HISTORY_COLUMNS = (
    "timestamp",
    "batch",
    "n",
    "verdict",
    "n_drift_features",
    "n_watch_features",
    "max_psi",
    "max_psi_feature",
    "prediction_psi",
    "prediction_ks",
    "expected_auc",
    "real_auc",
    "real_auc_low",
    "real_auc_high",
    "expected_prevalence",
    "real_prevalence",
    "oe_ratio",
    "calibration_slope",
    "reasons",
)


def _pct(value: float) -> str:
    return f"{100.0 * value:.1f}%"


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _drift_text(name: str, entry: Mapping[str, Any]) -> str:
    parts = [f"PSI {_num(entry.get('psi'))}"]
    if entry.get("ks_statistic") is not None:
        parts.append(f"KS {_num(entry.get('ks_statistic'))}")
    if entry.get("js_distance") is not None:
        parts.append(f"JS {_num(entry.get('js_distance'))}")
    adjusted = entry.get("pvalue_adjusted")
    parts.append("adj. p n/a" if adjusted is None else f"adj. p {adjusted:.2g}")
    return f"'{name}' ({', '.join(parts)})"


def _data_quality(drift: Mapping[str, Any], limits: MonitorThresholds) -> list[str]:
    problems = [f"data quality: schema: {issue}" for issue in drift.get("schema_issues", [])]
    for name, entry in drift["features"].items():
        change = entry.get("missing_change")
        if change is not None and change >= limits.max_missing_increase:
            problems.append(
                f"data quality: missing share of '{name}' rose from "
                f"{_pct(entry['missing_share_reference'])} to {_pct(entry['missing_share'])}"
            )
        unseen = entry.get("unseen_share")
        if unseen is not None and unseen >= limits.max_unseen_share:
            examples = ", ".join(entry.get("unseen_categories", [])[:5])
            problems.append(
                f"data quality: {_pct(unseen)} of '{name}' values are categories unseen in the "
                f"reference ({entry.get('n_unseen_categories', 0)} distinct, e.g. {examples})"
            )
    return problems


def _slope_direction(flags: Mapping[str, Any], observed: Mapping[str, Any]) -> tuple[bool, bool]:
    """(weakened, strengthened); flags without the direction keys take it from the slope."""
    if "slope_weakened" in flags or "slope_strengthened" in flags:
        return bool(flags.get("slope_weakened")), bool(flags.get("slope_strengthened"))
    if not flags.get("slope_off"):
        return False, False
    slope = observed.get("calibration_slope")
    return slope is not None and slope < 1.0, slope is not None and slope > 1.0


def _reaches_expected(ranking: Mapping[str, Any]) -> bool:
    """The real AUC's interval reaches the AUC the batch's predictions lead one to expect."""
    interval, expected = ranking.get("auc_interval"), ranking.get("expected")
    if interval is None or expected is None or not math.isfinite(expected):
        return False
    return interval[1] >= expected


def _with_interval(entry: Mapping[str, Any], fallback: Any, digits: int) -> str:
    value = entry.get("estimate", fallback)
    interval = entry.get("interval")
    text = _num(value, digits)
    if interval is not None:
        text += f" [{_num(interval[0], digits)}, {_num(interval[1], digits)}]"
    return text


def _slope_text(slope: Mapping[str, Any], observed: Mapping[str, Any]) -> str:
    return _with_interval(slope, observed.get("calibration_slope"), 2)


def _ref_slope_text(slope: Mapping[str, Any], lead: str = "; ") -> str:
    if slope.get("reference") is None:
        return ""
    text = f"{lead}reference slope {_num(slope['reference'], 2)}"
    ref_interval = slope.get("reference_interval")
    if ref_interval is not None:
        text += f" [{_num(ref_interval[0], 2)}, {_num(ref_interval[1], 2)}]"
    return text


def _ranking_text(
    ranking: Mapping[str, Any],
    observed: Mapping[str, Any],
    limits: MonitorThresholds,
    short: bool = False,
) -> str:
    auc = {
        "estimate": ranking.get("auc", observed.get("auc")),
        "interval": ranking.get("auc_interval"),
    }
    expected = ranking.get("expected", observed.get("expected_auc_after_prior_shift"))
    text = (
        f"real AUC {_with_interval(auc, None, 3)} vs {_num(expected)} expected from this batch's "
        "predictions"
    )
    if short:
        return text
    text += (
        f" (difference {_with_interval(ranking, observed.get('ranking_change'), 3)}, tolerance "
        f"{limits.auc_tolerance}"
    )
    if ranking.get("reference_gap") is not None:
        change = {"estimate": ranking.get("change"), "interval": ranking.get("change_interval")}
        text += (
            f"; reference gap {ranking['reference_gap']:+.3f}, change "
            f"{_with_interval(change, None, 3)}"
        )
    return text + ")"


class Finding(NamedTuple):
    """One finding of a rule: the verdict it calls for and its reason.

    A note (``verdict`` ``ok``, the reason starting "note:") is reported and acts on nothing.
    Every rule returns a list of findings (empty: it did not fire); ``decide`` takes the most
    severe verdict among them and lists every reason.

    Attributes:
        verdict: one of ``VERDICTS``.
        reason: the finding in words, naming its kind, numbers and intervals.
    """

    verdict: str
    reason: str


def _note(text: str) -> Finding:
    return Finding("ok", f"note: {text}")


@dataclass(frozen=True)
class BatchFacts:
    """What the rules read of one batch, and the facts that follow from it before any rule.

    Built by :func:`read_batch`; the rules are functions of it and of the thresholds.
    """

    n: int | None
    features: Mapping[str, Mapping[str, Any]]
    # covariate drift weighed by importance: (status, important) -> feature names
    groups: Mapping[tuple[str, bool], list[str]]
    prediction: Mapping[str, Any]
    has_labels: bool
    flags: Mapping[str, Any]
    evidence: Mapping[str, Any]
    observed: Mapping[str, Any]
    comparison: Mapping[str, Any]
    reference_observed: Mapping[str, Any]
    expected_auc_change: float | None

    @property
    def prediction_status(self) -> str:
        """``stable``, ``watch`` or ``drift``."""
        return self.prediction.get("status", "stable")

    @property
    def covariate_shift(self) -> bool:
        """Any feature or the predictions drift (moderately or strongly)."""
        return any(self.groups.values()) or self.prediction_status in ("watch", "drift")

    @property
    def auc_drop(self) -> bool:
        """The real AUC fell below the reference's (``assess_performance``'s flag)."""
        return self.flags.get("auc_drop", False)

    @property
    def ranking_off(self) -> bool:
        """The real AUC fell below the AUC the batch's predictions lead one to expect."""
        return self.flags.get("ranking_off", False)

    @property
    def slope(self) -> Mapping[str, Any]:
        """The calibration slope's evidence (estimate, interval, reference)."""
        return self.evidence.get("slope", {})

    @property
    def ranking(self) -> Mapping[str, Any]:
        """The real against the expected AUC's evidence."""
        return self.evidence.get("ranking", {})

    @property
    def weakened(self) -> bool:
        """The slope's whole interval below ``1 - slope_tolerance``."""
        return _slope_direction(self.flags, self.observed)[0]

    @property
    def strengthened(self) -> bool:
        """The slope's whole interval above ``1 + slope_tolerance``."""
        return _slope_direction(self.flags, self.observed)[1]

    @property
    def under_confident(self) -> bool:
        """The slope's interval above 1, beyond the tolerance or not."""
        return self.strengthened or bool(self.slope.get("under_confident"))

    @property
    def slope_explained(self) -> bool:
        """An under-confident slope the covariate drift explains: the ranking holds."""
        ranking_holds = not self.ranking_off and _reaches_expected(self.ranking)
        return self.has_labels and self.under_confident and self.covariate_shift and ranking_holds

    @property
    def oe_at_reference_mix(self) -> Mapping[str, Any]:
        """Observed over expected events at the reference case mix."""
        return self.evidence.get("oe_at_reference_mix", {})

    @property
    def use_reference_mix(self) -> bool:
        """Under covariate drift the O/E is judged at the reference case mix, when known."""
        return self.covariate_shift and self.oe_at_reference_mix.get("estimate") is not None

    @property
    def citl_off_raw(self) -> bool:
        """O/E off 1 at the batch's own case mix."""
        return self.flags.get("miscalibrated_in_the_large", False)

    @property
    def citl_off(self) -> bool:
        """O/E off 1 where it is judged (the reference case mix under covariate drift)."""
        if self.use_reference_mix:
            return self.flags.get("miscalibrated_at_reference_mix", False)
        return self.citl_off_raw

    @property
    def citl_explained(self) -> bool:
        """O/E off at the batch's case mix only: the covariate shift explains it."""
        return self.citl_off_raw and self.use_reference_mix and not self.citl_off


def read_batch(
    drift_result: Mapping[str, Any],
    performance_result: Mapping[str, Any],
    reference: Mapping[str, Any],
    limits: MonitorThresholds,
) -> BatchFacts:
    """The facts the rules read, from ``compute_drift``, ``assess_performance`` and the reference.

    Args:
        drift_result: Output of ``compute_drift``.
        performance_result: Output of ``assess_performance``; its flags and evidence count only
            when the batch has labels.
        reference: The reference dict (its observed performance, named in the reasons).
        limits: The thresholds (``importance_min`` sorts the drifting features).

    Returns:
        The batch's facts, with the drifting features grouped by (status, important).
    """
    groups: dict[tuple[str, bool], list[str]] = {
        (status, key): [] for status in ("drift", "watch") for key in (True, False)
    }
    for name, entry in drift_result["features"].items():
        if entry.get("status") in ("watch", "drift"):
            key = entry.get("importance", 0.0) >= limits.importance_min
            groups[(entry["status"], key)].append(name)
    perf = performance_result
    has_labels = bool(perf.get("has_labels"))
    return BatchFacts(
        n=drift_result.get("n"),
        features=drift_result["features"],
        groups=groups,
        prediction=drift_result.get("prediction") or {},
        has_labels=has_labels,
        flags=perf.get("flags", {}) if has_labels else {},
        evidence=perf.get("evidence", {}) if has_labels else {},
        observed=perf.get("observed", {}),
        comparison=perf.get("comparison", {}),
        reference_observed=reference.get("performance", {}).get("observed", {}),
        expected_auc_change=perf.get("expected_auc_change"),
    )


def data_quality_rule(
    drift_result: Mapping[str, Any], limits: MonitorThresholds
) -> list[Finding]:
    """``investigate-data``: a schema issue, a missing share up, or unseen categories."""
    return [Finding("investigate-data", text) for text in _data_quality(drift_result, limits)]


def performance_rule(facts: BatchFacts, limits: MonitorThresholds) -> list[Finding]:
    """``retrain``: the real AUC below the reference's (concept drift by AUC, reference)."""
    if not facts.auc_drop:
        return []
    observed, comparison = facts.observed, facts.comparison
    ci = comparison.get("auc_change_ci") or [float("nan")] * 2
    return [Finding("retrain", (
        f"performance: real AUC {_num(observed.get('auc'))} is below the reference "
        f"{_num(facts.reference_observed.get('auc'))} (change "
        f"{_num(comparison.get('auc_change'))}, interval [{_num(ci[0])}, {_num(ci[1])}], "
        f"tolerance {limits.auc_tolerance})"
    ))]


def weakened_relation(facts: BatchFacts, limits: MonitorThresholds) -> str | None:
    """Concept drift, the relation weakened: the slope wholly below ``1 - slope_tolerance``."""
    if not facts.weakened:
        return None
    return (
        f"calibration slope {_slope_text(facts.slope, facts.observed)} < "
        f"{1 - limits.slope_tolerance:.2f} (1 - slope_tolerance"
        f"{_ref_slope_text(facts.slope)}): the relation weakened"
    )


def degraded_ranking(facts: BatchFacts, limits: MonitorThresholds) -> str | None:
    """Concept drift by AUC against the expected: the real AUC below the batch's own CBPE."""
    if not facts.ranking_off:
        return None
    return f"{_ranking_text(facts.ranking, facts.observed, limits)}: the ranking degraded"


def strengthened_relation(facts: BatchFacts, limits: MonitorThresholds) -> str | None:
    """Concept drift, the relation strengthened: the slope wholly above ``1 + slope_tolerance``.

    Only when nothing explains it: no covariate drift, or a ranking that does not hold.
    """
    if not facts.strengthened or facts.slope_explained:
        return None
    context = (
        "features and predictions stable"
        if not facts.covariate_shift
        else f"the ranking does not hold ({_ranking_text(facts.ranking, facts.observed, limits)})"
    )
    return (
        f"calibration slope {_slope_text(facts.slope, facts.observed)} > "
        f"{1 + limits.slope_tolerance:.2f} (1 + slope_tolerance"
        f"{_ref_slope_text(facts.slope)}) with {context}: the relation strengthened"
    )


CONCEPT_PARTS = (weakened_relation, degraded_ranking, strengthened_relation)


def concept_drift_rule(facts: BatchFacts, limits: MonitorThresholds) -> list[Finding]:
    """``retrain``: evidence that P(y | x) changed, one reason listing each part that fired."""
    parts = [text for part in CONCEPT_PARTS if (text := part(facts, limits)) is not None]
    if not parts:
        return []
    return [Finding("retrain", "concept drift: the relation between features and outcome "
                               "changed: " + "; ".join(parts))]


def prior_drift_rule(
    facts: BatchFacts, limits: MonitorThresholds, concept: bool
) -> list[Finding]:
    """``retrain``: only the base rate moved (O/E off 1 where judged, and no concept drift).

    Args:
        facts: the batch's facts.
        limits: the thresholds (``oe_tolerance`` is named in the reason).
        concept: whether the concept-drift rule fired.
    """
    if not facts.citl_off or concept:
        return []
    observed, evidence = facts.observed, facts.evidence
    oe_text = f"O/E {_with_interval(evidence.get('oe', {}), observed.get('oe_ratio'), 2)}"
    context = (
        "features stable"
        if not facts.covariate_shift
        else "beyond what the feature shift explains (O/E at the reference case mix "
        f"{_with_interval(facts.oe_at_reference_mix, None, 2)})"
        if facts.use_reference_mix
        else "beyond what the feature shift explains"
    )
    return [Finding("retrain", (
        f"prior drift: prevalence {_pct(observed.get('prevalence', float('nan')))} vs "
        f"{_pct(observed.get('mean_predicted', float('nan')))} expected from the calibrated "
        f"predictions ({oe_text}, tolerance {limits.oe_tolerance}, reference prevalence "
        f"{_pct(facts.reference_observed.get('prevalence', float('nan')))}); ranking and "
        f"calibration slope intact, {context}: recalibrating the intercept may suffice"
    ))]


def _drift_list(facts: BatchFacts, names: list[str]) -> str:
    return "; ".join(_drift_text(n, facts.features[n]) for n in names)


def covariate_drift_rule(facts: BatchFacts, labels_show_health: bool) -> list[Finding]:
    """Feature drift weighed by importance (``importance_min``, applied by :func:`read_batch`).

    Strong on an important feature: ``retrain``, or ``watch`` while the labels show the model
    holding; moderate on an important one or strong on a minor one: ``watch``; moderate on a
    minor one: a note.

    Args:
        facts: the batch's facts.
        labels_show_health: labels present and no performance, concept or prior rule fired.
    """
    findings = []
    strong = facts.groups[("drift", True)]
    if strong and labels_show_health:
        findings.append(Finding("watch", (
            f"covariate drift (strong) on important features {_drift_list(facts, strong)}; the "
            "labels show the model holding (no performance loss, no concept or prior drift), so "
            "no retrain yet"
        )))
    elif strong:
        findings.append(Finding("retrain", "covariate drift (strong) on important features "
                                           + _drift_list(facts, strong)))
    moderate_key, strong_minor = facts.groups[("watch", True)], facts.groups[("drift", False)]
    if moderate_key:
        findings.append(Finding("watch", "covariate drift (moderate) on important features "
                                         + _drift_list(facts, moderate_key)))
    if strong_minor:
        findings.append(Finding("watch", "covariate drift (strong) on minor features "
                                         + _drift_list(facts, strong_minor)))
    moderate_minor = facts.groups[("watch", False)]
    if moderate_minor:
        findings.append(_note("covariate drift (moderate) on minor features "
                              + _drift_list(facts, moderate_minor)))
    return findings


def prediction_drift_rule(facts: BatchFacts, labels_show_health: bool) -> list[Finding]:
    """The predictions' distribution moved.

    Strong: ``retrain`` unless the labels show the model holding; moderate, or strong with
    healthy labels: ``watch``.

    Args:
        facts: the batch's facts.
        labels_show_health: labels present and no performance, concept or prior rule fired.
    """
    status = facts.prediction_status
    if status not in ("watch", "drift"):
        return []
    strong = status == "drift" and not labels_show_health
    return [Finding("retrain" if strong else "watch",
                    f"prediction drift ({status}): {_drift_text('p', facts.prediction)}")]


def calibration_slope_rule(
    facts: BatchFacts, limits: MonitorThresholds, concept: bool
) -> list[Finding]:
    """An under-confident slope that is no concept drift.

    Explained by the covariate drift (the ranking holds): ``watch``; otherwise (within the
    tolerance, or next to an AUC drop): a note. Said after the drift it follows from.

    Args:
        facts: the batch's facts.
        limits: the thresholds.
        concept: whether the concept-drift rule fired (then the slope is part of it).
    """
    slope, observed = facts.slope, facts.observed
    if facts.slope_explained and not (facts.auc_drop or concept):
        return [Finding("watch", (
            f"calibration slope {_slope_text(slope, observed)} > 1: under-confident, ranking "
            f"holds ({_ranking_text(facts.ranking, observed, limits, short=True)}): covariate "
            "drift, not concept drift (the model is too cautious where the features moved"
            f"{_ref_slope_text(slope, lead='; ')})"
        ))]
    if facts.under_confident and not concept and facts.has_labels:
        return [_note(
            f"calibration slope {_slope_text(slope, observed)} > 1 (under-confident) but not "
            f"beyond {1 + limits.slope_tolerance:.2f} (1 + slope_tolerance)"
            f"{_ref_slope_text(slope, lead='; ')}"
        )]
    return []


def calibration_in_the_large_rule(
    facts: BatchFacts, limits: MonitorThresholds, prior: bool
) -> list[Finding]:
    """A note: O/E off at the batch's case mix, not at the reference's (the shift explains it).

    Args:
        facts: the batch's facts.
        limits: the thresholds.
        prior: whether the prior-drift rule fired (then it says all there is).
    """
    if not facts.citl_explained or prior:
        return []
    oe = _with_interval(facts.evidence.get("oe", {}), facts.observed.get("oe_ratio"), 2)
    return [_note(
        f"calibration-in-the-large O/E {oe} is explained by the covariate shift: at the "
        f"reference case mix O/E {_with_interval(facts.oe_at_reference_mix, None, 2)} "
        f"(tolerance {limits.oe_tolerance})"
    )]


def estimated_auc_rule(facts: BatchFacts, limits: MonitorThresholds) -> list[Finding]:
    """``watch``: the label-free AUC estimate fell by more than ``auc_tolerance``."""
    change = facts.expected_auc_change
    if change is None or not change < -limits.auc_tolerance:
        return []
    return [Finding("watch", "estimated AUC (label-free, assuming calibration) fell by "
                             f"{_num(-change)}")]


def low_power_rule(facts: BatchFacts, limits: MonitorThresholds) -> list[Finding]:
    """A note: a batch under ``min_batch_size`` rows gives the drift tests little power."""
    if not (facts.n or 0) < limits.min_batch_size:
        return []
    return [_note(f"small batch ({facts.n} rows < {limits.min_batch_size}); drift tests have "
                  "little power")]


def decide(
    drift_result: Mapping[str, Any],
    performance_result: Mapping[str, Any],
    reference: Mapping[str, Any],
    thresholds: MonitorThresholds | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verdict for one batch: the named rules' findings, the most severe verdict winning.

    The rules are in the module docstring; the reasons keep this order: data quality,
    performance, concept drift, prior drift, covariate drift, prediction drift, the calibration
    findings the covariate drift explains, the label-free AUC estimate, the batch's size.

    Args:
        drift_result: Output of ``compute_drift``.
        performance_result: Output of ``assess_performance``.
        reference: The reference dict (for reference performance in the texts).
        thresholds: The validated ``monitor.thresholds``; a mapping or None: see
            :func:`monitor_thresholds`.

    Returns:
        ``verdict`` (one of ``VERDICTS``), ``reasons`` (human-readable, each naming the kind of
        problem: data quality, covariate / prior / concept / prediction drift) and ``details``
        (the lists and flags behind them).
    """
    limits = monitor_thresholds(thresholds)
    facts = read_batch(drift_result, performance_result, reference, limits)
    quality = data_quality_rule(drift_result, limits)
    performance = performance_rule(facts, limits)
    concept = concept_drift_rule(facts, limits)
    prior = prior_drift_rule(facts, limits, concept=bool(concept))
    labels_show_health = facts.has_labels and not (facts.auc_drop or concept or prior)
    findings = [
        *quality,
        *performance,
        *concept,
        *prior,
        *covariate_drift_rule(facts, labels_show_health),
        *prediction_drift_rule(facts, labels_show_health),
        *calibration_slope_rule(facts, limits, concept=bool(concept)),
        *calibration_in_the_large_rule(facts, limits, prior=bool(prior)),
        *estimated_auc_rule(facts, limits),
        *low_power_rule(facts, limits),
    ]
    reasons = [f.reason for f in findings]
    verdict = max((f.verdict for f in findings), key=VERDICTS.index, default="ok")
    if verdict == "ok" and all(r.startswith("note:") for r in reasons):
        reasons.append("no drift, data-quality or performance problem detected")
    return {
        "verdict": verdict,
        "reasons": reasons,
        "details": {
            "data_quality": [f.reason for f in quality],
            "covariate_drift": {
                f"{status}-{'important' if key else 'minor'}": names
                for (status, key), names in facts.groups.items()
            },
            "prediction_status": facts.prediction_status,
            "covariate_shift": facts.covariate_shift,
            "concept_drift": bool(concept),
            "prior_drift": bool(prior),
            "slope_explained_by_covariate_shift": facts.slope_explained,
            "citl_explained_by_covariate_shift": facts.citl_explained,
            "auc_drop": facts.auc_drop,
            "ranking_off": facts.ranking_off,
            "labels_show_health": labels_show_health,
        },
    }


def summary_row(
    drift_result: Mapping[str, Any],
    performance_result: Mapping[str, Any],
    verdict_result: Mapping[str, Any],
) -> dict[str, Any]:
    """Flat one-line summary of a batch for the history CSV.

    Args:
        drift_result: Output of ``compute_drift``.
        performance_result: Output of ``assess_performance``.
        verdict_result: Output of ``decide``.

    Returns:
        Dict keyed by the ``HISTORY_COLUMNS`` other than timestamp and batch.
    """
    summary = drift_result["summary"]
    observed = performance_result.get("observed", {})
    ci = observed.get("auc_ci") or [None, None]
    return {
        "n": drift_result["n"],
        "verdict": verdict_result["verdict"],
        "n_drift_features": summary["n_drift"],
        "n_watch_features": summary["n_watch"],
        "max_psi": summary["max_psi"],
        "max_psi_feature": summary["max_psi_feature"],
        "prediction_psi": summary["prediction_psi"],
        "prediction_ks": summary["prediction_ks"],
        "expected_auc": performance_result["expected"]["auc"],
        "real_auc": observed.get("auc"),
        "real_auc_low": ci[0],
        "real_auc_high": ci[1],
        "expected_prevalence": performance_result["expected"]["prevalence"],
        "real_prevalence": observed.get("prevalence"),
        "oe_ratio": observed.get("oe_ratio"),
        "calibration_slope": observed.get("calibration_slope"),
        "reasons": " | ".join(verdict_result["reasons"]),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    return str(value)


def append_history(
    history_csv_path: str | Path, batch_name: str, summary_row: Mapping[str, Any]
) -> Path:
    """Add (or replace) the row of one batch in the monitoring history CSV.

    Re-running a batch replaces its earlier row, so the file keeps one row per batch in the
    order batches were first seen. Columns are ``HISTORY_COLUMNS`` followed by any extra keys.
    The file is rewritten atomically (temporary file, then rename).

    Args:
        history_csv_path: CSV file; created with its parent directories when absent.
        batch_name: Identifier of the batch (e.g. the file stem).
        summary_row: Values of the row, typically from :func:`summary_row`.

    Returns:
        The path of the CSV.

    Raises:
        ValueError: If the batch name is empty.
    """
    if not str(batch_name).strip():
        raise ValueError("append_history needs a non-empty batch_name.")
    path = Path(history_csv_path)
    rows: list[dict[str, str]] = []
    columns = list(HISTORY_COLUMNS)
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns += [c for c in reader.fieldnames or [] if c not in columns]
            rows = [r for r in reader if r.get("batch") != str(batch_name)]
    new_row = {k: _cell(v) for k, v in summary_row.items()}
    new_row["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    new_row["batch"] = str(batch_name)
    columns += [c for c in new_row if c not in columns]
    rows.append(new_row)
    with atomic_path(path) as temporary, temporary.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path
