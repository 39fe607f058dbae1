"""The fast preset runs the whole lifecycle for a first look, selected as the README says."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from helpers import STAGES, bake_and_install, run

pytestmark = pytest.mark.slow



def test_the_fast_preset_runs_every_stage_on_2000_rows(tmp_path):
    # given a freshly baked and installed default project
    project = bake_and_install(tmp_path / "out", project_name="Fast Look")
    # when the fast preset runs as one experiment, the README's first look
    started = time.monotonic()
    done = run(["dvc", "exp", "run", "-S", "preset=fast"], project)
    wall = time.monotonic() - started
    # then every stage ran (at least every stage the pipeline has today) and completed
    ran = set(re.findall(r"Running stage '([\w-]+)'", done.stdout))
    assert ran >= set(STAGES), done.stdout[-4000:]
    # and the preset was really used: params.yaml and the ingested data have its 2,000 rows
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert params["preset"] == {"name": "fast"}
    assert (params["data"]["n_rows"], params["evaluate"]["n_bootstrap"]) == (2000, 200)
    import pandas as pd

    assert len(pd.read_parquet(project / "data/raw/dataset.parquet")) == 2000
    print(f"dvc exp run -S preset=fast: {wall:.0f} s wall")
