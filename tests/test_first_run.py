"""A new user's first run: cookiecutter without DVC or Hydra, pip install, `dvc repro`.

Nothing else may be needed (no bootstrap step), and a failed run must leave git clean: DVC
drops the .gitignore entries of the stages that succeeded when a later one fails, and a
`git add -A` then would commit data and block every later run.
"""

from __future__ import annotations

import subprocess

import pytest
from helpers import bake, bare_cookiecutter, install, run

pytestmark = pytest.mark.slow

STAGE_OUTPUTS = ("data/raw", "data/interim", "data/processed", "data/predictions", "models/",
                 "reports/data", "reports/define", "reports/labels")


def test_the_cookiecutter_used_has_neither_dvc_nor_hydra():
    # given the cookiecutter the tests bake with, then it cannot import DVC or Hydra
    python = bare_cookiecutter().parent / "python"
    for module in ("dvc", "hydra"):
        probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} is importable by the baking Python"


def test_bake_install_repro_and_a_failed_run_leaves_git_clean(tmp_path):
    # given a project baked by a bare cookiecutter and installed as its README says
    project = bake(tmp_path / "out", project_name="First Contact")
    install(project)
    assert not (project / "params.yaml").exists()
    # and a reviewed corrections file with a mistake, so that `labels` fails mid-pipeline
    corrections = project / "data" / "corrections.csv"
    good = corrections.read_text()
    corrections.write_text(good + "no-such-id,relabel,maybe,typo in the label\n")
    # when the user runs the pipeline, it stops at labels with a message naming the file
    failed = run(["dvc", "repro"], project, check=False)
    assert failed.returncode != 0
    assert "corrections.csv" in failed.stderr and "Traceback" not in failed.stderr
    # and the user then stages everything, as people do
    run(["git", "add", "-A"], project)
    staged = run(["git", "diff", "--cached", "--name-only"], project).stdout.split()
    # then no stage output is staged for git (only DVC's lock, params and small metrics)
    assert not [p for p in staged if p.startswith(STAGE_OUTPUTS)], staged
    run(["git", "commit", "-q", "-m", "a failed run"], project)
    # when the mistake is fixed, the next run completes the lifecycle with no other step
    corrections.write_text(good)
    done = run(["dvc", "repro"], project)
    assert "Running stage 'monitor'" in done.stdout
    assert (project / "reports" / "deploy" / "decision.json").exists()
