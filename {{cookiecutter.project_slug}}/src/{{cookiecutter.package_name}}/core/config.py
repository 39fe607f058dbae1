"""Loading the composed parameters (``params.yaml``) that every stage reads.

``conf/`` is the single source of truth; ``params.yaml`` is its composition (by the ``compose``
stage or by ``dvc exp run``). Stages never use ``@hydra.main``: DVC tracks ``params.yaml``, and
``dvc exp run -S`` overrides land there.
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
    params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{path} must hold a mapping of config groups; recompose it.")
    return params


def get(params: dict[str, Any], dotted: str, default: Any = ..., choices: tuple | None = None):
    """Return ``params[a][b]...`` for ``dotted = "a.b..."``, with errors that name the key.

    Args:
        params: the composed parameters.
        dotted: the key path, e.g. ``"evaluate.threshold.method"``.
        default: returned when the key is absent; without it a missing key is an error.
        choices: when given, the value must be one of these.
    """
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not ...:
                return default
            group = dotted.split(".")[0]
            raise ConfigError(
                f"config key '{dotted}' is missing: add it under conf/{group}/ "
                f"(see the commented defaults there)."
            )
        node = node[part]
    if choices is not None and node not in choices:
        group = dotted.split(".")[0]
        raise ConfigError(
            f"config key '{dotted}' is {node!r}; allowed: {', '.join(map(str, choices))} "
            f"(set it in conf/{group}/)."
        )
    return node


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
