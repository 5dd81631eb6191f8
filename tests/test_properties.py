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


# The last days of the months in which the clinics' series start (days 0 to 60): a period is over
# on its last day, and not the day before.
MONTH_ENDS = [(pd.Timestamp(START) + pd.offsets.MonthEnd(k)).date() - START for k in range(1, 5)]


@settings(SETTINGS, max_examples=100)  # the pooled case is the rarer one: about one example in ten
@given(clinics(), st.sampled_from(["month", "quarter"]),
       st.one_of(st.sampled_from(range(150)), st.sampled_from([d.days for d in MONTH_ENDS])), st.sampled_from([0, 11]))
def test_the_period_under_way_is_pooled_by_date_alone(rows, period, as_of_day, min_cell):
    """The p-charts' counts (docs/METHODS.md 12) against a naive count by period of series start from
    the patients' outcomes: the same, except that when the last period with a series start is the one
    under way at the as-of date (not its last day) and an earlier one has series starts, its counts
    are added to the period before it. Which point is pooled depends on dates only (not on min_cell)."""
    ds = load_files(("x.csv", to_csv(rows)))
    as_of = START + timedelta(days=as_of_day)
    try:
        m = metrics_for(ds, control_period=period, as_of=as_of, min_cell=min_cell)
    except ValueError:  # an as-of date after today
        return
    patients = ds.con.execute(
        "SELECT o.first_date, o.status, o.durability, r.responded FROM outcomes o "
        "LEFT JOIN responses r ON r.patient_key = o.patient_key AND r.n = 6").fetchall()
    freq = "Q" if period == "quarter" else "M"
    current = pd.Timestamp(as_of).to_period(freq)
    starts = sorted({pd.Timestamp(first).to_period(freq) for first, *_ in patients})
    pools = bool(starts) and as_of < current.end_time.date() and starts[-1] == current and starts[0] < current
    event(f"pooled: {pools}")
    counted = {"response": lambda s, d, r: (r is not None, r is True),
               "completion": lambda s, d, r: (s in ("completed", "dropped"), s == "completed"),
               "durability": lambda s, d, r: (d in ("durable", "lost"), d == "durable")}
    for chart, count in counted.items():
        expected = {}
        for first, status, durability, responded in patients:
            at = pd.Timestamp(first).to_period(freq)
            at = at - 1 if pools and at == current else at
            in_denominator, event_ = count(status, durability, responded)
            n, k = expected.get(at, (0, 0))
            expected[at] = (n + in_denominator, k + event_)
        got = m.monthly[m.monthly["chart"] == chart]
        shown = {pd.Timestamp(month).to_period(freq): (patients_, events) for month, patients_, events
                 in zip(got["month"], got["patients"], got["events"])}
        assert {p: c for p, c in shown.items() if c != (0, 0)} == {p: c for p, c in expected.items() if c != (0, 0)}
        assert got["pooled"].tolist() == ([False] * (len(got) - 1) + [True] if pools else [False] * len(got))
