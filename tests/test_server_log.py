"""The server log stays clean (issue 12.11): drawing every tab, with counts hidden, hands Streamlit
tables it can convert to Arrow as they are. A column holding '<11' beside numbers could not be
converted: Streamlit logged a pyarrow traceback for it, then made the column text itself."""

from __future__ import annotations

import logging
from collections import OrderedDict

import pandas as pd
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from dashboard.present import charts
from dashboard.ui import chart_specs

APP = str(ROOT / "dashboard" / "app.py")
TABS = ["Response", "Keep going?", "Dropout", "Durability", "Trajectories", "As services report it", "Compare fairly",
        "Over time", "Data quality"]


class Kept(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def server_log():
    """What Streamlit's table conversion and the dashboard log while the test runs (both loggers
    keep their records from the root logger, so caplog would not see them)."""
    kept = Kept()
    loggers = [logging.getLogger("streamlit.dataframe_util"), logging.getLogger("dashboard")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(kept)
        lg.setLevel(logging.DEBUG)
    yield kept.records
    for lg, level in zip(loggers, levels):
        lg.removeHandler(kept)
        lg.setLevel(level)


def said(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()} {r.exc_info[1] if r.exc_info else ''}" for r in records
            if r.levelno >= logging.INFO and (r.exc_info or r.levelno >= logging.WARNING)]


@pytest.mark.parametrize("how", ["presenting", "compared, counts hidden"])
def test_every_tab_draws_without_a_traceback_in_the_log(how, server_log):
    at = AppTest.from_file(APP, default_timeout=120)
    if how == "presenting":  # counts below 11 hidden
        at.query_params["present"] = "1"
        at.run()
    else:
        at.run()
        at.sidebar.selectbox[1].set_value("kap").run()
        next(n for n in at.number_input if n.label.startswith("Hide counts below")).set_value(11).run()
    for tab in TABS:
        at.session_state["panel"] = tab
        at.run()
        assert not at.exception and not at.error, tab
        assert not said(server_log), (tab, said(server_log))


def test_a_chart_of_suppressed_counts_has_one_type_per_column():
    """The retention chart's frame, with '<11' beside counts: each dataset Streamlit is handed
    converts to Arrow as it is, the suppressed column as text."""
    import pyarrow as pa

    frame = pd.DataFrame({"grp": "All patients", "n": [1, 2, 3], "at_risk": [40, 30, 20],
                          "dropped_after": [12, "<11", 0], "completed_at": [0, 0, 20], "in_progress_at": [0, "<11", 14],
                          "retained": [1.0, 0.7, 0.6]})
    for room in (False, True):
        spec = chart_specs.spec(charts.retention, (frame,), room=room, kept=OrderedDict())
        for rows in spec.get("datasets", {}).values():
            table = pa.Table.from_pandas(pd.DataFrame(rows))  # raised ArrowTypeError before
            assert table.column("in_progress_at").to_pylist() == ["0", "<11", "14"]
            assert table.column("retained").type == pa.float64()  # columns of one type untouched
