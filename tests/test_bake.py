"""Baking: the exact files for each combination of answers, no template syntax left, git and
DVC initialised, the project installs, lints clean and its own tests pass."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE, install, project_env, run, template_leftovers

# Every file of a default project outside src/ and tests/, by path, except git's (.git/) and
# DVC's configuration (.dvc/, checked apart). params.yaml is composed by `dvc repro`.
ALWAYS = [
    ".dvcignore",
    ".gitignore",
    ".python-version",
    "LICENSE",
    "Makefile",
    "README.md",
    "benchmarks/README.md",
    "benchmarks/bench_metrics.py",
    "benchmarks/bench_monitor.py",
    "benchmarks/bench_pipeline.py",
    "benchmarks/bench_stages.py",
    "conf/config.yaml",
    "conf/data/breast_cancer.yaml",
    "conf/data/own_file.yaml",
    "conf/data/synthetic_clinical.yaml",
    "conf/deploy/default.yaml",
    "conf/evaluate/default.yaml",
    "conf/mlflow/local.yaml",
    "conf/mlflow/server.yaml",
    "conf/model/hist_gradient_boosting.yaml",
    "conf/model/logistic_regression.yaml",
    "conf/model/random_forest.yaml",
    "conf/monitor/default.yaml",
    "conf/prepare/default.yaml",
    "conf/preset/data/fast_synthetic_clinical.yaml",
    "conf/preset/default.yaml",
    "conf/preset/fast.yaml",
    "conf/preset/model/fast_hist_gradient_boosting.yaml",
    "conf/preset/model/fast_random_forest.yaml",
    "conf/project/charter.yaml",
    "conf/serve/default.yaml",
    "conf/train/default.yaml",
    "data/corrections.csv",
    "data/external/README.md",
    "data/incoming/README.md",
    "docs/synthetic_data.md",
    "dvc.yaml",
    "notebooks/01_start_here.ipynb",
    "pyproject.toml",
]
CI_FILES = [".github/workflows/ci.yml"]
PRE_COMMIT_FILES = [".pre-commit-config.yaml"]

MATRIX = [
    {},
    {"example_data": "breast_cancer", "default_model": "logistic_regression", "ci_workflow": "no",
     "license": "Apache-2.0", "project_name": "Tumour Triage"},
    {"example_data": "own_file", "own_file_path": "data/external/admissions.csv",
     "own_file_target": "outcome", "default_model": "random_forest", "pre_commit": "no",
     "license": "Proprietary", "project_name": "Own Data Project", "package_name": "owndata"},
    {"mlflow_tracking": "server", "mlflow_server_url": "http://127.0.0.1:5999",
     "init_git": "no", "license": "BSD-3-Clause", "python_version": "3.12"},
]


def baked_files(project: Path) -> set[str]:
    return {
        p.relative_to(project).as_posix() for p in project.rglob("*")
        if p.is_file() and not {".git", ".dvc", "__pycache__"} & set(p.relative_to(project).parts)
    }


def code_files(package: str) -> set[str]:
    """The package's modules and the project's tests: every one the template holds, none other."""
    template = TEMPLATE / "{{cookiecutter.project_slug}}"
    return {
        p.relative_to(template).as_posix().replace("{{cookiecutter.package_name}}", package)
        for folder in ("src", "tests") for p in (template / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def expected_files(answers: dict[str, str], package: str) -> set[str]:
    files = set(ALWAYS) | code_files(package)
    if answers.get("ci_workflow", "yes") == "yes":
        files |= set(CI_FILES)
    if answers.get("pre_commit", "yes") == "yes":
        files |= set(PRE_COMMIT_FILES)
    return files


@pytest.mark.parametrize("answers", MATRIX, ids=lambda a: a.get("project_name", "default")
                         + ("-" + a["example_data"] if "example_data" in a else ""))
def test_bake_produces_exactly_the_expected_files(bake, answers):
    # given a set of answers, when baked
    project = bake(**answers)
    package = answers.get("package_name") or project.name.replace("-", "_")
    # then the files are exactly the expected ones, fully rendered
    assert baked_files(project) == expected_files(answers, package)
    # (the HTML report's Jinja2 templates are copied as they are: _copy_without_render)
    report_templates = f"src/{package}/reporting/templates/"
    assert [f for f in template_leftovers(project) if not f.startswith(report_templates)] == []
    source = TEMPLATE / "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}"
    for path in (source / "reporting/templates").iterdir():
        assert (project / report_templates / path.name).read_bytes() == path.read_bytes(), path
    # and DVC is configured with Hydra composition (without git: no_scm), git initialised
    # with a first commit if asked
    dvc_config = (project / ".dvc" / "config").read_text()
    assert "[hydra]" in dvc_config and "enabled = true" in dvc_config
    assert ("no_scm = true" in dvc_config) == (answers.get("init_git") == "no")
    if answers.get("init_git", "yes") == "yes":
        log = run(["git", "log", "--oneline"], project).stdout.splitlines()
        assert len(log) == 1
        assert run(["git", "status", "--porcelain"], project).stdout == ""
    else:
        assert not (project / ".git").exists()


def test_answers_reach_the_generated_config(bake):
    # given answers for data, model and tracking, when baked and composed as `dvc repro` does
    project = bake(example_data="breast_cancer", default_model="random_forest",
                   mlflow_tracking="server", mlflow_server_url="http://127.0.0.1:5999")
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(project / "conf"), version_base="1.3"):
        params = compose("config")
    # then the composed parameters hold them
    assert params["data"]["source"] == "breast_cancer"
    assert params["model"]["name"] == "random_forest"
    assert params["mlflow"]["tracking_uri"] == "http://127.0.0.1:5999"
    assert params["project"]["sensitive_attributes"] == []


def test_first_commit_works_without_a_git_identity(bake, tmp_path, monkeypatch):
    # given a machine where git has no user identity
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    # when baked, then the first commit exists, authored with the template's answers
    project = bake(author_name="Ada Lovelace", author_email="ada@example.org")
    author = run(["git", "log", "-1", "--format=%an <%ae>"], project,
                 env=project_env(project, HOME=str(home))).stdout.strip()
    assert author == "Ada Lovelace <ada@example.org>"


def test_baked_project_type_checks(bake):
    # given a default project (the code is the same in every variant but for the package name)
    project = bake(init_git="no")
    # when mypy runs there as its CI and pre-commit hook run it (configured in pyproject.toml,
    # the libraries and stubs of the project's dev extra installed in this interpreter)
    done = run([sys.executable, "-m", "mypy"], project, check=False, timeout=900)
    # then src/, tests/ and benchmarks/ have no type error
    assert done.returncode == 0 and "Success" in done.stdout, done.stdout[-8000:] + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("answers", MATRIX[:3], ids=["default", "breast_cancer", "own_file"])
def test_baked_project_installs_lints_and_passes_its_own_tests(bake, answers):
    project = bake(**answers)
    install(project)
    run([sys.executable, "-m", "ruff", "check", "."], project)
    # the unit tests are the same code in every variant: run them all once (default), and
    # the data-source-specific tiny end-to-end run for every variant
    selection = [] if not answers else ["tests/test_pipeline_e2e.py", "tests/test_config.py"]
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
               project, timeout=1800)
    assert " passed" in done.stdout and " failed" not in done.stdout
