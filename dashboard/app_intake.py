"""What the dashboard read: the per-file summary, the data-quality panel, and the mapping step
for exports whose columns it could not recognise."""

from __future__ import annotations

import csv
import hashlib
import io

import pandas as pd
import streamlit as st

from dashboard.formatting import csv_bytes, plain
from dashboard.ingest import Dataset, Mapping
from dashboard.labels import left_out_note
from dashboard.metrics import MetricTables
from dashboard.report import rejections_by_reason
from dashboard.ingest.reading import UnreadableFile, decode, sniff_delimiter, workbook_head
from dashboard.ingest.columns import CANONICAL_ALIASES
from dashboard.measures import Measure, measure_for_header, normalise_header

DATE_STYLES = {"auto": "Detect from the file", "iso": "ISO, 2025-12-31", "us": "US, month first: 12/31/2025",
               "eu": "European, day first: 31.12.2025 or 31/12/2025"}
ROLES = {"patient_id": "Patient id", "session_date": "Visit date", "session_type": "Session type (optional)",
         "infusion_number": "Infusion number (optional)"}


def what_we_read(dataset: Dataset, overall: MetricTables, expanded: bool = False) -> None:
    """Per file: its form and date style (and why), rows read/used/rejected, and how each column was read."""
    files = len(dataset.files)
    title = (f"What we read: {files} file{'s' * (files > 1)}, {dataset.rows_read:,} rows, "
             f"{dataset.rows_used:,} used, {dataset.rows_rejected:,} rejected")
    with st.expander(title, expanded=expanded):
        for f in dataset.files:
            text, columns = st.columns([4, 1], vertical_alignment="center")
            text.markdown(f"**{plain(f.name)}**: {plain(f.describe())}.  \n"
                          f"Why this date style: {plain(f.date_style_reason)}.  \n"
                          f"{f.rows_read:,} rows read, {f.rows_used:,} used, {f.rows_rejected:,} rejected whole.")
            for note in f.notes:
                text.caption(plain(note))
            with columns.popover("Columns", width="stretch", help="How each column of the file was read"):
                st.dataframe(pd.DataFrame(f.columns, columns=["Column in the file", "Read as", "How"]),
                             hide_index=True)
        if note := left_out_note(overall.left_out_after_as_of, overall.dated_in_future):
            st.caption(note)
        if dataset.rows_rejected:
            st.caption("The Data quality tab lists every rejected row and value, with a download.")


def data_quality(dataset: Dataset, rows_listed: bool = True) -> None:
    """The rejections by reason; with rows_listed, every rejected row and value (their values may
    hold patient identifiers, so not in presentation mode) and a download."""
    rejections = dataset.rejections()
    st.subheader("Data quality")
    if rejections.empty:
        st.success("Every row and value was used: nothing was rejected.")
        return
    values = max(len(rejections) - dataset.rows_rejected, 0)
    st.markdown(f"**{_plural(len(rejections), 'rejection')}**: {_plural(dataset.rows_rejected, 'row')} left out "
                f"whole, and {_plural(values, 'single value')} left out of rows that were kept.")
    st.caption("Nothing is dropped silently: each rejected row or value is listed with its file, line and reason. "
               "Line numbers count the header as line 1, as a spreadsheet does.")
    left, right = st.columns([2, 1])
    left.dataframe(rejections_by_reason(rejections).rename(columns={"reason": "Reason", "count": "Rows or values"}),
                   hide_index=True)
    if not rows_listed:
        return
    right.download_button("Download the full list (CSV)", rejections_csv(rejections), "rejections.csv", "text/csv",
                          help="Every rejected row or value with its file, line, column, value and reason.")
    with st.expander(f"All {len(rejections):,} rejections"):
        st.dataframe(rejections.rename(columns=str.capitalize), hide_index=True)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def rejections_csv(rejections: pd.DataFrame) -> bytes:
    return csv_bytes(rejections)


def mapping_step(files: list[tuple[str, bytes]], measures: dict[str, Measure], current: Mapping | None) -> None:
    """Choose the columns the dashboard could not recognise; the result can be saved for next month."""
    st.subheader("Map your columns")
    st.caption("Tell the dashboard which column holds what. You can save the result and load it next month "
               "(sidebar: Saved column mapping and extra measures).")
    names = [name for name, _ in files]
    shown = st.selectbox("File", names, format_func=plain, key="map_file") if len(files) > 1 else names[0]
    try:
        headers, preview = _headers_and_preview(shown, dict(files)[shown])
    except UnreadableFile as exc:  # a file after the one whose columns failed, not read yet
        st.error(plain(str(exc)))
        return
    if not headers:
        st.info("This file has no header row to map.")
        return
    st.caption(f"The first rows of {plain(shown)}, as written in the file (patient-level data: shown only here).")
    st.dataframe(preview, hide_index=True)
    # Start from what the headers already say (and from the mapping in use), so only the gaps need choosing.
    guesses = _guess_columns(headers, measures) | {role: h for h, role in (current.columns if current else {}).items()}
    options = ["(none)"] + headers

    def choose(where, role: str, label: str) -> str:
        guess = guesses.get(role)
        return where.selectbox(label, options, index=options.index(guess) if guess in options else 0,
                               key=f"map_{role}")

    choices = {}
    cols = st.columns(4)
    for i, (role, label) in enumerate(ROLES.items()):
        choices[role] = choose(cols[i], role, label)
    st.markdown("**Score columns** (at least one)")
    cols = st.columns(4)
    for i, measure in enumerate(measures.values()):
        choices[measure.name] = choose(cols[i % 4], measure.name, measure.label)
    date_style = st.columns(2)[0].selectbox(
        "Dates are written", list(DATE_STYLES), key="map_date_style",
        index=list(DATE_STYLES).index(current.date_style) if current else 0, format_func=DATE_STYLES.get)
    columns = {header: role for role, header in choices.items() if header != "(none)"}
    mapping = Mapping(columns=columns, session_types=current.session_types if current else {},
                      date_style=date_style)
    ready = choices["patient_id"] != "(none)" and choices["session_date"] != "(none)"
    left, right = st.columns(2)
    if left.button("Use this mapping", type="primary", disabled=not ready,
                   help=None if ready else "Choose at least the patient id and the visit date."):
        st.session_state["mapping"] = mapping
        st.rerun()
    right.download_button("Save this mapping (JSON)", mapping.to_json(), "column_mapping.json", "application/json")


def _guess_columns(headers: list[str], measures: dict[str, Measure]) -> dict[str, str]:
    """role or measure -> the first header whose name says it (as the ingest recognises headers)."""
    guesses: dict[str, str] = {}
    for header in headers:
        key = normalise_header(header)
        for role in ROLES:
            if key in CANONICAL_ALIASES.get(role, ()):
                guesses.setdefault(role, header)
        measure = measure_for_header(header, measures)
        if measure:
            guesses.setdefault(measure, header)
    return guesses


def _headers_and_preview(name: str, data: bytes) -> tuple[list[str], pd.DataFrame]:
    """The file's headers (as the ingest reads them) and its first rows, under those headers made
    unique for display (a table can't show two columns of one name)."""
    if data.startswith(b"PK\x03\x04"):
        headers, rows = _workbook_head(name, data)
        filler = None
    else:
        text, _ = decode(data[:200_000])
        delimiter = sniff_delimiter(text)
        headers, *rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:6] or [[]]
        filler = ""
    if not headers:
        return [], pd.DataFrame()
    width, seen, shown = len(headers), {}, []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        shown.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return headers, pd.DataFrame([(r + [filler] * width)[:width] for r in rows], columns=shown)


def _workbook_head(name: str, data: bytes) -> tuple[list[str], list[list[str | None]]]:
    """A workbook's header and first rows (reading.workbook_head), parsed once per upload: every
    click in the mapping step reruns the script, and parsing a workbook again each time took
    seconds. Only the workbook last shown is kept (its header and five rows, in this session)."""
    key = (name, hashlib.sha256(data).hexdigest())
    kept = st.session_state.get("map_workbook_head")
    if kept is None or kept[0] != key:
        st.session_state.pop("map_workbook_head", None)
        try:
            kept = (key, *workbook_head(name, data))
        except UnreadableFile as exc:
            kept = (key, exc)
        st.session_state["map_workbook_head"] = kept
    if isinstance(kept[1], UnreadableFile):
        raise kept[1]
    return kept[1], kept[2]


KIND_CHOICES = {"": "Leave its rows out", "baseline": "Baseline", "infusion": "Infusion", "follow_up": "Follow-up"}


def session_type_step(dataset: Dataset, current: Mapping | None) -> None:
    """Session types that read as more than one kind of visit (METRICS.md 1: never guessed): their
    rows stay rejected until the user says which kind each is; the choice joins the column mapping,
    which can be saved for next month."""
    labels = dataset.ambiguous_session_types
    if not labels:
        return
    rows = sum(n for _, n in labels)
    with st.container(border=True):
        st.warning(f"{_plural(len(labels), 'session type')} in your files could mean more than one kind of visit, "
                   f"so their {_plural(rows, 'row')} are left out of every number until you say which kind each is.")
        chosen = {}
        for i, (label, n) in enumerate(labels):
            name, choice = st.columns([2, 1], vertical_alignment="center")
            name.text(f"{label}  ({_plural(n, 'row')})")  # st.text: the label is shown as plain text
            chosen[label] = choice.selectbox(f"Kind of visit for session type {i + 1}", list(KIND_CHOICES),
                                             format_func=KIND_CHOICES.get, key=f"session_kind_{i}",
                                             label_visibility="collapsed")
        named = {label: kind for label, kind in chosen.items() if kind}
        mapping = Mapping(columns=current.columns if current else {},
                          session_types=(current.session_types if current else {}) | named,
                          date_style=current.date_style if current else "auto")
        left, right = st.columns(2)
        if left.button("Read the files again with these kinds", type="primary", disabled=not named):
            st.session_state["mapping"] = mapping
            st.rerun()
        right.download_button("Save as a column mapping (JSON)", mapping.to_json(), "column_mapping.json",
                              "application/json", disabled=not named)
