"""The presets: `default` changes nothing, `fast` shrinks the run for a first look and is
checked like every other setting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.core.composition import compose
from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import DATA_SOURCES

CONF = Path(__file__).resolve().parents[1] / "conf"


def test_the_default_preset_changes_no_setting(compose_params):
    # given conf/ composed as shipped (the default preset)
    default = compose_params()
    # then the default preset only names itself: every group is as its own file says
    assert default["preset"] == {"name": "default"}
    assert default["data"]["n_rows"] == 20000 and default["evaluate"]["n_bootstrap"] == 1000


@pytest.mark.parametrize("source", DATA_SOURCES)
def test_the_fast_preset_shrinks_the_run_for_every_data_source(compose_settings, source):
    # given each data source; when composed with the fast preset and validated
    fast = compose_settings(f"data={source}", "preset=fast")
    full = compose_settings(f"data={source}")
    # then resamples, folds and repeats are fewer, and the generated data has fewer rows
    assert fast.preset.name == "fast"
    assert fast.evaluate.n_bootstrap < full.evaluate.n_bootstrap
    assert fast.prepare.label_quality.cv_folds < full.prepare.label_quality.cv_folds
    imp, full_imp = fast.train.permutation_importance, full.train.permutation_importance
    assert (imp.n_repeats, imp.max_rows) < (full_imp.n_repeats, full_imp.max_rows)
    if source == "synthetic_clinical":
        assert (fast.data.n_rows, fast.data.batch.n_rows) == (2000, 1000)
    # and nothing else moves
    same = ("project", "deploy", "serve", "monitor", "mlflow")
    assert all(getattr(fast, group) == getattr(full, group) for group in same)


@pytest.mark.parametrize(("family", "key"), [("hist_gradient_boosting", "max_iter"),
                                             ("random_forest", "n_estimators"),
                                             ("logistic_regression", None)])
def test_the_fast_preset_shrinks_the_ensembles_only(compose_settings, family, key):
    # given each model family; when composed with the fast preset and without
    fast = compose_settings(f"model={family}", "preset=fast").model
    full = compose_settings(f"model={family}").model
    # then an ensemble has fewer iterations or trees, and every other hyper-parameter is kept
    if key is not None:
        assert fast.params[key] < full.params[key]
    assert {k: v for k, v in fast.params.items() if k != key} == {
        k: v for k, v in full.params.items() if k != key}


def test_a_misspelt_key_in_the_fast_preset_is_refused_before_any_work(tmp_path):
    # given a project whose fast preset misspells a key of the evaluate group
    shutil.copytree(CONF, tmp_path / "conf")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    path = tmp_path / "conf" / "preset" / "fast.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("n_bootstrap:", "n_bootstrp:"),
                    encoding="utf-8")
    # when composed with it, then composition stops with the key and the close match
    with pytest.raises(ConfigError, match=r"n_bootstrp.*did you mean 'n_bootstrap'"):
        compose(["preset=fast"], root=tmp_path)
    # and without it the shipped default still composes
    assert compose(root=tmp_path).preset.name == "default"
