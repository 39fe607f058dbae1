"""Promotion is deliberate: experiments never move ``champion``; ``promote`` runs the deploy gate
for one version against the champion of that moment and moves it only if the gate passes.

A real MLflow registry in a temporary SQLite file, real scikit-learn models, a real test split on
disk: the versions are laid out as the deploy stage leaves them (model logged and registered,
``evaluation.json`` in a deploy run, the version tagged with that run and its experiment).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.commands.promote import main as promote_main
from {{ cookiecutter.package_name }}.commands.promote import parse_args
from {{ cookiecutter.package_name }}.core import config
from {{ cookiecutter.package_name }}.core.errors import UserError
from {{ cookiecutter.package_name }}.core.registry import CHAMPION
from {{ cookiecutter.package_name }}.decisions import promotion

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from {{ cookiecutter.package_name }}.core.settings import Settings

NAME = "promotion_test_model"
SCHEMA = {"name": "toy", "target": "y", "id_column": "id", "numeric": ["x1", "x2"],
          "categorical": []}
PASSABLE = {"auc": {"min": 0.5}}      # charter criteria every model here meets
UNREACHABLE = {"auc": {"min": 0.99}}  # ... and none does


def _params(composed: dict) -> dict:
    """The project's own settings (the gate's rules as shipped), a fast bootstrap, and a local
    store."""
    return {**composed,
            "mlflow": {"tracking_uri": "local", "experiment_name": "promotion-tests"},
            "deploy": {**composed["deploy"], "registered_model_name": NAME},
            "evaluate": {**composed["evaluate"], "n_bootstrap": 50}}


def _table(n: int, seed: int) -> pd.DataFrame:
    """x1 carries most of the signal, x2 a little."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.0 * x1 + 0.3 * x2)))).astype(int)
    return pd.DataFrame({"id": [f"r{seed}-{i}" for i in range(n)], "x1": x1, "x2": x2, "y": y})


def _evaluation(model: Any, test: pd.DataFrame, criteria: dict, scratch: Path) -> dict:
    """``evaluation.json`` as the evaluate stage builds and writes it, for ``model`` on ``test``."""
    from {{ cookiecutter.package_name }}.core.io import read_json, write_json
    from {{ cookiecutter.package_name }}.decisions.criteria import constant_finding, judge_criteria, mark_constant
    from {{ cookiecutter.package_name }}.metrics.summary import evaluate_binary

    y, p = test["y"].to_numpy(), model.predict_proba(test[["x1", "x2"]])[:, 1]
    evaluation = evaluate_binary(y, p, threshold=0.5, groups={},
                                 references={"prior": np.full(len(y), y.mean())},
                                 n_bootstrap=50)
    evaluation["threshold"] = {"method": "fixed", "value": 0.5, "chosen_on": "valid"}
    mark_constant(evaluation, constant_finding(p, p))
    evaluation["criteria"] = judge_criteria(evaluation, criteria)
    return read_json(write_json(scratch / "evaluation.json", evaluation))


def _strong():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _weak():
    """A model that sees x2 only: clearly worse than one that sees x1."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(ColumnTransformer([("x2", "passthrough", ["x2"])]),
                         LogisticRegression())


class Registry:
    """The project's registry, and a way to add versions as ``deploy`` records them."""

    def __init__(self, client: MlflowClient, params: Settings, root: Path, train: pd.DataFrame,
                 test: pd.DataFrame) -> None:
        self.client, self.params, self.root, self.train, self.test = (
            client, params, root, train, test)
        self.versions: dict[str, str] = {}

    def add(self, estimator: Any, *, experiment: str, criteria: dict | None) -> str:
        """Fit, log and register a model; record its evaluation unless ``criteria`` is None."""
        import mlflow

        model = estimator.fit(self.train[["x1", "x2"]], self.train["y"])
        with mlflow.start_run() as run:
            logged = mlflow.sklearn.log_model(model, name="model", pip_requirements=[])
            if criteria is not None:
                mlflow.log_dict(_evaluation(model, self.test, criteria, self.root),
                                promotion.EVALUATION_ARTIFACT)
        version = str(mlflow.register_model(logged.model_uri, NAME).version)
        self.client.set_model_version_tag(NAME, version, promotion.EXPERIMENT_TAG, experiment)
        if criteria is not None:
            self.client.set_model_version_tag(NAME, version, promotion.DEPLOY_RUN_TAG,
                                              run.info.run_id)
        return version

    def champion(self) -> str:
        return str(self.client.get_model_version_by_alias(NAME, CHAMPION).version)

    def make_champion(self, version: str) -> None:
        self.client.set_registered_model_alias(NAME, CHAMPION, version)

    def get(self, version: str) -> ModelVersion:
        return self.client.get_model_version(NAME, version)


def champion_line(outcome: promotion.Promotion, version: str) -> str:
    """The gate's reason about the champion ``version`` (whatever its wording)."""
    (line,) = [r for r in outcome.reasons if f"champion v{version}" in r]
    return line


@pytest.fixture(scope="module")
def registry(tmp_path_factory, project_root, compose_params):
    """A project directory (params, schema, test split) with its MLflow store; five versions:

    * ``weak``: sees x2 only, from the workspace's ``dvc repro``;
    * ``strong``: sees x1 and x2, from experiment ``exp-a``; ``strong_again`` likewise, later;
    * ``failing_criteria``: strong, but judged against a charter it cannot meet (``exp-b``);
    * ``unrecorded``: registered without a recorded evaluation (``exp-c``).
    """
    import mlflow
    from mlflow import MlflowClient

    from {{ cookiecutter.package_name }}.core.settings import validate_params
    from {{ cookiecutter.package_name }}.core.tracking import connect

    params = _params(compose_params())
    settings = validate_params(params, project_root / "conf")
    root = tmp_path_factory.mktemp("project")
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "data/interim").mkdir(parents=True)
    (root / "data/interim/schema.json").write_text(json.dumps(SCHEMA))
    (root / "data/processed").mkdir(parents=True)
    test = _table(800, seed=2)
    test.to_parquet(root / "data/processed/test.parquet")
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for variable in ("DVC_ROOT", "DVC_EXP_NAME", "MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI"):
            patch.delenv(variable, raising=False)
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        config.project_root.cache_clear()
        experiment_id = connect(settings.mlflow)   # sqlite:///<root>/mlflow.db, as stages use it
        mlflow.set_experiment(experiment_id=experiment_id)
        store = Registry(MlflowClient(), settings, root, _table(1500, seed=1), test)
        store.versions["weak"] = store.add(_weak(), experiment="workspace", criteria=PASSABLE)
        store.versions["strong"] = store.add(_strong(), experiment="exp-a", criteria=PASSABLE)
        store.versions["strong_again"] = store.add(_strong(), experiment="exp-a",
                                                   criteria=PASSABLE)
        store.versions["failing_criteria"] = store.add(_strong(), experiment="exp-b",
                                                       criteria=UNREACHABLE)
        store.versions["unrecorded"] = store.add(_strong(), experiment="exp-c", criteria=None)
        yield store
        config.project_root.cache_clear()
    mlflow.set_tracking_uri(previous)


def test_only_a_run_outside_experiments_promotes(monkeypatch):
    # given `dvc repro` (no DVC_EXP_NAME), then any `dvc exp run` (DVC sets it, queued or not)
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    assert promotion.current_experiment() is None
    monkeypatch.setenv("DVC_EXP_NAME", "rf-sweep-1")
    # then the first may promote, the second is named as an experiment
    assert promotion.current_experiment() == "rf-sweep-1"


def test_an_experiments_decision_says_not_promoted_and_how_to_promote():
    # given deploy's rendering of a passed gate, in experiment `exp-a`
    rendered = ("# Deploy decision: Toy\n\nModel `m` version 3 (alias `challenger`): "
                "**PASSED: promoted to `champion`**.\n\n## Checks\n\n- PASS ...\n")
    decision = {"experiment": "exp-a", "version": 3, "passed": True}
    # when it is rewritten for an experiment
    text = promotion.experiment_markdown(rendered, decision)
    # then it says registered, not promoted, why, and the command, before the checks
    head = text.split("## Checks")[0]
    assert "Registered as challenger version 3; not promoted because this is an experiment " \
           "(`exp-a`)" in head
    assert "promote --version 3" in head
    assert "promoted to `champion`" not in text and "gate PASSED, NOT promoted" in text


def test_a_version_better_than_the_champion_is_promoted(registry):
    # given the weak model as champion and the strong one registered by an experiment
    registry.make_champion(registry.versions["weak"])
    candidate = registry.get(registry.versions["strong"])
    # when it is promoted
    outcome = promotion.promote(registry.params, registry.client, NAME, candidate)
    # then the gate passed against that champion and champion moved, said and tagged
    assert outcome.passed and outcome.promoted and not outcome.forced
    assert registry.champion() == registry.versions["strong"]
    assert champion_line(outcome, registry.versions["weak"]).startswith("PASS")
    assert f"PROMOTED: champion -> v{candidate.version}" in promotion.render(outcome)
    tags = registry.get(candidate.version).tags
    assert tags["promotion_gate"] == "passed" and tags["promotion"].startswith("promoted")


def test_a_version_worse_than_the_champion_is_refused_and_champion_stays(registry):
    # given the strong model as champion
    registry.make_champion(registry.versions["strong"])
    candidate = registry.get(registry.versions["weak"])
    # when the weak one is promoted
    outcome = promotion.promote(registry.params, registry.client, NAME, candidate)
    # then the gate fails on the champion check, champion stays, the reason is printed
    assert not outcome.passed and not outcome.promoted
    assert registry.champion() == registry.versions["strong"]
    against_champion = champion_line(outcome, registry.versions["strong"])
    assert against_champion.startswith("FAIL")
    text = promotion.render(outcome)
    assert f"REFUSED: champion stays v{registry.versions['strong']}" in text
    assert against_champion.removeprefix("FAIL ") in text.splitlines()[-1]
    assert registry.get(candidate.version).tags["promotion_gate"] == "failed"


def test_force_moves_champion_over_a_failed_gate_and_writes_it_on_the_version(registry):
    # given a version whose charter criteria failed, and a champion
    registry.make_champion(registry.versions["weak"])
    candidate = registry.get(registry.versions["failing_criteria"])
    # when it is promoted without, then with --force
    refused = promotion.promote(registry.params, registry.client, NAME, candidate)
    forced = promotion.promote(registry.params, registry.client, NAME, candidate, force=True)
    # then the first refuses, the second moves champion and says so on the version
    assert not refused.promoted and forced.promoted and forced.forced and not forced.passed
    assert registry.champion() == str(candidate.version)
    after = registry.get(candidate.version)
    assert "with --force" in after.description and "FAIL charter `auc >= 0.99`" in after.description
    assert after.tags["promotion"].startswith("forced to champion over a FAILED gate")
    assert promotion.render(forced).splitlines()[-1].startswith("FORCED")


def test_the_champion_itself_is_left_alone(registry):
    # given a champion, when it is promoted again
    registry.make_champion(registry.versions["strong"])
    outcome = promotion.promote(registry.params, registry.client, NAME,
                                registry.get(registry.versions["strong"]))
    # then nothing is judged or moved
    assert outcome.already and not outcome.promoted and outcome.reasons == []
    assert registry.champion() == registry.versions["strong"]


def test_an_experiment_name_finds_the_newest_version_it_registered(registry):
    # given two versions registered by experiment exp-a
    # when the version is looked up by experiment name
    found = promotion.resolve_version(registry.client, NAME, experiment="exp-a")
    # then it is the newer one; an unknown name is refused, naming the known experiments
    assert str(found.version) == registry.versions["strong_again"]
    with pytest.raises(UserError, match=r"exp-a, exp-b, exp-c"):
        promotion.resolve_version(registry.client, NAME, experiment="nope")
    with pytest.raises(UserError, match=r"has no version 99"):
        promotion.resolve_version(registry.client, NAME, version="99")


def test_a_version_without_a_recorded_evaluation_is_refused_with_the_way_out(registry):
    # given a version registered without its evaluation
    candidate = registry.get(registry.versions["unrecorded"])
    # when it is promoted, then the error names the missing record and what to do
    with pytest.raises(UserError, match=r"deploy_run_id.*re-run its pipeline"):
        promotion.promote(registry.params, registry.client, NAME, candidate)


def test_the_command_promotes_or_refuses_with_its_exit_status(registry, capsys):
    # given the strong model as champion
    registry.make_champion(registry.versions["strong"])
    # when the command promotes the weak one
    refused = promote_main(["--version", registry.versions["weak"]])
    refused_out = capsys.readouterr().out
    # then it exits 1 and says REFUSED with the failed check; champion stays
    champion_check = next(line.strip() for line in refused_out.splitlines()
                          if f"champion v{registry.versions['strong']}" in line
                          and line.strip().startswith(("PASS", "FAIL")))
    assert refused == 1 and "REFUSED" in refused_out and champion_check.startswith("FAIL")
    assert registry.champion() == registry.versions["strong"]
    # when the weak one is champion and experiment exp-a's newest version is promoted
    registry.make_champion(registry.versions["weak"])
    promoted = promote_main(["--experiment", "exp-a"])
    promoted_out = capsys.readouterr().out
    # then it exits 0, says PROMOTED, and champion moved to it
    assert promoted == 0 and "PROMOTED" in promoted_out, promoted_out
    assert registry.champion() == registry.versions["strong_again"]


def test_the_command_needs_one_version_or_one_experiment(capsys):
    # given no choice, or both: then argparse refuses (status 2) and says which
    for argv in ([], ["--version", "1", "--experiment", "x"]):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(argv)
        assert exit_info.value.code == 2
    assert "--version" in capsys.readouterr().err
    assert parse_args(["--experiment", "exp-a", "--force"]).force


def test_rows_digest_follows_ids_and_labels():
    # given the same rows, then the same digest; another label, another digest
    ids, y = np.array(["a", "b"]), np.array([0, 1])
    assert promotion.rows_digest(ids, y) == promotion.rows_digest(ids.copy(), y.copy())
    assert promotion.rows_digest(ids, y) != promotion.rows_digest(ids, np.array([1, 1]))
