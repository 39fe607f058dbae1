"""Serve the champion model over HTTP with ``mlflow models serve`` (bound to 127.0.0.1).

    python -m {{ cookiecutter.package_name }}.serve [--port 5001] [--host 127.0.0.1]

Requests follow MLflow's scoring protocol: ``POST /invocations`` with
``{"dataframe_split": {"columns": [...], "data": [[...]]}}``; the answer holds P(class 0) and
P(class 1) per row. The model's signature rejects missing columns and wrong types with a 4xx.
The project's own environment is used (``--env-manager local``): nothing is installed.
"""

from __future__ import annotations

import argparse
import os
import sys

from .config import load_params
from .errors import run_stage


def serve_command(model_uri: str, host: str, port: int, workers: int) -> list[str]:
    """The ``mlflow models serve`` command line.

    Args:
        model_uri: e.g. ``models:/name@champion``.
        host: interface to bind; keep 127.0.0.1 unless a proxy fronts it.
        port: TCP port.
        workers: worker processes.
    """
    return [
        sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager",
        "local", "-h", host, "-p", str(port), "-w", str(workers),
    ]


def main() -> None:
    """Resolve the champion and replace this process with the MLflow server."""
    parser = argparse.ArgumentParser(description="Serve the champion model.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5001, help="port (default 5001)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()

    from .registry import champion_uri
    from .tracking import tracking_uri

    params = load_params()
    uri = champion_uri(params)
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri(params)
    command = serve_command(uri, args.host, args.port, args.workers)
    print(f"serving {uri} on http://{args.host}:{args.port}/invocations", flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    run_stage(main, "serve")
