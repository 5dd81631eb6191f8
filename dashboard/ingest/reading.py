"""Bytes in, a DuckDB table of text cells out, with the line each row came from.

Everything about the file's physical form is decided here, once: CSV or Excel, encoding,
delimiter, header. DuckDB's CSV reader is given every option explicitly (no sniffing) and reads
every column as text, so a ragged or oddly quoted line is rejected with its line number instead
of silently shifting the columns or skipping rows.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import posixpath
import pyexpat
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import duckdb

from dashboard.core import db
from dashboard.ingest.header import TITLE_LINES, Header, find_header, header_index, title_text
from dashboard.ingest.lines import file_line_count, line_count, unclosed_quote  # noqa: F401 (line counts: session_data.check_size, tests)

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
csv.field_size_limit(2**31 - 1)  # a long free-text field is data, not an error
_SNIFF_LINES = 200
_HEAD_BYTES = 1 << 20  # what is read of a file on disk to plan its reading (see _read_in_place)
_SCAN_BYTES = 8 << 20  # what is read of it at a time to check its lines (_one_line_records)
# How files that are not text tables begin (each gets its own message in read_file).
_PDF, _ZIP, _OLE = b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
# A line break followed by ASCII whitespace, another line break or the end of the text.
_BLANK_LINE_START = re.compile(r"\n(?=[ \t\r\x0b\x0c\x1c-\x1f\n]|\Z)")
_EMPTY_LINE = re.compile(rb"\n\n")
# DuckDB's CSV reader: its buffer, and the longest line it reads (a longer one is a broken line).
# With both at 10 MB instead of DuckDB's defaults (2 MB lines), it stores the rows sooner: 0.62 ->
# 0.55 s on the benchmark's 87 MB file, 1.22 -> 0.98 s on 198 MB, 0.27 -> 0.23 s on 35 MB (median
# of 5 to 11 fresh processes each, 2 threads). A larger buffer alone gained nothing.
_READ_BUFFER = 10 << 20
_MAX_LINE = _READ_BUFFER
_NOT_CLOSED = "a quoted field is not closed properly"
_NOT_BLANK = re.compile(r"^[^\S\n]*\S", re.M)  # a line that holds more than whitespace


class UnreadableFile(ValueError):
    """A file that can't be read as a table at all; the message says what is wrong and what was expected."""


# Given a file's headers, the columns to keep of its cells c0..cN: a SELECT list over them, or
# None for all. Columns the caller will not read are then never stored.
Selector = Callable[[list[str]], "str | None"]


@dataclass
class RawFile:
    """One file's cells as text: DuckDB view `table` (over table `table`_cells) with columns line,
    c0..cN (or those a selector keeps)."""

    name: str
    table: str
    headers: list[str]
    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    # Lines the parser could not split into the header's columns: (line, reason, raw text).
    broken_lines: list[tuple[int, str, str]] = field(default_factory=list)
    # Broken records of several lines (first line, reason, their text): each line that is not
    # blank is rejected on its own, with the reason (load: queries/ingest/broken_spans.sql).
    spans: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # When `table` numbers its rows by their place (line = rowid + line_offset, the usual case),
    # the offset: a query for a few lines then reads only the row groups holding them.
    line_offset: int | None = None


def read_file(con: duckdb.DuckDBPyConnection, name: str, data: bytes | None, table: str, path: str | None = None,
              select: Selector | None = None) -> RawFile:
    """Read one export, given as bytes, or as the path of a file on disk (data None), or both.
    A path lets DuckDB read a UTF-8 file in place instead of from a temporary copy. `select`,
    given the headers, says which columns to keep (default all)."""
    if data is None:
        raw = _read_in_place(con, name, table, path, select)
        if raw is not None:
            return raw
        with open(path, "rb") as fh:
            data = fh.read()
    if not data or data.isspace():
        raise UnreadableFile(f"{name}: the file is empty. Expected a CSV or Excel export with a header row.")
    if data.startswith(_PDF):
        raise UnreadableFile(f"{name}: this is a PDF document, not a table. Export the visits as CSV or Excel (.xlsx).")
    if data.startswith(_ZIP):
        return _read_xlsx(con, name, data, table, select)
    if data.startswith(_OLE):
        raise UnreadableFile(_office_file_message(name, data))
    text, encoding = decode(data)
    if _looks_binary(text):
        raise UnreadableFile(f"{name}: this does not look like a text table (it holds binary data). "
                             "Expected a CSV or Excel export.")
    text, rebroken = _one_kind_of_line_break(text)
    # DuckDB reads the bytes as they are only when they are the text (valid UTF-8, line breaks untouched).
    as_is = encoding in ("UTF-8", "UTF-8 with BOM") and not rebroken
    raw = _read_csv(con, name, text, encoding, data if as_is else None, table,
                    path if as_is and encoding == "UTF-8" else None, select)
    if rebroken:
        raw.notes.insert(0, "line breaks are written in more than one way (CR LF, LF, CR): each is read as one line break")
    return raw


def _read_in_place(con, name: str, table: str, path: str, select: Selector | None) -> RawFile | None:
    """The usual large export, read by DuckDB where it lies, without Python reading and decoding
    it whole first (which takes longer than DuckDB's read of its rows): UTF-8 without a BOM, line
    breaks all LF, no quotes and no empty lines, so that every record is one line and its line
    number follows from its place. None when the file is not such a file, or turns out not to be
    valid UTF-8 (DuckDB reports such lines): read_file then reads it the usual way, as a whole."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size <= _HEAD_BYTES:
            return None  # a small file is read whole as fast
        head = fh.read(_HEAD_BYTES)
        if not _one_line_records(head, fh):
            return None
    if head.startswith((_PDF, _ZIP, _OLE)):
        return None
    head = head[:head.rfind(b"\n") + 1]  # whole lines, so that no character is cut in two
    text, encoding = decode(head)
    if encoding != "UTF-8" or _looks_binary(text):
        return None
    raw = _read_csv(con, name, text, encoding, None, table, path, select, whole_text=False)
    if raw is None:
        drop_raw(con, RawFile(name, table, [], "csv"))
    return raw


def _one_line_records(head: bytes, fh) -> bool:
    """Whether the file (its first bytes `head`, then the rest of `fh`) has no CR, no quote and
    no empty line, so that every record is one line. Read a chunk at a time: an upload kept on
    disk is not brought into memory whole (a memory map of it would count, page by page, in the
    server's resident memory)."""
    chunk, last = head, b""
    while chunk:
        # (An empty line is found faster by a regular expression than by find.)
        if chunk.find(b"\r") != -1 or chunk.find(b'"') != -1 or _EMPTY_LINE.search(chunk) \
                or (last == b"\n" and chunk.startswith(b"\n")):
            return False
        last = chunk[-1:]
        chunk = fh.read(_SCAN_BYTES)
    return True


def _one_kind_of_line_break(text: str) -> tuple[str, bool]:
    """The text with every line break written as LF, and whether that changed it.

    DuckDB's reader fails on a whole file when its lines end in a mix of CR LF, LF and a lone
    CR (files pasted together, old Mac exports, a stray CR in a note), and Python's csv module
    stops on a lone CR; a file of only LF or only CR LF line breaks is left as it is.
    """
    if "\r" not in text:  # the usual case, found faster than by counting
        return text, False
    cr = text.count("\r")
    crlf = text.count("\r\n")
    if cr == crlf and text.count("\n") == crlf:
        return text, False
    return text.replace("\r\n", "\n").replace("\r", "\n"), True


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of its encoding (UTF-8, UTF-16 or Windows-1252/Latin-1)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    sample = data[:4000]
    # UTF-16 without a BOM: ASCII text has a NUL in every other byte.
    if len(sample) >= 4 and sample[1::2].count(0) > 0.4 * len(sample[1::2]):
        return data.decode("utf-16-le", errors="replace"), "UTF-16 (little-endian, no BOM)"
    if len(sample) >= 4 and sample[0::2].count(0) > 0.4 * len(sample[0::2]):
        return data.decode("utf-16-be", errors="replace"), "UTF-16 (big-endian, no BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # UTF-8 text with a few broken bytes (a damaged or appended tail) stays UTF-8: read as
    # Windows-1252 every accent of the good rows would be garbled. (Windows-1252 text has almost
    # no valid UTF-8 sequences, so its broken ones outnumber them.)
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", errors="ignore")) - broken > broken:
        return text, "UTF-8 (some bytes are not valid text)"
    del text
    try:
        return data.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _looks_binary(text: str) -> bool:
    sample = text[:4000]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\r\n\t" or ch == "\ufffd")
    return controls > 0.05 * max(len(sample), 1)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent, widest rows."""
    head = "\n".join(text[:200_000].splitlines()[:_SNIFF_LINES])
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(head), delimiter=delim) if r]
        # Title lines above the header (one value each) say nothing about the delimiter.
        titles = next((i for i, r in enumerate(rows[:TITLE_LINES]) if sum(1 for c in r if c.strip()) > 1), 0)
        rows = rows[titles:]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(con, name: str, text: str, encoding: str, data: bytes | None, table: str, path: str | None,
              select: Selector | None, whole_text: bool = True) -> RawFile | None:
    """Read the CSV file. `text` is the whole file's text, or (whole_text False, _read_in_place)
    its first lines, of a file whose every record is one line: then None when the header is not
    in them, or when DuckDB finds lines that are not valid UTF-8."""
    delim = sniff_delimiter(text)
    header = find_header(text, delim)
    headers, header_lines = header.cells, header.lines
    if not whole_text and (not header_lines or header_lines >= text.count("\n")):
        return None
    if len(headers) < 2:
        raise UnreadableFile(
            f"{name}: found only one column. Expected a table with a header row and columns separated by "
            "commas, semicolons, tabs or pipes (at least a patient id and a visit date)."
        )
    _check_width(name, len(headers))
    headers = [h if h else f"column {i + 1}" for i, h in enumerate(headers)]
    kept = (select(headers) if select else None) or "*"

    def read(text: str, data: bytes | None, path: str | None) -> RawFile | None:
        return _read_rows(con, name, text, encoding, data, table, path, headers, kept, delim, header_lines, whole_text)

    # A quote that never closes would take every line after it into one broken record (or, in a
    # file larger than DuckDB's buffer, only some of them): DuckDB reads the lines before the
    # quote's, and each line from it on is rejected. Looked for when the quotes can't all pair
    # up, or when DuckDB finds a quoted field that is not closed properly.
    opened = _unclosed_quote(text, delim, header_lines) if whole_text and text.count('"') % 2 else None
    if opened is None:
        raw = read(text, data, path)
        if raw is None:
            return None
        if whole_text and any(reason == _NOT_CLOSED for _, reason, _ in raw.broken_lines):
            opened = _unclosed_quote(text, delim, header_lines)
            if opened is not None:
                drop_raw(con, raw)
    if opened is not None:
        # Not the bytes as they are, nor the file: only the text before the quote's line.
        raw = read(text[:opened], None, None)
        _reject_swallowed(raw, text, opened)
    _split_spans(raw)
    raw.notes += [header.note()] if header.titles else []
    return raw


def _read_rows(con, name: str, text: str, encoding: str, data: bytes | None, table: str, path: str | None,
               headers: list[str], kept: str, delim: str, header_lines: int, whole_text: bool) -> RawFile | None:
    """DuckDB's reading of the rows below the header (see _read_csv): of the text, or of the bytes
    `data` when they are the text as it is, or of the file at `path`; every column as text."""
    columns = {f"c{i}": "VARCHAR" for i in range(len(headers))}
    temporary = path is None
    if temporary:
        # DuckDB reads files; uploaded bytes live in a private temporary file only for the read,
        # in this process's run directory (db.run_directory: mode 0700, never the system's temp
        # directory; what a killed process left there is removed when the next one starts).
        # (data is None when the text is not the bytes as they are: see read_file.)
        if data is None:
            payload = text.encode("utf-8")
        else:
            payload = data[3:] if encoding == "UTF-8 with BOM" else data
        fd, path = tempfile.mkstemp(prefix="upload-", suffix=".csv", dir=db.run_directory())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        del payload
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table}_cells AS
            SELECT {kept} FROM read_csv($path, header = false, skip = $skip, columns = $columns,
                delim = $delim, quote = '"', escape = '"', auto_detect = false, strict_mode = true,
                null_padding = false, ignore_errors = true, store_rejects = true, buffer_size = $buffer,
                max_line_size = $max_line,
                rejects_table = '{table}_rejects', rejects_scan = '{table}_scan')""",
            {"path": path, "skip": header_lines, "columns": columns, "delim": delim, "buffer": _READ_BUFFER,
             "max_line": _MAX_LINE},
        )
    except duckdb.Error as exc:
        raise UnreadableFile(f"{name}: the file could not be read as a table ({_first_line(exc)}).") from None
    finally:
        if temporary:
            os.unlink(path)
    raw = RawFile(name, table, headers, "csv", encoding, DELIMITERS[delim])
    rejects = con.execute(
        # DuckDB may report one line more than once (once per surplus field): one entry a line.
        f"""SELECT line, arg_min(error_type, coalesce(column_idx, 0)), arg_min(csv_line, coalesce(column_idx, 0))
        FROM {table}_rejects GROUP BY line ORDER BY line"""
    ).fetchall()
    con.execute(f"DROP TABLE {table}_rejects; DROP TABLE {table}_scan")
    if not whole_text and any(error == "INVALID ENCODING" for _, error, _ in rejects):
        return None
    blank = set()
    for line, error, csv_line in rejects:
        if not (csv_line or "").strip():
            blank.add(line)  # a line of spaces is a blank line, not a row
            continue
        raw.broken_lines.append((line, _parser_reason(error, csv_line, delim, len(headers)), csv_line.strip()))
    _attach_line_numbers(con, raw, text if whole_text else None, delim, header_lines, blank)
    return raw


def _unclosed_quote(text: str, delim: str, header_lines: int) -> int | None:
    """Where the line starts on which a quote below the header opens and never closes (lines.unclosed_quote)."""
    start = 0
    for _ in range(header_lines):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    return unclosed_quote(text, delim, start)


def _reject_swallowed(raw: RawFile, text: str, opened: int) -> None:
    """Reject each line from the quote's line on (raw.spans) and say so in the file's notes."""
    first = text.count("\n", 0, opened) + 1
    swallowed = text[opened:].rstrip()
    last = first + swallowed.count("\n")
    lines = f"lines {first}..{last}" if last > first else f"line {first}"
    reason = f"a quote opened on line {first} never closes: {lines} could not be read"
    raw.spans.append((first, reason, swallowed))
    raw.notes.append(f"{reason} (each is listed as rejected)")


def _split_spans(raw: RawFile) -> None:
    """A broken record of several lines (a quote that closes lines later, and not at the end of a
    field) moves to raw.spans, so that each of its lines is rejected, not only its first."""
    kept = []
    for line, reason, record in raw.broken_lines:
        if "\n" in record:
            last = line + record.count("\n")
            raw.spans.append((line, f"{reason}: lines {line}..{last} could not be read", record))
        else:
            kept.append((line, reason, record))
    moved = len(raw.broken_lines) - len(kept)
    raw.broken_lines = kept
    raw.rows += sum(1 for _, _, record in raw.spans for _ in _NOT_BLANK.finditer(record)) - moved


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200]


def _parser_reason(error: str, csv_line: str, delim: str, width: int) -> str:
    if error in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        try:
            found = len(next(csv.reader([csv_line.strip("\r\n")], delimiter=delim), []))
        except csv.Error:
            found = csv_line.count(delim) + 1
        return f"the line has {found} field{'' if found == 1 else 's'} but the header has {width}"
    if error == "UNQUOTED VALUE":
        return _NOT_CLOSED
    if error == "LINE SIZE OVER MAXIMUM":
        return f"the line is longer than {_MAX_LINE >> 20} MB"
    if error == "INVALID ENCODING":
        return "the line holds characters that are not valid text"
    return f"the line could not be split into columns ({error.lower()})"


def _blank_lines(text: str) -> set[int]:
    """Empty lines, which DuckDB skips. (A line of spaces comes back as a broken line instead.)"""
    if "\n\n" not in text and "\n\r\n" not in text:
        return set()
    if text.isascii():
        return _blank_ascii_lines(text)
    # split("\n"), not splitlines(): a cell may hold U+2028 or U+0085, which are not line breaks here.
    return {i + 1 for i, line in enumerate(text.split("\n")) if not line.strip()}


def _blank_ascii_lines(text: str) -> set[int]:
    """The same lines as _blank_lines' split, for ASCII text, without splitting a big file into a
    million strings: a blank line starts the text or follows a line break, and is empty or starts
    with whitespace, so only those few places are looked at."""
    starts = [0] + [m.end() for m in _BLANK_LINE_START.finditer(text)]
    blank, line, counted = set(), 1, 0
    for start in starts:
        end = text.find("\n", start)
        if not text[start:end if end != -1 else len(text)].strip():
            line += text.count("\n", counted, start)
            counted = start
            blank.add(line)
    return blank


def _attach_line_numbers(con, raw: RawFile, text: str | None, delim: str, header_lines: int, blank: set[int]) -> None:
    """Give each row read the line it starts on (header = line 1), then store it as `raw.table`.

    DuckDB keeps the rows in file order but does not say which line each came from, and it
    numbers broken lines by record, not by physical line. When every record is one line (the
    usual case: physical lines = header + rows + broken + blank), row k is the k-th line that is
    neither blank nor broken. Otherwise (line breaks inside quoted fields) Python's csv reader
    tells where each record starts. `blank` holds the lines of spaces DuckDB reported; empty
    lines, which it skips silently, are looked for only when the counts say some line is missing.
    `text` is None for a file known to have one line per record and no empty line (_read_in_place).
    """
    cells = f"{raw.table}_cells"
    rows = con.execute(f"SELECT count(*) FROM {cells}").fetchone()[0]
    broken = {line for line, _, _ in raw.broken_lines}
    if text is None:
        physical = header_lines + rows + len(broken) + len({b for b in blank if b > header_lines})
        text = ""
    else:
        physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    # Every line is the header, a row, a broken line, a blank line or the continuation of a
    # record: when the first four add up, there are neither empty lines nor continuations.
    if physical != header_lines + rows + len(broken) + len({b for b in blank if b > header_lines}):
        blank = blank | _blank_lines(text)
    blank_after_header = {b for b in blank if b > header_lines}
    # An empty line inside a quoted field looks blank too, and would make the counts agree by
    # chance: with quotes and blank lines both present, the records are found one by one.
    if physical == header_lines + rows + len(broken) + len(blank_after_header) and not (
            blank_after_header and '"' in text):
        skipped = broken | blank_after_header
        starts = [n for n in range(header_lines + 1, physical + 1) if n not in skipped] if skipped else None
    else:
        record_starts, starts = _record_starts(text, delim)
        raw.broken_lines = [
            (record_starts[line - 1] if line <= len(record_starts) else line, reason, text_)
            for line, reason, text_ in raw.broken_lines
        ]
        broken = {line for line, _, _ in raw.broken_lines}
        starts = [n for n in starts if n > header_lines and n not in broken]
        if len(starts) != rows:
            raw.notes.append("line numbers are approximate: the file has line breaks inside quoted fields")
            starts = (starts + list(range(physical + 1, physical + 1 + rows)))[:rows]
    if starts is None:
        # The usual case: a view, so a million rows are not copied just to number them.
        sql = f"CREATE OR REPLACE TEMP VIEW {raw.table} AS SELECT rowid + {header_lines + 1} AS line, * FROM {cells}"
        con.execute(sql)
        raw.line_offset = header_lines + 1
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {raw.table} AS
            SELECT s.line, c.* FROM {cells} c
            JOIN (SELECT unnest($starts) AS line, generate_subscripts($starts, 1) - 1 AS k) s ON s.k = c.rowid
            ORDER BY s.line""",
            {"starts": starts},
        )
        con.execute(f"DROP TABLE {cells}")
        con.execute(f"ALTER TABLE {raw.table} RENAME TO {cells}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {raw.table} AS SELECT * FROM {cells}")
    raw.rows = rows + len(raw.broken_lines)


def _record_starts(text: str, delim: str) -> tuple[list[int], list[int]]:
    """The start line of every record (blank ones included), and of those that hold data."""
    every, with_data = [], []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            break
        start, previous = previous + 1, reader.line_num
        every.append(start)
        # A record of empty cells (",,,") is a row to DuckDB; only an empty line is not.
        if record and (len(record) > 1 or record[0].strip()):
            with_data.append(start)
    return every, with_data


# --- Excel workbooks --------------------------------------------------------------------------
#
# An .xlsx file is a zip of XML parts, and what it unpacks to is not bounded by its size: a 1 MB
# upload whose shared strings table repeats short texts unpacked to 122 MB of XML, 6 million
# Python strings, 1 GB of memory and 46 s; 4 MB took 3.8 GB (bench/bench_xlsx_bomb.py). So before
# openpyxl parses anything, check_workbook reads the zip's directory and streams every part that
# openpyxl would parse through expat, counting and keeping nothing, and refuses a workbook past
# these bounds with one plain message. (The sizes the directory declares bound what zipfile
# unpacks: it stops at the declared size.)
MAX_ROWS = 3_000_000  # rows one session reads (DASHBOARD_MAX_ROWS); a 200 MB CSV export holds about 2.4 million
_UPLOAD = 200_000_000  # the largest upload (server.maxUploadSize, .streamlit/config.toml)
_MAX_UNPACKED = 5 * _UPLOAD  # all parts together (Excel exports pack 5:1 to 20:1)
_MAX_RATIO, _RATIO_FROM = 100, 1 << 20  # a part of more than 1 MB packed tighter than 100:1 is a bomb (or damaged)
_MAX_DIRECTORY = 2 << 20  # the zip's directory, which zipfile reads whole: about 25,000 parts
_MAX_PART = 20_000_000  # any other XML part (styles, workbook, relationships...), which openpyxl parses whole
_MAX_STRINGS = 2_000_000  # shared strings: openpyxl keeps each as a Python string (about 150 bytes each)
_MAX_STRINGS_XML = 100_000_000  # and the XML they are read from
_MAX_CELLS = 20_000_000  # cells in the sheet read: a full Excel sheet of 19 columns (openpyxl reads ~80,000 a second)
_MAX_MARKUP = 250_000  # other XML elements, which openpyxl keeps or builds whole (all but rows' and strings' insides)
_MAX_IN_ONE = 100_000  # XML elements in one row or one shared string, which openpyxl builds whole
_MAX_TOKEN = 4 << 20  # bytes between two '<': the longest tag or text (a cell holds at most 32,767 characters)
_BATCH = 500_000  # cells handed to DuckDB at a time
_BEYOND = "this dashboard reads in a workbook"
_AS_CSV = "Open it in Excel, save the sheet as CSV (File > Save As > CSV UTF-8) and upload that."
_SHORTER = ("Export a shorter period or fewer sites per file (the administrator can raise the limit: "
            "DASHBOARD_MAX_ROWS).")


def row_limit() -> int:
    """The most rows one session reads: DASHBOARD_MAX_ROWS, else MAX_ROWS."""
    return int(os.environ.get("DASHBOARD_MAX_ROWS", MAX_ROWS))


# The most columns a file may have (DASHBOARD_MAX_COLUMNS). Reading grows faster than the width:
# 500 columns of 50 rows took 1 s, 1,000 took 3.6 s, 2,000 14 s, 10,000 131 s (and 20,000 ran
# out of memory). A visit export needs a dozen or two; one with every item of several scales and
# many cohort columns, a few hundred.
MAX_COLUMNS = 500


def column_limit() -> int:
    """The most columns one file may have: DASHBOARD_MAX_COLUMNS, else MAX_COLUMNS."""
    return int(os.environ.get("DASHBOARD_MAX_COLUMNS", MAX_COLUMNS))


def _check_width(name: str, columns: int) -> None:
    """Refuse, before its rows are read, a file with more columns than column_limit()."""
    if columns > (limit := column_limit()):
        raise UnreadableFile(
            f"{name}: it has {columns:,} columns, more than the {limit:,} this dashboard reads, so it was not read. "
            "Export only the columns the dashboard uses (patient id, visit date, session type, infusion number, "
            "the scores, and cohort columns such as site or provider); the administrator can raise the limit "
            "(DASHBOARD_MAX_COLUMNS).")


@dataclass
class WorkbookCheck:
    """What check_workbook found: the sheet that is read (its part and name) and its rows."""

    part: str
    title: str
    rows: int  # rows openpyxl walks through (empty ones included), or those its dimension claims
    dimension: str | None = None


def check_workbook(name: str, data: bytes, whole: bool = True) -> WorkbookCheck:
    """Refuse, with a plain message, a workbook that would unpack past the bounds above, before
    openpyxl parses any of it. With whole False, only the zip's directory, the parts naming the
    first sheet and that sheet up to its dimension are read: enough to count its rows when the
    sheet states them (session_data.check_size), not to bound what reading it takes."""
    directory = _zip_directory_size(data)
    if directory > _MAX_DIRECTORY:
        raise _refused(name, f"its zip directory is {_size(directory)} (a list of tens of thousands of parts), more "
                       f"than the {_size(_MAX_DIRECTORY)} {_BEYOND}")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_a_workbook(name, _first_line(exc)) from None
    with book:
        infos = book.infolist()
        total = sum(info.file_size for info in infos)
        if total > _MAX_UNPACKED:
            raise _refused(name, f"it unpacks to {_size(total)}, more than the {_size(_MAX_UNPACKED)} {_BEYOND}")
        for info in infos:
            if info.file_size > _RATIO_FROM and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
                raise UnreadableFile(
                    f"{name}: its part {info.filename} unpacks to {_size(info.file_size)} from "
                    f"{_size(info.compress_size)}, {info.file_size / max(info.compress_size, 1):,.0f} times its packed "
                    f"size, more than the {_MAX_RATIO} times {_BEYOND} (an Excel export packs "
                    f"about 10 times), so it was not read: a workbook packed that tightly is damaged or made to use "
                    f"up the server's memory. {_AS_CSV}")
        return _Parts(name, book, whole).check()


def workbook_rows(name: str, data: bytes) -> int:
    """The rows of the workbook's first sheet (empty ones included), from its dimension when it
    states one, else counted; refuses a workbook past the bounds check_workbook reads quickly."""
    return check_workbook(name, data, whole=False).rows


class _Done(Exception):
    """Stops a scan early: the rest of the part is not read by openpyxl either."""


class _Parts:
    """check_workbook's reading of one workbook's parts. `markup` counts the XML elements openpyxl
    keeps or builds whole, over every part."""

    def __init__(self, name: str, book: zipfile.ZipFile, whole: bool):
        self.name, self.book, self.whole, self.markup = name, book, whole, 0
        self.sizes = {info.filename: info.file_size for info in book.infolist()}
        self.done: set[str] = set()

    def check(self) -> WorkbookCheck:
        from openpyxl.xml.constants import CONTYPES_NS, PKG_REL_NS, REL_NS, SHARED_STRINGS, XLSM, XLSX, XLTM, XLTX
        types = self._tree("[Content_Types].xml")
        overrides = [(o.get("PartName", ""), o.get("ContentType")) for o in types.iter(f"{{{CONTYPES_NS}}}Override")]
        defaults = {d.get("ContentType") for d in types.iter(f"{{{CONTYPES_NS}}}Default")}
        # As openpyxl finds them (reader.excel._find_workbook_part, ExcelReader.read_strings).
        workbook = next((part[1:] for kind in (XLTM, XLTX, XLSM, XLSX) for part, ct in overrides if ct == kind), None)
        if workbook is None and defaults & {XLTM, XLTX, XLSM, XLSX}:
            workbook = "xl/workbook.xml"
        if workbook is None:
            raise _not_a_workbook(self.name, "it has no workbook part")
        strings = next((part[1:] for part, ct in overrides if ct == SHARED_STRINGS), None)
        sheets = self._tree(workbook).iter(f"{{{_MAIN}}}sheet")
        relations = posixpath.join(posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels")
        targets = {}
        for rel in self._tree(relations).iter(f"{{{PKG_REL_NS}}}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") != "External":  # as openpyxl.packaging.relationship.get_dependents
                target = target[1:] if target.startswith("/") else posixpath.normpath(
                    posixpath.join(posixpath.dirname(posixpath.dirname(relations)), target))
            targets[rel.get("Id")] = (target, rel.get("Type", ""))
        worksheets, charts = [], []  # (part, name) of each worksheet (openpyxl's book.worksheets), chart sheets
        for sheet in sheets:
            target, kind = targets.get(sheet.get(f"{{{REL_NS}}}id"), ("", ""))
            if target in self.sizes:
                (charts if "chartsheet" in kind else worksheets).append((target, sheet.get("name", "")))
        if not worksheets:
            raise _not_a_workbook(self.name, "it has no worksheet")
        part, title = worksheets[0]
        if not self.whole:
            rows, dimension = self._sheet(part, title, first=True)
            return WorkbookCheck(part, title, rows, dimension)
        if strings in self.sizes:
            self._strings(strings)
        rows, dimension = self._sheet(part, title, first=True)
        for other, other_title in worksheets[1:]:
            if other not in self.done:
                self._sheet(other, other_title, first=False)
        # The other parts openpyxl's read-only load parses (reader.excel.ExcelReader.read): not, say,
        # calcChain.xml, comments or drawings, which can be large in a workbook that is fine.
        whole = ["docProps/core.xml", "docProps/custom.xml", "xl/theme/theme1.xml", "xl/styles.xml"]
        whole += [posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels")
                  for p, _ in worksheets + charts]
        if charts:  # a chart sheet is read whole, with its drawings and charts
            whole += [p for p, _ in charts] + [p for p in self.sizes if p.startswith(("xl/drawings/", "xl/charts/"))]
        for other in whole:
            if other in self.sizes and other not in self.done:
                self._tree(other, parse=False)
        return WorkbookCheck(part, title, rows, dimension)

    def _tree(self, part: str, parse: bool = True):
        """An XML part openpyxl parses whole: bounded, counted, then (parse) parsed."""
        if part not in self.sizes:
            raise _not_a_workbook(self.name, f"its part {part} is missing")
        if self.sizes[part] > _MAX_PART:
            raise _refused(self.name, f"its part {part} is {_size(self.sizes[part])} of XML, more than the "
                           f"{_size(_MAX_PART)} {_BEYOND}")
        parser = self._parser(part)

        def start(tag, attrs):
            self._count_markup(part)
        parser.StartElementHandler = start
        self._feed(part, parser)
        if not parse:
            return None
        import xml.etree.ElementTree as ElementTree

        return ElementTree.fromstring(self.book.read(part))

    def _sheet(self, part: str, title: str, first: bool) -> tuple[int, str | None]:
        """Count a worksheet's rows (as openpyxl numbers them: gaps are rows too), its cells and the
        elements in each row. openpyxl reads a sheet other than the first, and the first one
        before its rows (load_workbook), only up to its dimension: so far is read of it here."""
        # (Counting for check_size, the rows are not refused here: it adds up the session's files.)
        limit, name = row_limit() if self.whole else 1 << 62, self.name
        parser = self._parser(part)
        depth = inside = in_one = rows = cells = top = unnumbered = 0
        dimension = None

        def number(attrs):
            nonlocal rows, top, unnumbered
            rows += 1
            r = _attribute(attrs, "r")
            try:
                top = max(top, int(r) if r is not None and r.isdigit() else int(float(r)))
            except (TypeError, ValueError, OverflowError):
                unnumbered += 1
            if top + unnumbered > limit:
                raise _too_many_rows(name, title, limit)

        def start(tag, attrs):
            nonlocal depth, inside, in_one, cells, dimension
            depth += 1
            if inside:
                in_one += 1
                if tag == _CELL:
                    cells += 1
                    if cells > _MAX_CELLS and first:
                        raise _refused(name, f"its sheet '{title}' has more than the {_MAX_CELLS:,} cells {_BEYOND}")
                elif tag == _ROW:
                    number(attrs)
                if in_one > _MAX_IN_ONE:
                    raise _refused(name, f"a row of its part {part} holds more than the {_MAX_IN_ONE:,} XML elements "
                                   f"{_BEYOND} in one row")
                return
            if tag == _ROW:
                inside, in_one = depth, 0
                number(attrs)
                return
            self._count_markup(part)
            if tag == _DIMENSION and first:
                dimension = _attribute(attrs, "ref")
                claimed = _dimension_rows(dimension)
                if claimed > limit:
                    raise UnreadableFile(f"{name}: its sheet '{title}' says it has {claimed:,} rows (its dimension is "
                                         f"{dimension}), more than the {limit:,} this dashboard reads at once. "
                                         f"{_SHORTER}")

        def end(tag):
            nonlocal depth, inside
            if depth == inside:
                inside = 0
            depth -= 1
            if tag == _DIMENSION and (not first or not self.whole):
                raise _Done

        parser.StartElementHandler, parser.EndElementHandler = start, end
        self._feed(part, parser)
        if dimension is not None and (not first or not self.whole):
            return _dimension_rows(dimension), dimension
        return top + unnumbered, dimension

    def _strings(self, part: str) -> None:
        """Count the shared strings and the elements in each."""
        if self.sizes[part] > _MAX_STRINGS_XML:
            raise _refused(self.name, f"its shared strings are {_size(self.sizes[part])} of XML, more than the "
                           f"{_size(_MAX_STRINGS_XML)} {_BEYOND}")
        name, parser = self.name, self._parser(part)
        depth = inside = in_one = strings = 0

        def too_many(found: int | None):
            held = (f"{found:,} texts, more than the {_MAX_STRINGS:,}" if found
                    else f"more than the {_MAX_STRINGS:,} texts")
            return _refused(name, f"its shared strings table holds {held} {_BEYOND}")

        def start(tag, attrs):
            nonlocal depth, inside, in_one, strings
            depth += 1
            if inside:
                in_one += 1
                if in_one > _MAX_IN_ONE:
                    raise _refused(name, f"a text of its shared strings holds more than the {_MAX_IN_ONE:,} XML "
                                   f"elements {_BEYOND} in one text")
                return
            if tag == _STRING:
                inside, in_one = depth, 0
                strings += 1
                if strings > _MAX_STRINGS:
                    raise too_many(None)
                return
            self._count_markup(part)
            declared = _attribute(attrs, "uniqueCount") if tag == _STRINGS else None
            if declared and declared.isdigit() and int(declared) > _MAX_STRINGS:
                raise too_many(int(declared))

        def end(tag):
            nonlocal depth, inside
            if depth == inside:
                inside = 0
            depth -= 1

        parser.StartElementHandler, parser.EndElementHandler = start, end
        self._feed(part, parser)

    def _count_markup(self, part: str) -> None:
        self.markup += 1
        if self.markup > _MAX_MARKUP:
            raise _refused(self.name, f"its formatting and other markup (besides the cells and texts) hold more than "
                           f"the {_MAX_MARKUP:,} XML elements {_BEYOND} (in its part {part})")

    def _parser(self, part: str):
        parser = pyexpat.ParserCreate(namespace_separator=" ")
        parser.ordered_attributes = True  # attributes as a list [name, value, ...]: a fifth faster than a dict

        def doctype(*_):
            raise UnreadableFile(f"{self.name}: its part {part} declares a document type (DTD), which Excel never "
                                 f"writes, so it was not read. {_AS_CSV}")
        parser.StartDoctypeDeclHandler = doctype
        return parser

    def _feed(self, part: str, parser) -> None:
        """Stream the part through the parser, refusing a tag or text longer than _MAX_TOKEN."""
        self.done.add(part)
        last = offset = 0  # where the last '<' was, and where this chunk starts
        try:
            with self.book.open(part) as fh:
                # Chunks no longer than _MAX_TOKEN: a longer tag or text spans a chunk with no '<'.
                while chunk := fh.read(min(1 << 20, _MAX_TOKEN)):
                    first = chunk.find(b"<")
                    if offset + (first if first != -1 else len(chunk)) - last > _MAX_TOKEN:
                        raise _refused(self.name, f"a tag or text in its part {part} is longer than the "
                                       f"{_size(_MAX_TOKEN)} {_BEYOND}")
                    if first != -1:
                        last = offset + chunk.rfind(b"<")
                    offset += len(chunk)
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Done:
            pass
        except UnreadableFile:  # (a ValueError) from a handler: a bound
            raise
        except pyexpat.ExpatError as exc:
            raise _not_a_workbook(self.name, f"{part}: {exc}") from None
        # NotImplementedError: zipfile's answer to a part packed with a method it cannot unpack.
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
            raise _not_a_workbook(self.name, f"{part}: {_first_line(exc)}") from None


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"  # openpyxl.xml.constants.SHEET_MAIN_NS
_ROW, _CELL, _DIMENSION = f"{_MAIN} row", f"{_MAIN} c", f"{_MAIN} dimension"
_STRINGS, _STRING = f"{_MAIN} sst", f"{_MAIN} si"
_CELL_REF = re.compile(r"\$?[A-Za-z]{1,3}\$?(\d+)$")


def _attribute(attrs: list[str], name: str) -> str | None:
    for i in range(0, len(attrs) - 1, 2):
        if attrs[i] == name:
            return attrs[i + 1]
    return None


def _dimension_rows(ref: str | None) -> int:
    """The last row a sheet's dimension (A1:K4000000) claims; 0 when it says none."""
    match = _CELL_REF.search((ref or "").split(":")[-1].strip())
    return int(match.group(1)) if match else 0


def _zip_directory_size(data: bytes) -> int:
    """The size of the zip's central directory, as zipfile will read it (from the end-of-directory
    record, or the ZIP64 one before it); 0 when there is none (zipfile then says it's not a zip)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))
    if end == -1:
        return 0
    size = int.from_bytes(data[end + 12:end + 16], "little")
    if end >= 76 and data[end - 20:end - 16] == b"PK\x06\x07" and data[end - 76:end - 72] == b"PK\x06\x06":
        size = int.from_bytes(data[end - 36:end - 28], "little")  # the ZIP64 record's directory size
    return size


def _size(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:,.0f} MB"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{max(n / 1000, 0.1):.1f} KB"


def _refused(name: str, found: str) -> UnreadableFile:
    """What was found past which bound (found: "..., more than the N {_BEYOND}"), and what to do."""
    return UnreadableFile(f"{name}: {found}, so it was not read. {_AS_CSV}")


def _too_many_rows(name: str, title: str, limit: int) -> UnreadableFile:
    return UnreadableFile(f"{name}: its sheet '{title}' has more than the {limit:,} rows this dashboard reads at once. "
                          f"{_SHORTER}")


def _not_a_workbook(name: str, detail: str) -> UnreadableFile:
    return UnreadableFile(f"{name}: this is a zip archive but not a readable Excel workbook ({detail}). "
                          "Expected a CSV or .xlsx export.")


def _office_file_message(name: str, data: bytes) -> str:
    """An OLE2 (compound file) upload: a password-protected workbook, or an old .xls."""
    if _has_stream(data, "EncryptionInfo") or _has_stream(data, "EncryptedPackage"):
        return (f"{name}: this Excel workbook is protected with a password (encrypted), so it can't be read. Open it "
                "in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, and clear "
                "it), save it as .xlsx or CSV and upload that.")
    return f"{name}: this is an old-style Excel (.xls) file. Save it as .xlsx or CSV and upload that."


def _has_stream(data: bytes, stream: str) -> bool:
    """Whether a compound file's directory holds a stream of this name. Each directory entry is 128
    bytes, at a multiple of 128 after the 512-byte header: the name in UTF-16 with its terminating
    NUL, its length in bytes (NUL included) at byte 64, its type at byte 66 (2: a stream)."""
    key = stream.encode("utf-16-le") + b"\0\0"
    at = data.find(key, 512)
    while at != -1:
        if at % 128 == 0 and int.from_bytes(data[at + 64:at + 66], "little") == len(key) \
                and data[at + 66:at + 67] == b"\x02":
            return True
        at = data.find(key, at + 1)
    return False


def _open_workbook(name: str, data: bytes, checked: WorkbookCheck):
    """The workbook (read-only: its sheets are streamed) and its first sheet, once check_workbook passed."""
    import openpyxl  # only Excel uploads need it

    try:
        # keep_links=False: links to other workbooks hold cached copies of their sheets, not needed.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _not_a_workbook(name, _first_line(exc)) from None
    if not book.worksheets or book.worksheets[0].title != checked.title:
        book.close()
        raise _not_a_workbook(name, "its first sheet could not be found")
    sheet = book.worksheets[0]
    # Every row the sheet holds, however many its dimension claims (openpyxl would stop at its last
    # row, or pad every row to its width).
    sheet.reset_dimensions()
    return book, sheet


def _sheet_rows(name: str, sheet):
    """(line, cells as text) of every row of the sheet, empty ones included. Past the row limit, or
    past twice _MAX_CELLS values (rows are as wide as their last cell), it stops with a message."""
    limit, values_read = row_limit(), 0
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > limit:
            raise _too_many_rows(name, sheet.title, limit)
        values_read += len(values)
        if values_read > 2 * _MAX_CELLS:
            raise _refused(name, f"its sheet '{sheet.title}' has more than the {2 * _MAX_CELLS:,} cells (empty ones "
                           f"included) {_BEYOND}")
        yield number, [_excel_text(v) for v in values]


def _header_names(cells: list[str | None]) -> list[str]:
    return [c.strip() if c else f"column {i + 1}" for i, c in enumerate(cells)]


def _sheet_header(rows) -> tuple[Header, Iterator[tuple[int, list[str | None]]]]:
    """The sheet's header (title rows above it skipped, as in a CSV file: header.py) and its rows
    below it, from its rows (_sheet_rows)."""
    first = []  # the first rows that hold data, enough to find the header
    for number, cells in rows:
        if _holds_data(cells):
            first.append((number, cells))
            if len(first) > TITLE_LINES:
                break
    if not first:
        return Header([], 0), iter(())
    i = header_index([[c or "" for c in cells] for _, cells in first])
    titles = [(number, title_text(cells)) for number, cells in first[:i]]
    number, cells = first[i]
    return Header(_header_names(cells), number, titles), itertools.chain(first[i + 1:], rows)


def _holds_data(cells: list[str | None]) -> bool:
    return any(c is not None and c.strip() for c in cells)


def _read_xlsx(con, name: str, data: bytes, table: str, select: Selector | None) -> RawFile:
    """Read the first sheet into DuckDB a batch of rows at a time (so that Python holds one batch,
    not the sheet), each row as a list of cells: how wide the table is is known at the end."""
    import pyarrow as pa

    checked = check_workbook(name, data)
    book, sheet = _open_workbook(name, data, checked)
    rows_table = f"{table}_rows"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {rows_table} (line BIGINT, cells VARCHAR[])")
    lines: list[int] = []
    batch: list[list[str | None]] = []
    batched = records = width = 0

    def store():
        arrow = pa.table({"line": pa.array(lines, pa.int64()), "cells": pa.array(batch, pa.list_(pa.string()))})
        con.register(f"{table}_batch", arrow)
        con.execute(f"INSERT INTO {rows_table} SELECT line, cells FROM {table}_batch")
        con.unregister(f"{table}_batch")
        lines.clear()
        batch.clear()

    try:
        header, rows = _sheet_header(_sheet_rows(name, sheet))
        headers = header.cells
        for number, cells in rows:
            if _holds_data(cells):
                while cells[-1] is None:
                    cells.pop()
                if len(cells) > width:
                    width = len(cells)
                    _check_width(name, width)  # a row's last cell, not the header: empty columns don't count
                lines.append(number)
                batch.append(cells)
                records += 1
                batched += len(cells)
                if batched >= _BATCH:
                    store()
                    batched = 0
        if batch:
            store()
        if len(headers) < 2:
            raise UnreadableFile(f"{name}: the first sheet has no header row with at least two columns.")
        # Cells to the right of the header row are read under "column N"; Excel often reports
        # empty trailing columns, which are dropped.
        headers += [f"column {i + 1}" for i in range(len(headers), width)]
        while len(headers) > width and headers[-1].startswith("column "):
            headers.pop()
        _check_width(name, len(headers))
        columns = ", ".join(f"cells[{i + 1}] AS c{i}" for i in range(len(headers)))
        kept = (select(headers) if select else None) or "* EXCLUDE (line)"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table}_cells AS
            SELECT line, {kept} FROM (SELECT line, {columns} FROM {rows_table})""")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {table}_cells")
    finally:
        book.close()
        con.execute(f"DROP TABLE IF EXISTS {rows_table}")
    raw = RawFile(name, table, headers, "xlsx", "Excel workbook", "", rows=records)
    if len(book.sheetnames) > 1:
        raw.notes.append(f"read the first sheet ('{sheet.title}') of {len(book.sheetnames)}")
    raw.notes += [header.note()] if header.titles else []
    return raw


def workbook_head(name: str, data: bytes, rows: int = 5) -> tuple[list[str], list[list[str | None]]]:
    """The first sheet's header and its first rows that hold data, as the ingest reads them (for
    the mapping step's preview); refuses the workbook as read_file does."""
    checked = check_workbook(name, data)
    book, sheet = _open_workbook(name, data, checked)
    body: list[list[str | None]] = []
    try:
        header, below = _sheet_header(_sheet_rows(name, sheet))
        for _, cells in below:
            if _holds_data(cells):
                body.append(cells)
                if len(body) == rows:
                    break
    finally:
        book.close()
    return header.cells, body


def _excel_text(value) -> str | None:
    """An Excel cell as the text a CSV export would hold: dates as ISO, whole numbers without '.0'."""
    import datetime

    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def drop_raw(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    con.execute(f"DROP VIEW IF EXISTS {raw.table}")
    con.execute(f"DROP TABLE IF EXISTS {raw.table}_cells")
