"""Errors a user can act on, and the wrapper that turns them into one clear message."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem in the user's data, configuration or environment.

    The message must name the file, column or key at fault and say what to do. Stages print it
    without a traceback and exit with status 1, so DVC stops and keeps the last good outputs.
    """


class ConfigError(UserError, ValueError):
    """A missing or invalid configuration key (the message names the key and its conf/ file)."""


def run_stage(main: Callable[[], object], stage: str, recovery: str | None = None) -> None:
    """Run a stage's ``main`` and exit cleanly on user errors.

    Args:
        main: the stage body; it reads its own parameters.
        stage: the stage name shown in messages.
        recovery: what is left and what to do after a user error under DVC; default: the
            stage's last good outputs are in DVC's cache (`dvc checkout <stage>`).
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [" + stage + "] %(message)s", datefmt="%H:%M:%S"
    )
    try:
        main()
    except UserError as error:
        # Only our own errors, whose messages name the file, column or key: a ValueError from
        # numpy, pandas or scikit-learn is a bug (ours, or a check we lack) and keeps its
        # traceback, as does a KeyboardInterrupt.
        print(f"\n[{stage}] ERROR: {error}\n", file=sys.stderr)
        if os.environ.get("DVC_STAGE"):
            # DVC removed this stage's outputs before running it; the last good ones are cached.
            print(f"[{stage}] " + (recovery or (
                f"Earlier stages' outputs are untouched; `dvc checkout "
                f"{os.environ['DVC_STAGE']}` restores this stage's last good outputs.")),
                file=sys.stderr)
        sys.exit(1)
