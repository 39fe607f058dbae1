"""The engine's in-place rewrites give the textbook expressions' values, and its first call in a
process imports nothing (the speed and memory work of the cold engine must not change a result).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics.calibration import CLIP_EPS, clipped_logit
from {{ cookiecutter.package_name }}.metrics.discrimination import (
    average_precision_from_counts,
    delong_from_counts,
)
from {{ cookiecutter.package_name }}.metrics.fairness import encode_groups
from {{ cookiecutter.package_name }}.metrics.logistic import _log_likelihood
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores


def textbook_delong(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong AUC and variance from level counts, written as plain expressions."""
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    m = pos.sum(axis=-1, keepdims=True)
    n = neg.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (np.cumsum(neg, axis=-1) - 0.5 * neg) / n
        v01 = (m - np.cumsum(pos, axis=-1) + 0.5 * pos) / m
        auc = (pos * v10).sum(axis=-1, keepdims=True) / m
        s10 = (pos * (v10 - auc) ** 2).sum(axis=-1, keepdims=True) / (m - 1.0)
        s01 = (neg * (v01 - auc) ** 2).sum(axis=-1, keepdims=True) / (n - 1.0)
        variance = s10 / m + s01 / n
    return auc[..., 0], variance[..., 0]


def textbook_ap(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Average precision from level counts, written as plain expressions."""
    pos = np.asarray(pos, dtype=np.float64)[..., ::-1]
    neg = np.asarray(neg, dtype=np.float64)[..., ::-1]
    tp = np.cumsum(pos, axis=-1)
    predicted = tp + np.cumsum(neg, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        return (pos * precision).sum(axis=-1) / pos.sum(axis=-1)


def level_counts(seed: int, levels: int, shape: tuple[int, ...] = ()) -> tuple[np.ndarray, ...]:
    """Positive and negative counts per level, with empty levels, as int32."""
    rng = np.random.default_rng(seed)
    pos = rng.poisson(0.7, (*shape, levels)).astype(np.int32)
    neg = rng.poisson(1.5, (*shape, levels)).astype(np.int32)
    return pos, neg


@pytest.mark.parametrize("shape", [(), (3,), (4, 2)])
def test_delong_from_counts_equals_the_textbook_expressions_exactly(shape):
    # Given integer level counts (1-d, and stacked as the slices and the bootstrap pass them)
    pos, neg = level_counts(1, 5000, shape)
    # When the in-place DeLong runs on the integers and on float copies
    auc, variance = delong_from_counts(pos, neg)
    auc_f, variance_f = delong_from_counts(pos.astype(np.float64), neg.astype(np.float64))
    # Then every value is bit for bit the textbook one
    expected_auc, expected_variance = textbook_delong(pos, neg)
    np.testing.assert_array_equal(auc, expected_auc)
    np.testing.assert_array_equal(variance, expected_variance)
    np.testing.assert_array_equal(auc_f, expected_auc)
    np.testing.assert_array_equal(variance_f, expected_variance)


def test_delong_from_counts_keeps_fractional_weights_and_nan_without_a_class():
    # Given fractional weights and a row without positives
    rng = np.random.default_rng(2)
    pos = rng.random((3, 400))
    neg = rng.random((3, 400))
    pos[1] = 0.0
    # When DeLong runs
    auc, variance = delong_from_counts(pos, neg)
    # Then it equals the textbook values, NaN where a class is absent
    expected_auc, expected_variance = textbook_delong(pos, neg)
    np.testing.assert_array_equal(auc, expected_auc)
    np.testing.assert_array_equal(variance, expected_variance)
    assert np.isnan(auc[1])


@pytest.mark.parametrize("shape", [(), (5,)])
def test_average_precision_from_counts_equals_the_textbook_expressions_exactly(shape):
    # Given level counts whose highest levels hold no rows (nothing predicted there)
    pos, neg = level_counts(3, 3000, shape)
    pos[..., -20:] = 0
    neg[..., -20:] = 0
    # When AP runs on the integers and on a strided float view (as the bootstrap passes it)
    weights = np.stack((neg, pos), axis=-2).astype(np.float64)
    ap = average_precision_from_counts(pos, neg)
    ap_view = average_precision_from_counts(weights[..., 1, :], weights[..., 0, :])
    # Then both are bit for bit the textbook values
    expected = textbook_ap(pos, neg)
    np.testing.assert_array_equal(ap, expected)
    np.testing.assert_array_equal(ap_view, expected)


def test_log_likelihood_matches_logaddexp_to_rounding():
    # Given linear predictors from moderate to extreme, fractional outcomes and weights
    rng = np.random.default_rng(4)
    eta = np.concatenate((rng.normal(0.0, 3.0, 10_000), [-800.0, -40.0, 0.0, 40.0, 800.0]))
    n = int(eta.shape[0])
    y = rng.random(n)
    every_weighting: list[np.ndarray | None] = [None, rng.integers(1, 9, n).astype(np.float64)]
    buffers = np.empty(n), np.empty(n)
    for w in every_weighting:
        # When the vectorised log-likelihood is computed
        value = _log_likelihood(y, eta, w, *buffers)
        # Then it agrees with logaddexp far inside the step-halving tolerance (1e-12)
        terms = y * eta - np.logaddexp(0.0, eta)
        expected = float((terms if w is None else terms * w).sum())
        assert value == pytest.approx(expected, rel=1e-14)


def test_log_likelihood_is_minus_infinity_or_nan_where_logaddexp_is():
    # Given infinite linear predictors
    eta = np.array([np.inf, -np.inf])
    for y in (np.array([0.0, 1.0]), np.array([1.0, 0.0])):
        with np.errstate(invalid="ignore"):  # 0 * inf and inf - inf, as in logaddexp's use
            # When the log-likelihood is computed
            value = _log_likelihood(y, eta, None, np.empty(2), np.empty(2))
            # Then it is what logaddexp gives (same NaN or infinity)
            expected = float((y * eta - np.logaddexp(0.0, eta)).sum())
        np.testing.assert_equal(value, expected)


def test_counts_at_or_above_one_threshold_equals_the_vectorised_path():
    # Given tied scores (levels of several rows) and thresholds at, between and beyond them
    rng = np.random.default_rng(5)
    p = np.round(rng.random(2000), 2)
    y = (rng.random(2000) < p).astype(np.int8)
    scores = SortedScores.build(y, p)
    grid = np.concatenate(([-1.0, 0.0, 0.005, 0.5, 0.505, 1.0, 2.0], np.unique(p)))
    # When each threshold is counted alone and all together
    tp_all, fp_all = scores.counts_at_or_above(grid)
    for threshold, tp_expected, fp_expected in zip(grid, tp_all, fp_all, strict=True):
        tp, fp = scores.counts_at_or_above(float(threshold))
        # Then the counts agree with each other and with a direct count over the rows
        assert (int(tp), int(fp)) == (int(tp_expected), int(fp_expected))
        assert int(tp) == int(((p >= threshold) & (y == 1)).sum())
        assert int(fp) == int(((p >= threshold) & (y == 0)).sum())


def test_counts_at_or_above_on_no_rows_is_zero():
    # Given no rows
    empty = SortedScores.from_sorted(np.zeros(0), np.zeros(0, dtype=np.int8))
    # When counted at a threshold
    tp, fp = empty.counts_at_or_above(0.5)
    # Then nothing is above it
    assert (int(tp), int(fp)) == (0, 0)


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_sorted_scores_levels_equal_the_unique_counts(n):
    # Given sorted scores with ties
    rng = np.random.default_rng(n)
    scores = np.sort(np.round(rng.random(n), 1))
    labels = (rng.random(n) < 0.4).astype(np.int8)
    # When the levels are built
    sorted_scores = SortedScores.from_sorted(scores, labels)
    # Then starts, positives and negatives are those of np.unique
    values, starts, sizes = np.unique(scores, return_index=True, return_counts=True)
    positives = np.add.reduceat(labels.astype(np.int64), starts)
    np.testing.assert_array_equal(sorted_scores.level_starts, starts)
    np.testing.assert_array_equal(sorted_scores.level_values, values)
    np.testing.assert_array_equal(sorted_scores.pos, positives)
    np.testing.assert_array_equal(sorted_scores.neg, sizes - positives)


def test_clipped_logit_equals_the_textbook_expression_exactly():
    # Given probabilities including exact 0 and 1
    p = np.concatenate((np.random.default_rng(6).random(1000), [0.0, 1.0, CLIP_EPS / 2]))
    # When the logit is taken
    value = clipped_logit(p)
    # Then it is bit for bit log(c / (1 - c)) of the clipped values
    clipped = np.clip(p, CLIP_EPS, 1.0 - CLIP_EPS)
    np.testing.assert_array_equal(value, np.log(clipped / (1.0 - clipped)))


def test_group_codes_are_one_byte_and_missing_is_the_last_group():
    # Given labels with a missing value
    values = np.array(["b", None, "a", "b"], dtype=object)
    # When encoded
    codes, labels = encode_groups(values, "attr", 4)
    # Then codes are compact, sorted labels first and missing last
    assert codes.dtype == np.uint8
    assert labels == ["a", "b", "(missing)"]
    np.testing.assert_array_equal(codes, [1, 2, 0, 1])


def test_first_call_in_a_fresh_process_imports_no_module():
    # Given a fresh interpreter that has imported the engine and made numpy-only inputs
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary\n"
        "rng = np.random.default_rng(0)\n"
        "p = rng.random(5000)\n"
        "y = (rng.random(5000) < p).astype(np.int8)\n"
        "groups = {'g': rng.choice(np.array(['a', 'b', 'c']), 5000)}\n"
        "before = set(sys.modules)\n"
        "evaluate_binary(y, p, threshold=0.5, groups=groups, n_bootstrap=20)\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    # When the first evaluation runs
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    # Then it imported nothing: first-call import costs are paid at import time
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
