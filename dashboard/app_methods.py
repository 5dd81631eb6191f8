"""The "How these numbers are computed" expander: METRICS.md's definitions in plain words, with
the settings in force filled in, and the settings as a table (as every export records them)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.formatting import percent
from dashboard.labels import SETTING_NAMES
from dashboard.metrics import MetricTables



def methods(m: MetricTables, timing_note: str) -> None:
    s = m.settings
    low, high = s.follow_up_window
    st.markdown(f"""
- **A visit** is a row of the export; rows of one patient, date and session type are one visit. Rows dated after
  the as-of date ({m.as_of}) are left out.
- **The series** is a patient's infusions in date order, until a gap of more than {s.series_gap_days} days or
  {s.planned} infusions (a planned_infusions column overrides this per patient). Later infusions are boosters.
  Patients whose first infusion in the data is numbered above 1 started before the data and are left out.
- **Baseline**: the latest baseline score within {s.baseline_window_days} days before the first infusion; with
  scores taken before each infusion and no baseline visit, the score at infusion 1. Response is judged only when
  the baseline is at least the measure's moderate band (or the minimum set) and above 0.
- **Response** after n infusions: a fall of at least {percent(s.response_reduction)} from baseline.
  **Remission**: a score at or below the measure's cut-off. {timing_note} After the last infusion of the series,
  the first score within {s.end_of_series_days} days (a follow-up or a booster's check-in) counts.
- **Intention to treat**: every patient with a usable baseline counts; one who stopped counts as not responding
  from then on, unless they had already responded. Patients still in their series count only for infusions they
  have had.
- **Keep going?**: of the patients not responding after n infusions, the share who responded after a later
  infusion of their series; those with no later score are left out of the share and counted beside it.
- **Dropout**: a patient stopped after infusion L when their series has fewer than the planned infusions and the
  last one is more than {s.series_gap_days} days before the as-of date; otherwise they are still in their series.
  Completion is completed ÷ (completed + stopped). Retention is a Kaplan-Meier estimate.
- **Durability**: responders whose series has ended, re-assessed nearest {s.follow_up_days} days after their last
  infusion (within {low}–{high} days). Durable ÷ (durable + lost); the conservative rate also counts a booster
  given before the follow-up as lost.
- **Intervals**: 95% Wilson score intervals for rates; t-based 95% intervals for mean scores.
- **Small counts**: {f"counts below {s.min_cell} show as <{s.min_cell} and the rates using them are hidden."
                     if s.min_cell else "shown as they are (set a minimum in Thresholds and windows to hide them)."}
""")
    st.markdown("**Settings in force**")
    in_force = s.to_dict() | {"as_of": f"{m.as_of}" + ("" if s.as_of else " (the latest visit)"),
                              "min_baseline": s.min_baseline if s.min_baseline is not None else "the measure's own"}
    st.dataframe(pd.DataFrame([{"Setting": SETTING_NAMES.get(k, k), "Value": str(v), "Name in exports": k}
                               for k, v in in_force.items()]), hide_index=True)
