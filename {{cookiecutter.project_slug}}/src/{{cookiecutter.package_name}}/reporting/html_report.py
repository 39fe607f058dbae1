"""The one page to open: ``reports/index.html``, built from every step's outputs.

Python here gathers the facts (JSON, CSV, figures) and nothing else; the wording lives in the
Jinja2 templates of ``reporting/templates/``, so a team can edit what the page says without
touching a statistic. The page is self-contained: figures are embedded as ``data:`` URIs, the
CSS is inline, nothing loads from the network and no JavaScript is needed to read it.

A step whose outputs are missing (its stage has not run, or failed) gets a section that says
so in words; a file that cannot be parsed is named with what to do.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.paths import (
    CHARTER,
    DECISION,
    EVALUATION,
    IMPORTANCE,
    LABEL_SUSPECTS,
    MODEL_INFO,
    MONITOR_DIR,
    MONITOR_HISTORY,
    MONITORING,
    metrics_path,
)
from ..decisions.charter import parse_criteria
from ..decisions.wording import ci, num
from .label_report import TOP_SUSPECTS, review_sentence

REPORT_HTML = "reports/index.html"
PROFILE = "reports/data/profile.json"
DATA_FIGURES = "reports/data"
LABEL_SUMMARY = "reports/labels/summary.json"
TRAIN_FIGURES = "reports/train"   # importance.png, drawn by train
EVALUATION_FIGURES = "reports/evaluate/figures"
TEMPLATES = Path(__file__).resolve().parent / "templates"

HISTORY_ROWS = 20     # latest monitored batches shown
# label-audit summary keys the template words; any other is listed as it is
LABEL_FACTS_SHOWN = {"n_rows", "class_counts", "n_suspected", "suspected_fraction",
                     "suspected_by_given_label", "n_conflicting_rows", "n_conflict_groups",
                     "corrections", "detection", "audited", "review_first"}

# (section id, stage that writes its inputs), in the order of the lifecycle
SECTIONS = ("card", "data", "labels", "model", "evaluation", "deploy", "monitor")
STAGES = {"card": "define", "data": "validate", "labels": "labels", "model": "train",
          "evaluation": "evaluate", "deploy": "deploy", "monitor": "monitor"}
# the error analysis' headline, in reading order: (label, where in evaluation.json)
HEADLINE = (
    ("AUC", ("discrimination", "auc")),
    ("Average precision", ("discrimination", "ap")),
    ("Brier score", ("calibration", "brier")),
    ("Brier skill", ("calibration", "brier_skill")),
    ("Calibration intercept", ("calibration", "intercept")),
    ("Calibration slope", ("calibration", "slope")),
    ("ECE", ("calibration", "ece")),
    ("Sensitivity", ("threshold_metrics", "sensitivity")),
    ("Specificity", ("threshold_metrics", "specificity")),
    ("PPV", ("threshold_metrics", "ppv")),
    ("NPV", ("threshold_metrics", "npv")),
    ("Net benefit", ("threshold_metrics", "net_benefit")),
)


class Unreadable(Exception):
    """An input file exists but cannot be parsed (the message names it)."""


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI, so the page carries its figures."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figures(folder: Path) -> list[dict[str, str]]:
    """Every PNG of a folder, by name, embedded."""
    return [{"name": p.stem.replace("_", " "), "file": p.name, "src": data_uri(p)}
            for p in sorted(folder.glob("*.png"))]


def _json(root: Path, rel: str) -> Any:
    """A JSON output, or None when it is missing."""
    path = root / rel
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise Unreadable(f"{rel} is not valid JSON ({error})") from error


def _csv(root: Path, rel: str) -> list[dict[str, str]] | None:
    """A CSV output as rows of strings, or None when it is missing."""
    path = root / rel
    if not path.is_file():
        return None
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except (csv.Error, UnicodeDecodeError) as error:
        raise Unreadable(f"{rel} is not a readable CSV file ({error})") from error


def _float(value: str | None) -> float | None:
    """A CSV cell as a number; empty, non-numeric and non-finite cells are None."""
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _sort_key(value: str | None) -> float:
    """A CSV cell as a number to sort by, empty cells last."""
    number = _float(value)
    return math.inf if number is None else number


def _dig(entry: Any, keys: tuple[str, ...]) -> Any:
    """``entry[k1][k2]...``, or None where a level is absent."""
    for key in keys:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return entry


def card_section(root: Path) -> dict[str, Any]:
    """The project card, from the validated charter."""
    charter = _json(root, CHARTER)
    if charter is None:
        return {"missing": CHARTER}
    criteria = [c.describe() for c in parse_criteria(charter.get("success_criteria") or {})]
    return {"charter": charter, "criteria": criteria}


def data_section(root: Path) -> dict[str, Any]:
    """One row per column of the profile, with its association with the target."""
    profile = _json(root, PROFILE)
    if profile is None:
        return {"missing": PROFILE}
    target = (profile.get("target") or {}).get("column")
    association = profile.get("target_association") or {}
    roles = {target: "target", (profile.get("time") or {}).get("column"): "time",
             (profile.get("groups") or {}).get("column"): "group"}
    columns = []
    for name, entry in (profile.get("columns") or {}).items():
        role = roles.get(name) or ("id" if entry.get("kind") == "id" else "feature")
        columns.append({"name": name, "role": role, **entry,
                        "association": association.get(name)})
    return {"profile": profile, "columns": columns,
            "figures": _figures(root / DATA_FIGURES)}


def labels_section(root: Path) -> dict[str, Any]:
    """The label audit's counts and its top-ranked suspects."""
    summary = _json(root, LABEL_SUMMARY)
    if summary is None:
        return {"missing": LABEL_SUMMARY}
    suspects = _csv(root, LABEL_SUSPECTS)
    # the audit's own rank when it writes one, else lowest label quality first: the rows most
    # likely mislabelled
    order = next((c for c in ("rank", "label_quality") if suspects and c in suspects[0]), None)
    if suspects and order:
        suspects.sort(key=lambda row: _sort_key(row[order]))
    # what else the audit writes in its summary, listed as it is (one level flattened)
    others: list[tuple[str, Any]] = []
    for key, value in summary.items():
        if key in LABEL_FACTS_SHOWN:
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        others += [(key if sub is None else f"{key}.{sub}", item) for sub, item in items
                   if not isinstance(item, (dict, list))]
    review = summary.get("review_first")
    return {"summary": summary, "suspects_missing": LABEL_SUSPECTS if suspects is None else None,
            "advice": review_sentence(review, int(summary.get("n_suspected") or 0)),
            "review": review, "review_k": (review or {}).get("k") or 0,
            "n_suspects": len(suspects or []), "top": (suspects or [])[:TOP_SUSPECTS],
            "suspect_columns": list(suspects[0]) if suspects else [],
            "other_facts": others}


def model_section(root: Path, model: dict[str, Any]) -> dict[str, Any]:
    """The model's family and parameters, its training metrics and permutation importance.

    Args:
        root: the project root.
        model: the ``model`` settings (family and configured hyper-parameters).
    """
    info = _json(root, MODEL_INFO)
    if info is None:
        return {"missing": MODEL_INFO, "model": model}
    metrics = _json(root, metrics_path("train")) or {}
    table = _csv(root, IMPORTANCE)
    importance = []
    for row in table or []:
        importance.append({"feature": row.get("feature", ""),
                           "importance": _float(row.get("importance")),
                           "std": _float(row.get("std")),
                           "lo": _float(row.get("lo")), "hi": _float(row.get("hi"))})
    with_interval = any(r["lo"] is not None and r["hi"] is not None for r in importance)
    return {"info": info, "model": model, "metrics": metrics,
            "importance_missing": IMPORTANCE if table is None else None,
            "importance": importance, "with_interval": with_interval,
            "figures": _figures(root / TRAIN_FIGURES)}


def evaluation_section(root: Path) -> dict[str, Any]:
    """Headline metrics with intervals, the charter's criteria, next actions and figures."""
    evaluation = _json(root, EVALUATION)
    if evaluation is None:
        return {"missing": EVALUATION}
    headline = [{"label": label, "entry": entry} for label, keys in HEADLINE
                if isinstance(entry := _dig(evaluation, keys), dict)]
    alpha = (evaluation.get("settings") or {}).get("alpha", 0.05)
    return {"evaluation": evaluation, "headline": headline, "level": f"{1 - alpha:.0%}",
            "figures": _figures(root / EVALUATION_FIGURES)}


def deploy_section(root: Path) -> dict[str, Any]:
    """The gate's decision and its reasons."""
    decision = _json(root, DECISION)
    if decision is None:
        return {"missing": DECISION}
    reasons = []
    for text in decision.get("reasons") or []:
        # the gate writes each reason as "PASS ...", "FAIL ..." or "WARN ..."
        status, _, rest = text.partition(" ")
        known = status in ("PASS", "FAIL", "WARN")
        reasons.append({"status": status if known else "", "text": rest if known else text})
    return {"decision": decision, "reasons": reasons}


def monitor_section(root: Path) -> dict[str, Any]:
    """The latest batch's verdict, its drift per feature, and the history of batches."""
    latest = _json(root, MONITORING)
    history = _csv(root, MONITOR_HISTORY)
    if latest is None and history is None:
        return {"missing": MONITORING}
    features = sorted(((latest or {}).get("drift") or {}).get("features", {}).items(),
                      key=lambda kv: -(kv[1].get("psi") or 0.0))
    rows = [{**row, **{k: _float(row.get(k)) for k in (
                "n", "max_psi", "expected_auc", "real_auc", "real_auc_low", "real_auc_high")}}
            for row in (history or [])[-HISTORY_ROWS:]]
    return {"latest": latest, "latest_missing": MONITORING if latest is None else None,
            "features": features, "history": rows[::-1],
            "n_history": len(history or []),
            "history_missing": MONITOR_HISTORY if history is None else None,
            "figures": _figures(root / MONITOR_DIR) if latest is not None else []}


def _guarded(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A section's facts, or the reason it has none (an unreadable file, named)."""
    try:
        return build()
    except Unreadable as error:
        return {"unreadable": str(error)}


def gather(root: Path, model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every section's facts, keyed by section id, each with the stage that writes them.

    Args:
        root: the project root.
        model: the ``model`` settings (family and configured hyper-parameters).
    """
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "card": lambda: card_section(root), "data": lambda: data_section(root),
        "labels": lambda: labels_section(root), "model": lambda: model_section(root, model),
        "evaluation": lambda: evaluation_section(root), "deploy": lambda: deploy_section(root),
        "monitor": lambda: monitor_section(root),
    }
    return {name: {"stage": STAGES[name], **_guarded(builders[name])} for name in SECTIONS}


def _is_number(value: Any) -> bool:
    """A real number (not a flag, nor a key the output lacks)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, digits: int = 3) -> str:
    """A readable number: integers with thousands separated, else ``digits`` significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value or "-"
    if not _is_number(value):
        return "-"
    if isinstance(value, int) or (abs(value) >= 1000 and float(value).is_integer()):
        return f"{int(value):,}"
    return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def _fixed(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or "-"."""
    return num(float(value), digits) if _is_number(value) else "-"


def _percent(value: Any, digits: int = 1) -> str:
    """A share as a percentage, or "-"."""
    return f"{100 * value:.{digits}f}%" if _is_number(value) else "-"


def _cell(value: str) -> str:
    """A CSV cell for reading: decimals to 3 significant digits, anything else as it is."""
    number = _float(value)
    return value if number is None or number.is_integer() else f"{number:.3g}"


def _code(text: Any) -> Any:
    """Escaped text with its `backticked` names set as code (the reasons and advice use them)."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def environment() -> Any:
    """The Jinja2 environment of the report's templates.

    Everything is HTML-escaped; a key absent from an output renders empty rather than failing,
    since outputs of older runs may lack what a newer template shows.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(number=_number, percent=_percent, ci=ci, fixed=_fixed, code=_code,
                       cell=_cell)
    return env


def render_html(sections: dict[str, dict[str, Any]], title: str, generated: str) -> str:
    """The page, from the gathered sections.

    Args:
        sections: what :func:`gather` returns.
        title: the project's name.
        generated: when the page was rendered (shown at the top).
    """
    return environment().get_template("report.html.j2").render(
        sections=sections, order=SECTIONS, title=title, generated=generated)
