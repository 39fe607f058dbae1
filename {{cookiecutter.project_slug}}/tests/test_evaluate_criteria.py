"""Charter criteria on group gaps are judged among groups large enough to judge, or not at all."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.decisions.criteria import criterion_value


def gap(estimate, lo=None, hi=None):
    return {"estimate": estimate, "lo": lo, "hi": hi}


def test_the_worst_reportable_attribute_gives_the_gap_and_its_interval():
    # given two audited attributes, both with two groups large enough to judge
    sex = {"equalized_odds_difference": gap(0.05, 0.0, 0.1), "auc_difference": gap(0.02, 0, 0.06)}
    site = {"equalized_odds_difference": gap(0.2, 0.1, 0.3), "auc_difference": gap(0.09, 0.03, 0.2)}
    evaluation = {"fairness": {"sex": {"reportable": True, "large_groups": sex},
                               "site": {"reportable": True, "large_groups": site}}}
    # when the criteria read their values, then each takes the worst attribute, with interval
    assert criterion_value(evaluation, "equalized_odds_difference") == gap(0.2, 0.1, 0.3)
    assert criterion_value(evaluation, "max_subgroup_auc_gap") == gap(0.09, 0.03, 0.2)


def test_no_group_large_enough_leaves_the_criterion_undefined_not_met():
    # given an attribute whose groups are all below the minimum size (or none audited)
    small = {"fairness": {"sex": {"reportable": False, "large_groups": {}}}}
    # when read, then there is no value (a gate cannot call "gap <= 0.1" met without evidence)
    for metric in ("equalized_odds_difference", "demographic_parity_difference",
                   "max_subgroup_auc_gap"):
        assert criterion_value(small, metric)["estimate"] is None
        assert criterion_value({"fairness": {}}, metric)["estimate"] is None
