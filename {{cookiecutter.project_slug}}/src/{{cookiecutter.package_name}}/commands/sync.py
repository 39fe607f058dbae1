"""Write the MLflow runs the stages recorded to the store now, and wait for them.

    {{ cookiecutter.package_name }} sync          # after `dvc repro`, before reading runs from a script

Light stages record their runs on disk and a background writer puts them in MLflow a moment
later (``core/pending_runs.py``). This writes what is still pending in the foreground, waiting
for a writer at work, and says why when a run cannot be written.
"""

from __future__ import annotations

import argparse

from ..core.paths import PACKAGE
from ..core.pending_runs import pending_records, write_pending, writer_lock
from ..core.settings import load_settings
from ..core.tracking import store_errors


def main(argv: list[str] | None = None) -> None:
    """Write every pending run, oldest first; a store problem is one message."""
    argparse.ArgumentParser(
        prog=f"{PACKAGE} sync",
        description="Write the runs the stages recorded to the MLflow store now.",
    ).parse_args(argv)
    cfg = load_settings().mlflow
    with store_errors(cfg), writer_lock():
        written = write_pending()
    left = len(pending_records())
    print(f"{written} run(s) written to the MLflow store"
          + (f"; {left} recorded meanwhile, run again" if left else ""))
