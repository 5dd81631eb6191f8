"""How numbers read on screen: whole percentages rounded half up, small counts suppressed."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def percent(rate) -> str:
    """0.545 -> '55%' (half up, not Python's banker's rounding); undefined -> '–'."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "–"
    # Decimal(float) is the exact binary value: 57/200 * 100 is 28.499999... in binary but
    # rate itself (0.285) is nearest to 28.5%, so round the rate's repr, not the product's.
    return f"{(Decimal(repr(rate)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


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
