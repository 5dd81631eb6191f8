"""A real trial's visit-level export (tests/data, see its README): HAM-D17, four treatment
visits, real monotone dropout. It must load with no mapping and no rejection, and its dropout
must match a count by hand that applies docs/METHODS.md 2."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SHARED_DATA, column, load_files, metrics_for

TRIAL = SHARED_DATA / "antidepressant_trial_visits.csv"
pytestmark = pytest.mark.skipif(not TRIAL.exists(), reason="tests/data is missing")


@pytest.fixture(scope="module")
def trial():
    return load_files((TRIAL.name, TRIAL.read_bytes()))


def test_loads_without_mapping_or_rejection(trial):
    assert trial.rows_read == 780 and trial.rows_rejected == 0
    assert trial.measures_present() == ["hamd17"]
    assert {"site", "sex", "Therapy"} <= set(trial.dimensions())


def series_by_hand(frame: pd.DataFrame, planned: int = 4, gap: int = 21) -> pd.Series:
    """L per patient: treatment visits in date order up to the first gap over 21 days, at most 4."""
    lengths = {}
    for patient, visits in frame[frame["Visit Type"] == "Treatment"].groupby("Patient ID"):
        dates = visits["Visit Date"].sort_values().tolist()
        length = 1
        while length < min(len(dates), planned) and (dates[length] - dates[length - 1]).days <= gap:
            length += 1
        lengths[patient] = length
    return pd.Series(lengths)


def test_dropout_matches_a_count_by_hand(trial):
    frame = pd.read_csv(TRIAL, parse_dates=["Visit Date"])
    lengths = series_by_hand(frame)
    visits = frame[frame["Visit Type"] == "Treatment"].groupby("Patient ID").size()
    # Three patients have a gap over 21 days, so their series is shorter than their visit count.
    assert sorted(lengths[lengths != visits].index) == [2613, 3704, 4614]
    # The last visit of the file is 2023-08-13; no stopped series ends within 21 days of it.
    expected = [int((lengths == n).sum()) for n in (1, 2, 3)] + [0]
    assert expected == [13, 12, 21, 0]
    m = metrics_for(trial, measure="hamd17", planned=4)
    assert column(m.dropout, "dropped_after") == expected
    s = m.summary.iloc[0]
    assert (s.patients_started, s.completed, s.dropped, s.in_progress) == (172, 126, 46, 0)
    assert column(m.dropout, "retained") == pytest.approx([1, 159 / 172, 159 / 172 * 147 / 159, 126 / 172])


def test_response_split_by_therapy(trial):
    """Post timing (HAM-D taken at the visit, after treatment): drug responds more than placebo."""
    from dashboard.engine.metrics import Cohort

    m = metrics_for(trial, Cohort.of(split_by="Therapy"), measure="hamd17", planned=4, score_timing="post")
    drug, placebo = (column(m.response, "rate", g)[-1] for g in ("DRUG", "PLACEBO"))
    assert m.groups == ["DRUG", "PLACEBO"]
    assert drug > placebo
