"""conf/ composes for every option, and the charter rejects what no model could meet."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.decisions.charter import validate_charter
from {{ cookiecutter.package_name }}.modelling.models import FAMILIES, build_estimator

GROUPS = ("project", "data", "prepare", "model", "train", "evaluate", "deploy", "monitor", "mlflow")


def composed(project_root, overrides=()):
    """The composed config as plain Python containers (what stages read from params.yaml)."""
    with initialize_config_dir(str(project_root / "conf"), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)


def test_default_config_has_one_group_per_step(project_root):
    cfg = composed(project_root)
    assert set(GROUPS) <= set(cfg)


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_each_model_option_composes_and_builds(project_root, model):
    # given an override selecting the model family, when composed, then it instantiates
    cfg = composed(project_root, [f"model={model}"])
    assert cfg["model"]["name"] == model
    estimator = build_estimator(cfg["model"], seed=0)
    assert hasattr(estimator, "predict_proba")


@pytest.mark.parametrize("source", ["synthetic_clinical", "breast_cancer", "own_file"])
def test_each_data_source_composes(project_root, source):
    assert composed(project_root, [f"data={source}"])["data"]["source"] == source


def test_default_charter_is_valid(project_root):
    charter = validate_charter(composed(project_root)["project"])
    assert charter["success_criteria"]


@pytest.mark.parametrize(("change", "message"), [
    ({"success_criteria": {"acuracy": {"min": 0.8}}}, "unknown metric"),
    ({"success_criteria": {"auc": {"min": 0.9, "max": 0.8}}}, "no model can meet"),
    ({"success_criteria": {"auc": {"min": 1.5}}}, "can never be met"),
    ({"problem": ""}, "problem"),
    ({"subgroup_gap_tolerance": 2}, "subgroup_gap_tolerance"),
])
def test_bad_charter_is_a_clear_error(project_root, change, message):
    charter = {**composed(project_root)["project"], **change}
    with pytest.raises(ConfigError, match=message):
        validate_charter(charter)


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="model.name"):
        build_estimator({"name": "xgboost", "params": {}})
