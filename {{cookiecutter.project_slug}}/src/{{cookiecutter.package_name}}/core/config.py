"""Where the project is, and reading the composed parameters (``params.yaml``).

``conf/`` is the single source of truth; ``params.yaml`` is its composition (by the ``compose``
stage or by ``dvc exp run``). Stages never use ``@hydra.main``: DVC tracks ``params.yaml``, and
``dvc exp run -S`` overrides land there. Stages read it through ``settings.load_settings``,
which validates it against the schemas of ``settings.py`` and hands out typed groups.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

PARAMS_FILE = "params.yaml"


@cache
def project_root() -> Path:
    """The directory holding ``dvc.yaml``: the current one or the nearest parent.

    In a queued ``dvc exp run`` this is the experiment's temporary copy, which is what stages must
    read and write. (MLflow's store is the exception, see ``tracking.store_root``.)
    """
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dvc.yaml").exists():
            return candidate
    return here


def store_root() -> Path:
    """The real project root even inside a queued experiment's temporary copy.

    DVC sets ``DVC_ROOT`` to the parent repository for queued experiments, so the MLflow store
    and the registry live in one place whatever copy a stage runs in.
    """
    return Path(os.environ.get("DVC_ROOT") or project_root()).resolve()


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """Read the composed parameters.

    Args:
        path: the YAML file; defaults to ``params.yaml`` at the project root.
    """
    import yaml

    path = Path(path) if path else project_root() / PARAMS_FILE
    if not path.exists():
        raise ConfigError(
            f"{path} is missing: run `dvc repro` (its first stage composes it from conf/)."
        )
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}{where} is not valid YAML ({getattr(error, 'problem', None) or error}); "
            "never edit it: fix conf/ and run `dvc repro`, which composes it again."
        ) from None
    if not isinstance(params, dict):
        raise ConfigError(f"{path} must hold a mapping of config groups; recompose it.")
    return params


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested parameters to ``{"model.params.max_depth": 3, ...}`` for MLflow.

    Args:
        params: the nested mapping.
        prefix: the key path so far.
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def shipped_group(group: str) -> dict[str, Any]:
    """A config group as ``conf/<group>/default.yaml`` ships it.

    Read from the project the command runs in, else from the project this package's source
    lies in.

    Raises:
        ConfigError: neither holds the file (pass the settings instead).
    """
    import yaml

    roots = (project_root(), Path(__file__).resolve().parents[3])
    for root in roots:
        path = root / "conf" / group / "default.yaml"
        if path.is_file():
            return yaml.safe_load(path.read_text(encoding="utf-8"))
    raise ConfigError(f"conf/{group}/default.yaml is not under {roots[0]}: run from the project "
                      f"or pass the settings (settings.{group}).")
