"""What the app, the report and the exports call things: one place, no Streamlit (and no pandas:
the CSV export imports it)."""

from datetime import date

# The dimensions' names on screen and in the report (a column of the data is shown as named).
DIMENSION_LABELS = {"site": "Site", "provider": "Provider", "route": "Route", "kap": "With psychotherapy (KAP)",
                    "sex": "Sex", "age_band": "Age band", "diagnosis": "Diagnosis", "start_quarter": "Quarter of series start",
                    "baseline_severity": "Baseline severity"}
# The five headline tiles, in order.
TILE_LABELS = ("Patients started", "Completed series", "Response after 2 infusions", "Response after 6 infusions",
               "Durable at one month")
# Every setting of docs/METHODS.md, in words.
SETTING_NAMES = {
    "measure": "Primary measure",
    "min_baseline": "Minimum baseline score",
    "response_reduction": "Response: a fall from baseline of at least",
    "score_timing": "Scores taken (pre: before, post: after each infusion)",
    "planned": "Planned infusions in a series",
    "series_gap_days": "A gap of more than this many days ends a series",
    "baseline_window_days": "Baseline window (days before the first infusion)",
    "end_of_series_days": "End-of-series score within (days after the last infusion)",
    "as_of": "Data read as of",
    "follow_up_days": "One-month follow-up at (days after the last infusion)",
    "follow_up_window": "Follow-up window (days)",
    "min_cell": "Counts below this are hidden (0: off)",
    "control_period": "Over time: one point per month or per quarter of series start",
    "early_bands": "Keep going?: improvement bands (cut-offs, 0.2 = 20%)",
}


def timing_note(timing: str) -> str:
    """Score timing in one sentence (docs/METHODS.md 3): it changes every number, so it is said everywhere."""
    if timing == "pre":
        return "Scores taken before each infusion: the score at infusion n+1 is the patient's score after n infusions."
    return "Scores taken after each infusion: the score at infusion n is the patient's score after n infusions."


def left_out_note(after_as_of: int, in_future: int) -> str:
    """The visits no number uses because of their date (docs/METHODS.md 2), in one sentence; '' if none."""
    parts = []
    if after_as_of:
        parts.append(f"{after_as_of:,} visit{'s' * (after_as_of != 1)} dated after the as-of date")
    if in_future:
        parts.append(f"{in_future:,}{' visit' * (not parts)}{'s' * (in_future != 1 and not parts)} dated in the future "
                     "(after today: scheduled appointments or mistyped years)")
    if not parts:
        return ""
    one = after_as_of + in_future == 1
    return " and ".join(parts) + (" is" if one else " are") + " left out of every number."


def data_source(is_sample: bool, file_names: list[str], first_visit, last_visit, as_of) -> str:
    """Whose data this is, the span of its visits and the date it is read at: said on every screen
    and in the report, so that a room never takes the synthetic sample (or last month's file) for
    its own patients. Plain text: file names are the user's."""
    if is_sample:
        source = "Sample data: synthetic patients, not a clinic's"
    else:
        shown = ", ".join(file_names[:3]) + (f" and {len(file_names) - 3} more" if len(file_names) > 3 else "")
        source = f"Data: {shown}"
    span = f"visits {first_visit} to {last_visit}" if first_visit else "no visits"
    return f"{source} · {span} · read as of {as_of}"


def period_labels(starts, period: str, pooled=None) -> list[str]:
    """The p-charts' points in words: 'Jan 2025' by month, 'Q1 2025' by quarter; a point that also
    counts the period still under way (`pooled`, queries/monthly.sql) says so: 'Q3 2026 + Q4 to date'."""
    dates = [date.fromisoformat(str(d)[:10]) for d in starts]
    flags = [False] * len(dates) if pooled is None else [bool(p) for p in pooled]

    def label(d: date) -> str:
        return f"Q{(d.month - 1) // 3 + 1} {d.year}" if period == "quarter" else d.strftime("%b %Y")

    def following(d: date) -> str:
        month = d.month + (3 if period == "quarter" else 1)
        nxt = date(d.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        return label(nxt) if nxt.year != d.year else label(nxt).rsplit(" ", 1)[0]

    return [f"{label(d)} + {following(d)} to date" if flag else label(d) for d, flag in zip(dates, flags)]


def control_intro(period: str, compared: bool = False, pooled: bool = False) -> str:
    """What the p-charts show, by month or quarter of series start (the app's and the report's).
    pooled: the last point also counts the period still under way (queries/monthly.sql)."""
    return (f"Each {period}'s share for the patients whose series started that {period}, against the share over "
            f"every {period} (the centre line) and control limits worked out from the {period}'s own "
            "number of patients. A point outside its limits is unlikely to be chance alone (special-cause "
            f"variation). Recent {period}s are still filling in: their series and follow-ups have not all ended."
            + (f" The {period} still under way is counted with the one before it (its few series starts so far "
               "would make a point too small to judge)." if pooled else "")
            + (" These charts count all the selected patients, not each compared group." if compared else ""))


def has_pooled_point(monthly) -> bool:
    """Whether a p-chart table's last point also counts the period still under way."""
    return "pooled" in monthly and any(flag is True or flag == 1 for flag in monthly["pooled"])


def control_rows(points, period: str):
    """One p-chart's shown rows for its table: each point in words, and where it stands."""
    return points.assign(month=period_labels(points["month"], period, points.get("pooled")),
                         signal=points["signal"].map({"above": "above", "below": "below", "": "within"}))


def control_columns(period: str, patients: str = "Patients") -> dict[str, str]:
    """The p-chart tables' column headings."""
    return {"month": period.capitalize(), "patients": patients, "events": "Of whom", "rate": "Share",
            "lcl": "Lower limit", "ucl": "Upper limit", "signal": f"{period.capitalize()} is"}


def control_titles(planned: int) -> dict[str, str]:
    """The p-charts by month of series start (queries/monthly.sql), by their `chart` value."""
    return {"response": f"Response after {planned} infusions", "completion": "Completed series",
            "durability": "Durable at one month"}


def control_withheld(points, period: str, min_cell: int) -> str:
    """Why a p-chart is not drawn in a view with hidden counts, and the share over every period."""
    centre = next((float(v) for v in points["centre"] if v is not None and v == v), None)
    over_all = f" Over every {period}: {centre:.0%}." if centre is not None else ""
    other = " Quarters, on the switch above, may show it." if period == "month" else ""
    return (f"Not drawn with counts below {min_cell} hidden: some {period}s' shares would be hidden (too few patients "
            f"with or without the outcome), and drawing only the others would mislead.{over_all}{other}")


def milestones_note(patients: str) -> str:
    """Under the line of the same patients at three points (charts.milestone_patients gives patients)."""
    return (f"Over {patients}: patients whose series has ended with a score at baseline, at the end of their "
            "series and at one month. The trajectories' means are each over whoever has that score.")


def with_group_title(m, title: str):
    """Name the groups of split metric tables (dashboard.engine.metrics.MetricTables) after the
    compared dimension, in every table and chart legend."""
    for frame in (m.summary, m.response, m.late_response, m.dropout, m.dropout_detail, m.durability, m.trajectories,
                  m.early_improvement, m.reliable_change, m.reliable_change_points, m.time_to_response, m.funnel,
                  m.milestones):
        frame.attrs["group_title"] = title
    return m
