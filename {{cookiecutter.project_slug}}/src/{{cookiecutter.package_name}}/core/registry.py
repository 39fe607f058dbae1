"""The MLflow model registry: versions, aliases and loading the champion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import UserError

if TYPE_CHECKING:  # mlflow is imported where it is used: importing it takes seconds
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from .settings import DeploySettings, Settings


CHAMPION = "champion"
CHALLENGER = "challenger"


def model_name(deploy: DeploySettings) -> str:
    """The registered model's name (``deploy.registered_model_name``)."""
    return deploy.registered_model_name


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The model version an alias points at, or None when the alias (or model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def champion_uri(settings: Settings) -> str:
    """``models:/<name>@champion``, after checking that a champion exists.

    Args:
        settings: the validated settings (``mlflow`` and ``deploy`` groups).
    """
    from mlflow import MlflowClient

    from .tracking import connect

    connect(settings.mlflow)
    name = model_name(settings.deploy)
    version = alias_version(MlflowClient(), name, CHAMPION)
    if version is None:
        raise UserError(
            f"no '{CHAMPION}' version of registered model '{name}' yet: run `dvc repro` until "
            "the deploy gate passes (see reports/deploy/decision.md)."
        )
    return f"models:/{name}@{CHAMPION}"


def register(client: MlflowClient, name: str, info: dict[str, Any]) -> ModelVersion:
    """The registry version of this model, created on first deploy (idempotent).

    Args:
        client: an ``MlflowClient``.
        name: the registered model name.
        info: ``model_info.json`` (``model_id``, ``model_uri``, ``run_id``).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="Registered by the deploy stage.")
    for version in client.search_model_versions(f"name = '{name}'"):
        # search results carry the source URI (models:/<model_id>), not always model_id
        if version.source == info["model_uri"]:
            return version
    return mlflow.register_model(info["model_uri"], name)
