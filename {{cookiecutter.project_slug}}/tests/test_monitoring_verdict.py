"""Statistical behaviour of the monitor on simulated batches, and the history CSV.

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

from {{ cookiecutter.package_name }}.monitoring import (
    append_history,
    assess_performance,
    build_reference,
    compute_drift,
    decide,
    summary_row,
)

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
