"""Stage ``define`` (step 1): validate the charter and render the project card.

Outputs ``reports/define/charter.json`` (read by evaluate and deploy) and
``reports/define/project_card.md`` (for people), both logged to MLflow.
"""

from __future__ import annotations

import logging

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_json, write_text
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..decisions.charter import validate_charter
from ..reporting.project_card import render_card

log = logging.getLogger(__name__)
OUT_DIR = "reports/define"


def main() -> None:
    """Validate ``conf/project/``, write the charter and the card, log both to MLflow."""
    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    charter = validate_charter(settings.project)
    out = project_root() / OUT_DIR
    write_json(out / "charter.json", charter)
    card = write_text(out / "project_card.md", render_card(charter))
    log.info("charter valid: %d success criteria", len(charter["success_criteria"]))

    from ..core.tracking import stage_run

    with stage_run("define", settings, groups=("project",)) as run:
        run.log_artifact(card)
        run.log_dict(charter, "charter.json")


if __name__ == "__main__":
    run_stage(main, "define")
