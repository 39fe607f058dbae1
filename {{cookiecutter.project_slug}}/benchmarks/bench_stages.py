"""Benchmark of the pipeline's fixed costs: light stages, a no-op ``dvc repro``, a first run.

Run from the project root, with the package installed and bytecode caching on (unset
``PYTHONDONTWRITEBYTECODE``: with it every process recompiles its imports)::

    dvc repro                                    # once: the stages need their inputs
    python benchmarks/bench_stages.py            # light stages, no-op repro, first repro
    python benchmarks/bench_stages.py --runs 7 --first-runs 0 --json benchmarks/stages.json

Each command runs as its own process, as DVC runs it, several times after a warm-up; the table
gives the median wall and CPU seconds, and each as a multiple of the floor measured in the same
run: a Python process that imports the package's settings and reads ``params.yaml`` (what every
stage must do before its own work); ``deploy``, which must read and write the registry, is also
set against a process that imports MLflow and reads the registry once. The first ``dvc repro``
runs in a fresh clone of the project's last commit (its own MLflow store), so nothing is cached.
"""

from __future__ import annotations

import argparse
import importlib
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

ROOT = Path.cwd()


def package() -> str:
    """The package, from the command ``compose`` runs (``python -m <package>.stages.compose``)."""
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ".stages.compose" in ln)
    return line.split("-m", 1)[1].strip().split(".")[0]


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # DVC runs `python -m ...`: this interpreter's, as in an activated environment
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PATH": path})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(command: list[str], runs: int, cwd: Path = ROOT) -> dict[str, float]:
    """Median wall and CPU over ``runs`` runs after one warm-up.

    The background writer that a light stage starts is awaited between runs, outside the
    timing, so that it neither competes with the next run nor holds the store's lock.
    """
    samples = []
    for _ in range(runs + 1):
        samples.append(timed(command, cwd))
        wait_for_writer(cwd)
    samples = samples[1:]
    return {"wall_s": statistics.median(w for w, _ in samples),
            "cpu_s": statistics.median(c for _, c in samples),
            "wall_max_s": max(w for w, _ in samples)}


def first_repro(runs: int) -> dict[str, float] | None:
    """``dvc repro`` from nothing: a clone of the last commit, its own store."""
    if runs == 0:
        return None
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-first-",
                                         ignore_cleanup_errors=True) as scratch:
            clone = Path(scratch) / "project"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            samples.append(timed([dvc(), "repro", "-q"], clone))
            wait_for_writer(clone)
    return {"wall_s": statistics.median(w for w, _ in samples),
            "cpu_s": statistics.median(c for _, c in samples),
            "wall_max_s": max(w for w, _ in samples)}


def wait_for_writer(project: Path) -> None:
    """The background run writer a stage started, done (``core/pending_runs.py``)."""
    module = importlib.import_module(f"{package()}.core.pending_runs")
    module.wait_until_written(project / module.FOLDER, timeout=60)


def dvc() -> str:
    return shutil.which("dvc", path=str(Path(sys.executable).parent)) or "dvc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (after a warm-up)")
    parser.add_argument("--first-runs", type=int, default=1, help="first dvc repro runs (0: skip)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("warning: PYTHONDONTWRITEBYTECODE is set: every process recompiles its imports")
    pkg = package()
    python = sys.executable
    load_before = os.getloadavg()
    floor = measure([python, "-c", f"from {pkg}.core.settings import load_settings; "
                                   "load_settings()"], args.runs)
    rows = {"floor (settings read)": floor}
    # deploy cannot do without the registry: its floor is MLflow's import and one registry read
    uri = f"sqlite:///{ROOT / 'mlflow.db'}"
    rows["floor of deploy (registry read)"] = measure([python, "-c", (
        f"from mlflow import MlflowClient; MlflowClient({uri!r}, {uri!r})"
        ".search_registered_models(max_results=1)")], args.runs)
    for stage in ("define", "compose", "deploy"):
        rows[f"stage {stage}"] = measure([python, "-m", f"{pkg}.stages.{stage}"], args.runs)
    rows["dvc repro, nothing changed"] = measure([dvc(), "repro"], args.runs)
    first = first_repro(args.first_runs)
    if first is not None:
        rows["dvc repro, first run"] = first
    load_after = os.getloadavg()
    print(f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'command':32} {'wall s':>8} {'cpu s':>8} {'max wall':>9} {'x floor':>8}")
    for name, row in rows.items():
        own = rows["floor of deploy (registry read)"] if name == "stage deploy" else floor
        row["x_floor"] = row["wall_s"] / own["wall_s"]
        print(f"{name:32} {row['wall_s']:8.2f} {row['cpu_s']:8.2f} {row['wall_max_s']:9.2f} "
              f"{row['x_floor']:8.2f}")
    print("x floor: wall over the settings-read floor; deploy's over the registry-read floor")
    if args.json:
        args.json.write_text(json.dumps({"load": [load_before[0], load_after[0]],
                                         "rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
