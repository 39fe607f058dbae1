"""Simulation: nominal 95% intervals cover the true value 93%-97% of the time.

Tolerance: with R independent replications and true coverage 0.95 the observed coverage has
standard deviation sqrt(0.95 * 0.05 / R): 0.0069 for R = 1,000 and 0.0034 for R = 4,000. The
band 93%-97% is therefore +/-2.9 SD at R = 1,000 (a correct interval fails with probability
~0.4%) and +/-5.8 SD at R = 4,000, while an interval whose real coverage is 90% (or 99%) lies
7 SD or more outside it and is caught. Seeds are fixed, so the outcome is reproducible.
Fairness gaps: 2,000 replications per scenario of rate gaps (SD 0.0049, so the band is
+/-4.1 SD; the four gaps of a scenario are judged on the same replications) and 1,000 of AUC
gaps (+/-2.9 SD), each interval from 1,000 draws. A gap of 0 is covered when the interval's
lower bound is 0, so the no-gap scenarios check that the lower bound reaches 0 ~95% of the
time (the old percentile bootstrap of the gap covered 0 in none of 300 such replications).
Run time: ~30 s for the DeLong, Wilson and Brier checks, almost all of it the 1,000 x
1,000-resample bootstrap, and ~2 min for the fairness gaps.
"""

from statistics import NormalDist

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics.bootstrap import overall_resamples
from {{ cookiecutter.package_name }}.metrics.calibration import clipped_logit
from {{ cookiecutter.package_name }}.metrics.discrimination import auc_delong
from {{ cookiecutter.package_name }}.metrics.fairness import GAP_RATES, fairness_gaps, group_report
from {{ cookiecutter.package_name }}.metrics.intervals import percentile_interval, wilson_interval
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.metrics.table import CellTable, make_score_bins

LOW, HIGH = 0.93, 0.97


@pytest.mark.slow
def test_delong_interval_covers_the_binormal_auc():
    # given binormal scores: positives N(1, 1), negatives N(0, 1), so AUC = Phi(1 / sqrt 2)
    truth = NormalDist().cdf(1 / np.sqrt(2))
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(150, np.int8), np.zeros(300, np.int8)]
    hits, repetitions = 0, 4000
    for _ in range(repetitions):
        scores = np.r_[rng.normal(1, 1, 150), rng.normal(0, 1, 300)]
        # when the DeLong interval is computed
        auc = auc_delong(SortedScores.build(labels, scores))
        hits += auc["lo"] <= truth <= auc["hi"]
    # then it covers the truth 93%-97% of the time
    assert LOW <= hits / repetitions <= HIGH


@pytest.mark.slow
def test_wilson_interval_covers_the_binomial_proportion():
    # given 20,000 binomial draws with random n in [50, 300] and proportion in [0.05, 0.95]
    # (averaging over n and the proportion smooths Wilson's known coverage oscillation)
    rng = np.random.default_rng(1)
    trials = rng.integers(50, 301, 20_000)
    truth = rng.uniform(0.05, 0.95, 20_000)
    successes = rng.binomial(trials, truth)
    # when the Wilson intervals are computed
    lo, hi = wilson_interval(successes, trials, 0.05)
    # then they cover the truth 93%-97% of the time
    assert LOW <= np.mean((lo <= truth) & (truth <= hi)) <= HIGH


@pytest.mark.slow
def test_poisson_bootstrap_interval_covers_the_population_brier_score():
    # given calibrated risks p ~ Beta(2, 5) and y ~ Bernoulli(p): Brier = E[p(1-p)] = 10/56
    truth = 10 / 56
    rng = np.random.default_rng(2)
    hits, repetitions, n = 0, 1000, 400
    for _ in range(repetitions):
        p = rng.beta(2, 5, n)
        y = (rng.random(n) < p).astype(np.int8)
        scores = SortedScores.build(y, p)
        bins = make_score_bins(scores.scores, 2000, [0.3])
        table = CellTable.from_sorted(scores.scores, scores.labels, bins)
        # when 1,000 Poisson-bootstrap resamples give a percentile interval
        samples = overall_resamples(
            table,
            threshold=0.3,
            reliability_edges=np.arange(1, 10) / 10,
            n_resamples=1000,
            rng=rng,
        )
        lo, hi = percentile_interval(samples["brier"], 0.05)
        hits += int(lo <= truth <= hi)
    # then it covers the truth 93%-97% of the time
    assert LOW <= hits / repetitions <= HIGH


def _count_table(rng, sizes, prevalence, tpr, fpr):
    """A (group, label, predicted) count table drawn from per-group rates."""
    positives = rng.binomial(sizes, prevalence)
    negatives = np.asarray(sizes) - positives
    tp, fp = rng.binomial(positives, tpr), rng.binomial(negatives, fpr)
    return np.stack(
        [np.stack([negatives - fp, fp], axis=-1), np.stack([positives - tp, tp], axis=-1)],
        axis=1,
    ).astype(np.float64)


def _true_gaps(prevalence, tpr, fpr):
    """Population gaps of the four decision rates (max minus min over groups)."""
    prevalence, tpr, fpr = (np.asarray(v, dtype=np.float64) for v in (prevalence, tpr, fpr))
    selection = prevalence * tpr + (1 - prevalence) * fpr
    return {
        "equalized_odds_difference": max(np.ptp(tpr), np.ptp(fpr)),
        "demographic_parity_difference": np.ptp(selection),
        "tpr_difference": np.ptp(tpr),
        "fpr_difference": np.ptp(fpr),
    }


# (sizes, prevalence, TPR, FPR) per group; the true gaps follow from the rates
GAP_SCENARIOS = {
    "2 groups, no gap": ([1200, 800], [0.3, 0.3], [0.7, 0.7], [0.2, 0.2]),
    # TPR gap 0.15 (clear), demographic parity 0.045 (about 2 SE), FPR gap 0
    "2 groups, TPR gap": ([1200, 800], [0.3, 0.3], [0.75, 0.6], [0.2, 0.2]),
    # equal error rates, prevalence 0.2 / 0.3 / 0.4: demographic parity 0.12, the rest 0
    "3 groups, equal error rates": (
        [1500, 900, 600],
        [0.2, 0.3, 0.4],
        [0.7, 0.7, 0.7],
        [0.1, 0.1, 0.1],
    ),
    # one group off: the other two tie at the maximum (TPR 0.15, FPR 0.08, parity 0.101)
    "3 groups, one off": ([1500, 900, 600], [0.3] * 3, [0.75, 0.75, 0.6], [0.2, 0.2, 0.12]),
    # groups of 60 and 150 rows, near the smallest judged size
    "5 groups, no gap": ([2000, 800, 400, 150, 60], [0.3] * 5, [0.7] * 5, [0.2] * 5),
    # TPR 0.12 lower in one group (parity 0.036), four groups tie at the maximum
    "5 groups, one off": (
        [2000, 1000, 600, 400, 200],
        [0.3] * 5,
        [0.7, 0.7, 0.58, 0.7, 0.7],
        [0.2] * 5,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(GAP_SCENARIOS))
def test_fairness_gap_intervals_cover_the_true_gap_with_and_without_one(scenario):
    # given groups with known rates, drawn 2,000 times as count tables
    sizes, prevalence, tpr, fpr = GAP_SCENARIOS[scenario]
    truth = _true_gaps(prevalence, tpr, fpr)
    labels = [str(code) for code in range(len(sizes))]
    rng = np.random.default_rng(3)
    hits, repetitions = dict.fromkeys(GAP_RATES, 0), 2000
    for _ in range(repetitions):
        confusion = _count_table(rng, sizes, prevalence, tpr, fpr)
        # when the gaps and their intervals are computed (1,000 draws each)
        fairness = fairness_gaps(
            confusion,
            labels,
            threshold=0.5,
            alpha=0.05,
            n_draws=1000,
            rng=rng,
            gap_tolerance=0.1,
            min_group_size=50,
        )
        for name in GAP_RATES:
            hits[name] += fairness[name]["lo"] <= truth[name] <= fairness[name]["hi"]
    coverage = {name: hits[name] / repetitions for name in GAP_RATES}
    print(
        f"\n{scenario}: " + ", ".join(f"{k} {truth[k]:.3f}: {v:.3f}" for k, v in coverage.items())
    )
    # then every gap, zero or not, is covered 93%-97% of the time
    for name, value in coverage.items():
        assert LOW <= value <= HIGH, (name, value)


# (rows per group, binormal separation per group); positives 30%, AUC = Phi(mu / sqrt 2)
AUC_SCENARIOS = {
    "2 groups, no AUC gap": ([1200, 800], [1.0, 1.0]),
    "3 groups, AUC gap": ([1500, 900, 600], [1.0, 1.0, 0.6]),
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(AUC_SCENARIOS))
def test_auc_gap_interval_of_the_group_report_covers_the_true_gap(scenario):
    # given groups of binormal scores with known AUCs
    sizes, separation = AUC_SCENARIOS[scenario]
    aucs = [NormalDist().cdf(mu / np.sqrt(2)) for mu in separation]
    truth = max(aucs) - min(aucs)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    shift = np.repeat(separation, sizes)
    rng = np.random.default_rng(4)
    hits, repetitions = 0, 1000
    for _ in range(repetitions):
        y = (rng.random(codes.shape[0]) < 0.3).astype(np.int8)
        p = 1 / (1 + np.exp(-(rng.normal(size=codes.shape[0]) + y * shift - 1)))
        scores = SortedScores.build(y, p)
        # when the whole per-group report is computed
        _, fairness = group_report(
            scores,
            clipped_logit(scores.scores),
            codes[scores.order],
            [str(code) for code in range(len(sizes))],
            threshold=0.5,
            alpha=0.05,
            n_resamples=1000,
            rng=rng,
            gap_tolerance=0.1,
        )
        gap = fairness["auc_difference"]
        hits += gap["lo"] <= truth <= gap["hi"]
    print(f"\n{scenario}: AUC gap {truth:.3f}: {hits / repetitions:.3f}")
    # then the AUC gap's interval covers it 93%-97% of the time
    assert LOW <= hits / repetitions <= HIGH
