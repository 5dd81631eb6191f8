"""Reading exports however the EHR wrote them: encodings, delimiters, headers, dates, layouts, Excel."""

from __future__ import annotations

import io

import pytest
from conftest import FIXTURES, load_files

from dashboard.ingest import Mapping, MappingError, UnreadableFile

CLEAN = (
    "patient_id,session_date,session_type,phq9\n"
    "P1,2025-03-01,baseline,20\n"
    "P1,2025-03-04,infusion,18\n"
    "P1,2025-03-14,infusion,9\n"
)


def visits(ds):
    return ds.con.execute(
        """SELECT p.patient_id, v.session_date::VARCHAR, v.session_type, s.score
        FROM visits v JOIN patients p USING (patient_key)
        LEFT JOIN scores s ON s.visit_id = v.visit_id AND s.measure = 'phq9' ORDER BY 1, 2"""
    ).fetchall()


EXPECTED = [("P1", "2025-03-01", "baseline", 20), ("P1", "2025-03-04", "infusion", 18),
            ("P1", "2025-03-14", "infusion", 9)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_encodings_delimiters_newlines(encoding, delimiter, newline):
    text = CLEAN.replace(",", delimiter).replace("\n", newline)
    ds = load_files(("x.csv", text.encode(encoding)))
    assert visits(ds) == EXPECTED
    assert ds.rows_rejected == 0


def test_ehr_headers_values_and_latin1():
    text = (
        "Client ID;Date of Service;Encounter Type;Infusion #;PHQ-9 Total;GAD-7;Clinic;KAP\r\n"
        "José 1;01.03.2025;Intake;;20;12;Nord;Ja\r\n"
        "José 1;04.03.2025;Ketamine IV;1;18;11;Nord;Ja\r\n"
        "José 1;14.03.2025;Ketamine IV;2;9,0;8;Nord;Ja\r\n"
        "José 1;14.04.2025;Check-in;;7;;Nord;Ja\r\n"
    )
    ds = load_files(("export.csv", text.encode("cp1252")))
    f = ds.files[0]
    assert f.encoding.startswith("Windows-1252") and f.delimiter == "semicolon" and f.date_style == "eu"
    assert [m for _, m, _ in f.columns] == [
        "patient id", "session date", "session type", "infusion number", "score: PHQ-9", "score: GAD-7",
        "dimension: site", "dimension: kap"]
    rows = visits(ds)
    assert rows[0] == ("José 1", "2025-03-01", "baseline", 20)
    assert rows[2] == ("José 1", "2025-03-14", "infusion", 9.0)  # decimal comma in a ;-file
    assert rows[3][2] == "follow_up"
    assert ds.rows_rejected == 0


@pytest.mark.parametrize("dates,style", [
    (["03/01/2025", "03/04/2025", "03/14/2025"], "us"),   # 14 in the middle: month/day
    (["01/03/2025", "04/03/2025", "14/03/2025"], "eu"),   # 14 first: day/month
    (["01.03.2025", "04.03.2025", "14.03.2025"], "eu"),
    (["2025-03-01", "2025-03-04", "2025-03-14"], "iso"),
    (["2025/03/01", "2025/03/04", "2025/03/14 10:30"], "iso"),
    (["1 Mar 2025", "4 Mar 2025", "14-Mar-2025"], "iso"),
])
def test_date_styles(dates, style):
    text = "patient_id,session_date,session_type,phq9\n" + "".join(
        f"P1,{d},{t},{s}\n" for d, t, s in zip(dates, ["baseline", "infusion", "infusion"], [20, 18, 9]))
    ds = load_files(("x.csv", text.encode()))
    assert ds.files[0].date_style == style
    assert visits(ds) == EXPECTED


def test_ambiguous_dates_follow_visit_order():
    """No part above 12: read both ways. As US dates the visits are 3 days apart (03/01, 03/04,
    03/07); as European they would spread over months (1 Mar, 3 Apr, 3 Jul). US is chosen, and said."""
    text = ("patient_id,session_date,infusion_number,phq9\n"
            "P1,03/01/2025,1,20\nP1,03/04/2025,2,15\nP1,03/07/2025,3,9\n"
            "P2,04/02/2025,1,20\nP2,04/05/2025,2,15\n")
    ds = load_files(("x.csv", text.encode()))
    assert ds.files[0].date_style == "us"
    assert "ambiguous" in ds.files[0].date_style_reason
    ds_override = load_files(("x.csv", text.encode()), mapping=Mapping(date_style="eu"))
    dates = ds_override.con.execute("SELECT min(session_date)::VARCHAR FROM visits").fetchone()[0]
    assert dates == "2025-01-03"


def test_long_layout_equals_wide():
    long = ("patient_id,session_date,session_type,measure,score\n"
            "P1,2025-03-01,baseline,PHQ-9,20\nP1,2025-03-01,baseline,GAD-7,12\n"
            "P1,2025-03-04,infusion,PHQ-9,18\nP1,2025-03-14,infusion,phq9,9\n"
            "P1,2025-03-14,infusion,HAM-A,9\n")
    ds = load_files(("long.csv", long.encode()))
    assert ds.files[0].layout == "long"
    assert visits(ds) == EXPECTED
    got = [tuple(r) for r in ds.rejections().itertuples(index=False)]
    assert got == [("long.csv", 6, "score", "9", "HAM-A: unknown measure (declare it in a measures file)")]


def test_wide_and_long_files_together():
    """Files of both layouts at once, with different measures. A wide file's plain scores stay on
    its rows (load._stage_file), a long file's go through the cells: the visit that both files
    describe (P1 on 03-04) is merged and takes phq9 18 from the wide file and gad7 10 from the
    long one; isi.csv has only ISI, P2's only score. Loaded for the CSV export (phq9 only), the
    visits of one row keep only their phq9 scores; those of several rows (in a long file, a visit
    with several measures is one) keep all, as their cells are compared for conflicts."""
    wide = "patient_id,session_date,session_type,phq9,gad7\nP1,2025-03-01,baseline,20,12\nP1,2025-03-04,infusion,18,\n"
    long = ("patient_id,session_date,session_type,measure,score\nP1,2025-03-04,infusion,GAD-7,10\n"
            "P1,2025-03-14,infusion,PHQ-9,9\nP1,2025-03-14,infusion,ISI,7\n")
    isi = "patient_id,session_date,isi\nP2,2025-03-02,15\n"
    files = [("wide.csv", wide.encode()), ("long.csv", long.encode()), ("isi.csv", isi.encode())]
    scores = """SELECT p.patient_id, v.session_date::VARCHAR, s.measure, s.score
        FROM scores s JOIN visits v USING (visit_id) JOIN patients p USING (patient_key) ORDER BY 1, 2, 3"""
    ds = load_files(*files)
    assert ds.rejection_rows() == [] and ds.rows_used == 6
    assert ds.con.execute(scores).fetchall() == [
        ("P1", "2025-03-01", "gad7", 12), ("P1", "2025-03-01", "phq9", 20),
        ("P1", "2025-03-04", "gad7", 10), ("P1", "2025-03-04", "phq9", 18),
        ("P1", "2025-03-14", "isi", 7), ("P1", "2025-03-14", "phq9", 9),
        ("P2", "2025-03-02", "isi", 15)]
    assert ds.measures_present() == ["phq9", "gad7", "isi"]
    export = load_files(*files, score_measures={"phq9"})
    assert export.con.execute(scores).fetchall() == [
        ("P1", "2025-03-01", "phq9", 20), ("P1", "2025-03-04", "gad7", 10), ("P1", "2025-03-04", "phq9", 18),
        ("P1", "2025-03-14", "isi", 7), ("P1", "2025-03-14", "phq9", 9)]


def test_measures_present_are_those_with_a_score():
    """A score column that is empty (or holds only rejected values) is not a measure the app
    offers: GAD-7 here. ISI has one score, written 7.0 (not plainly, so read from its cell)."""
    data = "patient_id,session_date,phq9,gad7,isi\nP1,2025-03-01,20,,\nP1,2025-03-04,18,NA,7.0\nP1,2025-03-08,15,99,\n"
    ds = load_files(("x.csv", data.encode()))
    assert ds.measures_present() == ["phq9", "isi"]


def test_excel_workbook():
    openpyxl = pytest.importorskip("openpyxl")
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Patient ID", "Visit Date", "Visit Type", "PHQ9 Total"])
    sheet.append(["P1", datetime.datetime(2025, 3, 1), "Baseline", 20])
    sheet.append(["P1", datetime.datetime(2025, 3, 4), "Infusion", 18])
    sheet.append([None, None, None, None])
    sheet.append(["P1", datetime.datetime(2025, 3, 14), "Infusion", 9.0])
    sheet.append(["P1", "not a date", "Infusion", 9])
    buffer = io.BytesIO()
    book.save(buffer)
    ds = load_files(("x.xlsx", buffer.getvalue()))
    assert visits(ds) == EXPECTED
    assert [tuple(r) for r in ds.rejections().itertuples(index=False)] == [
        ("x.xlsx", 6, "Visit Date", "not a date", "unreadable date")]


def test_several_files_overlap():
    """Two overlapping monthly exports: the overlap is an exact repeat; the later file's new
    visits are added; a different score for the same visit is a conflict."""
    first = "patient_id,session_date,phq9\nP1,2025-03-01,20\nP1,2025-03-04,18\n"
    second = "Patient ID,Date of Service,PHQ-9\nP1,03/04/2025,18\nP1,03/14/2025,9\nP1,03/01/2025,21\n"
    ds = load_files(("march.csv", first.encode()), ("april.csv", second.encode()))
    got = [tuple(r)[:2] + tuple(r)[4:] for r in ds.rejections().itertuples(index=False)]
    assert ("april.csv", 2, "exact repeat of march.csv line 3") in got
    assert ("march.csv", 2, "conflicting duplicate: this visit has different phq9 scores") in got
    assert ("april.csv", 4, "conflicting duplicate: this visit has different phq9 scores") in got
    assert ds.rows_read == 5 and ds.rows_rejected == 1


def test_quoted_fields_and_line_breaks_keep_line_numbers():
    text = ('patient_id,session_date,phq9,note\n'
            'P1,2025-03-01,20,"fine, thanks"\n'
            'P1,2025-03-04,18,"two\nlines"\n'
            'P1,2025-03-14,99,x\n')
    ds = load_files(("x.csv", text.encode()))
    assert [tuple(r)[1:4] for r in ds.rejections().itertuples(index=False)] == [(5, "phq9", "99")]


@pytest.mark.parametrize("data,fragment", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"%PDF-1.4 binary", "PDF"),
    (bytes(range(256)) * 20, "binary"),
    (b"just one column\n1\n2\n", "only one column"),
    (b"PK\x03\x04not really a zip", "not a readable Excel"),
])
def test_unreadable_files_get_one_clear_message(data, fragment):
    with pytest.raises(UnreadableFile, match=fragment):
        load_files(("bad.csv", data))


def test_missing_columns_say_what_is_expected():
    with pytest.raises(MappingError) as info:
        load_files(("x.csv", b"Who,When,Mood\nP1,2025-03-01,20\n"))
    message = str(info.value)
    assert "patient id" in message and "'MRN'" in message and "'Who', 'When', 'Mood'" in message


def test_mapping_file_maps_unknown_headers():
    mapping = Mapping.from_json('{"columns": {"Who": "patient_id", "When": "session_date", "Mood": "phq9"}}')
    ds = load_files(("x.csv", b"Who,When,Mood\nP1,2025-03-01,20\n"), mapping=mapping)
    assert ds.rows_used == 1 and Mapping.from_json(mapping.to_json()) == mapping


def test_connection_is_locked_after_ingest():
    """Once the exports are read, no SQL on the session's connection can touch a file."""
    import duckdb

    ds = load_files(("x.csv", CLEAN.encode()))
    with pytest.raises(duckdb.Error, match="[Pp]ermission|disabled"):
        ds.con.execute("SELECT * FROM read_csv('/etc/hostname')")
    with pytest.raises(duckdb.Error):
        ds.con.execute("SET enable_external_access = true")


def test_hostile_shapes_lose_nothing():
    """A duplicated header keeps its second column (as a dimension); an 11 MB line (over 10 MB) is
    rejected with its line number, not dropped; a 5,000-field line is a broken line."""
    dup = load_files(("dup.csv", b"patient_id,session_date,phq9,phq9\nP1,2025-01-01,10,12\n"))
    assert [m for _, m, _ in dup.files[0].columns][2:] == ["score: PHQ-9", "dimension: phq9 (column 4)"]
    long_line = b'patient_id,session_date,phq9,note\nP1,2025-01-01,5,"' + b"y" * 11_000_000 + b'"\nP1,2025-01-02,5,x\n'
    ds = load_files(("long.csv", long_line))
    assert (ds.rows_read, ds.rows_used, ds.rows_rejected) == (2, 1, 1)
    assert [tuple(r)[1:] for r in ds.rejections().itertuples(index=False)][0][0] == 2
    wide = load_files(("wide.csv", b"patient_id,session_date,phq9\n" + b",".join([b"x"] * 5000) + b"\nP1,2025-01-01,5\n"))
    assert wide.rejections()["reason"].tolist() == ["the line has 5000 fields but the header has 3"]


def _large_export(tail: bytes) -> bytes:
    """every_rejection.csv, then 60,000 clean rows (over 1 MB), a broken line, a line of spaces,
    and `tail`: a file that the export reads where it lies when it can (reading._read_in_place)."""
    rows = [f"L{i // 12:04d},2025-{1 + i % 12:02d}-15,infusion,{i % 28},{i % 22},West\n"
            for i in range(60_000)]
    return (FIXTURES / "every_rejection.csv").read_bytes() + "".join(rows).encode() + (
        b"L0001,2025-01-01,infusion,9,4,West,one too many\n   \n" + tail)


@pytest.mark.parametrize("tail,in_place", [
    (b"L0002,2025-02-02,infusion,7,3,East\n", True),
    ("L0002,2025-02-02,infusion,7,3,Montr\u00e9al\n".encode("cp1252"), False),  # not UTF-8 after all
    (b'L0002,2025-02-02,infusion,7,3,"East\nside"\n', False),  # a record of two lines
    (b"\nL0002,2025-02-02,infusion,7,3,East\n", False),  # an empty line
    (b"L0002,2025-02-02,infusion,7,3,East\r\n", False),  # a CR
])
def test_a_large_file_read_in_place_equals_it_read_whole(tmp_path, tail, in_place):
    """The export hands ingest a path, not bytes: a large file is read by DuckDB where it lies when
    every record is one line, and otherwise whole, as uploaded bytes are. Both give the same rows,
    rejections (lines included) and description."""
    from dashboard.core import db
    from dashboard.ingest import load
    from dashboard.ingest.reading import _read_in_place

    path = tmp_path / "large.csv"
    path.write_bytes(_large_export(tail))
    assert path.stat().st_size > 1 << 20
    assert (_read_in_place(db.connect(), "large.csv", "raw_t", str(path), None) is not None) == in_place
    from_disk = load(db.connect(), [("large.csv", None, str(path))])
    from_bytes = load_files(("large.csv", path.read_bytes()))
    assert from_disk.rejection_rows() == from_bytes.rejection_rows()
    # every_rejection.csv's 10, and the line of one field too many (the line of spaces is blank).
    assert len(from_disk.rejection_rows()) == 11
    assert from_disk.rejection_rows()[-1][1:] == (60_015, "", "L0001,2025-01-01,infusion,9,4,West,one too many",
                                                  "the line has 7 fields but the header has 6")
    assert visits(from_disk) == visits(from_bytes)
    assert [vars(f) for f in from_disk.files] == [vars(f) for f in from_bytes.files]
    assert (from_disk.rows_read, from_disk.rows_used) == (from_bytes.rows_read, from_bytes.rows_used)
