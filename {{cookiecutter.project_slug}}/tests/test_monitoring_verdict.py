"""Verdict rules on hand-made inputs, the monitor on simulated batches, and the history CSV.

Rules: each rule of ``decide`` on small hand-made drift / performance dicts (the flags and
intervals ``assess_performance`` returns), given / when / then.

Simulation: numeric x1..x4 ~ N(0, 1) (x4 2 % missing, no effect), categoricals c1 (4 levels) and
c2 (3 levels); the outcome follows a logistic model with prevalence ~20 %. A logistic
regression fitted on a training sample plays the deployed (calibrated) model; the reference is
built from a separate 20,000-row test sample; batches have 5,000 rows.
"""

import csv

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.monitoring.drift import compute_drift
from {{ cookiecutter.package_name }}.monitoring.performance import assess_performance
from {{ cookiecutter.package_name }}.monitoring.reference import build_reference
from {{ cookiecutter.package_name }}.monitoring.verdict import append_history, decide, summary_row

NUMERIC = ["x1", "x2", "x3", "x4"]
CATEGORICAL = ["c1", "c2"]
BETA = np.array([1.0, 0.6, 0.3])  # x1, x2, x3; x4 has no effect
C1 = {"a": 0.0, "b": 0.5, "c": -0.5, "d": 1.0}
C2 = {"u": 0.0, "v": 0.3, "w": -0.3}
INTERCEPT = -1.9  # prevalence ~ 20 %
N_BATCH = 5000


def sample_features(rng, n, shift_x1=0.0):
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=NUMERIC)
    X["x1"] += shift_x1
    X.loc[rng.random(n) < 0.02, "x4"] = np.nan
    X["c1"] = rng.choice(list(C1), size=n, p=[0.4, 0.3, 0.2, 0.1])
    X["c2"] = rng.choice(list(C2), size=n, p=[0.5, 0.3, 0.2])
    return X


def true_logit(X, beta=BETA, intercept=INTERCEPT):
    return (
        intercept
        + X[["x1", "x2", "x3"]].to_numpy() @ beta
        + X["c1"].map(C1).to_numpy()
        + X["c2"].map(C2).to_numpy()
    )


def sample_labels(rng, logit):
    return (rng.random(logit.size) < 1 / (1 + np.exp(-logit))).astype(float)


def design(X):
    numeric = X[NUMERIC].fillna(0.0).to_numpy()
    dummies = [
        (X[c].to_numpy()[:, None] == np.array(list(levels))[None, :])
        for c, levels in (("c1", C1), ("c2", C2))
    ]
    return np.column_stack([numeric, *dummies]).astype(float)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(20240501)
    X_train = sample_features(rng, 20000)
    model = LogisticRegression(max_iter=1000).fit(
        design(X_train), sample_labels(rng, true_logit(X_train))
    )
    X_ref = sample_features(rng, 20000)
    p_ref = model.predict_proba(design(X_ref))[:, 1]
    y_ref = sample_labels(rng, true_logit(X_ref))
    reference = build_reference(X_ref, p_ref, y_ref, numeric=NUMERIC, categorical=CATEGORICAL)
    return model, reference


def run_batch(world, seed, *, shift_x1=0.0, beta=BETA, intercept=INTERCEPT, labels=True):
    model, reference = world
    rng = np.random.default_rng(seed)
    X = sample_features(rng, N_BATCH, shift_x1)
    p = model.predict_proba(design(X))[:, 1]
    y = sample_labels(rng, true_logit(X, beta, intercept)) if labels else None
    drift = compute_drift(X, p, reference)
    performance = assess_performance(p, y, reference)
    return drift, performance, decide(drift, performance, reference)


def intercept_for_prevalence(target, seed=7):
    # Solve mean expit(logit - INTERCEPT + b) = target by bisection on a large X sample.
    X = sample_features(np.random.default_rng(seed), 100_000)
    base = true_logit(X) - INTERCEPT
    low, high = -6.0, 3.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(base + mid)))) < target else (low, mid)
    return (low + high) / 2


def test_no_drift_false_alarm_rate_at_most_5_percent(world):
    # given 60 batches from the reference distribution
    labelled, unlabelled = [], []
    for seed in range(1000, 1060):
        # when judged with labels and without them
        labelled.append(run_batch(world, seed)[2]["verdict"])
        unlabelled.append(run_batch(world, seed, labels=False)[2]["verdict"])
    # then at most 5 % of the verdicts differ from "ok"
    assert np.mean([v != "ok" for v in labelled]) <= 0.05
    assert np.mean([v != "ok" for v in unlabelled]) <= 0.05


def test_half_sd_shift_on_important_feature_is_detected(world):
    # given 60 unlabelled batches with x1 (the most important feature) shifted by 0.5 SD
    detected, named = 0, 0
    for seed in range(2000, 2060):
        # when judged
        drift, _, verdict = run_batch(world, seed, shift_x1=0.5, labels=False)
        detected += verdict["verdict"] in ("watch", "retrain")
        named += any("covariate drift" in r and "'x1'" in r for r in verdict["reasons"])
    # then at least 95 % are detected and the reasons name covariate drift on x1
    assert detected / 60 >= 0.95
    assert named / 60 >= 0.95


def test_prior_drift_is_named_and_not_confused_with_covariate_drift(world):
    # given labelled batches whose prevalence moves from ~20 % to 35 % with X unchanged
    intercept = intercept_for_prevalence(0.35)
    for seed in range(3000, 3010):
        # when judged
        _, performance, verdict = run_batch(world, seed, intercept=intercept)
        text = " ".join(verdict["reasons"])
        # then the reasons name prior drift, not covariate or concept drift, and call a retrain
        assert performance["observed"]["prevalence"] == pytest.approx(0.35, abs=0.03)
        assert "prior drift" in text
        assert "covariate drift" not in text and "concept drift" not in text
        assert verdict["verdict"] == "retrain"


def test_concept_drift_is_named(world):
    # given labelled batches whose coefficients changed (x1 weakened, x3 strengthened), X unchanged
    for seed in range(4000, 4010):
        # when judged
        _, performance, verdict = run_batch(world, seed, beta=np.array([0.2, 0.6, 1.2]))
        text = " ".join(verdict["reasons"])
        # then the reasons name concept drift and no covariate drift, and call a retrain
        assert "concept drift" in text
        assert "covariate drift" not in text and "prior drift" not in text
        assert performance["flags"]["auc_drop"] and performance["flags"]["ranking_off"]
        assert verdict["verdict"] == "retrain"


def test_covariate_drift_with_healthy_labels_is_watch_not_retrain(world):
    # given a labelled batch with a strong 0.8 SD shift of x1 but an unchanged P(y | x)
    drift, performance, verdict = run_batch(world, 5000, shift_x1=0.8)
    # when judged, then the feature drifts, labels show no problem and the verdict is watch
    assert drift["features"]["x1"]["status"] == "drift"
    assert not any(performance["flags"].values())
    assert verdict["verdict"] == "watch"
    # and without labels the same batch calls for a retrain
    _, _, unlabelled = run_batch(world, 5000, shift_x1=0.8, labels=False)
    assert unlabelled["verdict"] == "retrain"


def test_data_quality_problems_give_investigate_data(world):
    model, reference = world
    rng = np.random.default_rng(6000)
    X = sample_features(rng, N_BATCH)
    p = model.predict_proba(design(X))[:, 1]
    cases = {}
    # given a batch with 20 % missing x2, one with 5 % unseen c1 levels, one without c2
    broken = X.copy()
    broken.loc[rng.random(N_BATCH) < 0.2, "x2"] = np.nan
    cases["missing"] = broken
    broken = X.copy()
    broken.loc[rng.random(N_BATCH) < 0.05, "c1"] = "new-level"
    cases["unseen"] = broken
    cases["schema"] = X.drop(columns=["c2"])
    for kind, batch in cases.items():
        # when judged
        drift = compute_drift(batch, p, reference)
        verdict = decide(drift, assess_performance(p, None, reference), reference)
        # then the verdict is investigate-data with a data-quality reason naming the column
        assert verdict["verdict"] == "investigate-data", kind
        quality = [r for r in verdict["reasons"] if r.startswith("data quality")]
        assert quality, kind
        column = {"missing": "'x2'", "unseen": "'c1'", "schema": "'c2'"}[kind]
        assert any(column in r for r in quality), kind
        if kind == "unseen":
            assert any("new-level" in r for r in quality)


def test_history_keeps_one_row_per_batch(world, tmp_path):
    # given two judged batches
    path = tmp_path / "monitor" / "history.csv"
    for name, seed in (("2024-01", 7000), ("2024-02", 7001), ("2024-01", 7002)):
        drift, performance, verdict = run_batch(world, seed)
        # when appended (the first batch twice)
        append_history(path, name, summary_row(drift, performance, verdict))
    # then the file holds one row per batch, the re-run replacing the first
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["batch"] for r in rows] == ["2024-02", "2024-01"]
    assert rows[1]["verdict"] == verdict["verdict"]
    assert float(rows[1]["real_auc"]) == pytest.approx(performance["observed"]["auc"], rel=1e-5)
    assert int(rows[1]["n"]) == N_BATCH and rows[1]["timestamp"]
    # and the atomic rewrites left no temporary file behind
    assert [p.name for p in path.parent.iterdir()] == ["history.csv"]


# ----------------------------------------------------------------------------- rules, by hand

HAND_REFERENCE = {
    "performance": {
        "expected": {"auc": 0.66, "prevalence": 0.23},
        "observed": {
            "auc": 0.67,
            "auc_se": 0.01,
            "prevalence": 0.23,
            "calibration_slope": 1.05,
            "slope_se": 0.06,
        },
    }
}


def hand_drift(features=None, prediction="stable", n=5000, schema_issues=()):
    """A compute_drift-like dict: features given as {name: (status, importance)}."""
    features = features or {"age": ("stable", 0.3), "bmi": ("stable", 0.1), "sex": ("stable", 0)}
    entries = {
        name: {
            "status": status,
            "importance": importance,
            "psi": 0.3 if status != "stable" else 0.01,
            "ks_statistic": 0.2,
            "pvalue_adjusted": 1e-9 if status != "stable" else 1.0,
            "missing_change": 0.0,
            "missing_share_reference": 0.0,
            "missing_share": 0.0,
        }
        for name, (status, importance) in features.items()
    }
    psi = {"stable": 0.01, "watch": 0.15, "drift": 0.4}[prediction]
    return {
        "n": n,
        "features": entries,
        "schema_issues": list(schema_issues),
        "prediction": {
            "status": prediction,
            "psi": psi,
            "ks_statistic": 0.1,
            "pvalue_adjusted": 1e-9,
        },
    }


def hand_performance(
    *,
    labels=True,
    slope=(1.0, 0.9, 1.1),
    auc=(0.68, 0.665, 0.695),
    expected=0.67,
    oe=(1.0, 0.96, 1.04),
    oe_mix=(1.0, 0.95, 1.05),
    auc_change=(0.01, -0.01, 0.03),
    expected_auc_change=0.0,
    **flags,
):
    """An assess_performance-like dict; flags default to False, evidence from the tuples
    (estimate, low, high), consistent with the flags the caller sets."""
    result = {
        "has_labels": labels,
        "expected": {"auc": 0.67, "prevalence": 0.23},
        "expected_auc_change": expected_auc_change,
    }
    if not labels:
        return result
    gap = auc[0] - expected
    result["observed"] = {
        "auc": auc[0],
        "auc_ci": list(auc[1:]),
        "calibration_slope": slope[0],
        "oe_ratio": oe[0],
        "prevalence": 0.23 * oe[0],
        "mean_predicted": 0.23,
        "expected_auc_after_prior_shift": expected,
        "ranking_change": gap,
    }
    result["comparison"] = {"auc_change": auc_change[0], "auc_change_ci": list(auc_change[1:])}
    result["evidence"] = {
        "auc_change": {"estimate": auc_change[0], "interval": list(auc_change[1:])},
        "ranking": {
            "auc": auc[0],
            "auc_interval": list(auc[1:]),
            "expected": expected,
            "estimate": gap,
            "interval": [gap - 0.015, gap + 0.015],
            "reference_gap": 0.01,
            "change": gap - 0.01,
            "change_interval": [gap - 0.035, gap + 0.015],
        },
        "slope": {
            "estimate": slope[0],
            "interval": list(slope[1:]),
            "reference": 1.05,
            "reference_interval": [0.93, 1.17],
            "under_confident": slope[1] > 1,
            "change": slope[0] - 1.05,
            "change_interval": [slope[0] - 1.21, slope[0] - 0.89],
        },
        "oe": {"estimate": oe[0], "interval": list(oe[1:])},
        "oe_at_reference_mix": {"estimate": oe_mix[0], "interval": list(oe_mix[1:])},
    }
    result["flags"] = {
        "auc_drop": False,
        "miscalibrated_in_the_large": False,
        "miscalibrated_at_reference_mix": False,
        "ranking_off": False,
        "slope_off": False,
        "slope_weakened": False,
        "slope_strengthened": False,
        **flags,
    }
    result["flags"]["slope_off"] = (
        result["flags"]["slope_weakened"] or result["flags"]["slope_strengthened"]
    )
    return result


COVARIATE = {"age": ("drift", 0.3), "bmi": ("drift", 0.1), "sex": ("stable", 0.0)}


def judge_by_hand(drift, performance):
    return decide(drift, performance, HAND_REFERENCE)


def test_rule_nothing_moved_is_ok():
    # given stable features and predictions and labels that match the predictions
    # when judged
    result = judge_by_hand(hand_drift(), hand_performance())
    # then ok, saying nothing was found
    assert result["verdict"] == "ok"
    assert result["reasons"] == ["no drift, data-quality or performance problem detected"]


def test_rule_data_quality_is_investigate_data():
    # given a batch whose schema lost a column (labels otherwise fine)
    drift = hand_drift(schema_issues=["column 'bmi' is missing"])
    # when judged, then investigate-data wins over everything else
    result = judge_by_hand(drift, hand_performance())
    assert result["verdict"] == "investigate-data"
    assert result["reasons"][0] == "data quality: schema: column 'bmi' is missing"


def test_rule_auc_below_the_reference_is_retrain_naming_the_interval():
    # given a real AUC 0.05 below the reference, the interval of the change below zero
    performance = hand_performance(
        auc=(0.62, 0.60, 0.64), expected=0.62, auc_change=(-0.05, -0.08, -0.02), auc_drop=True
    )
    # when judged
    result = judge_by_hand(hand_drift(), performance)
    # then retrain, the reason giving the change and its interval
    assert result["verdict"] == "retrain"
    text = next(r for r in result["reasons"] if r.startswith("performance:"))
    assert "change -0.050" in text and "[-0.080, -0.020]" in text


def test_rule_weakened_slope_is_concept_drift():
    # given a slope whose whole interval lies below 1 - slope_tolerance (0.8)
    performance = hand_performance(slope=(0.65, 0.55, 0.75), slope_weakened=True)
    # when judged
    result = judge_by_hand(hand_drift(), performance)
    # then retrain for concept drift, naming the slope, its interval and the bound
    assert result["verdict"] == "retrain" and result["details"]["concept_drift"]
    text = next(r for r in result["reasons"] if r.startswith("concept drift"))
    assert "calibration slope 0.65 [0.55, 0.75] < 0.80" in text and "weakened" in text


def test_rule_degraded_ranking_is_concept_drift():
    # given a real AUC 0.05 below the AUC the batch's own predictions lead one to expect
    performance = hand_performance(auc=(0.62, 0.605, 0.635), expected=0.67, ranking_off=True)
    # when judged
    result = judge_by_hand(hand_drift(), performance)
    # then retrain for concept drift, naming the real AUC, its interval and the expectation
    assert result["verdict"] == "retrain" and result["details"]["concept_drift"]
    text = next(r for r in result["reasons"] if r.startswith("concept drift"))
    assert "real AUC 0.620 [0.605, 0.635] vs 0.670 expected" in text and "degraded" in text


def test_rule_strengthened_slope_without_covariate_drift_is_concept_drift():
    # given a slope wholly above 1 + slope_tolerance while features and predictions are stable
    performance = hand_performance(
        slope=(1.45, 1.3, 1.6), auc=(0.72, 0.705, 0.735), slope_strengthened=True
    )
    # when judged
    result = judge_by_hand(hand_drift(), performance)
    # then retrain for concept drift: nothing but a changed P(y | x) explains it
    assert result["verdict"] == "retrain" and result["details"]["concept_drift"]
    text = next(r for r in result["reasons"] if r.startswith("concept drift"))
    assert "1.45 [1.30, 1.60] > 1.20" in text and "features and predictions stable" in text


def test_rule_under_confident_slope_under_covariate_drift_with_ranking_holding_is_watch():
    # given strong drift of important features, and labels with an under-confident slope
    # (interval above 1) whose real AUC is above the AUC the predictions lead one to expect
    performance = hand_performance(
        slope=(1.22, 1.11, 1.32), auc=(0.704, 0.689, 0.719), expected=0.672
    )
    # when judged
    result = judge_by_hand(hand_drift(COVARIATE, prediction="drift"), performance)
    # then watch, not retrain: covariate drift, not concept drift, with the numbers that say so
    assert result["verdict"] == "watch"
    assert not result["details"]["concept_drift"] and result["details"]["labels_show_health"]
    assert result["details"]["slope_explained_by_covariate_shift"]
    assert (
        "calibration slope 1.22 [1.11, 1.32] > 1: under-confident, ranking holds (real AUC "
        "0.704 [0.689, 0.719] vs 0.672 expected" in " | ".join(result["reasons"])
    )
    assert any("covariate drift, not concept drift" in r for r in result["reasons"])
    # and the covariate drift is reported first
    assert result["reasons"][0].startswith("covariate drift (strong)")


def test_rule_strongly_under_confident_slope_under_covariate_drift_is_still_watch():
    # given the same covariate drift with a slope wholly above 1 + slope_tolerance, ranking held
    performance = hand_performance(
        slope=(1.5, 1.35, 1.65), auc=(0.72, 0.705, 0.735), expected=0.67, slope_strengthened=True
    )
    # when judged, then the covariate drift explains it: watch
    result = judge_by_hand(hand_drift(COVARIATE), performance)
    assert result["verdict"] == "watch" and not result["details"]["concept_drift"]


def test_rule_strengthened_slope_under_covariate_drift_without_ranking_is_concept_drift():
    # given covariate drift and a strengthened slope, but a real AUC wholly below the expected
    performance = hand_performance(
        slope=(1.5, 1.35, 1.65), auc=(0.64, 0.625, 0.655), expected=0.67, slope_strengthened=True
    )
    # when judged, then nothing explains the slope: retrain for concept drift
    result = judge_by_hand(hand_drift(COVARIATE), performance)
    assert result["verdict"] == "retrain" and result["details"]["concept_drift"]
    assert any("the ranking does not hold" in r for r in result["reasons"])


def test_rule_under_confident_slope_within_tolerance_without_drift_is_a_note():
    # given stable features and a slope significantly above 1 but not beyond 1 + tolerance
    performance = hand_performance(slope=(1.15, 1.03, 1.27))
    # when judged, then ok, with a note on the slope
    result = judge_by_hand(hand_drift(), performance)
    assert result["verdict"] == "ok"
    assert any(r.startswith("note: calibration slope 1.15 [1.03, 1.27]") for r in result["reasons"])


def test_rule_prior_drift_with_stable_features_is_retrain():
    # given stable features and O/E 1.30 with its interval excluding 1
    performance = hand_performance(
        oe=(1.30, 1.25, 1.35),
        oe_mix=(1.30, 1.24, 1.36),
        miscalibrated_in_the_large=True,
        miscalibrated_at_reference_mix=True,
    )
    # when judged, then retrain for prior drift, naming the O/E and its interval
    result = judge_by_hand(hand_drift(), performance)
    assert result["verdict"] == "retrain" and result["details"]["prior_drift"]
    text = next(r for r in result["reasons"] if r.startswith("prior drift"))
    assert "O/E 1.30 [1.25, 1.35]" in text and "features stable" in text


def test_rule_oe_off_only_at_the_batch_mix_under_covariate_drift_is_not_prior_drift():
    # given covariate drift, O/E 1.12 at the batch's case mix but 1.01 at the reference's
    performance = hand_performance(
        oe=(1.12, 1.08, 1.16), oe_mix=(1.01, 0.95, 1.07), miscalibrated_in_the_large=True
    )
    # when judged
    result = judge_by_hand(hand_drift(COVARIATE), performance)
    # then watch (the covariate drift), with a note that the shift explains the O/E
    assert result["verdict"] == "watch" and not result["details"]["prior_drift"]
    assert result["details"]["citl_explained_by_covariate_shift"]
    assert any(
        r.startswith("note: calibration-in-the-large O/E 1.12 [1.08, 1.16] is explained")
        for r in result["reasons"]
    )


def test_rule_oe_off_at_the_reference_mix_under_covariate_drift_is_prior_drift():
    # given covariate drift and O/E off at the reference case mix as well
    performance = hand_performance(
        oe=(1.35, 1.3, 1.4),
        oe_mix=(1.25, 1.19, 1.31),
        miscalibrated_in_the_large=True,
        miscalibrated_at_reference_mix=True,
    )
    # when judged, then retrain for prior drift beyond what the feature shift explains
    result = judge_by_hand(hand_drift(COVARIATE), performance)
    assert result["verdict"] == "retrain" and result["details"]["prior_drift"]
    text = next(r for r in result["reasons"] if r.startswith("prior drift"))
    assert "beyond what the feature shift explains" in text and "1.25 [1.19, 1.31]" in text


def test_rule_strong_covariate_drift_is_watch_with_healthy_labels_and_retrain_without():
    # given strong drift of important features
    drift = hand_drift(COVARIATE)
    # when judged with labels that show the model holding, and without labels
    labelled = judge_by_hand(drift, hand_performance())
    unlabelled = judge_by_hand(drift, hand_performance(labels=False))
    # then watch with labels, retrain without
    assert labelled["verdict"] == "watch" and labelled["details"]["labels_show_health"]
    assert unlabelled["verdict"] == "retrain"
    assert all(
        "'age'" in r and "'bmi'" in r for r in (labelled["reasons"][0], unlabelled["reasons"][0])
    )


def test_rule_strong_prediction_drift_is_watch_with_healthy_labels_and_retrain_without():
    # given strong prediction drift, features stable
    drift = hand_drift(prediction="drift")
    # when judged with healthy labels and without labels, then watch and retrain
    assert judge_by_hand(drift, hand_performance())["verdict"] == "watch"
    assert judge_by_hand(drift, hand_performance(labels=False))["verdict"] == "retrain"


def test_rule_moderate_drift_is_watch_on_important_features_and_a_note_on_minor_ones():
    # given moderate drift on an important feature, and (separately) on a minor one
    important = hand_drift({"age": ("watch", 0.3), "sex": ("stable", 0.0)})
    minor = hand_drift({"age": ("stable", 0.3), "sex": ("watch", 0.001)})
    # when judged without labels
    result_important = judge_by_hand(important, hand_performance(labels=False))
    result_minor = judge_by_hand(minor, hand_performance(labels=False))
    # then watch for the important feature, ok with a note for the minor one
    assert result_important["verdict"] == "watch"
    assert result_minor["verdict"] == "ok"
    assert result_minor["reasons"][0].startswith("note: covariate drift (moderate) on minor")


def test_rule_label_free_auc_estimate_falling_is_watch():
    # given no labels and a label-free estimated AUC 0.03 below the reference's
    performance = hand_performance(labels=False, expected_auc_change=-0.03)
    # when judged, then watch, saying the estimate fell
    result = judge_by_hand(hand_drift(), performance)
    assert result["verdict"] == "watch"
    assert any(r.startswith("estimated AUC (label-free") for r in result["reasons"])
