"""Chart specs kept between reruns (dashboard/ui/chart_specs.py): a kept spec is the one the chart
would be drawn with, and different numbers, titles or groups never share one."""

from collections import OrderedDict

import pandas as pd

from dashboard.present import charts
from dashboard.ui import chart_specs


def dropout_frame(retained=(1.0, 0.8, 0.6), group="All patients") -> pd.DataFrame:
    return pd.DataFrame({"grp": group, "n": [1, 2, 3], "at_risk": [10, 8, 6], "dropped_after": [2, 2, 0],
                         "completed_at": [0, 0, 6], "in_progress_at": [0, 0, 0], "retained": list(retained)})


def test_a_kept_spec_is_the_spec_of_the_chart():
    kept = OrderedDict()
    frame = dropout_frame()
    first = chart_specs.spec(charts.retention, (frame,), room=False, kept=kept)
    assert first == charts.to_spec(charts.retention(frame))
    first["mark"] = "edited by Streamlit"  # each draw gets a copy of its own
    assert chart_specs.spec(charts.retention, (frame,), room=False, kept=kept) == charts.to_spec(charts.retention(frame))
    assert len(kept) == 1


def test_different_inputs_are_kept_apart():
    kept = OrderedDict()
    base = dropout_frame()
    titled = dropout_frame()
    titled.attrs["group_title"] = "Site"
    variants = [
        (charts.retention, (base,), False, None),
        (charts.retention, (dropout_frame(retained=(1.0, 0.8, 0.5)),), False, None),  # another number
        (charts.retention, (dropout_frame(group="North"),), False, None),  # another group
        (charts.retention, (titled,), False, None),  # same numbers, another legend title
        (charts.retention, (base,), True, None),  # for the room
        (charts.in_progress, (base,), False, None),  # another chart of the same numbers
        (charts.retention, (base,), False, "A title"),
    ]
    specs = [chart_specs.spec(build, args, room=room, title=title, kept=kept) for build, args, room, title in variants]
    assert len(kept) == len(variants)
    assert specs[1] != specs[0] and specs[2] != specs[0] and specs[4] != specs[0]
    assert specs[6]["title"] == "A title"


def test_a_session_keeps_a_bounded_number_of_specs(monkeypatch):
    monkeypatch.setattr(chart_specs, "SESSION_KEPT", 3)
    kept = OrderedDict()
    for i in range(6):
        chart_specs.spec(charts.retention, (dropout_frame(retained=(1.0, 0.9, i / 10)),), room=False, kept=kept)
    assert len(kept) == 3


def test_fingerprints_see_values_types_and_nesting():
    f = chart_specs.fingerprint
    assert f((1, "a")) == f((1, "a"))
    assert f((1,)) != f(("1",)) and f([1, 2]) != f([[1, 2]]) and f(None) != f("None")
    frame = pd.DataFrame({"a": [1.0, None]})
    assert f(frame) == f(frame.copy()) and f(frame) != f(frame.fillna(0))
    assert f(pd.DataFrame({"a": [[1], [2]]})) != f(pd.DataFrame({"a": [[1], [3]]}))  # cells that can't be hashed
