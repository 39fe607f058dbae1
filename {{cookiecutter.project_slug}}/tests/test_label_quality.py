"""Tests of label quality: label-error detection, duplicates, agreement, corrections.

The confident-learning implementation is compared with cleanlab, its reference implementation.
cleanlab is a dev-only dependency (AGPL-3.0 up to 2.7, never in the runtime) and is imported
only here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.package_name }}.preparation.label_quality import (
    CORRECTION_COLUMNS,
    LABEL_ISSUE_FILTERS,
    SCORE_METHODS,
    SUSPECT_COLUMNS,
    CorrectionsError,
    apply_corrections,
    confident_joint,
    conflicting_duplicates,
    detection_scores,
    label_agreement,
    label_issue_mask,
    label_quality_report,
    label_quality_scores,
    out_of_fold_probabilities,
    read_corrections,
    suspected_label_errors,
    write_suspects_csv,
)

NUMERIC = ["x1", "x2", "x3"]
CATEGORICAL = ["site"]
N_ROWS = 5000
FLIP_FRACTION = 0.05


def make_classifier() -> object:
    """Imputer(+indicator)/scaler for numerics, one-hot for categoricals, logistic regression."""
    preprocess = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return make_pipeline(preprocess, LogisticRegression())


@pytest.fixture(scope="module")
def noisy_problem() -> dict:
    """5,000 rows from a known logistic model; 5% of labels flipped at recorded ids."""
    rng = np.random.default_rng(7)
    X = pd.DataFrame(
        {
            "x1": rng.normal(size=N_ROWS),
            "x2": rng.normal(size=N_ROWS),
            "x3": rng.exponential(size=N_ROWS),
            "site": rng.choice(["a", "b", "c"], size=N_ROWS),
        }
    )
    X.loc[rng.random(N_ROWS) < 0.05, "x2"] = np.nan  # missing at random
    site_effect = X["site"].map({"a": -1.5, "b": 0.0, "c": 1.5})
    logit = -1.0 + 3.0 * X["x1"] - 2.5 * X["x2"].fillna(0) + 1.2 * X["x3"] + site_effect
    y_true = (rng.random(N_ROWS) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    ids = np.arange(10_000, 10_000 + N_ROWS)
    flipped = rng.choice(N_ROWS, size=int(FLIP_FRACTION * N_ROWS), replace=False)
    y_noisy = y_true.copy()
    y_noisy[flipped] = 1 - y_noisy[flipped]
    proba = out_of_fold_probabilities(X, y_noisy, make_classifier, n_splits=5, seed=0)
    suspects = suspected_label_errors(y_noisy, proba, ids)
    return {
        "X": X,
        "y_true": y_true,
        "y_noisy": y_noisy,
        "ids": ids,
        "flipped_ids": ids[flipped],
        "proba": proba,
        "suspects": suspects,
    }


# ------------------------------------------------------------------ label-error detection


def test_suspects_recover_injected_flips_far_above_base_rate(noisy_problem):
    # given 250 flipped labels among 5,000 (base rate 5%)
    # when confident learning flags suspects from out-of-fold probabilities
    scores = detection_scores(noisy_problem["suspects"]["id"], noisy_problem["flipped_ids"])
    top = detection_scores(noisy_problem["suspects"]["id"][:250], noisy_problem["flipped_ids"])
    print(f"\nlabel-error detection: {scores}; top-250 precision {top['precision']:.3f}")
    # then (measured: precision 0.444, recall 0.708, 399 suspects; top-250 precision 0.588).
    # Precision is capped by the true model's own Bernoulli noise: those labels also
    # disagree with the features but were not flipped by us.
    assert scores["n_flipped"] == 250
    assert scores["precision"] >= 0.35  # 7x the 5% base rate
    assert scores["recall"] >= 0.60
    assert top["precision"] >= 0.50  # the most suspicious rows are mostly real flips


def test_suspects_table_is_ranked_and_consistent_with_inputs(noisy_problem):
    # given the suspects of the noisy problem
    suspects = noisy_problem["suspects"]
    by_id = pd.Series(noisy_problem["y_noisy"], index=noisy_problem["ids"])
    position = pd.Series(np.arange(N_ROWS), index=noisy_problem["ids"])
    # then columns are fixed, scores ascend, and each row reflects its own inputs
    assert list(suspects.columns) == list(SUSPECT_COLUMNS)
    assert suspects["label_quality"].is_monotonic_increasing
    assert (suspects["given_label"].to_numpy() == by_id[suspects["id"]].to_numpy()).all()
    rows = position[suspects["id"]].to_numpy()
    expected_p = noisy_problem["proba"][rows, suspects["given_label"].to_numpy()]
    np.testing.assert_allclose(suspects["p_given_label"], expected_p)
    # self_confidence score is by definition the probability of the given label
    np.testing.assert_allclose(suspects["label_quality"], expected_p)
    first = suspects.iloc[0]
    assert first["reason"].startswith(f"given {first['given_label']} but out-of-fold P(")


def test_out_of_fold_probabilities_are_proper_and_informative(noisy_problem):
    # given the out-of-fold probabilities
    proba = noisy_problem["proba"]
    # then rows are distributions and they rank the clean labels well
    assert proba.shape == (N_ROWS, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(noisy_problem["y_true"], proba[:, 1]) > 0.9


def test_out_of_fold_probabilities_rejects_too_many_folds():
    # given a class with only 3 rows
    X = pd.DataFrame({"x1": np.arange(20.0), "x2": 0.0, "x3": 1.0, "site": "a"})
    y = np.array([0] * 17 + [1] * 3)
    # when asking for 5 folds, then the error says how to fix it
    with pytest.raises(ValueError, match="smallest class"):
        out_of_fold_probabilities(X, y, make_classifier, n_splits=5)


def test_suspected_label_errors_rejects_mismatched_inputs():
    y = np.array([0, 1, 0, 1])
    proba_3cols = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="2 classes but oof_proba has 3 columns"):
        suspected_label_errors(y, proba_3cols, np.arange(4))
    with pytest.raises(ValueError, match="method='other' unknown"):
        suspected_label_errors(y, np.full((4, 2), 0.5), np.arange(4), method="other")
    with pytest.raises(ValueError, match="filter_by='nope' unknown"):
        suspected_label_errors(y, np.full((4, 2), 0.5), np.arange(4), filter_by="nope")
    with pytest.raises(ValueError, match="score_method='nope' unknown"):
        suspected_label_errors(y, np.full((4, 2), 0.5), np.arange(4), score_method="nope")
    # the detector is named for its algorithm, not for a library
    with pytest.raises(ValueError, match="use 'confident_learning'"):
        suspected_label_errors(y, np.full((4, 2), 0.5), np.arange(4), method="cleanlab")


# ---------------------------------------------- confident learning against cleanlab


def _flip(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Copy of binary or k-class labels with ``share`` of them moved to another class."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    noisy = y.copy()
    rows = rng.choice(len(y), size=int(share * len(y)), replace=False)
    noisy[rows] = (noisy[rows] + rng.integers(1, k, size=len(rows))) % k
    return noisy


def _logistic() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


# Probabilities of a hand-made 2-class problem: confident agreements, confident
# disagreements, a row within 1e-6 of a tie, a row exactly at 0.5 and a class-1 row scored
# like class 0.
TINY_PROBA_1 = np.array(
    [0.02, 0.10, 0.30, 0.45, 0.97, 0.5, 0.5000004, 0.90, 0.95, 0.80, 0.99, 0.15, 0.60]
)
TINY_LABELS = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])


@pytest.fixture(scope="module")
def datasets(noisy_problem: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(labels coded 0..k-1, out-of-fold probabilities) of several problems.

    synthetic: the noisy problem (5,000 rows, 5% known flips). imbalanced: 20,000 rows, ~6%
    positives, 30% of positives relabelled 0 and 1% of negatives relabelled 1. tiny: 13 rows
    by hand. breast_cancer: scikit-learn's 569 real rows, 5% of labels flipped, out-of-fold
    logistic regression. wine: 178 real rows, 3 classes, 8% flipped (k-class support).
    """
    rng = np.random.default_rng(3)
    n = 20_000
    X_imb = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    logit = -3.8 + 1.5 * X_imb["a"] - 1.0 * X_imb["b"] + 0.5 * X_imb["c"]
    y_imb = np.array(rng.random(n) < 1 / (1 + np.exp(-logit)), dtype=int)
    to_zero = (y_imb == 1) & (rng.random(n) < 0.30)
    to_one = (y_imb == 0) & (rng.random(n) < 0.01)
    y_imb[to_zero], y_imb[to_one] = 0, 1

    cancer = load_breast_cancer(as_frame=True)
    y_bc = _flip(cancer.target.to_numpy(), 0.05, seed=1)
    wine = load_wine(as_frame=True)
    y_wine = _flip(wine.target.to_numpy(), 0.08, seed=2)

    tiny = np.column_stack([1 - TINY_PROBA_1, TINY_PROBA_1])
    return {
        "synthetic": (noisy_problem["y_noisy"], noisy_problem["proba"]),
        "imbalanced": (y_imb, out_of_fold_probabilities(X_imb, y_imb, _logistic, seed=0)),
        "tiny": (TINY_LABELS, tiny),
        "breast_cancer": (y_bc, out_of_fold_probabilities(cancer.data, y_bc, _logistic)),
        "wine": (y_wine, out_of_fold_probabilities(wine.data, y_wine, _logistic)),
    }


DATASETS = ["synthetic", "imbalanced", "tiny", "breast_cancer", "wine"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # cleanlab's small-class notices
@pytest.mark.parametrize("filter_by", LABEL_ISSUE_FILTERS)
@pytest.mark.parametrize("name", DATASETS)
def test_flagged_rows_equal_cleanlab(datasets, name, filter_by):
    # given labels and out-of-fold probabilities of one data set
    labels, proba = datasets[name]
    ids = np.arange(len(labels)) + 1000
    # when both implementations flag label issues with the same rule
    ours = label_issue_mask(labels, proba, filter_by=filter_by)
    reference = find_label_issues(labels, proba, filter_by=filter_by, n_jobs=1)
    suspects = suspected_label_errors(labels, proba, ids, filter_by=filter_by)
    # then they flag exactly the same rows (these data have no exactly tied scores at a
    # ranking cut, the only place where the two may differ; see the tie test below)
    print(f"\n{name} / {filter_by}: {int(ours.sum())} flagged of {len(labels)}")
    assert np.array_equal(ours, reference), (
        f"{name}/{filter_by}: ours {int(ours.sum())}, cleanlab {int(reference.sum())}, "
        f"differ at rows {np.flatnonzero(ours != reference)[:20].tolist()}"
    )
    assert set(suspects["id"]) == set(ids[reference])


@pytest.mark.parametrize("method", SCORE_METHODS)
@pytest.mark.parametrize("name", DATASETS)
def test_label_quality_scores_equal_cleanlab(datasets, name, method):
    # given labels and out-of-fold probabilities of one data set
    labels, proba = datasets[name]
    # when both implementations score every row
    ours = label_quality_scores(labels, proba, method=method)
    reference = get_label_quality_scores(labels, proba, method=method)
    # then the scores agree to 1e-12
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)


def test_detection_flags_known_flips_on_real_data(datasets):
    # given the breast cancer data with 5% of labels flipped
    labels, proba = datasets["breast_cancer"]
    truth = load_breast_cancer().target
    # when the default rule flags suspects
    flagged = label_issue_mask(labels, proba)
    # then (measured: 28 flips, 30 suspects of which 24 are flips) most suspects are flips
    # and most flips are found
    flips = labels != truth
    assert flips.sum() == 28
    assert (flagged & flips).sum() >= 0.7 * flagged.sum()
    assert (flagged & flips).sum() >= 0.75 * flips.sum()


def test_confident_joint_hand_example():
    # given 13 hand-made rows; thresholds = mean self-confidence per class:
    # class 0: mean(0.98, 0.90, 0.70, 0.55, 0.03, 0.5, 0.4999996) = 0.5942857
    # class 1: mean(0.90, 0.95, 0.80, 0.99, 0.15, 0.60) = 0.7316667
    proba = np.column_stack([1 - TINY_PROBA_1, TINY_PROBA_1])
    # when
    joint, off_diagonal = confident_joint(TINY_LABELS, proba, calibrate=False)
    # then class-0 rows reaching 0.5943 (0.98, 0.90, 0.70) count as (0, 0) and the one with
    # P(1)=0.97 as (0, 1); class-1 rows reaching 0.7317 on class 1 (0.90, 0.95, 0.80, 0.99)
    # count as (1, 1) and the one with P(0)=0.85 as (1, 0); the rows near 0.5 and the class-1
    # row at 0.60 reach neither threshold and are not counted
    np.testing.assert_array_equal(joint, [[3, 1], [1, 4]])
    assert np.flatnonzero(off_diagonal).tolist() == [4, 11]
    # and calibration scales each row to its class size, [3, 1] * 7/4 = [5.25, 1.75] and
    # [1, 4] * 6/5 = [1.2, 4.8], rounded keeping the row totals
    calibrated, _ = confident_joint(TINY_LABELS, proba)
    np.testing.assert_array_equal(calibrated, [[5, 2], [1, 5]])
    np.testing.assert_array_equal(calibrated.sum(axis=1), [7, 6])


def test_tied_scores_at_a_cut_go_to_the_earlier_rows():
    # given 180 rows labelled 0: 100 confidently 0, 20 confidently 1 (P(1)=0.97) and 60 tied
    # at P(1)=0.6, confident of neither class; 200 rows labelled 1 with P(1) in [0.7, 1].
    # Calibration scales the class-0 row of the confident joint [100, 20] to its 180 rows,
    # [150, 30]: 30 rows to prune, the 20 at 0.97 and 10 of the 60 tied rows.
    rng = np.random.default_rng(5)
    p1 = np.concatenate(
        [rng.uniform(0.0, 0.2, 100), np.full(20, 0.97), np.full(60, 0.6), rng.uniform(0.7, 1, 200)]
    )
    proba = np.column_stack([1 - p1, p1])
    labels = np.array([0] * 180 + [1] * 200)
    tied = np.arange(120, 180)
    # when
    ours = label_issue_mask(labels, proba)
    reference = find_label_issues(labels, proba, n_jobs=1)
    # then both flag 30 rows, the same ones outside the tie, and among the equally suspicious
    # tied rows ours are the earliest 10. cleanlab orders ties with numpy's default argsort,
    # which is not stable (its order depends on the CPU's sorting instructions), so which tied
    # rows it returns is arbitrary: exact equality cannot be required when scores tie at a cut.
    assert ours.sum() == reference.sum() == 30
    outside = np.setdiff1d(np.arange(len(labels)), tied)
    assert np.array_equal(ours[outside], reference[outside])
    assert np.flatnonzero(ours[tied]).tolist() == list(range(10))


def test_detection_scores_hand_example():
    # given 4 suspects of which 2 are among 3 true flips
    scores = detection_scores([1, 2, 3, 4], [3, 4, 5])
    # then precision 2/4, recall 2/3, f1 = 2PR/(P+R) = 4/7
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)
    assert (scores["n_suspected"], scores["n_flipped"], scores["n_true_positive"]) == (4, 3, 2)
    assert detection_scores([], [1])["precision"] == 0.0


# ---------------------------------------------------------------------- duplicates


def test_conflicting_duplicates_found_exactly():
    # given: ids 1,2 identical (incl. NaN) with different labels; 3,4 identical, same label;
    # 5,6,7 identical with labels 0,0,1; 8 differs from 1 only by NaN vs value;
    # 9 duplicates 1,2 but is unlabelled
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "x": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 1.0, 1.0],
            "z": [np.nan, np.nan, 5.0, 5.0, 6.0, 6.0, 6.0, 0.0, np.nan],
            "site": ["a", "a", "b", "b", "c", "c", "c", "a", "a"],
            "y": [0, 1, 1, 1, 0, 0, 1, 0, np.nan],
        }
    )
    # when
    conflicts = conflicting_duplicates(df, ["x", "z", "site"], target="y", id_col="id")
    # then exactly the rows of the two conflicting groups, numbered 0 and 1
    assert conflicts["id"].tolist() == [1, 2, 5, 6, 7]
    assert conflicts["duplicate_group"].tolist() == [0, 0, 1, 1, 1]
    assert conflicts["y"].tolist() == [0, 1, 0, 0, 1]


def test_conflicting_duplicates_empty_when_labels_agree():
    df = pd.DataFrame({"id": [1, 2], "x": [1.0, 1.0], "y": [1, 1]})
    conflicts = conflicting_duplicates(df, ["x"], target="y", id_col="id")
    assert conflicts.empty
    assert list(conflicts.columns) == ["id", "duplicate_group", "y"]


# ----------------------------------------------------------------------- agreement


def _labels_from_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand a rater-a x rater-b count table into two label vectors."""
    a, b = [], []
    for i, j in np.ndindex(table.shape):
        a += [i] * int(table[i, j])
        b += [j] * int(table[i, j])
    return np.array(a), np.array(b)


def test_kappa_textbook_2x2_example():
    # given the classic 50-item example: both yes 20, a-yes/b-no 5, a-no/b-yes 10, both no 15
    a, b = _labels_from_table(np.array([[15, 10], [5, 20]]))  # label 0 = no, 1 = yes
    # when
    result = label_agreement(a, b)
    # then po = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = (0.7-0.5)/(1-0.5) = 0.4
    assert result["observed_agreement"] == pytest.approx(0.7)
    assert result["expected_agreement"] == pytest.approx(0.5)
    assert result["kappa"] == pytest.approx(0.4)
    # Fleiss-Cohen-Everitt variance by hand, p = [[0.3, 0.2], [0.1, 0.4]],
    # margins a: p_0. = p_1. = 0.5, b: p_.0 = 0.4, p_.1 = 0.6:
    # diag 0.3*(0.5 - (0.4+0.5)*0.3)^2 + 0.4*(0.5 - (0.6+0.5)*0.3)^2 = 0.01587 + 0.01156
    # off  0.3^2 * (p_01*(p_.0+p_1.)^2 + p_10*(p_.1+p_0.)^2) = 0.09*(0.2*0.81 + 0.1*1.21)
    #      = 0.02547
    # corr (po*pe - 2pe + po)^2 = (0.35 - 1 + 0.7)^2 = 0.0025
    # var = (0.02743 + 0.02547 - 0.0025) / (50 * 0.5^4) = 0.0504 / 3.125 -> se = 0.1270
    assert result["kappa_se"] == pytest.approx(math.sqrt(0.0504 / 3.125), rel=1e-6)
    assert result["kappa_ci_low"] == pytest.approx(0.4 - 1.959964 * result["kappa_se"])
    assert result["kappa_ci_high"] == pytest.approx(0.4 + 1.959964 * result["kappa_se"])
    assert result["confusion"] == {"labels": [0, 1], "counts": [[15, 10], [5, 20]]}


def test_kappa_equals_sklearn_and_se_matches_bootstrap():
    # given two raters on 3 classes with asymmetric disagreement
    table = np.array([[300, 40, 10], [80, 500, 30], [20, 60, 960]])
    a, b = _labels_from_table(table)
    # when
    result = label_agreement(a, b)
    # then kappa is sklearn's, and the analytic SE agrees with a parametric bootstrap
    assert result["kappa"] == pytest.approx(cohen_kappa_score(a, b))
    rng = np.random.default_rng(0)
    draws = rng.multinomial(table.sum(), (table / table.sum()).ravel(), size=4000)
    p = draws.reshape(-1, 3, 3) / table.sum()
    po = np.trace(p, axis1=1, axis2=2)
    pe = np.einsum("ki,ki->k", p.sum(axis=2), p.sum(axis=1))
    boot_se = np.std((po - pe) / (1 - pe))
    assert result["kappa_se"] == pytest.approx(boot_se, rel=0.05)


def test_kappa_undefined_when_both_raters_use_one_label():
    result = label_agreement([1, 1, 1], [1, 1, 1])
    assert math.isnan(result["kappa"]) and result["observed_agreement"] == 1.0


def test_label_agreement_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="rate the same items"):
        label_agreement([0, 1], [0])


# --------------------------------------------------------------------- corrections


@pytest.fixture()
def labelled() -> pd.DataFrame:
    return pd.DataFrame({"pid": [101, 102, 103, 104], "x": [0.1, 0.2, 0.3, 0.4], "y": [0, 1, 0, 1]})


def test_read_corrections_missing_or_header_only_is_empty(tmp_path):
    header_only = tmp_path / "corrections.csv"
    header_only.write_text("id,action,label,reason\n")
    for path in (tmp_path / "absent.csv", header_only):
        corrections = read_corrections(path)
        assert corrections.empty and list(corrections.columns) == list(CORRECTION_COLUMNS)


def test_relabel_and_exclude_are_applied(tmp_path, labelled):
    # given a corrections file relabelling 101 (0->1), 102 (already 1) and excluding 104
    path = tmp_path / "corrections.csv"
    path.write_text(
        "id,action,label,reason\n"
        "101,relabel,1,reviewer A: scan shows lesion\n"
        "102, relabel ,1.0,double-checked\n"
        "104,exclude,,image unreadable\n"
    )
    # when
    corrected, counts = apply_corrections(labelled, read_corrections(path), "pid", "y")
    # then
    assert corrected["pid"].tolist() == [101, 102, 103]
    assert corrected["y"].tolist() == [1, 1, 0]
    assert corrected["y"].dtype == labelled["y"].dtype
    assert counts == {
        "relabelled": 1,
        "relabel_unchanged": 1,
        "excluded": 1,
        "n_rows_before": 4,
        "n_rows_after": 3,
    }
    assert labelled["y"].tolist() == [0, 1, 0, 1]  # input untouched


def test_empty_corrections_change_nothing(tmp_path, labelled):
    corrected, counts = apply_corrections(
        labelled, read_corrections(tmp_path / "none.csv"), "pid", "y"
    )
    pd.testing.assert_frame_equal(corrected, labelled)
    assert counts["relabelled"] == counts["excluded"] == 0


def test_bad_corrections_rows_are_all_reported_with_line_numbers(tmp_path, labelled):
    # given a file with an unknown id, a bad action, a non-binary label, a repeat and no reason
    path = tmp_path / "corrections.csv"
    path.write_text(
        "id,action,label,reason\n"
        "999,relabel,1,typo in id\n"
        "101,flip,1,wrong action\n"
        "102,relabel,yes,label not 0/1\n"
        "101,exclude,,second row for 101\n"
        "103,exclude,,\n"
    )
    # when / then one error lists each problem with its line and what to do
    with pytest.raises(CorrectionsError) as info:
        apply_corrections(labelled, read_corrections(path), "pid", "y")
    message = str(info.value)
    assert str(path) in message and "5 problem(s)" in message
    assert "line 2, id='999'): id not found in column 'pid'" in message
    assert "line 3, id='101'): action 'flip' unknown; use 'relabel' or 'exclude'" in message
    assert "line 4, id='102'): relabel needs label 0 or 1, got 'yes'" in message
    assert "line 5, id='101'): id already corrected at row 2" in message
    assert "line 6, id='103'): empty reason" in message


def test_corrections_file_with_wrong_header_is_rejected(tmp_path):
    path = tmp_path / "corrections.csv"
    path.write_text("id,new_label\n101,1\n")
    with pytest.raises(CorrectionsError, match="missing column"):
        read_corrections(path)


# -------------------------------------------------------------------------- report


def test_report_and_suspects_csv(tmp_path, noisy_problem):
    # given suspects, a conflict table and applied-correction counts
    suspects = noisy_problem["suspects"]
    conflicts = pd.DataFrame({"id": [1, 2, 3], "duplicate_group": [0, 0, 1], "y": [0, 1, 1]})
    # when
    report = label_quality_report(
        noisy_problem["y_noisy"], suspects, conflicts=conflicts, corrections={"excluded": 2}
    )
    written = write_suspects_csv(suspects, tmp_path / "reports" / "suspects.csv")
    # then counts add up and the CSV round-trips ids in ranked order
    assert report["n_rows"] == N_ROWS
    assert sum(report["class_counts"].values()) == N_ROWS
    assert report["n_suspected"] == len(suspects)
    assert sum(report["suspected_by_given_label"].values()) == len(suspects)
    assert report["suspected_fraction"] == pytest.approx(len(suspects) / N_ROWS)
    assert (report["n_conflicting_rows"], report["n_conflict_groups"]) == (3, 2)
    assert report["corrections"] == {"excluded": 2}
    assert pd.read_csv(written)["id"].tolist() == suspects["id"].tolist()
    # and the atomic write left no temporary file next to it
    assert [p.name for p in written.parent.iterdir()] == ["suspects.csv"]
