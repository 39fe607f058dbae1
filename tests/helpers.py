"""Shared helpers of the template's tests: bake, install and run generated projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment a generated project's commands run in.

    ``PYTHONPATH=src`` makes each project import its own package even when several projects
    with the same package name are installed (editable) in this interpreter.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project / "src")
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, *, check: bool = True, timeout: float = 900,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command in a project and fail the test with its output when it fails."""
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env=env or project_env(cwd),
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"`{' '.join(map(str, args))}` exited {done.returncode} in {cwd}\n"
            f"--- stdout ---\n{done.stdout[-8000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
        )
    return done


def install(project: Path) -> None:
    """Install a baked project (editable, with its dev extra) into this interpreter.

    Installs are serialised with a file lock: pytest-xdist workers share the interpreter.
    """
    import fcntl
    import tempfile

    lock_path = Path(tempfile.gettempdir()) / f"template-tests-install-{os.getuid()}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(project)


def _install(project: Path) -> None:
    uv = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
    if uv:
        args = [uv, "pip", "install", "--python", sys.executable, "-q", "-e", f"{project}[dev]"]
    else:
        args = [sys.executable, "-m", "pip", "install", "-q", "-e", f"{project}[dev]"]
    run(args, project, timeout=1200)


def template_leftovers(project: Path) -> list[str]:
    """Files of a baked project that still contain Jinja syntax."""
    bad = []
    for path in project.rglob("*"):
        if ".git" in path.parts or ".dvc" in path.parts or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "{{" in text or "{%" in text or "{#" in text:
            bad.append(str(path.relative_to(project)))
    return bad
