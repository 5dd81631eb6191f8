"""The sidebar: files in, settings (METRICS.md, every one), and the cohort (filters, compare by)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard.formatting import plain
from dashboard.ingest import Mapping, MappingError
from dashboard.measures import BUILTIN, Measure, MeasuresFileError, load_measures_file
from dashboard.metrics import Cohort
from dashboard.settings import Settings

# Dimensions too varied or too personal to offer as filters (age is offered as age bands).
_NOT_FILTERS = {"age", "discontinuation_reason", "planned_infusions"}
_MAX_FILTER_VALUES = 40
DIMENSION_LABELS = {"site": "Site", "provider": "Provider", "route": "Route", "kap": "With psychotherapy (KAP)",
                    "sex": "Sex", "age_band": "Age band", "diagnosis": "Diagnosis", "start_quarter": "Quarter of series start"}


@dataclass
class Inputs:
    files: list[tuple[str, bytes]]
    mapping: Mapping | None
    measures: dict[str, Measure]
    measures_text: str


def files_in() -> Inputs:
    st.sidebar.header("Data")
    uploads = st.sidebar.file_uploader(
        "Visit exports (CSV or Excel)", type=["csv", "txt", "tsv", "xlsx"], accept_multiple_files=True,
        help="One row per visit. Several files (one per site, or overlapping months) are combined.")
    files = [(u.name, u.getvalue()) for u in uploads or []]
    mapping_file = st.sidebar.file_uploader("Saved column mapping (optional)", type=["json"])
    mapping = st.session_state.get("mapping")
    if mapping_file is not None:
        try:
            mapping = Mapping.from_json(mapping_file.getvalue().decode("utf-8", errors="replace"))
        except MappingError as exc:
            st.sidebar.error(plain(str(exc)))
    measures_file = st.sidebar.file_uploader("Extra measures (optional TOML)", type=["toml"])
    measures, measures_text = BUILTIN, ""
    if measures_file is not None:
        measures_text = measures_file.getvalue().decode("utf-8", errors="replace")
        try:
            measures = load_measures_file(measures_text)
        except MeasuresFileError as exc:
            st.sidebar.error(plain(str(exc)))
            measures_text = ""
    return Inputs(files, mapping, measures, measures_text)


def settings_for(measures: dict[str, Measure], present: list[str], latest: date | None) -> Settings:
    d = Settings()
    st.sidebar.header("Settings")
    primary = [m for m in present if measures[m].lower_is_better] or ["phq9"]
    measure = st.sidebar.selectbox("Primary measure", primary, index=primary.index("phq9") if "phq9" in primary else 0,
                                   format_func=lambda m: measures[m].label if m in measures else m)
    timing = st.sidebar.radio(
        "Scores are taken", ["pre", "post"], horizontal=True,
        format_func=lambda t: "before each infusion" if t == "pre" else "after each infusion",
        help="Before (the usual check-in): the score at infusion n+1 describes the patient after n infusions. "
             "After: the score at infusion n does.")
    with st.sidebar.expander("Thresholds and windows"):
        own = measures[measure].min_baseline or 0
        min_baseline = st.number_input(f"Minimum baseline (moderate from; {measures[measure].label} default {own:g})",
                                       min_value=0.0, value=float(own), step=1.0)
        reduction = st.slider("Response: fall from baseline of at least", 0.05, 0.95, d.response_reduction, 0.05,
                              format="%.2f")
        planned = st.number_input("Planned infusions in a series", 1, 30, d.planned)
        gap = st.number_input("A gap of more than this many days ends a series", 1, 365, d.series_gap_days)
        window = st.number_input("Baseline window (days before the first infusion)", 0, 365, d.baseline_window_days)
        end = st.number_input("End-of-series score within (days after the last infusion)", 0, 90, d.end_of_series_days)
        follow_up = st.number_input("One-month follow-up at (days after the last infusion)", 1, 365, d.follow_up_days)
        low, high = st.slider("Follow-up window (days)", 0, 180, d.follow_up_window)
        as_of = st.date_input("Data read as of", value=latest or date.today(),
                              help="Visits after this date are left out. Default: the latest visit in the data.")
        min_cell = st.number_input("Hide counts below (0 = off)", 0, 100, d.min_cell,
                                   help="Small-cell suppression: counts below this show as '<K' and their rates are hidden.")
    low, high = min(low, follow_up), max(high, follow_up)
    return Settings(measure=measure, min_baseline=min_baseline, response_reduction=reduction, score_timing=timing,
                    planned=int(planned), series_gap_days=int(gap), baseline_window_days=int(window),
                    end_of_series_days=int(end), as_of=None if as_of == latest else as_of,
                    follow_up_days=int(follow_up), follow_up_window=(int(low), int(high)), min_cell=int(min_cell))


def cohort_for(values_by_dimension: dict[str, list[str]], start_range: tuple[date, date] | None) -> Cohort:
    st.sidebar.header("Patients")
    offered = {d: v for d, v in values_by_dimension.items() if d not in _NOT_FILTERS and 1 < len(v) <= _MAX_FILTER_VALUES}
    compare = st.sidebar.selectbox("Compare by", [""] + list(offered),
                                   format_func=lambda d: "(no comparison)" if not d else DIMENSION_LABELS.get(d, d))
    filters = {}
    with st.sidebar.expander("Filters", expanded=False):
        for dim, values in offered.items():
            chosen = st.multiselect(DIMENSION_LABELS.get(dim, dim), values, key=f"filter_{dim}")
            if chosen:
                filters[dim] = chosen
        start_from = start_to = None
        if start_range:
            picked = st.date_input("Series started between", value=start_range, min_value=start_range[0],
                                   max_value=start_range[1])
            if isinstance(picked, tuple) and len(picked) == 2 and picked != start_range:
                start_from, start_to = picked
    return Cohort.of(filters, split_by=compare, start_from=start_from, start_to=start_to)
