"""Statistics of the monitor step: reference profile, drift, performance, verdict.

Typical use for one batch::

    reference = load_reference("models/reference.json")
    drift = compute_drift(X_batch, p_batch, reference, thresholds)
    performance = assess_performance(p_batch, y_batch_or_None, reference, thresholds)
    result = decide(drift, performance, reference, thresholds)
    row = summary_row(drift, performance, result)
    append_history("reports/monitor/history.csv", "2024-05", row)
"""

from .drift import compute_drift, psi
from .performance import assess_performance, expected_performance, observed_performance
from .reference import ReferenceError, build_reference, load_reference, save_reference
from .verdict import (
    DEFAULT_THRESHOLDS,
    VERDICTS,
    append_history,
    decide,
    resolve_thresholds,
    summary_row,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "VERDICTS",
    "ReferenceError",
    "append_history",
    "assess_performance",
    "build_reference",
    "compute_drift",
    "decide",
    "expected_performance",
    "load_reference",
    "observed_performance",
    "psi",
    "resolve_thresholds",
    "save_reference",
    "summary_row",
]
