"""Stage ``monitor`` (step 7): a batch of incoming data against the training reference.

Scores the batch with the trained pipeline, then: per-feature drift (PSI on reference
quantiles, KS, chi-square, Jensen-Shannon), prediction drift, a label-free performance estimate
from the calibrated probabilities, the real performance when the batch has labels, and a
verdict (``ok``, ``watch``, ``retrain``, ``investigate-data``) with reasons that say which step
to go back to. ``reports/monitor/history.csv`` keeps one row per batch across runs.

    {{ cookiecutter.package_name }} monitor                  # the pipeline's batch
    {{ cookiecutter.package_name }} monitor --batch new.csv  # any file, labelled or not
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_json, write_text
from ..core.paths import (
    MONITOR_DIR,
    MONITOR_HISTORY,
    MONITORING,
    PACKAGE,
    RAW_BATCH,
    metrics_path,
)
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..monitoring.batch import default_batch_name, deployment_note, monitor_batch
from ..reporting.monitoring_report import render_report

if TYPE_CHECKING:
    from ..core.settings import Settings
    from ..reporting.figures import HistoryFigure

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Monitor the configured (or given) batch; write the report, history and metrics."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} monitor",
                                     description="Monitor a batch against the reference.")
    parser.add_argument("--batch", type=Path, help="CSV/Parquet batch (default: the pipeline's)")
    args = parser.parse_args(argv)

    from ..reporting.figures import HistoryFigure

    figure = HistoryFigure()  # imports matplotlib on another core while the batch is judged
    try:
        settings, name, verdict, metrics, out = _judge(args.batch, figure)
    finally:
        figure.close()
    if args.batch is None:
        write_json(project_root() / metrics_path("monitor"), metrics)

    from ..core.tracking import stage_run

    with stage_run("monitor", settings, groups=("monitor",),
                   extra_tags={"monitor.verdict": verdict, "monitor.batch": name}) as run:
        run.log_metrics({k: float(v) for k, v in metrics.items()
                         if isinstance(v, int | float) and v is not None}, to_parent=True)
        run.tag_parent({"monitor.verdict": verdict})
        run.log_artifacts(out, "monitor")


def _judge(batch_file: Path | None, figure: HistoryFigure) -> tuple[
        Settings, str, str, dict[str, Any], Path]:
    """Judge the batch; write its report, its history row and the history figure.

    Returns:
        The settings, the batch's name, its verdict, the stage's metrics and the report folder.
    """
    from ..data.sources import read_input
    from ..monitoring.verdict import append_history, summary_row

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    root = project_root()
    path = batch_file or root / RAW_BATCH
    name = settings.monitor.batch_name or (
        path.stem if batch_file else default_batch_name(settings.data))
    batch = read_input(path, settings.data)
    log.info("monitoring %s (%d rows)", path, len(batch))
    result = monitor_batch(batch, settings, name, path)
    note = deployment_note(root)
    if note and note not in result["verdict"]["reasons"]:
        result["verdict"]["reasons"].append(note)
    verdict = result["verdict"]["verdict"]
    log.info("verdict: %s", verdict)
    for reason in result["verdict"]["reasons"]:
        log.info("  - %s", reason)

    out = root / MONITOR_DIR
    write_json(root / MONITORING, result)
    write_text(out / "report.md", render_report(result, settings.monitor.thresholds))
    history = root / MONITOR_HISTORY
    append_history(history, name, summary_row(
        result["drift"], result["performance"], result["verdict"]))
    figure.draw(history, out / "history.png", settings.monitor.thresholds.model_dump())
    summary = result["drift"]["summary"]
    metrics = {"verdict": verdict, "n_drift_features": summary["n_drift"],
               "max_psi": summary["max_psi"], "prediction_psi": summary["prediction_psi"],
               "expected_auc": result["performance"]["expected"]["auc"]}
    return settings, name, verdict, metrics, out


if __name__ == "__main__":
    run_stage(main, "monitor")
