"""dvc.yaml and the code agree: every stage's module and declared param exists, and every file
a stage's code names is one of its deps or outs.
"""

from __future__ import annotations

import importlib.util

import yaml
from hydra import compose, initialize_config_dir
from test_stage_dependencies import deps, names_used_from, outs, reached, stage_module, stages

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


# Files a stage's code names but does not read when run as the stage, with the reason.
NAMED_NOT_READ = {
    ("ingest", "SCHEMA"): "data/incoming.py checks a batch against it for `accept`, not ingest",
    ("labels", "RAW_TRUTH"): "synthetic data only (a dep must exist); it changes with the data",
}


def test_every_file_a_stage_names_is_one_of_its_deps_or_outs():
    # given the files of core/paths.py and, per stage, those named by the code it runs
    files = {name: value for name, value in vars(paths).items()
             if name.isupper() and isinstance(value, str) and "/" in value}
    assert {"RAW_DATA", "SCHEMA", "MODEL_PREDICTIONS", "DECISION"} <= files.keys()
    for stage_name, stage in stages().items():
        named: set[str] = set()
        for path in reached(stage_module(stage)):
            named |= names_used_from(path, f"{paths.PACKAGE}.core.paths") & files.keys()
        # then each is a dep of the stage (or inside one), or something the stage writes
        for name in sorted(named - {key for s, key in NAMED_NOT_READ if s == stage_name}):
            declared = deps(stage) + outs(stage)
            assert any(files[name] == d or files[name].startswith(f"{d}/") for d in declared), (
                f"stage {stage_name} names {name} ({files[name]}), absent from its deps and outs")
    assert {(s, k) for s, k in NAMED_NOT_READ if k in files and s in stages()} == set(
        NAMED_NOT_READ), "NAMED_NOT_READ names a stage or file that is gone"


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
