"""The readable error-analysis report (Markdown with figures) and its next actions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..decisions.wording import ci, is_constant, num

if TYPE_CHECKING:
    from ..core.settings import DeploySettings


def _or_undefined(text: str, evaluation: dict[str, Any]) -> str:
    """``text``, or "undefined (constant predictions)" for a "-" of a constant model."""
    return "undefined (constant predictions)" if text == "-" and is_constant(evaluation) else text


def model_lines(evaluation: dict[str, Any]) -> list[str]:
    """What the report says first about the model: a constant, and settings that adapted.

    Args:
        evaluation: the evaluation (``constant_predictions`` and ``model`` from evaluate).
    """
    lines = []
    if is_constant(evaluation):
        lines += [f"**{evaluation['constant_predictions']['message']}**", ""]
    from ..modelling.models import describe_adaptations

    model = evaluation.get("model") or {}
    adapted = model.get("adapted") or []
    if adapted:
        changes = "; ".join(f"`{param}` {change}"
                            for param, change in describe_adaptations(adapted).items())
        lines += [f"Settings adapted to the {model.get('n_train_rows')} training rows "
                  f"(`{model.get('model_name')}`): {changes}.", ""]
    return lines


def render_report(evaluation: dict[str, Any], charter: dict[str, Any], figures: list[Path],
                  out_dir: Path,
                  deploy_cfg: DeploySettings | Mapping[str, Any] | None = None) -> str:
    """The Markdown report.

    Args:
        evaluation: the evaluation with ``criteria``, ``threshold`` and ``next_actions``.
        charter: the validated charter.
        figures: PNG files to embed.
        out_dir: the report's directory (figure links are relative to it).
        deploy_cfg: the ``deploy`` settings, whose rules word the comparisons and bias
            flags (``judgement``); None: the documented defaults.
    """
    from ..decisions.judgement import baseline_verdicts, bias_verdicts

    disc, cal = evaluation["discrimination"], evaluation["calibration"]
    tm = evaluation["threshold_metrics"]
    threshold = evaluation["threshold"]
    level = f"{1 - evaluation['settings']['alpha']:.0%}"
    lines = [
        f"# Error analysis: {charter['name']}",
        "",
        f"Test split: {evaluation['n']:,} rows, prevalence {ci(evaluation['prevalence'])}. "
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
        value = _or_undefined(num(c["estimate"]), evaluation)
        lines.append(f"| `{c['rule']}` | {value} | {interval} | {met} | {on_bound} |")
    auc = f"{ci(disc['auc'])} (DeLong)"
    if is_constant(evaluation):
        auc = f"{num(disc['auc']['estimate'])} by construction (constant predictions; interval "
        auc += "undefined)"
    lines += [
        "",
        "## Discrimination",
        "",
        f"- ROC AUC {auc}; average precision {ci(disc['ap'])}",
        f"- At the threshold: sensitivity {ci(tm['sensitivity'])}, specificity "
        f"{ci(tm['specificity'])}, PPV {ci(tm['ppv'])}, NPV {ci(tm['npv'])}",
        f"- Likelihood ratios: LR+ {ci(tm['lr_positive'], 2)}, LR- {ci(tm['lr_negative'], 2)}; "
        f"net benefit {ci(tm['net_benefit'])}",
        f"- Confusion: TP {tm['confusion']['tp']}, FP {tm['confusion']['fp']}, "
        f"TN {tm['confusion']['tn']}, FN {tm['confusion']['fn']}",
        "",
        "## Calibration",
        "",
        f"- Brier {ci(cal['brier'])}, Brier skill {ci(cal['brier_skill'])}",
        f"- Calibration intercept {_or_undefined(ci(cal['intercept']), evaluation)} (0 is "
        f"ideal), slope {_or_undefined(ci(cal['slope']), evaluation)} (1 is ideal)",
        f"- ICI {num(cal['ici'], 4)}, E50 {num(cal['e50'], 4)}, E90 {num(cal['e90'], 4)}, "
        f"ECE {ci(cal['ece'], 4)}",
        "",
        "## Against the baselines (paired, same test rows)",
        "",
        "| reference | AUC difference | Brier difference |",
        "|---|---|---|",
    ]
    for name, comparison in evaluation.get("comparisons", {}).items():
        lines.append(f"| {name} | {ci(comparison['auc_difference'])} | "
                     f"{ci(comparison['brier_difference'], 4)} |")
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
            f"Equalized-odds difference {ci(fairness['equalized_odds_difference'])}, "
            f"demographic-parity difference {ci(fairness['demographic_parity_difference'])}"
            f"{' - **flagged**' if fairness['flagged'] else ''}.{gate} Each group's figures "
            f"with {level} intervals:", "",
            "| group | n | prevalence | AUC | cal. slope | TPR | FPR | PPV |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['group']} | {r['n']} | {ci(r['prevalence'], 2)} | {ci(r['auc'], 2)} | "
                f"{ci(r['slope'], 2)} | {ci(r['tpr'], 2)} | {ci(r['fpr'], 2)} | "
                f"{ci(r['ppv'], 2)} |"
            )
    slices = evaluation.get("slices", {}).get("slices", [])[:10]
    if not slices and evaluation.get("slices", {}).get("n_too_small"):
        lines += ["", "## Weakest slices (gap x share)", "",
                  f"None reported: every candidate slice has fewer than "
                  f"{evaluation['slices']['min_size']} of the {evaluation['n']} test rows "
                  "(`evaluate.slices.min_size`)."]
    if slices:
        lines += ["", "## Weakest slices (gap x share)", "",
                  f"Worst first; the slice's AUC and Brier score with {level} intervals.", "",
                  "| slice | share | n | AUC | Brier |", "|---|---|---|---|---|"]
        for s in slices:
            lines.append(f"| `{s['slice']}` | {s['share']:.1%} | {s['n']} | {ci(s['auc'], 2)} | "
                         f"{ci(s['brier'])} |")
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
