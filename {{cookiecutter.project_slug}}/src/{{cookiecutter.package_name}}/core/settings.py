"""Typed settings: one schema per config group of ``conf/``, checked before any work.

``conf/`` is the single source of truth, defaults included: a field here has no default unless
its key is genuinely optional in ``conf/`` (the schema keys a built-in data source may
override, a baseline's own rule), and ``tests/test_settings.py`` proves that what ``conf/``
ships validates. Every schema forbids unknown keys and is frozen, so a misspelt key is an error
(naming the file under ``conf/``, the line and the close match) instead of a silently ignored
setting.

Stages call :func:`load_settings` first and pass the typed groups (``settings.evaluate``,
``settings.monitor.thresholds``...) down; :func:`validate_params` checks a composed mapping
(the ``compose`` stage calls it right after composing).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ConfigError

# ---------------------------------------------------------------------------------------------
# Shared pieces


class Section(BaseModel):
    """A config section: unknown keys are errors, values cannot be changed after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(gt=0.0, lt=1.0)]  # an open (0, 1) share or probability
Scalar = str | int | float | bool

# ---------------------------------------------------------------------------------------------
# project: the charter


class Bounds(Section):
    """A success criterion's bounds: ``{min: a}``, ``{max: b}`` or both."""

    min: float | None = None
    max: float | None = None


class ProjectSettings(Section):
    """``conf/project/charter.yaml``: the charter ``define`` renders and the gate enforces.

    ``constraints`` is free-form (rendered into the project card, enforced by nothing).
    """

    name: str
    owner: str
    problem: str
    intended_users: str
    decision: str
    target_description: str
    unit_of_prediction: str
    success_criteria: dict[str, Bounds]
    sensitive_attributes: list[str]
    subgroup_gap_tolerance: Share
    bias_flags_block: bool | dict[str, bool]
    human_level_auc: Annotated[float, Field(ge=0.0, le=1.0)] | None
    constraints: dict[str, Scalar | None]


# ---------------------------------------------------------------------------------------------
# data: the source decides which keys are allowed

DATA_SOURCES = ("synthetic_clinical", "breast_cancer", "own_file")
RangeValue = list[float | None] | dict[str, float | None]


class SchemaKeys(Section):
    """The data-set description of ``conf/data/own_file.yaml``.

    Every key is optional: null (or absent) means "infer it" for your own file and "keep the
    built-in value" for ``synthetic_clinical`` and ``breast_cancer``, which accept any of them
    as an override. ``data/spec.py`` checks how they fit together and with the table.
    """

    target: str | None = None
    positive_label: Scalar | None = None
    id_column: str | None = None
    time_column: str | None = None
    group_column: str | None = None
    numeric: list[str] | str | None = None
    categorical: list[str] | str | dict[str, list[Scalar] | None] | None = None
    categories: dict[str, list[Scalar] | None] | None = None
    ranges: dict[str, RangeValue] | None = None
    sensitive: list[str] | str | None = None
    max_missing_share: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    second_label: str | None = None
    exclude: list[str] | str | None = None


class BatchSettings(Section):
    """The simulated "production" batch of a built-in source."""

    n_rows: int = Field(ge=1)
    seed: int
    covariate_shift: float
    prior_shift: float
    concept_shift: float = Field(ge=0.0, le=1.0)


class BreastCancerBatch(BatchSettings):
    """breast_cancer has no known generating model, hence no concept drift."""

    concept_shift: float = Field(ge=0.0, le=0.0)


class SyntheticClinicalData(SchemaKeys):
    """``conf/data/synthetic_clinical.yaml``."""

    source: Literal["synthetic_clinical"]
    n_rows: int = Field(ge=100)
    seed: int
    label_noise: float = Field(ge=0.0, lt=0.5)
    prevalence: Share
    batch: BatchSettings
    legacy_score_column: str | None


class BreastCancerData(SchemaKeys):
    """``conf/data/breast_cancer.yaml``."""

    source: Literal["breast_cancer"]
    batch: BreastCancerBatch
    legacy_score_column: str | None


class OwnFileData(SchemaKeys):
    """``conf/data/own_file.yaml``: only ``path`` and ``target`` are required.

    A key deleted from the file takes the value the file ships (``tests/test_settings.py``
    checks each default here against it).
    """

    source: Literal["own_file"]
    path: str = Field(min_length=1)
    target: str = Field(min_length=1)
    batch_path: str | None = None
    na_values: list[Scalar] = []
    encoding: str | None = None
    separator: str | None = None
    decimal: str | None = None
    numeric: list[str] | str | None = []
    categorical: list[str] | str | dict[str, list[Scalar] | None] | None = []
    categories: dict[str, list[Scalar] | None] | None = {}
    ranges: dict[str, RangeValue] | None = {}
    sensitive: list[str] | str | None = []
    max_missing_share: Annotated[float, Field(ge=0.0, le=1.0)] | None = 0.5
    exclude: list[str] | str | None = []
    legacy_score_column: str | None = None


DataSettings = Annotated[
    SyntheticClinicalData | BreastCancerData | OwnFileData, Field(discriminator="source")
]
DATA_CLASSES: dict[str, type[SchemaKeys]] = {
    "synthetic_clinical": SyntheticClinicalData,
    "breast_cancer": BreastCancerData,
    "own_file": OwnFileData,
}

# ---------------------------------------------------------------------------------------------
# prepare


class LabelQualitySettings(Section):
    cv_folds: int = Field(ge=2)
    seed: int
    max_rows: int = Field(ge=100)


class PreprocessingSettings(Section):
    numeric_imputation: Literal["mean", "median", "most_frequent"]
    missing_indicators: bool
    scaling: Literal["standard", "robust", "none"]
    rare_category_share: float = Field(ge=0.0, lt=1.0)
    log1p_columns: list[str]


class SplitSettings(Section):
    strategy: Literal["stable", "stratified", "grouped", "time"]
    test_size: Share
    valid_size: Share
    seed: int
    group_column: str | None
    time_column: str | None

    @model_validator(mode="after")
    def _room_to_train(self) -> SplitSettings:
        if self.test_size + self.valid_size >= 1.0:
            raise ValueError(
                f"test_size + valid_size is {self.test_size + self.valid_size:g}: together they "
                "must stay below 1, leaving rows to train on"
            )
        return self


class PrepareSettings(Section):
    """``conf/prepare/default.yaml``."""

    label_quality: LabelQualitySettings
    preprocessing: PreprocessingSettings
    split: SplitSettings


# ---------------------------------------------------------------------------------------------
# model: the family decides which hyper-parameters are allowed

MODEL_FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")


class ParamProblem(ValueError):
    """A problem with one hyper-parameter (``key``), for the error message and its line."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def _estimator_class(name: str) -> type[Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic_regression": LogisticRegression,
        "random_forest": RandomForestClassifier,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
    }[name]


# Validation context key: check model.params against the estimator itself. That imports
# scikit-learn (over a second), so only code that builds the estimator, or writes params.yaml
# with a changed model group, asks for it (see load_settings).
CHECK_ESTIMATOR = "check_estimator"


class ModelSettings(Section):
    """``conf/model/<family>.yaml``: the family and its scikit-learn hyper-parameters.

    ``params`` may name any parameter of the family's estimator (``get_params()``), checked with
    scikit-learn's own constraints when the validation context asks for it
    (:data:`CHECK_ESTIMATOR`); ``random_state`` comes from ``train.seed`` unless set.
    """

    name: Literal["logistic_regression", "random_forest", "hist_gradient_boosting"]
    params: dict[str, Any]

    @model_validator(mode="after")
    def _known_params(self, info: ValidationInfo) -> ModelSettings:
        if not (info.context or {}).get(CHECK_ESTIMATOR, True):
            return self
        cls = _estimator_class(self.name)
        allowed = sorted(cls().get_params())
        for key in self.params:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ParamProblem(
                    str(key),
                    f"'{key}' is not a hyper-parameter of {cls.__name__}; {hint}"
                    f"allowed: {', '.join(allowed)}",
                )
        estimator = cls(**self.params)
        validate = getattr(estimator, "_validate_params", None)
        if validate is not None:
            try:
                validate()
            except ValueError as error:  # sklearn's InvalidParameterError names the parameter
                text = str(error)
                key = next((k for k in self.params if f"'{k}' parameter" in text), "")
                raise ParamProblem(key, text) from None
        return self


# ---------------------------------------------------------------------------------------------
# train


class PermutationImportanceSettings(Section):
    n_repeats: int = Field(ge=0)
    max_rows: int = Field(ge=1)


class TrainSettings(Section):
    """``conf/train/default.yaml``."""

    seed: int
    recalibration: Literal["none", "sigmoid", "isotonic"]
    log_model: bool
    permutation_importance: PermutationImportanceSettings


# ---------------------------------------------------------------------------------------------
# evaluate


class ThresholdSettings(Section):
    method: Literal["fixed", "youden", "cost"]
    fixed: Share
    cost_false_positive: float = Field(gt=0.0)
    cost_false_negative: float = Field(gt=0.0)


class SliceSettings(Section):
    min_size: int = Field(ge=1)
    numeric_bins: int = Field(ge=2)


class BiasSettings(Section):
    min_group_size: int = Field(ge=1)


class EvaluateSettings(Section):
    """``conf/evaluate/default.yaml``."""

    threshold: ThresholdSettings
    n_bootstrap: int = Field(ge=20)
    seed: int
    alpha: Share
    calibration_bins: int = Field(ge=2)
    slices: SliceSettings
    bias: BiasSettings


# ---------------------------------------------------------------------------------------------
# deploy

RuleName = Literal["superiority", "non_inferiority", "none"]
BASELINES = ("prior", "logistic", "legacy")


class RuleSettings(Section):
    """A comparison rule: ``superiority`` / ``non_inferiority`` / ``none`` and an AUC margin."""

    rule: RuleName
    margin: float = Field(ge=0.0)


class BaselineRuleSettings(Section):
    """One baseline's own rule; a key left out takes the ``baselines`` group's."""

    rule: RuleName | None = None
    margin: float | None = Field(default=None, ge=0.0)


class BaselinesSettings(RuleSettings):
    per_baseline: dict[Literal["prior", "logistic", "legacy"], BaselineRuleSettings]


class DeploySettings(Section):
    """``conf/deploy/default.yaml``."""

    registered_model_name: str = Field(min_length=1)
    judge_on: Literal["point", "lower_bound"]
    baselines: BaselinesSettings
    champion: RuleSettings
    strict: bool


# ---------------------------------------------------------------------------------------------
# serve


class ServeSettings(Section):
    """``conf/serve/default.yaml``."""

    on_bad_row: Literal["reject", "warn"]
    max_request_mb: float = Field(gt=0.0)

    @property
    def max_bytes(self) -> int:
        """The largest accepted request body, in bytes."""
        return int(self.max_request_mb * 1024 * 1024)


# ---------------------------------------------------------------------------------------------
# monitor


class MonitorThresholds(Section):
    """``monitor.thresholds``: the drift and performance rules of the verdict."""

    alpha: Share
    correction: Literal["holm", "bonferroni"]
    psi_watch: float = Field(ge=0.0)
    psi_drift: float = Field(ge=0.0)
    ks_watch: float = Field(ge=0.0, le=1.0)
    ks_drift: float = Field(ge=0.0, le=1.0)
    psi_epsilon: float = Field(gt=0.0, lt=1.0)
    importance_min: float = Field(ge=0.0, le=1.0)
    max_missing_increase: float = Field(ge=0.0, le=1.0)
    max_unseen_share: float = Field(ge=0.0, le=1.0)
    confidence: Share
    auc_tolerance: float = Field(ge=0.0, lt=0.5)
    oe_tolerance: float = Field(gt=0.0)
    slope_tolerance: float = Field(gt=0.0)
    min_batch_size: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> MonitorThresholds:
        for low, high in (("psi_watch", "psi_drift"), ("ks_watch", "ks_drift")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"{low} ({getattr(self, low)}) exceeds {high} ({getattr(self, high)}): "
                    "the watch level must not be above the drift level"
                )
        return self


class MonitorSettings(Section):
    """``conf/monitor/default.yaml``."""

    batch_name: str | None
    thresholds: MonitorThresholds


# ---------------------------------------------------------------------------------------------
# mlflow


class MlflowSettings(Section):
    """``conf/mlflow/<local|server>.yaml``."""

    tracking_uri: str = Field(min_length=1)
    experiment_name: str = Field(min_length=1)

    @field_validator("tracking_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value != "local" and not value.startswith(("http://", "https://", "sqlite:///",
                                                      "postgresql", "mysql", "databricks")):
            raise ValueError(
                f"{value!r} is neither 'local' (the SQLite file at the project root) nor a "
                "server URL (http://host:5000) or database URI (sqlite:///..., postgresql://...)"
            )
        return value


# ---------------------------------------------------------------------------------------------
# preset: the full run or a quick first look (its overrides are checked in their own groups)


class PresetSettings(Section):
    """``conf/preset/<name>.yaml``: which preset the run used (``default`` or ``fast``)."""

    name: str = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# everything


class Settings(Section):
    """The whole composed configuration (``params.yaml``): one field per config group."""

    project: ProjectSettings
    data: DataSettings
    prepare: PrepareSettings
    model: ModelSettings
    train: TrainSettings
    evaluate: EvaluateSettings
    deploy: DeploySettings
    serve: ServeSettings
    monitor: MonitorSettings
    mlflow: MlflowSettings
    preset: PresetSettings


GROUPS = tuple(Settings.model_fields)

# ---------------------------------------------------------------------------------------------
# Loading, with one message per problem that names the file under conf/, the key and its line


def load_settings(path: str | Path | None = None, *, check_estimator: bool = False) -> Settings:
    """Read ``params.yaml`` (the composed ``conf/``) and validate it.

    ``compose`` checked ``model.params`` against the estimator when it wrote the file; a stage
    re-checks every key, type and range, but the estimator's own constraints only when it
    builds the estimator (``train``), so that the others need not import scikit-learn.

    Args:
        path: the YAML file; defaults to ``params.yaml`` at the project root.
        check_estimator: also check ``model.params`` with scikit-learn's own constraints.

    Raises:
        ConfigError: one message naming each bad key, its file under ``conf/`` and its line.
    """
    from .config import load_params, project_root

    params = load_params(path)
    root = Path(path).resolve().parent if path else project_root()
    return validate_params(params, root / "conf", source=Path(path) if path else None,
                           check_estimator=check_estimator)


def validate_params(params: dict[str, Any], conf_dir: str | Path | None = None,
                    source: Path | None = None, *, check_estimator: bool = True) -> Settings:
    """Validate composed parameters, or raise one :class:`ConfigError` saying what to fix.

    Args:
        params: the composed mapping (``params.yaml``).
        conf_dir: the ``conf/`` folder, to name each key's file and line.
        source: the file ``params`` was read from, named when a group is missing there.
        check_estimator: also check ``model.params`` with scikit-learn's own constraints.
    """
    try:
        return Settings.model_validate(params, context={CHECK_ESTIMATOR: check_estimator})
    except ValidationError as error:
        conf = Path(conf_dir) if conf_dir else None
        problems = [_describe(e, params, conf) for e in _misspellings_once(error.errors())]
        problems = list(dict.fromkeys(problems))
        if len(problems) == 1:
            raise ConfigError(problems[0]) from None
        raise ConfigError(f"{len(problems)} problems in the configuration:\n  - "
                          + "\n  - ".join(problems)) from None


def _misspellings_once(errors: Sequence[Any]) -> list[Any]:
    """The errors without the "missing" of a key that an unknown key beside it misspells.

    ``cost_false_negatve`` is one mistake, not two: the unknown key's message already says
    "did you mean 'cost_false_negative'?".
    """
    missing = {tuple(map(str, e["loc"])): e for e in errors if e["type"] == "missing"}
    meant = set()
    for e in errors:
        if e["type"] != "extra_forbidden":
            continue
        *parent, key = map(str, e["loc"])
        siblings = [loc[-1] for loc in missing if list(loc[:-1]) == parent]
        close = difflib.get_close_matches(key, siblings, n=1, cutoff=0.6)
        if close:
            meant.add((*parent, close[0]))
    return [e for e in errors if tuple(map(str, e["loc"])) not in meant]


def group_options(conf_dir: Path, group: str) -> list[str]:
    """The options of a config group: the stems of ``conf/<group>/*.yaml``."""
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))


def default_options(conf_dir: Path) -> dict[str, str]:
    """``{group: option}`` from the defaults list of ``conf/config.yaml`` (empty if unreadable)."""
    import yaml

    try:
        config = yaml.safe_load((conf_dir / "config.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    chosen: dict[str, str] = {}
    for entry in config.get("defaults") or [] if isinstance(config, dict) else []:
        if isinstance(entry, dict):
            for group, option in entry.items():
                chosen[str(group)] = str(option)
    return chosen


def option_file(conf_dir: Path | None, group: str, params: dict[str, Any]) -> str:
    """The file under ``conf/`` a composed group came from, as ``conf/<group>/<option>.yaml``.

    ``params.yaml`` does not keep the option's name, so it is found from what the group says of
    itself (``data.source``, ``model.name``), else the group's only file, else the option a
    file's content matches, else the defaults list of ``conf/config.yaml``.
    """
    if conf_dir is None or not (conf_dir / group).is_dir():
        return f"conf/{group}/"
    options = group_options(conf_dir, group)
    found = params.get(group)
    section: dict[str, Any] = found if isinstance(found, dict) else {}
    for key in ("source", "name"):
        value = section.get(key)
        if isinstance(value, str) and value in options:
            return f"conf/{group}/{value}.yaml"
    if len(options) == 1:
        return f"conf/{group}/{options[0]}.yaml"
    matches = [o for o in options if _same_values(_read_yaml(conf_dir / group / f"{o}.yaml"),
                                                  section)]
    if len(matches) == 1:
        return f"conf/{group}/{matches[0]}.yaml"
    option = default_options(conf_dir).get(group)
    if option in options:
        return f"conf/{group}/{option}.yaml"
    return f"conf/{group}/"


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def _same_values(file_values: Any, section: dict[str, Any]) -> bool:
    if not isinstance(file_values, dict):
        return False
    keys = [k for k, v in file_values.items() if not isinstance(v, dict)]
    return bool(keys) and all(section.get(k) == file_values[k] for k in keys)


def key_line(path: Path, keys: list[str]) -> int | None:
    """The 1-based line of a nested key in a YAML file, or None when it is not there."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return line
        for key_node, value_node in node.value:
            if str(key_node.value) == str(key):
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return line
    return line


def _value_at(mapping: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping:
            return ...
        mapping = mapping[key]
    return mapping


def schema_at(keys: list[str], params: dict[str, Any]) -> type[BaseModel] | None:
    """The schema that holds the mapping at ``keys`` (for the allowed keys of an unknown one)."""
    current: Any = Settings
    for key in keys:
        current = _field_model(current, key)
        if isinstance(current, dict):
            # the data group: the class its source names (own_file's keys when unknown)
            source = (params.get("data") or {}).get("source") if key == "data" else None
            current = current.get(source, OwnFileData)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_model(model: Any, key: str) -> Any:
    if isinstance(model, _DictOf):
        return model.model
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    field = model.model_fields.get(key)
    if field is None:
        return None
    return _unwrap(field.annotation)


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) > 1:
            return {typing.get_args(m.model_fields["source"].annotation)[0]: m for m in models
                    if "source" in m.model_fields}
        return models[0] if models else None
    if origin is dict:
        value = typing.get_args(annotation)[1]
        inner = _unwrap(value)
        return _DictOf(inner) if inner is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


class _DictOf:
    """A ``dict[str, Model]`` field: any key leads to the model."""

    def __init__(self, model: Any):
        self.model = model


def _describe(error: dict[str, Any], params: dict[str, Any], conf: Path | None) -> str:
    """One line for one validation error: file, line, dotted key, the problem and the fix."""
    loc = [str(part) for part in error["loc"]]
    # a discriminated union adds the tag (data's source) to the location: drop it
    if len(loc) > 1 and loc[0] == "data" and loc[1] in DATA_SOURCES:
        loc = [loc[0], *loc[2:]]
    kind = error["type"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ParamProblem) and cause.key:
        loc = [*loc, "params", cause.key]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        loc = [*loc, "source"]
    if loc and loc[-1] == "[key]":  # a mapping whose keys are fixed names (per_baseline)
        loc, kind = loc[:-1], "extra_forbidden"
    group = loc[0] if loc else ""
    dotted = ".".join(loc)
    if group not in GROUPS:
        if kind == "extra_forbidden":
            close = difflib.get_close_matches(group, GROUPS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return (f"params.yaml: unknown config group '{group}'{hint}; the groups are "
                    f"{', '.join(GROUPS)} (conf/config.yaml's defaults list)")
        return f"params.yaml: {error['msg']}"
    if len(loc) == 1 and kind == "missing":
        return (f"params.yaml has no '{group}' group: add `- {group}: <option>` to the defaults "
                f"list of conf/config.yaml (options: "
                f"{', '.join(group_options(conf, group)) if conf else 'see conf/' + group})")
    where = option_file(conf, group, params)
    file_keys = loc[1:]
    line = None
    if conf is not None and where.endswith(".yaml"):
        line = key_line(conf.parent / where, file_keys)
        if kind == "missing" and len(file_keys) > 1:
            line = key_line(conf.parent / where, file_keys[:-1])
    place = f"{where}, line {line}" if line else where
    value = _value_at(params, loc)
    override = ""
    if conf is not None and where.endswith(".yaml") and kind != "missing" and value is not ...:
        in_file = _value_at(_read_yaml(conf.parent / where), file_keys)
        if in_file is not ... and in_file != value:
            override = f" (from a command-line override: the file says {in_file!r})"
    if kind == "extra_forbidden":
        holder = schema_at(loc[:-1], params)
        allowed = list(holder.model_fields) if holder is not None else []
        if holder is not None and issubclass(holder, SchemaKeys):  # the source's own keys first
            allowed = [k for k in allowed if k not in SchemaKeys.model_fields] + [
                k for k in allowed if k in SchemaKeys.model_fields]
        if loc[:3] == ["deploy", "baselines", "per_baseline"] and len(loc) == 4:
            allowed = list(BASELINES)  # its keys are the baselines' names
        close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        parent = ".".join(loc[:-1])
        if conf is not None and where.endswith(".yaml") and _value_at(
                _read_yaml(conf.parent / where), file_keys) is ...:
            hint = f"(not in that file: a command-line override adds it) {hint}"
        return (f"{place}: unknown key '{dotted}'; {hint}allowed under {parent}: "
                f"{', '.join(allowed) or 'none'}")
    if kind == "missing":
        return (f"{place}: key '{dotted}' is missing; add it (see the commented keys of "
                f"{where})")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        close = difflib.get_close_matches(str(value), DATA_SOURCES, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return (f"{place}: data.source is {value!r}{override}; {hint}allowed: "
                f"{', '.join(DATA_SOURCES)} (a file per source in conf/data/)")
    message = str(cause) if isinstance(cause, ValueError) else error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    shown = "" if value is ... or isinstance(value, dict) else f" is {value!r}{override}:"
    return f"{place}: {dotted}{shown or ':'} {message}"
