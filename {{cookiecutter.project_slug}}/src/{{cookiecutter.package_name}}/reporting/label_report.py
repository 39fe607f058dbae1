"""The label audit's Markdown report: how many to review first, then the evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TOP_SUSPECTS = 10  # rows of the suspects table shown in the report


def review_sentence(review: dict[str, Any] | None, n_suspected: int) -> str:
    """The advice: how many suspects to review first and what share of them is expected wrong.

    Args:
        review: the audit's ``review_first`` block (None: no suspects were ranked).
        n_suspected: the number of suspects.
    """
    if not n_suspected or not review:
        return "No suspected label errors: nothing to review."
    if not review["k"]:
        return (f"None of the {n_suspected:,} suspects is expected to be wrong more often than "
                f"right (about {review['expected_share_all_suspects']:.0%} of them are expected "
                "to be real errors): review a few of the first by `rank` in `suspects.csv` to "
                "learn the error rate before correcting many.")
    share = review["expected_true_error_share"]
    sentence = (
        f"Review the first {review['k']:,} of the {n_suspected:,} suspects (by `rank` in "
        f"`suspects.csv`): about {share:.0%} of them are expected to be real label errors "
        f"(about {review['expected_true_errors']:,.0f} rows), against "
        f"{review['expected_share_all_suspects']:.0%} over all suspects. Further down the "
        "list most suspects are correct labels of unusual cases: stop there unless the "
        "first rows turn out mostly wrong."
    )
    if review.get("observed_share_if_known") is not None:
        sentence += (f" On this synthetic data the recorded flips put the real share among them "
                     f"at {review['observed_share_if_known']:.0%}.")
    return sentence


def render_label_report(report: dict[str, Any], suspects: pd.DataFrame) -> str:
    """Markdown of the label audit (``reports/labels/summary.md``).

    Args:
        report: the audit's summary (``summary.json``).
        suspects: the ranked suspects (``suspects.csv``).
    """
    review = report.get("review_first")
    audited = report.get("audited", {})
    lines = [
        "# Label audit",
        "",
        f"{report['n_rows']:,} rows audited"
        + (f" (a stratified sample of {audited['of_rows']:,})" if audited.get("sampled") else "")
        + f"; {report['n_suspected']:,} suspected label errors "
        f"({report['suspected_fraction']:.1%}), {report['n_conflicting_rows']:,} rows in "
        f"{report['n_conflict_groups']:,} groups of identical features with different labels.",
        "",
        "## What to review first",
        "",
        review_sentence(review, report["n_suspected"]),
        "",
    ]
    if review:
        lines += [f"Assumption: {review['assumption']}.", ""]
    lines += ["Confirmed errors go to `data/corrections.csv` (`id,action,label,reason`), which "
              "`prepare` applies; nothing is relabelled automatically.", ""]
    detection = report.get("detection")
    if detection:
        lines += ["## Against the recorded flips (synthetic data)", "",
                  f"Precision {detection['precision']:.2f}, recall {detection['recall']:.2f} "
                  f"({detection['n_true_positive']:,} of {detection['n_flipped']:,} flipped "
                  "labels among the suspects).", ""]
    if len(suspects):
        shown = suspects.head(TOP_SUSPECTS)
        lines += [f"## The first {len(shown)} suspects", "",
                  "| rank | id | given | suggested | P(given label) | P(label wrong) |",
                  "|---|---|---|---|---|---|"]
        for row in shown.itertuples(index=False):
            wrong = getattr(row, "p_label_wrong", None)
            lines.append(f"| {row.rank} | {row.id} | {row.given_label} | {row.suggested_label} | "
                         f"{row.p_given_label:.3f} | "
                         f"{'-' if wrong is None else f'{wrong:.2f}'} |")
        lines.append("")
    return "\n".join(lines)
