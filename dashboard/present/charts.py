"""Altair charts, one function per panel: a metric frame in, a chart out. No data access here.

Every frame has a `grp` column. With one group, colour says which line is which; with several
(compare by), colour and point shape say which group (never colour alone) and the dash says
which line. Frames may arrive suppressed (dashboard.engine.suppression): a count reads '<11' and a
hidden rate is empty, so that point is simply not drawn.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from dashboard.present.formatting import percent  # one rounding rule for every number on screen
from dashboard.present.labels import period_labels
from dashboard.present.references import NOT_YOUR_DATA, Reference

# Colour-blind-safe (Okabe-Ito, with the light ones darkened) and each at least 3:1 against white
# (WCAG AA for graphics; tests/test_charts.py checks). Groups also differ by shape or dash.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#8C6D00", "#7B3294", "#767676"]
GROUP_DASHES = [[1, 0], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [12, 4], [1, 4], [6, 2, 2, 2]]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-left", "wedge"]
REFERENCE_GREY = "#8a8a8a"

# The three lines of the response chart: column -> legend label, colour (one group), dash.
RESPONSE_LINES = {
    "rate": ("Response (of those assessed)", "#0072B2", [1, 0]),
    "cumulative_rate": ("Had responded by then, of all who started", "#333333", [7, 4]),
    "remission_rate": ("Remission (of those assessed)", "#009E73", [2, 3]),
}
STATUS_LABELS = {"durable": "Still responding", "lost": "Response lost", "booster_first": "Booster before follow-up",
                 "no_follow_up": "No follow-up", "pending": "Follow-up not due yet"}
STATUS_COLOURS = {"durable": "#0072B2", "lost": "#D55E00", "booster_first": "#8C6D00",
                  "no_follow_up": "#767676", "pending": "#CC79A7"}
STOPPED_AS = {"responder": "Responding", "non-responder": "Not responding", "unknown": "Not known",
              # with counts hidden, a small "not known" count is merged into "not responding" (suppression.coarsened)
              "non-responder-or-unknown": "Not responding or not known"}
# Compare by, in the stacked dropout bars: colour is the status, so each group gets its own opacity.
GROUP_OPACITY = [1.0, 0.55, 0.8, 0.4, 0.9, 0.65, 0.3, 0.5]
# Okabe-Ito blue and vermillion, and grey: told apart with any colour vision (the green of
# "responding" and the grey of "not known" were not, for deuteranopes); in the order of STOPPED_AS.
STOPPED_COLOURS = {"responder": "#0072B2", "non-responder": "#D55E00", "unknown": "#767676",
                   "non-responder-or-unknown": "#D55E00"}
HIDDEN_PART, HIDDEN_FILL = "Small counts, not shown separately", "#E3E3E3"  # outlined: see dropout_points
SMALL_BAR = "small counts"  # in_progress: the bar of the small counts drawn together
IN_PROGRESS_COLOUR = "#2C7FB8"
PERCENT_AXIS = alt.Axis(format="%", tickCount=5)
# Width follows the page; height is the plotting area's, so titles and legends don't squeeze it.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
# A chart parameter the room's charts set to ROOM_SCALE["fontSize"]: for text sizes written as
# expressions (those fitted to a cell's width), which the room cannot scale as numbers.
FONT_SCALE = "fontScale"


def _numeric(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy whose rate and count columns are numbers (a suppressed '<11' becomes empty)."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _groups(frame: pd.DataFrame) -> list[str]:
    return [str(g) for g in dict.fromkeys(frame["grp"])]


def _title(frame: pd.DataFrame) -> str:
    """The legend title for the groups: the compared dimension's name, set by the app in frame.attrs."""
    return frame.attrs.get("group_title", "Group")


def _group_colour(groups: list[str], title: str = "Group") -> alt.Color:
    return alt.Color("grp:N", title=title, scale=alt.Scale(domain=groups, range=PALETTE[: len(groups)]),
                     legend=alt.Legend(orient="bottom", labelLimit=0))


def _group_shape(groups: list[str], title: str = "Group") -> alt.Shape:
    return alt.Shape("grp:N", title=title, scale=alt.Scale(domain=groups, range=SHAPES[: len(groups)]),
                     legend=alt.Legend(orient="bottom", labelLimit=0))


# Bars of compared groups get a dark outline whose dash says the group, so colour is not the only cue.
_GROUP_OUTLINE = {"stroke": "#222222", "strokeWidth": 1.5}


def _group_dash(groups: list[str], title: str = "Group") -> alt.StrokeDash:
    return alt.StrokeDash("grp:N", title=title, scale=alt.Scale(domain=groups, range=GROUP_DASHES[: len(groups)]),
                          legend=alt.Legend(orient="bottom", labelLimit=0))


def _count_text(value) -> str:
    """A count as written on screen: '1,234', a suppressed '<11' as it is, '–' when missing."""
    if isinstance(value, str):
        return value
    return "–" if pd.isna(value) else f"{int(value):,}"


def _of(count, total) -> str:
    """'137 of 549'."""
    return f"{_count_text(count)} of {_count_text(total)}"


def response_by_infusion(response: pd.DataFrame, references: list[Reference] | None = None) -> alt.LayerChart:
    """Response after n infusions with its 95% Wilson interval, the intention-to-treat share who
    had responded so far, and remission; the number assessed above each infusion. With
    `references`, the published figures at their infusion count as grey diamonds beside the
    clinic's points, each labelled with its citation (see reference_points)."""
    data = response.dropna(subset=["n"]).copy()
    data["n"] = data["n"].astype(int)
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data)
    several = len(groups) > 1
    data["of_rate"] = [_of(r, a) for r, a in zip(data["responders"], data["assessed"])]
    data["of_cumulative_rate"] = [_of(r, e) for r, e in zip(data["cumulative_responders"], data["evaluable"])]
    data["of_remission_rate"] = [_of(r, a) for r, a in zip(data["remitters"], data["assessed"])]
    data = _numeric(data, ["rate", "rate_low", "rate_high", "remission_rate", "cumulative_rate"])

    # One row per group, infusion count and line, with the counts behind the share.
    long = pd.concat([pd.DataFrame({"grp": data["grp"], "n": data["n"], "line": label, "share": data[column],
                                    "patients": data[f"of_{column}"]})
                      for column, (label, _, _) in RESPONSE_LINES.items()], ignore_index=True)
    long = long.dropna(subset=["share"]).iloc[::-1]  # the response points last, on top

    # Only the lines with a point: no remission line (nor its legend entry) for a measure without a
    # remission cut-off, whose remission is undefined, not 0%.
    drawn = {column: spec for column, spec in RESPONSE_LINES.items() if data[column].notna().any()} or RESPONSE_LINES
    labels = [v[0] for v in drawn.values()]
    x = alt.X("n:O", title="Infusions received", axis=alt.Axis(labelAngle=0))
    y = alt.Y("share:Q", title="Share of patients", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    dash = alt.StrokeDash("line:N", title=None, sort=labels,
                          legend=alt.Legend(orient="bottom", symbolStrokeWidth=2, labelLimit=0),
                          scale=alt.Scale(domain=labels, range=[v[2] for v in drawn.values()]))
    line_colour = (_group_colour(groups, _title(data)) if several else
                   alt.Color("line:N", title=None, sort=labels, legend=alt.Legend(orient="bottom", labelLimit=0),
                             scale=alt.Scale(domain=labels, range=[v[1] for v in drawn.values()])))
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusions"),
               alt.Tooltip("line:N", title="Line"), alt.Tooltip("share:Q", title="Share", format=".1%"),
               alt.Tooltip("patients:N", title="Patients")]
    lines = alt.Chart(long).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, color=line_colour, strokeDash=dash, detail=alt.Detail("grp:N"))
    points = alt.Chart(long).mark_point(filled=True, size=70, opacity=1).encode(
        x=x, y=alt.Y("share:Q"), color=line_colour, tooltip=tooltip,
        **({"shape": _group_shape(groups, _title(data))} if several else {}))

    rates = data.dropna(subset=["rate_low", "rate_high"])
    interval_colour = _group_colour(groups, _title(data)) if several else alt.ColorValue(RESPONSE_LINES["rate"][1])
    interval = [
        alt.Chart(rates).mark_rule(strokeWidth=2).encode(
            x=x, y=alt.Y("rate_low:Q"), y2=alt.Y2("rate_high:Q"), color=interval_colour),
        alt.Chart(rates).mark_tick(thickness=2, size=12).encode(x=x, y=alt.Y("rate_low:Q"), color=interval_colour),
        alt.Chart(rates).mark_tick(thickness=2, size=12).encode(x=x, y=alt.Y("rate_high:Q"), color=interval_colour),
    ]
    layers = [*interval, lines, points]
    if not several:  # the denominator of each rate, above its infusion
        counts = data.assign(label=[f"{_count_text(a)} assessed" for a in data["assessed"]])
        layers.append(alt.Chart(counts).mark_text(dy=-6, fontSize=11, color="#555555").encode(
            x=x, y=alt.YDatum(1), text=alt.Text("label:N")))
    subtitle = ["bars: 95% interval of the response among those assessed"]
    shown_refs = [r for r in references or [] if r.n in set(data["n"])]
    if shown_refs:
        layers += reference_points(shown_refs, x)
        subtitle.append(f"grey diamonds: published figures ({NOT_YOUR_DATA})")
    return alt.layer(*layers).properties(
        autosize=FIT_WIDTH, height=300, title=alt.Title("Response after each infusion", subtitle=subtitle))


def reference_points(references: list[Reference], x: alt.X) -> list[alt.Chart]:
    """Published figures as a layer: hollow grey diamonds just right of the clinic's point at the
    same infusion count, each labelled with its short citation (labels spread so none overlap)."""
    refs = pd.DataFrame([{"n": r.n, "rate": r.rate, "label": r.short, "citation": r.citation, "what": r.what,
                          "value": r.value, "population": r.population, "note": NOT_YOUR_DATA}
                         for r in references]).sort_values(["n", "rate"]).reset_index(drop=True)
    refs["label_y"] = [y for _, group in refs.groupby("n", sort=True) for y in _spread(group["rate"].tolist(), 0.055)]
    tooltip = [alt.Tooltip("note:N", title="Reference"), alt.Tooltip("citation:N", title="Source"),
               alt.Tooltip("what:N", title="Figure"), alt.Tooltip("value:N", title="Published value"),
               alt.Tooltip("population:N", title="Population")]
    base = alt.Chart(refs)
    return [
        base.mark_point(shape="diamond", size=80, filled=False, strokeWidth=1.8, color=REFERENCE_GREY,
                        xOffset=16).encode(x=x, y=alt.Y("rate:Q"), tooltip=tooltip),
        base.mark_text(align="left", baseline="middle", xOffset=24, fontSize=10, color="#666666").encode(
            x=x, y=alt.Y("label_y:Q"), text=alt.Text("label:N"), tooltip=tooltip),
    ]


def _spread(values: list[float], gap: float) -> list[float]:
    """Label positions near `values` (sorted ascending), at least `gap` apart, within 0..1."""
    out: list[float] = []
    for v in values:
        out.append(max(v, out[-1] + gap) if out else v)
    overflow = out[-1] - 1 if out else 0
    if overflow > 0:  # pushed past the top: slide the crowded labels down
        out = [v - overflow for v in out]
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return out


def late_response(late: pd.DataFrame) -> alt.LayerChart:
    """'Keep going?': of the patients not responding after n infusions (and scored again later),
    the share who responded after a later infusion of their series."""
    data = late.copy()
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data)
    several = len(groups) > 1
    if "scored_again" not in data:  # the share's denominator, unless the app has worked it out (suppressed)
        data["scored_again"] = pd.to_numeric(data["non_responders"], errors="coerce") - pd.to_numeric(
            data["no_later_assessment"], errors="coerce")
    data["patients"] = [_of(a, b) for a, b in zip(data["late_responders"], data["scored_again"])]
    data = _numeric(data, ["late_response_rate"])
    x = alt.X("n:O", title="Not responding after this many infusions", axis=alt.Axis(labelAngle=0))
    y = alt.Y("late_response_rate:Q", title="Responded later in the series", axis=PERCENT_AXIS,
              scale=alt.Scale(domain=[0, 1]))
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Not responding after"),
               alt.Tooltip("late_response_rate:Q", title="Responded later", format=".1%"),
               alt.Tooltip("patients:N", title="Patients"),
               alt.Tooltip("no_later_assessment:N", title="No later score (left out)")]
    bars = alt.Chart(data).mark_bar(width={"band": 0.7} if not several else alt.Undefined,
                                    **_GROUP_OUTLINE if several else {}).encode(
        x=x, y=y, tooltip=tooltip,
        color=_group_colour(groups, _title(data)) if several else alt.ColorValue(PALETTE[0]),
        **({"xOffset": alt.XOffset("grp:N", sort=groups), "strokeDash": _group_dash(groups, _title(data))}
           if several else {}))
    layers = [bars]
    if not several:
        shown = data.dropna(subset=["late_response_rate"])
        shown = shown.assign(label=[f"{percent(r)} ({p})"
                                    for r, p in zip(shown["late_response_rate"], shown["patients"])])
        layers.append(alt.Chart(shown).mark_text(dy=-8, fontSize=12).encode(x=x, y=y, text=alt.Text("label:N")))
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=320, title=alt.Title(
        "Responded later, among patients not yet responding",
        subtitle="patients with no later score in their series are left out of the share"))


def dropout_points(detail: pd.DataFrame, n_values: list[int], totals: pd.DataFrame | None = None) -> alt.Chart:
    """Patients who stopped after each infusion, by their response status when they stopped.

    totals: the dropout table as shown (grp, n, dropped_after). Under suppression a bar's hidden
    parts are drawn together as one light segment, so that the bar is as tall as the count shown
    for it: their sum is that count less the parts shown, so it reveals nothing."""
    data = detail.copy()
    data["grp"] = data["grp"].astype(str)
    data = data.groupby(["grp", "n", "response_at_last"], as_index=False)["patients"].sum()
    data["status"] = data["response_at_last"].map(STOPPED_AS).fillna(data["response_at_last"])
    data["order"] = data["response_at_last"].map({k: i for i, k in enumerate(STOPPED_AS)})
    present = [k for k in STOPPED_AS if k in set(data["response_at_last"])] or list(STOPPED_AS)[:3]
    statuses, colours = [STOPPED_AS[k] for k in present], [STOPPED_COLOURS[k] for k in present]
    hidden = _hidden_parts(data, totals)
    # A hidden count ("<11") is not drawn: in a stack it would break the segments above it.
    data = data.assign(patients=pd.to_numeric(data["patients"], errors="coerce")).dropna(subset=["patients"])
    if len(hidden):
        data = pd.concat([data, hidden], ignore_index=True)
        statuses, colours = statuses + [HIDDEN_PART], colours + [HIDDEN_FILL]
    groups = _groups(data) if len(data) else []
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("n:O", title="Stopped after infusion", scale=alt.Scale(domain=n_values), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("patients:Q", title="Patients who stopped"),
        color=alt.Color("status:N", title="When they stopped they were",
                        scale=alt.Scale(domain=statuses, range=colours),
                        legend=alt.Legend(orient="bottom", labelLimit=0)),
        # The light segment's outline gives it contrast against the page.
        stroke=alt.condition(f"datum.status === '{HIDDEN_PART}'", alt.value(_GROUP_OUTLINE["stroke"]),
                             alt.value(None)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Stopped after infusion"),
                 alt.Tooltip("status:N", title="When they stopped"), alt.Tooltip("patients:Q", title="Patients")])
    if len(groups) > 1:
        chart = chart.mark_bar(**_GROUP_OUTLINE).encode(
            stroke=alt.value(_GROUP_OUTLINE["stroke"]),  # every bar outlined, its group's dash
            xOffset=alt.XOffset("grp:N", sort=groups), strokeDash=_group_dash(groups, _title(detail)),
            opacity=alt.Opacity("grp:N", title=_title(detail), sort=groups,
                                scale=alt.Scale(range=GROUP_OPACITY[: len(groups)]),
                                legend=alt.Legend(orient="bottom", labelLimit=0)))
    return chart.properties(autosize=FIT_WIDTH, height=300, title=alt.Title("Who stops, and when",
                                                        subtitle="patients still in their series are not counted here"))


def _hidden_parts(data: pd.DataFrame, totals: pd.DataFrame | None) -> pd.DataFrame:
    """One row per bar whose shown total exceeds the sum of its shown parts: the rest, together."""
    if totals is None or not len(totals) or not len(data):
        return data.iloc[0:0]
    shown = pd.to_numeric(data["patients"], errors="coerce")
    parts = shown.groupby([data["grp"], data["n"]]).sum()
    totals = totals.assign(grp=totals["grp"].astype(str),
                           total=pd.to_numeric(totals["dropped_after"], errors="coerce")).dropna(subset=["total"])
    rows = [{"grp": grp, "n": n, "response_at_last": "hidden", "patients": total - parts.get((grp, n), 0),
             "status": HIDDEN_PART, "order": len(STOPPED_AS)}
            for grp, n, total in zip(totals["grp"], totals["n"], totals["total"])
            if (grp, n) in parts.index and total - parts.get((grp, n), 0) > 0]
    return pd.DataFrame(rows, columns=data.columns)


def in_progress(dropout: pd.DataFrame, summary: pd.DataFrame | None = None) -> alt.Chart:
    """Patients still in their series (not dropouts), by the infusions they have had so far.

    summary: the summary as shown (grp, in_progress). Under suppression the small counts are
    drawn together as one light bar, so that the bars add up to the number still in their series
    shown beside the chart: their sum is that number less the bars shown, so it reveals nothing."""
    data = _numeric(dropout, ["in_progress_at"]).copy()
    data["grp"] = data["grp"].astype(str)
    order = [str(n) for n in sorted(set(data["n"]))]
    data["n"] = data["n"].astype(str)
    data["part"] = "shown"
    if summary is not None and len(summary):
        totals = pd.to_numeric(summary["in_progress"], errors="coerce").set_axis(summary["grp"].astype(str))
        drawn = data.groupby("grp")["in_progress_at"].sum()
        rest = [{"grp": g, "n": SMALL_BAR, "in_progress_at": t - drawn.get(g, 0), "part": "hidden"}
                for g, t in totals.dropna().items() if t - drawn.get(g, 0) > 0]
        if rest:
            data = pd.concat([data, pd.DataFrame(rest)], ignore_index=True)
            order.append(SMALL_BAR)
    groups = _groups(data)
    several = len(groups) > 1
    fill = alt.condition("datum.part === 'hidden'", alt.value(HIDDEN_FILL), alt.value(IN_PROGRESS_COLOUR))
    return alt.Chart(data).mark_bar(**_GROUP_OUTLINE if several else {}).encode(
        x=alt.X("n:O", title="Infusions so far", sort=order, scale=alt.Scale(domain=order),
                axis=alt.Axis(labelAngle=0, labelLimit=0)),
        y=alt.Y("in_progress_at:Q", title="Patients", axis=alt.Axis(tickMinStep=1)),
        stroke=alt.condition("datum.part === 'hidden'", alt.value(_GROUP_OUTLINE["stroke"]), alt.value(None)),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusions so far"),
                 alt.Tooltip("in_progress_at:Q", title="Still in their series")],
        **({"xOffset": alt.XOffset("grp:N", sort=groups), "color": _group_colour(groups, _title(data)),
            "strokeDash": _group_dash(groups, _title(data))} if several else {"color": fill}),
    ).properties(autosize=FIT_WIDTH, height=180, title=alt.Title("Still in their series",
                                                                  subtitle="not dropouts: shown apart"))


def retention(dropout: pd.DataFrame) -> alt.Chart:
    """Kaplan-Meier share of patients whose series reaches each infusion."""
    data = _numeric(dropout, ["retained"]).dropna(subset=["retained"])
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data) if len(data) else []
    several = len(groups) > 1
    chart = alt.Chart(data).mark_line(interpolate="step-after", strokeWidth=3, point=True).encode(
        x=alt.X("n:O", title="Infusion", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("retained:Q", title="Series reaching this infusion", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1])),
        detail=alt.Detail("grp:N"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("n:O", title="Infusion"),
                 alt.Tooltip("retained:Q", title="Reach this infusion", format=".1%"),
                 alt.Tooltip("at_risk:N", title="At risk"), alt.Tooltip("dropped_after:N", title="Stopped after it")],
        color=_group_colour(groups, _title(data)) if several else alt.ColorValue(PALETTE[0]))
    return chart.properties(autosize=FIT_WIDTH, height=300, title=alt.Title(
        "Reaching each infusion", subtitle="estimated share of series; those still going count as far as they got"))


def durability(durability_frame: pd.DataFrame) -> alt.Chart:
    """The five one-month statuses of responders whose series has ended, as one stacked bar per group.
    Under suppression the hidden statuses are drawn together as one light segment, up to the
    eligible count shown (their sum is that count less the statuses shown: it reveals nothing)."""
    statuses = list(STATUS_LABELS)
    data = _numeric(durability_frame, statuses + (["eligible"] if "eligible" in durability_frame else []))
    data["grp"] = data["grp"].astype(str)
    long = data.melt(id_vars=["grp"], value_vars=statuses, var_name="status", value_name="patients")
    long["label"] = long["status"].map(STATUS_LABELS)
    long["order"] = long["status"].map(statuses.index)
    labels, colours = list(STATUS_LABELS.values()), list(STATUS_COLOURS.values())
    if "eligible" in data:
        rest = (data["eligible"] - data[statuses].fillna(0).sum(axis=1)).where(data[statuses].isna().any(axis=1))
        hidden = pd.DataFrame({"grp": data["grp"], "status": "hidden", "patients": rest, "label": HIDDEN_PART,
                               "order": len(statuses)})[rest > 0]
        if len(hidden):
            long = pd.concat([long, hidden], ignore_index=True)
            labels, colours = labels + [HIDDEN_PART], colours + [HIDDEN_FILL]
    long = long.dropna(subset=["patients"])  # a hidden status alone is not drawn: it would break the stack
    return alt.Chart(long).mark_bar(size=34).encode(
        y=alt.Y("grp:N", title=None, sort=_groups(data)),
        x=alt.X("patients:Q", title="Responders whose series has ended", axis=alt.Axis(tickMinStep=1, tickCount=6)),
        color=alt.Color("label:N", title=None, legend=alt.Legend(orient="top", direction="horizontal", labelLimit=0),
                        scale=alt.Scale(domain=labels, range=colours)),
        stroke=alt.condition(f"datum.label === '{HIDDEN_PART}'", alt.value(_GROUP_OUTLINE["stroke"]), alt.value(None)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("label:N", title="One month later"),
                 alt.Tooltip("patients:Q", title="Patients")],
    ).properties(autosize=FIT_WIDTH, height=20 + 46 * data["grp"].nunique(),
                 title="Where responders stand one month after their series")


def durability_rates(durability_frame: pd.DataFrame, reference: Reference | None = None) -> alt.LayerChart:
    """The durability rate with its 95% interval, the conservative rate, and optionally the
    registry's published figure as a labelled reference line."""
    data = _numeric(durability_frame, ["durability_rate", "rate_low", "rate_high", "conservative_rate"])
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data)
    colour = _group_colour(groups, _title(data)) if len(groups) > 1 else alt.ColorValue(PALETTE[0])
    kinds = {"durability_rate": "Durable (of those followed up)", "conservative_rate": "Booster first counted as lost"}
    long = data.melt(id_vars=["grp"], value_vars=list(kinds), var_name="kind", value_name="share").dropna(
        subset=["share"])
    long["kind"] = long["kind"].map(kinds)
    y = alt.Y("grp:N", title=None, sort=groups)
    x = alt.X("share:Q", title="Share of responders", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    layers = [
        alt.Chart(data.dropna(subset=["rate_low"])).mark_rule(strokeWidth=2).encode(
            y=y, x=alt.X("rate_low:Q"), x2=alt.X2("rate_high:Q"), color=colour),
        alt.Chart(long).mark_point(size=110, strokeWidth=2, filled=True).encode(
            y=y, x=x, color=colour,
            shape=alt.Shape("kind:N", title=None, legend=None,
                            scale=alt.Scale(domain=list(kinds.values()), range=["circle", "triangle-up"])),
            tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("kind:N", title="Rate"),
                     alt.Tooltip("share:Q", title="Share", format=".1%")]),
    ]
    if reference is not None:
        ref = pd.DataFrame([{"rate": reference.rate, "label": f"{reference.short}: {reference.value.split(',')[0]}",
                             "note": NOT_YOUR_DATA, "citation": reference.citation}])
        layers += [
            alt.Chart(ref).mark_rule(color=REFERENCE_GREY, strokeDash=[4, 3], strokeWidth=1.5).encode(
                x=alt.X("rate:Q"), tooltip=[alt.Tooltip("citation:N", title="Source"),
                                            alt.Tooltip("note:N", title="Reference")]),
            alt.Chart(ref).mark_text(align="right", dx=-4, dy=-4, baseline="bottom", fontSize=11,
                                     color="#555555").encode(x=alt.X("rate:Q"), y=alt.YValue(0),
                                                             text=alt.Text("label:N")),
        ]
    return alt.layer(*layers).properties(
        autosize=FIT_WIDTH, height=40 + 40 * len(groups),
        title=alt.Title("Durable at one month", subtitle=[
            "circle: still responding, of those followed up (line: 95% interval)",
            "triangle: the same, counting a booster before the follow-up as lost",
            *([f"dashed grey: {NOT_YOUR_DATA}"] if reference is not None else [])]))


MILESTONE_POINTS = {"baseline": "Baseline", "end_of_series": "End of series", "one_month": "One month"}


def milestones(points: pd.DataFrame, score_range: tuple[float, float], lower_is_better: bool,
               title: str = "Mean score at three points") -> alt.LayerChart:
    """Mean score of the same patients at baseline, at the end of their series and at one month
    (the milestones table, one measure): a line of one set of patients, their number in the title."""
    data = milestone_rows(points)
    return _means_chart(data, list(MILESTONE_POINTS.values()), score_range, lower_is_better,
                        title=alt.Title(title, subtitle=milestone_patients(points)))


def milestone_rows(points: pd.DataFrame) -> pd.DataFrame:
    """The milestones rows for reading: each point's name in words, its mean and interval as numbers."""
    return _numeric(points, ["mean", "mean_low", "mean_high"]).assign(point=points["point"].map(MILESTONE_POINTS))


def milestone_patients(points: pd.DataFrame) -> str:
    """'the same 258 patients at each point' (by group when split; hidden counts as shown)."""
    counts = points.drop_duplicates("grp")
    if len(counts) == 1:
        return f"the same {_count_text(counts['patients'].iloc[0])} patients at each point"
    return "the same patients at each point: " + ", ".join(
        f"{g} {_count_text(n)}" for g, n in zip(counts["grp"].astype(str), counts["patients"]))


def trajectory(frame: pd.DataFrame, lower_is_better: bool, score_range: tuple[float, float] | None = None
               ) -> alt.LayerChart:
    """Mean score at baseline, after each infusion and at one month, with its t-based 95% interval."""
    data = _numeric(frame, ["mean", "mean_low", "mean_high"])
    data["point"] = [
        "Baseline" if kind == "baseline" else ("1 month" if kind == "follow_up" else str(int(n)))
        for kind, n in zip(data["kind"], data["n"])]
    after = sorted(int(n) for n in pd.to_numeric(data.loc[data["kind"] == "after", "n"]).dropna().unique())
    return _means_chart(data, ["Baseline", *map(str, after), "1 month"], score_range, lower_is_better,
                        x_title="Infusions received (baseline before the first, 1 month after the last)")


def _means_chart(data: pd.DataFrame, order: list[str], score_range, lower_is_better: bool, x_title: str | None = None,
                 title: str | None = None) -> alt.LayerChart:
    data = data.copy()
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data) if len(data) else []
    several = len(groups) > 1
    colour = _group_colour(groups, _title(data)) if several else alt.ColorValue(PALETTE[0])
    x = alt.X("point:N", title=x_title, sort=order, scale=alt.Scale(domain=order),
              axis=alt.Axis(labelAngle=0, labelOverlap=False, labelFontSize=11))
    scale = alt.Scale(domain=list(score_range)) if score_range else alt.Scale(zero=False)
    y = alt.Y("mean:Q", title=f"Mean score ({'lower' if lower_is_better else 'higher'} is better)", scale=scale)
    band = data.dropna(subset=["mean_low", "mean_high"])
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("point:N", title="When"),
               alt.Tooltip("mean:Q", title="Mean", format=".1f"),
               alt.Tooltip("mean_low:Q", title="95% interval from", format=".1f"),
               alt.Tooltip("mean_high:Q", title="to", format=".1f"), alt.Tooltip("patients:N", title="Patients")]
    # The line layer comes first so the group legend shows its colours (not the pale band's).
    layers = [
        alt.Chart(data.dropna(subset=["mean"])).mark_line(point=alt.OverlayMarkDef(filled=True, size=50),
                                                          strokeWidth=2.5).encode(
            x=x, y=y, color=colour, detail=alt.Detail("grp:N"), tooltip=tooltip,
            **({"shape": _group_shape(groups, _title(data))} if several else {})),
        alt.Chart(band).mark_area(opacity=0.15).encode(
            x=x, y=alt.Y("mean_low:Q"), y2=alt.Y2("mean_high:Q"), color=colour, detail=alt.Detail("grp:N")),
        alt.Chart(band).mark_rule(strokeWidth=1.5, opacity=0.6).encode(
            x=x, y=alt.Y("mean_low:Q"), y2=alt.Y2("mean_high:Q"), color=colour, detail=alt.Detail("grp:N")),
    ]
    chart = alt.layer(*layers).properties(autosize=FIT_WIDTH, height=220)
    return chart.properties(title=title) if title else chart


CONTROL_STATUS = {"within": ("Within the limits", PALETTE[0], "circle"),
                  "above": ("Above the upper limit", "#B2182B", "triangle-up"),
                  "below": ("Below the lower limit", "#B2182B", "triangle-down")}


def control_chart(points: pd.DataFrame, title: str, min_cell: int, period: str = "month") -> alt.LayerChart:
    """A p-chart by month (or quarter) of series start: each month's share, the centre line (the
    share over every month) and the month's own 3-sigma limits (a step line, wider for small
    months). A month above or below its limits is a red triangle; a month too small to judge (below
    min_cell, or with no patients) is greyed out and has no point."""
    unit, units = period, f"{period}s"
    data = _numeric(points, ["rate", "centre", "lcl", "ucl"])
    data["label"] = period_labels(data["month"], period, data.get("pooled"))
    data["month"] = pd.to_datetime(data["month"]).dt.strftime("%Y-%m-%d")  # plain text: a suppressed frame holds Python objects
    order = data["label"].tolist()
    data["patients_text"] = [_count_text(v) for v in points["patients"]]
    data["events_text"] = [_count_text(v) for v in points["events"]]
    judged = data["rate"].notna()
    data["status"] = [CONTROL_STATUS[s or "within"][0] if ok else
                      "Hidden, to protect a small count" if text == "hidden" else "Too few to judge"
                      for s, ok, text in zip(data["signal"].fillna(""), judged, data["patients_text"])]
    x = alt.X("label:O", title=f"{unit.capitalize()} of series start", sort=order, scale=alt.Scale(domain=order),
              axis=alt.Axis(labelAngle=-45 if len(order) > 8 else 0, labelOverlap=False, labelLimit=0))
    y = alt.Y("rate:Q", title="Share of patients", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    tooltip = [alt.Tooltip("label:O", title=unit.capitalize()), alt.Tooltip("rate:Q", title="Share", format=".1%"),
               alt.Tooltip("events_text:N", title="Of whom"), alt.Tooltip("patients_text:N", title="Patients"),
               alt.Tooltip("lcl:Q", title="Lower limit", format=".1%"),
               alt.Tooltip("ucl:Q", title="Upper limit", format=".1%"), alt.Tooltip("status:N", title=unit.capitalize())]
    shown = data[judged]
    small = data[~judged].assign(top=1.0, bottom=0.0)
    layers = [
        alt.Chart(small).mark_bar(color="#9E9E9E", opacity=0.25, width={"band": 0.9}).encode(
            x=x, y=alt.Y("top:Q"), y2=alt.Y2("bottom:Q"), tooltip=[alt.Tooltip("label:O", title=unit.capitalize()),
                                                                  alt.Tooltip("patients_text:N", title="Patients"),
                                                                  alt.Tooltip("status:N", title=unit.capitalize())]),
        alt.Chart(shown).mark_line(interpolate="step", strokeDash=[6, 3], strokeWidth=1.5, color="#555555").encode(
            x=x, y=alt.Y("ucl:Q")),
        alt.Chart(shown).mark_line(interpolate="step", strokeDash=[6, 3], strokeWidth=1.5, color="#555555").encode(
            x=x, y=alt.Y("lcl:Q")),
        alt.Chart(data.dropna(subset=["centre"]).head(1)).mark_rule(strokeWidth=2, color="#333333").encode(
            y=alt.Y("centre:Q")),
        alt.Chart(shown).mark_line(strokeWidth=1.5, color=PALETTE[0], opacity=0.6).encode(x=x, y=y),
        status_points(shown, x, y, tooltip, CONTROL_STATUS, size=90),
    ]
    grey = (f"grey: {units} not shown, with fewer than {min_cell} patients with or without the outcome" if min_cell
            else f"grey: {units} with no patients to judge")
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=260, title=alt.Title(
        title, subtitle=[f"solid line: the share over every {unit}; dashed: each {unit}'s control limits", grey]))


# Presentation mode: type and marks readable from the back of a room on a 1920x1080 projector.
# The room's charts are as tall as the desk's: with the room's larger type, the first chart of every
# tab must still fit above the fold at 1920x1080 (tests/test_room_fold.py).
ROOM_HEIGHT = 1.0
ROOM_FONT = '"Source Sans", sans-serif'  # the page's own font (Streamlit's), so one font on the screen
ROOM_SCALE = {"strokeWidth": 1.8, "size": 2.6, "fontSize": 1.6, "thickness": 1.8}
ROOM_CONFIG = {
    "axis": {"labelFontSize": 18, "titleFontSize": 20, "labelColor": "#111111", "titleColor": "#111111"},
    "legend": {"labelFontSize": 18, "titleFontSize": 18, "symbolSize": 260, "symbolStrokeWidth": 3,
               "labelColor": "#111111"},
    "title": {"fontSize": 26, "subtitleFontSize": 18, "color": "#111111", "subtitleColor": "#333333"},
    "line": {"strokeWidth": 4}, "rule": {"strokeWidth": 3}, "point": {"size": 200},
}


def status_points(data: pd.DataFrame, x, y, tooltip, statuses: dict, size: int) -> alt.Chart:
    """Points coloured and shaped by their `status` column (statuses: key -> (label, colour, shape)),
    with the legend below: a p-chart's months and a funnel plot's groups, told apart by shape too."""
    labels = [v[0] for v in statuses.values()]
    return alt.Chart(data).mark_point(filled=True, size=size, opacity=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("status:N", title=None, scale=alt.Scale(domain=labels, range=[v[1] for v in statuses.values()]),
                        legend=alt.Legend(orient="bottom", labelLimit=0)),
        shape=alt.Shape("status:N", title=None, scale=alt.Scale(domain=labels, range=[v[2] for v in statuses.values()])))


def to_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec, data inline, without Altair's default 300-pixel view (as
    Streamlit's own altair_chart draws it). Not validated again: tests/test_charts.py checks every
    chart against the Vega-Lite schema."""
    spec = _with_records(chart.copy(deep=False)).to_dict(validate=False)
    view = spec.get("config", {}).get("view", {})
    for key in ("continuousWidth", "continuousHeight"):
        if view.get(key) == 300:  # the default theme's, not ours
            del view[key]
    if "view" in spec.get("config", {}) and not view:
        del spec["config"]["view"]
    if "config" in spec and not spec["config"]:
        del spec["config"]
    return spec


def _with_records(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart (and its layers) with each frame as JSON records written by pandas: Altair's own
    conversion checks every column in Python, about 8 ms a frame, most of a chart's conversion."""
    nodes = [chart]
    while nodes:
        node = nodes.pop()
        if isinstance(getattr(node, "data", None), pd.DataFrame):
            records = node.data.to_json(orient="records", date_format="iso", double_precision=15)
            node.data = alt.InlineData(values=json.loads(records))
        layers = getattr(node, "layer", None)
        if isinstance(layers, list):
            node.layer = layers = [layer.copy(deep=False) for layer in layers]
            nodes.extend(layers)
    return chart


def for_room(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with larger type, thicker lines and bigger points, for a shared screen."""
    spec = to_spec(chart)

    def enlarge(node):
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, dict):
                for part in (mark, mark.get("point") if isinstance(mark.get("point"), dict) else {}):
                    for key, factor in ROOM_SCALE.items():
                        if isinstance(part.get(key), (int, float)):
                            part[key] = part[key] * factor
            if isinstance(node.get("height"), (int, float)):
                node["height"] = round(node["height"] * ROOM_HEIGHT)
            for key in ("labelFontSize", "titleFontSize"):  # a chart's own axis type sizes, not the room's
                if isinstance(node.get(key), (int, float)):
                    node[key] = max(node[key] * ROOM_SCALE["fontSize"], ROOM_CONFIG["axis"][key])
            for key, value in node.items():
                if key not in ("data", "datasets"):
                    enlarge(value)
        elif isinstance(node, list):
            for item in node:
                enlarge(item)

    enlarge(spec)
    for param in spec.get("params", []):
        if param.get("name") == FONT_SCALE:
            param["value"] = ROOM_SCALE["fontSize"]
    config = spec.setdefault("config", {})
    config["font"] = ROOM_FONT
    for key, values in ROOM_CONFIG.items():
        config[key] = {**config.get(key, {}), **values}
    return spec
