"""Benchmark of the evaluate step's statistics engine against the naive bootstrap.

Run from the project root with the package installed (``pip install -e .``)::

    python benchmarks/bench_metrics.py               # 10^6 rows, 1,000 resamples
    python benchmarks/bench_metrics.py --json benchmarks/metrics.json

Measures one full ``evaluate_binary`` pass (two sensitive attributes, a small feature frame for
slices, 1,000 bootstrap resamples): wall time without imports and data generation, and peak
extra memory (tracemalloc, in a separate run because tracing slows numpy down). The naive
approach (draw n rows with replacement, call scikit-learn's roc_auc_score,
average_precision_score and brier_score_loss, repeat) is timed on a subsample and scaled
linearly to the full size and number of resamples, which flatters it slightly (sorting is
n log n). Targets: <= 2 s, <= 200 MB, >= 100x faster than naive.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary

TARGET_SECONDS = 2.0
TARGET_MEGABYTES = 200.0
TARGET_SPEEDUP = 100.0


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


def time_engine(data: dict, n_resamples: int, repeats: int) -> list[float]:
    """Wall times of ``repeats`` full evaluations."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_engine(data, n_resamples)
        times.append(time.perf_counter() - start)
    return times


def peak_memory_mb(data: dict, n_resamples: int) -> float:
    """Peak memory allocated during one evaluation, beyond what existed before (MB)."""
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    run_engine(data, n_resamples)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - baseline) / 1e6


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


def main() -> None:
    """Parse options, run the measurements, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="predictions evaluated")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--repeats", type=int, default=3, help="timed engine runs (median)")
    parser.add_argument("--naive-rows", type=int, default=100_000, help="naive subsample size")
    parser.add_argument("--naive-resamples", type=int, default=5, help="naive resamples timed")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    data = make_data(args.rows, seed=0)
    small = make_data(5000, seed=1)
    run_engine(small, 50)  # warm-up: lazy imports and first-call overheads are not measured

    times = time_engine(data, args.resamples, args.repeats)
    seconds = statistics.median(times)
    memory = peak_memory_mb(data, args.resamples)
    per_resample = time_naive(data, args.naive_rows, args.naive_resamples, seed=2)
    naive_seconds = per_resample * (args.rows / args.naive_rows) * args.resamples
    speedup = naive_seconds / seconds

    figures = {
        "rows": args.rows,
        "resamples": args.resamples,
        "engine_seconds_median": seconds,
        "engine_seconds_all": times,
        "engine_peak_extra_mb": memory,
        "naive_seconds_per_resample_at_naive_rows": per_resample,
        "naive_rows": args.naive_rows,
        "naive_seconds_scaled": naive_seconds,
        "speedup": speedup,
        "targets": {
            "seconds": TARGET_SECONDS,
            "megabytes": TARGET_MEGABYTES,
            "speedup": TARGET_SPEEDUP,
        },
        "targets_met": bool(
            seconds <= TARGET_SECONDS and memory <= TARGET_MEGABYTES and speedup >= TARGET_SPEEDUP
        ),
    }
    rows_label = f"{args.rows:,} rows x {args.resamples:,} resamples"
    print(f"evaluate_binary benchmark: {rows_label}, 2 sensitive attributes, 3 features")
    print(f"{'measure':<42}{'value':>14}{'target':>12}")
    print(f"{'engine wall time (median, s)':<42}{seconds:>14.3f}{'<= 2':>12}")
    print(f"{'engine peak extra memory (MB)':<42}{memory:>14.1f}{'<= 200':>12}")
    print(f"{'naive, scaled to the same size (s)':<42}{naive_seconds:>14.1f}{'':>12}")
    print(f"{'speed-up (naive / engine)':<42}{speedup:>13.0f}x{'>= 100x':>12}")
    print("targets met" if figures["targets_met"] else "TARGETS NOT MET")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
