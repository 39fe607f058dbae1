"""Benchmark of the evaluate step's statistics engine: cold, warm, floor, naive bootstrap.

Run from the project root with the package installed (``pip install -e .``)::

    python benchmarks/bench_metrics.py               # 10^6 rows, 1,000 resamples
    python benchmarks/bench_metrics.py --json benchmarks/metrics.json

One full ``evaluate_binary`` pass (two sensitive attributes, a small feature frame for slices,
1,000 bootstrap resamples) is measured in ``--repeats`` fresh processes. Each process imports
the package, generates the data and then times, in this order:

* **cold**: the first call in the process (imports and data generation excluded; every
  first-call cost included: lazy imports, first use of numpy routines, fresh memory pages),
  with the modules it imported (data generation imports pandas beforehand, so a lazy pandas
  import would not show here; the tests check a numpy-only first call for that);
* **warm**: the median of ``--warm`` further calls in the same process;
* **floor**: the median of ``--warm`` runs of the least work any such evaluation must do: one
  argsort of the scores, then one linear pass per input column (gather labels and scores into
  score order; factorize each sensitive attribute and feature, gather its codes into score
  order and count labels per level with ``np.bincount``).

Memory is the peak resident set size reported by the operating system during the cold call
minus the resident size just before it (after imports and data generation): on Linux the peak
(``VmHWM``) is reset through ``/proc/self/clear_refs`` before the call; elsewhere the process's
``ru_maxrss`` is used, which can only under-report when data generation peaked higher.
tracemalloc is not used: it misses memory the allocator keeps and touches.

The naive approach (draw n rows with replacement, call scikit-learn's roc_auc_score,
average_precision_score and brier_score_loss, repeat) is timed on a subsample in the parent
process and scaled linearly to the full size and number of resamples, which flatters it
slightly (sorting is n log n). Ratios are taken between figures of the same process, so they
compare across machines; warm calls and floor runs alternate so that each pair sees the same
load, CPU seconds are given next to wall seconds (the engine is single-threaded, so on a quiet
machine they agree, and on a loaded one CPU time moves less), and the load average is printed
with them because the machine may be shared. Targets: cold <= 1.5 s wall, cold peak extra
RSS <= 200 MB, >= 100x faster than naive.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary

TARGET_COLD_SECONDS = 1.5
TARGET_MEGABYTES = 200.0
TARGET_SPEEDUP = 100.0
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def make_data(n: int, seed: int) -> dict:
    """Calibrated probabilities, labels, two sensitive attributes and three features."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 5.0, n)
    y = (rng.random(n) < p).astype(np.int8)
    sex = pd.Categorical(rng.choice(np.array(["female", "male"]), n))
    age_band = rng.choice(np.array(["18-34", "35-49", "50-64", "65+"]), n).astype(object)
    features = pd.DataFrame(
        {
            "age": rng.normal(50.0, 15.0, n),
            "region": pd.Categorical(rng.choice(np.array(["north", "south", "east", "west"]), n)),
            "plan": rng.integers(0, 3, n),
        }
    )
    return {"y": y, "p": p, "groups": {"sex": sex, "age_band": age_band}, "features": features}


def run_engine(data: dict, n_resamples: int) -> dict:
    """One full evaluation at threshold 0.3."""
    return evaluate_binary(
        data["y"],
        data["p"],
        threshold=0.3,
        groups=data["groups"],
        features=data["features"],
        n_bootstrap=n_resamples,
        seed=0,
    )


def run_floor(data: dict) -> int:
    """The least work of an evaluation: one argsort of the scores plus one pass per column."""
    order = np.argsort(data["p"])
    scores = data["p"][order]
    labels = data["y"][order]
    total = int(labels.sum()) + int(scores[-1] > 0)
    columns = [*data["groups"].values(), *(data["features"][c] for c in data["features"])]
    for column in columns:
        codes, uniques = pd.factorize(column)
        sorted_codes = codes[order]
        total += int(np.bincount(sorted_codes * 2 + labels, minlength=2 * len(uniques))[0])
    return total


def _status_mb(key: str) -> float | None:
    """A field of /proc/self/status in MB (None where the file does not exist)."""
    if not _STATUS.exists():
        return None
    for line in _STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return None


def _max_rss_mb() -> float:
    """The process's peak resident set size so far (MB; ru_maxrss is bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); whether it worked."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _peak_extra_mb(call: Any) -> tuple[float, float, float, str]:
    """Run ``call()``; return (wall s, CPU s, peak RSS beyond the RSS before it in MB, method)."""
    current = _status_mb("VmRSS")
    exact = current is not None and _reset_peak()
    before = current if exact else _max_rss_mb()
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    call()
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    after = _status_mb("VmHWM") if exact else _max_rss_mb()
    method = "VmHWM after reset" if exact else "ru_maxrss (lower bound)"
    return wall, cpu, float(after or 0.0) - float(before or 0.0), method


def measure_process(rows: int, resamples: int, warm_runs: int) -> dict[str, Any]:
    """Cold call, warm calls and the floor, all in this (fresh) process."""
    data = make_data(rows, seed=0)
    rss_before = _status_mb("VmRSS")
    modules_before = set(sys.modules)
    cold, cold_cpu, cold_mb, method = _peak_extra_mb(lambda: run_engine(data, resamples))
    imported = sorted(set(sys.modules) - modules_before)
    # Warm calls and floor runs alternate, so that each pair sees the same machine load.
    warm_results, floor_results = [], []
    for _ in range(warm_runs):
        warm_results.append(_peak_extra_mb(lambda: run_engine(data, resamples)))
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        run_floor(data)
        floor_results.append((time.perf_counter() - start_wall, time.process_time() - start_cpu))
    warm = statistics.median(result[0] for result in warm_results)
    warm_cpu = statistics.median(result[1] for result in warm_results)
    floor = statistics.median(result[0] for result in floor_results)
    floor_cpu = statistics.median(result[1] for result in floor_results)
    pairs = list(zip(warm_results, floor_results, strict=True))
    return {
        "cold_seconds": cold,
        "cold_cpu_seconds": cold_cpu,
        "cold_peak_extra_mb": cold_mb,
        "warm_seconds": warm,
        "warm_cpu_seconds": warm_cpu,
        "warm_seconds_all": [result[0] for result in warm_results],
        "warm_peak_extra_mb": max(result[2] for result in warm_results),
        "floor_seconds": floor,
        "floor_cpu_seconds": floor_cpu,
        "rss_before_mb": rss_before,
        "memory_method": method,
        "first_call_imports": imported,
        "cold_over_warm": cold / warm,
        "cold_over_floor": cold / floor,
        "warm_over_floor": statistics.median(w[0] / f[0] for w, f in pairs),
        "cold_over_warm_cpu": cold_cpu / warm_cpu,
        "cold_over_floor_cpu": cold_cpu / floor_cpu,
        "warm_over_floor_cpu": statistics.median(w[1] / f[1] for w, f in pairs),
    }


def fresh_process(args: argparse.Namespace) -> dict[str, Any]:
    """Run :func:`measure_process` in a new interpreter and return its figures."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--process",
        "--rows",
        str(args.rows),
        "--resamples",
        str(args.resamples),
        "--warm",
        str(args.warm),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_naive(data: dict, rows: int, resamples: int, seed: int) -> float:
    """Seconds per resample of the naive sklearn bootstrap on ``rows`` rows."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    rng = np.random.default_rng(seed)
    y, p = data["y"][:rows], data["p"][:rows]
    start = time.perf_counter()
    for _ in range(resamples):
        index = rng.integers(0, rows, rows)
        roc_auc_score(y[index], p[index])
        average_precision_score(y[index], p[index])
        brier_score_loss(y[index], p[index])
    return (time.perf_counter() - start) / resamples


def _load() -> list[float] | None:
    """1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def main() -> None:
    """Parse options, run the measurements, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="predictions evaluated")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes (median)")
    parser.add_argument("--warm", type=int, default=3, help="warm calls and floor runs per process")
    parser.add_argument("--naive-rows", type=int, default=100_000, help="naive subsample size")
    parser.add_argument("--naive-resamples", type=int, default=5, help="naive resamples timed")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.process:  # one fresh measuring process: print its figures as one JSON line
        print(json.dumps(measure_process(args.rows, args.resamples, args.warm)))
        return

    load_before = _load()
    runs = [fresh_process(args) for _ in range(args.repeats)]
    data = make_data(args.naive_rows, seed=0)
    per_resample = time_naive(data, args.naive_rows, args.naive_resamples, seed=2)
    load_after = _load()

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    cold, warm = median("cold_seconds"), median("warm_seconds")
    memory = median("cold_peak_extra_mb")
    naive_seconds = per_resample * (args.rows / args.naive_rows) * args.resamples
    speedup = naive_seconds / cold
    met = cold <= TARGET_COLD_SECONDS and memory <= TARGET_MEGABYTES and speedup >= TARGET_SPEEDUP
    figures = {
        "rows": args.rows,
        "resamples": args.resamples,
        "processes": args.repeats,
        "cold_seconds_median": cold,
        "cold_cpu_seconds_median": median("cold_cpu_seconds"),
        "warm_seconds_median": warm,
        "warm_cpu_seconds_median": median("warm_cpu_seconds"),
        "floor_seconds_median": median("floor_seconds"),
        "floor_cpu_seconds_median": median("floor_cpu_seconds"),
        "cold_over_warm_median": median("cold_over_warm"),
        "cold_over_floor_median": median("cold_over_floor"),
        "warm_over_floor_median": median("warm_over_floor"),
        "cold_over_warm_cpu_median": median("cold_over_warm_cpu"),
        "cold_over_floor_cpu_median": median("cold_over_floor_cpu"),
        "warm_over_floor_cpu_median": median("warm_over_floor_cpu"),
        "cold_peak_extra_mb_median": memory,
        "warm_peak_extra_mb_median": median("warm_peak_extra_mb"),
        "memory_method": runs[0]["memory_method"],
        "first_call_imports": sorted({name for run in runs for name in run["first_call_imports"]}),
        "runs": runs,
        "naive_seconds_per_resample_at_naive_rows": per_resample,
        "naive_rows": args.naive_rows,
        "naive_seconds_scaled": naive_seconds,
        "speedup_over_naive_cold": speedup,
        "speedup_over_naive_warm": naive_seconds / warm,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpus": os.cpu_count(),
        "targets": {
            "cold_seconds": TARGET_COLD_SECONDS,
            "megabytes": TARGET_MEGABYTES,
            "speedup": TARGET_SPEEDUP,
        },
        "targets_met": bool(met),
    }
    _print_table(figures, runs)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _print_table(figures: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """The human-readable summary: medians over the fresh processes, with every run's value."""

    def each(key: str, digits: int) -> str:
        return " / ".join(f"{run[key]:.{digits}f}" for run in runs)

    def row(label: str, key: str, digits: int, target: str = "") -> tuple[str, str, str, str]:
        return label, f"{figures[key + '_median']:.{digits}f}", target, each(key, digits)

    rows_label = f"{figures['rows']:,} rows x {figures['resamples']:,} resamples"
    print(f"evaluate_binary benchmark: {rows_label}, 2 sensitive attributes, 3 features")
    print(f"{figures['processes']} fresh processes, {figures['cpus']} CPUs, load average "
          f"{figures['load_average_before']} before, {figures['load_average_after']} after")
    lines = [
        row("cold: first call in a process (s)", "cold_seconds", 3, "<= 1.5"),
        row("warm: later calls (s)", "warm_seconds", 3),
        row("floor: argsort + linear passes (s)", "floor_seconds", 3),
        row("cold / warm", "cold_over_warm", 2),
        row("cold / floor", "cold_over_floor", 2),
        row("warm / floor", "warm_over_floor", 2),
        row("CPU s: cold", "cold_cpu_seconds", 3),
        row("CPU s: warm", "warm_cpu_seconds", 3),
        row("CPU s: floor", "floor_cpu_seconds", 3),
        row("CPU: cold / warm", "cold_over_warm_cpu", 2),
        row("CPU: cold / floor", "cold_over_floor_cpu", 2),
        row("CPU: warm / floor", "warm_over_floor_cpu", 2),
        row("cold peak extra RSS (MB)", "cold_peak_extra_mb", 0, "<= 200"),
        row("warm peak extra RSS (MB)", "warm_peak_extra_mb", 0),
        ("naive, scaled to the same size (s)", f"{figures['naive_seconds_scaled']:.1f}", "", ""),
        ("speed-up (naive / cold)", f"{figures['speedup_over_naive_cold']:.0f}x", ">= 100x", ""),
    ]
    print(f"{'measure':<38}{'median':>10}{'target':>10}   each process")
    for name, value, target, values in lines:
        print(f"{name:<38}{value:>10}{target:>10}   {values}")
    print(f"memory: {figures['memory_method']}")
    imported = figures["first_call_imports"]
    print(f"modules imported by the first call: {', '.join(imported) if imported else 'none'}")
    print("targets met" if figures["targets_met"] else "TARGETS NOT MET")


if __name__ == "__main__":
    main()
