"""The readable error-analysis report (Markdown with figures) and its next actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _num(value: float | None, digits: int = 3) -> str:
    """A number, or "-" when it could not be computed (e.g. too few rows for a smoother)."""
    return "-" if value is None else f"{value:.{digits}f}"


def _ci(entry: dict[str, Any] | None, digits: int = 3) -> str:
    """``0.712 [0.690, 0.734]`` from ``{estimate, lo, hi}``."""
    if not entry or entry.get("estimate") is None:
        return "-"
    text = f"{entry['estimate']:.{digits}f}"
    if entry.get("lo") is not None and entry.get("hi") is not None:
        text += f" [{entry['lo']:.{digits}f}, {entry['hi']:.{digits}f}]"
    return text


def _constant(evaluation: dict[str, Any]) -> bool:
    """Whether the evaluate stage found that the model predicts a constant."""
    return bool((evaluation.get("constant_predictions") or {}).get("constant"))


def _or_undefined(text: str, evaluation: dict[str, Any]) -> str:
    """``text``, or "undefined (constant predictions)" for a "-" of a constant model."""
    return "undefined (constant predictions)" if text == "-" and _constant(evaluation) else text


def model_lines(evaluation: dict[str, Any]) -> list[str]:
    """What the report says first about the model: a constant, and settings that adapted.

    Args:
        evaluation: the evaluation (``constant_predictions`` and ``model`` from evaluate).
    """
    lines = []
    if _constant(evaluation):
        lines += [f"**{evaluation['constant_predictions']['message']}**", ""]
    from .models import describe_adaptations

    model = evaluation.get("model") or {}
    adapted = model.get("adapted") or []
    if adapted:
        changes = "; ".join(f"`{param}` {change}"
                            for param, change in describe_adaptations(adapted).items())
        lines += [f"Settings adapted to the {model.get('n_train_rows')} training rows "
                  f"(`{model.get('model_name')}`): {changes}.", ""]
    return lines


# sklearn's guidance: isotonic recalibration overfits well under ~1,000 calibration rows
ISOTONIC_MIN_ROWS = 1000


def _interval_excludes(entry: dict[str, Any] | None, ideal: float) -> bool:
    """Whether ``{estimate, lo, hi}`` has an interval that leaves out ``ideal``."""
    if not entry or entry.get("lo") is None or entry.get("hi") is None:
        return False
    return entry["lo"] > ideal or entry["hi"] < ideal


def criteria_action(evaluation: dict[str, Any], deploy_cfg: dict[str, Any] | None) -> list[str]:
    """Charter criteria the deploy gate will refuse, judged as it judges (``deploy.judge_on``)."""
    from .judgement import criterion_check

    judge_on = (deploy_cfg or {}).get("judge_on", "point")
    failed = []
    for c in evaluation["criteria"]:
        ok, words = criterion_check(c, judge_on, _constant(evaluation))
        if not ok:
            failed.append(f"`{c['rule']}`: {words}")
    if not failed:
        return []
    judged = "estimate" if judge_on == "point" else "interval bound"
    return [f"Success criteria not met (on the {judged}, `deploy.judge_on: {judge_on}`): "
            + "; ".join(failed) + ". The deploy gate will refuse this model: improve it (steps "
            "3-4) or revisit the charter with its owner (step 1)."]


def comparison_action(verdict) -> str | None:
    """Advice from one baseline comparison (a ``judgement.Verdict``); None when clearly better."""
    if verdict.outcome == "better":
        return None
    if not verdict.passed:
        return (f"{verdict.sentence()}: the deploy gate will refuse it ({verdict.requirement}). "
                "Improve the features or the model (steps 3-4), or deploy the simpler model.")
    return (f"{verdict.sentence()}, not clearly better: the deploy gate passes it "
            f"({verdict.requirement}), but prefer the simpler model unless its cost is worth "
            "it, or improve the features (steps 3-4).")


def bias_action(evaluation: dict[str, Any], verdict) -> str | None:
    """Advice from one attribute's bias audit (a ``judgement.BiasVerdict``); None unflagged."""
    if not verdict.flagged:
        return None
    rows = [r for r in evaluation.get("groups", {}).get(verdict.attribute, [])
            if r.get("large_enough", True) and r["auc"]["estimate"] is not None]
    worst = ""
    if rows:
        low = min(rows, key=lambda r: r["auc"]["estimate"])
        worst = f" Group `{low['group']}` has the lowest AUC {_ci(low['auc'], 2)}."
    words = verdict.words[0].upper() + verdict.words[1:]
    return (f"{words}. Deploy gate: {verdict.why}.{worst} Check its labels and features, collect "
            "more data for it, or set a per-group threshold with the charter's owner.")


def calibration_action(evaluation: dict[str, Any]) -> str | None:
    """Recalibration advice, only when the slope's interval excludes 1 or the intercept's 0.

    Never advises the recalibration already on (``train.recalibration``): then it names what
    to try instead.
    """
    calibration = evaluation["calibration"]
    slope, intercept = calibration["slope"], calibration["intercept"]
    found = []
    if _interval_excludes(slope, 1.0):
        how = "too extreme" if slope["estimate"] < 1 else "too modest"
        found.append(f"calibration slope {_ci(slope, 2)} excludes 1 (predictions {how})")
    if _interval_excludes(intercept, 0.0):
        how = "too low" if intercept["estimate"] > 0 else "too high"
        found.append(f"calibration intercept {_ci(intercept, 2)} excludes 0 (predictions "
                     f"{how} on average)")
    if not found:
        return None
    model = evaluation.get("model") or {}
    method = model.get("recalibration") or "none"
    n_valid = model.get("n_valid_rows")
    enough = n_valid is not None and n_valid >= ISOTONIC_MIN_ROWS
    rows = f"{n_valid:,} validation rows" if n_valid is not None else "the validation rows"
    finding = "; ".join(found)
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


def next_actions(evaluation: dict[str, Any], charter: dict[str, Any],
                 cfg: dict[str, Any], deploy_cfg: dict[str, Any] | None = None) -> list[str]:
    """Concrete next steps derived from the findings, most important first.

    Each names the number and interval that triggered it; the criteria, baseline comparisons
    and bias flags are judged by the deploy gate's rules (``judgement``).

    Args:
        evaluation: the evaluation with ``criteria`` judged.
        charter: the validated charter.
        cfg: the ``evaluate`` config group.
        deploy_cfg: the ``deploy`` config group (``judge_on``, ``baselines``); None: the
            documented defaults.
    """
    from .judgement import baseline_verdicts, bias_verdicts

    actions = []
    if _constant(evaluation):
        name = (evaluation.get("model") or {}).get("model_name") or "<name>"
        actions.append(
            "The model predicts a constant, so it ranks no one: give it room to learn in "
            f"conf/model/{name}.yaml (e.g. a smaller min_samples_leaf, more iterations), check "
            "that the features carry signal (reports/data/), or try "
            "`dvc exp run -S model=logistic_regression` (step 4)."
        )
    actions += criteria_action(evaluation, deploy_cfg)
    comparisons = list(baseline_verdicts(evaluation, deploy_cfg).values())
    bias = bias_verdicts(evaluation, charter)
    # what the gate refuses first, then the rest
    for verdict in [v for v in comparisons if not v.passed]:
        actions.append(comparison_action(verdict))
    for verdict in [v for v in bias if v.blocks]:
        actions.append(bias_action(evaluation, verdict))
    calibration = calibration_action(evaluation)
    if calibration:
        actions.append(calibration)
    for verdict in [v for v in bias if v.flagged and not v.blocks]:
        actions.append(bias_action(evaluation, verdict))
    slices = evaluation.get("slices", {}).get("slices", [])[:1]
    for top in slices:
        actions.append(
            f"Weakest slice `{top['slice']}` ({top['share']:.0%} of rows): Brier "
            f"{_ci(top['brier'])} vs {evaluation['slices']['overall']['brier']:.3f} overall. "
            "Collect or relabel data there, or add a feature that explains it."
        )
    suspected = sum(
        1 for e in evaluation["errors"]["false_positives"] + evaluation["errors"]["false_negatives"]
        if e.get("suspected")
    )
    if suspected:
        actions.append(
            f"{suspected} of the most confident errors have labels the label audit suspects: "
            "review them in reports/labels/suspects.csv and record decisions in "
            "data/corrections.csv (step 3)."
        )
    for verdict in [v for v in comparisons if v.passed]:
        action = comparison_action(verdict)
        if action:
            actions.append(action)
    if not actions:
        actions.append("All criteria met and nothing flagged: proceed to deploy (step 6).")
    return actions


def render_report(evaluation: dict[str, Any], charter: dict[str, Any], figures: list[Path],
                  out_dir: Path, deploy_cfg: dict[str, Any] | None = None) -> str:
    """The Markdown report.

    Args:
        evaluation: the evaluation with ``criteria``, ``threshold`` and ``next_actions``.
        charter: the validated charter.
        figures: PNG files to embed.
        out_dir: the report's directory (figure links are relative to it).
        deploy_cfg: the ``deploy`` config group, whose rules word the comparisons and bias
            flags (``judgement``); None: the documented defaults.
    """
    from .judgement import baseline_verdicts, bias_verdicts

    disc, cal = evaluation["discrimination"], evaluation["calibration"]
    tm = evaluation["threshold_metrics"]
    threshold = evaluation["threshold"]
    level = f"{1 - evaluation['settings']['alpha']:.0%}"
    lines = [
        f"# Error analysis: {charter['name']}",
        "",
        f"Test split: {evaluation['n']:,} rows, prevalence {_ci(evaluation['prevalence'])}. "
        f"Intervals are {level}. Operating threshold {threshold['value']:.3f} "
        f"({threshold['method']}, chosen on the validation split).",
        "",
        *model_lines(evaluation),
        "## Next actions",
        "",
        *[f"1. {action}" for action in evaluation["next_actions"]],
        "",
        "## Success criteria (from the charter)",
        "",
        "| criterion | value | interval | met | met on the interval bound |",
        "|---|---|---|---|---|",
    ]
    for c in evaluation["criteria"]:
        interval = "-" if c["lo"] is None else f"[{c['lo']:.3f}, {c['hi']:.3f}]"
        met = "yes" if c["met"] else "**no**"
        on_bound = "yes" if c["met_on_bound"] else "no"
        value = _or_undefined(_num(c["estimate"]), evaluation)
        lines.append(f"| `{c['rule']}` | {value} | {interval} | {met} | {on_bound} |")
    auc = f"{_ci(disc['auc'])} (DeLong)"
    if _constant(evaluation):
        auc = f"{_num(disc['auc']['estimate'])} by construction (constant predictions; interval "
        auc += "undefined)"
    lines += [
        "",
        "## Discrimination",
        "",
        f"- ROC AUC {auc}; average precision {_ci(disc['ap'])}",
        f"- At the threshold: sensitivity {_ci(tm['sensitivity'])}, specificity "
        f"{_ci(tm['specificity'])}, PPV {_ci(tm['ppv'])}, NPV {_ci(tm['npv'])}",
        f"- Likelihood ratios: LR+ {_ci(tm['lr_positive'], 2)}, LR- {_ci(tm['lr_negative'], 2)}; "
        f"net benefit {_ci(tm['net_benefit'])}",
        f"- Confusion: TP {tm['confusion']['tp']}, FP {tm['confusion']['fp']}, "
        f"TN {tm['confusion']['tn']}, FN {tm['confusion']['fn']}",
        "",
        "## Calibration",
        "",
        f"- Brier {_ci(cal['brier'])}, Brier skill {_ci(cal['brier_skill'])}",
        f"- Calibration intercept {_or_undefined(_ci(cal['intercept']), evaluation)} (0 is "
        f"ideal), slope {_or_undefined(_ci(cal['slope']), evaluation)} (1 is ideal)",
        f"- ICI {_num(cal['ici'], 4)}, E50 {_num(cal['e50'], 4)}, E90 {_num(cal['e90'], 4)}, "
        f"ECE {_ci(cal['ece'], 4)}",
        "",
        "## Against the baselines (paired, same test rows)",
        "",
        "| reference | AUC difference | Brier difference |",
        "|---|---|---|",
    ]
    for name, comparison in evaluation.get("comparisons", {}).items():
        lines.append(f"| {name} | {_ci(comparison['auc_difference'])} | "
                     f"{_ci(comparison['brier_difference'], 4)} |")
    verdicts = baseline_verdicts(evaluation, deploy_cfg)
    if verdicts:
        lines += ["", "By the deploy gate's rules (`deploy.baselines`; AUC difference, "
                  f"{level} interval):", ""]
        lines += [f"- {v.sentence()}: {'passes' if v.passed else 'fails'} {v.requirement}"
                  for v in verdicts.values()]
    if evaluation.get("human_level_auc") is not None:
        human = evaluation["human_level_auc"]
        lines += ["", f"Human-level / legacy AUC from the charter: {human}."]
    bias = {v.attribute: v for v in bias_verdicts(evaluation, charter)}
    for attribute, rows in evaluation.get("groups", {}).items():
        fairness = evaluation["fairness"][attribute]
        gate = f" Deploy gate: {bias[attribute].why}." if attribute in bias else ""
        lines += [
            "", f"## Bias audit: {attribute}", "",
            f"Equalized-odds difference {_ci(fairness['equalized_odds_difference'])}, "
            f"demographic-parity difference {_ci(fairness['demographic_parity_difference'])}"
            f"{' - **flagged**' if fairness['flagged'] else ''}.{gate}", "",
            "| group | n | prevalence | AUC | cal. slope | TPR | FPR | PPV |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['group']} | {r['n']} | {_ci(r['prevalence'], 2)} | {_ci(r['auc'], 2)} | "
                f"{_ci(r['slope'], 2)} | {_ci(r['tpr'], 2)} | {_ci(r['fpr'], 2)} | "
                f"{_ci(r['ppv'], 2)} |"
            )
    slices = evaluation.get("slices", {}).get("slices", [])[:10]
    if not slices and evaluation.get("slices", {}).get("n_too_small"):
        lines += ["", "## Weakest slices (gap x share)", "",
                  f"None reported: every candidate slice has fewer than "
                  f"{evaluation['slices']['min_size']} of the {evaluation['n']} test rows "
                  "(`evaluate.slices.min_size`)."]
    if slices:
        lines += ["", "## Weakest slices (gap x share)", "",
                  "| slice | share | n | AUC | Brier |", "|---|---|---|---|---|"]
        for s in slices:
            lines.append(f"| `{s['slice']}` | {s['share']:.1%} | {s['n']} | {_ci(s['auc'], 2)} | "
                         f"{_ci(s['brier'])} |")
    errors = evaluation["errors"]
    for kind in ("false_positives", "false_negatives"):
        lines += ["", f"## Most confident {kind.replace('_', ' ')}", "",
                  "| id | p | label | label suspected |", "|---|---|---|---|"]
        for e in errors[kind]:
            lines.append(f"| {e['id']} | {e['p']:.3f} | {e['y']} | "
                         f"{'yes' if e.get('suspected') else ''} |")
    lines += ["", "## Figures", ""]
    lines += [f"![{f.stem}]({f.relative_to(out_dir).as_posix()})" for f in figures]
    return "\n".join(lines) + "\n"
