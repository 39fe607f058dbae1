"""Judging the charter's success criteria on an evaluation, and recognising a constant model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .charter import parse_criteria

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def criterion_value(evaluation: dict[str, Any], metric: str) -> dict[str, float | None]:
    """The estimate and interval of a charter metric in an evaluation.

    Group gaps take the worst audited attribute; ``ici`` has no interval.

    Args:
        evaluation: the result of ``metrics.evaluate_binary``.
        metric: a charter metric name (``charter.METRIC_DOMAINS``).

    Returns:
        ``{estimate, lo, hi}``; all None when undefined (no attribute judged for a gap).
    """
    if metric in CRITERION_SOURCES:
        section, key = CRITERION_SOURCES[metric]
        value = evaluation[section][key]
        return {"estimate": value["estimate"], "lo": value["lo"], "hi": value["hi"]}
    if metric == "ici":
        return {"estimate": evaluation["calibration"]["ici"], "lo": None, "hi": None}
    # group gaps (max_subgroup_auc_gap, equalized_odds_difference, demographic_parity_
    # difference): the worst audited attribute, among its groups large enough to be judged;
    # with no such attribute the criterion is undefined (the gate cannot call it met)
    key = "auc_difference" if metric == "max_subgroup_auc_gap" else metric
    entries = [f["large_groups"][key] for f in evaluation.get("fairness", {}).values()
               if f.get("reportable") and key in f.get("large_groups", {})]
    entries = [e for e in entries if e["estimate"] is not None]
    if not entries:
        return {"estimate": None, "lo": None, "hi": None}
    worst = max(entries, key=lambda e: e["estimate"])
    return {"estimate": worst["estimate"], "lo": worst["lo"], "hi": worst["hi"]}


def constant_finding(p_valid: ArrayLike, p_test: ArrayLike) -> dict[str, Any]:
    """Whether the model predicts (nearly) one value for every row, in words when it does.

    Fewer than ``models.MIN_DISTINCT_PREDICTIONS`` distinct probabilities on the validation or
    the test split: every pair of rows ties, so the AUC is 0.5 by construction and the
    statistics that need varying predictions (the DeLong interval, the calibration slope,
    p-values) are undefined.

    Args:
        p_valid: the validation split's probabilities.
        p_test: the test split's probabilities.

    Returns:
        ``models.constant_predictions``'s finding (``constant``, the distinct count of each
        split, ``value``) and ``message``, the finding in words (None when not constant).
    """
    from ..modelling.models import constant_predictions

    finding = constant_predictions({"valid": p_valid, "test": p_test})
    finding["message"] = None
    if finding["constant"]:
        finding["message"] = (
            f"The model predicts a constant (p = {finding['value']:.4f}; distinct "
            f"probabilities: {finding['valid']} on the validation split, {finding['test']} on "
            "test): its discrimination is 0.5 by construction, the statistics that need varying "
            "predictions (AUC interval, calibration slope, p-values) are undefined, and the "
            "deploy gate cannot pass it."
        )
    return finding


def mark_constant(evaluation: dict[str, Any], finding: dict[str, Any]) -> None:
    """Record the constant-model finding; on constant predictions, AUC intervals are undefined.

    When every score ties, the DeLong variance degenerates to 0 and the interval to
    [0.5, 0.5], which would read as certainty: the bounds and standard error become null.

    Args:
        evaluation: the result of ``metrics.evaluate_binary`` (modified in place).
        finding: :func:`constant_finding`.
    """
    evaluation["constant_predictions"] = finding
    if not finding["constant"]:
        return
    evaluation["discrimination"]["auc"].update(lo=None, hi=None, se=None)
    for rows in evaluation.get("groups", {}).values():
        for row in rows:
            row["auc"].update(lo=None, hi=None)
    for block in evaluation.get("fairness", {}).values():
        for gaps in (block, block.get("large_groups", {})):
            if "auc_difference" in gaps:
                gaps["auc_difference"].update(lo=None, hi=None)


def judge_criteria(evaluation: dict[str, Any], criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """Each success criterion with its value, interval and verdicts (point and bound-based).

    Args:
        evaluation: the result of ``metrics.evaluate_binary``.
        criteria: the charter's ``success_criteria``.

    Returns:
        One dict per criterion: ``metric``, ``rule`` (in words), ``estimate``, ``lo``, ``hi``,
        ``min``, ``max``, ``met`` (on the estimate) and ``met_on_bound`` (on the interval's
        unfavourable bound: ``lo`` against a min, ``hi`` against a max).
    """
    judged = []
    for criterion in parse_criteria(criteria):
        value = criterion_value(evaluation, criterion.metric)
        judged.append({
            "metric": criterion.metric, "rule": criterion.describe(), **value,
            "min": criterion.minimum, "max": criterion.maximum,
            "met": criterion.met_by(value["estimate"]),
            # judged on the interval's unfavourable bound: lo against a min, hi against a max
            "met_on_bound": criterion.met_by(value["estimate"], value["lo"], value["hi"]),
        })
    return judged


# charter metric -> (section, key) of the evaluation holding {estimate, lo, hi}
CRITERION_SOURCES = {
    "auc": ("discrimination", "auc"),
    "average_precision": ("discrimination", "ap"),
    "brier": ("calibration", "brier"),
    "brier_skill": ("calibration", "brier_skill"),
    "calibration_slope": ("calibration", "slope"),
    "calibration_intercept": ("calibration", "intercept"),
    "ece": ("calibration", "ece"),
    "sensitivity": ("threshold_metrics", "sensitivity"),
    "specificity": ("threshold_metrics", "specificity"),
    "ppv": ("threshold_metrics", "ppv"),
    "npv": ("threshold_metrics", "npv"),
    "net_benefit": ("threshold_metrics", "net_benefit"),
}
