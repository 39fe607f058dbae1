"""Simulation: nominal 95% intervals cover the true value 93%-97% of the time.

Tolerance: with R independent replications and true coverage 0.95 the observed coverage has
standard deviation sqrt(0.95 * 0.05 / R): 0.0069 for R = 1,000 and 0.0034 for R = 4,000. The
band 93%-97% is therefore +/-2.9 SD at R = 1,000 (a correct interval fails with probability
~0.4%) and +/-5.8 SD at R = 4,000, while an interval whose real coverage is 90% (or 99%) lies
7 SD or more outside it and is caught. Seeds are fixed, so the outcome is reproducible.
Run time: ~30 s in total, almost all of it the 1,000 x 1,000-resample bootstrap.
"""

from statistics import NormalDist

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics.bootstrap import overall_resamples
from {{ cookiecutter.package_name }}.metrics.discrimination import auc_delong
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
        hits += lo <= truth <= hi
    # then it covers the truth 93%-97% of the time
    assert LOW <= hits / repetitions <= HIGH
