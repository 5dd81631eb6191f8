"""The words of docs/METHODS.md's panels (keep going at infusion k, as services report it, time to
response, fair comparisons): one plain sentence per panel and the names of bands, categories and
outcomes, for the app (dashboard.ui.decisions) and the report alike. Built from the tables as
shown (dashboard.engine.suppression), so a hidden count or rate stays hidden here too. Plain text: the
caller escapes it for markdown or HTML. No Streamlit."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.engine.suppression import HIDDEN
from dashboard.present.formatting import count, percent

# reliable_change.csv's categories, in the contract's order, in words.
CATEGORY_LABELS = {
    "reliable_improvement": "Reliable improvement",
    "no_reliable_change": "No reliable change",
    "reliable_deterioration": "Reliable deterioration",
    "recovery": "Recovery",
    "reliable_recovery": "Reliable recovery",
}
# What each category means, with the measure's thresholds filled in ({rc}: points, {case}: caseness).
CATEGORY_MEANING = {
    "reliable_improvement": "better by {rc} points or more",
    "no_reliable_change": "changed by less than {rc} points either way",
    "reliable_deterioration": "worse by {rc} points or more",
    "recovery": "started at {case} or above (a clinical case) and ended below {case}",
    "reliable_recovery": "recovered, and better by {rc} points or more",
}
# The funnel's outcomes (funnel.sql), in words: (short name, what the rate is, what its denominator counts).
OUTCOMES = {
    "itt_response": ("Response by the end of the series",
                     "responded by the end of their series, of all who started with a usable baseline",
                     "patients with a usable baseline"),
    "completion": ("Completion", "completed the series, of those whose series ended", "patients whose series ended"),
    "durability": ("Response lasting a month", "still responding at one month, of the responders followed up",
                   "responders followed up"),
}
POSITIONS = {"above": "above the limits", "below": "below the limits", "within": "within the limits"}


def hidden(value) -> bool:
    return value is None or isinstance(value, str) or pd.isna(value)


def number(value) -> float | None:
    """A shown count or rate as a number (None when hidden or missing)."""
    if hidden(value):
        return None
    return float(value)


def _of(part, whole, min_cell: int) -> str:
    return f"{count(part, min_cell)} of {count(whole, min_cell)}"


def _share(rate, part, whole, min_cell: int) -> str:
    """'14% (9 of 64)'; a hidden rate: '<11 of 64' when its count is small, else 'hidden (n = 64)'."""
    if hidden(rate):
        if isinstance(part, str) and part.startswith("<") and not hidden(whole):
            return _of(part, whole, min_cell)
        return "hidden" if whole == HIDDEN else f"hidden (n = {count(whole, min_cell)})"
    return f"{percent(rate)} ({_of(part, whole, min_cell)})"


def groups(frame: pd.DataFrame) -> list[str]:
    return [str(g) for g in dict.fromkeys(frame["grp"])] if len(frame) else []


def _pct(edge: float) -> str:
    return percent(edge).replace("-", "−")


def band_label(band_from, band_to) -> str:
    """An improvement band in words: 'less than 20%', '20% to under 50%', '50% or more'."""
    low = None if band_from is None or pd.isna(band_from) else float(band_from)
    high = None if band_to is None or pd.isna(band_to) else float(band_to)
    if low is None and high is None:
        return "any improvement"
    if low is None:
        return f"less than {_pct(high)}"
    if high is None:
        return f"{_pct(low)} or more"
    return f"{_pct(low)} to under {_pct(high)}"


def ks(early: pd.DataFrame) -> list[int]:
    """The infusion counts k of the early-improvement table."""
    return sorted({int(k) for k in early["k"]}) if len(early) else []


def _early_row(frame: pd.DataFrame, k: int, band: int):
    rows = frame[(frame["k"].astype(int) == k) & (frame["band"].astype(int) == band)]
    return rows.iloc[0] if len(rows) else None


def early_improvement(shown: pd.DataFrame, k: int, min_cell: int, group: str | None = None) -> str:
    """The panel's sentence for infusion k: of the patients in the lowest band after k infusions,
    the share who responded after a later infusion of their series (docs/METHODS.md 5)."""
    frame = shown if group is None else shown[shown["grp"].astype(str) == group]
    if not len(frame) or not len(frame[frame["k"].astype(int) == k]):
        return f"No patient has a score after {k} infusions yet."
    row = _early_row(frame, k, 1)
    band = band_label(row["band_from"], row["band_to"])
    if number(row["patients"]) == 0:
        return f"No patient had improved {band} after {k} infusion{'s' * (k != 1)}."
    lead = f"Of the patients who had improved {band} after {k} infusion{'s' * (k != 1)}"
    scored = row["scored_later"]
    if number(scored) == 0:
        return f"{lead} ({count(row['patients'], min_cell)}), none has a later score in their series yet."
    if hidden(row["later_response_rate"]):
        shown = _share(None, row["responded_later"], scored, min_cell)
        if shown.startswith("<"):
            return f"{lead}, {shown} responded by the end of their series (too few to give a share)."
        return f"{lead}, the share who responded later in their series is {shown}."
    share = _share(row["later_response_rate"], row["responded_later"], scored, min_cell)
    text = f"{lead}, {share} responded by the end of their series"
    left_out = row["no_later_score"]
    if number(left_out) != 0:
        text += f" ({count(left_out, min_cell)} with no later score left out)"
    return text + "."


def early_improvement_by_group(shown: pd.DataFrame, k: int, min_cell: int) -> str:
    """The sentence for several groups at once: each group's share in the lowest band."""
    if not len(shown) or not len(shown[shown["k"].astype(int) == k]):
        return f"No patient has a score after {k} infusions yet."
    first = _early_row(shown, k, 1)
    band = band_label(first["band_from"], first["band_to"])
    parts = []
    for grp in groups(shown):
        row = _early_row(shown[shown["grp"].astype(str) == grp], k, 1)
        parts.append(f"{grp}: " + ("no patient" if number(row["patients"]) == 0 else
                                   _share(row["later_response_rate"], row["responded_later"], row["scored_later"],
                                          min_cell)))
    return (f"Of the patients who had improved {band} after {k} infusion{'s' * (k != 1)}, the share who responded "
            "by the end of their series, by group: " + "; ".join(parts) + ".")


def early_all_started(shown: pd.DataFrame, k: int, min_cell: int, group: str | None = None) -> str:
    """The same band's rate over every patient in it whose series has ended, a patient who stopped
    without a later response counting as not responding (the intention-to-treat rate)."""
    frame = shown if group is None else shown[shown["grp"].astype(str) == group]
    row = _early_row(frame, k, 1) if len(frame) else None
    if row is None or number(row["itt_evaluable"]) == 0:
        return "None of them has finished their series yet."
    return ("Of all of them whose series has ended, counting those who stopped as not responding: "
            f"{_share(row['itt_rate'], row['itt_responded'], row['itt_evaluable'], min_cell)}.")


def early_bands(shown: pd.DataFrame, k: int, min_cell: int, group: str | None = None) -> list[str]:
    """Each band at k in words: 'improved 20% to under 50%: 50% (64 of 128) responded later'."""
    frame = shown if group is None else shown[shown["grp"].astype(str) == group]
    out = []
    for _, row in frame[frame["k"].astype(int) == k].sort_values("band").iterrows():
        out.append(f"Improved {band_label(row['band_from'], row['band_to'])}: "
                   f"{_share(row['later_response_rate'], row['responded_later'], row['scored_later'], min_cell)} "
                   f"responded later; of all whose series ended "
                   f"{_share(row['itt_rate'], row['itt_responded'], row['itt_evaluable'], min_cell)}.")
    return out


def thresholds_missing(measure) -> str:
    """'' when the measure declares caseness and reliable change, else why (some of) docs/METHODS.md 8
    is not computed for it."""
    missing = [what for what, value in (("a caseness score", measure.caseness),
                                        ("a reliable change", measure.reliable_change)) if value is None]
    if not missing:
        return ""
    if len(missing) == 2:
        return (f"{measure.label} declares no caseness score and no reliable change, so these numbers can't be "
                "worked out for it. A measures file can declare both (caseness = ..., reliable_change = ...).")
    return (f"{measure.label} declares no {missing[0].removeprefix('a ')}, so the categories that need it are not "
            "worked out. A measures file can declare it.")


def category_meaning(category: str, measure) -> str:
    rc = "–" if measure.reliable_change is None else f"{measure.reliable_change:g}"
    case = "–" if measure.caseness is None else f"{measure.caseness:g}"
    return CATEGORY_MEANING[category].format(rc=rc, case=case)


def reliable_change(shown: pd.DataFrame, measure, min_cell: int, group: str | None = None) -> str:
    """The panel's sentence: reliable improvement and deterioration of the patients who finished,
    and recovery of those who started at caseness."""
    frame = shown if group is None else shown[shown["grp"].astype(str) == group]
    rows = {r["category"]: r for _, r in frame.iterrows()}
    if not rows:
        return thresholds_missing(measure) or "No patient has finished their series yet."
    parts = []
    first = rows.get("reliable_improvement")
    if first is not None:
        if number(first["denominator"]) == 0:
            return "No patient has finished their series with a score yet."
        parts.append(f"Of the {count(first['denominator'], min_cell)} patients who finished their series, "
                     f"{_share(first['rate'], first['patients'], first['denominator'], min_cell)} improved reliably")
        worse = rows["reliable_deterioration"]
        parts.append(f"{_share(worse['rate'], worse['patients'], worse['denominator'], min_cell)} got reliably worse")
    recovery = rows.get("recovery")
    if recovery is not None and number(recovery["denominator"]) != 0:
        parts.append(f"of the {count(recovery['denominator'], min_cell)} who started as a clinical case, "
                     f"{_share(recovery['rate'], recovery['patients'], recovery['denominator'], min_cell)} recovered")
    return "; ".join(parts) + "."


def deterioration(shown: pd.DataFrame, measure, min_cell: int, group: str | None = None) -> str | None:
    """Reliable deterioration on its own, for the panel's safety line (None when not worked out)."""
    frame = shown if group is None else shown[shown["grp"].astype(str) == group]
    rows = frame[frame["category"] == "reliable_deterioration"]
    if not len(rows):
        return None
    row = rows.iloc[0]
    rc = f"{measure.reliable_change:g}"
    if number(row["patients"]) == 0:
        return (f"No patient who finished their series got reliably worse (by {rc} points or more on "
                f"{measure.label}); {count(row['denominator'], min_cell)} finished.")
    share = "" if hidden(row["rate"]) else f" ({percent(row['rate'])})"
    return (f"Got reliably worse (by {rc} points or more on {measure.label}): {count(row['patients'], min_cell)} of "
            f"the {count(row['denominator'], min_cell)} patients who finished their series{share}. "
            "Review these patients.")


def _days(value) -> str:
    return f"{int(value)} day{'s' * (int(value) != 1)}"


def time_to_response_curve(shown: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The time-to-response curve as it is shown: by week since the first infusion when small
    counts are hidden (a single day's counts are small; dashboard.engine.suppression.metric_frames), else
    by day. shown: the shown tables by name (MetricTables.shown)."""
    weekly = shown.get("time_to_response_weekly")
    return weekly if weekly is not None else shown["time_to_response"]


def by_week(curve: pd.DataFrame) -> bool:
    """Whether a shown time-to-response curve is pooled by week (it has a `week` column)."""
    return "week" in curve.columns


def hidden_weeks(curve: pd.DataFrame, group: str | None = None) -> list[int]:
    """The weeks of a weekly curve (one group's, or the first group's) whose share is not shown."""
    if not by_week(curve) or not len(curve):
        return []
    rows = curve[curve["grp"].astype(str) == (group if group is not None else str(curve["grp"].iloc[0]))]
    return [int(w) for w, v in zip(rows["week"], rows["responded_share"]) if hidden(v)]


def weeks_text(weeks: list[int]) -> str:
    """'week 4', 'weeks 4 and 5' or 'weeks 4 to 7' (a weekly curve hides from its first hidden week on)."""
    if len(weeks) == 1:
        return f"week {weeks[0]}"
    return f"weeks {weeks[0]} and {weeks[1]}" if len(weeks) == 2 else f"weeks {weeks[0]} to {weeks[-1]}"


def curve_note(curve: pd.DataFrame, min_cell: int, several: bool = False) -> str:
    """For a weekly curve: that it is by week, and why; and which weeks are not shown (for one
    group). Empty for a daily curve."""
    if not by_week(curve):
        return ""
    note = (f"With counts below {min_cell} hidden, the curve is shown by week since the first infusion (days 0 to 6 "
            "are week 1): a single day's counts are too small to show. Each point is the estimated share responded "
            "by the end of that week.")
    weeks = [] if several else hidden_weeks(curve)
    if weeks:
        note += (f" {weeks_text(weeks).capitalize()} {'is' if len(weeks) == 1 else 'are'} not shown: "
                 f"{'it rests' if len(weeks) == 1 else 'they rest'} on counts below {min_cell} (each week's share "
                 "rests on every week before it).")
    elif several:
        note += (f" A group's curve stops at its first week with a count below {min_cell}: each week's share rests on "
                 "every week before it.")
    return note


def medians(shown: pd.DataFrame) -> pd.DataFrame:
    """Per group of the shown time-to-response table: the patients on the curve (at risk on its
    first day), how many responded (None when a day's count is hidden), the median days with its
    interval, and whether part of the curve is hidden (suppression)."""
    rows = []
    for grp in groups(shown):
        g = shown[shown["grp"].astype(str) == grp]
        first = g.iloc[0]
        counts = pd.to_numeric(g["responded"], errors="coerce")
        rows.append({"grp": grp, "patients": first["at_risk"],
                     "responded": None if counts.isna().any() else int(counts.sum()),
                     "median_days": first["median_days"], "median_low": first["median_low"],
                     "median_high": first["median_high"],
                     "curve_hidden": bool(pd.to_numeric(g["responded_share"], errors="coerce").isna().any())})
    return pd.DataFrame(rows, columns=["grp", "patients", "responded", "median_days", "median_low", "median_high",
                                       "curve_hidden"])


def time_to_response(shown: pd.DataFrame, min_cell: int, group: str | None = None) -> str:
    """The median time to response in words, with its interval (docs/METHODS.md 9-10): the day by which
    an estimated half of the patients had responded, those not (yet) responding counted until their
    last score. shown: the time-to-response curve as shown (by day, or by week: the medians are
    read off the daily curve either way; see time_to_response_curve)."""
    table = medians(shown)
    rows = table if group is None else table[table["grp"] == group]
    if not len(rows):
        return "No patient has a score after an infusion yet."
    row = rows.iloc[0]
    so_far = ("" if row["responded"] is None or pd.isna(row["responded"]) else
              f"; {count(row['responded'], min_cell)} of {count(row['patients'], min_cell)} have responded so far")
    if hidden(row["median_days"]):
        g = shown[shown["grp"].astype(str) == str(row["grp"])]
        some_shown = (pd.to_numeric(g["responded_share"], errors="coerce") > 0).any()
        if by_week(shown) and row["curve_hidden"] and not some_shown:
            # (A share above 0 shown means a week's responses, at least min_cell, are shown: then
            # the median is missing because fewer than half have responded, not because it's hidden.)
            return ("Days to response can't be shown here: even by week since the first infusion, the curve rests "
                    f"on counts below {min_cell}{so_far}.")
        if not by_week(shown) and row["curve_hidden"]:
            return ("Days to response can't be shown here: the curve rests on counts of single days, some of them "
                    f"below {min_cell}{so_far}.")
        return ("Fewer than half of the patients have responded so far, so the time by which half respond can't be "
                f"read yet{so_far}.")
    low, high = row["median_low"], row["median_high"]
    interval = (f"95% interval {int(low)} to {int(high)} days" if not hidden(low) and not hidden(high) else
                f"95% interval from {int(low)} days, its top not reached yet" if not hidden(low) else "")
    # By week, the week it falls in too: the chart marks the median at the end of that week.
    week = f", that is by the end of week {int(row['median_days']) // 7 + 1}" if by_week(shown) else ""
    return (f"Half of the patients had responded within {_days(row['median_days'])} of their first infusion{week}"
            + (f" ({interval})" if interval else "") + f"{so_far}.")


def funnel(rows: pd.DataFrame, outcome: str, dimension: str, min_cell: int) -> str:
    """Which groups lie outside the 99.8% limits, named in the order of the table (by name, never
    by rate); or that none does."""
    what = OUTCOMES[outcome][0].lower()
    if not len(rows):
        return f"No group to compare by {dimension}."
    target = rows["target"].dropna()
    centre = f" around the average of {percent(target.iloc[0])}" if len(target) and not hidden(target.iloc[0]) else ""
    judged = rows[rows["position"].isin(["above", "below", "within"])]
    outside = judged[judged["position"] != "within"]
    unjudged = len(rows) - len(judged)
    tail = (f" {unjudged} group{'s' * (unjudged != 1)} too small to show or with no patients "
            f"{'are' if unjudged != 1 else 'is'} not judged." if unjudged else "")
    if not len(judged):
        return f"{what.capitalize()}, by {dimension}: no group can be shown.{tail}"
    if not len(outside):
        return (f"{what.capitalize()}, by {dimension}: every group shown lies within the limits{centre}; "
                f"no group stands out beyond chance.{tail}")
    named = "; ".join(f"{g} ({'above' if p == 'above' else 'below'}: "
                      f"{percent(r)}, {_of(num, den, min_cell)})"
                      for g, p, r, num, den in zip(outside["grp"], outside["position"], outside["rate"],
                                                   outside["numerator"], outside["denominator"]))
    return (f"{what.capitalize()}, by {dimension}: outside the outer (99.8%) limits{centre}: {named}. "
            f"Every other group lies within them.{tail}")
