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
only compares keys: it neither copies nor re-hashes the uploaded bytes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field

import duckdb
import streamlit as st

from dashboard import db
from dashboard.ingest import Dataset, Mapping, MappingError, UnreadableFile, load
from dashboard.ingest import reading
from dashboard.measures import BUILTIN, Measure
from dashboard.metrics import Engine
from dashboard.sample import SAMPLE

# The most visit rows one session reads (all its files together): a 200 MB export (the largest
# upload, server.maxUploadSize) holds about 2.4 million. Bounds the memory a session can take.
# DASHBOARD_MAX_ROWS changes it (reading.row_limit; reading a workbook applies it too).
MAX_ROWS = reading.MAX_ROWS
# (settings, cohort) combinations whose tables the shared sample keeps (a few hundred KB each).
SHARED_RESULTS = 64


@dataclass(frozen=True)
class Export:
    """An uploaded export, kept in this session: its name, bytes and their sha256."""

    name: str
    data: bytes
    digest: str

    @classmethod
    def of(cls, name: str, data: bytes) -> "Export":
        return cls(name, data, hashlib.sha256(data).hexdigest())


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

    def files(self) -> list[tuple[str, bytes]]:
        if self.is_sample:
            return [(SAMPLE.name, SAMPLE.read_bytes())]
        return [(e.name, e.data) for e in self.exports]

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
    con = db.connect()
    try:
        dataset = load(con, _inputs.files(), _inputs.measures or BUILTIN, _inputs.mapping_in_use)
        dataset.is_sample = _inputs.is_sample
    except BaseException:
        con.close()
        raise
    return Loaded(key, dataset, Engine(dataset), _inputs.is_sample)


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
    # A CSV's lines however they end: LF, CR LF or a lone CR (reading.line_count).
    lines = {e.name: reading.workbook_rows(e.name, e.data) if e.data.startswith(b"PK\x03\x04")
             else reading.line_count(e.data) for e in inputs.exports}
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
            st.session_state.pop("chart_specs", None)  # and the charts drawn of it (app_panels.draw)
            check_size(inputs)
        shared = inputs.is_sample and not inputs.measures_text  # the sample as it is: every session's
        current = _shared_sample(key) if shared else _session_data(key, inputs)
    except (UnreadableFile, MappingError) as exc:
        st.session_state["failed_load"] = (key, exc)
        raise
    st.session_state.pop("failed_load", None)
    st.session_state["data_key"] = key
    return current
