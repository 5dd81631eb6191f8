"""Issue 13 gap: the days-to-response curve by week when small counts are hidden (min_cell > 0).

A single day's counts are small, so with suppression on the daily curve was hidden whole. The
curve is now pooled by week since the first infusion (days 0-6 are week 1): the Kaplan-Meier
estimate at the end of each week, with the week's responses and censorings summed and the number
at risk at its start (dashboard.engine.metrics.weekly_time_to_response); suppression then applies to
those weekly rows. Checked on a handful of patients by hand, against the daily curve and lifelines
on random data (hypothesis), on the sample at min_cell 11, and in the export: with --min-cell 2 or
more its daily file leaves every day's counts and shares empty, and the weeks are written to
time_to_response_weekly.csv as the app shows them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, load_files, metrics_for
from hypothesis import given
from hypothesis import strategies as st
from test_new_metrics import PROPERTIES, clinics, to_csv

from dashboard.core.settings import Settings
from dashboard.engine.metrics import WEEKLY_COLUMNS, Cohort, Engine, weekly_time_to_response
from dashboard.engine.suppression import HIDDEN, metric_frames, shown_metrics
from dashboard.present import decisions_text as words

SAMPLE = ROOT / "sample_data" / "ketamine_clinic_export.csv"
DAY0 = date(2025, 1, 6)

# Eight patients, PHQ-9, baseline 20 the day before their first infusion (day 0), pre timing (the
# score at infusion n + 1 is the score after n): response is a score of 10 or less. Days from the
# first infusion to the visit carrying the first responding score, or (censored) the last score
# after an infusion:
#   P1  infusions on days 0, 2, 4 (scores 20 18 9):        responds on day 4   (week 1)
#   P2  infusions on days 0, 3, 5 (20 15 14):              censored on day 5   (week 1)
#   P3  infusions on days 0, 3, 7 (20 17 10):              responds on day 7   (week 2)
#   P4  infusions on days 0, 4, 9, 13 (20 16 12 8):        responds on day 13  (week 2)
#   P5  infusions on days 0, 5, 10 (20 18 17):             censored on day 10  (week 2)
#   P6  infusions on days 0, 7, 14, 16 (20 15 12 6):       responds on day 16  (week 3)
#   P7  infusions on days 0, 7, 14, 20 (20 19 18 14):      censored on day 20  (week 3)
#   P8  infusions on days 0, 7, 14, 21, 28 (20 19 18 17 7): responds on day 28 (week 5; none in week 4)
PATIENTS = {
    "P1": [(0, 20), (2, 18), (4, 9)],
    "P2": [(0, 20), (3, 15), (5, 14)],
    "P3": [(0, 20), (3, 17), (7, 10)],
    "P4": [(0, 20), (4, 16), (9, 12), (13, 8)],
    "P5": [(0, 20), (5, 18), (10, 17)],
    "P6": [(0, 20), (7, 15), (14, 12), (16, 6)],
    "P7": [(0, 20), (7, 19), (14, 18), (20, 14)],
    "P8": [(0, 20), (7, 19), (14, 18), (21, 17), (28, 7)],
}


def hand_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["patient_id", "session_date", "session_type", "site", "phq9"])
    for pid, infusions in PATIENTS.items():
        writer.writerow([pid, (DAY0 - timedelta(days=1)).isoformat(), "baseline", "North", 20])
        for day, score in infusions:
            writer.writerow([pid, (DAY0 + timedelta(days=day)).isoformat(), "infusion", "North", score])
    return out.getvalue().encode()


def test_weekly_curve_by_hand():
    """Daily (day: at risk, responded, censored; S = the share not yet responded):
        day 4: 8, 1, 0   S = 7/8
        day 5: 7, 0, 1   S = 7/8
        day 7: 6, 1, 0   S = 7/8 x 5/6 = 35/48
        day 10: 5, 0, 1  S = 35/48
        day 13: 4, 1, 0  S = 35/48 x 3/4 = 35/64
        day 16: 3, 1, 0  S = 35/64 x 2/3 = 35/96
        day 20: 2, 0, 1  S = 35/96
        day 28: 1, 1, 0  S = 0
    By week (at risk at its start, counts summed, S at its end):
        week 1 (days 0-6, days 4 and 5):      at risk 8, responded 1, censored 1, share 1 - 7/8 = 1/8
        week 2 (days 7-13, days 7, 10, 13):   at risk 6 (8 - 1 - 1), responded 2, censored 1,
                                              share 1 - 35/64 = 29/64
        week 3 (days 14-20, days 16 and 20):  at risk 3 (6 - 2 - 1), responded 1, censored 1,
                                              share 1 - 35/96 = 61/96
        week 4 (days 21-27): nobody responds or leaves: no row
        week 5 (days 28-34, day 28):          at risk 1 (3 - 1 - 1), responded 1, censored 0, share 1
    The median, read off the daily curve: the first day S <= 1/2 is day 16 (S = 35/96; on day 13
    S = 35/64 > 1/2), in week 3."""
    m = metrics_for(load_files(("weeks.csv", hand_csv())), planned=6)
    daily = m.time_to_response
    assert [tuple(r) for r in daily[["day", "at_risk", "responded", "censored"]].itertuples(index=False)] == [
        (4, 8, 1, 0), (5, 7, 0, 1), (7, 6, 1, 0), (10, 5, 0, 1), (13, 4, 1, 0), (16, 3, 1, 0), (20, 2, 0, 1),
        (28, 1, 1, 0)]
    weekly = m.time_to_response_by_week()
    assert list(weekly.columns) == WEEKLY_COLUMNS
    assert [tuple(r) for r in weekly[["week", "first_day", "last_day", "at_risk", "responded", "censored"]]
            .itertuples(index=False)] == [(1, 0, 6, 8, 1, 1), (2, 7, 13, 6, 2, 1), (3, 14, 20, 3, 1, 1),
                                          (5, 28, 34, 1, 1, 0)]
    assert weekly["responded_share"].tolist() == pytest.approx([1 / 8, 29 / 64, 61 / 96, 1])
    # The bounds are the daily curve's on the week's last day with an event (days 5, 13, 20, 28).
    at_end = daily.set_index("day").loc[[5, 13, 20, 28]]
    for col in ("share_low", "share_high"):
        assert weekly[col].tolist() == pytest.approx(at_end[col].tolist())
    assert weekly[["median_days"]].drop_duplicates().iloc[0, 0] == 16
    assert (weekly["median_days"] // 7 + 1).iloc[0] == 3


def test_weekly_curve_of_nothing_is_empty():
    empty = weekly_time_to_response(pd.DataFrame())
    assert list(empty.columns) == WEEKLY_COLUMNS and not len(empty)


def daily_curve(groups: dict[str, list[tuple[int, bool]]]) -> pd.DataFrame:
    """The time_to_response table (as queries/time_to_response.sql writes it) from each group's
    (day, responded) per patient, through lifelines (an independent Kaplan-Meier)."""
    from lifelines import KaplanMeierFitter

    frames = []
    for grp, times in groups.items():
        days = np.array([d for d, _ in times])
        events = np.array([int(r) for _, r in times])
        fit = KaplanMeierFitter().fit(days, events)
        table = fit.event_table.loc[lambda t: (t["observed"] + t["censored"]) > 0]
        ci = fit.confidence_interval_
        s = fit.survival_function_.iloc[:, 0]
        below = s[s <= 0.5 + 1e-9]
        frames.append(pd.DataFrame({
            "grp": grp, "day": table.index.astype(int), "at_risk": table["at_risk"].to_numpy(),
            "responded": table["observed"].to_numpy(), "censored": table["censored"].to_numpy(),
            "responded_share": 1 - s.loc[table.index].to_numpy(),
            "share_low": 1 - ci.iloc[:, 1].loc[table.index].to_numpy(),
            "share_high": 1 - ci.iloc[:, 0].loc[table.index].to_numpy(),
            "median_days": below.index.min() if len(below) else np.nan, "median_low": np.nan,
            "median_high": np.nan}))
    return pd.concat(frames, ignore_index=True)


PATIENT_TIMES = st.lists(st.tuples(st.integers(0, 70), st.booleans()), min_size=1, max_size=40)


@PROPERTIES
@given(st.dictionaries(st.sampled_from(["North", "South", "East"]), PATIENT_TIMES, min_size=1, max_size=3))
def test_weekly_curve_is_the_daily_curve_at_each_weeks_last_day(groups):
    """Each week's share (and its bounds) is the daily curve at the week's last day (7w - 1), a
    step function read with lifelines; the weekly curve never falls; the counts are the days'
    summed, and the number at risk is every patient whose time is in the week or later."""
    from lifelines import KaplanMeierFitter

    daily = daily_curve(groups)
    weekly = weekly_time_to_response(daily)
    assert weekly["grp"].drop_duplicates().tolist() == list(groups)
    for grp, times in groups.items():
        rows = weekly[weekly["grp"] == grp]
        fit = KaplanMeierFitter().fit([d for d, _ in times], [int(r) for _, r in times])
        ends = (rows["week"] * 7 - 1).to_numpy()
        assert rows["responded_share"].to_numpy() == pytest.approx(1 - fit.survival_function_at_times(ends).to_numpy())
        assert (rows["responded_share"].diff().dropna() >= -1e-12).all()
        assert rows["week"].is_monotonic_increasing and rows["week"].is_unique
        for row in rows.itertuples():
            in_week = [(d, r) for d, r in times if (d // 7 + 1) == row.week]
            assert in_week  # a row only for a week with an event
            assert (row.responded, row.censored) == (sum(r for _, r in in_week), sum(not r for _, r in in_week))
            assert row.at_risk == sum(d >= 7 * (row.week - 1) for d, _ in times)
            last = daily[(daily["grp"] == grp) & (daily["day"] <= row.last_day)].iloc[-1]
            assert (row.share_low, row.share_high) == pytest.approx((last.share_low, last.share_high))
        assert rows["responded"].sum() + rows["censored"].sum() == len(times)


@PROPERTIES
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_weekly_curve_from_the_engine(rows, timing):
    """The same on the engine's own curve (random clinics, split by site): the weekly share at
    each week is the daily share on the last day with an event up to the week's end."""
    m = metrics_for(load_files(("x.csv", to_csv(rows))), Cohort.of(split_by="site"), score_timing=timing)
    daily, weekly = m.time_to_response, m.time_to_response_by_week()
    assert set(weekly["grp"]) == set(daily["grp"])
    for row in weekly.itertuples():
        days = daily[(daily["grp"] == row.grp) & (daily["day"] <= row.last_day)]
        assert row.responded_share == pytest.approx(days["responded_share"].iloc[-1])
        first = daily[(daily["grp"] == row.grp) & (daily["day"] >= row.first_day)].iloc[0]
        assert row.at_risk == first.at_risk
    for _, curve in weekly.groupby("grp"):
        assert (curve["responded_share"].diff().dropna() >= -1e-12).all()
        at_risk = curve["at_risk"].to_numpy()
        left = at_risk - curve["responded"].to_numpy() - curve["censored"].to_numpy()
        assert (left[:-1] == at_risk[1:]).all() and left[-1] == 0


# --- Suppression on the sample ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    return Engine(load_files((SAMPLE.name, SAMPLE.read_bytes())))


def assert_no_small_count_shown(frame: pd.DataFrame, k: int) -> None:
    for col in ("at_risk", "responded", "censored"):
        for v in frame[col]:
            assert v in (f"<{k}", HIDDEN) or v == 0 or (not isinstance(v, str) and v >= k), (col, v)


@pytest.mark.parametrize("split", ["", "site"])
def test_sample_at_eleven_shows_weekly_points(sample, split):
    """At the shared screen's minimum (11) the curve was hidden whole (day 2: 9 censored); by week
    its first weeks are shown, no shown count is below 11 (or is 0), and the median stays."""
    s = Settings(min_cell=11)
    whole = sample.compute(s)
    m = sample.compute(s, Cohort(split_by=split)) if split else whole
    shown = shown_metrics(m, whole if split else None)
    weekly = words.time_to_response_curve(shown)
    assert words.by_week(weekly)
    names = ["time_to_response_weekly"] + (["overall.time_to_response_weekly"] if split else [])
    for name in names:
        assert_no_small_count_shown(shown[name], 11)
        # The daily table beside it is withheld whole (a week's share would give its small counts away).
        daily = shown[name.replace("_weekly", "")]
        assert daily[["at_risk", "responded", "censored", "responded_share"]].isna().all().all()
    points = pd.to_numeric(weekly["responded_share"], errors="coerce").notna()
    assert points.any()
    for grp, rows in weekly.groupby("grp"):  # shown from week 1 up to the first hidden week
        shown_points = points[rows.index].tolist()
        assert shown_points == sorted(shown_points, reverse=True)
    if not split:
        raw = m.time_to_response_by_week()
        # Weeks 1-3 (197, 151 and 33 responses) are shown; week 4 has 4 responses and week 5 is tiny.
        assert points.tolist() == [True, True, True, False, False]
        assert weekly["responded_share"][:3].tolist() == pytest.approx(raw["responded_share"][:3].tolist())
        assert weekly["responded"][:3].tolist() == [197, 151, 33]
        assert words.time_to_response(weekly, 11) == ("Half of the patients had responded within 8 days of their "
                                                      "first infusion, that is by the end of week 2 (95% interval 7 "
                                                      "to 8 days).")
        assert words.hidden_weeks(weekly) == [4, 5]
        assert "Weeks 4 and 5 are not shown" in words.curve_note(weekly, 11)


def test_sample_at_eleven_nothing_small_recoverable(sample):
    """The weekly and daily tables suppressed together, split by site with the whole beside it:
    no small count can be worked out from the sums a reader knows (weeks adding up to days too)."""
    from test_suppression import assert_nothing_small_recoverable

    s = Settings(min_cell=11)
    m, whole = sample.compute(s, Cohort(split_by="site")), sample.compute(s)
    frames = {name: frame.reset_index(drop=True) for name, frame in
              (metric_frames(m) | metric_frames(whole, "overall.")).items() if "time_to_response" in name}
    shown = shown_metrics(m, whole)
    assert_nothing_small_recoverable(frames, {name: shown[name] for name in frames}, 11)


def test_median_hidden_only_when_few_responded():
    """Three patients: A responds on day 3, B on day 5, C is censored on day 9 (S = 2/3, 1/3, 1/3:
    the median is day 5). At min_cell 3 the two responses in all are a small count: the median is
    hidden, and so is the curve. At min_cell 2 they are not: the median is shown, though the
    curve is hidden (week 2's single censoring is small, and with it week 1's counts, which would
    give it away: 3 at risk = 2 responded + week 2's 1). At min_cell 1 nothing is small."""
    rows = {"A": [(0, 20), (3, 8)], "B": [(0, 20), (5, 8)], "C": [(0, 20), (9, 17)]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["patient_id", "session_date", "session_type", "site", "phq9"])
    for pid, infusions in rows.items():
        writer.writerow([pid, (DAY0 - timedelta(days=1)).isoformat(), "baseline", "North", 20])
        for day, score in infusions:
            writer.writerow([pid, (DAY0 + timedelta(days=day)).isoformat(), "infusion", "North", score])
    engine = Engine(load_files(("few.csv", out.getvalue().encode())))
    assert engine.compute(Settings()).time_to_response["median_days"].iloc[0] == 5
    shown = shown_metrics(engine.compute(Settings(min_cell=3)))["time_to_response_weekly"]
    assert shown["median_days"].isna().all() and shown["responded_share"].isna().all()
    assert words.time_to_response(shown, 3).startswith("Days to response can't be shown here: even by week")
    shown = shown_metrics(engine.compute(Settings(min_cell=2)))["time_to_response_weekly"]
    assert shown["median_days"].iloc[0] == 5 and shown["responded_share"].isna().all()
    assert words.time_to_response(shown, 2).startswith("Half of the patients had responded within 5 days of their "
                                                       "first infusion, that is by the end of week 1")
    # At 1 no count is small: the daily curve is shown whole, not by week.
    shown = shown_metrics(engine.compute(Settings(min_cell=1)))
    assert "time_to_response_weekly" not in shown
    daily = shown["time_to_response"]
    assert daily["median_days"].iloc[0] == 5 and pd.to_numeric(daily["responded_share"]).notna().all()


DAILY_FILE_COLUMNS = ["day", "at_risk", "responded", "censored", "responded_share", "share_low", "share_high"]
WEEKLY_FILE_COLUMNS = [c for c in WEEKLY_COLUMNS if c != "grp"]


def read_written(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def as_shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A written file's cells as shown_tables writes them: empty as None, '<K' and 'hidden' as
    they are, numbers as numbers."""
    def cell(v):
        if v == "":
            return None
        if v == HIDDEN or v.startswith("<"):
            return v
        return float(v)
    return pd.DataFrame({c: pd.Series([cell(v) for v in frame[c]], index=frame.index, dtype=object)
                         for c in frame.columns})


def test_export_at_eleven_writes_the_days_empty_and_the_weeks_as_shown(sample, tmp_path):
    """--min-cell 11: time_to_response.csv keeps docs/METHODS.md 19's columns and one row per day with
    an event, but every day's counts and shares are empty (beside the weekly shares, a day's counts,
    even hidden one by one, could be worked out by trying the few splits of a week: day 2's 9
    censored was). time_to_response_weekly.csv holds the weekly curve as the app and the report
    show it, cell for cell, with no shown count from 1 to 10; and nothing small can be worked out
    from the two files."""
    from test_suppression import assert_nothing_small_recoverable

    from dashboard import export

    out = tmp_path / "out"
    assert export.main([str(SAMPLE), "--out", str(out), "--min-cell", "11"]) == 0
    m = sample.compute(Settings(min_cell=11))
    daily = read_written(out / "time_to_response.csv")
    assert list(daily.columns) == DAILY_FILE_COLUMNS
    assert daily["day"].astype(int).tolist() == m.time_to_response["day"].tolist()
    assert (daily[DAILY_FILE_COLUMNS[1:]] == "").all().all()

    weekly = read_written(out / "time_to_response_weekly.csv")
    assert list(weekly.columns) == WEEKLY_FILE_COLUMNS
    app = shown_metrics(m)["time_to_response_weekly"]
    assert len(weekly) == len(app) == 5
    assert (pd.to_numeric(weekly["responded_share"], errors="coerce").notna()).any()
    counts = weekly[["at_risk", "responded", "censored"]].map(lambda v: v if v in ("<11", HIDDEN) else int(v))
    assert_no_small_count_shown(counts, 11)
    assert weekly["responded"][:3].tolist() == ["197", "151", "33"]
    written = as_shown(weekly)
    for col in WEEKLY_FILE_COLUMNS:
        for got, want in zip(written[col], app[col]):
            if isinstance(want, str) or want is None or pd.isna(want):
                assert got == (want if isinstance(want, str) else None), (col, got, want)
            else:
                assert got == pytest.approx(float(want)), (col, got, want)
    # The medians stay (read off the daily curve, over every patient): 8 days (7 to 8).
    assert set(zip(weekly["median_days"], weekly["median_low"], weekly["median_high"])) == {("8", "7", "8")}

    frames = {"time_to_response": m.time_to_response, "time_to_response_weekly": m.time_to_response_by_week()}
    shown = {"time_to_response": as_shown(daily.drop(columns="day")).assign(day=daily["day"]),
             "time_to_response_weekly": written}
    assert_nothing_small_recoverable(frames, shown, 11)


def test_export_at_eleven_by_site_is_suppressed_with_the_whole(sample, tmp_path):
    """--compare-by site --min-cell 11: the groups' weeks are suppressed beside the whole cohort's
    (as in the app's comparison), so that the export by site, with the weeks of the export of all
    patients, gives no small count away (without it, Riverside's 8 responses in week 3 were the
    whole's 33 less Central's 12 and North's 13)."""
    from test_suppression import assert_nothing_small_recoverable

    from dashboard import export

    split, whole = tmp_path / "split", tmp_path / "whole"
    assert export.main([str(SAMPLE), "--out", str(split), "--min-cell", "11", "--compare-by", "site"]) == 0
    assert export.main([str(SAMPLE), "--out", str(whole), "--min-cell", "11"]) == 0
    daily = read_written(split / "time_to_response.csv")
    assert list(daily.columns) == ["group", *DAILY_FILE_COLUMNS]
    assert (daily[DAILY_FILE_COLUMNS[1:]] == "").all().all()
    weekly = read_written(split / "time_to_response_weekly.csv")
    assert list(weekly.columns) == ["group", *WEEKLY_FILE_COLUMNS]
    s = Settings(min_cell=11)
    m, overall = sample.compute(s, Cohort(split_by="site")), sample.compute(s)
    app = shown_metrics(m, overall)["time_to_response_weekly"]
    written = as_shown(weekly.drop(columns="group"))
    assert weekly["group"].tolist() == app["grp"].tolist()
    for col in ("at_risk", "responded", "censored"):
        assert written[col].tolist() == [v if isinstance(v, str) else float(v) for v in app[col]], col
    frames = {"time_to_response": m.time_to_response, "time_to_response_weekly": m.time_to_response_by_week(),
              "overall.time_to_response": overall.time_to_response,
              "overall.time_to_response_weekly": overall.time_to_response_by_week()}
    whole_weekly = as_shown(read_written(whole / "time_to_response_weekly.csv"))
    shown = {"time_to_response": frames["time_to_response"].assign(at_risk=None, responded=None, censored=None),
             "time_to_response_weekly": written,
             "overall.time_to_response": frames["overall.time_to_response"].assign(at_risk=None, responded=None,
                                                                                  censored=None),
             "overall.time_to_response_weekly": whole_weekly}
    assert_nothing_small_recoverable(frames, shown, 11)


@pytest.mark.parametrize("k", ["0", "1"])
def test_export_without_suppression_is_daily_and_whole(sample, tmp_path, k):
    """--min-cell 0 (and 1, where no count is small): the daily file as ever, every count and share
    written, and no weekly file."""
    from dashboard import export

    out = tmp_path / "out"
    assert export.main([str(SAMPLE), "--out", str(out), "--min-cell", k]) == 0
    assert not (out / "time_to_response_weekly.csv").exists()
    daily = read_written(out / "time_to_response.csv")
    assert list(daily.columns) == DAILY_FILE_COLUMNS
    raw = sample.compute(Settings(min_cell=int(k))).time_to_response
    assert daily[["day", "at_risk", "responded", "censored"]].astype(int).values.tolist() == (
        raw[["day", "at_risk", "responded", "censored"]].values.tolist())
    assert daily.loc[0, ["day", "at_risk", "responded", "censored"]].tolist() == ["2", "549", "31", "9"]
    for col in ("responded_share", "share_low", "share_high"):
        assert daily[col].astype(float).tolist() == pytest.approx(raw[col].tolist())
