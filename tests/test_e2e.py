"""End to end on a baked default project: `dvc repro`, MLflow, registry, metrics, re-runs,
and both configuration flows (edit conf/ + repro; `dvc exp run -S` and a queued sweep).

These tests share one baked project and run in file order: each builds on the state the
previous one left (as a user's session would).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from helpers import STAGES, project_env, run, run_queue, wait_for_pending_runs

pytestmark = pytest.mark.slow



def ran_stages(output: str) -> set[str]:
    """Stages DVC says it ran (as opposed to skipped) in a repro's output."""
    return set(re.findall(r"Running stage '([\w-]+)'", output))


# each stage's wall time in the first `dvc repro`, seconds (test_first_repro... measures it)
STAGE_WALLS: dict[str, float] = {}


def timed_repro(project: Path) -> tuple[str, dict[str, float]]:
    """`dvc repro` with each output line timed on arrival; its output and each stage's wall time.

    A stage's wall runs from DVC's "Running stage" line to the next line DVC prints for itself,
    so it holds the stage's process and DVC's work around it (hashing its outputs, the lock).
    """
    env = {**project_env(project), "PYTHONUNBUFFERED": "1"}  # lines arrive as they are printed
    process = subprocess.Popen(["dvc", "repro"], cwd=project, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    lines = [(time.monotonic(), line) for line in process.stdout]
    assert process.wait(timeout=900) == 0, "".join(line for _, line in lines)
    walls: dict[str, float] = {}
    current: tuple[str, float] | None = None
    for at, line in lines:
        started = re.match(r"Running stage '([\w-]+)'", line)
        if current and (started or line.startswith(("Updating lock file", "Stage '"))):
            walls[current[0]] = at - current[1]
            current = None
        if started:
            current = (started.group(1), at)
    return "".join(line for _, line in lines), walls


def mlflow_client(project: Path):
    import mlflow
    from mlflow import MlflowClient

    wait_for_pending_runs(project)
    # explicit URIs: another test module in this worker may have set MLflow's global registry
    uri = f"sqlite:///{project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def runs_by_stage(project: Path) -> dict[str, list]:
    client = mlflow_client(project)
    experiment = client.get_experiment_by_name(project.name)
    assert experiment is not None, "the project's MLflow experiment was not created"
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    grouped: dict[str, list] = {}
    for r in runs:
        grouped.setdefault(r.data.tags.get("pipeline.stage", "?"), []).append(r)
    return grouped


def test_first_repro_runs_every_stage_and_logs_to_mlflow(demo_project):
    # given a freshly baked and installed project
    # when the whole pipeline runs
    output, walls = timed_repro(demo_project)
    STAGE_WALLS.update(walls)
    # then every stage ran
    assert ran_stages(output) == set(STAGES), output
    # and MLflow holds one parent run with a child per logging stage, tagged
    grouped = runs_by_stage(demo_project)
    assert len(grouped["pipeline"]) == 1
    parent = grouped["pipeline"][0]
    for stage in ("define", "validate", "labels", "baseline", "train", "evaluate", "deploy",
                  "monitor"):
        assert stage in grouped, f"no MLflow run for stage {stage}"
        for child in grouped[stage]:
            assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
            assert len(child.data.tags["git.commit"]) == 40
            assert child.data.tags["dvc.experiment"] == "workspace"
    assert {r.data.tags["baseline"] for r in grouped["baseline"]} >= {"prior", "logistic"}
    train = grouped["train"][0]
    assert train.data.metrics["train/valid_auc"] > 0.6
    assert train.data.params["model.name"] == "hist_gradient_boosting"
    evaluate = grouped["evaluate"][0]
    for key in ("auc", "ap", "brier"):
        assert 0 <= evaluate.data.metrics[f"evaluate/{key}"] <= 1, key
    assert evaluate.data.tags["train_run_id"] == train.info.run_id


def flat_params(params: dict, prefix: str = "") -> dict[str, str]:
    """params.yaml as dotted keys, the way MLflow shows parameters (lists and leaves as text)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, dict) and value:
            flat.update(flat_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def same_value(logged: str, value: str) -> bool:
    """A parameter MLflow holds equals params.yaml's value: as numbers, else as text."""
    try:
        return float(logged) == float(value)
    except ValueError:
        return logged == value


def test_the_parent_run_compares_pipelines_and_each_child_lasts_its_stage(demo_project,
                                                                           tmp_path):
    # given the first pipeline run's MLflow runs
    client = mlflow_client(demo_project)
    grouped = runs_by_stage(demo_project)
    parent = grouped["pipeline"][0]
    # then the parent carries the headline metrics, each estimate within its interval
    metrics = parent.data.metrics
    for name in ("auc", "ap", "brier", "cal_slope", "sensitivity"):
        lo, estimate, hi = (metrics[f"evaluate/{name}{end}"] for end in ("_lo", "", "_hi"))
        assert lo <= estimate <= hi, name
    decision = json.loads((demo_project / "reports/deploy/decision.json").read_text())
    assert metrics["deploy/passed"] == float(decision["passed"])
    monitored = json.loads((demo_project / "reports/metrics/monitor.json").read_text())
    assert metrics["monitor/max_psi"] == pytest.approx(monitored["max_psi"])
    # and every parameter of params.yaml, flattened with dotted keys, as the stages read it
    # (numbers as validated: `10` in the file is the float setting 10.0)
    params = flat_params(yaml.safe_load((demo_project / "params.yaml").read_text()))
    assert set(parent.data.params) == set(params)
    for key, value in params.items():
        assert same_value(parent.data.params[key], value), key
    # and its own tags, not those of the stage that created it
    tags = parent.data.tags
    assert tags["pipeline"] == "dvc repro" and "dvc.stage" not in tags
    assert len(tags["git.commit"]) == 40 and tags["dvc.experiment"] == "workspace"
    assert tags["gate"] == ("passed" if decision["passed"] else "failed")
    assert tags["monitor.verdict"] == monitored["verdict"]
    # and each child lasts as long as its stage: within 10%, or 1.5 s for a stage of a few
    # seconds, whose wall holds as much of DVC's own work (hashing its outputs, the lock file)
    assert STAGE_WALLS, "the first repro's stage times are missing: run this file in order"
    for stage, children in grouped.items():
        if stage == "pipeline":
            continue
        wall = STAGE_WALLS[stage]
        # baseline logs one run per baseline, all spanning the one stage process
        duration = max(c.info.end_time - c.info.start_time for c in children) / 1000
        assert abs(duration - wall) <= max(0.1 * wall, 1.5), (stage, duration, wall)
    # and the logged model has the project's name
    info = json.loads((demo_project / "models/train/model_info.json").read_text())
    assert client.get_logged_model(info["model_id"]).name == "demo_lifecycle"
    # and the version's description says why it passed or failed, with one tag per check
    version = client.get_model_version("demo_lifecycle", str(decision["version"]))
    verdict = "passed" if decision["passed"] else "failed"
    assert version.description.startswith(f"Version {decision['version']} {verdict} the deploy")
    assert "\n" not in version.description
    checks = [version.tags[k] for k in sorted(version.tags) if k.startswith("gate.check.")]
    assert checks == [reason[:4900] for reason in decision["reasons"]]
    # and the deploy run holds decision.md, as the stage wrote it
    deploy = grouped["deploy"][0]
    decision_md = client.download_artifacts(deploy.info.run_id, "decision.md",
                                            str(tmp_path))
    assert Path(decision_md).read_text() == (
        demo_project / "reports/deploy/decision.md").read_text()


def test_model_is_logged_and_registered_with_an_alias(demo_project):
    client = mlflow_client(demo_project)
    info = json.loads((demo_project / "models/train/model_info.json").read_text())
    model = client.get_logged_model(info["model_id"])
    assert model.source_run_id == info["run_id"]
    name = "demo_lifecycle"
    challenger = client.get_model_version_by_alias(name, "challenger")
    assert challenger.source == info["model_uri"]
    decision = json.loads((demo_project / "reports/deploy/decision.json").read_text())
    if decision["passed"]:
        champion = client.get_model_version_by_alias(name, "champion")
        assert champion.version == challenger.version
    assert decision["reasons"], "the gate must say why"


def widest(text: str) -> int:
    """The longest line of a terminal view."""
    return max((len(line) for line in text.splitlines()), default=0)


def declared_plots(project: Path) -> list[str]:
    """The image files dvc.yaml's top-level plots declare (a folder: each PNG in it)."""
    files = []
    for entry in yaml.safe_load((project / "dvc.yaml").read_text())["plots"]:
        path = project / (entry if isinstance(entry, str) else next(iter(entry)))
        files += sorted(path.glob("*.png")) if path.is_dir() else [path]
    return [str(f.relative_to(project)) for f in files]


class PageLinks(HTMLParser):
    """The images, scripts and stylesheets an HTML page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found.get("src") or "")
        if tag in ("script", "link", "iframe") and (found.get("src") or found.get("href")):
            self.loads.append(found.get("src") or found.get("href") or "")


def test_metrics_show_reads_the_headline_in_100_columns(demo_project):
    # given the first run's outputs, when DVC shows the metrics
    shown = run(["dvc", "metrics", "show"], demo_project).stdout
    # then it reads evaluate's headline file alone, and the table fits 100 columns
    assert "reports/metrics/headline.json" in shown and "auc_lo" in shown, shown
    assert "reports/metrics/evaluate.json" not in shown
    assert widest(shown) <= 100, shown


def test_every_declared_plot_renders_offline(demo_project):
    # given the first run's figures, when DVC renders the declared plots
    run(["dvc", "plots", "show"], demo_project)
    page = PageLinks()
    page.feed((demo_project / "dvc_plots" / "index.html").read_text(encoding="utf-8"))
    # then each declared figure is on the page, copied next to it
    declared = declared_plots(demo_project)
    assert len(declared) >= 4, declared   # ROC, precision-recall, calibration, history at least
    for path in declared:
        source = "static/workspace_" + path.replace("/", "_")
        assert source in page.images, (path, page.images)
        assert (demo_project / "dvc_plots" / source).stat().st_size > 0
    # and nothing is loaded from the network (DVC's Vega plots load their scripts from a CDN)
    assert not [url for url in page.loads if url.startswith(("http:", "https:", "//"))]
    # and the page is ignored by git
    assert "dvc_plots/" not in run(["git", "status", "--porcelain"], demo_project).stdout


def test_summary_prints_one_screen_in_100_columns(demo_project):
    # given the first run's outputs, when the project's summary command runs at 100 columns
    shown = run([sys.executable, "-m", "demo_lifecycle", "summary", "--width", "100"],
                demo_project).stdout
    # then every line fits, and it gives the metrics, the gate, the monitoring, the next step
    assert widest(shown) <= 100, shown
    assert "AUC" in shown and "95% intervals" in shown
    assert "Gate: PASSED" in shown or "Gate: FAILED" in shown
    assert "Monitoring: " in shown and "has not run yet" not in shown
    assert "Since the last commit" in shown and "Next: " in shown


def test_second_repro_runs_nothing(demo_project):
    done = run(["dvc", "repro"], demo_project)
    assert ran_stages(done.stdout) == set(), done.stdout


def test_editing_the_evaluate_config_reruns_evaluate_and_later_only(demo_project):
    # given a committed state
    run(["git", "add", "-A"], demo_project)
    run(["git", "commit", "-q", "-m", "first run"], demo_project)
    # when one value of the evaluate group changes in conf/
    conf = demo_project / "conf/evaluate/default.yaml"
    conf.write_text(conf.read_text().replace("calibration_bins: 10", "calibration_bins: 8"))
    done = run(["dvc", "repro"], demo_project)
    # then the edit took effect and only evaluate and its dependants re-ran
    # (monitor follows only if the deploy decision changed, e.g. a new threshold; the report
    # reads every step's outputs)
    assert {"compose", "evaluate", "deploy", "report"} <= ran_stages(done.stdout), done.stdout
    assert ran_stages(done.stdout) <= {"compose", "evaluate", "deploy", "monitor", "report"}, \
        done.stdout
    params = yaml.safe_load((demo_project / "params.yaml").read_text())
    assert params["evaluate"]["calibration_bins"] == 8
    evaluation = json.loads((demo_project / "reports/evaluate/evaluation.json").read_text())
    # eight equal-width bins of 1/8 (empty ones are omitted)
    assert evaluation["curves"]["reliability"]["bins"][0]["upper"] == 0.125


def test_editing_the_model_config_takes_effect(demo_project):
    conf = demo_project / "conf/model/hist_gradient_boosting.yaml"
    conf.write_text(conf.read_text().replace("max_leaf_nodes: 15", "max_leaf_nodes: 7"))
    done = run(["dvc", "repro"], demo_project)
    assert "train" in ran_stages(done.stdout)
    assert not ran_stages(done.stdout) & {"ingest", "validate", "labels", "prepare", "baseline"}
    grouped = runs_by_stage(demo_project)
    latest = max(grouped["train"], key=lambda r: r.info.start_time)
    assert latest.data.params["model.params.max_leaf_nodes"] == "7"
    run(["git", "add", "-A"], demo_project)
    run(["git", "commit", "-q", "-m", "smaller trees"], demo_project)


def test_exp_run_with_override_trains_the_other_model(demo_project):
    done = run(["dvc", "exp", "run", "-S", "model=random_forest", "-n", "rf-exp"], demo_project)
    assert "train" in ran_stages(done.stdout)
    grouped = runs_by_stage(demo_project)
    rf = [r for r in grouped["train"] if r.data.tags.get("dvc.experiment") == "rf-exp"]
    assert len(rf) == 1 and rf[0].data.params["model.name"] == "random_forest"
    parent = rf[0].data.tags["mlflow.parentRunId"]
    assert mlflow_client(demo_project).get_run(parent).info.run_name == "rf-exp"


def test_queued_sweep_runs_both_models(demo_project):
    # another seed than rf-exp: an identical experiment would be restored from DVC's run cache
    # (correctly) without training, and so without an MLflow run
    run(["dvc", "exp", "run", "--queue", "-S", "model=logistic_regression,random_forest",
         "-S", "train.seed=1"], demo_project)
    run_queue(demo_project)
    grouped = runs_by_stage(demo_project)
    queued = {r.data.params["model.name"] for r in grouped["train"]
              if r.data.tags.get("dvc.experiment") not in ("workspace", "rf-exp")}
    assert queued == {"logistic_regression", "random_forest"}
    shown = run(["dvc", "exp", "show", "--no-pager", "--csv"], demo_project).stdout
    assert shown.count("random_forest") >= 2 and "logistic_regression" in shown


def readme_commands(project: Path, prefix: str) -> list[list[str]]:
    """The README's shell commands that start with ``prefix``, split as the shell would."""
    lines = (project / "README.md").read_text(encoding="utf-8").splitlines()
    return [shlex.split(line, comments=True) for line in map(str.strip, lines)
            if line.startswith(prefix)]


def test_readme_exp_show_presets_fit_100_columns(demo_project):
    # given several experiments (rf-exp, the queued sweep) and the README's `dvc exp show` presets
    presets = [c for c in readme_commands(demo_project, "dvc exp show --") if "--md" not in c]
    assert len(presets) >= 2, presets
    columns = project_env(demo_project, COLUMNS="100")
    for preset in presets:
        # when each runs in a terminal of 100 columns
        shown = run([*preset, "--no-pager"], demo_project, env=columns).stdout
        # then it fits, with every experiment's AUC and its interval in full (no cell cut to "…")
        assert widest(shown) <= 100, (preset, shown)
        assert "auc_lo" in shown and "auc_hi" in shown and "rf-exp" in shown, (preset, shown)
        assert "…" not in shown, (preset, shown)
