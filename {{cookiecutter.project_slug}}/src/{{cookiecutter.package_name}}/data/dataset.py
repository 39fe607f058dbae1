"""Reading the prepared tables as model inputs: features, labels and ids, by the saved schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import UserError
from ..core.io import read_json, read_parquet
from ..core.paths import SCHEMA, split_path

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def load_schema() -> dict[str, Any]:
    """The dataset's schema written by ``validate`` (feature lists, target, id column...)."""
    return read_json(project_root() / SCHEMA)


def numeric_features(schema: dict[str, Any]) -> list[str]:
    """Numeric feature columns, in schema order."""
    return list(schema["numeric"])


def categorical_features(schema: dict[str, Any]) -> list[str]:
    """Categorical feature columns, in schema order (the schema may map them to categories)."""
    return list(schema["categorical"])


def feature_columns(schema: dict[str, Any]) -> list[str]:
    """All model input columns: numeric then categorical."""
    return numeric_features(schema) + categorical_features(schema)


def model_inputs(frame: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """The feature columns in the types the pipeline and its MLflow signature expect.

    Numeric columns become float64 (missing as NaN), categorical columns plain Python strings
    (missing as None), so that a JSON request to the served model matches the signature.

    Args:
        frame: a table holding at least the feature columns.
        schema: the dataset schema.
    """
    import numpy as np
    import pandas as pd

    inputs = {}
    for column in numeric_features(schema):
        inputs[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    for column in categorical_features(schema):
        # str() once per distinct value, not once per row (a few levels, a million rows)
        codes, levels = pd.factorize(frame[column], use_na_sentinel=True)
        texts = np.array([None, *(str(level) for level in levels)], dtype=object)
        inputs[column] = pd.Series(texts[codes + 1], index=frame.index, dtype=object)
    return pd.DataFrame(inputs, index=frame.index)


def load_split(name: str, schema: dict[str, Any]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One split as ``(X, y, ids)``.

    Args:
        name: ``train``, ``valid`` or ``test``.
        schema: the dataset schema.
    """
    return as_model_data(read_parquet(project_root() / split_path(name)), schema)


def as_model_data(
    frame: pd.DataFrame, schema: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A prepared table as ``(X, y, ids)``.

    Args:
        frame: a split's table (features, target, id).
        schema: the dataset schema.
    """
    y = frame[schema["target"]].to_numpy(dtype="int8")
    ids = frame[schema["id_column"]].to_numpy()
    return model_inputs(frame, schema), y, ids


def check_columns(frame: pd.DataFrame, schema: dict[str, Any], source: Path) -> pd.DataFrame:
    """Model inputs in the served types, or a clear error naming the missing/bad column."""
    import pandas as pd

    from ..data.dataset import feature_columns, model_inputs

    missing = [c for c in feature_columns(schema) if c not in frame]
    if missing:
        raise UserError(f"{source}: missing feature column(s) {missing}; the model needs "
                        f"{feature_columns(schema)}.")
    for column in schema["numeric"]:
        bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
        if bad.any():
            examples = frame.loc[bad, column].astype(str).head(3).tolist()
            raise UserError(f"{source}: column '{column}' must be numeric; found {examples}.")
    return model_inputs(frame, schema)
