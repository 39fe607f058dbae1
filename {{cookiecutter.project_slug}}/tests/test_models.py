"""Model settings that depend on the data size adapt to small tables, and a constant is seen."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from {{ cookiecutter.package_name }}.core.settings import ModelSettings
from {{ cookiecutter.package_name }}.modelling.models import (
    EARLY_STOPPING_AUTO_ROWS,
    adapt_to_size,
    build_estimator,
    constant_predictions,
    describe_adaptations,
)

HGB = ModelSettings(name="hist_gradient_boosting",
                    params={"max_iter": 300, "min_samples_leaf": 50, "early_stopping": "auto"})
RF = ModelSettings(name="random_forest", params={"n_estimators": 50, "min_samples_leaf": 20})


def _used(adapted, param):
    return {a["param"]: a["used"] for a in adapted}.get(param)


def test_small_table_caps_the_leaf_and_turns_early_stopping_off():
    # given the default boosting settings and 87 training rows (a 150-row table's train split)
    # when the settings adapt to the size
    cfg, adapted = adapt_to_size(HGB, 87)
    # then a leaf may hold at most 10% of the rows, early stopping is off, and both are said
    assert cfg.params["min_samples_leaf"] == 8
    assert cfg.params["early_stopping"] is False
    assert {a["param"] for a in adapted} == {"min_samples_leaf", "early_stopping"}
    text = describe_adaptations(adapted)
    assert text["min_samples_leaf"].startswith("50 -> 8: ")
    assert "87 training rows" in text["min_samples_leaf"]
    assert text["early_stopping"].startswith("auto -> false: ")


def test_large_table_keeps_the_configured_leaf_and_stops_early():
    # given the default boosting settings and 20,000 training rows
    # when the settings adapt to the size
    cfg, adapted = adapt_to_size(HGB, 20_000)
    # then the leaf is unchanged and "auto" resolves to early stopping on
    assert cfg.params["min_samples_leaf"] == 50
    assert cfg.params["early_stopping"] is True
    assert [a["param"] for a in adapted] == ["early_stopping"]


@pytest.mark.parametrize("n_rows", [EARLY_STOPPING_AUTO_ROWS, EARLY_STOPPING_AUTO_ROWS + 1])
def test_auto_early_stopping_is_scikit_learns_rule(n_rows):
    # given "auto" and a table at either side of scikit-learn's threshold
    X, y = make_classification(n_samples=n_rows, n_features=3, n_informative=2,
                               n_redundant=0, random_state=0)
    # when scikit-learn resolves "auto" itself on a fit, and adapt_to_size resolves it
    fitted = HistGradientBoostingClassifier(early_stopping="auto", max_iter=2).fit(X, y)
    cfg, _ = adapt_to_size(HGB, n_rows)
    # then both decide the same
    assert cfg.params["early_stopping"] is bool(fitted.do_early_stopping_)


@pytest.mark.parametrize(("n_rows", "kept"), [(1000, True), (990, False)])
def test_explicit_early_stopping_needs_100_validation_rows(n_rows, kept):
    # given early_stopping: true (an internal 10% validation split)
    model = ModelSettings(name="hist_gradient_boosting", params={"early_stopping": True})
    # when the settings adapt to 1,000 rows (100 held out) or 990 rows (99 held out)
    cfg, adapted = adapt_to_size(model, n_rows)
    # then it is kept only when the held-out rows reach 100
    assert cfg.params["early_stopping"] is kept
    assert (adapted == []) is kept


def test_random_forest_leaf_is_capped_but_a_fraction_is_left_alone():
    # given a forest with 20 rows per leaf, and one whose leaves are a fraction of the rows
    fraction = ModelSettings(name="random_forest", params={"min_samples_leaf": 0.05})
    # when both adapt to 87 rows
    capped, adapted = adapt_to_size(RF, 87)
    kept, none = adapt_to_size(fraction, 87)
    # then the count is capped at 8 and the fraction (already relative to the rows) is not
    assert capped.params["min_samples_leaf"] == 8 and _used(adapted, "min_samples_leaf") == 8
    assert kept.params["min_samples_leaf"] == 0.05 and none == []


def test_logistic_regression_and_the_input_config_are_untouched():
    # given a logistic regression config, and the boosting config
    logistic = ModelSettings(name="logistic_regression", params={"C": 1.0})
    before = HGB.model_copy(update={"params": dict(HGB.params)})
    # when both adapt to a tiny table
    cfg, adapted = adapt_to_size(logistic, 20)
    adapt_to_size(HGB, 20)
    # then nothing about the logistic regression depends on size, and inputs are not modified
    assert cfg == logistic and adapted == []
    assert before == HGB


def test_a_tiny_table_still_allows_a_leaf_of_one_row():
    # given 5 training rows; when adapted; then the leaf is 1 row, never 0
    cfg, _ = adapt_to_size(RF, 5)
    assert cfg.params["min_samples_leaf"] == 1


def test_adapted_boosting_learns_where_the_configured_one_predicts_a_constant():
    # given 87 training rows with signal
    X, y = make_classification(n_samples=150, n_features=5, n_informative=3, random_state=1)
    X_train, y_train, X_new = X[:87], y[:87], X[87:]
    # when the configured and the adapted settings are fitted
    configured = build_estimator(
        HGB.model_copy(update={"params": {**HGB.params, "early_stopping": True}}), 0)
    adapted = build_estimator(adapt_to_size(HGB, 87)[0], 0)
    p_configured = configured.fit(X_train, y_train).predict_proba(X_new)[:, 1]
    p_adapted = adapted.fit(X_train, y_train).predict_proba(X_new)[:, 1]
    # then the configured leaf of 50 rows forbids every split: one probability for every row;
    # the adapted model ranks the new rows
    assert constant_predictions({"new": p_configured})["constant"]
    assert not constant_predictions({"new": p_adapted})["constant"]


def test_constant_predictions_on_any_split_are_flagged_with_their_value():
    # given varying validation probabilities and a test split where every row gets 0.28 (up to
    # floating-point noise)
    p_valid = np.linspace(0.1, 0.9, 20)
    p_test = np.full(10, 0.28) + np.arange(10) * 1e-15
    # when checked
    finding = constant_predictions({"valid": p_valid, "test": p_test})
    # then the model is said to predict a constant, with the distinct counts and the value
    assert finding == {"constant": True, "valid": 20, "test": 1,
                       "value": pytest.approx(0.28)}


def test_two_distinct_probabilities_are_not_a_constant():
    # given a model that gives one of two probabilities; when checked; then it is not constant
    finding = constant_predictions({"valid": np.array([0.2, 0.7, 0.2]), "test": [0.7, 0.2]})
    assert not finding["constant"] and finding["value"] is None


def test_an_empty_split_does_not_make_a_model_constant():
    # given no rows in one split and varying probabilities in the other
    # when checked; then nothing is called constant
    finding = constant_predictions({"valid": np.array([]), "test": np.array([0.2, 0.6])})
    assert finding == {"constant": False, "valid": 0, "test": 2, "value": None}
