"""The readable error-analysis report (Markdown with figures) and its next actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SLOPE_BAND = (0.8, 1.2)


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


def next_actions(evaluation: dict[str, Any], charter: dict[str, Any],
                 cfg: dict[str, Any]) -> list[str]:
    """Concrete next steps derived from the findings, most important first.

    Args:
        evaluation: the evaluation with ``criteria`` judged.
        charter: the validated charter.
        cfg: the ``evaluate`` config group.
    """
    actions = []
    if _constant(evaluation):
        name = (evaluation.get("model") or {}).get("model_name") or "<name>"
        actions.append(
            "The model predicts a constant, so it ranks no one: give it room to learn in "
            f"conf/model/{name}.yaml (e.g. a smaller min_samples_leaf, more iterations), check "
            "that the features carry signal (reports/data/), or try "
            "`dvc exp run -S model=logistic_regression` (step 4)."
        )
    failed = [c for c in evaluation["criteria"] if not c["met"]]
    if failed:
        actions.append(
            "Success criteria not met: " + "; ".join(
                f"`{c['rule']}` (is {_or_undefined(_num(c['estimate']), evaluation)})"
                for c in failed
            ) + ". The deploy gate will refuse this model: improve it (steps 3-4) or revisit the "
            "charter with its owner (step 1)."
        )
    calibration = evaluation["calibration"]
    slope, intercept = calibration["slope"], calibration["intercept"]
    low, high = SLOPE_BAND
    off_slope = slope["estimate"] is not None and not low <= slope["estimate"] <= high
    off_intercept = intercept["lo"] is not None and (intercept["lo"] > 0 or intercept["hi"] < 0)
    if off_slope or off_intercept:
        actions.append(
            f"Recalibrate: calibration slope {_ci(slope, 2)}, intercept {_ci(intercept, 2)}. "
            "Try `dvc exp run -S train.recalibration=sigmoid` (or isotonic with plenty of data)."
        )
    for attribute, fairness in evaluation.get("fairness", {}).items():
        if fairness.get("flagged"):
            eod = fairness["equalized_odds_difference"]
            worst = min(
                evaluation["groups"][attribute],
                key=lambda r: 1.0 if r["auc"]["estimate"] is None else r["auc"]["estimate"],
            )
            actions.append(
                f"Bias audit flags `{attribute}`: equalized-odds difference {_ci(eod, 2)} exceeds "
                f"the tolerance {fairness['tolerance']:g}; group `{worst['group']}` has the lowest "
                f"AUC {_ci(worst['auc'], 2)}. Check its labels and features, collect more data "
                "for it, or set a per-group threshold with the charter's owner."
            )
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
    for name, comparison in evaluation.get("comparisons", {}).items():
        diff = comparison["auc_difference"]
        if diff["lo"] is not None and diff["lo"] <= 0:
            actions.append(
                f"The model is not clearly better than baseline `{name}` (AUC difference "
                f"{_ci(diff)}): prefer the simpler model or improve features (steps 3-4)."
            )
    if not actions:
        actions.append("All criteria met and nothing flagged: proceed to deploy (step 6).")
    return actions


def render_report(evaluation: dict[str, Any], charter: dict[str, Any], figures: list[Path],
                  out_dir: Path) -> str:
    """The Markdown report.

    Args:
        evaluation: the evaluation with ``criteria``, ``threshold`` and ``next_actions``.
        charter: the validated charter.
        figures: PNG files to embed.
        out_dir: the report's directory (figure links are relative to it).
    """
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
    if evaluation.get("human_level_auc") is not None:
        human = evaluation["human_level_auc"]
        lines += ["", f"Human-level / legacy AUC from the charter: {human}."]
    for attribute, rows in evaluation.get("groups", {}).items():
        fairness = evaluation["fairness"][attribute]
        lines += [
            "", f"## Bias audit: {attribute}", "",
            f"Equalized-odds difference {_ci(fairness['equalized_odds_difference'])}, "
            f"demographic-parity difference {_ci(fairness['demographic_parity_difference'])}"
            f"{' - **flagged**' if fairness['flagged'] else ''}.", "",
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
