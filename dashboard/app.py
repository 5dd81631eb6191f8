"""The dashboard: `streamlit run dashboard/app.py`. Routes and lays out; every number comes from
dashboard.metrics (see METRICS.md), every chart from dashboard.charts."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by streamlit

from dashboard import app_intake, app_panels, app_sidebar  # noqa: E402
from dashboard.app_data import loaded  # noqa: E402
from dashboard.formatting import count, plain  # noqa: E402
from dashboard.ingest import MappingError, UnreadableFile  # noqa: E402
from dashboard.metrics import Cohort  # noqa: E402


TILE_TABLES = {"summary", "response", "durability"}
PANEL_TABLES = {"Response": {"response"}, "Keep going?": {"late_response"}, "Dropout": {"dropout", "dropout_detail"},
                "Durability": {"durability", "trajectories"}, "Trajectories": {"trajectories"}, "Data quality": set()}


def main() -> None:
    st.set_page_config(page_title="Ketamine clinic outcomes", page_icon=":bar_chart:", layout="wide")
    # Tile labels wrap instead of being cut on a laptop screen (a fixed style, no user text).
    st.markdown("<style>[data-testid='stMetricLabel'] * {white-space: normal !important;}</style>",
                unsafe_allow_html=True)
    inputs = app_sidebar.files_in()
    try:
        data = loaded(inputs.files, inputs.mapping, inputs.measures, inputs.measures_text)
    except MappingError as exc:
        st.title("Ketamine clinic outcomes")
        st.error(plain(str(exc)))
        app_intake.mapping_step(inputs.files, inputs.measures, inputs.mapping)
        return
    except UnreadableFile as exc:
        st.title("Ketamine clinic outcomes")
        st.error(plain(str(exc)))
        return
    dataset, engine = data.dataset, data.engine
    settings = app_sidebar.settings_for(dataset.measures, dataset.measures_present(), engine.latest_date)
    cohort = app_sidebar.cohort_for(dataset.dimension_values(), engine.start_range(settings))
    show_references = st.sidebar.toggle("Show published reference figures", value=False)

    st.title("Ketamine clinic outcomes")
    badge = (":orange-badge[Sample data: synthetic patients]" if data.is_sample
             else f":blue-badge[Your data: {len(dataset.files)} file{'s' * (len(dataset.files) > 1)}]")
    primary = dataset.measures[settings.measure]
    st.markdown(f"{badge} Primary measure **{primary.label}** · "
                f"{app_panels.timing_note(settings.score_timing)}")
    # Compute only what is on screen: the tiles' tables for the whole cohort, and the open tab's.
    open_tab = st.session_state.get("panel", "Response")
    whole = Cohort.of(dict(cohort.filters), start_from=cohort.start_from, start_to=cohort.start_to)
    if cohort.split_by:
        overall = engine.compute(settings, whole, TILE_TABLES)
        metrics = engine.compute(settings, cohort, PANEL_TABLES[open_tab])
    else:
        overall = metrics = engine.compute(settings, whole, TILE_TABLES | PANEL_TABLES[open_tab])
    app_panels.tiles(overall)
    if cohort.split_by:
        sizes = ", ".join(f"{plain(g)}: {count(n, settings.min_cell)}"
                          for g, n in zip(metrics.summary["grp"], metrics.summary["patients_started"]))
        st.caption(f"Compared by {plain(app_sidebar.DIMENSION_LABELS.get(cohort.split_by, cohort.split_by))} "
                   f"(patients started: {sizes}).")
    app_intake.what_we_read(dataset, overall.left_out_after_as_of)

    panels = {
        "Response": lambda: app_panels.response_panel(metrics, show_references),
        "Keep going?": lambda: app_panels.late_response_panel(metrics),
        "Dropout": lambda: app_panels.dropout_panel(metrics),
        "Durability": lambda: app_panels.durability_panel(metrics, primary, show_references),
        "Trajectories": lambda: app_panels.trajectories_panel(metrics, dataset.measures),
        "Data quality": lambda: app_intake.data_quality(dataset),
    }
    # Only the open tab is drawn: a filter change redraws one panel, not six.
    for tab, draw in zip(st.tabs(list(panels), key="panel", on_change="rerun"), panels.values()):
        if tab.open:
            with tab:
                draw()
    with st.expander("How these numbers are computed"):
        methods(overall)


def methods(m) -> None:
    s = m.settings
    st.markdown(f"""
- **A visit** is a row of the export; rows of one patient, date and session type are one visit.
- **The series** is a patient's infusions in date order, until a gap of more than {s.series_gap_days} days or
  {s.planned} infusions (a planned_infusions column overrides this per patient). Later infusions are boosters.
- **Baseline**: the latest baseline score within {s.baseline_window_days} days before the first infusion; with
  scores taken before each infusion and no baseline visit, the score at infusion 1. Response is judged only when
  the baseline is at least the measure's moderate band (or the minimum you set) and above 0.
- **Response** after n infusions: a score at or below baseline × (1 − {s.response_reduction:g}). **Remission**: at
  or below the measure's cut-off. {app_panels.timing_note(s.score_timing)} After the last infusion, the first
  score within {s.end_of_series_days} days (a follow-up or a booster's check-in) counts.
- **Intention to treat**: every patient with a usable baseline counts; one who stopped counts as not responding,
  unless they had already responded. Patients still in their series count only for infusions they have had.
- **Dropout**: a patient stopped after infusion L when their series has fewer than the planned infusions and the
  last one is more than {s.series_gap_days} days before the as-of date ({m.as_of}). Retention is a Kaplan-Meier
  estimate.
- **Durability**: responders whose series has ended, re-assessed nearest {s.follow_up_days} days after their last
  infusion (within {s.follow_up_window[0]}–{s.follow_up_window[1]} days).
- **Intervals**: 95% Wilson score intervals for rates; t-based 95% intervals for mean scores.
""")
    st.json(s.to_dict() | {"as_of": str(m.as_of)}, expanded=False)


try:
    main()
except Exception:  # never a traceback on screen: a plain message, and the details in the server log
    import logging

    logging.getLogger("dashboard").exception("the dashboard failed")
    st.error("Something went wrong while drawing the dashboard. Check the uploaded files and settings; "
             "the details are in the server log.")
