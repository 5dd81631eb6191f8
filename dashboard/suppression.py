"""Small-cell suppression (METRICS.md 7): a count below min_cell is shown as "<K" and every rate
computed from it is hidden, in tiles, charts, tables and exports alike."""

from __future__ import annotations

import pandas as pd

# For each metric table: rate column -> the counts it is computed from.
RATE_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "response": {
        "rate": ("responders", "assessed"),
        "rate_low": ("responders", "assessed"),
        "rate_high": ("responders", "assessed"),
        "remission_rate": ("remitters", "assessed"),
        "cumulative_rate": ("cumulative_responders", "evaluable"),
    },
    "late_response": {"late_response_rate": ("late_responders", "non_responders", "no_later_assessment")},
    "dropout": {"retained": ("dropped_after", "at_risk")},
    "durability": {
        "durability_rate": ("durable", "lost"),
        "rate_low": ("durable", "lost"),
        "rate_high": ("durable", "lost"),
        "conservative_rate": ("durable", "lost", "booster_first"),
    },
    "summary": {},
    "dropout_detail": {},
}
COUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "response": ("assessed", "responders", "remitters", "cumulative_responders", "evaluable"),
    "late_response": ("non_responders", "late_responders", "no_later_assessment"),
    "dropout": ("dropped_after", "at_risk", "completed_at", "in_progress_at"),
    "durability": ("eligible", "durable", "lost", "booster_first", "no_follow_up", "pending"),
    "summary": ("patients_started", "completed", "dropped", "in_progress", "started_before", "no_infusion",
                "usable_baseline", "no_baseline", "baseline_below"),
    "dropout_detail": ("patients",),
    "trajectories": ("patients",),
}


def hidden_mask(frame: pd.DataFrame, table: str, min_cell: int) -> pd.DataFrame:
    """True where a count is below min_cell (so it must be shown as '<K')."""
    cols = [c for c in COUNT_COLUMNS.get(table, ()) if c in frame]
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    if min_cell > 0:
        for col in cols:
            mask[col] = frame[col] < min_cell
    return mask


def suppress(frame: pd.DataFrame, table: str, min_cell: int) -> pd.DataFrame:
    """A copy for display or export: small counts as '<K', the rates that use them empty.

    Retention is a running product, so once a step uses a small count every later step is hidden too.
    """
    if min_cell <= 0:
        return frame.copy()
    mask = hidden_mask(frame, table, min_cell)
    out = frame.astype(object).copy()
    for rate, sources in RATE_SOURCES.get(table, {}).items():
        if rate not in out:
            continue
        hide = mask[list(sources)].any(axis=1)
        if table == "dropout":
            # retained(n) uses the counts of every step before n.
            hide = hide.groupby(frame["grp"]).transform(lambda s: s.shift(1, fill_value=False).cummax())
        out.loc[hide, rate] = None
    if table == "trajectories":
        small = mask["patients"]
        for col in ("mean", "sd", "mean_low", "mean_high"):
            if col in out:
                out.loc[small, col] = None
    for col in COUNT_COLUMNS.get(table, ()):
        if col in out:
            out.loc[mask[col], col] = f"<{min_cell}"
    return out
