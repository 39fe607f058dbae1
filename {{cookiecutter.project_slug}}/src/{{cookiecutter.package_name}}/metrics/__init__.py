"""Statistics engine of the error analysis: metrics with intervals for binary classifiers.

Start with ``summary.evaluate_binary`` (everything, as a JSON-ready dict) and
``summary.headline`` (flat numbers for DVC metrics). The building blocks: ``discrimination``
(AUC/DeLong, AP, curves), ``calibration`` (Brier, intercept/slope, ICI, ECE), ``threshold``
(rates at a threshold, net benefit, threshold choice), ``intervals`` (Wilson, log-method,
percentile), ``bootstrap`` (Poisson bootstrap on count tables), ``fairness``, ``slices``,
``misclassified`` (the most confident errors) and ``compare`` (paired comparisons).

Import from the sub-modules: this file imports nothing, so that a stage pays (and DVC tracks)
only the modules it uses.
"""
