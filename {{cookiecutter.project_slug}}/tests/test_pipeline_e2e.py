"""A tiny end-to-end run: the whole DVC pipeline on small data in a scratch copy.

Slow (about a minute): deselect with ``pytest -m "not slow"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow
COPIED = ("conf", "src", "dvc.yaml", "pyproject.toml", ".dvcignore", ".gitignore",
          "data/corrections.csv", "data/incoming", "data/external")


def sh(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"), "MPLBACKEND": "Agg"}
    env.pop("MLFLOW_RUN_ID", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    return done.stdout


def shrink(path: Path, **changes: Any) -> None:
    """Rewrite a conf file with some keys changed (comments are lost; it is a scratch copy)."""
    cfg = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = cfg
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    path.write_text(yaml.safe_dump(cfg))


@pytest.fixture
def scratch(tmp_path: Path, project_root: Path) -> Path:
    for name in COPIED:
        source, target = project_root / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    data = yaml.safe_load((tmp_path / "conf/config.yaml").read_text())["defaults"]
    source = next(d["data"] for d in data if isinstance(d, dict) and "data" in d)
    conf = tmp_path / "conf/data" / f"{source}.yaml"
    if source == "synthetic_clinical":
        shrink(conf, n_rows=3000, batch__n_rows=1000)
    elif source == "own_file":
        cfg = yaml.safe_load(conf.read_text())
        from {{ cookiecutter.package_name }}.data.synthetic import generate

        frame, _ = generate(n=3000, seed=0)
        frame = frame.rename(columns={"readmitted": cfg["target"]}).drop(columns=["admission_date"])
        (tmp_path / cfg["path"]).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(tmp_path / cfg["path"], index=False)
        # a stable id: label corrections refuse position-based row numbers
        shrink(conf, id_column="patient_id")
    shrink(tmp_path / "conf/evaluate/default.yaml", n_bootstrap=200)
    shrink(tmp_path / "conf/train/default.yaml", permutation_importance__n_repeats=1)
    sh(["git", "init", "-q"], tmp_path)
    sh([sys.executable, "-m", "dvc", "init", "-q"], tmp_path)
    sh([sys.executable, "-m", "{{ cookiecutter.package_name }}.stages.compose"], tmp_path)
    return tmp_path


def test_whole_pipeline_runs_and_writes_every_report(scratch):
    # given a small copy of the project, when the pipeline runs
    sh([sys.executable, "-m", "dvc", "repro"], scratch)
    # then each step wrote its outputs
    for path in ("reports/define/project_card.md", "reports/data/profile.json",
                 "reports/labels/suspects.csv", "data/processed/test.parquet",
                 "models/train/model.skops", "reports/evaluate/report.md",
                 "reports/evaluate/plots/roc.csv", "reports/deploy/decision.md",
                 "reports/monitor/latest/report.md", "reports/monitor/history.csv"):
        assert (scratch / path).exists(), path
    metrics = json.loads((scratch / "reports/metrics/evaluate.json").read_text())
    assert 0.5 < metrics["auc"] <= 1 and metrics["auc_lo"] < metrics["auc"] < metrics["auc_hi"]
    decision = json.loads((scratch / "reports/deploy/decision.json").read_text())
    assert decision["reasons"]
    verdict = json.loads((scratch / "reports/monitor/latest/monitoring.json").read_text())
    assert verdict["verdict"]["verdict"] in ("ok", "watch", "retrain", "investigate-data")
    # and a second run has nothing to do
    assert "Running stage" not in sh([sys.executable, "-m", "dvc", "repro"], scratch)


def test_corrections_file_relabels_and_excludes_rows(scratch):
    # given a first run and two reviewed corrections: one exclusion, one relabel
    sh([sys.executable, "-m", "dvc", "repro", "prepare"], scratch)
    schema = json.loads((scratch / "data/interim/schema.json").read_text())
    import pandas as pd

    train = pd.read_parquet(scratch / "data/processed/train.parquet")
    id_col, target = schema["id_column"], schema["target"]
    excluded, relabelled = train[id_col].iloc[0], train[id_col].iloc[1]
    new_label = 1 - int(train[target].iloc[1])
    (scratch / "data/corrections.csv").write_text(
        "id,action,label,reason\n"
        f"{excluded},exclude,,duplicate record\n"
        f"{relabelled},relabel,{new_label},chart review\n"
    )
    # when the pipeline runs again
    out = sh([sys.executable, "-m", "dvc", "repro", "prepare"], scratch)
    # then prepare re-ran and applied both
    assert "Running stage 'prepare'" in out
    splits = pd.concat([pd.read_parquet(scratch / f"data/processed/{s}.parquet")
                        for s in ("train", "valid", "test")])
    ids = splits[id_col]
    assert excluded not in set(ids)
    assert int(splits.loc[ids == relabelled, target].iloc[0]) == new_label
    applied = json.loads((scratch / "reports/metrics/prepare.json").read_text())["corrections"]
    assert applied["excluded"] == 1 and applied["relabelled"] == 1


def test_invalid_data_fails_validate_with_a_clear_message(scratch):
    # given valid data that went through validation once
    sh([sys.executable, "-m", "dvc", "repro", "validate"], scratch)
    schema = json.loads((scratch / "data/interim/schema.json").read_text())
    column = schema["numeric"][0]
    # when the data config declares a range the data breaks
    data_conf = next((scratch / "conf/data").glob(f"{schema['name']}.yaml"), None)
    data_conf = data_conf or next(p for p in (scratch / "conf/data").glob("*.yaml")
                                  if "own_file" in p.name)
    cfg = yaml.safe_load(data_conf.read_text())
    cfg["ranges"] = {column: [None, -1e9]}
    data_conf.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(scratch / "src")}
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", "validate"], cwd=scratch,
                          env=env, capture_output=True, text=True, timeout=600)
    # then the stage fails, the message names the column and rule, earlier outputs stay
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert column in message and "range" in message.lower(), message
    assert "Traceback" not in message, message
    assert (scratch / "data/raw/dataset.parquet").exists()
