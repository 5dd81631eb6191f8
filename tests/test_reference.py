"""The engine against an independent, naive implementation of docs/METHODS.md (tests/reference.py).

Random small exports, shaped around the edges of random settings (a baseline exactly on the
baseline window's edge and one day outside, gaps of exactly series_gap_days and one more, a
first infusion numbered 2 or left empty, planned_infusions on some rows only, follow-ups on an
infusion's day, boosters on a follow-up's day, follow-ups at the edges of end_of_series_days and
of the follow-up window...), are loaded through the real ingest and engine, and every count of
response_by_infusion, late_response, dropout, durability and the summary must equal the
reference's, every rate to 1e-9. The reference reads the same Python values that were written to
the CSV, never the engine's tables.

REFERENCE_EXAMPLES sets the number of random exports (default 200), each run under two settings
(so 400 settings x exports by default; about 75 s on two cores).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import reference as ref
from conftest import load_files, metrics_for
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reference import RefSettings, Visit

from dashboard.core.measures import load_measures_file

EXAMPLES = int(os.environ.get("REFERENCE_EXAMPLES", "200"))

# Known engine bugs being fixed while this test was written. Set to "1" to stop generating that
# case while the fix is not in; the test as committed generates every case.
AVOID_SAME_DAY_FOLLOW_UP = os.environ.get("REFERENCE_AVOID_SAME_DAY_FOLLOW_UP") == "1"  # strict-after rules
AVOID_EMPTY_FIRST_NUMBER = os.environ.get("REFERENCE_AVOID_EMPTY_FIRST_NUMBER") == "1"  # unnumbered first infusion
AVOID_NO_CUTOFF_MEASURE = os.environ.get("REFERENCE_AVOID_NO_CUTOFF_MEASURE") == "1"  # remission with no cut-off
# Found by this test: the engine read planned_infusions from rows dated after as_of (fixed by
# queries/known_dims.sql); REFERENCE_AVOID_PLANNED_AFTER_AS_OF=1 leaves such cells out, to bisect.
AVOID_PLANNED_AFTER_AS_OF = os.environ.get("REFERENCE_AVOID_PLANNED_AFTER_AS_OF") == "1"

EARLIEST, LATEST = date(2024, 1, 1), date(2026, 6, 1)

# A custom measure, declared by a measures file, with no remission cut-off and no min_baseline.
KSI_TOML = '[ksi]\nlabel = "KSI"\nrange = [0, 40]\nbetter = "lower"\n'
MEASURES = load_measures_file(KSI_TOML)
# From the contract's measure table (section 1), not from dashboard.core.measures:
# measure -> (highest score, remission cut-off, min_baseline)
SCALES = {"phq9": (27, 4.0, 10.0), "gad7": (21, 4.0, 10.0), "ksi": (40, None, 0.0)}
HEADER = ["patient_id", "session_date", "session_type", "infusion_number", "phq9", "gad7", "ksi", "planned_infusions"]


@dataclass
class Row:
    patient_id: str
    session_date: date
    session_type: str  # canonical kind
    written_type: str  # what the CSV says ("" for an infusion sometimes)
    infusion_number: int | None
    scores: dict
    planned: str | None  # the raw planned_infusions cell


class Example:
    """One export (its CSV text and the Rows it was written from) and the settings to run it with."""

    def __init__(self, csv_text: str, runs: list, rows: list):
        self.csv_text, self.runs, self.rows = csv_text, runs, rows

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return "Example(runs=[\n" + "".join(f"  {run!r},\n" for run in self.runs) + f"], csv=\n{self.csv_text})"


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------


@st.composite
def run_settings(draw) -> dict:
    measures = ["phq9", "gad7"] if AVOID_NO_CUTOFF_MEASURE else ["phq9", "gad7", "ksi"]
    low = draw(st.one_of(st.just(0), st.integers(1, 30)))
    follow_up_days = low + draw(st.integers(0, 15))
    high = follow_up_days + draw(st.integers(0, 20))
    return {
        "measure": draw(st.sampled_from(measures)),
        "min_baseline": draw(st.one_of(st.none(), st.sampled_from([0.0, 5.0, 10.0, 12.0, 15.0]))),
        "response_reduction": draw(st.sampled_from([0.5, 0.25, 0.3, 0.35, 0.4, 0.6, 0.7, 0.75])),
        "score_timing": draw(st.sampled_from(["pre", "post"])),
        "planned": draw(st.integers(3, 10)),
        "series_gap_days": draw(st.one_of(st.just(21), st.integers(2, 28))),
        "baseline_window_days": draw(st.one_of(st.just(30), st.integers(0, 35))),
        "end_of_series_days": draw(st.one_of(st.just(14), st.integers(0, 21))),
        "follow_up_days": follow_up_days,
        "follow_up_window": (low, high),
    }


def scores_strategy(baseline: bool, improving: bool = False):
    """A score for each measure, each sometimes missing; baselines tend to be high, and the later
    scores of an improving patient low (so that durability has eligible patients)."""
    out = {}
    for measure, (top, _, _) in SCALES.items():
        if baseline:
            value = st.one_of(st.integers(top // 3, top), st.integers(0, top))
        elif improving:
            value = st.one_of(st.integers(0, top // 4), st.integers(0, top // 2))
        else:
            value = st.one_of(st.integers(0, top // 2), st.integers(0, top))
        if measure == "ksi":  # the custom measure has half points too
            value = st.one_of(value, st.integers(0, 2 * top).map(lambda v: v / 2))
        out[measure] = st.one_of(st.none(), value, value, value)
    return st.fixed_dictionaries(out).map(lambda d: {k: float(v) for k, v in d.items() if v is not None})


def nominal_series_end(dates: list, planned: int, gap: int) -> int:
    """Index of the last series infusion if nothing were cut by as_of (only to aim follow-ups)."""
    end = 0
    for i in range(1, len(dates)):
        if i >= planned or (dates[i] - dates[i - 1]).days > gap:
            break
        end = i
    return end


@st.composite
def patient_rows(draw, pid: str, cfg: dict) -> list:
    gap, window = cfg["series_gap_days"], cfg["baseline_window_days"]
    esd, fud = cfg["end_of_series_days"], cfg["follow_up_days"]
    low, high = cfg["follow_up_window"]
    start = date(2024, 2, 15) + timedelta(days=draw(st.integers(0, 700)))
    improving = draw(st.integers(0, 2)) == 0
    rows: dict = {}

    def add(day: date, kind: str, number=None, planned=None, written=None, scores=None):
        if day < EARLIEST or day > LATEST or (day, kind) in rows:
            return  # no duplicates (same patient, date and type): nothing merges
        rows[(day, kind)] = Row(pid, day, kind, kind if written is None else written, number,
                                scores if scores is not None else draw(scores_strategy(kind == "baseline", improving)), planned)

    # Infusions, with gaps around series_gap_days.
    count = draw(st.one_of(st.integers(0, 3), st.integers(1, 12), st.integers(4, 12)))
    dates = [start]
    for _ in range(count - 1):
        step = draw(st.one_of(st.integers(1, 7), st.sampled_from([gap, gap + 1, max(gap - 1, 1)]),
                              st.integers(1, gap + 10)))
        dates.append(dates[-1] + timedelta(days=step))
    dates = dates[:count]

    # infusion_number: by date order, empty, a mix, a series started before (first numbered 2+),
    # the first one empty and the others numbered, or the others in no order at all (the series
    # is in date order; only the first infusion's number means anything: section 2).
    modes = ["order", "empty", "mixed", "before", "first_empty", "scrambled"]
    if AVOID_EMPTY_FIRST_NUMBER:
        modes = ["order", "before"]
    mode = draw(st.sampled_from(modes))
    offset = draw(st.integers(1, 3)) if mode == "before" else 0
    numbers = []
    for i in range(count):
        if mode == "empty" or (mode == "first_empty" and i == 0):
            numbers.append(None)
        elif mode == "mixed" and draw(st.booleans()):
            numbers.append(None)
        elif mode == "scrambled":
            numbers.append(draw(st.sampled_from([None, 1])) if i == 0 else draw(st.one_of(st.none(), st.integers(1, 12))))
        else:
            numbers.append(i + 1 + offset)

    # planned_infusions: usually absent; else on some rows, values may differ between rows, the
    # first infusion's cell sometimes empty; rarely not a count at all.
    planned_mode = draw(st.sampled_from(["none", "none", "all", "some", "first_empty"]))
    odd = st.sampled_from(["0", "x"]) if draw(st.integers(0, 9)) == 0 else st.integers(1, 10).map(str)
    value = st.one_of(st.integers(1, 10).map(str), odd)

    def planned_cell(is_first_infusion: bool):
        if planned_mode == "none" or (planned_mode == "first_empty" and is_first_infusion):
            return None
        if planned_mode == "all":
            return constant
        return draw(st.one_of(st.none(), value))

    constant = draw(value)
    for i, day in enumerate(dates):
        written = draw(st.sampled_from(["infusion", "infusion", ""]))  # empty type means infusion
        add(day, "infusion", numbers[i], planned_cell(i == 0), written)

    # Baselines: on the window's edge, one day outside, on the first infusion's day, anywhere.
    for _ in range(draw(st.integers(0, 2))):
        back = draw(st.one_of(st.sampled_from([0, window, window + 1]), st.integers(0, window + 10),
                              st.just(-2)))
        add(start - timedelta(days=back), "baseline", planned=planned_cell(False))

    # Follow-ups aimed at the series' end (or any infusion), at the edges of end_of_series_days and
    # of the follow-up window, and on an infusion's own day.
    own_planned = ref.whole_planned(constant) if planned_mode == "all" else None
    anchors = [start]
    if dates:
        end = nominal_series_end(dates, own_planned or cfg["planned"], gap)
        anchors = [dates[end], dates[end], dates[-1], draw(st.sampled_from(dates))]
    for _ in range(draw(st.integers(0, 3))):
        anchor = draw(st.sampled_from(anchors))
        later = draw(st.one_of(
            st.sampled_from([0, 1, esd, esd + 1, low, max(low - 1, 0), fud, high, high + 1, fud + 1]),
            st.integers(0, 60)))
        if AVOID_SAME_DAY_FOLLOW_UP and later == 0:
            later = 1
        day = anchor + timedelta(days=later)
        add(day, "follow_up", planned=planned_cell(False))
        # A booster (or another infusion) on the follow-up's day, sometimes.
        if dates and draw(st.integers(0, 3)) == 0:
            add(day, "infusion", None, planned_cell(False), "infusion")
    if not rows:  # a patient has at least one visit
        add(start, draw(st.sampled_from(["baseline", "follow_up"])))
    return list(rows.values())


@st.composite
def examples(draw) -> Example:
    cfg = draw(run_settings())
    rows = []
    for i in range(draw(st.integers(1, 6))):
        rows += draw(patient_rows(f"P{i}", cfg))

    # A patient's rows on one date carry one planned_infusions value at most (two different
    # values on one day would leave "the first in date order" undefined).
    by_day = {}
    for r in sorted(rows, key=lambda r: (r.patient_id, r.session_date)):
        if r.planned is not None and r.planned.strip():
            first = by_day.setdefault((r.patient_id, r.session_date), r.planned)
            r.planned = first

    # Two runs on one export (loading is a third of the time): the settings the rows were shaped
    # around, and the same with the other score timing, a measure and an as_of drawn again.
    days = sorted(r.session_date for r in rows)
    # as_of: the default, any day of the span, a row's own day (kept: "after as_of" is strict), or
    # the day before a row that carries planned_infusions (that row must then not count).
    planned_days = sorted({r.session_date - timedelta(days=1) for r in rows if r.planned} - {days[0] - timedelta(days=1)})
    in_span = st.one_of(
        st.integers(0, (days[-1] - days[0]).days).map(lambda k: days[0] + timedelta(days=k)),
        st.sampled_from(days),
        *([st.sampled_from(planned_days)] * 2 if planned_days else []),
    )
    runs = []
    for timing in (cfg["score_timing"], "post" if cfg["score_timing"] == "pre" else "pre"):
        scales = sorted(SCALES) if not AVOID_NO_CUTOFF_MEASURE else ["phq9", "gad7"]
        measure = cfg["measure"] if not runs else draw(st.sampled_from(scales))
        runs.append(dict(cfg, score_timing=timing, measure=measure, as_of=draw(st.one_of(st.none(), in_span))))
    if AVOID_PLANNED_AFTER_AS_OF:
        for r in rows:
            if any(run["as_of"] is not None and r.session_date > run["as_of"] for run in runs):
                r.planned = None

    # A follow-up and a booster on one day are one check-in: give them the same scores, so that
    # "the first score after L" or "the nearest assessment" never depends on which of the two is
    # read. (A follow-up on the day of a SERIES infusion keeps its own scores: it must be ignored.)
    series_days = [
        {(p.patient_id, v.session_date) for p in ref.compute(visits_for(rows, run), reference_settings(run))["patients"]
         for v in p.series}
        for run in runs
    ]
    follow_ups = {(r.patient_id, r.session_date): r for r in rows if r.session_type == "follow_up"}
    for r in rows:
        key = (r.patient_id, r.session_date)
        if r.session_type == "infusion" and key in follow_ups and not all(key in days for days in series_days):
            r.scores = dict(follow_ups[key].scores)

    rows = draw(st.permutations(rows))
    return Example(to_csv(rows), runs, rows)


def to_csv(rows: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow([
            r.patient_id, r.session_date.isoformat(), r.written_type,
            "" if r.infusion_number is None else r.infusion_number,
            *(_number(r.scores.get(m)) for m in ("phq9", "gad7", "ksi")),
            r.planned or "",
        ])
    return out.getvalue()


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


# ----------------------------------------------------------------------------------------------
# The reference's input, from the same Python values
# ----------------------------------------------------------------------------------------------


def reference_settings(cfg: dict) -> RefSettings:
    _, cutoff, own_min = SCALES[cfg["measure"]]
    return RefSettings(
        measure=cfg["measure"],
        min_baseline=own_min if cfg["min_baseline"] is None else cfg["min_baseline"],
        response_reduction=cfg["response_reduction"],
        score_timing=cfg["score_timing"],
        planned=cfg["planned"],
        series_gap_days=cfg["series_gap_days"],
        baseline_window_days=cfg["baseline_window_days"],
        end_of_series_days=cfg["end_of_series_days"],
        as_of=cfg.get("as_of"),
        follow_up_days=cfg["follow_up_days"],
        follow_up_window=cfg["follow_up_window"],
        remission_cutoff=cutoff,
    )


def visits_for(rows: list, cfg: dict) -> list:
    as_of = cfg.get("as_of") or ref.default_as_of([r.session_date for r in rows])
    planned = {}
    for pid in {r.patient_id for r in rows}:
        mine = [(r.session_date, r.session_type, r.planned) for r in rows if r.patient_id == pid]
        planned[pid] = ref.pick_planned(mine, as_of)
    return [
        Visit(r.patient_id, r.session_date, r.session_type, r.infusion_number, dict(r.scores), planned[r.patient_id])
        for r in rows
    ]


# ----------------------------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------------------------


COLUMNS = {
    "response": ["n", "assessed", "responders", "rate", "remitters", "remission_rate", "cumulative_responders",
                 "evaluable", "cumulative_rate"],
    "late_response": ["n", "non_responders", "late_responders", "no_later_assessment", "late_response_rate"],
    "dropout": ["n", "dropped_after", "retained"],
    "durability": ["eligible", "durable", "lost", "booster_first", "no_follow_up", "pending", "durability_rate",
                   "conservative_rate"],
    "summary": ["patients_started", "completed", "dropped", "in_progress", "started_before", "no_infusion",
                "usable_baseline", "no_baseline", "baseline_below", "ended", "completion_rate"],
}


def missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or str(value) == "<NA>"
    except (TypeError, ValueError):  # pandas.NA
        return True


def same(engine_value, reference_value) -> bool:
    if missing(engine_value) or missing(reference_value):
        return missing(engine_value) and missing(reference_value)
    if isinstance(reference_value, float):
        return math.isclose(float(engine_value), reference_value, rel_tol=0, abs_tol=1e-9)
    return int(engine_value) == reference_value


def differences(engine, expected: dict) -> list:
    out = []
    for table, columns in COLUMNS.items():
        frame = getattr(engine, table)
        frame = frame[frame["grp"] == "All patients"]
        records = frame.to_dict("records")
        wanted = expected[table] if isinstance(expected[table], list) else [expected[table]]
        if len(records) != len(wanted):
            out.append(f"{table}: {len(records)} rows, reference {len(wanted)}")
            continue
        for got, want in zip(records, wanted):
            for col in columns:
                if not same(got[col], want[col]):
                    where = f"n={want['n']} " if "n" in want else ""
                    out.append(f"{table} {where}{col}: engine {got[col]!r}, reference {want[col]!r}")
    return out


def check(example: Example) -> None:
    dataset = load_files(("x.csv", example.csv_text.encode()), measures=MEASURES)
    for cfg in example.runs:
        engine = metrics_for(dataset, **cfg)
        expected = ref.compute(visits_for(example.rows, cfg), reference_settings(cfg))
        for name in edges_hit(example, cfg, expected):
            event(name)
        problems = [] if engine.as_of == expected["as_of"] else [f"as_of: engine {engine.as_of}, reference {expected['as_of']}"]
        problems += differences(engine, expected)
        assert not problems, "\n".join(problems) + f"\n\nsettings: {cfg}\n{example.csv_text}"


def edges_hit(example: Example, cfg: dict, expected: dict) -> set:
    """Which of the edges this run holds (see them with pytest --hypothesis-show-statistics)."""
    hit = set()
    low, high = cfg["follow_up_window"]
    hit.add(f"measure {cfg['measure']}, {cfg['score_timing']} timing, as_of {'default' if cfg['as_of'] is None else 'set'}")
    for p in expected["patients"]:
        rows = [r for r in example.rows if r.patient_id == p.patient_id]
        infusions = sorted((r for r in rows if r.session_type == "infusion"), key=lambda r: r.session_date)
        if infusions and infusions[0].infusion_number is None:
            hit.add("first infusion unnumbered")
        if p.kind != "started":
            hit.add(p.kind)
            continue
        hit.add(f"status {p.status}")
        if p.durability:
            hit.add(f"durability {p.durability}")
        if any(r.planned for r in rows) and len({r.planned for r in rows if r.planned}) > 1:
            hit.add("planned differs between rows")
        if p.planned != cfg["planned"]:
            hit.add("planned from the column")
        if cfg["as_of"] is not None and any(r.planned and r.session_date > cfg["as_of"] for r in rows):
            hit.add("planned_infusions on a row after as_of")
        start, last = p.series[0].session_date, p.series[-1].session_date
        back = [(start - r.session_date).days for r in rows if r.session_type == "baseline"]
        if cfg["baseline_window_days"] in back:
            hit.add("baseline on the window's edge")
        if cfg["baseline_window_days"] + 1 in back:
            hit.add("baseline one day outside the window")
        gaps = [(b.session_date - a.session_date).days for a, b in zip(infusions, infusions[1:])]
        if cfg["series_gap_days"] in gaps:
            hit.add("a gap of exactly series_gap_days")
        if cfg["series_gap_days"] + 1 in gaps:
            hit.add("a gap of series_gap_days + 1")
        after_last = {(r.session_date - last).days for r in rows if r.session_type == "follow_up"}
        booster_days = {b.session_date for b in p.boosters}
        if 0 in after_last:
            hit.add(f"follow-up on L's day ({cfg['score_timing']}{', window from 0' if low == 0 else ''})")
        if cfg["end_of_series_days"] in after_last:
            hit.add("follow-up exactly end_of_series_days after L")
        if {low, high} & after_last:
            hit.add("follow-up on the follow-up window's edge")
        if any(r.session_type == "follow_up" and r.session_date in booster_days for r in rows):
            hit.add("booster on a follow-up's day")
        if p.status == "in_progress" and p.L not in p.after:
            hit.add("in progress, score after L not in yet")
    return hit


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(examples())
def test_engine_matches_reference(example):
    check(example)


# ----------------------------------------------------------------------------------------------
# The reference itself, worked by pencil
# ----------------------------------------------------------------------------------------------


def V(pid, day, kind, score=None, number=None, planned=None, measure="phq9"):
    return Visit(pid, date(2025, 1, 1) + timedelta(days=day), kind, number,
                 {} if score is None else {measure: float(score)}, planned)


def test_reference_by_pencil_pre_timing():
    """Defaults (phq9, pre, planned 6, gap 21, baseline window 30, end of series 14, follow-up 30 in
    21..45), as_of = day 100 (2025-04-11).

    A: baseline 20 on day -5; infusions on days 0,2,4,6,8,10 scoring 20,16,12,9,8,6 -> series of 6,
       completed. Scores after n (pre): 16,12,9,8,6 for n=1..5; after 6: the follow-up on day 10
       (same day as infusion 6) is NOT after it; the one on day 15 scores 4 -> after 6 = 4.
       Response at <= 10: n=3 (9) first. Remission <= 4: n=6 only.
       Durability: eligible (4 responds). Follow-ups in day 31..55: day 40 (score 12, distance 0)
       -> lost.
    B: no baseline row; infusion scores 18 (day 0), 15 (day 3), 8 (day 60 = gap 57 > 21: booster).
       Baseline = infusion 1's score 18 (pre). Series = 2 infusions, as_of - day 3 = 97 > 21 ->
       dropped after 2. Score after 1 = 15 (no response, 15 > 9); after 2: nothing in days 4..17
       (the booster is on day 60) -> none. Not eligible for durability (last assessment 15 no).
    C: first infusion numbered 3 -> started before.
    D: baseline 8 -> below 10. Infusions days 0, 7 (in progress: as_of - 7 = 93 > 21 -> dropped
       after 2).
    E: baseline 22 on day 80; infusions days 90 (22), 95 (10) -> in progress at L = 2 (as_of - 95
       = 5 <= 21). Score after 1 = 10 (10 <= 11: responds); after 2 not in yet.
    F: a baseline only -> no infusion.

    Started: A, B, D, E. Usable baseline: A (20), B (18), E (22); D below.
    n=1: assessed A(16 no), B(15 no), E(10 yes) -> 3, 1 responder. Remitters 0.
         evaluable: A, B, E (E has L=2 > 1) -> 3; cumulative: E -> 1.
    n=2: assessed A(12 no) -> 1, 0. evaluable: A, B (E: L = 2 = n, score after 2 not in) -> 2;
         cumulative: none (A's first response is at 3) -> 0.
    n=3: assessed A(9 yes) -> 1, 1. evaluable: A, B, and not E (L = 2 < 3) -> 2; cumulative A -> 1.
    n=4: A(8) yes; n=5: A(6) yes; n=6: A(4) yes, remitter 1. evaluable 2, cumulative 1.
    Late response n=1: non-responders A, B; A responds later (n=3), B has no later score ->
         late 1, no later 1, rate 1/(2-1) = 1.0. n=2: A non-responder, later yes -> 1/1.
    Dropout: A completed L=6; B dropped L=2; D dropped L=2; E in progress L=2.
         dropped_after(2) = 2. at_risk(1) = 4 (all L > 1); at_risk(2) = A (L>2) + B, D (stopped
         at 2) = 3, E not (in progress at 2). retained: 1, 1, 1 - 2/3 = 1/3, then 1/3 (at_risk(3)
         = 1, no dropout) ...
    Durability: eligible A only -> lost 1; rate 0/1 = 0; conservative 0/1 = 0.
    """
    visits = [
        V("A", -5, "baseline", 20),
        *[V("A", d, "infusion", sc) for d, sc in zip([0, 2, 4, 6, 8, 10], [20, 16, 12, 9, 8, 6])],
        V("A", 10, "follow_up", 3), V("A", 15, "follow_up", 4), V("A", 40, "follow_up", 12),
        V("B", 0, "infusion", 18), V("B", 3, "infusion", 15), V("B", 60, "infusion", 8),
        V("C", 0, "infusion", 20, number=3), V("C", 3, "infusion", 5, number=4),
        V("D", -1, "baseline", 8), V("D", 0, "infusion", 8), V("D", 7, "infusion", 2),
        V("E", 80, "baseline", 22), V("E", 90, "infusion", 22), V("E", 95, "infusion", 10),
        V("F", 50, "baseline", 15),
    ]
    out = ref.compute(visits, RefSettings(as_of=date(2025, 4, 11)))
    r = {row["n"]: row for row in out["response"]}
    assert [r[n]["assessed"] for n in range(1, 7)] == [3, 1, 1, 1, 1, 1]
    assert [r[n]["responders"] for n in range(1, 7)] == [1, 0, 1, 1, 1, 1]
    assert [r[n]["remitters"] for n in range(1, 7)] == [0, 0, 0, 0, 0, 1]
    assert [r[n]["evaluable"] for n in range(1, 7)] == [3, 2, 2, 2, 2, 2]
    assert [r[n]["cumulative_responders"] for n in range(1, 7)] == [1, 0, 1, 1, 1, 1]
    late = out["late_response"]
    assert (late[0]["non_responders"], late[0]["late_responders"], late[0]["no_later_assessment"]) == (2, 1, 1)
    assert late[0]["late_response_rate"] == 1.0 and late[1]["late_response_rate"] == 1.0
    assert [d["dropped_after"] for d in out["dropout"]] == [0, 2, 0, 0, 0, 0]
    assert [d["retained"] for d in out["dropout"]] == pytest.approx([1, 1, 1 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert out["durability"] == {"eligible": 1, "durable": 0, "lost": 1, "booster_first": 0, "no_follow_up": 0,
                                 "pending": 0, "durability_rate": 0.0, "conservative_rate": 0.0}
    s = out["summary"]
    assert (s["patients_started"], s["completed"], s["dropped"], s["in_progress"]) == (4, 1, 2, 1)
    assert (s["started_before"], s["no_infusion"]) == (1, 1)
    assert (s["usable_baseline"], s["no_baseline"], s["baseline_below"]) == (3, 0, 1)
    assert s["completion_rate"] == pytest.approx(1 / 3)


def test_reference_by_pencil_post_timing_planned_and_durability():
    """post timing, planned 3 by default, gap 21, as_of = day 200; follow-up 30 in 21..45.

    P: planned_infusions 2 (its dimension). Baseline 20 on day -30 (exactly on the window's edge:
       kept). Infusions day 0 (score 12), 21 (gap exactly 21: still the series; score 8) -> the
       series holds 2 = its planned count: completed. The infusion on day 30 is a booster.
       Post: after 1 = 12 (no, > 10), after 2 = 8 (yes). Eligible. Follow-up window days 42..66;
       the follow-up on day 51 (distance 0 from 21 + 30) scores 9: but the booster (day 30) came
       earlier -> booster_first.
    Q: baseline 16 on day -31 (one day outside the window) and no other -> post timing has no
       infusion-1 fallback -> no baseline. Infusions day 0, 22 (gap 22 > 21) -> series of 1,
       dropped after 1.
    R: first infusion with an EMPTY infusion_number, the next numbered 2: not "started before".
       Baseline 12 (day 0, on the first infusion's day). Infusions day 0 (6), 5 (5), 10 (4):
       completed (planned 3). Post: 6, 5, 4 all respond (<= 6). Follow-ups: day 10+21 = 31
       (score 5) and day 10+39 = 49 (score 9): target day 40, distances 9 and 9 -> tie, the
       earlier (day 31, 5 <= 6) -> durable.
    S: responded, completed, no follow-up and no booster; window closed (10+45 = 55 < 200) ->
       no_follow_up. Baseline 10, infusions 0, 1, 2 scoring 5, 5, 5.

    N = max planned = 3 (P has 2, others the default 3).
    n=1: assessed P(12 no), R(6 yes), S(5 yes) = 3, responders 2; remission (<= 4): none.
    n=2: P(8 yes), R(5 yes), S(5 yes) = 3, 3; n=3: R(4 yes, remits), S(5 yes) = 2, 2, remitters 1.
    Evaluable: P, R, S at every n (none in progress) = 3; cumulative 2, 3, 3.
    Dropout: Q dropped after 1; P completed at 2; R, S completed at 3.
       at_risk(1) = 4 (Q stopped at 1, the others have L > 1), retained(2) = 1 - 1/4 = 0.75;
       at_risk(2) = R, S (L > 2) + P (completed at 2) = 3, no dropout -> retained(3) = 0.75.
    Durability: P booster_first, R durable, S no_follow_up -> eligible 3, rate 1/1, conservative 1/2.
    """
    visits = [
        V("P", -30, "baseline", 20, planned=2), V("P", 0, "infusion", 12, planned=2),
        V("P", 21, "infusion", 8, planned=2), V("P", 30, "infusion", 7, planned=2),
        V("P", 51, "follow_up", 9, planned=2),
        V("Q", -31, "baseline", 16), V("Q", 0, "infusion", 16), V("Q", 22, "infusion", 3),
        V("R", 0, "baseline", 12), V("R", 0, "infusion", 6), V("R", 5, "infusion", 5, number=2),
        V("R", 10, "infusion", 4, number=3), V("R", 31, "follow_up", 5), V("R", 49, "follow_up", 9),
        V("S", -1, "baseline", 10), V("S", 0, "infusion", 5), V("S", 1, "infusion", 5), V("S", 2, "infusion", 5),
    ]
    out = ref.compute(visits, RefSettings(score_timing="post", planned=3, as_of=date(2025, 1, 1) + timedelta(days=200)))
    assert [(r["assessed"], r["responders"], r["remitters"]) for r in out["response"]] == [(3, 2, 0), (3, 3, 0), (2, 2, 1)]
    assert [(r["cumulative_responders"], r["evaluable"]) for r in out["response"]] == [(2, 3), (3, 3), (3, 3)]
    assert [d["retained"] for d in out["dropout"]] == [1.0, 0.75, 0.75]
    d = out["durability"]
    assert (d["eligible"], d["durable"], d["lost"], d["booster_first"], d["no_follow_up"], d["pending"]) == (3, 1, 0, 1, 1, 0)
    assert (d["durability_rate"], d["conservative_rate"]) == (1.0, 0.5)
    s = out["summary"]
    assert (s["patients_started"], s["completed"], s["dropped"], s["started_before"]) == (4, 3, 1, 0)
    assert (s["usable_baseline"], s["no_baseline"], s["baseline_below"]) == (3, 1, 0)


def test_reference_by_pencil_edges():
    """Custom measure with no remission cut-off; rows after as_of; pre-timing end-of-series score.

    Measure ksi, min_baseline 0 (only "above 0"), pre, planned 2, end of series 14, as_of day 20.
    K: baseline 30 (day -1). Infusions day 0 (30), day 7 (20). A follow-up on day 7 (score 0, the
       day of infusion 2 = L: not after it), a booster on day 21 (score 0) after as_of: left out.
       Another follow-up on day 21 is after as_of too. After 1 = 20 (no: 20 > 15); after 2 = none.
       Completed (L = planned = 2). Not eligible (last assessment 20 does not respond).
    Z: baseline 0 -> "above 0" fails: baseline below. Infusion day 0 only: in progress (L = 1 < 2,
       as_of - day 0 = 20 <= 21).
    remitters and remission_rate are None (no cut-off), at every n.
    """
    visits = [
        V("K", -1, "baseline", 30, measure="ksi"), V("K", 0, "infusion", 30, planned=2, measure="ksi"),
        V("K", 7, "infusion", 20, measure="ksi"), V("K", 7, "follow_up", 0, measure="ksi"),
        V("K", 21, "infusion", 0, measure="ksi"), V("K", 21, "follow_up", 0, measure="ksi"),
        V("Z", -1, "baseline", 0, measure="ksi"), V("Z", 0, "infusion", 0, measure="ksi"),
    ]
    s = RefSettings(measure="ksi", min_baseline=0.0, planned=2, remission_cutoff=None,
                    as_of=date(2025, 1, 21))  # day 20
    out = ref.compute(visits, s)
    assert [(r["assessed"], r["responders"], r["remitters"], r["remission_rate"]) for r in out["response"]] == [
        (1, 0, None, None), (0, 0, None, None)]
    assert out["late_response"][0]["no_later_assessment"] == 1
    assert out["durability"]["eligible"] == 0
    assert (out["summary"]["completed"], out["summary"]["in_progress"], out["summary"]["baseline_below"]) == (1, 1, 1)
