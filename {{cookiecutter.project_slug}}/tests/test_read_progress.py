"""Reading a large table says so: its size before, its rows and the time taken after."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import sources


def table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.integers(18, 90, rows), "bmi": rng.normal(27, 4, rows),
                         "target": rng.integers(0, 2, rows)})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_large_file_gets_a_line_before_and_after_reading(tmp_path, monkeypatch, caplog,
                                                          suffix):
    # given a file above the size that counts as large (lowered so the test stays small)
    path = tmp_path / f"big{suffix}"
    frame = table(5000)
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    monkeypatch.setattr(sources, "PROGRESS_BYTES", 1024)
    # when it is read
    with caplog.at_level(logging.INFO, logger=sources.__name__):
        read = sources.read_table(path)
    # then one line gives its size before reading and one its rows, columns and seconds after
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"reading {path} (") and lines[0].endswith(" MB)...")
    assert lines[1].startswith(f"read {path.name}: 5000 rows x 3 columns in ")
    assert lines[1].endswith(" s") and len(read) == 5000


def test_a_small_file_is_read_silently(tmp_path, caplog):
    # given a file far below the size that counts as large
    path = tmp_path / "small.csv"
    table(100).to_csv(path, index=False)
    # when it is read, then nothing is logged
    with caplog.at_level(logging.INFO, logger=sources.__name__):
        sources.read_table(path)
    assert caplog.records == []
