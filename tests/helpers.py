"""Shared helpers of the template's tests: bake, install and run generated projects."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]


def _stage_names() -> tuple[str, ...]:
    """The pipeline's stages in order, read from the template's dvc.yaml (the one list)."""
    import yaml

    text = (TEMPLATE / "{{cookiecutter.project_slug}}" / "dvc.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["stages"])


STAGES = _stage_names()
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


def wait_for_pending_runs(project: Path, timeout: float = 120) -> None:
    """Wait until the background writer has put every recorded run in the MLflow store.

    Light stages record their runs under ``.mlflow-pending/`` and a detached writer writes
    them (the project's ``core/pending_runs.py``); this waits for that writer, rather than
    writing them itself, so the tests check the path users rely on.
    """
    folder = project / ".mlflow-pending"
    deadline = time.monotonic() + timeout
    while True:
        errors = folder / "errors.log"
        if errors.exists():
            raise AssertionError(f"the run writer failed:\n{errors.read_text()}")
        left = [p for p in folder.glob("*") if p.is_dir() and (p / "record.json").exists()]
        if not left:
            return
        if time.monotonic() > deadline:
            log = folder / "writer.log"
            raise AssertionError(f"{len(left)} run(s) still pending after {timeout:.0f} s; "
                                 f"writer log:\n{log.read_text() if log.exists() else '-'}")
        time.sleep(0.2)


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


def bare_cookiecutter() -> Path:
    """A cookiecutter installed in a virtual environment of its own, with neither DVC nor Hydra:
    the way most users have it (pipx, a bare venv). Made once per machine, under a lock."""
    import fcntl
    import tempfile

    venv = Path(tempfile.gettempdir()) / f"template-tests-bare-cookiecutter-{os.getuid()}"
    command = venv / "bin" / "cookiecutter"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not command.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            uv = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
            installer = ([uv, "pip", "install", "--python", str(venv / "bin" / "python")] if uv
                         else [str(venv / "bin" / "python"), "-m", "pip", "install"])
            subprocess.run([*installer, "-q", "cookiecutter>=2.6,<3"], check=True,
                           capture_output=True)
    return command


def bake(out: Path, **answers: str) -> Path:
    """Bake the template as a user does, with the bare cookiecutter's command line and these
    answers (others default), into the empty folder ``out``; return the project's path."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    args = [str(bare_cookiecutter()), "--no-input", "-o", str(out), str(TEMPLATE)]
    done = subprocess.run([*args, *(f"{key}={value}" for key, value in answers.items())],
                          capture_output=True, text=True, timeout=300, env=project_env(out))
    if done.returncode != 0:
        raise AssertionError(f"baking failed:\n{done.stdout}\n{done.stderr}")
    (project,) = set(out.iterdir()) - before
    return project


def bake_and_install(out: Path, **answers: str) -> Path:
    """Bake the template with these answers (others default) into ``out`` and install it."""
    project = bake(out, **answers)
    install(project)
    return project


def run_queue(project: Path, timeout: float = 1500) -> str:
    """Start DVC's experiment queue and wait until it is empty (``dvc queue start`` returns at
    once); fail the test when an experiment failed. Returns the last ``dvc queue status``."""
    run(["dvc", "queue", "start"], project)
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run(["dvc", "queue", "status"], project).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    assert "Failed" not in status, status
    return status


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server's whole process group (a multi-worker server runs its workers as
    children); kill what has not gone within ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    # the children outlive the leader: wait for the whole group to vanish
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
