"""Runs the stages recorded, written to MLflow by one background writer per pipeline run.

Importing MLflow and opening its store costs more than a second in every process, more than
the whole work of a light stage (``define`` checks one YAML file). So a stage that does not use
MLflow for its work records its run as a folder under ``.mlflow-pending/`` beside the store
(``record.json``: names, tags, parameters, metrics, times; ``artifacts/``: copies of the files
logged, since DVC deletes a stage's outputs before it runs again) and hands it to a writer:

* The writer (``python -m <package>.core.pending_runs``) runs detached. It writes the records in
  the order they were made, each as a child run under its pipeline run's parent, with the
  stage's own start and end times, and deletes each folder once written. It lingers while the
  ``dvc`` process that ran the stage lives, so a ``dvc repro`` imports MLflow once, and it
  exits a moment after that process.
* One writer at a time: a file lock. A stage that uses MLflow itself (``train``, ``deploy``)
  takes the same lock and writes what is pending first, so runs keep their order and one parent.
* A run ends when its stage's process ends: under DVC the writer waits for the process (the
  interpreter's exit takes a second or two after the last line) and ends the run then. A stage
  that writes its run directly leaves an ``end`` record for this.
* A record that cannot be written stays, and the reason goes to ``errors.log``; the next stage
  warns, and ``<package> sync`` writes what is pending in the foreground, traceback included.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from .config import store_root
from .paths import PACKAGE

log = logging.getLogger(__name__)

FOLDER = ".mlflow-pending"
RECORD = "record.json"
ARTIFACTS = "artifacts"
ERRORS = "errors.log"
_LOCK = ".lock"
_TMP = ".tmp-"
_POLL_S = 0.25
_IDLE_EXIT_S = 600.0  # a writer whose pipeline process outlives this without new records exits
_LOCK_WAIT_S = 600.0
_EXIT_WAIT_S = 60.0  # how long the writer waits for a stage process to end (its run's end)


def pending_folder() -> Path:
    """Where records wait: beside the store, at the real project root."""
    return store_root() / FOLDER


def pending_records(folder: Path | None = None) -> list[Path]:
    """The complete records not yet written, oldest first."""
    folder = folder or pending_folder()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(_TMP) and (p / RECORD).exists())


@contextmanager
def writer_lock(folder: Path | None = None, timeout: float = _LOCK_WAIT_S) -> Iterator[None]:
    """Hold the writers' lock (one process writes to the store at a time)."""
    from filelock import FileLock

    folder = folder or pending_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / _LOCK), timeout=timeout):
        yield


class RunRecord:
    """What one stage logs, kept in a folder until the writer puts it in MLflow.

    The methods mirror MLflow's fluent ones (``log_metrics``, ``log_dict``, ...), so a stage
    reads the same whether its run is recorded here or written directly.
    """

    def __init__(self, header: dict[str, Any]):
        self.folder = pending_folder()
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = f"{time.time_ns():020d}"
        self._name = f"{stamp}-{header['tags'].get('pipeline.stage', 'run')}-{uuid.uuid4().hex[:8]}"
        self._tmp = self.folder / f"{_TMP}{self._name}"
        self._tmp.mkdir()
        self._stage = header["tags"].get("pipeline.stage", "run")
        self._data: dict[str, Any] = {**header, "metrics": {}, "link_tags": [],
                                      "parent_metrics": {}, "parent_set_tags": {},
                                      "start_ms": process_start_ms(), "process": _this_process()}

    def _artifact(self, artifact_path: str | None) -> Path:
        target = self._tmp / ARTIFACTS / (artifact_path or "")
        target.mkdir(parents=True, exist_ok=True)
        return target

    def log_metrics(self, metrics: dict[str, float], *, to_parent: bool = False) -> None:
        """Record metrics as ``<stage>/<name>`` (floats); for the parent run too with
        ``to_parent`` (the pipeline's headline numbers)."""
        from .tracking import metric_key

        named = {metric_key(self._stage, k): float(v) for k, v in metrics.items()}
        self._data["metrics"].update(named)
        if to_parent:
            self._data["parent_metrics"].update(named)

    def tag_parent(self, tags: dict[str, str]) -> None:
        """Tag the parent run (the headline verdicts: ``gate``, ``monitor.verdict``)."""
        self._data["parent_set_tags"].update(tags)

    def link_tag(self, run_id: str, key: str) -> None:
        """Tag another run with this run's id once it exists (``evaluate_run_id`` on train)."""
        self._data["link_tags"].append([run_id, key])

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Copy one file now: DVC may delete it before the writer runs."""
        shutil.copy2(path, self._artifact(artifact_path) / Path(path).name)

    def log_artifacts(self, folder: str | Path, artifact_path: str | None = None) -> None:
        """Copy a folder's files now."""
        shutil.copytree(folder, self._artifact(artifact_path), dirs_exist_ok=True)

    def log_dict(self, obj: Any, artifact_file: str) -> None:
        """Write an object as a JSON artifact."""
        self.log_text(json.dumps(obj, indent=2, default=str), artifact_file)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Write a text artifact."""
        path = self._artifact(str(Path(artifact_file).parent)) / Path(artifact_file).name
        path.write_text(text, encoding="utf-8")

    def close(self, status: str) -> Path:
        """Complete the record (atomically: the writer never sees half of one) and return it."""
        self._data["end_ms"] = int(time.time() * 1000)
        self._data["status"] = status
        (self._tmp / RECORD).write_text(json.dumps(self._data, indent=1), encoding="utf-8")
        final = self.folder / self._name
        os.replace(self._tmp, final)
        return final


def end_record(header: dict[str, Any], run_id: str, parent_id: str) -> None:
    """Leave the end of a run written directly (train, deploy) to the writer: it ends the run
    when this process has ended, as it ends the runs it writes.

    Args:
        header: the stage's header (``tracking._header``).
        run_id: the finished run.
        parent_id: its parent run.
    """
    record = RunRecord({**header, "tags": {**header["tags"], "pipeline.stage": "end"}})
    record._data.update(kind="end", run_id=run_id, parent_id=parent_id)
    record.close("FINISHED")


def _this_process() -> list[Any]:
    import psutil

    process = psutil.Process()
    return [process.pid, process.create_time()]


def _exit_ms(data: dict[str, Any]) -> int | None:
    """When the record's stage process ended: waited for under DVC, else None (unknown)."""
    import psutil

    stage = data.get("process")
    if not stage or not data.get("dvc_process") or stage[0] == os.getpid():
        return None
    try:
        process = psutil.Process(stage[0])
        if abs(process.create_time() - stage[1]) >= 1.0:
            return None  # the pid is another process's now: the stage ended long ago
        process.wait(timeout=_EXIT_WAIT_S)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        return None
    return int(time.time() * 1000)


@cache
def process_start_ms() -> int:
    """When this process started: the run then spans the stage's work, not only its logging.

    On Linux from ``/proc`` (the start in clock ticks against the uptime, to 1/100 s): psutil
    counts from the boot time rounded to the second, up to a second early. Cached: every run of
    one process starts at the same instant (the clocks are read anew on each call).
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        started = time.time() - uptime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return int(started * 1000)
    except (OSError, ValueError, IndexError):
        import psutil

        return int(psutil.Process().create_time() * 1000)


# ---------------------------------------------------------------------------------------------
# Handing over to the writer


def hand_over(watch: tuple[int, float] | None) -> None:
    """Make sure a writer will write what is pending: start one unless one is running.

    A running writer holds the lock and looks for new records after releasing it, so a record
    made while it writes is not missed.

    Args:
        watch: the (pid, start time) of the process whose life the writer outlives (the
            ``dvc`` process of this pipeline run), or None to exit once nothing is pending.
    """
    from filelock import Timeout

    folder = pending_folder()
    try:
        with writer_lock(folder, timeout=0):
            pass
    except Timeout:
        return  # a writer is at work and will see the new record
    command = [sys.executable, "-m", f"{PACKAGE}.core.pending_runs"]
    if watch is not None:
        command += ["--watch", str(watch[0]), str(watch[1])]
    # the writer imports this very package, wherever the stage found it
    source = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    log_file = open(folder / "writer.log", "wb")  # noqa: SIM115 - the child keeps it open
    subprocess.Popen(
        command, cwd=store_root(), stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
        start_new_session=True,  # outlives the stage, and Ctrl-C in the stage does not kill it
        env={**os.environ, "DVC_ROOT": str(store_root()), "PYTHONPATH": path},
    )
    log_file.close()


def warn_if_stuck() -> None:
    """Say so when earlier records could not be written (cheap: no MLflow import)."""
    folder = pending_folder()
    errors = folder / ERRORS
    stuck = pending_records(folder)
    if errors.exists() and stuck:
        first = errors.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        log.warning("%d MLflow run(s) recorded by earlier stages are not in the store yet (%s); "
                    "see %s, and run `%s sync` to write them now.", len(stuck),
                    first[-1] if first else "unknown error", errors, PACKAGE)


def wait_until_written(folder: Path | None = None, timeout: float = 120) -> None:
    """Wait for the background writer: nothing pending, and the lock let go.

    For benchmarks and tests, which check the path users rely on rather than write for it
    (``sync`` writes in the foreground instead).

    Raises:
        RuntimeError: the writer failed (the text of ``errors.log``).
        TimeoutError: records are still pending after ``timeout`` seconds.
    """
    folder = folder or pending_folder()
    deadline = time.monotonic() + timeout
    while pending_records(folder):
        if (folder / ERRORS).exists():
            raise RuntimeError(f"the run writer failed:\n{(folder / ERRORS).read_text()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"MLflow runs still pending in {folder} after {timeout:.0f} s")
        time.sleep(_POLL_S)
    if folder.is_dir():
        with writer_lock(folder, timeout=timeout):
            pass


# ---------------------------------------------------------------------------------------------
# Writing


def write_pending(folder: Path | None = None) -> int:
    """Write every complete record to MLflow, oldest first; the caller holds the lock.

    Returns:
        How many records were written. The first one that fails stops the writing (later
        runs keep their order) and its exception propagates.
    """
    folder = folder or pending_folder()
    written = 0
    for record in pending_records(folder):
        # before MLflow's import (seconds): the stage's process may be ending meanwhile
        ended = _exit_ms(json.loads((record / RECORD).read_text(encoding="utf-8")))
        _write_one(record, ended)
        shutil.rmtree(record, ignore_errors=True)
        written += 1
    # the errors describe records still pending; none is left
    (folder / ERRORS).unlink(missing_ok=True)
    return written


def _write_one(record: Path, ended_ms: int | None) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from .tracking import EXPERIMENT_TAGS, log_to_parent, parent_run

    data = json.loads((record / RECORD).read_text(encoding="utf-8"))
    client = MlflowClient(tracking_uri=data["tracking_uri"], registry_uri=data["tracking_uri"])
    # the run ends with its process (known under DVC), else when the stage closed its record
    stamp = max(ended_ms or 0, data["end_ms"])
    if data.get("kind") == "end":
        client.set_terminated(data["run_id"], "FINISHED", end_time=stamp)
        client.set_terminated(data["parent_id"], "FINISHED", end_time=stamp)
        return
    experiment = client.get_experiment_by_name(data["experiment"])
    experiment_id = (experiment.experiment_id if experiment is not None else
                     client.create_experiment(data["experiment"],
                                              artifact_location=data["artifact_location"],
                                              tags=EXPERIMENT_TAGS))
    parent_id = parent_run(client, experiment_id, data, data["start_ms"])
    run = client.create_run(
        experiment_id, start_time=data["start_ms"], run_name=data["run_name"],
        tags={**data["tags"], "mlflow.parentRunId": parent_id},
    )
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, stamp, 0) for k, v in data["metrics"].items()],
        params=[Param(k, v) for k, v in data["params"].items()],
    )
    artifacts = record / ARTIFACTS
    if artifacts.is_dir() and any(artifacts.iterdir()):
        client.log_artifacts(run_id, str(artifacts))
    for other, key in data["link_tags"]:
        client.set_tag(other, key, run_id)
    log_to_parent(client, parent_id, data.get("parent_metrics", {}),
                  data.get("parent_set_tags", {}), stamp)
    client.set_terminated(run_id, data["status"], end_time=stamp)
    # the parent's end follows its last stage: the runs UI then shows a real duration
    client.set_terminated(parent_id, "FINISHED", end_time=stamp)
    log.info("MLflow run %s (%s) under parent %s", run_id, data["run_name"], parent_id)


def _alive(watch: tuple[int, float] | None) -> bool:
    if watch is None:
        return False
    import psutil

    try:
        return abs(psutil.Process(watch[0]).create_time() - watch[1]) < 1.0
    except psutil.Error:
        return False


def run_writer(watch: tuple[int, float] | None) -> int:
    """Write records as they come while ``watch`` lives, then what is left; 1 on a failure."""
    folder = pending_folder()
    idle_since = time.monotonic()
    while True:
        try:
            with writer_lock(folder):
                if write_pending(folder):
                    idle_since = time.monotonic()
        except Exception:  # noqa: BLE001 - recorded for the next stage and `sync`, which re-raise
            with (folder / ERRORS).open("a", encoding="utf-8") as out:
                out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n{traceback.format_exc()}")
            return 1
        if pending_records(folder):
            continue  # made while the lock was held
        if not _alive(watch) or time.monotonic() - idle_since > _IDLE_EXIT_S:
            if pending_records(folder):
                continue
            return 0
        time.sleep(_POLL_S)


def main(argv: list[str] | None = None) -> int:
    """``python -m <package>.core.pending_runs [--watch PID START]``: the background writer."""
    args = sys.argv[1:] if argv is None else argv
    watch = (int(args[1]), float(args[2])) if args[:1] == ["--watch"] else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    return run_writer(watch)


if __name__ == "__main__":
    sys.exit(main())
