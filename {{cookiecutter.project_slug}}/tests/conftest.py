"""Shared fixtures of the project's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The project directory (holding conf/ and dvc.yaml)."""
    return PROJECT


def compose_conf(root: Path, overrides: tuple[str, ...] | list[str] = ()) -> dict:
    """``conf/`` under ``root`` composed (with Hydra overrides) as plain containers: what
    ``params.yaml`` holds."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(str(root / "conf"), version_base="1.3"):
        params = OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)
    assert isinstance(params, dict)  # a composed config is a mapping at its top
    return params


@pytest.fixture(scope="session")
def compose_params(project_root):
    """A function: Hydra overrides -> ``conf/`` as shipped, composed (plain containers)."""
    return lambda *overrides: compose_conf(project_root, overrides)


@pytest.fixture(scope="session")
def compose_settings(project_root):
    """A function: Hydra overrides -> the typed settings of ``conf/`` as shipped, validated."""
    from {{ cookiecutter.package_name }}.core.settings import Settings, validate_params

    def composed(*overrides: str) -> Settings:
        return validate_params(compose_conf(project_root, overrides), project_root / "conf")

    return composed


@pytest.fixture(scope="session")
def settings(compose_settings):
    """The typed settings of ``conf/`` as shipped (what every stage receives)."""
    return compose_settings()
