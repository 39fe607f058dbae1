"""The project card (Markdown) rendered from the validated charter."""

from __future__ import annotations

from typing import Any

from ..decisions.charter import parse_criteria


def render_card(charter: dict[str, Any]) -> str:
    """The project card in Markdown.

    Args:
        charter: the validated charter.
    """
    criteria = parse_criteria(charter["success_criteria"])
    sensitive = ", ".join(charter["sensitive_attributes"]) or "none declared"
    constraints = charter.get("constraints") or {}
    lines = [
        f"# Project card: {charter['name']}",
        "",
        f"**Owner:** {charter['owner']}",
        "",
        "| | |",
        "|---|---|",
        f"| Problem | {charter['problem']} |",
        f"| Intended users | {charter['intended_users']} |",
        f"| Decision supported | {charter['decision']} |",
        f"| Target | {charter['target_description']} |",
        f"| Unit of prediction | {charter['unit_of_prediction']} |",
        f"| Audited attributes | {sensitive} (gap tolerance "
        f"{charter.get('subgroup_gap_tolerance', 0.1):g}) |",
        "",
        "## Success criteria (enforced by the deploy gate)",
        "",
        *[f"- `{c.describe()}`" for c in criteria],
        "",
    ]
    if charter.get("human_level_auc") is not None:
        lines += [f"Human-level / legacy AUC to beat: {charter['human_level_auc']}", ""]
    if constraints:
        lines += ["## Constraints", "", *[f"- **{k}**: {v}" for k, v in constraints.items()], ""]
    return "\n".join(lines)
