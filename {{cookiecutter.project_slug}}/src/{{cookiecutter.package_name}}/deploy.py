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
   decision and its reasons go to ``reports/deploy/decision.{json,md}``, to the model version's
   tags and to the deploy MLflow run. ``deploy.strict: true`` turns a failed gate into a failed
   stage.

Only ``dvc repro`` moves ``champion``. Under ``dvc exp run`` (``DVC_EXP_NAME`` set: queued,
swept or in the workspace) the version is registered as ``challenger`` and the gate's verdict
recorded, but ``champion`` stays: a sweep's members would otherwise race, the last to pass
winning. ``python -m {{ cookiecutter.package_name }}.promote --version N`` promotes one
deliberately, re-running this gate against the champion of that moment (see ``promotion.py``,
which also says why a lone workspace experiment does not promote either). The deploy run keeps
``evaluation.json`` for that, and the version's tag ``deploy_run_id`` points at the run.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from .config import get, load_params, project_root
from .errors import ConfigError, UserError, run_stage
from .io import read_json, write_json, write_text
from .paths import CHARTER, DECISION, EVALUATION, MODEL_INFO, metrics_path

log = logging.getLogger(__name__)
JUDGE_ON = ("point", "lower_bound")


def register(client, name: str, info: dict[str, Any]):
    """The registry version of this model, created on first deploy (idempotent).

    Args:
        client: an ``MlflowClient``.
        name: the registered model name.
        info: ``model_info.json`` (``model_id``, ``model_uri``, ``run_id``).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="Registered by the deploy stage.")
    for version in client.search_model_versions(f"name = '{name}'"):
        # search results carry the source URI (models:/<model_id>), not always model_id
        if version.source == info["model_uri"]:
            return version
    return mlflow.register_model(info["model_uri"], name)


def champion_comparison(params, client, name: str, candidate_version: str,
                        candidate_uri: str | None = None) -> dict[str, Any] | None:
    """Paired comparison of the candidate with the current champion on the test rows.

    Returns None when there is no champion or the champion is this very version.

    Args:
        candidate_uri: score this model on the test rows instead of reading the pipeline's
            predictions (``promote``: a registered version, perhaps trained in an experiment).
    """
    import mlflow

    from .dataset import load_schema, load_split
    from .io import read_parquet
    from .metrics.compare import compare_models
    from .paths import MODEL_PREDICTIONS
    from .registry import CHAMPION, alias_version

    champion = alias_version(client, name, CHAMPION)
    if champion is None or champion.version == candidate_version:
        return None
    X, y, ids = load_split("test", load_schema())
    try:
        model = mlflow.sklearn.load_model(f"models:/{name}@{CHAMPION}")
        p_champion = model.predict_proba(X)[:, 1]
    except Exception as error:  # noqa: BLE001 - any failure means "not comparable", said below
        return {"version": champion.version, "error": f"{type(error).__name__}: {error}"}
    if candidate_uri is None:
        predictions = read_parquet(project_root() / MODEL_PREDICTIONS)
        p_candidate = predictions[predictions["split"] == "test"].set_index("id").loc[ids, "p"]
    else:
        try:
            p_candidate = mlflow.sklearn.load_model(candidate_uri).predict_proba(X)[:, 1]
        except Exception as error:  # noqa: BLE001 - said with the way out
            raise UserError(
                f"{candidate_uri} cannot score the workspace's test rows ({type(error).__name__}: "
                f"{error}); promote it from a workspace holding its data and features "
                "(`dvc exp apply <experiment>`).") from error
    seed = int(get(params, "evaluate.seed", 0))
    import numpy as np

    comparison = compare_models(
        y, np.asarray(p_candidate, dtype=float), p_champion,
        n_resamples=int(get(params, "evaluate.n_bootstrap")),
        rng=np.random.default_rng(seed), alpha=float(get(params, "evaluate.alpha")),
    )
    return {"version": champion.version, **comparison}


Check = tuple[bool, str]  # (passed, the reason's line, starting PASS, FAIL, WARN or NOTE)


def constant_rule(evaluation: dict[str, Any]) -> list[Check]:
    """A model that predicts a constant ranks no one: it fails, first."""
    constant = evaluation.get("constant_predictions") or {}
    if not constant.get("constant"):
        return []
    return [(False, f"FAIL the model predicts a constant (p = {constant['value']:.4f} for every "
                    "row of the validation or test split): its discrimination is 0.5 by "
                    "construction, so it cannot be deployed")]


def charter_rule(evaluation: dict[str, Any], judge_on: str) -> list[Check]:
    """Every charter criterion, on the estimate or the interval bound (``deploy.judge_on``)."""
    from .judgement import criterion_check

    constant = bool((evaluation.get("constant_predictions") or {}).get("constant"))
    checks = []
    for c in evaluation["criteria"]:
        ok, words = criterion_check(c, judge_on, constant)
        checks.append((ok, f"{'PASS' if ok else 'FAIL'} charter `{c['rule']}`: {words}"))
    return checks


def baselines_rule(evaluation: dict[str, Any], cfg: dict[str, Any]) -> list[Check]:
    """The model against each baseline, by ``deploy.baselines`` (``judgement``)."""
    from .judgement import baseline_verdicts

    return [(v.passed, v.line()) for v in baseline_verdicts(evaluation, cfg).values()]


def champion_rule(champion: dict[str, Any] | None, cfg: dict[str, Any],
                  alpha: float) -> list[Check]:
    """The challenger against the current champion, by ``deploy.champion`` (``judgement``)."""
    from .judgement import champion_verdict

    if champion is None:
        return [(True, "PASS no other champion to compare with")]
    if "error" in champion:
        return [(False, f"FAIL champion v{champion['version']} cannot score the current test "
                        f"rows ({champion['error']}), so the challenger cannot be shown not "
                        "worse; if the feature set changed on purpose, move the alias by hand: "
                        "`MlflowClient().set_registered_model_alias(name, 'champion', version)`")]
    verdict = champion_verdict(champion, cfg, alpha)
    return [(verdict.passed, verdict.line())]


def bias_rule(evaluation: dict[str, Any], charter: dict[str, Any] | None) -> list[Check]:
    """Every audited attribute: a flag blocks if the charter says so (``bias_flags_block``)."""
    from .judgement import bias_verdicts

    return [(not v.blocks, v.line()) for v in bias_verdicts(evaluation, charter)]


def gate(evaluation: dict[str, Any], champion: dict[str, Any] | None,
         cfg: dict[str, Any], charter: dict[str, Any] | None = None) -> tuple[bool, list[str]]:
    """Decide; return (passed, reasons), one reason per check, passed or not.

    The rules are the ``judgement`` module's, which the error-analysis report words its
    findings with, so the two say the same.

    Args:
        evaluation: ``reports/evaluate/evaluation.json`` (criteria judged, comparisons, bias).
        champion: the champion comparison, or None.
        cfg: the ``deploy`` config group (``judge_on``, ``baselines``, ``champion``).
        charter: the charter, for ``bias_flags_block``; None: the setting the evaluation
            recorded from it.
    """
    from .judgement import evaluation_alpha

    checks = [
        *constant_rule(evaluation),
        *charter_rule(evaluation, cfg.get("judge_on", "point")),
        *baselines_rule(evaluation, cfg),
        *champion_rule(champion, cfg, evaluation_alpha(evaluation)),
        *bias_rule(evaluation, charter),
    ]
    return all(ok for ok, _ in checks), [reason for _, reason in checks]


def main() -> None:
    """Register, gate, move aliases (``champion`` only outside experiments), record it all."""
    import mlflow
    from mlflow import MlflowClient

    from . import promotion
    from .registry import CHALLENGER, CHAMPION, alias_version, model_name
    from .tracking import connect, stage_run

    params = load_params()
    cfg = get(params, "deploy")
    get(params, "deploy.judge_on", choices=JUDGE_ON)
    root = project_root()
    info = read_json(root / MODEL_INFO)
    evaluation = read_json(root / EVALUATION)
    charter = read_json(root / CHARTER)
    if not info.get("model_uri"):
        raise ConfigError("train.log_model is false: there is no logged model to deploy; "
                         "set it to true in conf/train/default.yaml.")
    experiment = promotion.current_experiment()
    connect(params)
    client = MlflowClient()
    name = model_name(params)
    version = register(client, name, info)
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    champion = champion_comparison(params, client, name, version.version)
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
    for key, value in {"gate": "passed" if passed else "failed",
                       "threshold": f"{evaluation['threshold']['value']:.6f}",
                       "gate_reasons": " | ".join(reasons)[:4900],
                       promotion.EXPERIMENT_TAG: experiment or promotion.WORKSPACE,
                       promotion.TEST_ROWS_TAG: promotion.workspace_test_rows() or "unknown",
                       promotion.PROMOTION_TAG: promotion_note[:4900]}.items():
        client.set_model_version_tag(name, version.version, key, value)
    decision = {"passed": passed, "promoted": promoted, "experiment": experiment,
                "model_name": name, "version": int(version.version),
                "champion_version": int(current.version) if current else None,
                "judge_on": cfg.get("judge_on", "point"), "reasons": reasons,
                "threshold": evaluation["threshold"]["value"], "champion_comparison": champion}
    if experiment:
        decision["promotion"] = promotion_note
        decision["promote_command"] = promotion.promote_command(version.version)
    markdown = render_decision(decision, charter)
    if experiment:
        markdown = promotion.experiment_markdown(markdown, decision)
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
    with stage_run("deploy", params, groups=("deploy",),
                   extra_tags={"gate": "passed" if passed else "failed",
                               "promoted": str(promoted).lower(),
                               "model_version": str(version.version)}) as run:
        mlflow.log_dict(decision, "decision.json")
        mlflow.log_text(markdown, "decision.md")
        # what `promote` judges the version on later (see promotion.py)
        mlflow.log_dict(evaluation, promotion.EVALUATION_ARTIFACT)
        client.set_model_version_tag(name, version.version, promotion.DEPLOY_RUN_TAG,
                                     run.info.run_id)
    if not passed and cfg.get("strict", False):
        print(f"[deploy] gate failed and deploy.strict is true: {reasons}", file=sys.stderr)
        sys.exit(1)


def is_bias_reason(reason: str) -> bool:
    """Whether a gate reason is a bias-audit line (``bias_rule``)."""
    return reason.split(" ", 1)[-1].startswith("bias audit")


def render_decision(decision: dict[str, Any], charter: dict[str, Any]) -> str:
    """The decision as Markdown: the checks, then every bias flag and whether it blocked."""
    verdict = "PASSED: promoted to `champion`" if decision["passed"] else (
        "FAILED: `champion` unchanged")
    judged = ("the estimate" if decision["judge_on"] == "point" else
              "the interval's unfavourable bound")
    checks = [r for r in decision["reasons"] if not is_bias_reason(r)]
    bias = [r for r in decision["reasons"] if is_bias_reason(r)]
    lines = [f"# Deploy decision: {charter['name']}", "",
             f"Model `{decision['model_name']}` version {decision['version']} (alias "
             f"`challenger`): **{verdict}**.", "",
             f"Charter criteria judged on {judged} (`deploy.judge_on: {decision['judge_on']}`); "
             "comparisons on the AUC difference's interval (`deploy.baselines`, "
             f"`deploy.champion`). Operating threshold {decision['threshold']:.3f}.", "",
             "## Checks", "", *[f"- {r}" for r in checks], "",
             "## Bias flags", "",
             *([f"- {r}" for r in bias] or ["- No sensitive attribute is audited (charter "
                                            "`sensitive_attributes`)."]), "",
             "Serve the champion: `python -m {{ cookiecutter.package_name }}.serve`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    run_stage(main, "deploy")
