"""Real tables, run end to end as a user would: bake with ``example_data=own_file`` and only the
path and the target set, drop the file into ``data/external/``, ``dvc repro``.

``test_real_table`` runs each table of the corpus (``tests/corpus.py``: real public tables that
installed packages ship, what each exercises) and checks the lifecycle's outputs: every stage
ran, the test AUC is plausible and has an interval, the gate decided, the monitor gave a
verdict, and the table's traps (ids, row names, leaks) were seen; a table too small for the
lifecycle must instead be refused in ``validate`` with a message saying so.

``test_hostile_table`` bakes the variants a user's file has (odd column names that the pipeline
uses itself, yes/no and 3-valued targets, text in a numeric column, duplicate names, useless
columns, dates, ``;`` with a BOM, Latin-1) on one small real table and checks the outcome each
should have: it runs end to end, or it stops in ``ingest``/``validate`` with one clear message
that names the column, and no traceback.

The wall time of each first ``dvc repro`` is printed (``pytest -s``) and written to
``repro.json`` in the test's temporary directory; set ``CORPUS_REPORT=<file>`` to also append
one JSON line per table there (status, failing stage and message, AUC, decision, verdict,
time). Times are recorded, never asserted.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from corpus import CORPUS, Table, count_rows, pydataset_file
from helpers import STAGES, bake_and_install, run

pytestmark = pytest.mark.slow

VERDICTS = ("ok", "watch", "retrain", "investigate-data")
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d \[([\w-]+)\] ")


# ---------------------------------------------------------------------------------------------
# Running a user's file through a freshly baked project
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one first ``dvc repro`` did."""

    project: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ran(self) -> list[str]:
        """Stages DVC says it ran, in order."""
        return re.findall(r"Running stage '([\w-]+)'", self.stdout)

    @property
    def failed_stage(self) -> str | None:
        if self.returncode == 0:
            return None
        said = re.findall(r"^\[([\w-]+)\] ERROR", self.stderr, flags=re.M)
        if said:
            return said[0]
        return self.ran[-1] if self.ran else "?"

    @property
    def error(self) -> str:
        """The stage's error message (after ``[stage] ERROR:``), or the tail of stderr."""
        found = re.search(r"^\[[\w-]+\] ERROR: (.*?)(?:\n\n|\Z)", self.stderr, flags=re.M | re.S)
        if found:
            return found.group(1).strip()
        raised = re.findall(r"^(\w+(?:Error|Exception|Warning)\b.*)$", self.stderr, flags=re.M)
        if raised:  # a traceback: its last line
            return raised[-1].strip()
        return self.stderr.strip()[-3000:]

    def stage_log(self, stage: str) -> str:
        """The lines a stage logged (its ``HH:MM:SS [stage]`` lines and their continuations)."""
        lines, current = [], None
        for line in self.stderr.splitlines():
            match = LOG_LINE.match(line)
            if match:
                current = match.group(1)
            if current == stage:
                lines.append(line)
        return "\n".join(lines)

    def read_json(self, relative: str) -> dict | None:
        path = self.project / relative
        return json.loads(path.read_text()) if path.exists() else None

    def explain(self) -> str:
        return (f"`dvc repro` exited {self.returncode} (stages run: {self.ran}; failed: "
                f"{self.failed_stage})\n--- stdout ---\n{self.stdout[-6000:]}\n"
                f"--- stderr ---\n{self.stderr[-8000:]}")


def bake_with_own_file(out: Path, name: str, filename: str, target: str) -> Path:
    """Bake and install a project answering only the own file's path and target (and a name:
    one package per table, so that tests on two workers never reinstall each other's)."""
    return bake_and_install(
        out, project_name=name, example_data="own_file",
        own_file_path=f"data/external/{filename}", own_file_target=target,
    )


def first_repro(project: Path) -> Outcome:
    started = time.monotonic()
    done = run(["dvc", "repro"], project, check=False, timeout=1800)
    return Outcome(project, done.returncode, done.stdout, done.stderr,
                   time.monotonic() - started)


def summary(name: str, kind: str, rows: int, target: str, outcome: Outcome) -> dict:
    """One record of a run: what passed, where it stopped, the headline outputs."""
    evaluate = outcome.read_json("reports/metrics/evaluate.json") or {}
    decision = outcome.read_json("reports/deploy/decision.json") or {}
    monitoring = outcome.read_json("reports/monitor/latest/monitoring.json") or {}
    return {
        "name": name, "kind": kind, "rows": rows, "target": target,
        "status": "ran" if outcome.returncode == 0 else "failed",
        "failed_stage": outcome.failed_stage,
        "error": None if outcome.returncode == 0 else outcome.error[:2000],
        "traceback": "Traceback" in outcome.stderr,
        "stages_run": outcome.ran,
        "auc": evaluate.get("auc"), "auc_lo": evaluate.get("auc_lo"),
        "auc_hi": evaluate.get("auc_hi"), "test_n": evaluate.get("n"),
        "gate_passed": decision.get("passed"),
        "gate_failures": [r for r in decision.get("reasons", []) if r.startswith("FAIL")],
        "verdict": (monitoring.get("verdict") or {}).get("verdict"),
        "verdict_reasons": (monitoring.get("verdict") or {}).get("reasons"),
        "features": sorted(schema_features(outcome)),
        "validate_log": outcome.stage_log("validate")[-3000:],
        "repro_seconds": round(outcome.seconds, 1),
    }


def record(tmp_path: Path, result: dict) -> None:
    """Print the run's record and keep it (times are recorded, never asserted)."""
    print(f"\n[corpus] {result['name']}: first `dvc repro` {result['repro_seconds']} s, "
          f"{result['status']}" + (f" in {result['failed_stage']}" if result["error"] else ""))
    (tmp_path / "repro.json").write_text(json.dumps(result, indent=2))
    report = os.environ.get("CORPUS_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result) + "\n")


def assert_whole_lifecycle(outcome: Outcome) -> None:
    """Every stage ran and left its outputs: plausible metrics with an interval, a gate
    decision with reasons, a monitoring verdict."""
    assert outcome.returncode == 0, outcome.explain()
    assert "Traceback" not in outcome.stderr, outcome.explain()
    assert set(outcome.ran) == set(STAGES), outcome.explain()
    # metrics: a test AUC better than chance, inside an interval, with the other headlines
    metrics = outcome.read_json("reports/metrics/evaluate.json")
    assert metrics is not None, "reports/metrics/evaluate.json is missing"
    for key in ("n", "prevalence", "auc", "auc_lo", "auc_hi", "ap", "brier"):
        assert key in metrics, f"evaluate.json has no {key}: {sorted(metrics)}"
    assert metrics["n"] >= 1
    assert 0 < metrics["prevalence"] < 1, metrics["prevalence"]
    assert 0.5 < metrics["auc"] <= 1, metrics["auc"]
    assert 0 <= metrics["auc_lo"] <= metrics["auc"] <= metrics["auc_hi"] <= 1, metrics
    assert 0 <= metrics["ap"] <= 1 and 0 <= metrics["brier"] <= 1, metrics
    # the gate decided, and said why
    decision = outcome.read_json("reports/deploy/decision.json")
    assert decision is not None, "reports/deploy/decision.json is missing"
    assert isinstance(decision["passed"], bool), decision
    assert decision["reasons"], decision
    # the monitor gave a verdict on the batch, recorded in its metrics and its report
    monitoring = outcome.read_json("reports/monitor/latest/monitoring.json")
    assert monitoring is not None, "reports/monitor/latest/monitoring.json is missing"
    assert monitoring["verdict"]["verdict"] in VERDICTS, monitoring["verdict"]
    assert monitoring["verdict"]["reasons"], monitoring["verdict"]
    monitor_metrics = outcome.read_json("reports/metrics/monitor.json")
    assert monitor_metrics is not None and monitor_metrics["verdict"] in VERDICTS


def names(text: str, word: str) -> bool:
    """Whether ``text`` names ``word`` as a whole (``'id'`` is not named by ``valid`` or
    ``row_id``, nor ``MALE`` by ``FEMALE``)."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def schema_features(outcome: Outcome) -> set[str]:
    schema = outcome.read_json("data/interim/schema.json") or {}
    return set(schema.get("numeric", [])) | set(schema.get("categorical", []))


# ---------------------------------------------------------------------------------------------
# The corpus: each real table end to end, from its raw file, with only path and target set
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", CORPUS, ids=[t.name for t in CORPUS])
def test_real_table(table: Table, tmp_path: Path):
    # given the table as the package ships it (or as the entry says the user has it)
    content = table.content()
    assert count_rows(content) == table.rows, f"{table.source} changed: {table.exercises}"
    # and a project baked with only the file's path and its target column
    project = bake_with_own_file(tmp_path, f"Corpus {table.name}", table.filename, table.target)
    (project / "data/external" / table.filename).write_bytes(content)
    # when the user runs the whole pipeline for the first time
    outcome = first_repro(project)
    record(tmp_path, summary(table.name, "as shipped" if table.as_shipped else "rewritten",
                             table.rows, table.target, outcome))
    if table.refused:
        # then a table the lifecycle cannot serve is refused in validate, in one clear message
        assert outcome.returncode != 0, outcome.explain()
        assert outcome.failed_stage == "validate", outcome.explain()
        assert "Traceback" not in outcome.stderr, outcome.explain()
        for word in table.refused:
            assert names(outcome.error, word), (
                f"the message does not name {word!r}: {outcome.error}")
        return
    # then every stage ran and the lifecycle's outputs are there and plausible
    assert_whole_lifecycle(outcome)
    # and the table's traps were seen: ids, row names, constant and date columns are no
    # features, a leaking column is named in the validate log
    features = schema_features(outcome)
    for column in table.not_features:
        assert column not in features, f"{column!r} became a feature: {sorted(features)}"
    for column in table.noted:
        assert names(outcome.stage_log("validate"), column), (
            f"the validate log does not name {column!r}:\n{outcome.stage_log('validate')}")


# ---------------------------------------------------------------------------------------------
# Hostile variants of one small real table: what a user's file has
# ---------------------------------------------------------------------------------------------


def pima() -> pd.DataFrame:
    """MASS's Pima Indians diabetes tables (Pima.tr + Pima.te, 532 complete rows, shipped by
    pydataset) with the target as 0/1 ``diabetes``; R's row names (restarting in each file)
    dropped."""
    frames = [pd.read_csv(io.BytesIO(pydataset_file(f"MASS/{part}")), index_col=0)
              for part in ("Pima.tr", "Pima.te")]
    data = pd.concat(frames, ignore_index=True)
    data["diabetes"] = (data.pop("type") == "Yes").astype(int)
    return data


def _rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def add(column: str, make: Callable[[pd.DataFrame], object], at: int | None = None):
    def build(data: pd.DataFrame) -> pd.DataFrame:
        data = data.copy()
        values = make(data)
        if at is None:
            data[column] = values
        else:
            data.insert(at, column, values)
        return data
    return build


def rename(old: str, new: str):
    return lambda data: data.rename(columns={old: new})


def yes_no_target(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data["diabetes"] = np.where(data["diabetes"] == 1, "yes", "no")
    return data


TEXT_ROWS = {10: "abc", 57: "abc", 123: "n/a"}  # 0-based data rows of the bmi text


def text_in_numeric(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data["bmi"] = data["bmi"].astype(object)
    for row, value in TEXT_ROWS.items():
        data.loc[row, "bmi"] = value
    return data


def duplicate_names(data: pd.DataFrame) -> pd.DataFrame:
    # a second glucose reading exported under the same header
    second = (data["glu"] + _rng().normal(0, 5, len(data))).round()
    return pd.concat([data, second.rename("glu")], axis=1)


def three_valued_target(data: pd.DataFrame) -> pd.DataFrame:
    data = yes_no_target(data)
    data.loc[data.index[::25], "diabetes"] = "unsure"
    return data


def free_text(data: pd.DataFrame) -> pd.DataFrame:
    rng = _rng()
    complaints = np.array(["thirst", "fatigue", "blurred vision", "no complaints", "headache"])
    notes = [f"Visit {i}: patient mentions {rng.choice(complaints)}, seen for {rng.integers(5, 40)}"
             f" minutes" for i in range(len(data))]
    return data.assign(notes=notes)


def visit_dates(data: pd.DataFrame) -> pd.DataFrame:
    days = _rng().integers(0, 3 * 365, len(data))
    dates = pd.Timestamp("2019-01-01") + pd.to_timedelta(days, unit="D")
    return data.assign(visit_date=dates.strftime("%Y-%m-%d"))


def german_latin1(data: pd.DataFrame) -> pd.DataFrame:
    names = {"npreg": "Schwangerschaften", "glu": "Glukose (mg/dl)", "bp": "Blutdruck (mm Hg)",
             "skin": "Hautfaltendicke (mm)", "bmi": "Körpermasse-Index", "ped": "Stammbaum",
             "age": "Alter (Jahre)", "diabetes": "Diabetes"}
    out = data.rename(columns=names)
    out["Wohnort"] = _rng().choice(["Süd", "Nord", "Westgrenze", "Flußtal"], len(out))
    return out


@dataclass(frozen=True)
class Hostile:
    """A variant of the base table and the outcome it must have.

    expect: ``"runs"`` (end to end, all lifecycle outputs) or ``"fails"`` (in ``ingest`` or
    ``validate``, exit 1, one message naming what ``mentions`` lists, no traceback).
    dropped: columns that must not become features and that the validate log names.
    kept: columns that must stay features (the user's data, whatever its name).
    """

    name: str
    exercises: str
    build: Callable[[pd.DataFrame], pd.DataFrame]
    expect: str
    target: str = "diabetes"
    filename: str = "pima.csv"
    sep: str = ","
    encoding: str = "utf-8"
    mentions: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    extra: Callable[[Outcome], None] | None = field(default=None, compare=False)

    def write(self, path: Path) -> None:
        frame = self.build(pima())
        path.write_bytes(frame.to_csv(index=False, sep=self.sep).encode(self.encoding))


def _names_the_text_rows(outcome: Outcome) -> None:
    message = outcome.error
    assert "na_values" in message or "categorical" in message, message
    for row, value in TEXT_ROWS.items():
        if value != "abc":
            continue  # 'n/a' is a missing value to most readers; 'abc' is not
        # the row as a 0-based position, a 1-based data row or a file line (header = line 1)
        named = {str(row), str(row + 1), str(row + 2)}
        assert any(re.search(rf"(?<!\d){n}(?!\d)", message) for n in named), (
            f"the message does not name data row {row} ('{value}'): {message}")


def _says_the_name_repeats(outcome: Outcome) -> None:
    assert re.search(r"duplicate|repeated|more than once|twice", outcome.error, re.I), (
        f"the message does not say that the name repeats: {outcome.error}")


def chain(*steps: Callable[[pd.DataFrame], pd.DataFrame]):
    """One table carrying several traps at once (one pipeline run instead of one each)."""
    def build(data: pd.DataFrame) -> pd.DataFrame:
        for step in steps:
            data = step(data)
        return data
    return build


# The traps that must all run end to end share one table, so that the corpus stays affordable
# in CI; each keeps its own assertion (kept as a feature, or dropped with a note).
NAMES_AND_USELESS_COLUMNS = chain(
    # columns whose names the pipeline itself uses: the user's data must not collide with them
    add("row_id", lambda d: np.arange(1, len(d) + 1), at=0),      # the id it would generate
    add("id", lambda d: _rng().permutation(len(d)) + 100_000, at=1),  # a second identifier
    add("split", lambda d: _rng().choice(["train", "test"], len(d), p=[0.8, 0.2])),
    rename("glu", "y"), rename("ped", "p"),                        # the predictions' columns
    add("label", lambda d: _rng().choice(["A", "B", "C"], len(d))),
    add("weight", lambda d: (d["bmi"] * 2.6 + _rng().normal(0, 4, len(d))).round(1)),
    add("prediction", lambda d: (1 / (1 + np.exp(-(d["y"] - 120) / 20))).round(3)),
    # labels as text, and columns with nothing to learn from
    yes_no_target,
    add("clinic", lambda d: "Gila River"),                          # one value in every row
    add("referral", lambda d: np.nan),                              # no value at all
    free_text, visit_dates,
)

HOSTILE: tuple[Hostile, ...] = (
    Hostile("names_and_useless_columns",
            "columns named row_id (1..n), id (a second identifier), split, y, p, label, weight "
            "and prediction; the target as yes/no; a constant, an all-missing, a free-text and "
            "a date column", NAMES_AND_USELESS_COLUMNS, "runs",
            kept=("split", "y", "p", "label", "weight", "prediction"),
            dropped=("id", "clinic", "referral", "notes", "visit_date")),
    Hostile("three_valued_target", "a target with three values (yes/no/unsure)",
            three_valued_target, "fails",
            mentions=("diabetes", "yes", "no", "unsure", "positive_label")),
    Hostile("text_in_numeric", "a numeric column (bmi) with 'abc' in 2 rows and 'n/a' in 1",
            text_in_numeric, "fails", mentions=("bmi", "abc"), extra=_names_the_text_rows),
    Hostile("duplicate_names", "two columns named glu", duplicate_names, "fails",
            mentions=("glu",), extra=_says_the_name_repeats),
    # file formats
    Hostile("semicolon_bom", "';' separator and a UTF-8 byte-order mark (a first feature "
            "column that a BOM would rename)", lambda d: d, "runs", sep=";",
            encoding="utf-8-sig", kept=("npreg",)),
    Hostile("latin1", "Latin-1 text: German column names with umlauts and ß, and umlauts in "
            "a categorical column's values", german_latin1, "runs", target="Diabetes",
            encoding="latin-1", kept=("Körpermasse-Index",)),
)


@pytest.mark.parametrize("variant", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_table(variant: Hostile, tmp_path: Path):
    # given a project baked with only the file's path and target, and the user's file
    project = bake_with_own_file(tmp_path, f"Hostile {variant.name}", variant.filename,
                                 variant.target)
    variant.write(project / "data/external" / variant.filename)
    # when the user runs the whole pipeline for the first time
    outcome = first_repro(project)
    record(tmp_path, summary(f"hostile:{variant.name}", "hostile", 532, variant.target, outcome))
    assert "Traceback" not in outcome.stderr, outcome.explain()
    if variant.expect == "runs":
        # then it runs end to end
        assert_whole_lifecycle(outcome)
        features = schema_features(outcome)
        for column in variant.kept:
            assert column in features, f"{column!r} is not a feature: {sorted(features)}"
        # and useless columns are dropped, with a note in the validate log naming them
        for column in variant.dropped:
            assert column not in features, f"{column!r} became a feature"
            assert names(outcome.stage_log("validate"), column), (
                f"the validate log does not name the dropped column {column!r}:\n"
                f"{outcome.stage_log('validate')}")
    else:
        # then it stops in ingest or validate with one clear message naming the column
        assert outcome.returncode != 0, outcome.explain()
        assert outcome.failed_stage in ("ingest", "validate"), outcome.explain()
        for word in variant.mentions:
            assert names(outcome.error, word), (
                f"the message does not name {word!r}: {outcome.error}")
    if variant.extra is not None:
        variant.extra(outcome)
