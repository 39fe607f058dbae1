"""Monitoring one batch end to end: its drift, performance and verdict against the reference."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.config import project_root
from ..core.io import read_json
from ..core.paths import (
    DECISION,
    MODEL_FILE,
    MODEL_INFO,
    REFERENCE_PROFILE,
)
from ..core.settings import DataSettings, Settings

if TYPE_CHECKING:
    import pandas as pd


# Where each verdict sends the user back to.
NEXT_STEP = {
    "ok": "Nothing to do; keep monitoring.",
    "watch": "Keep watching: monitor the next batches closely; collect labels for this batch.",
    "retrain": "Go back to step 4: add the labelled batch to the training data (see README, "
               "'The loop') and `dvc repro`; the gate compares the new model with the champion.",
    "investigate-data": "Go back to step 2: the batch has data-quality problems (see reasons); "
                        "fix the source or the schema before trusting any prediction.",
}


def monitor_batch(batch: pd.DataFrame, settings: Settings, name: str, source: Path) -> dict:
    """Score a batch and judge it against the reference.

    Args:
        batch: the incoming table (features, optionally the target column).
        settings: the validated settings (``monitor.thresholds``).
        name: the batch's name in the history.
        source: the batch's file, named in input errors.
    """
    import numpy as np

    from ..data.dataset import load_schema
    from ..modelling.persistence import load_skops
    from .drift import compute_drift
    from .performance import assess_performance
    from .reference import load_reference
    from .verdict import decide

    root = project_root()
    schema = load_schema()
    thresholds = settings.monitor.thresholds
    reference = load_reference(root / REFERENCE_PROFILE)
    info = read_json(root / MODEL_INFO)
    model = load_skops(root / MODEL_FILE, info["trusted_types"])
    from ..data.dataset import check_columns
    from ..data.validation import check_known_labels, to_binary

    inputs = check_columns(batch, schema, source)
    p = model.predict_proba(inputs)[:, 1]
    target = schema["target"]
    # the batch holds labels as the file has them ("yes"/"no"...): map them as validate did,
    # after refusing any the training data did not have (they would count as negatives)
    y = None
    if target in batch:
        if "target_labels" in schema:
            check_known_labels(batch[target], schema["target_labels"], str(source))
        y = to_binary(batch[target], schema["positive_label"]).to_numpy()
    if y is not None and np.isnan(y).all():
        y = None
    drift = compute_drift(inputs, p, reference, thresholds)
    performance = assess_performance(p, y, reference, thresholds)
    verdict = decide(drift, performance, reference, thresholds)
    return {"batch": name, "n": int(len(batch)), "labelled": y is not None,
            "verdict": verdict, "drift": drift, "performance": performance,
            "next_step": NEXT_STEP[verdict["verdict"]]}


def default_batch_name(data: DataSettings) -> str:
    """The history's name for the pipeline's batch: one row per distinct batch.

    Args:
        data: the ``data`` settings.
    """
    if data.source == "own_file":
        return Path(data.batch_path).stem if data.batch_path else "training-sample"
    return f"{data.source}-seed{data.batch.seed}"


def deployment_note(root: Path) -> str | None:
    """Which model this is, relative to the registry (the monitor scores the trained model)."""
    path = root / DECISION
    if not path.exists():
        return None
    decision = read_json(path)
    if decision.get("promoted", decision["passed"]):
        return f"Monitored model: version {decision['version']}, the current champion."
    champion = decision.get("champion_version")
    serving = (f"the champion serving traffic is version {champion}. Monitor it on this batch "
               "with `--batch` before acting on this verdict" if champion is not None else
               "no model is champion yet, so nothing serves traffic")
    why = ("an experiment registers challengers only" if decision.get("experiment")
           else "the gate did NOT promote it")
    return f"Monitored model: version {decision['version']}, not the champion ({why}); {serving}."
