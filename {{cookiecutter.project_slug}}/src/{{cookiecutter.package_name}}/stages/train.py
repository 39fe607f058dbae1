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

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_json, write_table
from ..core.paths import (
    IMPORTANCE,
    MODEL_FILE,
    MODEL_INFO,
    MODEL_PREDICTIONS,
    REFERENCE_PROFILE,
    metrics_path,
)
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..data.dataset import categorical_features, load_schema, load_split, numeric_features
from ..modelling.logged_model import log_to_mlflow
from ..modelling.persistence import positive_probability, save_skops
from ..modelling.training import fit_model, importance, metric_rows

log = logging.getLogger(__name__)


def main() -> None:
    """Fit, predict valid and test, save and log the model and its reference profile."""
    import pandas as pd
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from ..modelling.models import adapt_to_size, constant_predictions, describe_adaptations

    settings = load_settings(check_estimator=True)  # it builds the estimator
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    schema = load_schema()
    root = project_root()
    X_train, y_train, _ = load_split("train", schema)
    # valid and test are read after the fit, unless recalibration fits on valid: the fit, the
    # stage's peak of memory, then holds the training rows only
    recalibrated = settings.train.recalibration != "none"
    valid = load_split("valid", schema) if recalibrated else None

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
    model = fit_model(settings, model_cfg, schema, X_train, y_train,
                      *(valid[:2] if valid is not None else (None, None)))
    fit_seconds = time.perf_counter() - started
    log.info("fitted in %.1f s", fit_seconds)
    X_valid, y_valid, ids_valid = valid if valid is not None else load_split("valid", schema)
    X_test, y_test, ids_test = load_split("test", schema)

    p_valid = positive_probability(model, X_valid)
    p_test = positive_probability(model, X_test)
    # the training metrics on a bounded sample: predicting every training row costs a large
    # share of the fit, and these figures only show the gap to the validation ones
    seed = settings.train.seed
    rows = metric_rows(len(X_train), seed)
    if len(rows) < len(X_train):
        log.info("training AUC and Brier on a sample of %d of the %d training rows",
                 len(rows), len(X_train))
    y_train_metric = y_train[rows]
    p_train = positive_probability(model, X_train.iloc[rows])
    predictions = pd.concat([
        pd.DataFrame({"id": ids_valid, "split": "valid", "y": y_valid, "p": p_valid}),
        pd.DataFrame({"id": ids_test, "split": "test", "y": y_test, "p": p_test}),
    ], ignore_index=True)
    write_table(root / MODEL_PREDICTIONS, predictions)
    metrics = {
        "train_auc": roc_auc_score(y_train_metric, p_train),
        "valid_auc": roc_auc_score(y_valid, p_valid),
        "train_brier": brier_score_loss(y_train_metric, p_train),
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

    ranking = importance(model, X_valid, y_valid, settings.train.permutation_importance, seed,
                         p=p_valid)
    write_table(root / IMPORTANCE, ranking)
    from ..reporting.figures import plot_importance

    plot_importance(ranking, root / "reports/train/importance.png")

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
    info = log_to_mlflow(settings, logged_model, model, X_train, metrics, ranking, trusted)
    write_json(root / MODEL_INFO, {**info, "model_name": model_name, "trusted_types": trusted,
                                   "n_train_rows": len(X_train), "adapted": adapted,
                                   "constant_predictions": constant})
    # the used value of each adapted setting (booleans as 0/1: metrics files hold numbers)
    used = {a["param"]: float(a["used"]) for a in adapted}
    write_json(root / metrics_path("train"),
               {**metrics, "n_train_rows": len(X_train), "adapted": used})


if __name__ == "__main__":
    run_stage(main, "train")
