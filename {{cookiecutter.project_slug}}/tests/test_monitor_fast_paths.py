"""The monitor's shortcuts give what the plain computations give: category counts, the history
figure drawn by a child process, and one audit of the model file."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from {{ cookiecutter.package_name }}.core.errors import UserError
from {{ cookiecutter.package_name }}.modelling.persistence import load_skops, save_skops
from {{ cookiecutter.package_name }}.monitoring.drift import _category_counts
from {{ cookiecutter.package_name }}.monitoring.reference import category_strings
from {{ cookiecutter.package_name }}.monitoring.verdict import append_history
from {{ cookiecutter.package_name }}.reporting.figures import HistoryFigure, plot_history


def _row_by_row(series: pd.Series) -> tuple[pd.Series, int]:
    """What the counts are defined as: value_counts of every row's canonical label."""
    labels, missing = category_strings(series)
    return pd.Series(labels[~missing]).value_counts(), int(missing.sum())


def _columns(rng: np.random.Generator, n: int) -> list[pd.Series]:
    codes = rng.integers(0, 6, n)
    strings = [f"level{c}" for c in codes]
    return [
        pd.Series(strings, dtype=object),
        pd.Series([None if c == 0 else s for c, s in zip(codes, strings, strict=True)],
                  dtype=object),
        pd.Series(pd.Categorical(strings, categories=[f"level{i}" for i in range(8)][::-1])),
        pd.Series(np.where(codes == 0, np.nan, codes / 2)),
        pd.Series(codes),
        pd.Series(codes % 2 == 0),
        pd.Series(pd.array([None if c == 0 else c for c in codes], dtype="Int64")),
        # equal values with different labels (1, 1.0, True): the row-wise path
        pd.Series([[1, 1.0, True, "1", None, np.nan][c] for c in codes], dtype=object),
    ]


def test_category_counts_match_row_by_row_labels_in_value_and_order():
    # given columns of every kind the batch can hold, small enough for ties in the counts
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 40, 500):
        for series in _columns(rng, n):
            # when they are counted per distinct value, and per row as defined
            counts, n_missing = _category_counts(series)
            expected, expected_missing = _row_by_row(series)
            # then labels, counts, their order (ties included) and missing rows are the same
            assert n_missing == expected_missing
            assert list(counts.index) == list(expected.index)
            assert counts.to_numpy().tolist() == expected.to_numpy().tolist()


def _history(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    for name, real_auc in (("first", 0.71), ("unlabelled", None), ("007", 0.69)):
        append_history(path, name, {"n": 100, "verdict": "ok", "max_psi": 0.05,
                                    "prediction_psi": 0.02, "expected_auc": 0.7,
                                    "real_auc": real_auc})
    return path


def test_history_figure_from_the_child_is_the_inline_figure(tmp_path):
    # given a history of three batches, one without labels
    history = _history(tmp_path)
    # when the child draws it, and the same function draws it in this process
    figure = HistoryFigure()
    drawn = figure.draw(history, tmp_path / "child.png")
    inline = plot_history(history, tmp_path / "inline.png")
    # then the two PNG files are the same bytes
    assert drawn.read_bytes() == inline.read_bytes()


def test_history_figure_child_ends_when_not_asked_and_reports_failures(tmp_path):
    # given a child started, then closed without a figure to draw
    idle = HistoryFigure()
    child = idle._child
    idle.close()
    # then it has ended without error
    assert child is not None and child.returncode == 0
    # when a child is asked to draw a history that does not exist
    figure = HistoryFigure()
    # then the monitor gets its error, naming the figure it could not draw
    with pytest.raises(RuntimeError, match="missing.png"):
        figure.draw(tmp_path / "no-history.csv", tmp_path / "missing.png")


def test_load_skops_names_types_the_training_run_did_not_record(tmp_path):
    # given a fitted gradient-boosting model saved as training saves it
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 2)), rng.integers(0, 2, 200)
    model = HistGradientBoostingClassifier(max_iter=3).fit(X, y)
    path = tmp_path / "model.skops"
    trusted = save_skops(model, path)
    # when it is loaded trusting what was recorded, then predictions are those of the model
    loaded = load_skops(path, trusted)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # when it is loaded trusting less, then the error names the unrecorded types
    with pytest.raises(UserError, match="TreePredictor"):
        load_skops(path, [t for t in trusted if "TreePredictor" not in t])
