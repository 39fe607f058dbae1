"""The command line: ``{{ cookiecutter.package_name }} <command> [options]`` (``--help`` on each).

The pipeline's stages run under DVC (``dvc repro``); these are the commands around it. Each is a
module with ``main(argv)``; add one with a line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .core.errors import run_stage
from .core.paths import PACKAGE

# command -> (module, one line for --help)
COMMANDS = {
    "serve": ("commands.serve", "serve the champion over HTTP (127.0.0.1:5001)"),
    "score": ("commands.score", "score a CSV/Parquet file with the champion"),
    "monitor": ("stages.monitor", "monitor a batch file against the training reference"),
    "accept": ("commands.accept", "accept a labelled batch into the training data"),
    "promote": ("commands.promote", "promote a registered version to champion, through the gate"),
    "sync": ("commands.sync", "write the runs the stages recorded to MLflow now, and wait"),
    "repair": ("commands.repair", "redo a project's first steps (git, DVC config), idempotently"),
    "summary": ("commands.summary", "one screen: metrics, gate, monitoring, changes, next command"),
}


def parser() -> argparse.ArgumentParser:
    """The top-level parser: one subcommand per entry of ``COMMANDS``."""
    top = argparse.ArgumentParser(
        prog=PACKAGE, description="Commands around the pipeline (run the pipeline: dvc repro).")
    sub = top.add_subparsers(dest="command", required=True, metavar="<command>")
    for name, (_, summary) in COMMANDS.items():
        # the command's own parser reads the rest, so `<command> --help` is the command's
        sub.add_parser(name, help=summary, add_help=False)
    return top


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``argv`` (default: the process's) to the command's ``main``."""
    argv = sys.argv[1:] if argv is None else argv
    command = parser().parse_args(argv[:1]).command
    module = importlib.import_module(f"{PACKAGE}.{COMMANDS[command][0]}")
    # a command's main may return an exit status (promote: 1 when the gate refused)
    run_stage(lambda: sys.exit(module.main(argv[1:]) or 0), command)
