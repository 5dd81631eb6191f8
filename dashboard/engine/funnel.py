"""Fair comparisons (docs/METHODS.md 13): exact binomial control limits for a funnel plot.

funnel.sql counts each group's numerator and denominator and the whole selection's target rate;
the limits need the binomial distribution function, which is scipy's, so they are added here.
No pandas at import: the CSV export uses funnel_limit_rows on plain rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Column -> the probability p of its limit: two-sided 99.8% and 95%.
FUNNEL_PROBABILITIES = {"low_998": 0.001, "low_95": 0.025, "high_95": 0.975, "high_998": 0.999}


def funnel_limits(target, denominator) -> dict:
    """Exact binomial control limits around the target rate for each denominator (docs/METHODS.md 13;
    Spiegelhalter 2005): for probability p, r_p is the smallest r with F(r) >= p, F the
    Binomial(n, target) distribution function, alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)), and
    the limit is (r_p - alpha) / n, kept within 0..1. A target of 0 or 1 has no spread: every limit
    is the target. NaN where n is 0 or the target undefined. Returns name -> array."""
    import numpy as np
    from scipy import stats  # imported here: only the funnel needs it, and it is slow to import

    theta = np.asarray(target, dtype=float)
    n = np.asarray(denominator, dtype=float)
    usable = (n > 0) & np.isfinite(theta)
    spread = usable & (theta > 0) & (theta < 1)
    dist = stats.binom(np.where(spread, n, 1), np.where(spread, theta, 0.5))
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, p in FUNNEL_PROBABILITIES.items():
            r = dist.ppf(p)
            # The definition exactly, whatever rounding the quantile function does.
            r = np.where(dist.cdf(r - 1) >= p, r - 1, r)
            r = np.where(dist.cdf(r) < p, r + 1, r)
            at, below = dist.cdf(r), dist.cdf(r - 1)
            limit = np.clip((r - (at - p) / (at - below)) / np.where(spread, n, 1), 0, 1)
            out[name] = np.where(spread, limit, np.where(usable, theta, np.nan))
    return out


def funnel_position(rate, low_998, high_998) -> str | None:
    """'above' or 'below' when the rate lies outside the 99.8% limits, else 'within'; None without a rate."""
    if rate is None or rate != rate or low_998 != low_998:
        return None
    return "above" if rate > high_998 else "below" if rate < low_998 else "within"


def with_funnel_limits(frame: pd.DataFrame) -> pd.DataFrame:
    """The funnel table (funnel.sql) with its control limits and each group's position."""
    out = frame.copy()
    for name, values in funnel_limits(out["target"].astype(float), out["denominator"].astype(float)).items():
        out[name] = values
    out["position"] = [funnel_position(r, lo, hi) for r, lo, hi in
                       zip(out["rate"].astype(float), out["low_998"], out["high_998"])]
    return out


def funnel_limit_rows(names: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """with_funnel_limits for plain rows (the CSV export needs no pandas)."""
    at = {name: i for i, name in enumerate(names)}
    target = [float("nan") if r[at["target"]] is None else r[at["target"]] for r in rows]
    limits = funnel_limits(target, [r[at["denominator"]] for r in rows])
    out = []
    for i, row in enumerate(rows):
        values = [None if limits[name][i] != limits[name][i] else float(limits[name][i])
                  for name in FUNNEL_PROBABILITIES]
        low, high = (float("nan") if v is None else v for v in (values[0], values[3]))
        out.append((*row, *values, funnel_position(row[at["rate"]], low, high)))
    return [*names, *FUNNEL_PROBABILITIES, "position"], out
