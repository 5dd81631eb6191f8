"""The engine keeps the tables of recent (settings, cohort) combinations: with "compare by" on the
app asks for two cohorts on every rerun, and neither should be recomputed when nothing changed.
A kept table is the same as a freshly computed one, and a caller can't spoil it."""

from __future__ import annotations

import pandas as pd
from conftest import load_fixture

from dashboard.core import sql
from dashboard.core.settings import Settings
from dashboard.engine import metrics
from dashboard.engine.metrics import Cohort, Engine


def counting_queries(monkeypatch) -> list[str]:
    ran: list[str] = []
    real = sql.run

    def run(con, name, params=None):
        ran.append(name)
        return real(con, name, params)

    monkeypatch.setattr(metrics.sql, "run", run)
    return ran


def test_two_cohorts_are_kept(monkeypatch):
    engine = Engine(load_fixture("six_patients.csv"))
    whole, split = Cohort.of(), Cohort.of(split_by="site")
    first = [engine.compute(Settings(), whole), engine.compute(Settings(), split)]
    ran = counting_queries(monkeypatch)
    again = [engine.compute(Settings(), whole), engine.compute(Settings(), split)]
    assert ran == []
    for a, b in zip(first, again):
        for name in metrics.TABLES:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
        assert (a.as_of, a.left_out_after_as_of, a.groups) == (b.as_of, b.left_out_after_as_of, b.groups)


def test_kept_tables_match_fresh_ones_and_callers_get_copies(monkeypatch):
    dataset = load_fixture("six_patients.csv")
    engine = Engine(dataset)
    post = Settings(score_timing="post")
    engine.compute(Settings(), Cohort.of(), {"response"})
    engine.compute(post, Cohort.of(), {"response"})  # another setting in between: series rebuilt
    kept = engine.compute(Settings(), Cohort.of(), {"response"})
    kept.response.loc[:, "assessed"] = -1  # a caller changing its copy
    kept.response.attrs["group_title"] = "Site"
    fresh = Engine(dataset).compute(Settings(), Cohort.of(), {"response"})
    ran = counting_queries(monkeypatch)
    again = engine.compute(Settings(), Cohort.of(), {"response"})
    assert ran == []
    pd.testing.assert_frame_equal(again.response, fresh.response)
    assert "group_title" not in again.response.attrs
    # Asking for a table not computed yet runs only that table's query (and the cohort's).
    engine.compute(Settings(), Cohort.of(), {"response", "dropout"})
    assert "dropout" in ran and "response_by_infusion" not in ran


def test_only_a_few_combinations_are_kept(monkeypatch):
    engine = Engine(load_fixture("six_patients.csv"))
    cohorts = [Cohort.of(split_by=s) for s in ("", "site", "kap", "route", "sex", "age_band", "start_quarter",
                                                "diagnosis", "provider")]
    for cohort in cohorts:
        engine.compute(Settings(), cohort, {"summary"})
    assert len(engine._results) == metrics.RESULTS_KEPT
    ran = counting_queries(monkeypatch)
    engine.compute(Settings(), cohorts[0], {"summary"})  # the oldest was let go
    assert "summary" in ran


def test_start_range_is_kept_per_series_settings(monkeypatch):
    engine = Engine(load_fixture("six_patients.csv"))
    pre, post = Settings(), Settings(score_timing="post")
    first = (engine.start_range(pre), engine.start_range(post))
    ran = counting_queries(monkeypatch)
    assert (engine.start_range(pre), engine.start_range(post)) == first and ran == []


def test_an_engine_shared_by_threads_answers_each_as_if_alone():
    """The sample's engine is shared by every session (session_data.OneAtATime): threads asking for
    different settings and cohorts at once each get the tables a lone engine gives."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from dashboard.ui.session_data import OneAtATime

    dataset = load_fixture("six_patients.csv")
    shared = OneAtATime(Engine(dataset), threading.RLock())
    asks = [(Settings(score_timing=t), Cohort.of(split_by=s)) for t in ("pre", "post") for s in ("", "site")] * 4
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda ask: shared.compute(*ask), asks))
    alone = Engine(load_fixture("six_patients.csv"))
    for (settings, cohort), tables in zip(asks, got):
        expected = alone.compute(settings, cohort)
        for name in metrics.TABLES:
            pd.testing.assert_frame_equal(getattr(tables, name), getattr(expected, name))
