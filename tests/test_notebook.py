"""The starter notebook: committed without outputs, and it runs top to bottom on the outputs of
the latest `dvc repro`, through the package's own functions."""

from __future__ import annotations

import json

import pytest
from helpers import TEMPLATE, run

NOTEBOOK = "notebooks/01_start_here.ipynb"


def test_the_starter_notebook_is_committed_small_and_without_outputs():
    # given the template's notebook
    notebook = json.loads((TEMPLATE / "{{cookiecutter.project_slug}}" / NOTEBOOK)
                          .read_text(encoding="utf-8"))
    # then it is nbformat 4 with a Python kernel, and no cell carries an output or a count
    assert (notebook["nbformat"], notebook["metadata"]["kernelspec"]["name"]) == (4, "python3")
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None
                        for cell in code)
    # and it imports only the package's modules and matplotlib (the package name rendered)
    imports = [line for cell in code for line in cell["source"]
               if line.startswith(("import ", "from "))]
    assert all("{{ cookiecutter.package_name }}." in line or "matplotlib" in line
               for line in imports), imports


@pytest.mark.slow
def test_the_starter_notebook_runs_on_the_latest_run(demo_project, monkeypatch):
    # given the demo project after `dvc repro` (a no-op when an earlier test ran it)
    run(["dvc", "repro"], demo_project)
    import nbformat
    from nbclient import NotebookClient

    # when the notebook runs in a fresh kernel from notebooks/, importing this project's package
    monkeypatch.setenv("PYTHONPATH", str(demo_project / "src"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws figures
    notebook = nbformat.read(demo_project / NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(demo_project / "notebooks")}}).execute()
    # then every code cell ran (an error would have raised), and the headline it prints is
    # the evaluation's, with its interval
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs)
    evaluation = json.loads((demo_project / "reports/evaluate/evaluation.json").read_text())
    auc = evaluation["discrimination"]["auc"]
    assert f"AUC                {auc['estimate']:.3f} [{auc['lo']:.3f}, {auc['hi']:.3f}]" in text
    assert f"test split: {evaluation['n']} rows" in text
    # and one figure was drawn
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 1
