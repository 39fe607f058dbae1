"""MLflow tracking: where the store is, and one parent run per pipeline run.

* The tracking URI is absolute. ``local`` means a SQLite file ``mlflow.db`` at the real project
  root (``DVC_ROOT`` for queued experiments), artifacts under ``mlartifacts/`` beside it;
  ``mlflow ui`` started at the project root shows them. Anything else is a server URL.
* Each DVC stage is its own process, so the stages of one ``dvc repro`` / ``dvc exp run`` find
  their common parent run by a *pipeline key*: the DVC experiment name when there is one, else
  the id of the ``dvc`` process that runs them. Each stage logs a child run under it.
* Ids go to later stages through small output files, never "the latest run": a cached stage
  logs nothing.
* A stage that does not use MLflow for its work does not import it: its run is recorded on disk
  and written by a background writer, once per pipeline run (``pending_runs``). ``train`` and
  ``deploy`` write directly.
* The parent run is the one to compare pipeline runs by: its own tags (``pipeline``: the command,
  ``git.commit``, ``dvc.experiment``), every parameter of ``params.yaml`` flattened with dotted
  keys (``model.params.max_depth``), and the headline metrics that ``evaluate``, ``deploy`` and
  ``monitor`` log to it besides their own run (``log_metrics(..., to_parent=True)``).
* Metric names are ``<stage>/<name>`` (``evaluate/auc``, ``evaluate/auc_lo``,
  ``evaluate/auc_hi``, ``deploy/passed``): MLflow's charts put the metrics of one prefix (all
  before the last ``/``) in one section, named after it, and order them by name, so an estimate
  and its interval's bounds sit side by side. The stage's name is added to a name without ``/``.
* A child run spans its stage's process, from its start to the run's end: the runs table then
  shows the stage's real duration, not only the time spent logging.
* ``MLFLOW_RUN_ID`` is never exported; it would hijack ``start_run``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import flatten, store_root
from .errors import UserError
from .paths import PACKAGE

if TYPE_CHECKING:
    from mlflow import ActiveRun

    from .pending_runs import RunRecord
    from .settings import MlflowSettings, Settings

log = logging.getLogger(__name__)

PIPELINE_KEY_TAG = "pipeline.key"
STAGE_TAG = "pipeline.stage"
PIPELINE_TAG = "pipeline"  # the parent's: the command that ran the stages (`dvc repro`, ...)
PARAM_LIMIT = 6000  # characters of a parameter's value MLflow stores (MAX_PARAM_VAL_LENGTH)
# MLflow 3's UI opens an experiment of this kind on its runs (model training), not on traces
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}


def metric_key(stage: str, name: str) -> str:
    """``<stage>/<name>``: the section MLflow's charts show the metric in (see the module doc).

    Args:
        stage: the stage that computed it.
        name: the metric's own name; one with a ``/`` already is kept as it is.
    """
    return name if "/" in name else f"{stage}/{name}"


def tracking_uri(cfg: MlflowSettings) -> str:
    """The absolute tracking URI from ``mlflow.tracking_uri``.

    Args:
        cfg: the ``mlflow`` settings.
    """
    uri = cfg.tracking_uri
    if uri == "local":
        return f"sqlite:///{store_root() / 'mlflow.db'}"
    return uri


def artifact_location(cfg: MlflowSettings) -> str | None:
    """Where new experiments keep artifacts: beside the SQLite file, or the server's default."""
    if cfg.tracking_uri == "local":
        return (store_root() / "mlartifacts").as_uri()
    return None


def connect(cfg: MlflowSettings) -> str:
    """Point MLflow at the store and return the experiment id (created on first use).

    Args:
        cfg: the ``mlflow`` settings.

    Raises:
        UserError: the store cannot be written (read-only, locked, unreachable).
    """
    import mlflow

    from .pending_runs import writer_lock

    uri = tracking_uri(cfg)
    if uri.startswith("http"):
        _check_server(uri)
    # the first connection creates the store's tables: never beside the background writer
    with store_errors(cfg), writer_lock():
        check_store(cfg)
        mlflow.set_tracking_uri(uri)
        experiment = mlflow.get_experiment_by_name(cfg.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        return mlflow.create_experiment(cfg.experiment_name,
                                        artifact_location=artifact_location(cfg),
                                        tags=EXPERIMENT_TAGS)


def _local_store(cfg: MlflowSettings) -> tuple[Path, Path] | None:
    """The SQLite file and the artifact folder of the local store (None for a server)."""
    if cfg.tracking_uri != "local":
        return None
    root = store_root()
    return root / "mlflow.db", root / "mlartifacts"


def check_store(cfg: MlflowSettings) -> None:
    """Refuse a local store this process cannot write, before any work and MLflow's tracebacks.

    Stages that log call it right after loading their settings (cheap: no MLflow import).
    """
    local = _local_store(cfg)
    if local is None:
        return
    database, artifacts = local
    for path in (database, artifacts):
        if path.exists() and not os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)):
            raise UserError(_read_only_message(path))
    # SQLite writes a journal beside the file: its folder must be writable too
    if database.exists() and not os.access(database.parent, os.W_OK | os.X_OK):
        raise UserError(_read_only_message(database.parent))


def _read_only_message(path: Path) -> str:
    return (f"the MLflow store is not writable: {path} is read-only for this user. Check its "
            f"permissions (`ls -l {path}`; `chmod u+w {path}`), or point mlflow.tracking_uri "
            "(conf/mlflow/) at a store you can write.")


@contextmanager
def store_errors(cfg: MlflowSettings) -> Iterator[None]:
    """Turn a read-only, locked or unwritable tracking store into one clear message."""
    try:
        yield
    except UserError:
        raise
    except Exception as error:
        message = _store_problem(error, cfg)
        if message is None:
            raise
        raise UserError(message) from None


def _store_problem(error: BaseException, cfg: MlflowSettings) -> str | None:
    """The message for a store error, or None when ``error`` is something else."""
    text = f"{type(error).__name__}: {error}".lower()
    local = _local_store(cfg)
    where = str(local[0]) if local else tracking_uri(cfg)
    if "database is locked" in text:
        return (f"the MLflow store {where} is locked by another process: let it finish or "
                "close it (another `dvc repro` or `dvc exp run`, a notebook, an `mlflow ui` "
                "busy writing) and run again. Experiments queued in parallel "
                "(`dvc queue start -j 2`) need a tracking server: see README, 'Team mode'.")
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return _read_only_message(Path(where)) if local else (
            f"the MLflow store {where} refuses writes ({error}); check its permissions.")
    if isinstance(error, PermissionError):
        path = Path(error.filename) if error.filename else Path(where)
        return _read_only_message(path)
    if "unable to open database file" in text:
        return (f"the MLflow store {where} cannot be opened: check that its folder exists and "
                "is writable for this user.")
    return None


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


def _dvc_process() -> Any:
    """The nearest ``dvc`` ancestor process (one ``dvc repro`` / ``dvc exp run``), or None."""
    import psutil

    for ancestor in psutil.Process().parents():
        try:
            cmdline = " ".join(ancestor.cmdline())
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if "dvc" in os.path.basename(cmdline.split(" ")[0]) or " -m dvc" in cmdline or (
            "/dvc " in cmdline
        ):
            return ancestor
    return None


def pipeline_key(dvc: Any = None) -> str:
    """Identify the pipeline run this stage belongs to.

    The DVC experiment name when DVC runs an experiment; otherwise the pid and start time of the
    nearest ``dvc`` ancestor process (one ``dvc repro`` invocation); otherwise this process alone.

    Args:
        dvc: the ``dvc`` ancestor process when the caller has looked it up already.
    """
    if os.environ.get("DVC_EXP_NAME"):
        # names are unique per baseline commit only
        baseline = os.environ.get("DVC_EXP_BASELINE_REV", "")[:12]
        return f"exp:{baseline}:{os.environ['DVC_EXP_NAME']}"
    dvc = dvc if dvc is not None else _dvc_process()
    if dvc is not None:
        return f"dvc:{dvc.pid}:{int(dvc.create_time())}"
    import psutil

    process = psutil.Process()
    return f"proc:{process.pid}:{int(process.create_time())}"


def pipeline_command(dvc: Any, stage: str) -> str:
    """What ran this pipeline run, for the parent's ``pipeline`` tag: ``dvc repro``, ...

    Args:
        dvc: the ``dvc`` ancestor process, or None.
        stage: this stage, named when it runs outside DVC.
    """
    if os.environ.get("DVC_EXP_NAME"):
        return "dvc exp run"
    if dvc is None:
        return f"{PACKAGE} {stage} (outside DVC)"
    try:
        words = dvc.cmdline()
    except Exception:  # noqa: BLE001 - a process gone or hidden: the command is then unknown
        return "dvc"
    start = next((i for i, w in enumerate(words) if os.path.basename(w) == "dvc"), None)
    if start is None:
        return "dvc"
    # the sub-command's words (`repro`, `exp run`), not its options or targets
    command = ["dvc"]
    for word in words[start + 1:start + 3]:
        if word.startswith("-") or (len(command) > 1 and command[1] != "exp"):
            break
        command.append(word)
    return " ".join(command)


def git_commit() -> str:
    """The current git commit of the project (``unknown`` outside git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def parent_run(client: Any, experiment_id: str, header: dict[str, Any],
               start_ms: int | None = None) -> str:
    """Find the parent run of this pipeline run, or create it; the caller holds the lock.

    Args:
        client: an ``MlflowClient`` on the store.
        experiment_id: the project's experiment.
        header: the stage's header (:func:`_header`): the pipeline key, and the parent's name,
            tags and parameters, used when it is created.
        start_ms: its start time when it is created (default now).
    """
    from mlflow.entities import Param

    key = header["pipeline_key"]
    found = client.search_runs(
        [experiment_id], filter_string=f"tags.`{PIPELINE_KEY_TAG}` = '{key}'", max_results=1
    )
    if found:
        return str(found[0].info.run_id)
    run = client.create_run(
        experiment_id, start_time=start_ms, run_name=header["parent_name"],
        tags={**header["parent_tags"], PIPELINE_KEY_TAG: key, STAGE_TAG: "pipeline"},
    )
    # once, at creation: a parameter's value cannot change (MLflow sends 100 per request)
    client.log_batch(run.info.run_id,
                     params=[Param(k, v) for k, v in header["parent_params"].items()])
    return str(run.info.run_id)


def log_to_parent(client: Any, parent_id: str, metrics: dict[str, float],
                  tags: dict[str, str], stamp_ms: int) -> None:
    """Log a stage's headline metrics and tags on the parent run too.

    Args:
        client: an ``MlflowClient`` on the store.
        parent_id: the parent run.
        metrics: metrics under their final names (:func:`metric_key`).
        tags: tags, e.g. ``monitor.verdict``.
        stamp_ms: the metrics' timestamp.
    """
    from mlflow.entities import Metric, RunTag

    if metrics or tags:
        client.log_batch(parent_id, metrics=[Metric(k, v, stamp_ms, 0) for k, v in metrics.items()],
                         tags=[RunTag(k, v) for k, v in tags.items()])


class DirectRun:
    """A stage's run written to MLflow as it goes (the stage imports MLflow for its work).

    Same methods as :class:`~.pending_runs.RunRecord`, so stages read alike.
    """

    def __init__(self, run: ActiveRun, stage: str, parent_id: str):
        self.run_id: str = run.info.run_id
        self._stage = stage
        self._parent_id = parent_id

    def log_metrics(self, metrics: dict[str, float], *, to_parent: bool = False) -> None:
        """Log metrics as ``<stage>/<name>``; on the parent run too with ``to_parent``."""
        import mlflow
        from mlflow import MlflowClient

        named = {metric_key(self._stage, k): float(v) for k, v in metrics.items()}
        mlflow.log_metrics(named)
        if to_parent:
            log_to_parent(MlflowClient(), self._parent_id, named, {}, int(time.time() * 1000))

    def tag_parent(self, tags: dict[str, str]) -> None:
        """Tag the parent run (the headline verdicts: ``gate``, ``monitor.verdict``)."""
        from mlflow import MlflowClient

        log_to_parent(MlflowClient(), self._parent_id, {}, tags, 0)

    def link_tag(self, run_id: str, key: str) -> None:
        """Tag another run with this run's id."""
        from mlflow import MlflowClient

        MlflowClient().set_tag(run_id, key, self.run_id)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Log one file."""
        import mlflow

        mlflow.log_artifact(str(path), artifact_path)

    def log_artifacts(self, folder: str | Path, artifact_path: str | None = None) -> None:
        """Log a folder's files."""
        import mlflow

        mlflow.log_artifacts(str(folder), artifact_path)

    def log_dict(self, obj: Any, artifact_file: str) -> None:
        """Log an object as a JSON artifact."""
        import mlflow

        mlflow.log_dict(obj, artifact_file)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Log a text artifact."""
        import mlflow

        mlflow.log_text(text, artifact_file)


def _header(stage: str, settings: Settings, run_name: str | None,
            extra_tags: dict[str, str] | None, groups: tuple[str, ...] | None,
            logged_params: dict[str, Any] | None) -> dict[str, Any]:
    """Everything a stage's run says about itself: names, tags, parameters, its pipeline run."""
    cfg = settings.mlflow
    check_store(cfg)
    dvc = _dvc_process()
    base_tags = {
        "git.commit": git_commit(),
        "dvc.experiment": os.environ.get("DVC_EXP_NAME", "workspace"),
    }
    composed = settings.model_dump(mode="json", exclude_unset=True)
    params = {**composed, **(logged_params or {})}
    logged = params if groups is None else {g: params[g] for g in groups if g in params}
    return {
        "tracking_uri": tracking_uri(cfg), "experiment": cfg.experiment_name,
        "artifact_location": artifact_location(cfg), "pipeline_key": pipeline_key(dvc),
        "dvc_process": [dvc.pid, dvc.create_time()] if dvc is not None else None,
        "parent_name": os.environ.get("DVC_EXP_NAME") or time.strftime("pipeline-%Y%m%d-%H%M%S"),
        # the parent's own tags: the pipeline run's, not the stage's that happens to create it
        "parent_tags": {**base_tags, PIPELINE_TAG: pipeline_command(dvc, stage)},
        "parent_params": _param_values(composed),
        "run_name": run_name or stage,
        "tags": {**base_tags, "dvc.stage": os.environ.get("DVC_STAGE", stage), STAGE_TAG: stage,
                 **(extra_tags or {})},
        "params": _param_values(logged),
    }


def _param_values(params: dict[str, Any]) -> dict[str, str]:
    """Nested parameters flattened (dotted keys), each value within MLflow's limit."""
    return {k: str(v)[:PARAM_LIMIT] for k, v in flatten(params).items()}


@contextmanager
def stage_run(
    stage: str, settings: Settings, *, run_name: str | None = None,
    extra_tags: dict[str, str] | None = None, groups: tuple[str, ...] | None = None,
    logged_params: dict[str, Any] | None = None,
) -> Iterator[RunRecord]:
    """Record a child run for ``stage`` under this pipeline run's parent, without MLflow.

    The run is recorded on disk and a background writer puts it in the store a moment later
    (``pending_runs``); a stage that fails records a FAILED run.

    Args:
        stage: the DVC stage name, stored as tag ``pipeline.stage``.
        settings: the validated settings; their groups are logged as run parameters.
        run_name: the run's display name (defaults to the stage name).
        extra_tags: more tags, e.g. data hashes or the training run id.
        groups: the config groups logged (flattened) as run parameters; None logs all,
            ``()`` none.
        logged_params: groups logged instead of the settings' own (e.g. the model's
            hyper-parameters as fitted, after ``adapt_to_size``).

    Raises:
        UserError: the tracking store cannot be written (one message, no traceback).
    """
    from . import pending_runs

    header = _header(stage, settings, run_name, extra_tags, groups, logged_params)
    pending_runs.warn_if_stuck()
    record = pending_runs.RunRecord(header)
    watch = tuple(header["dvc_process"]) if header["dvc_process"] else None
    try:
        yield record
    except BaseException:
        record.close("FAILED")
        pending_runs.hand_over(watch)
        raise
    record.close("FINISHED")
    pending_runs.hand_over(watch)
    log.info("MLflow run (%s) recorded; it reaches the store in the background "
             "(`%s sync` waits for it)", header["run_name"], PACKAGE)


@contextmanager
def direct_stage_run(
    stage: str, settings: Settings, *, run_name: str | None = None,
    extra_tags: dict[str, str] | None = None, groups: tuple[str, ...] | None = None,
    logged_params: dict[str, Any] | None = None,
) -> Iterator[DirectRun]:
    """Open a child run for ``stage`` as the active MLflow run, written as it goes.

    For stages that use MLflow for their work anyway (the logged model, the registry): the
    import is paid already. What earlier stages left pending is written first, so the runs keep
    their order and share one parent. Arguments and errors as :func:`stage_run`'s.
    """
    import mlflow
    from mlflow import MlflowClient

    from . import pending_runs

    header = _header(stage, settings, run_name, extra_tags, groups, logged_params)
    cfg = settings.mlflow
    experiment_id = connect(cfg)
    started = pending_runs.process_start_ms()
    with store_errors(cfg):
        client = MlflowClient()
        with pending_runs.writer_lock():
            pending_runs.write_pending()
            parent_id = parent_run(client, experiment_id, header, started)
        # created with the process's start, then made active: the run spans the whole stage
        created = client.create_run(experiment_id, start_time=started,
                                    run_name=header["run_name"],
                                    tags={**header["tags"], "mlflow.parentRunId": parent_id})
        with mlflow.start_run(run_id=created.info.run_id) as run:
            if header["params"]:
                mlflow.log_params(header["params"])
            log.info("MLflow run %s (%s) under parent %s", run.info.run_id,
                     header["run_name"], parent_id)
            yield DirectRun(run, stage, parent_id)
        # the parent's end follows its last stage: the runs UI then shows a real duration
        client.set_terminated(parent_id, "FINISHED")
    if header["dvc_process"]:
        # under DVC, the writer moves both ends to this process's own end
        pending_runs.end_record(header, created.info.run_id, parent_id)
        pending_runs.hand_over(tuple(header["dvc_process"]))

