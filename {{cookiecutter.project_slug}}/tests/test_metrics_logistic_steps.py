"""Newton's method with step-halving reaches slopes far from its start."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.metrics.calibration import calibration_intercept_slope, clipped_logit
from {{ cookiecutter.package_name }}.metrics.logistic import fit_logistic


def _overfit_model(n=5000, seed=0):
    """An overfit model on new data: extreme logits, true calibration slope 0.1."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.0, 3.5, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(-0.5 + 0.1 * logit)))).astype(int)
    return y, 1.0 / (1.0 + np.exp(-logit))


def test_calibration_slope_far_from_one_is_found_and_matches_sklearn():
    # given a model whose calibration slope is 0.1 (a full Newton step from slope 1 overshoots)
    y, p = _overfit_model()
    # when the slope model is fitted (starting at slope 1)
    slope = calibration_intercept_slope(y, p)["slope"]
    # then it converges to the maximum-likelihood slope of an unpenalised sklearn fit (on the
    # same clipped logits)
    x = clipped_logit(p).reshape(-1, 1)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x, y)
    assert slope["estimate"] == pytest.approx(reference.coef_[0, 0], abs=1e-5)
    assert slope["model_intercept"] == pytest.approx(reference.intercept_[0], abs=1e-5)
    assert 0.07 < slope["estimate"] < 0.13


def test_step_halving_leaves_a_fit_that_needs_none_unchanged():
    # given a well-behaved problem started at its usual place
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.3 + 0.8 * x)))).astype(float)
    # when fitted
    fit = fit_logistic([None, x], y)
    # then it converges in a handful of plain Newton steps to the sklearn solution
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x.reshape(-1, 1), y)
    assert fit.converged and fit.n_iter <= 8
    assert fit.coef == pytest.approx([reference.intercept_[0], reference.coef_[0, 0]], abs=1e-6)


def test_separated_labels_still_do_not_converge():
    # given labels perfectly separated by x (the MLE is infinite)
    x = np.linspace(-3, 3, 200)
    y = (x > 0).astype(float)
    # when fitted; then the fit reports no convergence rather than a number
    assert not fit_logistic([None, x], y).converged


@pytest.mark.parametrize("seed", range(20))
def test_small_nearly_separated_groups_converge_where_statsmodels_does(seed):
    # given an 8-row group (a fairness slice) whose labels are nearly separated by the model's
    # logits: the slope fit starts at (0, 1), where a full Newton step can overshoot
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    logit = np.sort(rng.normal(0.0, 2.0, 8))
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1], dtype=float)  # one overlap: the MLE exists
    # when both fit the recalibration model, then ours converges to statsmodels' estimates
    ours = fit_logistic([None, logit], y, start=np.array([0.0, 1.0]))
    reference = sm.Logit(y, sm.add_constant(logit)).fit(disp=0, method="newton", maxiter=100)
    assert ours.converged
    np.testing.assert_allclose(ours.coef, reference.params, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), reference.bse, rtol=1e-5)
