"""What the dashboard read: the per-file summary, the data-quality panel, and the mapping step
for exports whose columns it could not recognise."""

from __future__ import annotations

import csv
import io

import pandas as pd
import streamlit as st

from dashboard.core.measures import Measure, measure_for_header, normalise_header
from dashboard.engine.metrics import MetricTables
from dashboard.ingest import Dataset, Mapping
from dashboard.ingest.columns import CANONICAL_ALIASES, LONG_MEASURE_ALIASES, LONG_SCORE_ALIASES
from dashboard.ingest.header import find_header
from dashboard.ingest.reading import UnreadableFile, decode, sniff_delimiter, workbook_head
from dashboard.present.formatting import csv_bytes, plain
from dashboard.present.labels import left_out_note
from dashboard.present.report import rejections_by_reason
from dashboard.ui import downloads
from dashboard.ui.session_data import FileHead

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
    # Made when clicked, and not kept past the session (app_downloads): the values may identify patients.
    downloads.download_button(right, "Download the full list (CSV)", lambda: rejections_csv(rejections),
                                  "rejections.csv", "text/csv",
                                  help="Every rejected row or value with its file, line, column, value and reason.")
    with st.expander(f"All {len(rejections):,} rejections"):
        st.dataframe(rejections.rename(columns=str.capitalize), hide_index=True)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def rejections_csv(rejections: pd.DataFrame) -> bytes:
    return csv_bytes(rejections)


def mapping_step(files: list[FileHead], measures: dict[str, Measure], current: Mapping | None) -> None:
    """Ask which column holds what, for exports whose headers the dashboard does not recognise (a
    question, not an error: nothing is wrong with the file). The required choices are marked; the
    result can be saved for next month."""
    st.subheader("Which column holds what?")
    names = [f.name for f in files]
    # A selectbox's options are shown as written (not Markdown): the file names need no escaping there.
    shown = st.selectbox("File", names, key="map_file") if len(files) > 1 else names[0]
    try:
        headers, preview = _headers_and_preview(next(f for f in files if f.name == shown))
    except UnreadableFile as exc:  # a file after the one whose columns failed, not read yet
        st.error(plain(str(exc)))
        return
    if not headers:
        st.info("This file has no header row, so there are no columns to choose from.")
        return
    # Start from what the headers already say (and from the mapping in use), so only the gaps need choosing.
    guesses = _guess_columns(headers, measures) | {role: h for h, role in (current.columns if current else {}).items()}
    long = _long_layout(headers)
    unknown = _still_needed(guesses, measures, long)
    st.info((f"The dashboard can't tell which column of {plain(shown)} holds {_joined(unknown)}: the headers are "
             "not ones it knows. " if unknown else
             "The dashboard can't tell which column of your files holds what: some headers are not ones it knows. ") +
            "Please choose below. The patient id, the visit date and at least one score are required; the rest "
            "help if your file has them. You can save your choices and load them next month (sidebar: Saved "
            "column mapping and extra measures).", icon=":material/help:")
    st.caption(f"The first rows of {plain(shown)}, as written in the file (patient-level data: shown only here).")
    st.dataframe(preview, hide_index=True)
    options = ["(none)"] + headers

    def choose(where, role: str, label: str) -> str:
        guess = guesses.get(role)
        return where.selectbox(label, options, index=options.index(guess) if guess in options else 0,
                               key=f"map_{role}")

    choices = {}
    cols = st.columns(4)
    for i, (role, label) in enumerate(ROLES.items()):
        choices[role] = choose(cols[i], role, f"{label} {REQUIRED_MARK}" if role in REQUIRED_ROLES else label)
    st.markdown("**Score columns (at least one required)**" if not long else
                "**Score columns**: this file has a measure column and a score column, read as they are; "
                "choose columns here only for scores kept in columns of their own")
    cols = st.columns(4)
    for i, measure in enumerate(measures.values()):
        choices[measure.name] = choose(cols[i % 4], measure.name, plain(measure.label))  # a label is Markdown
    date_style = st.columns(2)[0].selectbox(
        "Dates are written", list(DATE_STYLES), key="map_date_style",
        index=list(DATE_STYLES).index(current.date_style) if current else 0, format_func=DATE_STYLES.get)
    columns = {header: role for role, header in choices.items() if header != "(none)"}
    mapping = Mapping(columns=columns, session_types=current.session_types if current else {},
                      date_style=date_style)
    missing = _still_needed({role: h for role, h in choices.items() if h != "(none)"}, measures, long)
    left, right = st.columns(2)
    if left.button("Use this mapping", type="primary", disabled=bool(missing),
                   help=f"Still to choose: {_joined(missing)}." if missing else None):
        st.session_state["mapping"] = mapping
        st.rerun()
    if missing:
        left.caption(f"Still to choose: {_joined(missing)}.")
    right.download_button("Save this mapping (JSON)", mapping.to_json(), "column_mapping.json", "application/json")


REQUIRED_ROLES = ("patient_id", "session_date")
# Plain words, not a Markdown badge: a widget's label is also its name for a screen reader, as written.
REQUIRED_MARK = "(required)"


def _still_needed(chosen: dict[str, str], measures: dict[str, Measure], long: bool) -> list[str]:
    """The required choices not made yet (role or measure -> header), in words."""
    needed = [f"the {ROLES[role].lower()}" for role in REQUIRED_ROLES if role not in chosen]
    if not long and not any(name in chosen for name in measures):
        needed.append("a score")
    return needed


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _long_layout(headers: list[str]) -> bool:
    """A measure column and a score column by name (a long export): its scores need no column chosen."""
    keys = {normalise_header(h) for h in headers}
    return bool(keys & set(LONG_MEASURE_ALIASES)) and bool(keys & set(LONG_SCORE_ALIASES))


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


_PREVIEW_BYTES = 200_000  # of a CSV file: its header (below any title lines) and first rows


def _headers_and_preview(file: FileHead) -> tuple[list[str], pd.DataFrame]:
    """The file's headers (as the ingest reads them) and its first rows, under those headers made
    unique for display (a table can't show two columns of one name). Only the file's first bytes
    are read, unless it is a workbook (read whole, and parsed once: _workbook_head)."""
    data = file.read(_PREVIEW_BYTES)
    if data.startswith(b"PK\x03\x04"):
        headers, rows = _workbook_head(file)
        filler = None
    else:
        text, _ = decode(data)
        delimiter = sniff_delimiter(text)
        header = find_header(text, delimiter)  # below any title lines, as the ingest reads it
        headers = header.cells
        after = "".join(text.splitlines(keepends=True)[header.lines:])
        rows = list(csv.reader(io.StringIO(after), delimiter=delimiter))[:5]
        filler = ""
    if not headers:
        return [], pd.DataFrame()
    width, seen, shown = len(headers), {}, []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        shown.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return headers, pd.DataFrame([(r + [filler] * width)[:width] for r in rows], columns=shown)


def _workbook_head(file: FileHead) -> tuple[list[str], list[list[str | None]]]:
    """A workbook's header and first rows (reading.workbook_head), read and parsed once per upload:
    every click in the mapping step reruns the script, and parsing a workbook again each time took
    seconds. Only the workbook last shown is kept (its header and five rows, in this session)."""
    key = (file.name, file.key)
    kept = st.session_state.get("map_workbook_head")
    if kept is None or kept[0] != key:
        st.session_state.pop("map_workbook_head", None)
        try:
            kept = (key, *workbook_head(file.name, file.read()))
        except UnreadableFile as exc:
            kept = (key, exc)
        st.session_state["map_workbook_head"] = kept
    if isinstance(kept[1], UnreadableFile):
        raise kept[1]
    return kept[1], kept[2]


KIND_CHOICES = {"": "Leave its rows out", "baseline": "Baseline", "infusion": "Infusion", "follow_up": "Follow-up"}


def session_type_step(dataset: Dataset, current: Mapping | None) -> None:
    """Session types that read as more than one kind of visit (docs/METHODS.md 1: never guessed): their
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
