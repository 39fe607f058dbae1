"""Tests of train/valid/test splitting and leakage checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.preparation.splits import LeakageError, SplitError, check_leakage, split

N_ROWS = 3000
PREVALENCE = 0.2


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """3,000 rows, 20% positives, 300 patients, ~4 rows per day (ties in time)."""
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "row_id": np.arange(N_ROWS),
            "patient": rng.integers(0, 300, size=N_ROWS),
            "day": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 750, size=N_ROWS), unit="D"),
            "x": rng.normal(size=N_ROWS).round(2),
            "y": (rng.random(N_ROWS) < PREVALENCE).astype(int),
        }
    )


def _ids(splits: dict[str, pd.DataFrame]) -> dict[str, set]:
    return {name: set(part["row_id"]) for name, part in splits.items()}


def test_stratified_keeps_sizes_and_prevalence(data):
    # when
    splits = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=1)
    # then sizes are 70/10/20%, every row is used once, prevalence within 0.5 points
    sizes = {name: len(part) for name, part in splits.items()}
    assert sizes == {"train": 2100, "valid": 300, "test": 600}
    ids = _ids(splits)
    assert set().union(*ids.values()) == set(data["row_id"])
    overall = data["y"].mean()
    for part in splits.values():
        assert abs(part["y"].mean() - overall) < 0.005
    report = check_leakage(splits, id_col="row_id", target="y")
    assert report["ok"] and report["n_rows"] == sizes


def test_stratified_is_reproducible_for_a_seed(data):
    first = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=5)
    again = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=5)
    other = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=6)
    assert _ids(first) == _ids(again)
    assert _ids(first)["test"] != _ids(other)["test"]


def test_grouped_puts_each_patient_in_one_split(data):
    # when
    splits = split(
        data,
        strategy="grouped",
        target="y",
        test_size=0.2,
        valid_size=0.2,
        seed=0,
        group_col="patient",
    )
    # then patient sets are disjoint, all rows are kept, and ~20% of patients are in test
    patients = {name: set(part["patient"]) for name, part in splits.items()}
    assert not patients["train"] & patients["valid"]
    assert not patients["train"] & patients["test"]
    assert not patients["valid"] & patients["test"]
    assert sum(len(part) for part in splits.values()) == N_ROWS
    assert len(patients["test"]) == 60  # 20% of 300 groups
    check_leakage(splits, id_col="row_id", group_col="patient", target="y")


def test_time_split_has_no_future_rows_in_training(data):
    # when
    splits = split(
        data, strategy="time", target="y", test_size=0.2, valid_size=0.2, seed=0, time_col="day"
    )
    # then time strictly increases across splits (same-day rows are never cut apart)
    assert splits["train"]["day"].max() < splits["valid"]["day"].min()
    assert splits["valid"]["day"].max() < splits["test"]["day"].min()
    # and test is the latest ~20% (the cut only moves to keep a day together: <= 1 day of rows)
    per_day_max = data["day"].value_counts().max()
    assert 600 - per_day_max <= len(splits["test"]) <= 600
    assert splits["test"]["day"].max() == data["day"].max()
    check_leakage(splits, id_col="row_id", time_col="day", target="y")


def test_time_split_parses_text_timestamps(data):
    as_text = data.assign(day=data["day"].dt.strftime("%Y-%m-%d"))
    splits = split(
        as_text, strategy="time", target="y", test_size=0.2, valid_size=0.2, seed=0, time_col="day"
    )
    assert splits["train"]["day"].max() < splits["test"]["day"].min()


# ---------------------------------------------------------------------- leakage


def test_shared_id_is_reported_with_split_pair_and_values(data):
    # given row 7 copied from train into test
    splits = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=1)
    leaked = splits["train"].iloc[[7]]
    splits["test"] = pd.concat([splits["test"], leaked], ignore_index=True)
    # when / then
    with pytest.raises(LeakageError) as info:
        check_leakage(splits, id_col="row_id")
    message = str(info.value)
    assert "column 'row_id': 1 value(s) in both 'train' and 'test'" in message
    assert f"(e.g. {leaked['row_id'].iloc[0]})" in message


def test_random_split_of_grouped_data_leaks_groups(data):
    # given a row-wise split of data with ~10 rows per patient
    splits = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=1)
    # when / then all three pairs share patients, one problem each
    with pytest.raises(LeakageError) as info:
        check_leakage(splits, id_col="row_id", group_col="patient")
    problems = info.value.problems
    assert len(problems) == 3
    assert all("column 'patient'" in p and "strategy='grouped'" in p for p in problems)
    assert "in both 'train' and 'test'" in problems[1]


def test_random_split_of_time_data_has_future_rows(data):
    splits = split(data, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=1)
    with pytest.raises(LeakageError, match="column 'day': .* of 'train' are later than"):
        check_leakage(splits, id_col="row_id", time_col="day")


def test_identical_feature_rows_are_counted_as_warning():
    # given test rows 3 and 4 whose features (x, site; NaN included) equal train rows
    train = pd.DataFrame({"id": [1, 2], "x": [0.5, np.nan], "site": ["a", "b"], "y": [0, 1]})
    valid = pd.DataFrame({"id": [5], "x": [0.7], "site": ["a"], "y": [0]})
    test = pd.DataFrame(
        {"id": [3, 4, 6], "x": [0.5, np.nan, 0.5], "site": ["a", "b", "b"], "y": [1, 1, 0]}
    )
    # when
    report = check_leakage({"train": train, "valid": valid, "test": test}, id_col="id", target="y")
    # then no error, the exact count (label ignored), and a readable warning
    assert report["identical_feature_rows"] == {"train/valid": 0, "train/test": 2}
    assert report["warnings"] == [
        "2 'test' row(s) have feature values identical to a 'train' row; "
        "scores on them measure recall of memorised rows."
    ]


# ------------------------------------------------------------------ bad parameters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_size": 0.0}, "test_size=0.0 must be a fraction strictly between 0 and 1"),
        ({"test_size": 1.2}, "test_size=1.2 must be a fraction"),
        ({"valid_size": True}, "valid_size=True must be a fraction"),
        ({"test_size": 0.5, "valid_size": 0.5}, "test_size \\+ valid_size = 1 leaves no training"),
        ({"seed": -1}, "seed=-1 must be an integer"),
        ({"strategy": "random"}, "strategy='random' unknown"),
        ({"strategy": "grouped"}, "set group_col"),
        ({"strategy": "time", "time_col": "date"}, "time_col='date' is not a column"),
        ({"target": "label"}, "target='label' is not a column"),
    ],
)
def test_bad_parameters_give_clear_errors(data, kwargs, message):
    params = {
        "strategy": "stratified",
        "target": "y",
        "test_size": 0.2,
        "valid_size": 0.1,
        "seed": 0,
        **kwargs,
    }
    with pytest.raises(SplitError, match=message):
        split(data, **params)


def test_too_few_positives_for_every_split_is_a_clear_error(data):
    # given only 2 positive rows: three splits cannot all contain the class
    rare = data.assign(y=0)
    rare.loc[[0, 1], "y"] = 1
    with pytest.raises(SplitError, match="no row of class\\(es\\) \\[1\\] of 'y'"):
        split(
            rare, strategy="time", target="y", test_size=0.2, valid_size=0.1, seed=0, time_col="day"
        )
    with pytest.raises(SplitError, match="cannot stratify on 'y'|no row of class"):
        split(rare, strategy="stratified", target="y", test_size=0.2, valid_size=0.1, seed=0)


def test_missing_group_values_are_rejected(data):
    holes = data.assign(patient=data["patient"].astype(float))
    holes.loc[5, "patient"] = np.nan
    with pytest.raises(SplitError, match="column 'patient' \\(group_col\\) has 1 missing"):
        split(
            holes,
            strategy="grouped",
            target="y",
            test_size=0.2,
            valid_size=0.1,
            seed=0,
            group_col="patient",
        )


def test_stable_split_keeps_every_row_in_its_split_when_data_is_added():
    # given data split by id hash
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"id": np.arange(20_000), "y": (rng.random(20_000) < 0.2).astype(int)})
    first = split(df, strategy="stable", target="y", test_size=0.2, valid_size=0.2, seed=1,
                  id_col="id")
    # when new rows are appended and the data is split again
    more = pd.DataFrame({"id": np.arange(20_000, 25_000),
                         "y": (rng.random(5_000) < 0.4).astype(int)})
    second = split(pd.concat([df, more]), strategy="stable", target="y", test_size=0.2,
                   valid_size=0.2, seed=1, id_col="id")
    # then no old row moved, and sizes and prevalence are right in expectation
    for name in ("train", "valid", "test"):
        old = set(first[name]["id"])
        assert old <= set(second[name]["id"])
    assert abs(len(first["test"]) / 20_000 - 0.2) < 0.01
    assert abs(first["test"]["y"].mean() - df["y"].mean()) < 0.02
    # and another seed gives another split
    other = split(df, strategy="stable", target="y", test_size=0.2, valid_size=0.2, seed=2,
                  id_col="id")
    assert set(other["test"]["id"]) != set(first["test"]["id"])


def test_stable_split_needs_an_id_column():
    df = pd.DataFrame({"id": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    with pytest.raises(SplitError, match="id_col"):
        split(df, strategy="stable", target="y", test_size=0.25, valid_size=0.25, seed=0)
