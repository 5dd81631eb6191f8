"""A deliberately naive second implementation of docs/METHODS.md sections 2-5, to check the engine against.

Written from the contract alone (not from queries/*.sql nor dashboard/engine/metrics.py), in plain Python,
one patient at a time, so that it can be read with a pencil. No SQL, no pandas, nothing imported
from the `dashboard` package. Every rule is quoted from docs/METHODS.md where it is applied.

Input: a list of already-parsed visits (`Visit`) and a `RefSettings`.
Output: `compute(visits, settings)` returns a dict of the tables the export writes:

    "response":      one dict per n: n, assessed, responders, rate, remitters, remission_rate,
                     cumulative_responders, evaluable, cumulative_rate
    "late_response": one dict per n: n, non_responders, late_responders, no_later_assessment,
                     late_response_rate
    "dropout":       one dict per n: n, dropped_after, retained
    "durability":    one dict: eligible, durable, lost, booster_first, no_follow_up, pending,
                     durability_rate, conservative_rate
    "summary":       one dict: patients_started, completed, dropped, in_progress, started_before,
                     no_infusion, usable_baseline, no_baseline, baseline_below, ended, completion_rate

A rate whose denominator is 0 is None ("empty where the denominator is 0", section 8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

BASELINE, INFUSION, FOLLOW_UP = "baseline", "infusion", "follow_up"

COMPLETED, IN_PROGRESS, DROPPED = "completed", "in_progress", "dropped"


@dataclass(frozen=True)
class Visit:
    patient_id: str
    session_date: date
    session_type: str  # 'baseline', 'infusion' or 'follow_up'
    infusion_number: int | None = None
    scores: dict = field(default_factory=dict)  # {measure: float}; a missing score is simply absent
    planned_infusions: int | None = None  # the patient's dimension value, already picked (see pick_planned)


@dataclass(frozen=True)
class RefSettings:
    measure: str = "phq9"
    min_baseline: float = 10.0  # already resolved: the measure's own value when the user gave none
    response_reduction: float = 0.50
    score_timing: str = "pre"
    planned: int = 6
    series_gap_days: int = 21
    baseline_window_days: int = 30
    end_of_series_days: int = 14
    as_of: date | None = None  # None: the latest session_date among the visits (never after today)
    follow_up_days: int = 30
    follow_up_window: tuple = (21, 45)
    remission_cutoff: float | None = 4.0  # None: the measure has no remission cut-off
    today: date | None = None  # None: date.today()


# ----------------------------------------------------------------------------------------------
# Helpers the test uses to turn raw cells into Visits (sections 1 and 2)
# ----------------------------------------------------------------------------------------------


def default_as_of(dates, today: date | None = None) -> date | None:
    """Section 2: "by default the latest session_date among the rows used ..., and never later than
    the day the data is read (today)" -- rows dated after today never become the as-of date."""
    today = today or date.today()
    usable = [d for d in dates if d <= today]
    return max(usable) if usable else None


def whole_planned(text) -> int | None:
    """A planned_infusions cell as a planned count: a whole number >= 1, else None (the default applies)."""
    if text is None:
        return None
    text = str(text).strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if value >= 1 else None


def pick_planned(rows, as_of: date | None) -> int | None:
    """The patient's planned_infusions dimension, section 1: "each patient takes the value on their
    first series infusion or, where that cell is empty, the first non-empty value of their rows in
    date order", and section 2 ("taken as a dimension is"). Then made a count by whole_planned.

    rows: (session_date, session_type, raw text or None) for one patient. Section 2: "Rows dated
    after as_of are left out of every metric", so only rows on or before as_of are looked at."""
    rows = sorted((r for r in rows if as_of is None or r[0] <= as_of), key=lambda r: r[0])
    value = None
    infusions = [r for r in rows if r[1] == INFUSION]
    if infusions and _filled(infusions[0][2]):
        value = infusions[0][2]  # the first series infusion is the first infusion of all
    else:
        for r in rows:
            if _filled(r[2]):
                value = r[2]
                break
    return whole_planned(value)


def _filled(text) -> bool:
    return text is not None and str(text).strip() != ""


# ----------------------------------------------------------------------------------------------
# One patient
# ----------------------------------------------------------------------------------------------


@dataclass
class Patient:
    patient_id: str
    kind: str = "no_infusion"  # 'no_infusion', 'started_before' or 'started'
    planned: int = 0
    series: list = field(default_factory=list)  # the series infusions, in date order
    boosters: list = field(default_factory=list)  # later infusions
    follow_ups: list = field(default_factory=list)
    baseline: float | None = None
    usable: bool = False
    status: str | None = None  # completed / in_progress / dropped
    after: dict = field(default_factory=dict)  # n -> the score after n infusions (only where there is one)
    durability: str | None = None  # None when not eligible

    @property
    def L(self) -> int:
        return len(self.series)


def score_of(visit: Visit, measure: str):
    return visit.scores.get(measure)


def responds(score, baseline, s: RefSettings) -> bool:
    """Section 3: "a lower-is-better score responds when score <= baseline * (1 - response_reduction)"."""
    return score <= baseline * (1 - s.response_reduction)


def remits(score, s: RefSettings) -> bool:
    """Section 3: "Remission: score <= the measure's cut-off"."""
    return score <= s.remission_cutoff


def follow_patient(patient_id: str, visits: list, s: RefSettings, as_of: date) -> Patient:
    p = Patient(patient_id)
    m = s.measure
    # Every visit here is already on or before as_of (compute() drops the later ones).
    infusions = sorted((v for v in visits if v.session_type == INFUSION), key=lambda v: v.session_date)
    baselines = [v for v in visits if v.session_type == BASELINE]
    p.follow_ups = sorted((v for v in visits if v.session_type == FOLLOW_UP), key=lambda v: v.session_date)

    if not infusions:
        return p  # no_infusion

    # "A patient whose first infusion in the data carries an infusion_number above 1 started before
    # the export's window: they are left out of series metrics". An empty number is not "above 1".
    first = infusions[0]
    if first.infusion_number is not None and first.infusion_number > 1:
        p.kind = "started_before"
        return p
    p.kind = "started"

    # "A planned_infusions column overrides the default per patient".
    # (A whole number >= 1 only; anything else leaves the default.)
    picked = [v.planned_infusions for v in visits if v.planned_infusions is not None]
    p.planned = picked[0] if picked and picked[0] >= 1 else s.planned

    # "A patient's infusion rows, in date order, form the initial series until the first gap of more
    # than series_gap_days days between two consecutive infusions, or until it holds
    # planned_infusions infusions, whichever comes first; later infusions are boosters".
    p.series = [first]
    for previous, current in zip(infusions, infusions[1:]):
        if len(p.series) >= p.planned:
            break
        if (current.session_date - previous.session_date).days > s.series_gap_days:
            break
        p.series.append(current)
    p.boosters = infusions[len(p.series):]

    # Baseline: "the latest baseline row with a score for it dated within baseline_window_days days
    # before the first infusion (or on its day); with score_timing = pre and no such row, the score
    # at infusion 1."
    start = first.session_date
    window_start = start - timedelta(days=s.baseline_window_days)
    in_window = [v for v in baselines if score_of(v, m) is not None and window_start <= v.session_date <= start]
    if in_window:
        latest = max(in_window, key=lambda v: v.session_date)
        p.baseline = score_of(latest, m)
    elif s.score_timing == "pre":
        p.baseline = score_of(first, m)  # may be None: then there is no baseline
    # "Response is judged only for patients whose baseline is at least the measure's min_baseline
    # ... and above 0."
    p.usable = p.baseline is not None and p.baseline >= s.min_baseline and p.baseline > 0

    # Section 4: "completed when L >= their planned count; in_progress when L < planned and
    # as_of - last series infusion <= series_gap_days; otherwise dropped_after = L".
    last = p.series[-1].session_date
    if p.L >= p.planned:
        p.status = COMPLETED
    elif (as_of - last).days <= s.series_gap_days:
        p.status = IN_PROGRESS
    else:
        p.status = DROPPED

    # Section 3, "The score after n infusions: with post timing, the score at series infusion n;
    # with pre, the score at series infusion n+1, and for the last series infusion L the first score
    # within end_of_series_days days after it, from a follow_up row or a booster's check-in."
    for n in range(1, p.L + 1):
        if s.score_timing == "post":
            value = score_of(p.series[n - 1], m)
        elif n < p.L:
            value = score_of(p.series[n], m)
        else:
            value = score_after_last(p, s)
        if value is not None:
            p.after[n] = value

    if p.usable:
        p.durability = durability_status(p, s, as_of)
    return p


def score_after_last(p: Patient, s: RefSettings):
    """Pre timing, n = L: the first score dated STRICTLY after the last series infusion (a follow-up
    on L's own day was taken before or at that infusion, so it is not "after" it), up to
    end_of_series_days days after it, from a follow_up row or a booster's check-in."""
    last = p.series[-1].session_date
    latest_day = last + timedelta(days=s.end_of_series_days)
    candidates = [
        v
        for v in p.follow_ups + p.boosters
        if score_of(v, s.measure) is not None and last < v.session_date <= latest_day
    ]
    if not candidates:
        return None
    # The first one by date. (A follow-up and a booster on the same day: the test data gives them
    # the same scores, so which one is taken does not matter; sorted() keeps follow-ups first.)
    candidates.sort(key=lambda v: v.session_date)
    return score_of(candidates[0], s.measure)


def durability_status(p: Patient, s: RefSettings, as_of: date):
    """Section 5. Returns the status, or None when the patient is not eligible."""
    m = s.measure
    # "Eligible: patients with a usable baseline whose series has ended (completed or dropped) and
    # whose last series assessment met response."
    if p.status not in (COMPLETED, DROPPED) or not p.after:
        return None
    last_assessed = max(p.after)
    if not responds(p.after[last_assessed], p.baseline, s):
        return None

    # "Their follow-up assessment is the one (a follow_up row, or a booster's score when timing is
    # pre) whose date is nearest to follow_up_days days after the last series infusion, within
    # follow_up_window days (the earlier one on a tie)." It is after the series: strictly after
    # the last series infusion's date.
    last = p.series[-1].session_date
    low, high = s.follow_up_window
    first_day = last + timedelta(days=low)
    last_day = last + timedelta(days=high)
    target = last + timedelta(days=s.follow_up_days)
    sources = list(p.follow_ups)
    if s.score_timing == "pre":
        sources += p.boosters
    candidates = [
        v
        for v in sources
        if score_of(v, m) is not None and first_day <= v.session_date <= last_day and v.session_date > last
    ]
    chosen = None
    for v in candidates:
        distance = abs((v.session_date - target).days)
        if chosen is None:
            chosen = v
            continue
        best = abs((chosen.session_date - target).days)
        if distance < best or (distance == best and v.session_date < chosen.session_date):
            chosen = v

    # "Each eligible patient gets exactly one status, decided in this order:"
    if chosen is not None:
        # "1. there is a follow-up assessment: booster_first if a booster infusion came on an
        # earlier date than it, else durable when its score still meets response, else lost"
        if any(b.session_date < chosen.session_date for b in p.boosters):
            return "booster_first"
        return "durable" if responds(score_of(chosen, m), p.baseline, s) else "lost"
    # "2. there is none, but a booster infusion came on or before the window's last day"
    if any(b.session_date <= last_day for b in p.boosters):
        return "booster_first"
    # "3. the window has closed (as_of is after its last day): no_follow_up"
    if as_of > last_day:
        return "no_follow_up"
    # "4. otherwise pending"
    return "pending"


# ----------------------------------------------------------------------------------------------
# All patients
# ----------------------------------------------------------------------------------------------


def ratio(numerator, denominator):
    return None if denominator == 0 else numerator / denominator


def compute(visits: list, s: RefSettings) -> dict:
    today = s.today or date.today()
    as_of = s.as_of if s.as_of is not None else default_as_of([v.session_date for v in visits], today)
    as_of = min(as_of, today) if as_of is not None else today

    # Section 2: "Rows dated after as_of are left out of every metric".
    by_patient = {}
    for v in visits:
        by_patient.setdefault(v.patient_id, [])
        if v.session_date <= as_of:
            by_patient[v.patient_id].append(v)
    patients = [follow_patient(pid, vs, s, as_of) for pid, vs in sorted(by_patient.items())]
    started = [p for p in patients if p.kind == "started"]

    # "For each infusion count n = 1 .. N, where N is the largest planned_infusions of any patient"
    # (of those in the series metrics; the default planned count when there is none).
    N = max((p.planned for p in started), default=s.planned)

    response, late = [], []
    for n in range(1, N + 1):
        assessed = [p for p in started if p.usable and n in p.after]
        responders = [p for p in assessed if responds(p.after[n], p.baseline, s)]
        if s.remission_cutoff is None:
            remitters = remission_rate = None  # no cut-off: nothing to count, not zero
        else:
            remitters = len([p for p in assessed if remits(p.after[n], s)])
            remission_rate = ratio(remitters, len(assessed))

        # "evaluable = patients with a usable baseline and at least one series infusion, except those
        # still in progress whose outcome after n cannot be known yet: their series has not reached
        # n, or it stands at exactly n and the score after n is not in yet"
        evaluable = []
        for p in started:
            if not p.usable:
                continue
            if p.status == IN_PROGRESS and (p.L < n or (p.L == n and n not in p.after)):
                continue
            evaluable.append(p)
        # "cumulative_responders = evaluable patients who met response after some k <= n"
        cumulative = [
            p for p in evaluable if any(k <= n and responds(score, p.baseline, s) for k, score in p.after.items())
        ]
        response.append(
            {
                "n": n,
                "assessed": len(assessed),
                "responders": len(responders),
                "rate": ratio(len(responders), len(assessed)),
                "remitters": remitters,
                "remission_rate": remission_rate,
                "cumulative_responders": len(cumulative),
                "evaluable": len(evaluable),
                "cumulative_rate": ratio(len(cumulative), len(evaluable)),
            }
        )

        # Late response: "among patients assessed after n infusions and not responding then,
        # late_responders are those who met response after some later infusion of their series, and
        # late_response_rate = late_responders / (non_responders - no_later_assessment)"
        non_responders = [p for p in assessed if not responds(p.after[n], p.baseline, s)]
        late_responders = [
            p for p in non_responders if any(k > n and responds(score, p.baseline, s) for k, score in p.after.items())
        ]
        no_later = [p for p in non_responders if not any(k > n for k in p.after)]
        late.append(
            {
                "n": n,
                "non_responders": len(non_responders),
                "late_responders": len(late_responders),
                "no_later_assessment": len(no_later),
                "late_response_rate": ratio(len(late_responders), len(non_responders) - len(no_later)),
            }
        )

    # Section 4: "retained(1) = 1, retained(n + 1) = retained(n) * (1 - dropped_after(n) / at_risk(n)),
    # where at_risk(n) = patients with L > n, plus those who stopped or completed at L = n. A patient
    # in progress at L ... is at risk only up to L - 1."
    dropout = []
    retained = 1.0
    for n in range(1, N + 1):
        dropped_after = len([p for p in started if p.status == DROPPED and p.L == n])
        at_risk = len([p for p in started if p.L > n or (p.L == n and p.status != IN_PROGRESS)])
        dropout.append({"n": n, "dropped_after": dropped_after, "retained": retained})
        if at_risk:
            retained = retained * (1 - dropped_after / at_risk)

    statuses = [p.durability for p in started if p.durability is not None]
    count = statuses.count
    durable, lost, booster_first = count("durable"), count("lost"), count("booster_first")
    durability = {
        "eligible": len(statuses),
        "durable": durable,
        "lost": lost,
        "booster_first": booster_first,
        "no_follow_up": count("no_follow_up"),
        "pending": count("pending"),
        # "durability_rate = durable / (durable + lost)", "conservative_rate = durable / (durable +
        # lost + booster_first)"
        "durability_rate": ratio(durable, durable + lost),
        "conservative_rate": ratio(durable, durable + lost + booster_first),
    }

    completed = len([p for p in started if p.status == COMPLETED])
    dropped = len([p for p in started if p.status == DROPPED])
    summary = {
        "patients_started": len(started),
        "completed": completed,
        "dropped": dropped,
        "in_progress": len([p for p in started if p.status == IN_PROGRESS]),
        "started_before": len([p for p in patients if p.kind == "started_before"]),
        "no_infusion": len([p for p in patients if p.kind == "no_infusion"]),
        # "Patients without such a baseline are counted and shown as "no usable baseline" or
        # "baseline below N"": over the patients started.
        "usable_baseline": len([p for p in started if p.usable]),
        "no_baseline": len([p for p in started if p.baseline is None]),
        "baseline_below": len([p for p in started if p.baseline is not None and not p.usable]),
        "ended": completed + dropped,
        # Section 4: "completion_rate = completed / (completed + dropped)"
        "completion_rate": ratio(completed, completed + dropped),
    }
    return {
        "response": response,
        "late_response": late,
        "dropout": dropout,
        "durability": durability,
        "summary": summary,
        "as_of": as_of,
        "patients": patients,
    }
