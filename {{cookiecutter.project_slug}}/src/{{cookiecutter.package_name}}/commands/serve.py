"""Serve the champion model over HTTP (bound to 127.0.0.1), in this process.

    {{ cookiecutter.package_name }} serve [--port 5001] [--host 127.0.0.1] [--workers 1]
        [--on-bad-row reject|warn] [--max-request-mb 10]

Requests follow MLflow's scoring protocol: ``POST /invocations`` with
``{"dataframe_split": {"columns": [...], "data": [[...]]}}``; the answer holds P(class 0) and
P(class 1) per row. The model's signature rejects missing columns and wrong types with a 4xx.
Rows the champion was not validated for (a category it never saw, a value outside the validated
range, every feature missing) get a 422 naming the row and column, or are scored with a warning
(``serve.on_bad_row`` in ``conf/serve/default.yaml``); bodies over ``serve.max_request_mb`` get a
413 (see ``serving/app.py``). MLflow's app runs under uvicorn inside this process: no
``mlflow models serve`` and no ``uvicorn`` executable on PATH; the project's own environment is
used.
"""

from __future__ import annotations

import argparse
import logging
import os

from ..core.config import PARAMS_FILE, project_root
from ..core.paths import PACKAGE
from ..core.settings import load_settings

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``--on-bad-row`` and ``--max-request-mb`` override ``conf/serve/``)."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} serve",
                                     description="Serve the champion model.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5001, help="port (default 5001)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--on-bad-row", choices=("reject", "warn"), default=None,
                        help="refuse (422) or score with a warning the rows the model was not "
                             "validated for (default: serve.on_bad_row)")
    parser.add_argument("--max-request-mb", type=float, default=None,
                        help="largest request body in MB (default: serve.max_request_mb)")
    return parser.parse_args(argv)


def warn_if_conf_is_newer() -> None:
    """``params.yaml`` is what is read: say so when ``conf/`` was edited after composing it."""
    root = project_root()
    params = root / PARAMS_FILE
    if not params.exists():
        return
    composed = params.stat().st_mtime
    newer = [p for p in (root / "conf").rglob("*.yaml") if p.stat().st_mtime > composed]
    if newer:
        log.warning("%s changed after %s was composed; this server reads %s: run `dvc repro` "
                    "(only `compose` re-runs for conf/serve/) and restart, or pass the setting "
                    "on the command line", newer[0].relative_to(root), PARAMS_FILE, PARAMS_FILE)


def main(argv: list[str] | None = None) -> None:
    """Resolve the champion, load it and serve it until interrupted."""
    args = parse_args(argv)

    from ..core.registry import champion_uri
    from ..core.tracking import tracking_uri
    from ..serving.app import (
        build_app,
        load_champion,
        settings_to_environment,
        with_overrides,
    )

    warn_if_conf_is_newer()
    config = load_settings()
    settings = with_overrides(config.serve, args.on_bad_row, args.max_request_mb)
    uri = champion_uri(config)
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri(config.mlflow)  # for worker processes
    import uvicorn

    print(f"serving {uri} on http://{args.host}:{args.port}/invocations", flush=True)
    if args.workers > 1:
        # uvicorn starts the workers from an import string; each loads the champion itself
        settings_to_environment(uri, settings)
        uvicorn.run(f"{PACKAGE}.serving.app:app_from_env", factory=True, host=args.host,
                    port=args.port, workers=args.workers)
        return
    app = build_app(load_champion(uri), settings)
    uvicorn.run(app, host=args.host, port=args.port)
