"""Print the generated project's dependencies (runtime and dev), one per line.

Bakes the template with default answers into a temporary directory (without initialising
git or DVC) and reads the project's pyproject.toml, so CI installs exactly what a project
declares, from the one list that declares it.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


def main() -> None:
    """Bake, read, print."""
    with tempfile.TemporaryDirectory() as out:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=out,
                                    accept_hooks=False))
        meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    for requirement in [*meta["dependencies"], *meta["optional-dependencies"]["dev"]]:
        print(requirement)


if __name__ == "__main__":
    main()
