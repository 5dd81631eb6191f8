"""Generate a synthetic EHR visit export for a ketamine infusion clinic.

    python sample_data/generate.py [--patients 600] [--seed 7] [--out PATH]
                                   [--end-date 2026-10-31] [--no-bad-rows]

One row per visit, in the canonical columns of docs/METHODS.md section 1: a baseline visit, then a
series of up to six infusions two to three times a week, an end-of-series check, a one-month
follow-up and, for some patients, booster infusions. Scores are taken at check-in, before that
day's infusion (`score_timing = pre`). Every number is invented; no real patient is behind any
row. The same arguments always give the same file.

Only the standard library is used, and rows are written one patient at a time, so a million-row
benchmark file (`--patients 150000`) takes seconds and little memory.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

COLUMNS = ["patient_id", "session_date", "session_type", "infusion_number", "phq9", "gad7", "isi",
           "who5", "site", "provider", "route", "kap", "sex", "age", "diagnosis",
           "discontinuation_reason"]
DEFAULT_OUT = Path(__file__).resolve().parent / "ketamine_clinic_export.csv"

# Cohort make-up. Sites differ a little (route and KAP mix) so that cohort splits show something.
SITES = {  # site: (weight, providers, share IM, share KAP)
    "North": (0.35, ("Dr. Okafor", "Dr. Lindqvist"), 0.20, 0.30),
    "Central": (0.40, ("Dr. Mehta", "Dr. Alvarez"), 0.22, 0.45),
    "Riverside": (0.25, ("Dr. Chen", "Dr. Brennan"), 0.40, 0.25),
}
DIAGNOSES = {"TRD": 0.70, "MDD with anxious distress": 0.14, "Bipolar depression": 0.08, "PTSD": 0.08}

PLANNED = 6                  # infusions in a standard induction series
SERIES_START_DAYS = 548      # series starts spread over the ~18 months before --end-date
BASELINE_SHARE = 0.90        # the rest have no baseline row; their infusion-1 check-in serves
# Chance of stopping after infusion k (k = 1..5) for a patient neither responding nor stuck;
# it peaks after infusions 2-4, as in clinic audits.
STOP_HAZARD = (0.04, 0.08, 0.09, 0.07, 0.04)
INTERRUPT_SHARE = 0.02       # a break of > 21 days mid-series: later infusions count as boosters
END_CHECK_SHARE = {"completed": 0.70, "dropped": 0.25}   # check-in 4-12 days after the series
FOLLOW_UP_SHARE = {"completed": 0.85, "dropped": 0.55}   # visit 24-40 days after the series
RELAPSE_SHARE = 0.10         # responders who lose much of their gain by one month
SECONDARY_MISSING = 0.12     # visits where the GAD-7/ISI/WHO-5 packet was not filled in
ITEM_MISSING = 0.03          # ... or just one of them was skipped


@dataclass
class Patient:
    """Patient-level traits: the cohort dimensions plus the latent course of their illness."""
    pid: str
    site: str
    provider: str
    route: str
    kap: str
    sex: str
    age: int
    diagnosis: str
    start: date
    phq9: float          # true baseline severities
    gad7: float
    isi: float
    who5: float
    max_gain: float      # fraction of baseline PHQ-9 the series can take away (can be < 0)
    speed: float         # infusions to reach ~63% of that gain
    rows: list = field(default_factory=list)
    reason: str = ""


def choose(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def clinic_day(day: date, earlier: bool = False) -> date:
    """Clinics are closed on Sundays: such a visit moves to the Monday (or the Saturday)."""
    if day.weekday() != 6:
        return day
    return day + timedelta(days=-1 if earlier else 1)


def make_patient(rng: random.Random, index: int, end: date) -> Patient:
    site = choose(rng, {name: spec[0] for name, spec in SITES.items()})
    _, providers, im_share, kap_share = SITES[site]
    route = "IM" if rng.random() < im_share else "IV"
    kap = "yes" if rng.random() < kap_share else "no"
    diagnosis = choose(rng, DIAGNOSES)
    # Most referrals are moderately severe to severe; a few mild ones (excluded from response).
    phq9 = rng.uniform(4, 9.5) if rng.random() < 0.05 else min(27.0, max(10.0, rng.gauss(18.5, 3.8)))
    gad7 = 0.55 * phq9 + 2.5 + rng.gauss(0, 2.5) + (3 if diagnosis == "MDD with anxious distress" else 0)
    isi = 0.45 * phq9 + 6 + rng.gauss(0, 3.5) + (3 if diagnosis == "PTSD" else 0)
    who5 = 17 - 0.5 * phq9 + rng.gauss(0, 2.5)
    # Latent responder propensity: the gain the series can bring, nudged by KAP, route and
    # diagnosis; and how fast it comes (ketamine works within days for most responders).
    gain = rng.gauss(0.63, 0.25) + (0.05 if kap == "yes" else 0) + (-0.03 if route == "IM" else 0)
    gain += {"Bipolar depression": -0.05, "PTSD": -0.04}.get(diagnosis, 0)
    speed = math.exp(rng.gauss(0.2, 0.35)) * (0.85 if route == "IM" else 1.0)
    return Patient(
        pid=f"KC-{index + 1:06d}", site=site, provider=rng.choice(providers), route=route, kap=kap,
        sex="F" if rng.random() < 0.60 else "M", age=clip(rng.gauss(43, 13), 18, 75),
        diagnosis=diagnosis, start=clinic_day(end - timedelta(days=rng.randint(0, SERIES_START_DAYS))),
        phq9=phq9, gad7=min(21.0, max(0.0, gad7)), isi=min(28.0, max(0.0, isi)),
        who5=min(25.0, max(0.0, who5)), max_gain=min(0.95, gain), speed=speed)


def gain_after(p: Patient, infusions: int) -> float:
    """Fraction of baseline PHQ-9 gone after `infusions` infusions (saturating curve)."""
    return p.max_gain * (1 - math.exp(-infusions / p.speed))


def scores(rng: random.Random, p: Patient, gain: float) -> list:
    """One visit's questionnaire scores for a patient whose true state is `gain`.

    GAD-7 and insomnia improve in step with depression, a little less; WHO-5 rises toward a
    healthy ~19. Each carries its own measurement noise.
    """
    phq9 = clip(p.phq9 * (1 - gain) + rng.gauss(0, 1.4), 0, 27)
    secondary = ["", "", ""]
    if rng.random() >= SECONDARY_MISSING:
        secondary = [clip(p.gad7 * (1 - 0.9 * gain) + rng.gauss(0, 1.3), 0, 21),
                     clip(p.isi * (1 - 0.75 * gain) + rng.gauss(0, 1.6), 0, 28),
                     clip(p.who5 + gain * (19 - p.who5) + rng.gauss(0, 1.8), 0, 25)]
        for i in range(3):
            if rng.random() < ITEM_MISSING:
                secondary[i] = ""
    return [phq9, *secondary]


def stop_after(rng: random.Random, p: Patient, k: int) -> str | None:
    """Whether the patient stops after infusion k, and the reason recorded ("" = none given)."""
    gain = gain_after(p, k)
    if gain >= 0.55 and rng.random() < 0.06:   # well enough to stop; not all say so
        return "Responded" if rng.random() < 0.75 else ""
    if k >= 2 and gain < 0.20 and rng.random() < 0.10:
        return "No improvement" if rng.random() < 0.6 else ""
    if rng.random() < STOP_HAZARD[k - 1]:
        return rng.choices(["Cost", "Side effects", "Scheduling", ""], weights=[3, 2, 2, 4])[0]
    return None


def add(rng: random.Random, p: Patient, day: date, kind: str, number: int | None, gain: float) -> None:
    p.rows.append([day, kind, number, *scores(rng, p, gain)])


def simulate(rng: random.Random, p: Patient, end: date) -> None:
    """Fill p.rows with the patient's visits in date order, cut at `end` (the export date)."""
    if rng.random() < BASELINE_SHARE:
        booked = clinic_day(p.start - timedelta(days=rng.randint(1, 21)), earlier=True)
        add(rng, p, booked, "baseline", None, 0.0)
    interrupt_after = rng.randint(2, 4) if rng.random() < INTERRUPT_SHARE else None
    day, k, outcome = p.start, 0, "completed"
    while True:
        k += 1
        add(rng, p, day, "infusion", k, gain_after(p, k - 1))   # check-in before infusion k
        if k == PLANNED:
            break
        reason = stop_after(rng, p, k)
        if reason is not None:
            p.reason, outcome = reason, "dropped"
            break
        gap = rng.randint(22, 45) if k == interrupt_after else rng.choice((2, 3, 3, 4))
        day = clinic_day(day + timedelta(days=gap))
    after_series(rng, p, day, k, outcome)
    p.rows = [row for row in p.rows if row[0] <= end]
    # A reason is only in the record once the clinic knows the series is over.
    if p.reason and end < day + timedelta(days=14):
        p.reason = ""


def after_series(rng: random.Random, p: Patient, last: date, k: int, outcome: str) -> None:
    """End-of-series check, one-month follow-up (with some relapse) and boosters."""
    end_gain = gain_after(p, k)
    if rng.random() < END_CHECK_SHARE[outcome]:
        add(rng, p, clinic_day(last + timedelta(days=rng.randint(4, 12))), "follow_up", None, end_gain)
    relapsed = end_gain >= 0.45 and rng.random() < RELAPSE_SHARE
    month_gain = end_gain * rng.uniform(0.1, 0.6) if relapsed else end_gain * rng.uniform(0.9, 1.08)
    visits = []  # (day, kind) after the series, scored below in date order
    # Boosters: mostly for a relapse, sometimes on a maintenance plan.
    if rng.random() < (0.6 if relapsed else 0.13 if end_gain >= 0.3 else 0.07):
        booster = clinic_day(last + timedelta(days=rng.randint(21, 56)))
        visits.append((booster, "infusion"))
        if rng.random() < 0.35:
            visits.append((clinic_day(booster + timedelta(days=rng.randint(14, 42))), "infusion"))
    follow_up = clinic_day(last + timedelta(days=rng.randint(24, 40)))
    if rng.random() < FOLLOW_UP_SHARE[outcome] and (follow_up, "infusion") not in visits:
        visits.append((follow_up, "follow_up"))   # (a booster that day takes its place)
    boosted = False
    for day, kind in sorted(visits):
        # A booster restores most of the series' gain for the visits after it.
        gain = max(month_gain, 0.9 * end_gain) if boosted else month_gain
        if kind == "infusion":
            k += 1
            add(rng, p, day, kind, k, gain)
            boosted = True
        else:
            add(rng, p, day, kind, None, gain)


def visit_rows(p: Patient) -> list:
    """The patient's visits as CSV rows; dimensions repeat on every row, as EHR exports do."""
    dims = [p.site, p.provider, p.route, p.kap, p.sex, p.age, p.diagnosis, p.reason]
    return [[p.pid, day.isoformat(), kind, "" if number is None else number, *vals, *dims]
            for day, kind, number, *vals in p.rows]


# Bad rows for the data-quality view: (kind, how). "extra" rows are added after a real patient's
# visits; "edit" damages one cell of a real row, as a typo in the record would.
BAD_ROWS = [
    ("No-show", "extra"), ("No-show", "extra"), ("Cancelled", "extra"), ("Cancelled", "extra"),
    ("missing id", "extra"), ("impossible date", "extra"), ("unreadable date", "extra"),
    ("phq9 out of range", "edit"), ("gad7 out of range", "edit"), ("not a number", "edit"),
    ("exact duplicate", "extra"), ("exact duplicate", "extra"), ("conflicting phq9", "extra"),
    ("conflicting phq9", "extra"),
]


def plan_bad_rows(seed: int, patients: int) -> dict:
    """Which patient (by index) each bad row attaches to: fixed by the seed, spread over the file."""
    rng = random.Random(f"bad-rows-{seed}")
    targets = rng.sample(range(patients), min(len(BAD_ROWS), patients))
    plan = {}
    for index, bad in zip(sorted(targets), rng.sample(BAD_ROWS, len(targets))):
        plan.setdefault(index, []).append(bad)
    return plan


def spoil(rng: random.Random, rows: list, kind: str, touched: set) -> list:
    """Apply one bad-row kind to a patient's rows; returns the extra rows to write after them.

    Each flaw takes an infusion row no other flaw has used (while there is one), so that an
    exact duplicate stays exact and a conflicting PHQ-9 stays in range.
    """
    infusions = [i for i, r in enumerate(rows) if r[2] == "infusion"]
    index = rng.choice([i for i in infusions if i not in touched] or infusions)
    touched.add(index)
    row = rows[index]
    if kind == "phq9 out of range":
        row[4] = 31
        return []
    if kind == "gad7 out of range":
        row[5] = 24
        return []
    if kind == "not a number":
        row[rng.choice((4, 6))] = "n/a?"
        return []
    copy = list(row)
    if kind == "conflicting phq9":   # same patient, date and type; a different PHQ-9
        step = rng.choice((3, 4, 5))
        copy[4] = row[4] + step if row[4] + step <= 27 else row[4] - step
    elif kind in ("No-show", "Cancelled"):   # a booked visit the day before a real one
        booked = date.fromisoformat(row[1]) - timedelta(days=1)
        copy[1:8] = [booked.isoformat(), kind, "", "", "", "", ""]
    elif kind == "missing id":
        copy[0] = ""
    elif kind == "impossible date":
        copy[1] = "31/02/2025"
    elif kind == "unreadable date":
        copy[1] = "tomorrow"
    return [copy]   # "exact duplicate": the copy as it is


def generate(out, patients: int, seed: int, end: date, bad_rows: bool) -> tuple[int, int]:
    """Write the export to the open file `out`; returns (rows written, deliberate flaws)."""
    rng = random.Random(seed)
    bad_rng = random.Random(f"bad-values-{seed}")  # separate, so the visits don't depend on it
    pending = []  # flaws waiting for a patient with an infusion row to carry them
    plan = plan_bad_rows(seed, patients) if bad_rows else {}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = spoiled = 0
    for index in range(patients):
        p = make_patient(rng, index, end)
        simulate(rng, p, end)
        rows = visit_rows(p)
        pending += plan.get(index, [])
        extra = []
        if pending and any(row[2] == "infusion" for row in rows):
            touched = set()
            for kind, _ in sorted(pending, key=lambda bad: bad[1] == "extra"):  # edits first
                extra += spoil(bad_rng, rows, kind, touched)
            spoiled += len(pending)
            pending = []
        writer.writerows(rows)
        writer.writerows(extra)
        written += len(rows) + len(extra)
    return written, spoiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=600, help="number of patients (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default {DEFAULT_OUT.name})")
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 10, 31),
                        help="export date: no visit after it (default 2026-10-31)")
    parser.add_argument("--no-bad-rows", action="store_true", help="leave out the deliberately bad rows")
    args = parser.parse_args(argv)
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as out:
        rows, bad = generate(out, args.patients, args.seed, args.end_date, not args.no_bad_rows)
    print(f"wrote {rows:,} rows ({bad} deliberately bad) for {args.patients:,} patients to {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
