"""Issue 16 (hardening II), ingest: the row limit counts lines however they end (4); a quote that
never closes takes no line silently with it (5); formulas after a tab, a carriage return or
spaces are neutralised in every CSV written (9); a title line above the header is skipped and
said (10); a patient id holding a control character is rejected (12)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from conftest import FIXTURES, load_files

from dashboard.ingest import UnreadableFile
from dashboard.ingest.reading import line_count
from dashboard.present.formatting import csv_bytes, csv_text, neutralise

SIX = (FIXTURES / "six_patients.csv").read_bytes()  # 35 lines, LF


def counts(ds) -> tuple[int, int, int]:
    return ds.rows_read, ds.rows_used, ds.rows_rejected


def rejected(ds) -> list[tuple]:
    """(line, column, value, reason) of each rejection."""
    return [tuple(r)[1:] for r in ds.rejections().itertuples(index=False)]


def clean_lines(n: int, first: int = 2) -> list[str]:
    """Visit rows for lines first..n, one patient each (no two rows are one visit)."""
    return [f"P{i},2025-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 28}" for i in range(first, n + 1)]


# --- 4. The row limit, whatever the line breaks ----------------------------------------------------

@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n"])
def test_the_row_limit_counts_lines_however_they_end(monkeypatch, newline):
    """Before: a file whose lines end in a lone CR counted 0 lines, so any number of them was read."""
    from dashboard.ui.session_data import Export, Inputs, check_size

    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "30")
    data = SIX.replace(b"\n", newline)
    with pytest.raises(UnreadableFile) as info:
        check_size(Inputs([Export.of("cr.csv", data)]))
    assert str(info.value).startswith("cr.csv has about 35 rows, more than the 30 this dashboard reads at once.")
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "35")
    check_size(Inputs([Export.of("cr.csv", data)]))  # at the limit: read


def test_line_count():
    assert [line_count(b"a\nb\n"), line_count(b"a\r\nb\r\n"), line_count(b"a\rb\r"), line_count(b"a\rb\nc\r\n")] \
        == [2, 2, 2, 3]
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):  # a CR LF in UTF-16 is one line break too
        assert line_count("a,b\r\nc,d\r\n".encode(encoding)) == 2
        assert line_count("a,b\rc,d\r".encode(encoding)) == 2


# --- 5. A quote that never closes ---------------------------------------------------------------

def test_an_unclosed_quote_rejects_each_line_it_takes():
    """100,000 lines, a quote opened on line 90,002 that never closes. Before: 90,000 rows used,
    1 rejected and 9,999 lines counted nowhere. Now each of lines 90,002..100,000 is rejected."""
    lines = ["patient_id,session_date,phq9"] + clean_lines(100_000)
    lines[90_001] = 'P1,2025-02-01,"12'  # line 90,002
    ds = load_files(("q.csv", ("\n".join(lines) + "\n").encode()))
    assert counts(ds) == (99_999, 90_000, 9_999)
    reason = "a quote opened on line 90002 never closes: lines 90002..100000 could not be read"
    quoted = ds.rejections().query("reason == @reason")
    assert quoted["line"].tolist() == list(range(90_002, 100_001))
    assert quoted["value"].iloc[0] == 'P1,2025-02-01,"12' and quoted["value"].iloc[1] == lines[90_002]
    assert ds.files[0].notes == [f"{reason} (each is listed as rejected)"]


def test_an_unclosed_quote_in_a_file_larger_than_the_read_buffer():
    """A file over DuckDB's 10 MB read buffer: before, DuckDB read some of the lines after the quote
    as rows (127,000 rows of 300,000 lines, with 'approximate' line numbers). Now the lines before
    the quote are used, each line from it on rejected, at its own line."""
    note = ",a note of some length here"
    lines = ["patient_id,session_date,phq9,note"] + [line + note for line in clean_lines(300_000)]
    lines[99_999] = 'P1,2025-02-01,12,"unclosed'  # line 100,000
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 10 << 20
    ds = load_files(("big.csv", data))
    assert counts(ds) == (299_999, 99_998, 200_001)
    assert not any("approximate" in note for note in ds.files[0].notes)
    got = ds.con.execute("SELECT min(line), max(line), count(DISTINCT line) FROM rejections "
                         "WHERE starts_with(reason, 'a quote opened on line 100000 never closes')").fetchone()
    assert got == (100_000, 300_000, 200_001)


def test_an_unclosed_quote_after_a_quote_inside_a_value():
    """A quote inside an unquoted value (5" tall) is a character: the quote opened later still
    never closes, though the file holds an even number of quotes. Blank lines it takes are blank."""
    lines = ["patient_id,session_date,phq9,note"] + [line + ",x" for line in clean_lines(20)]
    lines[2] = 'P3,2025-01-03,5,5" tall'
    lines[9] = 'P1,2025-02-01,12,"open'  # line 10
    lines[12] = "   "  # line 13: blank
    ds = load_files(("even.csv", ("\n".join(lines) + "\n").encode()))
    assert counts(ds) == (18, 8, 10)
    assert [(line, reason) for line, _, _, reason in rejected(ds)] == [
        (n, "a quote opened on line 10 never closes: lines 10..20 could not be read") for n in range(10, 21) if n != 13]


def test_a_quote_that_closes_lines_later_rejects_each_line():
    """A quote opened on line 10 and closed on line 16 (not at a field's end): before, line 10 was
    rejected and lines 11 to 16 were counted nowhere."""
    lines = ["patient_id,session_date,phq9"] + clean_lines(20)
    lines[9], lines[15], lines[12] = 'P1,2025-02-01,"12', 'P9,2025-02-01,5" tall', ""
    ds = load_files(("later.csv", ("\n".join(lines) + "\n").encode()))
    assert counts(ds) == (18, 12, 6)
    assert [(line, value, reason) for line, _, value, reason in rejected(ds)] == [
        (n, lines[n - 1], "a quoted field is not closed properly: lines 10..16 could not be read")
        for n in (10, 11, 12, 14, 15, 16)]


def test_every_line_is_used_rejected_or_blank_in_the_rejections_download(tmp_path):
    """The rejection list users download names each line the quote took, with its number."""
    from dashboard.export import main

    lines = ["patient_id,session_date,phq9"] + clean_lines(12)
    lines[7] = 'P1,2025-02-01,"12'  # line 8
    src = tmp_path / "q.csv"
    src.write_text("\n".join(lines) + "\n")
    assert main([str(src), "--out", str(tmp_path / "o")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "rejections.csv").read_text())))
    assert [int(r["line"]) for r in rows] == list(range(8, 13))
    assert {r["reason"] for r in rows} == {"a quote opened on line 8 never closes: lines 8..12 could not be read"}


# --- 9. Formulas after a tab, a carriage return or spaces ------------------------------------------

@pytest.mark.parametrize("value,written", [
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("\n=1+1", "'\n=1+1"), (" =1+1", "' =1+1"),
    ("   +SUM(A1)", "'   +SUM(A1)"), (" -A1", "' -A1"), ("  @SUM(A1)", "'  @SUM(A1)"), ("\x00=1", "'\x00=1"),
    ("\tplain", "'\tplain"), ("\rplain", "'\rplain"), ("=1+1", "'=1+1"), ("-inf", "'-inf"),
    ("-3", "-3"), ("+5", "+5"), (" -3", " -3"), ("1e3", "1e3"), ("plain", "plain"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise(value, written):
    """Before: only a first character of =, +, - or @ was neutralised."""
    assert neutralise(value) == written


def test_every_csv_written_neutralises_formulas_after_a_tab_or_cr():
    """The rejection list and the call-back list (csv_bytes) and the report's ZIP (csv_text) all
    write their cells, and the report's group column header, through neutralise."""
    frame = pd.DataFrame({"Patient": ["\t=HYPERLINK(1)", "P2"], "Reason given": ["\r@SUM(A1)", " =1+1"]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode())))
    assert rows[1:] == [["'\t=HYPERLINK(1)", "'\r@SUM(A1)"], ["P2", "' =1+1"]]
    assert list(csv.reader(io.StringIO(csv_text(["\t=x", "n"], [(1, 2)]))))[0] == ["'\t=x", "n"]


def test_the_cli_rejections_csv_neutralises_a_tab_formula(tmp_path):
    from dashboard.export import main

    src = tmp_path / "x.csv"
    src.write_bytes(b'patient_id,session_date,phq9\nP1,2025-01-01,\t=1+1\nP1,2025-01-02,"\t@SUM(1)"\n')
    assert main([str(src), "--out", str(tmp_path / "o")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "rejections.csv").read_text())))
    assert [r["value"] for r in rows] == ["'\t=1+1", "'\t@SUM(1)"]


def test_the_report_zip_neutralises_a_tab_formula_in_a_group():
    from dashboard.core.settings import Settings
    from dashboard.engine.metrics import Cohort, Engine
    from dashboard.present import report

    text = (FIXTURES.parent.parent / "sample_data" / "ketamine_clinic_export.csv").read_text()
    dataset = load_files(("x.csv", text.replace(",North,", ',"\t=HYPERLINK(1)",').encode()))
    engine = Engine(dataset)
    m, o = report.for_report(engine.compute(Settings(), Cohort.of(split_by="site")), engine.compute(Settings()))
    written = report.table_csvs(m, o)["response_by_infusion.csv"].decode()
    assert "'\t=HYPERLINK(1)" in written and "\n\t=" not in written and ",\t=" not in written


# --- 10. A title line above the header ---------------------------------------------------------

def test_a_title_line_above_the_header_is_skipped_and_said():
    """Before: 'found only one column'."""
    data = b"Clinic export 2026-11-01\npatient_id,session_date,phq9\nP1,2025-01-01,20\nP1,2025-01-05,x\n"
    ds = load_files(("title.csv", data))
    assert counts(ds) == (2, 2, 0)
    assert rejected(ds) == [(4, "phq9", "x", "not a number")]  # lines as in the file
    assert ds.files[0].notes == ["skipped 1 title line above the header (line 1: Clinic export 2026-11-01)"]


def test_title_lines_padded_by_a_spreadsheet_in_a_semicolon_file():
    """Excel writes a title cell's row with the delimiters of the rows below; a blank line is not a title."""
    data = (b"Clinic export 2026-11-01;;\n\nNorth site;;\npatient_id;session_date;phq9\n"
            b"P1;2025-01-01;20\nP1;2025-01-05;3,5\nP1;2025-01-09;x\n")
    ds = load_files(("title.csv", data))
    f = ds.files[0]
    assert (f.delimiter, counts(ds)) == ("semicolon", (3, 3, 0))
    assert rejected(ds) == [(7, "phq9", "x", "not a number")]
    assert f.notes == ["skipped 2 title lines above the header (line 1: Clinic export 2026-11-01; line 3: North site)"]


def test_title_lines_of_two_values_above_a_recognised_header():
    data = b"Report date:,2026-11-01\nClinic:,North\npatient_id,session_date,phq9,site\nP1,2025-01-01,20,N\n"
    ds = load_files(("title.csv", data))
    assert counts(ds) == (1, 1, 0)
    assert ds.files[0].notes == ["skipped 2 title lines above the header (line 1: Report date: 2026-11-01; "
                                 "line 2: Clinic: North)"]


def test_a_title_row_above_a_workbooks_header():
    """Before: 'the first sheet has no header row with at least two columns'."""
    import openpyxl

    from dashboard.ingest.reading import workbook_head

    book = openpyxl.Workbook()
    for row in (["Clinic export 2026-11-01"], [], ["patient_id", "session_date", "phq9"], ["P1", "2025-01-01", 20],
                ["P1", "2025-01-05", "x"]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    ds = load_files(("title.xlsx", out.getvalue()))
    assert counts(ds) == (2, 2, 0) and rejected(ds) == [(5, "phq9", "x", "not a number")]
    assert ds.files[0].notes == ["skipped 1 title line above the header (line 1: Clinic export 2026-11-01)"]
    assert workbook_head("title.xlsx", out.getvalue()) == (["patient_id", "session_date", "phq9"],
                                                           [["P1", "2025-01-01", "20"], ["P1", "2025-01-05", "x"]])


def test_a_first_line_that_is_a_header_stays_the_header():
    """A header of unrecognised names (for a mapping), or a longer line below it, is still line 1."""
    ds = load_files(("x.csv", b"patient_id,session_date,phq9\nP1,2025-01-01,20,extra,more\nP1,2025-01-02,5\n"))
    assert counts(ds) == (2, 1, 1) and ds.files[0].notes == []
    with pytest.raises(Exception, match="'Who', 'When', 'Mood'"):
        load_files(("x.csv", b"Who,When,Mood\nP1,2025-03-01,20\n"))
    with pytest.raises(UnreadableFile, match="only one column"):
        load_files(("x.csv", b"just one column\n1\n2\n"))


# --- 12. A control character inside a patient id ---------------------------------------------------

def test_a_patient_id_with_a_control_character_is_rejected():
    """Before: 'P1\\x00' and 'P1' were two patients that look the same on screen, and nothing was rejected."""
    data = (b"patient_id,session_date,phq9\nP1,2025-01-01,20\nP1\x00,2025-01-05,10\nP1\x1b,2025-01-06,10\n"
            b"P2\t,2025-01-07,10\nP3,2025-01-08,3\n")
    ds = load_files(("ids.csv", data))
    assert counts(ds) == (5, 2, 3)
    reason = "patient id contains a control character"
    assert rejected(ds) == [(3, "patient_id", "P1<U+0000>", reason), (4, "patient_id", "P1<U+001B>", reason),
                            (5, "patient_id", "P2<U+0009>", reason)]
    assert ds.con.execute("SELECT list(patient_id ORDER BY patient_id) FROM patients").fetchone()[0] == ["P1", "P3"]
