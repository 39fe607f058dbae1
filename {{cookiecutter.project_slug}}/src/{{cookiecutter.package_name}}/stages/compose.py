"""Stage ``compose``: write ``params.yaml`` from ``conf/`` so that ``dvc repro`` sees conf edits.

``dvc exp run`` composes ``params.yaml`` itself (Hydra is enabled in ``.dvc/config``), including
``-S`` overrides; ``dvc repro`` never does. This stage depends on ``conf/``, so it runs exactly when
``conf/`` changed:

* under ``dvc repro`` it re-composes, and the edit takes effect in the same run;
* under ``dvc exp run`` (``DVC_EXP_NAME`` is set) DVC has just composed the file with the
  overrides, and re-composing would drop them, so it only records the stamp.

The stamp's content is constant, so downstream stages re-run only when their own parameters
change, never because this stage ran.

Either way the composed parameters are then validated (``core/settings.py``), so a misspelt key,
a wrong type or a value out of range stops the pipeline here, naming the file under ``conf/``,
the line and the key. What Hydra or YAML refuse (a syntax error, a missing file, an unknown
option such as ``model: nope``) becomes one message too, with the file, the line or the
available options.
"""

from __future__ import annotations

import logging
import os

from ..core.composition import compose
from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_text
from ..core.settings import load_settings

STAMP = "params.stamp"
STAMP_TEXT = "params.yaml is composed from conf/ (see compose.py)\n"

log = logging.getLogger(__name__)


def main() -> None:
    """Compose unless DVC already did it for this experiment, validate, write the stamp."""
    if os.environ.get("DVC_EXP_NAME"):
        log.info("dvc exp run composed params.yaml (with any -S overrides); keeping it")
        # one message naming the conf/ file, line and key of a bad setting
        load_settings(check_estimator=True)
    else:
        compose()
        log.info("composed params.yaml from conf/")
    log.info("params.yaml is valid")
    write_text(project_root() / STAMP, STAMP_TEXT)


if __name__ == "__main__":
    # params.stamp is not cached, so `dvc checkout` has nothing to restore; params.yaml is
    # replaced only once the new composition is valid
    run_stage(main, "compose", recovery=(
        "No other stage ran: fix conf/ (or the -S override) and run again; under `dvc repro`, "
        "params.yaml keeps its last good composition."))
