"""Promotion: what moves the ``champion`` alias, and the logic of the ``promote`` command.

What promotes, and what does not:

* ``dvc repro`` (no ``DVC_EXP_NAME`` in the environment): the ``deploy`` stage of the main
  workspace's pipeline registers the model, runs the gate against the champion and moves
  ``champion`` when the gate passes. This is the pipeline of record, the one ``git commit`` keeps.
* ``dvc exp run`` in every form (DVC sets ``DVC_EXP_NAME``): queued experiments (``--queue``, run
  in a temporary copy with ``DVC_ROOT`` at the real root), sweeps (``-S 'model=a,b'``, queued or
  run one after another in the workspace) and a single ``dvc exp run -S model=x`` in the
  workspace. Each registers its model as a new version with alias ``challenger`` and records the
  gate's verdict against the champion of that moment, but never moves ``champion``. Otherwise the
  members of a sweep would race: each judged against whoever passed before it, and the champion
  decided by finishing order. A lone workspace experiment follows the same rule because DVC does
  not tell it from one member of an unqueued sweep, and because an experiment is one point of a
  comparison (``dvc exp show``) that the user has not made yet.
* ``<package> promote --version N`` (or ``--experiment NAME``): the deliberate step. It
  re-runs ``deploy.gate`` for version N against the champion at that moment and moves
  ``champion`` only if it passes; ``--force`` moves it anyway and writes so on the version.

How ``promote`` finds a version's evaluation: ``deploy`` logs ``evaluation.json`` (the error
analysis the gate judges: charter criteria, baseline comparisons, constant predictions) as an
artifact of its MLflow run and tags the model version with that run's id (``deploy_run_id``).
The champion comparison is recomputed, as ``deploy.champion_comparison`` computes it: both
models scored on the workspace's current test split, paired DeLong, the same bootstrap settings.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import UserError
from ..core.paths import PACKAGE

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from ..core.settings import Settings

EXPERIMENT_TAG = "dvc.experiment"   # on a model version: the DVC experiment that registered it
WORKSPACE = "workspace"             # ... or this, for `dvc repro`
DEPLOY_RUN_TAG = "deploy_run_id"    # the deploy run holding the version's evaluation.json
TEST_ROWS_TAG = "test_rows"         # digest of the test rows that evaluation was measured on
PROMOTION_TAG = "promotion"         # what happened to champion, in words
EVALUATION_ARTIFACT = "evaluation.json"


def current_experiment() -> str | None:
    """The DVC experiment this process runs in (``DVC_EXP_NAME``), or None under ``dvc repro``.

    Only a run outside any experiment promotes (see the module docstring).
    """
    return os.environ.get("DVC_EXP_NAME") or None


def promote_command(version: int | str) -> str:
    """The command that promotes ``version`` deliberately."""
    return f"{PACKAGE} promote --version {version}"


def not_promoted_sentence(version: int | str, experiment: str, passed: bool) -> str:
    """What an experiment's decision says instead of promoting."""
    verdict = ("the gate passed against the champion of that moment" if passed else
               "the gate failed (see the checks)")
    return (f"Registered as challenger version {version}; not promoted because this is an "
            f"experiment (`{experiment}`): experiments never move `champion`, so a sweep's "
            f"winner does not depend on which member finished first. {verdict.capitalize()}. "
            f"Promote with `{promote_command(version)}`, which runs the gate again against the "
            "champion at that time.")


def experiment_markdown(markdown: str, decision: dict[str, Any]) -> str:
    """An experiment's ``decision.md``: the verdict says "not promoted", first thing.

    Args:
        markdown: ``deploy.render_decision``'s text.
        decision: the decision (``experiment``, ``version``, ``passed``).
    """
    markdown = markdown.replace(
        "PASSED: promoted to `champion`",
        f"gate PASSED, NOT promoted (experiment `{decision['experiment']}`)")
    title, _, rest = markdown.partition("\n")
    note = not_promoted_sentence(decision["version"], decision["experiment"], decision["passed"])
    return f"{title}\n\n**{note}**\n{rest}"


def rows_digest(ids: Iterable[object], y: Iterable[object]) -> str:
    """A short digest of rows (ids and labels, in order): the same rows, the same digest."""
    digest = hashlib.sha256()
    for part in (ids, y):
        digest.update("\x1f".join(map(str, part)).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def workspace_test_rows() -> str | None:
    """The digest of the workspace's current test split, or None before ``dvc repro``."""
    from ..core.paths import SCHEMA, split_path
    from ..data.dataset import load_schema, load_split

    root = project_root()
    if not (root / SCHEMA).exists() or not (root / split_path("test")).exists():
        return None
    _, y, ids = load_split("test", load_schema())
    return rows_digest(ids, y)


def resolve_version(client: MlflowClient, name: str, version: str | None = None,
                    experiment: str | None = None) -> ModelVersion:
    """The model version to promote: by number, or the newest one an experiment registered.

    Args:
        client: an ``MlflowClient``.
        name: the registered model name.
        version: a version number.
        experiment: a DVC experiment name (``dvc exp show``).
    """
    from mlflow.exceptions import MlflowException

    try:
        versions = list(client.search_model_versions(f"name = '{name}'"))
    except MlflowException:
        versions = []
    if not versions:
        raise UserError(f"registered model '{name}' has no versions yet: run `dvc repro` or "
                        "`dvc exp run` first.")
    if version is not None:
        found = [v for v in versions if str(v.version) == str(version).lstrip("v")]
        if not found:
            known = ", ".join(sorted((str(v.version) for v in versions), key=int))
            raise UserError(f"registered model '{name}' has no version {version} (it has "
                            f"{known}).")
        return found[0]
    tagged = [v for v in versions if v.tags.get(EXPERIMENT_TAG) == experiment]
    if not tagged:
        experiments = sorted({v.tags[EXPERIMENT_TAG] for v in versions
                              if v.tags.get(EXPERIMENT_TAG) not in (None, WORKSPACE)})
        raise UserError(f"no version of '{name}' was registered by experiment '{experiment}' "
                        f"(experiments that registered one: {', '.join(experiments) or 'none'}); "
                        "`dvc exp show` lists the names, or use --version.")
    return max(tagged, key=lambda v: int(v.version))


def version_evaluation(client: MlflowClient, name: str, version: ModelVersion) -> dict[str, Any]:
    """The evaluation the version was registered with, from its deploy run's artifacts."""
    import mlflow

    run_id = version.tags.get(DEPLOY_RUN_TAG)
    if not run_id:
        raise UserError(f"version {version.version} of '{name}' carries no '{DEPLOY_RUN_TAG}' "
                        "tag, so its evaluation cannot be found (it was registered before "
                        "deploy recorded it): re-run its pipeline to register it again.")
    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{EVALUATION_ARTIFACT}")
    except Exception as error:  # noqa: BLE001 - missing artifact, deleted run: say which
        raise UserError(f"the evaluation of version {version.version} ({EVALUATION_ARTIFACT} of "
                        f"deploy run {run_id}) cannot be read: {type(error).__name__}: "
                        f"{error}") from error


@dataclass
class Promotion:
    """What ``promote`` decided, and why."""

    name: str
    version: str
    champion_before: str | None
    passed: bool                 # the gate's verdict (True when already champion)
    promoted: bool               # champion points at the version now, moved by this call
    forced: bool = False         # moved although the gate failed
    already: bool = False        # it was the champion already: nothing to do
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def champion_after(self) -> str | None:
        return self.version if self.promoted or self.already else self.champion_before


def promote(settings: Settings, client: MlflowClient, name: str, version: ModelVersion, *,
            force: bool = False) -> Promotion:
    """Run the deploy gate for ``version`` against the current champion; move it if it passes.

    Args:
        settings: the workspace's validated settings (``deploy`` and ``evaluate``: the gate's
            rules and the comparison's bootstrap settings, as they are now).
        client: an ``MlflowClient`` on the project's registry.
        name: the registered model name.
        version: the ``ModelVersion`` to promote (see ``resolve_version``).
        force: move ``champion`` even if the gate fails, and record that on the version.
    """
    from ..core.registry import CHAMPION, alias_version
    from .gate import champion_comparison, gate

    number = str(version.version)
    champion = alias_version(client, name, CHAMPION)
    before = None if champion is None else str(champion.version)
    if before == number:
        return Promotion(name, number, before, passed=True, promoted=False, already=True,
                         notes=[f"version {number} is already `{CHAMPION}`; nothing to do"])
    evaluation = version_evaluation(client, name, version)
    current_rows = workspace_test_rows()
    if current_rows is None:
        raise UserError("the workspace has no test split (data/processed/test.parquet) to "
                        "compare the version with the champion on: run `dvc repro` first.")
    notes: list[str] = []
    comparison = champion_comparison(settings, client, name, number,
                                     candidate_uri=f"models:/{name}/{number}")
    passed, reasons = gate(evaluation, comparison, settings.deploy)
    if version.tags.get(TEST_ROWS_TAG) not in (None, current_rows):
        # its experiment changed the data or the split: some of the workspace's test rows may
        # be rows it trained on, which would favour it against the champion
        passed = False
        reasons.append(
            f"FAIL version {number} was evaluated on other test rows than the workspace's: "
            "some of these may be rows it trained on; `dvc exp apply` its experiment and "
            "`dvc repro` (which promotes by the gate), or `--force`")
    moved = passed or force
    if moved:
        client.set_registered_model_alias(name, CHAMPION, number)
    forced = moved and not passed
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    over = f"over v{before}" if before else "(no champion before)"
    word = ("forced to champion over a FAILED gate" if forced else
            "promoted to champion" if moved else "promotion refused")
    tags = {PROMOTION_TAG: f"{word} by `promote` {over} at {stamp}",
            "promotion_gate": "passed" if passed else "failed",
            "promotion_reasons": " | ".join(reasons)[:4900]}
    for key, value in tags.items():
        client.set_model_version_tag(name, number, key, value)
    if forced:
        failed = "; ".join(r for r in reasons if r.startswith("FAIL"))
        description = (version.description or "").rstrip()
        client.update_model_version(name, number, description=(
            f"{description}\n\n" if description else "") + (
            f"Promoted to `{CHAMPION}` with --force at {stamp} {over}, although the gate "
            f"failed: {failed}")[:4900])
    return Promotion(name, number, before, passed=passed, promoted=moved, forced=forced,
                     reasons=reasons, notes=notes)


def render(outcome: Promotion) -> str:
    """The decision in words, for the terminal."""
    header = (f"promote: version {outcome.version} of '{outcome.name}' against champion "
              f"{'v' + outcome.champion_before if outcome.champion_before else '(none)'}")
    lines = [header, *(f"  {reason}" for reason in outcome.reasons),
             *(f"  note: {note}" for note in outcome.notes)]
    if outcome.already:
        lines.append(f"UNCHANGED: version {outcome.version} is already champion.")
    elif outcome.forced:
        lines.append(f"FORCED: champion -> v{outcome.version} although the gate failed; the "
                     "failed checks are written on the version's description and tags.")
    elif outcome.promoted:
        lines.append(f"PROMOTED: champion -> v{outcome.version} (was "
                     f"{'v' + outcome.champion_before if outcome.champion_before else 'none'}); "
                     "the gate passed.")
    else:
        failed = [r.removeprefix("FAIL ") for r in outcome.reasons if r.startswith("FAIL")]
        stays = f"v{outcome.champion_before}" if outcome.champion_before else "unset"
        lines.append(f"REFUSED: champion stays {stays}; the gate failed: "
                     f"{'; '.join(failed)}. `--force` promotes anyway and records it.")
    return "\n".join(lines)
