"""Tests of the data profile against pandas / scipy, and of the profile plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from {{ cookiecutter.package_name }}.data.profile import plot_profile, profile
from {{ cookiecutter.package_name }}.data.sources import load_breast_cancer
from {{ cookiecutter.package_name }}.data.spec import (
    BREAST_CANCER_SPEC,
    SYNTHETIC_CLINICAL_SPEC,
    DataSpec,
)
from {{ cookiecutter.package_name }}.data.synthetic import generate
from {{ cookiecutter.package_name }}.data.validation import validate

SPEC = SYNTHETIC_CLINICAL_SPEC


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return validate(generate(3000, seed=21)[0], SPEC, source="test")


@pytest.fixture(scope="module")
def prof(frame: pd.DataFrame) -> dict:
    return profile(frame, SPEC)


def test_profile_is_strict_json(prof):
    text = json.dumps(prof, allow_nan=False)
    assert json.loads(text) == prof


def test_numeric_summary_matches_pandas(frame, prof):
    for column in SPEC.numeric:
        s, p = frame[column], prof["columns"][column]
        assert p["count"] == s.count() and p["n_missing"] == s.isna().sum()
        assert p["missing_share"] == pytest.approx(s.isna().mean())
        assert p["mean"] == pytest.approx(s.mean()) and p["std"] == pytest.approx(s.std())
        assert p["median"] == pytest.approx(s.median())
        assert p["q05"] == pytest.approx(s.quantile(0.05))
        assert p["q95"] == pytest.approx(s.quantile(0.95))
        assert (p["min"], p["max"]) == (s.min(), s.max())
    assert prof["columns"]["hba1c"]["missing_share"] > 0.2


def test_categorical_summary_matches_value_counts(frame, prof):
    top = prof["columns"]["admission_type"]["top"]
    counts = frame["admission_type"].value_counts()
    assert [t["value"] for t in top] == list(counts.index)
    assert [t["count"] for t in top] == counts.tolist()
    assert sum(t["share"] for t in top) == pytest.approx(1.0)
    assert prof["columns"]["site"]["n_unique"] == 8


def test_prevalence_overall_and_by_sensitive_group(frame, prof):
    assert prof["target"]["prevalence"] == pytest.approx(frame["readmitted"].mean())
    assert prof["target"]["positives"] == frame["readmitted"].sum()
    for attr in ("sex", "insurance"):
        expected = frame.groupby(attr, observed=True)["readmitted"].agg(["count", "sum", "mean"])
        table = prof["prevalence_by_group"][attr]
        assert set(table) == set(expected.index)
        for level, row in expected.iterrows():
            assert table[level]["n"] == row["count"] and table[level]["positives"] == row["sum"]
            assert table[level]["prevalence"] == pytest.approx(row["mean"])


def test_point_biserial_matches_scipy(frame, prof):
    for column in ("age", "hba1c"):
        rows = frame[column].notna()
        r, p = stats.pointbiserialr(frame.loc[rows, "readmitted"], frame.loc[rows, column])
        assoc = prof["target_association"][column]
        assert assoc["kind"] == "point_biserial" and assoc["n"] == rows.sum()
        assert assoc["value"] == pytest.approx(r) and assoc["p_value"] == pytest.approx(p)
    # and age (a true risk factor) is clearly associated
    assert prof["target_association"]["age"]["value"] > 0.1


def test_cramers_v_and_prevalence_spread(frame, prof):
    table = pd.crosstab(frame["insurance"], frame["readmitted"])
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    v = np.sqrt(chi2 / table.to_numpy().sum())
    by_level = frame.groupby("insurance", observed=True)["readmitted"].mean()
    assoc = prof["target_association"]["insurance"]
    assert assoc["kind"] == "cramers_v" and assoc["value"] == pytest.approx(v)
    assert assoc["prevalence_spread"] == pytest.approx(by_level.max() - by_level.min())


def test_raw_text_target_and_missing_group_level():
    # given a raw frame: text target, a sensitive attribute with a missing value
    df = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "g": ["a", "a", "b", "b", None, None],
            "y": ["pos", "neg", "pos", "pos", "neg", "neg"],
        }
    )
    spec = DataSpec(name="t", target="y", positive_label="pos", numeric=("x",), sensitive=("g",))
    prof = profile(df, spec)
    assert prof["target"]["prevalence"] == pytest.approx(0.5)
    assert prof["prevalence_by_group"]["g"] == {
        "a": {"n": 2, "positives": 1, "prevalence": 0.5},
        "b": {"n": 2, "positives": 2, "prevalence": 1.0},
        "(missing)": {"n": 2, "positives": 0, "prevalence": 0.0},
    }


def test_plots_written_as_png(tmp_path, prof, frame):
    paths = plot_profile(prof, SPEC, tmp_path / "clinical")
    assert [p.name for p in paths] == [
        "missingness.png", "target_association.png", "prevalence_by_group.png",
    ]  # fmt: skip
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    # and a frame is profiled first; no sensitive attributes means no group plot
    bc_paths = plot_profile(load_breast_cancer(), BREAST_CANCER_SPEC, tmp_path / "bc")
    assert [p.name for p in bc_paths] == ["missingness.png", "target_association.png"]


def test_a_feature_that_alone_separates_the_target_is_a_leak_suspect():
    # given a birth-weight table whose 'low' target is bwt < 2500, and an honest feature
    from {{ cookiecutter.package_name }}.data.profile import leak_suspects
    from {{ cookiecutter.package_name }}.data.spec import DataSpec

    rng = np.random.default_rng(0)
    bwt = rng.normal(3000, 600, 300)
    frame = pd.DataFrame({"bwt": bwt, "age": rng.normal(25, 5, 300),
                          "code": np.where(bwt < 2500, "L", "N"), "low": (bwt < 2500).astype(int)})
    spec = DataSpec(name="t", target="low", numeric=("bwt", "age"), categorical=("code",))
    # when leaks are looked for, then the two derived columns are named, the honest one is not
    found = leak_suspects(frame, spec)
    assert len(found) == 2
    assert "'bwt' alone ranks the target with AUC 1.000" in found[0]
    assert "'code' alone determines the target" in found[1]
