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
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..core.io import atomic_path

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "alpha": 0.05,
    "correction": "holm",
    "psi_epsilon": 1e-4,
    "psi_watch": 0.1,
    "psi_drift": 0.25,
    "ks_watch": 0.1,
    "ks_drift": 0.2,
    "importance_min": 0.01,
    "max_missing_increase": 0.05,
    "max_unseen_share": 0.01,
    "confidence": 0.95,
    "auc_tolerance": 0.02,
    "oe_tolerance": 0.1,
    "slope_tolerance": 0.2,
    "min_batch_size": 500,
}

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


def resolve_thresholds(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge threshold overrides (e.g. the ``monitor`` Hydra group) into the defaults.

    Args:
        overrides: Mapping of threshold name to value; None keeps all defaults.

    Returns:
        A complete threshold dict.

    Raises:
        ValueError: On unknown names (likely typos) or inconsistent values.
    """
    merged = dict(DEFAULT_THRESHOLDS)
    if overrides:
        given = dict(overrides)
        unknown = sorted(set(given) - set(DEFAULT_THRESHOLDS))
        if unknown:
            raise ConfigError(
                f"Unknown monitor thresholds {unknown}; known: {sorted(DEFAULT_THRESHOLDS)}."
            )
        merged.update(given)
    for key in ("alpha", "confidence"):
        if not 0.0 < float(merged[key]) < 1.0:
            raise ConfigError(f"Threshold '{key}' must lie in (0, 1), got {merged[key]}.")
    for low, high in (("psi_watch", "psi_drift"), ("ks_watch", "ks_drift")):
        if float(merged[low]) > float(merged[high]):
            raise ConfigError(f"Threshold '{low}' ({merged[low]}) exceeds '{high}'.")
    if merged["correction"] not in ("holm", "bonferroni"):
        raise ConfigError("Threshold 'correction' must be 'holm' or 'bonferroni'.")
    return merged


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


def _data_quality(drift: Mapping[str, Any], limits: Mapping[str, Any]) -> list[str]:
    problems = [f"data quality: schema: {issue}" for issue in drift.get("schema_issues", [])]
    for name, entry in drift["features"].items():
        change = entry.get("missing_change")
        if change is not None and change >= limits["max_missing_increase"]:
            problems.append(
                f"data quality: missing share of '{name}' rose from "
                f"{_pct(entry['missing_share_reference'])} to {_pct(entry['missing_share'])}"
            )
        unseen = entry.get("unseen_share")
        if unseen is not None and unseen >= limits["max_unseen_share"]:
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
    limits: Mapping[str, Any],
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
        f"{limits['auc_tolerance']}"
    )
    if ranking.get("reference_gap") is not None:
        change = {"estimate": ranking.get("change"), "interval": ranking.get("change_interval")}
        text += (
            f"; reference gap {ranking['reference_gap']:+.3f}, change "
            f"{_with_interval(change, None, 3)}"
        )
    return text + ")"


def decide(
    drift_result: Mapping[str, Any],
    performance_result: Mapping[str, Any],
    reference: Mapping[str, Any],
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verdict for one batch (rules in the module docstring).

    Args:
        drift_result: Output of ``compute_drift``.
        performance_result: Output of ``assess_performance``.
        reference: The reference dict (for reference performance in the texts).
        thresholds: Overrides of the monitor thresholds.

    Returns:
        ``verdict`` (one of ``VERDICTS``), ``reasons`` (human-readable, each naming the kind of
        problem: data quality, covariate / prior / concept / prediction drift) and ``details``
        (the lists and flags behind them).
    """
    limits = resolve_thresholds(thresholds)
    level = 0
    reasons: list[str] = []

    def escalate(verdict: str) -> None:
        nonlocal level
        level = max(level, VERDICTS.index(verdict))

    quality = _data_quality(drift_result, limits)
    if quality:
        escalate("investigate-data")
        reasons.extend(quality)

    # Covariate drift, weighed by importance: (strength, importance) -> list of features.
    feats = drift_result["features"]
    groups: dict[tuple[str, bool], list[str]] = {
        (status, key): [] for status in ("drift", "watch") for key in (True, False)
    }
    for name, entry in feats.items():
        if entry.get("status") in ("watch", "drift"):
            key = entry.get("importance", 0.0) >= limits["importance_min"]
            groups[(entry["status"], key)].append(name)
    strong = groups[("drift", True)]
    features_stable = not any(groups.values())
    prediction = drift_result.get("prediction") or {}
    prediction_status = prediction.get("status", "stable")

    # Label-based evidence (flags and intervals from assess_performance).
    perf = performance_result
    has_labels = bool(perf.get("has_labels"))
    flags = perf.get("flags", {}) if has_labels else {}
    evidence = perf.get("evidence", {}) if has_labels else {}
    observed = perf.get("observed", {})
    comparison = perf.get("comparison", {})
    ref_obs = reference.get("performance", {}).get("observed", {})
    covariate_shift = not features_stable or prediction_status in ("watch", "drift")
    auc_drop = flags.get("auc_drop", False)
    ranking_off = flags.get("ranking_off", False)
    weakened, strengthened = _slope_direction(flags, observed)
    slope_ev = evidence.get("slope", {})
    ranking_ev = evidence.get("ranking", {})
    under_confident = strengthened or bool(slope_ev.get("under_confident"))
    ranking_holds = not ranking_off and _reaches_expected(ranking_ev)
    slope_explained = has_labels and under_confident and covariate_shift and ranking_holds

    concept_parts: list[str] = []
    if weakened:
        concept_parts.append(
            f"calibration slope {_slope_text(slope_ev, observed)} < "
            f"{1 - limits['slope_tolerance']:.2f} (1 - slope_tolerance{_ref_slope_text(slope_ev)})"
            ": the relation weakened"
        )
    if ranking_off:
        concept_parts.append(f"{_ranking_text(ranking_ev, observed, limits)}: the ranking degraded")
    if strengthened and not slope_explained:
        context = (
            "features and predictions stable"
            if not covariate_shift
            else f"the ranking does not hold ({_ranking_text(ranking_ev, observed, limits)})"
        )
        concept_parts.append(
            f"calibration slope {_slope_text(slope_ev, observed)} > "
            f"{1 + limits['slope_tolerance']:.2f} (1 + slope_tolerance"
            f"{_ref_slope_text(slope_ev)}) with {context}: the relation strengthened"
        )
    concept = bool(concept_parts)

    # Calibration-in-the-large: under covariate drift judged at the reference case mix.
    mix = evidence.get("oe_at_reference_mix", {})
    citl_raw = flags.get("miscalibrated_in_the_large", False)
    use_mix = covariate_shift and mix.get("estimate") is not None
    citl_off = flags.get("miscalibrated_at_reference_mix", False) if use_mix else citl_raw
    prior = citl_off and not concept
    citl_explained = citl_raw and use_mix and not citl_off
    labels_show_health = has_labels and not (auc_drop or concept or prior)

    if auc_drop:
        escalate("retrain")
        ci = comparison.get("auc_change_ci") or [float("nan")] * 2
        reasons.append(
            f"performance: real AUC {_num(observed.get('auc'))} is below the reference "
            f"{_num(ref_obs.get('auc'))} (change {_num(comparison.get('auc_change'))}, "
            f"interval [{_num(ci[0])}, {_num(ci[1])}], tolerance {limits['auc_tolerance']})"
        )
    if concept:
        escalate("retrain")
        reasons.append(
            "concept drift: the relation between features and outcome changed: "
            + "; ".join(concept_parts)
        )
    if prior:
        escalate("retrain")
        oe_text = f"O/E {_with_interval(evidence.get('oe', {}), observed.get('oe_ratio'), 2)}"
        context = (
            "features stable"
            if not covariate_shift
            else "beyond what the feature shift explains (O/E at the reference case mix "
            f"{_with_interval(mix, None, 2)})"
            if use_mix
            else "beyond what the feature shift explains"
        )
        reasons.append(
            f"prior drift: prevalence {_pct(observed.get('prevalence', float('nan')))} vs "
            f"{_pct(observed.get('mean_predicted', float('nan')))} expected from the calibrated "
            f"predictions ({oe_text}, tolerance {limits['oe_tolerance']}, reference prevalence "
            f"{_pct(ref_obs.get('prevalence', float('nan')))}); ranking and calibration slope "
            f"intact, {context}: recalibrating the intercept may suffice"
        )
    # Calibration findings the covariate drift explains: listed after the drift they follow from.
    calibration: list[str] = []
    if slope_explained and not (auc_drop or concept):
        escalate("watch")
        calibration.append(
            f"calibration slope {_slope_text(slope_ev, observed)} > 1: under-confident, ranking "
            f"holds ({_ranking_text(ranking_ev, observed, limits, short=True)}): covariate "
            "drift, not concept drift (the model is too cautious where the features moved"
            f"{_ref_slope_text(slope_ev, lead='; ')})"
        )
    elif under_confident and not concept and has_labels:
        calibration.append(
            f"note: calibration slope {_slope_text(slope_ev, observed)} > 1 (under-confident) "
            f"but not beyond {1 + limits['slope_tolerance']:.2f} (1 + slope_tolerance)"
            f"{_ref_slope_text(slope_ev, lead='; ')}"
        )
    if citl_explained and not prior:
        calibration.append(
            "note: calibration-in-the-large O/E "
            f"{_with_interval(evidence.get('oe', {}), observed.get('oe_ratio'), 2)} is explained "
            f"by the covariate shift: at the reference case mix O/E {_with_interval(mix, None, 2)}"
            f" (tolerance {limits['oe_tolerance']})"
        )

    if strong:
        texts = "; ".join(_drift_text(n, feats[n]) for n in strong)
        if labels_show_health:
            escalate("watch")
            reasons.append(
                f"covariate drift (strong) on important features {texts}; the labels show the "
                "model holding (no performance loss, no concept or prior drift), so no retrain yet"
            )
        else:
            escalate("retrain")
            reasons.append(f"covariate drift (strong) on important features {texts}")
    moderate_key, strong_minor = groups[("watch", True)], groups[("drift", False)]
    if moderate_key:
        escalate("watch")
        texts = "; ".join(_drift_text(n, feats[n]) for n in moderate_key)
        reasons.append(f"covariate drift (moderate) on important features {texts}")
    if strong_minor:
        escalate("watch")
        texts = "; ".join(_drift_text(n, feats[n]) for n in strong_minor)
        reasons.append(f"covariate drift (strong) on minor features {texts}")
    if groups[("watch", False)]:
        texts = "; ".join(_drift_text(n, feats[n]) for n in groups[("watch", False)])
        reasons.append(f"note: covariate drift (moderate) on minor features {texts}")

    if prediction_status in ("watch", "drift"):
        strong_prediction = prediction_status == "drift" and not labels_show_health
        escalate("retrain" if strong_prediction else "watch")
        reasons.append(f"prediction drift ({prediction_status}): {_drift_text('p', prediction)}")

    reasons.extend(calibration)

    estimated_change = perf.get("expected_auc_change")
    if estimated_change is not None and estimated_change < -limits["auc_tolerance"]:
        escalate("watch")
        reasons.append(
            f"estimated AUC (label-free, assuming calibration) fell by {_num(-estimated_change)}"
        )

    if drift_result.get("n", 0) < limits["min_batch_size"]:
        reasons.append(
            f"note: small batch ({drift_result.get('n')} rows < {limits['min_batch_size']}); "
            "drift tests have little power"
        )
    if level == 0 and not any(not r.startswith("note:") for r in reasons):
        reasons.append("no drift, data-quality or performance problem detected")

    return {
        "verdict": VERDICTS[level],
        "reasons": reasons,
        "details": {
            "data_quality": quality,
            "covariate_drift": {
                f"{status}-{'important' if key else 'minor'}": names
                for (status, key), names in groups.items()
            },
            "prediction_status": prediction_status,
            "covariate_shift": covariate_shift,
            "concept_drift": concept,
            "prior_drift": prior,
            "slope_explained_by_covariate_shift": slope_explained,
            "citl_explained_by_covariate_shift": citl_explained,
            "auc_drop": auc_drop,
            "ranking_off": ranking_off,
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
