"""The deploy gate's rules one by one, on small hand-made evaluations: one test per branch.

Each rule (``decisions.gate``) returns its checks, ``(passed, line)``; the deploy settings are
``conf/deploy/default.yaml``'s, varied with ``model_copy``. The comparison words themselves are
tested in ``test_judgement.py``; here: what each rule checks, the boundaries of the intervals,
and that the gate and the report's advice say the same words for the same finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.settings import DeploySettings, RuleSettings
from {{ cookiecutter.package_name }}.decisions.advice import next_actions
from {{ cookiecutter.package_name }}.decisions.gate import (
    baselines_rule,
    bias_rule,
    champion_rule,
    charter_rule,
    constant_rule,
    gate,
)
from {{ cookiecutter.package_name }}.decisions.judgement import Rule, classify, flagged_verdict, judge

CONF = Path(__file__).resolve().parents[1] / "conf"
DEPLOY = DeploySettings.model_validate(
    yaml.safe_load((CONF / "deploy" / "default.yaml").read_text(encoding="utf-8")))
ON_BOUND = DEPLOY.model_copy(update={"judge_on": "lower_bound"})
CHARTER = {"name": "Gate", "success_criteria": {}}

AUC_MET_ON_ESTIMATE = {  # auc >= 0.62: 0.64 [0.60, 0.68] meets it, its lower bound does not
    "metric": "auc", "rule": "auc >= 0.62", "min": 0.62, "max": None, "estimate": 0.64,
    "lo": 0.60, "hi": 0.68, "met": True, "met_on_bound": False}
CLEARLY_BETTER = {"estimate": 0.05, "lo": 0.03, "hi": 0.07}
IN_THE_NOISE = {"estimate": 0.006, "lo": -0.006, "hi": 0.017}


def evaluation(**changes: Any) -> dict[str, Any]:
    """An evaluation with nothing to judge, ``changes`` applied."""
    return {"criteria": [], "comparisons": {}, "fairness": {}, **changes}


def comparisons(**diffs: Mapping[str, float | None]) -> dict[str, Any]:
    return {name: {"auc_difference": diff} for name, diff in diffs.items()}


# --- constant predictions ------------------------------------------------------------------

def test_a_constant_model_fails_first_naming_its_one_value():
    # given an evaluation that found constant predictions
    ev = evaluation(constant_predictions={"constant": True, "value": 0.2})
    # when the constant rule reads it, then one failing check naming the value
    [(passed, line)] = constant_rule(ev)
    assert not passed
    assert line.startswith("FAIL the model predicts a constant (p = 0.2000 for every row")


@pytest.mark.parametrize("finding", [{"constant": False, "value": None}, None])
def test_a_model_that_ranks_or_an_evaluation_without_the_finding_adds_no_check(finding):
    assert constant_rule(evaluation(constant_predictions=finding)) == []


# --- the charter's criteria ----------------------------------------------------------------

def test_a_criterion_met_on_its_estimate_passes_when_the_gate_judges_the_estimate():
    [(passed, line)] = charter_rule(evaluation(criteria=[AUC_MET_ON_ESTIMATE]), "point")
    assert passed
    assert line == "PASS charter `auc >= 0.62`: 0.640 (estimate; interval [0.600, 0.680])"


def test_the_same_criterion_fails_when_the_gate_judges_the_bound():
    [(passed, line)] = charter_rule(evaluation(criteria=[AUC_MET_ON_ESTIMATE]), "lower_bound")
    assert not passed
    assert line == "FAIL charter `auc >= 0.62`: lower bound 0.600 (estimate 0.640)"


@pytest.mark.parametrize(("constant", "words"), [
    (True, "undefined (constant predictions)"), (False, "not computable")])
def test_a_criterion_without_a_value_fails_and_says_why(constant, words):
    # given a criterion whose value could not be computed (None), the model constant or not
    criterion = {**AUC_MET_ON_ESTIMATE, "estimate": None, "lo": None, "hi": None, "met": False,
                 "met_on_bound": False}
    ev = evaluation(criteria=[criterion], constant_predictions={"constant": constant,
                                                                 "value": 0.2})
    # when judged, then it fails, saying why there is no value
    [(passed, line)] = charter_rule(ev, "point")
    assert not passed and line.endswith(f": {words}")


def test_a_charter_without_criteria_adds_no_check():
    assert charter_rule(evaluation(), "point") == []


# --- the baselines -------------------------------------------------------------------------

def test_every_baseline_is_one_check_judged_by_its_own_rule():
    # given the model in the noise against both the prior and `logistic`
    ev = evaluation(comparisons=comparisons(prior=IN_THE_NOISE, logistic=IN_THE_NOISE))
    # when judged by the shipped rules (prior: superiority; others: non-inferiority, 0.01)
    checks = dict(zip(("prior", "logistic"), baselines_rule(ev, DEPLOY), strict=True))
    # then the prior, which must be beaten, fails; `logistic`, not worse, passes
    assert checks["prior"][0] is False and "rule superiority" in checks["prior"][1]
    assert checks["logistic"][0] is True
    assert checks["logistic"][1].startswith("PASS not worse than baseline `logistic`")


def test_a_baseline_under_rule_none_is_a_note_that_never_blocks():
    deploy = DEPLOY.model_copy(update={"baselines": DEPLOY.baselines.model_copy(
        update={"rule": "none", "per_baseline": {}})})
    ev = evaluation(comparisons=comparisons(logistic={"estimate": -0.05, "lo": -0.07,
                                                      "hi": -0.03}))
    [(passed, line)] = baselines_rule(ev, deploy)
    assert passed and line.startswith("NOTE worse than baseline `logistic`")


def test_an_undefined_baseline_difference_cannot_be_compared_and_fails():
    ev = evaluation(comparisons=comparisons(logistic={"estimate": None, "lo": None, "hi": None}))
    [(passed, line)] = baselines_rule(ev, DEPLOY)
    assert not passed
    assert line.startswith("FAIL cannot be compared with baseline `logistic` (AUC difference "
                           "undefined [undefined, undefined]")


def test_no_baseline_adds_no_check():
    assert baselines_rule(evaluation(), DEPLOY) == []


# --- the champion --------------------------------------------------------------------------

def test_without_a_champion_the_challenger_passes():
    assert champion_rule(None, DEPLOY, 0.05) == [(True, "PASS no other champion to compare with")]


def test_a_champion_that_cannot_score_the_test_rows_fails_with_the_way_out():
    [(passed, line)] = champion_rule({"version": "4", "error": "KeyError: 'bmi'"}, DEPLOY, 0.05)
    assert not passed
    assert line.startswith("FAIL champion v4 cannot score the current test rows (KeyError: "
                           "'bmi')")
    assert "set_registered_model_alias(name, 'champion', version)" in line


def test_a_challenger_clearly_better_than_the_champion_passes_naming_its_version():
    [(passed, line)] = champion_rule({"version": "3", "auc_difference": CLEARLY_BETTER},
                                     DEPLOY, 0.05)
    assert passed and line.startswith("PASS better than champion v3 (AUC difference +0.050")


def test_the_champion_rule_follows_the_settings():
    # given a challenger within noise of the champion, under superiority
    strict = DEPLOY.model_copy(update={"champion": RuleSettings(rule="superiority", margin=0.0)})
    [(passed, line)] = champion_rule({"version": "3", "auc_difference": IN_THE_NOISE}, strict,
                                     0.1)
    # then it fails, the requirement naming the rule and the 90% level
    assert not passed
    assert line.endswith("rule superiority: lower bound of the 90% interval above +0")


# --- the intervals' boundaries (the one judging rule) --------------------------------------

@pytest.mark.parametrize(("diff", "margin", "outcome"), [
    ({"estimate": 0.03, "lo": 0.01, "hi": 0.05}, 0.01, "not_worse"),   # lo = +margin: not better
    ({"estimate": 0.02, "lo": -0.01, "hi": 0.05}, 0.01, "no_clear_difference"),  # lo = -margin
    ({"estimate": -0.002, "lo": -0.005, "hi": 0.0}, 0.01, "not_worse"),  # hi = 0: not below 0
    ({"estimate": -0.02, "lo": -0.03, "hi": 0.0}, 0.01, "no_clear_difference"),
    ({"estimate": 0.01, "lo": 0.0, "hi": 0.02}, 0.0, "no_clear_difference"),  # lo = 0 = margin
], ids=["touching-plus-margin", "touching-minus-margin", "hi-at-zero", "hi-at-zero-wide",
        "zero-margin"])
def test_an_interval_touching_a_bound_is_not_beyond_it(diff, margin, outcome):
    # given an interval whose bound equals the margin (or 0), when classified
    # then the bound counts as not beyond: "better" needs lo > +m, "not worse" lo > -m
    assert classify(diff, margin) == outcome


def test_superiority_fails_and_non_inferiority_passes_an_interval_touching_the_margin():
    diff = {"estimate": 0.03, "lo": 0.01, "hi": 0.05}
    assert not judge(diff, Rule("superiority", 0.01), "baseline `b`").passed
    assert judge(diff, Rule("non_inferiority", 0.01), "baseline `b`").passed
    assert not judge({"estimate": 0.0, "lo": -0.01, "hi": 0.01}, Rule("non_inferiority", 0.01),
                     "baseline `b`").passed


# --- bias ----------------------------------------------------------------------------------

def test_an_attribute_with_too_few_large_groups_is_not_judged_and_does_not_block():
    # given an attribute whose groups are all under the minimum size
    ev = evaluation(fairness={"site": {"tolerance": 0.1, "flagged": False, "reportable": False,
                                       "min_group_size": 50, "small_groups": ["a", "b"]}})
    # when the bias rule reads it, then a warning that passes, saying why it was not judged
    [(passed, line)] = bias_rule(ev, {"bias_flags_block": True})
    assert passed
    assert line.startswith("WARN bias audit `site`; groups under 50 rows are reported, not "
                           "judged: `a`, `b`; not judged")


def test_an_unflagged_attribute_says_whether_a_flag_would_block():
    ev = evaluation(fairness={"sex": {"tolerance": 0.1, "flagged": False}})
    [(passed, line)] = bias_rule(ev, {"bias_flags_block": False})
    assert passed
    assert line == ("PASS bias audit `sex`: no gap above the tolerance 0.1; a flag would not "
                    "block: the charter's `bias_flags_block` is false for `sex`")


def gap(name: str, label: str, estimate: float, lo: float, exceeds: bool) -> dict[str, Any]:
    """A gap as ``judgement.bias_flags`` reads it."""
    return {"name": name, "label": label, "estimate": estimate, "lo": lo, "hi": estimate + 0.1,
            "exceeds": exceeds}


def flag(*gaps: dict[str, Any], small: list[str] | None = None) -> dict[str, Any]:
    return {"attribute": "site", "flagged": True, "tolerance": 0.1, "judged": True,
            "min_group_size": 50, "small_groups": small or [], "gaps": list(gaps)}


EOD = gap("equalized_odds_difference", "equalized-odds difference", 0.3, 0.2, True)
TPR = gap("tpr_difference", "TPR difference", 0.3, 0.2, True)
FPR = gap("fpr_difference", "FPR difference", 0.15, 0.05, True)


def test_a_flag_on_equalized_odds_names_it_once_not_its_tpr_and_fpr_parts():
    verdict = flagged_verdict(flag(EOD, TPR, FPR), blocks_setting=True)
    assert "equalized-odds difference 0.30 [0.20, 0.40]" in verdict.words
    assert "TPR" not in verdict.words and "FPR" not in verdict.words
    assert verdict.blocks and verdict.status == "FAIL"


def test_a_flag_on_a_part_alone_names_the_part_and_its_interval_against_the_tolerance():
    # given only the FPR gap over the tolerance, its interval reaching below it
    verdict = flagged_verdict(flag(FPR, small=["x"]), blocks_setting=True)
    # then it is named, said to be uncertain, does not block, and the small group is listed
    assert verdict.words == (
        "bias audit flags `site`: FPR difference 0.15 [0.05, 0.25] above the tolerance 0.1 "
        "(its interval reaches below the tolerance, so the gap may be within it); groups "
        "under 50 rows are reported, not judged: `x`")
    assert not verdict.blocks and verdict.status == "WARN"


# --- the gate: every rule, in order ---------------------------------------------------------

def test_the_gate_passes_only_when_every_check_passes_and_lists_them_in_rule_order():
    # given a failing criterion (on the bound), a passing baseline and a champion clearly beaten
    ev = evaluation(criteria=[AUC_MET_ON_ESTIMATE],
                    comparisons=comparisons(logistic=CLEARLY_BETTER),
                    fairness={"sex": {"tolerance": 0.1, "flagged": False}})
    champion = {"version": "2", "auc_difference": CLEARLY_BETTER}
    # when gated on the estimate and on the bound
    passed, reasons = gate(ev, champion, DEPLOY, CHARTER)
    failed, on_bound = gate(ev, champion, ON_BOUND, CHARTER)
    # then the reasons follow the rules' order, and one failing check fails the gate
    assert [r.split(" ", 2)[1] for r in reasons] == ["charter", "better", "better", "bias"]
    assert passed and not failed
    assert on_bound[0].startswith("FAIL charter") and on_bound[1:] == reasons[1:]


def test_the_gate_reads_a_mapping_over_the_shipped_settings():
    # given the settings as a plain mapping changing one key (as an older caller passes them)
    ev = evaluation(criteria=[AUC_MET_ON_ESTIMATE])
    # when gated, then the mapping is the shipped settings with that key changed
    assert gate(ev, None, {"judge_on": "lower_bound"}) == gate(ev, None, ON_BOUND)
    assert gate(ev, None, None) == gate(ev, None, DEPLOY)


# --- the gate and the report's advice: the same words for the same finding ----------------

def test_the_gate_and_the_advice_word_a_failed_criterion_the_same_way():
    ev = evaluation(criteria=[AUC_MET_ON_ESTIMATE], calibration={
        "slope": {"estimate": 1.0, "lo": 0.9, "hi": 1.1},
        "intercept": {"estimate": 0.0, "lo": -0.1, "hi": 0.1}},
        errors={"false_positives": [], "false_negatives": []})
    _, reasons = gate(ev, None, ON_BOUND, CHARTER)
    [advice] = next_actions(ev, CHARTER, None, ON_BOUND)
    words = reasons[0].removeprefix("FAIL charter ")
    assert words == "`auc >= 0.62`: lower bound 0.600 (estimate 0.640)"
    assert words in advice and "The deploy gate will refuse this model" in advice


def test_the_gate_and_the_advice_word_a_bias_flag_the_same_way():
    gap = {"estimate": 0.3, "lo": 0.2, "hi": 0.4, "exceeds_tolerance": True}
    ev = evaluation(fairness={"site": {"tolerance": 0.1, "flagged": True,
                                       "equalized_odds_difference": gap}},
                    calibration={"slope": {"estimate": 1.0, "lo": 0.9, "hi": 1.1},
                                 "intercept": {"estimate": 0.0, "lo": -0.1, "hi": 0.1}},
                    errors={"false_positives": [], "false_negatives": []})
    charter = {**CHARTER, "bias_flags_block": True}
    passed, [no_champion, line] = gate(ev, None, DEPLOY, charter)
    [advice] = next_actions(ev, charter, None, DEPLOY)
    finding, why = line.removeprefix("FAIL ").split("; blocks: ")
    assert not passed and no_champion.startswith("PASS no other champion")
    assert advice.startswith(finding[0].upper() + finding[1:])
    assert f"Deploy gate: blocks: {why}." in advice
