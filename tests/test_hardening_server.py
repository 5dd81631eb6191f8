"""Issue 16, items 6, 7, 8, 11 and 13: user text is never Markdown on screen; patient-level
downloads are made on demand and do not outlive the session; patient data on disk stays in a
private directory, and what a killed run left is removed; a very wide file is refused plainly and
at most MAX_FILTER_DIMENSIONS dimensions are offered as filters; the server forbids framing and
does not watch its files."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
import urllib.error
import urllib.request

import pytest
from browser_support import NO_CHROMIUM
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from dashboard.core import db
from dashboard.ingest import UnreadableFile, load, reading
from dashboard.ui import downloads

APP = str(ROOT / "dashboard" / "app.py")

# --- 6. User text is plain text ---------------------------------------------------------------------

IMAGE = "![x](http://127.0.0.1:9/x.png)"
LINK = "[x](http://evil)"
BOLD = "**bold**"
HTML = "<img src=x>"
PAYLOADS = [IMAGE, LINK, BOLD, HTML]
# Unescaped Markdown that would fetch or link: an image or a link whose brackets are not escaped.
ACTIVE = re.compile(r"(?<!\\)!?(?<!\\)\[[^\]]*(?<!\\)\]\((?!\\)")

# Elements whose text Streamlit renders as Markdown: their body or their label.
BODIES = ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader")
LABELLED = ("selectbox", "multiselect", "number_input", "slider", "toggle", "radio", "button", "checkbox",
            "date_input", "text_input", "expander", "tab", "metric", "download_button", "popover", "file_uploader")


def markdown_texts(at: AppTest) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown."""
    texts = []
    for kind in BODIES:
        texts += [str(getattr(e, "value", None) or e.proto.body) for e in at.get(kind)]
    for kind in LABELLED:
        for e in at.get(kind):
            label = getattr(e, "label", None)
            if label is None and hasattr(e, "proto"):
                label = getattr(e.proto, "label", None)
            if label:
                texts.append(str(label))
    return texts


def assert_plain(at: AppTest) -> None:
    texts = markdown_texts(at)
    assert texts
    for text in texts:
        assert not ACTIVE.search(text), text
        for payload in PAYLOADS:
            assert payload not in text, text


def hostile_export() -> bytes:
    """Six patients; four cohort columns named with Markdown and HTML, whose values are too."""
    header = ["patient_id", "session_date", "session_type", "infusion_number", "phq9", "hama", *PAYLOADS]
    lines = [",".join(header)]
    for i in range(6):
        values = [f"{p} {i % 2}" for p in PAYLOADS]
        pid = f"P{i}"
        lines += [",".join([pid, "2025-03-01", "baseline", "", "20", "30", *values]),
                  ",".join([pid, "2025-03-03", "infusion", "1", "18", "25", *values]),
                  ",".join([pid, "2025-03-06", "infusion", "2", "8", "10", *values])]
    return ("\n".join(lines) + "\n").encode()


MEASURES = textwrap.dedent(f"""
    [hama]
    label = "{IMAGE} {LINK} {BOLD} {HTML}"
    range = [0, 56]
    better = "lower"
    remission_cutoff = 7
    min_baseline = 18
""").encode()


def test_user_text_is_plain_text_in_labels_tabs_captions_and_markdown():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.file_uploader(key="measures_file").set_value(("measures.toml", MEASURES, "application/toml")).run()
    at.sidebar.file_uploader[0].set_value((f"{IMAGE}{LINK}.csv", hostile_export(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # The cohort columns are offered as filters, under their names shown as written.
    labels = [m.label for m in at.sidebar.multiselect]
    assert "\\!\\[x\\]\\(http\\://127\\.0\\.0\\.1\\:9/x\\.png\\)" in labels, labels
    assert_plain(at)
    # A measure from the measures file, chosen as the primary one: its label in the sidebar's labels.
    primary = next(s for s in at.sidebar.selectbox if s.label == "Primary measure")
    primary.set_value("hama").run()
    assert not at.exception
    assert any("Minimum baseline" in n.label and "\\!\\[x\\]" in n.label for n in at.sidebar.number_input)
    assert_plain(at)
    # Compared by a hostile column, on every tab.
    compare = next(s for s in at.sidebar.selectbox if s.label == "Compare by")
    assert IMAGE in compare.options  # an option is shown as written (not Markdown)
    compare.set_value(IMAGE).run()
    for tab in ("Response", "Keep going?", "Dropout", "Durability", "Trajectories", "Over time", "Data quality"):
        at.session_state["panel"] = tab
        at.run()
        assert not at.exception, tab
        assert_plain(at)


def test_the_mapping_step_shows_headers_and_measure_labels_as_plain_text():
    data = (f"{IMAGE},{LINK},{BOLD},{HTML}\nA,2025-03-01,20,x\n").encode()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.file_uploader(key="measures_file").set_value(("measures.toml", MEASURES, "application/toml")).run()
    at.sidebar.file_uploader[0].set_value(("odd.csv", data, "text/csv")).run()
    assert not at.exception
    assert "Which column holds what?" in [s.value for s in at.subheader]
    assert_plain(at)
    # The headers are choices, shown as written: a selectbox's options are not Markdown.
    assert IMAGE in at.selectbox(key="map_patient_id").options


# --- 7. Patient-level downloads: on demand, gone with the session ------------------------------------

def test_patient_level_downloads_are_not_stored_until_clicked():
    """Before: the bytes were in Streamlit's media store (served at /media/...) on every rerun."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["panel"] = "Dropout"
    at.run()
    at.toggle(key="show_dropouts").set_value(True).run()
    at.session_state["panel"] = "Data quality"
    at.run()
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert "Download the full list (CSV)" in buttons
    for label in ("Download the full list (CSV)",):
        proto = buttons[label]
        assert proto.deferred_file_id and not proto.url, label


@pytest.fixture
def media_store(monkeypatch):
    """A real MediaFileManager in place of the server's runtime."""
    from streamlit import runtime
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    manager = MediaFileManager(MemoryMediaFileStorage("/media"))

    class Runtime:
        media_file_mgr = manager

    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: Runtime)
    return manager


def deferred_download(manager, files: downloads.SessionFiles, content: bytes, name: str) -> str:
    """What a click does: Streamlit runs the button's callable and stores what it gives."""
    def data():
        files.made(content, "text/csv", name)
        return content
    placeholder = manager.add_deferred(data, "text/csv", "coords", file_name=name)
    return manager.execute_deferred(placeholder).rsplit("/", 1)[1]


def test_a_download_is_removed_when_the_session_ends(media_store):
    files = downloads.SessionFiles()
    served = deferred_download(media_store, files, b"patient_id\nP1\n", "patients_who_stopped_early.csv")
    assert media_store.read_file(served).content == b"patient_id\nP1\n"
    downloads._release(files)  # what Streamlit calls when the session's resources go
    assert media_store.read_file(served) is None
    assert not files.held


def test_a_download_is_removed_soon_after_it_was_made(media_store, monkeypatch):
    monkeypatch.setattr(downloads, "KEEP_SECONDS", 0.2)
    files = downloads.SessionFiles()
    served = deferred_download(media_store, files, b"line,reason\n3,x\n", "rejections.csv")
    assert media_store.read_file(served) is not None
    deadline = time.monotonic() + 5
    while media_store.read_file(served) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert media_store.read_file(served) is None


# --- 8. Patient data on disk: a private directory, cleaned after a crash -----------------------------

def test_uploads_and_spill_files_stay_in_the_private_directory(monkeypatch):
    made = []
    original = reading.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, path = original(*args, **kwargs)
        made.append(path)
        return fd, path

    monkeypatch.setattr(reading.tempfile, "mkstemp", spy)
    con = db.connect()
    load(con, [("export.csv", hostile_export().replace(b"\n", b"\r\n"))])  # not read in place: a copy
    assert made, "the upload was read without a temporary file"
    run = db.run_directory()
    assert all(os.path.dirname(path) == run for path in made)
    assert not any(os.path.exists(path) for path in made)  # and removed after the read
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if not os.environ.get("DASHBOARD_DUCKDB_TEMP"):
        assert temp == run
    import tempfile
    assert not run.startswith(os.path.realpath(tempfile.gettempdir()) + os.sep) or os.environ.get("DASHBOARD_PRIVATE_DIR")
    assert os.stat(run).st_mode & 0o077 == 0 and os.stat(os.path.dirname(run)).st_mode & 0o077 == 0
    con.close()


def test_a_killed_run_leaves_nothing_once_the_next_one_starts(tmp_path):
    base = tmp_path / "private"
    env = {**os.environ, "DASHBOARD_PRIVATE_DIR": str(base)}
    env.pop("DASHBOARD_DUCKDB_TEMP", None)
    # A run that reads an upload, then is killed (kill -9) while its data is on disk.
    crashing = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import os, sys, time
            from dashboard.core import db
            con = db.connect()
            open(os.path.join(db.run_directory(), "upload-x.csv"), "w").write("P1,2025-01-01,20\\n")
            print(db.run_directory(), flush=True)
            time.sleep(60)
        """)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    left = crashing.stdout.readline().strip()
    crashing.send_signal(signal.SIGKILL)
    crashing.wait()
    assert os.path.exists(os.path.join(left, "upload-x.csv"))
    # Things the cleanup must leave alone: not a run directory, another machine's, a running process's.
    (base / "notes.txt").write_text("mine")
    other_host = base / "run-otherhost-1-abcdefgh"
    other_host.mkdir()
    alive = base / f"run-{os.uname().nodename}-{os.getpid()}-abcdefgh"
    alive.mkdir()
    out = subprocess.run([sys.executable, "-c", "from dashboard.core import db; print(db.run_directory())"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert not os.path.exists(left)
    assert (base / "notes.txt").exists() and other_host.exists() and alive.exists()
    assert not os.path.exists(out)  # the second run's own directory went when it exited
    assert os.stat(base).st_mode & 0o077 == 0


def test_a_private_directory_that_is_not_ours_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    monkeypatch.setenv("DASHBOARD_PRIVATE_DIR", str(link))
    with pytest.raises(db.PrivateDirectoryError):
        db.private_directory()
    opened = tmp_path / "open"
    opened.mkdir(mode=0o777)
    os.chmod(opened, 0o777)
    monkeypatch.setenv("DASHBOARD_PRIVATE_DIR", str(opened))
    db.private_directory()
    assert os.stat(opened).st_mode & 0o077 == 0


# --- 11. Very wide files ---------------------------------------------------------------------------

def wide_export(columns: int, rows: int = 20) -> bytes:
    header = ["patient_id", "session_date", "session_type", "infusion_number", "phq9"]
    header += [f"extra_{i}" for i in range(columns - len(header))]
    lines = [",".join(header)]
    for i in range(rows):
        lines.append(",".join([f"P{i}", "2025-03-01", "baseline", "", "20"] + [f"v{i % 3}"] * (columns - 5)))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("columns", [10_000, 20_000])
def test_a_file_of_thousands_of_columns_is_refused_plainly_and_at_once(columns):
    """Before: 10,000 columns took 131 s in the app; 20,000 showed DuckDB's 'Out of Memory Error'."""
    started = time.perf_counter()
    with pytest.raises(UnreadableFile) as refused:
        load(db.connect(), [("wide.csv", wide_export(columns, rows=5))])
    assert time.perf_counter() - started < 5
    message = str(refused.value)
    assert f"wide.csv: it has {columns:,} columns, more than the {reading.MAX_COLUMNS:,}" in message
    assert "DASHBOARD_MAX_COLUMNS" in message and "Memory" not in message


def test_a_wide_workbook_is_refused_too():
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    width = reading.MAX_COLUMNS + 100
    sheet.append(["patient_id", "session_date", "phq9"] + [f"c{i}" for i in range(width - 3)])
    sheet.append(["P1", "2025-03-01", 20] + ["x"] * (width - 3))
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(UnreadableFile, match=f"it has {width:,} columns"):
        load(db.connect(), [("wide.xlsx", out.getvalue())])


def test_the_column_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAX_COLUMNS", "8")
    with pytest.raises(UnreadableFile, match="more than the 8 this dashboard reads"):
        load(db.connect(), [("w.csv", wide_export(9))])
    load(db.connect(), [("w.csv", wide_export(8))])


def test_the_app_says_so_for_a_very_wide_file():
    at = AppTest.from_file(APP, default_timeout=120).run()
    started = time.perf_counter()
    at.sidebar.file_uploader[0].set_value(("wide.csv", wide_export(10_000, rows=5), "text/csv")).run()
    assert time.perf_counter() - started < 20
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "10,000 columns" in errors and "Traceback" not in errors and "Out of Memory" not in errors
    assert not at.sidebar.multiselect  # no filters drawn for it


def test_at_most_so_many_dimensions_are_offered_as_filters():
    """60 cohort columns of two values each: 20 are offered, the others named in a note."""
    from dashboard.ui.sidebar import MAX_FILTER_DIMENSIONS

    at = AppTest.from_file(APP, default_timeout=120).run()
    data = wide_export(65, rows=12).replace(b"v0", b"a").replace(b"v1", b"b").replace(b"v2", b"a")
    at.sidebar.file_uploader[0].set_value(("cohorts.csv", data, "text/csv")).run()
    assert not at.exception and not at.error
    assert len(at.sidebar.multiselect) == MAX_FILTER_DIMENSIONS == 20
    compare = next(s for s in at.sidebar.selectbox if s.label == "Compare by")
    assert len(compare.options) == MAX_FILTER_DIMENSIONS + 1
    note = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    listed = re.search(r"40 more columns could be filters but are not offered \(at most 20 are\): (.*) and 30 more\.",
                       note)
    assert listed, note
    named = listed[1].split(", ")
    offered = {m.label.replace("\\", "") for m in at.sidebar.multiselect}
    assert len(named) == 10 and not offered & set(named) and len(offered | set(named)) == 30


# --- 13. Server configuration ------------------------------------------------------------------------

def test_the_file_watcher_is_off_and_usage_statistics_too():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "localhost"
    assert "dashboard/serve.py" in (ROOT / "scripts" / "run.sh").read_text()


def test_serve_adds_the_framing_headers_to_every_http_response():
    import asyncio

    from dashboard.serve import FrameGuard

    sent = []

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"X-Frame-Options", b"ALLOWALL")]})
        await send({"type": "http.response.body", "body": b"x"})

    async def send(message):
        sent.append(message)

    asyncio.run(FrameGuard(inner)({"type": "http"}, None, send))
    headers = dict(sent[0]["headers"])
    assert headers[b"x-frame-options"] == b"DENY" and b"X-Frame-Options" not in headers
    assert headers[b"content-security-policy"] == b"frame-ancestors 'none'"
    assert headers[b"content-type"] == b"text/html" and sent[1]["body"] == b"x"


# --- 7 and 13 against a real server ----------------------------------------------------------------

browser_tests = NO_CHROMIUM


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@browser_tests
def test_a_download_no_longer_serves_once_the_tab_has_closed(browser):
    """Before: the rejections' CSV stayed at its /media address, without cookies, for minutes after the
    tab closed (until two later script runs of any session found it unused)."""
    from browser_support import idle, streamlit, wait_for_tile

    with streamlit() as url:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.goto(url)
        wait_for_tile(page, "600")
        page.get_by_role("tab", name="Data quality").click()
        idle(page)
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name="Download the full list (CSV)").click()
        served = download.value.url
        assert "/media/" in served and status(served) == 200  # fetched without the session's cookies
        context.close()  # the tab closes: Streamlit releases the session's resources at once
        deadline = time.monotonic() + 15
        while status(served) == 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status(served) == 404


@browser_tests
def test_serve_py_forbids_framing_and_serves_the_dashboard(browser):
    from browser_support import streamlit, wait_for_tile

    with streamlit(entry="serve.py") as url:
        for path in ("/", "/_stcore/health", "/media/nothing.csv", "/static/%2e%2e/"):  # 200, 200, 404, 400
            try:
                headers = urllib.request.urlopen(url + path, timeout=10).headers
            except urllib.error.HTTPError as exc:  # an error response is guarded too
                headers = exc.headers
            assert headers["X-Frame-Options"] == "DENY", path
            assert headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
        page = browser.new_page()
        page.goto(url)
        wait_for_tile(page, "600")  # the dashboard itself, with the project's configuration
        page.close()
