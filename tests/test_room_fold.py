"""The shared screen in a real browser (issue 12.6-8): in presentation mode the first chart of
every tab is fully visible without scrolling at 1920x1080 (at least its top half at 1366x768),
walking the panels with the keyboard's N; captions at 4.5:1 contrast or better and charts in the
page's font in both modes; and a view's address, opened in a new browser, reopens that view."""

from __future__ import annotations

import time

import pytest
from browser_support import NO_CHROMIUM, idle, streamlit, wait_for_tile
from playwright.sync_api import expect

from dashboard.app import PANEL_TABLES

pytestmark = NO_CHROMIUM
CHARTED = [tab for tab in PANEL_TABLES if tab != "Data quality"]  # Data quality is tables only
DRAWN = ("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg.marks, "
         "[data-testid='stVegaLiteChart'] canvas\").length >= 1")
FIRST_CHART = """() => { const c = document.querySelector("[data-testid='stVegaLiteChart']");
    if (!c) return null; const r = c.getBoundingClientRect(); return [r.top, r.bottom]; }"""
# Each caption's text colour as seen: its colour blended onto the white page by every opacity above it.
CAPTION_CONTRAST = """() => [...document.querySelectorAll("[data-testid='stCaptionContainer'] p")].map(p => {
    const [r, g, b, a] = getComputedStyle(p).color.match(/[\\d.]+/g).map(Number).concat([1]).slice(0, 4);
    let alpha = a; for (let n = p; n && n.nodeType === 1; n = n.parentElement) alpha *= +getComputedStyle(n).opacity;
    const lin = c => { c = (255 - (255 - c) * alpha) / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    return [p.innerText.slice(0, 40), 1.05 / (L + 0.05)]; })"""
FONTS = """() => [getComputedStyle(document.body).fontFamily,
    [...new Set([...document.querySelectorAll("[data-testid='stVegaLiteChart'] svg text")]
                .map(t => getComputedStyle(t).fontFamily))]]"""


@pytest.fixture(scope="module")
def server():
    with streamlit() as url:
        yield url


def room(browser, server, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server + "/?present=1")
    page.get_by_role("button", name="Leave presentation mode").wait_for(timeout=120_000)
    idle(page)
    return page


def first_chart(page, tab: str) -> tuple[float, float]:
    page.wait_for_function(DRAWN, timeout=90_000)
    box, before = page.evaluate(FIRST_CHART), None
    for _ in range(40):  # until the chart has its final size and place (two looks 0.25 s apart agree)
        if box == before:
            break
        time.sleep(0.25)
        before, box = box, page.evaluate(FIRST_CHART)
    assert box and page.evaluate("() => window.scrollY") == 0, tab
    return box


def test_every_tabs_first_chart_is_above_the_fold_at_1920x1080_walking_with_n(browser, server):
    """Before: the Response chart ran from 777 to 1347 px (59% visible), Keep going?'s from 915."""
    page = room(browser, server, 1920, 1080)
    for i, tab in enumerate(CHARTED):
        if i:  # the keyboard shortcut of the "Next" button, as a meeting's chair would walk it
            page.mouse.click(5, 1070)  # the page, not a control, has the keyboard
            page.keyboard.press("n")
            page.wait_for_function("t => [...document.querySelectorAll('[role=tab][aria-selected=true]')]"
                                   ".some(e => e.innerText.trim() === t)", arg=tab, timeout=60_000)
            idle(page)
            assert "panel=" in page.url  # the open tab is in the address
        top, bottom = first_chart(page, tab)
        assert 0 <= top and bottom <= 1080, (tab, top, bottom)
    page.close()


def test_at_1366x768_at_least_the_top_half_of_every_first_chart_shows(browser, server):
    page = room(browser, server, 1366, 768)
    for tab in CHARTED:
        page.get_by_role("tab", name=tab).click()
        idle(page)
        top, bottom = first_chart(page, tab)
        assert (top + bottom) / 2 <= 768, (tab, top, bottom)
    page.close()


def test_captions_are_readable_and_charts_use_the_pages_font_in_both_modes(browser, server):
    """Streamlit fades captions with opacity 0.6: #4a4a4a read as 3.1:1 on white."""
    for address in ("", "/?present=1"):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(server + address)
        wait_for_tile(page, "600")
        idle(page)
        page.wait_for_function(DRAWN, timeout=90_000)
        contrasts = page.evaluate(CAPTION_CONTRAST)
        assert contrasts and all(ratio >= 4.5 for _, ratio in contrasts), (address, contrasts)
        body, charts = page.evaluate(FONTS)
        assert charts == [body], (address, body, charts)
        page.close()


def test_a_views_address_reopens_it_in_a_new_browser(browser, server):
    """Chosen on screen: compare by site, a series of 5 infusions, the Dropout tab. The address
    carries all three; opened in a new browser (no session), it shows that same view."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(server)
    wait_for_tile(page, "600")
    idle(page)
    page.get_by_role("tab", name="Dropout").click()
    idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_label("Compare by").click()
    page.get_by_role("option", name="Site").click()
    idle(page)
    sidebar.get_by_text("Thresholds and windows").click()
    planned = sidebar.get_by_label("Planned infusions in a series")
    planned.fill("5")
    planned.press("Enter")
    idle(page)
    page.wait_for_function("() => location.search.includes('planned=5') && location.search.includes('compare=Site')"
                           " && location.search.includes('panel=Dropout')", timeout=30_000)
    link = page.url
    page.close()

    other = browser.new_context().new_page()
    other.set_viewport_size({"width": 1920, "height": 1080})
    other.goto(link)
    other.wait_for_function("() => document.body.innerText.includes('Compared by Site')", timeout=120_000)
    idle(other)
    assert other.locator("[role=tab][aria-selected=true]").inner_text().strip() == "Dropout"
    assert other.get_by_text("Reasons given for stopping").count()
    sidebar = other.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Thresholds and windows").click()
    idle(other)
    expect(sidebar.get_by_label("Planned infusions in a series")).to_have_value("5")
    other.close()
