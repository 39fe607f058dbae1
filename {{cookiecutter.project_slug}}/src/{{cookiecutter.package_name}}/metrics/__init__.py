"""Statistics engine of the evaluate step: metrics with intervals for binary classifiers.

Start with :func:`evaluate_binary` (everything, as JSON-ready dict) and :func:`headline`
(flat numbers for DVC metrics). The building blocks are importable from the sub-modules:
``discrimination`` (AUC/DeLong, AP, curves), ``calibration`` (Brier, intercept/slope, ICI,
ECE), ``threshold`` (rates at a threshold, net benefit, threshold choice), ``intervals``
(Wilson, log-method, percentile), ``bootstrap`` (Poisson bootstrap on count tables),
``fairness``, ``slices``, ``errors`` and ``compare`` (paired comparisons).
"""

from ._checks import MetricsInputError
from .calibration import brier_score, calibration_intercept_slope, expected_calibration_error
from .summary import evaluate_binary, headline
from .threshold import choose_threshold

__all__ = [
    "MetricsInputError",
    "brier_score",
    "calibration_intercept_slope",
    "choose_threshold",
    "evaluate_binary",
    "expected_calibration_error",
    "headline",
]
