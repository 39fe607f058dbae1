"""The baselines a model must beat: the prior (prevalence) and a plain logistic regression, and
a legacy score column if the data has one."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.errors import UserError
from ..core.settings import ModelSettings, PreprocessingSettings, Settings
from ..data.dataset import (
    categorical_features,
    numeric_features,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)


def fit_baselines(settings: Settings, schema: dict[str, Any], X: pd.DataFrame,
                  y: np.ndarray) -> dict[str, Any]:
    """The fitted baseline models by name.

    Args:
        settings: the validated settings (unused today; kept for configurable baselines).
        schema: the dataset schema.
        X: training features; y: training labels.
    """
    from sklearn.dummy import DummyClassifier

    from .models import build_pipeline

    # The numeric features with the plainest preprocessing; a table with none (all categorical)
    # gets its categorical ones instead. (A logistic regression on every feature would be the
    # stronger yardstick; it waits for a gate that judges "beats" on intervals, not estimates.)
    simple = PreprocessingSettings(numeric_imputation="median", missing_indicators=False,
                                   scaling="standard", rare_category_share=0.01, log1p_columns=[])
    numeric = numeric_features(schema)
    logistic = build_pipeline(
        numeric, [] if numeric else categorical_features(schema), simple,
        ModelSettings(name="logistic_regression", params={"max_iter": 1000}),
    )
    return {
        "prior": DummyClassifier(strategy="prior").fit(X, y),
        "logistic": logistic.fit(X, y),
    }


def legacy_scores(settings: Settings, frame: pd.DataFrame) -> np.ndarray | None:
    """The legacy score column of a split's table, or None when not configured."""
    column = settings.data.legacy_score_column
    if not column:
        return None
    if column not in frame:
        raise UserError(
            f"data.legacy_score_column names '{column}', which is not a column of the data; "
            "set it to an existing score column or null."
        )
    return frame[column].to_numpy(dtype=float)
