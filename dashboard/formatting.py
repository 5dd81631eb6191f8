"""How numbers read on screen: whole percentages rounded half up, small counts suppressed."""

from __future__ import annotations

import csv
import io
import math
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
    """A count, or '<K' when it is below the minimum cell size."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    value = int(value)
    return f"<{min_cell}" if 0 < min_cell and value < min_cell else f"{value:,}"


def neutralise(text: str) -> str:
    """A cell Excel would run as a formula (=, +, -, @) is prefixed with a quote."""
    if text.startswith(("=", "+", "-", "@")):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


_MARKDOWN_SPECIAL = "\\`*_{}[]<>()#+-.!|~:$"


def plain(text) -> str:
    """User-supplied text (file names, column headers, cohort values) made inert in Streamlit markdown."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def csv_bytes(frame) -> bytes:
    """A table as a CSV download (UTF-8), empty for missing values, every cell Excel would run as
    a formula neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow(["" if v is None or (isinstance(v, float) and v != v) else neutralise(str(v)) for v in row])
    return out.getvalue().encode("utf-8")
