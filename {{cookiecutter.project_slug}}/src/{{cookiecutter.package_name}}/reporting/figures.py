"""Figures people look at instead of reading tables (matplotlib, Agg backend, PNG).

:class:`HistoryFigure` draws the monitoring history in a child process started early, so that
importing matplotlib (a third of a second or more) happens on another core while the monitor
loads the model and scores the batch.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.io import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# What the child runs: import matplotlib at once, then draw the figure it is sent (one line of
# JSON on stdin); end of input before any line means the monitor stopped: nothing to draw.
_CHILD = f"""
import json, sys
from pathlib import Path
from {__package__}.figures import _pyplot, plot_history
_pyplot()
line = sys.stdin.readline()
if line:
    history_csv, out, thresholds = json.loads(line)
    plot_history(Path(history_csv), Path(out), thresholds)
"""


def _pyplot():
    """matplotlib.pyplot on the non-interactive backend (stages run headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path) -> Path:
    """Save a figure atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    _pyplot().close(fig)
    return path


# The narrowest span of a metric axis (AUC, rates): a 0.01 difference then looks like one.
_MIN_SPAN = 0.2
# What each monitoring verdict looks like in the history figure, and what it means.
VERDICT_STYLE = {
    "ok": ("tab:green", "ok: nothing to do"),
    "watch": ("tab:orange", "watch: look again at the next batch"),
    "retrain": ("tab:red", "retrain: performance lost or concept drift"),
    "investigate-data": ("tab:purple", "investigate-data: a data problem (schema, missing, codes)"),
}


def plot_history(history_csv: Path, out: Path, thresholds: dict[str, Any] | None = None) -> Path:
    """Drift and performance across monitored batches, each batch shaded by its verdict.

    Args:
        history_csv: the monitoring history (one row per batch).
        out: the PNG to write.
        thresholds: ``psi_watch``, ``psi_drift`` and ``confidence`` of ``monitor.thresholds``
            (the defaults when not given), for the reference lines and the interval's name.
    """
    from matplotlib.patches import Patch

    limits = {"psi_watch": 0.1, "psi_drift": 0.25, "confidence": 0.95, **(thresholds or {})}
    plt = _pyplot()
    history = _read_history(history_csv)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, layout="constrained")
    x = list(range(len(history["batch"])))
    verdicts = history["verdict"]
    for ax in (top, bottom):
        for position, verdict in zip(x, verdicts, strict=True):
            colour = VERDICT_STYLE.get(verdict, ("tab:grey", ""))[0]
            ax.axvspan(position - 0.5, position + 0.5, color=colour, alpha=0.12, linewidth=0)
    top.plot(x, history["max_psi"], marker="o", label="max feature PSI")
    top.plot(x, history["prediction_psi"], marker="s", label="prediction PSI")
    top.axhline(limits["psi_drift"], color="tab:red", linestyle="--", linewidth=1,
                label=f"drift from PSI {limits['psi_drift']:g}")
    top.axhline(limits["psi_watch"], color="tab:orange", linestyle=":", linewidth=1,
                label=f"watch from PSI {limits['psi_watch']:g}")
    top.set_ylim(0, 1.15 * max([limits["psi_drift"], *[v for v in (*history["max_psi"],
                                *history["prediction_psi"]) if math.isfinite(v)]]))
    top.set_ylabel("PSI (0 = same distribution)")
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    bottom.plot(x, history["expected_auc"], marker="o", label="AUC expected from the predictions")
    if not all(math.isnan(v) for v in history["real_auc"]):
        real = history["real_auc"]
        low = [r - lo for r, lo in zip(real, history["real_auc_low"], strict=True)]
        high = [hi - r for r, hi in zip(real, history["real_auc_high"], strict=True)]
        bottom.errorbar(x, real, yerr=[low, high], marker="s", capsize=3,
                        label=f"AUC with labels, {limits['confidence']:.0%} interval")
    bottom.set_ylabel("AUC")
    rotation = 0 if len(x) <= 4 else 30
    bottom.set_xticks(x, [f"{b}\n{v}" for b, v in zip(history["batch"], verdicts, strict=True)],
                      fontsize=7, rotation=rotation, ha="center" if rotation == 0 else "right")
    bottom.set_xlim(-0.5, len(x) - 0.5)
    low_auc, high_auc = bottom.get_ylim()
    if high_auc - low_auc < _MIN_SPAN / 2:  # a 0.01 change must not fill the panel
        centre = (high_auc + low_auc) / 2
        bottom.set_ylim(centre - _MIN_SPAN / 4, centre + _MIN_SPAN / 4)
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    used = [v for v in VERDICT_STYLE if v in verdicts]
    fig.legend(handles=[Patch(color=VERDICT_STYLE[v][0], alpha=0.3, label=VERDICT_STYLE[v][1])
                        for v in used],
               loc="outside lower center", ncols=2, fontsize=7, frameon=False,
               title="batch shaded by verdict", title_fontsize=7)
    fig.suptitle("Monitoring history")
    return _save(fig, out)


def _read_history(history_csv: Path) -> dict[str, list[Any]]:
    """The columns the history figure draws, read without pandas (the child stays light).

    Numbers as floats (an empty cell is NaN, a gap in the line), batch and verdict as text.
    """
    numeric = ("max_psi", "prediction_psi", "expected_auc", "real_auc", "real_auc_low",
               "real_auc_high")
    columns: dict[str, list[Any]] = {name: [] for name in (*numeric, "batch", "verdict")}
    with history_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for name in numeric:
                columns[name].append(float(row.get(name) or "nan"))
            columns["batch"].append(row["batch"])
            columns["verdict"].append(row["verdict"])
    return columns


class HistoryFigure:
    """The monitoring history figure, drawn by a child process that imports matplotlib now.

    Start it before the slow work, call :meth:`draw` once the history holds the batch, and
    :meth:`close` in any case (a child not asked to draw ends without drawing).
    """

    def __init__(self) -> None:
        """Start the child with this interpreter, on the package wherever it was found."""
        source = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
        self._child: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": path},
        )

    def draw(self, history_csv: Path, out: Path,
             thresholds: dict[str, Any] | None = None) -> Path:
        """Draw the figure of ``history_csv`` into ``out`` and wait for it (as plot_history).

        Raises:
            RuntimeError: the child failed; its error output is in the message.
        """
        child, self._child = self._child, None
        if child is None:
            raise RuntimeError("HistoryFigure draws once")
        _, errors = child.communicate(json.dumps([str(history_csv), str(out), thresholds]) + "\n")
        if child.returncode != 0:
            raise RuntimeError(f"drawing {out} failed:\n{errors.strip()}")
        return out

    def close(self) -> None:
        """End a child that was not asked to draw (it reads the end of its input and exits)."""
        child, self._child = self._child, None
        if child is not None:
            child.communicate("")


def plot_curves(evaluation: dict[str, Any], out_dir: Path) -> list[Path]:
    """ROC, precision-recall, reliability and decision curves of an evaluation.

    Args:
        evaluation: the result of ``metrics.evaluate_binary`` (with ``curves``).
        out_dir: directory for the PNGs.
    """
    plt = _pyplot()
    curves = evaluation["curves"]
    paths = []

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(curves["roc"]["fpr"], curves["roc"]["tpr"], label="model")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set(xlabel="1 - specificity (FPR)", ylabel="sensitivity (TPR)", title="ROC curve")
    ax.legend(loc="lower right", fontsize=8)
    paths.append(_save(fig, out_dir / "roc.png"))

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(curves["pr"]["recall"], curves["pr"]["precision"], label="model")
    prevalence = evaluation["discrimination"].get("prevalence")
    if prevalence is not None:
        ax.axhline(prevalence, color="grey", linestyle="--", linewidth=1, label="prevalence")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    paths.append(_save(fig, out_dir / "precision_recall.png"))

    bins = [b for b in curves["reliability"]["bins"] if b["count"]]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    observed = [b["observed"] for b in bins]
    ax.errorbar(
        [b["mean_predicted"] for b in bins], observed,
        yerr=[[o - b["observed_lo"] for o, b in zip(observed, bins, strict=True)],
              [b["observed_hi"] - o for o, b in zip(observed, bins, strict=True)]],
        fmt="o", capsize=3, label="observed (Wilson interval)",
    )
    smooth = curves.get("calibration_smooth")
    if smooth:
        ax.plot(smooth["predicted"], smooth["observed"], linewidth=1, label="smoothed")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    ax.set(xlabel="mean predicted probability", ylabel="observed frequency",
           title="Reliability diagram", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8)
    paths.append(_save(fig, out_dir / "calibration.png"))

    decision = evaluation.get("decision_curve")
    if decision:
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(decision["thresholds"], decision["model"], label="model")
        ax.plot(decision["thresholds"], decision["treat_all"], linestyle="--", label="treat all")
        ax.axhline(0, color="grey", linewidth=1, label="treat none")
        top = max(max(decision["model"]), 0.01)
        ax.set(xlabel="threshold probability", ylabel="net benefit", title="Decision curve",
               ylim=(-0.05 * top, top * 1.1))
        ax.legend(fontsize=8)
        paths.append(_save(fig, out_dir / "decision_curve.png"))
    return paths


# Group panels: the metric, its name in the panel title, and where the all-rows value is.
_GROUP_METRICS = (("auc", "AUC"), ("tpr", "TPR (sensitivity)"), ("fpr", "FPR (1 - specificity)"))


def _overall(evaluation: dict[str, Any], metric: str) -> float | None:
    """The all-rows value of a group metric (the reference line of its panel)."""
    if metric == "auc":
        return evaluation.get("discrimination", {}).get("auc", {}).get("estimate")
    threshold = evaluation.get("threshold_metrics", {})
    if metric == "tpr":
        return threshold.get("sensitivity", {}).get("estimate")
    specificity = threshold.get("specificity", {}).get("estimate")
    return None if specificity is None else 1.0 - specificity


def group_axis_limits(evaluation: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """One axis range per group metric, the same for every attribute, all of equal span.

    Each range holds every group's interval and the all-rows value, is at least ``_MIN_SPAN``
    wide (all panels share the widest span, so a distance means the same on each) and stays
    within [0, 1].

    Args:
        evaluation: the result of ``metrics.evaluate_binary`` (with ``groups``).
    """
    reach: dict[str, list[float]] = {metric: [] for metric, _ in _GROUP_METRICS}
    for rows in evaluation.get("groups", {}).values():
        for row in rows:
            for metric in reach:
                entry = row.get(metric) or {}
                reach[metric] += [v for k in ("estimate", "lo", "hi")
                                  if (v := entry.get(k)) is not None and math.isfinite(v)]
    for metric in reach:
        overall = _overall(evaluation, metric)
        if overall is not None:
            reach[metric].append(overall)
    spans = [max(v) - min(v) for v in reach.values() if v]
    span = min(1.0, max([_MIN_SPAN, *spans]) * 1.1)
    limits = {}
    for metric, values in reach.items():
        centre = (max(values) + min(values)) / 2 if values else 0.5
        low = min(max(centre - span / 2, 0.0), 1.0 - span)
        limits[metric] = (low, low + span)
    return limits


def plot_groups(evaluation: dict[str, Any], out_dir: Path) -> list[Path]:
    """Per-group AUC, TPR and FPR with intervals, one figure per audited attribute.

    Every figure uses the same axis range per metric (:func:`group_axis_limits`), draws the
    all-rows value as a dashed line, names the interval's level (``1 - settings.alpha``) and
    greys the groups too small to be judged, each with its legend entry.

    Args:
        evaluation: the result of ``metrics.evaluate_binary`` (with ``groups``).
        out_dir: directory for the PNGs.
    """
    from matplotlib.lines import Line2D

    plt = _pyplot()
    level = 1.0 - float(evaluation.get("settings", {}).get("alpha", 0.05))
    min_size = evaluation.get("settings", {}).get("min_group_size")
    limits = group_axis_limits(evaluation)
    paths = []
    for attribute, rows in evaluation.get("groups", {}).items():
        fig, axes = plt.subplots(1, 3, figsize=(10, 1.6 + 0.45 * len(rows)), sharey=True,
                                 layout="constrained")
        names = [f"{r['group']}\n(n={r['n']:,})" for r in rows]
        small = [not r.get("large_enough", True) for r in rows]
        for ax, (metric, title) in zip(axes, _GROUP_METRICS, strict=True):
            for position, (row, too_small) in enumerate(zip(rows, small, strict=True)):
                entry = row.get(metric) or {}
                est = entry.get("estimate")
                if est is None:  # undefined, e.g. AUC of a group holding one class
                    continue
                # an undefined bound draws no bar on that side
                lo, hi = entry.get("lo"), entry.get("hi")
                bars = [[0.0 if lo is None else est - lo], [0.0 if hi is None else hi - est]]
                ax.errorbar([est], [position], xerr=bars, fmt="o", capsize=3,
                            color="tab:grey" if too_small else "tab:blue")
            overall = _overall(evaluation, metric)
            if overall is not None:
                ax.axvline(overall, color="black", linestyle="--", linewidth=1)
            ax.set_xlim(*limits[metric])
            ax.set_yticks(range(len(rows)), names)
            ax.set_ylim(len(rows) - 0.4, -0.6)  # the first group on top
            ax.grid(axis="x", color="0.9")
            ax.set_title(title, fontsize=9)
        handles = [
            Line2D([], [], color="tab:blue", marker="o", label=f"group, {level:.0%} interval"),
            Line2D([], [], color="black", linestyle="--", label="all rows"),
        ]
        if any(small):
            handles.append(Line2D([], [], color="tab:grey", marker="o",
                                  label=f"fewer than {min_size} rows: not judged"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8,
                   frameon=False)
        fig.suptitle(f"Performance by {attribute}, with {level:.0%} intervals")
        paths.append(_save(fig, out_dir / f"groups_{attribute}.png"))
    return paths


def plot_importance(table: Any, out: Path) -> Path:
    """Permutation importance as horizontal bars with their 95% intervals, largest on top.

    Args:
        table: ``modelling.training.importance``'s table (``feature``, ``importance`` and,
            when computed, ``lo`` and ``hi``).
        out: the PNG to write.
    """
    plt = _pyplot()
    rows = table.iloc[::-1]  # barh draws the first row at the bottom
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.3 * max(len(rows), 1)), layout="constrained")
    if len(rows):
        values = rows["importance"].to_numpy(dtype=float)
        bars = None
        if {"lo", "hi"} <= set(rows.columns):
            bars = [values - rows["lo"].to_numpy(dtype=float),
                    rows["hi"].to_numpy(dtype=float) - values]
        ax.barh(rows["feature"].astype(str), values, xerr=bars, capsize=2, color="tab:blue",
                ecolor="black", label="drop in AUC when the feature is shuffled")
        if bars is not None:
            ax.plot([], [], color="black", label="95% interval (DeLong, validation rows)")
        ax.axvline(0, color="grey", linewidth=1)
        ax.legend(fontsize=7, loc="lower right")
    else:
        ax.text(0.5, 0.5, "importance not computed (train.permutation_importance.n_repeats 0)",
                ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("drop in validation AUC (0 = the model does not use it)")
    ax.set_title("Permutation importance")
    return _save(fig, out)
