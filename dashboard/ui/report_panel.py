"""The app's "Report and downloads" expander: the report for the minutes (one HTML page), the charts
as SVG and PNG, and the shown metric tables as CSV (dashboard.present.report). Drawing the charts takes
a few seconds, so nothing is built until the user asks for it, and what was built is kept for
these settings and patients only. Not for presentation mode (the app leaves this out there)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st

from dashboard.engine.metrics import MetricTables
from dashboard.present.formatting import plain
from dashboard.present.report_decisions import REPORT_K
from dashboard.ui import downloads as made_on_click  # its download_button: files made when clicked

_HELD = "report_files"  # session_state: (what it was built for, report.ReportFiles)


def downloads(dataset, metrics: MetricTables, overall: MetricTables | None = None, cohort_text: Iterable[str] = (),
              *, complete: Callable[[], tuple[MetricTables, MetricTables | None]] | None = None,
              show_references: bool = False, early_k: int = REPORT_K) -> None:
    """metrics: the panels' tables; overall: the whole selected cohort's when metrics is split by a
    dimension; cohort_text: the filters and the compare-by choice in words (shown as written).
    complete: gives (metrics, overall) with every table computed, for when the app computed only the
    open tab's (without suppression it does); called only when the user prepares the report.
    early_k: the infusion count chosen on the "Keep going?" tab, which the report's section is about."""
    from dashboard.present import report  # here: the module is cheap, but keep the app's start-up lean

    cohort_text = [line for line in cohort_text if line]
    k = report.report_min_cell(metrics.settings.min_cell)
    st.caption(f"One HTML page for the minutes (opens offline, prints to PDF from the browser), the charts as SVG "
               f"and PNG, and the tables as CSV. Aggregate numbers only: counts below {k} show as <{k} and the "
               "rates using them are hidden"
               + ("" if metrics.settings.min_cell else f" (shared reports use {report.SHARED_MIN_CELL})") + ".")
    wanted = (id(dataset), metrics.settings, tuple(cohort_text), tuple(metrics.groups), show_references, early_k)
    held = st.session_state.get(_HELD)
    if held is not None and held[0] != wanted:
        held = None
    if st.button("Prepare the report" if held is None else "Prepare it again", key="report_prepare",
                 type="primary" if held is None else "secondary",
                 help="Draws every chart and builds the files (a few seconds)."):
        try:
            with st.spinner("Drawing the charts…"):
                m, o = metrics, overall
                incomplete = report.missing_tables(metrics) or (overall is not None and report.missing_tables(overall))
                if incomplete and complete is not None:
                    m, o = complete()
                files = report.build(dataset, m, o, cohort_text, show_references=show_references, early_k=early_k)
        except (ImportError, ValueError) as exc:
            st.error(f"The report could not be built: {plain(str(exc))}")
            return
        held = (wanted, files)
        st.session_state[_HELD] = held
    if held is None:
        return
    files = held[1]
    stamp = files.made_at.strftime("%Y-%m-%d_%H%M")
    left, middle, right = st.columns(3)
    # Each file goes to Streamlit's media store only when its button is clicked, and not past the
    # session (app_downloads); until then it is held in this session only.
    made_on_click.download_button(left, "Report (HTML)", lambda: files.html, f"outcomes_report_{stamp}.html",
                                  "text/html", on_click="ignore", type="primary", icon=":material/description:",
                                  help="Opens in any browser, offline; print it to PDF from there.")
    made_on_click.download_button(middle, "Charts (SVG and PNG, ZIP)", lambda: files.charts_zip,
                                  f"outcomes_charts_{stamp}.zip", "application/zip", on_click="ignore",
                                  icon=":material/bar_chart:")
    made_on_click.download_button(right, "Tables (CSV, ZIP)", lambda: files.tables_zip, f"outcomes_tables_{stamp}.zip",
                                  "application/zip", on_click="ignore", icon=":material/table:",
                                  help="Each table as the report shows it, rates unrounded.")
    st.caption(f"Prepared {files.made_at:%Y-%m-%d %H:%M} in {files.seconds:.1f} s, for the settings and patients "
               "on screen; change either and prepare it again.")
