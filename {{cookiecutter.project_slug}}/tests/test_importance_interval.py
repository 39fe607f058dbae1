"""The permutation importance's 95% interval: the DeLong interval of the drop in AUC.

Checked against the metrics engine's paired DeLong (one repeat), DeLong's definition from the
pairwise kernel (several repeats) and a paired row bootstrap.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.core.settings import ModelSettings, PermutationImportanceSettings
from {{ cookiecutter.package_name }}.data import synthetic
from {{ cookiecutter.package_name }}.data.dataset import model_inputs
from {{ cookiecutter.package_name }}.data.spec import get_spec
from {{ cookiecutter.package_name }}.metrics.compare import paired_delong
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.modelling.models import build_pipeline
from {{ cookiecutter.package_name }}.modelling.training import drop_interval, importance

Z95 = 1.959963984540054


def _scores(n=600, repeats=3, seed=0):
    """Labels, a score with signal, and ``repeats`` weaker scores (as if a feature were permuted);
    scores are rounded so that ties occur."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    signal = rng.normal(size=n) + y
    p = np.round(1 / (1 + np.exp(-signal)), 2)
    permuted = [np.round(1 / (1 + np.exp(-(signal + rng.normal(scale=1.0, size=n)))), 2)
                for _ in range(repeats)]
    return y, p, permuted


def _kernel_placements(y, scores):
    """DeLong's placement values from the definition: psi(x, z) = 1 if x > z, 1/2 if equal."""
    pos, neg = scores[y == 1], scores[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def test_one_repeat_is_the_engines_paired_delong():
    # given a score and one permuted copy on the same rows
    y, p, permuted = _scores(repeats=1)
    # when the drop's interval is computed
    se, half = drop_interval(y, p, permuted)
    # then it is the paired DeLong interval of the AUC difference
    reference = paired_delong(SortedScores.build(y, p), SortedScores.build(y, permuted[0]), y)
    drop = roc_auc_score(y, p) - roc_auc_score(y, permuted[0])
    assert se == pytest.approx(reference["se"], rel=1e-12)
    assert drop - half == pytest.approx(reference["lo"], abs=1e-12)
    assert drop + half == pytest.approx(reference["hi"], abs=1e-12)
    assert half == pytest.approx(Z95 * se, rel=1e-12)


def test_several_repeats_give_delongs_variance_of_the_contrast():
    # given a score and three permuted copies
    y, p, permuted = _scores(repeats=3)
    # when the interval of the mean drop is computed
    se, _ = drop_interval(y, p, permuted)
    # then it is DeLong's variance of the contrast AUC(p) - mean AUC(permuted), from the kernel
    v10, v01 = _kernel_placements(y, p)
    for scores in permuted:
        w10, w01 = _kernel_placements(y, scores)
        v10, v01 = v10 - w10 / 3, v01 - w01 / 3
    expected = np.sqrt(v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01))
    assert se == pytest.approx(expected, rel=1e-10)


def test_standard_error_agrees_with_a_paired_row_bootstrap():
    # given 2,000 rows, a score and two permuted copies
    y, p, permuted = _scores(n=2_000, repeats=2, seed=5)
    se, _ = drop_interval(y, p, permuted)
    # when the rows are resampled (the same rows for every score) 2,000 times
    rng = np.random.default_rng(1)
    drops = []
    for _ in range(2_000):
        rows = rng.integers(0, len(y), len(y))
        drops.append(roc_auc_score(y[rows], p[rows])
                     - np.mean([roc_auc_score(y[rows], q[rows]) for q in permuted]))
    # then the bootstrap's standard error is DeLong's within 10% (its own error is about 2%)
    assert np.std(drops, ddof=1) == pytest.approx(se, rel=0.10)


def test_importance_table_has_the_interval_around_the_estimate(settings):
    # given a fitted pipeline and validation rows
    data, _ = synthetic.generate(n=3_000, seed=3)
    spec = get_spec(settings.data, data)
    schema = {"numeric": list(spec.numeric), "categorical": list(spec.categorical)}
    X, y = model_inputs(data, schema), data[spec.target].to_numpy()
    model = build_pipeline(schema["numeric"], schema["categorical"],
                           settings.prepare.preprocessing,
                           ModelSettings(name="logistic_regression", params={"max_iter": 500}))
    model.fit(X.iloc[:2_000], y[:2_000])
    # when the importance is computed
    table = importance(model, X.iloc[2_000:], y[2_000:],
                       PermutationImportanceSettings(n_repeats=3, max_rows=5_000), seed=0)
    # then each row has lo <= importance <= hi, symmetric, and the top feature's interval
    # excludes 0 (age drives the synthetic risk)
    assert list(table.columns) == ["feature", "importance", "std", "lo", "hi"]
    assert (table["lo"] <= table["importance"]).all() and (table["importance"] <= table["hi"]).all()
    np.testing.assert_allclose(table["hi"] - table["importance"], table["importance"] - table["lo"])
    assert table["lo"].iloc[0] > 0
