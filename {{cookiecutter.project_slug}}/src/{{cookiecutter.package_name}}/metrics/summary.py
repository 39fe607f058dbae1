"""One call for the evaluate stage: every metric, interval, curve and breakdown as plain JSON."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import (
    MetricsInputError,
    as_labels,
    as_probabilities,
    check_both_classes,
    check_length,
    check_open_unit,
)
from ._format import interval, jsonable, number
from .bootstrap import component_rng, overall_resamples
from .calibration import (
    brier_skill_score,
    clipped_logit,
    recalibration_fits,
    recalibration_summary,
    reliability_edges,
    reliability_from_sorted,
    smooth_calibration,
    spline_knots,
)
from .compare import compare_models
from .discrimination import (
    auc_delong,
    average_precision,
    average_precision_from_counts,
    pr_points,
    roc_points,
)
from .fairness import MIN_GROUP_SIZE, encode_groups, group_report
from .intervals import percentile_interval, wilson_interval
from .misclassified import confident_errors
from .slices import slice_report
from .sorting import SortedScores
from .table import DEFAULT_SCORE_BINS, CellTable, make_score_bins
from .threshold import decision_curve, threshold_metrics

CURVE_POINTS = 200
ERRORS_LISTED = 10


def _percentile(samples: np.ndarray, alpha: float, shift: float = 0.0) -> tuple[Any, Any]:
    """Percentile bounds of bootstrap samples (None, None without samples)."""
    if samples.shape[0] == 0:
        return None, None
    lo, hi = percentile_interval(samples + shift, alpha)
    return number(lo), number(hi)


def _curves(scores: SortedScores) -> dict[str, Any]:
    """ROC and PR curve points, each down-sampled to at most CURVE_POINTS points."""
    roc = roc_points(scores, CURVE_POINTS)
    pr = pr_points(scores, CURVE_POINTS)
    return {
        "roc": {name: values.tolist() for name, values in roc.items()},
        "pr": {name: values.tolist() for name, values in pr.items()},
    }


def evaluate_binary(
    y: Any,
    p: Any,
    *,
    threshold: float,
    groups: dict[str, Any] | None = None,
    features: Any = None,
    ids: Any = None,
    suspected: Any = None,
    references: dict[str, Any] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    n_bins: int = 10,
    gap_tolerance: float = 0.1,
    min_group_size: int = MIN_GROUP_SIZE,
    slice_min_size: int = 50,
    slice_quantiles: int = 4,
) -> dict[str, Any]:
    """Evaluate binary-classification probabilities: discrimination, calibration, decisions,
    fairness, slices, worst errors and paired comparisons, with intervals.

    A row is predicted positive when ``p >= threshold``. Every interval is two-sided at level
    ``1 - alpha`` and is reported as ``{"estimate", "lo", "hi"}``; undefined values are
    ``None``. The result is deterministic for a given ``seed``.

    Args:
        y: 0/1 labels (1-d).
        p: predicted probabilities of class 1, same length.
        threshold: decision threshold in (0, 1), chosen beforehand on validation data (see
            :func:`choose_threshold`).
        groups: sensitive attributes, name -> one group label per row (missing labels form a
            ``"(missing)"`` group).
        features: pandas DataFrame of feature columns for slice finding (one row per
            prediction, same order); None skips slices.
        ids: row identifiers used in the error listing (default: row positions).
        suspected: boolean mask of rows with a suspected wrong label, carried into the errors.
        references: other models to compare with, name -> probabilities on the same rows.
        n_bootstrap: Poisson-bootstrap resamples (0 skips the bootstrap intervals).
        seed: seed of the bootstrap.
        alpha: miss rate of every interval (0.05 gives 95% intervals).
        n_bins: reliability-diagram and ECE bins (equal width on [0, 1]).
        gap_tolerance: fairness gaps above this are flagged.
        min_group_size: sensitive groups with fewer rows are reported but never flagged
            (``evaluate.bias.min_group_size``).

    Returns:
        A JSON-serialisable dict:

        * ``n``, ``n_positive``, ``prevalence`` (Wilson interval).
        * ``settings``: threshold, alpha, n_bootstrap, seed, n_bins, gap_tolerance,
          min_group_size, score_bins (bins of the bootstrap table), methods (how each
          interval is made).
        * ``discrimination``: ``prevalence`` (float, the PR curve's no-skill level), ``auc``
          (DeLong; also ``se``), ``ap`` (average precision as in scikit-learn,
          Poisson-bootstrap percentile interval).
        * ``calibration``: ``brier`` and ``brier_skill`` (vs the prevalence model), both with
          bootstrap intervals; ``intercept`` (calibration-in-the-large) and ``slope`` (with
          ``model_intercept``), Wald intervals; ``ici``, ``e50``, ``e90``, ``emax`` (mean,
          median, 90th percentile and maximum of ``|p - smooth curve|``, see the calibration
          module); ``smoother`` (how the curve is fitted); ``ece`` (``n_bins`` equal-width
          bins, bootstrap interval).
        * ``threshold_metrics``: ``threshold``, ``confusion`` (tp, fp, tn, fn),
          ``sensitivity``, ``specificity``, ``ppv``, ``npv``, ``accuracy``,
          ``predicted_positive_rate`` (Wilson), ``lr_positive``, ``lr_negative`` (log method),
          ``net_benefit`` (bootstrap).
        * ``decision_curve``: ``thresholds`` (0.01..0.99), net benefit of ``model``,
          ``treat_all`` and ``treat_none``.
        * ``curves``: ``roc`` (fpr, tpr, thresholds), ``pr`` (recall, precision, thresholds),
          each <= 200 points (the first threshold, ``inf``, is ``None``); ``reliability``
          (strategy, ece, bins with lower, upper, count, mean_predicted, observed,
          observed_lo, observed_hi); ``calibration_smooth`` (predicted, observed).
        * ``groups``: attribute -> list, one item per group: ``group``, ``n``, ``share``,
          ``large_enough`` (``n >= min_group_size``), ``n_positive``, ``prevalence``, ``auc``
          (DeLong), ``brier`` (normal), ``intercept`` and ``slope`` (Wald), ``tpr``, ``fpr``,
          ``ppv``, ``selection_rate`` (Wilson), ``net_benefit`` (bootstrap); see
          ``fairness.group_report``.
        * ``fairness``: attribute -> ``equalized_odds_difference``,
          ``demographic_parity_difference``, ``tpr_difference``, ``fpr_difference`` (all
          groups, as fairlearn; each with a test-inversion interval and
          ``exceeds_tolerance``), ``auc_difference``, ``tolerance``, ``threshold``,
          ``flagged`` (a gap among groups of at least ``min_group_size`` rows above
          ``gap_tolerance``), ``min_group_size``, ``large_enough`` (group -> bool),
          ``small_groups``, ``reportable`` and ``large_groups`` (the gaps among the
          large-enough groups, which the flag judges); see ``fairness.fairness_gaps``.
        * ``slices``: ``rank_by``, ``min_size``, ``overall``, ``n_candidates``,
          ``n_too_small``, ``pairs_included`` and ``slices`` (top 50: slice, conditions,
          columns, n, share, n_positive, prevalence, auc, error_rate, brier, gap, score); see
          ``slices.slice_report``. Without features: the same keys, ``slices`` empty and the
          settings None.
        * ``errors``: ``false_positives`` and ``false_negatives`` (10 each: index, id, p, y,
          suspected), their totals and, with ``suspected``, how many of them are suspected;
          see ``errors.confident_errors``.
        * ``comparisons``: reference -> ``auc_difference`` (paired DeLong: estimate, lo, hi,
          se, p_value, model, reference), ``brier_difference`` and ``ap_difference`` (paired
          bootstrap: estimate, lo, hi, model, reference), ``bootstrap_grid``,
          ``bootstrap_cells``; differences are model minus reference.

    Raises:
        MetricsInputError: (a ``ValueError``) for invalid labels, probabilities, options or
            mismatched lengths; the message names the argument.
    """
    labels, probs, threshold, n_bootstrap = _check_core(y, p, threshold, alpha, n_bootstrap)
    n = labels.shape[0]
    encoded_groups = {
        str(name): encode_groups(values, str(name), n) for name, values in (groups or {}).items()
    }
    _check_extras(n, features, ids, suspected)
    reference_probs = {
        str(name): as_probabilities(values, n, f"references[{name!r}]")
        for name, values in (references or {}).items()
    }

    scores = SortedScores.build(labels, probs)
    logit_sorted = clipped_logit(scores.scores)
    result: dict[str, Any] = {
        "n": n,
        "n_positive": scores.n_pos,
        "prevalence": interval(scores.n_pos / n, *wilson_interval(scores.n_pos, n, alpha)),
    }

    # Sufficient-statistics table: score bins plus the threshold and the ECE edges as bin
    # edges, so that net benefit and ECE computed from the table are exact.
    edges = reliability_edges(scores.scores, n_bins, "uniform")
    bins = make_score_bins(
        scores.scores, DEFAULT_SCORE_BINS, np.append(edges, threshold), scores.labels
    )
    table = CellTable.from_sorted(scores.scores, scores.labels, bins)
    samples = overall_resamples(
        table,
        threshold=threshold,
        reliability_edges=edges,
        n_resamples=n_bootstrap,
        rng=component_rng(seed, "overall"),
    )

    auc = auc_delong(scores, alpha)
    ap = average_precision(scores)
    ap_binned = float(average_precision_from_counts(table.count[1], table.count[0]))
    result["discrimination"] = {
        "prevalence": scores.n_pos / n,  # the no-skill level of the PR curve
        "auc": {**interval(auc["estimate"], auc["lo"], auc["hi"]), "se": number(auc["se"])},
        "ap": interval(ap, *_percentile(samples["ap"], alpha, ap - ap_binned)),
    }
    reliability = reliability_from_sorted(scores.scores, scores.labels, n_bins, "uniform", alpha)
    smooth = _smooth_curve(scores, logit_sorted, table)
    result["calibration"] = _calibration_section(
        scores, logit_sorted, samples, reliability, smooth, alpha
    )

    metrics_at = threshold_metrics(scores, threshold, alpha)
    metrics_at["net_benefit"] = interval(
        metrics_at["net_benefit"]["estimate"], *_percentile(samples["net_benefit"], alpha)
    )
    result["threshold_metrics"] = metrics_at
    result["decision_curve"] = decision_curve(scores)
    result["curves"] = {
        **_curves(scores),
        "reliability": reliability,
        "calibration_smooth": smooth["curve"],
    }

    result["groups"] = {}
    result["fairness"] = {}
    for name, (codes, group_labels) in encoded_groups.items():
        result["groups"][name], result["fairness"][name] = group_report(
            scores,
            logit_sorted,
            codes[scores.order],
            group_labels,
            threshold=threshold,
            alpha=alpha,
            n_resamples=n_bootstrap,
            rng=component_rng(seed, "group:" + name),
            gap_tolerance=gap_tolerance,
            min_group_size=min_group_size,
        )

    result["slices"] = {
        "rank_by": None,
        "min_size": None,
        "overall": None,
        "n_candidates": 0,
        "n_too_small": 0,
        "pairs_included": False,
        "slices": [],
    }
    if features is not None:
        confusion = metrics_at["confusion"]
        overall = {
            "auc": auc["estimate"],
            "brier": result["calibration"]["brier"]["estimate"],
            "error_rate": (confusion["fp"] + confusion["fn"]) / n,
        }
        result["slices"] = slice_report(
            scores,
            bins,
            bins.bin_of_sorted_rows(),
            features,
            threshold=threshold,
            overall=overall,
            alpha=alpha,
            min_size=slice_min_size,
            n_quantiles=slice_quantiles,
        )

    result["errors"] = confident_errors(scores, threshold, ERRORS_LISTED, ids, suspected)
    result["comparisons"] = {
        name: compare_models(
            labels,
            probs,
            p_ref,
            model=scores,
            n_resamples=n_bootstrap,
            rng=component_rng(seed, "reference:" + name),
            alpha=alpha,
        )
        for name, p_ref in reference_probs.items()
    }
    result["settings"] = {
        "threshold": threshold,
        "alpha": alpha,
        "n_bootstrap": n_bootstrap,
        "seed": int(seed),
        "n_bins": int(n_bins),
        "gap_tolerance": float(gap_tolerance),
        "min_group_size": int(min_group_size),
        "score_bins": bins.n_bins,
        "positive_rule": "p >= threshold",
        "methods": METHODS,
    }
    return jsonable(result)


METHODS = {
    "auc": "DeLong (fast midrank algorithm, Sun & Xu 2014), Wald interval",
    "rates": "Wilson score interval",
    "likelihood_ratios": "log method (Simel et al. 1991)",
    "intercept_slope": "logistic regression on logit(p), Newton fit, Wald interval",
    "smooth_calibration": "logistic restricted cubic spline of logit(p), 5 knots",
    "bootstrap": "Poisson bootstrap over (label x score-bin) counts, percentile interval",
    "comparisons": "paired DeLong; paired Poisson bootstrap on joint bin tables",
    "fairness_gaps": "test inversion for the largest between-group difference (simulated "
    "max-range test with moment selection); lower bound 0 when groups do not differ",
}


def _check_core(
    y: Any, p: Any, threshold: float, alpha: float, n_bootstrap: int
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Validate labels, probabilities and the numeric options (raises MetricsInputError)."""
    labels = as_labels(y)
    probs = as_probabilities(p, labels.shape[0])
    check_both_classes(labels)
    threshold = check_open_unit(threshold, "threshold")
    check_open_unit(alpha, "alpha")
    if int(n_bootstrap) < 0:
        raise MetricsInputError(f"n_bootstrap must be >= 0, got {n_bootstrap}.")
    return labels, probs, threshold, int(n_bootstrap)


def _check_extras(n: int, features: Any, ids: Any, suspected: Any) -> None:
    """Check the lengths of the optional per-row inputs before any heavy work."""
    if ids is not None:
        check_length(ids, n, "ids")
    if suspected is not None:
        check_length(suspected, n, "suspected")
    if features is not None and len(features) != n:
        raise MetricsInputError(
            f"features has {len(features)} rows but there are {n} predictions; pass the "
            "feature rows of the evaluated predictions, in the same order."
        )


def _smooth_curve(scores: SortedScores, logit_sorted: np.ndarray, table: CellTable) -> dict:
    """Smooth calibration curve fitted on the table's score bins, evaluated on every row."""
    trials = table.count.sum(axis=0)
    bin_x = np.add.reduceat(logit_sorted, table.bins.starts) / trials
    knots = spline_knots(logit_sorted)
    return smooth_calibration(bin_x, table.count[1], trials, knots, logit_sorted, scores.scores)


def _calibration_section(
    scores: SortedScores,
    logit_sorted: np.ndarray,
    samples: dict[str, np.ndarray],
    reliability: dict[str, Any],
    smooth: dict[str, Any],
    alpha: float,
) -> dict[str, Any]:
    """Brier, skill, recalibration fits, ICI/E50/E90 and ECE with their intervals."""
    squared = np.subtract(scores.scores, scores.labels)
    brier = float(np.mean(np.square(squared, out=squared)))
    del squared
    skill = brier_skill_score(brier, scores.n_pos / scores.n)
    fits = recalibration_fits(logit_sorted, scores.labels)
    return {
        "brier": interval(brier, *_percentile(samples["brier"], alpha)),
        "brier_skill": interval(skill, *_percentile(samples["brier_skill"], alpha)),
        **recalibration_summary(*fits, alpha=alpha),
        "ici": number(smooth["ici"]),
        "e50": number(smooth["e50"]),
        "e90": number(smooth["e90"]),
        "emax": number(smooth["emax"]),
        "ece": interval(reliability["ece"], *_percentile(samples["ece"], alpha)),
        "smoother": smooth["method"],
    }


HEADLINE_INTERVALS = {
    "auc": ("discrimination", "auc"),
    "ap": ("discrimination", "ap"),
    "brier": ("calibration", "brier"),
    "brier_skill": ("calibration", "brier_skill"),
    "cal_intercept": ("calibration", "intercept"),
    "cal_slope": ("calibration", "slope"),
    "ece": ("calibration", "ece"),
    "sensitivity": ("threshold_metrics", "sensitivity"),
    "specificity": ("threshold_metrics", "specificity"),
    "ppv": ("threshold_metrics", "ppv"),
    "npv": ("threshold_metrics", "npv"),
    "lr_positive": ("threshold_metrics", "lr_positive"),
    "lr_negative": ("threshold_metrics", "lr_negative"),
    "net_benefit": ("threshold_metrics", "net_benefit"),
}


def headline(result: dict[str, Any]) -> dict[str, float]:
    """Flatten the key numbers of :func:`evaluate_binary` for DVC metrics files.

    Keys: ``n``, ``prevalence``, ``threshold``; for each of auc, ap, brier, brier_skill,
    cal_intercept, cal_slope, ece, sensitivity, specificity, ppv, npv, lr_positive,
    lr_negative and net_benefit the estimate under its name plus ``<name>_lo`` and
    ``<name>_hi``; ``ici``, ``e50``, ``e90``; per sensitive attribute ``eod_<attr>`` and
    ``dpd_<attr>`` (equalized-odds and demographic-parity differences); per reference
    ``auc_diff_<ref>``, ``brier_diff_<ref>`` and ``ap_diff_<ref>``. Values that are undefined
    (``None``) are left out, so every value is a float.

    Args:
        result: the dict returned by :func:`evaluate_binary`.
    """
    flat: dict[str, Any] = {
        "n": result["n"],
        "prevalence": result["prevalence"]["estimate"],
        "threshold": result["threshold_metrics"]["threshold"],
    }
    for name, (section, key) in HEADLINE_INTERVALS.items():
        values = result[section][key]
        flat[name] = values["estimate"]
        flat[name + "_lo"] = values["lo"]
        flat[name + "_hi"] = values["hi"]
    for name in ("ici", "e50", "e90"):
        flat[name] = result["calibration"][name]
    for attribute, gaps in result.get("fairness", {}).items():
        flat["eod_" + attribute] = gaps["equalized_odds_difference"]["estimate"]
        flat["dpd_" + attribute] = gaps["demographic_parity_difference"]["estimate"]
    for reference, comparison in result.get("comparisons", {}).items():
        flat["auc_diff_" + reference] = comparison["auc_difference"]["estimate"]
        flat["brier_diff_" + reference] = comparison["brier_difference"]["estimate"]
        flat["ap_diff_" + reference] = comparison["ap_difference"]["estimate"]
    return {key: float(value) for key, value in flat.items() if value is not None}


# The numbers DVC shows (reports/metrics/headline.json): the AUC with its 95% interval, the
# average precision and the charter's usual criteria; six columns, so that `dvc metrics show`
# fits 100 characters (a seventh makes it 101).
SHORT_HEADLINE = ("auc", "auc_lo", "auc_hi", "ap", "brier_skill", "cal_slope")


def short_headline(flat: dict[str, float], digits: int = 4) -> dict[str, float]:
    """The :data:`SHORT_HEADLINE` keys of :func:`headline`'s numbers, rounded to ``digits``.

    Args:
        flat: the dict returned by :func:`headline`.
        digits: decimals kept (four: narrow columns, finer than any interval's width).

    Returns:
        The selected numbers, in :data:`SHORT_HEADLINE`'s order.
    """
    return {key: round(flat[key], digits) for key in SHORT_HEADLINE if key in flat}
