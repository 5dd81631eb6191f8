"""The sidebar: files in, settings (docs/METHODS.md, every one), and the cohort (filters, compare by)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard.core.measures import Measure, MeasuresFileError, load_measures_file
from dashboard.core.settings import Settings, parse_bands
from dashboard.engine.metrics import Cohort
from dashboard.ingest import Mapping, MappingError
from dashboard.present.formatting import plain
from dashboard.present.labels import DIMENSION_LABELS
from dashboard.ui.panels import PERIOD_KEY
from dashboard.ui.session_data import Export, Inputs

# Dimensions too varied or too personal to offer as filters (age is offered as age bands).
_NOT_FILTERS = {"age", "discontinuation_reason", "planned_infusions"}
_MAX_FILTER_VALUES = 40
# The most dimensions offered as filters (and to compare by): a file of hundreds of cohort columns
# would otherwise draw hundreds of widgets on every rerun. The others are named in a note.
MAX_FILTER_DIMENSIONS = 20


def files_in() -> Inputs:
    st.sidebar.header("Data")
    exports: list[Export] = st.session_state.setdefault("exports", [])
    generation = st.session_state.setdefault("uploader_generation", 0)
    uploads = st.sidebar.file_uploader(
        ("Upload another export (replaces the one in use)" if st.session_state.get("load_failed") else
         "Add more exports" if exports else "Visit exports (CSV or Excel)"), type=["csv", "txt", "tsv", "xlsx"],
        accept_multiple_files=True, key=f"uploads_{generation}",
        help="One row per visit. Several files (one per site, or overlapping months) are combined. "
             "Without a file, the dashboard shows synthetic sample data.")
    if uploads:
        # Keep the files in this session and empty the uploader: Streamlit deep-copies an
        # uploader's files on every rerun, which would slow every filter change.
        if st.session_state.get("load_failed"):
            exports.clear()  # new files replace ones that could not be read
        # Each upload is copied to disk a chunk at a time (session_data.Export), and Streamlit's copies
        # are let go before the files are read: its uploaded-file manager's and the uploader's
        # value (which shares the manager's bytes). A 200 MB upload is then held in memory by
        # nothing while DuckDB reads it (bench_upload_memory.py).
        known = {e.digest for e in exports}
        for upload in uploads:
            export = Export.from_upload(upload.name, upload)
            if export.digest not in known:
                exports.append(export)
                known.add(export.digest)
        _forget_uploads(uploads)
        del upload, uploads
        try:
            del st.session_state[f"uploads_{generation}"]
        except KeyError:
            pass
        st.session_state["uploader_generation"] = generation + 1
        st.rerun()
    if exports:
        st.sidebar.markdown("**In use**  \n" + "  \n".join(
            f":material/description: {plain(e.name)} · {_size(e.size)}" for e in exports))
        if st.sidebar.button("Remove the files", help="Back to the sample data"):
            exports.clear()
            st.session_state.pop("mapping", None)
            st.rerun()
    inputs = Inputs(exports=list(exports), mapping=st.session_state.get("mapping"))
    # Files for next month's run: the column mapping saved from the mapping step, and extra scales.
    remembered = bool(st.session_state.get("mapping_needed") or st.session_state.get("mapping_file")
                      or st.session_state.get("measures_file"))
    with st.sidebar.expander("Saved column mapping and extra measures", expanded=remembered):
        mapping_file = st.file_uploader("Saved column mapping (JSON)", type=["json"], key="mapping_file",
                                        help="The file saved from the mapping step, to read an export with the "
                                             "same columns again.")
        if mapping_file is not None:
            try:
                inputs.mapping = Mapping.from_json(mapping_file.getvalue().decode("utf-8", errors="replace"))
            except MappingError as exc:
                st.error(plain(str(exc)))
        measures_file = st.file_uploader("Extra measures (TOML)", type=["toml"], key="measures_file",
                                         help="Scales beyond the built-in ones: range, which way is better, "
                                              "remission cut-off and moderate band.")
        if measures_file is not None:
            text = measures_file.getvalue().decode("utf-8", errors="replace")
            try:
                inputs.measures, inputs.measures_text = load_measures_file(text), text
            except MeasuresFileError as exc:
                st.error(plain(str(exc)))
    if exports and inputs.mapping is not None and inputs.mapping is st.session_state.get("mapping"):
        # Chosen in this session (the mapping step, or the session types' kinds) and in use: still
        # offered once the files have been read with it, not only while it was being chosen.
        st.sidebar.download_button(
            "Save the column mapping in use (JSON)", inputs.mapping.to_json(), "column_mapping.json",
            "application/json", key="save_mapping_in_use",
            help="The columns (and session types) chosen in this session. Next month, load it under Saved column "
                 "mapping and extra measures to read an export with the same columns without choosing again.")
    return inputs


def _forget_uploads(uploads) -> None:
    """Drop Streamlit's own reference to uploaded bytes now that the session holds them: it would
    keep them until the session ends, so 'Remove the files' would free nothing. (Streamlit's
    chat_input does the same.)"""
    try:
        from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # another Streamlit: keep its files until the session ends, as it would
        return
    ctx = get_script_run_ctx()
    if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        for upload in uploads:
            ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=upload.file_id)


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(n // 1000, 1)} KB"


def settings_for(measures: dict[str, Measure], present: list[str], latest: date | None) -> Settings:
    d = Settings()
    st.sidebar.header("Settings")
    primary = [m for m in present if measures[m].lower_is_better] or ["phq9"]
    # Every setting, the filters, compare-by and the open tab are in the address (bind="query-params"):
    # a link reopens the same view, so a meeting's agenda can carry links. Defaults leave the address.
    measure = st.sidebar.selectbox("Primary measure", primary, index=primary.index("phq9") if "phq9" in primary else 0,
                                   format_func=lambda m: measures[m].label if m in measures else m,
                                   key="measure", bind="query-params")
    timing = st.sidebar.radio(
        "Scores are taken", ["pre", "post"], horizontal=True, key="timing", bind="query-params",
        format_func=lambda t: "before each infusion" if t == "pre" else "after each infusion",
        help="Before (the usual check-in): the score at infusion n+1 describes the patient after n infusions. "
             "After: the score at infusion n does. This changes every number on the page.")
    st.sidebar.caption("Before: the score at infusion 3 counts as 'after 2 infusions'." if timing == "pre" else
                       "After: the score at infusion 2 counts as 'after 2 infusions'.")
    with st.sidebar.expander("Thresholds and windows"):
        own = measures[measure].min_baseline or 0
        min_baseline = st.number_input(f"Minimum baseline (moderate from; {plain(measures[measure].label)} default {own:g})",
                                       min_value=0.0, value=float(own), step=1.0, key=f"min_baseline_{measure}",
                                       bind="query-params")
        reduction = st.slider("Response: a fall from baseline of at least", 5, 95, round(d.response_reduction * 100),
                              5, format="%d%%", key="response", bind="query-params") / 100
        planned = st.number_input("Planned infusions in a series", 1, 30, d.planned, key="planned", bind="query-params")
        gap = st.number_input("A gap of more than this many days ends a series", 1, 365, d.series_gap_days,
                              key="gap", bind="query-params")
        window = st.number_input("Baseline window (days before the first infusion)", 0, 365, d.baseline_window_days,
                                 key="baseline_window", bind="query-params")
        end = st.number_input("End-of-series score within (days after the last infusion)", 0, 90, d.end_of_series_days,
                              key="end_window", bind="query-params")
        follow_up = st.number_input("One-month follow-up at (days after the last infusion)", 1, 365, d.follow_up_days,
                                    key="follow_up", bind="query-params")
        low, high = st.slider("Follow-up window (days)", 0, 180, d.follow_up_window, key="follow_up_window", bind="query-params")
        # Never after today (docs/METHODS.md 2); visits before 1990 are rejected, so none is earlier.
        _follow_data("as_of", latest or date.today())
        as_of = st.date_input("Data read as of", value=latest or date.today(), min_value=date(1990, 1, 1),
                              max_value=date.today(), key="as_of", bind="query-params",
                              help="Visits after this date are left out. Default: the latest visit in the data "
                                   "up to today.")
        min_cell = st.number_input("Hide counts below (0 = off)", 0, 100, d.min_cell, key="min_cell", bind="query-params",
                                   help="Small-cell suppression: counts below this show as '<K' and their rates are hidden.")
        early_bands = _early_bands(d.early_bands)
    low, high = min(low, follow_up), max(high, follow_up)
    return Settings(measure=measure, min_baseline=min_baseline, response_reduction=reduction, score_timing=timing,
                    planned=int(planned), series_gap_days=int(gap), baseline_window_days=int(window),
                    end_of_series_days=int(end), as_of=None if as_of == latest else as_of,
                    follow_up_days=int(follow_up), follow_up_window=(int(low), int(high)), min_cell=int(min_cell),
                    control_period=st.session_state.get(PERIOD_KEY, d.control_period),  # the Over time tab's
                    early_bands=early_bands)


def _follow_data(key: str, default) -> None:
    """A widget whose default comes from the data (the as-of date, the span of series starts):
    when other data is loaded, it starts again from the new data's default. A keyed widget keeps
    its value when its default changes; kept, the sample's as-of would be applied to an upload.
    The first run keeps what the address gave (a shared link)."""
    seen = st.session_state.get(f"{key}_default")
    if seen is not None and seen != default:
        st.session_state[key] = default
    st.session_state[f"{key}_default"] = default


def _early_bands(default: tuple[float, ...]) -> tuple[float, ...]:
    """The "Keep going?" improvement bands (docs/METHODS.md 5), as percentages: '20, 50'."""
    text = st.text_input("Keep going?: improvement bands (cut-offs in %)", ", ".join(f"{e * 100:g}" for e in default),
                         key="early_bands_text", bind="query-params",
                         help="The improvement after k infusions (the fall from baseline, as a share of it) is cut at "
                              "these values: 20, 50 gives less than 20%, 20% to under 50%, and 50% or more.")
    try:
        return parse_bands(",".join(str(float(part.strip().rstrip("%")) / 100) for part in text.split(",")))
    except ValueError:
        st.error("Improvement bands are written like 20, 50: one to nine increasing percentages from -100 to 100. "
                 "The default (20, 50) is used.")
        return default


def cohort_note(cohort: Cohort) -> str:
    """The filters in force, in words, for the top of the page ('' when every patient is in)."""
    parts = [f"{DIMENSION_LABELS.get(dim, dim)}: {', '.join(values)}" for dim, values in cohort.filters]
    if cohort.start_from:
        parts.append(f"series started {cohort.start_from} to {cohort.start_to}")
    return "; ".join(parts)


def offered_dimensions(values_by_dimension: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """The dimensions offered as filters and for comparison (at most MAX_FILTER_DIMENSIONS: the
    known ones first, then in the order given: by name), and those that would qualify but are not offered."""
    usable = {d: v for d, v in values_by_dimension.items() if d not in _NOT_FILTERS and 1 < len(v) <= _MAX_FILTER_VALUES}
    order = sorted(usable, key=lambda d: d not in DIMENSION_LABELS)  # stable: the given order otherwise
    return {d: usable[d] for d in order[:MAX_FILTER_DIMENSIONS]}, order[MAX_FILTER_DIMENSIONS:]


def not_offered_note(names: list[str], shown: int = 10) -> str:
    """'3 more columns could be filters but are not offered (at most 20 are): a, b, c.'"""
    listed = ", ".join(DIMENSION_LABELS.get(d, d) for d in names[:shown])
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return (f"{len(names):,} more column{'s' * (len(names) > 1)} could be filters but {'are' if len(names) > 1 else 'is'} "
            f"not offered (at most {MAX_FILTER_DIMENSIONS} are): {listed}{more}.")


def cohort_for(values_by_dimension: dict[str, list[str]], start_range: tuple[date, date] | None) -> Cohort:
    st.sidebar.header("Patients")
    offered, not_offered = offered_dimensions(values_by_dimension)
    # Option texts are shown as written (a selectbox's options are not Markdown); labels are Markdown.
    compare = st.sidebar.selectbox("Compare by", [""] + list(offered),
                                   format_func=lambda d: "(no comparison)" if not d else DIMENSION_LABELS.get(d, d),
                                   key="compare", bind="query-params")
    filters = {}
    with st.sidebar.expander("Filters", expanded=False):
        for dim, values in offered.items():
            if f"filter_{dim}" in st.session_state:  # a value gone with a setting (baseline severity's bands)
                st.session_state[f"filter_{dim}"] = [v for v in st.session_state[f"filter_{dim}"] if v in values]
            chosen = st.multiselect(plain(DIMENSION_LABELS.get(dim, dim)), values, key=f"filter_{dim}", bind="query-params")
            if chosen:
                filters[dim] = chosen
        if not_offered:
            st.caption(plain(not_offered_note(not_offered)))
        start_from = start_to = None
        if start_range:
            _follow_data("started", start_range)
            picked = st.date_input("Series started between", value=start_range, min_value=start_range[0],
                                   max_value=start_range[1], key="started", bind="query-params")
            if isinstance(picked, tuple) and len(picked) == 2 and picked != start_range:
                start_from, start_to = picked
    return Cohort.of(filters, split_by=compare, start_from=start_from, start_to=start_to)
