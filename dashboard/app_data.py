"""The dashboard's data, per browser session: the files in use, parsed once, and their engine.

Patient data lives only in this session's st.session_state (never in a cache shared between
sessions); a new upload, mapping or measures file builds a new locked-down DuckDB connection.
Uploaded files are moved out of the uploader into the session (Streamlit deep-copies an uploader's
files on every rerun: 40 ms for a million-row export), so a rerun (a filter or setting change)
only compares keys: it neither copies nor re-hashes the uploaded bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard import db
from dashboard.ingest import Dataset, Mapping, MappingError, UnreadableFile, load
from dashboard.measures import BUILTIN, Measure
from dashboard.metrics import Engine

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "ketamine_clinic_export.csv"


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


def loaded(inputs: Inputs) -> Loaded:
    """The session's dataset for these inputs, parsed only when they changed.

    Raises UnreadableFile / MappingError with a plain message."""
    key = inputs.key()
    failed = st.session_state.get("failed_load")
    if failed and failed[0] == key:
        raise failed[1]  # the same files failed last time: say so again without re-reading them
    current: Loaded | None = st.session_state.get("loaded")
    if current is None or current.key != key:
        if current is not None:
            current.dataset.con.close()  # release the previous upload's data now
            st.session_state.pop("loaded")
        con = db.connect()
        try:
            dataset = load(con, inputs.files(), inputs.measures or BUILTIN, inputs.mapping_in_use)
        except (UnreadableFile, MappingError) as exc:
            con.close()
            st.session_state["failed_load"] = (key, exc)
            raise
        st.session_state.pop("failed_load", None)
        st.session_state["loaded"] = current = Loaded(key, dataset, Engine(dataset), inputs.is_sample)
    return current
