"""The dashboard: `streamlit run dashboard/app.py`. Routes and lays out; every number comes from
dashboard.engine.metrics (see docs/METHODS.md), every chart from dashboard.present.charts."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by streamlit

from dashboard.engine.metrics import Cohort  # noqa: E402
from dashboard.engine.suppression import shown_metrics  # noqa: E402
from dashboard.ingest import MappingError, UnreadableFile  # noqa: E402
from dashboard.present import labels  # noqa: E402
from dashboard.present.formatting import count, plain  # noqa: E402
from dashboard.present.labels import data_source  # noqa: E402
from dashboard.ui import auth, decisions, intake, methods, panels, report_panel, room, sidebar  # noqa: E402
from dashboard.ui.session_data import loaded  # noqa: E402

TILE_TABLES = {"summary", "response", "durability"}
PANEL_TABLES = {"Response": {"response", "time_to_response"}, "Keep going?": {"late_response", "early_improvement"},
                "Dropout": {"dropout", "dropout_detail"},
                "Durability": {"durability", "milestones"}, "Trajectories": {"trajectories"},
                "As services report it": {"reliable_change", "reliable_change_points"}, "Compare fairly": {"funnel"},
                "Over time": set(), "Data quality": set()}
# The p-charts describe the whole selected cohort, like the tiles.
OVERALL_TABLES = {"Over time": {"monthly"}}


def main() -> None:
    st.set_page_config(page_title="Ketamine clinic outcomes", page_icon=":bar_chart:", layout="wide")
    if not auth.gate():  # sign-in configured and this visitor is not (yet) let in: nothing else
        return
    # Fixed styles, no user text: tile labels wrap instead of being cut on a laptop screen, and
    # the page starts near the top so the tiles are above the fold.
    # Captions darker than Streamlit's default grey and not faded by its opacity (0.6), for WCAG AA
    # contrast: #4a4a4a on white is 8.9:1 (faded, 3.1:1).
    st.markdown("<style>[data-testid='stMetricLabel'] * {white-space: normal !important;}"
                "[data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}"
                "[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] * "
                "{color: #4a4a4a !important; opacity: 1 !important;}</style>", unsafe_allow_html=True)
    presenting = room.mode()
    inputs = sidebar.files_in()
    try:
        data = loaded(inputs)
    except MappingError:  # a question, not an error: the mapping step says why, in plain words
        st.session_state["load_failed"] = True
        st.session_state["mapping_needed"] = True  # open the sidebar's saved-mapping uploader
        st.title("Ketamine clinic outcomes")
        intake.mapping_step(inputs.heads(), inputs.measures, inputs.mapping)
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
    settings = sidebar.settings_for(dataset.measures, dataset.measures_present(), engine.latest_date)
    if presenting:
        settings = room.for_room(settings)
    dimensions = engine.dimension_values(settings)  # baseline severity too (docs/METHODS.md 9-10)
    cohort = sidebar.cohort_for(dimensions, engine.start_range(settings))
    show_references = st.sidebar.toggle("Show published reference figures", value=False)

    if not presenting:  # on a shared screen the header's data line leads, and the height goes to the charts
        st.title("Ketamine clinic outcomes")
    primary = dataset.measures[settings.measure]
    compared_by = labels.DIMENSION_LABELS.get(cohort.split_by, cohort.split_by)
    # Compute only what is on screen: the tiles' tables for the whole cohort, and the open tab's.
    # With suppression on, every table: what is hidden must not depend on the tab that is open.
    open_tab = room.open_panel(list(PANEL_TABLES))
    wanted = None if settings.min_cell else PANEL_TABLES[open_tab]
    whole = Cohort.of(dict(cohort.filters), start_from=cohort.start_from, start_to=cohort.start_to)
    if presenting:
        settings = room.period_for_room(settings, lambda period: engine.compute(
            dataclasses.replace(settings, control_period=period), whole, {"monthly"}).monthly, (data.key, settings, whole))
    if cohort.split_by:
        overall = engine.compute(settings, whole,
                                 None if wanted is None else TILE_TABLES | OVERALL_TABLES.get(open_tab, set()))
        metrics = labels.with_group_title(engine.compute(settings, cohort, wanted), compared_by)
        # The groups add up to the whole: suppressed together.
        views = suppressed((data.key, settings, cohort), lambda: shown_metrics(metrics, overall))
        metrics.shown = {name: frame for name, frame in views.items() if not name.startswith("overall.")}
        overall.shown = {name.removeprefix("overall."): frame for name, frame in views.items()
                         if name.startswith("overall.")}
    else:
        overall = metrics = engine.compute(
            settings, whole, None if wanted is None else TILE_TABLES | wanted | OVERALL_TABLES.get(open_tab, set()))
        metrics.shown = suppressed((data.key, settings, cohort), lambda: shown_metrics(metrics))
    source = data_source(data.is_sample, [f.name for f in dataset.files], overall.first_visit, overall.last_visit,
                         overall.as_of)
    if presenting:
        room.header(settings, primary.label, sidebar.cohort_note(cohort), compared_by, source,
                           data.is_sample, list(PANEL_TABLES))
    else:
        badge = ":orange-badge[Sample data]" if data.is_sample else ":blue-badge[Your data]"
        st.markdown(f"{badge} {plain(source)}  \nPrimary measure **{plain(primary.label)}** · "
                    f"{panels.timing_note(settings.score_timing)}")
        if note := sidebar.cohort_note(cohort):
            st.markdown(f":violet-badge[Filtered] {plain(note)}")
    if not presenting:
        intake.session_type_step(dataset, inputs.mapping_in_use)
    elif ambiguous := dataset.ambiguous_session_types:
        st.warning(f"{sum(n for _, n in ambiguous):,} rows with a session type that could mean more than one kind "
                   "of visit are left out (see Data quality).")
    if overall.summary.empty:  # no patient at all (every row rejected, or filters that match no one)
        st.warning("No patient to show: " + ("no visit in the data could be used. The rejected rows are listed "
                                             "below." if not sidebar.cohort_note(cohort) else
                                             "no patient matches these filters."))
        if not presenting:
            intake.what_we_read(dataset, overall, expanded=True)
            intake.data_quality(dataset)
        return
    panels.tiles(overall)
    if cohort.split_by:
        sizes = ", ".join(f"{plain(g)}: {count(n, settings.min_cell)}"
                          for g, n in zip(metrics.shown["summary"]["grp"], metrics.shown["summary"]["patients_started"]))
        st.markdown(f"Compared by **{plain(compared_by)}**: "
                    f"patients started {sizes}. The tiles above count all the selected patients.")
    if not presenting:
        # Open on an upload's first view, so how it was read is seen once; closed after, so the
        # tiles and the tab stay near the top.
        first_view = st.session_state.get("what_we_read_seen") != data.key
        st.session_state["what_we_read_seen"] = data.key
        intake.what_we_read(dataset, overall, expanded=first_view and not data.is_sample)
    # Patient-level detail only outside presentation mode, and only when asked for (in the tab).
    dropouts = None if presenting else (lambda: engine.dropouts_to_call(settings, cohort))

    drawers = {
        "Response": lambda: (panels.response_panel(metrics, show_references),
                             decisions.time_to_response(metrics)),
        "Keep going?": lambda: (decisions.keep_going(metrics, show_references),
                                panels.late_response_panel(metrics)),
        "Dropout": lambda: panels.dropout_panel(metrics, show_references, dropouts),
        "Durability": lambda: panels.durability_panel(metrics, primary, show_references),
        "Trajectories": lambda: panels.trajectories_panel(metrics, dataset.measures),
        "As services report it": lambda: decisions.services_panel(metrics, primary),
        "Compare fairly": lambda: decisions.fair_panel(
            engine, settings, cohort, metrics, overall, decisions.offered_dimensions(dimensions), data.key),
        "Over time": lambda: panels.over_time_panel(overall, compared=bool(cohort.split_by)),
        "Data quality": lambda: intake.data_quality(dataset, rows_listed=not presenting),
    }
    # Only the open tab is drawn: a filter change redraws one panel, not six.
    # The open tab is in the address (?panel=Dropout), with the settings: a link reopens this view.
    for tab, draw in zip(st.tabs(list(drawers), key="panel", on_change="rerun", bind="query-params"), drawers.values()):
        if tab.open:
            with tab:
                draw()
    if not presenting:
        with st.expander("Report and downloads"):
            def complete():  # every table, for the report (the tabs computed only what they show)
                if cohort.split_by:
                    return (labels.with_group_title(engine.compute(settings, cohort), compared_by),
                            engine.compute(settings, whole))
                return engine.compute(settings, whole), None

            report_panel.downloads(dataset, metrics, overall if cohort.split_by else None,
                                 [sidebar.cohort_note(cohort), f"Compared by {compared_by}" if cohort.split_by else ""],
                                 complete=complete, show_references=show_references, early_k=decisions.wanted_k())
        with st.expander("How these numbers are computed"):
            methods.methods(overall, panels.timing_note(settings.score_timing))


def suppressed(key, build):
    """The shown tables for key = (data, settings, patients), kept for the next rerun: with a
    minimum cell size, suppression solves small linear programs (a few hundred ms), and a tab
    switch, the usual rerun in presentation mode, changes none of its inputs."""
    if not key[1].min_cell:  # no suppression: copies of the tables the open tab computed
        return build()
    held = st.session_state.get("shown_tables")
    if held is None or held[0] != key:
        held = (key, build())
        st.session_state["shown_tables"] = held
    return held[1]


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
