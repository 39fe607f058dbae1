"""Drift statistics checked against hand computations and scipy."""

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp

from {{ cookiecutter.package_name }}.monitoring.drift import compute_drift, psi
from {{ cookiecutter.package_name }}.monitoring.performance import holm_adjust
from {{ cookiecutter.package_name }}.monitoring.reference import build_reference


def test_psi_matches_hand_computation():
    # given reference shares 1/4 each and batch shares 0.1, 0.2, 0.3, 0.4
    ref, batch = np.full(4, 0.25), np.array([0.1, 0.2, 0.3, 0.4])
    # when PSI is computed
    value = psi(ref, batch)
    # then it equals sum (b - r) ln(b / r) worked out by hand:
    # -0.15 ln 0.4 - 0.05 ln 0.8 + 0.05 ln 1.2 + 0.15 ln 1.6
    # = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228218
    assert value == pytest.approx(0.228218, abs=1e-6)


def test_psi_floors_empty_cells_at_epsilon():
    # given a batch with an empty cell and a cell empty on both sides
    ref, batch = np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])
    # when PSI is computed with epsilon 1e-4
    value = psi(ref, batch, epsilon=1e-4)
    # then the empty cell adds (0.5 - 1e-4) ln(0.5 / 1e-4), the doubly empty one nothing
    expected = 0.5 * math.log(2.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert value == pytest.approx(expected, rel=1e-12)


def test_psi_end_to_end_on_reference_quartiles():
    # given a reference 0..999 cut in quartiles (250 values each) and a batch placed 10/20/30/40 %
    X_ref = pd.DataFrame({"x": np.arange(1000, dtype=float)})
    ref = build_reference(
        X_ref, np.full(1000, 0.5), None, numeric=["x"], categorical=[], n_quantile_bins=4
    )
    batch = pd.DataFrame({"x": np.repeat([100.0, 300.0, 600.0, 900.0], [100, 200, 300, 400])})
    # when drift is computed
    result = compute_drift(batch, None, ref)
    # then the feature PSI is the hand value above (missing cells empty on both sides add 0)
    assert ref["features"]["x"]["edges"] == [249.75, 499.5, 749.25]
    assert result["features"]["x"]["psi"] == pytest.approx(0.228218, abs=1e-6)


def _numeric_reference(n_ref: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n_ref)})
    return X, build_reference(X, np.full(n_ref, 0.5), None, numeric=["x"], categorical=[])


def test_ks_equals_scipy_when_sketch_is_the_full_sample():
    # given a reference small enough to be stored whole, and a shifted batch
    X_ref, ref = _numeric_reference(1500)
    batch = pd.DataFrame({"x": np.random.default_rng(1).normal(0.1, 1.0, size=1200)})
    # when drift is computed
    entry = compute_drift(batch, None, ref)["features"]["x"]
    # then statistic and p-value equal scipy's asymptotic two-sample KS on the full samples
    expected = ks_2samp(X_ref["x"], batch["x"], method="asymp")
    assert entry["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert entry["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.3])
def test_ks_from_sketch_within_bound_of_full_sample(shift):
    # given a 20,000-row reference stored as a 2,000-value sketch
    X_ref, ref = _numeric_reference(20000)
    m = ref["sketch_size"]
    batch = pd.DataFrame({"x": np.random.default_rng(2).normal(shift, 1.0, size=5000)})
    # when drift is computed
    entry = compute_drift(batch, None, ref)["features"]["x"]
    # then the statistic is within 1 / (2 m) of the full two-sample KS statistic
    full = ks_2samp(X_ref["x"], batch["x"], method="asymp")
    assert len(ref["features"]["x"]["sketch"]) == m
    assert abs(entry["ks_statistic"] - full.statistic) <= 0.5 / m + 1e-12
    # and the p-value is close to the full one (both from the real reference size)
    assert entry["ks_pvalue"] == pytest.approx(full.pvalue, rel=0.15, abs=0.02)


def _categorical_case():
    ref_counts = {"a": 500, "b": 300, "c": 150}
    ref_values = np.repeat(list(ref_counts), list(ref_counts.values())).astype(object)
    ref_values = np.append(ref_values, [None] * 50)  # 50 missing in the reference
    batch_values = np.repeat(["a", "b", "c", "z", "y"], [420, 330, 160, 40, 10]).astype(object)
    batch_values = np.append(batch_values, [None] * 40)
    ref = build_reference(
        pd.DataFrame({"c": ref_values}),
        np.full(ref_values.size, 0.5),
        None,
        numeric=[],
        categorical=["c"],
    )
    return ref, pd.DataFrame({"c": batch_values})


def test_chi_square_and_js_match_scipy_with_unseen_pooled():
    # given reference counts a/b/c/missing = 500/300/150/50 and a batch with unseen z, y
    ref, batch = _categorical_case()
    # when drift is computed
    entry = compute_drift(batch, None, ref)["features"]["c"]
    # then unseen categories are pooled into one cell and reported
    assert entry["unseen_share"] == pytest.approx(50 / 1000)
    assert set(entry["unseen_categories"]) == {"z", "y"}
    # and chi-square equals scipy on the table a, b, c, unseen, missing
    table = np.array([[500, 300, 150, 0, 50], [420, 330, 160, 50, 40]])
    chi2, pvalue, dof, _ = chi2_contingency(table, correction=False)
    assert entry["chi2_statistic"] == pytest.approx(chi2, rel=1e-12)
    assert entry["chi2_dof"] == dof == 4
    assert entry["chi2_pvalue"] == pytest.approx(pvalue, rel=1e-9)
    # and the Jensen-Shannon distance equals scipy's (base 2) over the same cells
    expected_js = jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum(), base=2)
    assert entry["js_distance"] == pytest.approx(expected_js, rel=1e-12)
    # and the missing-share change is reported
    assert entry["missing_change"] == pytest.approx(40 / 1000 - 50 / 1000)


def test_holm_and_bonferroni_adjustments_match_hand_values():
    # given four raw p-values
    raw = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005}
    # when adjusted
    holm = holm_adjust(raw, "holm")
    bonferroni = holm_adjust(raw, "bonferroni")
    # then Holm: sorted d, a, c, b times 4, 3, 2, 1 made monotone = 0.02, 0.03, 0.06, 0.06
    assert holm == pytest.approx({"d": 0.02, "a": 0.03, "c": 0.06, "b": 0.06})
    assert bonferroni == pytest.approx({"a": 0.04, "b": 0.16, "c": 0.12, "d": 0.02})


def test_significant_but_tiny_shift_is_not_drift():
    # given a 100,000-row batch shifted by 0.05 SD (KS p-value tiny, effect negligible)
    _, ref = _numeric_reference(20000)
    batch = pd.DataFrame({"x": np.random.default_rng(4).normal(0.05, 1.0, size=100_000)})
    # when drift is computed
    entry = compute_drift(batch, None, ref)["features"]["x"]
    # then the test is significant but the feature stays stable (effect-size gate)
    assert entry["pvalue_adjusted"] < 0.05
    assert entry["psi"] < 0.1 and entry["ks_statistic"] < 0.1
    assert entry["status"] == "stable"


def test_missing_and_non_numeric_columns_are_schema_issues():
    # given a reference with x and a batch without x, and one with text in x
    _, ref = _numeric_reference(500)
    # when drift is computed
    missing = compute_drift(pd.DataFrame({"other": [1.0, 2.0]}), None, ref)
    text = compute_drift(pd.DataFrame({"x": ["1.0", "oops"]}), None, ref)
    # then both are reported as schema issues naming the column
    assert missing["features"]["x"]["status"] == "schema-error"
    assert "'x'" in missing["schema_issues"][0]
    assert "'x'" in text["schema_issues"][0] and "oops" in text["schema_issues"][0]


def test_prediction_errors_are_clear():
    # given a reference and a batch
    X_ref, ref = _numeric_reference(500)
    # when predictions are misaligned or not probabilities, then it fails with a clear error
    with pytest.raises(ValueError, match="rows"):
        compute_drift(X_ref, np.full(10, 0.5), ref)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        compute_drift(X_ref, np.full(500, 1.5), ref)
    with pytest.raises(ValueError, match="Unknown monitor thresholds"):
        compute_drift(X_ref, None, ref, {"psi_wach": 0.2})
