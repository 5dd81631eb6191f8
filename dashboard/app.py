"""The dashboard: `streamlit run dashboard/app.py`. Routes and lays out; every number comes from
dashboard.metrics (see METRICS.md), every chart from dashboard.charts."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by streamlit

from dashboard import app_auth, app_intake, app_methods, app_panels, app_sidebar  # noqa: E402
from dashboard.app_data import loaded  # noqa: E402
from dashboard.formatting import count, plain  # noqa: E402
from dashboard.ingest import MappingError, UnreadableFile  # noqa: E402
from dashboard.metrics import Cohort  # noqa: E402


TILE_TABLES = {"summary", "response", "durability"}
PANEL_TABLES = {"Response": {"response"}, "Keep going?": {"late_response"}, "Dropout": {"dropout", "dropout_detail"},
                "Durability": {"durability", "trajectories"}, "Trajectories": {"trajectories"}, "Data quality": set()}


def main() -> None:
    st.set_page_config(page_title="Ketamine clinic outcomes", page_icon=":bar_chart:", layout="wide")
    if not app_auth.gate():  # sign-in configured and this visitor is not (yet) let in: nothing else
        return
    # Fixed styles, no user text: tile labels wrap instead of being cut on a laptop screen, and
    # the page starts near the top so the tiles are above the fold.
    st.markdown("<style>[data-testid='stMetricLabel'] * {white-space: normal !important;}"
                "[data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>", unsafe_allow_html=True)
    inputs = app_sidebar.files_in()
    try:
        data = loaded(inputs)
    except MappingError as exc:
        st.session_state["load_failed"] = True
        st.session_state["mapping_needed"] = True  # open the sidebar's saved-mapping uploader
        st.title("Ketamine clinic outcomes")
        st.error(plain(str(exc)))
        app_intake.mapping_step(inputs.files(), inputs.measures, inputs.mapping)
        return
    except UnreadableFile as exc:
        st.session_state["load_failed"] = True
        st.title("Ketamine clinic outcomes")
        st.error(plain(str(exc)))
        st.caption("Remove the file in the sidebar to see the sample data again.")
        return
    st.session_state.pop("mapping_needed", None)
    st.session_state.pop("load_failed", None)
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
    if note := app_sidebar.cohort_note(cohort):
        st.markdown(f":violet-badge[Filtered] {plain(note)}")
    # Compute only what is on screen: the tiles' tables for the whole cohort, and the open tab's.
    open_tab = st.session_state.get("panel", "Response")
    whole = Cohort.of(dict(cohort.filters), start_from=cohort.start_from, start_to=cohort.start_to)
    if cohort.split_by:
        overall = engine.compute(settings, whole, TILE_TABLES)
        metrics = app_panels.with_group_title(engine.compute(settings, cohort, PANEL_TABLES[open_tab]),
                                              app_sidebar.DIMENSION_LABELS.get(cohort.split_by, cohort.split_by))
    else:
        overall = metrics = engine.compute(settings, whole, TILE_TABLES | PANEL_TABLES[open_tab])
    app_panels.tiles(overall)
    if cohort.split_by:
        sizes = ", ".join(f"{plain(g)}: {count(n, settings.min_cell)}"
                          for g, n in zip(metrics.summary["grp"], metrics.summary["patients_started"]))
        st.markdown(f"Compared by **{plain(app_sidebar.DIMENSION_LABELS.get(cohort.split_by, cohort.split_by))}**: "
                    f"patients started {sizes}. The tiles above count all the selected patients.")
    app_intake.what_we_read(dataset, overall.left_out_after_as_of, expanded=not data.is_sample)

    panels = {
        "Response": lambda: app_panels.response_panel(metrics, show_references),
        "Keep going?": lambda: app_panels.late_response_panel(metrics),
        "Dropout": lambda: app_panels.dropout_panel(metrics, show_references),
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
        app_methods.methods(overall, app_panels.timing_note(settings.score_timing))


_started = time.perf_counter()
try:
    main()
except Exception:  # never a traceback on screen: a plain message, and the details in the server log
    logging.getLogger("dashboard").exception("the dashboard failed")
    st.error("Something went wrong while drawing the dashboard. Check the uploaded files and settings; "
             "the details are in the server log.")
finally:
    # Server time of this rerun, for benchmarks (bench/, the note on speed): DASHBOARD_TIMING=1.
    st.session_state["rerun_ms"] = (time.perf_counter() - _started) * 1000
    if os.environ.get("DASHBOARD_TIMING"):
        print(f"dashboard rerun: {st.session_state['rerun_ms']:.0f} ms", file=sys.stderr, flush=True)
