"""How numbers read on screen: whole percentages rounded half up, small counts suppressed."""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from decimal import ROUND_HALF_UP, Decimal


def percent(rate) -> str:
    """0.285 -> '29%', 0.125 -> '13%' (half up); undefined or hidden (None, NaN, '') -> '–'.

    A rate such as 57/200 is the float 0.28499999999999998; multiplying it by 100 before rounding
    would show 28%. Its shortest repr ('0.285') is the decimal it stands for, so we round that.
    """
    try:
        if rate is None or isinstance(rate, str) or math.isnan(float(rate)):
            return "–"
    except TypeError:  # pandas' NA
        return "–"
    whole = (Decimal(repr(float(rate))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{int(whole)}%"


def count(value, min_cell: int = 0) -> str:
    """A count, or '<K' when it is from 1 to K-1 (a zero is shown as 0: docs/METHODS.md 15)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    value = int(value)
    return f"<{min_cell}" if 0 < value < min_cell else f"{value:,}"


# What a spreadsheet may skip before a formula's first character: whitespace (spaces, tabs,
# line breaks, no-break spaces) and other control characters.
_BEFORE_FORMULA = re.compile(r"[\s\x00-\x1f\x7f-\x9f]*")
_NUMBER = re.compile(r" *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *")


def neutralise(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote: one that starts with =, +,
    - or @, also after spaces, tabs, line breaks or control characters (" =1+1", "\\t=1+1",
    "\\r@SUM(A1)"), and one that starts with a tab or a carriage return (which some spreadsheets
    read as the start of a formula too). A number (-3, +5, 1e3) is left as it is."""
    if not text:
        return text
    start = _BEFORE_FORMULA.match(text).end()
    if text.startswith(("=", "+", "-", "@"), start) or text[0] in "\t\r":
        return text if _NUMBER.fullmatch(text) else "'" + text
    return text


_MARKDOWN_SPECIAL = "\\`*_{}[]<>()#+-.!|~:$"


def plain(text) -> str:
    """User-supplied text (file names, column headers, cohort values) made inert in Streamlit markdown."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def missing(value) -> bool:
    """None, NaN or pandas' NA."""
    # Only pandas makes its NA: while pandas is not imported (the CSV export), no value is it.
    pandas = sys.modules.get("pandas")
    return (value is None or (isinstance(value, float) and value != value)
            or (pandas is not None and value is pandas.NA))


def cell_text(value) -> str:
    """A cell of a CSV file: rates unrounded, empty where undefined or missing, and text a
    spreadsheet would run as a formula neutralised."""
    if missing(value):
        return ""
    if isinstance(value, float):
        return repr(value)
    return neutralise(str(value))


def csv_text(columns, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(str(c)) for c in columns])  # a group column may be named after user data
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    return out.getvalue()


def csv_bytes(frame) -> bytes:
    """A table as a CSV download (UTF-8)."""
    return csv_text(list(frame.columns), frame.itertuples(index=False)).encode("utf-8")


def readable(frame, rates=(), intervals=None, counts=()):
    """A metric frame for reading: rates as whole percentages, intervals as 'low–high', counts as
    written ('1,234', '<11', 'hidden')."""
    shown = frame.copy()
    for col, (low, high) in (intervals or {}).items():
        shown[col] = [f"{percent(lo)}–{percent(hi)}" if not missing(lo) else "–"
                      for lo, hi in zip(shown[low], shown[high])]
    for col in rates:
        shown[col] = shown[col].map(percent)
    for col in counts:
        shown[col] = shown[col].map(count)
    return shown
