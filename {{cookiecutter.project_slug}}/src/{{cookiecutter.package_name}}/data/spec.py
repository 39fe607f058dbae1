"""`DataSpec`: what a data set looks like (target, id, features, rules) and how to build one.

Built-in specs exist for the example sources; :func:`spec_from_config` builds one for a user's own
file from the ``data`` config group, inferring feature types it is not told from the dtypes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError
from . import synthetic
from .sources import BREAST_CANCER_FEATURES, BREAST_CANCER_ID, BREAST_CANCER_TARGET

if TYPE_CHECKING:
    import pandas as pd

    from ..core.settings import DataSettings

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
#: The largest share of missing values a feature may have when the config does not say: the
#: value conf/data/own_file.yaml ships (tests/test_settings.py checks the two are equal).
MAX_MISSING_SHARE = 0.5


def config_mapping(cfg: Any) -> Mapping[str, Any]:
    """The ``data`` settings as a mapping of the keys they set (a mapping is kept as it is).

    Stages pass the validated ``DataSettings``; notebooks and tests may pass a plain mapping.
    """
    from pydantic import BaseModel

    if isinstance(cfg, BaseModel):
        return cfg.model_dump(exclude_none=True)
    return cfg


class DataSpecError(ConfigError):
    """The data config contradicts itself or the table; the message names the key to set."""


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

    Attributes:
        name: Name of the data set (the source name for built-ins).
        target: Label column.
        positive_label: Value of ``target`` that means the positive class (mapped to 1).
        id_column: Unique row identifier, or None (rows are then named by position).
        time_column: Optional timestamp column for time-based splits (not a feature).
        group_column: Optional group column for grouped splits, e.g. hospital site (not a feature).
        numeric: Numeric feature columns.
        categorical: Categorical feature columns.
        categories: Allowed categories per categorical column (columns absent here allow any value).
        ranges: ``(min, max)`` per numeric column; either bound may be None.
        max_missing_share: Largest allowed share of missing values in any feature or sensitive
            column.
        sensitive: Sensitive attributes for fairness reporting (may or may not be features).
        second_label: Optional second label column (e.g. a second annotator) for label agreement.
        notes: What was inferred from the table and not configured (id column, positive label,
            columns left out and why), one sentence each, for the log and the data report.
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
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Normalise containers so the frozen spec is really immutable.
        set_ = object.__setattr__
        set_(self, "numeric", tuple(self.numeric))
        set_(self, "categorical", tuple(self.categorical))
        set_(self, "sensitive", tuple(self.sensitive))
        set_(self, "notes", tuple(self.notes))
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
            raise DataSpecError(
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
                raise DataSpecError(
                    f"data spec '{self.name}': column '{column}' is the {key} and also a "
                    f"feature; remove it from data.numeric / data.categorical"
                )
        not_numeric = sorted(set(self.ranges) - set(self.numeric))
        if not_numeric:
            raise DataSpecError(
                f"data spec '{self.name}': data.ranges names {not_numeric}, which are not "
                "numeric features; list them under data.numeric or drop their ranges"
            )
        not_categorical = sorted(set(self.categories) - set(self.categorical))
        if not_categorical:
            raise DataSpecError(
                f"data spec '{self.name}': allowed categories given for {not_categorical}, "
                "which are not categorical features"
            )
        if not 0.0 <= float(self.max_missing_share) <= 1.0:
            raise DataSpecError(
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
        for key in ("numeric", "categorical", "sensitive", "notes"):
            out[key] = list(out[key])
        return out


def _as_range(column: str, value: Any) -> Range:
    """Parse a range given as ``[min, max]`` or ``{min: .., max: ..}`` (bounds may be null)."""
    if isinstance(value, Mapping):
        unknown = set(value) - {"min", "max"}
        if unknown:
            raise DataSpecError(
                f"data.ranges.{column}: unknown keys {sorted(unknown)}; use min and/or max"
            )
        low, high = value.get("min"), value.get("max")
    elif isinstance(value, Iterable) and not isinstance(value, str):
        items = list(value)
        if len(items) != 2:
            raise DataSpecError(f"data.ranges.{column}: give [min, max] (got {items!r})")
        low, high = items
    else:
        raise DataSpecError(
            f"data.ranges.{column}: give [min, max] or a mapping with min and/or max "
            f"(got {value!r})"
        )
    low = None if low is None else float(low)
    high = None if high is None else float(high)
    if low is not None and high is not None and low > high:
        raise DataSpecError(f"data.ranges.{column}: min {low} is larger than max {high}")
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
            raise DataSpecError(f"unknown data config key '{key}': did you mean '{close[0]}'?")


#: Column names that say "row identifier": these whole names (any case), a ``_id``/`` id``
#: ending, or a camel-case ``Id``/``ID`` ending (``PassengerId``); ``Unnamed: 0`` is the index
#: pandas writes by default.
ID_NAMES = ("id", "key", "uuid", "index", "unnamed: 0")
ID_ENDING = re.compile(r"[_ .\-]id$", re.IGNORECASE)
ID_CAMEL_ENDING = re.compile(r"[a-z](Id|ID)$")
#: Two-valued targets whose positive class goes without saying (lower-cased label texts).
POSITIVE_PAIRS = {
    frozenset({"0", "1"}): "1", frozenset({"false", "true"}): "true",
    frozenset({"no", "yes"}): "yes", frozenset({"n", "y"}): "y", frozenset({"f", "t"}): "t",
    frozenset({"negative", "positive"}): "positive", frozenset({"neg", "pos"}): "pos",
    frozenset({"absent", "present"}): "present", frozenset({"normal", "abnormal"}): "abnormal",
    frozenset({"benign", "malignant"}): "malignant",
}
#: What a written date looks like (see _looks_like_dates).
DATE_SHAPE = (r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
              r"|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ .-]*\d")
#: A text column whose values parse as numbers this often, but not always, is a numeric column
#: with a few stray values: an error, since typing it categorical would hide them.
MOSTLY_NUMERIC = 0.8
#: ...and so is one that is mostly numbers but for at most this many distinct words, however
#: often they occur ("?", "NA", "-": UCI-style missing-value codes).
MAX_MISSING_CODES = 3
#: Text columns with more distinct values than this share of rows are identifiers or free text.
MAX_LEVEL_SHARE = 0.5


@dataclass
class Inference:
    """Feature types and roles read off a table, with a note for each choice."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stray_values: list[str] = field(default_factory=list)


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def infer_positive_label(target: pd.Series, column: str) -> tuple[Any, str]:
    """The positive class of a two-valued target, where it goes without saying.

    Returns the value as it occurs in the table and a note; raises naming ``data.positive_label``
    when the target has other than two values or two values with no obvious positive one.
    """
    values = list(target.dropna().unique())
    counts = ", ".join(f"{v!r} (n={n})" for v, n in target.value_counts().head(10).items())
    if len(values) != 2:
        raise DataSpecError(
            f"data.target: column '{column}' has {len(values)} distinct value(s), a binary "
            f"target needs 2: {counts}. Derive a two-valued column in your file (or choose "
            "another target) and set data.positive_label"
        )
    texts = {_label_text(v).lower(): v for v in values}
    positive = POSITIVE_PAIRS.get(frozenset(texts))
    if positive is None:
        raise DataSpecError(
            f"data.positive_label: column '{column}' has the values {counts}; say which one is "
            "the positive class (the event the model predicts), e.g. positive_label: "
            f"{_label_text(values[0])!r} in conf/data/own_file.yaml"
        )
    value = texts[positive]
    value = value.item() if hasattr(value, "item") else value
    return value, f"positive class of '{column}' taken to be {value!r} (set data.positive_label)"


def _id_like_name(column: Any) -> bool:
    name = str(column).strip()
    return (name.lower() in ID_NAMES or ID_ENDING.search(name) is not None
            or ID_CAMEL_ENDING.search(name) is not None)


def _is_row_number(s: pd.Series) -> bool:
    """True for an integer column counting the rows (1..n or 0..n-1, in file order)."""
    import pandas as pd

    if not pd.api.types.is_integer_dtype(s) or len(s) < 20:
        return False
    values = s.to_numpy()
    return bool(values[0] in (0, 1) and (values[1:] - values[:-1] == 1).all())


def infer_id_column(df: pd.DataFrame, skip: set[str]) -> str | None:
    """The first column named like an id whose values are present and unique, else the first
    column that numbers the rows (1..n in file order), else None."""
    candidates = [c for c in df.columns if c not in skip]
    for column in candidates:
        s = df[column]
        if _id_like_name(column) and s.notna().all() and s.is_unique and not _is_float_dtype(s):
            return str(column)
    for column in candidates:
        if _is_row_number(df[column]):
            return str(column)
    return None


def other_id_columns(df: pd.DataFrame, skip: set[str]) -> dict[str, bool]:
    """Columns named like an id other than the row id, each with whether its values repeat:
    they identify something (a second record number; a patient's several rows), so they are no
    feature, and repeated ones may be the groups of a grouped split."""
    return {str(c): not df[c].dropna().is_unique for c in df.columns
            if c not in skip and _id_like_name(c)}


def _is_float_dtype(s: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_float_dtype(s)


def _looks_like_dates(values: pd.Series) -> bool:
    """True when nearly all of a text column's values (a sample) parse as dates."""
    import warnings

    import pandas as pd

    sample = values.astype(str).head(200)
    # a date has three digit groups (2021-03-04, 04/03/2021, 4.3.21) or a month name: a bare
    # number or "15,6" (a decimal comma) parses as a date too, and is none
    if not sample.str.contains(DATE_SHAPE, regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def infer_columns(df: pd.DataFrame, skip: set[str], max_missing: float = 1.0) -> Inference:
    """Type the columns of ``df`` not in ``skip`` from their values, noting what is left out.

    Numbers are numeric and text, booleans and categories categorical, except: all-missing and
    constant columns (nothing to learn), columns missing in more than ``max_missing`` of the
    rows (``data.max_missing_share``, which a listed column must meet instead), dates (set
    ``data.time_column`` to split by them), and text with more distinct values than half the
    rows (identifiers or free text). A text column that is numeric but for a few values is
    recorded in ``stray_values``: the caller refuses it.
    """
    import pandas as pd

    found = Inference()
    for column in df.columns:
        if column in skip:
            continue
        s = df[column]
        present = s.dropna()
        if present.empty:
            found.notes.append(f"column '{column}' left out: every value is missing")
            continue
        missing = 1 - len(present) / len(s)
        if missing > max_missing:
            found.notes.append(
                f"column '{column}' left out: {missing:.0%} of its values are missing, more "
                f"than data.max_missing_share ({max_missing:g}); list it under data.numeric or "
                "data.categorical and raise that share to use it")
            continue
        if present.nunique() == 1:
            value = present.iloc[0]
            value = value.item() if hasattr(value, "item") else value
            found.notes.append(f"column '{column}' left out: it holds one value ({value!r})")
            continue
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            found.categorical.append(column)
            continue
        if pd.api.types.is_numeric_dtype(s):
            found.numeric.append(column)
            continue
        if pd.api.types.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.DatetimeTZDtype):
            found.notes.append(f"column '{column}' left out: dates are not features "
                               "(data.time_column splits by time)")
            continue
        text = present.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        parsed = float(numbers.notna().mean())
        if parsed == 1.0:
            found.numeric.append(column)
            continue
        # a few numbers among words is a category; a few words (or one missing-value code
        # such as "?", however often) among numbers is a numeric column to be fixed
        codes = text[numbers.isna()].nunique()
        if parsed >= MOSTLY_NUMERIC or (parsed >= 0.5 and codes <= MAX_MISSING_CODES):
            found.stray_values.append(_stray_message(df, column, numbers.isna()))
            continue
        if _looks_like_dates(text):
            found.notes.append(f"column '{column}' left out: it holds dates, not features "
                               "(data.time_column splits by time)")
            continue
        if len(present) > 20 and present.nunique() > MAX_LEVEL_SHARE * len(present):
            kind = "free text" if text.str.count(" ").mean() >= 2 else "an identifier"
            found.notes.append(
                f"column '{column}' left out: it looks like {kind} ({present.nunique()} "
                f"distinct values in {len(present)} rows); list it under data.categorical "
                "to use it anyway"
            )
            continue
        found.categorical.append(column)
    return found


def _stray_message(df: pd.DataFrame, column: str, bad: pd.Series) -> str:
    rows = bad[bad].index
    values = df.loc[rows, column].astype(str).value_counts()
    shown = ", ".join(f"{v!r} (n={n})" for v, n in values.head(5).items())
    where = ", ".join(str(r) for r in list(rows[:5]))
    return (
        f"column '{column}' is numeric but for {len(rows)} value(s): {shown} (rows {where}, "
        "counting from 0 after the header)"
    )


def spec_from_config(
    cfg: DataSettings | Mapping[str, Any],
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

    Columns of ``df`` that the config does not mention are typed by :func:`infer_columns`;
    without ``id_column`` a unique column named like an id is the id, and without
    ``positive_label`` an obvious positive class (1, yes, true...) is taken; each such choice is
    a sentence in ``notes``. A column the config lists wins over inference.

    Args:
        cfg: The ``data`` settings, or a mapping of the same keys (a plain dict or an OmegaConf
            DictConfig).
        df: The raw frame to infer feature types from; None uses only the listed columns.
        base: Spec whose values are kept for keys the config does not set (for built-ins).
        name: Name of the resulting spec; defaults to ``cfg['source']`` or ``'own_file'``.
    """
    cfg = config_mapping(cfg)
    _check_key_typos(cfg)
    name = name or str(cfg.get("source") or (base.name if base else "own_file"))
    given = {key: cfg[key] for key in SPEC_KEYS if key in cfg and cfg[key] is not None}
    if base is None and "target" not in given:
        raise DataSpecError(
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
    target = str(given["target"])
    id_column = given.get("id_column")
    positive_label = given.get("positive_label")
    roles = [target, *(given.get(k) for k in ("time_column", "group_column", "second_label"))]
    # an existing score is a baseline to beat, never an input of the model
    roles.append(cfg.get("legacy_score_column"))
    skip = {str(c) for c in roles if c is not None} | set(_names(cfg, "exclude"))
    notes: list[str] = []
    if df is not None:
        if target not in df.columns:
            close = difflib.get_close_matches(target, [str(c) for c in df.columns], n=1)
            raise DataSpecError(
                f"data.target: column '{target}' is not in the table"
                + (f" (did you mean '{close[0]}'?)" if close else "")
                + f"; its columns: {', '.join(map(str, df.columns[:30]))}"
            )
        if positive_label is None:
            positive_label, note = infer_positive_label(df[target], target)
            notes.append(note)
        if id_column is None:
            id_column = infer_id_column(df, skip | set(numeric) | set(categorical))
            if id_column is not None:
                why = ("it is named like one and unique" if _id_like_name(id_column)
                       else "it numbers the rows")
                notes.append(f"column '{id_column}' used as the row id: {why} (set "
                             "data.id_column to choose another)")
        if id_column is not None:
            skip.add(str(id_column))
        for column, repeats in other_id_columns(df, skip | set(numeric) | set(categorical)).items():
            skip.add(column)
            notes.append(
                f"column '{column}' left out: it is named like an id but its values repeat; "
                "set data.group_column to it to keep its rows in one split" if repeats else
                f"column '{column}' left out: a second identifier (named like an id, unique)")
        found = infer_columns(df, skip | set(numeric) | set(categorical),
                              float(given.get("max_missing_share", MAX_MISSING_SHARE)))
        if found.stray_values:
            raise DataSpecError(
                "data: " + "; ".join(found.stray_values) + ". If these values mean 'missing', "
                "list them under data.na_values (e.g. na_values: [abc, '?']); if the column "
                "is really a category, list it under data.categorical; or fix the file"
            )
        numeric += found.numeric
        categorical += found.categorical
        notes += found.notes
    ranges = {str(k): v for k, v in (given.get("ranges") or {}).items()}
    return DataSpec(
        name=name,
        target=target,
        positive_label=1 if positive_label is None else positive_label,
        id_column=id_column,
        time_column=given.get("time_column"),
        group_column=given.get("group_column"),
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        categories=_categories(cfg),
        ranges=ranges,
        max_missing_share=float(given.get("max_missing_share", MAX_MISSING_SHARE)),
        sensitive=tuple(_names(cfg, "sensitive")),
        second_label=given.get("second_label"),
        notes=tuple(notes),
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


def get_spec(cfg: DataSettings | Mapping[str, Any], df: pd.DataFrame | None = None) -> DataSpec:
    """Spec for the configured source: the built-in one (config keys override) or inferred.

    Args:
        cfg: The ``data`` settings (or a mapping); ``source`` selects a built-in spec when it names
            one.
        df: Raw frame used to infer feature types for a user's own file.
    """
    cfg = config_mapping(cfg)
    source = cfg.get("source")
    if isinstance(source, str) and source in BUILTIN_SPECS:
        return spec_from_config(cfg, df, base=BUILTIN_SPECS[source])
    return spec_from_config(cfg, df)
