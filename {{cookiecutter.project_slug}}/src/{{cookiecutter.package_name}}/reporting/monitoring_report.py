"""The monitoring report (Markdown): the verdict and its reasons first, then the evidence."""

from __future__ import annotations


def render_report(result: dict) -> str:
    """A short Markdown report of one batch."""
    verdict = result["verdict"]
    lines = [
        f"# Monitoring: batch `{result['batch']}` ({result['n']:,} rows)",
        "",
        f"## Verdict: **{verdict['verdict']}**",
        "",
        *[f"- {reason}" for reason in verdict["reasons"]],
        "",
        f"**Next step:** {result['next_step']}",
        "",
        "## Drift per feature",
        "",
        "| feature | status | PSI | KS / JS | adj. p-value |",
        "|---|---|---|---|---|",
    ]
    for feature, entry in sorted(result["drift"]["features"].items(),
                                 key=lambda kv: -(kv[1].get("psi") or 0)):
        stat = entry.get("ks_statistic", entry.get("js_distance"))
        lines.append(
            f"| {feature} | {entry.get('status')} | {_fmt(entry.get('psi'))} | {_fmt(stat)} | "
            f"{_fmt(entry.get('pvalue_adjusted'))} |"
        )
    expected = result["performance"]["expected"]
    lines += ["", "## Performance", "",
              f"- Label-free estimate: AUC {_fmt(expected.get('auc'))}, "
              f"prevalence {_fmt(expected.get('prevalence'))}"]
    observed = result["performance"].get("observed") or {}
    if observed:
        ci = observed.get("auc_ci") or [None, None]
        lines.append(f"- With labels: AUC {_fmt(observed.get('auc'))} "
                     f"[{_fmt(ci[0])}, {_fmt(ci[1])}], prevalence "
                     f"{_fmt(observed.get('prevalence'))}")
    lines += ["", "Trend across batches: `reports/monitor/history.csv` and `history.png`.", ""]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)
