"""The training stage's bounded work: permutation importance and the training-metrics sample.

Permutation importance must give scikit-learn's figures (the same permutations and scores) while
predicting once per feature; the training metrics use every row up to a bound, a sample above.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.core.settings import ModelSettings, PermutationImportanceSettings
from {{ cookiecutter.package_name }}.data import synthetic
from {{ cookiecutter.package_name }}.data.dataset import model_inputs
from {{ cookiecutter.package_name }}.data.spec import get_spec
from {{ cookiecutter.package_name }}.modelling.models import build_pipeline
from {{ cookiecutter.package_name }}.modelling.persistence import positive_probability
from {{ cookiecutter.package_name }}.modelling.training import TRAIN_METRICS_MAX_ROWS, importance, metric_rows


@pytest.fixture(scope="module")
def fitted(settings):
    """A gradient-boosting pipeline fitted on synthetic rows, and 700 other rows to score."""
    data, _ = synthetic.generate(n=3_200, seed=3)
    spec = get_spec(settings.data, data)
    schema = {"numeric": list(spec.numeric), "categorical": list(spec.categorical)}
    X, y = model_inputs(data, schema), data[spec.target].to_numpy()
    model = build_pipeline(schema["numeric"], schema["categorical"],
                           settings.prepare.preprocessing,
                           ModelSettings(name="hist_gradient_boosting",
                                         params={"max_iter": 10, "max_leaf_nodes": 7}), seed=0)
    model.fit(X.iloc[:2_500], y[:2_500])
    return model, X.iloc[2_500:], y[2_500:]


def sklearn_importance(model, X, y, repeats, seed):
    """scikit-learn's own permutation importance (drop in ROC AUC), mean and std per column."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=repeats,
                                    random_state=seed)
    return dict(zip(X.columns, zip(result.importances_mean, result.importances_std,
                                   strict=True), strict=True))


def as_dict(table):
    return {row.feature: (row.importance, row.std) for row in table.itertuples()}


def test_importance_gives_scikit_learns_figures_on_all_rows(fitted):
    # given a fitted pipeline and fewer validation rows than max_rows
    model, X, y = fitted
    cfg = PermutationImportanceSettings(n_repeats=3, max_rows=5_000)
    # when importance is computed with one prediction per feature
    ours = as_dict(importance(model, X, y, cfg, seed=7))
    # then every feature's mean and std are scikit-learn's (the same permutations, same scores)
    theirs = sklearn_importance(model, X, y, repeats=3, seed=7)
    assert ours.keys() == theirs.keys()
    for feature, (mean, std) in theirs.items():
        assert ours[feature] == pytest.approx((mean, std), abs=1e-12), feature


def test_importance_samples_max_rows_as_before(fitted):
    # given more validation rows than max_rows
    model, X, y = fitted
    cfg = PermutationImportanceSettings(n_repeats=2, max_rows=300)
    # when importance is computed
    ours = as_dict(importance(model, X, y, cfg, seed=1))
    # then it is scikit-learn's on the sample X.sample(max_rows, random_state=seed)
    sample = X.sample(n=300, random_state=1)
    y_sample = y[X.index.get_indexer(sample.index)]
    theirs = sklearn_importance(model, sample, y_sample, repeats=2, seed=1)
    for feature, (mean, std) in theirs.items():
        assert ours[feature] == pytest.approx((mean, std), abs=1e-12), feature


def test_importance_reuses_given_predictions_and_logs_progress(fitted, caplog):
    # given the validation predictions already made
    model, X, y = fitted
    cfg = PermutationImportanceSettings(n_repeats=2, max_rows=400)
    p = positive_probability(model, X)
    # when importance is given them
    with caplog.at_level(logging.INFO, logger="{{ cookiecutter.package_name }}.modelling.training"):
        given = importance(model, X, y, cfg, seed=0, p=p)
    # then the figures are those computed without them, and each feature logs a line
    assert as_dict(given) == as_dict(importance(model, X, y, cfg, seed=0))
    progress = [r.getMessage() for r in caplog.records if "importance" in r.getMessage()]
    assert len(progress) == 1 + X.shape[1]
    assert progress[-1].startswith(f"permutation importance {X.shape[1]}/{X.shape[1]}:")


def test_no_repeats_gives_an_empty_table(fitted):
    model, X, y = fitted
    table = importance(model, X, y, PermutationImportanceSettings(n_repeats=0, max_rows=10), 0)
    assert list(table.columns) == ["feature", "importance", "std", "lo", "hi"] and table.empty


def test_training_metrics_use_every_row_up_to_the_bound():
    # given a training split at the bound (the default 12,000 rows are far below it)
    # when the metric rows are chosen, then they are all the rows, in order: figures unchanged
    assert np.array_equal(metric_rows(TRAIN_METRICS_MAX_ROWS, 0), np.arange(TRAIN_METRICS_MAX_ROWS))


def test_training_metrics_sample_above_the_bound():
    # given more training rows than the bound
    n = 3 * TRAIN_METRICS_MAX_ROWS
    # when the metric rows are chosen
    rows = metric_rows(n, seed=5)
    # then the bound's worth of distinct rows in table order, the same for the same seed
    assert len(rows) == TRAIN_METRICS_MAX_ROWS == len(np.unique(rows))
    assert np.all(np.diff(rows) > 0) and rows[-1] < n
    assert np.array_equal(rows, metric_rows(n, seed=5))
    assert not np.array_equal(rows, metric_rows(n, seed=6))
