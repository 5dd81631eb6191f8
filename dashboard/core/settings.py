"""Every setting of docs/METHODS.md, with its defaults, in one place: the app, the CLI and the tests build it alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from dashboard.core.measures import Measure

SCORE_TIMINGS = ("pre", "post")
DATE_STYLES = ("auto", "iso", "us", "eu")
CONTROL_PERIODS = ("month", "quarter")  # the points of the p-charts ("are we getting better?")


@dataclass(frozen=True)
class Settings:
    measure: str = "phq9"
    min_baseline: float | None = None  # None: the measure's own moderate band
    response_reduction: float = 0.50
    score_timing: str = "pre"
    planned: int = 6
    series_gap_days: int = 21
    baseline_window_days: int = 30
    end_of_series_days: int = 14
    as_of: date | None = None  # None: the latest session date among the rows used
    follow_up_days: int = 30
    follow_up_window: tuple[int, int] = (21, 45)
    min_cell: int = 0
    control_period: str = "month"  # p-charts by month of series start, or by quarter
    # "Keep going?" (docs/METHODS.md 5): the improvement after k infusions, (baseline - score) / baseline,
    # is cut at these edges into bands: (0.2, 0.5) gives below 20%, 20% to below 50%, 50% and more.
    early_bands: tuple[float, ...] = (0.2, 0.5)

    def __post_init__(self) -> None:
        # A list given for the bands is kept as a tuple, so that the settings stay hashable (a cache key).
        if isinstance(self.early_bands, list):
            object.__setattr__(self, "early_bands", tuple(self.early_bands))

    def validate(self) -> None:
        """Raise ValueError with a plain message for a setting out of its sensible range."""
        problems = []
        if self.score_timing not in SCORE_TIMINGS:
            problems.append(f"score timing must be 'pre' or 'post', not '{self.score_timing}'")
        if not 0 < self.response_reduction < 1:
            problems.append("the response reduction must be between 0 and 1 (0.5 means a 50% fall)")
        if self.planned < 1:
            problems.append("planned infusions must be at least 1")
        for name in ("series_gap_days", "baseline_window_days", "end_of_series_days", "follow_up_days", "min_cell"):
            if getattr(self, name) < 0:
                problems.append(f"{name.replace('_', ' ')} can't be negative")
        low, high = self.follow_up_window
        if not 0 <= low <= self.follow_up_days <= high:
            problems.append("the follow-up window must contain the follow-up day (e.g. 21..45 around 30)")
        if self.control_period not in CONTROL_PERIODS:
            problems.append(f"the p-charts are by month or by quarter, not '{self.control_period}'")
        if self.min_baseline is not None and self.min_baseline < 0:
            problems.append("the minimum baseline can't be negative")
        if not bands_ok(self.early_bands):
            problems.append("the early-improvement bands are one to nine cut-offs, each from -1 to 1 and each "
                            "above the one before (e.g. 0.2,0.5 for 20% and 50%)")
        if problems:
            raise ValueError("; ".join(problems).capitalize() + ".")

    def min_baseline_for(self, measure: Measure) -> float:
        if self.min_baseline is not None:
            return self.min_baseline
        return measure.min_baseline or 0.0

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        out["follow_up_window"] = f"{self.follow_up_window[0]}..{self.follow_up_window[1]}"
        out["early_bands"] = ",".join(f"{edge:.15g}" for edge in self.early_bands)
        return out


def bands_ok(edges) -> bool:
    """Cut-offs of improvement bands: 1 to 9 numbers from -1 to 1, strictly increasing."""
    try:
        values = [float(e) for e in edges]
    except (TypeError, ValueError):
        return False
    return (1 <= len(values) <= 9 and all(-1 <= v <= 1 for v in values)
            and all(a < b for a, b in zip(values, values[1:])))


def parse_bands(text: str) -> tuple[float, ...]:
    """'0.2,0.5' -> (0.2, 0.5): the cut-offs of the early-improvement bands."""
    try:
        edges = tuple(float(part) for part in text.split(","))
    except ValueError:
        edges = ()
    if not bands_ok(edges):
        raise ValueError(f"Early-improvement bands are written like 0.2,0.5 (increasing, each from -1 to 1), "
                         f"not '{text}'.")
    return edges


def parse_window(text: str) -> tuple[int, int]:
    """'21..45' -> (21, 45)."""
    try:
        low, high = text.split("..")
        return int(low), int(high)
    except ValueError:
        raise ValueError(f"A follow-up window is written like 21..45, not '{text}'.") from None
