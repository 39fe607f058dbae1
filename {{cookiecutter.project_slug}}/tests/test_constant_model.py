"""A model that predicts one value for every row: said in words, failed by the gate, no NaN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.decisions.advice import next_actions
from {{ cookiecutter.package_name }}.decisions.criteria import constant_finding, judge_criteria, mark_constant
from {{ cookiecutter.package_name }}.decisions.gate import gate
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary
from {{ cookiecutter.package_name }}.reporting.evaluation_report import render_report

CHARTER: dict[str, Any] = {
    "name": "Small",
    "success_criteria": {"auc": {"min": 0.62}, "calibration_slope": {"min": 0.8, "max": 1.2}},
}
EVALUATE_CFG = {"n_bootstrap": 200}


def _evaluated(p_valid, p_test, y_test, adapted=()):
    """What the evaluate stage builds: the evaluation, the finding, criteria, next actions."""
    sex = np.where(np.arange(len(y_test)) % 2, "F", "M")
    evaluation = evaluate_binary(
        y_test, p_test, threshold=0.3, groups={"sex": sex},
        references={"prior": np.full(len(y_test), y_test.mean())}, n_bootstrap=200,
    )
    evaluation["threshold"] = {"method": "youden", "value": 0.3, "chosen_on": "valid"}
    mark_constant(evaluation, constant_finding(p_valid, p_test))
    evaluation["criteria"] = judge_criteria(evaluation, CHARTER["success_criteria"])
    evaluation["model"] = {"model_name": "hist_gradient_boosting", "n_train_rows": 87,
                           "adapted": list(adapted)}
    evaluation["next_actions"] = next_actions(evaluation, CHARTER, EVALUATE_CFG)
    return evaluation


@pytest.fixture(scope="module")
def constant():
    # given a model that predicts 0.28 for every validation and test row of a small table
    rng = np.random.default_rng(0)
    y = (rng.random(30) < 0.3).astype(int)
    y[:2] = [0, 1]
    return _evaluated(np.full(32, 0.28), np.full(30, 0.28), y)


def test_constant_predictions_are_written_as_json_without_nan(constant):
    # when the evaluation is serialised strictly (no NaN allowed)
    text = json.dumps(constant, allow_nan=False)
    # then it is valid JSON; the AUC is 0.5 with its degenerate interval and the slope undefined
    loaded = json.loads(text)
    assert loaded["constant_predictions"]["constant"] is True
    assert loaded["discrimination"]["auc"] == {"estimate": 0.5, "lo": None, "hi": None, "se": None}
    assert loaded["calibration"]["slope"]["estimate"] is None


def test_report_says_the_model_predicts_a_constant_near_the_top(constant):
    # when the report is rendered
    report = render_report(constant, CHARTER, [], Path("reports/evaluate"))
    top = report.split("## Next actions")[0]
    # then it says so before anything else, and what that means for the numbers and the gate
    assert "The model predicts a constant (p = 0.2800" in top
    assert "discrimination is 0.5 by construction" in top
    assert "the deploy gate cannot pass it" in top
    assert constant["next_actions"][0].startswith("The model predicts a constant")
    assert "ROC AUC 0.500 by construction (constant predictions; interval undefined)" in report
    assert "slope undefined (constant predictions)" in report


def test_gate_fails_a_constant_model_with_that_reason_first(constant):
    # when the gate judges it
    passed, reasons = gate(constant, None, {"judge_on": "point"})
    # then it fails, and the first reason says why in words
    assert passed is False
    assert reasons[0].startswith("FAIL the model predicts a constant (p = 0.2800")
    assert "0.5 by construction" in reasons[0]
    assert any("undefined (constant predictions)" in r for r in reasons)


def test_a_model_that_ranks_is_not_called_constant_and_its_report_lists_adapted_settings():
    # given a model whose probabilities vary, trained with an adapted leaf size
    rng = np.random.default_rng(1)
    y = (rng.random(40) < 0.4).astype(int)
    p = np.clip(0.4 + 0.3 * (y - 0.4) + rng.normal(0, 0.1, 40), 0.01, 0.99)
    adapted = [{"param": "min_samples_leaf", "configured": 50, "used": 8,
                "reason": "a leaf may hold at most 10% of the 87 training rows"}]
    evaluation = _evaluated(rng.random(40), p, y, adapted)
    # when reported and gated
    report = render_report(evaluation, CHARTER, [], Path("reports/evaluate"))
    _, reasons = gate(evaluation, None, {"judge_on": "point"})
    # then nothing speaks of a constant, and the adapted setting is said near the top
    assert "constant" not in report and not any("constant" in r for r in reasons)
    assert ("Settings adapted to the 87 training rows (`hist_gradient_boosting`): "
            "`min_samples_leaf` 50 -> 8") in report.split("## Next actions")[0]


def test_gate_words_an_undefined_baseline_difference_instead_of_crashing():
    # given an evaluation whose AUC difference with a baseline has no interval
    evaluation = {"criteria": [], "comparisons": {"legacy": {"auc_difference": {
        "estimate": 0.01, "lo": None, "hi": None}}}}
    # when gated on the interval bound
    passed, reasons = gate(evaluation, None, {"judge_on": "lower_bound"})
    # then it fails that check and says the bound is undefined
    assert not passed
    assert "AUC difference +0.010 [undefined, undefined]" in reasons[0]


def test_reference_profile_of_constant_predictions_saves_undefined_statistics_as_null(tmp_path):
    # given the monitoring reference of a constant model (its slope test is undefined: NaN)
    from {{ cookiecutter.package_name }}.metrics._format import jsonable
    from {{ cookiecutter.package_name }}.monitoring.reference import (
        build_reference,
        save_reference,
    )

    X = pd.DataFrame({"x": np.arange(30.0)})
    y = np.r_[np.zeros(20), np.ones(10)]
    reference = build_reference(X, np.full(30, 0.3), y, numeric=["x"], categorical=[])
    # when saved the way the train stage saves it
    path = save_reference(jsonable(reference), tmp_path / "reference.json")
    # then the strict writer accepts it and the undefined p-value is null
    assert json.loads(path.read_text())["performance"]["observed"]["slope_pvalue"] is None
