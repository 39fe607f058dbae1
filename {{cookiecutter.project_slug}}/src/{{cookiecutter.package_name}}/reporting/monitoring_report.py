"""The monitoring report (Markdown): the verdict and its reasons first, then the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.settings import MonitorThresholds


def status_legend(thresholds: MonitorThresholds | Mapping[str, Any] | None = None) -> list[str]:
    """What each drift status of the feature table means, with the thresholds in force.

    Args:
        thresholds: ``monitor.thresholds`` (the defaults when not given).
    """
    from ..monitoring.thresholds import resolve_thresholds

    t = resolve_thresholds(thresholds)
    test = (f"its test's p-value, {t['correction'].capitalize()}-adjusted over all features, is "
            f"below {t['alpha']:g}")
    return [
        "Status of a feature (its distribution in this batch against the training reference):",
        "",
        f"- **drift**: {test} and the shift is large: PSI ≥ {t['psi_drift']:g} or, for a "
        f"numeric feature, KS ≥ {t['ks_drift']:g};",
        f"- **watch**: {test} and the shift is moderate: PSI ≥ {t['psi_watch']:g} or "
        f"KS ≥ {t['ks_watch']:g};",
        "- **stable**: no significant shift, or one too small to matter;",
        "- **schema-error**: the column is missing or cannot be read as in training.",
        "",
        "PSI: population stability index (0 = same distribution); KS: Kolmogorov-Smirnov "
        "statistic (numeric); JS: Jensen-Shannon distance (categorical).",
    ]


def render_report(result: dict,
                  thresholds: MonitorThresholds | Mapping[str, Any] | None = None) -> str:
    """A short Markdown report of one batch.

    Args:
        result: the monitor's result of the batch.
        thresholds: ``monitor.thresholds``, for the status legend (the defaults when not given).
    """
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
    lines += ["", *status_legend(thresholds)]
    expected = result["performance"]["expected"]
    lines += ["", "## Performance", "",
              f"- Label-free estimate: AUC {_fmt(expected.get('auc'))}, "
              f"prevalence {_fmt(expected.get('prevalence'))}"]
    observed = result["performance"].get("observed") or {}
    if observed:
        ci = observed.get("auc_ci") or [None, None]
        from ..monitoring.thresholds import resolve_thresholds

        level = resolve_thresholds(thresholds)["confidence"]
        lines.append(f"- With labels: AUC {_fmt(observed.get('auc'))} "
                     f"[{_fmt(ci[0])}, {_fmt(ci[1])}] ({level:.0%} interval), prevalence "
                     f"{_fmt(observed.get('prevalence'))}")
    lines += ["", "Trend across batches: `reports/monitor/history.csv` and `history.png`.", ""]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)
