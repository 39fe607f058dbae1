"""dvc.yaml and the code agree: every stage's module exists and every declared param exists."""

from __future__ import annotations

import importlib.util

import yaml
from hydra import compose, initialize_config_dir

from {{ cookiecutter.package_name }}.core import paths


def test_every_stage_runs_an_existing_module(project_root):
    stages = yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        module = stage["cmd"].split("-m ", 1)[1].split()[0]
        assert importlib.util.find_spec(module) is not None, f"stage {name}: {module} missing"


def test_every_declared_param_exists_in_the_composed_config(project_root):
    with initialize_config_dir(str(project_root / "conf"), version_base="1.3"):
        cfg = compose("config")
    stages = yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        for key in stage.get("params", []):
            node = cfg
            for part in key.split("."):
                assert part in node, f"stage {name} declares param {key}, absent from conf/"
                node = node[part]


def test_paths_handed_between_stages_are_declared_in_dvc_yaml(project_root):
    text = (project_root / "dvc.yaml").read_text()
    handed = (paths.RAW_DIR, paths.PROCESSED_DIR, paths.MODEL_DIR, paths.EVALUATION,
              paths.CHARTER, paths.LABEL_SUSPECTS, paths.MODEL_INFO, paths.BASELINE_PREDICTIONS,
              paths.MODEL_PREDICTIONS, paths.metrics_path("evaluate"))
    for path in handed:
        assert path in text or path.rsplit("/", 1)[0] in text, path


def test_root_gitignore_covers_every_cached_stage_output(project_root):
    # given the root .gitignore (DVC drops its own entries for stages that succeeded when a
    # later stage fails, so this file alone must keep data and models out of git)
    ignored = {
        line.strip().strip("/")
        for line in (project_root / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    stages = yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]
    # when every output is listed, then each cached one (or a folder above it) is ignored
    for name, stage in stages.items():
        for out in stage.get("outs", []):
            path, options = (out, {}) if isinstance(out, str) else next(iter(out.items()))
            if options.get("cache", True) is False and not path.endswith(".stamp"):
                continue  # small uncached outputs (decision.json, history.csv) belong in git
            parents = {"/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 2)}
            assert parents & ignored, f"stage {name}: output {path} is not in .gitignore"
