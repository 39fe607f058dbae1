"""Labelled production batches that join the training data (the lifecycle's loop).

When monitoring says ``retrain`` and the batch's labels are in, accept it:

    {{ cookiecutter.package_name }} accept            # the monitored batch
    {{ cookiecutter.package_name }} accept --batch new.csv --name 2024-06
    dvc repro                            # ingest appends data/incoming/*, the rest follows

Accepted batches are files under ``data/incoming/`` (tracked with git or ``dvc add``): ingest
appends every one of them to the training data, so the retrained model sees them and the gate
compares it with the champion on the new test split.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import UserError
from ..core.io import write_table
from ..core.paths import RAW_BATCH, RAW_BATCH_TRUTH, RAW_DATA, SCHEMA

if TYPE_CHECKING:
    import pandas as pd

    from ..core.settings import DataSettings

log = logging.getLogger(__name__)
INCOMING_DIR = "data/incoming"
TRUTH_SUFFIX = ".truth.parquet"


def accepted_batches(root: Path) -> list[Path]:
    """The accepted batch files, in name order (ground-truth companions excluded)."""
    folder = root / INCOMING_DIR
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".parquet", ".csv") and not p.name.endswith(TRUTH_SUFFIX))


def append_accepted(data: pd.DataFrame, truth: pd.DataFrame | None, root: Path,
                    target: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The training data with every accepted batch appended (and their ground truth, if any).

    Args:
        data: the source's training data.
        truth: the source's ground truth, or None.
        root: the project root.
        target: the target column; accepted batches must hold labels.
    """
    import pandas as pd

    from .sources import read_input

    frames, truths = [data], [truth] if truth is not None else []
    for path in accepted_batches(root):
        batch = read_input(path)
        if target not in batch or batch[target].isna().any():
            raise UserError(f"{path}: an accepted batch needs a label in column '{target}' "
                            "for every row; remove it or add the labels.")
        frames.append(batch[[c for c in data.columns if c in batch]])
        companion = path.with_name(path.stem + TRUTH_SUFFIX)
        if truths and companion.exists():
            truths.append(pd.read_parquet(companion))
        log.info("appending accepted batch %s (%d rows)", path.name, len(batch))
    combined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else data
    combined_truth = pd.concat(truths, ignore_index=True) if len(truths) > 1 else truth
    return combined, combined_truth


def check_acceptable(frame: pd.DataFrame, batch: Path, root: Path) -> None:
    """Refuse a batch without labels or with rows that are training data already.

    Checked now rather than by the next ``dvc repro`` (which would fail in ``ingest`` or on
    duplicate ids in ``validate``). Needs the schema ``validate`` wrote; before the first
    ``dvc repro`` there is nothing to check against.

    Args:
        frame: the batch's rows.
        batch: its file, named in the errors.
        root: the project root.
    """
    if not (root / SCHEMA).exists():
        return
    from ..core.io import read_json

    schema = read_json(root / SCHEMA)
    label, id_column = schema["target"], schema.get("id_column")
    if label not in frame or frame[label].isna().any():
        missing = len(frame) if label not in frame else int(frame[label].isna().sum())
        raise UserError(f"{batch}: {missing} of {len(frame)} rows have no label in column "
                        f"'{label}'; accept a batch once every row's outcome is known.")
    if not id_column or id_column not in frame:
        return
    seen: set = set()
    for path in (root / RAW_DATA, *accepted_batches(root)):
        if path.exists():
            seen.update(_ids(path, id_column))
    repeated = frame[id_column][frame[id_column].isin(seen)]
    if len(repeated):
        examples = ", ".join(map(str, repeated.head(3)))
        raise UserError(f"{batch}: {len(repeated)} of {len(frame)} rows have '{id_column}' "
                        f"values that are training data already (e.g. {examples}): it was "
                        "accepted before or is not new; accept new rows only (a new batch "
                        "seed, data.batch_path or --batch).")


def _ids(path: Path, column: str) -> pd.Series:
    """One column of a table file, read alone (the training data can be large)."""
    import pandas as pd

    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=[column])[column]
    return pd.read_parquet(path, columns=[column])[column]


def accept(batch: Path, name: str, root: Path, data: DataSettings | None = None) -> Path:
    """Copy a labelled batch into ``data/incoming/<name>.parquet``.

    Args:
        batch: the batch file (CSV or Parquet) with labels.
        name: its name (file stem) under ``data/incoming/``.
        root: the project root.
        data: the ``data`` settings: a CSV is read as the training file is (encoding,
            separator, decimal mark, missing-value codes).
    """
    from .sources import read_input

    target = root / INCOMING_DIR / f"{name}.parquet"
    if target.exists():
        raise UserError(f"{target} exists already: choose another --name.")
    frame = read_input(batch, data)
    check_acceptable(frame, batch, root)
    write_table(target, frame)
    truth = batch.with_name(batch.stem + "_truth.parquet")
    if batch == root / RAW_BATCH and (root / RAW_BATCH_TRUTH).exists():
        truth = root / RAW_BATCH_TRUTH
    if truth.exists():
        import pandas as pd

        write_table(target.with_name(name + TRUTH_SUFFIX), pd.read_parquet(truth))
    return target
