"""The report for the minutes (dashboard.present.report): one self-contained HTML page with every section,
headline and chart (drawn offline by vl-convert), numbers from the suppressed tables at the shared
reports' minimum cell size, no patient id, user text escaped; chart files and CSV files; the CLI's
--report; the app's download expander; and the page in a real browser, printed to PDF."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM
from conftest import FIXTURES, ROOT, load_files, load_fixture, metrics_for

from dashboard.core.settings import Settings
from dashboard.engine.metrics import Cohort, Engine
from dashboard.present import headlines, report
from dashboard.present.labels import TILE_LABELS

SAMPLE = ROOT / "sample_data" / "ketamine_clinic_export.csv"
MADE_AT = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
# Elements that draw something in a Vega SVG.
DRAWN = {"path", "rect", "circle", "line", "text", "polygon", "polyline", "ellipse"}


def patient_ids(path) -> set[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["patient_id"] for row in csv.DictReader(fh) if row["patient_id"]}


@pytest.fixture(scope="module")
def sample():
    dataset = load_files((SAMPLE.name, SAMPLE.read_bytes()))
    metrics = metrics_for(dataset)
    return dataset, metrics, report.report_html(dataset, metrics, made_at=MADE_AT)


@pytest.fixture(scope="module")
def six():
    dataset = load_fixture("six_patients.csv")
    metrics = metrics_for(dataset)
    return dataset, metrics, report.report_html(dataset, metrics, made_at=MADE_AT)


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def data_marks(svg: str) -> int:
    """Elements drawn inside the chart's mark groups (not its axes, legends or titles)."""
    root = ET.fromstring(svg)
    marks = 0
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        if "role-mark" in group.get("class", "").split():
            marks += sum(1 for el in group.iter() if el.tag.split("}")[-1] in DRAWN)
    return marks


def drawn(svg: str) -> int:
    return sum(1 for el in ET.fromstring(svg).iter() if el.tag.split("}")[-1] in DRAWN)


class _Text(HTMLParser):
    """What a reader can see or a tool can read: text and attribute values, without SVG geometry."""

    GEOMETRY = {"d", "transform", "points", "viewbox", "x", "y", "x1", "x2", "y1", "y2", "width", "height"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.parts += [v for k, v in attrs if v and k not in self.GEOMETRY]


def readable(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def whole_word(token: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text) is not None


def assert_self_contained(page: str) -> None:
    lowered = page.lower()
    assert "<script" not in lowered
    assert not re.search(r"""(src|href|xlink:href)\s*=\s*["']?\s*(https?:|//|file:)""", lowered)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", lowered)
    assert "@import" not in lowered
    for tag in ("<link", "<img", "<iframe", "<object", "<embed", "<image"):
        assert tag not in lowered, tag


# --- The page ------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["sample", "six"])
def test_every_section_headline_and_chart(request, which):
    dataset, metrics, page = request.getfixturevalue(which)
    for title in report.SECTIONS.values():
        assert f">{title.replace('?', '?')}</h2>" in page, title
    for label in TILE_LABELS:
        assert label in page
    m, _ = report.for_report(metrics)
    primary = dataset.measures[m.settings.measure]
    traj = m.shown["trajectories"]
    expected = [
        headlines.response(m.shown["response"], m.settings.planned, 11),
        headlines.late_response(m.shown["late_response"], 11),
        headlines.dropout(m.shown["summary"], m.shown["dropout"], 11),
        headlines.durability(m.shown["durability"], 11),
        headlines.trajectory(traj[traj["measure"] == primary.name], primary.label),
        headlines.data_quality(dataset.rows_read, dataset.rows_used, dataset.rows_rejected, len(dataset.rejections())),
    ]
    text = readable(page)
    for sentence in expected:
        assert sentence in text
    chart_names = report.panel_charts(m, dataset.measures)
    drawn_svgs = svgs(page)
    assert len(drawn_svgs) == len(chart_names) >= 9
    for name in chart_names:
        assert f'id="chart-{name}"' in page
    for svg in drawn_svgs:
        assert drawn(svg) >= 15  # frame, axes, labels at least
    assert "2026-03-04 09:30" in page  # when it was made


def test_sample_charts_draw_their_marks(sample):
    dataset, metrics, page = sample
    m, _ = report.for_report(metrics)
    for name, svg in zip(report.panel_charts(m, dataset.measures), svgs(page)):
        assert data_marks(svg) >= 1, name
    marks = dict(zip(report.panel_charts(m, dataset.measures), map(data_marks, svgs(page))))
    assert marks["response"] >= 6 * 3  # three lines' points over six infusion counts
    assert marks["trajectory_phq9"] >= 8  # baseline, six infusions, one month


def test_six_patients_with_a_minimum_of_one_draws_every_mark():
    """With the settings' own minimum cell size (1 here) the report uses it, and draws what it shows."""
    dataset = load_fixture("six_patients.csv")
    page = report.report_html(dataset, metrics_for(dataset, min_cell=1), made_at=MADE_AT)
    marks = [data_marks(svg) for svg in svgs(page)]
    assert sum(marks) > 40 and marks[0] > 0
    assert "Minimum cell size 1" in page and "&lt;11" not in page


@pytest.mark.parametrize("which", ["sample", "six"])
def test_self_contained(request, which):
    _, _, page = request.getfixturevalue(which)
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)


@pytest.mark.parametrize("which, source", [("sample", SAMPLE), ("six", FIXTURES / "six_patients.csv")])
def test_no_patient_id(request, which, source):
    _, _, page = request.getfixturevalue(which)
    text = readable(page)
    cells = re.findall(r">([^<>]*)<", page)  # every element's own text: table cells, chart labels
    for pid in patient_ids(source):
        assert pid not in cells, pid
        if len(pid) > 2:  # six_patients' one-letter ids are words of the report's own text ("A gap of...")
            assert not whole_word(pid, text) and pid not in page, pid
        else:
            for svg in svgs(page):
                assert not whole_word(pid, readable(svg)), pid


def test_no_patient_id_anywhere_with_distinct_ids(tmp_path):
    """six_patients.csv with ids no chart could draw by chance: none appears anywhere in the page or the files."""
    text = (FIXTURES / "six_patients.csv").read_text()
    renamed = re.sub(r"(?m)^([A-H]),", lambda m: f"PTID-{m.group(1)}{m.group(1)}77,", text)
    dataset = load_files(("six.csv", renamed.encode()))
    metrics = metrics_for(dataset, min_cell=1)
    files = report.build(dataset, metrics, made_at=MADE_AT)
    everything = [files.html.decode()]
    for archive in (files.charts_zip, files.tables_zip):
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            everything += [z.read(name).decode("latin-1") for name in z.namelist()]
    assert not any("PTID" in blob for blob in everything)


def test_small_counts_show_as_below_11(six):
    """The dashboard's min_cell is off (0): the report uses 11 and says so."""
    _, metrics, page = six
    assert metrics.settings.min_cell == 0
    assert "&lt;11" in page
    assert "Shared reports use a minimum cell size of 11" in page
    assert "11 (shared reports: 11; the dashboard&#x27;s own was off)" in page
    # Six patients: every count is small, so no rate is shown in any panel (but retention at the
    # first infusion, 100% by definition).
    assert set(re.findall(r">(\d+)%</td>", page[page.index('<section id="response"'):])) == {"100"}


def test_the_settings_own_minimum_is_used_when_set(sample):
    dataset, metrics, _ = sample
    page = report.report_html(dataset, metrics_for(dataset, min_cell=20), made_at=MADE_AT)
    assert "&lt;20" in page and "&lt;11" not in page
    assert report.report_min_cell(0) == 11 and report.report_min_cell(5) == 5


def test_the_report_says_whose_data_and_its_span(sample, tmp_path):
    dataset, metrics, _ = sample
    page = report.report_html(dataset, metrics, made_at=MADE_AT)
    assert f"Data: {SAMPLE.name} · visits 2025-04-18 to 2026-10-31 · read as of 2026-10-31" in page
    # The export marks the bundled sample as such: its report can't pass for a clinic's.
    from dashboard.export import main as export_main

    assert export_main([str(SAMPLE), "--out", str(tmp_path), "--report", str(tmp_path / "r.html")]) == 0
    assert "Sample data: synthetic patients, not a clinic&#x27;s · visits 2025-04-18" in (tmp_path / "r.html").read_text()


def test_settings_filters_and_data_in_use(sample):
    dataset, metrics, _ = sample
    page = report.report_html(dataset, metrics, cohort_text=["Site: North, Central", ""], made_at=MADE_AT)
    for name in report.SETTING_NAMES.values():
        assert report.e(name) in page, name
    assert "<li>Site: North, Central</li>" in page
    assert SAMPLE.name in page and f"{dataset.rows_read:,}" in page
    # Data quality: counts by reason, never the rejected values themselves.
    for value in dataset.rejections()["value"]:
        if value and len(str(value)) > 3:
            assert str(value) not in readable(page), value


def test_user_text_is_escaped():
    """A hostile site name, file name and filter text are text in the report, never markup."""
    text = SAMPLE.read_text().replace(",North,", ",<img src=x onerror=alert(1)>&amp,")
    dataset = load_files(("clinic <b>.csv", text.encode()))
    engine = Engine(dataset)
    split = engine.compute(Settings(), Cohort.of(split_by="site"))
    split.summary.attrs["group_title"] = "Site <i>"
    whole = engine.compute(Settings(), Cohort.of())
    page = report.report_html(dataset, split, whole, cohort_text=["<script>x</script>"], made_at=MADE_AT)
    assert "<img" not in page and "<b>" not in page and "<i>" not in page
    assert_self_contained(page)
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;amp" in page
    assert "clinic &lt;b&gt;.csv" in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_panel_charts_are_valid_vega_lite_and_the_version_is_bundled(six):
    dataset, metrics, _ = six
    assert report.vegalite_version() is not None  # Altair's Vega-Lite version is one vl-convert bundles
    m, _ = report.for_report(metrics)
    for name, chart in report.panel_charts(m, dataset.measures).items():
        chart.to_dict()  # validates against the schema


def test_labels_are_the_apps():
    from dashboard.ui import methods

    assert report.SETTING_NAMES is methods.SETTING_NAMES  # one definition, in dashboard/present/labels.py


def test_missing_tables_are_a_plain_error():
    dataset = load_fixture("six_patients.csv")
    partial = Engine(dataset).compute(Settings(), tables=["response"])
    with pytest.raises(ValueError, match="late_response"):
        report.report_html(dataset, partial, made_at=MADE_AT)


# --- Files -----------------------------------------------------------------------------------------

def test_chart_files_are_valid_svg_and_png(six):
    dataset, metrics, _ = six
    m, _ = report.for_report(metrics)
    charts = report.panel_charts(m, dataset.measures)
    chosen = {name: charts[name] for name in ("response", "durability")}
    svg_files = report.chart_files(chosen, "svg")
    png_files = report.chart_files(chosen, "png")
    assert set(svg_files) == {"response.svg", "durability.svg"}
    assert set(png_files) == {"response.png", "durability.png"}
    for data in svg_files.values():
        assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
    for data in png_files.values():
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    with pytest.raises(ValueError):
        report.chart_files(chosen, "gif")


def test_table_csvs(sample):
    dataset, metrics, _ = sample
    m, _ = report.for_report(metrics)
    files = report.table_csvs(m)
    for filename, (_, columns) in report.CONTRACT_FILES.items():
        assert files[filename].decode().splitlines()[0] == ",".join(columns), filename
    assert {"summary.csv", "trajectories.csv", "stopped_by_status.csv", "stop_reasons.csv"} <= set(files)
    rows = list(csv.DictReader(io.StringIO(files["response_by_infusion.csv"].decode())))
    assert rows[0]["n"] == "1" and 0 < float(rows[1]["rate"]) < 1  # unrounded fractions
    late = list(csv.DictReader(io.StringIO(files["late_response.csv"].decode())))
    # After the last infusion no one can respond later: 0, shown as 0 (docs/METHODS.md 15), not "<11".
    assert late[-1]["late_responders"] == "0" and late[-1]["late_response_rate"] in ("", "0.0")
    blob = b"".join(files.values()).decode()
    assert "patient_id" not in blob
    for pid in list(patient_ids(SAMPLE))[:200]:
        assert pid not in blob


def test_split_csvs_have_a_group_column_and_neutralise_formulas():
    text = SAMPLE.read_text().replace(",North,", ",=HYPERLINK(1),")
    dataset = load_files(("x.csv", text.encode()))
    engine = Engine(dataset)
    m, o = report.for_report(engine.compute(Settings(), Cohort.of(split_by="site")), engine.compute(Settings()))
    files = report.table_csvs(m, o)
    header, first = files["response_by_infusion.csv"].decode().splitlines()[:2]
    assert header.startswith("group,n,assessed")
    assert "'=HYPERLINK(1)" in files["response_by_infusion.csv"].decode()
    assert "all_selected_summary.csv" in files


# --- The CLI and the app ---------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.export", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_writes_the_report(tmp_path):
    out = tmp_path / "o"
    result = run_cli(str(FIXTURES / "six_patients.csv"), "--out", str(out),
                     "--report", str(tmp_path / "r" / "report.html"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert len(svgs(page)) >= 9 and "&lt;11" in page
    assert (out / "response_by_infusion.csv").exists() and (out / "settings.json").exists()
    assert "by month of series start" in page
    quarterly = tmp_path / "q.html"
    assert run_cli(str(FIXTURES / "six_patients.csv"), "--out", str(tmp_path / "q"), "--over-time", "quarter",
                   "--report", str(quarterly)).returncode == 0
    assert "by quarter of series start" in quarterly.read_text(encoding="utf-8")
    # The CSV files are the same with or without the report.
    plain = tmp_path / "plain"
    assert run_cli(str(FIXTURES / "six_patients.csv"), "--out", str(plain)).returncode == 0
    for name in ("response_by_infusion.csv", "late_response.csv", "dropout.csv", "durability.csv", "rejections.csv"):
        assert (out / name).read_text() == (plain / name).read_text(), name


def test_cli_without_report_does_not_load_it():
    code = ("import sys; import dashboard.export; "
            "print('dashboard.present.report' in sys.modules, 'vl_convert' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr


def _downloads_app(root: str) -> None:
    import sys

    import streamlit as st

    sys.path.insert(0, root)
    from pathlib import Path

    from dashboard.core import db
    from dashboard.core.settings import Settings
    from dashboard.engine.metrics import Engine
    from dashboard.ingest import load
    from dashboard.ui import report_panel

    if "engine" not in st.session_state:
        path = Path(root) / "tests" / "fixtures" / "six_patients.csv"
        dataset = load(db.connect(), [(path.name, path.read_bytes())])
        st.session_state["dataset"], st.session_state["engine"] = dataset, Engine(dataset)
    dataset, engine = st.session_state["dataset"], st.session_state["engine"]
    settings = Settings()
    shown = engine.compute(settings, tables=["response"])  # as the app computes for one open tab
    with st.expander("Report and downloads"):
        report_panel.downloads(dataset, shown, None, ["Site: North"],
                             complete=lambda: (engine.compute(settings), None))


def test_app_prepares_the_files_only_when_asked():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_downloads_app, args=(str(ROOT),), default_timeout=120).run()
    assert not at.exception
    assert not at.get("download_button")  # nothing built yet
    at.button(key="report_prepare").click().run()
    assert not at.exception and not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Report (HTML)", "Charts (SVG and PNG, ZIP)", "Tables (CSV, ZIP)"]
    held = at.session_state["report_files"][1]
    assert_self_contained(held.html.decode())
    with zipfile.ZipFile(io.BytesIO(held.charts_zip)) as z:
        names = z.namelist()
    assert "response.svg" in names and "response.png" in names
    with zipfile.ZipFile(io.BytesIO(held.tables_zip)) as z:
        assert "response_by_infusion.csv" in z.namelist()


# --- A real browser --------------------------------------------------------------------------------

@NO_CHROMIUM
def test_report_in_a_real_browser_and_printed_to_pdf(sample, tmp_path):
    from playwright.sync_api import sync_playwright

    dataset, metrics, page_html = sample
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        for title in ["Headline numbers", *report.SECTIONS.values()]:
            assert page.get_by_role("heading", name=title, exact=True).is_visible(), title
        boxes = page.eval_on_selector_all("figure.chart svg", """els => els.map(svg => {
            const r = svg.getBoundingClientRect(), v = svg.viewBox.baseVal, b = svg.getBBox();
            return {w: r.width, h: r.height, fits: b.x >= -1 && b.y >= -1 && b.x + b.width <= v.width + 1
                    && b.y + b.height <= v.height + 1, id: svg.parentElement.id};
        })""")
        assert len(boxes) == len(svgs(page_html))
        for box in boxes:
            assert box["w"] > 200 and box["h"] > 100, box
            assert box["fits"], box  # nothing drawn outside the chart (a cut legend, a label off the edge)
        assert all(url.startswith("file:") for url in requests), requests
        # At the width of an A4 page's text, in print, every table and chart fits across.
        page.set_viewport_size({"width": 695, "height": 900})
        page.emulate_media(media="print")
        too_wide = page.evaluate("""() => [...document.querySelectorAll('table, svg')]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(el => el.tagName)""")
        assert too_wide == []
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 6  # a page per panel at least
