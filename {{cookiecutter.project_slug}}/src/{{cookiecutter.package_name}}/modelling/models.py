"""Model families selectable with ``model=<name>`` (one file per family in ``conf/model/``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..core.settings import ModelSettings, PreprocessingSettings


# Size-dependent settings (adapt_to_size). A leaf may hold at most this share of the training
# rows, so a tree can still split into about ten leaves: a configured min_samples_leaf of 50 on
# 87 rows forbids every split and the model predicts one constant.
MAX_LEAF_SHARE = 0.1
# early_stopping "auto" is scikit-learn's rule for histogram gradient boosting: on above this
# many training rows.
EARLY_STOPPING_AUTO_ROWS = 10_000
# An explicit early_stopping: true is turned off when the internal validation split
# (validation_fraction of the rows) would hold fewer rows: its loss is too noisy to stop on.
EARLY_STOPPING_MIN_VALIDATION_ROWS = 100
# Fewer distinct predicted probabilities than this on a split: the model predicts a constant.
MIN_DISTINCT_PREDICTIONS = 2


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


def adapt_to_size(model_cfg: ModelSettings, n_rows: int) -> tuple[ModelSettings, list[dict]]:
    """The model config with its size-dependent settings made safe for ``n_rows`` training rows.

    * ``min_samples_leaf`` (histogram gradient boosting, random forest): an integer above
      ``MAX_LEAF_SHARE`` of the rows is capped there (at least 1); a fraction is left as is.
    * ``early_stopping`` (histogram gradient boosting): ``"auto"`` (or unset) is resolved with
      scikit-learn's rule, on above ``EARLY_STOPPING_AUTO_ROWS`` rows; ``true`` is turned off
      when the internal validation split would hold fewer than
      ``EARLY_STOPPING_MIN_VALIDATION_ROWS`` rows.

    Logistic regression has no size-dependent setting. On large data nothing changes (``auto``
    resolves as scikit-learn would).

    Args:
        model_cfg: the ``model`` settings (``name`` and ``params``).
        n_rows: the rows the model is fitted on.

    Returns:
        The settings with the used values in ``params`` (a copy; the input is frozen), and
        one ``{"param", "configured", "used", "reason"}`` per setting that was resolved or
        changed.
    """
    params = dict(model_cfg.params)
    name = model_cfg.name
    adapted: list[dict[str, Any]] = []

    def use(param: str, value: Any, reason: str) -> None:
        adapted.append({"param": param, "configured": params.get(param), "used": value,
                        "reason": reason})
        params[param] = value

    leaf: Any = params.get("min_samples_leaf")  # whatever conf/ holds: checked below
    cap = max(1, math.floor(MAX_LEAF_SHARE * n_rows))
    is_count = isinstance(leaf, int) and not isinstance(leaf, bool)
    if name in ("hist_gradient_boosting", "random_forest") and is_count and leaf > cap:
        use("min_samples_leaf", cap,
            f"a leaf may hold at most {MAX_LEAF_SHARE:.0%} of the {n_rows} training rows")
    if name == "hist_gradient_boosting":
        stopping = params.get("early_stopping", "auto")
        fraction = params.get("validation_fraction", 0.1)
        if stopping == "auto":
            use("early_stopping", n_rows > EARLY_STOPPING_AUTO_ROWS,
                f"auto: on above {EARLY_STOPPING_AUTO_ROWS:,} training rows, {n_rows} here")
        elif stopping is True and fraction is not None:
            held_out = fraction if isinstance(fraction, int) else math.ceil(fraction * n_rows)
            if held_out < EARLY_STOPPING_MIN_VALIDATION_ROWS:
                use("early_stopping", False, f"its internal validation split would hold "
                    f"{held_out} rows, fewer than {EARLY_STOPPING_MIN_VALIDATION_ROWS}")
    return model_cfg.model_copy(update={"params": params}), adapted


def describe_adaptations(adapted: list[dict]) -> dict[str, str]:
    """``{param: "50 -> 8: <reason>"}`` for the log, the MLflow parameters and the report.

    Args:
        adapted: the second value returned by :func:`adapt_to_size`.
    """
    def shown(value):  # as written in conf/: true, auto; unset when absent
        if value is None:
            return "unset"
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {a["param"]: f"{shown(a['configured'])} -> {shown(a['used'])}: {a['reason']}"
            for a in adapted}


def distinct_predictions(p: ArrayLike) -> int:
    """How many different probabilities ``p`` holds (equal to 12 decimals counts as one)."""
    import numpy as np

    return int(np.unique(np.round(np.asarray(p, dtype=float), 12)).size)


def constant_predictions(by_split: dict[str, Any]) -> dict[str, Any]:
    """Whether a model predicts (nearly) one value for every row of some (non-empty) split.

    Args:
        by_split: predicted probabilities per split name, e.g. ``{"valid": p, "test": p}``.

    Returns:
        ``{"constant": bool, <split>: distinct count, ..., "value": the probability of the
        first constant split, or None}``.
    """
    import numpy as np

    counts = {name: distinct_predictions(p) for name, p in by_split.items()}
    constant = [name for name, n in counts.items() if 0 < n < MIN_DISTINCT_PREDICTIONS]
    value = float(np.asarray(by_split[constant[0]], dtype=float)[0]) if constant else None
    return {"constant": bool(constant), **counts, "value": value}


def build_estimator(model_cfg: ModelSettings, seed: int | None = None) -> Any:
    """Instantiate the configured classifier.

    Args:
        model_cfg: the ``model`` config group (``name`` and ``params``).
        seed: ``train.seed``, used as ``random_state`` when the family takes one and the
            config does not set it.
    """
    name = model_cfg.name
    if name not in FAMILIES:
        raise ConfigError(
            f"model.name is {name!r}; choose one of {', '.join(FAMILIES)} "
            "(a file per family in conf/model/, selected with `model=<name>`)."
        )
    params = dict(model_cfg.params)
    try:
        estimator = FAMILIES[name](**params)
    except TypeError as error:
        raise ConfigError(f"conf/model/{name}.yaml: invalid parameter ({error}).") from error
    takes_seed = "random_state" in estimator.get_params()
    if seed is not None and takes_seed and "random_state" not in params:
        estimator.set_params(random_state=seed)
    return estimator


def build_pipeline(numeric: list[str], categorical: list[str], prepare_cfg: PreprocessingSettings,
                   model_cfg: ModelSettings, seed: int | None = None) -> Any:
    """Preprocessing and classifier as one scikit-learn ``Pipeline``.

    Args:
        numeric: numeric feature columns.
        categorical: categorical feature columns.
        prepare_cfg: the ``prepare.preprocessing`` settings.
        model_cfg: the ``model`` settings.
        seed: the training seed.
    """
    from sklearn.pipeline import Pipeline

    from .features import build_preprocessor

    return Pipeline([
        ("preprocess", build_preprocessor(numeric, categorical, prepare_cfg)),
        ("classifier", build_estimator(model_cfg, seed)),
    ])
