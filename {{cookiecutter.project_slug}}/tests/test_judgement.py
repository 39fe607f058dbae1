"""One rule for the gate and the report: comparisons on the interval, charter words, bias flags.

The rule module is tested on hand-made intervals; then the same evaluation goes to the deploy
gate and to the error-analysis report, which must print the same verdict words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import DeploySettings
from {{ cookiecutter.package_name }}.decisions.advice import next_actions
from {{ cookiecutter.package_name }}.decisions.charter import parse_bias_flags_block, validate_charter
from {{ cookiecutter.package_name }}.decisions.gate import gate, render_decision
from {{ cookiecutter.package_name }}.decisions.judgement import (
    Rule,
    baseline_rule,
    bias_flags,
    bias_verdicts,
    champion_rule,
    champion_verdict,
    classify,
    criterion_check,
    deploy_settings,
    judge,
)
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary
from {{ cookiecutter.package_name }}.reporting.evaluation_report import render_report

EQUAL = {"estimate": 0.006, "lo": -0.006, "hi": 0.017}     # equal within noise
BETTER = {"estimate": 0.050, "lo": 0.030, "hi": 0.070}     # clearly better
WORSE = {"estimate": -0.050, "lo": -0.070, "hi": -0.030}   # clearly worse
SUPERIORITY = Rule("superiority", 0.0)
NON_INFERIORITY = Rule("non_inferiority", 0.01)


# --- the rule, on hand-made intervals --------------------------------------------------------

@pytest.mark.parametrize(("diff", "margin", "outcome"), [
    (BETTER, 0.01, "better"),                                     # lo above +margin
    ({"estimate": 0.02, "lo": 0.005, "hi": 0.035}, 0.01, "not_worse"),  # above 0, not +margin
    (EQUAL, 0.01, "not_worse"),                                   # lo above -margin
    (EQUAL, 0.0, "no_clear_difference"),                          # interval holds 0
    ({"estimate": -0.007, "lo": -0.016, "hi": 0.001}, 0.01, "no_clear_difference"),
    (WORSE, 0.01, "worse"),                                       # whole interval below 0
    ({"estimate": -0.004, "lo": -0.008, "hi": -0.001}, 0.01, "worse_within_margin"),
    ({"estimate": 0.01, "lo": None, "hi": None}, 0.01, "undefined"),
])
def test_an_interval_reads_as_one_outcome(diff, margin, outcome):
    # given an AUC difference with its interval and a margin, when classified, then
    assert classify(diff, margin) == outcome


@pytest.mark.parametrize(("diff", "superiority", "non_inferiority"), [
    (EQUAL, False, True), (BETTER, True, True), (WORSE, False, False),
])
def test_superiority_asks_better_and_non_inferiority_not_worse(diff, superiority,
                                                               non_inferiority):
    # given the three cases, when judged by each rule, then each passes what it asks for
    assert judge(diff, SUPERIORITY, "baseline `b`").passed is superiority
    assert judge(diff, NON_INFERIORITY, "baseline `b`").passed is non_inferiority


def test_the_words_say_the_outcome_the_numbers_and_the_margin():
    # given the three cases under non-inferiority with margin 0.01, when judged
    words = {name: judge(diff, NON_INFERIORITY, "baseline `logistic`").words
             for name, diff in (("equal", EQUAL), ("better", BETTER), ("worse", WORSE))}
    # then "not worse than" is never "better than", and the interval and margin are given
    assert words["equal"] == ("not worse than baseline `logistic` (AUC difference +0.006 "
                              "[-0.006, +0.017], margin 0.01)")
    assert words["better"] == ("better than baseline `logistic` (AUC difference +0.050 "
                               "[+0.030, +0.070], margin 0.01)")
    assert words["worse"] == ("worse than baseline `logistic` (AUC difference -0.050 "
                              "[-0.070, -0.030], margin 0.01)")
    # and superiority on the equal case says there is no clear difference
    assert judge(EQUAL, SUPERIORITY, "baseline `logistic`").words.startswith(
        "no clear difference from baseline `logistic`")


def test_the_requirement_states_the_rule_the_level_and_the_bound():
    # given a 90% interval (alpha 0.1), when the rule is stated
    assert NON_INFERIORITY.requirement(0.1) == (
        "rule non_inferiority: lower bound of the 90% interval above -0.01")
    assert SUPERIORITY.requirement() == "rule superiority: lower bound of the 95% interval above +0"
    # and rule none reports without blocking
    verdict = judge(WORSE, Rule("none", 0.0), "baseline `b`")
    assert verdict.passed and verdict.line().startswith("NOTE worse than baseline `b`")


def shipped_deploy(project_root: Path) -> DeploySettings:
    """``conf/deploy/default.yaml`` as the stages receive it."""
    return DeploySettings.model_validate(
        yaml.safe_load((project_root / "conf/deploy/default.yaml").read_text()))


def test_the_rules_come_from_the_deploy_settings(project_root):
    # given the shipped deploy settings
    deploy = shipped_deploy(project_root)
    # when the rules of the baselines and the champion are asked
    # then the prior must be beaten, any other baseline and the champion must not be worse by 0.01
    assert baseline_rule(deploy, "prior") == Rule("superiority", 0.0)
    assert baseline_rule(deploy, "logistic") == Rule("non_inferiority", 0.01)
    assert champion_rule(deploy) == Rule("non_inferiority", 0.01)
    # and a mapping, or nothing, reads as the shipped settings (the defaults live in conf/ only)
    assert deploy_settings(None) == deploy == deploy_settings({})


def test_a_baseline_may_have_its_own_rule_and_its_missing_keys_take_the_groups(project_root):
    # given a per-baseline entry giving only a margin, and one giving only a rule
    base = shipped_deploy(project_root)
    deploy = base.model_copy(update={"baselines": base.baselines.model_copy(update={
        "margin": 0.02, "per_baseline": {
            "legacy": base.baselines.per_baseline["prior"].model_copy(
                update={"rule": None, "margin": 0.0}),
            "logistic": base.baselines.per_baseline["prior"].model_copy(
                update={"rule": "none", "margin": None}),
        }})})
    # when asked, then each key left out (None) is the group's, a margin of 0 is kept
    assert baseline_rule(deploy, "legacy") == Rule("non_inferiority", 0.0)
    assert baseline_rule(deploy, "logistic") == Rule("none", 0.02)
    assert baseline_rule(deploy, "prior") == Rule("non_inferiority", 0.02)


@pytest.mark.parametrize(("section", "message"), [
    ({"rule": "beats"}, "deploy.champion.rule"),
    ({"margin": -0.01}, "deploy.champion.margin"),
    ({"margin": "small"}, "deploy.champion.margin"),
])
def test_a_bad_rule_is_a_clear_error(section, message):
    with pytest.raises(ConfigError, match=message):
        champion_rule({"champion": section})


def test_the_champion_is_named_with_its_version():
    # given a champion comparison in the noise, when judged by the default champion rule
    verdict = champion_verdict({"version": "3", "auc_difference": {
        "estimate": -0.007, "lo": -0.016, "hi": 0.001}}, {})
    # then it fails, and says the interval allows a loss above the margin
    assert not verdict.passed
    assert verdict.line() == (
        "FAIL no clear difference from champion v3 (AUC difference -0.007 [-0.016, +0.001], "
        "margin 0.01); rule non_inferiority: lower bound of the 95% interval above -0.01")


@pytest.mark.parametrize(("criterion", "judge_on", "words"), [
    ({"rule": "auc >= 0.62", "min": 0.62, "max": None, "estimate": 0.668, "lo": 0.648,
      "hi": 0.688, "met": True, "met_on_bound": True}, "point",
     "0.668 (estimate; interval [0.648, 0.688])"),
    ({"rule": "auc >= 0.62", "min": 0.62, "max": None, "estimate": 0.668, "lo": 0.648,
      "hi": 0.688, "met": True, "met_on_bound": True}, "lower_bound",
     "lower bound 0.648 (estimate 0.668)"),
    ({"rule": "ece <= 0.1", "min": None, "max": 0.1, "estimate": 0.05, "lo": 0.03,
      "hi": 0.12, "met": True, "met_on_bound": False}, "lower_bound",
     "upper bound 0.120 (estimate 0.050)"),
    ({"rule": "0.8 <= calibration_slope <= 1.2", "min": 0.8, "max": 1.2, "estimate": 1.09,
      "lo": 0.958, "hi": 1.222, "met": True, "met_on_bound": False}, "lower_bound",
     "interval [0.958, 1.222] (estimate 1.090)"),
    ({"rule": "max_subgroup_auc_gap <= 0.25", "min": None, "max": 0.25, "estimate": 0.13,
      "lo": None, "hi": None, "met": True, "met_on_bound": True}, "lower_bound",
     "0.130 (estimate; no interval)"),
])
def test_charter_words_say_whether_the_estimate_or_a_bound_was_judged(criterion, judge_on,
                                                                      words):
    ok, said = criterion_check(criterion, judge_on)
    assert said == words
    assert ok is (criterion["met_on_bound"] if judge_on == "lower_bound" else criterion["met"])


# --- the same evaluation to the gate and to the report ---------------------------------------

@pytest.fixture(scope="module")
def measured():
    """A real evaluation of 600 rows (no sensitive attribute), for the report's layout."""
    rng = np.random.default_rng(3)
    y = (rng.random(600) < 0.3).astype(int)
    p = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.15, 600), 0.01, 0.99)
    evaluation = evaluate_binary(y, p, threshold=0.3, references={"logistic": p[::-1].copy()},
                                 n_bootstrap=100)
    evaluation["threshold"] = {"method": "youden", "value": 0.3, "chosen_on": "valid"}
    evaluation["criteria"] = []
    evaluation["model"] = {"model_name": "hist_gradient_boosting", "recalibration": "none",
                           "n_valid_rows": 600}
    return evaluation


def _with(evaluation, diff):
    comparison = dict(evaluation["comparisons"]["logistic"], auc_difference=diff)
    return {**evaluation, "comparisons": {"logistic": comparison}}


@pytest.mark.parametrize(("diff", "words", "passed"), [
    (EQUAL, "not worse than baseline `logistic` (AUC difference +0.006 [-0.006, +0.017], "
            "margin 0.01)", True),
    (BETTER, "better than baseline `logistic` (AUC difference +0.050 [+0.030, +0.070], "
             "margin 0.01)", True),
    (WORSE, "worse than baseline `logistic` (AUC difference -0.050 [-0.070, -0.030], "
            "margin 0.01)", False),
], ids=["equal-within-noise", "clearly-better", "clearly-worse"])
def test_gate_and_report_judge_a_baseline_the_same_way(measured, diff, words, passed):
    # given one evaluation, with the model against `logistic` as in each case
    evaluation = _with(measured, diff)
    charter = {"name": "Same", "success_criteria": {}}
    cfg = deploy_settings(None)
    # when the gate decides and the report is written from it
    gate_passed, reasons = gate(evaluation, None, cfg, charter)
    evaluation["next_actions"] = next_actions(evaluation, charter, {}, cfg)
    report = render_report(evaluation, charter, [], Path("reports/evaluate"), cfg)
    # then both print the same verdict words, and agree on the consequence
    gate_line = next(r for r in reasons if "baseline `logistic`" in r)
    assert gate_line.startswith(f"{'PASS' if passed else 'FAIL'} {words}; rule non_inferiority")
    assert gate_passed is passed
    assert f"- The model is {words}: {'passes' if passed else 'fails'} rule non_inferiority" \
        in report
    advice = [a for a in evaluation["next_actions"] if "baseline `logistic`" in a]
    if diff is BETTER:
        assert advice == []  # nothing to do
    else:
        assert advice == [a for a in advice if words in a] != []
        assert ("will refuse it" in advice[0]) is (not passed)
    # and nothing says "beats" or "clearly better" of a model within noise
    assert "beats" not in " ".join(reasons) + report
    if diff is EQUAL:
        assert "not clearly better" in advice[0]


def test_the_old_false_pass_now_reads_not_worse_and_under_superiority_fails():
    # given the demo's comparison with `logistic` (+0.006 [-0.006, +0.017])
    evaluation = {"criteria": [], "comparisons": {"logistic": {"auc_difference": EQUAL}}}
    # when the gate judges it by non-inferiority (default) and by superiority
    _, default = gate(evaluation, None, {})
    passed, strict = gate(evaluation, None, {"baselines": {"rule": "superiority", "margin": 0}})
    # then the default passes it as "not worse than", superiority refuses it, neither "beats"
    assert default[0].startswith("PASS not worse than baseline `logistic`")
    assert not passed and strict[0].startswith("FAIL no clear difference from baseline")


# --- bias flags: the charter decides whether they block --------------------------------------

def _fairness(eod, lo, hi, flagged, **extra):
    gap = {"estimate": eod, "lo": lo, "hi": hi, "exceeds_tolerance": flagged}
    quiet = {"estimate": 0.02, "lo": 0.0, "hi": 0.05, "exceeds_tolerance": False}
    return {"tolerance": 0.1, "threshold": 0.3, "equalized_odds_difference": gap,
            "demographic_parity_difference": quiet, "tpr_difference": gap,
            "fpr_difference": quiet, "flagged": flagged, **extra}


def _flagged_evaluation():
    return {"criteria": [], "comparisons": {}, "fairness": {
        "insurance": _fairness(0.63, 0.46, 0.71, True),
        "sex": _fairness(0.02, 0.0, 0.08, False),
    }}


def test_bias_flags_are_read_through_one_function():
    # given the fairness section, also with the per-group size information
    evaluation = _flagged_evaluation()
    evaluation["fairness"]["insurance"].update(
        min_group_size=50, small_groups=["other"], reportable=True,
        large_groups={"equalized_odds_difference": {"estimate": 0.60, "lo": 0.44, "hi": 0.70,
                                                    "exceeds_tolerance": True}})
    flags = {f["attribute"]: f for f in bias_flags(evaluation)}
    # then each attribute says whether it is flagged, on the numbers of the judged groups
    assert flags["insurance"]["flagged"] and not flags["sex"]["flagged"]
    eod = next(g for g in flags["insurance"]["gaps"] if g["name"] == "equalized_odds_difference")
    assert (eod["estimate"], eod["lo"], eod["exceeds"]) == (0.60, 0.44, True)
    assert flags["insurance"]["small_groups"] == ["other"]


@pytest.mark.parametrize(("setting", "passed", "status"), [
    (True, False, "FAIL"), (False, True, "WARN"), ({"insurance": False, "sex": True}, True, "WARN"),
    ({"sex": False}, False, "FAIL"),  # an attribute left out blocks
])
def test_the_charter_decides_whether_a_bias_flag_blocks(setting, passed, status):
    # given a flagged `insurance` and a charter setting
    charter = {"name": "Bias", "bias_flags_block": setting}
    # when gated
    ok, reasons = gate(_flagged_evaluation(), None, {}, charter)
    # then the flag is listed with its interval against the tolerance, and whether it blocked
    line = next(r for r in reasons if "`insurance`" in r)
    assert ok is passed
    assert line.startswith(f"{status} bias audit flags `insurance`: equalized-odds difference "
                           "0.63 [0.46, 0.71] above the tolerance 0.1 (its whole interval is "
                           "above the tolerance)")
    assert line.endswith("for `insurance`" if passed is False else
                         "for `insurance` (reported only)")
    assert ("; blocks: the charter's `bias_flags_block` is true" in line) is (not passed)
    # and the unflagged attribute passes, with its largest gap
    assert any(r.startswith("PASS bias audit `sex`: no gap above the tolerance 0.1 "
                            "(equalized-odds difference 0.02 [0.00, 0.08])") for r in reasons)


def test_a_flag_whose_interval_reaches_the_tolerance_says_so_and_does_not_block():
    # given a gap above the tolerance by its estimate, its interval reaching below it
    evaluation = {"fairness": {"sex": _fairness(0.14, 0.06, 0.22, True)}}
    # when judged under a charter whose flags block
    [verdict] = bias_verdicts(evaluation, {"bias_flags_block": True})
    # then it is flagged and said so, but the evidence is too weak to block a deployment
    assert "its interval reaches below the tolerance, so the gap may be within it" in verdict.words
    assert verdict.flagged and not verdict.blocks and verdict.status == "WARN"
    assert "no flagged gap's interval lies wholly above the tolerance" in verdict.why


def test_without_a_charter_the_gate_uses_the_setting_the_evaluation_recorded():
    # given the evaluate stage recorded the charter's setting with the flags
    evaluation = {**_flagged_evaluation(), "bias_flags_block": {"insurance": False, "sex": True}}
    # when gated without the charter (as deploy and promote call it), then it follows it
    passed, _ = gate(evaluation, None, {})
    assert passed


def test_decision_md_lists_every_bias_flag_and_whether_it_blocked():
    # given a decision with a flag that does not block
    charter = {"name": "Bias", "bias_flags_block": {"insurance": False, "sex": True}}
    passed, reasons = gate(_flagged_evaluation(), None, {}, charter)
    decision = {"passed": passed, "model_name": "m", "version": 1, "judge_on": "point",
                "reasons": reasons, "threshold": 0.3}
    # when rendered
    text = render_decision(decision, charter)
    bias = text.split("## Bias flags")[1]
    # then the section lists each audited attribute, and the flag says it did not block, and why
    assert "- WARN bias audit flags `insurance`" in bias
    assert "does not block: the charter's `bias_flags_block` is false for `insurance`" in bias
    assert "- PASS bias audit `sex`" in bias
    assert "bias audit" not in text.split("## Bias flags")[0]
    assert "Charter criteria judged on the estimate (`deploy.judge_on: point`)" in text


@pytest.mark.parametrize(("setting", "normal"), [
    (True, {"sex": True, "insurance": True}),
    (False, {"sex": False, "insurance": False}),
    ({"insurance": False}, {"sex": True, "insurance": False}),
])
def test_bias_flags_block_takes_a_boolean_or_one_per_attribute(setting, normal):
    assert parse_bias_flags_block(setting, ["sex", "insurance"]) == normal


@pytest.mark.parametrize(("setting", "message"), [
    ({"age": True}, "age, not in sensitive_attributes"),
    ({"sex": "yes"}, "must be true or false"),
    ("sometimes", "must be true, false or a mapping"),
])
def test_a_bad_bias_flags_block_is_a_clear_error(setting, message):
    with pytest.raises(ConfigError, match=message):
        parse_bias_flags_block(setting, ["sex", "insurance"])


def test_the_default_charter_states_bias_flags_block(settings):
    # given the shipped project settings, when validated as the charter
    charter = validate_charter(settings.project)
    # then every audited attribute says whether its flag blocks
    assert set(charter["bias_flags_block"]) == set(charter["sensitive_attributes"])


def test_a_loss_within_the_margin_passes_non_inferiority_and_is_called_a_loss():
    # given a difference wholly below 0 but above -margin
    diff = {"estimate": -0.004, "lo": -0.008, "hi": -0.001}
    # when judged by non-inferiority, then it passes, and the words do not hide the loss
    verdict = judge(diff, NON_INFERIORITY, "champion v1")
    assert verdict.passed
    assert "worse, but within the margin, than champion v1" in verdict.words
