"""Promote a registered model version to ``champion``, deliberately.

    {{ cookiecutter.package_name }} promote --version N [--force]
    {{ cookiecutter.package_name }} promote --experiment NAME [--force]

Experiments (``dvc exp run``, queued or not) register their model as a version but never move
``champion``; their ``reports/deploy/decision.md`` names the version and this command. It runs
the deploy gate for that version against the champion of this moment, on the workspace's current
test rows, and moves ``champion`` only if the gate passes. The logic is in
``decisions/promotion.py``.

Exit status: 0 when the version is champion afterwards, 1 when the gate refused it.
"""

from __future__ import annotations

import argparse
import os

from ..core.paths import PACKAGE
from ..core.settings import load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: which version (by number or by experiment), and ``--force``."""
    parser = argparse.ArgumentParser(
        prog=f"{PACKAGE} promote",
        description="Run the deploy gate for one registered model version against the current "
                    "champion, and move the `champion` alias to it if the gate passes.",
        epilog="Exit status 0: the version is champion afterwards; 1: the gate refused it (the "
               "failed checks are printed and written on the version's tags).")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", metavar="N",
                       help="the registered model version to promote, as `decision.md` and the "
                            "MLflow Models tab number it")
    which.add_argument("--experiment", metavar="NAME",
                       help="promote the newest version registered by this DVC experiment "
                            "(names as `dvc exp show` lists them)")
    parser.add_argument("--force", action="store_true",
                        help="move `champion` even if the gate fails; the failed checks are "
                             "written into the version's description and tags")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Resolve the version, promote it if the gate passes, print why; return the exit status."""
    args = parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a clean terminal
    from mlflow import MlflowClient

    from ..core.registry import model_name
    from ..core.tracking import connect
    from ..decisions.promotion import promote, render, resolve_version

    settings = load_settings()
    connect(settings.mlflow)
    client = MlflowClient()
    name = model_name(settings.deploy)
    version = resolve_version(client, name, version=args.version, experiment=args.experiment)
    outcome = promote(settings, client, name, version, force=args.force)
    print(render(outcome), flush=True)
    return 0 if outcome.champion_after == outcome.version else 1
