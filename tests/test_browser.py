"""A real browser: Debian's chromium, driven by Playwright, against `streamlit run` on a free
port. Uploads an EHR-style export and checks that the tiles show the hand-checked values, the
charts rendered, and no patient id is on screen."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        yield page
        browser.close()


def ehr_export(path: Path) -> Path:
    """six_patients.csv as an EHR writes it: semicolons, Windows-1252, 31.12.2025 dates, other headers."""
    lines = ["MRN;Date of Service;Visit Type;Infusion #;PHQ-9 Total;Reason stopped"]
    for row in (FIXTURES / "six_patients.csv").read_text().splitlines()[1:]:
        pid, day, kind, number, phq, reason = row.split(",")
        y, m, d = day.split("-")
        lines.append(";".join([f"MRN-00{pid}", f"{d}.{m}.{y}", kind, number, phq, reason]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def tile_values(page) -> dict[str, str]:
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


def test_upload_in_a_real_browser(server, page, tmp_path):
    page.goto(server)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert tile_values(page)["Patients started"] == "600"  # the sample data
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(ehr_export(tmp_path / "export.csv")))
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stMetricValue']\")].some(e => e.innerText.trim() === '6')",
        timeout=60_000)
    time.sleep(2)
    tiles = tile_values(page)
    assert tiles == {"Patients started": "6", "Completed series": "40%", "Response after 2 infusions": "67%",
                     "Response after 6 infusions": "100%", "Durable at one month": "50%"}
    charts = page.locator("[data-testid='stVegaLiteChart']")
    assert charts.count() >= 1
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
                           timeout=30_000)
    text = page.locator("body").inner_text()
    assert "MRN-00" not in text  # no patient id on screen
    page.screenshot(path=str(tmp_path / "uploaded.png"), full_page=True)
