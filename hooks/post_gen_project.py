"""Finish the generated project: prune what the answers turned off, then initialise git.

Runs with the Python of cookiecutter, which usually has neither DVC nor Hydra (pipx or a bare
venv), so it needs neither: the project ships its DVC configuration (``.dvc/``, Hydra
composition on), ``dvc repro`` composes ``params.yaml`` in its first stage, and this hook only
runs ``git init`` and makes the first commit (DVC experiments need one). The project's
``repair`` command (``<package> repair``) repairs the same steps by hand, idempotently.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path.cwd()
INIT_GIT = "{{ cookiecutter.init_git }}" == "yes"

# Answers inside Python strings: only \ and " need escaping (\x22 is ", so these lines parse
# before rendering too); the pre-generation hook refuses line breaks and control characters.
OWNER = "{{ cookiecutter.author_name | replace('\\', '\\\\') | replace('\x22', '\\\x22') }}"
EMAIL = "{{ cookiecutter.author_email }}"  # checked as name@domain.tld by the pre-gen hook
OWN_DATA = "{{ cookiecutter.example_data }}" == "own_file"
SERVER = "{{ cookiecutter.mlflow_tracking }}" == "server"
SERVER_URL = "{{ cookiecutter.mlflow_server_url }}"  # the pre-gen hook admits no quote in a URL

REMOVE_WHEN_OFF = {
    "{{ cookiecutter.ci_workflow }}": [".github"],
    "{{ cookiecutter.pre_commit }}": [".pre-commit-config.yaml"],
}


def prune() -> None:
    """Delete the files of options answered "no"."""
    for answer, paths in REMOVE_WHEN_OFF.items():
        if answer == "no":
            for relative in paths:
                target = ROOT / relative
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
    if "{{ cookiecutter.license }}" == "Proprietary":
        (ROOT / "LICENSE").write_text(
            f"Copyright (c) {OWNER}. All rights reserved.\n", encoding="utf-8"
        )


def git(*args: str) -> subprocess.CompletedProcess[str]:
    """Run git in the project, capturing its output."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def initialise() -> str:
    """Initialise git and make the first commit; return what was done, in words."""
    if not INIT_GIT:
        return "git was not initialised (init_git=no); DVC runs without it (`dvc exp` needs git)."
    if shutil.which("git") is None:
        sys.exit("ERROR: init_git: git is not installed; install git, or answer init_git=no.")
    if not (ROOT / ".git").exists():
        done = git("init", "-q", "-b", "main")
        if done.returncode != 0:  # git before 2.28 has no -b
            git("init", "-q")
            git("checkout", "-q", "-b", "main")
    identity = []
    # the answers are the identity of the first commit when git has none configured
    for key, fallback in (("user.name", OWNER), ("user.email", EMAIL)):
        if not git("config", key).stdout.strip():
            identity += ["-c", f"{key}={fallback}"]
    git("add", "-A")
    done = git(*identity, "commit", "-q", "-m", "Generate project from the ML lifecycle template")
    if done.returncode != 0:
        sys.exit(f"ERROR: init_git: the first commit failed:\n{done.stdout}{done.stderr}")
    return "git initialised (branch main) with a first commit."


def before_first_run() -> str:
    """What only the user can do before the first run: their file, their server."""
    lines = ""
    if OWN_DATA:  # the path the data config holds (the answer as the pre-gen hook normalised it)
        import yaml  # a dependency of cookiecutter

        config = ROOT / "conf" / "data" / "own_file.yaml"
        path = yaml.safe_load(config.read_text(encoding="utf-8"))["path"]
        lines += f"  cp <your table> '{path}'   # conf/data/own_file.yaml reads it there\n"
    if SERVER:
        lines += f"  # start the MLflow server at {SERVER_URL} (conf/mlflow/server.yaml)\n"
    return lines


def next_steps() -> str:
    """What was done and the commands that take the project to its first results.

    The same route as the project README's Quick start (and its ``make setup`` / ``make repro``):
    nothing else needs initialising, the first ``dvc repro`` composes ``params.yaml``.
    """
    return (
        f"\nProject ready in {ROOT}\n"
        f"  {initialise()}\n"
        "  DVC's configuration ships in .dvc/ (nothing to initialise); params.yaml is written\n"
        "  by the first `dvc repro`.\n"
        "Next (README.md, Quick start):\n"
        f"  cd {ROOT.name}\n"
        f"{before_first_run()}"
        "  uv venv && . .venv/bin/activate && uv pip install -e '.[dev]'   # or: make setup\n"
        "  dvc repro      # the whole lifecycle; README.md: a smaller first run, the reports\n"
    )


if __name__ == "__main__":
    prune()
    print(next_steps())
