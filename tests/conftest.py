"""Fixtures of the template's tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import TEMPLATE, bake_and_install  # noqa: E402


@pytest.fixture
def bake(tmp_path: Path):
    """Bake the template with answers (others default) into a fresh directory; return the path."""
    from cookiecutter.main import cookiecutter

    def _bake(**answers: str) -> Path:
        out = tmp_path / "baked"
        out.mkdir(exist_ok=True)
        return Path(cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(out), extra_context=answers,
        ))

    return _bake


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default project, baked and installed once for the end-to-end tests."""
    return bake_and_install(tmp_path_factory.mktemp("demo"), project_name="Demo Lifecycle")
