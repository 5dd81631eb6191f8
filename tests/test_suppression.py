"""Small-cell suppression (docs/METHODS.md 15), worked out by hand: primary ("<11"), complementary
("hidden", so that a small count can't be recovered by subtraction), and an independent audit by
linear programming that no small count can be pinned down from what is shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from dashboard.engine.suppression import HIDDEN, _cells, shown_metrics, shown_tables
from tests.conftest import load_fixture, metrics_for

K = 11


def durability(grp="All patients", durable=30, lost=12, booster_first=11, no_follow_up=12, pending=12):
    eligible = durable + lost + booster_first + no_follow_up + pending
    followed_up = durable + lost
    return pd.DataFrame([{
        "grp": grp, "eligible": eligible, "durable": durable, "lost": lost, "booster_first": booster_first,
        "no_follow_up": no_follow_up, "pending": pending, "followed_up": followed_up,
        "durability_rate": durable / followed_up if followed_up else float("nan"), "rate_low": 0.1, "rate_high": 0.9,
        "conservative_rate": durable / (followed_up + booster_first) if followed_up + booster_first else float("nan")}])


def summary(grp="All patients", completed=12, dropped=5, in_progress=3, usable=20):
    started = completed + dropped + in_progress
    return pd.DataFrame([{
        "grp": grp, "patients_started": started, "completed": completed, "dropped": dropped,
        "in_progress": in_progress, "started_before": 0, "no_infusion": 0, "usable_baseline": usable,
        "no_baseline": 0, "baseline_below": started - usable, "ended": completed + dropped,
        "completion_rate": completed / (completed + dropped) if completed + dropped else float("nan")}])


def test_nothing_small_nothing_hidden():
    shown = shown_tables({"durability": durability()}, K)["durability"]
    assert shown.iloc[0].to_dict() == durability().astype(object).iloc[0].to_dict()


def test_off_when_min_cell_is_zero():
    shown = shown_tables({"durability": durability(lost=1)}, 0)["durability"]
    assert shown.iloc[0]["lost"] == 1 and shown.iloc[0]["durability_rate"] == pytest.approx(30 / 31)


def test_one_small_status_hides_a_second_one():
    """durable 25, lost 8 (< 11), booster 12, no follow-up 15, pending 0: eligible 60, followed up 33.
    lost alone hidden: followed up 33 - durable 25 = 8 gives it away, so the smaller of durable (25)
    and followed up (33) is hidden too: durable. Pending 0 is shown as 0 (docs/METHODS.md 15). Eligible
    60 - 12 - 15 - 0 = 33 = durable + lost: still two unknowns for lost, which a reader knows only
    to lie in 1..10 (durable at least 11). The rates use durable and lost: all hidden."""
    row = shown_tables({"durability": durability(durable=25, lost=8, booster_first=12, no_follow_up=15,
                                                 pending=0)}, K)["durability"].iloc[0]
    assert (row.lost, row.pending, row.durable) == ("<11", 0, HIDDEN)
    assert (row.eligible, row.booster_first, row.no_follow_up, row.followed_up) == (60, 12, 15, 33)
    assert row.durability_rate is None and row.rate_low is None and row.conservative_rate is None


def test_a_count_given_away_by_two_sums_together():
    """Started 20 = completed 12 + dropped 5 + in progress 3; ended 17 = completed + dropped.
    Primary: dropped 5 and in progress 3. Sum by sum, ended 17 - completed 12 gives dropped away:
    completed (12 < 17) is hidden. Then no single sum has one unknown, but together they do:
    in progress = started 20 - ended 17 = 3. So started is hidden too (its sum's only shown cell).
    Its other sum, started = usable 20 + no baseline 0 + below 0, with the zeros shown as 0
    (docs/METHODS.md 15), would give started back: usable is hidden as well."""
    row = shown_tables({"summary": summary()}, K)["summary"].iloc[0]
    assert (row.dropped, row.in_progress) == ("<11", "<11")
    assert (row.completed, row.patients_started, row.usable_baseline) == (HIDDEN, HIDDEN, HIDDEN)
    assert (row.ended, row.no_baseline, row.baseline_below) == (17, 0, 0)
    assert row.completion_rate is None


def test_groups_add_up_to_the_whole():
    """Compare by site. A: durable 30, lost 5, booster 11, no follow-up 12, pending 12 (followed up
    35); B: 40, 20, 13, 14, 15 (followed up 60); the whole cohort: 70, 25, 24, 26, 27.
    A's lost (5) is hidden; A's followed up 35 - durable 30 would give it: A's durable is hidden.
    Whole lost 25 - B's lost 20 would give it: B's lost is hidden; whole durable 70 - B's durable
    would give A's durable, and with it A's lost: B's durable is hidden. Four unknowns, four
    independent sums? No: A + B followed up = durable + lost of the whole, so one is free."""
    a = durability("A", 30, 5, 11, 12, 12)
    b = durability("B", 40, 20, 13, 14, 15)
    whole = durability("All", 70, 25, 24, 26, 27)
    shown = shown_tables({"durability": pd.concat([a, b]), "overall.durability": whole}, K)
    groups = shown["durability"].set_index("grp")
    assert groups.loc["A", "lost"] == "<11"
    assert groups.loc["A", "durable"] == groups.loc["B", "durable"] == groups.loc["B", "lost"] == HIDDEN
    assert groups["durability_rate"].isna().all()
    assert shown["overall.durability"].iloc[0]["lost"] == 25
    assert shown["overall.durability"].iloc[0]["durability_rate"] == pytest.approx(70 / 95)


def test_only_the_columns_a_file_shows_count_as_seen():
    """The export's dropout.csv shows dropped_after and retained, not at_risk: retention is hidden
    only after a suppressed step, not because at_risk is not in the file."""
    dropout = pd.DataFrame({"grp": "All", "n": [1, 2, 3], "dropped_after": [20, 15, 12],
                            "at_risk": [100, 80, 65], "completed_at": [0, 0, 53], "in_progress_at": [0, 0, 0],
                            "retained": [1.0, 0.8, 0.65]})
    shown = shown_tables({"dropout": dropout}, K, displayed={"dropout": ["dropped_after"]})["dropout"]
    assert shown["retained"].tolist() == [1.0, 0.8, 0.65]
    assert shown["dropped_after"].tolist() == [20, 15, 12]


def test_six_patients_every_tab_at_three():
    """The six-patient fixture with min_cell 3 (see tests/test_app.py): 6 started and 3 stopped
    early are shown; 2 completed and 1 still in their series read "<3", so the 5 whose series ended
    is hidden (5 - 3 would give the 2 completed away). The dropouts' statuses (1 not responding and
    1 not known after 2 infusions, 1 not responding after 3) are merged into "not responding or not
    known" before hiding (suppression.coarsened). No patient lacks a baseline, which reads 0, not
    "<3" (docs/METHODS.md 15)."""
    m = metrics_for(load_fixture("six_patients.csv"), min_cell=3)
    shown = shown_metrics(m)
    summary = shown["summary"].iloc[0]
    assert (summary["patients_started"], summary["dropped"], summary["ended"]) == (6, 3, HIDDEN)
    assert (summary["completed"], summary["in_progress"]) == ("<3", "<3")
    assert shown["stopped_by_status"]["response_at_last"].tolist() == ["non-responder-or-unknown"] * 2
    assert shown["summary"].iloc[0]["no_baseline"] == 0
    assert_nothing_small_recoverable(shown_frames(m), shown, 3)


def shown_frames(m, overall=None):
    """The tables as suppression reads them (statuses merged when a 'not known' count is small)."""
    from dashboard.engine.suppression import coarsened, metric_frames
    frames = metric_frames(m) | (metric_frames(overall, "overall.") if overall is not None else {})
    return {name: frame.reset_index(drop=True) for name, frame in coarsened(frames, m.settings.min_cell).items()}


def assert_nothing_small_recoverable(frames, shown, k):
    """Independent of the module's own check: for every small count, minimise and maximise it by
    linear programming over every sum, with what a reader knows: shown counts fixed, '<k' in 1..k-1,
    'hidden' at least k, counts not shown at least 0. A small count must not be pinned down."""
    cells = _cells(frames)
    names = list(cells.values)
    index = {c: i for i, c in enumerate(names)}
    bounds = []
    for table, row, col in names:
        value = cells.values[(table, row, col)]
        text = shown[table].iloc[row][col] if not col.startswith("~") else None
        if text is None:
            bounds.append((0, None))
        elif text == HIDDEN:
            bounds.append((k, None))
        elif isinstance(text, str) and text.startswith("<"):
            bounds.append((1, k - 1))  # a zero is shown as 0: '<k' is 1..k-1
        else:
            bounds.append((value, value))
    a_eq = np.zeros((len(cells.relations), len(names)))
    for i, rel in enumerate(cells.relations):
        for c, coef in rel.items():
            a_eq[i, index[c]] = coef
    b_eq = np.zeros(len(cells.relations))
    for cell, value in cells.values.items():
        if not 0 < value < k:
            continue
        objective = np.zeros(len(names))
        objective[index[cell]] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0 and high.status in (0, 3), cell
        if high.status == 3:
            continue  # unbounded above: not pinned down
        assert -high.fun - low.fun >= 1 - 1e-6, f"{cell} = {value} is pinned down by the shown counts"


def test_sample_data_split_by_site_nothing_small_recoverable():
    from pathlib import Path

    from dashboard.engine.metrics import Cohort
    from tests.conftest import load_files

    path = Path(__file__).resolve().parent.parent / "sample_data" / "ketamine_clinic_export.csv"
    dataset = load_files((path.name, path.read_bytes()))
    m = metrics_for(dataset, Cohort.of(split_by="site"), min_cell=K)
    whole = metrics_for(dataset, Cohort.of(), min_cell=K)
    shown = shown_metrics(m, whole)
    frames = shown_frames(m, whole)
    assert_nothing_small_recoverable(frames, shown, K)
    # Not everything is hidden: the whole cohort's tiles still read.
    assert shown["overall.summary"].iloc[0]["patients_started"] == 600


counts = st.integers(min_value=0, max_value=40)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(counts, counts, counts, counts, counts), min_size=1, max_size=3),
       st.lists(st.tuples(counts, counts, counts), min_size=1, max_size=3))
def test_random_tables_nothing_small_recoverable(statuses, series):
    """Random durability and summary tables, split in up to three groups with the whole cohort's
    tables beside them: every shown count is the true one, and no small count is pinned down."""
    groups = [f"g{i}" for i in range(max(len(statuses), len(series)))]
    dur = pd.concat([durability(g, *statuses[i % len(statuses)]) for i, g in enumerate(groups)], ignore_index=True)
    summ = pd.concat([summary(g, *series[i % len(series)], usable=0) for i, g in enumerate(groups)],
                     ignore_index=True)
    frames = {"durability": dur, "summary": summ}
    if len(groups) > 1:
        frames["overall.durability"] = durability("All", *dur[["durable", "lost", "booster_first", "no_follow_up",
                                                                "pending"]].sum())
        frames["overall.summary"] = summary("All", *summ[["completed", "dropped", "in_progress"]].sum(), usable=0)
    shown = shown_tables(frames, K)
    for name, frame in frames.items():
        for col in ("eligible", "durable", "lost", "patients_started", "completed", "ended"):
            if col not in frame:
                continue
            for true, text in zip(frame[col], shown[name][col]):
                assert text in (true, HIDDEN) or (text == "<11" and true < K)
    assert_nothing_small_recoverable(frames, shown, K)
