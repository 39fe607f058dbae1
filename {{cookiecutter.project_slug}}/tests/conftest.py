"""Shared fixtures of the project's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The project directory (holding conf/ and dvc.yaml)."""
    return PROJECT
