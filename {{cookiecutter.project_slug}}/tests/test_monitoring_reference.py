"""Reference profile: content, KS sketch accuracy, JSON round trip, input errors."""

import json

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.monitoring.reference import (
    ProfileError,
    build_reference,
    ks_sketch,
    load_reference,
    save_reference,
)


def _reference_data(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    X.loc[rng.random(n) < 0.05, "x"] = np.nan
    X["colour"] = rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2])
    logit = 1.5 * X["x"].fillna(0).to_numpy() + (X["colour"] == "red").to_numpy() - 1.0
    p = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random(n) < p).astype(float)
    return X, p, y


def test_numeric_profile_holds_deciles_shares_and_missing_share():
    # given a numeric feature with 5 % missing values
    X, p, y = _reference_data()
    # when the reference is built
    ref = build_reference(X, p, y, numeric=["x", "noise"], categorical=["colour"])
    x = ref["features"]["x"]
    present = X["x"].dropna().to_numpy()
    # then the edges are the interior deciles of the present values
    np.testing.assert_allclose(x["edges"], np.quantile(present, np.arange(1, 10) / 10))
    # and the bin shares (of all rows) are ~ 1/10 of the present share, missing share separate
    assert x["missing_share"] == pytest.approx(X["x"].isna().mean())
    np.testing.assert_allclose(x["bin_shares"], (1 - x["missing_share"]) / 10, atol=1e-3)
    assert sum(x["bin_shares"]) + x["missing_share"] == pytest.approx(1.0)
    assert x["mean"] == pytest.approx(present.mean())
    assert x["std"] == pytest.approx(present.std(ddof=1))
    assert x["n_present"] == present.size


def test_categorical_profile_counts_and_shares():
    # given a categorical feature with one missing value
    X, p, _ = _reference_data(n=1000)
    X.loc[0, "colour"] = None
    # when the reference is built without labels
    ref = build_reference(X, p, None, numeric=["x"], categorical=["colour"])
    colour = ref["features"]["colour"]
    # then counts match pandas and shares are relative to all rows
    assert colour["counts"] == X["colour"].value_counts().to_dict()
    assert colour["n_missing"] == 1
    assert colour["shares"]["red"] == pytest.approx((X["colour"] == "red").mean())
    assert "observed" not in ref["performance"]


def test_integer_categories_match_after_float_conversion():
    # given an integer-coded categorical that turns float once a value is missing
    X = pd.DataFrame({"code": np.array([1, 2, 2, 3] * 50)})
    p = np.full(len(X), 0.3)
    # when profiled
    ref = build_reference(X, p, None, numeric=[], categorical=["code"])
    # then categories are written as "1", "2", "3" (no ".0"), matching a float batch later
    assert set(ref["features"]["code"]["counts"]) == {"1", "2", "3"}


def test_reference_performance_and_importance():
    # given labels and a prediction driven by x and colour, not by noise
    X, p, y = _reference_data(n=20000)
    # when the reference is built
    ref = build_reference(X, p, y, numeric=["x", "noise"], categorical=["colour"])
    obs = ref["performance"]["observed"]
    # then performance matches a direct computation
    assert obs["prevalence"] == pytest.approx(y.mean())
    assert obs["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert obs["mean_predicted"] == pytest.approx(p.mean())
    # and the label-free importance ranks x first and noise near zero
    imp = {k: v["importance"] for k, v in ref["features"].items()}
    assert imp["x"] > imp["colour"] > 0.05 > 0.005 > imp["noise"]


def test_sketch_ecdf_within_half_over_m_of_full_ecdf():
    # given 20,000 values with ties, sketched to m = 500 values
    rng = np.random.default_rng(3)
    values = np.sort(np.round(rng.gamma(2.0, size=20000), 2))
    m = 500
    sketch = ks_sketch(values, m)
    # when both step ECDFs are evaluated at every observed value
    grid = np.unique(values)
    full = np.searchsorted(values, grid, side="right") / values.size
    approx = np.searchsorted(sketch, grid, side="right") / m
    # then they differ by at most 1 / (2 m), the documented bound
    assert sketch.size == m
    assert np.max(np.abs(full - approx)) <= 0.5 / m + 1e-12
    # and a sample smaller than the sketch is stored whole
    np.testing.assert_array_equal(ks_sketch(values[:300], m), values[:300])


def test_json_round_trip(tmp_path):
    # given a reference
    X, p, y = _reference_data(n=3000)
    ref = build_reference(X, p, y, numeric=["x", "noise"], categorical=["colour"])
    # when saved and loaded
    path = save_reference(ref, tmp_path / "sub" / "reference.json")
    loaded = load_reference(path)
    # then it is identical and strict JSON (no NaN)
    assert loaded == json.loads(json.dumps(ref))
    assert "NaN" not in path.read_text()
    # and a reference holding NaN is refused without touching the saved file
    with pytest.raises(ValueError, match="JSON compliant"):
        save_reference({**ref, "n": float("nan")}, path)
    assert load_reference(path) == loaded
    assert [p.name for p in path.parent.iterdir()] == ["reference.json"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numeric": ["x", "absent"], "categorical": []}, "absent"),
        ({"numeric": ["colour"], "categorical": []}, "colour"),
        ({"numeric": ["x"], "categorical": ["x"]}, "both numeric and categorical"),
    ],
)
def test_bad_feature_lists_raise_clear_errors(kwargs, message):
    # given reference data and an inconsistent feature declaration
    X, p, y = _reference_data(n=200)
    # when / then building fails naming the column
    with pytest.raises(ProfileError, match=message):
        build_reference(X, p, y, **kwargs)


def test_bad_predictions_labels_and_files_raise(tmp_path):
    # given reference data
    X, p, y = _reference_data(n=200)
    # when predictions are outside [0, 1], misaligned, or labels are not 0/1, then it fails
    with pytest.raises(ProfileError, match="'p'"):
        build_reference(X, p * 2, y, numeric=["x"], categorical=[])
    with pytest.raises(ProfileError, match="'p'"):
        build_reference(X, p[:-1], y, numeric=["x"], categorical=[])
    with pytest.raises(ProfileError, match="0/1"):
        build_reference(X, p, y * 2, numeric=["x"], categorical=[])
    # and loading a missing or foreign file fails naming it
    with pytest.raises(ProfileError, match="not found"):
        load_reference(tmp_path / "none.json")
    (tmp_path / "old.json").write_text('{"format_version": 0}')
    with pytest.raises(ProfileError, match="format_version"):
        load_reference(tmp_path / "old.json")
