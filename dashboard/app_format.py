"""How rates read on screen: whole percentages, rounded half up from the exact value.

A rate such as 57/200 is the float 0.28499999999999998; multiplying it by 100 before rounding
would show 28%. Its shortest repr ('0.285') is the decimal it stands for, so we round that.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


def percent(rate) -> str:
    """0.285 -> '29%', 0.125 -> '13%'; undefined or hidden (None, NaN, '') -> '–'."""
    if rate is None or isinstance(rate, str) or pd.isna(rate):
        return "–"
    whole = (Decimal(repr(float(rate))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{int(whole)}%"
