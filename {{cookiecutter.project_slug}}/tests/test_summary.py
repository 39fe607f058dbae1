"""The summary command: one screen at 100 columns, on real outputs and on missing ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_pipeline_e2e import scratch, sh  # noqa: F401  (scratch: a small copy of the project)

from {{ cookiecutter.package_name }}.commands.summary import render
from {{ cookiecutter.package_name }}.core.paths import DECISION, HEADLINE_METRICS, PACKAGE, metrics_path

WIDTH = 100
SUMMARY = [sys.executable, "-m", PACKAGE, "summary", "--width", str(WIDTH)]
# a reason as long as the gate writes them (one line of decision.json)
LONG_REASON = ("WARN bias audit flags `insurance`: equalized-odds difference 0.63 [0.46, 0.71] "
               "above the tolerance 0.1 (its whole interval is above the tolerance); "
               "demographic-parity difference 0.48 [0.18, 0.52] above the tolerance 0.1; "
               "does not block: the charter's `bias_flags_block` is false for `insurance`")


def fits(text: str, width: int = WIDTH) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, f"lines wider than {width}: {too_wide}"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)


def write(root: Path, relative: str, payload: object) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A project folder before any `dvc repro`: dvc.yaml and conf/, no outputs, no git."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "conf").mkdir()
    return tmp_path


@pytest.fixture
def reported(empty: Path) -> Path:
    """The same folder with the files the stages write, committed, then edited since."""
    metrics = {"n": 4017, "prevalence": 0.2407, "threshold": 0.2357, "auc": 0.6679,
               "auc_lo": 0.6479, "auc_hi": 0.6878, "cal_slope": 1.0898, "cal_slope_lo": 0.958,
               "cal_slope_hi": 1.222, "criteria_met": 3.0, "criteria_total": 4.0}
    write(empty, metrics_path("evaluate"), metrics)
    write(empty, HEADLINE_METRICS, {"auc": 0.6679, "cal_slope": 1.0898})
    write(empty, DECISION, {"passed": False, "promoted": False, "version": None,
                            "reasons": ["PASS charter `auc >= 0.62`: 0.668", LONG_REASON,
                                        "FAIL charter `brier_skill >= 0.02`: 0.010",
                                        "PASS no other champion to compare with"]})
    write(empty, "reports/monitor/latest/monitoring.json", {
        "batch": "synthetic_clinical-seed1", "n": 5000, "labelled": True,
        "verdict": {"verdict": "watch", "reasons": [LONG_REASON, "prediction drift"]},
        "next_step": "Keep watching: collect labels for this batch."})
    write(empty, "reports/monitor/history.csv",
          "timestamp,batch,verdict,max_psi,max_psi_feature,real_auc\n"
          "2026-12-01T23:44:55+00:00,b1,watch,0.351,creatinine,0.7036\n")
    # conf/ first: params.yaml is composed from it
    (empty / "conf/config.yaml").write_text("defaults: []\n")
    (empty / "params.yaml").write_text(yaml.safe_dump({"model": {"name": "hgb", "depth": 3}}))
    git(empty, "init", "-q")
    git(empty, "add", "-A")
    git(empty, "commit", "-qm", "a first run")
    return empty


def test_missing_outputs_are_said_in_words(empty):
    # given a project where nothing has run and nothing is committed
    # when the summary renders at 100 columns
    text = render(empty, WIDTH)
    # then each section says which step has not run and how to run it, within the width
    fits(text)
    for stage in ("evaluate", "deploy", "monitor"):
        assert f"{stage} has not run yet: dvc repro" in text
    assert "no commit yet" in text
    assert text.rstrip().splitlines()[-1].startswith("Next: dvc repro")


def test_unreadable_output_names_the_file(reported):
    # given a decision file cut short (an interrupted write)
    (reported / DECISION).write_text('{"passed": tr')
    # when the summary renders
    text = render(reported, WIDTH)
    # then the gate's section names the file and what to do, and the rest still shows
    fits(text)
    words = " ".join(text.split())  # the message may wrap
    assert f"{DECISION} cannot be read" in words and "run `dvc repro` to write it again" in words
    assert "AUC" in text and "Monitoring: WATCH" in text


def test_outputs_show_metrics_gate_monitoring_within_100_columns(reported):
    # given the stages' outputs, committed
    # when the summary renders at 100 columns
    text = render(reported, WIDTH)
    # then every line fits, the metrics carry their intervals, the gate's failure comes first
    fits(text)
    assert "AUC" in text and "0.668 [0.648, 0.688]" in text
    assert "charter criteria met: 3 of 4" in text
    assert "Gate: FAILED" in text
    reasons = [line for line in text.splitlines() if line.startswith("  - ")]
    assert reasons[0].startswith("  - FAIL charter `brier_skill >= 0.02`")
    assert "1 more in reports/deploy/decision.md" in text
    assert "Monitoring: WATCH (batch synthetic_clinical-seed1, 5,000 rows, labelled)" in text
    assert "history, last row: 2026-12-01 23:44, watch, max PSI 0.351 (creatinine)" in text
    # and nothing changed since the commit, said in words; the next step reads the refusal
    assert "nothing changed" in text
    assert "Next: less reports/deploy/decision.md" in text


def test_changes_since_the_last_commit_are_listed(reported):
    # given a parameter, a headline metric and a conf/ file changed after the commit
    (reported / "params.yaml").write_text(yaml.safe_dump({"model": {"name": "rf", "depth": 3}}))
    write(reported, HEADLINE_METRICS, {"auc": 0.7001, "cal_slope": 1.0898})
    (reported / "conf/config.yaml").write_text("defaults: [model: rf]\n")
    # when the summary renders
    text = render(reported, WIDTH)
    # then each change is named, old -> new, and only what moved
    fits(text)
    assert "params.yaml: model.name: hgb -> rf" in text
    assert "auc 0.6679 -> 0.7001 (+0.0322)" in text and "cal_slope 1.0898" not in text
    assert "conf/: M conf/config.yaml" in text
    assert "nothing changed" not in text


@pytest.mark.parametrize("width", [40, 60, 80])
def test_narrow_screens_still_fit(reported, width):
    # given a narrower terminal, when the summary renders, then every line fits it
    fits(render(reported, width), width)


def test_command_line_prints_it_without_mlflow_or_scikit_learn(reported):
    # given the command run as users run it, at 100 columns
    script = ("import sys; from {{ cookiecutter.package_name }}.cli import main\n"
              "try:\n    main(['summary', '--width', '100'])\n"
              "except SystemExit as done:\n    assert not done.code, done.code\n"
              "heavy = [m for m in ('mlflow', 'sklearn', 'dvc', 'pandas') if m in sys.modules]\n"
              "print('HEAVY', heavy)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", script], cwd=reported, env=env,
                          capture_output=True, text=True, check=True)
    # then the screen is printed, within 100 columns, and no heavy library was imported
    fits(done.stdout)
    assert "Gate: FAILED" in done.stdout
    assert done.stdout.rstrip().endswith("HEAVY []")


def test_a_width_below_the_minimum_is_refused(reported, capsys):
    # given a width no summary fits in, when the command runs, then it says so and stops
    from {{ cookiecutter.package_name }}.commands.summary import main

    with pytest.raises(SystemExit):
        main(["--width", "10"])
    assert "--width must be at least 40" in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_pipeline_run_fits_100_columns(scratch):  # noqa: F811  (the imported fixture)
    # given a small copy of the project after the whole pipeline ran, committed
    sh([sys.executable, "-m", "dvc", "repro"], scratch)
    git(scratch, "add", "-A")
    git(scratch, "commit", "-qm", "a first run")
    # when the summary runs at 100 columns
    shown = sh(SUMMARY, scratch)
    # then every section has its content, within the width, and nothing changed since the commit
    fits(shown)
    assert "has not run yet" not in shown and "cannot be read" not in shown
    assert "AUC" in shown and "(95% intervals)" in shown and "charter criteria met" in shown
    assert "Gate: PASSED" in shown or "Gate: FAILED" in shown
    assert "Monitoring: " in shown and "history, last row: " in shown
    assert "nothing changed" in shown
    # and after a setting changes in conf/ and is composed (the run ten seconds before, so
    # the order of the files' times is certain), it is named, and the next step is repro
    ran = time.time() - 10
    os.utime(scratch / "dvc.lock", (ran, ran))
    conf = scratch / "conf/evaluate/default.yaml"
    conf.write_text(conf.read_text().replace("n_bootstrap: 200", "n_bootstrap: 150"))
    sh([sys.executable, "-m", f"{PACKAGE}.stages.compose"], scratch)
    shown = sh(SUMMARY, scratch)
    fits(shown)
    assert "evaluate.n_bootstrap: 200 -> 150" in shown
    assert "conf/: M conf/evaluate/default.yaml" in shown
    assert "Next: dvc repro" in shown
