"""Typed settings: conf/ as shipped validates, and every kind of mistake is one clear message.

Each test copies the real conf/ to a temporary project, makes one mistake a user makes, composes
it as the ``compose`` stage does (or reads a hand-edited params.yaml as every other stage does)
and reads the message: the file under conf/, the key or line, what is allowed.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import get_args

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.composition import compose
from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import (
    DATA_SOURCES,
    GROUPS,
    MODEL_FAMILIES,
    BreastCancerData,
    ModelSettings,
    OwnFileData,
    PrepareSettings,
    PreprocessingSettings,
    RuleName,
    Settings,
    SplitSettings,
    ThresholdSettings,
    TrainSettings,
    load_settings,
    validate_params,
)

CONF = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a copy of the real conf/ (and the dvc.yaml that marks its root)."""
    shutil.copytree(CONF, tmp_path / "conf")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    return tmp_path


def edit(project: Path, relative: str, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in ``conf/<relative>``."""
    path = project / "conf" / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(project: Path, relative: str, needle: str) -> int:
    """The 1-based line of ``conf/<relative>`` holding ``needle``."""
    lines = (project / "conf" / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def composed_error(project: Path, overrides: tuple[str, ...] = ()) -> str:
    """The message the ``compose`` stage stops with: composition, then validation."""
    with pytest.raises(ConfigError) as caught:
        compose(list(overrides), root=project)
        load_settings(project / "params.yaml")
    return str(caught.value)


def default_option(group: str) -> str:
    config = yaml.safe_load((CONF / "config.yaml").read_text(encoding="utf-8"))
    return next(entry[group] for entry in config["defaults"]
                if isinstance(entry, dict) and group in entry)


# ------------------------------------------------------------------ conf/ as shipped


@pytest.mark.parametrize(("source", "model"), itertools.product(DATA_SOURCES, MODEL_FAMILIES))
def test_conf_as_shipped_validates_for_every_data_source_and_model(compose_settings, source,
                                                                   model):
    # given conf/ as shipped, with each data source and each model family selected
    # when composed and validated
    settings = compose_settings(f"data={source}", f"model={model}")
    # then the typed settings are what the files say
    assert settings.data.source == source and settings.model.name == model
    assert isinstance(settings, Settings)


def test_the_compose_stage_writes_params_that_load_as_typed_settings(project):
    # given the shipped conf/; when the compose stage composes it and a stage loads it
    compose(root=project)
    settings = load_settings(project / "params.yaml")
    # then every group is there, typed and frozen
    assert set(type(settings).model_fields) == set(GROUPS)
    assert isinstance(settings.prepare.split.test_size, float)
    with pytest.raises(ValueError, match="frozen"):
        settings.evaluate.seed = 3  # type: ignore[misc]


def test_the_schemas_choices_are_the_options_in_conf_and_the_codes_names():
    # given the schema's choices; then they are the files under conf/ and the names the code
    # dispatches on (no second list drifting apart)
    from {{ cookiecutter.package_name }}.data.sources import SOURCES
    from {{ cookiecutter.package_name }}.decisions.judgement import RULES
    from {{ cookiecutter.package_name }}.metrics.threshold import THRESHOLD_METHODS
    from {{ cookiecutter.package_name }}.modelling.features import SCALERS
    from {{ cookiecutter.package_name }}.modelling.models import FAMILIES
    from {{ cookiecutter.package_name }}.preparation.splits import STRATEGIES

    assert sorted(p.stem for p in (CONF / "data").glob("*.yaml")) == sorted(DATA_SOURCES)
    assert sorted(p.stem for p in (CONF / "model").glob("*.yaml")) == sorted(MODEL_FAMILIES)
    assert tuple(SOURCES) == DATA_SOURCES
    assert set(FAMILIES) == set(MODEL_FAMILIES)
    assert set(get_args(ModelSettings.model_fields["name"].annotation)) == set(MODEL_FAMILIES)
    assert set(get_args(SplitSettings.model_fields["strategy"].annotation)) == set(STRATEGIES)
    assert set(get_args(RuleName)) == set(RULES)
    assert set(get_args(ThresholdSettings.model_fields["method"].annotation)) == set(
        THRESHOLD_METHODS)
    assert set(get_args(PreprocessingSettings.model_fields["scaling"].annotation)) == set(SCALERS)


def test_the_one_default_kept_in_code_equals_conf():
    # given own_file's max_missing_share, which spec.py falls back to for a mapping without it
    from {{ cookiecutter.package_name }}.data.spec import MAX_MISSING_SHARE

    shipped = yaml.safe_load((CONF / "data/own_file.yaml").read_text(encoding="utf-8"))
    assert shipped["max_missing_share"] == MAX_MISSING_SHARE


def test_own_files_optional_keys_default_to_what_conf_ships():
    # given conf/data/own_file.yaml, whose keys but path and target a user may delete
    shipped = yaml.safe_load((CONF / "data/own_file.yaml").read_text(encoding="utf-8"))
    optional = {name: field.get_default() for name, field in OwnFileData.model_fields.items()
                if not field.is_required()}
    # then each default in the schema is the value the file ships (one default, two places)
    assert optional == {name: shipped[name] for name in optional}


def test_no_group_schema_fills_in_a_key_conf_leaves_out():
    # given the schemas of the groups whose keys are all shipped in conf/ (defaults live there)
    for schema in (TrainSettings, ThresholdSettings, PrepareSettings, SplitSettings):
        # then every field is required: a key deleted from conf/ is an error, not a default
        assert all(field.is_required() for field in schema.model_fields.values()), schema


# ------------------------------------------------------------- mistakes in conf/ files


def test_a_failed_composition_leaves_the_last_good_params_yaml(project):
    # given a composed params.yaml, then a mistake in conf/
    compose(root=project)
    good = (project / "params.yaml").read_text(encoding="utf-8")
    edit(project, "prepare/default.yaml", "test_size: 0.2", "test_size: abc")
    # when composed again, then it fails and params.yaml is the last good one, no scratch left
    composed_error(project)
    assert (project / "params.yaml").read_text(encoding="utf-8") == good
    assert not list(project.glob(".compose-*"))


def test_a_misspelt_key_names_the_file_line_and_the_close_match(project):
    # given the cost of a missed positive misspelt in conf/evaluate/default.yaml
    edit(project, "evaluate/default.yaml", "cost_false_negative:", "cost_false_negatve:")
    # when composed
    message = composed_error(project)
    # then one message: the file, its line, the dotted key and the key meant
    line = line_of(project, "evaluate/default.yaml", "cost_false_negatve")
    assert message.startswith(f"conf/evaluate/default.yaml, line {line}: ")
    assert "unknown key 'evaluate.threshold.cost_false_negatve'" in message
    assert "did you mean 'cost_false_negative'?" in message
    assert "\n" not in message


def test_an_unknown_key_in_train_lists_the_allowed_keys(project):
    # given a key conf/train/default.yaml does not have
    path = project / "conf/train/default.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "epochs: 10\n", encoding="utf-8")
    # when composed
    message = composed_error(project)
    # then the file, the line and what is allowed there
    line = line_of(project, "train/default.yaml", "epochs")
    assert message.startswith(f"conf/train/default.yaml, line {line}: unknown key 'train.epochs'")
    assert "allowed under train: seed, recalibration, log_model, permutation_importance" in message


def test_a_wrong_type_names_the_key_and_the_value(project):
    # given a share that is not a number
    edit(project, "prepare/default.yaml", "test_size: 0.2", "test_size: abc")
    # when composed
    message = composed_error(project)
    # then the file, line, dotted key, the value and what it should be
    line = line_of(project, "prepare/default.yaml", "test_size: abc")
    assert message.startswith(f"conf/prepare/default.yaml, line {line}: ")
    assert "prepare.split.test_size is 'abc'" in message
    assert "valid number" in message


def test_an_out_of_range_value_says_the_range(project):
    # given a test share above 1
    edit(project, "prepare/default.yaml", "test_size: 0.2", "test_size: 1.5")
    message = composed_error(project)
    assert "conf/prepare/default.yaml, line" in message
    assert "prepare.split.test_size is 1.5" in message and "less than 1" in message


def test_a_wrong_choice_lists_the_choices(project):
    edit(project, "evaluate/default.yaml", "method: youden", "method: younden")
    message = composed_error(project)
    assert "evaluate.threshold.method is 'younden'" in message
    assert "'fixed', 'youden' or 'cost'" in message


def test_an_unknown_hyper_parameter_names_it_and_the_estimators_own(project):
    # given a misspelt hyper-parameter in the default model's file
    model = default_option("model")
    first = next(iter(yaml.safe_load((CONF / f"model/{model}.yaml").read_text())["params"]))
    edit(project, f"model/{model}.yaml", f"  {first}:", f"  {first}x:")
    # when composed
    message = composed_error(project)
    # then the key, the close match and the estimator's parameters
    assert message.startswith(f"conf/model/{model}.yaml, line ")
    assert f"model.params.{first}x" in message
    assert f"did you mean '{first}'?" in message and "allowed: " in message


def test_a_hyper_parameter_scikit_learn_refuses_is_named(compose_params):
    params = compose_params("model=random_forest")
    params["model"]["params"]["n_estimators"] = -5
    with pytest.raises(ConfigError, match=r"model.params.n_estimators is -5 .*The 'n_estimators' "
                                          r"parameter of RandomForestClassifier must be"):
        validate_params(params, CONF)


def test_the_data_source_decides_which_keys_are_allowed(compose_params):
    # given breast_cancer (no generator: no n_rows) and synthetic_clinical overriding a schema
    # key of own_file (allowed, as conf/data/*.yaml say)
    params = compose_params("data=breast_cancer")
    params["data"]["n_rows"] = 100
    with pytest.raises(ConfigError, match=r"conf/data/breast_cancer.yaml: unknown key "
                                          r"'data.n_rows'; .*allowed under data: source, batch"):
        validate_params(params, CONF)
    params = compose_params("data=synthetic_clinical")
    params["data"]["max_missing_share"] = 0.3
    assert validate_params(params, CONF).data.max_missing_share == 0.3
    # and breast_cancer has no concept drift to simulate
    params = compose_params("data=breast_cancer")
    params["data"]["batch"]["concept_shift"] = 0.5
    with pytest.raises(ConfigError, match=r"data.batch.concept_shift is 0.5"):
        validate_params(params, CONF)


def test_own_file_needs_path_and_target(compose_params):
    params = compose_params("data=own_file")
    del params["data"]["target"]
    with pytest.raises(ConfigError, match=r"conf/data/own_file.yaml, line \d+: key 'data.target' "
                                          r"is missing"):
        validate_params(params, CONF)
    assert set(OwnFileData.model_fields) > set(BreastCancerData.model_fields) - {"batch"}


def test_an_unknown_data_source_lists_the_sources(compose_params):
    params = compose_params()
    params["data"]["source"] = "excel"
    with pytest.raises(ConfigError, match=r"data.source is 'excel'.*allowed: synthetic_clinical, "
                                          r"breast_cancer, own_file"):
        validate_params(params, CONF)


def test_several_problems_are_listed_in_one_message(project):
    edit(project, "prepare/default.yaml", "test_size: 0.2", "test_size: abc")
    edit(project, "evaluate/default.yaml", "cost_false_negative:", "cost_false_negatve:")
    message = composed_error(project)
    assert message.startswith("2 problems in the configuration:")
    assert "prepare.split.test_size" in message and "cost_false_negatve" in message


# ----------------------------------------------------- what Hydra and YAML refuse


def test_a_yaml_syntax_error_names_the_file_and_line(project):
    # given an unclosed bracket in conf/evaluate/default.yaml
    edit(project, "evaluate/default.yaml", "n_bootstrap: 1000", "n_bootstrap: [1000")
    # when composed
    message = composed_error(project)
    # then the file and a line at or just after the bracket, and that it is a syntax error
    match = re.match(r"conf/evaluate/default.yaml, line (\d+): YAML syntax error", message)
    assert match, message
    assert int(match.group(1)) in {line_of(project, "evaluate/default.yaml", "[1000") + k
                                   for k in (0, 1)}


def test_a_deleted_group_file_is_named_with_the_way_back(project):
    # given conf/train/default.yaml deleted
    (project / "conf/train/default.yaml").unlink()
    message = composed_error(project)
    assert message.startswith("conf/train/default.yaml is missing")
    assert "git checkout conf/train/default.yaml" in message


def test_an_unknown_option_in_the_defaults_list_lists_the_options(project):
    # given `model: nope` in conf/config.yaml's defaults list
    edit(project, "config.yaml", f"- model: {default_option('model')}", "- model: nope")
    message = composed_error(project)
    # then the cause and every file of conf/model/
    assert "conf/config.yaml's defaults list (`- model: nope`)" in message
    assert "there is no conf/model/nope.yaml" in message
    assert f"available options: {', '.join(sorted(MODEL_FAMILIES))}" in message


def test_an_unknown_option_given_as_an_override_names_the_override(project):
    message = composed_error(project, ("model=random_forrest",))
    assert message.startswith("the override `model=random_forrest` selects model option")
    assert "did you mean 'random_forest'?" in message


def test_an_override_of_a_key_no_group_has_suggests_the_key(project):
    message = composed_error(project, ("evaluate.threshold.methd=cost",))
    assert "the override `evaluate.threshold.methd=cost`" in message
    assert "did you mean 'evaluate.threshold.method'?" in message


def test_an_unknown_group_in_the_defaults_list_suggests_the_group(project):
    edit(project, "config.yaml", "- serve: default", "- serv: default")
    message = composed_error(project)
    assert "config group 'serv', which does not exist" in message
    assert "did you mean 'serve'?" in message


# ---------------------------------------------------- a stage reading params.yaml


def test_a_stage_reading_a_hand_edited_params_yaml_fails_the_same_way(project):
    # given params.yaml composed from conf/, then edited by hand (as `dvc exp run -S` or a
    # user could): a misspelt key, and a value conf/ does not hold
    compose(root=project)
    path = project / "params.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("cost_false_negative:", "cost_false_negatve:", 1),
                    encoding="utf-8")
    # when a stage loads its settings
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    # then the message names the conf/ file the group comes from, the key and the close match
    message = str(caught.value)
    assert message.startswith("conf/evaluate/default.yaml, line ")
    assert "evaluate.threshold.cost_false_negatve" in message
    assert "did you mean 'cost_false_negative'?" in message
    # and a value that differs from conf/ is said to come from an override
    params = yaml.safe_load(text)
    params["prepare"]["split"]["test_size"] = 1.5
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"test_size is 1.5 \(from a command-line override: "
                                          r"the file says 0.2\)"):
        load_settings(path)


def test_a_broken_params_yaml_names_its_line(project):
    compose(root=project)
    path = project / "params.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "evaluate: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"params.yaml, line \d+ is not valid YAML"):
        load_settings(path)


def test_the_option_file_is_found_for_an_option_selected_by_override(project):
    # given model=random_forest selected on the command line (params.yaml has no option names)
    compose(["model=random_forest"], root=project)
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["model"]["params"]["max_dept"] = 3
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    # when the stage that builds the estimator loads it (the others skip scikit-learn's import)
    # then the message names that option's file, found from model.name
    with pytest.raises(ConfigError, match=r"^conf/model/random_forest.yaml, line \d+: model.params"
                                          r".max_dept .*did you mean 'max_depth'\?"):
        load_settings(path, check_estimator=True)


@pytest.mark.slow
def test_the_compose_stage_prints_one_line_and_no_traceback(project):
    # given a misspelt key in conf/, when the compose stage runs as DVC runs it
    import subprocess
    import sys

    edit(project, "evaluate/default.yaml", "cost_false_negative:", "cost_false_negatve:")
    done = subprocess.run([sys.executable, "-m", "{{ cookiecutter.package_name }}.stages.compose"],
                          cwd=project, capture_output=True, text=True, timeout=120)
    # then it fails with one error line naming the file, the line and the key meant
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    line = line_of(project, "evaluate/default.yaml", "cost_false_negatve")
    assert errors[0].startswith(f"[compose] ERROR: conf/evaluate/default.yaml, line {line}: ")
    assert "did you mean 'cost_false_negative'?" in errors[0]
    assert not (project / "params.yaml").exists()
