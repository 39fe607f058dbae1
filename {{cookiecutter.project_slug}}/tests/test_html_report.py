"""The HTML report (``reports/index.html``): every step's section from its outputs, in words
when they are missing, self-contained (figures embedded, nothing from the network)."""

from __future__ import annotations

import base64
import csv
import json
import re
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

from {{ cookiecutter.package_name }}.reporting.html_report import SECTIONS, gather, render_html

MODEL = {"name": "hist_gradient_boosting", "params": {"learning_rate": 0.05, "max_iter": 300}}
HEADINGS = ["Index", "1. Project card", "2. Data profile", "3. Label audit", "4. Model",
            "5. Error analysis", "6. Deploy decision", "7. Monitoring"]


def png(width: int = 3, height: int = 2) -> bytes:
    """A real (grey) PNG file, built byte by byte."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def write(root: Path, rel: str, payload: object) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    elif isinstance(payload, list):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(payload[0]))
            writer.writeheader()
            writer.writerows(payload)
    else:
        path.write_text(json.dumps(payload))


def interval(estimate: float, half: float = 0.02) -> dict[str, float]:
    return {"estimate": estimate, "lo": estimate - half, "hi": estimate + half}


def minimal_outputs(root: Path, *, importance_intervals: bool = True) -> None:
    """The smallest outputs each stage writes, with the keys the report reads."""
    write(root, "reports/define/charter.json", {
        "name": "Hostile", "owner": "Team", "problem": "Readmissions <within> 30 days",
        "intended_users": "nurses", "decision": "a call", "target_description": "readmitted",
        "unit_of_prediction": "a discharge", "success_criteria": {"auc": {"min": 0.7}},
        "sensitive_attributes": ["sex"], "subgroup_gap_tolerance": 0.1,
        "constraints": {"max_latency_ms": 200}})
    write(root, "reports/data/profile.json", {
        "dataset": "synthetic_clinical", "n_rows": 100, "n_columns": 3,
        "target": {"column": "y", "positive_label": "1", "n": 100, "positives": 20,
                   "prevalence": 0.2},
        "columns": {
            "y": {"dtype": "int64", "kind": "numeric", "missing_share": 0.0, "n_unique": 2},
            "age": {"dtype": "float64", "kind": "numeric", "missing_share": 0.125,
                    "n_unique": 50, "mean": 61.5, "std": 15.2, "min": 18.0, "max": 95.0,
                    "q05": 36.0, "median": 62.0, "q95": 89.0},
            "sex": {"dtype": "category", "kind": "categorical", "missing_share": 0.0,
                    "n_unique": 2, "top": [{"value": "F", "share": 0.52},
                                           {"value": "M", "share": 0.48}], "other_share": 0.0}},
        "target_association": {"age": {"kind": "point_biserial", "value": 0.183},
                               "sex": {"kind": "cramers_v", "value": 0.019,
                                       "prevalence_spread": 0.016}},
        "prevalence_by_group": {"sex": {"F": {"n": 52, "positives": 10, "prevalence": 0.19}}},
        "notes": []})
    write(root, "reports/data/missingness.png", png())
    write(root, "reports/labels/summary.json", {
        "n_rows": 100, "n_suspected": 3, "suspected_fraction": 0.03,
        "suspected_by_given_label": {"0": 1, "1": 2}, "n_conflicting_rows": 0,
        "n_conflict_groups": 0, "extra": {"first": 2, "expected_true_share": 0.6},
        "review_first": {"k": 2, "expected_true_error_share": 0.6, "expected_true_errors": 1.2,
                         "expected_share_all_suspects": 0.45, "assumption": "random flips"}})
    write(root, "reports/labels/suspects.csv", [
        {"id": i, "given_label": 1, "suggested_label": 0, "label_quality": q}
        for i, q in ((7, 0.30), (8, 0.0475056), (9, 0.12))])
    write(root, "reports/train/importance.png", png(5, 3))
    write(root, "models/train/model_info.json", {
        "run_id": "abc", "model_uri": "models:/m-1", "model_name": "hist_gradient_boosting",
        "n_train_rows": 60, "adapted": []})
    write(root, "reports/metrics/train.json", {"train_auc": 0.71, "valid_auc": 0.69,
                                               "train_brier": 0.15, "valid_brier": 0.16})
    extra = {"lo": 0.050, "hi": 0.075} if importance_intervals else {}
    write(root, "reports/train/importance.csv", [
        {"feature": "age", "importance": 0.0644, "std": 0.006, **extra},
        {"feature": "sex", "importance": -0.0005, "std": 0.001,
         **({"lo": -0.002, "hi": 0.001} if importance_intervals else {})}])
    write(root, "reports/evaluate/evaluation.json", {
        "n": 40, "n_positive": 8, "prevalence": interval(0.2),
        "discrimination": {"auc": interval(0.668), "ap": interval(0.41)},
        "calibration": {"brier": interval(0.17), "slope": interval(1.09, 0.13)},
        "threshold_metrics": {"sensitivity": interval(0.56)},
        "settings": {"alpha": 0.05}, "threshold": {"value": 0.236, "method": "youden",
                                                   "chosen_on": "valid"},
        "criteria": [{"rule": "auc >= 0.7", "met": False, **interval(0.668)}],
        "next_actions": ["Review `age`."]})
    write(root, "reports/evaluate/figures/roc.png", png(4, 4))
    write(root, "reports/deploy/decision.json", {
        "passed": False, "promoted": False, "model_name": "readmission", "version": 2,
        "champion_version": 1, "judge_on": "point", "threshold": 0.236,
        "reasons": ["FAIL charter `auc >= 0.7`: 0.668", "PASS no other champion"]})
    write(root, "reports/monitor/latest/monitoring.json", {
        "batch": "seed1", "n": 50, "labelled": True, "next_step": "Keep watching.",
        "verdict": {"verdict": "watch", "reasons": ["prediction drift"]},
        "drift": {"features": {"age": {"status": "drift", "psi": 0.35, "ks_statistic": 0.2,
                                       "pvalue_adjusted": 1e-9}}}})
    write(root, "reports/monitor/latest/history.png", png())
    write(root, "reports/monitor/history.csv", [
        {"timestamp": f"2026-01-0{i}", "batch": f"seed{i}", "n": 50, "verdict": v,
         "max_psi": 0.35, "max_psi_feature": "age", "expected_auc": 0.67,
         "real_auc": 0.70 if i == 2 else "", "real_auc_low": 0.68 if i == 2 else "",
         "real_auc_high": 0.72 if i == 2 else ""} for i, v in ((1, "ok"), (2, "watch"))])


class Page(HTMLParser):
    """What a reader sees of the page: headings, anchors, images, any external reference."""

    def __init__(self, html: str):
        super().__init__()
        self.headings: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.scripts = 0
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        elif tag == "img":
            self.images.append(str(values.get("src")))
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def render(root: Path) -> tuple[str, Page]:
    html = render_html(gather(root, MODEL), "Hostile", "2026-01-01 00:00")
    return html, Page(html)


def text(html: str) -> str:
    """The page's words, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_step_has_its_section_linked_from_the_index(tmp_path):
    # given the outputs of every stage
    minimal_outputs(tmp_path)
    # when the page is rendered
    html, page = render(tmp_path)
    # then each step has a heading and an anchor, and the index links each one
    assert [h for h in page.headings if h in HEADINGS] == HEADINGS
    assert set(SECTIONS) <= page.ids
    assert {f"#{name}" for name in SECTIONS} <= set(page.links)
    assert "is missing" not in html


def test_figures_are_embedded_and_nothing_comes_from_the_network(tmp_path):
    # given outputs with four PNG figures
    minimal_outputs(tmp_path)
    html, page = render(tmp_path)
    # then each figure is a data: URI holding the file's own bytes
    embedded = [base64.b64decode(src.split(",", 1)[1]) for src in page.images]
    files = sorted(tmp_path.rglob("*.png"))
    assert len(files) == 4 and sorted(embedded) == sorted(p.read_bytes() for p in files)
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    # and the page loads nothing, runs nothing, and escapes what the charter says
    assert not re.search(r"https?://", html) and page.scripts == 0
    assert "Readmissions &lt;within&gt; 30 days" in html


def test_the_data_profile_reads_as_a_table_per_column(tmp_path):
    # given a profile of a numeric and a categorical feature
    minimal_outputs(tmp_path)
    words = text(render(tmp_path)[0])
    # then each row gives the missing share, the distribution and the association in words
    assert "age feature numeric (float64) 12.5% 50 mean 61.5 (sd 15.2)" in words
    assert "5% / 50% / 95%: 36 / 62 / 89; range 18 to 95 r = 0.18 (point-biserial)" in words
    assert "F 52%, M 48%" in words and "V = 0.02 (Cramér's V" in words
    assert "prevalence 20.0% (positive label 1 )" in words


def test_suspects_are_ranked_and_importance_shows_its_interval(tmp_path):
    # given three suspects in file order and importance with interval bounds
    minimal_outputs(tmp_path)
    html, _ = render(tmp_path)
    words = text(html)
    # then the lowest label quality comes first
    assert "\u25cf 8 1 0 0.0475 \u25cf 9 1 0 0.12 7 1 0 0.3" in words
    # and the audit's advice says how many to review first, and marks them
    assert "Review the first 2 of the 3 suspects (by rank in suspects.csv ): about 60%" in words
    assert "Assumption: random flips." in words and words.count("\u25cf") == 3  # key, 2 rows
    # and what else the audit summarises is listed as it is
    assert "extra.first 2 extra.expected_true_share 0.6" in words
    # and importance has its bounds in the table, and train's figure is shown
    assert "age 0.0644 [0.0500, 0.0750]" in words and "interval not computed" not in words
    assert "In brackets: its 95% interval." in words and 'alt="importance"' in html


def test_importance_without_bounds_says_so(tmp_path):
    # given importance.csv from a train stage that writes no interval columns
    minimal_outputs(tmp_path, importance_intervals=False)
    words = text(render(tmp_path)[0])
    # then the table says the interval is not computed, for each feature
    assert words.count("interval not computed") == 2
    assert "Interval not computed" in words and "In brackets: its 95% interval." not in words


def test_without_any_output_every_section_says_what_is_missing(tmp_path):
    # given a project where no stage has run
    html, page = render(tmp_path)
    words = text(html)
    # then the page still has every section, each naming its missing file and stage
    assert [h for h in page.headings if h in HEADINGS] == HEADINGS
    for rel, stage in [("reports/define/charter.json", "define"),
                       ("reports/data/profile.json", "validate"),
                       ("reports/labels/summary.json", "labels"),
                       ("models/train/model_info.json", "train"),
                       ("reports/evaluate/evaluation.json", "evaluate"),
                       ("reports/deploy/decision.json", "deploy"),
                       ("reports/monitor/latest/monitoring.json", "monitor")]:
        assert f"{rel} is missing: the {stage} stage has not run yet" in words
    assert not page.images


def test_a_partial_run_shows_what_exists(tmp_path):
    # given outputs up to the label audit, and a monitor history without its latest batch
    minimal_outputs(tmp_path)
    for rel in ("models", "reports/train", "reports/evaluate", "reports/deploy",
                "reports/monitor/latest", "reports/labels/suspects.csv"):
        path = tmp_path / rel
        for file in sorted(path.rglob("*"), reverse=True) if path.is_dir() else [path]:
            file.unlink() if file.is_file() else file.rmdir()
        if path.is_dir():
            path.rmdir()
    words = text(render(tmp_path)[0])
    # then earlier steps render, later ones say they are missing, the history still shows
    assert "3 of 100 rows (3.0%) have a suspected label error" in words
    assert "reports/labels/suspects.csv is missing: re-run dvc repro labels" in words
    assert "models/train/model_info.json is missing" in words
    assert "reports/monitor/latest/monitoring.json is missing: re-run dvc repro monitor" in words
    assert "History (2 batches, newest first)" in words
    assert "seed2 50 watch 0.350 (age) 0.670 0.700 [0.680, 0.720]" in words
    assert "no labels yet" in words


def test_an_unreadable_output_is_named_with_what_to_do(tmp_path):
    # given a decision file cut short
    minimal_outputs(tmp_path)
    (tmp_path / "reports/deploy/decision.json").write_text('{"passed": tr')
    words = text(render(tmp_path)[0])
    # then the deploy section names the file and says how to rewrite it; the others render
    assert "reports/deploy/decision.json is not valid JSON" in words
    assert "Re-run the step ( dvc repro -f deploy ) to rewrite it." in words
    assert "Latest batch seed1" in words


def test_the_stage_stays_light():
    # given a fresh interpreter, when it imports the report stage and renders a page
    code = ("import sys, pathlib, tempfile\n"
            "from {{ cookiecutter.package_name }}.stages import report\n"
            "from {{ cookiecutter.package_name }}.reporting.html_report import gather, render_html\n"
            "render_html(gather(pathlib.Path(tempfile.mkdtemp()), {}), 't', 'now')\n"
            "print(sorted(m for m in ('mlflow', 'sklearn', 'matplotlib', 'pandas', 'numpy')"
            " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    # then none of the heavy libraries was imported
    assert done.stdout.strip() == "[]", done.stdout
