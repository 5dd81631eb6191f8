"""Vega-Lite specs of the dashboard's charts, kept for the next rerun.

Building an Altair chart and turning it into a spec costs 20 to 60 ms a chart, most of a rerun's
time, and a rerun (a filter undone, a tab switch, a setting put back) mostly redraws charts of
numbers already drawn. A spec is kept under a fingerprint of what it was built from: the chart
function's name and its arguments (each frame's values, index, columns, types and attrs), and
whether it is drawn for the room. It is kept as JSON text, so that each draw hands Streamlit a
copy of its own (Streamlit edits the spec it is given).

The sample data's specs (synthetic patients) are shared by every session, so that people opening
the dashboard at once don't each build the same charts. An upload's specs stay in its own session
(st.session_state) and go with it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext

import altair as alt
import pandas as pd

from dashboard.present import charts

SHARED_KEPT = 256  # specs of the sample data, for every session (a few KB to 50 KB each)
SESSION_KEPT = 48  # specs of a session's own data

_shared: OrderedDict[str, str] = OrderedDict()
_shared_lock = threading.Lock()


def spec(build: Callable[..., alt.TopLevelMixin], args: tuple, *, room: bool, title: str | None = None,
         kept: OrderedDict[str, str] | None = None) -> dict:
    """The spec of build(*args) (with `title`, for the room when `room`), from `kept` (a session's
    store) or, when kept is None, from the store shared by every session."""
    key = fingerprint((build.__module__, build.__qualname__, args, room, title))
    store, lock = (_shared, _shared_lock) if kept is None else (kept, None)
    with lock or nullcontext():
        text = store.get(key)
        if text is not None:
            store.move_to_end(key)
    if text is None:
        chart = build(*args)
        if title is not None:
            chart = chart.properties(title=title)
        text = json.dumps(one_type_per_field(charts.for_room(chart) if room else charts.to_spec(chart)))
        with lock or nullcontext():
            store[key] = text
            while len(store) > (SHARED_KEPT if kept is None else SESSION_KEPT):
                store.popitem(last=False)
    return json.loads(text)


def one_type_per_field(spec: dict) -> dict:
    """The spec, each field of the data Streamlit sends as tables (its datasets and top-level
    data) holding values of one type: a count column with a suppressed '<11' or 'hidden' beside
    numbers (dashboard.engine.suppression) becomes text throughout. An Arrow table, which Streamlit
    makes of each, holds one type a column: a mixed one failed to convert, put a traceback in the
    server log, and was then made text by Streamlit, as here; so the charts draw as before (a
    count a chart plots is read as a number by charts._numeric before it is drawn)."""
    tables = list(spec.get("datasets", {}).values())
    if isinstance(spec.get("data"), dict):
        tables.append(spec["data"].get("values"))
    for rows in tables:
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            continue
        kinds: dict[str, set[type]] = {}
        for row in rows:
            for field, value in row.items():
                if value is not None:
                    kinds.setdefault(field, set()).add(_kind(value))
        for field in [f for f, k in kinds.items() if len(k) > 1]:
            for row in rows:
                value = row.get(field)
                if value is not None and not isinstance(value, str):
                    row[field] = _text(value)
    return spec


def _kind(value) -> type:
    """What an Arrow column would hold: text, true/false, a number (whole or not), or else."""
    if isinstance(value, (str, bool)):
        return type(value)
    return float if isinstance(value, (int, float)) else object


def _text(value) -> str:
    """A value of a field made text: whole numbers without a decimal point (12, not 12.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def fingerprint(value) -> str:
    """A digest of a value built of frames, lists, tuples, dicts and plain values (by repr)."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest, value) -> None:
    if isinstance(value, pd.DataFrame):
        digest.update(repr(("frame", list(value.columns), [str(t) for t in value.dtypes],
                            sorted(value.attrs.items()), value.shape)).encode())
        try:
            digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        except TypeError:  # a cell holding a list or dict: hash its text instead
            digest.update(value.to_json(orient="split", date_format="iso").encode())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"dict[{len(value)}]".encode())
        for k, v in value.items():
            _feed(digest, k)
            _feed(digest, v)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())

