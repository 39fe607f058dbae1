"""Tests of the synthetic_clinical generator against its documented ground truth."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.data import synthetic
from {{ cookiecutter.package_name }}.data.synthetic import generate, generate_batch

N = 20000
NUMERIC = list(synthetic.NUMERIC_FEATURES)


def _se(p: float, n: int) -> float:
    """Binomial standard error of a share ``p`` estimated from ``n`` rows."""
    return float(np.sqrt(p * (1 - p) / n))


@pytest.fixture(scope="module")
def train() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(N, seed=0, label_noise=0.05, prevalence=0.2)


@pytest.fixture(scope="module")
def reference_batch() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_batch(N, seed=5)


def test_columns_dtypes_and_no_truth_in_data(train):
    # given the default training data
    data, truth = train
    # then data has exactly the documented columns and no truth column
    assert list(data.columns) == [
        "patient_id", "site", "admission_date", *NUMERIC,
        "sex", "insurance", "smoker", "admission_type", "readmitted",
    ]  # fmt: skip
    assert not set(truth.columns) - {"patient_id"} & set(data.columns)
    assert list(truth.columns) == list(synthetic.TRUTH_COLUMNS)
    assert (data["patient_id"].to_numpy() == truth["patient_id"].to_numpy()).all()
    assert data["age"].dtype == np.float32 and data["site"].dtype == "category"
    assert data["site"].nunique() == 8
    assert set(data["readmitted"].unique()) == {0, 1}
    # and the admission dates span the documented two years
    assert data["admission_date"].min() >= pd.Timestamp("2022-01-01")
    assert data["admission_date"].max() <= pd.Timestamp("2023-12-31")
    assert (data["admission_date"].max() - data["admission_date"].min()).days > 700


def test_prevalence_near_target(train):
    data, truth = train
    # then the clean prevalence and the mean true risk are 0.2 within 4 standard errors
    tol = 4 * _se(0.2, N)
    assert truth["clean_label"].mean() == pytest.approx(0.2, abs=tol)
    assert truth["true_risk"].mean() == pytest.approx(0.2, abs=tol)
    # and the observed prevalence is prevalence * (1 - 2 noise) + noise = 0.23
    assert data["readmitted"].mean() == pytest.approx(0.23, abs=4 * _se(0.23, N))


def test_flipped_share_equals_label_noise(train):
    _, truth = train
    assert truth["label_flipped"].mean() == pytest.approx(0.05, abs=4 * _se(0.05, N))


def test_recorded_flips_are_exactly_the_changed_labels(train):
    data, truth = train
    changed = data["readmitted"].to_numpy() != truth["clean_label"].to_numpy()
    flipped_ids = set(truth.loc[truth["label_flipped"], "patient_id"])
    assert flipped_ids == set(data.loc[changed, "patient_id"])
    assert len(flipped_ids) > 0


def test_zero_label_noise_flips_nothing():
    data, truth = generate(2000, seed=1, label_noise=0.0)
    assert not truth["label_flipped"].any()
    assert (data["readmitted"].to_numpy() == truth["clean_label"].to_numpy()).all()


def test_true_risk_is_calibrated_logit_slope_one(train):
    # given the clean labels and the logit of the true risk
    _, truth = train
    risk = truth["true_risk"].to_numpy()
    logit = np.log(risk / (1 - risk)).reshape(-1, 1)
    # when a logistic regression of clean_label on that logit is fitted
    model = LogisticRegression(C=1e6).fit(logit, truth["clean_label"])
    # then slope ~1 and intercept ~0 (standard error of the slope is about 0.03)
    assert model.coef_[0, 0] == pytest.approx(1.0, abs=0.1)
    assert model.intercept_[0] == pytest.approx(0.0, abs=0.15)


def test_hba1c_missing_not_at_random_as_documented(train):
    data, truth = train
    missing = data["hba1c"].isna().to_numpy()
    risk = truth["true_risk"].to_numpy()
    # then the overall rate matches the documented P(missing) = 0.5 (1 - risk)^3
    expected = 0.5 * (1 - risk) ** 3
    assert missing.mean() == pytest.approx(expected.mean(), abs=4 * _se(expected.mean(), N))
    # and low-risk patients miss hba1c far more often than high-risk ones
    quintile = pd.qcut(risk, 5, labels=False)
    rates = pd.Series(missing).groupby(quintile).mean()
    expected_rates = pd.Series(expected).groupby(quintile).mean()
    assert rates.is_monotonic_decreasing
    np.testing.assert_allclose(rates, expected_rates, atol=4 * _se(0.5, N // 5))
    assert rates.iloc[0] - rates.iloc[-1] > 0.25


def test_bmi_missing_depends_on_site(train):
    data, _ = train
    rate = data["bmi"].isna().groupby(data["site"], observed=True).mean()
    for site, value in rate.items():
        documented = 0.60 if site in ("site_03", "site_07") else 0.03
        n_site = int((data["site"] == site).sum())
        assert value == pytest.approx(documented, abs=4 * _se(documented, n_site)), site
    # and only bmi and hba1c have missing values
    assert data.columns[data.isna().any()].tolist() == ["bmi", "hba1c"]


def test_weak_signal_subgroup_has_lower_auc(train):
    _, truth = train
    weak = truth["weak_signal_subgroup"].to_numpy()
    auc_weak = roc_auc_score(truth["clean_label"][weak], truth["true_risk"][weak])
    auc_rest = roc_auc_score(truth["clean_label"][~weak], truth["true_risk"][~weak])
    # then the subgroup (insurance == none, ~9%) is clearly harder: documented 0.59 vs 0.74
    assert weak.mean() == pytest.approx(0.09, abs=0.02)
    assert auc_weak < auc_rest - 0.08
    assert auc_rest == pytest.approx(0.745, abs=0.02)


def test_same_seed_same_data_other_seed_other_data():
    first, first_truth = generate(3000, seed=3)
    again, again_truth = generate(3000, seed=3)
    other, _ = generate(3000, seed=4)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first_truth, again_truth)
    assert not first["age"].equals(other["age"])


def test_ids_unique_and_batch_ids_disjoint(train, reference_batch):
    data, _ = train
    batch, batch_truth = reference_batch
    other_batch, _ = generate_batch(1000, seed=6)
    assert data["patient_id"].is_unique and batch["patient_id"].is_unique
    assert not set(data["patient_id"]) & set(batch["patient_id"])
    assert not set(batch["patient_id"]) & set(other_batch["patient_id"])
    assert (batch["patient_id"].to_numpy() == batch_truth["patient_id"].to_numpy()).all()
    # and batches are admitted after the training period
    assert batch["admission_date"].min() >= pd.Timestamp("2024-01-01")


def test_batch_without_drift_matches_training_distribution(train, reference_batch):
    data, truth = train
    batch, batch_truth = reference_batch
    assert batch_truth["clean_label"].mean() == pytest.approx(0.2, abs=4 * _se(0.2, N) * 1.5)
    for column in NUMERIC:
        p = stats.ks_2samp(data[column].dropna(), batch[column].dropna()).pvalue
        assert p > 0.001, column


def test_covariate_drift_moves_documented_features(reference_batch):
    # given a batch with the documented default drift of 0.5 SD (another seed)
    base, _ = reference_batch
    shifted, shifted_truth = generate_batch(N, seed=6, covariate_shift=0.5)
    se = np.sqrt(2 / N)  # standard error of a mean difference, in SDs
    # then bmi moves by 0.5 * 5.5, ln(creatinine) by 0.5 * 0.35 plus 0.006 per year of age
    age_shift = shifted["age"].mean() - base["age"].mean()
    assert 7.0 < age_shift < 8.0 + 4 * 16 * se  # 8 years before clipping at 95
    assert shifted["bmi"].mean() - base["bmi"].mean() == pytest.approx(2.75, abs=4 * 5.5 * se)
    log_shift = np.log(shifted["creatinine"]).mean() - np.log(base["creatinine"]).mean()
    assert log_shift == pytest.approx(0.175 + 0.006 * age_shift, abs=4 * 0.4 * se)
    emergency = (shifted["admission_type"] == "emergency").mean()
    assert emergency == pytest.approx(0.475, abs=4 * _se(0.475, N))
    # and each moved feature is at least ~0.5 SD away from the training distribution
    for column, sd in (("age", 16.0), ("bmi", 5.5)):
        assert (shifted[column].mean() - base[column].mean()) / sd > 0.45
    # and the population is sicker, so prevalence rises (documented 0.31)
    assert shifted_truth["clean_label"].mean() == pytest.approx(0.31, abs=0.02)


def test_prior_drift_changes_prevalence_only(reference_batch):
    base, base_truth = reference_batch
    shifted, shifted_truth = generate_batch(N, seed=5, prior_shift=1.0)
    # then the features are identical, the prevalence rises to the documented 0.37
    features = [c for c in base.columns if c != "readmitted"]
    pd.testing.assert_frame_equal(base[features], shifted[features])
    assert shifted_truth["true_risk"].mean() == pytest.approx(0.37, abs=0.015)
    assert shifted_truth["clean_label"].mean() > base_truth["clean_label"].mean() + 0.12
    # and the log-odds of every row moved by exactly prior_shift
    logit = np.log(base_truth["true_risk"] / (1 - base_truth["true_risk"]))
    logit_shifted = np.log(shifted_truth["true_risk"] / (1 - shifted_truth["true_risk"]))
    np.testing.assert_allclose(logit_shifted - logit, 1.0, atol=1e-6)


def test_concept_drift_keeps_x_changes_y_given_x(reference_batch):
    base, base_truth = reference_batch
    # given a fully drifted batch from another seed: X has the same distribution
    drifted_other, _ = generate_batch(N, seed=6, concept_shift=1.0)
    for column in NUMERIC:
        p = stats.ks_2samp(base[column].dropna(), drifted_other[column].dropna()).pvalue
        assert p > 0.01, column
    # and with the same seed X is identical while P(y|x) has changed
    drifted, drifted_truth = generate_batch(N, seed=5, concept_shift=1.0)
    features = [c for c in base.columns if c != "readmitted"]
    pd.testing.assert_frame_equal(base[features], drifted[features])
    logit_gap = np.abs(
        np.log(drifted_truth["true_risk"] / (1 - drifted_truth["true_risk"]))
        - np.log(base_truth["true_risk"] / (1 - base_truth["true_risk"]))
    )
    assert logit_gap.mean() > 0.5
    # then the old risk ranks the new labels worse (documented 0.75 -> 0.67), prevalence kept
    auc_before = roc_auc_score(base_truth["clean_label"], base_truth["true_risk"])
    auc_after = roc_auc_score(drifted_truth["clean_label"], base_truth["true_risk"])
    assert auc_after < auc_before - 0.05
    assert drifted_truth["clean_label"].mean() == pytest.approx(0.2, abs=4 * _se(0.2, N) * 1.5)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 0}, "n"),
        ({"seed": -1}, "seed"),
        ({"label_noise": 0.5}, "label_noise"),
        ({"prevalence": 1.0}, "prevalence"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    args = {"n": 10, "seed": 0, "label_noise": 0.05, "prevalence": 0.2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        generate(**args)


def test_non_finite_drift_and_huge_batch_seed_are_rejected():
    with pytest.raises(ValueError, match="covariate_shift"):
        generate_batch(10, seed=0, covariate_shift=float("nan"))
    with pytest.raises(ValueError, match="batch seed must be below"):
        generate_batch(10, seed=2**40)


@pytest.mark.slow
def test_one_million_rows_fast_with_bounded_memory():
    synthetic.intercept_for(0.2)  # solved once per process; not part of the per-call cost
    tracemalloc.start()
    start = time.perf_counter()
    data, truth = generate(1_000_000, seed=0)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(data) == 1_000_000 and data["patient_id"].is_unique
    assert seconds < 30  # ~0.6 s untraced, ~4 s under tracemalloc on 2 cores
    assert peak < 300e6  # ~125 MB: the result (~65 MB) plus one chunk of work arrays
    assert truth["clean_label"].mean() == pytest.approx(0.2, abs=0.003)
