"""Discrimination metrics against scikit-learn and a direct O(n^2) DeLong computation."""

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from {{ cookiecutter.package_name }}.metrics.discrimination import (
    auc_delong,
    average_precision,
    average_precision_from_counts,
    delong_from_counts,
    downsample_curve,
    pr_points,
    roc_points,
)
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.metrics.table import CellTable, make_score_bins


def _data(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 3, n)
    if ties:
        p = np.round(p, 2)  # many tied scores
    y = (rng.random(n) < p).astype(int)
    return y, p


def _delong_direct(y, p):
    """DeLong et al. (1988) by definition: every positive-negative pair, O(m * n)."""
    x, z = p[y == 1], p[y == 0]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / x.size + v01.var(ddof=1) / z.size


@pytest.mark.parametrize("ties", [False, True])
def test_auc_and_delong_variance_match_definitions(ties):
    # given small data, with and without tied scores
    y, p = _data(300, seed=1, ties=ties)
    # when the fast midrank DeLong runs
    result = auc_delong(SortedScores.build(y, p))
    # then AUC equals scikit-learn and the variance equals the pairwise computation
    auc_direct, var_direct = _delong_direct(y, p)
    assert result["estimate"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert result["estimate"] == pytest.approx(auc_direct, abs=1e-12)
    assert result["se"] ** 2 == pytest.approx(var_direct, rel=1e-10)
    assert result["lo"] == pytest.approx(auc_direct - 1.959964 * np.sqrt(var_direct), abs=1e-6)


def test_delong_from_counts_is_vectorised_over_strata():
    # given two strata stacked along a leading axis
    y1, p1 = _data(200, seed=2, ties=True)
    y2, p2 = _data(150, seed=3, ties=True)
    levels = np.unique(np.concatenate((p1, p2)))
    pos = np.stack(
        [
            np.bincount(np.searchsorted(levels, p[y == 1]), minlength=levels.size)
            for y, p in ((y1, p1), (y2, p2))
        ]
    )
    neg = np.stack(
        [
            np.bincount(np.searchsorted(levels, p[y == 0]), minlength=levels.size)
            for y, p in ((y1, p1), (y2, p2))
        ]
    )
    # when AUC is computed for both at once
    auc, variance = delong_from_counts(pos, neg)
    # then each equals its own direct computation
    for index, (y, p) in enumerate(((y1, p1), (y2, p2))):
        auc_direct, var_direct = _delong_direct(y, p)
        assert auc[index] == pytest.approx(auc_direct, abs=1e-12)
        assert variance[index] == pytest.approx(var_direct, rel=1e-10)


@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_matches_sklearn(ties):
    # given data with or without ties
    y, p = _data(2000, seed=4, ties=ties)
    # when / then AP follows scikit-learn's definition exactly
    assert average_precision(SortedScores.build(y, p)) == pytest.approx(
        average_precision_score(y, p), abs=1e-12
    )


def test_roc_points_are_sklearn_roc_curve_without_dropping():
    # given tied scores
    y, p = _data(500, seed=5, ties=True)
    # when all ROC points are computed
    points = roc_points(SortedScores.build(y, p))
    # then they equal roc_curve(drop_intermediate=False)
    fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=False)
    np.testing.assert_allclose(points["fpr"], fpr)
    np.testing.assert_allclose(points["tpr"], tpr)
    np.testing.assert_allclose(points["thresholds"][1:], thresholds[1:])
    assert np.isinf(points["thresholds"][0])


def test_pr_points_match_sklearn_precision_recall_curve():
    # given tied scores
    y, p = _data(500, seed=6, ties=True)
    # when the PR points are computed
    points = pr_points(SortedScores.build(y, p))
    # then reversed they equal scikit-learn's curve (which ends at precision 1, recall 0)
    precision, recall, thresholds = precision_recall_curve(y, p)
    np.testing.assert_allclose(points["precision"], precision[::-1])
    np.testing.assert_allclose(points["recall"], recall[::-1])
    np.testing.assert_allclose(points["thresholds"][1:], thresholds[::-1])


def test_downsampled_curve_keeps_ends_and_stays_on_the_curve():
    # given a ROC curve with ~10,000 points
    y, p = _data(20_000, seed=7)
    points = roc_points(SortedScores.build(y, p))
    # when it is down-sampled to 200 points
    keep = downsample_curve(points["fpr"], points["tpr"], 200)
    # then at most 200 original points remain, including both ends
    assert 150 <= keep.size <= 200
    assert keep[0] == 0 and keep[-1] == points["fpr"].size - 1
    assert np.all(np.diff(keep) > 0)
    # and linear interpolation between kept points stays within 0.01 of every original point
    interpolated = np.interp(points["fpr"], points["fpr"][keep], points["tpr"][keep])
    assert np.max(np.abs(interpolated - points["tpr"])) < 0.01


@pytest.mark.parametrize(("a", "b"), [(2.0, 5.0), (0.1, 10.0)])
def test_binned_auc_and_ap_error_is_negligible_at_2000_bins(a, b):
    # given 200,000 continuous scores, with common (29%) or rare (1%) positives
    rng = np.random.default_rng(8)
    p = rng.beta(a, b, 200_000)
    y = (rng.random(p.size) < p).astype(np.int8)
    scores = SortedScores.build(y, p)
    # when AUC and AP are computed from the 2,000-bin cell table (half the bins by positives)
    bins = make_score_bins(scores.scores, 2000, labels_sorted=scores.labels)
    table = CellTable.from_sorted(scores.scores, scores.labels, bins)
    auc_binned, _ = delong_from_counts(table.count[1], table.count[0])
    ap_binned = average_precision_from_counts(table.count[1], table.count[0])
    # then they are within 1e-4 (AUC) and 6e-4 (AP) of the exact values, far below their SEs
    assert abs(auc_binned - roc_auc_score(y, p)) < 1e-4
    assert abs(ap_binned - average_precision_score(y, p)) < 6e-4
