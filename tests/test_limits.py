"""Limits of one session (dashboard/ui/session_data.py, dashboard/core/db.py): too many rows is a plain
message, not a stack; DuckDB's memory, threads and spill directory come from the environment;
a session's DuckDB connection is closed when its upload is replaced and when Streamlit releases
the session's resources (what it does when the browser disconnects)."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
import streamlit as st
from conftest import FIXTURES, ROOT
from streamlit.testing.v1 import AppTest

from dashboard.core import db

APP = str(ROOT / "dashboard" / "app.py")
SIX = (FIXTURES / "six_patients.csv").read_bytes()  # 35 lines


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_too_many_rows_is_a_plain_message(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "30")
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "six_<b>patients</b>.csv", SIX)
    assert not at.exception and not at.metric
    message = at.error[0].value
    assert "has about 35 rows, more than the 30 this dashboard reads at once" in message
    assert "\\<b\\>" in message and "Traceback" not in message  # the name shown as written
    # A smaller file replaces it and is read.
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "40")
    at = upload(at, "six_patients.csv", SIX)  # another name: another file
    assert not at.exception and not at.error
    assert tiles(at)["Patients started"] == "6"


def test_rows_of_several_files_count_together(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "60")
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "a.csv", SIX)
    assert tiles(at)["Patients started"] == "6"
    at = upload(at, "b.csv", SIX.replace(b"A,", b"Z,"))
    assert "These 2 files have about 70 rows together" in at.error[0].value


@pytest.fixture
def connections(monkeypatch):
    """Every DuckDB connection the app opens, in order."""
    opened = []

    def connect():
        con = real()
        opened.append(con)
        return con

    real = db.connect
    monkeypatch.setattr(db, "connect", connect)
    return opened


def is_closed(con) -> bool:
    try:
        con.execute("SELECT 1")
    except duckdb.ConnectionException:
        return True
    return False


def test_a_replaced_upload_closes_its_connection(connections):
    at = AppTest.from_file(APP, default_timeout=90).run()
    at = upload(at, "six_patients.csv", SIX)
    first_upload = connections[-1]
    at = upload(at, "six_patients_again.csv", SIX + b"\n")
    assert is_closed(first_upload) and not is_closed(connections[-1])
    second_upload = connections[-1]
    at.sidebar.button[0].click().run()  # Remove the files: back to the sample, which every session shares
    assert tiles(at)["Patients started"] == "600"
    assert is_closed(second_upload)
    assert all(is_closed(c) for c in connections)  # the sample's connection is not this session's
    # A filter change reads nothing again.
    count = len(connections)
    at.multiselect(key="filter_site").set_value(["North"]).run()
    assert len(connections) == count


def test_sessions_on_the_sample_share_one_reading_of_it(connections):
    """The sample (synthetic patients) is read once for every session; an upload is not shared."""
    first = AppTest.from_file(APP, default_timeout=90).run()
    opened = len(connections)
    second = AppTest.from_file(APP, default_timeout=90).run()
    assert len(connections) == opened <= 1  # none when an earlier test already read it
    assert tiles(first)["Patients started"] == tiles(second)["Patients started"] == "600"
    upload(second, "six_patients.csv", SIX)
    assert len(connections) == opened + 1 and tiles(second)["Patients started"] == "6"
    assert tiles(first.run())["Patients started"] == "600"


def test_released_session_resources_close_the_connection_and_a_reconnect_reads_again(connections):
    """On a disconnect Streamlit clears the session's resource caches (AppSession.clear_session_caches);
    st.cache_resource.clear() runs the same release. The uploaded bytes stay in the session, so if
    it reconnects the same file is read again."""
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "six_patients.csv", SIX)
    held = connections[-1]
    st.cache_resource.clear()
    assert is_closed(held)
    at.run()
    assert not at.exception and not at.error
    assert tiles(at)["Patients started"] == "6"
    assert not is_closed(connections[-1]) and connections[-1] is not held


def test_duckdb_limits_come_from_the_environment(tmp_path):
    spill = tmp_path / "spill"
    code = ("from dashboard.core import db; c = db.connect(); print(c.execute(\"SELECT current_setting('memory_limit'), "
            "current_setting('threads'), current_setting('temp_directory'), "
            "current_setting('max_temp_directory_size')\").fetchone())")
    env = {**os.environ, "DASHBOARD_DUCKDB_MEMORY": "300MB", "DASHBOARD_DUCKDB_THREADS": "1",
           "DASHBOARD_DUCKDB_TEMP": str(spill), "DASHBOARD_DUCKDB_TEMP_SIZE": "1GB"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    memory, threads, temp, temp_size = eval(out)  # a tuple of strings and ints, printed by our own code
    assert memory in ("286.1 MiB", "300.0 MB") and threads == 1 and temp == str(spill)
    assert temp_size in ("953.6 MiB", "1.0 GB", "1000.0 MB")


def test_default_spill_directory_is_private():
    con = db.connect()
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if not os.environ.get("DASHBOARD_DUCKDB_TEMP"):
        assert os.stat(temp).st_mode & 0o077 == 0  # this user only
    assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0] is False
    con.close()
