"""Fuzzing ingest (hypothesis): random exports that are shaped like CSV, with headers drawn from
the names clinics use plus junk, and cells of random text (quotes, delimiters, line breaks,
unicode, empty). Whatever the input, ingest either reads it or says, in one message, why it can't
(UnreadableFile / MappingError); and when it reads it, every data record is used or rejected
exactly once, rejected ones under the line their record starts on."""

from __future__ import annotations

import csv
import io
import re

from conftest import load_files
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dashboard.ingest import MappingError, UnreadableFile
from dashboard.ingest.reading import DELIMITERS, decode

HEADERS = {
    "patient": ["patient_id", "Patient ID", "MRN", "Client ID", "usubjid"],
    "date": ["session_date", "Date of Service", "DOS", "Visit Date", "date"],
    "type": ["session_type", "Visit Type", "Encounter Type"],
    "number": ["infusion_number", "Infusion #"],
    "score": ["phq9", "PHQ-9 Total", "GAD-7", "MADRS", "who5", "score"],
    "measure": ["measure"],
    "dimension": ["site", "kap", "age", "Provider"],
}
JUNK_HEADERS = ['"; DROP TABLE visits; --', "select", '"quoted"', "a;b", "tab\there", "two\nlines", "", " ",
                "Ünïcödé 名前", "=SUM(A1)", "c0", "line"]
VALUES = {
    "patient": st.sampled_from(["P1", "P2", "P3", "", "NA", "-", "=1+2", "Jörg", "P1 "]),
    "date": st.sampled_from(["2025-03-01", "2025-03-04", "03/14/2025", "14.03.2025", "04/03/2025", "2025-02-30",
                             "31/02/2025", "", "tomorrow", "1 Mar 2025", "2025-03-01 10:30", "2205-01-01"]),
    "type": st.sampled_from(["baseline", "infusion", "follow_up", "Ketamine IV", "No-show", "", "Intake", "?"]),
    "number": st.sampled_from(["1", "2", "2.0", "0", "-1", "x", ""]),
    "score": st.sampled_from(["0", "5", "12.5", "27", "28", "-1", "NA", "", "abc", "3,5", "1e1", "nan"]),
    "measure": st.sampled_from(["PHQ-9", "phq9", "GAD-7", "HAM-A", "", "madrs"]),
    "dimension": st.sampled_from(["North", "yes", "no", "45", "", "Südstadt"]),
}
# Random text with everything that makes CSV hard: quotes, every delimiter, line breaks, unicode.
WILD = st.text(alphabet=st.sampled_from(list(',;\t|"\'\n\r x7-.=@é名\u2028\x85\ufeff')), max_size=8)


@st.composite
def exports(draw):
    kinds = draw(st.lists(st.sampled_from(list(HEADERS) + ["junk"]), min_size=1, max_size=7))
    if draw(st.integers(0, 9)) > 0:  # mostly a file ingest can recognise, to reach the row rules
        kinds = ["patient", "date", "score", *kinds]
        kinds = draw(st.permutations(kinds))
    headers = [draw(st.sampled_from(JUNK_HEADERS)) if k == "junk" else draw(st.sampled_from(HEADERS[k]))
               for k in kinds]
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        # Mostly a value of the column's kind, one cell in six wild text.
        row = [draw(WILD if draw(st.integers(0, 5)) == 0 else VALUES.get(k, WILD)) for k in kinds]
        width = draw(st.sampled_from([0] * 8 + [-1, 1, 2]))  # now and then a line with too few or too many fields
        row = row[:len(row) + width] if width < 0 else row + ["x"] * width
        rows.append(row)
        if draw(st.integers(0, 9)) == 0:
            rows.append(list(row))  # an exact repeat
    delimiter = draw(st.sampled_from(list(DELIMITERS)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(headers)
    for row in rows:
        if draw(st.integers(0, 9)) == 0:
            out.write(delimiter.join(row) + newline)  # written by hand: quotes and line breaks left bare
        else:
            writer.writerow(row)
    text = out.getvalue()
    if draw(st.integers(0, 9)) == 0:
        text += draw(WILD)  # a damaged tail
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    return data


ROW_REASONS = ("no patient id", "no session date", "unreadable date", "not a visit", "exact repeat", "the line ",
               "a quote", "patient id contains")
# A broken record of several lines (a quote that never closes, or closes lines later) is rejected
# line by line; the reason names its lines.
SPAN = re.compile(r"lines? (\d+)(?:\.\.(\d+))? could not be read$")


def data_records(text: str, delimiter: str) -> dict[int, list[str]]:
    """Each data record's start line (header = line 1) and cells, as Python's csv reads the text
    with the delimiter ingest chose. Blank lines and lines of spaces are not records; a line of
    nothing but delimiters (a tab file's row of empty cells, like ",,," in a comma file) is one
    when it has the header's number of fields (ingest rejects it: no patient id)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records, previous, width = {}, 0, None
    for record in reader:
        start, previous = previous + 1, reader.line_num
        blank = not "".join(lines[start - 1:previous]).strip()
        if width is None:
            if not blank and any(cell.strip() for cell in record):
                width = len(record)
            continue
        if blank and len(record) != width:
            continue
        records[start] = record
    return records


def with_spans(records: dict[int, list[str]], text: str, reasons) -> dict[int, list[str]]:
    """The records, where ingest rejected one of several lines line by line: its lines that are
    not blank instead of it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for reason in set(reasons):
        match = SPAN.search(reason)
        if match:
            first = int(match.group(1))
            last = int(match.group(2) or first)
            records = {start: r for start, r in records.items() if not first <= start <= last}
            records.update({n: [lines[n - 1]] for n in range(first, last + 1) if lines[n - 1].strip()})
    return records


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(exports())
@example(b"patient_id\tsession_date\tphq9\tpatient_id\n\t\t\t\n\t\t\t\n")  # rows of empty cells in a tab file
@example(b'patient_id,session_date,phq9,patient_id\n,,,\n,,,\n,,,\n,,,\n,,,"\r\r\n"\n,,,\n,,,\n')  # an empty line in quotes
def test_ingest_reads_or_says_why_and_accounts_for_every_record(data):
    try:
        ds = load_files(("fuzz.csv", data))
    except (UnreadableFile, MappingError) as exc:
        event(type(exc).__name__)
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    f = ds.files[0]
    event("read: some rows rejected" if f.rows_rejected else "read: no row rejected")
    assert f.rows_used + f.rows_rejected == f.rows_read
    rejections = ds.rejections()
    row_level = rejections[rejections["reason"].str.startswith(ROW_REASONS)]
    # A row is rejected once, with one reason; rejected rows have no rejected values.
    assert row_level["line"].is_unique
    assert len(row_level) == f.rows_rejected
    value_level = rejections[~rejections["reason"].str.startswith(ROW_REASONS)]
    assert not set(value_level["line"]) & set(row_level["line"])
    # The CSV export keeps only the primary measure's scores and no filter dimensions, and leaves
    # the other measures' good values unread, yet every value is judged the same.
    as_exported = load_files(("fuzz.csv", data), score_measures={"phq9"}, dimensions={"planned_infusions"})
    assert as_exported.rejection_rows() == ds.rejection_rows()
    used_lines = {line for (line,) in ds.con.execute("SELECT line FROM visits").fetchall()}
    assert not used_lines & set(row_level["line"])
    assert len(used_lines) <= f.rows_used  # (a visit merged from several rows lists its first)
    # Against Python's csv module: the same records, at the same lines. (Ingest says when it
    # can't number lines exactly; that hasn't happened on these inputs.)
    if f.kind == "csv" and not any("approximate" in note for note in f.notes):
        text, _ = decode(data)
        delimiter = {name: char for char, name in DELIMITERS.items()}[f.delimiter]
        records = with_spans(data_records(text, delimiter), text, row_level["reason"])
        assert f.rows_read == len(records)
        assert set(row_level["line"]) <= set(records) and used_lines <= set(records)
