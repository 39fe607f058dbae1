"""The lifecycle's loop on a baked project, exactly as the project's README ("The loop") walks it.

1. `dvc repro`: the first model becomes champion v1; the default batch (covariate drift) is
   monitored.
2. A new batch arrives with concept drift (conf/data/synthetic_clinical.yaml, `batch:`);
   `dvc repro` re-runs only what reads the data, and the monitor says `retrain`.
3. `<package> accept`, point the monitor at the next batch, `dvc repro`:
   everything from ingest on re-runs, and the gate compares the new model with the champion on
   the new test rows; the registry agrees with reports/deploy/decision.json.

The tests share one project and run in file order; each builds on the state the previous one
left, as a user's session would. Three `dvc repro` runs in all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import STAGES, bake_and_install, run

pytestmark = pytest.mark.slow

PROJECT_NAME = "Loop Check"
PACKAGE = "loop_check"  # the package name cookiecutter derives from PROJECT_NAME
DATA_CONF = "conf/data/synthetic_clinical.yaml"
# The batch that arrives in step 2: same features as training (no covariate shift), fully
# drifted P(y | x) (docs/synthetic_data.md), large enough for the label-based tests.
DRIFTED_BATCH = {"n_rows": 8000, "seed": 2, "covariate_shift": 0.0, "concept_shift": 1.0}
NEXT_BATCH_SEED = 3
DATA_STAGES = set(STAGES) - {"compose", "define"}  # what new data re-runs


def ran_stages(output: str) -> set[str]:
    """Stages DVC says it ran (as opposed to skipped) in a repro's output."""
    return set(re.findall(r"Running stage '([\w-]+)'", output))


def read_json(project: Path, relative: str) -> dict:
    return json.loads((project / relative).read_text(encoding="utf-8"))


def params(project: Path) -> dict:
    return yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))


def set_batch(project: Path, **values: object) -> None:
    """Edit keys of the `batch:` block of the data config in place, keeping the comments.

    Only indented keys match, so the training data's own `n_rows` and `seed` stay untouched.
    """
    path = project / DATA_CONF
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^([ \t]+{key}:[ \t]*)[^\s#]+", rf"\g<1>{value}", text)
        assert count == 1, f"`batch.{key}` not found exactly once in {DATA_CONF}"
    path.write_text(text, encoding="utf-8")


def history(project: Path) -> list[dict]:
    import csv

    with (project / "reports/monitor/history.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def registry(project: Path):
    """(client, registered model name) on the project's own SQLite store."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{project / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri), \
        params(project)["deploy"]["registered_model_name"]


def alias(project: Path, name: str) -> int | None:
    from mlflow.exceptions import MlflowException

    client, model = registry(project)
    try:
        return int(client.get_model_version_by_alias(model, name).version)
    except MlflowException:
        return None


def versions(project: Path) -> list[int]:
    client, model = registry(project)
    return sorted(int(v.version) for v in client.search_model_versions(f"name = '{model}'"))


def commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", message], project)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project with a name of its own (its own registered model), baked and installed."""
    return bake_and_install(tmp_path_factory.mktemp("loop"), project_name=PROJECT_NAME)


def test_first_repro_makes_champion_v1_and_monitors_the_default_batch(project):
    # given a freshly baked project
    # when the lifecycle runs once
    done = run(["dvc", "repro"], project)
    # then every stage ran and the gate's decision is mirrored by the registry
    assert DATA_STAGES | {"compose", "define"} == ran_stages(done.stdout), done.stdout
    decision = read_json(project, "reports/deploy/decision.json")
    assert decision["version"] == 1
    assert decision["passed"], f"the first model should pass the gate: {decision['reasons']}"
    assert versions(project) == [1]
    assert alias(project, "challenger") == 1 and alias(project, "champion") == 1
    # and the default batch (covariate drift of 0.5 SD on age, bmi, creatinine) is the first
    # row of the history, its drift named. Its labels show the model holding (an under-confident
    # slope where the features moved, the ranking intact: covariate, not concept drift), so the
    # verdict is watch, as in 100 of 100 such batches of the project's monitoring simulation.
    rows = history(project)
    assert [r["verdict"] for r in rows] == ["watch"], rows
    covariate = [r for r in rows[0]["reasons"].split(" | ") if r.startswith("covariate drift")]
    assert covariate and all(f"'{f}'" in covariate[0] for f in ("age", "bmi", "creatinine"))
    commit(project, "champion v1")


def test_a_concept_drifted_batch_reruns_only_the_data_stages_and_says_retrain(project):
    # given a new labelled batch whose outcome model drifted (features unchanged)
    set_batch(project, **DRIFTED_BATCH)
    # when the pipeline runs
    done = run(["dvc", "repro"], project)
    # then only the stages that read the raw data re-ran: the split data did not change, so
    # the model, its evaluation and the registry are untouched
    ran = ran_stages(done.stdout)
    assert ran == {"compose", "ingest", "validate", "monitor", "report"}, done.stdout
    assert params(project)["data"]["batch"] == {**DRIFTED_BATCH, "prior_shift": 0.0}
    assert versions(project) == [1] and alias(project, "champion") == 1
    # and the monitor found the injected concept drift, and no covariate drift
    result = read_json(project, "reports/monitor/latest/monitoring.json")
    assert result["n"] == DRIFTED_BATCH["n_rows"] and result["labelled"]
    verdict = result["verdict"]
    assert verdict["verdict"] == "retrain", verdict["reasons"]
    assert verdict["details"]["concept_drift"], verdict["details"]
    assert any(r.startswith("concept drift") for r in verdict["reasons"]), verdict["reasons"]
    assert not any(r.startswith("covariate drift") for r in verdict["reasons"])
    assert result["performance"]["observed"]["calibration_slope"] < 0.8
    # and the history keeps one row per batch: the first batch, then this one
    rows = history(project)
    assert [r["verdict"] for r in rows][1] == "retrain" and len(rows) == 2, rows
    assert rows[0]["batch"] != rows[1]["batch"]
    commit(project, "batch 2: retrain")


def test_accepting_the_batch_retrains_and_the_gate_judges_against_the_champion(project):
    # given the labelled batch accepted into the training data, and the monitor pointed at the
    # next batch (the accepted rows are training data now, no test of the new model)
    done = run([PACKAGE, "accept"], project)
    accepted = project / "data/incoming/batch-001.parquet"
    assert "data/incoming/batch-001.parquet" in done.stdout and accepted.exists()
    again = run([PACKAGE, "accept"], project, check=False)
    assert again.returncode == 1 and "training data already" in again.stderr, again.stderr
    set_batch(project, seed=NEXT_BATCH_SEED)
    champion_before = alias(project, "champion")
    # when the pipeline runs
    done = run(["dvc", "repro"], project)
    # then everything downstream of the data re-ran, and nothing else (the charter did not change)
    assert ran_stages(done.stdout) == DATA_STAGES | {"compose"}, done.stdout
    import pandas as pd

    raw = pd.read_parquet(project / "data/raw/dataset.parquet")
    batch_ids = set(pd.read_parquet(accepted)["patient_id"])
    assert len(batch_ids) == DRIFTED_BATCH["n_rows"]
    assert len(raw) == params(project)["data"]["n_rows"] + DRIFTED_BATCH["n_rows"]
    assert batch_ids <= set(raw["patient_id"])
    prepared = read_json(project, "reports/metrics/prepare.json")
    assert prepared["corrections"]["n_rows_after"] == len(raw)
    # and the gate compared the new version with the champion on the same (new) test rows
    decision = read_json(project, "reports/deploy/decision.json")
    evaluation = read_json(project, "reports/metrics/evaluate.json")
    assert decision["version"] == 2
    comparison = decision["champion_comparison"]
    assert comparison is not None and "error" not in comparison, comparison
    assert comparison["version"] == champion_before
    assert comparison["auc_difference"]["model"] == pytest.approx(evaluation["auc"])
    assert evaluation["n"] == prepared["test"]["rows"]
    assert any(f"champion v{champion_before}" in r for r in decision["reasons"])
    # and the registry agrees with the decision: challenger = the new version; champion moved
    # to it if and only if the gate passed
    assert versions(project) == [1, 2]
    assert alias(project, "challenger") == 2
    assert alias(project, "champion") == (2 if decision["passed"] else champion_before)
    assert decision["champion_version"] == alias(project, "champion")
    client, model = registry(project)
    tags = client.get_model_version(model, "2").tags
    assert tags["gate"] == ("passed" if decision["passed"] else "failed")
    # and the monitor judged the next batch, new rows the model never saw: a third history row
    batch = pd.read_parquet(project / "data/raw/batch.parquet")
    assert len(batch) == DRIFTED_BATCH["n_rows"]
    assert not set(batch["patient_id"]) & set(raw["patient_id"])
    result = read_json(project, "reports/monitor/latest/monitoring.json")
    rows = history(project)
    assert rows[1]["verdict"] == "retrain", rows
    assert len(rows) == 3 and len({r["batch"] for r in rows}) == 3, rows
    assert rows[2]["verdict"] == result["verdict"]["verdict"] != "investigate-data"
    commit(project, "retrained with batch-001")
