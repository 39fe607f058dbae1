"""Judging the charter's success criteria, and recognising a constant model: one test per rule.

Each evaluation is hand-made and holds only what ``decisions.criteria`` reads; the group-gap
values are tested in ``test_evaluate_criteria.py``, the words the gate prints in
``test_gate_rules.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.decisions.charter import Criterion, parse_criteria
from {{ cookiecutter.package_name }}.decisions.criteria import (
    constant_finding,
    criterion_value,
    judge_criteria,
    mark_constant,
)


def value(estimate: float | None, lo: float | None = None,
          hi: float | None = None) -> dict[str, float | None]:
    return {"estimate": estimate, "lo": lo, "hi": hi}


def evaluation(auc: dict | None = None, **changes: Any) -> dict[str, Any]:
    """An evaluation with AUC 0.70 [0.66, 0.74] and a few other metrics, ``changes`` applied."""
    return {
        "discrimination": {"auc": auc or value(0.70, 0.66, 0.74), "ap": value(0.4, 0.35, 0.45)},
        "calibration": {"brier": value(0.15, 0.14, 0.16), "ici": 0.012,
                        "slope": value(0.9, 0.75, 1.05)},
        "threshold_metrics": {"sensitivity": value(0.8, 0.74, 0.86)},
        "fairness": {},
        **changes,
    }


def judged(criteria: dict[str, dict[str, float]], ev: dict[str, Any] | None = None) -> dict:
    [criterion] = judge_criteria(ev or evaluation(), criteria)
    return criterion


# --- where a criterion's value comes from --------------------------------------------------

@pytest.mark.parametrize(("metric", "expected"), [
    ("auc", value(0.70, 0.66, 0.74)),                # discrimination
    ("average_precision", value(0.4, 0.35, 0.45)),   # discrimination, under another name
    ("brier", value(0.15, 0.14, 0.16)),              # calibration
    ("calibration_slope", value(0.9, 0.75, 1.05)),
    ("sensitivity", value(0.8, 0.74, 0.86)),         # at the operating threshold
    ("ici", value(0.012)),                           # an estimate without an interval
])
def test_a_criterion_reads_its_metric_with_its_interval(metric, expected):
    assert criterion_value(evaluation(), metric) == expected


def test_a_group_gap_skips_attributes_not_judged_and_gaps_not_computed():
    # given one attribute not judged (too few large groups), one with an undefined gap
    fairness = {
        "site": {"reportable": False, "large_groups": {"auc_difference": value(0.4, 0.3, 0.5)}},
        "sex": {"reportable": True, "large_groups": {"auc_difference": value(None)}},
        "age": {"reportable": True, "large_groups": {"auc_difference": value(0.1, 0.02, 0.2)}},
    }
    # when the AUC gap is read, then only the judged attribute with a value counts
    assert criterion_value(evaluation(fairness=fairness), "max_subgroup_auc_gap") == value(
        0.1, 0.02, 0.2)


# --- judging: on the estimate (met) and on the unfavourable bound (met_on_bound) ------------

def test_a_minimum_met_by_the_estimate_but_not_by_the_lower_bound():
    # given AUC 0.70 [0.66, 0.74] against auc >= 0.68
    c = judged({"auc": {"min": 0.68}})
    # when judged, then met on the estimate, not on the lower bound, and both are recorded
    assert (c["met"], c["met_on_bound"]) == (True, False)
    assert c["rule"] == "auc >= 0.68" and (c["min"], c["max"]) == (0.68, None)
    assert (c["estimate"], c["lo"], c["hi"]) == (0.70, 0.66, 0.74)


def test_a_maximum_is_judged_on_the_upper_bound():
    # given Brier 0.15 [0.14, 0.16] against brier <= 0.155
    c = judged({"brier": {"max": 0.155}})
    # then met on the estimate; the upper bound 0.16 is above it
    assert (c["met"], c["met_on_bound"]) == (True, False)


def test_a_range_is_judged_on_both_bounds():
    # given slope 0.9 [0.75, 1.05] against 0.8 <= slope <= 1.2
    c = judged({"calibration_slope": {"min": 0.8, "max": 1.2}})
    assert c["rule"] == "0.8 <= calibration_slope <= 1.2"
    assert (c["met"], c["met_on_bound"]) == (True, False)   # the lower bound 0.75 < 0.8


@pytest.mark.parametrize(("bounds", "met"), [
    ({"min": 0.70}, True),    # the estimate equal to the minimum meets it
    ({"max": 0.70}, True),    # ... and to the maximum
    ({"min": 0.7001}, False),
])
def test_a_value_equal_to_its_bound_meets_it(bounds, met):
    assert judged({"auc": bounds})["met"] is met


def test_a_bound_equal_to_the_interval_end_is_met_on_the_bound():
    # given AUC 0.70 [0.66, 0.74] against auc >= 0.66: the interval touches the minimum
    assert judged({"auc": {"min": 0.66}})["met_on_bound"] is True


def test_a_metric_without_an_interval_is_judged_on_its_estimate_both_ways():
    c = judged({"ici": {"max": 0.02}})
    assert (c["met"], c["met_on_bound"]) == (True, True)


def test_an_undefined_value_meets_no_criterion():
    # given no group large enough to judge the equalized-odds gap
    c = judged({"equalized_odds_difference": {"max": 0.1}})
    # then the criterion is neither met nor met on the bound: the gate needs evidence
    assert c["estimate"] is None and (c["met"], c["met_on_bound"]) == (False, False)
    assert Criterion("auc", 0.5, None).met_by(None) is False


@pytest.mark.parametrize("bounds", [{"min": None}, {"min": None, "max": None}])
def test_a_criterion_without_any_bound_is_refused(bounds):
    # given bounds that bound nothing (as the schema's empty Bounds dumps them)
    # when the charter's criteria are parsed, then the error says how to give them
    with pytest.raises(ConfigError, match=r"success_criteria\.auc: give bounds"):
        parse_criteria({"auc": bounds})


# --- a constant model --------------------------------------------------------------------

def test_predicting_one_value_on_a_split_is_constant_and_said_so():
    # given one value for every validation row, varied test predictions
    finding = constant_finding(np.full(50, 0.23), np.linspace(0.1, 0.9, 50))
    # then the model is constant, its value and each split's distinct count in the message
    assert finding["constant"] and finding["value"] == pytest.approx(0.23)
    assert finding["message"].startswith("The model predicts a constant (p = 0.2300; distinct "
                                         "probabilities: 1 on the validation split, 50 on test)")
    assert "the deploy gate cannot pass it" in finding["message"]


def test_two_distinct_values_are_not_constant():
    finding = constant_finding(np.array([0.2, 0.3] * 10), np.array([0.2, 0.3] * 10))
    assert not finding["constant"] and finding["message"] is None


def test_marking_a_constant_model_nulls_every_auc_interval():
    # given an evaluation with AUC intervals overall, per group and in a group gap
    ev = evaluation(
        auc={"estimate": 0.5, "lo": 0.5, "hi": 0.5, "se": 0.0},
        groups={"sex": [{"group": "F", "auc": value(0.5, 0.5, 0.5)}]},
        fairness={"sex": {"auc_difference": value(0.0, 0.0, 0.0),
                          "large_groups": {"auc_difference": value(0.0, 0.0, 0.0)}}})
    # when marked constant
    mark_constant(ev, {"constant": True, "value": 0.2})
    # then no interval reads as certainty; the estimates stay
    assert ev["discrimination"]["auc"] == {"estimate": 0.5, "lo": None, "hi": None, "se": None}
    assert ev["groups"]["sex"][0]["auc"] == value(0.5)
    assert ev["fairness"]["sex"]["auc_difference"] == value(0.0)
    assert ev["fairness"]["sex"]["large_groups"]["auc_difference"] == value(0.0)
    assert ev["constant_predictions"]["constant"]


def test_marking_a_model_that_ranks_records_the_finding_and_keeps_the_intervals():
    ev = evaluation()
    mark_constant(ev, {"constant": False, "value": None})
    assert ev["constant_predictions"] == {"constant": False, "value": None}
    assert ev["discrimination"]["auc"] == value(0.70, 0.66, 0.74)
