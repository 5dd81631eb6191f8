"""The dashboard's data, per browser session: the files in use, parsed once, and their engine.

Patient data lives only in this session: the uploaded bytes in its st.session_state, the parsed
tables in a DuckDB connection of its own, held in a session-scoped resource cache (never in one
shared between sessions). A new upload, mapping or measures file closes that connection and builds
a new locked-down one; when the browser disconnects (tab closed, page reloaded), Streamlit clears
the session's resources and the connection is closed at once. Should the same session reconnect
(a network blip), its files are read again from the bytes it kept. Only the bundled sample
(synthetic patients) is read once for every session and shared.
Uploaded files are moved out of the uploader into the session (Streamlit deep-copies an uploader's
files on every rerun: 40 ms for a million-row export), so a rerun (a filter or setting change)
only compares keys: it neither copies nor re-hashes the uploaded bytes. The session keeps them on
disk, not in memory: each upload is written, a chunk at a time, to a file of its own in this
process's private run directory (db.run_directory, mode 0700), and Streamlit's copies are dropped;
DuckDB reads that file in place. The file goes with the session's last reference to it ("Remove
the files", a replaced upload, the session's end) and, at the latest, with the process.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from typing import BinaryIO

import duckdb
import streamlit as st

from dashboard.core import db
from dashboard.core.measures import BUILTIN, Measure
from dashboard.engine.metrics import Engine
from dashboard.engine.sample import SAMPLE
from dashboard.ingest import Dataset, Mapping, MappingError, UnreadableFile, load, reading

# The most visit rows one session reads (all its files together): a 200 MB export (the largest
# upload, server.maxUploadSize) holds about 2.4 million. Bounds the memory a session can take.
# DASHBOARD_MAX_ROWS changes it (reading.row_limit; reading a workbook applies it too).
MAX_ROWS = reading.MAX_ROWS
# (settings, cohort) combinations whose tables the shared sample keeps (a few hundred KB each).
SHARED_RESULTS = 64


_CHUNK = 8 << 20  # what is copied of an upload at a time


@dataclass(frozen=True, eq=False)
class Export:
    """An uploaded export, kept in this session: its name, the file holding its bytes (in the
    private run directory; removed once no Export refers to it), their size and sha256, and
    whether it is a workbook."""

    name: str
    path: str
    size: int
    digest: str
    workbook: bool

    @classmethod
    def of(cls, name: str, data: bytes) -> "Export":
        return cls.from_upload(name, io.BytesIO(data))

    @classmethod
    def from_upload(cls, name: str, upload: BinaryIO) -> "Export":
        """Copy a file-like upload (Streamlit's UploadedFile) to disk a chunk at a time: never a
        second whole copy of it in memory."""
        digest, size, head = hashlib.sha256(), 0, b""
        fd, path = tempfile.mkstemp(prefix="upload-", dir=db.run_directory())
        try:
            with os.fdopen(fd, "wb") as fh:
                upload.seek(0)
                while chunk := upload.read(_CHUNK):
                    head = head or chunk[:4]
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
        except BaseException:
            os.unlink(path)
            raise
        export = cls(name, path, size, digest.hexdigest(), head.startswith(b"PK\x03\x04"))
        weakref.finalize(export, _remove, path)
        return export

    @property
    def data(self) -> bytes:
        """The whole file (the mapping step's preview, a workbook's checks): read when asked."""
        with open(self.path, "rb") as fh:
            return fh.read()


@dataclass(frozen=True)
class FileHead:
    """A file for the mapping step's preview: its name, a key for its contents (an upload's sha256)
    and where it is. read(limit) reads its first `limit` bytes (all of them when None): a CSV's
    header and first rows need its first 200 KB, not the 200 MB of a large export on every rerun."""

    name: str
    key: str
    path: str

    def read(self, limit: int | None = None) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read(-1 if limit is None else limit)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@dataclass
class Inputs:
    """What the sidebar received: the exports in use (none: the sample), a mapping, measures."""

    exports: list[Export] = field(default_factory=list)
    mapping: Mapping | None = None
    measures: dict[str, Measure] = field(default_factory=lambda: BUILTIN)
    measures_text: str = ""

    @property
    def is_sample(self) -> bool:
        return not self.exports

    @property
    def mapping_in_use(self) -> Mapping | None:
        return None if self.is_sample else self.mapping  # the sample has canonical columns

    def heads(self) -> list["FileHead"]:
        """The files as the mapping step previews them: read from disk only as far as it needs."""
        if self.is_sample:
            return [FileHead(SAMPLE.name, "sample", str(SAMPLE))]
        return [FileHead(e.name, e.digest, e.path) for e in self.exports]

    def sources(self) -> list[tuple[str, None, str]]:
        """The files as ingest.load reads them from disk: (name, None, path)."""
        if self.is_sample:
            return [(SAMPLE.name, None, str(SAMPLE))]
        return [(e.name, None, e.path) for e in self.exports]

    def size(self) -> int:
        """The uploads' bytes together (0 for the sample)."""
        return sum(e.size for e in self.exports)

    def key(self) -> str:
        """Identifies the data in use: the files' names and content digests, the mapping, the measures."""
        digest = hashlib.sha256()
        parts = ([(SAMPLE.name, str(SAMPLE.stat().st_mtime_ns))] if self.is_sample
                 else [(e.name, e.digest) for e in self.exports])
        for name, content in parts:
            digest.update(f"{name}\0{content}\0".encode())
        digest.update((self.mapping_in_use.to_json() if self.mapping_in_use else "").encode())
        digest.update(self.measures_text.encode())
        return digest.hexdigest()


@dataclass
class Loaded:
    key: str
    dataset: Dataset
    engine: Engine
    is_sample: bool


class OneAtATime:
    """The object's methods and attributes, used by one thread at a time (a DuckDB connection is
    not for concurrent use): for the sample data, which every session shares."""

    def __init__(self, target, lock: threading.RLock):
        self._target, self._lock = target, lock

    def __getattr__(self, name: str):
        with self._lock:
            value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            with self._lock:
                return value(*args, **kwargs)
        return call


def _release(data: Loaded) -> None:
    """Close a session's connection (on_release: a replaced upload, or the session has gone)."""
    try:
        data.dataset.con.close()
    except duckdb.Error:  # busy: a query of that session's last rerun is still going
        data.dataset.con.interrupt()  # it stops, and the connection goes with its last reference
        logging.getLogger("dashboard").info("a session's connection was busy; interrupted it instead")


@st.cache_resource(scope="session", max_entries=1, on_release=_release, show_spinner=False)
def _session_data(key: str, _inputs: Inputs) -> Loaded:
    # DuckDB's memory for an upload grows with its size (db.upload_memory_limit): with the
    # default limit, a 200 MB export took 1.6 GB above the idle server (bench_upload_memory.py).
    # A file that needs more to be read than its size allows (many columns of short values) is
    # read again under the default limit rather than refused.
    sized = not _inputs.is_sample
    try:
        dataset = _read(_inputs, sized)
    except duckdb.OutOfMemoryException:
        if not sized:
            raise
        logging.getLogger("dashboard").info("an upload needed more memory than its size allows; read again")
        dataset = _read(_inputs, False)
    return Loaded(key, dataset, Engine(dataset), _inputs.is_sample)


def _read(inputs: Inputs, sized: bool) -> Dataset:
    """The inputs read into a new connection (closed if the reading fails): with a memory limit
    that follows the uploads' size (sized), or the default one."""
    con = db.connect()
    try:
        if sized:
            db.limit_memory(con, inputs.size())
        dataset = load(con, inputs.sources(), inputs.measures or BUILTIN, inputs.mapping_in_use)
        dataset.is_sample = inputs.is_sample
    except BaseException:
        con.close()
        raise
    return dataset


@st.cache_resource(show_spinner=False)
def _shared_sample(key: str) -> Loaded:
    """The sample data, read once for every session: synthetic patients, so nothing private is
    shared, and people opening the dashboard at once don't each read it (30 at once took 9 s).
    Its engine keeps more results, which all the sessions reuse (bench/load_sessions.py)."""
    con = db.connect()
    dataset = load(con, [(SAMPLE.name, SAMPLE.read_bytes())])
    dataset.is_sample = True
    lock = threading.RLock()
    return Loaded(key, OneAtATime(dataset, lock), OneAtATime(Engine(dataset, results_kept=SHARED_RESULTS), lock), True)


def check_size(inputs: Inputs) -> None:
    """Refuse, with a plain message, more rows than a session reads (DASHBOARD_MAX_ROWS).

    Counts a CSV's lines, and a workbook's rows from its first sheet's dimension (counted when it
    has none), so before anything is parsed; a workbook past the bounds reading.check_workbook
    reads from its zip directory is refused here too."""
    limit = reading.row_limit()
    # A CSV's lines however they end: LF, CR LF or a lone CR (reading.line_count), counted a chunk at a time.
    lines = {e.name: reading.workbook_rows(e.name, e.data) if e.workbook
             else reading.file_line_count(e.path) for e in inputs.exports}
    total = sum(lines.values())
    if total > limit:
        what = (f"{next(iter(lines))} has about {total:,} rows" if len(lines) == 1
                else f"These {len(lines)} files have about {total:,} rows together")
        raise UnreadableFile(f"{what}, more than the {limit:,} this dashboard reads at once. Export a shorter "
                             "period or fewer sites per file (the administrator can raise the limit: "
                             "DASHBOARD_MAX_ROWS).")


def loaded(inputs: Inputs) -> Loaded:
    """The session's dataset for these inputs, parsed only when they changed.

    Raises UnreadableFile / MappingError with a plain message."""
    key = inputs.key()
    failed = st.session_state.get("failed_load")
    if failed and failed[0] == key:
        raise failed[1]  # the same files failed last time: say so again without re-reading them
    try:
        if st.session_state.get("data_key") != key:
            _session_data.clear()  # release the previous upload's data before reading the next
            st.session_state.pop("data_key", None)
            st.session_state.pop("chart_specs", None)  # and the charts drawn of it (panels.draw)
            check_size(inputs)
        shared = inputs.is_sample and not inputs.measures_text  # the sample as it is: every session's
        current = _shared_sample(key) if shared else _session_data(key, inputs)
    except (UnreadableFile, MappingError) as exc:
        st.session_state["failed_load"] = (key, exc)
        raise
    st.session_state.pop("failed_load", None)
    st.session_state["data_key"] = key
    # The charts drawn of the sample as it is are every session's (panels.draw): no store of its own.
    if shared:
        st.session_state["chart_specs"] = None
    elif st.session_state.get("chart_specs", {}) is None:
        del st.session_state["chart_specs"]
    return current
