"""The README's pipeline diagram is the one `dvc dag --md` draws from dvc.yaml."""

from __future__ import annotations

import re
import subprocess
import sys


def test_readme_pipeline_diagram_matches_dvc_dag(project_root):
    # given the README's Mermaid diagram of the pipeline
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^```mermaid\n.*?^```$", readme, flags=re.MULTILINE | re.DOTALL)
    assert found, "README.md has no ```mermaid block: paste the output of `dvc dag --md`"
    # when DVC draws the pipeline of dvc.yaml
    drawn = subprocess.run([sys.executable, "-m", "dvc", "dag", "--md"], cwd=project_root,
                           capture_output=True, text=True, check=True).stdout
    # then they are the same (after a stage is added or rewired, paste the new one)
    assert found.group(0) == drawn.strip(), (
        "README.md's pipeline diagram is out of date: replace it with `dvc dag --md`'s output")
