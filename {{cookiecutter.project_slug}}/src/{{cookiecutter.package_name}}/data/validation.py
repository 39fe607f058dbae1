"""Validate a raw frame against a :class:`DataSpec` (pandera) and report readable failures.

:func:`validate` is the gate for training data: every rule failure raises one
:class:`DataValidationError` listing all problems. :func:`check_scoring_frame` is the lenient
check for new rows to score: it returns findings instead of raising.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import UserError
from .spec import DataSpec

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import pandas as pd

MAX_EXAMPLES = 5

# What to do, per rule; "<col>" is replaced by the column name.
_HINTS = {
    "non_empty": "check the file path and the export that produced it",
    "required_column": "rename the column in the file or fix the column name in the data config",
    "numeric_type": "fix the values, or list '<col>' under data.categorical if it is a category",
    "datetime_type": "use ISO dates (YYYY-MM-DD) in '<col>' or change data.time_column",
    "range": "fix the values (unit error?) or widen data.ranges.<col>",
    "allowed_categories": "fix the values or add them to data.categorical.<col>",
    "max_missing_share": "fill or drop the column (data.exclude) or raise data.max_missing_share",
    "not_missing": "fill in the missing values or drop those rows",
    "unique_id": "remove duplicated rows or choose another data.id_column",
    "unique_columns": "rename or drop the repeated column in the file",
    "binary_target": "map the target to two classes and set data.positive_label",
    "second_label_values": "use the same two classes as the target in '<col>'",
    "known_labels": "map the batch's labels to the training data's two classes, or leave "
    "unlabelled rows empty",
    "unseen_category": "scored as an unknown level; check for typos or retrain with them",
}


@dataclass(frozen=True)
class Finding:
    """One rule failure (validation) or finding (scoring check).

    Attributes:
        column: Column concerned, or None for frame-level rules.
        rule: Rule name, e.g. ``numeric_type``.
        detail: What is wrong, with up to five offending row ids and values.
        level: ``"error"`` or ``"warning"``.
        n_rows: Number of offending rows (0 when the rule is not row-wise).
    """

    column: str | None
    rule: str
    detail: str
    level: str = "error"
    n_rows: int = 0

    def line(self, source: str) -> str:
        """One readable line naming the source, column, rule, examples and what to do."""
        where = f"column '{self.column}'" if self.column is not None else "frame"
        hint = _HINTS.get(self.rule, "")
        hint = hint.replace("<col>", str(self.column)) if hint else ""
        return f"[{source}] {where}, rule {self.rule}: {self.detail}" + (
            f" -> {hint}" if hint else ""
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


class DataValidationError(UserError, ValueError):
    """Raised by :func:`validate`; ``.findings`` holds the individual failures."""

    def __init__(self, source: str, findings: list[Finding]) -> None:
        self.source = source
        self.findings = findings
        lines = [f"Data validation failed for {source}: {len(findings)} problem(s)"]
        lines += ["  " + f.line(source) for f in findings]
        super().__init__("\n".join(lines))


# ----------------------------------------------------------------------------------------------
# Value helpers shared by validate() and check_scoring_frame()
# ----------------------------------------------------------------------------------------------


def _label_key(value: Any) -> str:
    """Canonical text of a label so 1, 1.0, '1' and np.int64(1) compare equal."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _label_keys(s: pd.Series) -> pd.Series:
    """Series of canonical label texts (missing values stay missing)."""
    uniques = s.dropna().unique()
    return s.map({u: _label_key(u) for u in uniques})


def percent(share: float, digits: int = 1) -> str:
    """Format a share in [0, 1] as a percentage, e.g. ``percent(0.125) == '12.5%'``."""
    return f"{100 * share:.{digits}f}" + "%"


def label_texts(s: pd.Series) -> list[str]:
    """The distinct labels of a target column as text (1, 1.0 and '1' are one label)."""
    return sorted(set(_label_keys(s).dropna().unique()))


def check_known_labels(s: pd.Series, known: Iterable[str], source: str) -> None:
    """Refuse labels the training data did not have (a third class, "Yes" for "yes"): mapped
    to 0/1 they would silently count as negatives.

    Raises:
        DataValidationError: naming the column, the unknown values and their counts.
    """
    keys = _label_keys(s)
    unknown = keys.notna() & ~keys.isin(list(known))
    if unknown.any():
        tally = sorted(keys[unknown].value_counts().items(), key=lambda item: (-item[1], item[0]))
        counts = ", ".join(f"{value!r} (n={n})" for value, n in tally)
        raise DataValidationError(source, [Finding(
            str(s.name), "known_labels",
            f"{counts}: not one of the training labels {sorted(known)}", n_rows=int(unknown.sum()),
        )])


def to_binary(s: pd.Series, positive_label: Any) -> pd.Series:
    """Float Series: 1.0 where ``s`` equals ``positive_label``, 0.0 elsewhere, NaN if missing.

    Args:
        s: Label column (any dtype; 1, 1.0 and '1' count as the same label).
        positive_label: Value meaning the positive class.
    """
    keys = _label_keys(s)
    return (keys == _label_key(positive_label)).astype("float64").where(keys.notna())


def _numeric_bad_mask(s: pd.Series) -> pd.Series:
    """True where a present value is not a finite number."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.astype("float64")
        return values.notna() & ~np.isfinite(values.to_numpy(na_value=np.nan))
    numbers = pd.to_numeric(s, errors="coerce").astype("float64")
    finite = np.isfinite(numbers.to_numpy(na_value=np.nan))
    return s.notna() & ~finite


def _as_float(s: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_numeric(s, errors="coerce").astype("float64")


def _range_bad_mask(s: pd.Series, low: float | None, high: float | None) -> pd.Series:
    """True where a numeric value lies outside ``[low, high]`` (non-numbers are not flagged)."""
    values = _as_float(s)
    bad = values.notna() & values.isna()  # all False, aligned
    if low is not None:
        bad |= values < low
    if high is not None:
        bad |= values > high
    return bad


def _category_text(s: pd.Series) -> pd.Series:
    """Values as text categories; integral floats lose their '.0' (CSV reads codes as float)."""
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if pd.api.types.is_string_dtype(cats) or cats.dtype == object:
            text = [str(c) for c in cats]
        else:
            text = [_label_key(c) for c in cats]
        if len(set(text)) == len(text):
            return s.cat.rename_categories(text)
        return s.astype(str)
    uniques = s.dropna().unique()
    return s.map({u: _label_key(u) for u in uniques}).astype("category")


def _unknown_category_mask(s: pd.Series, allowed: Iterable[str]) -> pd.Series:
    """True where a present value is not one of ``allowed``."""
    text = _category_text(s)
    return text.notna() & ~text.isin(list(allowed))


def _missing_share(s: pd.Series) -> float:
    return float(s.isna().mean()) if len(s) else 0.0


def _examples(df: pd.DataFrame, spec: DataSpec, column: str, rows: Iterable[Any]) -> str:
    """``"patient_id=17: 'abc', ..."`` for up to MAX_EXAMPLES rows (row numbers without id)."""
    parts = []
    id_col = spec.id_column if spec.id_column in df.columns and spec.id_column != column else None
    for row in list(rows)[:MAX_EXAMPLES]:
        value = df.at[row, column] if column in df.columns else None
        value = value.item() if isinstance(value, np.generic) else value  # no 'np.float32(..)'
        who = f"{id_col}={df.at[row, id_col]!s}" if id_col else f"row {row}"
        parts.append(f"{who}: {value!r}")
    return ", ".join(parts)


def _row_finding(
    df: pd.DataFrame,
    spec: DataSpec,
    column: str,
    rule: str,
    rows: list[Any],
    what: str,
    level: str = "error",
) -> Finding:
    detail = f"{len(rows)} row(s) {what}, e.g. {_examples(df, spec, column, rows)}"
    return Finding(column, rule, detail, level, len(rows))


def _target_summary(s: pd.Series) -> str:
    counts = _label_keys(s).value_counts(dropna=True)
    return ", ".join(f"{k!r} (n={v})" for k, v in counts.head(10).items())


def _target_problem(s: pd.Series, positive_label: Any) -> str | None:
    """Why ``s`` is not a binary target with ``positive_label`` (None when it is)."""
    keys = set(_label_keys(s).dropna().unique())
    positive = _label_key(positive_label)
    if len(keys) > 2:
        return f"has {len(keys)} distinct values, expected 2: {_target_summary(s)}"
    if positive not in keys:
        return (
            f"positive_label {positive_label!r} never occurs (values: {_target_summary(s)}); "
            "both classes must be present"
        )
    if len(keys) < 2:
        return f"only one class present ({_target_summary(s)}); both classes must be present"
    return None


# ----------------------------------------------------------------------------------------------
# validate()
# ----------------------------------------------------------------------------------------------


def build_schema(spec: DataSpec) -> Any:
    """Pandera ``DataFrameSchema`` with one named check per rule of ``spec``.

    Args:
        spec: Data description.
    """
    import pandera.pandas as pa

    positive = spec.positive_label
    max_missing = float(spec.max_missing_share)
    missing_check = pa.Check(
        lambda s: _missing_share(s) <= max_missing, name="max_missing_share", ignore_na=False
    )
    columns: dict[str, Any] = {}
    for col in spec.numeric:
        checks = [pa.Check(lambda s: ~_numeric_bad_mask(s), name="numeric_type"), missing_check]
        if col in spec.ranges:
            low, high = spec.ranges[col]
            checks.append(
                pa.Check(lambda s, lo=low, hi=high: ~_range_bad_mask(s, lo, hi), name="range")
            )
        columns[col] = pa.Column(nullable=True, checks=checks)
    for col in spec.categorical:
        checks = [missing_check]
        if col in spec.categories:
            allowed = spec.categories[col]
            checks.append(
                pa.Check(
                    lambda s, a=allowed: ~_unknown_category_mask(s, a), name="allowed_categories"
                )
            )
        columns[col] = pa.Column(nullable=True, checks=checks)
    for col in spec.sensitive:
        columns.setdefault(col, pa.Column(nullable=True, checks=[missing_check]))
    if spec.time_column:
        columns[spec.time_column] = pa.Column(
            nullable=False,
            checks=[pa.Check(lambda s: ~_datetime_bad_mask(s), name="datetime_type")],
        )
    if spec.group_column:
        columns[spec.group_column] = pa.Column(nullable=False)
    if spec.second_label:
        columns[spec.second_label] = pa.Column(nullable=True)
    columns[spec.target] = pa.Column(
        nullable=False,
        checks=[pa.Check(lambda s: _target_problem(s, positive) is None, name="binary_target")],
    )
    if spec.id_column:
        columns[spec.id_column] = pa.Column(nullable=False, unique=True)
    return pa.DataFrameSchema(columns, name=spec.name)


def _datetime_bad_mask(s: pd.Series) -> pd.Series:
    """True where a present value cannot be parsed as a date/time."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(s):
        return s.isna() & s.notna()
    parsed = pd.to_datetime(s, errors="coerce", format="mixed")
    return s.notna() & parsed.isna()


def _findings_from_pandera(
    df: pd.DataFrame,
    spec: DataSpec,
    failure_cases: pd.DataFrame,
) -> list[Finding]:
    """Turn pandera's failure-case table into readable :class:`Finding` objects."""
    findings: list[Finding] = []
    missing_cols = failure_cases.loc[
        failure_cases["check"] == "column_in_dataframe", "failure_case"
    ]
    present = ", ".join(map(str, list(df.columns)[:25]))
    for col in dict.fromkeys(map(str, missing_cols)):
        findings.append(
            Finding(
                col,
                "required_column",
                f"required column is missing ({_role(spec, col)}); columns present: {present}",
            )
        )
    rest = failure_cases[failure_cases["check"] != "column_in_dataframe"]
    for (key, check), group in rest.groupby(["column", "check"], sort=False, dropna=False):
        col = str(key)
        rows = [r for r in dict.fromkeys(group["index"].tolist()) if r is not None]
        s = df[col]
        if check == "not_nullable":
            rows = list(np.flatnonzero(s.isna().to_numpy()))
            findings.append(_row_finding(df, spec, col, "not_missing", rows, "missing"))
        elif check == "field_uniqueness":
            dup = s[s.duplicated(keep=False)]
            ex = ", ".join(
                f"{v!r} (rows {[int(r) for r in dup.index[dup == v][:3]]})"
                for v in dup.drop_duplicates().head(MAX_EXAMPLES)
            )
            findings.append(
                Finding(
                    col, "unique_id", f"{len(dup)} rows share an id, e.g. {ex}", "error", len(dup)
                )
            )
        elif check == "numeric_type":
            findings.append(
                _row_finding(df, spec, col, "numeric_type", rows, "not a finite number")
            )
        elif check == "datetime_type":
            findings.append(_row_finding(df, spec, col, "datetime_type", rows, "not a date"))
        elif check == "range":
            low, high = spec.ranges[col]
            findings.append(_row_finding(df, spec, col, "range", rows, f"outside [{low}, {high}]"))
        elif check == "allowed_categories":
            allowed = ", ".join(spec.categories[col])
            findings.append(
                _row_finding(
                    df,
                    spec,
                    col,
                    "allowed_categories",
                    rows,
                    f"not in the allowed categories ({allowed})",
                )
            )
        elif check == "max_missing_share":
            findings.append(
                Finding(
                    col,
                    "max_missing_share",
                    f"{percent(_missing_share(s), 1)} missing "
                    f"({int(s.isna().sum())} of {len(s)} rows), "
                    f"more than the allowed {percent(spec.max_missing_share, 1)}",
                )
            )
        elif check == "binary_target":
            problem = _target_problem(s, spec.positive_label)
            findings.append(Finding(col, "binary_target", f"{problem}"))
        else:  # a pandera-internal check we did not name ourselves
            findings.append(
                Finding(
                    col,
                    str(check),
                    f"{len(group)} failure(s): {group['failure_case'].head(MAX_EXAMPLES).tolist()}",
                )
            )
    return findings


def _role(spec: DataSpec, column: str) -> str:
    """Why the spec needs ``column`` (named by its config key)."""
    roles = {
        spec.target: "data.target",
        spec.id_column: "data.id_column",
        spec.time_column: "data.time_column",
        spec.group_column: "data.group_column",
        spec.second_label: "data.second_label",
    }
    if column in roles:
        return f"set by {roles[column]}"
    if column in spec.numeric:
        return "a numeric feature"
    if column in spec.categorical:
        return "a categorical feature"
    return "a sensitive attribute (data.sensitive)"


def _second_label_findings(df: pd.DataFrame, spec: DataSpec) -> list[Finding]:
    """Second label values must be the target's two classes (missing allowed)."""
    col = spec.second_label
    if not col or col not in df.columns or spec.target not in df.columns:
        return []
    allowed = set(_label_keys(df[spec.target]).dropna().unique())
    keys = _label_keys(df[col])
    bad = keys.notna() & ~keys.isin(list(allowed))
    rows = list(np.flatnonzero(bad.to_numpy()))
    if not rows:
        return []
    return [
        _row_finding(
            df,
            spec,
            col,
            "second_label_values",
            rows,
            f"not one of the target's classes ({', '.join(sorted(allowed))})",
        )
    ]


def validate(df: pd.DataFrame, spec: DataSpec, *, source: str) -> pd.DataFrame:
    """Check ``df`` against ``spec`` and return a cleaned copy, or raise one readable error.

    Rules: frame not empty; required columns present (id, target, features, sensitive, time,
    group, second label); numeric columns hold finite numbers and lie within ``spec.ranges``;
    categorical values are allowed; missing share per feature/sensitive column is at most
    ``spec.max_missing_share``; the target has no missing values and exactly two classes, one
    of them ``spec.positive_label``; ids are present and unique; time values parse as dates.

    Args:
        df: Raw frame (e.g. from :func:`read_table`).
        spec: Data description.
        source: Name of the source or file, repeated in every failure line.

    Returns:
        Copy with a fresh RangeIndex; target as int64 0/1 (1 = positive label); second label as
        float64 0/1 with NaN; numeric features as float64; categorical features and non-numeric
        sensitive columns as ``category`` with text categories; the time column as datetime. Other
        columns are passed through unchanged.

    Raises:
        DataValidationError: Listing every failure, one line each.
    """
    from pandera.errors import SchemaErrors

    if len(df) == 0:
        raise DataValidationError(
            source,
            [
                Finding(
                    None, "non_empty", f"the frame has no rows (columns: {list(df.columns)[:25]})"
                )
            ],
        )
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise DataValidationError(
            source,
            [
                Finding(c, "unique_columns", "the column name occurs more than once")
                for c in duplicated
            ],
        )
    df = df.reset_index(drop=True)
    findings: list[Finding] = []
    try:
        build_schema(spec).validate(df, lazy=True)
    except SchemaErrors as exc:
        findings += _findings_from_pandera(df, spec, exc.failure_cases)
    findings += _second_label_findings(df, spec)
    if findings:
        raise DataValidationError(source, findings)
    return _clean(df, spec)


def _clean(df: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    """Apply the documented dtypes to a frame that passed validation."""
    import pandas as pd

    out = df.copy()
    positive = _label_key(spec.positive_label)
    out[spec.target] = (_label_keys(out[spec.target]) == positive).astype("int64")
    if spec.second_label:
        out[spec.second_label] = to_binary(out[spec.second_label], spec.positive_label)
    for col in spec.numeric:
        out[col] = _as_float(out[col])
    for col in dict.fromkeys([*spec.categorical, *spec.sensitive]):
        if col in spec.numeric:
            continue
        if (
            col in spec.sensitive
            and col not in spec.categorical
            and (
                pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col])
            )
        ):
            continue  # a numeric sensitive attribute (e.g. age) stays numeric
        out[col] = _category_text(out[col])
    if spec.time_column and not pd.api.types.is_datetime64_any_dtype(out[spec.time_column]):
        out[spec.time_column] = pd.to_datetime(out[spec.time_column], format="mixed")
    return out


# ----------------------------------------------------------------------------------------------
# check_scoring_frame()
# ----------------------------------------------------------------------------------------------


def check_scoring_frame(
    df: pd.DataFrame,
    spec: DataSpec,
    *,
    known_categories: Mapping[str, Iterable[Any]] | None = None,
) -> list[Finding]:
    """Check new rows before scoring; return findings instead of raising.

    Error-level findings (the model cannot score): empty frame, missing feature columns,
    non-numeric values in numeric features. Warning-level findings (the pipeline copes, but
    someone should look): unseen categories, values out of range, too many missing values,
    duplicated ids. The target is not required.

    Args:
        df: Frame to score.
        spec: Spec of the training data.
        known_categories: Categories seen in training per column; defaults to ``spec.categories``.
    """
    if len(df) == 0:
        return [Finding(None, "non_empty", "the frame to score has no rows")]
    df = df.reset_index(drop=True)
    known: dict[str, Sequence[str]] = dict(spec.categories)
    if known_categories:
        known.update({k: [_label_key(v) for v in vs] for k, vs in known_categories.items()})
    findings: list[Finding] = []
    missing = [c for c in spec.features if c not in df.columns]
    present = ", ".join(map(str, list(df.columns)[:25]))
    for col in missing:
        findings.append(
            Finding(
                col, "required_column", f"feature column is missing; columns present: {present}"
            )
        )
    for col in spec.numeric:
        if col not in df.columns:
            continue
        rows = list(np.flatnonzero(_numeric_bad_mask(df[col]).to_numpy()))
        if rows:
            findings.append(
                _row_finding(df, spec, col, "numeric_type", rows, "not a finite number")
            )
        if col in spec.ranges:
            low, high = spec.ranges[col]
            rows = list(np.flatnonzero(_range_bad_mask(df[col], low, high).to_numpy()))
            if rows:
                findings.append(
                    _row_finding(
                        df, spec, col, "range", rows, f"outside [{low}, {high}]", level="warning"
                    )
                )
    for col in spec.categorical:
        if col not in df.columns or col not in known:
            continue
        rows = list(np.flatnonzero(_unknown_category_mask(df[col], known[col]).to_numpy()))
        if rows:
            findings.append(
                _row_finding(
                    df,
                    spec,
                    col,
                    "unseen_category",
                    rows,
                    "with categories not seen in training",
                    level="warning",
                )
            )
    for col in spec.features:
        if col in df.columns and _missing_share(df[col]) > spec.max_missing_share:
            findings.append(
                Finding(
                    col,
                    "max_missing_share",
                    f"{percent(_missing_share(df[col]), 1)} missing, more than the allowed "
                    f"{percent(spec.max_missing_share, 1)}",
                    "warning",
                    int(df[col].isna().sum()),
                )
            )
    if spec.id_column in df.columns:
        n_dup = int(df[spec.id_column].duplicated(keep=False).sum())
        if n_dup:
            findings.append(
                Finding(spec.id_column, "unique_id", f"{n_dup} rows share an id", "warning", n_dup)
            )
    return findings


# ----------------------------------------------------------------------------------------------
# check_rows()
# ----------------------------------------------------------------------------------------------

MAX_SHOWN_LEVELS = 10


@dataclass(frozen=True)
class RowFinding:
    """One row a model was not validated for, found by :func:`check_rows`.

    Attributes:
        row: Position of the row in the frame (0 = first).
        column: Column at fault, or None when the whole row is (``all_missing``).
        rule: ``unseen_category``, ``range`` or ``all_missing``.
        value: The offending value (None for ``all_missing``).
        detail: One sentence naming the row, the column and the value, and what to do.
    """

    row: int
    column: str | None
    rule: str
    value: Any
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (a non-finite number becomes its text: JSON has no inf)."""
        out = asdict(self)
        if isinstance(self.value, float) and not np.isfinite(self.value):
            out["value"] = str(self.value)
        return out


def check_rows(
    df: pd.DataFrame,
    *,
    features: Iterable[str],
    ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
    known_categories: Mapping[str, Iterable[Any]] | None = None,
) -> list[RowFinding]:
    """Rows a model has no validated answer for: one finding per row and column.

    The row-wise counterpart of :func:`check_scoring_frame`, for a served model whose caller
    gets one answer per row and must know which rows are doubtful. Rules:

    * ``unseen_category``: a present value of a column of ``known_categories`` that is not one
      of its levels. Values are compared as the exact text the model's encoder compares (no
      stripping, unlike the file checks): ``"M "`` is not ``"M"`` to the model. A missing value
      is not a category.
    * ``range``: a number outside ``ranges[column]`` (``(min, max)``, either bound None for
      open), the range the training data was validated against. Columns without a range are
      not checked.
    * ``all_missing``: every feature column present in the frame is missing in the row; the
      model would score nothing but its imputed defaults.

    Columns absent from ``df``, and values that are not numbers, are left to the model's
    signature, which rejects them with its own message.

    Args:
        df: Rows to check (the model's input columns).
        features: The model's input columns, in order.
        ranges: ``(min, max)`` per numeric column.
        known_categories: The levels the model was fitted on, per categorical column.

    Returns:
        Sorted by row, then by the column order of ``features``; empty when every row is fine.
    """
    df = df.reset_index(drop=True)
    present = [c for c in dict.fromkeys(features) if c in df.columns]
    order = {c: i for i, c in enumerate(present)}
    found: list[RowFinding] = []
    for col in present:
        s = df[col]
        if known_categories and col in known_categories:
            levels = [str(v) for v in known_categories[col]]
            allowed = set(levels)
            missing = s.isna().to_numpy()
            bad = np.array([
                not gone and (v if isinstance(v, str) else str(v)) not in allowed
                for v, gone in zip(s.to_numpy(dtype=object), missing, strict=True)
            ], dtype=bool)
            shown = ", ".join(levels[:MAX_SHOWN_LEVELS]) + (
                ", ..." if len(levels) > MAX_SHOWN_LEVELS else ""
            )
            for row in np.flatnonzero(bad):
                value = _plain(s.iat[int(row)])
                found.append(RowFinding(
                    int(row), col, "unseen_category", value,
                    f"row {row}, column '{col}': {value!r} is not a category the model was "
                    f"trained on (known: {shown}); fix the value (a typo, a new code?) or "
                    "retrain with rows that have it",
                ))
        if ranges and col in ranges:
            low, high = ranges[col]
            # _range_bad_mask on the numpy array: well under a millisecond per request
            numbers = (s if s.dtype.kind == "f" else _as_float(s)).to_numpy(
                dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                bad = np.zeros(len(numbers), dtype=bool)
                if low is not None:
                    bad |= numbers < low
                if high is not None:
                    bad |= numbers > high
            for row in np.flatnonzero(bad):
                value = float(numbers[row])
                found.append(RowFinding(
                    int(row), col, "range", value,
                    f"row {row}, column '{col}': {value!r} is outside {_interval(low, high)}, "
                    f"the range the training data was validated against (data.ranges.{col}); "
                    "a unit or entry error?",
                ))
    if present:
        empty = df[present].isna().all(axis=1).to_numpy()
        for row in np.flatnonzero(empty):
            found.append(RowFinding(
                int(row), None, "all_missing", None,
                f"row {row}: every feature is missing ({len(present)} columns); the model would "
                "score only its imputed defaults, not this record",
            ))
    found.sort(key=lambda f: (f.row, -1 if f.column is None else order[f.column]))
    return found


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (no ``np.float64(..)`` in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _interval(low: float | None, high: float | None) -> str:
    """``[0, 120]``, ``[0, inf)``: a range with open bounds shown as such."""
    left = "(-inf" if low is None else f"[{low:g}"
    right = "inf)" if high is None else f"{high:g}]"
    return f"{left}, {right}"
