"""Statistics of the monitor step: reference profile, drift, performance, verdict.

Typical use for one batch (each function from its sub-module)::

    reference = reference.load_reference("models/reference.json")
    drift = drift.compute_drift(X_batch, p_batch, reference, thresholds)
    performance = performance.assess_performance(p_batch, y_batch_or_None, reference, thresholds)
    result = verdict.decide(drift, performance, reference, thresholds)

This file imports nothing, so that a stage pays (and DVC tracks) only the modules it uses.
"""
