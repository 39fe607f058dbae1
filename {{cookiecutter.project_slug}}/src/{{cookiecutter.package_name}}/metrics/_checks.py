"""Input validation shared by the metric functions: clear errors instead of silent nonsense."""

from __future__ import annotations

from typing import Any

import numpy as np


class MetricsInputError(ValueError):
    """Raised when labels, probabilities or options cannot be evaluated; the message says why."""


def as_labels(y: Any, name: str = "y") -> np.ndarray:
    """Return binary labels as an ``int8`` array of 0/1.

    Args:
        y: 1-d array-like of 0/1 (or booleans).
        name: how the array is called in error messages.

    Raises:
        MetricsInputError: if ``y`` is not 1-d, is empty, or holds anything other than 0 and 1.
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise MetricsInputError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}.")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise MetricsInputError(
            f"{name} must hold the numbers 0 and 1, got dtype {arr.dtype}; encode the positive "
            "class as 1 before evaluating."
        )
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        first = arr[np.flatnonzero(bad)[0]]
        raise MetricsInputError(
            f"{name} must hold only 0 and 1 (binary labels); found {first!r} at "
            f"{int(bad.sum())} position(s). Map the positive class to 1 and the rest to 0."
        )
    return arr.astype(np.int8)


def as_probabilities(p: Any, n: int, name: str = "p") -> np.ndarray:
    """Return predicted probabilities as a float64 array after checking range and length.

    Args:
        p: 1-d array-like of probabilities of class 1.
        n: required length (the number of labels).
        name: how the array is called in error messages.

    Raises:
        MetricsInputError: on wrong length, non-finite values or values outside [0, 1].
    """
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise MetricsInputError(
            f"{name} must be a 1-d array of length {n} (one probability per label), "
            f"got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise MetricsInputError(
            f"{name} holds {int((~np.isfinite(arr)).sum())} NaN/inf value(s); "
            "drop or impute those rows before evaluating."
        )
    low, high = float(arr.min()), float(arr.max())
    if low < 0.0 or high > 1.0:
        raise MetricsInputError(
            f"{name} must be probabilities in [0, 1], found range [{low:g}, {high:g}]; "
            "pass predict_proba(...)[:, 1], not raw scores or logits."
        )
    return arr


def check_both_classes(y: np.ndarray, name: str = "y") -> None:
    """Raise unless ``y`` holds at least one 0 and one 1 (AUC and rates need both)."""
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.shape[0]:
        only = "1" if n_pos else "0"
        raise MetricsInputError(
            f"{name} holds only the class {only}; evaluation needs both classes. "
            "Check the evaluation split (is it filtered or too small?)."
        )


def check_length(values: Any, n: int, name: str) -> np.ndarray:
    """Return ``values`` as a 1-d array of length ``n`` or raise naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise MetricsInputError(
            f"{name} must be 1-d with one entry per prediction ({n}), got shape {arr.shape}."
        )
    return arr


def check_open_unit(value: float, name: str) -> float:
    """Return ``value`` as float if it lies strictly between 0 and 1, else raise."""
    number = float(value)
    if not 0.0 < number < 1.0:
        raise MetricsInputError(f"{name} must lie strictly between 0 and 1, got {value!r}.")
    return number
