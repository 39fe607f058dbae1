"""Fixtures of the template's tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import helpers  # noqa: E402
from helpers import bake_and_install  # noqa: E402


@pytest.fixture
def bake(tmp_path: Path):
    """Bake the template with answers (others default) into a fresh directory; return the path.

    Bakes with a cookiecutter that has neither DVC nor Hydra, as users have it.
    """

    def _bake(**answers: str) -> Path:
        return helpers.bake(tmp_path / "baked", **answers)

    return _bake


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default project, baked and installed once for the end-to-end tests."""
    return bake_and_install(tmp_path_factory.mktemp("demo"), project_name="Demo Lifecycle")
