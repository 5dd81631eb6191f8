"""Metrics against numbers worked out by hand (docs/METHODS.md).

fixtures/six_patients.csv, PHQ-9, planned 6, gap 21 days, min baseline 10, 50% reduction.
as_of = 2025-03-10 (E's booster, the latest visit).

  A  baseline 20 (threshold 10). Infusions 01-05..01-22 scored 20 14 9 8 6 5; follow-ups
     01-26 (4, within 14 days of the last infusion) and 02-22 (7, 31 days after). Completed.
  B  baseline 16 (thr. 8). Infusions 01-06, 01-09, 01-13 scored 15 12 13; stopped. Dropped after 3.
  C  baseline 8: below 10, no response judged. Two infusions; dropped after 2.
  D  no baseline row. Infusions 01-10..01-27 scored 18 10 8 7 6 5; completed at 6; booster
     02-20 scored 12 (26..27 days later: outside the 14-day end-of-series window, inside the
     21..45-day follow-up window).
  E  baseline 22 (thr. 11). Infusions 02-03 (22), 02-06 (20); 03-10 is 32 days later, over the
     21-day gap: a booster. Series L = 2; as_of - 02-06 = 32 > 21: dropped after 2.
  F  baseline 15 (thr. 7.5). Infusions 03-03 (15), 03-06 (7); as_of - 03-06 = 4 <= 21: in progress at 2.
  G  first infusion numbered 4: series started before the data; left out.
  H  a baseline only (and a No-show row, rejected): no infusion.
"""

from __future__ import annotations

import pytest
from conftest import column, load_fixture, metrics_for


@pytest.fixture(scope="module")
def six():
    return load_fixture("six_patients.csv")


def test_summary_counts(six):
    m = metrics_for(six)
    s = m.summary.iloc[0]
    # Started A B C D E F; completed A D; dropped B C E; in progress F; G started before; H none.
    assert (s.patients_started, s.completed, s.dropped, s.in_progress) == (6, 2, 3, 1)
    assert (s.started_before, s.no_infusion) == (1, 1)
    # Usable baseline A B D(fallback: infusion-1 score 18) E F; C is below 10.
    assert (s.usable_baseline, s.no_baseline, s.baseline_below) == (5, 0, 1)
    assert m.completion_rate().iloc[0] == pytest.approx(2 / 5)
    assert str(m.as_of) == "2025-03-10"


def test_response_pre_timing(six):
    """Pre timing: after n = the score at infusion n+1; after the last, the first score within 14 days.

    n=1: A 14>10 no, B 12>8 no, D 10>9 no, E 20>11 no, F 7<=7.5 yes -> 1/5.
    n=2: A 9 yes, B 13 no, D 8 yes -> 2/3.   n=3,4,5: A and D respond -> 2/2.
    n=6: A's follow-up 01-26 scored 4 (responds and remits: <= 4); D has none within 14 days -> 1/1.
    ITT: evaluable A B D E always, F only at n=1 (in progress at L=2 with no score after 2):
    first responses F@1, A@2, D@2 -> 1/5, 2/4, then 2/4.
    """
    r = metrics_for(six).response
    assert column(r, "n") == [1, 2, 3, 4, 5, 6]
    assert column(r, "assessed") == [5, 3, 2, 2, 2, 1]
    assert column(r, "responders") == [1, 2, 2, 2, 2, 1]
    assert column(r, "remitters") == [0, 0, 0, 0, 0, 1]
    assert column(r, "evaluable") == [5, 4, 4, 4, 4, 4]
    assert column(r, "cumulative_responders") == [1, 2, 2, 2, 2, 2]
    assert column(r, "rate") == pytest.approx([1 / 5, 2 / 3, 1, 1, 1, 1])
    assert column(r, "cumulative_rate") == pytest.approx([1 / 5, 2 / 4, 2 / 4, 2 / 4, 2 / 4, 2 / 4])


def test_response_post_timing(six):
    """Post timing: after n = the score at infusion n; no infusion-1 fallback, so D has no baseline.

    A 20 14 9 8 6 5 (thr 10): responds from n=3; never remits (5 > 4). B 15 12 13 (8): no.
    E 22 20 (11): no. F 15 7 (7.5): responds at n=2.
    assessed 4 4 2 1 1 1; responders 0 1 1 1 1 1.
    ITT: evaluable A B E, plus F at n=1 (L=2 > 1) and n=2 (scored after 2): 4 4 3 3 3 3;
    cumulative 0, 1 (F), 1 (A), 1 ...
    """
    m = metrics_for(six, score_timing="post")
    r = m.response
    assert column(r, "assessed") == [4, 4, 2, 1, 1, 1]
    assert column(r, "responders") == [0, 1, 1, 1, 1, 1]
    assert column(r, "remitters") == [0, 0, 0, 0, 0, 0]
    assert column(r, "evaluable") == [4, 4, 3, 3, 3, 3]
    assert column(r, "cumulative_responders") == [0, 1, 1, 1, 1, 1]
    s = m.summary.iloc[0]
    assert (s.usable_baseline, s.no_baseline, s.baseline_below) == (4, 1, 1)


def test_late_response_pre_timing(six):
    """n=1 non-responders A B D E: A and D respond later; B is scored later but never responds;
    E has no later score -> 2 / (4 - 1). n=2: B, with no later score -> rate undefined."""
    late = metrics_for(six).late_response
    assert column(late, "non_responders") == [4, 1, 0, 0, 0, 0]
    assert column(late, "late_responders") == [2, 0, 0, 0, 0, 0]
    assert column(late, "no_later_assessment") == [1, 1, 0, 0, 0, 0]
    assert column(late, "late_response_rate") == pytest.approx([2 / 3, None, None, None, None, None])


def test_late_response_post_timing(six):
    """n=1: A B E F not responding; A (n=3) and F (n=2) do later; none lacks a later score -> 2/4.
    n=2: A B E; A later; E has no later score -> 1/2. n=3: B, no later score."""
    late = metrics_for(six, score_timing="post").late_response
    assert column(late, "non_responders") == [4, 3, 1, 0, 0, 0]
    assert column(late, "late_responders") == [2, 1, 0, 0, 0, 0]
    assert column(late, "no_later_assessment") == [0, 1, 1, 0, 0, 0]
    assert column(late, "late_response_rate")[:2] == pytest.approx([0.5, 0.5])


def test_dropout_and_retention(six):
    """L: A 6 completed, B 3 dropped, C 2 dropped, D 6 completed, E 2 dropped, F 2 in progress.
    at risk: n1 all 6; n2 A B D (L > 2) + C E (stopped at 2) = 5, F only up to 1; n3 A D + B = 3;
    n4, n5: A D; n6: A D (completed at 6).
    retained 1, 1, 1 - 2/5 = 0.6, 0.6 * (1 - 1/3) = 0.4, 0.4, 0.4."""
    d = metrics_for(six).dropout
    assert column(d, "dropped_after") == [0, 2, 1, 0, 0, 0]
    assert column(d, "at_risk") == [6, 5, 3, 2, 2, 2]
    assert column(d, "in_progress_at") == [0, 1, 0, 0, 0, 0]
    assert column(d, "retained") == pytest.approx([1, 1, 0.6, 0.4, 0.4, 0.4])


def test_dropout_detail(six):
    """B stopped after 3 as a non-responder (last scored after 2); C after 2, unknown (baseline
    below 10); E after 2, non-responder. B's reason, given on its first infusion, is Cost."""
    detail = metrics_for(six).dropout_detail
    rows = sorted(zip(detail.n, detail.response_at_last, detail.reason, detail.patients))
    assert rows == [(2, "non-responder", "(not recorded)", 1), (2, "unknown", "(not recorded)", 1),
                    (3, "non-responder", "Cost", 1)]


def test_durability(six):
    """Eligible: A (completed, responding after 6) and D (completed, last scored after 5: 5 <= 9).
    A: follow-up 02-22 is 31 days after 01-22, scores 7 <= 10: durable.
    D: the booster's check-in 02-20 (24 days after 01-27) is the follow-up assessment; the booster
    is on the same day, not earlier; 12 > 9: lost."""
    d = metrics_for(six).durability.iloc[0]
    assert (d.eligible, d.durable, d.lost, d.booster_first, d.no_follow_up, d.pending) == (2, 1, 1, 0, 0, 0)
    assert d.durability_rate == pytest.approx(0.5)
    assert d.conservative_rate == pytest.approx(0.5)


def test_every_durability_status(fixture_metrics):
    """fixtures/durability_statuses.csv, planned 2: each patient responds (baseline 20, 8 after one
    infusion, 6 at the end-of-series follow-up); the series ends on day 3 (window days 24..48).
      P1 follow-up day 33 scores 8: durable.        P2 day 30 scores 15: lost.
      P3 booster day 25, follow-up day 35: booster before it: booster_first.
      P4 no follow-up, booster day 40 (unscored), within the window: booster_first.
      P5 nothing and the window closed before as_of (03-06): no_follow_up.
      P6 series ends 03-04; window still open at as_of: pending.
      P7 follow-ups day 31 (15) and day 35 (5), both 2 days from day 33: the earlier: lost.
      P8 baseline 0: never judged (not eligible), even with min baseline 0.
    rate 1 / (1 + 2); conservative 1 / (1 + 2 + 2)."""
    m = fixture_metrics("durability_statuses.csv", planned=2, min_baseline=0)
    d = m.durability.iloc[0]
    assert (d.eligible, d.durable, d.lost, d.booster_first, d.no_follow_up, d.pending) == (7, 1, 2, 2, 1, 1)
    assert d.durability_rate == pytest.approx(1 / 3)
    assert d.conservative_rate == pytest.approx(1 / 5)
    assert m.summary.iloc[0].baseline_below == 1  # P8


def test_as_of_earlier_leaves_later_rows_out(six):
    """as_of 2025-02-10: E's booster (03-10) and F's visits are left out; E's series (02-03, 02-06)
    is 4 days old: in progress; F has not started. A's 02-22 follow-up is out, and its window
    (02-12..03-08) is still open: pending."""
    from datetime import date

    m = metrics_for(six, as_of=date(2025, 2, 10))
    s = m.summary.iloc[0]
    assert (s.patients_started, s.completed, s.dropped, s.in_progress) == (5, 2, 2, 1)
    assert m.left_out_after_as_of == 7  # E 03-10, F 03-01 03-03 03-06, A 02-22, D 02-20, H 02-15
    d = m.durability.iloc[0]
    assert (d.eligible, d.durable, d.pending) == (2, 0, 2)


PLANNED = """patient_id,session_date,session_type,phq9,planned_infusions
Q,2025-01-01,infusion,20,3
Q,2025-01-03,infusion,15,
Q,2025-01-06,infusion,9,
Q,2025-01-09,infusion,8,
R,2025-01-01,infusion,20,
R,2025-01-03,infusion,15,
R,2025-01-06,infusion,12,
S,2024-11-22,baseline,25,
S,2025-01-01,infusion,20,
S,2025-01-04,infusion,10,
S,2025-03-01,follow_up,10,
"""


def test_planned_infusions_column_and_baseline_window():
    """Q plans 3: its series is 01-01, 01-03, 01-06 (completed); 01-09 is a booster, and its
    check-in (8) is Q's score after 3 (pre timing, within 14 days of 01-06): 8 <= 10 responds.
    R plans the default 6 and stopped after 3 (last infusion 01-06, as_of 03-01). S's baseline
    row is 40 days before its first infusion, outside the 30-day window: with pre timing its
    infusion-1 score (20) is the baseline; S stopped after 2 (10 <= 10 responds after 1).
    N = 6, the largest plan."""
    from conftest import load_files

    ds = load_files(("planned.csv", PLANNED.encode()))
    m = metrics_for(ds)
    s = m.summary.iloc[0]
    assert (s.patients_started, s.completed, s.dropped) == (3, 1, 2)
    assert column(m.dropout, "n") == [1, 2, 3, 4, 5, 6]
    assert column(m.dropout, "dropped_after") == [0, 1, 1, 0, 0, 0]
    # at risk: n1 3, n2 Q R (L=3) + S (stopped at 2) = 3, n3 Q (completed at 3) + R (stopped at 3) = 2
    assert column(m.dropout, "at_risk")[:4] == [3, 3, 2, 0]
    assert column(m.dropout, "retained")[:4] == pytest.approx([1, 1, 2 / 3, 2 / 3 * 0.5])
    r = m.response
    # after 1: Q 15 (thr 10) no, R 15 no, S 10 (thr 10) yes; after 2: Q 9 yes, R 12 no; after 3: Q 8 yes
    assert column(r, "assessed")[:3] == [3, 2, 1]
    assert column(r, "responders")[:3] == [1, 1, 1]
    post = metrics_for(ds, score_timing="post").summary.iloc[0]
    assert (post.usable_baseline, post.no_baseline) == (0, 3)
