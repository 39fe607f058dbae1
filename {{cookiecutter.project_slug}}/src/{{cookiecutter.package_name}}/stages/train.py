"""Stage ``train`` (step 4): fit the configured model pipeline and log it to MLflow.

Fits preprocessing + classifier on the train split, optionally recalibrates on the validation
split, writes predictions for valid and test (the error analysis reads them), the monitoring
reference profile, and the model: locally (``models/train/model.skops``) and in MLflow (skops
serialisation, signature, input example, pinned requirements). ``model_info.json`` hands the run
and model ids to later stages.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_json, write_table
from ..core.paths import MODEL_FILE, MODEL_INFO, MODEL_PREDICTIONS, REFERENCE_PROFILE, metrics_path
from ..core.settings import ModelSettings, PermutationImportanceSettings, Settings, load_settings
from ..core.tracking import check_store
from ..data.dataset import categorical_features, load_schema, load_split, numeric_features
from ..modelling.persistence import positive_probability, save_skops

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)
# The serving environment is the project's own; these are what the pipeline needs to load.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")


def fit_model(settings: Settings, model_cfg: ModelSettings, schema: dict[str, Any],
              X: pd.DataFrame, y: np.ndarray, X_valid: pd.DataFrame | None = None,
              y_valid: np.ndarray | None = None) -> Any:
    """Fit the pipeline of ``model`` + ``prepare.preprocessing``, recalibrated if configured.

    Args:
        settings: the validated settings (``prepare.preprocessing``, ``train``).
        model_cfg: the model to fit (``settings.model`` as adapted to the data size).
        schema: the dataset schema.
        X: training features; y: training labels.
        X_valid: validation features, used only for recalibration.
        y_valid: validation labels.
    """
    from ..modelling.models import build_pipeline

    pipeline = build_pipeline(
        numeric_features(schema), categorical_features(schema),
        settings.prepare.preprocessing, model_cfg, settings.train.seed,
    )
    pipeline.fit(X, y)
    method = settings.train.recalibration
    if method == "none":
        return pipeline
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    # The fitted pipeline is frozen; only the calibration map is learnt, on rows it never saw.
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method=method)
    return calibrated.fit(X_valid, y_valid)








def importance(model: Any, X: pd.DataFrame, y: np.ndarray, cfg: PermutationImportanceSettings,
               seed: int) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) on a sample of the validation split."""
    import pandas as pd
    from sklearn.inspection import permutation_importance

    repeats = cfg.n_repeats
    if repeats <= 0:
        return pd.DataFrame(columns=["feature", "importance", "std"])
    rows = min(len(X), cfg.max_rows)
    sample = X.sample(n=rows, random_state=seed) if rows < len(X) else X
    y_sample = pd.Series(y, index=X.index).loc[sample.index].to_numpy()
    result = permutation_importance(
        model, sample, y_sample, scoring="roc_auc", n_repeats=repeats, random_state=seed
    )
    table = pd.DataFrame({
        "feature": sample.columns, "importance": result.importances_mean,
        "std": result.importances_std,
    })
    return table.sort_values("importance", ascending=False, ignore_index=True)


def main() -> None:
    """Fit, predict valid and test, save and log the model and its reference profile."""
    import pandas as pd
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from ..modelling.models import adapt_to_size, constant_predictions, describe_adaptations

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    schema = load_schema()
    root = project_root()
    X_train, y_train, _ = load_split("train", schema)
    X_valid, y_valid, ids_valid = load_split("valid", schema)
    X_test, y_test, ids_test = load_split("test", schema)

    model_name = settings.model.name
    # Size-dependent settings made safe for these rows; the used values are the ones fitted and
    # logged as MLflow parameters (model.params.*), what changed is logged as model.adapted.*.
    model_cfg, adapted = adapt_to_size(settings.model, len(X_train))
    changes = describe_adaptations(adapted)
    for param, change in changes.items():
        log.info("model.params.%s: %s", param, change)
    logged_model = {**model_cfg.model_dump(mode="json"),
                    **({"adapted": changes} if changes else {})}
    log.info("fitting %s on %d rows x %d features", model_name, len(X_train), X_train.shape[1])
    started = time.perf_counter()
    model = fit_model(settings, model_cfg, schema, X_train, y_train, X_valid, y_valid)
    fit_seconds = time.perf_counter() - started
    log.info("fitted in %.1f s", fit_seconds)

    p_valid = positive_probability(model, X_valid)
    p_test = positive_probability(model, X_test)
    p_train = positive_probability(model, X_train)
    predictions = pd.concat([
        pd.DataFrame({"id": ids_valid, "split": "valid", "y": y_valid, "p": p_valid}),
        pd.DataFrame({"id": ids_test, "split": "test", "y": y_test, "p": p_test}),
    ], ignore_index=True)
    write_table(root / MODEL_PREDICTIONS, predictions)
    metrics = {
        "train_auc": roc_auc_score(y_train, p_train),
        "valid_auc": roc_auc_score(y_valid, p_valid),
        "train_brier": brier_score_loss(y_train, p_train),
        "valid_brier": brier_score_loss(y_valid, p_valid),
        "fit_seconds": fit_seconds,
    }
    metrics = {k: round(float(v), 6) for k, v in metrics.items()}
    log.info("valid AUC %.3f, Brier %.4f", metrics["valid_auc"], metrics["valid_brier"])
    constant = constant_predictions({"valid": p_valid, "test": p_test})
    if constant["constant"]:
        log.warning(
            "the model predicts a constant (p = %.4f; distinct probabilities: %d on valid, %d "
            "on test): its discrimination is 0.5 by construction and the deploy gate cannot "
            "pass it; give it room to learn in conf/model/%s.yaml (e.g. a smaller "
            "min_samples_leaf, more iterations) or try `dvc exp run -S model=logistic_regression`",
            constant["value"], constant["valid"], constant["test"], model_name,
        )
    metrics.update(constant_predictions=float(constant["constant"]),
                   valid_distinct_predictions=float(constant["valid"]),
                   test_distinct_predictions=float(constant["test"]))

    seed = settings.train.seed
    ranking = importance(model, X_valid, y_valid, settings.train.permutation_importance, seed)
    write_table(root / "reports/train/importance.csv", ranking)

    from ..metrics._format import jsonable
    from ..monitoring.reference import build_reference, save_reference

    reference = build_reference(
        X_test, p_test, y_test,
        numeric=numeric_features(schema), categorical=categorical_features(schema),
    )
    # Statistics undefined on these predictions (the slope test of constant predictions) are
    # NaN in the profile; JSON has no NaN: they are stored as null, i.e. undefined.
    save_reference(jsonable(reference), root / REFERENCE_PROFILE)

    trusted = save_skops(model, root / MODEL_FILE)
    info = log_to_mlflow(settings, logged_model, model, X_train, p_train, metrics, ranking,
                         trusted)
    write_json(root / MODEL_INFO, {**info, "model_name": model_name, "trusted_types": trusted,
                                   "n_train_rows": len(X_train), "adapted": adapted,
                                   "constant_predictions": constant})
    # the used value of each adapted setting (booleans as 0/1: metrics files hold numbers)
    used = {a["param"]: float(a["used"]) for a in adapted}
    write_json(root / metrics_path("train"),
               {**metrics, "n_train_rows": len(X_train), "adapted": used})


def log_to_mlflow(settings: Settings, logged_model: dict[str, Any], model: Any,
                  X_train: pd.DataFrame, p_train: np.ndarray, metrics: dict[str, float],
                  ranking: pd.DataFrame, trusted: list[str]) -> dict[str, str]:
    """Log parameters, metrics, importance and the model; return the ids later stages need.

    Args:
        settings: the validated settings, logged as the run's parameters.
        logged_model: the ``model`` group as fitted (adapted values, ``adapted`` changes).
    """
    import mlflow
    from mlflow.models import infer_signature

    from ..core.tracking import stage_run

    with stage_run("train", settings, run_name=f"train-{settings.model.name}",
                   logged_params={"model": logged_model}) as run:
        mlflow.log_metrics(metrics)
        mlflow.log_table(ranking, "importance.json")
        info = {"run_id": run.info.run_id, "model_id": "", "model_uri": ""}
        if not settings.train.log_model:
            return info
        example = X_train.head(5)
        signature = required_inputs(
            infer_signature(X_train.head(500), model.predict_proba(X_train.head(500)))
        )
        logged = mlflow.sklearn.log_model(
            model, name="model", serialization_format="skops", skops_trusted_types=trusted,
            signature=signature, input_example=example, pyfunc_predict_fn="predict_proba",
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
    by ``validate``): the server refuses or flags values outside them (``serving.py``). The
    categories need no copy: the fitted encoders inside the pipeline hold them.
    """
    from ..core.paths import RANGES_KEY

    ranges = load_schema().get("ranges") or {}
    return {RANGES_KEY: {str(column): list(bounds) for column, bounds in ranges.items()}}


if __name__ == "__main__":
    run_stage(main, "train")
