"""Benchmark of the monitor command on a drifted batch, against the floor it cannot go below.

It needs a trained project (the synthetic example data, whose generator makes the batch).
From a fresh project, with bytecode caching on (unset ``PYTHONDONTWRITEBYTECODE``) as a user
has it::

    uv venv .venv && . .venv/bin/activate && uv pip install -e ".[dev]"   # install
    dvc repro                                          # train: the model and its reference
    python benchmarks/bench_monitor.py                 # 100,000 rows, 5 rounds
    python benchmarks/bench_monitor.py --json benchmarks/monitor.json --rounds 3

The batch comes from the package's generator (``generate_batch``, covariate shift 0.5 by
default) and is written to Parquet twice: with its labels and without them. Each round runs,
in fresh processes and in this order:

* **monitor, labelled**: the command a user types, end to end (interpreter start, imports,
  settings, model, scoring, statistics, report, figure, the run recorded for tracking)::

      {{ cookiecutter.package_name }} monitor --batch <labelled file>

* **monitor, unlabelled**: the same on the file without the target column;
* **floor**: a bare script doing only what any monitor must: import pandas and the model's
  loader (skops), load the trained model, read the batch and call ``predict_proba`` once.

Wall time is measured around each process; CPU time (user + system) from the operating
system's accounting of the finished child. The ratios monitor / floor are taken within a round
and their median reported, so they compare across machines and loads; the load average is
printed with them because the machine may be shared. Target: the monitor within 2 s wall.

Each monitor run records an MLflow run that a background writer sends to the store; the
benchmark waits for that writer outside the timed region (``{{ cookiecutter.package_name }} sync``), so
one round's writer does not slow the next. The project's ``reports/monitor`` (its history and
latest report) is restored afterwards; the MLflow runs of the benchmark's batches stay in the
store, tagged with the batch names ``bench-<rows>-labelled`` and ``bench-<rows>-unlabelled``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PACKAGE = "{{ cookiecutter.package_name }}"
TARGET_SECONDS = 2.0

# The floor: what any monitor of this model must do, and nothing else.
FLOOR = """
import json, sys
import pandas as pd
import skops.io as sio

info = json.load(open("models/train/model_info.json"))
model = sio.load("models/train/model.skops", trusted=info["trusted_types"])
batch = pd.read_parquet(sys.argv[1])
p = model.predict_proba(batch)[:, 1]
print(len(p))
"""


def monitor_command() -> list[str]:
    """The package's command line next to this interpreter, else ``python -m <package>``."""
    script = Path(sys.executable).parent / PACKAGE
    return [str(script)] if script.exists() else [sys.executable, "-m", PACKAGE]


def timed(command: list[str], cwd: Path) -> dict[str, float]:
    """Run a command to completion; its wall and CPU seconds (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def make_batches(workdir: Path, rows: int, seed: int, shift: float) -> dict[str, Path]:
    """A drifted batch from the package's generator, written with and without its labels."""
    from {{ cookiecutter.package_name }}.data.synthetic import generate_batch

    batch, _truth = generate_batch(rows, seed=seed, covariate_shift=shift)
    target = json.loads(Path("data/interim/schema.json").read_text())["target"]
    paths = {"labelled": workdir / f"bench-{rows}-labelled.parquet",
             "unlabelled": workdir / f"bench-{rows}-unlabelled.parquet"}
    batch.to_parquet(paths["labelled"], index=False)
    batch.drop(columns=[target]).to_parquet(paths["unlabelled"], index=False)
    return paths


def one_round(project: Path, batches: dict[str, Path]) -> dict[str, Any]:
    """Monitor both batches, then the floor; every process fresh, the tracking writer awaited."""
    figures: dict[str, Any] = {}
    for kind, path in batches.items():
        figures[kind] = timed([*monitor_command(), "monitor", "--batch", str(path)], project)
        result = json.loads((project / "reports/monitor/latest/monitoring.json").read_text())
        figures[kind]["verdict"] = result["verdict"]["verdict"]
        figures[kind]["labelled"] = result["labelled"]
        subprocess.run([*monitor_command(), "sync"], cwd=project, capture_output=True,
                       check=True)
    figures["floor"] = timed([sys.executable, "-c", FLOOR, str(batches["labelled"])], project)
    for kind in batches:
        figures[kind]["over_floor_wall"] = figures[kind]["wall"] / figures["floor"]["wall"]
        figures[kind]["over_floor_cpu"] = figures[kind]["cpu"] / figures["floor"]["cpu"]
    return figures


def summarise(rounds: list[dict[str, Any]], rows: int, load: list[tuple[float, ...]]) -> dict:
    """Medians over rounds of every figure, and whether the target is met."""
    def median(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in rounds)

    summary: dict[str, Any] = {"rows": rows, "rounds": len(rounds), "cpus": os.cpu_count(),
                               "load_average_before": [round(x, 2) for x in load[0]],
                               "load_average_after": [round(x, 2) for x in load[1]]}
    for kind in ("labelled", "unlabelled", "floor"):
        summary[kind] = {key: median(kind, key) for key in ("wall", "cpu")}
        if kind != "floor":
            summary[kind]["over_floor_wall"] = median(kind, "over_floor_wall")
            summary[kind]["over_floor_cpu"] = median(kind, "over_floor_cpu")
            summary[kind]["verdict"] = rounds[0][kind]["verdict"]
    summary["target_met"] = all(summary[k]["wall"] <= TARGET_SECONDS
                                for k in ("labelled", "unlabelled"))
    summary["each_round"] = rounds
    return summary


def report(summary: dict[str, Any]) -> None:
    """Print the table."""
    print(f"monitor --batch benchmark: {summary['rows']:,} rows, {summary['rounds']} rounds, "
          f"{summary['cpus']} CPUs, load average {summary['load_average_before']} before, "
          f"{summary['load_average_after']} after")
    print(f"{'run (median of rounds)':<34}{'wall s':>8}{'cpu s':>8}{'wall/floor':>12}"
          f"{'cpu/floor':>11}   verdict")
    for kind in ("labelled", "unlabelled", "floor"):
        entry = summary[kind]
        name = "floor: load + read + predict" if kind == "floor" else f"monitor, {kind} batch"
        ratios = ("" if kind == "floor" else
                  f"{entry['over_floor_wall']:>12.2f}{entry['over_floor_cpu']:>11.2f}   "
                  f"{entry['verdict']}")
        print(f"{name:<34}{entry['wall']:>8.2f}{entry['cpu']:>8.2f}{ratios}")
    walls = " / ".join(f"{r['labelled']['wall']:.2f}" for r in summary["each_round"])
    floors = " / ".join(f"{r['floor']['wall']:.2f}" for r in summary["each_round"])
    print(f"each round, labelled monitor wall: {walls}; floor wall: {floors}")
    print(f"target (monitor <= {TARGET_SECONDS} s wall): "
          + ("met" if summary["target_met"] else "NOT MET"))


def main() -> None:
    """Generate the batches, run the rounds, restore the project's monitoring reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the batch")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the median is reported)")
    parser.add_argument("--seed", type=int, default=7, help="the batch's seed")
    parser.add_argument("--shift", type=float, default=0.5, help="covariate shift of the batch")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    project = Path.cwd()
    if not (project / "models/train/model.skops").exists():
        raise SystemExit("no trained model here: run from the project root after `dvc repro`.")
    monitor_dir = project / "reports/monitor"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        saved = workdir / "saved-monitor"
        if monitor_dir.exists():
            shutil.copytree(monitor_dir, saved)
        try:
            batches = make_batches(workdir, args.rows, args.seed, args.shift)
            load_before = os.getloadavg()
            rounds = [one_round(project, batches) for _ in range(args.rounds)]
            load_after = os.getloadavg()
        finally:
            shutil.rmtree(monitor_dir, ignore_errors=True)
            if saved.exists():
                shutil.copytree(saved, monitor_dir)
    summary = summarise(rounds, args.rows, [load_before, load_after])
    report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
