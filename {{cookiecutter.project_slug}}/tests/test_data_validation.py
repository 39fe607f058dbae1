"""Tests of validate() (one readable error listing all failures) and check_scoring_frame()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.sources import read_table
from {{ cookiecutter.package_name }}.data.spec import SYNTHETIC_CLINICAL_SPEC, DataSpec, spec_from_config
from {{ cookiecutter.package_name }}.data.synthetic import generate
from {{ cookiecutter.package_name }}.data.validation import (
    DataValidationError,
    check_scoring_frame,
    validate,
)

SPEC = SYNTHETIC_CLINICAL_SPEC
SOURCE = "own_file (data/raw/patients.csv)"


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return generate(2000, seed=11)[0]


def _errors(df: pd.DataFrame, spec: DataSpec = SPEC) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        validate(df, spec, source=SOURCE)
    return info.value


def test_valid_frame_is_returned_with_documented_dtypes(clean):
    # when the generated data is validated
    out = validate(clean, SPEC, source="synthetic_clinical")
    # then target is int 0/1, numerics float64, categoricals category with text levels
    assert out["readmitted"].dtype == np.int64
    assert out["readmitted"].tolist() == clean["readmitted"].tolist()
    assert all(out[c].dtype == np.float64 for c in SPEC.numeric)
    np.testing.assert_allclose(out["bmi"], clean["bmi"].astype(float))
    assert all(out[c].dtype == "category" for c in SPEC.categorical)
    assert list(out["sex"].cat.categories) == ["F", "M"]
    assert pd.api.types.is_datetime64_any_dtype(out["admission_date"])
    # and the input frame is left untouched
    assert clean["age"].dtype == np.float32


def test_csv_round_trip_validates_to_same_values(tmp_path, clean):
    path = tmp_path / "patients.csv"
    clean.to_csv(path, index=False)
    out = validate(read_table(path), SPEC, source=str(path))
    expected = validate(clean, SPEC, source="memory")
    pd.testing.assert_series_equal(out["age"], expected["age"])
    assert out["insurance"].astype(str).tolist() == expected["insurance"].astype(str).tolist()
    assert (out["admission_date"] == expected["admission_date"]).all()


def test_text_labels_mapped_with_positive_label():
    df = pd.DataFrame(
        {"id": [1, 2, 3, 4], "x": [1.0, 2.0, 3.0, 4.0], "y": ["yes", "no", "no", "yes"]}
    )
    spec = spec_from_config({"target": "y", "positive_label": "yes", "id_column": "id"}, df)
    assert validate(df, spec, source="t")["y"].tolist() == [1, 0, 0, 1]
    # and float codes 1.0 / 0.0 match positive_label 1
    df["y"] = [1.0, 0.0, 0.0, 1.0]
    assert validate(df, spec_from_config({"target": "y"}, df), source="t")["y"].tolist() == [
        1, 0, 0, 1,
    ]  # fmt: skip


def _corrupt(clean: pd.DataFrame, case: str) -> pd.DataFrame:
    df = clean.copy()
    if case == "missing target":
        return df.drop(columns="readmitted")
    if case == "one class":
        df["readmitted"] = 0
    elif case == "other target values":
        df.loc[[3, 4], "readmitted"] = 2
    elif case == "non-numeric":
        df["creatinine"] = df["creatinine"].astype(object)
        df.loc[[5, 9], "creatinine"] = ["high", "1,2"]
    elif case == "duplicate ids":
        df.loc[[7], "patient_id"] = df.loc[[2], "patient_id"].to_numpy()
    elif case == "out of range":
        df.loc[4, "systolic_bp"] = 1200.0
    elif case == "unknown category":
        df["smoker"] = df["smoker"].astype(object)
        df.loc[6, "smoker"] = "sometimes"
    elif case == "too many missing":
        df.loc[df.index[:1500], "creatinine"] = np.nan
    elif case == "missing feature":
        return df.drop(columns="age")
    elif case == "missing ids":
        df["patient_id"] = df["patient_id"].astype(float)
        df.loc[8, "patient_id"] = np.nan
    elif case == "bad date":
        df["admission_date"] = df["admission_date"].astype(str)
        df.loc[3, "admission_date"] = "yesterday"
    return df


@pytest.mark.parametrize(
    ("case", "column", "rule", "shown"),
    [
        ("missing target", "readmitted", "required_column", "data.target"),
        ("one class", "readmitted", "binary_target", "'0' (n=2000)"),
        ("other target values", "readmitted", "binary_target", "'2' (n=2)"),
        ("non-numeric", "creatinine", "numeric_type", "patient_id=10: '1,2'"),
        ("duplicate ids", "patient_id", "unique_id", "rows [2, 7]"),
        ("out of range", "systolic_bp", "range", "patient_id=5: 1200.0"),
        ("unknown category", "smoker", "allowed_categories", "patient_id=7: 'sometimes'"),
        ("too many missing", "creatinine", "max_missing_share", "75.0% missing"),
        ("missing feature", "age", "required_column", "a numeric feature"),
        ("missing ids", "patient_id", "not_missing", "row 8"),
        ("bad date", "admission_date", "datetime_type", "'yesterday'"),
    ],
)
def test_each_failure_names_source_column_rule_and_values(clean, case, column, rule, shown):
    # when a corrupted frame is validated
    error = _errors(_corrupt(clean, case))
    message = str(error)
    # then exactly one finding, whose line names source, column, rule and the offending value
    assert [(f.column, f.rule) for f in error.findings] == [(column, rule)]
    line = message.splitlines()[1]
    assert SOURCE in line and f"column '{column}'" in line and f"rule {rule}" in line
    assert shown in line
    assert "->" in line  # followed by what to do
    assert isinstance(error, ValueError)


def test_empty_frame_is_reported(clean):
    error = _errors(clean.iloc[:0])
    assert [f.rule for f in error.findings] == ["non_empty"]
    assert "no rows" in str(error) and SOURCE in str(error)


def test_repeated_column_name_is_reported(clean):
    df = pd.concat([clean, clean[["age"]]], axis=1)
    error = _errors(df)
    assert [(f.column, f.rule) for f in error.findings] == [("age", "unique_columns")]


def test_all_failures_collected_at_once_with_five_examples(clean):
    # given several problems, one of them in 20 rows
    df = _corrupt(_corrupt(clean, "duplicate ids"), "unknown category").drop(columns="hba1c")
    df["bmi"] = df["bmi"].astype(object)
    df.loc[100:119, "bmi"] = "n/a"
    error = _errors(df)
    # then every problem is listed, and only five example rows are shown
    rules = {(f.column, f.rule) for f in error.findings}
    assert rules == {
        ("hba1c", "required_column"),
        ("patient_id", "unique_id"),
        ("smoker", "allowed_categories"),
        ("bmi", "numeric_type"),
    }
    bmi_line = next(line for line in str(error).splitlines() if "column 'bmi'" in line)
    assert "20 row(s)" in bmi_line and bmi_line.count("'n/a'") == 5


def test_second_label_mapped_and_checked():
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "b", "a", "b"], "y2": ["a", "a", None, "b"]}
    )
    spec = spec_from_config({"target": "y", "positive_label": "b", "second_label": "y2"}, df)
    out = validate(df, spec, source="t")
    np.testing.assert_array_equal(out["y2"].to_numpy(), [0.0, 0.0, np.nan, 1.0])
    df.loc[0, "y2"] = "c"
    error = _errors(df, spec)
    assert [(f.column, f.rule) for f in error.findings] == [("y2", "second_label_values")]
    assert "row 0: 'c'" in str(error)


def test_scoring_frame_findings_are_levelled(clean):
    # given new rows with an unseen category, no target, and a non-numeric value
    df = clean.drop(columns="readmitted").copy()
    assert check_scoring_frame(df, SPEC) == []
    df["insurance"] = df["insurance"].astype(object)
    df.loc[0, "insurance"] = "charity"
    df["age"] = df["age"].astype(object)
    df.loc[1, "age"] = "old"
    findings = check_scoring_frame(df.drop(columns="smoker"), SPEC)
    # then missing column and non-number are errors, the unseen category only a warning
    levels = {(f.column, f.rule): f.level for f in findings}
    assert levels == {
        ("smoker", "required_column"): "error",
        ("age", "numeric_type"): "error",
        ("insurance", "unseen_category"): "warning",
    }
    unseen = next(f for f in findings if f.rule == "unseen_category")
    assert unseen.n_rows == 1 and "'charity'" in unseen.detail


def test_scoring_frame_uses_known_categories_from_training(clean):
    spec = spec_from_config({"target": "readmitted", "categorical": ["smoker"], "numeric": []})
    findings = check_scoring_frame(clean, spec, known_categories={"smoker": ["never", "former"]})
    current = int((clean["smoker"] == "current").sum())
    assert [(f.rule, f.n_rows) for f in findings] == [("unseen_category", current)]
