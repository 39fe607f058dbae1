"""The monitor's thresholds: the defaults ``conf/monitor/default.yaml`` ships, and overrides
over them, validated.

Apart from the rules (``verdict.py``): ``performance.py`` reads them too, and ``train`` builds
the monitoring reference with it, so an edit to a rule does not re-run ``train``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..core.config import shipped_group
from ..core.errors import ConfigError
from ..core.settings import MonitorThresholds


def shipped_thresholds() -> dict[str, Any]:
    """The thresholds ``conf/monitor/default.yaml`` ships: the one place their defaults live."""
    return dict(shipped_group("monitor")["thresholds"])


def monitor_thresholds(
    thresholds: MonitorThresholds | Mapping[str, Any] | None = None,
) -> MonitorThresholds:
    """The typed thresholds: as given, or a mapping of overrides over the shipped ones.

    Args:
        thresholds: The validated ``monitor.thresholds`` (what the monitor stage passes); a
            mapping of threshold name to value (the keys it lacks take
            :func:`shipped_thresholds`'s); None: the shipped thresholds.

    Raises:
        ConfigError: On unknown names (likely typos) or inconsistent values.
    """
    if isinstance(thresholds, MonitorThresholds):
        return thresholds
    given = dict(thresholds or {})
    known = sorted(MonitorThresholds.model_fields)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"Unknown monitor thresholds {unknown}; known: {known}.")
    complete = given if set(given) == set(known) else {**shipped_thresholds(), **given}
    try:
        return MonitorThresholds.model_validate(complete)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'thresholds'}: {e['msg']}"
                             for e in error.errors())
        raise ConfigError(f"Monitor thresholds: {problems}.") from None


def resolve_thresholds(
    overrides: MonitorThresholds | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`monitor_thresholds` as a plain dict, for code that reads thresholds by key.

    Raises:
        ConfigError: On unknown names (likely typos) or inconsistent values.
    """
    return monitor_thresholds(overrides).model_dump()
