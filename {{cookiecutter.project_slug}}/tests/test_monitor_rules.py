"""Each of the monitor's verdict rules on its own: one test per rule and branch.

The rules (``monitoring.verdict``) read a batch's facts (:func:`read_batch`, from small
hand-made drift and performance dicts holding only what the rule reads) and the thresholds as
``conf/monitor/default.yaml`` ships them; ``decide`` composes them (its end-to-end cases are in
``test_monitoring_verdict.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import MonitorSettings, MonitorThresholds
from {{ cookiecutter.package_name }}.monitoring.verdict import (
    BatchFacts,
    Finding,
    calibration_in_the_large_rule,
    calibration_slope_rule,
    concept_drift_rule,
    covariate_drift_rule,
    data_quality_rule,
    decide,
    degraded_ranking,
    estimated_auc_rule,
    low_power_rule,
    monitor_thresholds,
    performance_rule,
    prediction_drift_rule,
    prior_drift_rule,
    read_batch,
    strengthened_relation,
    weakened_relation,
)

CONF = Path(__file__).resolve().parents[1] / "conf"
SHIPPED = yaml.safe_load((CONF / "monitor" / "default.yaml").read_text(encoding="utf-8"))
LIMITS: MonitorThresholds = MonitorSettings.model_validate(SHIPPED).thresholds
REFERENCE = {"performance": {"observed": {"auc": 0.67, "prevalence": 0.23}}}
DRIFTED = {"age": ("drift", 0.3)}  # strong drift on an important feature


def drift(features: dict[str, tuple[str, float]] | None = None, prediction: str = "stable",
          n: int = 5000, **entry: Any) -> dict[str, Any]:
    """A ``compute_drift``-like dict: features as {name: (status, importance)}, ``entry``'s
    keys added to each feature."""
    features = features or {"age": ("stable", 0.3)}
    return {
        "n": n,
        "schema_issues": [],
        "features": {name: {"status": status, "importance": importance, "psi": 0.3,
                            "pvalue_adjusted": 1e-6, **entry}
                     for name, (status, importance) in features.items()},
        "prediction": {"status": prediction, "psi": 0.3, "pvalue_adjusted": 1e-6},
    }


def labelled(flags: dict[str, bool] | None = None, **evidence: Any) -> dict[str, Any]:
    """An ``assess_performance``-like dict with labels: the flags given, evidence by name."""
    return {
        "has_labels": True,
        "flags": dict(flags or {}),
        "evidence": evidence,
        "observed": {"auc": 0.62, "oe_ratio": 1.3, "prevalence": 0.3, "mean_predicted": 0.23},
        "comparison": {"auc_change": -0.05, "auc_change_ci": [-0.08, -0.02]},
    }


UNLABELLED: dict[str, Any] = {"has_labels": False, "expected_auc_change": 0.0}
SLOPE_UNDER = {"estimate": 1.25, "interval": [1.12, 1.38], "under_confident": True}
SLOPE_WEAK = {"estimate": 0.65, "interval": [0.55, 0.75], "reference": 1.05}
HOLDS = {"auc": 0.70, "auc_interval": [0.68, 0.72], "expected": 0.69, "estimate": 0.01,
         "interval": [-0.01, 0.03]}                  # the real AUC reaches the expected one
FAILS = {"auc": 0.62, "auc_interval": [0.60, 0.64], "expected": 0.67, "estimate": -0.05,
         "interval": [-0.07, -0.03], "reference_gap": 0.01, "change": -0.06,
         "change_interval": [-0.09, -0.03]}          # wholly below the expected one
OE_OFF = {"estimate": 1.30, "interval": [1.25, 1.35]}
OE_FINE = {"estimate": 1.01, "interval": [0.95, 1.07]}


def facts(drift_result: dict[str, Any] | None = None,
          performance: dict[str, Any] | None = None) -> BatchFacts:
    return read_batch(drift_result or drift(), performance or UNLABELLED, REFERENCE, LIMITS)


def verdicts(findings: list[Finding]) -> list[str]:
    return [f.verdict for f in findings]


# --- thresholds: typed, defaults from conf/ only -----------------------------------------------

def test_thresholds_given_typed_are_used_as_they_are():
    # given typed thresholds with one changed, when resolved, then they are the same object
    tight = LIMITS.model_copy(update={"auc_tolerance": 0.005})
    assert monitor_thresholds(tight) is tight


def test_missing_thresholds_take_the_values_conf_ships(project_root, monkeypatch):
    # given the project's directory, when thresholds are resolved from nothing or a few keys
    monkeypatch.chdir(project_root)
    # then every other one is conf/monitor/default.yaml's
    assert monitor_thresholds(None) == LIMITS
    assert monitor_thresholds({"psi_drift": 0.3}) == LIMITS.model_copy(update={"psi_drift": 0.3})


@pytest.mark.parametrize(("overrides", "message"), [
    ({"psi_wach": 0.2}, "Unknown monitor thresholds"),           # a typo
    ({"psi_watch": 0.3, "psi_drift": 0.2}, "psi_watch"),         # watch above drift
    ({**SHIPPED["thresholds"], "confidence": 1.5}, "confidence"),
])
def test_bad_thresholds_are_a_config_error_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        monitor_thresholds(overrides)


# --- data quality --------------------------------------------------------------------------

def test_a_schema_issue_is_investigate_data():
    # given a batch that lost a column
    batch = {**drift(), "schema_issues": ["column 'bmi' is missing from the batch"]}
    # when the data-quality rule reads it, then investigate-data, naming the column
    [finding] = data_quality_rule(batch, LIMITS)
    assert finding.verdict == "investigate-data" and "'bmi'" in finding.reason


@pytest.mark.parametrize(("rise", "fires"), [(0.05, True), (0.049, False)])
def test_a_missing_share_rising_by_max_missing_increase_or_more_is_investigate_data(rise, fires):
    # given a column whose missing share rose by exactly the limit (0.05), or just under it
    batch = drift(missing_change=rise, missing_share_reference=0.02, missing_share=0.02 + rise)
    # when judged, then the limit itself is a data problem, below it is not
    findings = data_quality_rule(batch, LIMITS)
    assert verdicts(findings) == (["investigate-data"] if fires else [])
    if fires:
        assert "missing share of 'age' rose from 2.0% to 7.0%" in findings[0].reason


@pytest.mark.parametrize(("share", "fires"), [(0.01, True), (0.009, False)])
def test_unseen_categories_at_max_unseen_share_or_more_are_investigate_data(share, fires):
    # given a categorical with unseen values at exactly the limit (1 %), or just under it
    batch = drift({"c": ("stable", 0.1)}, unseen_share=share, n_unseen_categories=7,
                  unseen_categories=[f"new{i}" for i in range(7)])
    # when judged, then the limit itself fires, naming at most five of the new values
    findings = data_quality_rule(batch, LIMITS)
    assert verdicts(findings) == (["investigate-data"] if fires else [])
    if fires:
        assert "7 distinct, e.g. new0, new1, new2, new3, new4)" in findings[0].reason


def test_a_column_without_missing_or_category_statistics_is_no_data_problem():
    # given a feature whose missing change and unseen share could not be computed (None)
    batch = drift(missing_change=None, unseen_share=None)
    # when judged, then nothing is found
    assert data_quality_rule(batch, LIMITS) == []


# --- performance: the real AUC against the reference's --------------------------------------

def test_an_auc_drop_is_retrain_naming_the_change_its_interval_and_the_tolerance():
    # given labels whose AUC fell below the reference's (the flag assess_performance raises)
    # when the performance rule reads it
    [finding] = performance_rule(facts(performance=labelled({"auc_drop": True})), LIMITS)
    # then retrain, with the numbers that triggered it
    assert finding.verdict == "retrain"
    assert finding.reason == ("performance: real AUC 0.620 is below the reference 0.670 (change "
                              "-0.050, interval [-0.080, -0.020], tolerance 0.02)")


def test_no_auc_drop_or_no_labels_is_no_performance_finding():
    # given labels without the flag, and (separately) a flag on a batch without labels
    unlabelled_flag = {**UNLABELLED, "flags": {"auc_drop": True}}
    # when judged, then nothing: flags count only with labels
    assert performance_rule(facts(performance=labelled()), LIMITS) == []
    assert performance_rule(facts(performance=unlabelled_flag), LIMITS) == []


# --- concept drift: its three parts, and the rule joining them --------------------------------

def text(part: str | None) -> str:
    """A concept-drift part that fired (failing the test when it did not)."""
    assert part is not None
    return part


def test_a_weakened_slope_says_the_bound_and_the_reference_slope():
    # given a slope whose whole interval is below 1 - slope_tolerance
    batch = facts(performance=labelled({"slope_weakened": True}, slope=SLOPE_WEAK))
    # when the part is read, then it names the slope, its interval, the bound and the reference
    assert weakened_relation(batch, LIMITS) == (
        "calibration slope 0.65 [0.55, 0.75] < 0.80 (1 - slope_tolerance; reference slope "
        "1.05): the relation weakened")
    assert weakened_relation(facts(performance=labelled(slope=SLOPE_WEAK)), LIMITS) is None


def test_flags_without_a_direction_take_it_from_the_slope():
    # given an older flag set: slope_off only, the slope below 1
    performance = labelled({"slope_off": True}, slope=SLOPE_WEAK)
    performance["observed"]["calibration_slope"] = 0.65
    # when read, then the slope weakened (and did not strengthen)
    batch = facts(performance=performance)
    assert batch.weakened and not batch.strengthened
    assert weakened_relation(batch, LIMITS) is not None


def test_a_degraded_ranking_compares_the_real_auc_with_the_expected_one():
    # given a real AUC wholly below the AUC the batch's own predictions lead one to expect
    batch = facts(performance=labelled({"ranking_off": True}, ranking=FAILS))
    # when the part is read, then it names both AUCs, the difference and the reference's gap
    said = text(degraded_ranking(batch, LIMITS))
    assert said.startswith("real AUC 0.620 [0.600, 0.640] vs 0.670 expected from this batch's "
                           "predictions (difference -0.050 [-0.070, -0.030], tolerance 0.02; "
                           "reference gap +0.010, change -0.060 [-0.090, -0.030])")
    assert said.endswith(": the ranking degraded")
    assert degraded_ranking(facts(performance=labelled(ranking=FAILS)), LIMITS) is None


def test_a_strengthened_slope_with_features_stable_is_concept_drift():
    # given a slope wholly above 1 + slope_tolerance, nothing drifting
    batch = facts(performance=labelled({"slope_strengthened": True}, slope=SLOPE_UNDER))
    # when the part is read, then nothing else explains it
    said = text(strengthened_relation(batch, LIMITS))
    assert "1.25 [1.12, 1.38] > 1.20" in said and "with features and predictions stable" in said


def test_a_strengthened_slope_under_covariate_drift_without_the_ranking_is_concept_drift():
    # given the features drift, and the real AUC falls short of the expected one
    batch = facts(drift(DRIFTED), labelled({"slope_strengthened": True}, slope=SLOPE_UNDER,
                                           ranking=FAILS))
    # when the part is read, then it says the ranking does not hold, with the numbers
    assert "with the ranking does not hold (real AUC 0.620" in text(
        strengthened_relation(batch, LIMITS))


def test_a_strengthened_slope_the_covariate_drift_explains_is_no_concept_drift():
    # given the features drift and the ranking holds
    batch = facts(drift(DRIFTED), labelled({"slope_strengthened": True}, slope=SLOPE_UNDER,
                                           ranking=HOLDS))
    # when read, then the slope is explained, not concept drift
    assert batch.slope_explained
    assert strengthened_relation(batch, LIMITS) is None


def test_concept_drift_is_one_retrain_listing_every_part_that_fired():
    # given a weakened slope and a degraded ranking
    batch = facts(performance=labelled({"slope_weakened": True, "ranking_off": True},
                                       slope=SLOPE_WEAK, ranking=FAILS))
    # when the rule reads them
    [finding] = concept_drift_rule(batch, LIMITS)
    # then one retrain names both parts, in order
    assert finding.verdict == "retrain"
    assert finding.reason.startswith("concept drift: the relation between features and outcome "
                                     "changed: calibration slope 0.65")
    assert "the relation weakened; real AUC 0.620" in finding.reason
    assert concept_drift_rule(facts(performance=labelled()), LIMITS) == []


# --- prior drift ---------------------------------------------------------------------------

def test_the_base_rate_moving_with_features_stable_is_prior_drift():
    # given O/E 1.30 with its interval excluding 1, nothing drifting
    batch = facts(performance=labelled({"miscalibrated_in_the_large": True}, oe=OE_OFF))
    # when judged, then retrain for prior drift, with the O/E, its interval and the context
    [finding] = prior_drift_rule(batch, LIMITS, concept=False)
    assert finding.verdict == "retrain"
    assert finding.reason.startswith("prior drift: prevalence 30.0% vs 23.0% expected from the "
                                     "calibrated predictions (O/E 1.30 [1.25, 1.35], tolerance "
                                     "0.1, reference prevalence 23.0%)")
    assert "features stable: recalibrating the intercept may suffice" in finding.reason


def test_an_oe_off_with_concept_drift_is_not_prior_drift():
    batch = facts(performance=labelled({"miscalibrated_in_the_large": True}, oe=OE_OFF))
    assert prior_drift_rule(batch, LIMITS, concept=True) == []


def test_under_covariate_drift_the_oe_is_judged_at_the_reference_case_mix():
    # given drifting features and O/E off at the batch's case mix
    flags = {"miscalibrated_in_the_large": True}
    off_at_mix = facts(drift(DRIFTED), labelled(
        {**flags, "miscalibrated_at_reference_mix": True}, oe=OE_OFF,
        oe_at_reference_mix={"estimate": 1.25, "interval": [1.19, 1.31]}))
    fine_at_mix = facts(drift(DRIFTED), labelled(flags, oe=OE_OFF, oe_at_reference_mix=OE_FINE))
    # when judged, then off at the reference mix too is prior drift, saying the mix's O/E
    [finding] = prior_drift_rule(off_at_mix, LIMITS, concept=False)
    assert ("beyond what the feature shift explains (O/E at the reference case mix 1.25 "
            "[1.19, 1.31])") in finding.reason
    # and off only at the batch's mix is not
    assert prior_drift_rule(fine_at_mix, LIMITS, concept=False) == []


def test_under_covariate_drift_without_the_reference_mix_the_batch_oe_is_judged():
    # given drifting features and no O/E at the reference case mix (not computable)
    batch = facts(drift(DRIFTED), labelled({"miscalibrated_in_the_large": True}, oe=OE_OFF))
    # when judged, then the batch's own O/E decides, and the reason says no more than it knows
    [finding] = prior_drift_rule(batch, LIMITS, concept=False)
    assert finding.reason.endswith("beyond what the feature shift explains: recalibrating the "
                                   "intercept may suffice")


# --- covariate and prediction drift --------------------------------------------------------

def test_strong_drift_on_an_important_feature_is_retrain_unless_labels_show_health():
    batch = facts(drift(DRIFTED))
    [unproven] = covariate_drift_rule(batch, labels_show_health=False)
    [healthy] = covariate_drift_rule(batch, labels_show_health=True)
    assert unproven.verdict == "retrain"
    assert unproven.reason.startswith("covariate drift (strong) on important features 'age' "
                                      "(PSI 0.300")
    assert healthy.verdict == "watch" and healthy.reason.endswith("so no retrain yet")


@pytest.mark.parametrize(("features", "verdict", "words"), [
    ({"age": ("watch", 0.3)}, "watch", "covariate drift (moderate) on important features 'age'"),
    ({"sex": ("drift", 0.001)}, "watch", "covariate drift (strong) on minor features 'sex'"),
    ({"sex": ("watch", 0.001)}, "ok", "note: covariate drift (moderate) on minor features 'sex'"),
    ({"sex": ("stable", 0.001)}, None, None),
], ids=["moderate-important", "strong-minor", "moderate-minor", "stable"])
def test_covariate_drift_is_weighed_by_importance(features, verdict, words):
    findings = covariate_drift_rule(facts(drift(features)), labels_show_health=False)
    assert verdicts(findings) == ([verdict] if verdict else [])
    if words:
        assert findings[0].reason.startswith(words)


def test_a_feature_at_exactly_importance_min_is_important():
    # given strong drift on a feature whose importance is the limit itself (0.01)
    batch = facts(drift({"x": ("drift", LIMITS.importance_min)}))
    # when judged, then it counts as important
    assert batch.groups[("drift", True)] == ["x"]


@pytest.mark.parametrize(("status", "health", "verdict"), [
    ("stable", False, None), ("watch", False, "watch"), ("drift", False, "retrain"),
    ("drift", True, "watch"),
])
def test_prediction_drift_is_retrain_only_when_strong_and_not_contradicted_by_labels(
        status, health, verdict):
    findings = prediction_drift_rule(facts(drift(prediction=status)), labels_show_health=health)
    assert verdicts(findings) == ([verdict] if verdict else [])
    if verdict:
        assert findings[0].reason.startswith(f"prediction drift ({status}): 'p' (PSI 0.300")


# --- calibration findings the covariate drift explains -------------------------------------

def test_an_under_confident_slope_the_covariate_drift_explains_is_watch():
    batch = facts(drift(DRIFTED), labelled(slope=SLOPE_UNDER, ranking=HOLDS))
    [finding] = calibration_slope_rule(batch, LIMITS, concept=False)
    assert finding.verdict == "watch"
    assert finding.reason.startswith("calibration slope 1.25 [1.12, 1.38] > 1: under-confident, "
                                     "ranking holds (real AUC 0.700 [0.680, 0.720] vs 0.690 "
                                     "expected")
    assert "covariate drift, not concept drift" in finding.reason


def test_an_under_confident_slope_without_covariate_drift_is_a_note():
    batch = facts(performance=labelled(slope={**SLOPE_UNDER, "estimate": 1.12,
                                              "interval": [1.02, 1.22]}, ranking=HOLDS))
    [finding] = calibration_slope_rule(batch, LIMITS, concept=False)
    assert finding.verdict == "ok"
    assert finding.reason.startswith("note: calibration slope 1.12 [1.02, 1.22] > 1 "
                                     "(under-confident) but not beyond 1.20")


def test_an_explained_slope_next_to_an_auc_drop_is_only_a_note():
    # given the slope the drift would explain, but the AUC fell below the reference's
    batch = facts(drift(DRIFTED), labelled({"auc_drop": True}, slope=SLOPE_UNDER, ranking=HOLDS))
    # when judged, then the slope does not add a watch of its own (the drop is the finding)
    assert verdicts(calibration_slope_rule(batch, LIMITS, concept=False)) == ["ok"]


def test_an_under_confident_slope_is_said_nothing_of_under_concept_drift_or_without_labels():
    batch = facts(performance=labelled(slope=SLOPE_UNDER, ranking=HOLDS))
    assert calibration_slope_rule(batch, LIMITS, concept=True) == []
    assert calibration_slope_rule(facts(), LIMITS, concept=False) == []


def test_an_oe_the_covariate_shift_explains_is_a_note_and_prior_drift_silences_it():
    batch = facts(drift(DRIFTED), labelled({"miscalibrated_in_the_large": True}, oe=OE_OFF,
                                           oe_at_reference_mix=OE_FINE))
    [finding] = calibration_in_the_large_rule(batch, LIMITS, prior=False)
    assert finding.reason == ("note: calibration-in-the-large O/E 1.30 [1.25, 1.35] is explained "
                              "by the covariate shift: at the reference case mix O/E 1.01 "
                              "[0.95, 1.07] (tolerance 0.1)")
    assert calibration_in_the_large_rule(batch, LIMITS, prior=True) == []
    assert calibration_in_the_large_rule(facts(performance=labelled()), LIMITS, False) == []


# --- the label-free AUC estimate and the batch's size --------------------------------------

@pytest.mark.parametrize(("change", "verdict"), [
    (-0.03, "watch"), (-0.02, None), (None, None),  # the tolerance itself is not beyond it
])
def test_a_label_free_auc_estimate_falling_beyond_the_tolerance_is_watch(change, verdict):
    batch = facts(performance={**UNLABELLED, "expected_auc_change": change})
    findings = estimated_auc_rule(batch, LIMITS)
    assert verdicts(findings) == ([verdict] if verdict else [])
    if verdict:
        assert findings[0].reason.endswith("fell by 0.030")


@pytest.mark.parametrize(("n", "noted"), [(499, True), (500, False)])
def test_a_batch_under_min_batch_size_gets_a_low_power_note(n, noted):
    findings = low_power_rule(facts(drift(n=n)), LIMITS)
    assert verdicts(findings) == (["ok"] if noted else [])
    if noted:
        assert findings[0].reason == ("note: small batch (499 rows < 500); drift tests have "
                                      "little power")


# --- decide: the rules composed ------------------------------------------------------------

def test_the_most_severe_finding_wins_and_every_finding_is_listed_in_rule_order():
    # given a schema problem, an AUC drop, strong drift and a small batch, all at once
    batch = {**drift(DRIFTED, n=300), "schema_issues": ["column 'bmi' is missing"]}
    result = decide(batch, labelled({"auc_drop": True}), REFERENCE, LIMITS)
    # when decided, then investigate-data, the reasons in the rules' order
    assert result["verdict"] == "investigate-data"
    assert [r.split(" ")[0] for r in result["reasons"]] == [
        "data", "performance:", "covariate", "note:"]


def test_notes_alone_act_on_nothing_and_say_nothing_was_found():
    result = decide(drift({"sex": ("watch", 0.001)}, n=300), UNLABELLED, REFERENCE, LIMITS)
    assert result["verdict"] == "ok"
    assert result["reasons"][-1] == "no drift, data-quality or performance problem detected"
    assert all(r.startswith("note:") for r in result["reasons"][:-1])


def test_the_thresholds_decide_the_words_and_the_verdict():
    # given moderate drift on a feature of importance 0.05, important by the shipped limit
    batch = drift({"age": ("watch", 0.05)})
    # when the importance limit is raised above it, then the same drift is only a note
    assert decide(batch, UNLABELLED, REFERENCE, LIMITS)["verdict"] == "watch"
    raised = LIMITS.model_copy(update={"importance_min": 0.1})
    assert decide(batch, UNLABELLED, REFERENCE, raised)["verdict"] == "ok"
