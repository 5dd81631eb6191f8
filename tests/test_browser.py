"""A real browser: Debian's chromium, driven by Playwright, against `streamlit run` on a free
port. Uploads an EHR-style export and checks that the tiles show the hand-checked values, the
charts rendered, and no patient id is on screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, idle, streamlit, wait_for_tile
from conftest import FIXTURES

pytestmark = NO_CHROMIUM


@pytest.fixture(scope="module")
def server():
    with streamlit() as url:
        yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        yield page
        browser.close()


def ehr_export(path: Path) -> Path:
    """six_patients.csv as an EHR writes it: semicolons, Windows-1252, 31.12.2025 dates, other
    headers, and one broken line (7 fields under a 6-column header). Rows: 33 of six_patients'
    34 lines are used (its No-show row is rejected), the broken line is rejected too."""
    lines = ["MRN;Date of Service;Visit Type;Infusion #;PHQ-9 Total;Reason stopped"]
    for row in (FIXTURES / "six_patients.csv").read_text().splitlines()[1:]:
        pid, day, kind, number, phq, reason = row.split(",")
        y, m, d = day.split("-")
        lines.append(";".join([f"MRN-00{pid}", f"{d}.{m}.{y}", kind, number, phq, reason]))
    lines.insert(5, "MRN-00A;06.01.2025;infusion;2;19;;stray field")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def tile_values(page) -> dict[str, str]:
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


def drawn_charts(page) -> int:
    """Charts vega-embed has drawn (an svg or a canvas inside the chart element)."""
    return page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks").count()


def test_upload_in_a_real_browser(server, page, tmp_path):
    page.goto(server)
    wait_for_tile(page, "600")  # the sample data's patients started
    assert page.get_by_text("Sample data: synthetic patients").is_visible()

    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    uploader.set_input_files(str(ehr_export(tmp_path / "export.csv")))
    wait_for_tile(page, "6")
    idle(page)
    # Hand-checked in tests/test_metrics_hand_worked.py (six_patients.csv); the broken line changes nothing.
    assert tile_values(page) == {"Patients started": "6", "Completed series": "40%",
                                 "Response after 2 infusions": "67%", "Response after 6 infusions": "100%",
                                 "Durable at one month": "50%"}
    body = page.locator("body").inner_text()
    assert "Your data" in body and "Sample data" not in body and " · visits 2025-" in body  # whose data, and its span
    assert "What we read: 1 file, 35 rows, 33 used, 2 rejected" in body
    assert "semicolon-separated" in body and "European day/month" in body
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg.marks, "
                           "[data-testid='stVegaLiteChart'] canvas\").length >= 1", timeout=30_000)

    page.get_by_role("tab", name="Dropout").click()
    idle(page)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg.marks, "
                           "[data-testid='stVegaLiteChart'] canvas\").length >= 3", timeout=30_000)
    assert drawn_charts(page) >= 3  # who stops, retention, still in their series

    page.get_by_role("tab", name="Data quality").click()
    idle(page)
    page.get_by_role("button", name="Download the full list (CSV)").wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "2 rejections: 2 rows left out whole, and 0 single values" in body
    assert page.get_by_role("button", name="Download the full list (CSV)").is_visible()
    assert "MRN-00" not in body  # no patient id on screen (the full list stays folded away)
    page.screenshot(path=str(tmp_path / "uploaded.png"), full_page=True)


SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS", "")) if os.environ.get("DASHBOARD_SCREENSHOTS") else None


def shoot(page, tmp_path: Path, name: str) -> None:
    """Full-page screenshot into the test's folder (and DASHBOARD_SCREENSHOTS, to look at)."""
    for folder in filter(None, (tmp_path, SCREENSHOTS)):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=name.endswith("full"))


def test_normal_and_presentation_views_at_1920(server, page, tmp_path):
    """The sample data on a 1920x1080 screen, normal and then presentation mode: charts drawn on
    every tab, the sidebar gone in presentation mode, type large enough to read across a room, and
    no patient id anywhere on screen."""
    page.goto(server)
    wait_for_tile(page, "600")
    idle(page)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg.marks, "
                           "[data-testid='stVegaLiteChart'] canvas\").length >= 1", timeout=30_000)
    shoot(page, tmp_path, "normal")
    assert page.locator("[data-testid='stSidebar']").is_visible()

    page.goto(server + "/?present=1")
    page.wait_for_function("() => [...document.querySelectorAll('h2')].some(h => h.innerText.includes('responded'))",
                           timeout=120_000)
    idle(page)
    page.get_by_role("button", name="Leave presentation mode").wait_for(timeout=60_000)
    page.wait_for_function("() => document.body.innerText.includes('counts below 11 hidden')", timeout=60_000)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    sizes = page.evaluate("""() => ({
        tile: parseFloat(getComputedStyle(document.querySelector("[data-testid='stMetricValue']")).fontSize),
        headline: parseFloat(getComputedStyle([...document.querySelectorAll('h2')].find(
            h => h.innerText.includes('responded'))).fontSize),
        body: parseFloat(getComputedStyle(document.querySelector("[data-testid='stCaptionContainer'] p")).fontSize)})""")
    # Across a room: tile numbers over 60 px, headlines over 32 px, captions at least 20 px on a 1080p screen.
    assert sizes["tile"] >= 60 and sizes["headline"] >= 32 and sizes["body"] >= 20, sizes
    for tab in ("Response", "Keep going?", "Dropout", "Durability", "Trajectories", "Over time", "Data quality"):
        page.get_by_role("tab", name=tab).click()
        idle(page)
        if tab != "Data quality":
            page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg.marks, "
                                   "[data-testid='stVegaLiteChart'] canvas\").length >= 1", timeout=90_000)
        text = page.locator("body").inner_text()
        assert "KC-0" not in text, tab  # the sample's patient ids look like KC-000001
        shoot(page, tmp_path, "presentation_" + tab.split()[0].rstrip("?").lower())
    assert not page.get_by_role("button", name="Download the full list (CSV)").count()
