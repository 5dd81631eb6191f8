"""Every rule of docs/METHODS.md 17 on fixtures/every_rejection.csv, line by line (header = line 1):

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

from conftest import load_files, load_fixture


def test_every_rejection_reason_with_its_line():
    ds = load_fixture("every_rejection.csv")
    got = [tuple(r) for r in ds.rejections().itertuples(index=False)]
    assert got == [
        ("every_rejection.csv", 4, "patient_id", "", "no patient id"),
        ("every_rejection.csv", 5, "session_date", "", "no session date"),
        ("every_rejection.csv", 6, "session_date", "2025-02-30", "unreadable date"),
        ("every_rejection.csv", 7, "session_type", "No-show", "not a visit: unrecognised session type"),
        ("every_rejection.csv", 8, "", "", "exact repeat of every_rejection.csv line 3"),
        ("every_rejection.csv", 9, "phq9", "31", "PHQ-9 out of range 0-27"),
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
    (docs/METHODS.md 17): a session type "  NA   " is an infusion, an infusion number or score "  n/a  "
    is no value, and only the row whose patient id is "   N/A   " is rejected."""
    ds = load_files(("spaced.csv", (
        "patient_id,session_date,session_type,infusion_number,phq9\n"
        "P1,2025-01-01,  NA   ,  n/a  ,  n/a  \n"
        "   N/A   ,2025-01-02,infusion,2,12\n"
        "P1,2025-01-03,   -   ,   -   ,11\n").encode()))
    assert ds.rejection_rows() == [("spaced.csv", 3, "patient_id", "   N/A   ", "no patient id")]
    assert ds.con.execute("SELECT session_type, infusion_number FROM visits ORDER BY session_date").fetchall() == [
        ("infusion", None), ("infusion", None)]
    assert ds.con.execute("SELECT score FROM scores").fetchall() == [(11,)]


def test_scores_however_the_number_is_written():
    """Most scores are whole numbers written plainly ("7") and skip the text checks (load._kept_columns);
    every other way of writing a number must read the same as before that shortcut: 07, 7.0, " 7 ",
    +7 are 7; 7.5 is 7.5; 1e1 is not a number (issue 15: only digits with a decimal point are);
    27 is PHQ-9's top; 28 and -1 are out of range. Line 12 repeats line 11 once parsed (7 and 7.0
    both times: an exact repeat, docs/METHODS.md 17, rejected whole); lines 13-14 are one visit whose
    PHQ-9 reads 8 both times (8 and 08) and whose GAD-7 conflicts (8, 9), so that the visit has no
    GAD-7. The export keeps only PHQ-9 (score_measures) and lists the same rejections."""
    text = ("patient_id,session_date,phq9,gad7\n"
            "P1,2025-01-01,07,07\n" "P1,2025-01-02,7.0,7.0\n" "P1,2025-01-03,7.5,7.5\n"
            "P1,2025-01-04, 7 , 7 \n" "P1,2025-01-05,+7,+7\n" "P1,2025-01-06,1e1,1e1\n"
            "P1,2025-01-07,27,21\n" "P1,2025-01-08,28,22\n" "P1,2025-01-09,-1,-1\n"
            "P1,2025-01-10,7,7\n" "P1,2025-01-10,7.0,7.0\n" "P1,2025-01-11,8,8\n" "P1,2025-01-11,08,9\n")
    rejected = [("s.csv", 7, "gad7", "1e1", "not a number"), ("s.csv", 7, "phq9", "1e1", "not a number"),
                ("s.csv", 9, "gad7", "22", "GAD-7 out of range 0-21"),
                ("s.csv", 9, "phq9", "28", "PHQ-9 out of range 0-27"),
                ("s.csv", 10, "gad7", "-1", "GAD-7 out of range 0-21"),
                ("s.csv", 10, "phq9", "-1", "PHQ-9 out of range 0-27"),
                ("s.csv", 12, "", "", "exact repeat of s.csv line 11"),
                ("s.csv", 13, "gad7", "8", "conflicting duplicate: this visit has different gad7 scores"),
                ("s.csv", 14, "gad7", "9", "conflicting duplicate: this visit has different gad7 scores")]
    phq9 = [7, 7, 7.5, 7, 7, 27, 7, 8]
    gad7 = [7, 7, 7.5, 7, 7, 21, 7]
    scores = "SELECT s.score FROM scores s JOIN visits v USING (visit_id) WHERE s.measure = $m ORDER BY v.session_date"
    for kept, expected_gad7 in ((None, gad7), ({"phq9"}, [7])):  # the export keeps GAD-7 only where compared
        ds = load_files(("s.csv", text.encode()), score_measures=kept)
        assert ds.rejection_rows() == rejected
        assert [s for (s,) in ds.con.execute(scores, {"m": "phq9"}).fetchall()] == phq9
        assert [s for (s,) in ds.con.execute(scores, {"m": "gad7"}).fetchall()] == expected_gad7


def test_a_patient_all_of_whose_rows_are_rejected_is_no_patient():
    """P2's only row has an unreadable date; P4's rows are a no-show and an unreadable date; P3 has
    a no-show and a kept visit. The patients are P1 and P3, who count in '(not recorded)' and in
    the patient lists."""
    ds = load_files(("p.csv", (
        "patient_id,session_date,session_type,phq9,site\n"
        "P1,2025-01-01,infusion,20,North\n"
        "P2,2025-02-30,infusion,20,North\n"
        "P3,2025-01-02,No-show,,South\n"
        "P3,2025-01-03,infusion,18,\n"
        "P4,2025-01-04,No-show,,South\n"
        "P4,yesterday,infusion,15,South\n").encode()))
    assert ds.con.execute("SELECT patient_id FROM patients ORDER BY 1").fetchall() == [("P1",), ("P3",)]
    assert [r[4] for r in ds.rejection_rows()] == [
        "unreadable date", "not a visit: unrecognised session type",
        "not a visit: unrecognised session type", "unreadable date"]
    # P3's site was given only on its rejected row: not recorded, for one of the two patients.
    assert ds.dimension_values()["site"] == ["North", "(not recorded)"]
