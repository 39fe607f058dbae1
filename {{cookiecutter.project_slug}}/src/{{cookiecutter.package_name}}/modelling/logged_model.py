"""The fitted pipeline as an MLflow model: signature, input example, requirements, the ranges the
server checks."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.paths import PACKAGE
from ..core.settings import Settings
from ..data.dataset import load_schema

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
# The serving environment is the project's own; these are what the pipeline needs to load.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
# The logged model's name in MLflow's Models tab: the project's, not a generic `model`. Later
# stages find it by its id (`models:/<model_id>`, model_info.json), never by this name.
LOGGED_MODEL_NAME = PACKAGE


def log_to_mlflow(settings: Settings, logged_model: dict[str, Any], model: Any,
                  X_train: pd.DataFrame, metrics: dict[str, float], ranking: pd.DataFrame,
                  trusted: list[str]) -> dict[str, str]:
    """Log parameters, metrics, importance and the model; return the ids later stages need.

    Args:
        settings: the validated settings, logged as the run's parameters.
        logged_model: the ``model`` group as fitted (adapted values, ``adapted`` changes).
    """
    import mlflow
    from mlflow.models import infer_signature

    from ..core.tracking import direct_stage_run

    with direct_stage_run("train", settings, run_name=f"train-{settings.model.name}",
                   logged_params={"model": logged_model}) as run:
        run.log_metrics(metrics)
        mlflow.log_table(ranking, "importance.json")
        info = {"run_id": run.run_id, "model_id": "", "model_uri": ""}
        if not settings.train.log_model:
            return info
        example = X_train.head(5)
        signature = required_inputs(
            infer_signature(X_train.head(500), model.predict_proba(X_train.head(500)))
        )
        logged = mlflow.sklearn.log_model(
            model, name=LOGGED_MODEL_NAME, serialization_format="skops",
            skops_trusted_types=trusted, signature=signature, input_example=example,
            pyfunc_predict_fn="predict_proba",
            pip_requirements=_requirements(), metadata=_serving_metadata(),
        )
        info.update(model_id=logged.model_id, model_uri=logged.model_uri)
        log.info("logged model %s", logged.model_uri)
    return info


def required_inputs(signature):
    """The signature with every input column required (missing values inside stay allowed).

    ``infer_signature`` marks a column that has missing values in the sample as optional, and
    MLflow's schema enforcement then lets a request leave that column out: the pipeline fails
    later with a generic error that does not name the column. Required, the request gets a 400
    that names the missing column.

    Args:
        signature: the inferred ``ModelSignature``.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec(c.type, c.name, required=True) for c in signature.inputs.inputs])
    return ModelSignature(inputs=inputs, outputs=signature.outputs, params=signature.params)


def _requirements() -> list[str]:
    """Pinned requirements of the logged model (inferring them spawns a process: slow)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def _serving_metadata() -> dict[str, Any]:
    """What the served model checks request rows against, kept in its MLmodel ``metadata``.

    The ranges the training data was validated against (``data.ranges``, in the schema written
    by ``validate``): the server refuses or flags values outside them (``serving/app.py``). The
    categories need no copy: the fitted encoders inside the pipeline hold them.
    """
    from ..core.paths import RANGES_KEY

    ranges = load_schema().get("ranges") or {}
    return {RANGES_KEY: {str(column): list(bounds) for column, bounds in ranges.items()}}
