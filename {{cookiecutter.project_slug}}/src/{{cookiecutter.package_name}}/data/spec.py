"""`DataSpec`: what a data set looks like (target, id, features, rules) and how to build one.

Built-in specs exist for the example sources; :func:`spec_from_config` builds one for a user's own
file from the ``data`` config group, inferring feature types it is not told from the dtypes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import synthetic
from .sources import BREAST_CANCER_FEATURES, BREAST_CANCER_ID, BREAST_CANCER_TARGET

if TYPE_CHECKING:
    import pandas as pd

#: Config keys of the ``data`` group that describe the data set (all optional but ``target``).
SPEC_KEYS = (
    "target",
    "positive_label",
    "id_column",
    "time_column",
    "group_column",
    "numeric",
    "categorical",
    "categories",
    "ranges",
    "sensitive",
    "max_missing_share",
    "second_label",
    "exclude",
)

Range = tuple[float | None, float | None]


class FrozenDict(dict):
    """A read-only dict (unlike MappingProxyType it pickles and deep-copies)."""

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("DataSpec mappings are read-only; use dataclasses.replace()")

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self  # immutable values (tuples of str/float)


@dataclass(frozen=True)
class DataSpec:
    """Description of a binary-classification data set.

    Attributes
    ----------
    name
        Name of the data set (the source name for built-ins).
    target
        Label column.
    positive_label
        Value of ``target`` that means the positive class (mapped to 1).
    id_column
        Unique row identifier, or None (rows are then named by position).
    time_column
        Optional timestamp column for time-based splits (not a feature).
    group_column
        Optional group column for grouped splits, e.g. hospital site (not a feature).
    numeric
        Numeric feature columns.
    categorical
        Categorical feature columns.
    categories
        Allowed categories per categorical column (columns absent here allow any value).
    ranges
        ``(min, max)`` per numeric column; either bound may be None.
    max_missing_share
        Largest allowed share of missing values in any feature or sensitive column.
    sensitive
        Sensitive attributes for fairness reporting (may or may not be features).
    second_label
        Optional second label column (e.g. a second annotator) for label agreement.
    """

    name: str
    target: str
    positive_label: Any = 1
    id_column: str | None = None
    time_column: str | None = None
    group_column: str | None = None
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    ranges: Mapping[str, Range] = field(default_factory=dict, hash=False)
    max_missing_share: float = 0.5
    sensitive: tuple[str, ...] = ()
    second_label: str | None = None

    def __post_init__(self) -> None:
        # Normalise containers so the frozen spec is really immutable.
        set_ = object.__setattr__
        set_(self, "numeric", tuple(self.numeric))
        set_(self, "categorical", tuple(self.categorical))
        set_(self, "sensitive", tuple(self.sensitive))
        set_(
            self,
            "categories",
            FrozenDict({k: tuple(str(v) for v in vs) for k, vs in self.categories.items()}),
        )
        set_(self, "ranges", FrozenDict({k: _as_range(k, v) for k, v in self.ranges.items()}))
        self._check()

    def _check(self) -> None:
        """Raise ``ValueError`` for contradictory settings, naming the config key to fix."""
        both = sorted(set(self.numeric) & set(self.categorical))
        if both:
            raise ValueError(
                f"data spec '{self.name}': columns {both} are listed as both numeric and "
                "categorical; keep each in one of data.numeric / data.categorical"
            )
        roles = {
            "target": self.target,
            "id_column": self.id_column,
            "time_column": self.time_column,
            "group_column": self.group_column,
            "second_label": self.second_label,
        }
        features = set(self.features)
        for key, column in roles.items():
            if column is not None and column in features:
                raise ValueError(
                    f"data spec '{self.name}': column '{column}' is the {key} and also a "
                    f"feature; remove it from data.numeric / data.categorical"
                )
        not_numeric = sorted(set(self.ranges) - set(self.numeric))
        if not_numeric:
            raise ValueError(
                f"data spec '{self.name}': data.ranges names {not_numeric}, which are not "
                "numeric features; list them under data.numeric or drop their ranges"
            )
        not_categorical = sorted(set(self.categories) - set(self.categorical))
        if not_categorical:
            raise ValueError(
                f"data spec '{self.name}': allowed categories given for {not_categorical}, "
                "which are not categorical features"
            )
        if not 0.0 <= float(self.max_missing_share) <= 1.0:
            raise ValueError(
                f"data spec '{self.name}': data.max_missing_share must be in [0, 1] "
                f"(got {self.max_missing_share!r})"
            )

    @property
    def features(self) -> tuple[str, ...]:
        """Model input columns: numeric then categorical."""
        return self.numeric + self.categorical

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every column the spec names, each once, in a stable order."""
        cols = [self.id_column, self.target, self.time_column, self.group_column]
        cols += [*self.features, *self.sensitive, self.second_label]
        return tuple(dict.fromkeys(c for c in cols if c is not None))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (e.g. to store next to a model)."""
        out = asdict(self)
        out["categories"] = {k: list(v) for k, v in self.categories.items()}
        out["ranges"] = {k: list(v) for k, v in self.ranges.items()}
        for key in ("numeric", "categorical", "sensitive"):
            out[key] = list(out[key])
        return out


def _as_range(column: str, value: Any) -> Range:
    """Parse a range given as ``[min, max]`` or ``{min: .., max: ..}`` (bounds may be null)."""
    if isinstance(value, Mapping):
        unknown = set(value) - {"min", "max"}
        if unknown:
            raise ValueError(
                f"data.ranges.{column}: unknown keys {sorted(unknown)}; use min and/or max"
            )
        low, high = value.get("min"), value.get("max")
    elif isinstance(value, Iterable) and not isinstance(value, str):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"data.ranges.{column}: give [min, max] (got {items!r})")
        low, high = items
    else:
        raise ValueError(
            f"data.ranges.{column}: give [min, max] or a mapping with min and/or max "
            f"(got {value!r})"
        )
    low = None if low is None else float(low)
    high = None if high is None else float(high)
    if low is not None and high is not None and low > high:
        raise ValueError(f"data.ranges.{column}: min {low} is larger than max {high}")
    return low, high


SYNTHETIC_CLINICAL_SPEC = DataSpec(
    name="synthetic_clinical",
    target=synthetic.TARGET,
    positive_label=1,
    id_column=synthetic.ID_COLUMN,
    time_column=synthetic.TIME_COLUMN,
    group_column=synthetic.GROUP_COLUMN,
    numeric=synthetic.NUMERIC_FEATURES,
    categorical=synthetic.CATEGORICAL_FEATURES,
    categories={
        "sex": synthetic.SEX_LEVELS,
        "insurance": synthetic.INSURANCE_LEVELS,
        "smoker": synthetic.SMOKER_LEVELS,
        "admission_type": synthetic.ADMISSION_LEVELS,
    },
    # Physiologically plausible limits (wider than the generator's), to catch unit errors.
    ranges={
        "age": (0.0, 120.0),
        "bmi": (10.0, 80.0),
        "systolic_bp": (50.0, 260.0),
        "creatinine": (0.1, 20.0),
        "hba1c": (3.0, 20.0),
        "prior_admissions": (0.0, 100.0),
        "length_of_stay": (0.0, 365.0),
    },
    max_missing_share=0.5,
    sensitive=synthetic.SENSITIVE_ATTRIBUTES,
)

BREAST_CANCER_SPEC = DataSpec(
    name="breast_cancer",
    target=BREAST_CANCER_TARGET,
    positive_label=1,
    id_column=BREAST_CANCER_ID,
    numeric=BREAST_CANCER_FEATURES,
    ranges={name: (0.0, None) for name in BREAST_CANCER_FEATURES},
    max_missing_share=0.05,
)

BUILTIN_SPECS: Mapping[str, DataSpec] = MappingProxyType(
    {spec.name: spec for spec in (SYNTHETIC_CLINICAL_SPEC, BREAST_CANCER_SPEC)}
)


def _names(cfg: Mapping[str, Any], key: str) -> list[str]:
    """Read a list of column names (a single string is accepted as a one-element list)."""
    value = cfg.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [str(k) for k in value]
    return [str(v) for v in value]


def _check_key_typos(cfg: Mapping[str, Any]) -> None:
    """Reject keys that look like misspelt spec keys (other keys belong to the source)."""
    for key in cfg:
        if key in SPEC_KEYS:
            continue
        close = difflib.get_close_matches(str(key), SPEC_KEYS, n=1, cutoff=0.8)
        if close:
            raise ValueError(f"unknown data config key '{key}': did you mean '{close[0]}'?")


def _infer_types(df: pd.DataFrame, skip: set[str]) -> tuple[list[str], list[str]]:
    """Split the columns of ``df`` not in ``skip`` into numeric and categorical by dtype.

    Datetime columns are left out, and so are text columns whose values are all distinct
    (identifiers or free text, not categories).
    """
    import pandas as pd

    numeric, categorical = [], []
    for column in df.columns:
        if column in skip:
            continue
        s = df[column]
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            categorical.append(column)
        elif pd.api.types.is_numeric_dtype(s):
            numeric.append(column)
        elif pd.api.types.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.DatetimeTZDtype):
            continue
        else:
            non_null = s.dropna()
            if len(non_null) > 20 and non_null.nunique() == len(non_null):
                continue
            categorical.append(column)
    return numeric, categorical


def spec_from_config(
    cfg: Mapping[str, Any],
    df: pd.DataFrame | None = None,
    *,
    base: DataSpec | None = None,
    name: str | None = None,
) -> DataSpec:
    """Build a :class:`DataSpec` from the ``data`` config (and optionally the frame).

    Keys (all optional except ``target`` when there is no ``base``): ``target``,
    ``positive_label``, ``id_column``, ``time_column``, ``group_column``, ``numeric`` (list),
    ``categorical`` (list, or mapping column -> allowed levels or null), ``categories``
    (mapping column -> allowed levels; those columns count as categorical), ``ranges``
    (mapping column -> ``[min, max]`` or a mapping with ``min``/``max``; those columns count
    as numeric), ``sensitive`` (list),
    ``max_missing_share``, ``second_label`` and ``exclude`` (columns to ignore). Other keys
    (``source``, ``path``, ...) are ignored.

    Columns of ``df`` that the config does not mention are typed from their dtypes: bool,
    category and text columns become categorical, other numeric dtypes numeric; datetimes
    and all-distinct text columns are skipped. A column the config lists wins over inference.

    Parameters
    ----------
    cfg
        The ``data`` config mapping (a plain dict or an OmegaConf DictConfig).
    df
        The raw frame to infer feature types from; None uses only the listed columns.
    base
        Spec whose values are kept for keys the config does not set (for built-ins).
    name
        Name of the resulting spec; defaults to ``cfg['source']`` or ``'own_file'``.
    """
    _check_key_typos(cfg)
    name = name or str(cfg.get("source") or (base.name if base else "own_file"))
    given = {key: cfg[key] for key in SPEC_KEYS if key in cfg and cfg[key] is not None}
    if base is None and "target" not in given:
        raise ValueError(
            "data.target is not set: name the label column of your file in the data config "
            "(e.g. conf/data/own_file.yaml: target: readmitted)"
        )
    if base is not None:
        spec = base
        overrides: dict[str, Any] = {"name": name}
        for key in (
            "target",
            "positive_label",
            "id_column",
            "time_column",
            "group_column",
            "second_label",
            "max_missing_share",
        ):
            if key in given:
                overrides[key] = given[key]
        for key in ("numeric", "sensitive"):
            if key in given:
                overrides[key] = tuple(_names(cfg, key))
        if "categorical" in given or "categories" in given:
            names = _categorical_names(cfg) if "categorical" in given else list(spec.categorical)
            overrides["categorical"] = tuple(dict.fromkeys(names + _names(cfg, "categories")))
            overrides["categories"] = {**spec.categories, **_categories(cfg)}
        if "ranges" in given:
            overrides["ranges"] = dict(given["ranges"])
        return replace(spec, **overrides)

    numeric = _numeric_names(cfg)
    categorical = _categorical_names(cfg)
    roles = [
        given.get(k) for k in ("target", "id_column", "time_column", "group_column", "second_label")
    ]
    # an existing score is a baseline to beat, never an input of the model
    roles.append(cfg.get("legacy_score_column"))
    skip = {str(c) for c in roles if c is not None} | set(_names(cfg, "exclude"))
    if df is not None:
        inferred_num, inferred_cat = _infer_types(df, skip | set(numeric) | set(categorical))
        numeric += inferred_num
        categorical += inferred_cat
    ranges = {str(k): v for k, v in (given.get("ranges") or {}).items()}
    return DataSpec(
        name=name,
        target=str(given["target"]),
        positive_label=given.get("positive_label", 1),
        id_column=given.get("id_column"),
        time_column=given.get("time_column"),
        group_column=given.get("group_column"),
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        categories=_categories(cfg),
        ranges=ranges,
        max_missing_share=float(given.get("max_missing_share", 0.5)),
        sensitive=tuple(_names(cfg, "sensitive")),
        second_label=given.get("second_label"),
    )


def _categories(cfg: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Allowed levels from ``categories`` and from ``categorical`` given as a mapping.

    A null entry means any level is allowed.
    """
    out: dict[str, tuple[str, ...]] = {}
    for key in ("categorical", "categories"):
        value = cfg.get(key)
        if isinstance(value, Mapping):
            out.update(
                {str(k): tuple(str(x) for x in v) for k, v in value.items() if v is not None}
            )
    return out


def _numeric_names(cfg: Mapping[str, Any]) -> list[str]:
    """Numeric columns: those of ``numeric`` plus any named in ``ranges``."""
    return list(dict.fromkeys(_names(cfg, "numeric") + _names(cfg, "ranges")))


def _categorical_names(cfg: Mapping[str, Any]) -> list[str]:
    """Categorical columns: those of ``categorical`` plus any named in ``categories``."""
    return list(dict.fromkeys(_names(cfg, "categorical") + _names(cfg, "categories")))


def get_spec(cfg: Mapping[str, Any], df: pd.DataFrame | None = None) -> DataSpec:
    """Spec for the configured source: the built-in one (config keys override) or inferred.

    Parameters
    ----------
    cfg
        The ``data`` config; ``cfg['source']`` selects a built-in spec when it names one.
    df
        Raw frame used to infer feature types for a user's own file.
    """
    source = cfg.get("source")
    if source in BUILTIN_SPECS:
        return spec_from_config(cfg, df, base=BUILTIN_SPECS[source])
    return spec_from_config(cfg, df)
