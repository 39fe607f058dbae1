"""Tests of DataSpec, the built-in specs, spec_from_config and the conf/data files."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.data.spec import (
    BREAST_CANCER_SPEC,
    SYNTHETIC_CLINICAL_SPEC,
    DataSpec,
    get_spec,
    spec_from_config,
)

CONF_DATA = Path(__file__).resolve().parents[1] / "conf" / "data"


@pytest.fixture()
def raw() -> pd.DataFrame:
    """A user's table: ints, floats, text, bool, date, a free-text id and a coded column."""
    n = 30
    return pd.DataFrame(
        {
            "record": [f"r{i:03d}" for i in range(n)],  # all distinct text: not a feature
            "visit": pd.date_range("2024-01-01", periods=n, freq="D"),
            "age": range(40, 40 + n),
            "weight": [70.5] * n,
            "ward": ["a", "b", "c"] * 10,
            "urgent": [True, False] * 15,
            "stage_code": [1, 2, 3] * 10,  # numbers that are really categories
            "lab": ["1.2"] * n,  # numbers stored as text
            "outcome": ["yes", "no", "no"] * 10,
        }
    )


def test_builtin_specs_describe_their_sources():
    s = SYNTHETIC_CLINICAL_SPEC
    assert s.target == "readmitted" and s.id_column == "patient_id"
    assert s.time_column == "admission_date" and s.group_column == "site"
    assert "site" not in s.features and s.sensitive == ("sex", "insurance")
    assert len(s.numeric) == 7 and s.categories["smoker"] == ("never", "former", "current")
    b = BREAST_CANCER_SPEC
    assert len(b.numeric) == 30 and b.categorical == () and b.target == "malignant"
    assert b.required_columns[:2] == ("sample_id", "malignant")


def test_spec_is_frozen_and_json_serialisable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SYNTHETIC_CLINICAL_SPEC.target = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SYNTHETIC_CLINICAL_SPEC.ranges["age"] = (0, 1)  # type: ignore[index]
    as_dict = json.loads(json.dumps(SYNTHETIC_CLINICAL_SPEC.to_dict()))
    assert as_dict["ranges"]["age"] == [0.0, 120.0]
    assert DataSpec(**{**as_dict}) == SYNTHETIC_CLINICAL_SPEC


def test_types_inferred_from_dtypes_with_config_winning(raw):
    # given a config that lists two columns against their dtypes
    cfg = {
        "target": "outcome",
        "positive_label": "yes",
        "time_column": "visit",
        "categorical": ["stage_code"],
        "numeric": ["lab"],
        "exclude": ["weight"],
    }
    # when the spec is built from config and frame
    spec = spec_from_config(cfg, raw)
    # then listed columns keep their listed type, the rest follow their dtype
    assert spec.numeric == ("lab", "age")
    assert spec.categorical == ("stage_code", "ward", "urgent")
    # and the target, time column, excluded and all-distinct text columns are no features
    assert not {"outcome", "visit", "weight", "record"} & set(spec.features)
    assert spec.positive_label == "yes" and spec.name == "own_file"


def test_allowed_levels_and_ranges_from_config(raw):
    cfg = {
        "target": "outcome",
        "categories": {"ward": ["a", "b", "c"]},
        "ranges": {"age": [0, 120], "lab": dict(min=0)},
        "max_missing_share": 0.1,
        "sensitive": "ward",
    }
    spec = spec_from_config(cfg, raw)
    assert spec.categories == {"ward": ("a", "b", "c")} and "ward" in spec.categorical
    assert spec.ranges == {"age": (0.0, 120.0), "lab": (0.0, None)}
    assert spec.max_missing_share == 0.1 and spec.sensitive == ("ward",)


def test_without_frame_only_listed_columns():
    spec = spec_from_config({"target": "y", "numeric": ["a"], "categorical": dict(b=None)})
    assert spec.features == ("a", "b") and spec.categories == {}


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"numeric": ["a"]}, "data.target is not set"),
        ({"target": "y", "catgorical": ["a"]}, "did you mean 'categorical'"),
        ({"target": "y", "numeric": ["a"], "categorical": ["a"]}, "both numeric and categorical"),
        ({"target": "y", "numeric": ["y"]}, "'y' is the target and also a feature"),
        ({"target": "y", "categorical": ["c"], "ranges": dict(c=[0, 1])}, "both numeric and"),
        ({"target": "y", "numeric": ["a"], "ranges": dict(a=[5, 1])}, "min 5.0 is larger"),
        ({"target": "y", "max_missing_share": 1.5}, "max_missing_share must be in"),
    ],
)
def test_bad_config_names_the_key(cfg, message):
    with pytest.raises(ValueError, match=message):
        spec_from_config(cfg)


def test_spec_rejects_ranges_or_levels_of_other_columns():
    with pytest.raises(ValueError, match=r"data.ranges names \['c'\], which are not numeric"):
        DataSpec(name="t", target="y", categorical=("c",), ranges={"c": (0, 1)})
    with pytest.raises(ValueError, match=r"allowed categories given for \['a'\]"):
        DataSpec(name="t", target="y", numeric=("a",), categories={"a": ("x",)})


def test_spec_pickles_and_deep_copies():
    clone = pickle.loads(pickle.dumps(SYNTHETIC_CLINICAL_SPEC))
    assert clone == SYNTHETIC_CLINICAL_SPEC and copy.deepcopy(clone) == clone
    with pytest.raises(TypeError, match="read-only"):
        clone.categories.update({"sex": ("F",)})


def test_builtin_spec_with_config_override():
    cfg = {"source": "synthetic_clinical", "n_rows": 100, "max_missing_share": 0.3}
    spec = get_spec(cfg)
    assert spec.max_missing_share == 0.3
    assert dataclasses.replace(spec, max_missing_share=0.5) == SYNTHETIC_CLINICAL_SPEC


def test_conf_data_files_build_specs(raw):
    # given the three shipped data configs
    configs = {p.stem: yaml.safe_load(p.read_text()) for p in CONF_DATA.glob("*.yaml")}
    assert set(configs) >= {"synthetic_clinical", "breast_cancer", "own_file"}
    # then each names its source and builds a spec
    for name, cfg in configs.items():
        assert cfg["source"] == name
    assert get_spec(configs["synthetic_clinical"]) == SYNTHETIC_CLINICAL_SPEC
    assert get_spec(configs["breast_cancer"]) == BREAST_CANCER_SPEC
    own = {**configs["own_file"], "target": "outcome", "positive_label": "yes"}
    assert get_spec(own, raw).target == "outcome"
    for name in ("synthetic_clinical", "breast_cancer"):
        assert set(configs[name]["batch"]) == {
            "n_rows", "seed", "covariate_shift", "prior_shift", "concept_shift",
        }  # fmt: skip
