"""p-charts by month of series start ("are we getting better?"), checked against limits worked
out by hand, and drawn with the small months greyed out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboard.engine.suppression import shown_metrics
from dashboard.present import charts, headlines, labels
from tests.conftest import load_files, metrics_for


def export(months: dict[date, tuple[int, int]]) -> bytes:
    """Per month of series start: (completed, dropped) patients. A completed patient has a baseline
    and 6 infusions two days apart; one who dropped has 2 infusions, then nothing (the as-of date is
    set months later, so every series has ended). PHQ-9 20 at baseline, 8 after (response)."""
    rows = ["patient_id,session_date,session_type,infusion_number,phq9"]
    k = 0
    for start, (completed, dropped) in months.items():
        for infusions in [6] * completed + [2] * dropped:
            k += 1
            day = start + timedelta(days=k % 20)
            rows.append(f"P{k},{day - timedelta(days=3)},baseline,,20")
            for i in range(1, infusions + 1):
                rows.append(f"P{k},{day + timedelta(days=2 * (i - 1))},infusion,{i},{20 if i == 1 else 8}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def two_months():
    """January: 20 series ended, 19 completed (0.95). February: 20 ended, 5 completed (0.25).
    Centre p = 24 / 40 = 0.6. Each month: sigma = sqrt(0.6 * 0.4 / 20) = 0.109545, 3 sigma = 0.328634:
    limits 0.271366 .. 0.928634. January lies above (0.95), February below (0.25)."""
    data = load_files(("months.csv", export({date(2025, 1, 1): (19, 1), date(2025, 2, 1): (5, 15)})))
    return metrics_for(data, as_of=date(2025, 6, 1), score_timing="post")


def test_control_limits_by_hand(two_months):
    completion = two_months.monthly[two_months.monthly["chart"] == "completion"].reset_index(drop=True)
    assert completion["month"].astype(str).tolist() == ["2025-01-01", "2025-02-01"]
    assert completion["patients"].tolist() == [20, 20]
    assert completion["events"].tolist() == [19, 5]
    assert completion["rate"].tolist() == pytest.approx([0.95, 0.25])
    assert completion["centre"].tolist() == pytest.approx([0.6, 0.6])
    assert completion["ucl"].tolist() == pytest.approx([0.928634, 0.928634], abs=1e-6)
    assert completion["lcl"].tolist() == pytest.approx([0.271366, 0.271366], abs=1e-6)
    assert completion["signal"].tolist() == ["above", "below"]


def test_response_after_the_full_series(two_months):
    """Response after 6 infusions (scores taken after each infusion): only the 24 who completed have
    a score then, all responders (8 <= 20 * 0.5): p = 1, limits 1..1, no signal."""
    response = two_months.monthly[two_months.monthly["chart"] == "response"]
    assert response["patients"].tolist() == [19, 5]
    assert response["rate"].tolist() == [1.0, 1.0]
    assert response["signal"].tolist() == ["", ""]


def test_limits_widen_for_a_small_month():
    """January 30 ended (24 completed), February 4 ended (1 completed), March 10 (8 completed).
    p = 33 / 44 = 0.75. January: 3 * sqrt(0.75 * 0.25 / 30) = 0.237171: 0.512829 .. 0.987171.
    February: 3 * sqrt(0.1875 / 4) = 0.649519: 0.100481 .. 1 (clipped). March: 3 * sqrt(0.01875)
    = 0.410792: 0.339208 .. 1. February's 0.25 is within its wide limits: no signal anywhere."""
    data = load_files(("months.csv", export({date(2025, 1, 1): (24, 6), date(2025, 2, 1): (1, 3),
                                             date(2025, 3, 1): (8, 2)})))
    m = metrics_for(data, as_of=date(2025, 8, 1))
    completion = m.monthly[m.monthly["chart"] == "completion"]
    assert completion["centre"].iloc[0] == pytest.approx(0.75)
    assert completion["lcl"].tolist() == pytest.approx([0.512829, 0.100481, 0.339208], abs=1e-6)
    assert completion["ucl"].tolist() == pytest.approx([0.987171, 1.0, 1.0], abs=1e-6)
    assert completion["signal"].tolist() == ["", "", ""]


def test_small_months_greyed_and_hidden_at_min_cell():
    """January 35 ended (24 completed, 11 not), February 4 (1, 3), March 23 (12, 11); min_cell 11.
    February can't be judged: its counts read '<11', its rate and limits are hidden. The
    completion tile shows 62 ended and 37 completed (60%), so February would be 62 - 35 - 23: the
    smaller other month (March) is hidden too ('hidden'). January, with 24 and 11, stays."""
    data = load_files(("months.csv", export({date(2025, 1, 1): (24, 11), date(2025, 2, 1): (1, 3),
                                             date(2025, 3, 1): (12, 11)})))
    m = metrics_for(data, as_of=date(2025, 8, 1), min_cell=11)
    shown = shown_metrics(m)["monthly"]
    completion = shown[shown["chart"] == "completion"].reset_index(drop=True)
    assert completion["patients"].tolist() == [35, "<11", "hidden"]
    assert completion["events"].tolist() == [24, "<11", "hidden"]
    assert completion["rate"].tolist()[1:] == [None, None] and completion["rate"][0] == pytest.approx(24 / 35)
    assert completion.loc[1, "lcl"] is None and completion.loc[1, "ucl"] is None
    spec = charts.control_chart(completion, "Completed series", 11).to_dict()
    grey = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "bar")
    assert [row["label"] for row in spec["datasets"][grey["data"]["name"]]] == ["Feb 2025", "Mar 2025"]
    assert headlines.control_chart(completion, "Completed series") == (
        "Completed series, by month of series start: 1 month judged, all within their control limits around 60%; "
        "no month stands out.")


def test_headline_names_the_months_outside(two_months):
    completion = shown_metrics(two_months)["monthly"]
    text = headlines.control_chart(completion[completion["chart"] == "completion"], "Completed series")
    assert text == ("Completed series, by month of series start: above its limits in Jan 2025; below in Feb 2025 "
                    "(centre line 60%).")


def test_quarters_by_hand():
    """By quarter of series start: January (19 completed, 1 dropped) and February (5, 15) make Q1
    2025: 40 ended, 24 completed (0.6); April (0, 10) makes Q2: 10 ended, none completed. Centre
    p = 24 / 50 = 0.48, p(1 - p) = 0.2496. Q1: 3 * sqrt(0.2496 / 40) = 0.236981: 0.243019 ..
    0.716981, 0.6 within. Q2: 3 * sqrt(0.2496 / 10) = 0.473962: 0.006038 .. 0.953962, 0 below.
    By month the same data has four points (March with no series start)."""
    data = load_files(("quarters.csv", export({date(2025, 1, 1): (19, 1), date(2025, 2, 1): (5, 15),
                                               date(2025, 4, 1): (0, 10)})))
    by_month = metrics_for(data, as_of=date(2025, 9, 1), score_timing="post")
    assert by_month.monthly[by_month.monthly["chart"] == "completion"]["patients"].tolist() == [20, 20, 0, 10]
    m = metrics_for(data, as_of=date(2025, 9, 1), score_timing="post", control_period="quarter")
    completion = m.monthly[m.monthly["chart"] == "completion"].reset_index(drop=True)
    assert completion["month"].astype(str).tolist() == ["2025-01-01", "2025-04-01"]
    assert completion["patients"].tolist() == [40, 10] and completion["events"].tolist() == [24, 0]
    assert completion["centre"].tolist() == pytest.approx([0.48, 0.48])
    assert completion["lcl"].tolist() == pytest.approx([0.243019, 0.006038], abs=1e-6)
    assert completion["ucl"].tolist() == pytest.approx([0.716981, 0.953962], abs=1e-6)
    assert completion["signal"].tolist() == ["", "below"]
    assert headlines.control_chart(completion, "Completed series", "quarter") == (
        "Completed series, by quarter of series start: below in Q2 2025 (centre line 48%).")
    spec = charts.to_spec(charts.control_chart(completion, "Completed series", 0, "quarter"))
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Quarter of series start"
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == ["Q1 2025", "Q2 2025"]


def test_the_period_under_way_is_pooled_with_the_one_before():
    """The data of test_quarters_by_hand read on 1 June 2025, with Q2 2025 under way (it ends on 30
    June): Q2 so far, 10 ended and none completed, is counted with Q1 (40, 24): one point 'Q1 2025 +
    Q2 to date', 50 ended, 24 completed (0.48), its own limits 0.48 -/+ 3 * sqrt(0.2496 / 50) =
    0.211962: 0.268038 .. 0.691962, within. The centre line is unchanged (24 / 50), and so is the
    point with counts hidden. By month, June is under way but no series started in it, so nothing
    is pooled. On 30 June (the quarter's last day) Q2 is over, and is a point of its own."""
    data = load_files(("quarters.csv", export({date(2025, 1, 1): (19, 1), date(2025, 2, 1): (5, 15),
                                               date(2025, 4, 1): (0, 10)})))
    for min_cell in (0, 11):
        pooled = metrics_for(data, as_of=date(2025, 6, 1), score_timing="post", control_period="quarter",
                             min_cell=min_cell)
        completion = pooled.monthly[pooled.monthly["chart"] == "completion"].reset_index(drop=True)
        assert completion["month"].astype(str).tolist() == ["2025-01-01"]
        assert completion["pooled"].tolist() == [True]
        assert completion["patients"].tolist() == [50] and completion["events"].tolist() == [24]
        assert completion["centre"].tolist() == pytest.approx([0.48])
        assert completion["lcl"].tolist() == pytest.approx([0.268038], abs=1e-6)
        assert completion["ucl"].tolist() == pytest.approx([0.691962], abs=1e-6)
        assert completion["signal"].tolist() == [""]
    assert labels.control_rows(completion, "quarter")["month"].tolist() == ["Q1 2025 + Q2 to date"]
    assert headlines.control_chart(completion, "Completed series", "quarter") == (
        "Completed series, by quarter of series start: 1 quarter judged, all within their control limits around 48%; "
        "no quarter stands out.")
    spec = charts.to_spec(charts.control_chart(completion, "Completed series", 11, "quarter"))
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == ["Q1 2025 + Q2 to date"]
    assert spec["layer"][0]["encoding"]["x"]["axis"]["labelLimit"] == 0  # the long label is never cut short
    assert labels.has_pooled_point(pooled.monthly)
    assert "still under way is counted with the one before it" in labels.control_intro("quarter", pooled=True)

    by_month = metrics_for(data, as_of=date(2025, 6, 1), score_timing="post")
    assert by_month.monthly[by_month.monthly["chart"] == "completion"]["patients"].tolist() == [20, 20, 0, 10]
    assert not by_month.monthly["pooled"].any()
    quarter_over = metrics_for(data, as_of=date(2025, 6, 30), score_timing="post", control_period="quarter")
    assert quarter_over.monthly[quarter_over.monthly["chart"] == "completion"]["patients"].tolist() == [40, 10]
