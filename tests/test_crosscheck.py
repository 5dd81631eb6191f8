"""The Wilson intervals and the Kaplan-Meier retention computed in SQL, against statsmodels and lifelines."""

from __future__ import annotations

import duckdb
import pytest
from conftest import load_fixture, metrics_for
from hypothesis import given, settings
from test_properties import clinics, load_files, to_csv

from dashboard.core import sql


@pytest.mark.parametrize("n", [1, 2, 5, 11, 40, 312])
def test_wilson_matches_statsmodels(n):
    from statsmodels.stats.proportion import proportion_confint

    con = duckdb.connect()
    sql.run(con, "wilson_macro")
    for x in range(n + 1):
        low, high = con.execute("SELECT wilson($x, $n).low, wilson($x, $n).high", {"x": x, "n": n}).fetchone()
        want_low, want_high = proportion_confint(x, n, alpha=0.05, method="wilson")
        assert low == pytest.approx(max(0.0, want_low), abs=1e-6)
        assert high == pytest.approx(min(1.0, want_high), abs=1e-6)


def test_wilson_undefined_without_denominator():
    con = duckdb.connect()
    sql.run(con, "wilson_macro")
    assert con.execute("SELECT wilson(0, 0)").fetchone()[0] is None


def km_from_lifelines(dataset, metrics):
    """retained(n + 1) = S(n), with durations: stopped at L (event), completed at L (censored),
    in progress at L censored at L - 1 (at risk only up to L - 1)."""
    from lifelines import KaplanMeierFitter

    outcomes = dataset.con.execute("SELECT infusions, status FROM outcomes").df()
    durations = outcomes.infusions - (outcomes.status == "in_progress").astype(int)
    events = outcomes.status == "dropped"
    kmf = KaplanMeierFitter().fit(durations, events)
    ns = metrics.dropout["n"].tolist()
    return [1.0] + list(kmf.survival_function_at_times([n for n in ns[:-1]]).values)


def test_retention_matches_lifelines_on_fixture():
    ds = load_fixture("six_patients.csv")
    m = metrics_for(ds)
    assert m.dropout["retained"].tolist() == pytest.approx(km_from_lifelines(ds, m))


@settings(max_examples=30, deadline=None)
@given(clinics())
def test_retention_matches_lifelines(rows):
    ds = load_files(("x.csv", to_csv(rows)))
    m = metrics_for(ds)
    if ds.con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 0:
        return
    assert m.dropout["retained"].tolist() == pytest.approx(km_from_lifelines(ds, m))
