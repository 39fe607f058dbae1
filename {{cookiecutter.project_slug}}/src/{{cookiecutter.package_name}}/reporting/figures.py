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
    history_csv, out = json.loads(line)
    plot_history(Path(history_csv), Path(out))
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


def plot_history(history_csv: Path, out: Path) -> Path:
    """Drift and performance across monitored batches.

    Args:
        history_csv: the monitoring history (one row per batch).
        out: the PNG to write.
    """
    plt = _pyplot()
    history = _read_history(history_csv)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    x = range(len(history["batch"]))
    top.plot(x, history["max_psi"], marker="o", label="max feature PSI")
    top.plot(x, history["prediction_psi"], marker="s", label="prediction PSI")
    top.axhline(0.25, color="grey", linestyle="--", linewidth=1, label="PSI drift (0.25)")
    top.set_ylabel("PSI")
    top.legend(fontsize=8)
    bottom.plot(x, history["expected_auc"], marker="o", label="AUC, label-free estimate")
    if not all(math.isnan(v) for v in history["real_auc"]):
        bottom.plot(x, history["real_auc"], marker="s", label="AUC with labels")
    bottom.set_ylabel("AUC")
    bottom.set_xticks(list(x), [f"{b}\n{v}" for b, v in zip(history["batch"], history["verdict"],
                                                            strict=True)], fontsize=7)
    bottom.legend(fontsize=8)
    fig.suptitle("Monitoring history")
    return _save(fig, out)


def _read_history(history_csv: Path) -> dict[str, list[Any]]:
    """The columns the history figure draws, read without pandas (the child stays light).

    Numbers as floats (an empty cell is NaN, a gap in the line), batch and verdict as text.
    """
    numeric = ("max_psi", "prediction_psi", "expected_auc", "real_auc")
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

    def draw(self, history_csv: Path, out: Path) -> Path:
        """Draw the figure of ``history_csv`` into ``out`` and wait for it (as plot_history).

        Raises:
            RuntimeError: the child failed; its error output is in the message.
        """
        child, self._child = self._child, None
        if child is None:
            raise RuntimeError("HistoryFigure draws once")
        _, errors = child.communicate(json.dumps([str(history_csv), str(out)]) + "\n")
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


def plot_groups(evaluation: dict[str, Any], out_dir: Path) -> list[Path]:
    """Per-group AUC, TPR and FPR with intervals, one figure per audited attribute.

    Args:
        evaluation: the result of ``metrics.evaluate_binary`` (with ``groups``).
        out_dir: directory for the PNGs.
    """
    plt = _pyplot()
    paths = []
    for attribute, rows in evaluation.get("groups", {}).items():
        fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
        names = [str(r["group"]) for r in rows]
        for ax, metric in zip(axes, ("auc", "tpr", "fpr"), strict=True):
            est = [r[metric]["estimate"] for r in rows]
            keep = [i for i, e in enumerate(est) if e is not None]
            # bar lengths; 0 where the interval is undefined (e.g. a group with one class)
            lo = [rows[i][metric]["lo"] for i in keep]
            hi = [rows[i][metric]["hi"] for i in keep]
            ax.errorbar(
                [est[i] for i in keep], [names[i] for i in keep],
                xerr=[[0.0 if b is None else est[i] - b for i, b in zip(keep, lo, strict=True)],
                      [0.0 if b is None else b - est[i] for i, b in zip(keep, hi, strict=True)]],
                fmt="o", capsize=3,
            )
            ax.set_title(metric.upper(), fontsize=9)
        fig.suptitle(f"Performance by {attribute} (intervals at the report's level)")
        paths.append(_save(fig, out_dir / f"groups_{attribute}.png"))
    return paths
