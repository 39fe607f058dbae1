"""The HTML report of a real pipeline run, read by a real browser: `dvc repro` writes
``reports/index.html``; headless Chromium renders it; every step's section and every figure is
there, embedded, and the page names no http(s) address (it must read offline)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import bake_and_install, run, wait_for_pending_runs

pytestmark = pytest.mark.slow

SECTIONS = {"card": "1. Project card", "data": "2. Data profile", "labels": "3. Label audit",
            "model": "4. Model", "evaluation": "5. Error analysis",
            "deploy": "6. Deploy decision", "monitor": "7. Monitoring"}
PNG = b"\x89PNG\r\n\x1a\n"


def chromium() -> str:
    """The headless browser; CI installs it (.ci/run), so there its absence is a failure."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed: the CI script installs it with "
                    "`apt-get install chromium`; install it the same way")
    pytest.skip("chromium is not installed (CI installs it: `apt-get install chromium`)")


def browse(browser: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local page, with a profile of its own."""
    return subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
         f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=True)


class Dom(HTMLParser):
    """The rendered DOM: section ids with their headings, index links, images."""

    def __init__(self, html: str):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.links: set[str] = set()
        self.images: list[str] = []
        self._section: str | None = None
        self._h2: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self._section = values.get("id")
        elif tag == "h2" and self._section:
            self._h2 = []
        elif tag == "a" and (values.get("href") or "").startswith("#"):
            self.links.add(str(values["href"])[1:])
        elif tag == "img":
            self.images.append(str(values.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._h2 is not None and self._section:
            self.sections[self._section] = " ".join("".join(self._h2).split())
            self._h2 = None

    def handle_data(self, data: str) -> None:
        if self._h2 is not None:
            self._h2.append(data)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header, after checking it is one."""
    assert data[:8] == PNG and data[12:16] == b"IHDR", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_report_renders_in_a_browser_with_every_section_and_figure(tmp_path):
    browser = chromium()
    # given a baked project whose whole pipeline has run
    project = bake_and_install(tmp_path / "baked", project_name="Report Check")
    done = run(["dvc", "repro"], project)
    assert "Running stage 'report'" in done.stdout, done.stdout
    page = project / "reports/index.html"
    source = page.read_text(encoding="utf-8")
    # when headless Chromium renders the page
    dom = Dom(browse(browser, page, tmp_path / "profile", "--dump-dom").stdout)
    # then every step has its section, its heading, a link from the index, and its outputs
    assert dom.sections == SECTIONS
    assert set(SECTIONS) <= dom.links
    assert "is missing" not in source and "not valid JSON" not in source
    # and every figure the stages drew is embedded as a PNG that decodes, none left out
    drawn = sorted(
        p for folder in ("reports/data", "reports/train", "reports/evaluate/figures",
                         "reports/monitor/latest")
        for p in (project / folder).glob("*.png"))
    assert len(drawn) >= 9
    embedded = [base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
                for src in dom.images]
    assert all(src.startswith("data:image/png;base64,") for src in dom.images)
    assert sorted(embedded) == sorted(p.read_bytes() for p in drawn)
    assert all(min(png_size(data)) > 0 for data in embedded)
    # and nothing is fetched from the network, nor any script needed
    assert not re.search(r"https?://", source), re.search(r".{60}https?://.{60}", source)
    assert "<script" not in source.lower()
    # and a screenshot of the whole page is a real image (look at it when the layout changes)
    shot = tmp_path / "report.png"
    browse(browser, page, tmp_path / "profile", "--window-size=1280,9000",
           f"--screenshot={shot}")
    assert min(png_size(shot.read_bytes())) > 0 and shot.stat().st_size > 100_000
    # and the page is in MLflow, an artifact of the pipeline run's `report` child run
    wait_for_pending_runs(project)
    from mlflow import MlflowClient

    uri = f"sqlite:///{project / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(project.name)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id],
                              filter_string="tags.`pipeline.stage` = 'report'")
    assert len(runs) == 1 and "mlflow.parentRunId" in runs[0].data.tags
    assert "index.html" in [a.path for a in client.list_artifacts(runs[0].info.run_id)]
