"""Small helpers that shape results as JSON-safe values (no numpy scalars, no NaN or inf)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def number(value: Any) -> float | None:
    """Return ``value`` as a Python float, or ``None`` when it is missing, NaN or infinite."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def interval(estimate: Any, lo: Any = None, hi: Any = None) -> dict[str, float | None]:
    """Return ``{"estimate", "lo", "hi"}`` with each value passed through :func:`number`."""
    return {"estimate": number(estimate), "lo": number(lo), "hi": number(hi)}


def jsonable(value: Any) -> Any:
    """Convert nested containers of numpy values into plain JSON-serialisable Python.

    numpy scalars become ``int``/``float``/``bool``, arrays and tuples become lists, dict keys
    become strings, and NaN/inf become ``None`` (JSON has no NaN).
    """
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return [jsonable(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return number(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)
