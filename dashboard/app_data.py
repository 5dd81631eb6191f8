"""The dashboard's data, per browser session: the files in use, parsed once, and their engine.

Patient data lives only in this session's st.session_state (never in a cache shared between
sessions); a new upload, mapping or measures file builds a new locked-down DuckDB connection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import db
from dashboard.ingest import Dataset, Mapping, load
from dashboard.measures import BUILTIN, Measure
from dashboard.metrics import Engine

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "ketamine_clinic_export.csv"


@dataclass
class Loaded:
    key: str
    dataset: Dataset
    engine: Engine
    is_sample: bool


def content_key(files: list[tuple[str, bytes]], mapping: Mapping | None, measures_text: str) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    digest.update((mapping.to_json() if mapping else "").encode())
    digest.update(measures_text.encode())
    return digest.hexdigest()


def loaded(files: list[tuple[str, bytes]], mapping: Mapping | None, measures: dict[str, Measure],
           measures_text: str = "") -> Loaded:
    """The session's dataset for these files, parsed only when they (or the mapping) changed.

    Raises UnreadableFile / MappingError with a plain message."""
    is_sample = not files
    if is_sample:
        files = [(SAMPLE.name, SAMPLE.read_bytes())]
    key = content_key(files, mapping, measures_text)
    current: Loaded | None = st.session_state.get("loaded")
    if current is None or current.key != key:
        if current is not None:
            current.dataset.con.close()  # release the previous upload's data now
            st.session_state.pop("loaded")
        dataset = load(db.connect(), files, measures or BUILTIN, mapping)
        st.session_state["loaded"] = current = Loaded(key, dataset, Engine(dataset), is_sample)
    return current
