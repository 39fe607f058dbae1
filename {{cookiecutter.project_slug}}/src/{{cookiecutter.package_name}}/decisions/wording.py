"""Numbers and intervals in words, as the report, the gate and the advice print them."""

from __future__ import annotations

from typing import Any


def num(value: float | None, digits: int = 3) -> str:
    """A number, or "-" when it could not be computed (e.g. too few rows for a smoother)."""
    return "-" if value is None else f"{value:.{digits}f}"


def ci(entry: dict[str, Any] | None, digits: int = 3) -> str:
    """``0.712 [0.690, 0.734]`` from ``{estimate, lo, hi}``."""
    if not entry or entry.get("estimate") is None:
        return "-"
    text = f"{entry['estimate']:.{digits}f}"
    if entry.get("lo") is not None and entry.get("hi") is not None:
        text += f" [{entry['lo']:.{digits}f}, {entry['hi']:.{digits}f}]"
    return text


def is_constant(evaluation: dict[str, Any]) -> bool:
    """Whether the evaluate stage found that the model predicts a constant."""
    return bool((evaluation.get("constant_predictions") or {}).get("constant"))
