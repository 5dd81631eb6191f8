"""One plain sentence per panel, for a shared screen and the report: "54% responded after 2
infusions (n = 312)." Built from the tables as shown (dashboard.engine.suppression), so a hidden count or
rate stays hidden here too. Plain text: the caller escapes it for markdown or HTML."""

from __future__ import annotations

import pandas as pd

from dashboard.engine.suppression import HIDDEN
from dashboard.present.formatting import count, percent
from dashboard.present.labels import TILE_LABELS, period_labels


def _hidden(value) -> bool:
    return value is None or isinstance(value, str) or pd.isna(value)


def _row(frame: pd.DataFrame, **where):
    rows = frame
    for col, value in where.items():
        rows = rows[rows[col] == value]
    return rows.iloc[0] if len(rows) else None


def _groups(frame: pd.DataFrame) -> list[str]:
    return [str(g) for g in dict.fromkeys(frame["grp"])]


def _per_group(frame: pd.DataFrame, phrase) -> str:
    """'KAP: 70% (n = 120); no KAP: 60% (n = 130)' for a split frame; phrase(group rows) -> text."""
    return "; ".join(f"{g}: {phrase(frame[frame['grp'].astype(str) == g])}" for g in _groups(frame))


def _rate_n(rate, n, min_cell: int) -> str:
    """'54% (n = 312)'; a rate hidden by suppression: 'hidden (n = <11)'; no denominator: 'none yet'."""
    if not _hidden(rate):
        return f"{percent(rate)} (n = {count(n, min_cell)})"
    if not isinstance(n, str) and (n is None or pd.isna(n) or n == 0):
        return "none yet"
    return "hidden" if n == HIDDEN else f"hidden (n = {count(n, min_cell)})"


def response(shown: pd.DataFrame, planned: int, min_cell: int) -> str:
    """Response after 2 infusions and after a full series, among the patients assessed then."""
    if len(_groups(shown)) > 1:
        return (f"Response after {planned} infusions, by group: " + _per_group(
            shown, lambda g: _rate_n(*_rate_and_n(g, planned), min_cell)) + "."
            + within_chance(shown[shown["n"] == planned]))
    parts = []
    for n in dict.fromkeys((2, planned)):
        rate, assessed = _rate_and_n(shown, n)
        if assessed is None:
            continue
        if _hidden(rate):
            parts.append(f"response after {n} infusions: {_rate_n(rate, assessed, min_cell)}")
        else:
            parts.append(f"{percent(rate)} responded after {n} infusions (n = {count(assessed, min_cell)})")
    return _sentence(" and ".join(parts)) if parts else "No patient has a score after an infusion yet."


def _rate_and_n(frame: pd.DataFrame, n: int):
    row = _row(frame, n=n)
    return (None, None) if row is None else (row["rate"], row["assessed"])


def late_response(shown: pd.DataFrame, min_cell: int) -> str:
    """Of the patients not responding after 2 infusions and scored again later, the share who responded."""
    if _row(shown, n=2) is None:
        return "No patient has a score after 2 infusions yet."
    if len(_groups(shown)) > 1:
        return ("Responded later in the series, of the patients not responding after 2 infusions, by group: "
                + _per_group(shown, lambda g: _rate_n(_row(g, n=2)["late_response_rate"], _row(g, n=2)["scored_again"],
                                                      min_cell)) + ".")
    row = _row(shown, n=2)
    if _hidden(row["late_response_rate"]):
        return ("Responded later in the series, of the patients not responding after 2 infusions: "
                f"{_rate_n(row['late_response_rate'], row['scored_again'], min_cell)}.")
    return (f"{percent(row['late_response_rate'])} of the patients not responding after 2 infusions responded later "
            f"in their series (n = {count(row['scored_again'], min_cell)} scored again).")


def dropout(summary: pd.DataFrame, stopped_after: pd.DataFrame, min_cell: int) -> str:
    """Completion among the series that ended, and the infusion most patients stopped after."""
    if len(_groups(summary)) > 1:
        return "Completed the series, of those whose series ended, by group: " + _per_group(
            summary, lambda g: _rate_n(g.iloc[0]["completion_rate"], g.iloc[0]["ended"], min_cell)) + "."
    row = summary.iloc[0]
    if _hidden(row["completion_rate"]):
        text = f"Completed the series, of those whose series ended: {_rate_n(row['completion_rate'], row['ended'], min_cell)}."
    else:
        text = (f"{percent(row['completion_rate'])} of the series that ended were completed "
                f"(n = {count(row['ended'], min_cell)}).")
    counts = pd.to_numeric(stopped_after["dropped_after"], errors="coerce")
    # Only when every count is shown or small: a count hidden to protect another might be the largest.
    if counts.notna().any() and counts.max() > 0 and not (stopped_after["dropped_after"] == HIDDEN).any():
        peak = stopped_after.loc[counts.idxmax()]
        text += f" Most who stopped early stopped after infusion {int(peak['n'])} ({count(peak['dropped_after'])})."
    return text


def durability(shown: pd.DataFrame, min_cell: int) -> str:
    if len(_groups(shown)) > 1:
        return "Still responding at one month, of the responders followed up, by group: " + _per_group(
            shown, lambda g: _rate_n(g.iloc[0]["durability_rate"], g.iloc[0]["followed_up"], min_cell)) + "." + (
            within_chance(shown))
    row = shown.iloc[0]
    if _hidden(row["durability_rate"]):
        text = ("Still responding at one month, of the responders followed up: "
                f"{_rate_n(row['durability_rate'], row['followed_up'], min_cell)}.")
    else:
        text = (f"{percent(row['durability_rate'])} of responders were still responding at one month "
                f"(n = {count(row['followed_up'], min_cell)} followed up).")
    return text + not_followed_up(row, min_cell)


def not_followed_up(row, min_cell: int) -> str:
    """' 62 of 338 responders whose series ended were not followed up (15 more not due yet).' The
    responders a durability rate leaves out, said beside it."""
    missing, eligible, pending = row["no_follow_up"], row["eligible"], row["pending"]
    if not _hidden(eligible) and eligible == 0:
        return ""
    due = "" if not _hidden(pending) and pending == 0 else f" ({count(pending, min_cell)} more not due yet)"
    return (f" {count(missing, min_cell)} of {count(eligible, min_cell)} responders whose series ended were not "
            f"followed up{due}.")


def trajectory(shown: pd.DataFrame, label: str) -> str:
    """The primary measure's mean at baseline and at the end of a full series, for the whole cohort."""
    if len(_groups(shown)) > 1 or not len(shown):
        return f"Mean {label} at baseline, after each infusion and at one month, by group."
    baseline = _row(shown, kind="baseline")
    after = shown[shown["kind"] == "after"]
    last = _row(after, n=pd.to_numeric(after["n"]).max()) if len(after) else None
    if baseline is None or last is None or _hidden(baseline["mean"]) or _hidden(last["mean"]):
        return f"Mean {label} over the series: too few patients to show a mean."
    return (f"Mean {label} went from {baseline['mean']:.1f} at baseline (n = {count(baseline['patients'])}) to "
            f"{last['mean']:.1f} after {int(last['n'])} infusions (n = {count(last['patients'])}).")


def control_chart(points: pd.DataFrame, what: str, period: str = "month") -> str:
    """'Response after 6 infusions by month of series start: every month within its control limits.'
    points: one chart's rows of the shown monthly table (a hidden rate is not judged); period:
    month or quarter."""
    judged = points[pd.to_numeric(points["rate"], errors="coerce").notna()]
    if judged.empty:
        return (f"{what}, by {period} of series start: no {period} can be shown (too few patients, or small "
                "counts hidden)" + ("; by quarter there may be enough." if period == "month" else "."))
    centre = percent(points["centre"].dropna().iloc[0])
    labels = pd.Series(period_labels(judged["month"], period, judged.get("pooled")))
    above = labels[(judged["signal"] == "above").to_numpy()].tolist()
    below = labels[(judged["signal"] == "below").to_numpy()].tolist()
    if not above and not below:
        judged_count = f"{len(judged)} {period}{'s' if len(judged) > 1 else ''}"
        return (f"{what}, by {period} of series start: {judged_count} judged, all within their control limits "
                f"around {centre}; no {period} stands out.")
    parts = ([f"above its limits in {', '.join(above)}"] if above else []) + (
        [f"below in {', '.join(below)}"] if below else [])
    return f"{what}, by {period} of series start: {'; '.join(parts)} (centre line {centre})."


def durability_detail(row) -> str:
    """One group's durability with its interval, and the conservative rate when it is shown."""
    conservative = pd.to_numeric(pd.Series([row.conservative_rate]), errors="coerce").iloc[0]
    return (f"Still responding at one month: {percent(row.durability_rate)} (95% interval {percent(row.rate_low)} "
            f"to {percent(row.rate_high)})" + (f"; {percent(conservative)} if a booster before the follow-up counts "
                                               "as lost." if pd.notna(conservative) else "."))


def data_quality(rows_read: int, rows_used: int, rows_rejected: int, rejections: int) -> str:
    values = max(rejections - rows_rejected, 0)
    return (f"{rows_read:,} rows read: {rows_used:,} used, {rows_rejected:,} rejected whole"
            + (f", and {values:,} single values left out of rows that were kept." if values else "."))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def tiles(shown: dict[str, pd.DataFrame], min_cell: int) -> list[tuple[str, str, str, str]]:
    """The five headline numbers for the whole selected cohort, from its shown tables: (label,
    value, the denominator in words, what it counts) each, for the app's tiles and the report."""
    k = min_cell
    summary = shown["summary"].iloc[0]
    durability = shown["durability"].iloc[0]
    out = [
        (TILE_LABELS[0], count(summary["patients_started"], k), f"{count(summary['in_progress'], k)} still in their series",
         "Patients with at least one infusion of their initial series in the data."),
        (TILE_LABELS[1], percent(summary["completion_rate"]),
         f"{count(summary['completed'], k)} of {count(summary['ended'], k)} whose series ended",
         "Completed the planned series, of the patients whose series has ended (completed or stopped). Patients "
         "still in their series are not counted."),
    ]
    for label, n in ((TILE_LABELS[2], 2), (TILE_LABELS[3], 6)):
        row = _row(shown["response"], n=n)
        if row is None:
            out.append((label, "–", "", f"No patient's series plans {n} infusions."))
            continue
        out.append((label, percent(row["rate"]),
                    f"of {count(row['assessed'], k)} assessed · of all {count(row['evaluable'], k)} who started: "
                    f"{percent(row['cumulative_rate'])} had responded by then",
                    f"Responded after {n} infusions, among the patients with a score then. \"Of all who started\" "
                    "counts every patient with a usable baseline whose series reached this infusion or ended before "
                    "it (intention to treat): one who stopped counts as not responding, unless they had responded."))
    conservative = ("" if _hidden(durability["conservative_rate"]) else
                    f" · {percent(durability['conservative_rate'])} if a booster first counts as lost")
    out.append((TILE_LABELS[4], percent(durability["durability_rate"]),
                f"of {count(durability['followed_up'], k)} followed up{conservative}",
                "Responders at the end of their series, re-assessed about a month later: the share still responding. "
                "Patients without a follow-up are not counted."))
    return out


def thin_denominators(shown: pd.DataFrame, timing: str, end_of_series_days: int, min_cell: int,
                      tile_infusions=(2, 6)) -> list[str]:
    """Why a tile's response rate rests on far fewer patients than the infusion before it (fewer
    than half): said beside the tiles, so that a room does not read a rate of a few as the clinic's.
    shown: the whole cohort's response table as shown."""
    notes = []
    for n in tile_infusions:
        row, before = _row(shown, n=n), _row(shown, n=n - 1)
        if row is None or before is None or _hidden(row["assessed"]) or _hidden(before["assessed"]):
            continue
        if not 0 < row["assessed"] * 2 < before["assessed"]:
            continue
        said = (f"Response after {n} infusions rests on {count(row['assessed'], min_cell)} patients assessed, against "
                f"{count(before['assessed'], min_cell)} after {n - 1}.")
        if timing == "pre" and _row(shown, n=n + 1) is None:
            said += (f" With scores taken before each infusion, the score after the last infusion of a series is one "
                     f"taken within {end_of_series_days} days after it, and most patients have none. If your scores "
                     "are taken after each infusion, set \"Scores are taken\" to after each infusion.")
        else:
            said += f" Most patients who had {n} infusions have no score after the {_ordinal(n)}."
        notes.append(said)
    return notes


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def completion_and_retention(summary: pd.DataFrame, dropout: pd.DataFrame, min_cell: int) -> str:
    """Why the completion tile and the share reaching the last infusion differ: two numbers, said
    as two. summary, dropout: one group's tables as shown."""
    row = summary.iloc[0]
    last = dropout[pd.to_numeric(dropout["n"]) == pd.to_numeric(dropout["n"]).max()]
    if _hidden(row["completion_rate"]) or not len(last) or _hidden(last.iloc[0]["retained"]):
        return ""
    n = int(last.iloc[0]["n"])
    return (f"Completed series ({percent(row['completion_rate'])}) counts only the {count(row['ended'], min_cell)} series "
            f"that have ended; the estimated share reaching infusion {n} ({percent(last.iloc[0]['retained'])}) also "
            f"counts the {count(row['in_progress'], min_cell)} patients still in their series, as far as they have got.")


def within_chance(rows: pd.DataFrame) -> str:
    """' The groups' 95% intervals all overlap: their differences are within what chance allows.'
    or which groups' intervals do not overlap: so that a room does not rank groups on noise.
    rows: one row per group with rate_low and rate_high (as shown; hidden ones are left out)."""
    shown = [(str(g), float(lo), float(hi)) for g, lo, hi in zip(rows["grp"], rows["rate_low"], rows["rate_high"])
             if not _hidden(lo) and not _hidden(hi)]
    if len(shown) < 2:
        return ""
    apart = [f"{a} and {b}" for i, (a, a_lo, a_hi) in enumerate(shown) for b, b_lo, b_hi in shown[i + 1:]
             if a_hi < b_lo or b_hi < a_lo]
    if not apart:
        return " The groups' 95% intervals all overlap: these differences could be chance; do not rank the groups."
    return " 95% intervals that do not overlap: " + "; ".join(apart) + "."
