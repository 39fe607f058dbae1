"""The deploy gate: named rules over the evaluation, the champion comparison and the charter.

Each rule returns its checks, ``(passed, reason)``; ``gate`` runs them all. The rules and their
words are ``judgement``'s, shared with the error-analysis report, so the two say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from ..core.settings import DeploySettings, Settings


def champion_comparison(settings: Settings, client: MlflowClient, name: str,
                        candidate_version: str,
                        candidate_uri: str | None = None) -> dict[str, Any] | None:
    """Paired comparison of the candidate with the current champion on the test rows.

    Returns None when there is no champion or the champion is this very version.

    Args:
        settings: the validated settings (``evaluate``: the bootstrap's resamples, seed and
            level).
        candidate_uri: score this model on the test rows instead of reading the pipeline's
            predictions (``promote``: a registered version, perhaps trained in an experiment).
    """
    import mlflow

    from ..core.io import read_parquet
    from ..core.paths import MODEL_PREDICTIONS
    from ..core.registry import CHAMPION, alias_version
    from ..data.dataset import load_schema, load_split
    from ..metrics.compare import compare_models

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
    import numpy as np

    cfg = settings.evaluate
    comparison = compare_models(
        y, np.asarray(p_candidate, dtype=float), p_champion,
        n_resamples=cfg.n_bootstrap, rng=np.random.default_rng(cfg.seed), alpha=cfg.alpha,
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
    from ..decisions.judgement import criterion_check

    constant = bool((evaluation.get("constant_predictions") or {}).get("constant"))
    checks = []
    for c in evaluation["criteria"]:
        ok, words = criterion_check(c, judge_on, constant)
        checks.append((ok, f"{'PASS' if ok else 'FAIL'} charter `{c['rule']}`: {words}"))
    return checks


def baselines_rule(evaluation: dict[str, Any], cfg: DeploySettings) -> list[Check]:
    """The model against each baseline, by ``deploy.baselines`` (``judgement``)."""
    from ..decisions.judgement import baseline_verdicts

    return [(v.passed, v.line()) for v in baseline_verdicts(evaluation, cfg).values()]


def champion_rule(champion: dict[str, Any] | None, cfg: DeploySettings,
                  alpha: float) -> list[Check]:
    """The challenger against the current champion, by ``deploy.champion`` (``judgement``)."""
    from ..decisions.judgement import champion_verdict

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
    from ..decisions.judgement import bias_verdicts

    return [(not v.blocks, v.line()) for v in bias_verdicts(evaluation, charter)]


def gate(evaluation: dict[str, Any], champion: dict[str, Any] | None,
         cfg: DeploySettings | Mapping[str, Any] | None,
         charter: dict[str, Any] | None = None) -> tuple[bool, list[str]]:
    """Decide; return (passed, reasons), one reason per check, passed or not.

    The rules are the ``judgement`` module's, which the error-analysis report words its
    findings with, so the two say the same.

    Args:
        evaluation: ``reports/evaluate/evaluation.json`` (criteria judged, comparisons, bias).
        champion: the champion comparison, or None.
        cfg: the ``deploy`` settings (``judge_on``, ``baselines``, ``champion``); a mapping or
            None: over the shipped ``conf/deploy/default.yaml`` (``judgement.deploy_settings``).
        charter: the charter, for ``bias_flags_block``; None: the setting the evaluation
            recorded from it.
    """
    from ..decisions.judgement import deploy_settings, evaluation_alpha

    deploy = deploy_settings(cfg)
    checks = [
        *constant_rule(evaluation),
        *charter_rule(evaluation, deploy.judge_on),
        *baselines_rule(evaluation, deploy),
        *champion_rule(champion, deploy, evaluation_alpha(evaluation)),
        *bias_rule(evaluation, charter),
    ]
    return all(ok for ok, _ in checks), [reason for _, reason in checks]


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
             "Serve the champion: `{{ cookiecutter.package_name }} serve`.", ""]
    return "\n".join(lines)
