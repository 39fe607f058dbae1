"""The light transform path gives the full path's numbers, and takes the full path when unsure.

Real rows of the project's synthetic generator, fitted with the project's own preprocessing in
three configurations; compared on held-out rows one by one and in blocks, with missing values,
unseen and rare categories, and the dtypes rows come in (as generated, as MLflow's signature
enforcement gives them, as ``model_inputs`` gives them). Equality is exact: the served numbers
must be the offline ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.settings import PreprocessingSettings
from {{ cookiecutter.package_name }}.data.dataset import model_inputs
from {{ cookiecutter.package_name }}.data.synthetic import generate
from {{ cookiecutter.package_name }}.modelling.features import LIGHT_MAX_ROWS, LightTransform, build_preprocessor

NUMERIC = ["age", "bmi", "systolic_bp", "creatinine", "hba1c", "prior_admissions",
           "length_of_stay"]
CATEGORICAL = ["sex", "insurance", "smoker", "admission_type"]
SCHEMA = {"numeric": NUMERIC, "categorical": CATEGORICAL}

CONFIGS = {
    "shipped": PreprocessingSettings(numeric_imputation="median", missing_indicators=True,
                                     scaling="standard", rare_category_share=0.01,
                                     log1p_columns=[]),
    "log1p, robust": PreprocessingSettings(numeric_imputation="mean", missing_indicators=True,
                                           scaling="robust", rare_category_share=0.05,
                                           log1p_columns=["creatinine", "length_of_stay"]),
    "plain": PreprocessingSettings(numeric_imputation="most_frequent", missing_indicators=False,
                                   scaling="none", rare_category_share=0.0, log1p_columns=[]),
}


def raw_rows(n: int, seed: int) -> pd.DataFrame:
    """Generated rows as they come (float32, int16, category), with missing and rare levels."""
    data, _ = generate(n, seed=seed)
    rng = np.random.default_rng(seed)
    data["smoker"] = data["smoker"].astype(object)
    data.loc[rng.random(n) < 0.03, "smoker"] = None  # missing categories, as a source has them
    data["insurance"] = data["insurance"].astype(object)
    data.loc[rng.random(n) < 0.02, "insurance"] = "charity"  # rare: infrequent at 5 %
    return data


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    """Model inputs of unseen rows, made harder: every kind of value a request can carry."""
    frame = model_inputs(raw_rows(400, seed=11), SCHEMA).reset_index(drop=True)
    frame.loc[0, NUMERIC] = np.nan  # every number missing
    frame.loc[1, CATEGORICAL] = None  # every category missing (None)
    frame.loc[2, "smoker"] = np.nan  # missing as NaN: the imputer fills NaN, not None
    frame.loc[3, "insurance"] = "never-seen"
    frame.loc[4, "admission_type"] = ""
    frame.loc[5, "insurance"] = "charity"
    frame.loc[6, "creatinine"] = -0.0
    frame.loc[7, ["creatinine", "length_of_stay"]] = [-3.0, 0.0]  # clipped by log1p
    frame.loc[8, "age"] = 1e300
    return frame


@pytest.fixture(scope="module", params=list(CONFIGS))
def fitted(request: pytest.FixtureRequest) -> tuple[Any, LightTransform]:
    train = model_inputs(raw_rows(3000, seed=5), SCHEMA)
    preprocessor = build_preprocessor(NUMERIC, CATEGORICAL, CONFIGS[request.param]).fit(train)
    return preprocessor, LightTransform(preprocessor)


def assert_same(preprocessor: Any, light: LightTransform, frame: pd.DataFrame) -> None:
    expected = preprocessor.transform(frame)
    got = light(frame)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    # the sign of a zero too (log1p(-0.0) is -0.0)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_the_fitted_preprocessors_are_ones_the_light_path_knows(fitted):
    preprocessor, _ = fitted
    assert LightTransform.supports(preprocessor)


def test_every_held_out_row_alone_gives_the_full_paths_numbers(fitted, held_out):
    # given a fitted preprocessor and held-out rows with missing, unseen and rare values
    preprocessor, light = fitted
    for i in range(60):
        row = held_out.iloc[[i]]
        # then each row alone takes the light path and gives the full path's numbers
        assert light.takes_light_path(row)
        assert_same(preprocessor, light, row)


@pytest.mark.parametrize("size", [2, 100, 400])
def test_blocks_of_rows_give_the_full_paths_numbers(fitted, held_out, size):
    preprocessor, light = fitted
    assert_same(preprocessor, light, held_out.head(size))


def test_the_rare_and_the_unseen_level_are_encoded_as_the_encoder_does(fitted, held_out):
    # given the rows with a rare level, an unseen one and missing ones
    preprocessor, light = fitted
    rows = held_out.iloc[[1, 2, 3, 4, 5]]
    # then the light path agrees, whether or not the encoder has an infrequent column
    assert_same(preprocessor, light, rows)


def test_integer_columns_take_the_light_path_with_the_same_numbers(fitted, held_out):
    # given counts sent as integers (a signature of type long gives int64)
    preprocessor, light = fitted
    frame = held_out.iloc[9:60].copy()
    frame["prior_admissions"] = frame["prior_admissions"].fillna(0).astype("int64")
    frame["length_of_stay"] = frame["length_of_stay"].fillna(0).astype("int16")
    # then the numbers are the full path's (the light path takes them unless log1p'd)
    assert_same(preprocessor, light, frame)


def test_string_dtype_columns_as_mlflow_gives_them(fitted, held_out):
    # given categorical columns of pandas' string dtype, missing as NaN (MLflow's enforcement)
    preprocessor, light = fitted
    frame = held_out.head(50).copy()
    for column in CATEGORICAL:
        frame[column] = frame[column].astype(pd.StringDtype(na_value=np.nan))
    # then they take the light path and give the same numbers
    assert light.takes_light_path(frame)
    assert_same(preprocessor, light, frame)


def test_rows_as_generated_take_the_full_path_and_so_the_same_numbers(fitted):
    # given rows in the generator's own dtypes: float32 numbers, pandas categories
    preprocessor, light = fitted
    frame = raw_rows(80, seed=23)[NUMERIC + CATEGORICAL]
    # then the light path hands them to the full path (float32 would round differently)
    assert not light.takes_light_path(frame)
    assert_same(preprocessor, light, frame)


@pytest.mark.parametrize("change", ["reordered", "extra column", "float32",
                                    "number in a category", "too many rows"])
def test_frames_it_does_not_know_take_the_full_path(fitted, held_out, change):
    preprocessor, light = fitted
    frame = held_out.head(30).copy()
    if change == "reordered":
        frame = frame[list(reversed(frame.columns))]
    elif change == "extra column":
        frame["note"] = "x"
    elif change == "float32":
        frame["bmi"] = frame["bmi"].astype("float32")
    elif change == "number in a category":
        frame["smoker"] = frame["smoker"].astype(object)
        frame.loc[frame.index[0], "smoker"] = 3
    else:
        frame = pd.concat([held_out] * (LIGHT_MAX_ROWS // len(held_out) + 1), ignore_index=True)
    # then the answer is the full path's, whichever path gave it
    assert_same(preprocessor, light, frame)


@pytest.mark.parametrize("bad", ["infinity", "no rows", "pd.NA"])
def test_what_the_full_path_refuses_is_refused_the_same_way(fitted, held_out, bad):
    preprocessor, light = fitted
    frame = held_out.head(3).copy()
    if bad == "infinity":
        frame.loc[frame.index[1], "age"] = np.inf
    elif bad == "no rows":
        frame = frame.head(0)
    else:  # pandas' string dtype with NA as its missing value: the imputer cannot compare it
        frame["sex"] = frame["sex"].astype("string")
        frame.loc[frame.index[0], "sex"] = pd.NA
    with pytest.raises((ValueError, TypeError)) as full:
        preprocessor.transform(frame)
    with pytest.raises(full.type) as ours:
        light(frame)
    assert str(ours.value) == str(full.value)


def test_a_preprocessor_it_does_not_know_is_refused():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import KBinsDiscretizer

    train = model_inputs(raw_rows(300, seed=2), SCHEMA)
    other = ColumnTransformer([("bins", KBinsDiscretizer(n_bins=3, encode="ordinal"), ["age"])])
    other.fit(train)
    assert not LightTransform.supports(other)
    with pytest.raises(ValueError, match="transform"):
        LightTransform(other)
    # nor a preprocessor asked for pandas output
    shipped = build_preprocessor(NUMERIC, CATEGORICAL, CONFIGS["shipped"]).fit(train)
    assert not LightTransform.supports(shipped.set_output(transform="pandas"))
