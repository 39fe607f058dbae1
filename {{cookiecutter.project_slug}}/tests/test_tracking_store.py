"""A tracking store that cannot be written is one message naming it and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.core.errors import UserError
from {{ cookiecutter.package_name }}.core.settings import MlflowSettings
from {{ cookiecutter.package_name }}.core.tracking import store_errors

LOCAL = MlflowSettings(tracking_uri="local", experiment_name="store-tests")


def _database(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE runs (id TEXT)")
    return path


def test_a_locked_database_says_who_may_hold_it(tmp_path, monkeypatch):
    # given the project's SQLite store held by another connection's write transaction
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    database = _database(tmp_path / "mlflow.db")
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # when a stage writes to it
        with pytest.raises(UserError) as caught, store_errors(LOCAL):
            sqlite3.connect(database, timeout=0).execute("INSERT INTO runs VALUES ('x')")
    finally:
        holder.close()
    # then one message: the file, that it is locked, and what to do
    message = str(caught.value)
    assert f"{database} is locked by another process" in message
    assert "run again" in message and "tracking server" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_read_only_database_names_the_file_and_the_fix(tmp_path, monkeypatch):
    # given the store opened read-only (as for a user without write permission)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    database = _database(tmp_path / "mlflow.db")
    read_only = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    # when a stage writes to it
    with pytest.raises(UserError) as caught, store_errors(LOCAL):
        read_only.execute("INSERT INTO runs VALUES ('x')")
    read_only.close()
    # then the message names the file and says how to fix it
    message = str(caught.value)
    assert f"{database} is read-only" in message and "chmod u+w" in message


def test_other_errors_keep_their_traceback():
    # given an error that is not about the store, then it is not dressed up as one
    with pytest.raises(KeyError), store_errors(LOCAL):
        raise KeyError("a bug")
