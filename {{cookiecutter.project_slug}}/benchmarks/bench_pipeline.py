"""Benchmark of the whole pipeline at scale against a bare script doing the same fit.

Run from the project root with the package installed (``pip install -e .``)::

    python benchmarks/bench_pipeline.py                  # 1,000,000 rows, 1 repeat
    python benchmarks/bench_pipeline.py --rows 100000 --repeats 3
    python benchmarks/bench_pipeline.py --json benchmarks/pipeline.json

Each repeat times, in the same run and one after the other:

* **bare**: one Python process that generates the same data with the package's own generator
  (``data.synthetic.generate`` with the ``data`` settings), splits it 60/20/20, fits the
  configured model (the ``model`` group's family and parameters inside the project's
  preprocessing, ``build_pipeline``) on the training rows, predicts the test rows and writes
  them to Parquet: the least work the pipeline's model must do;
* **pipeline**: ``dvc repro`` in a fresh copy of the project (its tracked and untracked, not
  ignored files, a new git repository and an empty MLflow store), with the synthetic source
  selected in the copy's ``conf/config.yaml`` and ``data.n_rows`` set to ``--rows`` in its
  ``conf/data/synthetic_clinical.yaml``. The bare script runs in such a copy too.

Wall time is measured around each command; peak memory is the largest resident set size of any
single process of the command (``ru_maxrss`` of the waited-for process tree, from ``wait4``),
so a stage process is compared with the bare process. CPU seconds (user + system of the tree)
are reported too: they depend less on the machine's load than wall time. The pipeline's
per-stage wall time is read from DVC's log, timestamping each ``Running stage`` line as it is
printed. The load average before and after each command is printed with the figures, because
the machine may be shared: only the ratios of figures from the same run compare.
Targets: pipeline / bare <= 1.3 in wall time and <= 1.2 in peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_WALL_RATIO = 1.3
TARGET_MEMORY_RATIO = 1.2
DATA_CONF = Path("conf/data/synthetic_clinical.yaml")
CONFIG = Path("conf/config.yaml")
STAGE_LINE = re.compile(r"^Running stage '([^']+)'")
# DVC's last lines after the final stage: where the last stage's time ends
END_LINES = ("Updating lock file", "Use `dvc push`")


def load_text() -> str:
    """The 1, 5 and 15 minute load averages and the core count, for the printed figures."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def run_measured(cmd: list[str], cwd: Path, log_path: Path) -> dict[str, Any]:
    """Run ``cmd``, timestamping its output lines; wall, peak RSS, CPU of its process tree.

    Args:
        cmd: the command.
        cwd: its working directory.
        log_path: where its output goes, each line prefixed by seconds since the start.

    Returns:
        ``{"wall", "peak_mb", "cpu", "lines": [(seconds, line), ...], "load_before",
        "load_after"}``.

    Raises:
        RuntimeError: if the command fails (its log names the error).
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measured as a user runs it: bytecode cached
    load_before = load_text()
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    assert process.stdout is not None
    with log_path.open("w", encoding="utf-8") as log:
        for line in process.stdout:
            at = time.perf_counter() - started
            lines.append((at, line.rstrip("\n")))
            log.write(f"{at:8.1f} {line}")
            log.flush()  # followable while it runs
    # wait4 returns the rusage of the child and of every descendant it waited for: its
    # ru_maxrss is the largest single process of the tree (kilobytes on Linux)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({process.returncode}); see {log_path}")
    return {"wall": wall, "peak_mb": usage.ru_maxrss / 1024, "cpu": usage.ru_utime +
            usage.ru_stime, "lines": lines, "load_before": load_before,
            "load_after": load_text()}


def stage_walls(lines: list[tuple[float, str]], total: float) -> dict[str, float]:
    """Seconds per stage: from its ``Running stage`` line to the next one (or DVC's end)."""
    marks = [(at, m.group(1)) for at, line in lines if (m := STAGE_LINE.match(line))]
    ends = [at for at, line in lines if line.startswith(END_LINES)]
    end = ends[-1] if ends else total
    bounds = [at for at, _ in marks[1:]] + [end]
    return {name: stop - at for (at, name), stop in zip(marks, bounds, strict=True)}


def copy_project(root: Path, target: Path, rows: int) -> Path:
    """A fresh copy of the project's files (not ignored ones), its own git and DVC state."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = root / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    conf = target / DATA_CONF
    text, count = re.subn(r"(?m)^n_rows:\s*\d+", f"n_rows: {rows}", conf.read_text())
    if count != 1:
        raise RuntimeError(f"{DATA_CONF} has no top-level n_rows line to set")
    conf.write_text(text)
    # the synthetic source, whatever the project's default: the bare script generates it too
    config = target / CONFIG
    text, count = re.subn(r"(?m)^(\s*- data:\s*)\S+", r"\1synthetic_clinical",
                          config.read_text())
    if count != 1:
        raise RuntimeError(f"{CONFIG} has no `- data:` default to set")
    config.write_text(text)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c",
                 "user.email=bench@example.invalid", "commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
    return target


def bare(rows: int, out: Path) -> None:
    """The bare script: generate, split, fit the configured model, predict test, write."""
    import numpy as np

    from {{ cookiecutter.package_name }}.core.composition import compose
    from {{ cookiecutter.package_name }}.core.settings import SyntheticClinicalData, load_settings
    from {{ cookiecutter.package_name }}.data import synthetic
    from {{ cookiecutter.package_name }}.data.spec import get_spec
    from {{ cookiecutter.package_name }}.modelling.models import build_pipeline

    compose()  # params.yaml of this copy: the same settings the pipeline reads
    settings = load_settings()
    cfg = settings.data
    assert isinstance(cfg, SyntheticClinicalData)  # copy_project set the source
    data, _ = synthetic.generate(n=rows, seed=cfg.seed, label_noise=cfg.label_noise,
                                 prevalence=cfg.prevalence)
    spec = get_spec(cfg, data)
    numeric, categorical = list(spec.numeric), list(spec.categorical)
    order = np.random.default_rng(0).permutation(len(data))
    n_test = int(0.2 * len(data))
    test, train = order[:n_test], order[2 * n_test:]  # 20% test, 20% left out, 60% train
    X = data[numeric + categorical]
    y = data[spec.target].to_numpy()
    model = build_pipeline(numeric, categorical, settings.prepare.preprocessing,
                           settings.model, settings.train.seed)
    model.fit(X.iloc[train], y[train])
    p = model.predict_proba(X.iloc[test])[:, 1]
    import pandas as pd

    pd.DataFrame({"id": data[spec.id_column].to_numpy()[test], "y": y[test], "p": p}
                 ).to_parquet(out)


def measure(root: Path, rows: int, work: Path, repeat: int) -> dict[str, Any]:
    """One repeat: the bare script, then the pipeline, each in a fresh copy of the project."""
    bare_dir = copy_project(root, work / f"bare-{repeat}", rows)
    bare_run = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "--bare", "--rows", str(rows)],
        bare_dir, work / f"bare-{repeat}.log",
    )
    shutil.rmtree(bare_dir, ignore_errors=True)
    pipe_dir = copy_project(root, work / f"pipeline-{repeat}", rows)
    dvc = Path(sys.executable).with_name("dvc")
    pipe_run = run_measured([str(dvc) if dvc.exists() else "dvc", "repro"], pipe_dir,
                            work / f"pipeline-{repeat}.log")
    shutil.rmtree(pipe_dir, ignore_errors=True)
    return {"bare": bare_run, "pipeline": pipe_run,
            "stages": stage_walls(pipe_run["lines"], pipe_run["wall"])}


def main() -> None:
    """Parse the options, run the repeats, print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data.n_rows")
    parser.add_argument("--repeats", type=int, default=1, help="bare + pipeline pairs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the logs in this folder")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare(args.rows, Path("bare_predictions.parquet"))
        return
    root = Path.cwd()
    if not (root / DATA_CONF).is_file():
        sys.exit(f"run from the project root: {DATA_CONF} not found")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    runs = []
    try:
        for repeat in range(args.repeats):
            runs.append(measure(root, args.rows, work, repeat))
            last = runs[-1]
            print(f"repeat {repeat + 1}/{args.repeats}: bare {last['bare']['wall']:.1f} s, "
                  f"pipeline {last['pipeline']['wall']:.1f} s", flush=True)
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy2(log, args.keep / log.name)
        shutil.rmtree(work, ignore_errors=True)
    report(args, runs)


def report(args: argparse.Namespace, runs: list[dict[str, Any]]) -> None:
    """Print the medians, the ratios, the stages and the load; write JSON if asked."""
    def median(kind: str, key: str) -> float:
        return statistics.median(run[kind][key] for run in runs)

    figures: dict[str, Any] = {"rows": args.rows, "repeats": len(runs)}
    for kind in ("bare", "pipeline"):
        figures[kind] = {key: round(median(kind, key), 2) for key in ("wall", "peak_mb", "cpu")}
    figures["ratio"] = {key: round(median("pipeline", key) / median("bare", key), 3)
                        for key in ("wall", "peak_mb", "cpu")}
    names = list(runs[0]["stages"])
    figures["stages"] = {name: round(statistics.median(r["stages"].get(name, 0.0)
                                                       for r in runs), 2) for name in names}
    figures["load"] = [{kind: (run[kind]["load_before"], run[kind]["load_after"])
                        for kind in ("bare", "pipeline")} for run in runs]
    figures["each"] = [{kind: {key: round(run[kind][key], 2) for key in ("wall", "peak_mb", "cpu")}
                        for kind in ("bare", "pipeline")} for run in runs]

    print(f"\n{args.rows:,} rows, median of {len(runs)} repeat(s)")
    print(f"{'':10} {'wall s':>9} {'peak MB':>9} {'CPU s':>9}")
    for kind in ("bare", "pipeline"):
        f = figures[kind]
        print(f"{kind:10} {f['wall']:9.1f} {f['peak_mb']:9.0f} {f['cpu']:9.1f}")
    r = figures["ratio"]
    print(f"{'ratio':10} {r['wall']:9.2f} {r['peak_mb']:9.2f} {r['cpu']:9.2f}   "
          f"(targets: wall <= {TARGET_WALL_RATIO}, peak <= {TARGET_MEMORY_RATIO})")
    if len(runs) > 1:
        print("\neach repeat (wall s / peak MB / CPU s):")
        for i, each in enumerate(figures["each"], 1):
            print(f"  repeat {i}: " + ", ".join(
                f"{kind} {f['wall']:.1f} / {f['peak_mb']:.0f} / {f['cpu']:.1f}"
                for kind, f in each.items()))
    print("\nper stage (wall s, from DVC's log):")
    for name, seconds in figures["stages"].items():
        print(f"  {name:10} {seconds:8.1f}")
    print("\nload average (1, 5, 15 min) before -> after:")
    for i, loads in enumerate(figures["load"], 1):
        for kind, (before, after) in loads.items():
            print(f"  repeat {i} {kind:9} {before} -> {after}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
