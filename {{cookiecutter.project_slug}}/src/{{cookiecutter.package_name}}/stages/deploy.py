"""Stage ``deploy`` (step 6): the gate, and the MLflow model registry.

1. Register the trained model as a version of ``deploy.registered_model_name`` (once per
   model) and point the ``challenger`` alias at it.
2. Gate: every charter criterion (on the estimate, or on its interval bound with
   ``judge_on: lower_bound``); against each baseline and the current ``champion`` (scored on
   the same test rows) the paired DeLong AUC difference's interval judged by the rules of
   ``deploy.baselines`` and ``deploy.champion``; every bias flag, blocking where the charter's
   ``bias_flags_block`` says so. The rules and their words are ``judgement``'s, shared with the
   error-analysis report.
3. Pass: ``champion`` moves to the new version. Fail: ``champion`` stays where it was; the
   decision and its reasons go to ``reports/deploy/decision.{json,md}``, to the model version
   (its description says in one paragraph why it passed or failed; one tag per check,
   ``gate.check.01``, ...), to the deploy MLflow run (``decision.md`` is also its description)
   and to the pipeline's parent run (``deploy/passed``, tag ``gate``). ``deploy.strict: true``
   turns a failed gate into a failed stage.

Only ``dvc repro`` moves ``champion``. Under ``dvc exp run`` (``DVC_EXP_NAME`` set: queued,
swept or in the workspace) the version is registered as ``challenger`` and the gate's verdict
recorded, but ``champion`` stays: a sweep's members would otherwise race, the last to pass
winning. ``{{ cookiecutter.package_name }} promote --version N`` promotes one
deliberately, re-running this gate against the champion of that moment (see ``promotion.py``,
which also says why a lone workspace experiment does not promote either). The deploy run keeps
``evaluation.json`` for that, and the version's tag ``deploy_run_id`` points at the run.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..core.config import project_root
from ..core.errors import ConfigError, run_stage
from ..core.io import read_json, write_json, write_text
from ..core.paths import CHARTER, DECISION, EVALUATION, MODEL_INFO, metrics_path
from ..core.registry import register
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..decisions.gate import champion_comparison, gate, render_decision

log = logging.getLogger(__name__)
CHECK_TAG = "gate.check."  # + two digits: one model-version tag per check of the gate
_TEXT_LIMIT = 4900  # characters of a tag or description kept (MLflow's limits are above)


def version_description(decision: dict[str, Any], promotion_note: str) -> str:
    """One paragraph for the model version's description: passed or failed, and why.

    Args:
        decision: the decision as ``decision.json`` holds it (``passed``, ``reasons``, ...).
        promotion_note: what happened to the aliases (promoted, or why not).
    """
    reasons = decision["reasons"]
    failed = [r.removeprefix("FAIL ") for r in reasons if r.startswith("FAIL")]
    warned = [r.removeprefix("WARN ") for r in reasons if r.startswith("WARN")]
    judged = ("the estimates" if decision["judge_on"] == "point" else
              "the unfavourable bound of each interval")
    checked = sum(r.startswith(("PASS", "FAIL")) for r in reasons)
    words = [f"Version {decision['version']} {'passed' if decision['passed'] else 'failed'} "
             f"the deploy gate: {checked - len(failed)} of {checked} checks passed, the "
             f"charter's criteria judged on {judged}, at operating threshold "
             f"{decision['threshold']:.3f}."]
    if failed:
        words.append(f"It failed because: {'; '.join(failed)}.")
    if warned:
        words.append(f"Warnings: {'; '.join(warned)}.")
    words.append(f"{promotion_note[:1].upper()}{promotion_note[1:]}; every check is in "
                 "reports/deploy/decision.md and the deploy run's decision.md.")
    return " ".join(words)[:_TEXT_LIMIT]


def main() -> None:
    """Register, gate, move aliases (``champion`` only outside experiments), record it all."""
    from mlflow import MlflowClient

    from ..core.registry import CHALLENGER, CHAMPION, alias_version, model_name
    from ..core.tracking import connect, direct_stage_run
    from ..decisions import promotion

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    cfg = settings.deploy
    root = project_root()
    info = read_json(root / MODEL_INFO)
    evaluation = read_json(root / EVALUATION)
    charter = read_json(root / CHARTER)
    if not info.get("model_uri"):
        raise ConfigError("train.log_model is false: there is no logged model to deploy; "
                         "set it to true in conf/train/default.yaml.")
    experiment = promotion.current_experiment()
    connect(settings.mlflow)
    client = MlflowClient()
    name = model_name(cfg)
    version = register(client, name, info)
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    champion = champion_comparison(settings, client, name, version.version)
    passed, reasons = gate(evaluation, champion, cfg)
    # only the workspace's `dvc repro` promotes; an experiment leaves that to `promote`
    promoted = passed and experiment is None
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version.version)
    current = alias_version(client, name, CHAMPION)
    if promoted:
        promotion_note = f"promoted to {CHAMPION} by `dvc repro`"
    elif experiment:
        promotion_note = promotion.not_promoted_sentence(version.version, experiment, passed)
    else:
        promotion_note = f"not promoted: the gate failed; {CHAMPION} unchanged"
    checks = {f"{CHECK_TAG}{i:02d}": reason[:_TEXT_LIMIT]
              for i, reason in enumerate(reasons, start=1)}
    for key, value in {"gate": "passed" if passed else "failed",
                       "threshold": f"{evaluation['threshold']['value']:.6f}",
                       **checks,
                       promotion.EXPERIMENT_TAG: experiment or promotion.WORKSPACE,
                       promotion.TEST_ROWS_TAG: promotion.workspace_test_rows() or "unknown",
                       promotion.PROMOTION_TAG: promotion_note[:_TEXT_LIMIT]}.items():
        client.set_model_version_tag(name, version.version, key, value)
    decision = {"passed": passed, "promoted": promoted, "experiment": experiment,
                "model_name": name, "version": int(version.version),
                "champion_version": int(current.version) if current else None,
                "judge_on": cfg.judge_on, "reasons": reasons,
                "threshold": evaluation["threshold"]["value"], "champion_comparison": champion}
    if experiment:
        decision["promotion"] = promotion_note
        decision["promote_command"] = promotion.promote_command(version.version)
    markdown = render_decision(decision, charter)
    if experiment:
        markdown = promotion.experiment_markdown(markdown, decision)
    client.update_model_version(name, version.version,
                                description=version_description(decision, promotion_note))
    write_json(root / DECISION, decision)
    write_text(root / "reports/deploy/decision.md", markdown)
    write_json(root / metrics_path("deploy"), {"passed": int(passed), "promoted": int(promoted),
                                               "version": decision["version"]})
    log.info("gate %s: version %s of %s (%s)", "PASSED" if passed else "FAILED", version.version,
             name, f"now {CHAMPION}" if promoted else f"{CHAMPION} unchanged")
    for reason in reasons:
        log.info("  %s", reason)
    if experiment:
        log.info("%s", promotion_note)
    with direct_stage_run("deploy", settings, groups=("deploy",),
                   extra_tags={"gate": "passed" if passed else "failed",
                               "promoted": str(promoted).lower(),
                               "model_version": str(version.version),
                               # the run's description in the UI: the decision, readable
                               "mlflow.note.content": markdown[:_TEXT_LIMIT]}) as run:
        run.log_metrics({"passed": int(passed), "promoted": int(promoted),
                         "version": decision["version"]}, to_parent=True)
        run.tag_parent({"gate": "passed" if passed else "failed",
                        "model_version": f"{name} v{version.version}"})
        run.log_dict(decision, "decision.json")
        run.log_text(markdown, "decision.md")
        # what `promote` judges the version on later (see promotion.py)
        run.log_dict(evaluation, promotion.EVALUATION_ARTIFACT)
        client.set_model_version_tag(name, version.version, promotion.DEPLOY_RUN_TAG,
                                     run.run_id)
    if not passed and cfg.strict:
        print(f"[deploy] gate failed and deploy.strict is true: {reasons}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_stage(main, "deploy")
