"""Presentation mode (a sidebar toggle, or ?present=1 in the address): the dashboard on a shared
screen in a quality-review meeting. The sidebar and controls are hidden (their settings stay in
force and are stated at the top), type and chart marks are large enough to read across a room
at 1920x1080, counts below 11 are hidden (docs/METHODS.md 15; a larger minimum set in the sidebar is
kept), and nothing patient-level is shown."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.core.settings import CONTROL_PERIODS, Settings
from dashboard.engine.suppression import small_points
from dashboard.present.formatting import percent, plain
from dashboard.ui.panels import ROOM_PERIOD_KEY

ROOM_MIN_CELL = 11

# Fixed CSS, no user text. Streamlit sizes its type in rem, so a larger root font scales it all.
_STYLE = """<style>
html { font-size: clamp(16px, 1.1vw, 21px); }  /* 21 px at 1920 wide, 16 px on a 1366 laptop */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.5rem 2.5rem 2rem 2.5rem !important; }
[data-testid="stVerticalBlock"] { gap: 0.55rem !important; }
[data-testid="stMetricValue"] { font-size: 3rem !important; font-weight: 700; color: #111111; }
[data-testid="stMetricLabel"] p { font-size: 1.25rem !important; font-weight: 600; color: #111111; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { font-size: 1rem !important;
  color: #222222 !important; }
[data-testid="stTab"] p { font-size: 1.25rem !important; font-weight: 600; }
h1 { font-size: 2rem !important; padding: 0 0 0.5rem 0 !important; }
h2 { font-size: 1.6rem !important; line-height: 1.25 !important; color: #111111; padding: 0.4rem 0 0.6rem 0 !important; }
</style>"""


def mode() -> bool:
    """The toggle at the top of the sidebar; the first run of a session takes it from the address."""
    if "present" not in st.session_state:
        st.session_state["present"] = st.query_params.get("present") == "1"
    st.sidebar.toggle("Presentation mode", key="present", on_change=_to_address,
                      help="For a shared screen: large type, no sidebar or controls, counts below 11 hidden, no "
                           "patient identifiers. The address ends in ?present=1, so it can be bookmarked.")
    return bool(st.session_state["present"])


def _to_address() -> None:
    if st.session_state.get("present"):
        st.query_params["present"] = "1"
    else:
        st.query_params.pop("present", None)


def _leave() -> None:
    st.session_state["present"] = False
    st.query_params.pop("present", None)


def for_room(settings: Settings) -> Settings:
    """Presentation mode hides counts below 11, or below the larger minimum set in the sidebar."""
    return dataclasses.replace(settings, min_cell=max(settings.min_cell, ROOM_MIN_CELL))


def period_for_room(settings: Settings, monthly_for: Callable[[str], pd.DataFrame], key) -> Settings:
    """The p-charts' period in the room: the one the room chose on the switch, else the one (month
    or quarter) with fewer points hidden for their outcome (dashboard.engine.suppression.small_points),
    the desk's on a tie. monthly_for(period): the p-charts' table by that period. key: the data,
    settings and patients the choice was made for; kept for the next rerun (a tab switch, the room's
    usual rerun, changes none of them), so both periods' tables are not computed again each time."""
    chosen = st.session_state.get(ROOM_PERIOD_KEY)
    if chosen not in CONTROL_PERIODS:
        held = st.session_state.get("room_period_auto")
        if held is not None and held[0] == key:
            chosen = held[1]
        else:
            hidden = {period: small_points(monthly_for(period), settings.min_cell) for period in CONTROL_PERIODS}
            chosen = min(CONTROL_PERIODS, key=lambda period: (hidden[period], period != settings.control_period))
            st.session_state["room_period_auto"] = (key, chosen)
    return dataclasses.replace(settings, control_period=chosen)


def open_panel(panels: list[str]) -> str:
    """The tab open in this run: the one chosen, else the address's (?panel=..., a shared link), else the first."""
    chosen = st.session_state.get("panel") or st.query_params.get("panel")
    return chosen if chosen in panels else panels[0]


def _next(panels: list[str]) -> None:
    st.session_state["panel"] = panels[(panels.index(open_panel(panels)) + 1) % len(panels)]


def header(settings: Settings, measure_label: str, cohort_text: str, compared_by: str, source: str,
           is_sample: bool, panels: list[str]) -> None:
    """The page's style, a way back, the next panel (button and key N, for walking a meeting
    through), whose data this is (the sample said loudly), and the settings and filters in force."""
    st.markdown(_STYLE, unsafe_allow_html=True)
    line, buttons = st.columns([5, 1], vertical_alignment="center")
    following = panels[(panels.index(open_panel(panels)) + 1) % len(panels)]
    buttons.button(f"Next: {following}", on_click=_next, args=(panels,), shortcut="N", type="primary",
                   icon=":material/arrow_forward:", icon_position="right", width="stretch",
                   help="Opens the next panel. Keyboard: N.")
    buttons.button("Leave presentation mode", on_click=_leave, width="stretch",
                   help="Back to the dashboard with its sidebar.")
    line.markdown((":orange-badge[Sample data] " if is_sample else "") + f"**{plain(source)}**")
    timing = "before" if settings.score_timing == "pre" else "after"
    parts = [f"Patients: {cohort_text or 'all'}"]
    if compared_by:
        parts.append(f"compared by {compared_by}")
    parts += [f"{measure_label}, scores taken {timing} each infusion",
              f"response: a fall of at least {percent(settings.response_reduction)}",
              f"series of {settings.planned} infusions", f"counts below {settings.min_cell} hidden"]
    line.markdown(plain(" · ".join(parts)))
