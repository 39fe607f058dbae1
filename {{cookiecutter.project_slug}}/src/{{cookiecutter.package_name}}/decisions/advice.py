"""The error analysis's next actions: what to do about what it found, first things first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .wording import ci, is_constant

if TYPE_CHECKING:
    from ..core.settings import DeploySettings, EvaluateSettings
    from .judgement import BiasVerdict, Verdict


def _interval_excludes(entry: dict[str, Any] | None, ideal: float) -> bool:
    """Whether ``{estimate, lo, hi}`` has an interval that leaves out ``ideal``."""
    if not entry or entry.get("lo") is None or entry.get("hi") is None:
        return False
    return entry["lo"] > ideal or entry["hi"] < ideal


def criteria_action(evaluation: dict[str, Any],
                    deploy: DeploySettings | Mapping[str, Any] | None) -> list[str]:
    """Charter criteria the deploy gate will refuse, judged as it judges (``deploy.judge_on``)."""
    from ..decisions.judgement import criterion_check, deploy_settings

    judge_on = deploy_settings(deploy).judge_on
    failed = []
    for c in evaluation["criteria"]:
        ok, words = criterion_check(c, judge_on, is_constant(evaluation))
        if not ok:
            failed.append(f"`{c['rule']}`: {words}")
    if not failed:
        return []
    judged = "estimate" if judge_on == "point" else "interval bound"
    return [f"Success criteria not met (on the {judged}, `deploy.judge_on: {judge_on}`): "
            + "; ".join(failed) + ". The deploy gate will refuse this model: improve it (steps "
            "3-4) or revisit the charter with its owner (step 1)."]


def comparison_action(verdict: Verdict) -> str | None:
    """Advice from one baseline comparison (a ``judgement.Verdict``); None when clearly better."""
    if verdict.outcome == "better":
        return None
    if not verdict.passed:
        return (f"{verdict.sentence()}: the deploy gate will refuse it ({verdict.requirement}). "
                "Improve the features or the model (steps 3-4), or deploy the simpler model.")
    return (f"{verdict.sentence()}, not clearly better: the deploy gate passes it "
            f"({verdict.requirement}), but prefer the simpler model unless its cost is worth "
            "it, or improve the features (steps 3-4).")


def bias_action(evaluation: dict[str, Any], verdict: BiasVerdict) -> str | None:
    """Advice from one attribute's bias audit (a ``judgement.BiasVerdict``); None unflagged."""
    if not verdict.flagged:
        return None
    rows = [r for r in evaluation.get("groups", {}).get(verdict.attribute, [])
            if r.get("large_enough", True) and r["auc"]["estimate"] is not None]
    worst = ""
    if rows:
        low = min(rows, key=lambda r: r["auc"]["estimate"])
        worst = f" Group `{low['group']}` has the lowest AUC {ci(low['auc'], 2)}."
    words = verdict.words[0].upper() + verdict.words[1:]
    return (f"{words}. Deploy gate: {verdict.why}.{worst} Check its labels and features, collect "
            "more data for it, or set a per-group threshold with the charter's owner.")


def calibration_findings(calibration: dict[str, Any]) -> list[str]:
    """What is off: the slope's interval excluding 1, the intercept's excluding 0, in words."""
    slope, intercept = calibration["slope"], calibration["intercept"]
    found = []
    if _interval_excludes(slope, 1.0):
        how = "too extreme" if slope["estimate"] < 1 else "too modest"
        found.append(f"calibration slope {ci(slope, 2)} excludes 1 (predictions {how})")
    if _interval_excludes(intercept, 0.0):
        how = "too low" if intercept["estimate"] > 0 else "too high"
        found.append(f"calibration intercept {ci(intercept, 2)} excludes 0 (predictions "
                     f"{how} on average)")
    return found


def recalibration_advice(finding: str, model: dict[str, Any]) -> str:
    """What to do about ``finding``, given the recalibration on and the validation rows.

    Never advises the recalibration already on (``train.recalibration``): then it names what
    to try instead; isotonic only with ``ISOTONIC_MIN_ROWS`` validation rows or more.

    Args:
        finding: the calibration findings, joined (:func:`calibration_findings`).
        model: the evaluation's ``model`` section (``recalibration``, ``n_valid_rows``).
    """
    method = model.get("recalibration") or "none"
    n_valid = model.get("n_valid_rows")
    enough = n_valid is not None and n_valid >= ISOTONIC_MIN_ROWS
    rows = f"{n_valid:,} validation rows" if n_valid is not None else "the validation rows"
    if method == "none":
        isotonic = (f"or `isotonic`, which the {rows} can support" if enough else
                    f"or isotonic with {ISOTONIC_MIN_ROWS:,}+ validation rows" if n_valid is None
                    else f"not isotonic: it needs {ISOTONIC_MIN_ROWS:,}+ validation rows, there "
                    f"are {n_valid:,}")
        return (f"Recalibrate: {finding}. Try `dvc exp run -S train.recalibration=sigmoid` "
                f"({isotonic}).")
    if method == "sigmoid" and enough:
        instead = (f"try `-S train.recalibration=isotonic` (the {rows} can support it), "
                   "another family (`-S model=...`) or more data")
    elif method == "sigmoid":
        instead = (f"isotonic would overfit {rows}: collect more data or try another family "
                   "(`-S model=...`)")
    else:
        instead = ("collect more data or try another family (`-S model=...`)" + (
            "" if enough else f"; with {rows}, `-S train.recalibration=sigmoid` overfits less"))
    return (f"Calibration is still off with `train.recalibration={method}` on: {finding}. "
            f"Recalibrating again will not fix it: {instead}; and check that the validation and "
            "test splits come from the same population (step 3).")


def calibration_action(evaluation: dict[str, Any]) -> str | None:
    """Recalibration advice, only when the slope's interval excludes 1 or the intercept's 0."""
    found = calibration_findings(evaluation["calibration"])
    if not found:
        return None
    return recalibration_advice("; ".join(found), evaluation.get("model") or {})


def constant_action(evaluation: dict[str, Any]) -> str | None:
    """A model that predicts a constant ranks no one: how to give it room to learn."""
    if not is_constant(evaluation):
        return None
    name = (evaluation.get("model") or {}).get("model_name") or "<name>"
    return ("The model predicts a constant, so it ranks no one: give it room to learn in "
            f"conf/model/{name}.yaml (e.g. a smaller min_samples_leaf, more iterations), check "
            "that the features carry signal (reports/data/), or try "
            "`dvc exp run -S model=logistic_regression` (step 4).")


def slice_action(evaluation: dict[str, Any]) -> str | None:
    """The weakest slice (the first listed, by Brier score), with the overall Brier to compare."""
    slices = (evaluation.get("slices") or {}).get("slices") or []
    if not slices:
        return None
    top = slices[0]
    return (f"Weakest slice `{top['slice']}` ({top['share']:.0%} of rows): Brier "
            f"{ci(top['brier'])} vs {evaluation['slices']['overall']['brier']:.3f} overall. "
            "Collect or relabel data there, or add a feature that explains it.")


def labels_action(evaluation: dict[str, Any]) -> str | None:
    """The most confident errors whose labels the label audit suspects, counted."""
    errors = evaluation["errors"]
    suspected = sum(1 for e in errors["false_positives"] + errors["false_negatives"]
                    if e.get("suspected"))
    if not suspected:
        return None
    return (f"{suspected} of the most confident errors have labels the label audit suspects: "
            "review them in reports/labels/suspects.csv and record decisions in "
            "data/corrections.csv (step 3).")


PROCEED = "All criteria met and nothing flagged: proceed to deploy (step 6)."


def next_actions(evaluation: dict[str, Any], charter: dict[str, Any],
                 cfg: EvaluateSettings | Mapping[str, Any] | None = None,
                 deploy: DeploySettings | Mapping[str, Any] | None = None) -> list[str]:
    """Concrete next steps derived from the findings, most important first.

    Each names the number and interval that triggered it; the criteria, baseline comparisons
    and bias flags are judged by the deploy gate's rules (``judgement``). The order: a constant
    model, the criteria, the comparisons and bias flags the gate refuses, calibration, the bias
    flags it lets pass, the weakest slice, suspected labels, the comparisons it passes; else
    :data:`PROCEED`.

    Args:
        evaluation: the evaluation with ``criteria`` judged.
        charter: the validated charter.
        cfg: the ``evaluate`` settings (read by no action today; kept for the stage's call).
        deploy: the ``deploy`` settings (``judge_on``, ``baselines``); a mapping or None: over
            the shipped ``conf/deploy/default.yaml`` (``judgement.deploy_settings``).
    """
    from ..decisions.judgement import baseline_verdicts, bias_verdicts, deploy_settings

    deploy = deploy_settings(deploy)
    comparisons = list(baseline_verdicts(evaluation, deploy).values())
    bias = bias_verdicts(evaluation, charter)
    actions = [
        constant_action(evaluation),
        *criteria_action(evaluation, deploy),
        # what the gate refuses first, then the rest
        *[comparison_action(v) for v in comparisons if not v.passed],
        *[bias_action(evaluation, v) for v in bias if v.blocks],
        calibration_action(evaluation),
        *[bias_action(evaluation, v) for v in bias if v.flagged and not v.blocks],
        slice_action(evaluation),
        labels_action(evaluation),
        *[comparison_action(v) for v in comparisons if v.passed],
    ]
    return [a for a in actions if a] or [PROCEED]


# sklearn's guidance: isotonic recalibration overfits well under ~1,000 calibration rows
ISOTONIC_MIN_ROWS = 1000
