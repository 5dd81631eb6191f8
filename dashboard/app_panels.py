"""The dashboard's panels: tiles, charts and the tables beside them. Drawing only: every number
comes from MetricTables (dashboard.metrics) and small counts are suppressed before display."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.formatting import count, percent, plain
from dashboard.measures import Measure
from dashboard.metrics import MetricTables
from dashboard.references import DURABILITY_FOUR_WEEKS, RESPONSE
from dashboard.suppression import suppress

TILE_LABELS = ("Patients started", "Completed series", "Response after 2 infusions", "Response after 6 infusions",
               "Durable at one month")


def timing_note(timing: str) -> str:
    if timing == "pre":
        return ("Scores taken **before** each infusion: the score at infusion n+1 is the patient's score after "
                "n infusions.")
    return "Scores taken **after** each infusion: the score at infusion n is the patient's score after n infusions."


def _row(frame: pd.DataFrame, n: int) -> pd.Series | None:
    rows = frame[frame["n"] == n]
    return rows.iloc[0] if len(rows) else None


def tiles(m: MetricTables) -> None:
    """The five headline numbers, for the whole selected cohort (m has one group)."""
    k = m.settings.min_cell
    summary = suppress(m.summary, "summary", k).iloc[0]
    raw_summary = m.summary.iloc[0]
    response = suppress(m.response, "response", k)
    durability = suppress(m.durability, "durability", k).iloc[0]
    cols = st.columns(5)
    cols[0].metric(TILE_LABELS[0], count(summary.patients_started, k),
                   help="Patients with at least one infusion of their initial series in the data.")
    cols[0].caption(f"{count(summary.in_progress, k)} still in their series")
    ended = raw_summary.completed + raw_summary.dropped
    completion = None if k and (raw_summary.completed < k or raw_summary.dropped < k) else (
        raw_summary.completed / ended if ended else None)
    cols[1].metric(TILE_LABELS[1], percent(completion),
                   help="Completed the planned series, of the patients whose series has ended (completed or stopped).")
    cols[1].caption(f"{count(summary.completed, k)} of {count(ended, k)} whose series ended")
    for col, n, label in ((cols[2], 2, TILE_LABELS[2]), (cols[3], 6, TILE_LABELS[3])):
        row = _row(response, n)
        if row is None:
            col.metric(label, "–", help=f"No patient's series plans {n} infusions.")
            continue
        col.metric(label, percent(row.rate),
                   help=f"Responded after {n} infusions, among the patients assessed then. "
                        "Intention to treat counts every patient with a usable baseline, stopping as non-response.")
        col.caption(f"of {count(row.assessed, k)} assessed · intention to treat {percent(row.cumulative_rate)} "
                    f"of {count(row.evaluable, k)}")
    cols[4].metric(TILE_LABELS[4], percent(durability.durability_rate),
                   help="Of responders at the end of their series with a one-month follow-up, still responding.")
    cols[4].caption(f"of {count(m.durability.iloc[0].durable + m.durability.iloc[0].lost, k)} followed up · "
                    f"{percent(durability.conservative_rate)} counting boosters first as lost")


def _table(frame: pd.DataFrame, columns: dict[str, str], rates: tuple[str, ...] = ()) -> None:
    shown = frame[list(columns)].copy()
    for col in rates:
        shown[col] = shown[col].map(percent)
    st.dataframe(shown.rename(columns=columns), hide_index=True)


def _multi(m: MetricTables) -> dict[str, str]:
    return {"grp": "Group"} if len(m.groups) > 1 else {}


def response_panel(m: MetricTables, show_references: bool) -> None:
    st.subheader("Response by infusion count")
    st.caption(timing_note(m.settings.score_timing))
    k = m.settings.min_cell
    shown = suppress(m.response, "response", k)
    st.altair_chart(charts.response_by_infusion(shown, RESPONSE if show_references else None), width="stretch")
    if show_references:
        st.caption("Grey diamonds are published figures from other populations, protocols and scales "
                   "(references, not your data): " + "; ".join(sorted({r.citation for r in RESPONSE})) + ".")
    _table(shown, _multi(m) | {"n": "Infusions", "assessed": "Assessed", "responders": "Responders",
                               "rate": "Response", "rate_low": "95% from", "rate_high": "95% to",
                               "remitters": "Remitters", "remission_rate": "Remission", "evaluable": "Evaluable (ITT)",
                               "cumulative_responders": "Responded so far", "cumulative_rate": "Response (ITT)"},
           rates=("rate", "rate_low", "rate_high", "remission_rate", "cumulative_rate"))


def late_response_panel(m: MetricTables) -> None:
    st.subheader("Keep going?")
    st.caption("Of the patients not responding after n infusions, how many responded later in their series. "
               "Patients with no later score are left out of the share (shown in the table).")
    shown = suppress(m.late_response, "late_response", m.settings.min_cell)
    st.altair_chart(charts.late_response(shown), width="stretch")
    _table(shown, _multi(m) | {"n": "Not responding after", "non_responders": "Not responding",
                               "late_responders": "Responded later", "no_later_assessment": "No later score",
                               "late_response_rate": "Responded later (share)"}, rates=("late_response_rate",))


def dropout_panel(m: MetricTables) -> None:
    st.subheader("Dropout points")
    k = m.settings.min_cell
    dropout = suppress(m.dropout, "dropout", k)
    left, right = st.columns(2)
    with left:
        detail = m.dropout_detail
        if k:
            detail = detail[detail["patients"] >= k]  # small cells are not drawn
        st.altair_chart(charts.dropout_points(detail, m.dropout["n"].tolist()), width="stretch")
    with right:
        st.altair_chart(charts.retention(dropout.dropna(subset=["retained"])), width="stretch")
    in_progress = m.summary["in_progress"].sum()
    st.caption(f"{count(in_progress, k)} patients are still in their series (not counted as stopping). "
               f"Completion: {percent(_completion(m))} of patients whose series has ended.")
    _table(dropout, _multi(m) | {"n": "Infusion", "at_risk": "At risk", "dropped_after": "Stopped after it",
                                 "completed_at": "Completed at it", "in_progress_at": "In progress at it",
                                 "retained": "Reach this infusion"}, rates=("retained",))
    reasons = m.dropout_detail.groupby(["grp", "reason"], as_index=False)["patients"].sum()
    if (reasons["reason"] != "(not recorded)").any():
        reasons = suppress(reasons.sort_values("patients", ascending=False), "dropout_detail", k)
        st.markdown("**Reasons given for stopping**")
        _table(reasons, _multi(m) | {"reason": "Reason", "patients": "Patients"})


def _completion(m: MetricTables):
    s = m.summary
    k = m.settings.min_cell
    completed, dropped = s["completed"].sum(), s["dropped"].sum()
    if k and (completed < k or dropped < k):
        return None
    return completed / (completed + dropped) if completed + dropped else None


def durability_panel(m: MetricTables, primary: Measure, show_references: bool) -> None:
    st.subheader("Durability at one month")
    k = m.settings.min_cell
    shown = suppress(m.durability, "durability", k)
    st.altair_chart(charts.durability(m.durability if not k else m.durability.assign(
        **{c: m.durability[c].where(m.durability[c] >= k, 0) for c in charts.STATUS_LABELS})), width="stretch")
    for _, row in shown.iterrows():
        prefix = f"**{plain(row.grp)}**: " if len(m.groups) > 1 else ""
        st.markdown(f"{prefix}still responding at one month: **{percent(row.durability_rate)}** "
                    f"(95% interval {percent(row.rate_low)} to {percent(row.rate_high)}); "
                    f"**{percent(row.conservative_rate)}** if a booster before the follow-up counts as lost.")
    if show_references:
        ref = DURABILITY_FOUR_WEEKS
        st.caption(f"Reference, another population: {ref.label} ({ref.citation}; {ref.population}).")
    _table(shown, _multi(m) | {"eligible": "Responders whose series ended", "durable": "Still responding",
                               "lost": "Response lost", "booster_first": "Booster first",
                               "no_follow_up": "No follow-up", "pending": "Not due yet"})
    traj = m.trajectories
    means = traj[(traj.measure == primary.name)].copy()
    if len(means):
        end = means[means.kind == "after"].sort_values("n").groupby("grp").tail(1).assign(point="End of series")
        points = pd.concat([means[means.kind == "baseline"].assign(point="Baseline"), end,
                            means[means.kind == "follow_up"].assign(point="One month")])
        points = points if not k else points[points["patients"] >= k]
        st.markdown(f"**Mean {primary.label}** at baseline, end of series and one month")
        _table(points.assign(mean=points["mean"].map("{:.1f}".format)),
               _multi(m) | {"point": "When", "mean": "Mean", "patients": "Patients"})


def trajectories_panel(m: MetricTables, measures: dict[str, Measure]) -> None:
    st.subheader("Symptom trajectories")
    k = m.settings.min_cell
    traj = m.trajectories if not k else m.trajectories[m.trajectories["patients"] >= k]
    present = [name for name in measures if name in set(traj["measure"])]
    columns = st.columns(2)
    for i, name in enumerate(present):
        measure = measures[name]
        with columns[i % 2]:
            st.markdown(f"**{measure.label}**" + (f" ({measure.domain})" if measure.domain else ""))
            st.altair_chart(charts.trajectory(traj[traj.measure == name], measure.lower_is_better), width="stretch")
