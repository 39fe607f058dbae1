"""The report's next actions follow the intervals: one test per advice rule.

Each evaluation is hand-made and small: only what the rule reads.
"""

from __future__ import annotations

from typing import Any

from {{ cookiecutter.package_name }}.decisions.advice import next_actions

CHARTER = {"name": "Advice", "success_criteria": {}}
GOOD = {"estimate": 1.0, "lo": 0.9, "hi": 1.1}          # slope: 1 inside the interval
CENTRED = {"estimate": 0.0, "lo": -0.1, "hi": 0.1}      # intercept: 0 inside the interval


def evaluation(**changes):
    """A quiet evaluation (nothing to advise), with ``changes`` applied."""
    base: dict[str, Any] = {
        "criteria": [],
        "calibration": {"slope": dict(GOOD), "intercept": dict(CENTRED)},
        "comparisons": {},
        "fairness": {},
        "groups": {},
        "slices": {},
        "errors": {"false_positives": [], "false_negatives": []},
        "model": {"model_name": "hist_gradient_boosting", "recalibration": "none",
                  "n_valid_rows": 4000},
        "settings": {"alpha": 0.05},
    }
    for key, value in changes.items():
        if key in ("slope", "intercept"):
            base["calibration"][key] = value
        elif key in ("recalibration", "n_valid_rows"):
            base["model"][key] = value
        else:
            base[key] = value
    return base


def actions(ev, deploy_cfg=None, charter=CHARTER):
    return next_actions(ev, charter, {}, deploy_cfg)


def test_nothing_found_means_proceed():
    assert actions(evaluation()) == [
        "All criteria met and nothing flagged: proceed to deploy (step 6)."]


def test_a_slope_off_the_old_band_but_with_1_in_its_interval_is_not_recalibrated():
    # given 45 test rows: slope 0.76 [0.21, 1.31], outside [0.8, 1.2] but compatible with 1
    ev = evaluation(slope={"estimate": 0.76, "lo": 0.21, "hi": 1.31})
    # when advised, then nothing says recalibrate
    assert not any("ecalibrat" in a for a in actions(ev))


def test_a_slope_whose_interval_excludes_1_is_recalibrated_with_its_numbers():
    # given a slope clearly below 1 and nothing recalibrated yet
    ev = evaluation(slope={"estimate": 0.70, "lo": 0.60, "hi": 0.80})
    # when advised
    [advice] = actions(ev)
    # then it says recalibrate, names the slope and interval that triggered it, and how
    assert advice.startswith("Recalibrate: calibration slope 0.70 [0.60, 0.80] excludes 1 "
                             "(predictions too extreme)")
    assert "`dvc exp run -S train.recalibration=sigmoid`" in advice
    assert "`isotonic`, which the 4,000 validation rows can support" in advice


def test_an_intercept_whose_interval_excludes_0_is_recalibrated():
    # given a calibration intercept clearly above 0 (outcomes more frequent than predicted)
    ev = evaluation(intercept={"estimate": 0.30, "lo": 0.12, "hi": 0.48}, n_valid_rows=300)
    [advice] = actions(ev)
    assert advice.startswith("Recalibrate: calibration intercept 0.30 [0.12, 0.48] excludes 0 "
                             "(predictions too low on average)")
    # and with few validation rows, isotonic is not offered
    assert "not isotonic: it needs 1,000+ validation rows, there are 300" in advice


def test_recalibration_already_on_is_never_advised_again():
    # given sigmoid recalibration on, and a slope still clearly off
    ev = evaluation(slope={"estimate": 0.70, "lo": 0.60, "hi": 0.80}, recalibration="sigmoid")
    [advice] = actions(ev)
    # then the advice says it is still off, with the numbers, and what to try instead
    assert advice.startswith("Calibration is still off with `train.recalibration=sigmoid` on: "
                             "calibration slope 0.70 [0.60, 0.80] excludes 1")
    assert "train.recalibration=sigmoid`" not in advice.split(" on: ")[1]
    assert "`-S train.recalibration=isotonic` (the 4,000 validation rows can support it)" in advice
    # and with few rows it proposes more data or another family instead of isotonic
    few = actions(evaluation(slope={"estimate": 0.70, "lo": 0.60, "hi": 0.80},
                             recalibration="sigmoid", n_valid_rows=200))[0]
    assert "isotonic would overfit 200 validation rows: collect more data or try another " \
        "family" in few


def test_isotonic_already_on_points_to_data_or_another_family():
    ev = evaluation(slope={"estimate": 1.40, "lo": 1.20, "hi": 1.60}, recalibration="isotonic")
    [advice] = actions(ev)
    assert advice.startswith("Calibration is still off with `train.recalibration=isotonic` on: "
                             "calibration slope 1.40 [1.20, 1.60] excludes 1 (predictions too "
                             "modest)")
    assert "collect more data or try another family" in advice


def test_an_unmet_criterion_is_named_with_its_value_and_interval_as_the_gate_judges_it():
    # given AUC 0.64 [0.60, 0.68] against `auc >= 0.62`: met on the estimate, not on the bound
    criterion = {"metric": "auc", "rule": "auc >= 0.62", "min": 0.62, "max": None,
                 "estimate": 0.64, "lo": 0.60, "hi": 0.68, "met": True, "met_on_bound": False}
    ev = evaluation(criteria=[criterion])
    # when the gate judges the estimate, nothing is advised; on the bound, it is, in its words
    assert actions(ev, {"judge_on": "point"})[0].startswith("All criteria met")
    [advice] = actions(ev, {"judge_on": "lower_bound"})
    assert advice.startswith("Success criteria not met (on the interval bound, "
                             "`deploy.judge_on: lower_bound`): `auc >= 0.62`: lower bound 0.600 "
                             "(estimate 0.640). The deploy gate will refuse this model")


def test_a_baseline_within_noise_is_not_called_better():
    # given the model against `logistic` +0.006 [-0.006, +0.017]
    ev = evaluation(comparisons={"logistic": {"auc_difference": {
        "estimate": 0.006, "lo": -0.006, "hi": 0.017}}})
    [advice] = actions(ev)
    # then the advice words it as the gate does, passes it, and prefers the simpler model
    assert advice.startswith("The model is not worse than baseline `logistic` (AUC difference "
                             "+0.006 [-0.006, +0.017], margin 0.01), not clearly better: the "
                             "deploy gate passes it")
    assert "prefer the simpler model" in advice


def test_a_baseline_the_gate_refuses_comes_first_and_says_so():
    # given the prior baseline (superiority by default) not clearly beaten, and a weak slice
    ev = evaluation(
        comparisons={"prior": {"auc_difference": {"estimate": 0.03, "lo": -0.02, "hi": 0.08}}},
        slices={"overall": {"brier": 0.17}, "slices": [
            {"slice": "age=old", "share": 0.2, "brier": {"estimate": 0.2, "lo": 0.19,
                                                         "hi": 0.21}}]})
    first, second = actions(ev)
    assert first.startswith("The model shows no clear difference from baseline `prior` (AUC "
                            "difference +0.030 [-0.020, +0.080], margin 0): the deploy gate "
                            "will refuse it (rule superiority: lower bound of the 95% interval "
                            "above +0)")
    assert second.startswith("Weakest slice `age=old` (20% of rows): Brier 0.200 [0.190, 0.210] "
                             "vs 0.170 overall")


def test_a_bias_flag_names_its_gap_interval_tolerance_and_whether_it_blocks():
    gap = {"estimate": 0.63, "lo": 0.46, "hi": 0.71, "exceeds_tolerance": True}
    fairness = {"tolerance": 0.1, "equalized_odds_difference": gap, "flagged": True}
    groups = [{"group": "none", "auc": {"estimate": 0.52, "lo": 0.43, "hi": 0.61}},
              {"group": "private", "auc": {"estimate": 0.70, "lo": 0.66, "hi": 0.74}}]
    ev = evaluation(fairness={"insurance": fairness}, groups={"insurance": groups})
    # when the charter does not let it block
    [advice] = actions(ev, charter={**CHARTER, "bias_flags_block": {"insurance": False}})
    assert advice.startswith("Bias audit flags `insurance`: equalized-odds difference 0.63 "
                             "[0.46, 0.71] above the tolerance 0.1 (its whole interval is above "
                             "the tolerance). Deploy gate: does not block: the charter's "
                             "`bias_flags_block` is false for `insurance` (reported only). "
                             "Group `none` has the lowest AUC 0.52 [0.43, 0.61].")
    # and when it does, the advice says the gate is blocked
    [blocked] = actions(ev, charter={**CHARTER, "bias_flags_block": True})
    assert "Deploy gate: blocks: the charter's `bias_flags_block` is true" in blocked


def test_suspected_labels_among_the_worst_errors_are_counted():
    ev = evaluation(errors={"false_positives": [{"suspected": True}, {"suspected": False}],
                            "false_negatives": [{"suspected": True}]})
    [advice] = actions(ev)
    assert advice.startswith("2 of the most confident errors have labels the label audit "
                             "suspects")
