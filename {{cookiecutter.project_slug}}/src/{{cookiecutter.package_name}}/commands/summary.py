"""One screen on where the project stands, from the files the last ``dvc repro`` wrote.

    {{ cookiecutter.package_name }} summary              # 100 columns, or the terminal's width if narrower
    {{ cookiecutter.package_name }} summary --width 80

The test metrics with their 95% intervals (``reports/metrics/evaluate.json``), the gate's
decision and its first reasons (``reports/deploy/decision.json``), the monitoring verdict
(``reports/monitor/latest/monitoring.json`` and the history's last row), what changed since the
last commit (``params.yaml``, the headline metrics, ``conf/``) and the next command to run. A
step that has not run is said in words. It reads small files and asks git, nothing more: no
MLflow, no scikit-learn, no DVC, so it answers at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from ..core.config import PARAMS_FILE, flatten, project_root
from ..core.paths import (
    DECISION,
    HEADLINE_METRICS,
    MONITOR_HISTORY,
    MONITORING,
    PACKAGE,
    metrics_path,
)

MAX_WIDTH = 100
MIN_WIDTH = 40
CONF = "conf"
# (key in reports/metrics/evaluate.json, label), in reading order
METRICS = (
    ("auc", "AUC"), ("ap", "average precision"),
    ("brier", "Brier score"), ("brier_skill", "Brier skill"),
    ("cal_slope", "calibration slope"), ("cal_intercept", "calib. intercept"),
    ("ece", "ECE"), ("sensitivity", "sensitivity"),
    ("specificity", "specificity"), ("ppv", "PPV"),
)
GATE_REASONS = 3       # the gate's reasons shown, failures first
MONITOR_REASONS = 2
PARAM_CHANGES = 6      # changed parameters listed before "and N more"
REPRO = "dvc repro"


class Screen:
    """Lines no wider than ``width``: long text wraps, and stops after ``max_lines``.

    Args:
        width: the widest line allowed.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []

    def say(self, text: str, indent: int = 0, max_lines: int = 2) -> None:
        """Add ``text``, wrapped under ``indent`` spaces, at most ``max_lines`` lines."""
        pad = " " * indent
        self.lines += textwrap.wrap(text, self.width, initial_indent=pad,
                                    subsequent_indent=pad + "  ", max_lines=max_lines,
                                    placeholder=" ...", break_on_hyphens=False) or [""]

    def item(self, text: str, max_lines: int = 2) -> None:
        """Add one bullet (``- text``), its continuation lines aligned under the text."""
        self.lines += textwrap.wrap(text, self.width, initial_indent="  - ",
                                    subsequent_indent="    ", max_lines=max_lines,
                                    placeholder=" ...", break_on_hyphens=False)

    def table(self, cells: list[str]) -> None:
        """Lay ``cells`` out in as many columns as fit (one per line on a narrow screen)."""
        if not cells:
            return
        cell = max(len(c) for c in cells)
        columns = max(1, (self.width - 2) // (cell + 3))
        for start in range(0, len(cells), columns):
            row = "   ".join(c.ljust(cell) for c in cells[start:start + columns])
            self.lines.append(("  " + row).rstrip()[:self.width])

    def blank(self) -> None:
        """A blank line between sections."""
        self.lines.append("")

    def text(self) -> str:
        """The screen, one string."""
        return "\n".join(self.lines).rstrip() + "\n"


def load(root: Path, relative: str) -> tuple[Any, str | None]:
    """Read a JSON output: ``(data, None)``, or ``(None, what is wrong, in words)``."""
    path = root / relative
    if not path.exists():
        return None, "missing"
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except (OSError, ValueError) as error:
        return None, (f"{relative} cannot be read ({error}): run `{REPRO}` to write it again")


def absent(stage: str, problem: str) -> str:
    """The sentence for a stage whose output is missing or unreadable."""
    return f"{stage} has not run yet: {REPRO}" if problem == "missing" else problem


def number(value: Any, digits: int = 3) -> str:
    """A metric for people: fixed decimals, ``n/a`` when undefined."""
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "n/a"


def model_section(screen: Screen, root: Path) -> dict[str, Any] | None:
    """The headline test metrics with their intervals; returns them (None when missing)."""
    metrics, problem = load(root, metrics_path("evaluate"))
    if metrics is None:
        screen.say("Model: " + absent("evaluate", problem or "missing"))
        return None
    header = "Model on the test split"
    if "n" in metrics:
        header += f", {int(metrics['n']):,} rows"
    if "prevalence" in metrics:
        header += f", prevalence {number(metrics['prevalence'])}"
    if "threshold" in metrics:
        header += f", threshold {number(metrics['threshold'])}"
    screen.say(header + " (95% intervals)")
    cells = [f"{label:<17} {number(metrics[key])} "
             f"[{number(metrics.get(key + '_lo'))}, {number(metrics.get(key + '_hi'))}]"
             for key, label in METRICS if key in metrics]
    screen.table(cells)
    if "criteria_total" in metrics:
        screen.say(f"charter criteria met: {int(metrics.get('criteria_met', 0))} of "
                   f"{int(metrics['criteria_total'])}", indent=2)
    return metrics


def gate_section(screen: Screen, root: Path) -> dict[str, Any] | None:
    """The deploy gate's decision and its first reasons, failures first."""
    decision, problem = load(root, DECISION)
    if decision is None:
        screen.say("Gate: " + absent("deploy", problem or "missing"))
        return None
    passed = bool(decision.get("passed"))
    version = decision.get("version")
    if not passed:
        outcome = "FAILED: no version registered as champion"
    elif decision.get("promoted"):
        outcome = f"PASSED: version {version} is the champion"
    else:
        outcome = (f"PASSED: version {version} registered as a challenger"
                   + (f" (experiment {decision['experiment']})" if decision.get("experiment")
                      else ""))
    screen.say(f"Gate: {outcome}")
    reasons = [str(r) for r in decision.get("reasons", [])]
    # what decided first: failures, then warnings, then the passes
    order = {"FAIL": 0, "WARN": 1}
    ranked = sorted(reasons, key=lambda r: order.get(r.split(" ", 1)[0], 2))
    for reason in ranked[:GATE_REASONS]:
        screen.item(reason)
    if len(reasons) > GATE_REASONS:
        screen.say(f"{len(reasons) - GATE_REASONS} more in reports/deploy/decision.md", indent=4)
    return decision


def last_history_row(root: Path) -> dict[str, str] | None:
    """The monitoring history's last row, or None when there is no history yet."""
    path = root / MONITOR_HISTORY
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows[-1] if rows else None


def monitor_section(screen: Screen, root: Path) -> dict[str, Any] | None:
    """The monitoring verdict, its first reasons and the history's last row."""
    report, problem = load(root, MONITORING)
    if report is None:
        screen.say("Monitoring: " + absent("monitor", problem or "missing"))
        return None
    verdict = report.get("verdict", {})
    name = str(verdict.get("verdict", "?")).upper()
    n = report.get("n")
    batch = report.get("batch", "?")
    rows = f", {n:,} rows" if isinstance(n, int) else ""
    labelled = "labelled" if report.get("labelled") else "unlabelled"
    screen.say(f"Monitoring: {name} (batch {batch}{rows}, {labelled})")
    for reason in verdict.get("reasons", [])[:MONITOR_REASONS]:
        screen.item(str(reason))
    if report.get("next_step"):
        screen.item(f"next: {report['next_step']}")
    row = last_history_row(root)
    if row is not None:
        parts = [row.get("timestamp", "?")[:16].replace("T", " "), row.get("verdict", "?")]
        if row.get("max_psi"):
            parts.append(f"max PSI {number(float(row['max_psi']))} ({row.get('max_psi_feature')})")
        if row.get("real_auc"):
            parts.append(f"real AUC {number(float(row['real_auc']))}")
        screen.item("history, last row: " + ", ".join(parts), max_lines=1)
    return report


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in the project; a missing git reads as a failed command."""
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=False)
    except OSError as error:
        return subprocess.CompletedProcess(["git", *args], 127, "", str(error))


def committed_json(root: Path, relative: str, parse: Any = json.loads) -> Any:
    """A file as the last commit holds it, parsed; None when the commit lacks it."""
    shown = git(root, "show", f"HEAD:{relative}")
    if shown.returncode != 0:
        return None
    try:
        return parse(shown.stdout)
    except ValueError:
        return None


def short(value: Any, size: int = 24) -> str:
    """A parameter's value, shortened to ``size`` characters."""
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= size else text[:size - 3] + "..."


def param_changes(root: Path) -> list[str] | None:
    """``key: old -> new`` for every composed parameter that differs from the last commit.

    Returns None when params.yaml is not in the last commit (or not composed yet).
    """
    import yaml

    path = root / PARAMS_FILE
    before = committed_json(root, PARAMS_FILE, yaml.safe_load)
    if not path.exists() or not isinstance(before, dict):
        return None
    try:
        now = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return None
    old, new = flatten(before), flatten(now if isinstance(now, dict) else {})
    missing = "(none)"
    return [f"{key}: {short(old.get(key, missing))} -> {short(new.get(key, missing))}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def metric_changes(root: Path) -> list[str] | None:
    """``key old -> new (difference)`` for each headline metric that moved since the commit."""
    now, _ = load(root, HEADLINE_METRICS)
    before = committed_json(root, HEADLINE_METRICS)
    if not isinstance(now, dict) or not isinstance(before, dict):
        return None
    moved = []
    for key, value in now.items():
        old = before.get(key)
        if isinstance(value, (int, float)) and isinstance(old, (int, float)) and value != old:
            moved.append(f"{key} {old:.4f} -> {value:.4f} ({value - old:+.4f})")
    return moved


def changes_section(screen: Screen, root: Path) -> bool:
    """What changed since the last commit; returns whether anything did."""
    head = git(root, "log", "-1", "--format=%h %s")
    if head.returncode != 0:
        screen.say("Since the last commit: no commit yet (git add -A && git commit)")
        return True
    screen.say(f"Since the last commit ({short(head.stdout.strip(), 60)}):")
    changed = False
    params = param_changes(root)
    if params is None:
        changed = True
        screen.item(f"{PARAMS_FILE}: not in the last commit")
    elif params:
        changed = True
        listed = "; ".join(params[:PARAM_CHANGES])
        more = len(params) - PARAM_CHANGES
        screen.item(f"{PARAMS_FILE}: {listed}"
                    + (f"; and {more} more (git diff {PARAMS_FILE})" if more > 0 else ""),
                    max_lines=3)
    metrics = metric_changes(root)
    if metrics is None:
        changed = True
        screen.item(f"headline metrics: {HEADLINE_METRICS} is not in the last commit "
                    "or not written yet")
    elif metrics:
        changed = True
        screen.item("headline metrics: " + "; ".join(metrics), max_lines=3)
    status = git(root, "status", "--porcelain", "--", CONF)
    conf_lines = status.stdout.splitlines() if status.returncode == 0 else []
    if conf_lines:
        changed = True
        screen.item(f"{CONF}/: " + "; ".join(line.strip() for line in conf_lines), max_lines=3)
    if not changed:
        screen.item("nothing changed (parameters, headline metrics and conf/ as committed)")
    return changed


def edited_since_run(root: Path) -> bool:
    """Whether conf/ or params.yaml changed after the last run recorded its outputs.

    The last run is dvc.lock's time (DVC writes it after each stage), or params.yaml's
    before any run: a file in conf/ newer than it has not taken effect yet.
    """
    lock, params = root / "dvc.lock", root / PARAMS_FILE
    if not params.exists():
        return True
    ran = lock if lock.exists() else params
    # a second's slack: a checkout writes them all at about the same time
    since = ran.stat().st_mtime + 1.0
    edited = [params] if ran is lock else []
    edited += [p for p in (root / CONF).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > since for p in edited)


def next_command(root: Path, found: dict[str, Any], changed: bool) -> str:
    """The one command to run next, and why."""
    if any(found.get(step) is None for step in ("model", "gate", "monitor")):
        return f"{REPRO}   (steps above have not run)"
    if edited_since_run(root):
        return f"{REPRO}   (conf/ or params.yaml changed after the last run)"
    decision, report = found["gate"], found["monitor"]
    if not decision.get("passed"):
        return "less reports/deploy/decision.md   (why the gate refused; then edit conf/)"
    verdict = report.get("verdict", {}).get("verdict")
    if verdict in ("retrain", "investigate-data"):
        return "less reports/monitor/latest/report.md   (the monitor asks for action)"
    if decision.get("experiment") and not decision.get("promoted"):
        return f"{PACKAGE} promote --experiment {decision['experiment']}"
    if changed:
        return "git add -A && git commit -m \"...\"   (record this run)"
    return f"{PACKAGE} serve   (the champion over HTTP)"


def render(root: Path, width: int) -> str:
    """The whole screen for the project at ``root``, lines at most ``width`` wide."""
    screen = Screen(width)
    found: dict[str, Any] = {}
    found["model"] = model_section(screen, root)
    screen.blank()
    found["gate"] = gate_section(screen, root)
    screen.blank()
    found["monitor"] = monitor_section(screen, root)
    screen.blank()
    changed = changes_section(screen, root)
    screen.blank()
    screen.say("Next: " + next_command(root, found, changed))
    return screen.text()


def main(argv: list[str] | None = None) -> None:
    """Print the summary of the project in the current directory."""
    parser = argparse.ArgumentParser(
        prog=f"{PACKAGE} summary",
        description="One screen: test metrics with intervals, the gate's decision, the "
                    "monitoring verdict, what changed since the last commit, what to run next.")
    parser.add_argument("--width", type=int, default=None, metavar="N",
                        help=f"widest line (default: the terminal's, at most {MAX_WIDTH})")
    args = parser.parse_args(argv)
    if args.width is not None and args.width < MIN_WIDTH:
        parser.error(f"--width must be at least {MIN_WIDTH} (got {args.width})")
    terminal = shutil.get_terminal_size((MAX_WIDTH, 24)).columns
    width = args.width or max(MIN_WIDTH, min(MAX_WIDTH, terminal))
    print(render(project_root(), width), end="")
