"""DVC sees every file of the package a stage runs, and no other.

``dvc repro`` re-runs a stage only when one of its ``deps`` changed, so a module the stage
imports but does not list would leave stale results behind, and a listed module it never
imports re-runs it for nothing. The fast tests walk each stage's imports within the package
(with ``ast``: imports inside functions count, those under ``if TYPE_CHECKING:`` do not, and
importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` too) and compare what they
reach with the stage's ``src/<package>/`` deps in ``dvc.yaml``. The slow test checks the walk
against DVC itself: after one real run, editing each module makes ``dvc status`` report exactly
the stages whose imports reach it.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml
from test_pipeline_e2e import scratch, sh  # noqa: F401  (scratch: a small copy of the project)

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
PKG_DIR = PROJECT / "src" / PACKAGE
TYPE_CHECKING = ("TYPE_CHECKING", "typing.TYPE_CHECKING")  # what `if` blocks never run


def rel(path: Path) -> str:
    """A package file as dvc.yaml spells it (``src/<package>/core/io.py``)."""
    return path.relative_to(PROJECT).as_posix()


@cache
def stages() -> dict:
    """dvc.yaml's stages."""
    return yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]


def stage_module(stage: dict) -> str:
    """The module a stage's ``cmd`` runs (``python -m <package>.stages.x``)."""
    words = stage["cmd"].split()
    return words[words.index("-m") + 1]


def deps(stage: dict) -> list[str]:
    return [d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps", [])]


def outs(stage: dict) -> list[str]:
    return [o if isinstance(o, str) else next(iter(o))
            for key in ("outs", "metrics", "plots") for o in stage.get(key, [])]


def module_file(dotted: str) -> Path | None:
    """The file of a module of the package, or None when it is not one."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PKG_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def dotted_name(path: Path) -> str:
    parts = path.relative_to(PKG_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_from(path: Path, node: ast.ImportFrom) -> str:
    """The absolute name of the module a ``from ... import`` in a file names."""
    if not node.level:
        return node.module or ""
    package = dotted_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    anchor = package[: len(package) - node.level + 1]
    return ".".join(anchor + ([node.module] if node.module else []))


def run_nodes(path: Path) -> Iterator[ast.AST]:
    """The nodes of a file that can run: all but the bodies of ``if TYPE_CHECKING:``."""
    todo: list[ast.AST] = [ast.parse(path.read_text(), filename=str(path))]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and ast.unparse(node.test) in TYPE_CHECKING:
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


@cache
def direct_imports(path: Path) -> frozenset[str]:
    """Modules of the package that one file imports, anywhere in it (that can run)."""
    found = set()
    for node in run_nodes(path):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = imported_from(path, node)
            found.add(base)
            # `from .pkg import name` imports the submodule pkg.name when there is one
            found |= {f"{base}.{alias.name}" for alias in node.names
                      if module_file(f"{base}.{alias.name}") is not None}
    return frozenset(name for name in found if module_file(name) is not None)


@cache
def names_used_from(path: Path, module: str) -> frozenset[str]:
    """Names a file takes from a module: ``from module import X`` or ``module.X``."""
    parent, _, last = module.rpartition(".")
    bound, names = set(), set()
    for node in run_nodes(path):
        if isinstance(node, ast.ImportFrom):
            base = imported_from(path, node)
            for alias in node.names:
                if base == module:
                    names.add(alias.name)
                elif base == parent and alias.name == last:
                    bound.add(alias.asname or last)
        elif isinstance(node, ast.Import):
            bound |= {alias.asname for alias in node.names if alias.name == module and alias.asname}
    for node in run_nodes(path):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in bound):
            names.add(node.attr)
    return frozenset(names)


def with_parents(dotted: str) -> list[str]:
    """Importing ``a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``."""
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@cache
def reached(module: str) -> frozenset[Path]:
    """Every file of the package that running ``python -m <module>`` executes."""
    seen: set[Path] = set()
    todo = with_parents(module)
    while todo:
        path = module_file(todo.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        for name in direct_imports(path):
            todo.extend(with_parents(name))
    return frozenset(seen)


def docstring_only(path: Path) -> bool:
    """True when a file holds a docstring and nothing else."""
    body = ast.parse(path.read_text()).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
               and isinstance(node.value.value, str) for node in body) and len(body) <= 1


def exempt(path: Path) -> bool:
    """A package ``__init__.py`` that cannot change any result need not be a dep."""
    return path.name == "__init__.py" and docstring_only(path)


def covered(path: Path, stage_deps: list[str]) -> bool:
    """The file is a dep, or lies in a folder that is one."""
    return any(path == PROJECT / d or (PROJECT / d) in path.parents for d in stage_deps)


def package_deps(stage: dict) -> list[Path]:
    return [PROJECT / d for d in deps(stage) if (PROJECT / d) == PKG_DIR
            or PKG_DIR in (PROJECT / d).parents]


def covered_files(stage: dict) -> set[Path]:
    """Every Python file of the package that the stage's deps name."""
    files = set()
    for dep in package_deps(stage):
        files |= set(dep.rglob("*.py")) if dep.is_dir() else {dep}
    return files


def summary(files: set[Path]) -> str:
    """``core: config errors io; data: dataset`` for a set of package files."""
    folders: dict[str, list[str]] = {}
    for path in sorted(files):
        folder, _, name = path.relative_to(PKG_DIR).as_posix().rpartition("/")
        folders.setdefault(folder or ".", []).append(name.removesuffix(".py"))
    return "; ".join(f"{folder}: {' '.join(names)}" for folder, names in folders.items())


STAGES = list(stages())


def test_every_package_init_that_stages_skip_holds_only_a_docstring():
    # an __init__.py left out of deps must not be able to change what a stage computes
    inits = sorted(PKG_DIR.rglob("__init__.py"))
    assert inits
    for path in inits:
        if not docstring_only(path):
            users = [name for name, stage in stages().items()
                     if path in reached(stage_module(stage))]
            assert all(covered(path, deps(stages()[name])) for name in users), (
                f"{rel(path)} holds code: every stage that imports it must list it")


def test_no_module_a_stage_runs_imports_by_name():
    # importlib.import_module("...") and __import__ hide an import from the walk below
    for name, stage in stages().items():
        for path in reached(stage_module(stage)):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    func = node.func
                    called = getattr(func, "attr", None) or getattr(func, "id", None)
                    assert called not in ("import_module", "__import__"), (
                        f"stage {name}: {rel(path)}:{node.lineno} imports a module by name")


@pytest.mark.parametrize("name", STAGES)
def test_stage_deps_list_exactly_the_package_files_it_runs(name):
    # given the files of the package that the stage's module reaches through its imports
    stage = stages()[name]
    files = reached(stage_module(stage))
    assert files, f"stage {name}: {stage_module(stage)} is not a module of the package"
    needed = {path for path in files if not exempt(path)}
    # when compared with the files its deps name
    listed = covered_files(stage)
    missing = sorted(path for path in needed if not covered(path, deps(stage)))
    extra = sorted(path for path in listed if path not in files)
    print(f"\n{name}: runs {len(needed)} files of the package, listed as "
          f"{len(package_deps(stage))} deps\n  {summary(needed)}")
    # then every file it runs is listed (else an edit would not re-run it)
    assert not missing, (f"stage {name} imports files its deps omit; add to dvc.yaml:\n"
                         + "\n".join(f"      - {rel(path)}" for path in missing))
    # and every file listed is one it runs (else an edit elsewhere re-runs it for nothing)
    assert not extra, (f"stage {name}'s deps name files it never imports: "
                       + ", ".join(rel(path) for path in extra)
                       + "; list the files it uses instead of their folder")


def test_every_dep_exists_or_is_made_by_a_stage():
    made = {out for stage in stages().values() for out in outs(stage)}
    for name, stage in stages().items():
        for dep in deps(stage):
            made_here = any(dep == out or dep.startswith(f"{out}/") or out.startswith(f"{dep}/")
                            for out in made)
            assert (PROJECT / dep).exists() or made_here, (
                f"stage {name}: dep {dep} neither exists nor is an output of a stage")


# ---------------------------------------------------------------------------------------------
# Slow: DVC agrees with the walk.


@pytest.mark.slow
def test_editing_any_module_changes_exactly_the_stages_that_import_it(scratch):  # noqa: F811
    # given a project whose whole pipeline ran once
    sh([sys.executable, "-m", "dvc", "repro", "-q"], scratch)
    src = scratch / "src" / PACKAGE
    users: dict[Path, set[str]] = {}
    for name, stage in stages().items():
        for path in reached(stage_module(stage)):
            users.setdefault(path.relative_to(PKG_DIR), set()).add(name)
    files = sorted(path.relative_to(PKG_DIR) for path in PKG_DIR.rglob("*.py"))
    # one dvc status per module that a stage runs, and one for all the others together
    edits = [[f] for f in files if f in users] + [[f for f in files if f not in users]]
    wrong = []
    for group in edits:
        originals = {f: (src / f).read_bytes() for f in group}
        # when the module gets a comment
        for f, text in originals.items():
            (src / f).write_bytes(text + b"\n# edited\n")
        try:
            status = json.loads(sh([sys.executable, "-m", "dvc", "status", "--json"], scratch))
        finally:
            for f, text in originals.items():
                (src / f).write_bytes(text)
        # then dvc reports the stages whose imports reach it (an exempt __init__.py: a subset)
        changed = set(status)
        expected = set().union(*(users.get(f, set()) for f in group))
        subset_will_do = all(exempt(PKG_DIR / f) for f in group)
        what = " ".join(f.as_posix() for f in group)
        if changed != expected and not (subset_will_do and changed <= expected):
            wrong.append(f"{what}: dvc status {sorted(changed)}, imports {sorted(expected)}")
        print(f"{what}: {', '.join(sorted(changed)) or '-'}")
    assert not wrong, "\n".join(wrong)
    assert json.loads(sh([sys.executable, "-m", "dvc", "status", "--json"], scratch)) == {}
