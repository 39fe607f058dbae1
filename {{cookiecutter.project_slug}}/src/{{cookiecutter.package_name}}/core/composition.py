"""Composing ``conf/`` into ``params.yaml`` as ``dvc exp run`` does, with one clear message per
mistake (YAML syntax, a missing group file, an unknown option or override)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from .config import PARAMS_FILE, load_params, project_root
from .errors import ConfigError
from .settings import (
    GROUPS,
    Settings,
    group_options,
    schema_at,
    validate_params,
)


def compose(overrides: list[str] | None = None, root: Path | None = None) -> Settings:
    """Compose ``conf/config.yaml`` (plus Hydra overrides) into ``params.yaml``, validated.

    Uses DVC's own composition so that the result is byte-identical to ``dvc exp run``'s. The
    composition is validated before it replaces ``params.yaml``: a failure leaves the last good
    one in place.

    Args:
        overrides: Hydra overrides such as ``["model=random_forest"]``.
        root: the project holding ``conf/``; default the current one.

    Returns:
        The typed settings of the new ``params.yaml``.

    Raises:
        ConfigError: what Hydra or YAML refused (see :func:`compose_problem`) or what the
            settings' schemas refuse, in one message.
    """
    import tempfile

    from dvc.utils.hydra import compose_and_dump

    root = root or project_root()
    with tempfile.TemporaryDirectory(dir=root, prefix=".compose-") as scratch:
        composed = Path(scratch) / PARAMS_FILE
        try:
            compose_and_dump(
                composed, str(root / "conf"), None, "config", str(root), overrides or []
            )
        except Exception as error:
            message = compose_problem(error, root / "conf", overrides or [])
            if message is None:
                raise
            raise ConfigError(message) from None
        params = load_params(composed)
        settings = validate_params(params, root / "conf",
                                   check_estimator=_model_changed(params, root / PARAMS_FILE))
        os.replace(composed, root / PARAMS_FILE)
    return settings


def _model_changed(params: dict[str, object], previous: Path) -> bool:
    """Whether the model group differs from the last good composition's (checked when written).

    Checking ``model.params`` with scikit-learn's own constraints costs its import, over a
    second; an edit elsewhere in ``conf/`` should not pay it.
    """
    try:
        return load_params(previous).get("model") != params.get("model")
    except ConfigError:  # missing or unreadable: check everything
        return True


def _relative(path: str | Path, conf: Path) -> str:
    """``conf/<group>/<file>.yaml`` for a file under ``conf``, else the path as given."""
    try:
        return str(Path("conf") / Path(path).resolve().relative_to(conf.resolve()))
    except ValueError:
        return str(path)


def compose_problem(error: Exception, conf: Path, overrides: list[str]) -> str | None:
    """One clear message for what Hydra or YAML refused while composing, or None if unknown.

    Args:
        error: the exception composition raised.
        conf: the ``conf/`` folder.
        overrides: the Hydra overrides given (``-S``), named when one is at fault.
    """
    import yaml

    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = _relative(mark.name, conf) if mark is not None else "conf/"
        line = f", line {mark.line + 1}" if mark is not None else ""
        context = ""
        if error.context and error.context_mark is not None:
            context = f" ({error.context} started at line {error.context_mark.line + 1})"
        return (f"{where}{line}: YAML syntax error: {error.problem}{context}. Fix that line "
                "(a missing bracket, quote or colon, a tab, or wrong indentation are the usual "
                "causes); `git diff conf/` shows what changed.")
    from hydra.errors import ConfigCompositionException, MissingConfigException

    if isinstance(error, MissingConfigException):
        return _missing_config(error, conf, overrides)
    if isinstance(error, ConfigCompositionException):
        text = str(error)
        for override in overrides:
            key = override.split("=", 1)[0].lstrip("+~")
            if f"'{key}'" in text:
                return _unknown_override(override, key)
        return f"conf/ could not be composed: {text.splitlines()[0]}"
    return None


def _missing_config(error: Exception, conf: Path, overrides: list[str]) -> str:
    """A defaults-list entry or an override naming a file that does not exist."""
    missing = str(getattr(error, "missing_cfg_file", "") or "")
    if missing in ("", "config"):
        return ("conf/config.yaml is missing: restore it (`git checkout conf/config.yaml`); it "
                "lists one option per config group.")
    group, _, option = missing.rpartition("/")
    by_override = next((o for o in overrides if o.split("=", 1)[0].lstrip("+~") == group), None)
    cause = (f"the override `{by_override}`" if by_override else
             f"conf/config.yaml's defaults list (`- {group}: {option}`)")
    if not (conf / group).is_dir():
        close = difflib.get_close_matches(group, GROUPS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return (f"{cause} names the config group '{group}', which does not exist (no folder "
                f"conf/{group}/){hint} The groups are: {', '.join(GROUPS)}.")
    options = list(getattr(error, "options", None) or group_options(conf, group))
    if not options:
        return (f"conf/{group}/{option}.yaml is missing ({cause} selects it): restore it "
                f"(`git checkout conf/{group}/{option}.yaml`).")
    close = difflib.get_close_matches(option, options, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (f"{cause} selects {group} option '{option}', but there is no conf/{group}/"
            f"{option}.yaml; {hint}available options: {', '.join(options)}.")


def _unknown_override(override: str, key: str) -> str:
    """An override ``-S a.b.c=value`` whose key no schema has."""
    parts = key.split(".")
    holder = schema_at(parts[:-1], {})
    allowed = list(holder.model_fields) if holder is not None else list(GROUPS)
    close = difflib.get_close_matches(parts[-1], allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{'.'.join([*parts[:-1], close[0]])}'? " if close else ""
    parent = ".".join(parts[:-1]) or "the top level"
    return (f"the override `{override}` names '{key}', which is not a key of conf/"
            f"{parts[0]}/; {hint}allowed under {parent}: {', '.join(allowed)}")
