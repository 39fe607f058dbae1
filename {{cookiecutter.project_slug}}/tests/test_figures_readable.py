"""Figures and report parts read at a glance: shared axes, reference lines, legends in words."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary
from {{ cookiecutter.package_name }}.reporting.figures import (
    group_axis_limits,
    plot_groups,
    plot_history,
    plot_importance,
)
from {{ cookiecutter.package_name }}.reporting.label_report import render_label_report, review_sentence
from {{ cookiecutter.package_name }}.reporting.monitoring_report import status_legend


@pytest.fixture(scope="module")
def evaluation():
    """An evaluation with two audited attributes whose groups perform differently."""
    rng = np.random.default_rng(0)
    n = 4_000
    sex = rng.choice(np.array(["F", "M"]), n)
    plan = rng.choice(np.array(["a", "b", "c"]), n, p=[0.5, 0.45, 0.05])
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.2, n) * (1 + (plan == "c")), 0.01, 0.99)
    return evaluate_binary(y, p, threshold=0.35, groups={"sex": sex, "plan": plan},
                           n_bootstrap=0, min_group_size=300)


def test_group_axes_share_one_range_per_metric_of_equal_span(evaluation):
    # given per-group AUC, TPR and FPR of two attributes
    # when the axis ranges are chosen
    limits = group_axis_limits(evaluation)
    # then every metric has a range of the same span, at least 0.2, within [0, 1], holding
    # every group's interval and the all-rows value
    spans = {round(high - low, 12) for low, high in limits.values()}
    assert len(spans) == 1 and spans.pop() >= 0.2
    for metric, (low, high) in limits.items():
        assert 0.0 <= low < high <= 1.0
        for rows in evaluation["groups"].values():
            for row in rows:
                values = [v for v in (row[metric]["lo"], row[metric]["hi"]) if v is not None]
                assert all(low <= v <= high for v in values), (metric, row["group"])
    auc = evaluation["discrimination"]["auc"]["estimate"]
    assert limits["auc"][0] <= auc <= limits["auc"][1]


def test_group_figures_are_written_one_per_attribute(evaluation, tmp_path):
    # given the evaluation (group "c" of plan is under the 300-row minimum: greyed, in the legend)
    assert not {r["group"]: r["large_enough"] for r in evaluation["groups"]["plan"]}["c"]
    # when the figures are drawn
    paths = plot_groups(evaluation, tmp_path)
    # then there is one non-empty PNG per attribute
    assert sorted(p.name for p in paths) == ["groups_plan.png", "groups_sex.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_monitoring_status_legend_names_every_status_with_its_thresholds():
    # given custom thresholds
    legend = "\n".join(status_legend({"psi_drift": 0.3, "psi_watch": 0.15}))
    # then each status is explained, with the thresholds in force
    for status in ("**drift**", "**watch**", "**stable**", "**schema-error**"):
        assert status in legend
    assert "PSI ≥ 0.3" in legend and "PSI ≥ 0.15" in legend and "Holm" in legend


def test_history_figure_draws_many_verdicts_and_missing_labels(tmp_path):
    # given a history of four batches, one without labels
    columns = ["batch", "verdict", "max_psi", "prediction_psi", "expected_auc", "real_auc",
               "real_auc_low", "real_auc_high"]
    rows = [["b1", "ok", 0.05, 0.04, 0.70, 0.71, 0.69, 0.73],
            ["b2", "watch", 0.15, 0.12, 0.69, "", "", ""],
            ["b3", "retrain", 0.40, 0.30, 0.66, 0.60, 0.58, 0.62],
            ["b4", "investigate-data", 0.30, 0.20, 0.67, 0.66, 0.64, 0.68]]
    history = tmp_path / "history.csv"
    with history.open("w", newline="") as handle:
        csv.writer(handle).writerows([columns, *rows])
    # when the figure is drawn with the configured thresholds
    out = plot_history(history, tmp_path / "history.png", {"psi_drift": 0.25, "psi_watch": 0.1,
                                                           "confidence": 0.9})
    # then it is written
    assert out.stat().st_size > 10_000


def test_importance_figure_with_and_without_intervals(tmp_path):
    table = pd.DataFrame({"feature": ["age", "bmi"], "importance": [0.05, 0.01],
                          "std": [0.01, 0.002], "lo": [0.04, -0.002], "hi": [0.06, 0.022]})
    assert plot_importance(table, tmp_path / "a.png").stat().st_size > 5_000
    assert plot_importance(table.iloc[:0], tmp_path / "b.png").stat().st_size > 5_000


def test_label_report_says_how_many_to_review_first():
    # given an audit summary with a review_first block and ranked suspects
    review = {"k": 120, "expected_true_error_share": 0.52, "expected_true_errors": 62.4,
              "expected_share_all_suspects": 0.4, "assumption": "labels flipped at random",
              "observed_share_if_known": 0.35}
    report = {"n_rows": 5_000, "n_suspected": 300, "suspected_fraction": 0.06,
              "n_conflicting_rows": 0, "n_conflict_groups": 0, "review_first": review}
    suspects = pd.DataFrame({"rank": [1, 2], "id": [7, 9], "given_label": [1, 0],
                             "suggested_label": [0, 1], "p_given_label": [0.04, 0.1],
                             "p_label_wrong": [0.8, 0.6]})
    # when the report is rendered
    text = render_label_report(report, suspects)
    # then it advises the first 120 with their expected share, states the assumption and lists
    # the suspects by rank
    assert "Review the first 120 of the 300 suspects" in text and "about 52%" in text
    assert "Assumption: labels flipped at random." in text and "| 1 | 7 | 1 | 0 |" in text
    assert "35%" in text
    assert review_sentence(None, 0) == "No suspected label errors: nothing to review."
    assert "None of the 300 suspects" in review_sentence({**review, "k": 0}, 300)
