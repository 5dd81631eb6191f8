"""Which line of a CSV export (or row of a workbook's sheet) is its header.

Some exports start with a title ("Clinic export 2026-11-01") or a few lines about the report
above the header. The header is looked for among the first lines that hold anything: a line is
a title line when it names no column ingest recognises and holds at most one value, or when a
later line names at least two columns, more than it does, and holds more values. The first line
that is not a title is the header; the title lines above it are neither rows nor rejections,
and the file's notes list them. A file whose first line is its header reads as it always did.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from dashboard.ingest.columns import known_header

TITLE_LINES = 10  # how many lines above the header may be title lines
_HEAD_CHARS = 1_000_000  # the header is near the top: a big file is not copied to find it


@dataclass
class Header:
    cells: list[str]  # stripped
    lines: int  # the physical lines up to its end, blank and title lines above it included
    titles: list[tuple[int, str]] = field(default_factory=list)  # (line, text) of each title line

    def note(self) -> str:
        """What the file's notes say about the title lines skipped (when there are some)."""
        lines = "; ".join(f"line {line}: {text[:100]}" for line, text in self.titles)
        n = len(self.titles)
        return f"skipped {n} title line{'' if n == 1 else 's'} above the header ({lines})"


def find_header(text: str, delim: str) -> Header:
    """The header of the text (empty cells and 0 lines when it holds nothing)."""
    for head in (text[:_HEAD_CHARS], text):
        records = _first_records(head, delim)
        if head is not text:
            # A record that reaches the chunk's last line may be cut short: read the whole text.
            last_line = head.count("\n")
            complete = [r for r in records if r[1] < last_line]
            if len(complete) < len(records) and len(complete) <= TITLE_LINES:
                continue
            records = complete
        if not records:
            return Header([], 0)
        i = header_index([cells for _, _, cells in records])
        titles = [(start, title_text(cells)) for start, _, cells in records[:i]]
        return Header([c.strip() for c in records[i][2]], records[i][1], titles)
    return Header([], 0)


def title_text(cells: list[str | None]) -> str:
    """A title line as the notes show it: its values, without the empty cells around them."""
    return " ".join(c.strip() for c in cells if c and c.strip())


def _first_records(text: str, delim: str) -> list[tuple[int, int, list[str]]]:
    """(start line, end line, cells) of the first records that hold a value: enough to find the header."""
    records = []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    previous = 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if any(cell.strip() for cell in row):
            records.append((start, previous, row))
            if len(records) > TITLE_LINES:
                break
    return records


def header_index(records: list[list[str]]) -> int:
    """Which record is the header (see the module's docstring); the first when none qualifies."""
    filled = [sum(1 for c in r if c.strip()) for r in records]
    named: dict[int, int] = {}  # counted only where needed: a file may have thousands of columns

    def names(i: int) -> int:
        if i not in named:
            named[i] = sum(1 for c in records[i] if c.strip() and known_header(c))
        return named[i]

    for i in range(len(records)):
        wider = [j for j in range(i + 1, len(records)) if filled[j] > filled[i]]
        header_below = any(names(j) >= 2 and names(j) > names(i) for j in wider)
        if not header_below and (filled[i] >= 2 or names(i)):
            return i
    return 0
