"""Model families selectable with ``model=<name>`` (one file per family in ``conf/model/``)."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError


def _logistic_regression(**params):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params)


def _random_forest(**params):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params)


def _hist_gradient_boosting(**params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**params)


FAMILIES = {
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
    "hist_gradient_boosting": _hist_gradient_boosting,
}


def build_estimator(model_cfg: dict[str, Any], seed: int | None = None):
    """Instantiate the configured classifier.

    Args:
        model_cfg: the ``model`` config group (``name`` and ``params``).
        seed: ``train.seed``, used as ``random_state`` when the family takes one and the
            config does not set it.
    """
    name = model_cfg.get("name")
    if name not in FAMILIES:
        raise ConfigError(
            f"model.name is {name!r}; choose one of {', '.join(FAMILIES)} "
            "(a file per family in conf/model/, selected with `model=<name>`)."
        )
    params = dict(model_cfg.get("params") or {})
    try:
        estimator = FAMILIES[name](**params)
    except TypeError as error:
        raise ConfigError(f"conf/model/{name}.yaml: invalid parameter ({error}).") from error
    takes_seed = "random_state" in estimator.get_params()
    if seed is not None and takes_seed and "random_state" not in params:
        estimator.set_params(random_state=seed)
    return estimator


def build_pipeline(numeric: list[str], categorical: list[str], prepare_cfg: dict[str, Any],
                   model_cfg: dict[str, Any], seed: int | None = None):
    """Preprocessing and classifier as one scikit-learn ``Pipeline``.

    Args:
        numeric: numeric feature columns.
        categorical: categorical feature columns.
        prepare_cfg: the ``prepare.preprocessing`` config group.
        model_cfg: the ``model`` config group.
        seed: the training seed.
    """
    from sklearn.pipeline import Pipeline

    from .features import build_preprocessor

    return Pipeline([
        ("preprocess", build_preprocessor(numeric, categorical, prepare_cfg)),
        ("classifier", build_estimator(model_cfg, seed)),
    ])
