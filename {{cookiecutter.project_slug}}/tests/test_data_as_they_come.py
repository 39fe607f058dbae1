"""Tables as users have them: encodings, separators, odd names, stray values, labels as text.

Each test states what a real export looks like and what the data step makes of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.errors import UserError
from {{ cookiecutter.package_name }}.data.sources import DataSourceError, read_table
from {{ cookiecutter.package_name }}.data.spec import (
    DataSpecError,
    infer_positive_label,
    spec_from_config,
)


@pytest.fixture()
def table() -> pd.DataFrame:
    """A small clinical export with names a spreadsheet would give."""
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame({
        "Patient Age": rng.normal(60, 9, n).round(1),
        "b.m.i": rng.normal(27, 4, n).round(1),
        "städt": rng.choice(["München", "Köln"], n),
        "Outcome": rng.choice(["yes", "no"], n),
    })


@pytest.mark.parametrize(("sep", "encoding"), [
    (";", "utf-8-sig"), ("\t", "utf-8"), (",", "latin-1"), ("|", "utf-8-sig"), (";", "cp1252"),
])
def test_separator_and_encoding_are_detected(tmp_path, table, sep, encoding):
    # given the table exported with a European separator, a BOM or Latin-1 text
    path = tmp_path / "export.csv"
    table.to_csv(path, sep=sep, index=False, encoding=encoding)
    # when it is read with nothing configured
    frame = read_table(path)
    # then the columns, the non-ASCII names and values come back as they were written
    pd.testing.assert_frame_equal(frame, table)


def test_configured_separator_and_encoding_win(tmp_path, table):
    # given a file whose separator is configured
    path = tmp_path / "export.csv"
    table.to_csv(path, sep=";", index=False, encoding="latin-1")
    # when read with data.separator and data.encoding
    frame = read_table(path, separator=";", encoding="latin-1")
    # then it is read as configured
    assert list(frame.columns) == list(table.columns)


def test_repeated_column_names_are_an_error_naming_them(tmp_path):
    # given a header with a column name twice (pandas would rename the second 'bmi.1')
    path = tmp_path / "dup.csv"
    path.write_text("bmi,age,bmi,y\n1,2,3,0\n4,5,6,1\n")
    # when read, then the error names the file and the repeated column
    with pytest.raises(DataSourceError, match=r"repeated column names \['bmi'\]") as caught:
        read_table(path)
    assert "dup.csv" in str(caught.value) and isinstance(caught.value, UserError)


def test_na_values_mark_extra_missing_values(tmp_path):
    # given a numeric column with a site-specific missing code
    path = tmp_path / "t.csv"
    path.write_text("age,y\n61,0\n?,1\n70,1\n")
    # when read with data.na_values, then the code is missing and the column numeric
    frame = read_table(path, na_values=["?"])
    assert frame["age"].isna().tolist() == [False, True, False]
    assert pd.api.types.is_numeric_dtype(frame["age"])


@pytest.mark.parametrize(("values", "positive"), [
    (["yes", "no"], "yes"), (["No", "Yes"], "Yes"), ([True, False], True), ([0, 1], 1),
    ([0.0, 1.0], 1.0), (["n", "y"], "y"), (["negative", "positive"], "positive"),
])
def test_obvious_positive_labels_are_inferred(values, positive):
    # given a two-valued target whose positive class goes without saying
    target = pd.Series(values * 5)
    # when the positive label is inferred, then it is that class, as the table holds it
    found, note = infer_positive_label(target, "Outcome")
    assert found == positive and type(found) is type(positive)
    assert "positive_label" in note


@pytest.mark.parametrize(("values", "message"), [
    (["alive", "censored"], "data.positive_label: column 'dx' has the values"),
    (["a", "b", "c"], "has 3 distinct value"),
    (["a"], "has 1 distinct value"),
])
def test_unclear_targets_ask_for_positive_label(values, message):
    # given a target with no obvious positive class, or not two values
    target = pd.Series(values * 4)
    # when inferred, then a config error names the key and shows the values
    with pytest.raises(DataSpecError, match=message):
        infer_positive_label(target, "dx")


def test_only_path_and_target_type_every_column_and_note_each_choice(table):
    # given a table with an id, a date, a constant, an empty and a free-text column, a
    # repeated id-named column, and columns named like the pipeline's own (split, y, p, weight)
    n = len(table)
    frame = table.assign(**{
        "PassengerId": np.arange(100, 100 + n),
        "row_id": np.arange(n) % 7,
        "split": ["a", "b"] * (n // 2),
        "y": np.linspace(0, 1, n), "p": np.linspace(1, 2, n), "weight": np.linspace(50, 90, n),
        "admitted": pd.date_range("2021-01-01", periods=n).strftime("%Y-%m-%d"),
        "constant": 7,
        "empty": np.nan,
        "comment": [f"patient reported pain number {i} today" for i in range(n)],
    })
    # when the spec is built from only the target
    spec = spec_from_config({"source": "own_file", "target": "Outcome"}, frame)
    # then the id is found, the label inferred, the pipeline-like names are plain features
    assert spec.id_column == "PassengerId" and spec.positive_label == "yes"
    assert {"Patient Age", "b.m.i", "y", "p", "weight"} <= set(spec.numeric)
    assert {"städt", "split"} <= set(spec.categorical)
    # and the rest is left out, each with a note saying why
    left_out = {"admitted": "dates", "constant": "one value", "empty": "missing",
                "comment": "free text", "row_id": "values repeat"}
    for column, why in left_out.items():
        assert column not in spec.features
        assert any(f"'{column}'" in note and why in note for note in spec.notes), spec.notes
    assert any("'PassengerId' used as the row id" in note for note in spec.notes)


def test_numeric_but_for_a_few_values_is_an_error_naming_values_and_rows(table):
    # given a numeric column with 'abc' typed into two rows
    frame = table.astype({"Patient Age": object})
    frame.loc[[4, 9], "Patient Age"] = "abc"
    # when the spec is inferred, then the error names column, values, rows and both remedies
    with pytest.raises(DataSpecError) as caught:
        spec_from_config({"source": "own_file", "target": "Outcome"}, frame)
    message = str(caught.value)
    for part in ("'Patient Age'", "'abc' (n=2)", "rows 4, 9", "data.na_values",
                 "data.categorical"):
        assert part in message, message


def test_a_declared_categorical_column_is_not_second_guessed(table):
    # given the same stray values but the column declared categorical
    frame = table.astype({"Patient Age": object})
    frame.loc[[4, 9], "Patient Age"] = "abc"
    # when the spec is built, then it is a categorical feature
    spec = spec_from_config(
        {"source": "own_file", "target": "Outcome", "categorical": ["Patient Age"]}, frame)
    assert "Patient Age" in spec.categorical


def test_a_misspelt_target_suggests_the_column(table):
    # given a target name with a typo, when the spec is built, then the close column is named
    with pytest.raises(DataSpecError, match="did you mean 'Outcome'"):
        spec_from_config({"source": "own_file", "target": "outcome"}, table)


def test_space_aligned_columns_with_quoted_names_are_read(tmp_path):
    # given an R-style export: names quoted with ', columns separated by runs of spaces
    path = tmp_path / "spector.csv"
    path.write_text("'OBS' 'GPA' 'GRADE'\n1  2.66 0\n2  2.89 1\n3  3.28   0\n")
    # when read, then the names lose their quotes and the values are numbers
    frame = read_table(path)
    assert list(frame.columns) == ["OBS", "GPA", "GRADE"]
    assert frame["GPA"].tolist() == [2.66, 2.89, 3.28]


def test_a_comma_file_with_spaces_in_its_text_stays_comma_separated(tmp_path):
    # given commas between columns and spaces inside the text, then commas win
    path = tmp_path / "notes.csv"
    path.write_text('name,comment,y\n"a b",hello there world,1\n"c d",more text here,0\n')
    assert list(read_table(path).columns) == ["name", "comment", "y"]


def test_decimal_commas_of_a_semicolon_export_are_numbers(tmp_path):
    # given a European spreadsheet export: ; between columns, , as the decimal mark
    path = tmp_path / "wine.csv"
    path.write_text("Alcol;Ceneri;classe\n14,23;2,43;1\n13,2;2,14;0\n-0,5;1,0;1\n",
                    encoding="latin-1")
    # when read with nothing configured, then the numbers are numbers
    frame = read_table(path)
    assert frame["Alcol"].tolist() == [14.23, 13.2, -0.5]
    assert pd.api.types.is_float_dtype(frame["Ceneri"])


def test_a_column_numbering_the_rows_is_the_id_not_a_feature(table):
    # given R's observation number 1..n in a column not named like an id
    frame = table.assign(OBS=np.arange(1, len(table) + 1))
    # when typed, then it is the row id, with a note that says why
    spec = spec_from_config({"source": "own_file", "target": "Outcome"}, frame)
    assert spec.id_column == "OBS" and "OBS" not in spec.features
    assert any("'OBS' used as the row id: it numbers the rows" in note for note in spec.notes)


@pytest.mark.parametrize("values", [["15,6", "12,1"], ["3", "4"], ["1.5", "2.25"]])
def test_numbers_are_never_taken_for_dates(values):
    # given text that pandas' date parser accepts but that holds no written date
    from {{ cookiecutter.package_name }}.data.spec import infer_columns

    frame = pd.DataFrame({"x": values * 15})
    # when typed, then it is not left out as a date
    found = infer_columns(frame, set())
    assert not any("dates" in note for note in found.notes)


def test_a_mostly_missing_column_is_left_out_not_refused(table):
    # given a comments column filled in for one row in six (penguins' raw table has one)
    frame = table.assign(Comments=["seen"] * 10 + [None] * (len(table) - 10))
    # when typed with the default data.max_missing_share (0.5)
    spec = spec_from_config({"source": "own_file", "target": "Outcome"}, frame)
    # then it is no feature, and a note says why and how to keep it
    assert "Comments" not in spec.features
    assert any("'Comments' left out: 83% of its values are missing" in n for n in spec.notes)


def test_space_aligned_names_may_hold_spaces_inside_their_quotes(tmp_path):
    # given an R export whose quoted names hold spaces
    path = tmp_path / "bc.csv"
    path.write_text("'mean radius'  'mean texture'  'y'\n1.5  2.5  0\n1.7  2.1  1\n")
    # when read, then each quoted name is one column (no false "repeated names")
    assert list(read_table(path).columns) == ["mean radius", "mean texture", "y"]


def test_a_gzipped_semicolon_export_is_detected_like_a_plain_one(tmp_path, table):
    # given the same European export, gzipped
    path = tmp_path / "export.csv.gz"
    table.to_csv(path, sep=";", index=False, encoding="latin-1", compression="gzip")
    # when read with nothing configured, then it is the table
    pd.testing.assert_frame_equal(read_table(path), table)


def test_decimal_commas_inside_single_quotes_are_numbers(tmp_path):
    # given a ;-separated export that quotes every field with '
    path = tmp_path / "q.csv"
    path.write_text("'a';'b';'y'\n'1,5';'2,25';'0'\n'3,0';'4,5';'1'\n")
    # when read, then the quoted decimal commas are numbers
    assert read_table(path)["a"].tolist() == [1.5, 3.0]


def test_a_missing_code_in_a_quarter_of_a_numeric_column_is_refused_not_guessed(table):
    # given a lab value where "?" marks a quarter of the rows missing (UCI style)
    frame = table.astype({"b.m.i": object})
    frame.loc[frame.index[::4], "b.m.i"] = "?"
    # when typed, then the column is named with its code and the remedy, not typed silently
    numeric_but = r"column 'b.m.i' is numeric but for 15 value\(s\): '\?'"
    with pytest.raises(DataSpecError, match=numeric_but):
        spec_from_config({"source": "own_file", "target": "Outcome"}, frame)
    # and with na_values the same table types it as a number
    frame = frame.replace("?", np.nan).astype({"b.m.i": float})
    assert "b.m.i" in spec_from_config({"source": "own_file", "target": "Outcome"}, frame).numeric


def test_batch_labels_the_training_data_never_had_are_refused():
    # given training labels yes/no, and a monitoring batch with a third value and a new case
    from {{ cookiecutter.package_name }}.data.validation import (
        DataValidationError,
        check_known_labels,
        label_texts,
    )

    known = label_texts(pd.Series(["yes", "no", "yes"]))
    batch = pd.Series(["yes", "unknown", "Yes", None, "no"], name="Outcome")
    # when checked, then both are named with their counts (mapped, they would be negatives)
    with pytest.raises(DataValidationError, match=r"'Yes' \(n=1\), 'unknown' \(n=1\)"):
        check_known_labels(batch, known, "data/incoming/b.csv")
    # and a batch of known labels (or none) passes
    check_known_labels(pd.Series([1.0, 0, None]), label_texts(pd.Series([0, 1])), "b.csv")
