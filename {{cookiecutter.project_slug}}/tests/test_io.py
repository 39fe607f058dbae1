"""Atomic writes: outputs appear whole and with the mode the user's umask gives."""

from __future__ import annotations

import os
import stat

import pytest

from {{ cookiecutter.package_name }}.core.io import write_json, write_text


@pytest.mark.parametrize("umask", [0o002, 0o022, 0o077])
def test_written_files_follow_the_umask(tmp_path, umask):
    # given a team umask (e.g. 002 for a shared group folder)
    previous = os.umask(umask)
    try:
        # when a stage writes its outputs atomically
        paths = [write_json(tmp_path / "a.json", {"x": 1}), write_text(tmp_path / "b.md", "x")]
    finally:
        os.umask(previous)
    # then each has the mode a plain open() would give, not mkstemp's 0600
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    # given a good output
    path = write_text(tmp_path / "report.md", "good")
    # when the next write fails half-way
    from {{ cookiecutter.package_name }}.core.io import atomic_path

    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("stage crashed")
    # then the good output is still there and no temporary file is left
    assert path.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_undefined_statistics_are_written_as_null(tmp_path):
    # given results holding NaN and infinities (a p-value of constant predictions, say)
    import json

    import numpy as np

    payload = {"p": float("nan"), "z": np.float64("inf"), "ci": np.array([np.nan, 1.5]), "n": 3}
    # when written, then the file is strict JSON with nulls where the values were undefined
    path = write_json(tmp_path / "m.json", payload)
    assert json.loads(path.read_text()) == {"p": None, "z": None, "ci": [None, 1.5], "n": 3}
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
