"""conf/ composes for every option, and the charter rejects what no model could meet."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import GROUPS, validate_params
from {{ cookiecutter.package_name }}.decisions.charter import validate_charter
from {{ cookiecutter.package_name }}.modelling.models import FAMILIES, build_estimator


def test_default_config_has_one_group_per_step(compose_params):
    assert set(compose_params()) == set(GROUPS)


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_each_model_option_composes_and_builds(compose_settings, model):
    # given an override selecting the model family, when composed, then it instantiates
    settings = compose_settings(f"model={model}")
    assert settings.model.name == model
    estimator = build_estimator(settings.model, seed=0)
    assert hasattr(estimator, "predict_proba")


@pytest.mark.parametrize("source", ["synthetic_clinical", "breast_cancer", "own_file"])
def test_each_data_source_composes(compose_settings, source):
    assert compose_settings(f"data={source}").data.source == source


def test_default_charter_is_valid(settings):
    charter = validate_charter(settings.project)
    assert charter["success_criteria"]


@pytest.mark.parametrize(("change", "message"), [
    ({"success_criteria": {"acuracy": {"min": 0.8}}}, "unknown metric"),
    ({"success_criteria": {"auc": {"min": 0.9, "max": 0.8}}}, "no model can meet"),
    ({"success_criteria": {"auc": {"min": 1.5}}}, "can never be met"),
    ({"problem": ""}, "problem"),
    ({"subgroup_gap_tolerance": 2}, "subgroup_gap_tolerance"),
])
def test_bad_charter_is_a_clear_error(project_root, compose_params, change, message):
    # given the charter as shipped with one change; when the stage reads it (the schema, then
    # the charter's own checks); then one error names the problem
    params = compose_params()
    params["project"] = {**params["project"], **change}
    with pytest.raises(ConfigError, match=message):
        validate_charter(validate_params(params, project_root / "conf").project)
