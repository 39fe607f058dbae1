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


# ------------------------------------------------------------------ the light transform path

#: Rows up to which :class:`LightTransform` is used; above, the full path's fixed cost is small
#: beside its work, and the light path's per-value category lookups would not pay.
LIGHT_MAX_ROWS = 10_000


class LightTransform:
    """The fitted preprocessor's ``transform`` for small frames, the same numbers at less cost.

    ``ColumnTransformer.transform`` costs about the same for 1 row as for 100: nearly all of it
    is input validation, pandas indexing and dispatch repeated in every step. This path reads
    the fitted attributes once (statistics, indicator columns, scaler centres and scales, the
    encoders' categories) and applies them with a few numpy operations, in the order the full
    path does, so the output is equal number for number (tests compare them on real rows).

    It covers what :func:`build_preprocessor` builds (:meth:`supports` says whether a fitted
    preprocessor is one). A frame it does not know takes the full path, so that the full path's
    answers and errors stay the reference: other columns or column order, no rows or more than
    :data:`LIGHT_MAX_ROWS`, a numeric column neither float64 nor (unless log1p'd) of integers,
    a categorical column neither ``object`` nor pandas' string dtype, an infinite number, a
    category value that is neither a string, None nor NaN.

    Args:
        preprocessor: the fitted ``ColumnTransformer`` (the pipeline's first step).

    Raises:
        ValueError: ``preprocessor`` is not one this path :meth:`supports`.
    """

    def __init__(self, preprocessor: Any) -> None:
        plan = _plan(preprocessor)
        if plan is None:
            raise ValueError("not a fitted preprocessor this path knows; use its transform")
        self.preprocessor = preprocessor
        self.columns = list(preprocessor.feature_names_in_)
        self._blocks = plan
        self._accepts = {column: block.accepts for block in plan for column in block.columns}
        self._dtypes_seen: tuple | None = None

    @staticmethod
    def supports(preprocessor: Any) -> bool:
        """Whether ``preprocessor`` is a fitted column transformer this path reproduces."""
        return _plan(preprocessor) is not None

    def __call__(self, frame: Any) -> Any:
        """``preprocessor.transform(frame)``: by the light path when ``frame`` is plain."""
        if not self.takes_light_path(frame):
            return self.preprocessor.transform(frame)
        import numpy as np

        parts = []
        for block in self._blocks:
            part = block.apply(frame)
            if part is None:  # a value the light path does not reproduce
                return self.preprocessor.transform(frame)
            parts.append(part)
        return np.hstack(parts)

    def takes_light_path(self, frame: Any) -> bool:
        """Whether ``frame``'s shape, columns and dtypes are the light path's (its values are
        checked as they are read: a value it does not know sends the frame to the full path)."""
        import pandas as pd

        if not isinstance(frame, pd.DataFrame) or not 0 < len(frame) <= LIGHT_MAX_ROWS \
                or frame.columns.tolist() != self.columns:
            return False
        dtypes = tuple(frame.dtypes)
        if dtypes == self._dtypes_seen:
            return True
        if not all(self._accepts.get(column, _any)(dtype)
                   for column, dtype in zip(self.columns, dtypes, strict=True)):
            return False
        self._dtypes_seen = dtypes
        return True


def _any(dtype: Any) -> bool:
    """A column no transformer reads (dropped): any dtype."""
    return True


class _NumericBlock:
    """One numeric transformer: [clipped log1p], imputation [+ indicators], [scaling]."""

    def __init__(self, columns: list[str], log: bool, statistics: Any, indicators: Any,
                 center: Any, scale: Any) -> None:
        self.columns, self.log, self.statistics = columns, log, statistics
        self.indicators, self.center, self.scale = indicators, center, scale

    def accepts(self, dtype: Any) -> bool:
        """float64, or (without log1p, which computes small integers in float32) integers."""
        import numpy as np

        return isinstance(dtype, np.dtype) and (
            dtype == np.float64 or (not self.log and dtype.kind in "iu"))

    def apply(self, frame: Any) -> Any:
        import numpy as np

        values = np.column_stack([frame[c].to_numpy(dtype=np.float64) for c in self.columns])
        if self.log:
            values = _clipped_log1p(values)
        if np.isinf(values).any():  # the full path refuses infinity: let it say so
            return None
        missing = np.isnan(values)
        values = np.where(missing, self.statistics, values)
        if self.indicators is not None:
            values = np.hstack((values, missing[:, self.indicators]))
        if self.center is not None:
            values -= self.center
        if self.scale is not None:
            values /= self.scale
        return values


class _CategoricalBlock:
    """One categorical transformer: missing values filled, then one-hot encoded."""

    def __init__(self, columns: list[str], fills: list[str],
                 lookups: list[dict[str | None, int]],
                 unknown: list[int | None], width: int, dtype: Any) -> None:
        self.columns, self.fills, self.lookups = columns, fills, lookups
        self.unknown, self.width, self.dtype = unknown, width, dtype

    def accepts(self, dtype: Any) -> bool:
        """``object``, or pandas' string dtype (what MLflow's signature enforcement gives)."""
        import numpy as np
        import pandas as pd

        return (isinstance(dtype, np.dtype) and dtype.kind == "O") \
            or isinstance(dtype, pd.StringDtype)

    def apply(self, frame: Any) -> Any:
        import numpy as np

        out = np.zeros((len(frame), self.width), dtype=self.dtype)
        for column, fill, lookup, unknown in zip(self.columns, self.fills, self.lookups,
                                                  self.unknown, strict=True):
            for row, value in enumerate(frame[column].to_numpy()):
                if isinstance(value, float) and value != value:  # NaN: what the imputer fills
                    value = fill
                elif value is not None and not isinstance(value, str):
                    return None
                # None is not missing to the imputer (its NaN test is x != x): a level of
                # its own, known to the encoder or not
                index = lookup.get(value, unknown)
                if index is not None:
                    out[row, index] = 1
        return out


def _plan(preprocessor: Any) -> list[_NumericBlock | _CategoricalBlock] | None:
    """The light path's blocks for a fitted ``ColumnTransformer``, or None if it has a part
    (or an option) that path does not reproduce."""
    from sklearn import get_config
    from sklearn.compose import ColumnTransformer

    if type(preprocessor) is not ColumnTransformer or not hasattr(preprocessor, "transformers_") \
            or not hasattr(preprocessor, "feature_names_in_") \
            or get_config()["transform_output"] != "default" \
            or getattr(preprocessor, "_sklearn_output_config", {}).get("transform",
                                                                        "default") != "default":
        return None
    blocks: list[_NumericBlock | _CategoricalBlock] = []
    for _, transformer, columns in preprocessor.transformers_:
        if isinstance(transformer, str):
            if transformer == "drop":
                continue
            return None  # passthrough
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            return None
        steps = [s for _, s in transformer.steps] if hasattr(transformer, "steps") \
            else [transformer]
        block = _numeric_block(columns, list(steps)) or _categorical_block(columns, list(steps))
        if block is None:
            return None
        blocks.append(block)
    return blocks or None


def _numeric_block(columns: list[str], steps: list[Any]) -> _NumericBlock | None:
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

    log = bool(steps) and type(steps[0]) is FunctionTransformer
    if log:
        ft = steps.pop(0)
        if ft.func is not _clipped_log1p or ft.validate or ft.kw_args:
            return None
    if not steps or type(steps[0]) is not SimpleImputer:
        return None
    imputer = steps.pop(0)
    statistics = np.asarray(imputer.statistics_)
    if not _is_nan(imputer.missing_values) or statistics.dtype != np.float64 \
            or np.isnan(statistics).any():
        return None
    indicators = None
    if imputer.add_indicator:
        indicator = imputer.indicator_
        if indicator.sparse is True:
            return None
        indicators = np.asarray(indicator.features_)
    center = scale = None
    if steps:
        scaler = steps.pop(0)
        if type(scaler) is StandardScaler:
            center = scaler.mean_ if scaler.with_mean else None
            scale = scaler.scale_ if scaler.with_std else None
        elif type(scaler) is RobustScaler:
            center = scaler.center_ if scaler.with_centering else None
            scale = scaler.scale_ if scaler.with_scaling else None
        else:
            return None
    if steps:
        return None
    return _NumericBlock(columns, log, statistics, indicators, center, scale)


def _categorical_block(columns: list[str], steps: list[Any]) -> _CategoricalBlock | None:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    if len(steps) != 2 or type(steps[0]) is not SimpleImputer \
            or type(steps[1]) is not OneHotEncoder:
        return None
    imputer, encoder = steps
    if imputer.strategy != "constant" or imputer.add_indicator \
            or not _is_nan(imputer.missing_values) \
            or encoder.drop is not None or encoder.sparse_output \
            or encoder.handle_unknown not in ("ignore", "infrequent_if_exist"):
        return None
    fills = list(imputer.statistics_)
    if not all(isinstance(f, str) for f in fills):
        return None
    lookups, unknown, width = [], [], 0
    # infrequent_categories_ is only there when min_frequency or max_categories is set
    infrequent = getattr(encoder, "infrequent_categories_", None) \
        or [None] * len(encoder.categories_)
    for levels, rare in zip(encoder.categories_, infrequent, strict=True):
        # None is a level when training rows had it (the imputer fills NaN only)
        if not all(level is None or isinstance(level, str) for level in levels):
            return None
        rare = set(rare) if rare is not None else set()
        frequent = [level for level in levels if level not in rare]
        lookup = {level: width + i for i, level in enumerate(frequent)}
        width += len(frequent)
        other = None
        if rare:  # the infrequent categories share one column, after the frequent ones
            lookup.update(dict.fromkeys(rare, width))
            other = width if encoder.handle_unknown == "infrequent_if_exist" else None
            width += 1
        lookups.append(lookup)
        unknown.append(other)
    return _CategoricalBlock(columns, fills, lookups, unknown, width, encoder.dtype)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value
