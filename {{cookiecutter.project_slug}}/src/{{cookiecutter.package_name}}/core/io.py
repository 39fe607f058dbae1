"""Reading and atomically writing the files stages hand to each other.

Every writer goes through a temporary file in the same directory and ``os.replace``: a stage that
fails half-way never leaves a truncated output behind, and readers never see a partial file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def _file_mode() -> int:
    """The mode ``open()`` would give a new file under this process's umask.

    ``mkstemp`` creates its file with 0600 whatever the umask, which would make every output
    unreadable to the team sharing the folder; reading the umask means setting it, so it is set
    back at once.
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds.

    Args:
        path: the final destination; parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented, strict JSON, atomically.

    Args:
        path: destination file.
        payload: JSON-serialisable data; numpy values are converted, and NaN and infinities
            (an undefined statistic) become null, since JSON has neither and strict readers
            refuse the ``NaN`` token.
    """
    text = json.dumps(_finite(payload), indent=2, default=_to_builtin, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)


def _finite(value: Any) -> Any:
    """``value`` with numpy containers made lists and non-finite floats made None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _finite(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by an earlier stage, with a clear error when it is missing.

    Args:
        path: the file to read.
    """
    path = Path(path)
    if not path.exists():
        from .errors import UserError

        raise UserError(f"{path} does not exist: run the stage that writes it (`dvc repro`).")
    return json.loads(path.read_text(encoding="utf-8"))


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically.

    Args:
        path: destination file.
        text: its content.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_table(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet or CSV (by suffix), atomically.

    Args:
        path: destination; ``.parquet`` or ``.csv``.
        frame: the table; the index is not written.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
    return path


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file written by an earlier stage, with a clear error when it is missing.

    Args:
        path: the file to read.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        from .errors import UserError

        raise UserError(f"{path} does not exist: run the stage that writes it (`dvc repro`).")
    return pd.read_parquet(path)


def _to_builtin(value: Any) -> Any:
    """Convert numpy scalars and arrays, and paths, for ``json.dumps``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
