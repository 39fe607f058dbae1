"""Runs that light stages record reach MLflow through the background writer, complete and in
order under one parent; a run that cannot be written is said, not lost."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

from {{ cookiecutter.package_name }}.core import pending_runs
from {{ cookiecutter.package_name }}.core.config import flatten
from {{ cookiecutter.package_name }}.core.settings import MlflowSettings
from {{ cookiecutter.package_name }}.core.tracking import direct_stage_run, stage_run

EXPERIMENT = "pending-tests"
CONF = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty local store: ``mlflow.db`` and ``.mlflow-pending/`` under ``tmp_path``."""
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    return tmp_path


@pytest.fixture
def local_settings(settings):
    return settings.model_copy(update={
        "mlflow": MlflowSettings(tracking_uri="local", experiment_name=EXPERIMENT)})


def client(store: Path) -> MlflowClient:

    uri = f"sqlite:///{store / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def wait_until_written(store: Path) -> None:
    pending_runs.wait_until_written(store / pending_runs.FOLDER)


def runs(store: Path) -> dict[str, Run]:
    c = client(store)
    experiment = c.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    return {r.info.run_name: r for r in c.search_runs([experiment.experiment_id])}


def test_a_recorded_run_reaches_the_store_complete_under_its_parent(store, local_settings):
    # given a light stage's run with metrics, parameters, tags, a file, a dict and a text
    report = store / "report.md"
    report.write_text("# report\n", encoding="utf-8")
    with stage_run("define", local_settings, groups=("project",),
                   extra_tags={"data.rows": "150"}) as run:
        run.log_metrics({"auc": 0.8})
        run.log_artifact(report, "docs")
        run.log_dict({"criteria": 4}, "charter.json")
        run.log_text("hello", "notes/hello.md")
    # and the file deleted afterwards, as DVC deletes a stage's outputs before re-running it
    report.unlink()
    # when the background writer has run (nothing here writes for it)
    wait_until_written(store)
    # then the child run is complete, under a parent run named after the pipeline run
    found = runs(store)
    child = found["define"]
    assert child.info.status == "FINISHED" and child.info.end_time >= child.info.start_time
    # named after the stage that logged them: MLflow's charts then group them by stage
    assert child.data.metrics == {"define/auc": 0.8}
    assert child.data.params["project.name"] == local_settings.project.name
    assert child.data.tags["data.rows"] == "150" and child.data.tags["pipeline.stage"] == "define"
    parent = found[next(n for n in found if n.startswith("pipeline-"))]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert parent.data.tags["pipeline.stage"] == "pipeline"
    # and the artifacts are the copies taken when the stage logged them
    artifacts = Path(client(store).download_artifacts(child.info.run_id, "", str(store / "dl")))
    assert (artifacts / "docs/report.md").read_text(encoding="utf-8") == "# report\n"
    assert json.loads((artifacts / "charter.json").read_text()) == {"criteria": 4}
    assert (artifacts / "notes/hello.md").read_text(encoding="utf-8") == "hello"
    assert not pending_runs.pending_records(store / pending_runs.FOLDER)


def test_the_parent_carries_the_pipeline_params_tags_and_headline_metrics(store,
                                                                        local_settings):
    # given a light stage that logs its headline to the parent, then a direct one that does too
    with stage_run("evaluate", local_settings, groups=("evaluate",)) as run:
        run.log_metrics({"auc": 0.8, "auc_lo": 0.7, "auc_hi": 0.9}, to_parent=True)
        run.log_metrics({"n": 1000.0})
    with direct_stage_run("deploy", local_settings, groups=()) as direct:
        direct.log_metrics({"passed": 1}, to_parent=True)
        direct.tag_parent({"gate": "passed"})
    wait_until_written(store)
    found = runs(store)
    parent = found[next(n for n in found if n.startswith("pipeline-"))]
    # then the parent holds the headline metrics under the children's names, and only those
    assert parent.data.metrics == {"evaluate/auc": 0.8, "evaluate/auc_lo": 0.7,
                                   "evaluate/auc_hi": 0.9, "deploy/passed": 1.0}
    assert found["evaluate"].data.metrics["evaluate/n"] == 1000.0
    # and every composed parameter, flattened with dotted keys, within MLflow's limit
    params = parent.data.params
    assert params["model.name"] == local_settings.model.name
    assert params["evaluate.n_bootstrap"] == str(local_settings.evaluate.n_bootstrap)
    composed = flatten(local_settings.model_dump(mode="json", exclude_unset=True))
    assert set(params) == set(composed)
    assert all(len(v) <= 6000 for v in params.values())
    # and its own tags: the pipeline's, not those of the stage that created it
    tags = parent.data.tags
    assert tags["gate"] == "passed" and tags["pipeline.stage"] == "pipeline"
    assert "dvc.stage" not in tags and tags["pipeline"].endswith("(outside DVC)")
    assert tags["dvc.experiment"] == "workspace" and tags["git.commit"]
    # and MLflow 3's UI opens the experiment on its runs (model training), not on traces
    experiment = client(store).get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_child_run_spans_its_stage_process(store, local_settings):
    # given a stage process that worked for a while before its runs open (train, deploy: direct)
    import psutil

    started = psutil.Process().create_time() * 1000  # to the second (from the boot time)
    opened = time.time() * 1000
    with stage_run("define", local_settings, groups=()):
        pass
    with direct_stage_run("train", local_settings, groups=()):
        pass
    wait_until_written(store)
    # then both runs start when the process started, not when logging began
    found = runs(store)
    for name in ("define", "train"):
        info = found[name].info
        assert started - 1000 < info.start_time < started + 1000 < opened, name
        assert info.end_time >= opened


def test_a_failing_stage_records_a_failed_run_and_keeps_its_error(store, local_settings):
    # given a stage whose work fails inside its run
    with pytest.raises(ZeroDivisionError), stage_run("validate", local_settings, groups=()):
        1 / 0  # noqa: B018 - the failure under test
    # then the error propagates, and the run reaches the store as FAILED
    wait_until_written(store)
    assert runs(store)["validate"].info.status == "FAILED"


def test_light_and_direct_runs_keep_their_order_and_one_parent(store, local_settings):
    # given a light stage's run, then a stage that writes directly (train, deploy)
    with stage_run("define", local_settings, groups=()) as light:
        light.log_metrics({"n": 1.0})
    with direct_stage_run("train", local_settings, groups=()) as direct:
        train_id = direct.run_id
    # and a later light run that tags the direct one with its own id (evaluate -> train)
    with stage_run("evaluate", local_settings, groups=()) as later:
        later.link_tag(train_id, "evaluate_run_id")
    wait_until_written(store)
    # then the three share one parent, the light run came first, and the link points back
    found = runs(store)
    parents = {found[n].data.tags["mlflow.parentRunId"] for n in ("define", "train", "evaluate")}
    assert len(parents) == 1
    assert found["define"].info.start_time <= found["train"].info.start_time
    assert found["train"].data.tags["evaluate_run_id"] == found["evaluate"].info.run_id


def test_a_record_that_cannot_be_written_stays_and_is_said(store, local_settings, caplog):
    # given a pending record the writer cannot write (here: its content is damaged)
    folder = store / pending_runs.FOLDER
    with stage_run("define", local_settings, groups=()):
        pass
    wait_until_written(store)
    damaged = folder / "00000000000000000001-define-damaged"
    damaged.mkdir()
    (damaged / pending_runs.RECORD).write_text("{}", encoding="utf-8")
    # when a writer runs
    status = pending_runs.run_writer(None)
    # then it fails, keeps the record, and writes why
    assert status == 1 and damaged.exists()
    assert "KeyError" in (folder / pending_runs.ERRORS).read_text(encoding="utf-8")
    # and the next stage warns, naming the command that writes pending runs in the foreground
    with caplog.at_level(logging.WARNING):
        pending_runs.warn_if_stuck()
    assert "1 MLflow run(s) recorded by earlier stages are not in the store" in caplog.text
    assert " sync` to write them now" in caplog.text
    # and once it is gone, a writer clears the error
    shutil.rmtree(damaged)
    assert pending_runs.run_writer(None) == 0 and not (folder / pending_runs.ERRORS).exists()


@pytest.mark.parametrize("stage", ["define", "compose"])
def test_light_stages_import_neither_mlflow_nor_scikit_learn(tmp_path, stage):
    # given a project whose params.yaml is composed (compose checked the model group then)
    shutil.copytree(CONF, tmp_path / "conf")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    package = pending_runs.__name__.split(".")[0]
    script = f"from {package}.core.composition import compose; compose()"
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, env=_env())
    # when the stage runs in a fresh process
    script = (f"import sys; from {package}.stages import {stage}; {stage}.main(); "
              "print(sorted(m for m in ('mlflow', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, env={**_env(), "DVC_ROOT": str(tmp_path)})
    # then it did its work (and its tracking) without importing either
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _env() -> dict[str, str]:
    source = str(Path(pending_runs.__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": source, "MPLBACKEND": "Agg"}


def test_sync_returns_once_every_recorded_run_is_in_the_store(tmp_path, monkeypatch, capsys):
    # given a composed project whose light stage has just recorded its run
    shutil.copytree(CONF, tmp_path / "conf")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    from {{ cookiecutter.package_name }}.commands import sync
    from {{ cookiecutter.package_name }}.core.composition import compose
    from {{ cookiecutter.package_name }}.core.settings import load_settings

    compose()
    settings = load_settings()
    with stage_run("define", settings, groups=()) as run:
        run.log_metrics({"criteria": 4.0})
    # when `sync` runs (whether or not the background writer got there first)
    sync.main([])
    # then the run is in the store as soon as it returns, and it says so
    c = client(tmp_path)
    experiment = c.get_experiment_by_name(settings.mlflow.experiment_name)
    assert experiment is not None
    found = c.search_runs([experiment.experiment_id], filter_string="tags.`pipeline.stage` = "
                          "'define'")
    assert [r.data.metrics for r in found] == [{"define/criteria": 4.0}]
    assert "run(s) written to the MLflow store" in capsys.readouterr().out
