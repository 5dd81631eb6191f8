"""Bytes in, a DuckDB table of text cells out, with the line each row came from.

Everything about the file's physical form is decided here, once: CSV or Excel, encoding,
delimiter, header. DuckDB's CSV reader is given every option explicitly (no sniffing) and reads
every column as text, so a ragged or oddly quoted line is rejected with its line number instead
of silently shifting the columns or skipping rows.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
csv.field_size_limit(2**31 - 1)  # a long free-text field is data, not an error
_SNIFF_LINES = 200
_HEAD_BYTES = 1 << 20  # what is read of a file on disk to plan its reading (see _read_in_place)
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
    notes: list[str] = field(default_factory=list)


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
        raise UnreadableFile(f"{name}: this is an old-style Excel (.xls) file. Save it as .xlsx or CSV and upload that.")
    text, encoding = decode(data)
    if _looks_binary(text):
        raise UnreadableFile(f"{name}: this does not look like a text table (it holds binary data). Expected a CSV or Excel export.")
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
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as whole:
            # (An empty line is found faster by a regular expression than by find.)
            if whole.find(b"\r") != -1 or whole.find(b'"') != -1 or _EMPTY_LINE.search(whole):
                return None
            head = whole[:_HEAD_BYTES]
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
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _header(text: str, delim: str) -> tuple[list[str], int]:
    """The header's cells and the number of physical lines it spans (blank lines before it included)."""
    for head in (text[:1_000_000], text):  # the header is near the top; don't copy a big file to find it
        reader = csv.reader(io.StringIO(head), delimiter=delim)
        for row in reader:
            if any(cell.strip() for cell in row):
                if head is text or reader.line_num < head.count("\n"):
                    return [cell.strip() for cell in row], reader.line_num
                break
    return [], 0


def _read_csv(con, name: str, text: str, encoding: str, data: bytes | None, table: str, path: str | None,
              select: Selector | None, whole_text: bool = True) -> RawFile | None:
    """Read the CSV file. `text` is the whole file's text, or (whole_text False, _read_in_place)
    its first lines, of a file whose every record is one line: then None when the header is not
    in them, or when DuckDB finds lines that are not valid UTF-8."""
    delim = sniff_delimiter(text)
    headers, header_lines = _header(text, delim)
    if not whole_text and (not header_lines or header_lines >= text.count("\n")):
        return None
    if len(headers) < 2:
        raise UnreadableFile(
            f"{name}: found only one column. Expected a table with a header row and columns separated by "
            "commas, semicolons, tabs or pipes (at least a patient id and a visit date)."
        )
    headers = [h if h else f"column {i + 1}" for i, h in enumerate(headers)]
    columns = {f"c{i}": "VARCHAR" for i in range(len(headers))}
    kept = (select(headers) if select else None) or "*"
    temporary = path is None
    if temporary:
        # DuckDB reads files; uploaded bytes live in a private temporary file only for the read.
        # (data is None when the text is not the bytes as they are: see read_file.)
        if data is None:
            payload = text.encode("utf-8")
        else:
            payload = data[3:] if encoding == "UTF-8 with BOM" else data
        fd, path = tempfile.mkstemp(suffix=".csv")
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
        return "a quoted field is not closed properly"
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


def _read_xlsx(con, name: str, data: bytes, table: str, select: Selector | None) -> RawFile:
    import openpyxl  # only Excel uploads need it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"{name}: this is a zip archive but not a readable Excel workbook ({_first_line(exc)}). "
            "Expected a CSV or .xlsx export."
        ) from None
    sheet = book.worksheets[0]
    headers: list[str] = []
    records: list[tuple[int, list[str | None]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_excel_text(v) for v in values]
        if not headers:
            if any(cells):
                headers = [c.strip() if c else f"column {i + 1}" for i, c in enumerate(cells)]
            continue
        if any(c is not None and c.strip() for c in cells):
            records.append((number, (cells + [None] * len(headers))[: len(headers)]))
    book.close()
    if len(headers) < 2:
        raise UnreadableFile(f"{name}: the first sheet has no header row with at least two columns.")
    while headers and headers[-1].startswith("column ") and all(r[-1] is None for _, r in records):
        headers.pop()  # Excel often reports empty trailing columns
        records = [(n, r[:-1]) for n, r in records]
    import pyarrow as pa

    arrays = {"line": pa.array([n for n, _ in records], pa.int64())}
    for i in range(len(headers)):
        arrays[f"c{i}"] = pa.array([r[i] for _, r in records], pa.string())
    arrow_table = pa.table(arrays)
    con.register(f"{table}_arrow", arrow_table)
    kept = (select(headers) if select else None) or "* EXCLUDE (line)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_cells AS SELECT line, {kept} FROM {table}_arrow")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {table}_cells")
    con.unregister(f"{table}_arrow")
    raw = RawFile(name, table, headers, "xlsx", "Excel workbook", "", rows=len(records))
    if len(book.sheetnames) > 1:
        raw.notes.append(f"read the first sheet ('{sheet.title}') of {len(book.sheetnames)}")
    return raw


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
