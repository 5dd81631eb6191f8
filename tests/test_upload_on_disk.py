"""An upload is kept on disk, not in memory (issue 16.14; dashboard/ui/session_data.Export): copied to a
file of the server process's private run directory a chunk at a time, its lines counted there, read
by DuckDB in place, and removed with the session's last reference to it. A session reading uploads
has a DuckDB memory limit that grows with their size (db.upload_memory_limit).
The memory bound itself is a benchmark: bench/bench_upload_memory.py exits 1 above it."""

from __future__ import annotations

import gc
import io
import os

import pytest
from conftest import FIXTURES, ROOT
from streamlit.testing.v1 import AppTest

from dashboard.core import db
from dashboard.ingest import UnreadableFile, load, reading
from dashboard.ui.session_data import Export, Inputs, check_size

APP = str(ROOT / "dashboard" / "app.py")
SIX = (FIXTURES / "six_patients.csv").read_bytes()


class Chunky(io.BytesIO):
    """A file-like upload that remembers the largest read asked of it."""

    largest = 0

    def read(self, size=-1):
        Chunky.largest = max(Chunky.largest, size if size >= 0 else len(self.getbuffer()))
        return super().read(size)


def test_an_export_is_a_private_file_copied_a_chunk_at_a_time(monkeypatch):
    import dashboard.ui.session_data as app_data

    monkeypatch.setattr(app_data, "_CHUNK", 10)
    Chunky.largest = 0
    export = Export.from_upload("six.csv", Chunky(SIX))
    assert Chunky.largest == 10  # never the whole upload at once
    assert os.path.dirname(export.path) == db.run_directory()
    assert os.stat(db.run_directory()).st_mode & 0o077 == 0
    assert export.data == SIX and export.size == len(SIX) and not export.workbook
    assert export.digest == Export.of("six.csv", SIX).digest
    path = export.path
    del export
    gc.collect()
    assert not os.path.exists(path)  # gone with the last reference (Remove the files, the session's end)


def test_rows_are_counted_from_the_file(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "3")
    for data in (b"a,b\rc,d\re,f\r", b"a,b\r\nc,d\r\ne,f\r\n", b"a,b\nc,d\ne,f\n"):
        check_size(Inputs([Export.of("x.csv", data)]))  # 3 lines: at the limit
        with pytest.raises(UnreadableFile, match="has about 4 rows"):
            check_size(Inputs([Export.of("x.csv", data + data[:4])]))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_line_count_of_a_file_in_chunks_agrees_with_the_whole(tmp_path, monkeypatch, chunk):
    from dashboard.ingest import lines

    monkeypatch.setattr(lines, "_CHUNK", chunk)
    for data in (b"a\nb\n", b"a\r\nb\r\n", b"a\rb\r", b"a\rb\nc\r\n", b"ab\r\n\r\ncd", b"", b"\r\n",
                 "a,b\r\nc,d\r\n".encode("utf-16")):
        path = tmp_path / "f.csv"
        path.write_bytes(data)
        assert lines.file_line_count(str(path)) == lines.line_count(data), data


@pytest.mark.parametrize("chunk", [1, 4, 7, 1 << 20])
def test_the_one_line_check_sees_across_chunks(tmp_path, monkeypatch, chunk):
    """A file is read in place only when no CR, quote or empty line is in it, wherever a chunk ends."""
    monkeypatch.setattr(reading, "_SCAN_BYTES", chunk)
    body = b"p,d\n1,2\n3,4\n5,6\n"
    for data, plain in ((body, True), (body + b"\n7,8\n", False), (body.replace(b"3,4\n", b"3,4\r\n"), False),
                        (body.replace(b"3", b'"3"'), False)):
        with open(tmp_path / "f.csv", "wb") as fh:
            fh.write(data)
        with open(tmp_path / "f.csv", "rb") as fh:
            head = fh.read(5)
            assert reading._one_line_records(head, fh) is plain, data


@pytest.mark.parametrize("form", ["as is", "CR LF", "CR", "mixed", "UTF-16", "Windows-1252", "BOM", "large"])
def test_an_upload_on_disk_reads_as_its_bytes(form, monkeypatch):
    """Read from the session's file (in place when it can be) or from the bytes: the same rows and rejections."""
    data = SIX.replace(b"North", "Nörth".encode())
    data = {"as is": data, "CR LF": data.replace(b"\n", b"\r\n"), "CR": data.replace(b"\n", b"\r"),
            "mixed": data.replace(b"\n", b"\r\n", 3), "UTF-16": data.decode().encode("utf-16"),
            "Windows-1252": data.decode().encode("cp1252"), "BOM": b"\xef\xbb\xbf" + data, "large": data}[form]
    if form == "large":  # past the size below which a file is read whole: read in place by DuckDB
        monkeypatch.setattr(reading, "_HEAD_BYTES", 200)
    export = Export.of("six.csv", data)
    a = load(db.connect(), Inputs([export]).sources())
    b = load(db.connect(), [("six.csv", data)])
    query = "SELECT * FROM visits ORDER BY visit_id"
    assert a.con.execute(query).fetchall() == b.con.execute(query).fetchall()
    assert a.rejection_rows() == b.rejection_rows()
    assert [f.describe() for f in a.files] == [f.describe() for f in b.files]


def test_the_memory_limit_grows_with_the_upload(monkeypatch):
    monkeypatch.delenv("DASHBOARD_DUCKDB_MEMORY", raising=False)
    monkeypatch.setattr(db, "MEMORY_LIMIT", "2048MB")
    assert db.upload_memory_limit(198 * 2**20) == "396MB"
    assert db.upload_memory_limit(1000) == f"{db.UPLOAD_MEMORY_FLOOR}MB"
    assert db.upload_memory_limit(5 * 2**30) == "2048MB"  # never above the machine's default
    monkeypatch.setattr(db, "MEMORY_LIMIT", "1GB")
    assert db.upload_memory_limit(900 * 2**20) == "1024MB"
    monkeypatch.setenv("DASHBOARD_DUCKDB_MEMORY", "3GB")
    monkeypatch.setattr(db, "MEMORY_LIMIT", "3GB")
    assert db.upload_memory_limit(10) == "3GB"  # set by the administrator: whatever the size


def test_the_app_keeps_the_upload_on_disk_and_lets_streamlit_s_copies_go():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.file_uploader[0].set_value(("six_patients.csv", SIX, "text/csv"))
    at = at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Patients started"] == "6"
    exports = at.session_state["exports"]
    assert len(exports) == 1 and os.path.exists(exports[0].path)
    assert "uploads_0" not in at.session_state
    path = exports[0].path
    next(b for b in at.sidebar.button if b.label == "Remove the files").click()
    at = at.run()
    del exports
    gc.collect()
    assert not os.path.exists(path)


def test_an_upload_that_needs_more_memory_than_its_size_allows_is_read_again(monkeypatch):
    """Many short columns can need more memory to read than twice the file's size: the file is
    then read again under the default limit, not refused."""
    import duckdb

    from dashboard.ui import session_data

    limits = []
    real = session_data.load

    def load(con, files, *args, **kwargs):
        if files[0][0] != "six_patients.csv":  # the sample
            return real(con, files, *args, **kwargs)
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        if len(limits) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return real(con, files, *args, **kwargs)

    monkeypatch.setattr(session_data, "load", load)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.file_uploader[0].set_value(("six_patients.csv", SIX, "text/csv"))
    at = at.run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Patients started"] == "6"
    assert len(limits) == 2 and limits[0] != limits[1]  # first the upload's limit, then the default
