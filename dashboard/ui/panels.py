"""The dashboard's panels: tiles, charts and the tables beside them. Drawing only: every number
comes from MetricTables (dashboard.engine.metrics), and small counts are suppressed before display."""

from __future__ import annotations

import re
from collections import OrderedDict

import pandas as pd
import streamlit as st

from dashboard.core.measures import Measure
from dashboard.core.settings import CONTROL_PERIODS
from dashboard.engine.metrics import MetricTables
from dashboard.engine.suppression import hidden_by_value
from dashboard.present import charts, headlines, labels
from dashboard.present.formatting import count, csv_bytes, percent, plain, readable
from dashboard.present.references import COMPLETION, DURABILITY_FOUR_WEEKS, NOT_YOUR_DATA, RESPONSE, RESPONSE_AFTER_INDUCTION
from dashboard.ui import chart_specs, downloads


def timing_note(timing: str) -> str:
    """labels.timing_note with 'before' or 'after' in bold."""
    return re.sub(r"(before|after) each", r"**\1** each", labels.timing_note(timing), count=1)


def draw(where, build, *args, title: str | None = None) -> None:
    """Draw the chart build(*args) (a dashboard.present.charts function) across its column, from the spec
    kept for these numbers when there is one (dashboard.ui.chart_specs): a rerun redraws the charts
    it has drawn before without building them again."""
    room = bool(st.session_state.get("present"))  # presentation mode: large type and thick marks
    # This session's store of specs; None while it shows the sample as it is, whose specs every session shares.
    kept = st.session_state.setdefault("chart_specs", OrderedDict())
    # In the room, without Streamlit's chart theme, whose smaller type would override the room's.
    where.vega_lite_chart(chart_specs.spec(build, args, room=room, title=title, kept=kept), width="stretch",
                          theme=None if room else "streamlit")


def in_room() -> bool:
    """Presentation mode: a shared screen."""
    return bool(st.session_state.get("present"))


def panel_title(text: str) -> None:
    """A panel's title at a desk; on a shared screen the open tab names the panel, and its height
    goes to the chart (the first chart of every tab above the fold at 1920x1080)."""
    if not in_room():
        st.subheader(text)


def text_and_chart():
    """Two places, (for the explanation, for the chart): the explanation above the chart at a desk,
    below it on a shared screen, where the headline sentence leads straight into the chart."""
    first, second = st.container(), st.container()
    return (second, first) if in_room() else (first, second)


def headline(text: str) -> None:
    """The panel's one plain sentence (dashboard.present.headlines): large on a shared screen."""
    st.markdown(f"## {plain(text)}" if st.session_state.get("present") else f"**{plain(text)}**")


def _row(frame: pd.DataFrame, n: int) -> pd.Series | None:
    rows = frame[frame["n"] == n]
    return rows.iloc[0] if len(rows) else None


def tiles(m: MetricTables) -> None:
    """The five headline numbers for the whole selected cohort (m has one group), each with its denominator."""
    for col, (label, value, note, explained) in zip(st.columns(5), headlines.tiles(m.shown, m.settings.min_cell)):
        col.metric(label, value, help=explained)
        if note:
            col.caption(note)
    s = m.settings
    for note in headlines.thin_denominators(m.shown["response"], s.score_timing, s.end_of_series_days, s.min_cell):
        st.warning(plain(note), icon=":material/info:")


def _table(frame: pd.DataFrame, columns: dict[str, str], rates: tuple[str, ...] = (),
           intervals: dict[str, tuple[str, str]] | None = None, counts: tuple[str, ...] = ()) -> None:
    """A small table of a metric frame: rates as whole percentages, intervals as 'low–high',
    and (when suppressed) counts as text so that '<11' reads as written."""
    shown = readable(frame, rates, intervals, counts)
    st.dataframe(shown[list(columns)].rename(columns=columns), hide_index=True)


def _group_column(m: MetricTables) -> dict[str, str]:
    return {"grp": m.summary.attrs.get("group_title", "Group")} if len(m.groups) > 1 else {}


def response_panel(m: MetricTables, show_references: bool) -> None:
    panel_title("Response by infusion count")
    headline(headlines.response(m.shown["response"], m.settings.planned, m.settings.min_cell))
    text, chart = text_and_chart()
    text.caption(timing_note(m.settings.score_timing) + " Response: a fall of at least "
               f"{percent(m.settings.response_reduction)} from baseline.")
    shown = m.shown["response"]
    draw(chart, charts.response_by_infusion, shown, RESPONSE if show_references else None)
    _table(shown, _group_column(m) | {
        "n": "Infusions", "assessed": "Assessed", "responders": "Responders", "rate": "Response",
        "interval": "95% interval", "remitters": "Remitters", "remission_rate": "Remission",
        "evaluable": "All who started (by then)", "cumulative_responders": "Had responded by then",
        "cumulative_rate": "Of all who started"},
        rates=("rate", "remission_rate", "cumulative_rate"), intervals={"interval": ("rate_low", "rate_high")},
        counts=("assessed", "responders", "remitters", "evaluable", "cumulative_responders"))
    st.caption("Response counts the patients with a score after that infusion. \"Of all who started\" counts "
               "every patient with a usable baseline: one who stopped counts as not responding, unless they had "
               "already responded.")
    if show_references:
        references_table([*RESPONSE, RESPONSE_AFTER_INDUCTION])


def references_table(references) -> None:
    """The published figures in view, with their sources: context, not targets, and not your data."""
    st.markdown(f"**Published figures** ({NOT_YOUR_DATA}; other protocols, scales and definitions)")
    st.dataframe(pd.DataFrame([{"Source": r.citation, "Figure": r.what, "Published value": r.value,
                                "Population, scale, definition": r.population} for r in references]),
                 hide_index=True)


def late_response_panel(m: MetricTables) -> None:
    st.subheader("Responding later, by infusion count")  # below the tab's "Keep going?" (decisions.keep_going)
    headline(headlines.late_response(m.shown["late_response"], m.settings.min_cell))
    shown = m.shown["late_response"]
    st.caption("For each infusion count: the patients not responding then, and how many of them responded after a "
               "later infusion of their series. Patients with no later score are left out of the share and counted "
               "in the table.")
    draw(st, charts.late_response, shown)
    _table(shown, _group_column(m) | {
        "n": "Not responding after", "non_responders": "Not responding", "late_responders": "Responded later",
        "no_later_assessment": "No later score", "scored_again": "Scored again later",
        "late_response_rate": "Responded later (share)"},
        rates=("late_response_rate",),
        counts=("non_responders", "late_responders", "no_later_assessment", "scored_again"))


def dropout_panel(m: MetricTables, show_references: bool = False, dropouts=None) -> None:
    """dropouts: a callable returning the patient-level list of who stopped early, or None (presentation mode)."""
    panel_title("Dropout points")
    k = m.settings.min_cell
    headline(headlines.dropout(m.shown["summary"], m.shown["dropout"], k))
    dropout = m.shown["dropout"]
    stopped = m.shown["stopped_by_status"]
    stopped.attrs = dict(m.dropout_detail.attrs)
    left, right = st.columns(2)
    draw(left, charts.dropout_points, stopped, sorted(set(m.dropout["n"])), dropout)
    draw(right, charts.retention, dropout)

    lines = []
    for shown in m.shown["summary"].itertuples():
        prefix = f"**{plain(shown.grp)}**: " if len(m.groups) > 1 else ""
        lines.append(f"{prefix}{count(shown.completed, k)} completed the series, {count(shown.dropped, k)} stopped "
                     f"early (completion {percent(shown.completion_rate)}), {count(shown.in_progress, k)} still in "
                     "their series")
    st.markdown("  \n".join(lines))
    if len(m.groups) == 1 and (both := headlines.completion_and_retention(m.shown["summary"], dropout, k)):
        st.caption(plain(both))
    if show_references:
        st.caption(f"Published figure ({NOT_YOUR_DATA}): {COMPLETION[1]} ({COMPLETION[0]}, {COMPLETION[2]}).")

    left, right = st.columns([1, 2])
    draw(left, charts.in_progress, dropout, m.shown["summary"][["grp", "in_progress"]])
    with right:
        reasons = m.stop_reasons()
        st.markdown("**Reasons given for stopping**")
        if (reasons["reason"] != "(not recorded)").any():
            order = reasons.sort_values(["grp", "patients"], ascending=[True, False]).index
            _table(m.shown["stop_reasons"].loc[order],
                   _group_column(m) | {"reason": "Reason", "patients": "Patients"}, counts=("patients",))
        else:
            st.caption("The data has no discontinuation reasons.")
    at_risk = {} if k else {"at_risk": "At risk"}  # withheld under suppression (see suppression.WITHHELD)
    _table(dropout, _group_column(m) | {
        "n": "Infusion", **at_risk, "dropped_after": "Stopped after it", "completed_at": "Completed at it",
        "in_progress_at": "Still in series at it", "retained": "Reach this infusion (estimated)"},
        rates=("retained",), counts=("at_risk", "dropped_after", "completed_at", "in_progress_at"))
    if dropouts is not None:
        patients_to_call(dropouts)


def patients_to_call(dropouts) -> None:
    """Patient-level, behind an explicit choice: who stopped early, newest first, with a download."""
    if not st.toggle("Show the patients who stopped early (patient identifiers)", key="show_dropouts",
                     help="A call-back list. Patient-level: never shown in presentation mode or in reports."):
        return
    people = dropouts()
    st.caption(f"{len(people):,} patients stopped before completing their series, most recent first.")
    columns = {"patient_id": "Patient", "grp": "Group", "series_start": "Series started",
               "last_infusion": "Last infusion", "infusions": "Infusions", "response_at_last": "When they stopped",
               "reason": "Reason given", "days_since_last_infusion": "Days since"}
    shown = people.assign(response_at_last=people["response_at_last"].map(charts.STOPPED_AS))[list(columns)]
    st.dataframe(shown.rename(columns=columns), hide_index=True)
    # Made when clicked, and not kept past the session (app_downloads): it holds patient ids.
    downloads.download_button(st, "Download this list (CSV)", lambda: csv_bytes(shown.rename(columns=columns)),
                                  "patients_who_stopped_early.csv", "text/csv")


def durability_panel(m: MetricTables, primary: Measure, show_references: bool) -> None:
    panel_title("Durability at one month")
    k = m.settings.min_cell
    headline(headlines.durability(m.shown["durability"], k))
    shown = m.shown["durability"]
    s = m.settings
    text, chart = text_and_chart()
    text.caption(f"Responders whose series has ended, re-assessed nearest {s.follow_up_days} days after their last "
               f"infusion (within {s.follow_up_window[0]}–{s.follow_up_window[1]} days).")
    draw(chart, charts.durability, shown)
    for row in shown.itertuples():
        prefix = f"**{plain(row.grp)}**: " if len(m.groups) > 1 else ""
        st.markdown(prefix + plain(headlines.durability_detail(row)))
    reference = DURABILITY_FOUR_WEEKS if show_references else None
    left, right = st.columns(2)
    draw(left, charts.durability_rates, shown, reference)
    same = m.shown["milestones"]
    same = same[same["measure"] == primary.name] if len(same) else same
    if len(same):
        draw(right, charts.milestones, same, (primary.low, primary.high), primary.lower_is_better,
             f"Mean {primary.label}: baseline, end of series, one month")
        right.caption(plain(labels.milestones_note(charts.milestone_patients(same))))
    if reference is not None:
        st.caption(f"Dashed grey line, {NOT_YOUR_DATA}: {reference.what}, {reference.value} ({reference.citation}; "
                   f"{reference.population}).")
    _table(shown, _group_column(m) | {
        "eligible": "Responders at the end of their series (any length)", "durable": "Still responding",
        "lost": "Response lost", "booster_first": "Booster before follow-up", "no_follow_up": "No follow-up",
        "pending": "Not due yet"},
        counts=("eligible", "durable", "lost", "booster_first", "no_follow_up", "pending"))
    if len(same):
        points = charts.milestone_rows(same)
        _table(points.assign(mean=[f"{v:.1f}" if not pd.isna(v) else "–" for v in pd.to_numeric(points["mean"])]),
               _group_column(m) | {"point": f"Mean {primary.label}", "mean": "Mean", "patients": "Patients"},
               counts=("patients",))


def trajectories_panel(m: MetricTables, measures: dict[str, Measure]) -> None:
    panel_title("Symptom trajectories")
    st.caption("Mean score at baseline, after each infusion and at the one-month follow-up, with its 95% interval "
               "(shaded), over the patients who have that score.")
    traj = m.shown["trajectories"]
    primary = measures[m.settings.measure]
    headline(headlines.trajectory(traj[traj["measure"] == primary.name], primary.label))
    present = [name for name in measures if name in set(traj["measure"])]
    columns = st.columns(2)
    for i, name in enumerate(present):
        measure = measures[name]
        with columns[i % 2]:
            st.markdown(f"**{plain(measure.label)}**" + (f" ({plain(measure.domain)})" if measure.domain else "")
                        + f" · range {measure.low:g}–{measure.high:g}")
            rows = traj[traj["measure"] == name]
            draw(st, charts.trajectory, rows, measure.lower_is_better, (measure.low, measure.high))
            with st.expander(f"{plain(measure.label)}: the numbers"):
                _table(_means_table(rows), _group_column(m) | {
                    "point": "When", "mean": "Mean", "interval": "95% interval", "patients": "Patients"},
                    counts=("patients",))


def _means_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Trajectory rows for reading: when, the mean to one decimal and its interval."""
    def one(v):
        return "–" if v is None or pd.isna(v) else f"{float(v):.1f}"
    return rows.assign(
        point=["Baseline" if k == "baseline" else "One month" if k == "follow_up" else f"After {int(n)} infusions"
               for k, n in zip(rows["kind"], rows["n"])],
        mean=[one(v) for v in rows["mean"]],
        interval=[f"{one(lo)}–{one(hi)}" if not pd.isna(lo) else "–" for lo, hi in zip(rows["mean_low"], rows["mean_high"])])


# The p-charts' period, kept apart from its radio button so that it holds while the button is not
# drawn (another tab open, presentation mode); sidebar.settings_for reads it.
PERIOD_KEY = "control_period"
ROOM_PERIOD_KEY = "room_control_period"  # the room's own choice, apart from the desk's


def _keep_period() -> None:
    st.session_state[PERIOD_KEY] = st.session_state[f"{PERIOD_KEY}_choice"]


def _keep_room_period() -> None:
    st.session_state[ROOM_PERIOD_KEY] = st.session_state[f"{ROOM_PERIOD_KEY}_choice"]


def over_time_panel(m: MetricTables, compared: bool = False) -> None:
    """p-charts by month (or quarter) of series start, for the whole selected cohort (m has one group)."""
    panel_title("Are we getting better?")
    k = m.settings.min_cell
    period = m.settings.control_period
    room = in_room()
    # In the room the period is picked so that fewer points are hidden (room.period_for_room);
    # the switch stays, and a choice made on it holds for the meeting.
    st.radio("A point per", CONTROL_PERIODS, index=CONTROL_PERIODS.index(period), horizontal=True,
             key=f"{ROOM_PERIOD_KEY if room else PERIOD_KEY}_choice",
             on_change=_keep_room_period if room else _keep_period, format_func=lambda p: f"{p} of series start",
             help="Quarters hold three times as many patients: fewer points too small to judge or hidden.")
    text, charts_area = text_and_chart()
    monthly = m.shown["monthly"]
    text.caption(labels.control_intro(period, compared, labels.has_pooled_point(monthly)))
    denominators = {"response": "assessed then", "completion": "series ended", "durability": "followed up"}
    for which, title in labels.control_titles(m.settings.planned).items():
        points = monthly[monthly["chart"] == which]
        if k and hidden_by_value(m.monthly[m.monthly["chart"] == which], points):
            # Only the points that could be shown would be a selection by their value: none is drawn.
            charts_area.markdown(f"**{plain(title)}**")
            charts_area.info(labels.control_withheld(points, period, k), icon=":material/visibility_off:")
        else:
            charts_area.markdown(f"**{plain(headlines.control_chart(points, title, period))}**")
            draw(charts_area, charts.control_chart, points, title, k, period)
        with charts_area.expander(f"{title}: the numbers by {period}"):
            _table(labels.control_rows(points, period),
                   labels.control_columns(period, patients=f"Patients ({denominators[which]})"),
                   rates=("rate", "lcl", "ucl"), counts=("patients", "events"))
