"""Filters select patients, never single visits; a split gives the same tables per group; every
measure gets a trajectory; a measures file adds scales (docs/METHODS.md 1, 3, 15)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import SHARED_DATA, column, load_files, load_fixture, metrics_for

from dashboard.core.measures import load_measures_file
from dashboard.engine.metrics import Cohort

SITES = """patient_id,session_date,session_type,phq9,gad7,site,route
A,2025-01-01,baseline,20,15,North,IV
A,2025-01-02,infusion,20,15,North,IV
A,2025-01-05,infusion,9,8,South,IV
B,2025-01-01,baseline,20,12,South,IM
B,2025-01-02,infusion,20,12,South,IM
B,2025-01-05,infusion,15,10,South,IM
C,2025-04-01,baseline,12,,,IV
C,2025-04-02,infusion,12,,,IV
C,2025-04-05,infusion,5,,,IV
"""


@pytest.fixture(scope="module")
def sites():
    return load_files(("sites.csv", SITES.encode()))


def test_dimension_is_the_value_on_the_first_infusion(sites):
    """A's site is North on infusion 1 and South later: A is a North patient, whole."""
    values = sites.con.execute(
        "SELECT patient_id, value FROM patient_dims JOIN patients USING (patient_key) WHERE dim = 'site' ORDER BY 1"
    ).fetchall()
    assert values == [("A", "North"), ("B", "South")]


def test_filter_selects_patients_not_visits(sites):
    """Filtering site = South keeps B only; A's South-labelled visit does not come along."""
    m = metrics_for(sites, Cohort.of({"site": ["South"]}), planned=2)
    assert m.summary.iloc[0].patients_started == 1
    assert column(m.response, "assessed") == [1, 0]  # B: after 1 infusion scores 15 (no response)
    assert column(m.response, "responders") == [0, 0]
    unrecorded = metrics_for(sites, Cohort.of({"site": ["(not recorded)"]}), planned=2)
    assert unrecorded.summary.iloc[0].patients_started == 1  # C


def test_split_gives_each_group_its_tables(sites):
    """Split by route: IV = A (responds after 1: 9 <= 10) and C (5 <= 6); IM = B (no response)."""
    m = metrics_for(sites, Cohort.of(split_by="route"), planned=2)
    assert m.groups == ["IM", "IV"]
    assert column(m.response, "responders", "IV") == [2, 0]
    assert column(m.response, "responders", "IM") == [0, 0]
    whole = metrics_for(sites, planned=2)
    for name in ("assessed", "responders", "evaluable"):
        assert sum(column(m.response, name, g)[0] for g in m.groups) == column(whole.response, name)[0]


def test_start_date_and_quarter_filters(sites):
    assert metrics_for(sites, Cohort.of(start_from=date(2025, 3, 1))).summary.iloc[0].patients_started == 1
    by_quarter = metrics_for(sites, Cohort.of(split_by="start_quarter"))
    assert by_quarter.groups == ["2025-Q1", "2025-Q2"]


def test_trajectories_for_every_measure():
    """six_patients.csv, pre timing. Baseline PHQ-9: A 20, B 16, C 8, D 18 (its infusion-1
    score), E 22, F 15 -> mean 99 / 6 = 16.5. After 1 infusion: A 14, B 12, C 3, D 10, E 20, F 7
    -> 66 / 6 = 11 (G, whose series started before the data, is left out). One-month follow-up:
    A 7 (02-22), D 12 and E 10 (boosters' check-ins, 24 and 32 days after) -> 29 / 3."""
    m = metrics_for(load_fixture("six_patients.csv"))
    t = m.trajectories
    phq = t[t.measure == "phq9"].set_index(["kind", "n"])
    assert phq.loc[("baseline", 0), "patients"] == 6 and phq.loc[("baseline", 0), "mean"] == pytest.approx(16.5)
    assert phq.loc[("after", 1), "mean"] == pytest.approx(11)
    follow_up = t[(t.measure == "phq9") & (t.kind == "follow_up")].iloc[0]
    assert (follow_up.patients, follow_up["mean"]) == (3, pytest.approx(29 / 3))
    # t interval: mean +- t(0.975, 2) * sd / sqrt(3); sd = sqrt(19 / 3) = 2.5166; 4.3027 * 1.4530 = 6.2517
    assert follow_up.mean_high - follow_up["mean"] == pytest.approx(6.2517, rel=1e-4)


def test_measures_file_adds_a_scale():
    """The trial export's HAM-A column is a dimension until a measures file declares it. (HAM-A
    has no baseline row there, so with pre timing the first treatment visit's score serves.)"""
    trial = SHARED_DATA / "antidepressant_trial_visits.csv"
    if not trial.exists():
        pytest.skip("tests/data is missing")
    measures = load_measures_file('[hama]\nlabel = "HAM-A"\nrange = [0, 56]\nbetter = "lower"\n'
                                  'remission_cutoff = 7\nmin_baseline = 14\naliases = ["HAM-A"]\n')
    ds = load_files((trial.name, trial.read_bytes()), measures=measures)
    assert ds.measures_present() == ["hamd17", "hama"]
    assert "HAM-A" not in ds.dimensions()
    m = metrics_for(ds, measure="hama", planned=4, score_timing="pre")
    assert column(m.response, "assessed")[0] > 0


def test_measures_file_errors_are_plain():
    from dashboard.core.measures import MeasuresFileError

    with pytest.raises(MeasuresFileError, match="range"):
        load_measures_file('[x]\nlabel = "X"\n')
    with pytest.raises(MeasuresFileError, match="not valid TOML"):
        load_measures_file("[x\n")


def test_higher_is_better_measure_cannot_be_primary():
    with pytest.raises(ValueError, match="higher-is-better"):
        metrics_for(load_fixture("six_patients.csv"), measure="who5")
