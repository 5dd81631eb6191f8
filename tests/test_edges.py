"""Issue 15: the contract's edges, each on a handful of rows worked out by hand. Each test failed
on the code before the fix; the numbers before are in the comments."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from conftest import ROOT, column, load_files, metrics_for

from dashboard.core.measures import load_measures_file
from dashboard.engine.suppression import shown_tables
from dashboard.ingest import Mapping
from dashboard.ingest.values import AMBIGUOUS, session_type
from dashboard.present.formatting import count

HEADER = "patient_id,session_date,session_type,infusion_number,phq9\n"

# P: baseline 20 (threshold 10). Infusions 01-02 (20), 01-05 (18), 01-08 (16): planned 3, so L = 3
# on 01-08. A follow-up on 01-08, L's own day, scored 8 (taken before that day's infusion, it
# describes the patient after 2 infusions); the next on 01-15 scored 14, 7 days after L.
# Pre timing: after 1 = 18, after 2 = 16, after 3 = the first score dated after 01-08 = 14.
# None of them is <= 10: no response. Before the fix, after 3 was 8 (a responder) and P was
# eligible for durability.
SAME_DAY_FOLLOW_UP = HEADER + (
    "P,2025-01-01,baseline,,20\n"
    "P,2025-01-02,infusion,1,20\n"
    "P,2025-01-05,infusion,2,18\n"
    "P,2025-01-08,infusion,3,16\n"
    "P,2025-01-08,follow_up,,8\n"
    "P,2025-01-15,follow_up,,14\n"
    "P,2025-02-10,follow_up,,9\n")


def test_a_follow_up_on_the_last_infusions_day_is_not_the_score_after_it():
    m = metrics_for(load_files(("p.csv", SAME_DAY_FOLLOW_UP.encode())), planned=3, as_of=None)
    assert column(m.response, "assessed") == [1, 1, 1]
    assert column(m.response, "responders") == [0, 0, 0]  # before: [0, 0, 1]
    assert column(m.response, "cumulative_responders") == [0, 0, 0]  # before: [0, 0, 1]
    # Not responding at the end of the series: not eligible for durability (before: eligible 1,
    # durable 1 with the 02-10 follow-up's 9).
    assert m.durability.iloc[0]["eligible"] == 0


def test_a_one_month_window_from_day_0_still_needs_a_later_date():
    """With the follow-up window 0..45 and post timing, P responds after infusion 3? No: post timing
    reads the score at infusion 3, 16. Patient S responds at infusion 3 (post: 8); a follow-up on
    L's own day scores 20, and one 30 days later 9: the one-month assessment is the later one,
    nearest day 30 and after L: durable."""
    text = HEADER + ("S,2025-01-01,baseline,,20\n" "S,2025-01-02,infusion,1,20\n" "S,2025-01-05,infusion,2,18\n"
                     "S,2025-01-08,infusion,3,8\n" "S,2025-01-08,follow_up,,20\n" "S,2025-02-07,follow_up,,9\n")
    m = metrics_for(load_files(("s.csv", text.encode())), planned=3, score_timing="post",
                    follow_up_window=(0, 45))
    d = m.durability.iloc[0]
    assert (d.eligible, d.durable, d.lost) == (1, 1, 0)


# Q: the first infusion has no number, the second is numbered 2: the numbers say nothing about a
# series started before the data. Baseline 20; pre timing, planned 3: after 1 = 9 (<= 10, responds).
UNNUMBERED_FIRST = HEADER + (
    "Q,2025-01-01,baseline,,20\n"
    "Q,2025-01-02,infusion,,20\n"
    "Q,2025-01-05,infusion,2,9\n"
    "Q,2025-01-08,infusion,3,8\n"
    "Q,2025-01-12,follow_up,,7\n"
    # R's first infusion does carry a number above 1: started before the data, as before.
    "R,2025-01-02,infusion,4,20\n"
    "R,2025-01-05,infusion,5,9\n")


def test_an_unnumbered_first_infusion_is_no_sign_of_an_earlier_start():
    m = metrics_for(load_files(("q.csv", UNNUMBERED_FIRST.encode())), planned=3)
    s = m.summary.iloc[0]
    assert (s.patients_started, s.completed, s.started_before) == (1, 1, 1)  # before: (0, 0, 2)
    assert column(m.response, "responders") == [1, 1, 1]  # before: [0, 0, 0]


def test_exact_repeats_are_judged_after_parsing():
    """Lines 3, 5 and 7 repeat lines 2, 4 and 6 once parsed: 20 = 20.0, 020 = ' 20' with infusion
    number 2 = 2.0, and ' North' = 'North'. Before the fix all three were merged into their visit
    silently (no rejection)."""
    text = ("patient_id,session_date,session_type,infusion_number,phq9,site\n"
            "P1,2025-01-01,baseline,,20,North\n"
            "P1,2025-01-01,baseline,,20.0,North\n"
            "P1,2025-01-02,infusion,2,020,North\n"
            "P1,2025-01-02,infusion,2.0, 20,North\n"
            "P1,2025-01-05,infusion,3,18,North\n"
            "P1,2025-01-05,infusion,3,18, North\n"
            # Not a repeat: the same visit with another score, a conflicting duplicate.
            "P1,2025-01-09,infusion,4,12,North\n"
            "P1,2025-01-09,infusion,4,13,North\n")
    ds = load_files(("r.csv", text.encode()))
    assert [(line, reason) for _, line, _, _, reason in ds.rejection_rows()] == [
        (3, "exact repeat of r.csv line 2"), (5, "exact repeat of r.csv line 4"), (7, "exact repeat of r.csv line 6"),
        (8, "conflicting duplicate: this visit has different phq9 scores"),
        (9, "conflicting duplicate: this visit has different phq9 scores")]
    assert (ds.rows_read, ds.rows_used, ds.rows_rejected) == (8, 5, 3)


@pytest.mark.parametrize("written, delimiter, read_as", [
    ('"20,0"', ",", None),  # before: 20.0
    ('"1,5"', ",", None),  # before: 1.5
    ("1_0", ",", None),  # before: 10 (DuckDB's digit separators)
    ("1_2_3", ",", None),  # before: 123, "out of range"
    ("0x1A", ",", None), ("0b11", ",", None), ("1e1", ",", None),  # before: 1e1 was 10
    ("Infinity", ",", None), ("nan", ",", None), ("--5", ",", None), ("5.5.5", ",", None),
    ("20,5", ";", 20.5), ("20.5", ";", 20.5), (" 07 ", ",", 7.0), ("+7", ",", 7.0), (".5", ",", 0.5),
])
def test_numbers_that_are_not_numbers(written, delimiter, read_as):
    text = f"patient_id{delimiter}session_date{delimiter}phq9\nP1{delimiter}2025-01-01{delimiter}{written}\n"
    ds = load_files(("n.csv", text.encode()))
    scores = [s for (s,) in ds.con.execute("SELECT score FROM scores").fetchall()]
    if read_as is None:
        assert scores == []
        assert [(r[3], r[4]) for r in ds.rejection_rows()] == [(written.strip('"').strip(), "not a number")]
    else:
        assert scores == [read_as] and ds.rejection_rows() == []


def test_infusion_numbers_and_planned_counts_are_read_as_numbers_too():
    """'1_0' as an infusion number is not 10 but not a number (rejected value, the row kept); a
    planned count of '4.0' is 4, '0x4' is no planned count (the default, 6)."""
    text = ("patient_id,session_date,infusion_number,planned_infusions,phq9\n"
            "P1,2025-01-01,1_0,4.0,20\n" "P2,2025-01-01,1,0x4,20\n")
    ds = load_files(("i.csv", text.encode()))
    assert [(r[1], r[3]) for r in ds.rejection_rows()] == [(2, "1_0")]
    m = metrics_for(ds)
    assert len(m.response) == 6  # N is the largest planned count: P1's 4, P2's default 6


@pytest.mark.parametrize("label, kind", [
    ("Post-infusion assessment", AMBIGUOUS), ("Assessment", AMBIGUOUS), ("Evaluation", AMBIGUOUS),
    ("Infusion follow-up", AMBIGUOUS), ("Baseline infusion", AMBIGUOUS), ("Pre-infusion check-in", AMBIGUOUS),
    ("Intake assessment", "baseline"), ("Follow-up assessment", "follow_up"), ("Post-treatment", "follow_up"),
    ("Ketamine follow-up", "follow_up"), ("Ketamine IV", "infusion"), ("Booster infusion", "infusion"),
    ("Treatment", "infusion"), ("Screening", "baseline"), ("No-show", None), ("Integration session", None),
])
def test_session_types_are_read_or_never_guessed(label, kind):
    assert session_type(label) == kind


# T: baseline 20; infusions 01-02 (20), 01-05 (15), 01-08 (9); between them "Post-infusion
# assessment" rows. Before the fix those rows were infusions: the series (planned 3) was 01-02,
# 01-03, 01-05, and 01-08 a booster. Now they are rejected with their reason (and listed for the
# app's question), and the series is the three infusions.
AMBIGUOUS_EXPORT = HEADER.replace(",infusion_number", "") + (
    "T,2025-01-01,baseline,20\n"
    "T,2025-01-02,Infusion,20\n"
    "T,2025-01-03,Post-infusion assessment,12\n"
    "T,2025-01-05,Infusion,15\n"
    "T,2025-01-06,post infusion assessment,10\n"
    "T,2025-01-08,Infusion,9\n"
    "T,2025-01-12,Follow-up,8\n")


def test_an_ambiguous_session_type_is_rejected_and_asked_about():
    ds = load_files(("t.csv", AMBIGUOUS_EXPORT.encode()))
    # Two spellings of one label are one question (one choice in the app applies to both).
    assert ds.ambiguous_session_types == [("Post-infusion assessment", 2)]
    assert [(r[1], r[4].split(":")[0]) for r in ds.rejection_rows()] == [(4, "ambiguous session type"),
                                                                          (6, "ambiguous session type")]
    m = metrics_for(ds, planned=3)
    # after 1 = 15, after 2 = 9 (responds), after 3 = the follow-up's 8. Before: L = 3 ended on
    # 01-05 and after 2 was 15.
    assert column(m.response, "responders") == [0, 1, 1]
    # Named in a mapping, the label is read as written there, whatever its case and spacing.
    named = load_files(("t.csv", AMBIGUOUS_EXPORT.encode()),
                       mapping=Mapping(session_types={"Post-infusion assessment": "follow_up"}))
    assert named.ambiguous_session_types == [] and named.rejection_rows() == []


def test_the_export_says_which_session_types_it_rejected(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(AMBIGUOUS_EXPORT)
    done = subprocess.run([sys.executable, "-m", "dashboard.export", str(path), "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    assert "session type 'Post-infusion assessment' reads as more than one kind" in done.stderr
    mapping = tmp_path / "map.json"
    mapping.write_text('{"session_types": {"Post-infusion assessment": "follow_up"}}')
    done = subprocess.run([sys.executable, "-m", "dashboard.export", str(path), "--out", str(tmp_path / "out2"),
                           "--map", str(mapping)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "reads as more than one kind" not in done.stderr
    assert (tmp_path / "out2" / "rejections.csv").read_text().splitlines() == ["file,line,column,value,reason"]


def test_a_measure_without_a_remission_cut_off_has_no_remission(tmp_path):
    """HAM-A declared without a remission cut-off: remitters and remission rate are empty, in the
    tables and the export (before: 0 and 0.0), and the chart draws no remission line."""
    from dashboard.present import charts

    measures = load_measures_file('[hama]\nlabel = "HAM-A"\nrange = [0, 56]\nbetter = "lower"\nmin_baseline = 18\n')
    text = ("patient_id,session_date,session_type,hama\n"
            "P1,2025-01-01,baseline,30\n" "P1,2025-01-02,infusion,30\n" "P1,2025-01-05,infusion,4\n")
    m = metrics_for(load_files(("h.csv", text.encode()), measures=measures), measure="hama", planned=1)
    assert column(m.response, "responders") == [1]
    import pandas as pd

    assert m.response["remitters"].map(pd.isna).all() and m.response["remission_rate"].map(pd.isna).all()
    lines = charts.response_by_infusion(m.response).to_dict()
    assert "Remission (of those assessed)" not in str(lines)
    (tmp_path / "m.toml").write_text('[hama]\nlabel = "HAM-A"\nrange = [0, 56]\nbetter = "lower"\nmin_baseline = 18\n')
    (tmp_path / "h.csv").write_text(text)
    subprocess.run([sys.executable, "-m", "dashboard.export", str(tmp_path / "h.csv"), "--out", str(tmp_path / "out"),
                    "--measure", "hama", "--measures", str(tmp_path / "m.toml"), "--planned", "1"],
                   cwd=ROOT, check=True, capture_output=True)
    row = next(csv.DictReader(io.StringIO((tmp_path / "out" / "response_by_infusion.csv").read_text())))
    assert (row["responders"], row["remitters"], row["remission_rate"]) == ("1", "", "")


def test_zeros_read_0_not_below_the_minimum():
    assert count(0, 11) == "0" and count(3, 11) == "<11" and count(11, 11) == "11"  # before: "<11" for 0
    import pandas as pd

    dropout = pd.DataFrame({"grp": "All", "n": [1, 2], "dropped_after": [0, 30], "at_risk": [100, 100],
                            "completed_at": [0, 70], "in_progress_at": [0, 0], "retained": [1.0, 1.0]})
    shown = shown_tables({"dropout": dropout}, 11)["dropout"]
    assert shown["dropped_after"].tolist() == [0, 30] and shown["completed_at"].tolist() == [0, 70]


def test_dimensions_and_planned_counts_come_from_the_first_series_infusion():
    """U: a baseline row says site North and planned 4, the first infusion says South and planned
    3: U is South, planned 3. V: the first infusion leaves both empty, a later infusion gives East
    and 4: the first non-empty value by date."""
    text = ("patient_id,session_date,session_type,site,planned_infusions,phq9\n"
            "U,2025-01-01,baseline,North,4,20\n" "U,2025-01-02,infusion,South,3,20\n"
            "U,2025-01-05,infusion,,,9\n" "U,2025-01-08,infusion,North,4,8\n"
            "V,2025-01-02,infusion,,,20\n" "V,2025-01-05,infusion,East,4,15\n")
    ds = load_files(("u.csv", text.encode()))
    dims = dict(ds.con.execute("""SELECT p.patient_id || ':' || d.dim, d.value FROM patient_dims d
                                  JOIN patients p USING (patient_key) WHERE d.dim IN ('site', 'planned_infusions')""").fetchall())
    assert dims == {"U:site": "South", "U:planned_infusions": "3", "V:site": "East", "V:planned_infusions": "4"}
    m = metrics_for(ds)
    s = m.summary.iloc[0]
    assert (s.completed, s.in_progress) == (1, 1)  # U completed at 3 of 3; V at 2 of 4, 3 days before as-of


def test_a_value_given_only_after_as_of_is_not_known_at_as_of():
    """W's three infusions (01-02, 01-05, 01-08) leave planned_infusions and site empty; a follow-up
    on 02-10 gives planned 3 and site North. Read at 01-20, that row is left out like any row after
    as_of: W's planned count is the default 6, so W is in progress (L = 3, 12 days before as-of),
    and W's site is not recorded. Before the fix W was completed (planned 3) at site North. Read
    at 02-10, the row counts: completed, North."""
    from datetime import date

    from dashboard.engine.metrics import Cohort

    text = ("patient_id,session_date,session_type,infusion_number,site,planned_infusions,phq9\n"
            "W,2025-01-01,baseline,,,,20\n" "W,2025-01-02,infusion,1,,,20\n" "W,2025-01-05,infusion,2,,,15\n"
            "W,2025-01-08,infusion,3,,,12\n" "W,2025-02-10,follow_up,,North,3,9\n")
    ds = load_files(("w.csv", text.encode()))
    early = metrics_for(ds, Cohort(split_by="site"), as_of=date(2025, 1, 20))
    s = early.summary.iloc[0]
    assert (s.grp, s.completed, s.in_progress) == ("(not recorded)", 0, 1)  # before: ("North", 1, 0)
    late = metrics_for(ds, Cohort(split_by="site"))
    s = late.summary.iloc[0]
    assert (s.grp, s.completed, s.in_progress) == ("North", 1, 0)


def test_the_exports_help_states_each_edge_of_the_contract():
    """--help carries the same definitions as the app's methods text (dashboard.present.methods_text)."""
    done = subprocess.run([sys.executable, "-m", "dashboard.export", "--help"], cwd=ROOT, capture_output=True, text=True)
    text = " ".join(done.stdout.split())
    for phrase in ("exact repeat", "20 and 20.0", "decimal comma only in files whose delimiter is not a comma",
                   "1_0, 1e1, 0x1A, Infinity", "never guessed", "carries a number above 1",
                   "an empty number does not mean that", "first non-empty value by date",
                   "one on the same day does not count", "no remission figures (empty, not 0)",
                   "stands at n with that score in", "on a later day than it", "before 1990-01-01",
                   "dated in the future", "never after today", "a zero always shows as 0"):
        assert phrase in text, phrase
