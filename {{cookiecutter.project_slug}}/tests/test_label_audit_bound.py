"""The label audit's bound (``prepare.label_quality.max_rows``): every row up to it, a stratified
sample above (``reports/labels/summary.json`` then says ``audited.sampled``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.stages.labels import audit_sample


def frame(n: int, positives: float = 0.2) -> pd.DataFrame:
    y = (np.arange(n) < positives * n).astype(int)
    return pd.DataFrame({"id": np.arange(n), "y": y})


def test_at_or_below_the_bound_every_row_is_audited():
    # given as many rows as the bound (the default 20,000 rows are far below its 200,000)
    data = frame(1_000)
    # when the audited rows are chosen, then they are the data itself: results unchanged
    assert audit_sample(data, "y", max_rows=1_000, seed=0) is data


def test_above_the_bound_the_sample_keeps_the_class_shares():
    # given ten times the bound
    data = frame(10_000, positives=0.23)
    # when the audited rows are chosen
    sample = audit_sample(data, "y", max_rows=1_000, seed=0)
    # then about the bound's worth of distinct rows, each class in its share, the same each time
    assert abs(len(sample) - 1_000) <= 1 and sample["id"].is_unique
    assert sample["y"].mean() == data["y"].mean()
    assert sample["id"].equals(audit_sample(data, "y", max_rows=1_000, seed=0)["id"])
