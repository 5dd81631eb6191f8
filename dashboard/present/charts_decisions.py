"""Altair charts of docs/METHODS.md's panels, in dashboard.present.charts' style: a metric frame in (as
shown, so a suppressed count reads '<11' and a hidden rate is empty), a chart out. No data access.

early_heatmap: infusion k x improvement band, the share responding later with its n in each cell.
reliable_change_bars: the five categories of routine outcome monitoring with their intervals.
prepost_scatter: baseline against last score (points are counts of patients, never ids), with the
reliable-change band and the caseness lines.
time_to_response_curve: the share responded by each day since the first infusion (a step curve),
or by the end of each week when small counts are hidden (the curve pooled by week).
funnel_plot: each group's rate against its denominator, with exact binomial limits around the target.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from dashboard.present.charts import (
    FIT_WIDTH,
    FONT_SCALE,
    PALETTE,
    PERCENT_AXIS,
    _count_text,
    _group_colour,
    _group_dash,
    _group_shape,
    _groups,
    _numeric,
    _title,
    status_points,
)
from dashboard.present.decisions_text import CATEGORY_LABELS, band_label, by_week, hidden_weeks, weeks_text
from dashboard.present.formatting import percent

DETERIORATION_RED = "#B2182B"
CATEGORY_COLOURS = {"reliable_improvement": "#009E73", "no_reliable_change": "#767676",
                    "reliable_deterioration": DETERIORATION_RED, "recovery": "#0072B2",
                    "reliable_recovery": "#00507D"}
HIDDEN_CELL = "#D4D4D4"
# The scatter's points by their category (colour and shape, never colour alone).
MOVES = {"improved": ("Reliably better", "#009E73", "triangle-down"),
         "unchanged": ("No reliable change", "#767676", "circle"),
         "worse": ("Reliably worse", DETERIORATION_RED, "triangle-up")}
FUNNEL_STATUS = {"within": ("Within the limits", PALETTE[0], "circle"),
                 "above": ("Above the outer limit", DETERIORATION_RED, "triangle-up"),
                 "below": ("Below the outer limit", DETERIORATION_RED, "triangle-down")}


# --- Keep going? ---------------------------------------------------------------------------------

EARLY_KINDS = {
    "later": ("later_response_rate", "responded_later", "scored_later",
              "Responded later, of those scored again", "no later score: left out"),
    "itt": ("itt_rate", "itt_responded", "itt_evaluable",
            "Responded by the end, of all whose series ended", "stopped: not responding"),
}


def _fitting(size: float, texts: pd.Series, cells: int) -> dict:
    """A cell's text size: `size` (times the room's FONT_SCALE on a shared screen), smaller when the
    longest text would not fit the cell's width (a laptop in presentation mode), so that a text
    never runs into its neighbour ("hidden of 118" reading as "hidden of 11")."""
    longest = max((len(str(t)) for t in texts), default=1)
    return {"expr": f"min({size} * {FONT_SCALE}, width / {max(cells, 1)} * 0.9 / ({longest} * 0.56))"}


def early_heatmap(early: pd.DataFrame, k: int | None = None, kind: str = "later") -> alt.LayerChart:
    """One group's early-improvement table as a heatmap: a column per infusion count k, a row per
    improvement band (the best at the top), each cell coloured by the share who responded later in
    their series and labelled with it and its n. The chosen k is outlined. kind: 'later' (of those
    scored again later) or 'itt' (of all in the band whose series has ended)."""
    rate, part, whole, title, subtitle = EARLY_KINDS[kind]
    data = early.copy()
    data["k"] = data["k"].astype(int)
    data["band"] = data["band"].astype(int)
    data["band_name"] = [band_label(lo, hi) for lo, hi in zip(data["band_from"], data["band_to"])]
    data["share_text"] = [percent(r) if pd.notna(pd.to_numeric(r, errors="coerce")) else "–"
                          for r in data[rate]]
    data["n_text"] = [f"{_count_text(p)} of {_count_text(w)}" for p, w in zip(data[part], data[whole])]
    data["patients_text"] = [_count_text(v) for v in data["patients"]]
    data = _numeric(data, [rate])
    data["share"] = data[rate]
    data["dark"] = data["share"].fillna(0) > 0.55
    bands = data.sort_values("band", ascending=False)["band_name"].drop_duplicates().tolist()
    ks = data["k"].drop_duplicates().tolist()
    x = alt.X("k:O", title="After this many infusions", axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("band_name:N", title="Improvement by then", sort=bands, axis=alt.Axis(labelLimit=0))
    tooltip = [alt.Tooltip("k:O", title="After infusions"), alt.Tooltip("band_name:N", title="Improved"),
               alt.Tooltip("patients_text:N", title="Patients in the band"),
               alt.Tooltip("share_text:N", title="Responded"), alt.Tooltip("n_text:N", title="Of")]
    base = alt.Chart(data)
    layers = [
        # Grey under every cell: a cell without a share (hidden, or no one) is not drawn by the colour layer.
        base.mark_rect(color=HIDDEN_CELL, stroke="white", strokeWidth=2).encode(x=x, y=y, tooltip=tooltip),
        base.mark_rect(stroke="white", strokeWidth=2).encode(
            x=x, y=y, tooltip=tooltip,
            color=alt.Color("share:Q", title="Responded", legend=alt.Legend(format="%", orient="bottom"),
                            scale=alt.Scale(domain=[0, 1], scheme="blues"))),
        base.mark_text(fontSize=_fitting(15, data["share_text"], len(ks)), fontWeight="bold", dy=-10).encode(
            x=x, y=y, text=alt.Text("share_text:N"),
            color=alt.condition("datum.dark", alt.value("white"), alt.value("#111111"))),
        base.mark_text(fontSize=_fitting(11, data["n_text"], len(ks)), dy=11).encode(
            x=x, y=y, text=alt.Text("n_text:N"),
            color=alt.condition("datum.dark", alt.value("white"), alt.value("#222222"))),
    ]
    if k is not None and k in set(data["k"]):
        layers.append(alt.Chart(data[data["k"] == k]).mark_rect(filled=False, stroke="#D55E00", strokeWidth=3)
                      .encode(x=x, y=y))
    return alt.layer(*layers).add_params(alt.param(name=FONT_SCALE, value=1)).properties(
        # The title on two lines (at its comma): in the room, on a laptop, one line ran off the screen.
        autosize=FIT_WIDTH, height=66 * len(bands), title=alt.Title(title.replace(", ", ",\n", 1).split("\n"), subtitle=[
            "each cell: the share, and how many of how many", subtitle,
            *([f"outlined: after {k} infusions; grey: hidden or none"] if k is not None else [])]))


# --- As services report it ------------------------------------------------------------------------

def reliable_change_bars(rc: pd.DataFrame) -> alt.LayerChart:
    """Each category's share with its 95% interval, in the contract's order; reliable deterioration
    in red. The first three are shares of the patients who finished, the last two of those who
    started as a clinical case."""
    data = rc.copy()
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data)
    several = len(groups) > 1
    data["label"] = data["category"].map(CATEGORY_LABELS)
    data["of"] = [f"{_count_text(p)} of {_count_text(d)}" for p, d in zip(data["patients"], data["denominator"])]
    data = _numeric(data, ["rate", "rate_low", "rate_high"])
    data["text"] = [f"{percent(r)} ({o})" if pd.notna(r) else f"{o}: share hidden"
                    for r, o in zip(data["rate"], data["of"])]
    data["inside"] = data["rate"].fillna(0) >= 0.6  # the label inside a long bar, so it never runs off the chart
    data["label_at"] = data["rate_low"].where(data["inside"], data["rate_high"]).fillna(0)
    order = [CATEGORY_LABELS[c] for c in CATEGORY_LABELS if c in set(data["category"])]
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=0))
    x = alt.X("rate:Q", title="Share of patients", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    colour = (_group_colour(groups, _title(rc)) if several else
              alt.Color("label:N", legend=None, scale=alt.Scale(
                  domain=order, range=[CATEGORY_COLOURS[c] for c in CATEGORY_LABELS if c in set(data["category"])])))
    offset = {"yOffset": alt.YOffset("grp:N", sort=groups)} if several else {}
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("label:N", title="Category"),
               alt.Tooltip("rate:Q", title="Share", format=".1%"), alt.Tooltip("of:N", title="Patients")]
    shown = data.dropna(subset=["rate"])
    layers = [
        alt.Chart(shown).mark_bar(height={"band": 0.7} if not several else alt.Undefined,
                                  **({"stroke": "#222222", "strokeWidth": 1.5} if several else {})).encode(
            y=y, x=x, color=colour, tooltip=tooltip,
            **offset, **({"strokeDash": _group_dash(groups, _title(rc))} if several else {})),
        alt.Chart(shown).mark_rule(strokeWidth=2, color="#111111").encode(
            y=y, x=alt.X("rate_low:Q"), x2=alt.X2("rate_high:Q"), **offset),
        alt.Chart(data[~data["inside"]]).mark_text(align="left", dx=6, fontSize=12, color="#111111").encode(
            y=y, x=alt.X("label_at:Q"), text=alt.Text("text:N"), **offset),
        alt.Chart(data[data["inside"]]).mark_text(align="right", dx=-6, fontSize=12, color="white",
                                                  fontWeight="bold").encode(
            y=y, x=alt.X("label_at:Q"), text=alt.Text("text:N"), **offset),
    ]
    return alt.layer(*layers).properties(
        autosize=FIT_WIDTH, height=(44 if not several else 26 * len(groups) + 8) * len(order),
        title=alt.Title("As services report it", subtitle=[
            "first three: of those who finished;", "last two: of those who started as a case",
            "black line: 95% interval"]))  # short lines: a half-width chart on a laptop in the room


def _binned(points: pd.DataFrame, width: float) -> pd.DataFrame:
    """The points gathered into squares of `width` points a side (for a shared screen)."""
    data = points.assign(baseline=np.floor(points["baseline"].astype(float) / width) * width,
                         last=np.floor(points["last"].astype(float) / width) * width)
    return data.groupby(["grp", "baseline", "last"], as_index=False)["patients"].sum()


def prepost_scatter(points: pd.DataFrame, score_range: tuple[float, float], label: str,
                    caseness: float | None, reliable_change: float | None, min_cell: int = 0) -> alt.LayerChart:
    """Baseline against last score of the patients who finished their series (Jacobson-Truax
    style): a point per pair of scores, sized by how many patients share it (no ids). The diagonal
    is no change; the shaded band around it is less than a reliable change; the dashed lines are
    caseness (at or above: a clinical case). Lower is better, so a point below the band improved.

    With min_cell, the points are gathered into squares of 5 points a side and a square holding
    fewer than min_cell patients is not drawn (how many such patients there are is said in the
    subtitle: together, they reveal nothing)."""
    low, high = float(score_range[0]), float(score_range[1])
    data = points.copy()
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data) if len(data) else []
    several = len(groups) > 1
    scale = alt.Scale(domain=[low, high], nice=False)
    x = alt.X("baseline:Q", title=f"{label} at baseline", scale=scale)
    y = alt.Y("last:Q", title=f"{label} at the end (last score)", scale=scale)
    layers = []
    rc = reliable_change
    line = pd.DataFrame({"baseline": [low, high], "last": [low, high]})
    if rc is not None:
        band = pd.DataFrame({"baseline": np.linspace(low, high, 50)})
        band["lower"] = (band["baseline"] - rc).clip(low, high)
        band["upper"] = (band["baseline"] + rc).clip(low, high)
        layers.append(alt.Chart(band).mark_area(color="#BBBBBB", opacity=0.35).encode(
            x=x, y=alt.Y("lower:Q", scale=scale), y2=alt.Y2("upper:Q")))
    layers.append(alt.Chart(line).mark_line(color="#555555", strokeWidth=1.2).encode(x=x, y=y))
    if caseness is not None:
        case = pd.DataFrame({"at": [caseness], "text": [f"caseness {caseness:g}"]})
        layers += [alt.Chart(case).mark_rule(strokeDash=[6, 4], color="#333333", strokeWidth=1.5).encode(
                       x=alt.X("at:Q", scale=scale)),
                   alt.Chart(case).mark_rule(strokeDash=[6, 4], color="#333333", strokeWidth=1.5).encode(
                       y=alt.Y("at:Q", scale=scale)),
                   alt.Chart(case).mark_text(align="left", dx=4, dy=-6, fontSize=11, color="#333333").encode(
                       x=alt.XDatum(low), y=alt.Y("at:Q", scale=scale), text="text:N")]
    subtitle = ["grey band: less than a reliable change" if rc is not None else "no reliable change declared",
                "dashed: caseness" if caseness is not None else "no caseness declared",
                "lower is better: below the band, reliably better"]
    if min_cell and len(data):
        width = 5.0
        data = _binned(data, width)
        small = data[data["patients"] < min_cell]
        data = data[data["patients"] >= min_cell].assign(
            baseline_end=lambda d: (d["baseline"] + width).clip(upper=high),
            last_end=lambda d: (d["last"] + width).clip(upper=high),
            text=lambda d: [f"{int(p):,}" for p in d["patients"]])
        left_out = int(small["patients"].sum())
        cells = alt.Chart(data).mark_rect(opacity=0.75, stroke="white").encode(
            x=x, x2=alt.X2("baseline_end:Q"), y=y, y2=alt.Y2("last_end:Q"),
            color=alt.Color("patients:Q", title="Patients", scale=alt.Scale(scheme="blues"),
                            legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("baseline:Q", title="Baseline from"), alt.Tooltip("last:Q", title="Last from"),
                     alt.Tooltip("patients:Q", title="Patients")])
        if several:
            cells = cells.encode(strokeDash=_group_dash(groups, _title(points)))
        layers += [cells, alt.Chart(data.assign(cx=(data["baseline"] + data["baseline_end"]) / 2,
                                                cy=(data["last"] + data["last_end"]) / 2))
                   .mark_text(fontSize=12, color="#111111").encode(x=alt.X("cx:Q", scale=scale),
                                                                   y=alt.Y("cy:Q", scale=scale), text="text:N")]
        subtitle.append(f"squares of {width:g} points; {left_out:,} patients in squares of fewer than {min_cell} "
                        "are not drawn")
    elif len(data):
        change = data["baseline"].astype(float) - data["last"].astype(float)
        data["move"] = ("unchanged" if rc is None else
                        np.where(change >= rc - 1e-9, "improved", np.where(-change >= rc - 1e-9, "worse", "unchanged")))
        data["move"] = data["move"].map(lambda m: MOVES[m][0])
        moves = [v[0] for v in MOVES.values()]
        layers.append(alt.Chart(data).mark_point(filled=True, opacity=0.75).encode(
            x=x, y=y,
            size=alt.Size("patients:Q", title="Patients", scale=alt.Scale(range=[30, 400], zero=False),
                          legend=alt.Legend(orient="bottom")),
            color=(_group_colour(groups, _title(points)) if several else
                   alt.Color("move:N", title=None, scale=alt.Scale(domain=moves, range=[v[1] for v in MOVES.values()]),
                             legend=alt.Legend(orient="bottom", labelLimit=0))),
            shape=(_group_shape(groups, _title(points)) if several else
                   alt.Shape("move:N", title=None, scale=alt.Scale(domain=moves,
                                                                   range=[v[2] for v in MOVES.values()]))),
            tooltip=[alt.Tooltip("grp:N", title="Group"), alt.Tooltip("baseline:Q", title="Baseline"),
                     alt.Tooltip("last:Q", title="Last score"), alt.Tooltip("patients:Q", title="Patients"),
                     alt.Tooltip("move:N", title="Change")]))
        worse = data[data["move"] == MOVES["worse"][0]]
        if len(worse):  # a safety signal: ringed, whatever its size
            layers.append(alt.Chart(worse).mark_point(shape="circle", size=260, filled=False, strokeWidth=2,
                                                      color=DETERIORATION_RED).encode(x=x, y=y))
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=380, title=alt.Title(
        "Start and end of each finished series", subtitle=subtitle))


# --- Time to response -----------------------------------------------------------------------------

def time_to_response_curve(ttr: pd.DataFrame) -> alt.LayerChart:
    """The estimated share responded by each day since the first infusion (a step curve from 0 on
    day 0), its 95% interval shaded, and the day by which half had responded marked when reached.
    A weekly curve (dashboard.engine.metrics.weekly_time_to_response, as shown) is drawn by week instead."""
    if by_week(ttr):
        return _weekly_curve(ttr)
    data = _numeric(ttr, ["day", "responded_share", "share_low", "share_high", "median_days"])
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data) if len(data) else []
    several = len(groups) > 1
    data = data.dropna(subset=["responded_share"])
    starts = pd.DataFrame({"grp": groups, "day": 0.0, "responded_share": 0.0, "share_low": 0.0, "share_high": 0.0})
    curve = pd.concat([starts, data[["grp", "day", "responded_share", "share_low", "share_high"]]], ignore_index=True)
    curve["at_risk"] = [None] * len(starts) + [_count_text(v) for v in data["at_risk"]]
    colour = _group_colour(groups, _title(ttr)) if several else alt.ColorValue(PALETTE[0])
    x = alt.X("day:Q", title="Days since the first infusion", scale=alt.Scale(domainMin=0, nice=False))
    y = alt.Y("responded_share:Q", title="Share responded", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("day:Q", title="Day"),
               alt.Tooltip("responded_share:Q", title="Responded by then", format=".1%"),
               alt.Tooltip("share_low:Q", title="95% interval from", format=".1%"),
               alt.Tooltip("share_high:Q", title="to", format=".1%"), alt.Tooltip("at_risk:N", title="Still counted")]
    layers = [
        alt.Chart(curve).mark_area(interpolate="step-after", opacity=0.15).encode(
            x=x, y=alt.Y("share_low:Q", scale=alt.Scale(domain=[0, 1])), y2=alt.Y2("share_high:Q"), color=colour,
            detail=alt.Detail("grp:N")),
        alt.Chart(curve).mark_line(interpolate="step-after", strokeWidth=2.5).encode(
            x=x, y=y, color=colour, detail=alt.Detail("grp:N"), tooltip=tooltip,
            **({"strokeDash": _group_dash(groups, _title(ttr))} if several else {})),
    ]
    medians = data.dropna(subset=["median_days"]).drop_duplicates("grp")
    if len(medians):
        half = pd.DataFrame({"share": [0.5]})
        layers.append(alt.Chart(half).mark_rule(strokeDash=[2, 3], color="#555555").encode(y=alt.Y("share:Q")))
        medians = medians.assign(label=[f"half by day {int(d)}" for d in medians["median_days"]], half=0.5,
                                 zero=0.0)
        layers += [alt.Chart(medians).mark_rule(strokeDash=[6, 3], strokeWidth=1.5).encode(
                       x=alt.X("median_days:Q"), y=alt.Y("zero:Q"), y2=alt.Y2("half:Q"), color=colour),
                   alt.Chart(medians).mark_text(align="left", dx=4, dy=-10, fontSize=12).encode(
                       x=alt.X("median_days:Q"), y=alt.Y("zero:Q"), text="label:N", color=colour)
                   ] if not several else []
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=300, title=alt.Title(
        "Days to response", subtitle=["estimated share of patients responded by each day since their first infusion; "
                                      "shaded: 95% interval",
                                      "patients not (yet) responding count until their last score"]))


def _weekly_curve(ttr: pd.DataFrame) -> alt.LayerChart:
    """The curve by week: the estimated share responded by the end of each week since the first
    infusion (a point per week, joined as steps from 0 at week 0), its 95% interval shaded; the
    week in which half had responded marked, with the median day (read off the daily curve)."""
    data = _numeric(ttr, ["week", "responded_share", "share_low", "share_high", "median_days"])
    data["grp"] = data["grp"].astype(str)
    groups = _groups(data) if len(data) else []
    several = len(groups) > 1
    hidden = [] if several else hidden_weeks(ttr)
    medians = data.dropna(subset=["median_days"]).drop_duplicates("grp")
    data = data.dropna(subset=["responded_share"])
    starts = pd.DataFrame({"grp": groups, "week": 0.0, "responded_share": 0.0, "share_low": 0.0, "share_high": 0.0})
    curve = pd.concat([starts, data[["grp", "week", "responded_share", "share_low", "share_high"]]], ignore_index=True)
    curve["at_risk"] = [None] * len(starts) + [_count_text(v) for v in data["at_risk"]]
    curve["days"] = [None] * len(starts) + [f"days {int(a)} to {int(b)}" for a, b in zip(data["first_day"],
                                                                                        data["last_day"])]
    colour = _group_colour(groups, _title(ttr)) if several else alt.ColorValue(PALETTE[0])
    x = alt.X("week:Q", title="Weeks since the first infusion (week 1: days 0 to 6)",
              scale=alt.Scale(domainMin=0, nice=False), axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("responded_share:Q", title="Share responded", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("week:Q", title="Week"),
               alt.Tooltip("days:N", title="Days since the first infusion"),
               alt.Tooltip("responded_share:Q", title="Responded by the end of the week", format=".1%"),
               alt.Tooltip("share_low:Q", title="95% interval from", format=".1%"),
               alt.Tooltip("share_high:Q", title="to", format=".1%"),
               alt.Tooltip("at_risk:N", title="Still counted at the start of the week")]
    dash = {"strokeDash": _group_dash(groups, _title(ttr))} if several else {}
    layers = [
        alt.Chart(curve).mark_area(interpolate="step-after", opacity=0.15).encode(
            x=x, y=alt.Y("share_low:Q", scale=alt.Scale(domain=[0, 1])), y2=alt.Y2("share_high:Q"), color=colour,
            detail=alt.Detail("grp:N")),
        alt.Chart(curve).mark_line(interpolate="step-after", strokeWidth=2.5).encode(
            x=x, y=y, color=colour, detail=alt.Detail("grp:N"), **dash),
        alt.Chart(curve[curve["week"] > 0]).mark_point(filled=True, size=70, opacity=1).encode(
            x=x, y=y, color=colour, tooltip=tooltip,
            **({"shape": _group_shape(groups, _title(ttr))} if several else {})),
    ]
    if len(medians):
        half = pd.DataFrame({"share": [0.5]})
        layers.append(alt.Chart(half).mark_rule(strokeDash=[2, 3], color="#555555").encode(y=alt.Y("share:Q")))
        if not several:
            # The week holding the median day: the curve is below half at the end of the week before
            # it and at least half at the end of it.
            medians = medians.assign(week=medians["median_days"] // 7 + 1, half=0.5, zero=0.0)
            medians["label"] = [f"half by the end of week {int(w)} (day {int(d)})"
                                for w, d in zip(medians["week"], medians["median_days"])]
            layers += [alt.Chart(medians).mark_rule(strokeDash=[6, 3], strokeWidth=1.5).encode(
                           x=alt.X("week:Q"), y=alt.Y("zero:Q"), y2=alt.Y2("half:Q"), color=colour),
                       alt.Chart(medians).mark_text(align="left", dx=4, dy=-10, fontSize=12).encode(
                           x=alt.X("week:Q"), y=alt.Y("zero:Q"), text="label:N", color=colour)]
    subtitle = ["estimated share responded by the end of each week since the first infusion; shaded: 95% interval",
                "by week: one day's counts are too small to show; not (yet) responding: counted until the last score"]
    if hidden:
        subtitle.append(f"{weeks_text(hidden)}: not shown, {'it rests' if len(hidden) == 1 else 'they rest'} "
                        "on small counts")
    elif several:
        subtitle.append("a group's curve stops at its first week with a small count")
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=300, title=alt.Title(
        "Days to response, by week", subtitle=subtitle))


# --- Compare fairly --------------------------------------------------------------------------------

def funnel_plot(rows: pd.DataFrame, outcome_title: str, group_title: str = "Group") -> alt.LayerChart:
    """Each group's rate against its denominator (one outcome's rows of the funnel table, as
    shown), the whole selection's rate as a line, and the exact binomial 95% (dashed) and 99.8%
    (solid) limits around it, which narrow as the denominator grows. A group outside the 99.8%
    limits is a red triangle. Groups are placed by their size, never ranked."""
    from dashboard.engine.funnel import funnel_limits  # the limits' curve, as the table's own limits are worked out

    data = _numeric(rows, ["numerator", "denominator", "rate", "target"]).copy()
    data["grp"] = data["grp"].astype(str)
    data["of"] = [f"{_count_text(a)} of {_count_text(b)}" for a, b in zip(rows["numerator"], rows["denominator"])]
    target = data["target"].dropna()
    shown = data.dropna(subset=["rate", "denominator"])
    shown = shown.assign(status=shown["position"].map(lambda p: FUNNEL_STATUS.get(p, FUNNEL_STATUS["within"])[0]))
    top = max(float(shown["denominator"].max()) if len(shown) else 10.0, 10.0) * 1.15
    x = alt.X("denominator:Q", title="Patients in the group (the rate's denominator)",
              scale=alt.Scale(domain=[0, top], nice=False), axis=alt.Axis(tickCount=8))
    y = alt.Y("rate:Q", title="Rate", axis=PERCENT_AXIS, scale=alt.Scale(domain=[0, 1]))
    layers = []
    subtitle = []
    if len(target) and 0 < float(target.iloc[0]) < 1:
        theta = float(target.iloc[0])
        # From 5 (or the smallest group): below it the exact limits jump about with every count.
        start = int(max(1, min(5, shown["denominator"].min() if len(shown) else 5)))
        n = np.unique(np.concatenate([np.arange(start, 30), np.geomspace(30, max(top, 31), 120).round()]))
        limits = funnel_limits(np.full(len(n), theta), n)
        curves = pd.concat([pd.DataFrame({"denominator": n, "limit": limits[name], "which": which, "side": name})
                            for name, which in (("low_998", "99.8% limits"), ("high_998", "99.8% limits"),
                                                ("low_95", "95% limits"), ("high_95", "95% limits"))])
        kinds = ["99.8% limits", "95% limits"]
        layers += [
            alt.Chart(curves).mark_line(color="#555555", strokeWidth=1.5, interpolate="monotone").encode(
                x=x, y=alt.Y("limit:Q", scale=alt.Scale(domain=[0, 1])), detail="side:N",
                strokeDash=alt.StrokeDash("which:N", title=None, scale=alt.Scale(domain=kinds, range=[[1, 0], [6, 4]]),
                                          legend=alt.Legend(orient="bottom", labelLimit=0))),
            alt.Chart(pd.DataFrame({"rate": [theta], "label": [f"all selected: {percent(theta)}"]})).mark_rule(
                color="#111111", strokeWidth=2).encode(y=alt.Y("rate:Q")),
            alt.Chart(pd.DataFrame({"rate": [theta], "label": [f"all selected: {percent(theta)}"],
                                    "x": [0]})).mark_text(align="left", dx=4, dy=-8, fontSize=12).encode(
                x=alt.X("x:Q"), y=alt.Y("rate:Q"), text="label:N"),
        ]
        subtitle.append("line: the rate of all the selected patients; solid curves: 99.8% limits, dashed: 95%")
    tooltip = [alt.Tooltip("grp:N", title=group_title), alt.Tooltip("rate:Q", title="Rate", format=".1%"),
               alt.Tooltip("of:N", title="Patients"), alt.Tooltip("status:N", title="Position")]
    layers += [
        status_points(shown, x, y, tooltip, FUNNEL_STATUS, size=110),
        alt.Chart(shown).mark_text(align="left", dx=9, dy=-9, fontSize=12, color="#111111").encode(
            x=x, y=y, text="grp:N"),
    ]
    subtitle.append("groups placed by their size, not ranked; outside the 99.8% limits: unlikely to be chance")
    return alt.layer(*layers).properties(autosize=FIT_WIDTH, height=340,
                                         title=alt.Title(outcome_title, subtitle=subtitle))
