"""Data profile: per-column summaries, prevalence by sensitive group, association with target.

:func:`profile` returns a JSON-serialisable dict (missing numbers are ``None``);
:func:`plot_profile` draws a few PNGs from it with matplotlib's Agg canvas (no display needed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .spec import DataSpec
from .validation import percent, to_binary

if TYPE_CHECKING:
    import pandas as pd

TOP_CATEGORIES = 10
MIN_LEVEL_SIZE = 20  # levels smaller than this do not count for the prevalence spread
MISSING_LEVEL = "(missing)"
QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}


def _num(value: Any) -> float | None:
    """Plain float, or None for NaN / inf (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _is_numeric(s: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _column_summary(s: pd.Series, numeric: bool) -> dict[str, Any]:
    """dtype, counts, missing share and either moments/quantiles or the top categories."""
    n_missing = int(s.isna().sum())
    out: dict[str, Any] = {
        "dtype": str(s.dtype),
        "count": int(len(s) - n_missing),
        "n_missing": n_missing,
        "missing_share": _num(n_missing / len(s)) if len(s) else None,
        "n_unique": int(s.nunique(dropna=True)),
    }
    if numeric:
        values = s.astype("float64")
        out.update(
            kind="numeric",
            mean=_num(values.mean()),
            std=_num(values.std()),
            min=_num(values.min()),
            max=_num(values.max()),
        )
        quantiles = values.quantile(list(QUANTILES.values()))
        out.update({k: _num(v) for k, v in zip(QUANTILES, quantiles, strict=True)})
    else:
        counts = s.value_counts(dropna=True)
        counts = counts[counts > 0]  # unused categories of a category dtype
        total = max(int(counts.sum()), 1)
        out["kind"] = "categorical"
        out["top"] = [
            {"value": str(k), "count": int(v), "share": _num(v / total)}
            for k, v in counts.head(TOP_CATEGORIES).items()
        ]
        out["other_share"] = _num(counts.iloc[TOP_CATEGORIES:].sum() / total)
    return out


def _levels(s: pd.Series, keep_missing: bool) -> pd.Series:
    """Categorical view of ``s``; missing values become the level '(missing)' if kept."""
    import pandas as pd

    levels = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
    if keep_missing and levels.isna().any():
        levels = levels.cat.add_categories([MISSING_LEVEL]).fillna(MISSING_LEVEL)
    return levels


def _prevalence_table(levels: pd.Series, y: pd.Series) -> dict[str, dict[str, Any]]:
    """n, positives and prevalence per level (missing levels grouped as '(missing)')."""
    grouped = y.groupby(_levels(levels, keep_missing=True), observed=True).agg(["count", "sum"])
    return {
        str(level): {
            "n": int(row["count"]),
            "positives": int(row["sum"]),
            "prevalence": _num(row["sum"] / row["count"]) if row["count"] else None,
        }
        for level, row in grouped.iterrows()
    }


def _group_levels(s: pd.Series) -> pd.Series:
    """Levels of a sensitive attribute; a numeric one with many values is cut into quartiles."""
    import pandas as pd

    if _is_numeric(s) and s.nunique() > 10:
        return pd.qcut(s, 4, duplicates="drop").astype(str).where(s.notna())
    return s


def _association(x: pd.Series, y: pd.Series, numeric: bool) -> dict[str, Any]:
    """Point-biserial r for numeric x; Cramér's V and prevalence spread for categorical x."""
    from scipy import stats

    mask = x.notna().to_numpy() & y.notna().to_numpy()
    n = int(mask.sum())
    if numeric:
        xv, yv = x.to_numpy("float64")[mask], y.to_numpy("float64")[mask]
        if n < 3 or np.ptp(xv) == 0 or np.ptp(yv) == 0:
            return {"kind": "point_biserial", "value": None, "p_value": None, "n": n}
        r, p = stats.pointbiserialr(yv, xv)
        return {"kind": "point_biserial", "value": _num(r), "p_value": _num(p), "n": n}
    counts = (
        y[mask].groupby(_levels(x[mask], keep_missing=False), observed=True).agg(["count", "sum"])
    )
    out: dict[str, Any] = {"kind": "cramers_v", "value": None, "prevalence_spread": None, "n": n}
    table = np.column_stack([counts["count"] - counts["sum"], counts["sum"]])
    if table.shape[0] >= 2 and (table.sum(axis=0) > 0).all():
        chi2 = stats.chi2_contingency(table, correction=False)[0]
        out["value"] = _num(math.sqrt(chi2 / n))  # min(levels, 2) - 1 == 1 for a binary target
    big = counts[counts["count"] >= MIN_LEVEL_SIZE]
    if len(big) >= 2:
        prevalence = big["sum"] / big["count"]
        out["prevalence_spread"] = _num(prevalence.max() - prevalence.min())
    return out


def profile(df: pd.DataFrame, spec: DataSpec) -> dict[str, Any]:
    """Summarise ``df`` as described by ``spec``.

    Args:
        df: Frame (validated or raw); the target is mapped to 0/1 with ``spec.positive_label``.
        spec: Data description; only its columns present in ``df`` are profiled.

    Returns:
        JSON-serialisable: ``dataset``, ``n_rows``, ``n_columns``, ``target`` (n, positives,
        prevalence), ``columns`` (per column: dtype, count, n_missing, missing_share, n_unique, and
        mean/std/min/max/q05..q95 or top categories with count and share), ``prevalence_by_group``
        (per sensitive attribute and level: n, positives, prevalence), ``target_association`` (per
        feature: point-biserial r with p-value, or Cramér's V and the prevalence spread across
        levels with at least 20 rows), plus ``time`` (min/max) and ``groups`` (count and sizes) when
        the spec has those columns.
    """
    y = to_binary(df[spec.target], spec.positive_label) if spec.target in df.columns else None
    numeric_cols = set(spec.numeric)
    columns = {}
    for col in spec.required_columns:
        if col not in df.columns or col == spec.time_column:
            continue
        if col == spec.id_column:  # moments of ids mean nothing
            s = df[col]
            columns[col] = {
                "dtype": str(s.dtype),
                "kind": "id",
                "count": int(s.notna().sum()),
                "n_missing": int(s.isna().sum()),
                "missing_share": _num(s.isna().mean()) if len(s) else None,
                "n_unique": int(s.nunique(dropna=True)),
            }
            continue
        is_num = col in numeric_cols or (col not in spec.categorical and _is_numeric(df[col]))
        columns[col] = _column_summary(df[col], is_num)
    out: dict[str, Any] = {
        "dataset": spec.name,
        "n_rows": int(len(df)),
        "n_columns": int(df.shape[1]),
        "columns": columns,
    }
    if y is not None:
        n_labelled = int(y.notna().sum())
        positives = int(y.sum())
        out["target"] = {
            "column": spec.target,
            "positive_label": str(spec.positive_label),
            "n": n_labelled,
            "positives": positives,
            "prevalence": _num(positives / n_labelled) if n_labelled else None,
        }
        labelled = y.notna()
        out["prevalence_by_group"] = {
            col: _prevalence_table(_group_levels(df[col])[labelled], y[labelled])
            for col in spec.sensitive
            if col in df.columns
        }
        out["target_association"] = {
            col: _association(df[col], y, col in numeric_cols)
            for col in spec.features
            if col in df.columns
        }
    if spec.time_column and spec.time_column in df.columns:
        import pandas as pd

        times = pd.to_datetime(df[spec.time_column], errors="coerce", format="mixed")
        out["time"] = {
            "column": spec.time_column,
            "min": None if times.isna().all() else str(times.min()),
            "max": None if times.isna().all() else str(times.max()),
            "n_missing": int(times.isna().sum()),
        }
    if spec.group_column and spec.group_column in df.columns:
        sizes = df[spec.group_column].astype("object").value_counts(dropna=False)
        out["groups"] = {
            "column": spec.group_column,
            "n_groups": int(len(sizes)),
            "sizes": {str(k): int(v) for k, v in sizes.items()},
        }
    return out


def _canvas(width: float, height: float) -> tuple[Any, Any]:
    """A figure on the Agg canvas (no pyplot, no global state, works without a display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _plot_missingness(prof: dict[str, Any], spec: DataSpec, path: Path) -> Path:
    cols = list(prof["columns"])
    shares = [prof["columns"][c]["missing_share"] or 0.0 for c in cols]
    fig, ax = _canvas(7.0, 1.0 + 0.28 * len(cols))
    colors = ["tab:red" if s > spec.max_missing_share else "tab:blue" for s in shares]
    ax.barh(cols[::-1], shares[::-1], color=colors[::-1])
    ax.axvline(
        spec.max_missing_share,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"max allowed ({percent(spec.max_missing_share, 0)})",
    )
    if "tab:red" in colors:
        from matplotlib.patches import Patch

        ax.legend(handles=[*ax.get_legend_handles_labels()[0],
                           Patch(color="tab:red", label="above the maximum")])
    ax.set_xlabel("share missing")
    ax.set_xlim(0, max(1e-3, max(shares + [spec.max_missing_share]) * 1.1))
    ax.set_title(f"Missing values - {prof['dataset']}")
    if ax.get_legend() is None:
        ax.legend(loc="lower right")
    fig.savefig(path, dpi=110)
    return path


def _plot_association(prof: dict[str, Any], path: Path) -> Path:
    assoc = {k: v for k, v in prof.get("target_association", {}).items() if v["value"] is not None}
    items = sorted(assoc.items(), key=lambda kv: abs(kv[1]["value"]))
    fig, ax = _canvas(7.0, 1.0 + 0.28 * max(len(items), 1))
    names = [f"{k} ({'r' if v['kind'] == 'point_biserial' else 'V'})" for k, v in items]
    values = [v["value"] for _, v in items]
    colors = ["tab:blue" if v["kind"] == "point_biserial" else "tab:orange" for _, v in items]
    ax.barh(names, values, color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    from matplotlib.patches import Patch

    kinds = {"tab:blue": "numeric: point-biserial r", "tab:orange": "categorical: Cramér's V"}
    ax.legend(handles=[Patch(color=c, label=label) for c, label in kinds.items() if c in colors],
              loc="lower right", fontsize=8)
    ax.set_xlabel("association with the target (0 = none)")
    ax.set_title(f"Association with target - {prof['dataset']}")
    fig.savefig(path, dpi=110)
    return path


def _plot_prevalence(prof: dict[str, Any], path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = prof["prevalence_by_group"]
    fig = Figure(figsize=(4.0 * len(groups), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    overall = prof["target"]["prevalence"]
    # one prevalence axis for every attribute, so that equal heights mean equal prevalences
    top = max([overall or 0.0, *[(row["prevalence"] or 0.0) for table in groups.values()
                                 for row in table.values()]])
    first = None
    for i, (attr, table) in enumerate(groups.items(), start=1):
        ax = fig.add_subplot(1, len(groups), i, sharey=first)
        first = first or ax
        levels = list(table)
        prevalences = [table[lv]["prevalence"] or 0.0 for lv in levels]
        # the group sizes go under the names, clear of the bars and the overall line
        ax.bar([f"{lv}\n(n={table[lv]['n']:,})" for lv in levels], prevalences,
               color="tab:blue", label="group")
        if overall is not None:
            ax.axhline(overall, color="black", linestyle="--", linewidth=1,
                       label=f"all rows ({overall:.1%})")
        ax.set_ylim(0, min(1.0, 1.15 * top) or 1.0)
        ax.set_title(attr)
        ax.set_ylabel("prevalence" if i == 1 else "")
        ax.tick_params(axis="x", labelsize=8)
    if first is not None:
        fig.legend(*first.get_legend_handles_labels(), loc="outside lower center", ncols=2,
                   fontsize=8, frameon=False)
    fig.suptitle(f"Prevalence by sensitive group - {prof['dataset']}")
    fig.savefig(path, dpi=110)
    return path


def plot_profile(
    profile_or_df: dict[str, Any] | pd.DataFrame, spec: DataSpec, out_dir: str | Path
) -> list[Path]:
    """Write profile plots as PNG files.

    Files: ``missingness.png`` (missing share per column with the allowed maximum),
    ``target_association.png`` (point-biserial r / Cramér's V per feature) and, when the spec
    has sensitive attributes, ``prevalence_by_group.png``.

    Args:
        profile_or_df: Result of :func:`profile`, or a frame to profile first.
        spec: Data description.
        out_dir: Directory for the PNGs (created if needed).

    Returns:
        The files written.
    """
    prof = profile_or_df if isinstance(profile_or_df, dict) else profile(profile_or_df, spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [_plot_missingness(prof, spec, out / "missingness.png")]
    if prof.get("target_association"):
        paths.append(_plot_association(prof, out / "target_association.png"))
    if prof.get("prevalence_by_group"):
        paths.append(_plot_prevalence(prof, out / "prevalence_by_group.png"))
    return paths


#: A single feature that ranks the target this well on its own is more likely a leak (a column
#: computed from the outcome, or recorded after it) than a discovery.
LEAK_AUC = 0.99


def leak_suspects(df: pd.DataFrame, spec: DataSpec) -> list[str]:
    """One warning per feature that alone separates the target almost perfectly.

    The univariate AUC of a numeric feature (either direction) on the rows where it is present
    (the evaluation's own AUC, ties counting one half; scikit-learn's import would cost this
    stage more than its work); a categorical feature is suspect when every level with rows
    holds one class only.
    """
    from ..metrics.discrimination import delong_from_counts
    from ..metrics.sorting import SortedScores

    y = df[spec.target]
    found = []
    for column in spec.numeric:
        present = df[column].notna() & y.notna()
        labels = y[present]
        if labels.nunique() < 2:
            continue
        scores = SortedScores.build(labels.to_numpy(dtype="int8"),
                                    df.loc[present, column].to_numpy(dtype="float64"))
        auc = float(delong_from_counts(scores.pos, scores.neg)[0])
        if max(auc, 1 - auc) >= LEAK_AUC:
            found.append(f"column '{column}' alone ranks the target with AUC "
                         f"{max(auc, 1 - auc):.3f}: if it is computed from the outcome or "
                         "recorded after it, list it under data.exclude")
    for column in spec.categorical:
        present = df[column].notna() & y.notna()
        if present.sum() < 2 or y[present].nunique() < 2:
            continue
        classes = y[present].groupby(df.loc[present, column].astype(str)).nunique()
        if len(classes) >= 2 and (classes == 1).all():
            found.append(f"column '{column}' alone determines the target (every value holds one "
                         "class): if it is derived from the outcome, list it under data.exclude")
    return found
