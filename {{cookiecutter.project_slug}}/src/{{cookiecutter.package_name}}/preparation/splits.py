"""Train / valid / test splits and the leakage checks that guard them.

Three strategies:

* ``stratified``: random rows, class prevalence kept equal across splits.
* ``grouped``: all rows of a group (patient, customer, site...) land in one split, so the
  model is evaluated on unseen groups. Sizes are fractions of *groups*, not rows.
* ``time``: sorted by time; the latest ``test_size`` fraction is test, the slice before it
  is valid, the rest is train, so no training row is later than an evaluation row. Rows
  sharing a timestamp are never cut apart (the boundary moves to the later split).

``check_leakage`` re-checks any splits (also ones read back from disk) and raises
``LeakageError`` on shared ids/groups or time-order violations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import UserError

STRATEGIES = ("stable", "stratified", "grouped", "time")
SPLIT_NAMES = ("train", "valid", "test")
_MAX_SHOWN = 5


class SplitError(UserError, ValueError):
    """Split parameters or data do not allow a valid split."""


class LeakageError(UserError, ValueError):
    """Information from evaluation rows can reach training (shared ids/groups, future rows).

    Attributes:
        problems: One message per violation found.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Leakage between splits:\n  " + "\n  ".join(problems))


def split(
    df: pd.DataFrame,
    *,
    strategy: str,
    target: str,
    test_size: float,
    valid_size: float,
    seed: int,
    group_col: str | None = None,
    time_col: str | None = None,
    id_col: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Split labelled data into train, valid and test.

    Args:
        df: Labelled data; ``target`` must have no missing values.
        strategy: ``"stable"``, ``"stratified"``, ``"grouped"`` or ``"time"``. ``stable``
            assigns each row by a seeded hash of its id: stratified in expectation, and a row
            never changes split when data is added (the lifecycle's loop appends batches; a
            re-shuffled split would put the champion's training rows into the new test split).
        target: Label column; every class must occur in every split.
        test_size: Fraction of rows (of groups for ``grouped``) for test, in (0, 1).
        valid_size: Fraction for valid, in (0, 1); ``test_size + valid_size < 1``.
        seed: Non-negative integer seed (unused by ``time``, which is deterministic).
        group_col: Group column, required for ``grouped``.
        time_col: Time column (datetime, numeric or parseable text), required for ``time``.
        id_col: Row id column, required for ``stable``.

    Returns:
        ``{"train": ..., "valid": ..., "test": ...}`` with fresh 0..n-1 indexes (rows are
        identified by the id column, not the index).

    Raises:
        SplitError: Bad parameters, missing columns/values, or a split lacking a class.
    """
    _validate_params(df, strategy, target, test_size, valid_size, seed, group_col, time_col,
                     id_col)

    if strategy == "stable":
        parts = _split_stable(df, id_col, test_size, valid_size, seed)  # type: ignore[arg-type]
    elif strategy == "stratified":
        parts = _split_stratified(df, target, test_size, valid_size, seed)
    elif strategy == "grouped":
        parts = _split_grouped(df, group_col, test_size, valid_size, seed)  # type: ignore[arg-type]
    else:
        parts = _split_time(df, time_col, test_size, valid_size)  # type: ignore[arg-type]

    splits = {
        name: part.reset_index(drop=True) for name, part in zip(SPLIT_NAMES, parts, strict=True)
    }
    _check_classes(df, splits, target, strategy)
    return splits


def check_leakage(
    splits: dict[str, pd.DataFrame],
    *,
    id_col: str,
    group_col: str | None = None,
    time_col: str | None = None,
    target: str | None = None,
    feature_cols: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Verify that no information crosses from evaluation splits into training.

    Errors (raised together as one ``LeakageError``):
      * an ``id_col`` value in two splits;
      * a ``group_col`` value in two splits (if given);
      * for ``time_col`` (if given), an earlier split (dict order, e.g. train before valid
        before test) holding a row later than the earliest row of a later split.

    Warning only (reported, not raised): evaluation rows whose feature values are identical
    to a training row. They are legitimate (e.g. common profiles) but inflate scores.

    Args:
        splits: Split name -> frame, in time order (as returned by :func:`split`).
        id_col: Row id column.
        group_col: Group column whose values must not be shared.
        time_col: Time column whose order must be respected.
        target: Label column, excluded from the feature comparison.
        feature_cols: Columns compared for identical rows; default: all columns except
            id, group, time and target.

    Returns:
        ``{"ok": True, "n_rows": {split: n}, "identical_feature_rows": {"train/test": n,
        "train/valid": n}, "warnings": [...]}``.
    """
    names = list(splits)
    for name, frame in splits.items():
        needed = [c for c in (id_col, group_col, time_col, target) if c]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(
                f"check_leakage: split '{name}' lacks column(s) {missing}; pass the column "
                "names used when splitting."
            )

    problems: list[str] = []
    for col in [c for c in (id_col, group_col) if c]:
        for first, second in combinations(names, 2):
            shared = pd.Index(splits[first][col].dropna().unique()).intersection(
                pd.Index(splits[second][col].dropna().unique())
            )
            if len(shared):
                problems.append(
                    f"column '{col}': {len(shared)} value(s) in both '{first}' and '{second}' "
                    f"(e.g. {_examples(shared)}); "
                    + (
                        "remove duplicate rows before splitting."
                        if col == id_col
                        else "split with strategy='grouped' on this column."
                    )
                )
    if time_col:
        times = {
            name: _as_sortable_time(frame[time_col], time_col) for name, frame in splits.items()
        }
        for first, second in combinations(names, 2):
            if times[second].notna().sum() == 0:
                continue
            earliest_later = times[second].min()
            late = times[first] > earliest_later
            if late.any():
                offenders = splits[first].loc[late.to_numpy(), id_col]
                problems.append(
                    f"column '{time_col}': {int(late.sum())} row(s) of '{first}' are later than "
                    f"the earliest '{second}' row ({earliest_later}) (e.g. {id_col}="
                    f"{_examples(offenders)}); split with strategy='time'."
                )
    if problems:
        raise LeakageError(problems)

    excluded = {c for c in (id_col, group_col, time_col, target) if c}
    features = (
        list(feature_cols)
        if feature_cols is not None
        else [c for c in splits[names[0]].columns if c not in excluded]
    )
    identical: dict[str, int] = {}
    warnings: list[str] = []
    if "train" in splits and features:
        train_hashes = _row_hashes(splits["train"], features)
        for other in [n for n in names if n != "train"]:
            count = int(np.isin(_row_hashes(splits[other], features), train_hashes).sum())
            identical[f"train/{other}"] = count
            if count:
                warnings.append(
                    f"{count} '{other}' row(s) have feature values identical to a 'train' row; "
                    "scores on them measure recall of memorised rows."
                )
    return {
        "ok": True,
        "n_rows": {name: len(frame) for name, frame in splits.items()},
        "identical_feature_rows": identical,
        "warnings": warnings,
    }


# ----------------------------------------------------------------------- strategies


def _split_stable(
    df: pd.DataFrame, id_col: str, test_size: float, valid_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train/valid/test by a seeded hash of each id mapped to [0, 1): fixed per id forever."""
    key = f"{seed:016d}"[-16:]  # pandas' hash key is 16 characters
    hashes = pd.util.hash_pandas_object(df[id_col].astype(str), index=False, hash_key=key)
    unit = hashes.to_numpy(dtype=np.uint64) / float(2**64)
    test = unit < test_size
    valid = ~test & (unit < test_size + valid_size)
    return df[~test & ~valid], df[valid], df[test]


def _split_stratified(
    df: pd.DataFrame, target: str, test_size: float, valid_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    try:
        rest, test = train_test_split(
            df, test_size=test_size, stratify=df[target], random_state=seed
        )
        # valid_size is a fraction of all rows; rescale to the remaining rows.
        train, valid = train_test_split(
            rest,
            test_size=valid_size / (1 - test_size),
            stratify=rest[target],
            random_state=seed,
        )
    except ValueError as error:
        raise SplitError(
            f"split(strategy='stratified'): cannot stratify on '{target}' with "
            f"test_size={test_size}, valid_size={valid_size} and {len(df)} rows ({error}); "
            "raise prepare.split.test_size / prepare.split.valid_size in "
            "conf/prepare/default.yaml, or collect more rows of the rare class."
        ) from error
    return train, valid, test


def _split_grouped(
    df: pd.DataFrame, group_col: str, test_size: float, valid_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import GroupShuffleSplit

    n_groups = df[group_col].nunique()
    if n_groups < 3:
        raise SplitError(
            f"split(strategy='grouped'): column '{group_col}' has {n_groups} distinct group(s); "
            "need at least 3 (one per split)."
        )
    try:
        outer = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        rest_idx, test_idx = next(outer.split(df, groups=df[group_col]))
        rest = df.iloc[rest_idx]
        inner = GroupShuffleSplit(
            n_splits=1, test_size=valid_size / (1 - test_size), random_state=seed
        )
        train_idx, valid_idx = next(inner.split(rest, groups=rest[group_col]))
    except ValueError as error:
        raise SplitError(
            f"split(strategy='grouped'): cannot split {n_groups} groups of '{group_col}' with "
            f"test_size={test_size}, valid_size={valid_size} ({error}); use larger sizes."
        ) from error
    return rest.iloc[train_idx], rest.iloc[valid_idx], df.iloc[test_idx]


def _split_time(
    df: pd.DataFrame, time_col: str, test_size: float, valid_size: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    times = _as_sortable_time(df[time_col], time_col)
    order = np.argsort(times.to_numpy(), kind="stable")
    ordered = df.iloc[order]
    sorted_times = times.to_numpy()[order]
    n = len(df)
    test_start = _tie_safe_cut(sorted_times, n - math.ceil(test_size * n))
    valid_start = _tie_safe_cut(sorted_times, test_start - math.ceil(valid_size * n))
    return (
        ordered.iloc[:valid_start],
        ordered.iloc[valid_start:test_start],
        ordered.iloc[test_start:],
    )


def _tie_safe_cut(sorted_times: np.ndarray, cut: int) -> int:
    """Move ``cut`` right until it does not separate rows with the same time."""
    cut = max(cut, 0)
    if 0 < cut < len(sorted_times):
        # First position whose time is strictly later than the row just before the cut.
        cut = int(np.searchsorted(sorted_times, sorted_times[cut - 1], side="right"))
    return cut


# ------------------------------------------------------------------------ validation


def _validate_params(
    df: pd.DataFrame,
    strategy: str,
    target: str,
    test_size: float,
    valid_size: float,
    seed: int,
    group_col: str | None,
    time_col: str | None,
    id_col: str | None = None,
) -> None:
    if strategy not in STRATEGIES:
        raise SplitError(f"split: strategy={strategy!r} unknown; use one of {STRATEGIES}.")
    for name, size in (("test_size", test_size), ("valid_size", valid_size)):
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size < 1:
            raise SplitError(f"split: {name}={size!r} must be a fraction strictly between 0 and 1.")
    if test_size + valid_size >= 1:
        raise SplitError(
            f"split: test_size + valid_size = {test_size + valid_size:g} leaves no training "
            "rows; their sum must be below 1."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise SplitError(f"split: seed={seed!r} must be an integer in [0, 2**32).")

    needed = {"target": target}
    if strategy == "grouped":
        needed["group_col"] = group_col  # type: ignore[assignment]
    if strategy == "time":
        needed["time_col"] = time_col  # type: ignore[assignment]
    if strategy == "stable":
        needed["id_col"] = id_col  # type: ignore[assignment]
    for key, col in needed.items():
        if not col:
            raise SplitError(f"split(strategy={strategy!r}): set {key} (a column name).")
        if col not in df.columns:
            raise SplitError(
                f"split: {key}={col!r} is not a column of the data (have "
                f"{list(df.columns)[:20]}); fix the split config."
            )
        n_missing = int(df[col].isna().sum())
        if n_missing:
            raise SplitError(
                f"split: column '{col}' ({key}) has {n_missing} missing value(s); fill or drop "
                "those rows before splitting."
            )
    if df[target].nunique() < 2:
        raise SplitError(f"split: target '{target}' has fewer than 2 classes; nothing to learn.")


def _check_classes(
    df: pd.DataFrame, splits: dict[str, pd.DataFrame], target: str, strategy: str
) -> None:
    classes = set(df[target].unique().tolist())
    for name, part in splits.items():
        absent = sorted(classes - set(part[target].unique().tolist()), key=str)
        if absent:
            hint = (" or set prepare.split.strategy: stratified (exact class shares; stable "
                    "keeps them only on average),") if strategy == "stable" else ""
            raise SplitError(
                f"split(strategy={strategy!r}): split '{name}' has {len(part)} row(s) and no row "
                f"of class(es) {absent} of '{target}'; raise prepare.split.test_size / "
                f"prepare.split.valid_size in conf/prepare/default.yaml,{hint} or collect more "
                "rows of the rare class."
            )


# --------------------------------------------------------------------------- helpers


def _as_sortable_time(values: pd.Series, time_col: str) -> pd.Series:
    """Datetime or numeric columns as-is; text parsed as datetimes (clear error if not)."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError) as error:
        raise SplitError(
            f"column '{time_col}' is neither numeric nor parseable as dates ({error}); "
            "convert it to datetime before splitting."
        ) from error


def _row_hashes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (NaN hashes equal to NaN)."""
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def _examples(values: Any) -> str:
    shown = [str(v) for v in list(values)[:_MAX_SHOWN]]
    return ", ".join(shown) + (", ..." if len(values) > _MAX_SHOWN else "")
