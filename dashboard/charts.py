"""Altair charts, one function per panel: a metric frame in, a chart out. No data access here.

Every frame has a `grp` column; with one group the colour legend is dropped, with several each
group gets its own colour and point shape (never colour alone).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.references import RESPONSE, Reference

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-left", "wedge"]
STATUS_COLOURS = {"durable": "#009E73", "lost": "#D55E00", "booster_first": "#E69F00",
                  "no_follow_up": "#999999", "pending": "#56B4E9"}
STATUS_LABELS = {"durable": "Still responding", "lost": "Response lost", "booster_first": "Booster before follow-up",
                 "no_follow_up": "No follow-up", "pending": "Follow-up not due yet"}
DROPOUT_COLOURS = {"responder": "#009E73", "non-responder": "#D55E00", "unknown": "#999999"}


def _group_encodings(frame: pd.DataFrame):
    groups = list(dict.fromkeys(frame["grp"]))
    if len(groups) <= 1:
        return {}, {}
    colour = alt.Color("grp:N", title="Group", scale=alt.Scale(domain=groups, range=PALETTE[: len(groups)]))
    shape = alt.Shape("grp:N", title="Group", scale=alt.Scale(domain=groups, range=SHAPES[: len(groups)]))
    return colour, shape


def _with(chart, **encodings):
    return chart.encode(**{k: v for k, v in encodings.items() if v is not None and v != {}})


def response_by_infusion(response: pd.DataFrame, references: list[Reference] | None = None) -> alt.Chart:
    """Response rate after n infusions with its 95% interval, the intention-to-treat cumulative
    response and remission; optionally the published reference points, marked as such."""
    data = response.dropna(subset=["n"]).copy()
    colour, shape = _group_encodings(data)
    x = alt.X("n:O", title="Infusions received", axis=alt.Axis(labelAngle=0))
    percent_axis = alt.Axis(format="%", title="Share of patients")
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusions"),
               alt.Tooltip("rate:Q", title="Responded (of assessed)", format=".0%"),
               alt.Tooltip("responders:Q", title="Responders"), alt.Tooltip("assessed:Q", title="Assessed"),
               alt.Tooltip("cumulative_rate:Q", title="Responded so far (intention to treat)", format=".0%"),
               alt.Tooltip("evaluable:Q", title="Evaluable"),
               alt.Tooltip("remission_rate:Q", title="Remission (of assessed)", format=".0%")]
    base = alt.Chart(data)
    bars = _with(base.mark_rule(strokeWidth=2).encode(
        x=x, y=alt.Y("rate_low:Q", axis=percent_axis, scale=alt.Scale(domain=[0, 1])), y2="rate_high:Q"),
        color=colour or alt.value(PALETTE[0]))
    points = _with(base.mark_point(filled=True, size=90).encode(x=x, y="rate:Q", tooltip=tooltip),
                   color=colour or alt.value(PALETTE[0]), shape=shape)
    itt = _with(base.mark_line(strokeDash=[6, 3], point=True).encode(x=x, y="cumulative_rate:Q", tooltip=tooltip),
                color=colour or alt.value("#444444"), detail="grp:N")
    remission = _with(base.mark_line(strokeDash=[2, 2], opacity=0.7).encode(x=x, y="remission_rate:Q", tooltip=tooltip),
                      color=colour or alt.value(PALETTE[2]), detail="grp:N")
    layers = [bars, points, itt, remission]
    if references:
        refs = pd.DataFrame([{"n": r.n, "rate": r.rate, "label": f"{r.label} (reference: {r.citation})",
                              "population": r.population} for r in references])
        ref_points = alt.Chart(refs).mark_point(shape="diamond", size=110, color="#777777", filled=False,
                                                strokeWidth=2).encode(
            x=alt.X("n:O"), y="rate:Q",
            tooltip=[alt.Tooltip("label:N", title="Published reference, another population"),
                     alt.Tooltip("population:N", title="Population")])
        layers.append(ref_points)
    return alt.layer(*layers).properties(
        height=340, title=alt.Title("Response after each infusion",
                                    subtitle="dot and bar: responded among those assessed (95% interval); "
                                             "dashed: responded so far, intention to treat; dotted: remission"))


def late_response(late: pd.DataFrame) -> alt.Chart:
    data = late.copy()
    colour, _ = _group_encodings(data)
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("n:O", title="Not responding after this many infusions", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("late_response_rate:Q", title="Responded later in the series", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        xOffset="grp:N",
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusions"),
                 alt.Tooltip("late_response_rate:Q", title="Responded later", format=".0%"),
                 alt.Tooltip("late_responders:Q", title="Later responders"),
                 alt.Tooltip("non_responders:Q", title="Not responding then"),
                 alt.Tooltip("no_later_assessment:Q", title="No later score (left out)")])
    chart = _with(chart, color=colour or alt.value(PALETTE[0]))
    return chart.properties(height=300, title=alt.Title(
        "Keep going? Later response among patients not yet responding",
        subtitle="of patients not responding after n infusions (and scored again later), the share who responded later"))


def dropout_points(detail: pd.DataFrame, n_values: list[int]) -> alt.Chart:
    """Patients stopping after each infusion, by their response status when they stopped."""
    data = detail.groupby(["grp", "n", "response_at_last"], as_index=False)["patients"].sum()
    order = ["responder", "non-responder", "unknown"]
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("n:O", title="Stopped after infusion", scale=alt.Scale(domain=n_values), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("patients:Q", title="Patients who stopped"),
        color=alt.Color("response_at_last:N", title="When they stopped",
                        scale=alt.Scale(domain=order, range=[DROPOUT_COLOURS[k] for k in order])),
        order=alt.Order("response_at_last:N"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="After infusion"),
                 alt.Tooltip("response_at_last:N", title="Status"), alt.Tooltip("patients:Q", title="Patients")])
    if data["grp"].nunique() > 1:
        chart = chart.encode(xOffset="grp:N")
    return chart.properties(height=300, title="Who stops, and when")


def retention(dropout: pd.DataFrame) -> alt.Chart:
    data = dropout.copy()
    colour, shape = _group_encodings(data)
    line = alt.Chart(data).mark_line(interpolate="step-after", strokeWidth=3, point=True).encode(
        x=alt.X("n:O", title="Infusion", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("retained:Q", title="Still in the series (Kaplan-Meier)", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusion"),
                 alt.Tooltip("retained:Q", title="Reach this infusion", format=".0%"),
                 alt.Tooltip("at_risk:Q", title="At risk"), alt.Tooltip("dropped_after:Q", title="Stopped after it")])
    line = _with(line, color=colour or alt.value(PALETTE[0]), shape=shape, detail="grp:N")
    return line.properties(height=300, title="Share of patients whose series reaches each infusion")


def durability(durability_frame: pd.DataFrame) -> alt.Chart:
    statuses = list(STATUS_LABELS)
    long = durability_frame.melt(id_vars=["grp"], value_vars=statuses, var_name="status", value_name="patients")
    long["label"] = long["status"].map(STATUS_LABELS)
    long["status_order"] = long["status"].map(statuses.index)
    return alt.Chart(long).mark_bar(size=36).encode(
        y=alt.Y("grp:N", title=None),
        x=alt.X("patients:Q", title="Responders whose series has ended", axis=alt.Axis(tickCount=6)),
        color=alt.Color("label:N", title="One month later", legend=alt.Legend(orient="top", direction="horizontal", title=None),
                        scale=alt.Scale(domain=[STATUS_LABELS[s] for s in statuses],
                                        range=[STATUS_COLOURS[s] for s in statuses])),
        order=alt.Order("status_order:Q"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("label:N", title="Status"),
                 alt.Tooltip("patients:Q", title="Patients")],
    ).properties(height=70 + 50 * durability_frame["grp"].nunique(), title="Durability of response at one month")


def trajectory(frame: pd.DataFrame, lower_is_better: bool) -> alt.Chart:
    """Mean score at baseline, after each infusion and at one month, with its 95% interval."""
    data = frame.copy()
    data["point"] = data.apply(
        lambda r: "Baseline" if r["kind"] == "baseline" else ("1 month" if r["kind"] == "follow_up" else str(int(r["n"]))),
        axis=1)
    after = sorted(data.loc[data.kind == "after", "n"].dropna().astype(int).unique())
    order = ["Baseline"] + [str(n) for n in after] + ["1 month"]
    colour, shape = _group_encodings(data)
    x = alt.X("point:O", title="Baseline, after each infusion, one month", sort=order, axis=alt.Axis(labelAngle=0))
    band = _with(alt.Chart(data).mark_area(opacity=0.2).encode(x=x, y="mean_low:Q", y2="mean_high:Q"),
                 color=colour or alt.value(PALETTE[0]), detail="grp:N")
    line = _with(alt.Chart(data).mark_line(point=True, strokeWidth=3).encode(
        x=x, y=alt.Y("mean:Q", title=f"Mean score ({'lower' if lower_is_better else 'higher'} is better)"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("point:O", title="When"),
                 alt.Tooltip("mean:Q", title="Mean", format=".1f"),
                 alt.Tooltip("mean_low:Q", title="95% interval from", format=".1f"),
                 alt.Tooltip("mean_high:Q", title="to", format=".1f"), alt.Tooltip("patients:Q", title="Patients")]),
        color=colour or alt.value(PALETTE[0]), shape=shape, detail="grp:N")
    return alt.layer(band, line).properties(height=240)


__all__ = ["RESPONSE", "durability", "dropout_points", "late_response", "response_by_infusion", "retention",
           "trajectory"]
