"""The "How these numbers are computed" expander: docs/METHODS.md's definitions in plain words, with
the settings in force filled in, and the settings as a table (as every export records them)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.engine.metrics import MetricTables
from dashboard.present.labels import SETTING_NAMES
from dashboard.present.methods_text import FULL_METHODS, as_markdown


def methods(m: MetricTables, timing_note: str) -> None:
    s = m.settings
    st.markdown(timing_note)
    st.markdown(as_markdown(s, f"{m.as_of}" + ("" if s.as_of else " (the latest visit up to today)")))
    st.markdown("**Settings in force**")
    in_force = s.to_dict() | {"as_of": f"{m.as_of}" + ("" if s.as_of else " (the latest visit)"),
                              "min_baseline": s.min_baseline if s.min_baseline is not None else "the measure's own"}
    st.dataframe(pd.DataFrame([{"Setting": SETTING_NAMES.get(k, k), "Value": str(v), "Name in exports": k}
                               for k, v in in_force.items()]), hide_index=True)
    st.markdown(FULL_METHODS)
