"""Stage ``baseline`` (step 2): the references every model must beat.

* ``prior``: predicts the training prevalence for everyone (AUC 0.5, Brier = the prevalence's);
* ``logistic``: a plain logistic regression on the numeric features only (median imputation,
  no missing indicators, no categoricals): the quick first model a careful analyst would fit;
* ``legacy``: an existing score, when ``data.legacy_score_column`` names one.

Each is its own MLflow run; predictions for valid and test go to
``data/predictions/baselines.parquet`` so the error analysis compares on the same rows.
"""

from __future__ import annotations

import logging

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import read_parquet, write_json, write_table
from ..core.paths import BASELINE_PREDICTIONS, metrics_path, split_path
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..data.dataset import (
    as_model_data,
    load_schema,
    load_split,
)
from ..modelling.baselines import fit_baselines, legacy_scores

log = logging.getLogger(__name__)


def main() -> None:
    """Fit the baselines, predict valid and test, log one MLflow run each."""
    import pandas as pd
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from ..core.tracking import stage_run

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    schema = load_schema()
    X_train, y_train, _ = load_split("train", schema)
    models = fit_baselines(settings, schema, X_train, y_train)
    tables, metrics, columns = [], {}, {}
    for split in ("valid", "test"):
        frame = read_parquet(project_root() / split_path(split))
        X, y, ids = as_model_data(frame, schema)
        columns[split] = {name: model.predict_proba(X)[:, 1] for name, model in models.items()}
        legacy = legacy_scores(settings, frame)
        if legacy is not None:
            columns[split]["legacy"] = legacy
        tables.append(pd.DataFrame({"id": ids, "split": split, "y": y, **columns[split]}))
    y_test = tables[-1]["y"].to_numpy()
    for name, p in columns["test"].items():
        metrics[name] = {
            "test_auc": round(float(roc_auc_score(y_test, p)), 6),
            "test_brier": round(float(brier_score_loss(y_test, p)), 6),
        }
        log.info("baseline %-8s test AUC %.3f", name, metrics[name]["test_auc"])
        with stage_run("baseline", settings, run_name=f"baseline-{name}",
                       extra_tags={"baseline": name}, groups=()) as run:
            run.log_metrics(metrics[name])
    write_table(project_root() / BASELINE_PREDICTIONS, pd.concat(tables, ignore_index=True))
    write_json(project_root() / metrics_path("baseline"), metrics)


if __name__ == "__main__":
    run_stage(main, "baseline")
