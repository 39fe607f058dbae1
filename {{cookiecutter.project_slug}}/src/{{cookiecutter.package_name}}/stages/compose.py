"""Stage ``compose``: write ``params.yaml`` from ``conf/`` so that ``dvc repro`` sees conf edits.

``dvc exp run`` composes ``params.yaml`` itself (Hydra is enabled in ``.dvc/config``), including
``-S`` overrides; ``dvc repro`` never does. This stage depends on ``conf/``, so it runs exactly when
``conf/`` changed:

* under ``dvc repro`` it re-composes, and the edit takes effect in the same run;
* under ``dvc exp run`` (``DVC_EXP_NAME`` is set) DVC has just composed the file with the
  overrides, and re-composing would drop them, so it only records the stamp.

The stamp's content is constant, so downstream stages re-run only when their own parameters
change, never because this stage ran.
"""

from __future__ import annotations

import logging
import os

from ..core.config import PARAMS_FILE, project_root
from ..core.errors import run_stage
from ..core.io import write_text

STAMP = "params.stamp"
STAMP_TEXT = "params.yaml is composed from conf/ (see compose.py)\n"

log = logging.getLogger(__name__)


def compose(overrides: list[str] | None = None) -> None:
    """Compose ``conf/config.yaml`` (plus Hydra overrides) into ``params.yaml``.

    Uses DVC's own composition so that the result is byte-identical to ``dvc exp run``'s.

    Args:
        overrides: Hydra overrides such as ``["model=random_forest"]``.
    """
    from dvc.utils.hydra import compose_and_dump

    root = project_root()
    compose_and_dump(
        root / PARAMS_FILE, str(root / "conf"), None, "config", str(root), overrides or []
    )


def main() -> None:
    """Compose unless DVC already did it for this experiment, then write the stamp."""
    if os.environ.get("DVC_EXP_NAME"):
        log.info("dvc exp run composed params.yaml (with any -S overrides); keeping it")
    else:
        compose()
        log.info("composed params.yaml from conf/")
    write_text(project_root() / STAMP, STAMP_TEXT)


if __name__ == "__main__":
    run_stage(main, "compose")
