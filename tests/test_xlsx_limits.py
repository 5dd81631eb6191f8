"""Bounds on what an .xlsx upload may unpack to (issue 16, items 2, 4 and 10): a workbook past
one is refused with one plain message before openpyxl parses any of it; the row limit applies to
workbooks, counted from the sheet's dimension or its rows; the mapping step parses a workbook
once; a password-protected workbook is called that, not an old .xls.

The workbooks are written part by part with zipfile, so that each can be as broken or as
inflated as a hostile one. (bench/bench_xlsx_bomb.py measures what the bombs cost.)"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import ROOT, load_files
from streamlit.testing.v1 import AppTest

from dashboard.core import db
from dashboard.ingest import UnreadableFile, reading

APP = str(ROOT / "dashboard" / "app.py")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
AS_CSV = "Open it in Excel, save the sheet as CSV (File > Save As > CSV UTF-8) and upload that."
HEADER = ["patient_id", "session_date", "phq9"]


def visit_rows(n: int) -> list[list[str]]:
    return [HEADER] + [[f"P{i % 7}", f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}", str(i % 28)] for i in range(n)]


def column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_xml(rows: list[list[str]], dimension: str | None = "auto", before: str = "", numbered: bool = True,
              first_row: int = 1) -> str:
    """A worksheet of inline-string cells. dimension "auto": the true one; None: none."""
    if dimension == "auto":
        dimension = f"A1:{column_letter(max(len(r) for r in rows) - 1)}{first_row + len(rows) - 1}"
    body = []
    for n, row in enumerate(rows, start=first_row):
        cells = "".join(f'<c r="{column_letter(i)}{n}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                        for i, v in enumerate(row))
        body.append(f'<row r="{n}">{cells}</row>' if numbered else f"<row>{cells}</row>")
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{before}{dim}<sheetData>'
            + "".join(body) + "</sheetData></worksheet>")


def workbook(sheet: str | bytes, strings: str | bytes | None = None,
             parts: dict[str, str | bytes] | None = None) -> bytes:
    """A workbook of one sheet, written part by part (deflated, as Excel does)."""
    string_type = (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
                   if strings is not None else "")
    every = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>{string_type}</Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                            '<sheet name="Visits" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet,
        **({"xl/sharedStrings.xml": strings} if strings is not None else {}),
        **(parts or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in every.items():
            book.writestr(name, text)
    return out.getvalue()


def shared_strings(texts: list[str], unique_count: int | None = None) -> str:
    count = f' uniqueCount="{unique_count}"' if unique_count is not None else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"{count}>'
            + "".join(f"<si><t>{t}</t></si>" for t in texts) + "</sst>")


def read(data: bytes, name: str = "visits.xlsx") -> tuple[reading.RawFile, list[tuple]]:
    con = db.connect()
    raw = reading.read_file(con, name, data, "raw_0")
    return raw, con.execute("SELECT * FROM raw_0 ORDER BY line").fetchall()


def refused(data: bytes, name: str = "visits.xlsx") -> str:
    with pytest.raises(UnreadableFile) as info:
        read(data, name)
    message = str(info.value)
    assert "Traceback" not in message and message.startswith(f"{name}: ")
    return message


@pytest.fixture
def unparsed(monkeypatch):
    """openpyxl must not parse the workbook: the bounds are checked before."""
    def parse(*args, **kwargs):
        raise AssertionError("openpyxl parsed a workbook that should have been refused before")
    monkeypatch.setattr(openpyxl, "load_workbook", parse)


# --- Item 2: what a workbook unpacks to -----------------------------------------------------------

def test_a_shared_strings_bomb_is_refused_before_parsing(unparsed):
    # 5.5 MB of XML (300,000 strings) deflated to a few KB: more than 100:1.
    bomb = workbook(sheet_xml([["a", "b"]]), shared_strings(["ab"] * 300_000))
    assert len(bomb) < 40_000
    message = refused(bomb)
    assert message.startswith("visits.xlsx: its part xl/sharedStrings.xml unpacks to 5.4 MB from ")
    assert "times its packed size, more than the 100 times this dashboard reads in a workbook" in message
    assert message.endswith("so it was not read: a workbook packed that tightly is damaged or made to use up the "
                            f"server's memory. {AS_CSV}")
    with pytest.raises(UnreadableFile, match="unpacks to 5.4 MB"):  # the ingest's entry point says the same
        load_files(("visits.xlsx", bomb))


def test_shared_strings_past_the_bound_are_counted_before_parsing(monkeypatch, unparsed):
    monkeypatch.setattr(reading, "_MAX_STRINGS", 1_000)
    texts = [f"note {i}" for i in range(1_001)]  # packs 5:1: counted, not caught by the packing
    message = refused(workbook(sheet_xml([["a", "b"]]), shared_strings(texts)))
    assert message == (f"visits.xlsx: its shared strings table holds more than the 1,000 texts this dashboard reads "
                       f"in a workbook, so it was not read. {AS_CSV}")
    # A table that says how many it holds is refused on its word.
    message = refused(workbook(sheet_xml([["a", "b"]]), shared_strings(["x"], unique_count=5_000_000)))
    assert "holds 5,000,000 texts, more than the 1,000 this dashboard reads in a workbook" in message


def test_shared_strings_within_the_bound_are_read(monkeypatch):
    monkeypatch.setattr(reading, "_MAX_STRINGS", 1_000)
    sheet = sheet_xml([["x"]]).replace('<c r="A1" t="inlineStr"><is><t>x</t></is></c>',
                                       '<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>')
    raw, rows = read(workbook(sheet.replace("A1:A1", "A1:B2").replace(
        "</sheetData>", '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>999</v></c></row></sheetData>'),
        shared_strings([f"note {i}" for i in range(1_000)])))
    assert raw.headers == ["note 0", "note 1"] and rows == [(2, "note 2", "note 999")]


def test_the_unpacked_total_is_bounded(monkeypatch, unparsed):
    monkeypatch.setattr(reading, "_MAX_UNPACKED", 50_000)
    message = refused(workbook(sheet_xml(visit_rows(600))))
    assert message.startswith("visits.xlsx: it unpacks to ") and "more than the 50.0 KB this dashboard reads" in message


def test_a_huge_zip_directory_is_refused_before_it_is_read(monkeypatch, unparsed):
    monkeypatch.setattr(reading, "_MAX_DIRECTORY", 2_000)
    parts = {f"xl/media/image{i}.png": b"" for i in range(100)}
    message = refused(workbook(sheet_xml(visit_rows(3)), parts=parts))
    assert message.startswith("visits.xlsx: its zip directory is ") and "more than the 2.0 KB" in message


@pytest.mark.parametrize("where", ["outside the rows", "in a row"])
def test_markup_openpyxl_keeps_or_builds_whole_is_bounded(monkeypatch, unparsed, where):
    """openpyxl keeps every element outside the rows it clears, and builds a row whole."""
    monkeypatch.setattr(reading, "_MAX_MARKUP", 200)
    monkeypatch.setattr(reading, "_MAX_IN_ONE", 200)
    junk = "<junk/>" * 300
    rows = visit_rows(3)
    sheet = (sheet_xml(rows, before=junk) if where == "outside the rows"
             else sheet_xml(rows).replace('<row r="2">', f'<row r="2">{junk}'))
    message = refused(workbook(sheet))
    assert "XML elements this dashboard reads in a workbook" in message
    assert ("its formatting and other markup (besides the cells and texts) hold more than the 200" if
            where == "outside the rows" else "a row of its part xl/worksheets/sheet1.xml holds more than the 200") \
        in message


def test_only_the_parts_openpyxl_reads_count(monkeypatch):
    """styles.xml is parsed whole; calcChain.xml (large in a workbook of many formulas) is not read."""
    monkeypatch.setattr(reading, "_MAX_MARKUP", 200)
    many = f'<?xml version="1.0"?><calcChain xmlns="{MAIN}">' + '<c r="A1" i="1"/>' * 300 + "</calcChain>"
    raw, rows = read(workbook(sheet_xml(visit_rows(2)), parts={"xl/calcChain.xml": many}))
    assert raw.rows == 2
    styles = many.replace("calcChain", "styleSheet")
    message = refused(workbook(sheet_xml(visit_rows(2)), parts={"xl/styles.xml": styles}))
    assert "hold more than the 200 XML elements this dashboard reads in a workbook (in its part xl/styles.xml)" \
        in message


def test_a_long_tag_or_text_is_refused(monkeypatch, unparsed):
    monkeypatch.setattr(reading, "_MAX_TOKEN", 4096)
    message = refused(workbook(sheet_xml([HEADER, ["P1", "2025-01-01", "x" * 10_000]])))
    assert message == ("visits.xlsx: a tag or text in its part xl/worksheets/sheet1.xml is longer than the 4.1 KB "
                       f"this dashboard reads in a workbook, so it was not read. {AS_CSV}")


def test_a_document_type_declaration_is_refused(unparsed):
    """Entities could expand (billion laughs); Excel never writes a DTD."""
    sheet = sheet_xml(visit_rows(2)).replace('<worksheet', '<!DOCTYPE worksheet [<!ENTITY a "aaaa">]><worksheet', 1)
    assert refused(workbook(sheet)) == (
        "visits.xlsx: its part xl/worksheets/sheet1.xml declares a document type (DTD), which Excel never writes, so "
        f"it was not read. {AS_CSV}")


def test_rows_as_wide_as_the_sheet_are_bounded(monkeypatch):
    """A single cell in column XFD makes openpyxl return a row of 16,384 values."""
    monkeypatch.setattr(reading, "_MAX_CELLS", 100)
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>a</t></is></c>'
                   f'<c r="XFD{n}" t="inlineStr"><is><t>b</t></is></c></row>' for n in range(1, 11))
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
    assert "has more than the 200 cells (empty ones included) this dashboard reads" in refused(workbook(sheet))


# --- Item 4: the row limit ---------------------------------------------------------------------------

def test_a_sheet_claiming_four_million_rows_is_refused_from_its_dimension(unparsed):
    message = refused(workbook(sheet_xml(visit_rows(3), dimension="A1:K4000000")))
    assert message == ("visits.xlsx: its sheet 'Visits' says it has 4,000,000 rows (its dimension is A1:K4000000), "
                       "more than the 3,000,000 this dashboard reads at once. Export a shorter period or fewer sites "
                       "per file (the administrator can raise the limit: DASHBOARD_MAX_ROWS).")


@pytest.mark.parametrize("dimension,numbered", [(None, True), (None, False), ("A1:C2", True)],
                         ids=["no dimension", "no row numbers", "a dimension that lies"])
def test_rows_past_the_limit_are_counted_before_parsing(monkeypatch, unparsed, dimension, numbered):
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "50")
    message = refused(workbook(sheet_xml(visit_rows(80), dimension=dimension, numbered=numbered)))
    assert message == ("visits.xlsx: its sheet 'Visits' has more than the 50 rows this dashboard reads at once. "
                       "Export a shorter period or fewer sites per file (the administrator can raise the limit: "
                       "DASHBOARD_MAX_ROWS).")


def test_a_row_numbered_past_the_limit_counts_the_rows_before_it(monkeypatch, unparsed):
    """openpyxl returns an empty row for every number skipped: row 1,000,000 is a million rows."""
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "50")
    sheet = sheet_xml(visit_rows(2), dimension=None).replace(
        "</sheetData>", '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    assert "has more than the 50 rows" in refused(workbook(sheet))


def test_a_dimension_claiming_fewer_rows_than_the_sheet_holds_does_not_cut_it_short():
    """openpyxl stops at the last row the dimension claims: every row is read instead."""
    raw, rows = read(workbook(sheet_xml(visit_rows(10), dimension="A1:C3")))
    assert raw.rows == 10 and [r[0] for r in rows] == list(range(2, 12))
    assert rows[-1] == (11, "P2", "2025-10-10", "9")


def test_workbook_rows_come_from_the_dimension_or_are_counted():
    assert reading.workbook_rows("x.xlsx", workbook(sheet_xml(visit_rows(3), dimension="A1:C70"))) == 70
    assert reading.workbook_rows("x.xlsx", workbook(sheet_xml(visit_rows(40), dimension=None))) == 41


# --- Item 10: a password-protected workbook -----------------------------------------------------------

def compound_file(*streams: str) -> bytes:
    """The header and directory of an OLE2 compound file holding these streams (their contents
    left out): 512-byte header, then 128-byte directory entries (name in UTF-16 with its NUL,
    its length in bytes at 64, its type at 66: 5 the root, 2 a stream)."""
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    header[24:34] = b"\x3e\x00\x03\x00\xfe\xff\x09\x00\x06\x00"  # version 3, little-endian, 512-byte sectors
    entries = b""
    for name, kind in [("Root Entry", 5)] + [(s, 2) for s in streams]:
        encoded = name.encode("utf-16-le") + b"\0\0"
        entries += encoded.ljust(64, b"\0") + len(encoded).to_bytes(2, "little") + bytes([kind]) + bytes(61)
    return bytes(header) + entries.ljust(512, b"\0") + bytes(1024)


def test_a_password_protected_workbook_is_called_that():
    encrypted = compound_file("\x06DataSpaces", "EncryptionInfo", "EncryptedPackage")
    with pytest.raises(UnreadableFile) as info:
        load_files(("visits.xlsx", encrypted))
    assert str(info.value) == (
        "visits.xlsx: this Excel workbook is protected with a password (encrypted), so it can't be read. Open it in "
        "Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, and clear it), save it "
        "as .xlsx or CSV and upload that.")
    # An old .xls (a "Workbook" stream), and a text that merely mentions the name, are still old .xls files.
    mention = compound_file("Workbook") + "EncryptionInfo".encode("utf-16-le") + b"\0\0"
    for old in (compound_file("Workbook"), mention):
        with pytest.raises(UnreadableFile, match="this is an old-style Excel \\(.xls\\) file"):
            load_files(("visits.xls", old))


# --- Through the app: the row limit counts workbooks; the mapping step parses once ---------------------

def shown(message) -> str:
    """An error's text as shown (the app escapes Markdown in it)."""
    return message.value.replace("\\", "")


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.file_uploader[0].set_value((name, data, "application/vnd.ms-excel"))
    return at.run()


def openpyxl_workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_counts_towards_the_session_row_limit(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MAX_ROWS", "30")
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "visits.xlsx", openpyxl_workbook(visit_rows(40)))
    assert not at.exception and not at.metric
    assert "visits.xlsx has about 41 rows, more than the 30 this dashboard reads at once" in shown(at.error[0])


def test_a_bomb_uploaded_in_the_browser_is_a_plain_message(unparsed):
    bomb = workbook(sheet_xml([["a", "b"]]), shared_strings(["ab"] * 300_000))
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "bomb.xlsx", bomb)
    assert not at.exception and not at.metric
    assert "its part xl/sharedStrings.xml unpacks to 5.4 MB" in shown(at.error[0])


def test_the_mapping_step_parses_a_workbook_once(monkeypatch):
    parsed = []
    real = openpyxl.load_workbook

    def counted(*args, **kwargs):
        parsed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counted)
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), "odd.xlsx",
                openpyxl_workbook([["Who", "When", "Mood"], ["P1", "2025-01-01", 20], ["P1", "2025-01-03", 9]]))
    assert "Which column holds what?" in [s.value for s in at.subheader]
    assert list(at.dataframe[0].value.columns) == ["Who", "When", "Mood"]
    first = len(parsed)  # the reading that found no known columns, and the preview
    assert first <= 2
    for key, value in [("map_patient_id", "Who"), ("map_session_date", "When"), ("map_phq9", "Mood")]:
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception and len(parsed) == first
    assert list(at.dataframe[0].value.columns) == ["Who", "When", "Mood"]


@pytest.mark.parametrize("name,data", [
    ("odd.xlsx", openpyxl_workbook([["Who", "Who", "Mood"], ["P1", "x", 20]])),
    ("odd.csv", b"Who,Who,Mood\nP1,x,20\n"),
])
def test_the_mapping_step_shows_a_file_with_a_repeated_header(name, data):
    at = upload(AppTest.from_file(APP, default_timeout=90).run(), name, data)
    assert not at.exception and "Which column holds what?" in [s.value for s in at.subheader]
    assert list(at.dataframe[0].value.columns) == ["Who", "Who (2)", "Mood"]
    assert at.selectbox(key="map_patient_id").options == ["(none)", "Who", "Who", "Mood"]
