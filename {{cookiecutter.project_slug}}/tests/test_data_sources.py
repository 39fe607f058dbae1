"""Tests of the data sources: bundled breast cancer, table reader, config dispatch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer as sk_load_breast_cancer

from {{ cookiecutter.package_name }}.data.sources import (
    BREAST_CANCER_SHIFT_FEATURES,
    DataFileNotFoundError,
    DataSourceError,
    breast_cancer_batch,
    load_batch,
    load_breast_cancer,
    load_dataset,
    read_table,
    snake_case,
)


@pytest.fixture(scope="module")
def breast() -> pd.DataFrame:
    return load_breast_cancer()


def test_breast_cancer_shape_ids_and_positive_class(breast):
    # then 569 rows, 212 malignant, an id column and 30 snake_case features
    assert breast.shape == (569, 32)
    assert int(breast["malignant"].sum()) == 212
    assert breast["sample_id"].tolist() == list(range(569))
    assert all(c == snake_case(c) for c in breast.columns)
    assert {"mean_radius", "mean_concave_points", "worst_fractal_dimension"} <= set(breast.columns)
    # and malignant = 1 is scikit-learn's target 0
    sk = sk_load_breast_cancer()
    np.testing.assert_array_equal(breast["malignant"].to_numpy(), (sk.target == 0).astype(int))
    np.testing.assert_allclose(breast["mean_radius"].to_numpy(), sk.data[:, 0])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mean concave points", "mean_concave_points"),
        ("MeanRadius", "mean_radius"),
        (" Blood Pressure (mmHg) ", "blood_pressure_mm_hg"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(raw, clean):
    assert snake_case(raw) == clean


def test_read_table_csv_and_parquet_round_trip(tmp_path, breast):
    csv, parquet = tmp_path / "bc.csv", tmp_path / "bc.parquet"
    breast.to_csv(csv, index=False)
    breast.to_parquet(parquet, index=False)
    pd.testing.assert_frame_equal(read_table(csv), breast)
    pd.testing.assert_frame_equal(read_table(parquet), breast)


def test_missing_file_names_path_and_config_key(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataFileNotFoundError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message and "'data.path'" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    with pytest.raises(DataFileNotFoundError, match="data.batch_path"):
        read_table(path, config_key="data.batch_path")


def test_zero_byte_file_is_empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataSourceError, match=r"empty \(0 bytes\).*empty.csv"):
        read_table(path)


def test_header_only_file_has_no_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("age,target\n")
    with pytest.raises(DataSourceError, match="no data rows.*age, target"):
        read_table(path)


def test_unsupported_suffix_lists_supported_ones(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataSourceError, match=r"Unsupported file type.*\.csv.*\.parquet"):
        read_table(path)


def test_unreadable_parquet_is_reported(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_text("this is not parquet")
    with pytest.raises(DataSourceError, match=r"Could not read .*broken.parquet.* as parquet"):
        read_table(path)


def test_load_dataset_dispatches_on_source(tmp_path, breast, compose_settings):
    # synthetic: rows, seed and truth
    synthetic = compose_settings("data=synthetic_clinical").data
    data, truth = load_dataset(synthetic.model_copy(update={"n_rows": 300, "seed": 2}))
    assert len(data) == 300 and truth is not None and len(truth) == 300
    # breast cancer: no truth
    bc, none = load_dataset(compose_settings("data=breast_cancer").data)
    assert none is None and len(bc) == 569
    # own file: read from data.path
    path = tmp_path / "own.csv"
    breast.head(50).to_csv(path, index=False)
    own_file = compose_settings("data=own_file").data
    own, _ = load_dataset(own_file.model_copy(update={"path": str(path)}))
    assert len(own) == 50


def test_load_batch_for_each_source(tmp_path, breast, compose_settings):
    synthetic = compose_settings("data=synthetic_clinical").data
    cfg = synthetic.model_copy(update={"batch": synthetic.batch.model_copy(
        update={"n_rows": 400, "seed": 3, "covariate_shift": 0.5})})
    batch, truth = load_batch(cfg)
    assert len(batch) == 400 and batch["patient_id"].min() > 10**12 and truth is not None
    own_file = compose_settings("data=own_file").data
    with pytest.raises(ValueError, match="data.batch_path is not set"):
        load_batch(own_file.model_copy(update={"path": "x.csv", "batch_path": None}))
    path = tmp_path / "new.parquet"
    breast.head(20).drop(columns="malignant").to_parquet(path)
    own_batch, _ = load_batch(own_file.model_copy(update={"batch_path": str(path)}))
    assert "malignant" not in own_batch.columns and len(own_batch) == 20


def test_breast_cancer_batch_shift_prior_and_ids(breast):
    # given a batch with texture shifted by 1 SD and no prior shift
    batch = breast_cancer_batch(4000, seed=0, covariate_shift=1.0)
    sd = breast[list(BREAST_CANCER_SHIFT_FEATURES)].std()
    moved = (batch[list(BREAST_CANCER_SHIFT_FEATURES)].mean() - breast[sd.index].mean()) / sd
    # then the texture features move by ~1 SD, others stay, ids do not collide
    np.testing.assert_allclose(moved, 1.0, atol=0.1)
    assert abs(batch["mean_radius"].mean() - breast["mean_radius"].mean()) < 0.1 * 3.52
    assert not set(batch["sample_id"]) & set(breast["sample_id"])
    assert batch["malignant"].mean() == pytest.approx(212 / 569, abs=0.03)
    # and a prior shift of log(2) doubles the odds of malignant rows
    odds = 212 / 357 * 2
    shifted = breast_cancer_batch(4000, seed=0, prior_shift=float(np.log(2)))
    assert shifted["malignant"].mean() == pytest.approx(odds / (1 + odds), abs=0.03)
