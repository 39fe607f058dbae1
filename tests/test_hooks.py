"""The pre-generation hook rejects bad answers with one clear line and leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE

BAD_ANSWERS = [  # (answers, the field the message must name, the rule it must state)
    ({"project_slug": "My Project"}, "project_slug", "lowercase"),
    ({"package_name": "class"}, "package_name", "Python keyword"),
    ({"package_name": "mlflow"}, "package_name", "shadow"),
    ({"package_name": "sklearn"}, "package_name", "shadow"),
    ({"package_name": "test"}, "package_name", "shadow"),
    ({"package_name": "1model"}, "package_name", "valid lowercase Python identifier"),
    ({"package_name": "my-model"}, "package_name", "valid lowercase Python identifier"),
    ({"project_name": " "}, "project_name", "must not be empty"),
    ({"description": 'Predicts "risk"'}, "description", "double quotes"),
    ({"python_version": "3.9"}, "python_version", "not supported"),
    ({"example_data": "own_file", "own_file_path": "data.xlsx"}, "own_file_path", ".csv"),
    ({"example_data": "own_file", "own_file_path": "data/raw/x.csv"}, "own_file_path", "rewrites"),
    ({"mlflow_tracking": "server", "mlflow_server_url": "localhost"}, "mlflow_server_url", "URL"),
]


def bake_cli(answers: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    """Run the cookiecutter command line, as a user would, with answers on the command line."""
    args = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE)]
    args += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("answers", "field", "rule"), BAD_ANSWERS)
def test_bad_answer_is_rejected_and_nothing_is_left(answers, field, rule, tmp_path):
    # given a bad answer
    out = tmp_path / "out"
    out.mkdir()
    # when the template is baked
    done = bake_cli(answers, out)
    # then cookiecutter fails, the hook's message names the field and rule, no directory is left
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert lines, done.stderr
    assert any(line.startswith(f"ERROR: {field}:") and rule in line for line in lines), lines
    assert list(out.iterdir()) == []


def test_answers_that_follow_the_rules_pass_the_hook(tmp_path):
    # given unusual but valid answers, when baked without git, then the project exists
    out = tmp_path / "out"
    out.mkdir()
    done = bake_cli(
        {"project_name": "Sepsis Early Warning 2", "package_name": "sepsis_ews2",
         "init_git": "no"}, out,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "sepsis-early-warning-2" / "src" / "sepsis_ews2" / "train.py").exists()
