"""The preprocessing pipeline: imputation with indicators, and unseen categories at scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import ModelSettings, PreprocessingSettings
from {{ cookiecutter.package_name }}.modelling.models import build_pipeline

PREP = PreprocessingSettings(numeric_imputation="median", missing_indicators=True,
                             scaling="standard", rare_category_share=0.0, log1p_columns=["x"])
LOGISTIC = ModelSettings(name="logistic_regression", params={})


def frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 1.0, n)
    x[rng.random(n) < 0.1] = np.nan
    colour = rng.choice(["red", "blue"], n).astype(object)
    y = (rng.random(n) < 1 / (1 + np.exp(-(np.nan_to_num(x) - 2)))).astype(int)
    return pd.DataFrame({"x": x, "colour": colour}), y


def test_unseen_category_and_missing_values_are_scored():
    # given a pipeline fitted on two colours with missing x
    X, y = frame(500, 0)
    model = build_pipeline(["x"], ["colour"], PREP, LOGISTIC)
    model.fit(X, y)
    # when scoring a colour never seen and a missing value
    new = pd.DataFrame({"x": [np.nan, 1.0], "colour": ["green", None]})
    p = model.predict_proba(new)[:, 1]
    # then probabilities come out, finite
    assert np.isfinite(p).all() and ((p > 0) & (p < 1)).all()


def test_missing_indicator_is_a_feature():
    X, y = frame(200, 1)
    model = build_pipeline(["x"], ["colour"], PREP, LOGISTIC)
    model.fit(X, y)
    names = list(model[:-1].get_feature_names_out())
    assert any("missingindicator" in n for n in names), names


def test_log1p_of_an_unknown_column_is_a_clear_error():
    with pytest.raises(ConfigError, match="log1p_columns"):
        build_pipeline(["x"], [], PREP.model_copy(update={"log1p_columns": ["y"]}), LOGISTIC)
