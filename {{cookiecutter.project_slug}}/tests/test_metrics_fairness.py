"""Per-group metrics and fairness gaps against fairlearn and injected ground truth."""

import numpy as np
import pytest
import yaml
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score, roc_auc_score

from {{ cookiecutter.package_name }}.metrics._checks import MetricsInputError
from {{ cookiecutter.package_name }}.metrics.calibration import calibration_intercept_slope
from {{ cookiecutter.package_name }}.metrics.fairness import MIN_GROUP_SIZE
from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary

THRESHOLD = 0.35


def _data(n, seed, gap=0.0):
    """Calibrated scores; with ``gap`` > 0 group "b" gets its positives' scores shrunk."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 4, n)
    y = (rng.random(n) < p).astype(int)
    group = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.5, 0.3, 0.2])
    shrink = (group == "b") & (y == 1)
    p = np.where(shrink, p * (1.0 - gap), p)
    return y, p, group


def test_group_rates_and_gaps_match_fairlearn():
    # given three groups on 3,000 rows
    y, p, group = _data(3000, seed=0)
    # when evaluated with the groups
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=200)
    rows = {row["group"]: row for row in result["groups"]["g"]}
    # then TPR, FPR, PPV and selection rate per group equal fairlearn's MetricFrame
    y_pred = (p >= THRESHOLD).astype(int)
    frame = MetricFrame(
        metrics={
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "selection_rate": selection_rate,
            "ppv": precision_score,
        },
        y_true=y,
        y_pred=y_pred,
        sensitive_features=group,
    )
    for name in ("tpr", "fpr", "selection_rate", "ppv"):
        for label, value in frame.by_group[name].items():
            assert rows[label][name]["estimate"] == pytest.approx(value, abs=1e-12)
            assert rows[label][name]["lo"] <= value <= rows[label][name]["hi"]
    # and the gaps equal fairlearn's between-group differences
    fairness = result["fairness"]["g"]
    assert fairness["equalized_odds_difference"]["estimate"] == pytest.approx(
        equalized_odds_difference(y, y_pred, sensitive_features=group), abs=1e-12
    )
    assert fairness["demographic_parity_difference"]["estimate"] == pytest.approx(
        demographic_parity_difference(y, y_pred, sensitive_features=group), abs=1e-12
    )


def test_group_auc_calibration_and_counts_equal_subset_computations():
    # given three groups
    y, p, group = _data(3000, seed=1)
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=0)
    for row in result["groups"]["g"]:
        mask = group == row["group"]
        # then n, share, prevalence, AUC and the recalibration fits are the subset's own
        assert row["n"] == mask.sum()
        assert row["share"] == pytest.approx(mask.mean())
        assert row["prevalence"]["estimate"] == pytest.approx(y[mask].mean())
        assert row["auc"]["estimate"] == pytest.approx(roc_auc_score(y[mask], p[mask]), abs=1e-12)
        fits = calibration_intercept_slope(y[mask], p[mask])
        assert row["slope"]["estimate"] == pytest.approx(fits["slope"]["estimate"], abs=1e-7)
        assert row["intercept"]["estimate"] == pytest.approx(
            fits["intercept"]["estimate"], abs=1e-7
        )
        assert row["brier"]["estimate"] == pytest.approx(np.mean((p[mask] - y[mask]) ** 2))


def test_injected_subgroup_gap_is_flagged_with_an_interval_above_tolerance():
    # given group "b" whose positives get 60% lower scores (its TPR collapses)
    y, p, group = _data(20_000, seed=2, gap=0.6)
    # when evaluated with tolerance 0.1
    result = evaluate_binary(
        y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300, gap_tolerance=0.1
    )
    fairness = result["fairness"]["g"]
    # then the equalized-odds gap is flagged and its whole interval lies above the tolerance
    odds = fairness["equalized_odds_difference"]
    assert fairness["flagged"] and odds["exceeds_tolerance"]
    assert odds["lo"] > 0.1
    assert odds["lo"] <= odds["estimate"] <= odds["hi"]
    tpr = {row["group"]: row["tpr"]["estimate"] for row in result["groups"]["g"]}
    assert tpr["b"] < tpr["a"] - 0.2


def test_no_gap_is_not_flagged():
    # given groups assigned at random (no true gap) on 20,000 rows
    y, p, group = _data(20_000, seed=3)
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300)
    fairness = result["fairness"]["g"]
    # then nothing is flagged and the interval of the gap covers small values only
    assert not fairness["flagged"]
    assert fairness["equalized_odds_difference"]["hi"] < 0.1


def test_missing_group_labels_form_their_own_group():
    # given some rows without a group label
    y, p, group = _data(2000, seed=4)
    labels = group.astype(object)
    labels[:100] = None
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": labels}, n_bootstrap=0)
    rows = {row["group"]: row for row in result["groups"]["g"]}
    # then a "(missing)" group holds exactly those rows
    assert rows["(missing)"]["n"] == 100
    assert sum(row["n"] for row in rows.values()) == 2000


def test_group_array_of_wrong_length_is_rejected_by_name():
    y, p, group = _data(500, seed=5)
    with pytest.raises(MetricsInputError, match="sex"):
        evaluate_binary(y, p, threshold=THRESHOLD, groups={"sex": group[:-1]})


def _with_tiny_group(n, seed, size=8):
    """Three groups without a gap plus a group of ``size`` rows whose errors are all wrong."""
    y, p, group = _data(n, seed)
    half = size // 2
    y = np.r_[y, np.ones(half, int), np.zeros(size - half, int)]
    p = np.r_[p, np.full(half, 0.01), np.full(size - half, 0.99)]  # TPR 0, FPR 1
    return y, p, np.r_[group, np.full(size, "tiny")]


def test_no_gap_gives_intervals_that_reach_zero():
    # given groups assigned at random (no true gap) on 20,000 rows
    y, p, group = _data(20_000, seed=3)
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=1000)
    fairness = result["fairness"]["g"]
    # then each gap's interval holds its estimate and reaches 0 (no difference is detected)
    for name in (
        "equalized_odds_difference",
        "demographic_parity_difference",
        "tpr_difference",
        "fpr_difference",
        "auc_difference",
    ):
        gap = fairness[name]
        assert gap["lo"] == 0.0 <= gap["estimate"] <= gap["hi"], name


def test_small_group_is_reported_but_neither_flagged_nor_judged():
    # given three groups without a gap and a group of 8 rows with TPR 0 and FPR 1
    y, p, group = _with_tiny_group(6000, seed=6)
    # when evaluated with the default minimum group size (50)
    result = evaluate_binary(
        y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300, gap_tolerance=0.1
    )
    rows = {row["group"]: row for row in result["groups"]["g"]}
    fairness = result["fairness"]["g"]
    # then the small group keeps its numbers and is marked as too small
    assert rows["tiny"]["n"] == 8 and not rows["tiny"]["large_enough"]
    assert rows["tiny"]["tpr"]["estimate"] == 0.0 and rows["tiny"]["fpr"]["estimate"] == 1.0
    assert all(rows[label]["large_enough"] for label in "abc")
    assert fairness["small_groups"] == ["tiny"] and fairness["min_group_size"] == MIN_GROUP_SIZE
    assert fairness["large_enough"] == {"a": True, "b": True, "c": True, "tiny": False}
    assert fairness["reportable"]
    # and the gaps of all groups still match fairlearn, but nothing is flagged
    y_pred = (p >= THRESHOLD).astype(int)
    odds = fairness["equalized_odds_difference"]
    assert odds["estimate"] == pytest.approx(
        equalized_odds_difference(y, y_pred, sensitive_features=group), abs=1e-12
    )
    assert odds["estimate"] > 0.5
    assert not odds["exceeds_tolerance"] and not fairness["flagged"]
    # and the judged gaps are those of the large groups only
    big = group != "tiny"
    judged = fairness["large_groups"]
    assert judged["equalized_odds_difference"]["estimate"] == pytest.approx(
        equalized_odds_difference(y[big], y_pred[big], sensitive_features=group[big]), abs=1e-12
    )
    assert judged["demographic_parity_difference"]["estimate"] == pytest.approx(
        demographic_parity_difference(y[big], y_pred[big], sensitive_features=group[big]),
        abs=1e-12,
    )
    assert not any(
        gap["exceeds_tolerance"] for gap in judged.values() if "exceeds_tolerance" in gap
    )
    assert result["settings"]["min_group_size"] == MIN_GROUP_SIZE


def test_a_lower_minimum_group_size_judges_and_flags_the_small_group():
    # given the same data, when the minimum group size is 5 rows
    y, p, group = _with_tiny_group(6000, seed=6)
    result = evaluate_binary(
        y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=300, min_group_size=5
    )
    fairness = result["fairness"]["g"]
    # then the 8-row group is judged and its gap is flagged
    assert fairness["small_groups"] == [] and all(fairness["large_enough"].values())
    assert fairness["flagged"] and fairness["equalized_odds_difference"]["exceeds_tolerance"]
    assert fairness["large_groups"]["equalized_odds_difference"]["estimate"] > 0.5


def test_an_attribute_with_one_large_group_is_not_reportable():
    # given 2,000 rows in one group and 30 rows in another with opposite errors
    y, p, _ = _data(2000, seed=7)
    y = np.r_[y, np.ones(15, int), np.zeros(15, int)]
    p = np.r_[p, np.full(15, 0.01), np.full(15, 0.99)]
    group = np.r_[np.full(2000, "big"), np.full(30, "small")]
    # when evaluated
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=200)
    fairness = result["fairness"]["g"]
    # then the gaps are reported, there is nothing to judge, and nothing is flagged
    assert fairness["equalized_odds_difference"]["estimate"] > 0.5
    assert not fairness["reportable"] and not fairness["flagged"]
    assert fairness["large_groups"]["equalized_odds_difference"]["estimate"] is None
    # and with no group large enough, likewise
    result = evaluate_binary(
        y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=200, min_group_size=10**6
    )
    fairness = result["fairness"]["g"]
    assert fairness["small_groups"] == ["big", "small"] and not fairness["flagged"]
    assert fairness["large_groups"]["auc_difference"]["estimate"] is None


def test_auc_gap_is_the_spread_of_group_aucs_and_needs_draws_for_an_interval():
    # given three groups, when evaluated without bootstrap draws
    y, p, group = _data(3000, seed=8)
    result = evaluate_binary(y, p, threshold=THRESHOLD, groups={"g": group}, n_bootstrap=0)
    fairness = result["fairness"]["g"]
    aucs = [roc_auc_score(y[group == g], p[group == g]) for g in "abc"]
    # then the AUC gap is max minus min of the group AUCs, and no gap has an interval
    assert fairness["auc_difference"]["estimate"] == pytest.approx(max(aucs) - min(aucs))
    for name in ("equalized_odds_difference", "demographic_parity_difference", "auc_difference"):
        assert fairness[name]["estimate"] is not None
        assert fairness[name]["lo"] is None and fairness[name]["hi"] is None


def test_the_default_minimum_group_size_is_the_configured_one(project_root):
    # given conf/evaluate/default.yaml, when read, then bias.min_group_size is the engine default
    conf = yaml.safe_load((project_root / "conf" / "evaluate" / "default.yaml").read_text())
    assert conf["bias"]["min_group_size"] == MIN_GROUP_SIZE
