"""The Makefile's targets are the README's commands under short names, and `make help` lists
them all."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

TARGETS = {  # target: the command README.md gives for it
    "setup": 'uv pip install -e ".[dev]"',
    "repro": "dvc repro",
    "fast": "dvc exp run -S preset=fast",
{%- if cookiecutter.mlflow_tracking == "server" %}
    "ui": "The runs are on the tracking server",
{%- else %}
    "ui": "mlflow ui --backend-store-uri sqlite:///mlflow.db",
{%- endif %}
    "test": 'pytest -m "not slow"',
    "lint": "ruff check . && mypy",
    "report": "reports/index.html",
    "summary": "{{ cookiecutter.package_name }} summary",
}

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(project_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run make in the project, capturing its output."""
    return subprocess.run(["make", *args], cwd=project_root, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_target_runs_the_readmes_command(project_root, target):
    # given a target; when make prints what it would run (-n runs nothing)
    done = make(project_root, "-n", target)
    # then make accepts it and the command is the one README.md gives
    assert done.returncode == 0, done.stderr
    assert TARGETS[target] in done.stdout, done.stdout
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    assert f"`make {target}`" in readme
    assert TARGETS[target].split(" && ")[0] in readme


def test_make_help_lists_every_target_with_what_it_does(project_root):
    # given the Makefile; when `make help` and plain `make` run
    shown = make(project_root, "help")
    default = make(project_root)
    # then both list every target, each with a description, and nothing else
    assert shown.returncode == 0 and shown.stdout == default.stdout, shown.stderr
    listed = dict(re.findall(r"^  make (\S+)\s+(.+)$", shown.stdout, flags=re.M))
    assert set(listed) == set(TARGETS) | {"help"}
    assert all(len(text) > 10 for text in listed.values()), listed


def test_report_says_in_words_when_the_report_is_not_built(project_root, tmp_path):
    # given a project copy whose pipeline has not run (no reports/index.html)
    shutil.copy(project_root / "Makefile", tmp_path / "Makefile")
    # when `make report` runs
    done = make(tmp_path, "report")
    # then it fails with a sentence saying what to run, not a traceback
    assert done.returncode != 0
    assert "reports/index.html is not there yet: run make repro first" in done.stderr
