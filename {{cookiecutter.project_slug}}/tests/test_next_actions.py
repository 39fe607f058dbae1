"""Each piece of the report's next actions on its own, and the order they are listed in.

The pieces (``decisions.advice``) take small hand-made evaluations, or verdicts judged by the
gate's rules; ``test_advice.py`` covers the advice as ``next_actions`` words it end to end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.settings import DeploySettings
from {{ cookiecutter.package_name }}.decisions.advice import (
    PROCEED,
    bias_action,
    calibration_findings,
    comparison_action,
    constant_action,
    criteria_action,
    labels_action,
    next_actions,
    recalibration_advice,
    slice_action,
)
from {{ cookiecutter.package_name }}.decisions.judgement import Rule, bias_verdicts, judge

CONF = Path(__file__).resolve().parents[1] / "conf"
DEPLOY = DeploySettings.model_validate(
    yaml.safe_load((CONF / "deploy" / "default.yaml").read_text(encoding="utf-8")))
NON_INFERIORITY = Rule("non_inferiority", 0.01)
GOOD_SLOPE = {"estimate": 1.0, "lo": 0.9, "hi": 1.1}
CENTRED = {"estimate": 0.0, "lo": -0.1, "hi": 0.1}


def text(advice: str | None) -> str:
    """The advice given (failing the test when there is none)."""
    assert advice is not None
    return advice


def criterion(rule: str, met: bool, met_on_bound: bool) -> dict[str, Any]:
    return {"rule": rule, "min": 0.7, "max": None, "estimate": 0.72, "lo": 0.68, "hi": 0.76,
            "met": met, "met_on_bound": met_on_bound}


def quiet(**changes: Any) -> dict[str, Any]:
    """An evaluation with nothing to advise, ``changes`` applied."""
    return {"criteria": [], "comparisons": {}, "fairness": {}, "groups": {}, "slices": {},
            "calibration": {"slope": GOOD_SLOPE, "intercept": CENTRED},
            "errors": {"false_positives": [], "false_negatives": []},
            "model": {"model_name": "random_forest", "recalibration": "none",
                      "n_valid_rows": 2000}, **changes}


# --- a constant model --------------------------------------------------------------------

def test_a_constant_model_is_told_where_to_give_it_room_to_learn():
    ev = quiet(constant_predictions={"constant": True, "value": 0.2})
    assert "conf/model/random_forest.yaml" in text(constant_action(ev))
    assert "conf/model/<name>.yaml" in text(constant_action({**ev, "model": None}))
    assert constant_action(quiet()) is None


# --- the criteria, judged as the gate judges them -----------------------------------------

def test_unmet_criteria_are_one_action_naming_each_and_how_they_were_judged():
    ev = quiet(criteria=[criterion("auc >= 0.7", True, False), criterion("ppv >= 0.7", False,
                                                                         False)])
    [on_estimate] = criteria_action(ev, DEPLOY)
    [on_bound] = criteria_action(ev, DEPLOY.model_copy(update={"judge_on": "lower_bound"}))
    # on the estimate only the second fails; on the bound both, in the charter's order
    assert on_estimate.startswith("Success criteria not met (on the estimate, `deploy.judge_on: "
                                  "point`): `ppv >= 0.7`: 0.720 (estimate")
    assert on_bound.startswith("Success criteria not met (on the interval bound, "
                               "`deploy.judge_on: lower_bound`): `auc >= 0.7`: lower bound "
                               "0.680 (estimate 0.720); `ppv >= 0.7`")


def test_criteria_all_met_need_no_action():
    assert criteria_action(quiet(criteria=[criterion("auc >= 0.7", True, True)]), DEPLOY) == []


# --- a baseline comparison ----------------------------------------------------------------

@pytest.mark.parametrize(("diff", "advice"), [
    ({"estimate": 0.05, "lo": 0.03, "hi": 0.07}, None),                       # better
    ({"estimate": -0.05, "lo": -0.07, "hi": -0.03}, "the deploy gate will refuse it"),
    ({"estimate": -0.004, "lo": -0.008, "hi": -0.001}, "not clearly better: the deploy gate "
                                                       "passes it"),          # loss within margin
], ids=["better", "refused", "loss-within-margin"])
def test_a_comparison_advises_only_when_the_model_is_not_clearly_better(diff, advice):
    verdict = judge(diff, NON_INFERIORITY, "baseline `logistic`")
    said = comparison_action(verdict)
    if advice is None:
        assert said is None
    else:
        assert text(said).startswith(verdict.sentence()) and advice in text(said)


def test_a_loss_within_the_margin_is_still_called_a_loss():
    verdict = judge({"estimate": -0.004, "lo": -0.008, "hi": -0.001}, NON_INFERIORITY,
                    "baseline `logistic`")
    assert text(comparison_action(verdict)).startswith("The model is worse, but within the margin, "
                                                 "than baseline `logistic`")


# --- a bias flag ----------------------------------------------------------------------------

def flagged_site(groups: list[dict[str, Any]]) -> dict[str, Any]:
    gap = {"estimate": 0.3, "lo": 0.2, "hi": 0.4, "exceeds_tolerance": True}
    return quiet(fairness={"site": {"tolerance": 0.1, "flagged": True,
                                    "equalized_odds_difference": gap}},
                 groups={"site": groups})


def test_a_bias_flag_names_the_large_group_with_the_lowest_auc():
    # given a tiny group with the lowest AUC, one with no AUC, and two large ones
    ev = flagged_site([
        {"group": "tiny", "large_enough": False, "auc": {"estimate": 0.3, "lo": 0.1, "hi": 0.5}},
        {"group": "none", "auc": {"estimate": None, "lo": None, "hi": None}},
        {"group": "a", "auc": {"estimate": 0.61, "lo": 0.55, "hi": 0.67}},
        {"group": "b", "auc": {"estimate": 0.72, "lo": 0.68, "hi": 0.76}},
    ])
    [verdict] = bias_verdicts(ev, {"bias_flags_block": True})
    # when advised, then the lowest among the groups judged, with its interval
    assert "Group `a` has the lowest AUC 0.61 [0.55, 0.67]." in text(bias_action(ev, verdict))


def test_a_bias_flag_without_group_rows_says_no_group_and_an_unflagged_one_nothing():
    ev = flagged_site([])
    [verdict] = bias_verdicts(ev, {"bias_flags_block": False})
    advice = text(bias_action(ev, verdict))
    assert advice.startswith("Bias audit flags `site`") and "lowest AUC" not in advice
    [calm] = bias_verdicts(quiet(fairness={"site": {"tolerance": 0.1, "flagged": False}}))
    assert bias_action(quiet(), calm) is None


# --- calibration --------------------------------------------------------------------------

@pytest.mark.parametrize(("slope", "intercept", "found"), [
    ({"estimate": 1.4, "lo": 1.2, "hi": 1.6}, CENTRED,
     ["calibration slope 1.40 [1.20, 1.60] excludes 1 (predictions too modest)"]),
    (GOOD_SLOPE, {"estimate": -0.3, "lo": -0.5, "hi": -0.1},
     ["calibration intercept -0.30 [-0.50, -0.10] excludes 0 (predictions too high on "
      "average)"]),
    ({"estimate": 0.6, "lo": None, "hi": None}, CENTRED, []),     # no interval: no evidence
    ({"estimate": 1.0, "lo": 1.0, "hi": 1.2}, CENTRED, []),       # touching 1 does not exclude
], ids=["slope-above", "intercept-below", "no-interval", "touching-1"])
def test_calibration_is_off_only_when_an_interval_excludes_the_ideal(slope, intercept, found):
    assert calibration_findings({"slope": slope, "intercept": intercept}) == found


@pytest.mark.parametrize(("model", "words"), [
    ({"recalibration": "none"}, "or isotonic with 1,000+ validation rows"),
    ({"recalibration": "none", "n_valid_rows": 1000}, "or `isotonic`, which the 1,000 "
                                                      "validation rows can support"),
    ({"recalibration": "isotonic", "n_valid_rows": 300}, "; with 300 validation rows, "
                                                         "`-S train.recalibration=sigmoid` "
                                                         "overfits less"),
], ids=["rows-unknown", "exactly-enough-rows", "isotonic-on-few-rows"])
def test_the_recalibration_advice_follows_what_is_on_and_the_rows_to_fit_it(model, words):
    assert words in recalibration_advice("calibration slope 0.70 [0.60, 0.80] excludes 1", model)


# --- slices and labels --------------------------------------------------------------------

def test_only_the_weakest_slice_is_advised_and_none_without_slices():
    brier = {"estimate": 0.2, "lo": 0.19, "hi": 0.21}
    ev = quiet(slices={"overall": {"brier": 0.17}, "slices": [
        {"slice": "age=old", "share": 0.2, "brier": brier},
        {"slice": "bmi=high", "share": 0.1, "brier": brier}]})
    assert text(slice_action(ev)).startswith("Weakest slice `age=old` (20% of rows)")
    assert "bmi" not in text(slice_action(ev))
    assert slice_action(quiet()) is None


def test_suspected_labels_are_counted_over_both_kinds_of_error():
    ev = quiet(errors={"false_positives": [{"suspected": True}],
                       "false_negatives": [{"suspected": True}, {}]})
    assert text(labels_action(ev)).startswith("2 of the most confident errors")
    assert labels_action(quiet()) is None


# --- the order ------------------------------------------------------------------------------

def test_what_the_gate_refuses_comes_first_and_what_it_passes_last():
    # given one finding of every kind
    ev = flagged_site([])
    ev.update(
        constant_predictions={"constant": True, "value": 0.2},
        criteria=[criterion("auc >= 0.7", False, False)],
        comparisons={"prior": {"auc_difference": {"estimate": 0.0, "lo": -0.02, "hi": 0.02}},
                     "logistic": {"auc_difference": {"estimate": 0.0, "lo": -0.005,
                                                     "hi": 0.005}}},
        calibration={"slope": {"estimate": 0.7, "lo": 0.6, "hi": 0.8}, "intercept": CENTRED},
        slices={"overall": {"brier": 0.17}, "slices": [
            {"slice": "age=old", "share": 0.2, "brier": {"estimate": 0.2, "lo": 0.19,
                                                         "hi": 0.21}}]},
        errors={"false_positives": [{"suspected": True}], "false_negatives": []})
    # when advised, with the flag blocking and (separately) not
    blocking = next_actions(ev, {"bias_flags_block": True}, None, DEPLOY)
    reported = next_actions(ev, {"bias_flags_block": False}, None, DEPLOY)
    # then: constant, criteria, refused comparison, blocking flag, calibration, slice, labels,
    # passed comparison; a flag that does not block comes after calibration
    starts = ["The model predicts a constant", "Success criteria not met",
              "The model shows no clear difference from baseline `prior`", "Bias audit flags",
              "Recalibrate:", "Weakest slice", "1 of the most confident errors",
              "The model is not worse than baseline `logistic`"]
    assert [a[:len(s)] for a, s in zip(blocking, starts, strict=True)] == starts
    assert reported[3].startswith("Recalibrate:") and reported[4].startswith("Bias audit flags")


def test_nothing_to_advise_means_proceed():
    assert next_actions(quiet(), {}, None, DEPLOY) == [PROCEED]
