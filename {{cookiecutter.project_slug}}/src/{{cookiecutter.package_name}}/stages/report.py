"""Stage ``report`` (the last one): one self-contained page, ``reports/index.html``.

It reads what every earlier stage wrote (the charter, the data profile, the label audit, the
model and its importance, the error analysis, the deploy decision, the monitoring history),
embeds the figures, and renders the page with the Jinja2 templates of
``reporting/templates/``. A step whose outputs are missing gets a section that says so. The
page is logged to MLflow as an artifact of the pipeline run's ``report`` child run. Light: no
MLflow, scikit-learn, pandas or matplotlib import.
"""

from __future__ import annotations

import logging
import time

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_text
from ..core.settings import load_settings
from ..core.tracking import check_store
from ..reporting.html_report import REPORT_HTML, gather, render_html

log = logging.getLogger(__name__)


def main() -> None:
    """Gather every step's outputs, write ``reports/index.html``, log it to MLflow."""
    started = time.perf_counter()
    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    root = project_root()
    sections = gather(root, settings.model.model_dump(mode="json"))
    html = render_html(sections, settings.project.name,
                       time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    page = write_text(root / REPORT_HTML, html)
    absent = [name for name, section in sections.items()
              if section.get("missing") or section.get("unreadable")]
    if absent:
        log.warning("sections without their stage's outputs: %s", ", ".join(absent))
    log.info("%s written (%d kB) in %.2f s; open it with `xdg-open %s` (macOS: `open %s`)",
             REPORT_HTML, len(html.encode()) // 1024, time.perf_counter() - started,
             REPORT_HTML, REPORT_HTML)

    from ..core.tracking import stage_run

    with stage_run("report", settings, groups=()) as run:
        run.log_artifact(page)


if __name__ == "__main__":
    run_stage(main, "report")
