"""Serving latency of a baked project's champion beside its in-process cost; the monitor step.

    python benchmarks/serving_latency.py                      # bake, install, `dvc repro`, measure
    python benchmarks/serving_latency.py --project PATH       # reuse a project that has a champion
    python benchmarks/serving_latency.py --project PATH --no-monitor --profile --json out.json

Each of ``--rounds`` rounds (default 3) measures, one after the other so that they share the
machine's load:

1. In process, in a fresh process of the interpreter the server runs on: the champion loaded
   with ``mlflow.sklearn.load_model``, its ``predict_proba`` on 1 row and on 100 rows (the
   baseline), the preprocessing step alone (full path and the light path), the serving
   pipeline (``serving.app.light_model``: light transform, one thread) and MLflow's
   ``invocations`` on the same request bodies the server gets (parse, signature, row checks,
   predict, JSON): median and p99 of ``--calls`` calls after warm-up. A project from before
   the light path is measured too: its serving pipeline is then the full one.
2. Start-up: ``<pkg> serve`` (the venv's own ``bin/<pkg>`` when there is one) started with a
   PATH that lacks the venv, timed until ``/ping`` answers.
3. Serving: ``--requests`` requests of 1 row, then as many of 100 rows, one after the other over
   one keep-alive HTTP connection (``http.client``), after ``WARM_UP`` uncounted ones. Rows come
   from the test split (missing values as JSON null); bodies are serialised before timing.
   Latency is from sending the request to reading the whole answer.

Reported: the median over rounds of each figure, and the ratios server p50 / in-process
``predict_proba`` p50 computed within each round. ``--profile`` adds a cProfile of the
in-process ``invocations`` of one row (where a request's time goes, the HTTP stack aside).

Then, unless ``--no-monitor``: ``<pkg> monitor --batch <file>`` on a 100,000-row batch generated
by the package's ``data.synthetic.generate_batch(100_000, seed=7, covariate_shift=0.5)``, timed as
a whole process (imports, reading, scoring, drift tests, report, MLflow run). It writes the
project's ``reports/monitor/latest`` and appends to its monitoring history, as any
``monitor --batch`` run does: use a scratch project with ``--project``.

Run with the interpreter that has the template's test dependencies (cookiecutter, uv, dvc).
A project with its own ``.venv`` is served and measured with that venv's interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))

from helpers import install, project_env, run, stop_process_group  # noqa: E402

HOST = "127.0.0.1"  # loopback only: the benchmark never listens on or calls another interface
WARM_UP = 20
#: The server's PATH: no venv on it, so nothing may need an executable from one.
BARE_PATH = "/usr/bin:/bin"
SIZES = (1, 100)
STARTUP_SECONDS = 180
STOP_SECONDS = 30
BATCH_ROWS = 100_000


def bake(workdir: Path) -> Path:
    """Bake a default project into ``workdir``, install it and run the pipeline once.

    Args:
        workdir: an empty directory to bake into.
    """
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(workdir),
                                extra_context={"project_name": "Serving Latency"}))
    print(f"baked {project}; installing and running `dvc repro` (a few minutes)", flush=True)
    install(project)
    run(["dvc", "repro"], project, timeout=1800)
    return project


def package_name(project: Path) -> str:
    """The project's package: the directory under src/ that has the command line (cli.py)."""
    found = sorted(p.parent.name for p in (project / "src").glob("*/cli.py"))
    if len(found) != 1:
        raise SystemExit(f"{project}: expected one package with cli.py under src/, "
                         f"found {found}; give a baked project's root with --project.")
    return found[0]


def import_module(project: Path, name: str):
    """Import ``name`` from the project's own src/ (not another install of the same name)."""
    sys.path.insert(0, str(project / "src"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(project / "src"))


def interpreter(project: Path) -> Path:
    """The project's own venv's Python when it has one (``.venv``), else this interpreter."""
    own = project / ".venv" / "bin" / "python"
    return own if own.exists() else Path(sys.executable)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def serve_command(python: Path, package: str, port: int) -> list[str]:
    """``bin/<pkg> serve`` of ``python``'s venv (as a user runs it), else ``python -m <pkg>``."""
    script = python.parent / package
    head = [str(script)] if script.exists() else [str(python), "-m", package]
    return [*head, "serve", "--host", HOST, "--port", str(port)]


def start_server(project: Path, command: list[str], port: int,
                 log_path: Path) -> tuple[subprocess.Popen, float]:
    """Start the server in its own process group, PATH without the venv; wait until /ping
    answers. Returns the process and the seconds from starting it to the first 200 on /ping.

    Args:
        project: the project root.
        command: the server's command line (:func:`serve_command`).
        port: a free loopback port.
        log_path: where the server's output goes.
    """
    started = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=project, env=project_env(project, PATH=BARE_PATH),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{log_path.read_text()}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                connection.close()
                return process, time.perf_counter() - started
        time.sleep(0.02)
    stop_server(process)
    raise SystemExit(f"no answer on /ping within {STARTUP_SECONDS} s:\n{log_path.read_text()}")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server and everything it started."""
    stop_process_group(process, STOP_SECONDS)


def test_inputs(project: Path, package: str):
    """The test split's model inputs (the signature's columns), as the pipeline scores them."""
    import pandas as pd

    dataset = import_module(project, f"{package}.data.dataset")
    paths = import_module(project, f"{package}.core.paths")
    schema = json.loads((project / paths.SCHEMA).read_text())
    test = pd.read_parquet(project / paths.split_path("test"))
    return dataset.model_inputs(test, schema)[dataset.feature_columns(schema)]


def chunk_rows(n_rows: int, rows_per_request: int, i: int) -> list[int]:
    """Positions of the rows of request ``i``: consecutive test rows, cycling."""
    start = (i * rows_per_request) % n_rows
    return [(start + k) % n_rows for k in range(rows_per_request)]


def request_bodies(inputs, rows_per_request: int, count: int) -> list[bytes]:
    """``count`` serialised ``dataframe_split`` bodies of consecutive test rows (cycling)."""
    rows = inputs.astype(object).where(inputs.notna(), None).to_numpy().tolist()
    columns = list(inputs.columns)
    bodies = []
    for i in range(count):
        chunk = [rows[k] for k in chunk_rows(len(rows), rows_per_request, i)]
        body = {"dataframe_split": {"columns": columns, "data": chunk}}
        bodies.append(json.dumps(body, allow_nan=False).encode())
    return bodies


def summary(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"median_ms": float(np.median(a)), "p99_ms": float(np.percentile(a, 99)),
            "mean_ms": float(a.mean()), "max_ms": float(a.max()), "n": int(a.size)}


def time_requests(port: int, bodies: list[bytes], rows_per_request: int) -> dict:
    """Send the bodies one after the other over one keep-alive connection; latency summary.

    Args:
        port: the server's port.
        bodies: serialised requests; the first WARM_UP are sent but not counted.
        rows_per_request: rows in each body (to check the answers).
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    latencies, connects = [], 0
    try:
        for i, body in enumerate(bodies):
            connects += connection.sock is None  # http.client reconnects if the server closed
            started = time.perf_counter()
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"request {i} answered {response.status}: {answer[:500]!r}")
            if i == 0 and len(json.loads(answer)["predictions"]) != rows_per_request:
                raise SystemExit(f"expected {rows_per_request} predictions: {answer[:500]!r}")
            if i >= WARM_UP:
                latencies.append(elapsed * 1000.0)
    finally:
        connection.close()
    result = summary(latencies)
    result.update(rows_per_request=rows_per_request, connections_opened=int(connects),
                  rows_per_second=float(rows_per_request * len(latencies)
                                        / sum(latencies) * 1000.0))
    return result


# --------------------------------------------------------- in process (its own interpreter)


def in_process(project: Path, calls: int, profile: bool) -> dict:
    """Time the champion in this process: the baseline and each part of a request.

    Runs in the interpreter the server runs on (``--in-process`` mode, started by
    :func:`measure_in_process`). Each call of the loop times every measure once, on the same
    rows, so that they share whatever load the machine has.

    Args:
        project: the project root (the working directory, as for the server).
        calls: timed calls per measure and size, after WARM_UP.
        profile: also return a cProfile of one-row ``invocations``.
    """
    os.chdir(project)
    package = package_name(project)
    started = time.perf_counter()
    settings = import_module(project, f"{package}.core.settings")
    registry = import_module(project, f"{package}.core.registry")
    tracking = import_module(project, f"{package}.core.tracking")
    app = import_module(project, f"{package}.serving.app")
    features = import_module(project, f"{package}.modelling.features")
    import mlflow
    from mlflow.pyfunc.scoring_server import invocations

    config = settings.load_settings()
    os.environ["MLFLOW_TRACKING_URI"] = tracking.tracking_uri(config.mlflow)
    model = mlflow.pyfunc.load_model(registry.champion_uri(config))
    load_seconds = time.perf_counter() - started
    pipeline = model.get_raw_model()
    if hasattr(app, "light_model"):
        light = app.light_model(model)
        light_transform = features.LightTransform(pipeline[0])
        light_pipeline = app.LightPipeline(pipeline).predict_proba
    else:  # a project from before the light path: its server scores with the full path
        light, light_transform, light_pipeline = model, pipeline[0].transform, \
            pipeline.predict_proba
    checked = app.CheckedModel(light, app.knowledge_of(model), "reject")
    schema = model.metadata.get_input_schema()
    inputs = test_inputs(project, package)

    results: dict = {"load_seconds": load_seconds}
    for size in SIZES:
        count = WARM_UP + calls
        frames = [inputs.iloc[chunk_rows(len(inputs), size, i)] for i in range(count)]
        bodies = request_bodies(inputs, size, count)
        measures = {
            "predict_proba": (pipeline.predict_proba, frames),
            "preprocess_full": (pipeline[0].transform, frames),
            "preprocess_light": (light_transform, frames),
            "serving_pipeline": (light_pipeline, frames),
            "pyfunc_predict": (light.predict, frames),
            "row_checks": (checked.check, frames),
            "invocations": (lambda body: invocations(body, "application/json", checked, schema),
                            bodies),
        }
        same = all(np.array_equal(light.predict(frame), pipeline.predict_proba(frame))
                   for frame in frames[:100])
        times: dict[str, list[float]] = {name: [] for name in measures}
        for i in range(count):
            for name, (call, arguments) in measures.items():
                t0 = time.perf_counter()
                call(arguments[i])
                elapsed = (time.perf_counter() - t0) * 1000.0
                if i >= WARM_UP:
                    times[name].append(elapsed)
        results[str(size)] = {name: summary(ms) for name, ms in times.items()}
        results[str(size)]["serving_equals_predict_proba"] = bool(same)
    if profile:
        results["profile"] = profile_invocations(invocations, checked, schema,
                                                 request_bodies(inputs, 1, 300))
    return results


def profile_invocations(invocations, model, schema, bodies: list[bytes]) -> str:
    """cProfile of MLflow's ``invocations`` on one-row bodies: the top entries by own time and
    by cumulative time."""
    import cProfile
    import io
    import pstats

    for body in bodies[:WARM_UP]:
        invocations(body, "application/json", model, schema)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        invocations(body, "application/json", model, schema)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def measure_in_process(project: Path, python: Path, calls: int, profile: bool) -> dict:
    """:func:`in_process` in a fresh process of ``python`` (the server's interpreter)."""
    args = [str(python), str(Path(__file__).resolve()), "--in-process", "--project",
            str(project), "--calls", str(calls), *(["--profile"] if profile else [])]
    done = subprocess.run(args, cwd=project, env=project_env(project, PATH=BARE_PATH),
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the in-process measurement failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- the monitor


def time_monitor(project: Path, package: str, python: Path, workdir: Path, rows: int) -> dict:
    """Generate a drifted batch, write it to Parquet and time ``<pkg> monitor --batch`` on it.

    Args:
        project: the project root.
        package: its package name.
        python: the interpreter to run it with.
        workdir: where the batch file goes.
        rows: rows in the batch.
    """
    synthetic = import_module(project, f"{package}.data.synthetic")
    batch, _truth = synthetic.generate_batch(rows, seed=7, covariate_shift=0.5)
    path = workdir / f"batch_{rows}.parquet"
    batch.to_parquet(path, index=False)
    started = time.perf_counter()
    run([str(python), "-m", package, "monitor", "--batch", str(path)], project, timeout=1800)
    seconds = time.perf_counter() - started
    result = json.loads((project / "reports/monitor/latest/monitoring.json").read_text())
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
            "verdict": result["verdict"]["verdict"], "batch_file": str(path)}


# ------------------------------------------------------------------------------ reporting


def rounds_summary(rounds: list[dict]) -> dict:
    """Medians over rounds of every figure, and the medians of the per-round ratios."""
    def med(values) -> float:
        return float(statistics.median(values))

    out: dict = {"startup_seconds": med(r["startup_seconds"] for r in rounds),
                 "startup_seconds_each": [r["startup_seconds"] for r in rounds],
                 "in_process_load_seconds": med(r["in_process"]["load_seconds"] for r in rounds)}
    for size in SIZES:
        key = str(size)
        inside = [r["in_process"][key] for r in rounds]
        served = [r["server"][key] for r in rounds]
        fig: dict = {name: {stat: med(m[name][stat] for m in inside)
                            for stat in ("median_ms", "p99_ms")}
                     for name, value in inside[0].items() if isinstance(value, dict)}
        fig["server"] = {stat: med(s[stat] for s in served)
                         for stat in ("median_ms", "p99_ms", "rows_per_second")}
        for ratio, (top, bottom) in {
                "server_p50_over_predict_proba_p50": ("server", "predict_proba"),
                "server_p50_over_serving_pipeline_p50": ("server", "serving_pipeline"),
                "preprocess_full_over_light": ("preprocess_full", "preprocess_light")}.items():
            fig[ratio] = med((s["median_ms"] if top == "server" else m[top]["median_ms"])
                             / m[bottom]["median_ms"] for m, s in zip(inside, served, strict=True))
        fig["serving_equals_predict_proba"] = all(m["serving_equals_predict_proba"]
                                                  for m in inside)
        out[key] = fig
    return out


LABELS = {
    "predict_proba": "in process: pipeline.predict_proba (baseline)",
    "preprocess_full": "  its preprocessing step (full path)",
    "preprocess_light": "  the same step, light path",
    "serving_pipeline": "in process: serving pipeline (light, 1 thread)",
    "pyfunc_predict": "  + MLflow's signature enforcement",
    "row_checks": "  row checks (separately)",
    "invocations": "in process: MLflow invocations (JSON in/out)",
    "server": "server, over loopback HTTP",
}


def render(report: dict) -> str:
    """The figures as a plain-text table."""
    s = report["summary"]
    lines = [f"median of {report['rounds']} rounds; load average {report['load_before']} before, "
             f"{report['load_after']} after",
             f"{'measure':<50}{'1 row p50':>10}{'p99':>8}{'100 rows p50':>14}{'p99':>8}"]
    for name, label in LABELS.items():
        one, hundred = s["1"][name], s["100"][name]
        lines.append(f"{label:<50}{one['median_ms']:>10.2f}{one['p99_ms']:>8.2f}"
                     f"{hundred['median_ms']:>14.2f}{hundred['p99_ms']:>8.2f}")
    for key, label in (("server_p50_over_predict_proba_p50", "server p50 / predict_proba p50"),
                       ("server_p50_over_serving_pipeline_p50",
                        "server p50 / serving pipeline p50"),
                       ("preprocess_full_over_light", "preprocessing full / light")):
        lines.append(f"{label:<50}{s['1'][key]:>10.2f}x{'':>7}{s['100'][key]:>14.2f}x")
    equal = all(s[str(size)]["serving_equals_predict_proba"] for size in SIZES)
    lines.append(f"server start to first /ping: {s['startup_seconds']:.2f} s (each round: "
                 + ", ".join(f"{x:.2f}" for x in s["startup_seconds_each"]) + " s); "
                 f"serving pipeline equals predict_proba: {equal}")
    if "monitor" in report:
        m = report["monitor"]
        lines.append(f"monitor --batch {m['rows']:,} rows: {m['seconds']:.1f} s "
                     f"({m['rows_per_second']:.0f} rows/s, verdict '{m['verdict']}'; one run, "
                     f"wall time incl. imports)")
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000,
                        help="timed requests per size and round (default 1000; at least 1000)")
    parser.add_argument("--calls", type=int, default=1000,
                        help="timed in-process calls per measure, size and round (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--project", type=Path, help="a baked project with a champion to reuse")
    parser.add_argument("--workdir", type=Path, help="where to bake (default: a new temp dir)")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS,
                        help=f"rows of the monitored batch (default {BATCH_ROWS:,})")
    parser.add_argument("--no-monitor", action="store_true", help="skip the monitor step")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the in-process one-row request")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:  # the child of measure_in_process: print its figures as JSON
        print(json.dumps(in_process(args.project.resolve(), args.calls, args.profile)))
        return
    if args.requests < 1000:
        parser.error("--requests must be at least 1000")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="serving-latency-"))
    workdir.mkdir(parents=True, exist_ok=True)
    project = args.project.resolve() if args.project else bake(workdir)
    package = package_name(project)
    python = interpreter(project)
    decision = json.loads((project / "reports/deploy/decision.json").read_text())
    if decision.get("champion_version") is None:
        raise SystemExit(f"{project}: no champion yet (see reports/deploy/decision.md).")

    inputs = test_inputs(project, package)
    bodies = {size: request_bodies(inputs, size, args.requests + WARM_UP) for size in SIZES}
    load_before = load_average()
    rounds = []
    for number in range(1, args.rounds + 1):
        print(f"round {number}/{args.rounds}: in process, then the server "
              f"(load {load_average()})", flush=True)
        measured = measure_in_process(project, python, args.calls, args.profile and number == 1)
        port = free_port()
        command = serve_command(python, package, port)
        server, startup = start_server(project, command, port, workdir / "serve.log")
        try:
            served = {str(size): time_requests(port, bodies[size], size) for size in SIZES}
        finally:
            stop_server(server)
        rounds.append({"in_process": measured, "server": served, "startup_seconds": startup,
                       "load": load_average()})
    report = {"project": str(project), "model_version": decision["champion_version"],
              "rounds": args.rounds, "requests": args.requests, "calls": args.calls,
              "server_command": " ".join([Path(command[0]).name, *command[1:3]]),
              "load_before": load_before, "load_after": load_average(),
              "summary": rounds_summary(rounds), "each_round": rounds}
    profile = rounds[0]["in_process"].pop("profile", None)
    if not args.no_monitor:
        report["monitor"] = time_monitor(project, package, python, workdir, args.batch_rows)
    report["environment"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "machine": platform.machine(), "interpreter": str(python)}
    if profile:
        print(profile)
    print(render(report))
    print(f"project kept at {project} (reuse it with --project)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
