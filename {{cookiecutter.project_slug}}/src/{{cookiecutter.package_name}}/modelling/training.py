"""Fitting the configured model inside its preprocessing pipeline, and permutation importance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.settings import ModelSettings, PermutationImportanceSettings, Settings
from ..data.dataset import categorical_features, numeric_features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


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
    from .models import build_pipeline

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
