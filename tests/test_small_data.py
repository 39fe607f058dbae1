"""A 150-row table runs the whole lifecycle with every model family's default configuration,
and a model that predicts a constant is said in words and refused by the gate.

The tests share one baked project and run in file order (each run re-runs only the stages
whose configuration changed): 150 synthetic rows with the default model, the other two
families, a constant model, then a 150-row table of the user's own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import STAGES, bake_and_install, run

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default project whose synthetic source has 150 rows."""
    project = bake_and_install(tmp_path_factory.mktemp("small"), project_name="Small Data")
    conf = project / "conf/data/synthetic_clinical.yaml"
    text, count = re.subn(r"(?m)^n_rows: \d+", "n_rows: 150", conf.read_text())
    assert count == 1, "conf/data/synthetic_clinical.yaml has no top-level n_rows"
    conf.write_text(text)
    return project


def ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", output))


def _strict(value: str):
    raise AssertionError(f"{value} in a JSON output: undefined values must be null")


def read_strict(path: Path):
    """A JSON file, failing on NaN or Infinity (Python's json would accept them)."""
    return json.loads(path.read_text(), parse_constant=_strict)


def assert_metrics_finite_or_null(project: Path) -> None:
    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")
        else:
            assert value is None or isinstance(value, (int, float, str)), where

    files = sorted((project / "reports/metrics").glob("*.json"))
    assert {f.stem for f in files} >= {"train", "evaluate", "deploy", "monitor"}, files
    for path in [*files, project / "reports/evaluate/evaluation.json",
                 project / "reports/deploy/decision.json"]:
        walk(read_strict(path), path.name)


def assert_decided(project: Path) -> dict:
    decision = read_strict(project / "reports/deploy/decision.json")
    assert isinstance(decision["passed"], bool) and decision["reasons"], decision
    return decision


def test_150_rows_run_end_to_end_with_the_default_model_and_say_what_adapted(small_project):
    # given a project whose data source has 150 rows (about 90 training rows)
    # when the whole pipeline runs with the default configuration
    done = run(["dvc", "repro"], small_project)
    # then every stage ran
    assert ran_stages(done.stdout) == set(STAGES), done.stdout
    # and every metrics file holds finite numbers or null
    assert_metrics_finite_or_null(small_project)
    # and train capped the boosting leaf (50 rows) and resolved early stopping off, saying so
    train = read_strict(small_project / "reports/metrics/train.json")
    n_train = train["n_train_rows"]
    assert 60 < n_train < 120, train
    assert train["adapted"] == {"min_samples_leaf": n_train // 10, "early_stopping": 0}
    assert train["constant_predictions"] == 0
    assert "model.params.min_samples_leaf: 50 -> " in done.stderr + done.stdout
    report = (small_project / "reports/evaluate/report.md").read_text()
    top = report.split("## Next actions")[0]
    assert (f"Settings adapted to the {n_train} training rows (`hist_gradient_boosting`): "
            f"`min_samples_leaf` 50 -> {n_train // 10}") in top
    assert "`early_stopping` auto -> false" in top
    assert "predicts a constant" not in report
    # and the gate decided
    assert_decided(small_project)


@pytest.mark.parametrize("family", ["random_forest", "logistic_regression"])
def test_150_rows_run_end_to_end_with_each_other_family(small_project, family):
    # given the 150-row project; when another family runs with its default configuration
    done = run(["dvc", "exp", "run", "-S", f"model={family}"], small_project)
    # then the model's stages ran, their outputs are finite or null, and the gate decided
    assert {"train", "evaluate", "deploy", "monitor"} <= ran_stages(done.stdout), done.stdout
    assert_metrics_finite_or_null(small_project)
    assert_decided(small_project)
    train = read_strict(small_project / "reports/metrics/train.json")
    leaf = {"min_samples_leaf": train["n_train_rows"] // 10}
    assert train["adapted"] == (leaf if family == "random_forest" else {})


def test_a_constant_model_is_said_in_words_and_failed_by_the_gate(small_project):
    # given a forest whose leaves must hold 60% of the rows (a fraction: nothing adapts it), so
    # no tree can split and every row gets the same probability
    # when the pipeline runs with it
    done = run(["dvc", "exp", "run", "-S", "model=random_forest",
                "-S", "model.params.min_samples_leaf=0.6"], small_project)
    # then no stage crashed, and undefined statistics are null, never NaN
    assert {"train", "evaluate", "deploy", "monitor"} <= ran_stages(done.stdout), done.stdout
    assert_metrics_finite_or_null(small_project)
    evaluation = read_strict(small_project / "reports/evaluate/evaluation.json")
    assert evaluation["constant_predictions"]["constant"] is True
    assert evaluation["calibration"]["slope"]["estimate"] is None
    assert evaluation["discrimination"]["auc"]["lo"] is None
    # and train said it in its log and its metrics
    assert "the model predicts a constant" in done.stderr + done.stdout
    assert read_strict(small_project / "reports/metrics/train.json")["constant_predictions"] == 1
    # and the report says it first, with what it means
    report = (small_project / "reports/evaluate/report.md").read_text()
    top = report.split("## Next actions")[0]
    assert "**The model predicts a constant (p = " in top
    assert "its discrimination is 0.5 by construction" in top
    assert "the deploy gate cannot pass it" in top
    assert "slope undefined (constant predictions)" in report
    # and the gate failed it for that reason, first
    decision = assert_decided(small_project)
    assert decision["passed"] is False
    assert decision["reasons"][0].startswith("FAIL the model predicts a constant")
    assert "0.5 by construction" in decision["reasons"][0]


def test_a_150_row_table_of_ones_own_runs_end_to_end(small_project):
    # given 150 rows of scikit-learn's breast cancer data as the user's own file (no sensitive
    # attributes in it)
    from sklearn.datasets import load_breast_cancer

    table = load_breast_cancer(as_frame=True).frame.sample(150, random_state=0)
    table.to_csv(small_project / "data/external/my_data.csv", index=False)
    run(["git", "add", "data/external/my_data.csv"], small_project)
    run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q",
         "-m", "A 150-row table of our own"], small_project)
    # when the pipeline runs on it with the default model
    done = run(["dvc", "exp", "run", "-S", "data=own_file",
                "-S", "project.sensitive_attributes=[]"], small_project)
    # then every stage from ingestion on ran, with finite or null outputs and a decision
    assert set(STAGES) - {"compose", "define"} <= ran_stages(done.stdout), done.stdout
    assert_metrics_finite_or_null(small_project)
    assert_decided(small_project)
    train = read_strict(small_project / "reports/metrics/train.json")
    assert train["adapted"]["min_samples_leaf"] == train["n_train_rows"] // 10
    assert train["constant_predictions"] == 0
