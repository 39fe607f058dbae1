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
from typing import TYPE_CHECKING

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import read_json, write_json, write_text
from ..core.paths import (
    DECISION,
    MODEL_FILE,
    MODEL_INFO,
    PACKAGE,
    RAW_BATCH,
    REFERENCE_PROFILE,
    metrics_path,
)
from ..core.settings import DataSettings, Settings, load_settings
from ..core.tracking import check_store

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
OUT_DIR = "reports/monitor/latest"
HISTORY = "reports/monitor/history.csv"

# Where each verdict sends the user back to.
NEXT_STEP = {
    "ok": "Nothing to do; keep monitoring.",
    "watch": "Keep watching: monitor the next batches closely; collect labels for this batch.",
    "retrain": "Go back to step 4: add the labelled batch to the training data (see README, "
               "'The loop') and `dvc repro`; the gate compares the new model with the champion.",
    "investigate-data": "Go back to step 2: the batch has data-quality problems (see reasons); "
                        "fix the source or the schema before trusting any prediction.",
}


def monitor_batch(batch: pd.DataFrame, settings: Settings, name: str, source: Path) -> dict:
    """Score a batch and judge it against the reference.

    Args:
        batch: the incoming table (features, optionally the target column).
        settings: the validated settings (``monitor.thresholds``).
        name: the batch's name in the history.
        source: the batch's file, named in input errors.
    """
    import numpy as np

    from ..data.dataset import load_schema
    from ..modelling.persistence import load_skops
    from ..monitoring.drift import compute_drift
    from ..monitoring.performance import assess_performance
    from ..monitoring.reference import load_reference
    from ..monitoring.verdict import decide

    root = project_root()
    schema = load_schema()
    thresholds = settings.monitor.thresholds
    reference = load_reference(root / REFERENCE_PROFILE)
    info = read_json(root / MODEL_INFO)
    model = load_skops(root / MODEL_FILE, info["trusted_types"])
    from ..data.dataset import check_columns
    from ..data.validation import check_known_labels, to_binary

    inputs = check_columns(batch, schema, source)
    p = model.predict_proba(inputs)[:, 1]
    target = schema["target"]
    # the batch holds labels as the file has them ("yes"/"no"...): map them as validate did,
    # after refusing any the training data did not have (they would count as negatives)
    y = None
    if target in batch:
        if "target_labels" in schema:
            check_known_labels(batch[target], schema["target_labels"], str(source))
        y = to_binary(batch[target], schema["positive_label"]).to_numpy()
    if y is not None and np.isnan(y).all():
        y = None
    drift = compute_drift(inputs, p, reference, thresholds)
    performance = assess_performance(p, y, reference, thresholds)
    verdict = decide(drift, performance, reference, thresholds)
    return {"batch": name, "n": int(len(batch)), "labelled": y is not None,
            "verdict": verdict, "drift": drift, "performance": performance,
            "next_step": NEXT_STEP[verdict["verdict"]]}


def render_report(result: dict) -> str:
    """A short Markdown report of one batch."""
    verdict = result["verdict"]
    lines = [
        f"# Monitoring: batch `{result['batch']}` ({result['n']:,} rows)",
        "",
        f"## Verdict: **{verdict['verdict']}**",
        "",
        *[f"- {reason}" for reason in verdict["reasons"]],
        "",
        f"**Next step:** {result['next_step']}",
        "",
        "## Drift per feature",
        "",
        "| feature | status | PSI | KS / JS | adj. p-value |",
        "|---|---|---|---|---|",
    ]
    for feature, entry in sorted(result["drift"]["features"].items(),
                                 key=lambda kv: -(kv[1].get("psi") or 0)):
        stat = entry.get("ks_statistic", entry.get("js_distance"))
        lines.append(
            f"| {feature} | {entry.get('status')} | {_fmt(entry.get('psi'))} | {_fmt(stat)} | "
            f"{_fmt(entry.get('pvalue_adjusted'))} |"
        )
    expected = result["performance"]["expected"]
    lines += ["", "## Performance", "",
              f"- Label-free estimate: AUC {_fmt(expected.get('auc'))}, "
              f"prevalence {_fmt(expected.get('prevalence'))}"]
    observed = result["performance"].get("observed") or {}
    if observed:
        ci = observed.get("auc_ci") or [None, None]
        lines.append(f"- With labels: AUC {_fmt(observed.get('auc'))} "
                     f"[{_fmt(ci[0])}, {_fmt(ci[1])}], prevalence "
                     f"{_fmt(observed.get('prevalence'))}")
    lines += ["", "Trend across batches: `reports/monitor/history.csv` and `history.png`.", ""]
    return "\n".join(lines)


def default_batch_name(data: DataSettings) -> str:
    """The history's name for the pipeline's batch: one row per distinct batch.

    Args:
        data: the ``data`` settings.
    """
    if data.source == "own_file":
        return Path(data.batch_path).stem if data.batch_path else "training-sample"
    return f"{data.source}-seed{data.batch.seed}"


def deployment_note(root: Path) -> str | None:
    """Which model this is, relative to the registry (the monitor scores the trained model)."""
    path = root / DECISION
    if not path.exists():
        return None
    decision = read_json(path)
    if decision.get("promoted", decision["passed"]):
        return f"Monitored model: version {decision['version']}, the current champion."
    champion = decision.get("champion_version")
    serving = (f"the champion serving traffic is version {champion}. Monitor it on this batch "
               "with `--batch` before acting on this verdict" if champion is not None else
               "no model is champion yet, so nothing serves traffic")
    why = ("an experiment registers challengers only" if decision.get("experiment")
           else "the gate did NOT promote it")
    return f"Monitored model: version {decision['version']}, not the champion ({why}); {serving}."


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> None:
    """Monitor the configured (or given) batch; write the report, history and metrics."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} monitor",
                                     description="Monitor a batch against the reference.")
    parser.add_argument("--batch", type=Path, help="CSV/Parquet batch (default: the pipeline's)")
    args = parser.parse_args(argv)

    from ..data.sources import read_input
    from ..monitoring.verdict import append_history, summary_row

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    root = project_root()
    path = args.batch or root / RAW_BATCH
    name = settings.monitor.batch_name or (
        path.stem if args.batch else default_batch_name(settings.data))
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

    out = root / OUT_DIR
    write_json(out / "monitoring.json", result)
    write_text(out / "report.md", render_report(result))
    append_history(root / HISTORY, name, summary_row(
        result["drift"], result["performance"], result["verdict"]))
    from ..reporting.figures import plot_history

    plot_history(root / HISTORY, out / "history.png")
    summary = result["drift"]["summary"]
    metrics = {"verdict": verdict, "n_drift_features": summary["n_drift"],
               "max_psi": summary["max_psi"], "prediction_psi": summary["prediction_psi"],
               "expected_auc": result["performance"]["expected"]["auc"]}
    if args.batch is None:
        write_json(root / metrics_path("monitor"), metrics)

    import mlflow

    from ..core.tracking import stage_run

    with stage_run("monitor", settings, groups=("monitor",),
                   extra_tags={"monitor.verdict": verdict, "monitor.batch": name}):
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()
                            if isinstance(v, int | float) and v is not None})
        mlflow.log_artifacts(str(out), "monitor")


if __name__ == "__main__":
    run_stage(main, "monitor")
