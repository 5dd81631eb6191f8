"""Every rule of METRICS.md 6 on fixtures/every_rejection.csv, line by line (header = line 1):

  2  baseline, kept                       8  repeats line 3 once parsed ("Infusion"): exact repeat
  3  infusion 01-03, kept                 9  PHQ-9 31: value out of range, row kept
  4  no patient id: row rejected         10  PHQ-9 "abc": not a number, row kept
  5  no date: row rejected               11  PHQ-9 12 (GAD-7 NA = missing, not an error)
  6  2025-02-30: unreadable date         12  same patient, date and type, PHQ-9 14: one visit with
  7  No-show: not a visit                    11; both PHQ-9 values conflict and are rejected
 13  seven fields under a six-column header: rejected as a broken line
 14  "-" cells are missing values: kept
Rows read 13, rejected 6 (lines 4 5 6 7 8 13), used 7, in 6 visits.
"""

from __future__ import annotations

from conftest import load_fixture


def test_every_rejection_reason_with_its_line():
    ds = load_fixture("every_rejection.csv")
    got = [tuple(r) for r in ds.rejections().itertuples(index=False)]
    assert got == [
        ("every_rejection.csv", 4, "patient_id", "", "no patient id"),
        ("every_rejection.csv", 5, "session_date", "", "no session date"),
        ("every_rejection.csv", 6, "session_date", "2025-02-30", "unreadable date"),
        ("every_rejection.csv", 7, "session_type", "No-show", "not a visit: unrecognised session type"),
        ("every_rejection.csv", 8, "", "", "exact repeat of every_rejection.csv line 3"),
        ("every_rejection.csv", 9, "phq9", "31", "out of range (0-27)"),
        ("every_rejection.csv", 10, "phq9", "abc", "not a number"),
        ("every_rejection.csv", 11, "phq9", "12", "conflicting duplicate: this visit has different phq9 scores"),
        ("every_rejection.csv", 12, "phq9", "14", "conflicting duplicate: this visit has different phq9 scores"),
        ("every_rejection.csv", 13, "", "R1,2025-01-12,infusion,10,5,North,extra",
         "the line has 7 fields but the header has 6"),
    ]
    f = ds.files[0]
    assert (f.rows_read, f.rows_used, f.rows_rejected) == (13, 7, 6)
    visits = ds.con.execute("SELECT session_date::VARCHAR, session_type FROM visits ORDER BY 1").fetchall()
    assert visits == [("2025-01-01", "baseline"), ("2025-01-03", "infusion"), ("2025-01-07", "infusion"),
                      ("2025-01-08", "infusion"), ("2025-01-10", "infusion"), ("2025-01-14", "infusion")]
    scores = ds.con.execute(
        "SELECT v.session_date::VARCHAR, s.measure, s.score FROM scores s JOIN visits v USING (visit_id) ORDER BY 1, 2"
    ).fetchall()
    assert scores == [("2025-01-01", "gad7", 10), ("2025-01-01", "phq9", 18), ("2025-01-03", "gad7", 9),
                      ("2025-01-03", "phq9", 17), ("2025-01-07", "gad7", 9), ("2025-01-08", "gad7", 9)]


def test_missing_values_with_spaces_around_them_are_missing():
    """NA, N/A, - and empty cells are missing values however many spaces surround them
    (METRICS.md 6): a session type "  NA   " is an infusion, an infusion number or score "  n/a  "
    is no value, and only the row whose patient id is "   N/A   " is rejected."""
    from conftest import load_files

    ds = load_files(("spaced.csv", (
        "patient_id,session_date,session_type,infusion_number,phq9\n"
        "P1,2025-01-01,  NA   ,  n/a  ,  n/a  \n"
        "   N/A   ,2025-01-02,infusion,2,12\n"
        "P1,2025-01-03,   -   ,   -   ,11\n").encode()))
    assert ds.rejection_rows() == [("spaced.csv", 3, "patient_id", "   N/A   ", "no patient id")]
    assert ds.con.execute("SELECT session_type, infusion_number FROM visits ORDER BY session_date").fetchall() == [
        ("infusion", None), ("infusion", None)]
    assert ds.con.execute("SELECT score FROM scores").fetchall() == [(11,)]
