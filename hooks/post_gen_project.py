"""Finish the generated project: prune what the answers turned off, then initialise it.

Initialisation (git, DVC with Hydra composition, params.yaml, first commit) is the project's own
``bootstrap`` module, so it can also be run by hand. It needs DVC and Hydra importable by the
Python running cookiecutter; when they are not, the hook says what to run after installing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path.cwd()
PACKAGE = "{{ cookiecutter.package_name }}"
INIT_GIT = "{{ cookiecutter.init_git }}" == "yes"

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
            "Copyright (c) {{ cookiecutter.author_name }}. All rights reserved.\n", encoding="utf-8"
        )


def initialise() -> None:
    """Run the project's bootstrap with this Python, or explain how to run it later."""
    command = [
        sys.executable, "-c",
        "import sys; sys.path.insert(0, 'src'); "
        f"from {PACKAGE}.bootstrap import main; main()",
    ]
    if not INIT_GIT:
        command += ["--no-git"]
    try:
        import dvc  # noqa: F401
        import hydra  # noqa: F401
    except ImportError:
        print(
            "\nDVC and Hydra are not installed for the Python running cookiecutter, so the project"
            " is not initialised yet. In the project directory run:\n"
            "    python -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]'\n"
            f"    python -m {PACKAGE}.bootstrap{'' if INIT_GIT else ' --no-git'}\n"
        )
        return
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        sys.exit(f"ERROR: initialising the project failed (see above); fix it and run "
                 f"`python -m {PACKAGE}.bootstrap` in the project.")
    print(done.stdout, end="")


if __name__ == "__main__":
    prune()
    initialise()
    print(f"\nProject ready in {ROOT}. Next: see README.md (`dvc repro` runs the lifecycle).")
