"""Accept a labelled production batch into the training data (the lifecycle's loop).

    {{ cookiecutter.package_name }} accept                              # the monitored batch
    {{ cookiecutter.package_name }} accept --batch new.csv --name 2024-06
    dvc repro                                   # ingest appends data/incoming/*, the rest follows
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.config import project_root
from ..core.paths import PACKAGE, RAW_BATCH
from ..core.settings import load_settings
from ..data.incoming import accept, accepted_batches


def main(argv: list[str] | None = None) -> None:
    """Copy the batch (and its labels) under ``data/incoming/`` and say what to run next."""
    parser = argparse.ArgumentParser(
        prog=f"{PACKAGE} accept",
        description="Accept a labelled batch into the training data (data/incoming/).")
    parser.add_argument("--batch", type=Path, help="CSV/Parquet (default: the monitored batch)")
    parser.add_argument("--name", help="name under data/incoming/ (default: batch-NNN)")
    args = parser.parse_args(argv)
    root = project_root()
    name = args.name or f"batch-{len(accepted_batches(root)) + 1:03d}"
    target = accept(args.batch or root / RAW_BATCH, name, root, load_settings().data)
    print(f"accepted into {target.relative_to(root)}; now run `dvc repro`")
