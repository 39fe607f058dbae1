"""Preprocessing as the first steps of the model pipeline (step 3, "organise").

Imputation with missing indicators, optional log1p, scaling and one-hot encoding that tolerates
unseen categories all live inside the scikit-learn pipeline, so the logged model applies exactly
the transforms it was trained with when it is served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError

if TYPE_CHECKING:
    from ..core.settings import PreprocessingSettings

SCALERS = ("standard", "robust", "none")


def build_preprocessor(numeric: list[str], categorical: list[str],
                       cfg: PreprocessingSettings) -> Any:
    """A ``ColumnTransformer`` for the given feature columns.

    Args:
        numeric: numeric feature columns.
        categorical: categorical feature columns (strings; missing values become "missing").
        cfg: the ``prepare.preprocessing`` settings (choices checked when they were loaded).
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    scaling = cfg.scaling
    log_columns = list(cfg.log1p_columns)
    unknown = sorted(set(log_columns) - set(numeric))
    if unknown:
        raise ConfigError(
            f"prepare.preprocessing.log1p_columns names {unknown}, which are not numeric "
            f"features; choose among {numeric}."
        )
    transformers = []
    if log_columns:
        log_step = Pipeline([
            # clip at 0: log1p of a negative value is undefined; the column is declared skewed >= 0
            ("log1p", FunctionTransformer(_clipped_log1p, feature_names_out="one-to-one")),
            *_numeric_steps(cfg, scaling),
        ])
        transformers.append(("log_numeric", log_step, log_columns))
    plain = [c for c in numeric if c not in log_columns]
    if plain:
        steps = _numeric_steps(cfg, scaling)
        transformers.append(("numeric", Pipeline(steps), plain))
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=cfg.rare_category_share or None,
            sparse_output=False,
            dtype=np.float32,
        )
        cat_steps = Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", encoder),
        ])
        transformers.append(("categorical", cat_steps, categorical))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def _numeric_steps(cfg: PreprocessingSettings, scaling: str) -> list:
    """Imputation (with indicators) then the configured scaler."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import RobustScaler, StandardScaler

    steps = [("impute", SimpleImputer(
        strategy=cfg.numeric_imputation, add_indicator=cfg.missing_indicators,
        keep_empty_features=True,
    ))]
    if scaling == "standard":
        steps.append(("scale", StandardScaler()))
    elif scaling == "robust":
        steps.append(("scale", RobustScaler()))
    return steps


def _clipped_log1p(values):
    """``log1p(max(x, 0))``, NaN preserved (module level so the pipeline can be serialised)."""
    import numpy as np

    return np.log1p(np.clip(values, 0, None))
