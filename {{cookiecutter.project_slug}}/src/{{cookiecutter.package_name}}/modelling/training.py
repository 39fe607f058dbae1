"""Fitting the configured model inside its preprocessing pipeline, and permutation importance."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.settings import ModelSettings, PermutationImportanceSettings, Settings
from ..data.dataset import categorical_features, numeric_features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)
# The training AUC and Brier only show how far the fit is from the validation figures
# (overfitting); on this many sampled training rows their standard error is about 0.003, far
# below any gap worth acting on, while predicting every training row costs as much as a large
# share of the fit. Below it every training row is used.
TRAIN_METRICS_MAX_ROWS = 50_000


def fit_model(settings: Settings, model_cfg: ModelSettings, schema: dict[str, Any],
              X: pd.DataFrame, y: np.ndarray, X_valid: pd.DataFrame | None = None,
              y_valid: np.ndarray | None = None) -> Any:
    """Fit the pipeline of ``model`` + ``prepare.preprocessing``, recalibrated if configured.

    Args:
        settings: the validated settings (``prepare.preprocessing``, ``train``).
        model_cfg: the model to fit (``settings.model`` as adapted to the data size).
        schema: the dataset schema.
        X: training features; y: training labels.
        X_valid: validation features, used only for recalibration.
        y_valid: validation labels.
    """
    from .models import build_pipeline

    pipeline = build_pipeline(
        numeric_features(schema), categorical_features(schema),
        settings.prepare.preprocessing, model_cfg, settings.train.seed,
    )
    pipeline.fit(X, y)
    method = settings.train.recalibration
    if method == "none":
        return pipeline
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    # The fitted pipeline is frozen; only the calibration map is learnt, on rows it never saw.
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method=method)
    return calibrated.fit(X_valid, y_valid)


def metric_rows(n_rows: int, seed: int, max_rows: int = TRAIN_METRICS_MAX_ROWS) -> np.ndarray:
    """Positions of the training rows the training metrics are computed on, in table order.

    Args:
        n_rows: the training rows.
        seed: ``train.seed``: the same rows for the same data.
        max_rows: the bound; at or below it every row, in order.
    """
    import numpy as np

    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))


def drop_interval(y: np.ndarray, p: np.ndarray, permuted: list[np.ndarray],
                  alpha: float = 0.05) -> tuple[float, float]:
    """Standard error and half-width of the mean drop in AUC from ``p`` to the ``permuted`` scores.

    The drop ``AUC(p) - mean_r AUC(permuted_r)`` is a linear contrast of AUCs on the same rows,
    so its DeLong variance (DeLong et al. 1988) is that of the per-row placement values of
    ``p`` minus the mean placement values of the permuted scores: over the positives divided
    by their number plus over the negatives divided by theirs. With one repeat it is the paired
    DeLong interval of ``metrics.compare.paired_delong``. It is the uncertainty from the
    validation rows with the permutations held fixed (``std`` shows the repeats' spread).

    Args:
        y: 0/1 labels; p: the model's scores of the same rows.
        permuted: the scores with one feature permuted, one array per repeat.
        alpha: miss rate of the two-sided interval.

    Returns:
        ``(se, half_width)``; the interval is the drop -/+ the half-width.
    """
    import numpy as np

    from ..metrics.discrimination import placement_values
    from ..metrics.intervals import normal_interval
    from ..metrics.sorting import SortedScores

    labels = np.asarray(y).astype(np.int8)
    positive = labels == 1
    v10, v01 = placement_values(SortedScores.build(labels, np.asarray(p, dtype=np.float64)))
    for scores in permuted:
        w10, w01 = placement_values(SortedScores.build(labels, scores.astype(np.float64)))
        v10 -= w10 / len(permuted)
        v01 -= w01 / len(permuted)
    variance = (v10[positive].var(ddof=1) / positive.sum()
                + v01[~positive].var(ddof=1) / (~positive).sum())
    se = float(np.sqrt(variance))
    lo, _ = normal_interval(0.0, se, alpha)
    return se, float(-lo)


def importance(model: Any, X: pd.DataFrame, y: np.ndarray, cfg: PermutationImportanceSettings,
               seed: int, p: np.ndarray | None = None) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) on a sample of the validation split.

    The permutations and scores of scikit-learn's ``permutation_importance`` (``scoring=
    "roc_auc"``, ``random_state=seed``; the AUC of the positive-class probability), computed
    with one prediction per feature: the ``n_repeats`` permuted copies of the sample are
    stacked and predicted together, since on a few thousand rows a prediction costs mostly its
    fixed per-call overhead. The unpermuted score reuses ``p`` when given. One log line per
    feature shows the progress.

    Args:
        model: the fitted model.
        X: validation features; y: validation labels.
        cfg: ``train.permutation_importance`` (``n_repeats``, ``max_rows``).
        seed: ``train.seed``: the sample and the permutations.
        p: the model's positive-class probabilities of ``X``, already computed.

    Returns:
        ``feature``, ``importance`` (mean drop in AUC), ``std`` (over the repeats), ``lo`` and
        ``hi`` (its 95% interval, :func:`drop_interval`), most important first.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from sklearn.utils import check_random_state
    from threadpoolctl import threadpool_limits

    from .persistence import positive_probability

    repeats = cfg.n_repeats
    if repeats <= 0:
        return pd.DataFrame(columns=["feature", "importance", "std", "lo", "hi"])
    rows = min(len(X), cfg.max_rows)
    sample = X.sample(n=rows, random_state=seed) if rows < len(X) else X
    positions = X.index.get_indexer(sample.index)
    y_sample = np.asarray(y)[positions]
    p_sample = positive_probability(model, sample) if p is None else np.asarray(p)[positions]
    baseline = roc_auc_score(y_sample, p_sample)
    # scikit-learn draws one seed, then permutes every feature from a generator of that seed
    feature_seed = check_random_state(seed).randint(np.iinfo(np.int32).max + 1)
    stacked = pd.concat([sample] * repeats, ignore_index=True)
    means, stds, half_widths = [], [], []
    log.info("permutation importance: %d features x %d repeats on %d validation rows",
             sample.shape[1], repeats, rows)
    for k, column in enumerate(sample.columns, 1):
        rng = check_random_state(feature_seed)
        order = np.arange(rows)
        values = sample[column].to_numpy()
        copies = []
        for _ in range(repeats):  # each repeat re-shuffles the permuted column, as sklearn does
            rng.shuffle(order)
            values = values[order]
            copies.append(values)
        original = stacked[column]
        stacked[column] = np.concatenate(copies)
        # One thread: gradient boosting opens a parallel region per tree, and on a busy machine
        # each costs a scheduler wait (measured: 8x slower on 2 shared cores); on a quiet one a
        # second thread saves well under a second over all features.
        with threadpool_limits(1, user_api="openmp"):
            p_permuted = positive_probability(model, stacked)
        stacked[column] = original
        permuted = [p_permuted[r * rows:(r + 1) * rows] for r in range(repeats)]
        drops = np.array([baseline - roc_auc_score(y_sample, scores) for scores in permuted])
        means.append(drops.mean())
        stds.append(drops.std())
        half_widths.append(drop_interval(y_sample, p_sample, permuted)[1])
        log.info("permutation importance %d/%d: %s %.4f [%.4f, %.4f]", k, sample.shape[1], column,
                 means[-1], means[-1] - half_widths[-1], means[-1] + half_widths[-1])
    table = pd.DataFrame({"feature": sample.columns, "importance": means, "std": stds,
                          "lo": np.subtract(means, half_widths), "hi": np.add(means, half_widths)})
    return table.sort_values("importance", ascending=False, ignore_index=True)
