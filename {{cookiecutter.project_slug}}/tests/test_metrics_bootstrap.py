"""The table Poisson bootstrap: exactness on the data, reproducibility, agreement with rows."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss

from {{ cookiecutter.package_name }}.metrics.bootstrap import (
    TableMetrics,
    component_rng,
    overall_resamples,
    poisson_resamples,
)
from {{ cookiecutter.package_name }}.metrics.calibration import (
    expected_calibration_error,
    reliability_edges,
)
from {{ cookiecutter.package_name }}.metrics.sorting import SortedScores
from {{ cookiecutter.package_name }}.metrics.table import CellTable, make_score_bins

THRESHOLD = 0.3


def _table(n, seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, n)
    y = (rng.random(n) < p).astype(np.int8)
    scores = SortedScores.build(y, p)
    edges = reliability_edges(scores.scores, 10, "uniform")
    bins = make_score_bins(scores.scores, 2000, np.append(edges, THRESHOLD), scores.labels)
    return y, p, CellTable.from_sorted(scores.scores, scores.labels, bins), edges


def test_table_metrics_on_the_data_are_exact_except_binned_ap():
    # given a 2,000-bin table of 100,000 rows
    y, p, table, edges = _table(100_000, seed=0)
    # when the metrics are computed from the table's own counts
    metrics = TableMetrics(table, THRESHOLD, edges)(table.count[None])
    # then Brier, ECE and net benefit equal the row-level values
    assert metrics["brier"][0] == pytest.approx(brier_score_loss(y, p), rel=1e-10)
    assert metrics["ece"][0] == pytest.approx(expected_calibration_error(y, p), abs=1e-12)
    predicted = p >= THRESHOLD
    tp, fp = np.sum(predicted & (y == 1)), np.sum(predicted & (y == 0))
    nb = (tp - fp * THRESHOLD / (1 - THRESHOLD)) / y.size
    assert metrics["net_benefit"][0] == pytest.approx(nb, rel=1e-12)
    # and the binned AP is within 5e-4 of the exact one (its bootstrap SE here is ~3e-3)
    assert metrics["ap"][0] == pytest.approx(average_precision_score(y, p), abs=5e-4)


def test_same_seed_same_resamples_and_chunking_does_not_matter():
    # given a table
    _, _, table, edges = _table(20_000, seed=1)

    def run(seed, n_resamples):
        return overall_resamples(
            table,
            threshold=THRESHOLD,
            reliability_edges=edges,
            n_resamples=n_resamples,
            rng=component_rng(seed, "overall"),
        )

    # when resampled twice with one seed, once with another, and with fewer resamples
    first, again, other, shorter = run(7, 1000), run(7, 1000), run(8, 1000), run(7, 300)
    # then the same seed reproduces exactly, a new seed differs, and a shorter run is a prefix
    np.testing.assert_array_equal(first["brier"], again["brier"])
    assert not np.array_equal(first["brier"], other["brier"])
    np.testing.assert_array_equal(first["ap"][:300], shorter["ap"])


def test_component_seeds_are_independent_streams():
    a = component_rng(0, "overall").random(3)
    b = component_rng(0, "group:sex").random(3)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, component_rng(0, "overall").random(3))


def test_poisson_cell_draws_have_poisson_moments():
    # given a table with cells of 0, 3 and 400 rows
    counts = np.array([0.0, 3.0, 400.0])
    # when it is resampled 20,000 times
    draws = np.concatenate(list(poisson_resamples(counts, 20_000, np.random.default_rng(0))))
    # then empty cells stay empty and each cell has mean = variance = its count
    assert np.all(draws[:, 0] == 0)
    np.testing.assert_allclose(draws[:, 1:].mean(axis=0), [3.0, 400.0], rtol=0.02)
    np.testing.assert_allclose(draws[:, 1:].var(axis=0), [3.0, 400.0], rtol=0.05)


def test_table_bootstrap_spread_matches_a_row_level_poisson_bootstrap():
    # given 30,000 rows (15 rows per score bin, so binning matters)
    y, p, table, edges = _table(30_000, seed=2)
    # when the table bootstrap runs 1,000 resamples
    fast = overall_resamples(
        table,
        threshold=THRESHOLD,
        reliability_edges=edges,
        n_resamples=1000,
        rng=component_rng(0, "overall"),
    )
    # and a row-level Poisson bootstrap (a Poisson(1) weight per row) runs 500 resamples
    rng = np.random.default_rng(1)
    order = np.argsort(-p)
    ys, ps = y[order].astype(float), p[order]
    ece_bins = np.searchsorted(edges, ps, side="right")
    slow: dict[str, list[float]] = {"ap": [], "brier": [], "ece": []}
    for _ in range(500):
        w = rng.poisson(1.0, y.size).astype(float)
        tp, predicted = np.cumsum(w * ys), np.cumsum(w)
        slow["ap"].append(np.sum(w * ys * tp / np.maximum(predicted, 1e-12)) / tp[-1])
        slow["brier"].append(np.sum(w * (ps - ys) ** 2) / predicted[-1])
        gap = np.bincount(ece_bins, weights=w * (ys - ps), minlength=10)
        slow["ece"].append(np.abs(gap).sum() / predicted[-1])
    # then the standard deviations agree within 15% (Monte-Carlo error of the ratio ~4%)
    for name in ("ap", "brier", "ece"):
        ratio = np.std(fast[name]) / np.std(slow[name])
        assert 0.85 < ratio < 1.15, (name, ratio)
    # and the centres agree within a quarter of a standard deviation
    for name in ("brier", "ece"):
        shift = abs(np.mean(fast[name]) - np.mean(slow[name])) / np.std(slow[name])
        assert shift < 0.25, (name, shift)
