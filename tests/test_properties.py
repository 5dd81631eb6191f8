"""Invariants on random clinics (hypothesis): every row used or rejected exactly once; rates in
0..1; retention never rises; cumulative response never falls; results independent of row order,
of splitting one file into several, and of wide versus long layout."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import pandas as pd
from conftest import load_files, metrics_for
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dashboard.export import FILES

START = date(2025, 1, 1)
MEASURES = ("phq9", "gad7")


@st.composite
def clinics(draw):
    """Rows of a wide export: a few patients with baselines, infusion series with gaps, follow-ups."""
    rows = []
    for p in range(draw(st.integers(1, 7))):
        day = draw(st.integers(0, 60))
        score = st.one_of(st.none(), st.integers(0, 27))
        if draw(st.booleans()):
            rows.append([f"P{p}", day - draw(st.integers(0, 40)), "baseline", draw(score), draw(score)])
        for _ in range(draw(st.integers(0, 8))):
            rows.append([f"P{p}", day, "infusion", draw(score), draw(score)])
            day += draw(st.sampled_from([1, 2, 3, 4, 7, 15, 22, 30]))
        for _ in range(draw(st.integers(0, 2))):
            rows.append([f"P{p}", day + draw(st.integers(0, 50)), "follow_up", draw(score), draw(score)])
    # Same patient, date and type twice would merge, which the layout tests handle separately.
    seen, unique = set(), []
    for r in rows:
        if (r[0], r[1], r[2]) not in seen:
            seen.add((r[0], r[1], r[2]))
            unique.append(r)
    return unique


def to_csv(rows, header=("patient_id", "session_date", "session_type", *MEASURES)) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow(["" if v is None else (START + timedelta(days=v)).isoformat() if i == 1 else v
                         for i, v in enumerate(r)])
    return out.getvalue().encode()


def to_long_csv(rows) -> bytes:
    long = [[p, d, t, m, s] for p, d, t, *scores in rows for m, s in zip(MEASURES, scores)]
    return to_csv(long, ("patient_id", "session_date", "session_type", "measure", "score"))


def tables(dataset, **kw) -> dict[str, pd.DataFrame]:
    m = metrics_for(dataset, **kw)
    return {name: getattr(m, name).reset_index(drop=True)
            for name in ("summary", "response", "late_response", "dropout", "durability")}


def assert_same(a, b):
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(clinics(), st.lists(st.sampled_from(["No-show", "bad-score", "no-id", "bad-date", "repeat"]), max_size=5))
def test_every_row_used_or_rejected_once(rows, noise):
    rows = list(rows)
    rnd = random.Random(len(rows))
    extra = []
    for kind in noise:
        base = list(rnd.choice(rows)) if rows else ["P0", 0, "infusion", 5, 5]
        if kind == "No-show":
            base[2] = "No-show"
        elif kind == "bad-score":
            base[1] += 1000
            base[3] = 99
        elif kind == "no-id":
            base[0] = ""
        elif kind == "bad-date":
            base[1] = None
        extra.append(base)
    text = to_csv(rows + extra).decode()
    ds = load_files(("x.csv", text.encode()))
    lines = len(text.strip().splitlines()) - 1
    assert ds.rows_read == lines
    assert ds.rows_used + ds.rows_rejected == lines
    rejected_rows = ds.con.execute(
        "SELECT count(DISTINCT line) FROM rejections WHERE \"column\" IN ('', 'patient_id', 'session_date', 'session_type')"
    ).fetchone()[0]
    assert rejected_rows == ds.rows_rejected


@SETTINGS
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_rates_in_range_and_curves_monotone(rows, timing):
    ds = load_files(("x.csv", to_csv(rows)))
    m = metrics_for(ds, score_timing=timing)
    for frame, cols in ((m.response, FILES["response_by_infusion.csv"][1]), (m.late_response, ["late_response_rate"]),
                        (m.dropout, ["retained"]), (m.durability, FILES["durability.csv"][1])):
        for col in cols:
            if col.endswith(("rate", "_low", "_high", "retained")):
                values = frame[col].dropna()
                assert ((values >= 0) & (values <= 1)).all(), col
    assert (m.dropout["retained"].diff().dropna() <= 1e-12).all()
    r = m.response.dropna(subset=["rate"])
    assert ((r["rate_low"] <= r["rate"] + 1e-12) & (r["rate"] <= r["rate_high"] + 1e-12)).all()
    # outcomes.sql relies on it: no score is "after n infusions" for n beyond the series' length.
    assert ds.con.execute(
        "SELECT count(*) FROM responses r JOIN patient_series s USING (patient_key) WHERE r.n > s.infusions"
    ).fetchone()[0] == 0


@SETTINGS
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_cumulative_response_never_falls_once_series_have_ended(rows, timing):
    """With no series in progress the ITT denominator is fixed, so cumulative response can only rise.
    (Patients in progress leave the denominator at the infusions they have not reached yet.)"""
    ds = load_files(("x.csv", to_csv(rows)))
    m = metrics_for(ds, score_timing=timing, as_of=START + timedelta(days=400))
    assert (m.summary["in_progress"] == 0).all()
    assert (m.response["cumulative_responders"].diff().dropna() >= 0).all()
    assert (m.response["cumulative_rate"].diff().dropna() >= -1e-12).all()


@SETTINGS
@given(clinics(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert_same(tables(load_files(("x.csv", to_csv(rows)))), tables(load_files(("x.csv", to_csv(shuffled)))))


@SETTINGS
@given(clinics(), st.integers(1, 4))
def test_splitting_into_files_does_not_matter(rows, parts):
    files = [(f"part{i}.csv", to_csv(rows[i::parts])) for i in range(parts)]
    assert_same(tables(load_files(("x.csv", to_csv(rows)))), tables(load_files(*files)))


@SETTINGS
@given(clinics())
def test_wide_and_long_layouts_agree(rows):
    wide, long = load_files(("w.csv", to_csv(rows))), load_files(("l.csv", to_long_csv(rows)))
    assert_same(tables(wide), tables(long))
    assert_same(tables(wide, measure="gad7"), tables(long, measure="gad7"))


@SETTINGS
@given(clinics(), st.sampled_from(["month", "quarter"]), st.integers(0, 420))
def test_the_period_under_way_is_pooled_by_date_alone(rows, period, as_of_day):
    """The p-charts with counts hidden (docs/METHODS.md 12) against the same charts without: the same
    counts, except that when the last period is the one under way at the as-of date (not its last
    day) and an earlier one has series starts, its counts are added to the period before it; the
    centre line is unchanged, and which point is pooled depends on dates only."""
    ds = load_files(("x.csv", to_csv(rows)))
    as_of = START + timedelta(days=as_of_day)
    try:
        plain = metrics_for(ds, control_period=period, as_of=as_of).monthly
    except ValueError:  # an as-of date after today
        return
    pooled = metrics_for(ds, control_period=period, as_of=as_of, min_cell=11).monthly
    assert not plain["pooled"].any()
    current = pd.Timestamp(as_of).to_period("Q" if period == "quarter" else "M")
    under_way = as_of < current.end_time.date()
    for chart in ("response", "completion", "durability"):
        a = plain[plain["chart"] == chart].reset_index(drop=True)
        b = pooled[pooled["chart"] == chart].reset_index(drop=True)
        starts = [pd.Timestamp(m).to_period(current.freq) for m in a["month"]]
        pools = under_way and len(starts) > 1 and starts[-1] == current
        event(f"pooled: {pools}")
        assert len(b) == len(a) - pools
        assert b["pooled"].tolist() == [False] * (len(b) - 1) + [True] if pools else not b["pooled"].any()
        expected = a[["patients", "events"]].copy()
        if pools:
            expected.iloc[-2] += expected.iloc[-1]
            expected = expected.iloc[:-1]
        assert b[["patients", "events"]].to_numpy().tolist() == expected.to_numpy().tolist()
        assert b["centre"].dropna().round(12).unique().tolist() == a["centre"].dropna().round(12).unique().tolist()
