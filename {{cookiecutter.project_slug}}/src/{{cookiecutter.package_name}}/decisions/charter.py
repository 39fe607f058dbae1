"""The project charter (``conf/project/``): validation and the success-criteria check.

The charter is data. ``define`` validates it and writes ``reports/define/charter.json``; the
error analysis and the deploy gate read the criteria from that file, so there is one copy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError

if TYPE_CHECKING:
    from ..core.settings import ProjectSettings

REQUIRED_FIELDS = (
    "name", "owner", "problem", "intended_users", "decision", "target_description",
    "unit_of_prediction", "success_criteria",
)

# metric -> (lowest possible value, highest possible value); bounds outside are impossible.
METRIC_DOMAINS: dict[str, tuple[float, float]] = {
    "auc": (0.0, 1.0),
    "average_precision": (0.0, 1.0),
    "brier": (0.0, 1.0),
    "brier_skill": (-math.inf, 1.0),
    "calibration_slope": (-math.inf, math.inf),
    "calibration_intercept": (-math.inf, math.inf),
    "ici": (0.0, 1.0),
    "ece": (0.0, 1.0),
    "sensitivity": (0.0, 1.0),
    "specificity": (0.0, 1.0),
    "ppv": (0.0, 1.0),
    "npv": (0.0, 1.0),
    "net_benefit": (-math.inf, 1.0),
    "max_subgroup_auc_gap": (0.0, 1.0),
    "equalized_odds_difference": (0.0, 1.0),
    "demographic_parity_difference": (0.0, 1.0),
}
# Whether a bias flag blocks the deploy gate when the charter does not say (``bias_flags_block``).
BIAS_FLAGS_BLOCK_DEFAULT = True


@dataclass(frozen=True)
class Criterion:
    """One success criterion: ``minimum <= metric <= maximum`` (either bound may be absent)."""

    metric: str
    minimum: float | None
    maximum: float | None

    def describe(self) -> str:
        """Human-readable form, e.g. ``0.8 <= calibration_slope <= 1.2``."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum:g} <= {self.metric} <= {self.maximum:g}"
        if self.minimum is not None:
            return f"{self.metric} >= {self.minimum:g}"
        return f"{self.metric} <= {self.maximum:g}"

    def met_by(self, value: float | None, lower: float | None = None,
               upper: float | None = None) -> bool:
        """Whether the estimate (or, when given, its interval bounds) meets the criterion.

        Args:
            value: the point estimate; None (not computable) never meets a criterion.
            lower: the interval's lower bound, judged against ``minimum`` instead of ``value``.
            upper: the interval's upper bound, judged against ``maximum`` instead of ``value``.
        """
        if value is None:
            return False
        low = value if lower is None else lower
        high = value if upper is None else upper
        if self.minimum is not None and low < self.minimum:
            return False
        return not (self.maximum is not None and high > self.maximum)


def validate_charter(project: ProjectSettings | Mapping[str, Any]) -> dict[str, Any]:
    """Check the charter and return it in normal form (criteria as ``{metric: {min, max}}``).

    The schema (``core.settings.ProjectSettings``) has checked the types; these checks are the
    charter's own: fields filled in, metrics known, bounds possible.

    Args:
        project: the ``project`` settings (a mapping of the same keys is read alike).

    Returns:
        The charter as ``reports/define/charter.json`` holds it: the project's keys, the
        criteria, sensitive attributes and ``bias_flags_block`` (one boolean per attribute)
        in normal form.

    Raises:
        ConfigError: naming the key under ``conf/project/`` and what to do.
    """
    if not isinstance(project, Mapping):
        project = project.model_dump()
    missing = [f for f in REQUIRED_FIELDS if not str(project.get(f) or "").strip()]
    if missing:
        raise ConfigError(
            f"conf/project/: missing or empty charter field(s) {', '.join(missing)}; "
            "fill them in (they are rendered into the project card)."
        )
    criteria = project["success_criteria"]
    if not isinstance(criteria, dict) or not criteria:
        raise ConfigError(
            "conf/project/: success_criteria must map metric names to bounds, "
            "e.g. `auc: {min: 0.75}`."
        )
    normal = {c.metric: {"min": c.minimum, "max": c.maximum} for c in parse_criteria(criteria)}
    sensitive = project.get("sensitive_attributes") or []
    if not isinstance(sensitive, list) or not all(isinstance(s, str) for s in sensitive):
        raise ConfigError("conf/project/: sensitive_attributes must be a list of column names.")
    tolerance = project.get("subgroup_gap_tolerance")
    if not isinstance(tolerance, int | float) or not 0 < tolerance < 1:
        raise ConfigError("conf/project/: subgroup_gap_tolerance must be a number in (0, 1).")
    blocks = parse_bias_flags_block(project.get("bias_flags_block", BIAS_FLAGS_BLOCK_DEFAULT),
                                    sensitive)
    return {**project, "success_criteria": normal, "sensitive_attributes": sensitive,
            "bias_flags_block": blocks}


def parse_bias_flags_block(setting: Any, sensitive: list[str]) -> dict[str, bool]:
    """``bias_flags_block`` in normal form: sensitive attribute -> whether its flag blocks.

    Args:
        setting: ``true``/``false`` for every attribute, or ``{attribute: true|false}`` (an
            attribute left out takes the default, true).
        sensitive: the charter's sensitive attributes.

    Raises:
        ConfigError: a value that is not a boolean, or an attribute the charter does not audit.
    """
    where = "conf/project/: bias_flags_block"
    if isinstance(setting, bool):
        return {attribute: setting for attribute in sensitive}
    if not isinstance(setting, dict):
        raise ConfigError(f"{where} must be true, false or a mapping attribute: true|false, "
                          f"not {setting!r}.")
    unknown = sorted(set(setting) - set(sensitive))
    if unknown and sensitive:  # with nothing audited (e.g. -S ...sensitive_attributes=[]) moot
        raise ConfigError(f"{where} names {', '.join(unknown)}, not in sensitive_attributes "
                          f"({', '.join(sensitive) or 'none'}).")
    for attribute, value in setting.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{attribute} must be true or false, not {value!r}.")
    return {a: setting.get(a, BIAS_FLAGS_BLOCK_DEFAULT) for a in sensitive}


def bias_flag_blocks(charter: dict[str, Any], attribute: str) -> bool:
    """Whether a bias flag on ``attribute`` blocks the deploy gate (``bias_flags_block``).

    Args:
        charter: the validated charter (a mapping), or a hand-made one with a boolean or no key.
        attribute: the sensitive attribute.
    """
    setting = charter.get("bias_flags_block", BIAS_FLAGS_BLOCK_DEFAULT)
    if isinstance(setting, dict):
        return bool(setting.get(attribute, BIAS_FLAGS_BLOCK_DEFAULT))
    return bool(setting)


def parse_criteria(criteria: dict[str, Any]) -> list[Criterion]:
    """Turn ``{metric: {min: a, max: b}}`` into criteria, rejecting unknown or impossible ones.

    Args:
        criteria: the ``success_criteria`` mapping of the charter.
    """
    parsed = []
    for metric, bounds in criteria.items():
        where = f"conf/project/: success_criteria.{metric}"
        if metric not in METRIC_DOMAINS:
            raise ConfigError(
                f"{where}: unknown metric; use one of {', '.join(sorted(METRIC_DOMAINS))}."
            )
        if not isinstance(bounds, dict) or not set(bounds) <= {"min", "max"} or not bounds:
            raise ConfigError(where + ": give bounds as `{min: ..., max: ...}` (one or both).")
        low, high = bounds.get("min"), bounds.get("max")
        if low is None and high is None:  # e.g. `{min: null}`, or the schema's empty Bounds
            raise ConfigError(where + ": give bounds as `{min: ..., max: ...}` (one or both).")
        for name, bound in (("min", low), ("max", high)):
            if bound is not None and not isinstance(bound, int | float):
                raise ConfigError(f"{where}.{name} must be a number, not {bound!r}.")
        lo_dom, hi_dom = METRIC_DOMAINS[metric]
        if low is not None and high is not None and low > high:
            raise ConfigError(f"{where}: min {low} is above max {high}; no model can meet it.")
        if (low is not None and low > hi_dom) or (high is not None and high < lo_dom):
            raise ConfigError(
                f"{where}: bounds outside the metric's range [{lo_dom}, {hi_dom}] "
                "can never be met."
            )
        parsed.append(Criterion(metric, low, high))
    return parsed
