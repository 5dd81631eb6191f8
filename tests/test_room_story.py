"""The shared screen does not let hiding small counts rewrite the story (issue 12.2, docs/METHODS.md 15):
in presentation mode every bar chart's shown bars add up to the count its headline gives, a small
"not known" count is merged into "not responding" rather than hiding a large count beside it, the
p-charts' period is the one with fewer points hidden, and a p-chart whose shown points would be a
selection by their value is not drawn."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
from conftest import ROOT, load_files, metrics_for
from streamlit.testing.v1 import AppTest

from dashboard.engine.sample import SAMPLE
from dashboard.engine.suppression import hidden_by_value, shown_metrics, small_points

APP = str(ROOT / "dashboard" / "app.py")


def presenting(tab: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["present"] = "1"
    at.run()
    at.session_state["panel"] = tab
    return at.run()


def chart_data(at: AppTest, title: str) -> pd.DataFrame:
    """The rows a chart (by its title) draws, from the tables Streamlit sends with its spec."""
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if json.dumps(spec.get("title", "")).find(title) >= 0:
            frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
            if chart.proto.data.data:
                frames.append(pa.ipc.open_stream(chart.proto.data.data).read_all().to_pandas())
            return pd.concat(frames, ignore_index=True)
    raise AssertionError(f"no chart titled {title!r}")


def test_in_the_room_the_dropout_bars_add_up_to_the_dropouts_and_keep_their_story():
    """The sample at 11: 218 stopped early (33, 54, 50, 58, 23 after infusions 1-5). Their status
    counts include small 'not known' ones (1, 4, 5, 1 after 2-5): hiding those alone also hid
    69 patients not responding, and the bars read as if those who stopped were mostly responding
    (shown: 93 responding and 34 not). Merged into 'not responding or not known', only the bars
    after infusions 1 and 5 keep a hidden part; the others show 35/19, 20/30, 20/38."""
    at = presenting("Dropout")
    assert not at.exception
    bars = chart_data(at, "Who stops, and when")
    bars["patients"] = pd.to_numeric(bars["patients"], errors="coerce")
    drawn = bars.dropna(subset=["patients"])
    assert drawn["patients"].sum() == 218  # the headline's dropouts, every one drawn
    per_bar = drawn.pivot_table(index="n", columns="status", values="patients", aggfunc="sum").fillna(0)
    assert set(per_bar.columns) == {"Responding", "Not responding or not known", "Small counts, not shown separately"}
    assert per_bar.loc[[2, 3, 4], "Not responding or not known"].tolist() == [35, 20, 20]
    assert per_bar.loc[[2, 3, 4], "Responding"].tolist() == [19, 30, 38]
    assert per_bar["Small counts, not shown separately"].tolist() == [33, 0, 0, 0, 23]
    in_progress = chart_data(at, "Still in their series")
    assert pd.to_numeric(in_progress["in_progress_at"], errors="coerce").sum() == 29  # 11 after 2, 18 together


def test_in_the_room_the_p_charts_take_quarters_and_never_a_selection_by_value():
    """By month, 36 of the sample's p-chart points have a count of patients with or without the
    outcome below 11; by quarter 5 (Q4 2026, under way on the as-of date, 31 October 2026, is counted
    with Q3: without that, 6): the room shows quarters, and keeps the switch. By quarter
    the response and completion charts show all six quarters with patients, the last 'Q3 2026 + Q4
    to date' (completion: Q3's 91 ended and 50 completed, with Q4's 11 and 9, 102 and 59: Q4 alone
    had 2 not completing, hidden, which would have withheld the chart); durability would show only
    the quarters whose shares are not near 100% (Q1 2026: 34 durable of 37), so it is not drawn
    and says why."""
    ds = load_files((SAMPLE.name, SAMPLE.read_bytes()))
    assert [small_points(metrics_for(ds, control_period=p).monthly, 11) for p in ("month", "quarter")] == [36, 5]
    at = presenting("Over time")
    assert not at.exception and not at.error
    switch = next(r for r in at.radio if r.label == "A point per")
    assert switch.value == "quarter"
    withheld = [i.value for i in at.info]
    assert len(withheld) == 1 and "drawing only the others would mislead" in withheld[0]
    assert any("counted with the one before it" in c.value for c in at.caption)
    for title in ("Response after 6 infusions", "Completed series"):
        drawn = chart_data(at, title)
        judged = drawn[pd.to_numeric(drawn["rate"], errors="coerce").notna()]
        assert judged["label"].nunique() == 6 and "Q3 2026 + Q4 to date" in set(judged["label"])
    completion = chart_data(at, "Completed series")
    last = completion[completion["label"] == "Q3 2026 + Q4 to date"].iloc[0]
    assert (last["patients_text"], last["events_text"]) == ("102", "59")
    # The room's own choice holds: by month, every chart would be a selection.
    switch.set_value("month").run()
    assert next(r for r in at.radio if r.label == "A point per").value == "month"
    assert len(at.info) == 3 and not at.get("vega_lite_chart")


def test_a_selection_by_value_is_found_in_the_tables():
    """hidden_by_value on the sample by quarter at 11: durability yes (Q1 2026: 3 lost), response and
    completion no (completion's Q4 2026, 2 not completing, is counted with Q3)."""
    ds = load_files((SAMPLE.name, SAMPLE.read_bytes()))
    m = metrics_for(ds, min_cell=11, control_period="quarter")
    shown = shown_metrics(m)["monthly"]
    found = {chart: hidden_by_value(m.monthly[m.monthly["chart"] == chart], shown[shown["chart"] == chart])
             for chart in ("response", "completion", "durability")}
    assert found == {"response": False, "completion": False, "durability": True}
