"""Issue 16.3, docs/METHODS.md 2: a visit before 1990 is not plausible (rejected), a visit after today
is "dated in the future" (counted apart, never the as-of date), and the as-of date is never after
today. Before the fix, the 2205 typo below became the as-of date and the 0001 and 9999 visits
made the monthly series span 8,000 years."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import load_files

from dashboard.core.settings import Settings
from dashboard.engine.metrics import Engine
from dashboard.export import main as export_main

TODAY = date(2025, 2, 1)
# A: a placeholder baseline (1900-01-01), a real one, infusions 01-02 and 01-05, then a typo 2205.
# B: infusions in year 0001 and 9999 only. C: two infusions in January 2025.
TEXT = ("patient_id,session_date,session_type,infusion_number,phq9\n"
        "A,1900-01-01,baseline,,20\n" "A,2025-01-01,baseline,,20\n" "A,2025-01-02,infusion,1,20\n"
        "A,2025-01-05,infusion,2,9\n" "A,2205-01-08,infusion,3,8\n"
        "B,0001-01-01,infusion,1,20\n" "B,9999-12-31,infusion,2,20\n"
        "C,2025-01-02,infusion,1,20\n" "C,2025-01-04,infusion,2,15\n" "C,1989-12-31,follow_up,,15\n")


@pytest.fixture(scope="module")
def dataset():
    return load_files(("dates.csv", TEXT.encode()))


def test_visits_before_1990_are_rejected_with_their_date(dataset):
    rejected = dataset.rejections()
    implausible = rejected[rejected["reason"].str.startswith("not a plausible visit")]
    assert sorted(implausible["line"]) == [2, 7, 11]
    assert sorted(implausible["value"]) == ["0001-01-01", "1900-01-01", "1989-12-31"]
    assert (dataset.rows_read, dataset.rows_used, dataset.rows_rejected) == (10, 7, 3)


def test_visits_after_today_are_counted_apart_and_never_the_as_of_date(dataset):
    engine = Engine(dataset, today=TODAY)
    assert engine.latest_date == date(2025, 1, 5)  # before: 9999-12-31
    assert engine.dated_in_future == 2
    m = engine.compute(Settings(planned=3))
    assert m.as_of == date(2025, 1, 5)
    assert (m.left_out_after_as_of, m.dated_in_future) == (0, 2)
    s = m.summary.iloc[0]
    # A (infusions 01-02, 01-05) and C (01-02, 01-04) started; B's only infusions are rejected or
    # in the future, so B has no series.
    assert s.patients_started == 2
    earlier = engine.compute(Settings(planned=3, as_of=date(2025, 1, 4)))
    assert (earlier.left_out_after_as_of, earlier.dated_in_future) == (1, 2)  # A's 01-05, apart from the future two


def test_an_as_of_date_after_today_is_refused(dataset):
    with pytest.raises(ValueError, match="after today"):
        Engine(dataset, today=TODAY).compute(Settings(as_of=date(2025, 3, 1)))


def test_series_over_time_stay_within_the_plausible_span(dataset):
    months = [m.date() for m in Engine(dataset, today=TODAY).compute(Settings(planned=3)).monthly["month"]]
    assert sorted(set(months)) == [date(2025, 1, 1)]  # one month of series starts, not 8,000 years


def test_the_export_records_and_says_what_it_left_out(tmp_path, capsys):
    path = tmp_path / "dates.csv"
    path.write_text(TEXT, encoding="utf-8")
    assert export_main([str(path), "--out", str(tmp_path / "out"), "--planned", "3"]) == 0
    record = json.loads((tmp_path / "out" / "settings.json").read_text(encoding="utf-8"))
    assert record["visits_dated_in_future"] == 2 and record["settings"]["as_of"] == "2025-01-05"
    assert "2 visits dated in the future" in capsys.readouterr().err
    assert export_main([str(path), "--out", str(tmp_path / "out"), "--as-of", "2999-01-01"]) == 2
    assert "after today" in capsys.readouterr().err
