"""Issue 13, the engine: early improvement and later response, reliable change and recovery,
baseline severity as a dimension, time to response (Kaplan-Meier) and the funnel's exact
binomial limits (docs/METHODS.md). Each number on a handful of patients worked out by hand,
cross-checked against statsmodels (Wilson), lifelines (Kaplan-Meier) and scipy's binomial
(funnel limits), and invariants on random clinics (hypothesis)."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import column, load_files, metrics_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.core.measures import load_measures_file
from dashboard.core.settings import Settings
from dashboard.engine.funnel import FUNNEL_PROBABILITIES, funnel_limits, funnel_position
from dashboard.engine.metrics import Cohort, Engine

Z = 1.959963984540054  # the 97.5% normal quantile, as lifelines uses it

# Planned 4 infusions, pre timing (a score at infusion n + 1 is the score after n; after the
# last, the first follow-up within 14 days), PHQ-9: response <= half the baseline, usable
# baseline >= 10, caseness 10, reliable change 6. As of 02-10, F's visit, the latest.
#
#   A  North  baseline 20. Infusions 01-02, 01-05, 01-08, 01-11 (scores 20 18 12 9), follow-up
#             01-15 (8): after 1..4 = 18, 12, 9, 8. Responds (<= 10) after 3, on 01-11: day 9.
#             Completed.
#   B  North  baseline 16. Infusions 01-03, 01-06, 01-09 (16 15 14), nothing after: after 1, 2 =
#             15, 14; no response (<= 8); last score 01-09, day 6. Dropped (32 days before as-of).
#   C  South  baseline 12. Infusions 01-02, 01-04, 01-06, 01-08 (12 9 6 5), follow-up 01-10 (4):
#             after 1..4 = 9, 6, 5, 4. Responds (<= 6) after 2, on 01-06: day 4. Completed.
#   D  South  baseline 8: below 10, no usable baseline. Infusions 01-02 .. 01-11 (8 9 15 16),
#             follow-up 01-14 (15): after 1..4 = 9, 15, 16, 15. Completed.
#   E  North  no baseline row: the score at infusion 1 (22). Infusions 02-01, 02-04 (22 10):
#             after 1 = 10, a response (<= 11) on 02-04: day 3. In progress (6 days before as-of).
#   F  -      a baseline (14) on 02-10 and no infusion.
#   G  South  baseline 18. Infusions 01-02 .. 01-11 (18 17 16 8), follow-up 01-13 (7): after 1..4
#             = 17, 16, 8, 7. Responds (<= 9) after 3, on 01-11: day 9. Completed.
#   H  South  baseline 11. Infusions 01-02, 01-05 (11 9): after 1 = 9; no response (<= 5.5); last
#             score 01-05, day 3. Dropped.
HAND = """patient_id,session_date,session_type,site,phq9
A,2025-01-01,baseline,North,20
A,2025-01-02,infusion,North,20
A,2025-01-05,infusion,North,18
A,2025-01-08,infusion,North,12
A,2025-01-11,infusion,North,9
A,2025-01-15,follow_up,North,8
B,2025-01-01,baseline,North,16
B,2025-01-03,infusion,North,16
B,2025-01-06,infusion,North,15
B,2025-01-09,infusion,North,14
C,2025-01-01,baseline,South,12
C,2025-01-02,infusion,South,12
C,2025-01-04,infusion,South,9
C,2025-01-06,infusion,South,6
C,2025-01-08,infusion,South,5
C,2025-01-10,follow_up,South,4
D,2025-01-01,baseline,South,8
D,2025-01-02,infusion,South,8
D,2025-01-05,infusion,South,9
D,2025-01-08,infusion,South,15
D,2025-01-11,infusion,South,16
D,2025-01-14,follow_up,South,15
E,2025-02-01,infusion,North,22
E,2025-02-04,infusion,North,10
F,2025-02-10,baseline,,14
G,2025-01-01,baseline,South,18
G,2025-01-02,infusion,South,18
G,2025-01-05,infusion,South,17
G,2025-01-08,infusion,South,16
G,2025-01-11,infusion,South,8
G,2025-01-13,follow_up,South,7
H,2025-01-01,baseline,South,11
H,2025-01-02,infusion,South,11
H,2025-01-05,infusion,South,9
"""


def hand(**settings):
    return metrics_for(load_files(("hand.csv", HAND.encode())), planned=4, **settings)


def wilson(x, n):
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(x, n, alpha=0.05, method="wilson")


# --- 9. Early improvement ------------------------------------------------------------------------

def test_early_improvement_by_hand():
    """Improvement after k = (baseline - score) / baseline, bands [-inf, 0.2), [0.2, 0.5), [0.5, inf).
    Patients with a usable baseline: A B C E G H (D's baseline is below 10).
      k=1: A 2/20 = .10, B 1/16, G 1/18, H 2/11 = .18 -> band 1; C 3/12 = .25 -> band 2;
           E 12/22 = .55 -> band 3. Responded later: A (after 3), G (after 3), C (after 2); E only
           after 1 itself, and no later score. H has no later score. Ended: all but E.
      k=2: B 2/16, G 2/18 -> band 1 (B has no later score); A 8/20 = .4 -> band 2; C 6/12 = .5
           exactly -> band 3 (a score on the cut-off goes above). All but B respond later.
      k=3: A 11/20, C 7/12, G 10/18 -> band 3; each responds again after 4."""
    m = hand()
    e = m.early_improvement
    got = [tuple(r) for r in e[["k", "band", "patients", "no_later_score", "responded_later", "itt_evaluable",
                                "itt_responded"]].itertuples(index=False)]
    assert got == [
        (1, 1, 4, 1, 2, 4, 2), (1, 2, 1, 0, 1, 1, 1), (1, 3, 1, 1, 0, 0, 0),
        (2, 1, 2, 1, 1, 2, 1), (2, 2, 1, 0, 1, 1, 1), (2, 3, 1, 0, 1, 1, 1),
        (3, 1, 0, 0, 0, 0, 0), (3, 2, 0, 0, 0, 0, 0), (3, 3, 3, 0, 3, 3, 3),
    ]  # k = 1 .. N - 1 = 3, every band present
    assert column(e, "band_from")[:3] == [None, 0.2, 0.5] and column(e, "band_to")[:3] == [0.2, 0.5, None]
    first = e.iloc[0]  # k=1, below 20%: 2 of the 3 scored again responded; ITT 2 of 4
    assert first.later_response_rate == 2 / 3 and first.itt_rate == 0.5
    assert (first.rate_low, first.rate_high) == pytest.approx(wilson(2, 3), abs=1e-6)
    assert (first.itt_low, first.itt_high) == pytest.approx(wilson(2, 4), abs=1e-6)
    empty = e.iloc[2]  # k=1, 50% and more: E alone, not scored again and still in progress
    assert math.isnan(empty.later_response_rate) and math.isnan(empty.rate_low) and math.isnan(empty.itt_rate)


def test_early_bands_are_a_setting():
    """One cut-off at 0.3: after 1, A B C (0.25) G H are below it, E above; after 2, B G below,
    A (0.4) and C (0.5) above."""
    e = hand(early_bands=(0.3,)).early_improvement
    assert [tuple(r) for r in e[["k", "band", "patients"]].itertuples(index=False)] == [
        (1, 1, 5), (1, 2, 1), (2, 1, 2), (2, 2, 2), (3, 1, 0), (3, 2, 3)]
    with pytest.raises(ValueError, match="early-improvement bands"):
        hand(early_bands=(0.5, 0.2))


# --- 10. Reliable change and recovery ------------------------------------------------------------

def test_reliable_change_by_hand():
    """Finished: series ended, a baseline (any value) and a score after some n; last = after the
    largest n. A 20 -> 8 (change 12), B 16 -> 14 (2), C 12 -> 4 (8), D 8 -> 15 (-7), G 18 -> 7 (11),
    H 11 -> 9 (2); E is in progress, F has no series. Reliable change 6: improved A C G, no change
    B H, deteriorated D (of 6). At caseness (baseline >= 10): A B C G H; below 10 at the end: A C G
    H (recovery, 4 of 5), of whom A C G also improved reliably (3 of 5)."""
    r = hand().reliable_change
    assert [tuple(x) for x in r[["category", "patients", "denominator"]].itertuples(index=False)] == [
        ("reliable_improvement", 3, 6), ("no_reliable_change", 2, 6), ("reliable_deterioration", 1, 6),
        ("recovery", 4, 5), ("reliable_recovery", 3, 5)]
    assert column(r, "rate") == [3 / 6, 2 / 6, 1 / 6, 4 / 5, 3 / 5]
    for row in r.itertuples():
        assert (row.rate_low, row.rate_high) == pytest.approx(wilson(row.patients, row.denominator), abs=1e-6)


def test_the_scatter_points_carry_no_patient():
    """The pre-versus-last points are pairs of scores with a count: no id, no key."""
    p = hand().reliable_change_points
    assert list(p.columns) == ["grp", "baseline", "last", "patients"]
    assert [tuple(x) for x in p[["baseline", "last", "patients"]].itertuples(index=False)] == [
        (8, 15, 1), (11, 9, 1), (12, 4, 1), (16, 14, 1), (18, 7, 1), (20, 8, 1)]


def test_thresholds_come_from_the_measure():
    """ISI declares neither: no category. A measures file may declare them: caseness alone gives
    recovery only; both give all five. HAM-A here (the PHQ-9 scores read as HAM-A) with caseness 15
    and reliable change 5."""
    assert hand(measure="isi").reliable_change.empty
    assert hand(measure="isi").reliable_change_points.empty
    text = HAND.replace("phq9", "hama")
    for toml, categories in (("caseness = 15\n", ["recovery"]),
                             ("caseness = 15\nreliable_change = 5\n", ["reliable_improvement", "no_reliable_change",
                                                                        "reliable_deterioration", "recovery",
                                                                        "reliable_recovery"])):
        measures = load_measures_file('[hama]\nrange = [0, 56]\nmin_baseline = 10\n' + toml)
        m = metrics_for(load_files(("h.csv", text.encode()), measures=measures), planned=4, measure="hama")
        assert column(m.reliable_change, "category") == categories
    # At caseness 15: A 20 -> 8, B 16 -> 14, G 18 -> 7 (C 12, H 11, D 8 are below it); all three end
    # below 15: recovered, B without a reliable change (2 < 5).
    assert column(m.reliable_change, "patients")[3:] == [3, 2]
    assert column(m.reliable_change, "denominator")[3:] == [3, 3]


# --- 11. Baseline severity -----------------------------------------------------------------------

def test_baseline_severity_is_a_dimension_like_site():
    """PHQ-9 bands on the baseline whatever its value: A 20 and E 22 severe, B 16 and G 18
    moderately severe, C 12 and H 11 moderate, D 8 mild (below the usable baseline, still banded),
    F no series: no baseline."""
    ds = load_files(("hand.csv", HAND.encode()))
    engine = Engine(ds)
    s = Settings(planned=4)
    split = engine.compute(s, Cohort.of(split_by="baseline_severity"))
    assert split.groups == ["(no baseline)", "mild (5-9)", "moderate (10-14)", "moderately severe (15-19)",
                            "severe (20-27)"]
    assert split.summary["patients_started"].tolist() == [0, 1, 2, 2, 2]
    assert split.summary["no_infusion"].tolist() == [1, 0, 0, 0, 0]
    severe = engine.compute(s, Cohort.of({"baseline_severity": ["severe (20-27)"]}))
    assert severe.summary.iloc[0].patients_started == 2
    assert column(severe.response, "assessed")[:2] == [2, 1]  # A and E after 1; A alone after 2
    # Filter by one dimension and compare by another.
    both = engine.compute(s, Cohort.of({"site": ["South"]}, split_by="baseline_severity"))
    assert both.groups == ["mild (5-9)", "moderate (10-14)", "moderately severe (15-19)"]
    # In band order for a filter, not alphabetical.
    assert engine.dimension_values(s)["baseline_severity"] == [
        "mild (5-9)", "moderate (10-14)", "moderately severe (15-19)", "severe (20-27)", "(no baseline)"]
    assert engine.dimension_values(s)["site"] == ["North", "South", "(not recorded)"]


def test_baseline_severity_follows_the_measure():
    """Asked for GAD-7 on the same engine, nobody has a baseline; back on PHQ-9, the bands return
    (the cohort is rebuilt whenever the severity is). ISI declares no bands."""
    ds = load_files(("hand.csv", HAND.encode()))
    engine = Engine(ds)
    cohort = Cohort.of(split_by="baseline_severity")
    assert engine.compute(Settings(planned=4, measure="gad7"), cohort).groups == ["(no baseline)"]
    assert len(engine.compute(Settings(planned=4), cohort).groups) == 5
    assert engine.compute(Settings(planned=4, measure="isi"), cohort).groups == ["(no baseline)"]
    text = HAND.replace("phq9", "isi")
    isi = metrics_for(load_files(("i.csv", text.encode())), cohort, planned=4, measure="isi")
    assert isi.groups == ["(no bands)", "(no baseline)"]


def test_a_measures_file_declares_severity_bands():
    measures = load_measures_file('[hama]\nrange = [0, 56]\nseverity_bands = { mild = 0, moderate = 12, '
                                  'severe = 17 }\n')
    m = metrics_for(load_files(("h.csv", HAND.replace("phq9", "hama").encode()), measures=measures),
                    Cohort.of(split_by="baseline_severity"), planned=4, measure="hama")
    # D 8, H 11 mild; C 12, B 16 moderate; A 20, E 22, G 18 severe; F none.
    assert m.groups == ["(no baseline)", "mild (0-11)", "moderate (12-16)", "severe (17-56)"]
    assert m.summary["patients_started"].tolist() == [0, 2, 2, 3]


# --- 11. Time to response ------------------------------------------------------------------------

def test_time_to_response_by_hand():
    """Days from the first infusion: E responds on day 3, H censored on day 3, C responds on day 4,
    B censored on day 6, A and G respond on day 9. At risk 6, 4, 3, 2. S = 5/6, then 5/6 x 3/4 =
    5/8, 5/8, then 0 (both at risk respond). Greenwood sums: 1/30, 1/30 + 1/12, the same, the same
    (all at risk responding adds nothing). Median: the first day S <= 1/2, day 9; its interval from
    the first days the lower (3) and upper (9, where S = 0) bounds reach 1/2."""
    t = hand().time_to_response
    assert [tuple(r) for r in t[["day", "at_risk", "responded", "censored"]].itertuples(index=False)] == [
        (3, 6, 1, 1), (4, 4, 1, 0), (6, 3, 0, 1), (9, 2, 2, 0)]
    assert column(t, "responded_share") == pytest.approx([1 / 6, 3 / 8, 3 / 8, 1])
    for row, s, v in zip(t.itertuples(), [5 / 6, 5 / 8, 5 / 8], [1 / 30, 1 / 30 + 1 / 12, 1 / 30 + 1 / 12]):
        lower = math.exp(-math.exp(math.log(-math.log(s)) - Z * math.sqrt(v) / math.log(s)))
        upper = math.exp(-math.exp(math.log(-math.log(s)) + Z * math.sqrt(v) / math.log(s)))
        assert (row.share_low, row.share_high) == pytest.approx((1 - upper, 1 - lower))
    assert (t.iloc[0].share_low, t.iloc[0].share_high) == pytest.approx((0.0253, 0.7269), abs=1e-4)
    assert (t.iloc[3].share_low, t.iloc[3].share_high) == (1, 1)  # S = 0: no spread left
    assert hand().median_time_to_response().iloc[0][["patients", "responded", "median_days", "median_low",
                                                      "median_high"]].tolist() == [6, 4, 9, 3, 9]


def lifelines_curve(t):
    """lifelines' estimate from the table's own events (each day's responses and censorings)."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    days = np.repeat(t["day"].to_numpy(), (t["responded"] + t["censored"]).to_numpy())
    events = np.concatenate([[1] * r + [0] * c for r, c in zip(t["responded"], t["censored"])])
    fit = KaplanMeierFitter().fit(days, events)
    ci = fit.confidence_interval_
    medians = median_survival_times(ci).to_numpy().ravel()
    return fit, ci, (fit.median_survival_time_, *medians)


def assert_matches_lifelines(t):
    fit, ci, medians = lifelines_curve(t)
    table = fit.event_table.loc[t["day"].to_numpy()]
    assert t["at_risk"].tolist() == table["at_risk"].tolist()
    assert t["responded"].tolist() == table["observed"].tolist()
    survival = fit.survival_function_.iloc[:, 0]
    assert t["responded_share"].to_numpy() == pytest.approx(1 - survival.loc[t["day"]].to_numpy())
    assert t["share_low"].to_numpy() == pytest.approx(1 - ci.iloc[:, 1].loc[t["day"]].to_numpy())
    assert t["share_high"].to_numpy() == pytest.approx(1 - ci.iloc[:, 0].loc[t["day"]].to_numpy())
    ours = [t.iloc[0][c] for c in ("median_days", "median_low", "median_high")]
    for mine, theirs, curve in zip(ours, medians, (survival, ci.iloc[:, 0], ci.iloc[:, 1])):
        if (abs(curve - 0.5) < 1e-9).any():
            # S exactly 1/2 (2/4, or 3/4 x 2/3 rounded): the first day at most 1/2, whatever the rounding.
            assert mine == curve.index[(curve <= 0.5 + 1e-9).to_numpy()].min()
        elif math.isinf(theirs):
            assert pd.isna(mine)  # not reached
        else:
            assert mine == theirs


def test_time_to_response_matches_lifelines():
    assert_matches_lifelines(hand().time_to_response)


# --- 12. The funnel ------------------------------------------------------------------------------

def test_funnel_by_hand():
    """By site. Completion: North A completed, B dropped (E in progress) 1/2; South C D G completed,
    H dropped 3/4; F (no site) no series 0/0. Target 4/6. Bin(2, 2/3): F(0) = 1/9, F(1) = 5/9:
    r_0.975 = 2, alpha = (1 - .975) / (4/9), limit (2 - alpha) / 2; the lower r is 0 and the
    limits (0 - alpha) / 2 are below 0: 0. Bin(4, 2/3): F = 1/81, 9/81, 33/81, 65/81, 1.
    ITT response after 4: North A responded, B not (E in progress at L = 2 is not evaluable);
    South C G responded, H not, D has no usable baseline: 1/2 and 2/3 of target 3/5."""
    f = hand().funnel  # no split: one group, on its own target
    assert column(f, "position") == ["within"] * 2 + [None]  # durability: nobody followed up yet
    f = metrics_for(load_files(("hand.csv", HAND.encode())), Cohort.of(split_by="site"), planned=4).funnel
    c = f[f["outcome"] == "completion"].set_index("grp")
    assert c.loc[["(not recorded)", "North", "South"], ["numerator", "denominator"]].values.tolist() == [
        [0, 0], [1, 2], [3, 4]]
    assert (c["target"] == 4 / 6).all() and (c["target_numerator"] == 4).all() and (c["target_denominator"] == 6).all()
    north, south = c.loc["North"], c.loc["South"]
    assert [north[k] for k in FUNNEL_PROBABILITIES] == pytest.approx(
        [0, 0, (2 - 0.025 * 9 / 4) / 2, (2 - 0.001 * 9 / 4) / 2])
    assert [south[k] for k in FUNNEL_PROBABILITIES] == pytest.approx(
        [0, (1 - (9 / 81 - 0.025) / (8 / 81)) / 4, (4 - 0.025 * 81 / 16) / 4, (4 - 0.001 * 81 / 16) / 4])
    assert (north.position, south.position, c.loc["(not recorded)"].position) == ("within", "within", None)
    assert math.isnan(c.loc["(not recorded)"].low_95)
    itt = f[f["outcome"] == "itt_response"].set_index("grp")
    assert itt.loc[["North", "South"], ["numerator", "denominator"]].values.tolist() == [[1, 2], [2, 3]]
    assert (itt["target"] == 3 / 5).all()
    # Groups in name order, never by rate.
    assert f["grp"].tolist() == ["(not recorded)", "North", "South"] * 3


def test_funnel_limits_by_hand_and_positions():
    """Bin(10, 1/2): F(r) x 1024 = 1, 11, 56, 176, 386, 638, 848, 968, 1013, 1023, 1024.
    p = .001 (1.024): r = 1, alpha = (11 - 1.024) / 10; p = .025 (25.6): r = 2, alpha = 30.4 / 45;
    p = .975 (998.4): r = 8, alpha = 14.6 / 45; p = .999 (1022.976): r = 9, alpha = .024 / 10."""
    limits = funnel_limits([0.5], [10])
    assert [limits[k][0] for k in FUNNEL_PROBABILITIES] == pytest.approx(
        [(1 - 9.976 / 10) / 10, (2 - 30.4 / 45) / 10, (8 - 14.6 / 45) / 10, (9 - 0.024 / 10) / 10])
    low, high = limits["low_998"][0], limits["high_998"][0]
    assert funnel_position(0.0, low, high) == "below"  # 0 of 10
    assert funnel_position(0.1, low, high) == "within"
    assert funnel_position(0.9, low, high) == "above"  # 9 of 10: above .89976
    assert funnel_position(None, low, high) is None
    # No spread around a target of 0 or 1; nothing for an empty group.
    edge = funnel_limits([0.0, 1.0, 0.5], [5, 5, 0])
    assert [edge[k][0] for k in FUNNEL_PROBABILITIES] == [0] * 4
    assert [edge[k][1] for k in FUNNEL_PROBABILITIES] == [1] * 4
    assert all(math.isnan(edge[k][2]) for k in FUNNEL_PROBABILITIES)


def scipy_limit(p: float, n: int, theta: float) -> float:
    """docs/METHODS.md 13 word for word, r found by walking up scipy's binomial distribution function."""
    from scipy.stats import binom

    r = 0
    while binom.cdf(r, n, theta) < p:
        r += 1
    at, below = binom.cdf(r, n, theta), binom.cdf(r - 1, n, theta)
    return min(1.0, max(0.0, (r - (at - p) / (at - below)) / n))


def exact_limit(p: Fraction, n: int, theta: Fraction) -> Fraction:
    """The same in exact rational arithmetic (no floating point, no scipy)."""
    cdf, below, r = Fraction(0), Fraction(0), -1
    while cdf < p:
        r += 1
        below = cdf
        cdf += math.comb(n, r) * theta ** r * (1 - theta) ** (n - r)
    return min(Fraction(1), max(Fraction(0), (r - (cdf - p) / (cdf - below)) / n))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 99))
def test_funnel_limits_match_scipy_and_exact_arithmetic(n, percent):
    theta = percent / 100
    ours = funnel_limits([theta], [n])
    for name, p in FUNNEL_PROBABILITIES.items():
        assert ours[name][0] == pytest.approx(scipy_limit(p, n, theta), abs=1e-9), name
        if n <= 60:
            exact = exact_limit(Fraction(p).limit_denominator(10000), n, Fraction(percent, 100))
            assert ours[name][0] == pytest.approx(float(exact), abs=1e-9), name


@settings(max_examples=80, deadline=None)
@given(st.floats(0.002, 0.998), st.integers(1, 300), st.floats(2, 20))
def test_funnel_limits_widen_as_n_falls(theta, n, factor):
    """Nested (99.8% around 95%), within 0..1, and wider for a group a half or less the size.
    Exact binomial limits saw-tooth between neighbouring n (by up to about 0.01), and while n x
    theta x (1 - theta) < 1 an upper limit can even fall below the target (most of the mass at 0):
    the widening holds from there on, when n falls by half or more."""
    bigger = int(math.ceil(n * factor))
    small, big = (funnel_limits([theta], [k]) for k in (n, bigger))
    for lim in (small, big):
        values = [lim[k][0] for k in FUNNEL_PROBABILITIES]
        assert values == sorted(values) and 0 <= values[0] and values[-1] <= 1
    if n * theta * (1 - theta) >= 1:
        for name in FUNNEL_PROBABILITIES:
            if name.startswith("low"):
                assert small[name][0] <= big[name][0] + 1e-12, name
            else:
                assert small[name][0] >= big[name][0] - 1e-12, name


# --- Invariants on random clinics ----------------------------------------------------------------

START = date(2025, 1, 1)
SITES = ("North", "South", "East")


@st.composite
def clinics(draw):
    """A few patients: a site, maybe a baseline, a series with gaps, maybe follow-ups."""
    rows, seen = [], set()
    for p in range(draw(st.integers(1, 9))):
        site = draw(st.sampled_from(SITES))
        day = draw(st.integers(0, 60))
        score = st.one_of(st.none(), st.integers(0, 27))
        if draw(st.booleans()):
            rows.append([f"P{p}", day - draw(st.integers(0, 40)), "baseline", site, draw(score)])
        for _ in range(draw(st.integers(0, 7))):
            rows.append([f"P{p}", day, "infusion", site, draw(score)])
            day += draw(st.sampled_from([1, 2, 3, 4, 7, 15, 22]))
        for _ in range(draw(st.integers(0, 2))):
            rows.append([f"P{p}", day + draw(st.integers(0, 40)), "follow_up", site, draw(score)])
    unique = []
    for r in rows:
        if (r[0], r[1], r[2]) not in seen:
            seen.add((r[0], r[1], r[2]))
            unique.append(r)
    return unique


def to_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["patient_id", "session_date", "session_type", "site", "phq9"])
    for pid, day, kind, site, score in rows:
        writer.writerow([pid, (START + timedelta(days=day)).isoformat(), kind, site, "" if score is None else score])
    return out.getvalue().encode()


PROPERTIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BANDS = st.lists(st.floats(-1, 1).map(lambda x: round(x, 2)), min_size=1, max_size=4, unique=True).map(
    lambda xs: tuple(sorted(xs)))


def rates_in_range(frame, columns):
    for col in columns:
        values = frame[col].dropna().astype(float)
        assert ((values >= 0) & (values <= 1)).all(), col


@PROPERTIES
@given(clinics(), st.sampled_from(["pre", "post"]), BANDS)
def test_bands_partition_the_patients_at_k(rows, timing, bands):
    m = metrics_for(load_files(("x.csv", to_csv(rows))), Cohort.of(split_by="site"), score_timing=timing,
                    early_bands=bands, planned=5)
    e = m.early_improvement
    assert len(e) == len(m.groups) * 4 * (len(bands) + 1)  # every group, k = 1..4, every band
    per_k = e.groupby(["grp", "k"])["patients"].sum()
    assessed = m.response.set_index(["grp", "n"])["assessed"]
    for (grp, k), patients in per_k.items():
        assert patients == assessed[(grp, k)]
    assert (e["no_later_score"] + e["scored_later"] == e["patients"]).all()
    assert (e["responded_later"] <= e["scored_later"]).all()
    assert (e["itt_responded"] <= e["itt_evaluable"]).all() and (e["itt_evaluable"] <= e["patients"]).all()
    assert (e["itt_responded"] <= e["responded_later"]).all()
    rates_in_range(e, ["later_response_rate", "rate_low", "rate_high", "itt_rate", "itt_low", "itt_high"])


@PROPERTIES
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_categories_partition_the_finished_patients(rows, timing):
    ds = load_files(("x.csv", to_csv(rows)))
    m = metrics_for(ds, score_timing=timing, planned=5)
    if not m.groups:
        return  # no patient at all
    finished = ds.con.execute(
        "SELECT count(*) FROM outcomes o WHERE o.status IN ('completed', 'dropped') AND o.baseline IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM assessments a WHERE a.patient_key = o.patient_key AND a.kind = 'after' "
        "AND a.measure = 'phq9')").fetchone()[0]
    at_caseness = ds.con.execute(
        "SELECT count(*) FROM outcomes o WHERE o.status IN ('completed', 'dropped') AND o.baseline >= 10 "
        "AND EXISTS (SELECT 1 FROM assessments a WHERE a.patient_key = o.patient_key AND a.kind = 'after' "
        "AND a.measure = 'phq9')").fetchone()[0]
    r = m.reliable_change.set_index("category")
    assert r["denominator"].tolist() == [finished] * 3 + [at_caseness] * 2
    assert r.loc[["reliable_improvement", "no_reliable_change", "reliable_deterioration"], "patients"].sum() == finished
    assert r.loc["reliable_recovery", "patients"] <= min(r.loc["recovery", "patients"],
                                                         r.loc["reliable_improvement", "patients"])
    assert m.reliable_change_points["patients"].sum() == finished
    rates_in_range(m.reliable_change, ["rate", "rate_low", "rate_high"])


@PROPERTIES
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_severity_groups_partition_the_patients(rows, timing):
    ds = load_files(("x.csv", to_csv(rows)))
    whole = metrics_for(ds, score_timing=timing)
    if not whole.groups:
        return
    split = metrics_for(ds, Cohort.of(split_by="baseline_severity"), score_timing=timing)
    for col in ("patients_started", "completed", "dropped", "usable_baseline", "no_infusion"):
        assert split.summary[col].sum() == whole.summary[col].iloc[0], col
    # No usable baseline is ever in the mild or none bands (below 10).
    low = split.summary[split.summary["grp"].str.startswith(("none", "mild"))]
    assert (low["usable_baseline"] == 0).all()


@PROPERTIES
@given(clinics(), st.sampled_from(["pre", "post"]))
def test_time_to_response_is_a_kaplan_meier_curve_as_lifelines_draws_it(rows, timing):
    m = metrics_for(load_files(("x.csv", to_csv(rows))), Cohort.of(split_by="site"), score_timing=timing)
    t = m.time_to_response
    for grp, curve in t.groupby("grp"):
        curve = curve.reset_index(drop=True)
        assert curve["at_risk"].iloc[0] == curve["responded"].sum() + curve["censored"].sum()
        assert (curve["responded_share"].diff().dropna() >= -1e-12).all()
        assert ((curve["share_low"] <= curve["responded_share"] + 1e-12)
                & (curve["responded_share"] <= curve["share_high"] + 1e-12)).all()
        rates_in_range(curve, ["responded_share", "share_low", "share_high"])
        assert_matches_lifelines(curve)


@PROPERTIES
@given(clinics(), st.sampled_from(["itt_response", "completion", "durability"]))
def test_funnel_groups_add_up_to_the_target(rows, outcome):
    ds = load_files(("x.csv", to_csv(rows)))
    m = metrics_for(ds, Cohort.of(split_by="site"))
    if not m.groups:
        return
    f = m.funnel[m.funnel["outcome"] == outcome]
    assert f["grp"].tolist() == sorted(f["grp"])  # never ranked
    assert (f["numerator"].sum(), f["denominator"].sum()) == (f["target_numerator"].iloc[0],
                                                              f["target_denominator"].iloc[0])
    whole = metrics_for(ds)
    if outcome == "itt_response":
        last = whole.response.iloc[-1]
        assert (f["numerator"].sum(), f["denominator"].sum()) == (last.cumulative_responders, last.evaluable)
    elif outcome == "completion":
        assert (f["numerator"].sum(), f["denominator"].sum()) == (whole.summary.completed.iloc[0],
                                                                  whole.summary.ended.iloc[0])
    rates_in_range(f, ["rate", "target", *FUNNEL_PROBABILITIES])
    shown = f.dropna(subset=["rate"])
    assert set(shown["position"]) <= {"above", "below", "within"}
    inside = (shown["rate"] >= shown["low_998"]) & (shown["rate"] <= shown["high_998"])
    assert ((shown["position"] == "within") == inside).all()


# --- Presentation mode ---------------------------------------------------------------------------

def test_small_counts_of_the_new_tables_are_hidden_and_cannot_be_worked_out():
    """min_cell 3, split by site, with the whole selection beside it (as the app shows them): every
    count of the new tables from 1 to 2 reads "<3" and its rates are empty; none can be worked out
    from the sums a reader knows (bands adding up to the patients assessed, the three change
    categories to the finished, the curve's at-risk counts day to day, the funnel's groups to
    its target's totals, the groups to the whole)."""
    from test_suppression import assert_nothing_small_recoverable

    from dashboard.engine.suppression import metric_frames, shown_metrics

    ds = load_files(("hand.csv", HAND.encode()))
    engine = Engine(ds)
    s = Settings(planned=4, min_cell=3)
    m, whole = engine.compute(s, Cohort.of(split_by="site")), engine.compute(s)
    shown = shown_metrics(m, whole)
    frames = {name: frame.reset_index(drop=True)
              for name, frame in (metric_frames(m) | metric_frames(whole, "overall.")).items()}
    for name in ("early_improvement", "reliable_change", "time_to_response", "funnel"):
        assert name in shown and "overall." + name in shown
    south = shown["reliable_change"][shown["reliable_change"]["grp"] == "South"].set_index("category")
    # South: C G improve reliably, H and D don't (2 + 1 + 1 of 4): all small, read "<3" or, where
    # even that would pin them down (they add up to a shown total), not shown at all.
    for category in ("reliable_improvement", "no_reliable_change", "reliable_deterioration"):
        assert south.loc[category, "patients"] in ("<3", None) and pd.isna(south.loc[category, "rate"])
    curve = shown["overall.time_to_response"]
    assert curve["responded_share"].isna().all()  # every day has 1 or 2 responses
    assert_nothing_small_recoverable(frames, shown, 3)
