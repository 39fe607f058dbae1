"""Repair a project's initialisation: git, DVC (with Hydra composition), params.yaml.

A freshly generated project needs none of this: it ships ``.dvc/`` and the template's hook
initialises git, and ``dvc repro`` composes ``params.yaml``. Run it by hand when one of those is
missing (a copy without ``.git``, a deleted ``.dvc/config``):
``{{ cookiecutter.package_name }} repair``. Safe to run twice: each step is
skipped when already done.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

FALLBACK_NAME = "{{ cookiecutter.author_name | replace('\\', '\\\\') | replace('"', '\\"') }}"
FALLBACK_EMAIL = "{{ cookiecutter.author_email | replace('\\', '\\\\') | replace('"', '\\"') }}"


def _run(args: list[str], cwd: Path) -> str:
    """Run a command, raising with its output when it fails."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _git_identity(cwd: Path) -> list[str]:
    """``-c user.name=... -c user.email=...`` when git has no identity configured."""
    extra = []
    for key, fallback in (("user.name", FALLBACK_NAME), ("user.email", FALLBACK_EMAIL)):
        probe = subprocess.run(["git", "config", key], cwd=cwd, capture_output=True, text=True)
        if not probe.stdout.strip():
            extra += ["-c", f"{key}={fallback}"]
    return extra


def bootstrap(root: Path, *, use_git: bool = True, commit: bool = True) -> list[str]:
    """Initialise git and DVC, enable Hydra composition, compose params.yaml, commit.

    Args:
        root: the project directory.
        use_git: initialise a git repository (DVC experiments need one).
        commit: make the first commit (only with ``use_git``).

    Returns:
        What was done, one line per step.
    """
    done: list[str] = []
    dvc = [sys.executable, "-m", "dvc"]
    if use_git and not (root / ".git").exists():
        if shutil.which("git") is None:
            raise RuntimeError("git is not installed; install it or answer init_git=no.")
        _run(["git", "init", "-q", "-b", "main"], root)
        done.append("git repository initialised (branch main)")
    if not (root / ".dvc").exists():
        _run([*dvc, "init", "-q", *([] if use_git else ["--no-scm"])], root)
        done.append("DVC initialised")
    # dvc exp run composes params.yaml from conf/ (and -S overrides) when Hydra is enabled.
    _run([*dvc, "config", "hydra.enabled", "true"], root)
    _run([*dvc, "config", "core.autostage", "true"], root)
    if use_git:
        # Experiments run in the workspace by default; queued ones copy it to a temp dir.
        done.append("Hydra composition enabled for `dvc exp run`")
    from ..stages.compose import compose

    compose()
    done.append("params.yaml composed from conf/")
    if use_git and commit:
        _run(["git", "add", "-A"], root)
        if _run(["git", "status", "--porcelain"], root):
            _run(["git", *_git_identity(root), "commit", "-q", "-m",
                  "Generate project from the ML lifecycle template"], root)
            done.append("first commit made")
    return done


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``<package> repair [--no-git] [--no-commit]``."""
    from ..core.paths import PACKAGE

    parser = argparse.ArgumentParser(prog=f"{PACKAGE} repair",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--no-git", action="store_true", help="do not initialise git")
    parser.add_argument("--no-commit", action="store_true", help="do not make the first commit")
    args = parser.parse_args(argv)
    from ..core.config import project_root

    for line in bootstrap(project_root(), use_git=not args.no_git, commit=not args.no_commit):
        print(f"  - {line}")
