"""MLflow tracking: where the store is, and one parent run per pipeline run.

* The tracking URI is absolute. ``local`` means a SQLite file ``mlflow.db`` at the real project
  root (``DVC_ROOT`` for queued experiments), artifacts under ``mlartifacts/`` beside it;
  ``mlflow ui`` started at the project root shows them. Anything else is a server URL.
* Each DVC stage is its own process, so the stages of one ``dvc repro`` / ``dvc exp run`` find
  their common parent run by a *pipeline key*: the DVC experiment name when there is one, else
  the id of the ``dvc`` process that runs them. Each stage logs a child run under it.
* Ids go to later stages through small output files, never "the latest run": a cached stage
  logs nothing.
* ``MLFLOW_RUN_ID`` is never exported; it would hijack ``start_run``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .config import flatten, get, store_root
from .errors import UserError

if TYPE_CHECKING:
    from mlflow import ActiveRun

log = logging.getLogger(__name__)

PIPELINE_KEY_TAG = "pipeline.key"
STAGE_TAG = "pipeline.stage"


def tracking_uri(params: dict[str, Any]) -> str:
    """The absolute tracking URI from ``mlflow.tracking_uri``.

    Args:
        params: the composed parameters.
    """
    uri = str(get(params, "mlflow.tracking_uri"))
    if uri == "local":
        return f"sqlite:///{store_root() / 'mlflow.db'}"
    return uri


def artifact_location(params: dict[str, Any]) -> str | None:
    """Where new experiments keep artifacts: beside the SQLite file, or the server's default."""
    if str(get(params, "mlflow.tracking_uri")) == "local":
        return (store_root() / "mlartifacts").as_uri()
    return None


def connect(params: dict[str, Any]) -> str:
    """Point MLflow at the store and return the experiment id (created on first use).

    Args:
        params: the composed parameters (``mlflow`` group).
    """
    import mlflow

    uri = tracking_uri(params)
    if uri.startswith("http"):
        _check_server(uri)
    mlflow.set_tracking_uri(uri)
    name = str(get(params, "mlflow.experiment_name"))
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_location(params))


def _check_server(uri: str) -> None:
    """Fail fast, with the fix, when a tracking server does not answer."""
    import urllib.request

    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=5).read()
    except OSError as error:
        raise UserError(
            f"the MLflow tracking server at {uri} (mlflow.tracking_uri) is unreachable "
            f"({error}). Start it (see README, 'Team mode') or use `mlflow=local`."
        ) from error


def pipeline_key() -> str:
    """Identify the pipeline run this stage belongs to.

    The DVC experiment name when DVC runs an experiment; otherwise the pid and start time of the
    nearest ``dvc`` ancestor process (one ``dvc repro`` invocation); otherwise this process alone.
    """
    if os.environ.get("DVC_EXP_NAME"):
        # names are unique per baseline commit only
        baseline = os.environ.get("DVC_EXP_BASELINE_REV", "")[:12]
        return f"exp:{baseline}:{os.environ['DVC_EXP_NAME']}"
    import psutil

    process = psutil.Process()
    for ancestor in process.parents():
        try:
            cmdline = " ".join(ancestor.cmdline())
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if "dvc" in os.path.basename(cmdline.split(" ")[0]) or " -m dvc" in cmdline or (
            "/dvc " in cmdline
        ):
            return f"dvc:{ancestor.pid}:{int(ancestor.create_time())}"
    return f"proc:{process.pid}:{int(process.create_time())}"


def git_commit() -> str:
    """The current git commit of the project (``unknown`` outside git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _parent_run(client: Any, experiment_id: str, key: str, tags: dict[str, str]) -> str:
    """Find the parent run of this pipeline run, or create it."""
    found = client.search_runs(
        [experiment_id], filter_string=f"tags.`{PIPELINE_KEY_TAG}` = '{key}'", max_results=1
    )
    if found:
        return found[0].info.run_id
    name = os.environ.get("DVC_EXP_NAME") or time.strftime("pipeline-%Y%m%d-%H%M%S")
    run = client.create_run(
        experiment_id, run_name=name, tags={**tags, PIPELINE_KEY_TAG: key, STAGE_TAG: "pipeline"}
    )
    return run.info.run_id


@contextmanager
def stage_run(
    stage: str, params: dict[str, Any], *, run_name: str | None = None,
    extra_tags: dict[str, str] | None = None, groups: tuple[str, ...] | None = None,
) -> Iterator[ActiveRun]:
    """Open a child run for ``stage`` under this pipeline run's parent.

    Args:
        stage: the DVC stage name, stored as tag ``pipeline.stage``.
        params: the composed parameters.
        run_name: the run's display name (defaults to the stage name).
        extra_tags: more tags, e.g. data hashes or the training run id.
        groups: the config groups logged (flattened) as run parameters; None logs all,
            ``()`` none.
    """
    import mlflow
    from mlflow import MlflowClient

    experiment_id = connect(params)
    tags = {
        "git.commit": git_commit(),
        "dvc.experiment": os.environ.get("DVC_EXP_NAME", "workspace"),
        "dvc.stage": os.environ.get("DVC_STAGE", stage),
    }
    client = MlflowClient()
    parent_id = _parent_run(client, experiment_id, pipeline_key(), tags)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=run_name or stage, parent_run_id=parent_id,
        tags={**tags, STAGE_TAG: stage, **(extra_tags or {})},
    ) as run:
        logged = params if groups is None else {g: params[g] for g in groups if g in params}
        if logged:
            mlflow.log_params({k: str(v)[:6000] for k, v in flatten(logged).items()})
        log.info("MLflow run %s (%s) under parent %s", run.info.run_id, stage, parent_id)
        yield run
    # The parent's end time follows its last stage: the runs UI then shows a real duration.
    client.set_terminated(parent_id, "FINISHED")
