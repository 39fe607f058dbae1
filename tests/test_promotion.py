"""Promotion is deliberate, on a baked project: a queued sweep registers challengers and never
moves `champion`; `<package> promote` does, when the gate passes.

1. `dvc repro`: the first model becomes champion v1.
2. A queued sweep of two models: two new versions, `champion` still v1, and each experiment's
   decision says "not promoted" with the command that would.
3. `promote --version N`: the gate runs again against v1; the version whose gate passes becomes
   champion, and a refused one leaves it where it is, saying why.

The tests share one project and run in file order, as a user's session would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import bake_and_install, run, run_queue

pytestmark = pytest.mark.slow

PROJECT_NAME = "Promotion Check"
PACKAGE = "promotion_check"  # the package (and registered model) name cookiecutter derives
SWEEP = ("logistic_regression", "random_forest")


def client(project: Path):
    import mlflow
    from mlflow import MlflowClient

    # explicit URIs: another test module in this worker may have set MLflow's global registry
    uri = f"sqlite:///{project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def champion(project: Path) -> int:
    return int(client(project).get_model_version_by_alias(PACKAGE, "champion").version)


def versions(project: Path) -> dict[int, object]:
    return {int(v.version): v for v in client(project).search_model_versions(
        f"name = '{PACKAGE}'")}


def experiment_decisions(project: Path) -> dict[str, dict]:
    """Each finished experiment's reports/deploy/decision.json, from its git ref, by name."""
    refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], project).stdout
    decisions = {}
    for ref in refs.split():
        # refs/exps/<baseline commit, split 2 + 38>/<name>; DVC keeps its own refs beside them
        named = re.fullmatch(r"refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/(.+)", ref)
        if named:
            shown = run(["git", "show", f"{ref}:reports/deploy/decision.json"], project).stdout
            decisions[named.group(1)] = json.loads(shown)
    return decisions


def promote(project: Path, version: int) -> tuple[int, str]:
    done = run([PACKAGE, "promote", "--version", str(version)], project,
               check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bake_and_install(tmp_path_factory.mktemp("promotion"), project_name=PROJECT_NAME)


def test_repro_in_the_workspace_promotes_the_first_model(project):
    # given a freshly baked project, when the pipeline runs in the workspace
    run(["dvc", "repro"], project)
    # then its model is version 1 and champion, and the decision says promoted
    decision = json.loads((project / "reports/deploy/decision.json").read_text())
    assert decision["passed"] and decision["promoted"] and decision["experiment"] is None
    assert champion(project) == 1 == decision["champion_version"]
    assert versions(project)[1].tags["dvc.experiment"] == "workspace"
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "champion v1"], project)


def test_a_queued_sweep_registers_challengers_and_leaves_champion(project):
    # given champion v1, when a sweep of two models is queued and the queue run (as test_e2e)
    run(["dvc", "exp", "run", "--queue", "-S", f"model={','.join(SWEEP)}"], project)
    run_queue(project)
    # then two new versions are registered, one per experiment, and champion is still v1
    registered = versions(project)
    assert sorted(registered) == [1, 2, 3]
    assert champion(project) == 1
    decisions = experiment_decisions(project)
    assert len(decisions) == 2, decisions.keys()
    assert {registered[d["version"]].tags["dvc.experiment"] for d in decisions.values()} \
        == set(decisions)
    # and each experiment's decision says registered, not promoted, why, and how to promote
    import mlflow

    for name, decision in decisions.items():
        assert decision["experiment"] == name and decision["promoted"] is False
        assert decision["champion_version"] == 1
        assert isinstance(decision["passed"], bool)   # the gate's verdict against v1, kept
        n = decision["version"]
        assert decision["promotion"].startswith(
            f"Registered as challenger version {n}; not promoted because this is an "
            f"experiment (`{name}`)")
        assert decision["promote_command"] == f"{PACKAGE} promote --version {n}"
        markdown = mlflow.artifacts.load_text(
            f"runs:/{registered[n].tags['deploy_run_id']}/decision.md")
        head = markdown.split("## Checks")[0]
        assert "not promoted because this is an experiment" in head, markdown
        assert decision["promote_command"] in head
        assert "promoted to `champion`" not in markdown
        assert registered[n].tags["gate"] == ("passed" if decision["passed"] else "failed")


def test_promote_moves_champion_only_when_the_gate_passes(project):
    # given the sweep's two versions, each with its gate's verdict against champion v1
    decisions = sorted(experiment_decisions(project).values(), key=lambda d: (
        not d["passed"], -(d["champion_comparison"] or {}).get("auc_difference", {}).get(
            "estimate", 0)))
    best, other = decisions
    # when the best one is promoted
    code, out = promote(project, best["version"])
    # then the gate gives the verdict the experiment recorded against the same champion v1,
    # and champion follows it
    assert "against champion v1" in out.splitlines()[0], out
    if best["passed"]:
        assert code == 0 and f"PROMOTED: champion -> v{best['version']} (was v1)" in out, out
        assert champion(project) == best["version"]
    else:
        assert code == 1 and "REFUSED: champion stays v1" in out, out
        assert champion(project) == 1
    tags = versions(project)[best["version"]].tags
    assert tags["promotion_gate"] == ("passed" if best["passed"] else "failed")
    # when the other one is promoted against the champion of now
    before = champion(project)
    code, out = promote(project, other["version"])
    # then champion moves if and only if the gate passed, and a refusal names its failed checks
    failed = [line.strip() for line in out.splitlines() if line.strip().startswith("FAIL")]
    if code == 0:
        assert not failed and "PROMOTED" in out and champion(project) == other["version"], out
    else:
        assert failed and f"REFUSED: champion stays v{before}" in out, out
        assert champion(project) == before
        verdict = out.splitlines()[-1]
        assert all(line.removeprefix("FAIL ") in verdict for line in failed), out
        assert versions(project)[other["version"]].tags["promotion"].startswith(
            "promotion refused")
