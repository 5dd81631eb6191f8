"""A corpus of bad input (issue 5): each file gives the right numbers or one plain message.

Small cases are files in tests/bad_input/; binary and big ones (an 11 MB field, 5,000 columns,
50 MB of rows) are made here at test time. Every test states what happens to each line:
used, or rejected with which reason (header = line 1), or the one message the file gets.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, column, load_files, metrics_for

from dashboard.engine.metrics import Cohort
from dashboard.ingest import Mapping, MappingError, UnreadableFile

BAD = Path(__file__).resolve().parent / "bad_input"


def load_bad(name: str, **kwargs):
    return load_files((name, (BAD / name).read_bytes()), **kwargs)


def counts(ds) -> tuple[int, int, int]:
    return ds.rows_read, ds.rows_used, ds.rows_rejected


def rejected(ds) -> list[tuple]:
    """(line, column, value, reason) of every rejection."""
    return [tuple(r)[1:] for r in ds.rejections().itertuples(index=False)]


def visits(ds, measure: str = "phq9") -> list[tuple]:
    """(patient, date, type, score) of every visit, in patient and date order."""
    return ds.con.execute(
        """SELECT p.patient_id, v.session_date::VARCHAR, v.session_type, s.score
        FROM visits v JOIN patients p USING (patient_key)
        LEFT JOIN scores s ON s.visit_id = v.visit_id AND s.measure = $m ORDER BY 1, 2""", {"m": measure}
    ).fetchall()


def meanings(ds) -> list[tuple[str, str]]:
    return [(header, meaning) for header, meaning, _ in ds.files[0].columns]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.export", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# --- Files that are not a table: one message -----------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n%%EOF\n"


def junk(size: int = 5000) -> bytes:
    """Deterministic binary junk (a linear congruential sequence of bytes)."""
    out, x = bytearray(), 12345
    for _ in range(size):
        x = (1103515245 * x + 12345) % 2**31
        out.append(x >> 16 & 0xFF)
    return bytes(out)


@pytest.mark.parametrize("data,message", [
    (b"", "upload.csv: the file is empty. Expected a CSV or Excel export with a header row."),
    (junk(), "upload.csv: this does not look like a text table (it holds binary data). Expected a CSV or Excel export."),
    (PDF, "upload.csv: this is a PDF document, not a table. Export the visits as CSV or Excel (.xlsx)."),
], ids=["empty", "binary junk", "pdf renamed"])
def test_not_a_table_gets_one_message(data, message):
    with pytest.raises(UnreadableFile) as info:
        load_files(("upload.csv", data))
    assert str(info.value) == message


@pytest.mark.parametrize("data,message", [
    (junk(), "error: junk.csv: this does not look like a text table (it holds binary data). "
             "Expected a CSV or Excel export."),
    (PDF, "error: junk.csv: this is a PDF document, not a table. Export the visits as CSV or Excel (.xlsx)."),
    # A header cell with a line break in it: the message still stays on one line.
    (b'"Who\nis it",When,Mood\nP1,2025-01-01,5\n', "error: Could not recognise these columns: patient id"),
], ids=["binary junk", "pdf renamed", "header with a line break"])
def test_cli_says_one_line_and_exits_2(tmp_path, data, message):
    bad = tmp_path / "junk.csv"
    bad.write_bytes(data)
    result = run_cli(str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "out").exists()


# --- Files that are a table, however odd ---------------------------------------------------------

def test_header_only_is_a_file_with_no_rows():
    """Nothing to use and nothing to reject (blank lines are not rows): every metric table is
    empty, no error. The CLI writes its files with their headers only."""
    for data in ((BAD / "header_only.csv").read_bytes(), b"patient_id,session_date,phq9\n\n   \n\n"):
        ds = load_files(("header_only.csv", data))
        assert counts(ds) == (0, 0, 0) and rejected(ds) == []
        m = metrics_for(ds)
        assert len(m.response) == 0 and len(m.summary) == 0 and len(m.dropout) == 0


def test_cli_on_header_only(tmp_path):
    result = run_cli(str(BAD / "header_only.csv"), "--out", str(tmp_path))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"wrote 9 files to {tmp_path}: 0 rows read, 0 used, 0 rejected\n"
    assert (tmp_path / "rejections.csv").read_text() == "file,line,column,value,reason\n"
    assert (tmp_path / "dropout.csv").read_text() == "n,dropped_after,retained\n"


def test_xlsx_renamed_csv_is_read_as_excel():
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Patient ID", "Visit Date", "PHQ-9"])
    book.active.append(["P1", "2025-03-01", 20])
    book.active.append(["P1", "2025-03-04", 99])
    buffer = io.BytesIO()
    book.save(buffer)
    ds = load_files(("export.csv", buffer.getvalue()))
    assert ds.files[0].kind == "xlsx" and counts(ds) == (2, 2, 0)
    assert visits(ds) == [("P1", "2025-03-01", "infusion", 20), ("P1", "2025-03-04", "infusion", None)]
    assert rejected(ds) == [(3, "PHQ-9", "99", "PHQ-9 out of range 0-27")]


@pytest.mark.parametrize("encoding,name", [("utf-16-le", "little"), ("utf-16-be", "big")])
def test_utf16_without_bom(encoding, name):
    text = "patient_id,session_date,phq9,site\r\nJörg,2025-03-01,20,Zoë\r\nJörg,2025-03-04,9,Zoë\r\n"
    ds = load_files(("x.csv", text.encode(encoding)))
    assert ds.files[0].encoding == f"UTF-16 ({name}-endian, no BOM)"
    assert counts(ds) == (2, 2, 0)
    assert visits(ds) == [("Jörg", "2025-03-01", "infusion", 20), ("Jörg", "2025-03-04", "infusion", 9)]
    assert ds.dimension_values()["site"] == ["Zoë"]


def test_mixed_delimiters_reject_the_other_lines():
    """Comma-separated (the header decides); a line split by ; tab or | is one field: rejected."""
    ds = load_bad("mixed_delimiters.csv")
    assert ds.files[0].delimiter == "comma" and counts(ds) == (7, 3, 4)
    assert rejected(ds) == [
        (3, "", "P1;2025-03-04;infusion;18", "the line has 1 field but the header has 4"),
        (5, "", "P1\t2025-03-14\tinfusion\t9", "the line has 1 field but the header has 4"),
        (6, "", "P1|2025-03-14|infusion|9", "the line has 1 field but the header has 4"),
        (7, "", "P1,2025-03-14,infusion;9", "the line has 3 fields but the header has 4"),
    ]
    assert visits(ds) == [("P1", "2025-03-01", "baseline", 20), ("P1", "2025-03-04", "infusion", 18),
                          ("P1", "2025-03-14", "infusion", 9)]


def test_mixed_line_breaks():
    """CR LF lines with one LF line (two exports pasted together), and an old Mac file (CR only):
    each line break counts, nothing is lost, and the summary says so."""
    rows = ["patient_id,session_date,phq9", "P1,2025-03-01,20", "P1,2025-03-04,18", "P1,2025-03-07,99",
            "P1,2025-03-10,9"]
    pasted = ("\r\n".join(rows[:3]) + "\n" + "\r\n".join(rows[3:]) + "\r\n").encode()
    mac = ("\r".join(rows) + "\r").encode()
    for data in (pasted, mac):
        ds = load_files(("x.csv", data))
        assert counts(ds) == (4, 4, 0)
        assert rejected(ds) == [(4, "phq9", "99", "PHQ-9 out of range 0-27")]
        assert ds.files[0].notes == ["line breaks are written in more than one way (CR LF, LF, CR): "
                                     "each is read as one line break"]


def test_5000_columns():
    """A 5,000-column export is over the 500 columns the dashboard reads (issue 16.11): refused
    with a plain message naming its width and the limit, before any row is read. 500 columns are
    read, every extra column a dimension."""
    extra = [f"x{i}" for i in range(4997)]
    lines = [",".join(["patient_id", "session_date", "phq9", *extra]),
             ",".join(["P1", "2025-03-01", "20", *("a" for _ in extra)]),
             ",".join(["P2", "2025-03-01", "18", *(str(i) for i in range(4997))])]
    with pytest.raises(UnreadableFile, match="it has 5,000 columns, more than the 500 this dashboard reads"):
        load_files(("wide.csv", ("\n".join(lines) + "\n").encode()))
    narrow = [",".join(line.split(",")[:500]) for line in lines]
    ds = load_files(("wide.csv", ("\n".join(narrow) + "\n").encode()))
    assert counts(ds) == (2, 2, 0) and len(ds.files[0].columns) == 500
    assert len([d for d in ds.dimensions() if d.startswith("x")]) == 497
    assert ds.dimension_values()["x496"] == ["496", "a"]
    # A 5,000-field line under a 4-column header is one broken line.
    ds = load_files(("line.csv", b"patient_id,session_date,session_type,phq9\n" + b",".join([b"x"] * 5000)
                     + b"\nP1,2025-03-01,infusion,5\n"))
    assert counts(ds) == (2, 1, 1)
    assert [(line, reason) for line, _, _, reason in rejected(ds)] == [
        (2, "the line has 5000 fields but the header has 4")]


def test_11_mb_fields():
    """A line over 10 MB (an 11 MB note, quoted or not, or an 11 MB patient id) is rejected with its
    line; the rows around it are used. The rejection shows the line's first 200 characters."""
    big = b"y" * 11_000_000
    data = (b"patient_id,session_date,phq9,note\n"
            b"P1,2025-03-01,20,short\n"
            b"P1,2025-03-04,18," + big + b"\n"
            b'P1,2025-03-07,15,"' + big + b'"\n'
            + big + b",2025-03-10,12,x\n"
            b"P1,2025-03-14,9,x\n")
    ds = load_files(("notes.csv", data))
    assert counts(ds) == (5, 2, 3)
    got = rejected(ds)
    assert [(line, reason) for line, _, _, reason in got] == [(n, "the line is longer than 10 MB") for n in (3, 4, 5)]
    assert got[0][2] == ("P1,2025-03-04,18," + "y" * 200)[:200]
    assert visits(ds) == [("P1", "2025-03-01", "infusion", 20), ("P1", "2025-03-14", "infusion", 9)]


def test_duplicated_headers():
    """The first column of each meaning is used; a later one is kept as a dimension, except a
    second patient id (MRN beside Patient ID), which never becomes a filter or a group."""
    ds = load_bad("duplicated_headers.csv")
    assert meanings(ds) == [
        ("MRN", "patient id"), ("Date of Service", "session date"), ("PHQ-9", "score: PHQ-9"),
        ("phq9", "dimension: phq9 (column 4)"), ("Patient ID", "ignored (repeats a column already used)"),
        ("Site", "dimension: site"), ("site", "dimension: site (column 7)"), ("Date", "dimension: Date (column 8)"),
    ]
    assert counts(ds) == (2, 2, 0) and rejected(ds) == []
    assert visits(ds) == [("P1", "2025-03-01", "infusion", 20), ("P1", "2025-03-04", "infusion", 9)]
    assert "Patient ID (column 5)" not in ds.dimensions()
    assert ds.dimension_values()["site"] == ["North"] and ds.dimension_values()["site (column 7)"] == ["South"]


def test_cells_that_look_like_formulas():
    """Cells starting = + - @ are text as written: a patient id stays an id, a score must be a
    number in range (+5 is 5, -5 is out of range); the CSV export neutralises them (below)."""
    ds = load_bad("formulas.csv")
    assert counts(ds) == (4, 4, 0)
    assert visits(ds) == [("+P2", "2025-03-01", "infusion", 5), ("-P3", "2025-03-01", "infusion", None),
                          ("=1+2", "2025-03-01", "infusion", None), ("@P4", "2025-03-01", "infusion", None)]
    assert rejected(ds) == [(2, "phq9", "=5", "not a number"), (4, "phq9", "-5", "PHQ-9 out of range 0-27"),
                            (5, "phq9", "@5", "not a number")]
    assert ds.dimension_values()["site"] == ["+1", "-x", '=HYPERLINK("http://x")', "@SUM(A1)"]


def test_cli_neutralises_formulas_in_rejections(tmp_path):
    from dashboard.export import main

    assert main([str(BAD / "formulas.csv"), "--out", str(tmp_path)]) == 0
    lines = (tmp_path / "rejections.csv").read_text(encoding="utf-8").splitlines()
    # (-5 is a number: Excel reads it as -5, so it is written as it is.)
    assert lines[1:] == ["formulas.csv,2,phq9,'=5,not a number", "formulas.csv,4,phq9,-5,PHQ-9 out of range 0-27",
                         "formulas.csv,5,phq9,'@5,not a number"]


def test_headers_with_quotes_semicolons_and_sql_keywords():
    """Headers and values are data, never SQL: they come back exactly as written, and filtering
    or splitting by such a dimension works."""
    ds = load_bad("sql_headers.csv")
    drop = '"; DROP TABLE visits; --'
    assert [h for h, _ in meanings(ds)][3:] == [drop, "select", '"quoted"', "from", "c0", "line"]
    assert counts(ds) == (2, 2, 0)
    assert visits(ds) == [("P1", "2025-03-01", "infusion", 20), ("P2", "2025-03-01", "infusion", 18)]
    values = ds.dimension_values()
    assert values[drop] == ["a", "x'); DROP TABLE visits; --"] and values['"quoted"'] == ['"', "c"]
    assert values["c0"] == ["e", "y"] and values["line"] == ["f", "z"]
    only_p2 = metrics_for(ds, cohort=Cohort.of({drop: ["x'); DROP TABLE visits; --"]}))
    assert column(only_p2.summary, "patients_started") == [1]
    split = metrics_for(ds, cohort=Cohort.of(split_by='"quoted"'))
    assert sorted(split.summary["grp"]) == ['"', "c"]
    with pytest.raises(MappingError) as info:
        load_bad("sql_headers_only.csv")
    assert "The file's headers are: '\"; DROP TABLE visits; --', 'select', '\"quoted\"', 'phq9'." in str(info.value)


def test_a_patient_with_500_infusions():
    """P1: baseline 20, 500 infusions two days apart, scoring 20 at the first and 8 after. The
    series is the first 6 (planned = 6); infusions 7..500 are boosters. P2: baseline 18, two
    infusions (18, 12), then nothing. as_of = P1's last infusion (2025-09-27).
    Pre timing: after 1 infusion P1 scores 8 <= 10 (responds), P2 12 > 9 (does not): 1/2.
    After 2..6 only P1 is assessed (after 6: infusion 7, a booster's check-in within 14 days).
    P1 completes; P2 dropped after 2 (retained 0.5 from n = 3). P1's booster came before any
    follow-up: booster_first."""
    start = date(2023, 1, 1)
    lines = ["patient_id,session_date,session_type,phq9", f"P1,{start},baseline,20"]
    lines += [f"P1,{start + timedelta(days=2 * k)},infusion,{20 if k == 1 else 8}" for k in range(1, 501)]
    lines += ["P2,2023-02-01,baseline,18", "P2,2023-02-02,infusion,18", "P2,2023-02-04,infusion,12"]
    ds = load_files(("many.csv", ("\n".join(lines) + "\n").encode()))
    assert counts(ds) == (504, 504, 0)
    m = metrics_for(ds)
    assert m.as_of == date(2025, 9, 27) and m.dated_in_future == 0
    assert column(m.response, "assessed") == [2, 1, 1, 1, 1, 1]
    assert column(m.response, "responders") == [1, 1, 1, 1, 1, 1]
    assert column(m.response, "cumulative_rate") == [0.5] * 6
    assert column(m.dropout, "dropped_after") == [0, 1, 0, 0, 0, 0]
    assert column(m.dropout, "retained") == [1, 1, 0.5, 0.5, 0.5, 0.5]
    assert (column(m.summary, "completed"), column(m.summary, "dropped")) == ([1], [1])
    assert (column(m.durability, "eligible"), column(m.durability, "booster_first")) == ([1], [1])


def test_future_dates():
    """A visit typed as 2205-03-07 (after today): docs/METHODS.md 2 counts it apart as dated in the
    future and never uses it, so the default as_of is the latest date up to today (2025-03-05) and
    P1's series of two is in progress. With as_of set to 2025-03-10 the same: the row is still
    left out as dated in the future, not as after as-of. Response after 1 infusion (8 <= 10) is
    the same either way."""
    ds = load_bad("future_dates.csv")
    assert counts(ds) == (4, 4, 0) and rejected(ds) == []
    default = metrics_for(ds)
    assert default.as_of == date(2025, 3, 5)
    assert (default.dated_in_future, default.left_out_after_as_of) == (1, 0)
    set_as_of = metrics_for(ds, as_of=date(2025, 3, 10))
    assert (set_as_of.dated_in_future, set_as_of.left_out_after_as_of) == (1, 0)
    for m in (default, set_as_of):
        assert column(m.summary, "in_progress") == [1] and column(m.summary, "dropped") == [0]
        assert column(m.response, "assessed")[0] == 1 and column(m.response, "responders")[0] == 1


def test_negative_and_fractional_scores():
    """A fraction in range is a score (20.5, 9.5, 12.25, .5 and 3. too); -0 is 0; a negative
    score or one above the range is rejected alone, and its row kept."""
    ds = load_bad("negative_fractional_scores.csv")
    assert counts(ds) == (6, 6, 0)
    assert rejected(ds) == [
        (3, "phq9", "-1", "PHQ-9 out of range 0-27"), (3, "who5", "-0.5", "WHO-5 out of range 0-25"),
        (6, "phq9", "27.01", "PHQ-9 out of range 0-27"), (6, "who5", "25.5", "WHO-5 out of range 0-25"),
    ]
    assert [score for *_, score in visits(ds)] == [20.5, None, 9.5, 0, None, 0.5]
    assert [score for *_, score in visits(ds, "who5")] == [10, None, 12.25, 25, None, 3]


def test_50_mb_of_rows_then_garbage():
    """About 186,000 patients of six good rows each (50 MB, accents in UTF-8), then a damaged
    tail: binary bytes, a line with an impossible date, a truncated last row. Every good row is
    used, each tail line rejected with its line, and the accents of the good rows survive (the
    whole file used to be read as Windows-1252 because of the tail, or failed on its stray CR)."""
    block = b"".join(b"P%%07d,2025-01-%02d,%s,%d,10,S\xc3\xbcdstadt\n" % (1 + 2 * k, kind, 20 - 2 * k)
                     for k, kind in enumerate([b"baseline"] + [b"infusion"] * 5))
    patients = 186_000
    body = b"".join(block % ((p,) * 6) for p in range(patients))
    header = b"patient_id,session_date,session_type,phq9,gad7,site\n"
    tail = (b"\x00\x01\x02\xff\xfe binary \x89PNG\r\n\x1a\n"
            b"P9,2025-13-45,infusion,5,5,Nord\n"
            b"P0000001,2025-01-0")
    data = header + body + tail
    assert len(data) > 50_000_000
    good = 6 * patients
    ds = load_files(("big.csv", data))
    f = ds.files[0]
    assert f.encoding == "UTF-8 (some bytes are not valid text)"
    assert counts(ds) == (good + 4, good, 4)
    assert rejected(ds) == [
        (good + 2, "", "\x00\x01\x02\ufffd\ufffd binary \ufffdPNG", "the line has 1 field but the header has 6"),
        (good + 3, "", "\x1a", "the line has 1 field but the header has 6"),
        (good + 4, "session_date", "2025-13-45", "unreadable date"),
        (good + 5, "", "P0000001,2025-01-0", "the line has 2 fields but the header has 6"),
    ]
    assert ds.dimension_values()["site"] == ["Südstadt"]


# --- One bad value doesn't mislead what is said about the whole file -----------------------------

def test_one_impossible_date_does_not_decide_the_date_style():
    """The sample export is ISO; its line 2305 holds 31/02/2025, a date in no style. It is
    rejected, and is no evidence that the file is day/month."""
    ds = load_files(("sample.csv", (ROOT / "sample_data" / "ketamine_clinic_export.csv").read_bytes()))
    f = ds.files[0]
    assert (f.date_style, f.date_style_reason) == ("iso", "ISO dates")
    assert (2305, "session_date", "31/02/2025", "unreadable date") in rejected(ds)


def test_iso_dates_outvote_a_few_day_month_ones():
    """Seven ISO dates and two US ones (03/14/2025 can only be month/day): the file is described
    as ISO, and the US dates are still read as US."""
    text = "patient_id,session_date,phq9\n" + "".join(f"P1,2025-03-{d:02d},5\n" for d in range(1, 8))
    ds = load_files(("x.csv", (text + "P1,03/14/2025,5\nP1,04/02/2025,6\n").encode()))
    f = ds.files[0]
    assert f.date_style == "iso"
    assert f.date_style_reason == ("most dates are ISO (7 of 9); the others are read as US month/day (12/31/2025): "
                                   "a second part above 12 can only be a day")
    assert [d for _, d, _, _ in visits(ds)][-2:] == ["2025-03-14", "2025-04-02"]
    assert rejected(ds) == []


def test_mapping_message_fits_the_app_and_the_command_line():
    with pytest.raises(MappingError) as info:
        load_files(("x.csv", b"Who,When,Mood\nP1,2025-03-01,20\n"))
    assert str(info.value).endswith("Name these columns with a column mapping (the app's mapping step, or a mapping "
                                    "file given with --map on the command line).")
    mapping = Mapping(columns={"Who": "patient_id", "When": "session_date", "Mood": "phq9"})
    assert counts(load_files(("x.csv", b"Who,When,Mood\nP1,2025-03-01,20\n"), mapping=mapping)) == (1, 1, 0)
