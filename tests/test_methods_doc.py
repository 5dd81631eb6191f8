"""docs/METHODS.md, the project's own methods document: it exists, has a section for every
definition the dashboard and the export use, and its worked example is right. The example's visits
are tests/fixtures/methods_worked_example.csv; the dashboard's engine is run on them and every table
and figure the document states is checked against what it computes (the tables are read from the
document itself, so the two can't drift apart). The app's methods panel, the report and the
export's --help point to the document, and nothing in the repository points outside it."""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from conftest import FIXTURES, ROOT, column, load_fixture

from dashboard.core.settings import Settings
from dashboard.engine.metrics import Engine

DOC = ROOT / "docs" / "METHODS.md"
EXAMPLE = "methods_worked_example.csv"
REFERENCES = ROOT / "tests" / "data" / "REFERENCES.md"

# A heading for each definition the dashboard and the export use (each phrase in some heading).
HEADINGS = [
    "Input data", "What a row means", "Columns", "Long exports", "Session types", "Measures", "Timing of scores",
    "Patient dimensions", "Treatment series and baseline", "initial series and boosters",
    "Series started before the data", "Baseline", "Usable baseline", "The score after n infusions",
    "Response by infusion count", "Response and remission", "Intention to treat", "Intervals", "Late response",
    "Early improvement", "Dropout and retention", "Durability at one month", "Reliable change and recovery",
    "Baseline severity", "Time to response", "Symptom trajectories", "Control charts",
    "Funnel limits", "Cohorts, filters and comparisons", "Small-cell suppression",
    "Implausible and future dates", "Bad input", "Settings and their defaults", "Exports",
    "Published reference figures", "Worked example",
]


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), "docs/METHODS.md is missing"
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def engine():
    return Engine(load_fixture(EXAMPLE))


@pytest.fixture(scope="module")
def m(engine):
    return engine.compute(Settings())


def headings(text: str) -> list[str]:
    return [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]


def table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The first Markdown table after the heading that ends with `heading`, as rows of
    header -> cell text."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and line.rstrip().endswith(heading))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) >= 2, f"no table after '{heading}'"
    header, _, *body = rows
    return [dict(zip(header, row)) for row in body]


def pct(value) -> str:
    """A rate as the document writes it: a whole percentage, empty when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{round(value * 100)}%"


def number(text: str) -> float | None:
    return float(text.replace("*", "")) if text.replace("*", "") else None


def section(text: str, heading: str) -> str:
    """The text from the heading that ends with `heading` to the next heading of its level or above,
    its whitespace made single spaces (so that a sentence reads the same however it is wrapped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and line.rstrip().endswith(heading))
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((j for j in range(start + 1, len(lines))
                if lines[j].startswith("#") and len(lines[j]) - len(lines[j].lstrip("#")) <= level), len(lines))
    return " ".join(" ".join(lines[start:end]).split())


# --- The document and its sections ----------------------------------------------------------------

def test_the_document_has_a_heading_for_every_definition(doc):
    found = headings(doc)
    for phrase in HEADINGS:
        assert any(phrase.lower() in h.lower() for h in found), phrase


def test_the_document_states_the_defaults_the_settings_have(doc):
    rows = {row["setting"].strip("`"): row["default"] for row in table_after(doc, "Settings and their defaults")}
    d = Settings()
    assert set(rows) == set(d.to_dict()), "every setting, and only the settings, in the table"
    assert rows["measure"] == f"`{d.measure}`" and rows["score_timing"] == f"`{d.score_timing}`"
    assert rows["response_reduction"] == f"{d.response_reduction:.2f}"
    for name in ("planned", "series_gap_days", "baseline_window_days", "end_of_series_days", "follow_up_days"):
        assert rows[name] == str(getattr(d, name)), name
    assert rows["follow_up_window"] == "{}..{}".format(*d.follow_up_window)
    assert rows["min_cell"].startswith(str(d.min_cell))
    assert rows["early_bands"] == ", ".join(f"{edge:g}" for edge in d.early_bands)
    assert rows["control_period"] == f"`{d.control_period}`"


def test_the_weekly_time_to_response_wording_is_there(doc):
    assert "when small counts are hidden the curve is shown a week at a time" in doc.lower()


def test_published_figures_are_quoted_word_for_word_with_their_citations(doc):
    published = {line.strip() for line in REFERENCES.read_text(encoding="utf-8").splitlines() if line.startswith("|")}
    table = table_after(doc, "Published reference figures")
    quoted = ["| " + " | ".join(row.values()) + " |" for row in table]
    assert len(quoted) >= 5
    for line in quoted:
        assert line in published, line


# --- The worked example ------------------------------------------------------------------------------

def test_the_worked_examples_visits_are_the_fixtures(doc):
    kinds = {"baseline": "baseline", "infusion": "infusion", "follow-up": "follow_up"}
    in_doc = {(patient, row["date"], kinds[row["visit"]], int(score))
              for row in table_after(doc, "The visits")
              for patient, score in row.items() if patient in "ABCDE" and score}
    with (FIXTURES / EXAMPLE).open(newline="", encoding="utf-8") as fh:
        in_csv = {(r["patient_id"], r["session_date"], r["session_type"], int(r["phq9"])) for r in csv.DictReader(fh)}
    assert in_doc == in_csv


def test_step_1_series_baselines_and_scores_after_n(doc, engine, m):
    con = engine.con
    scores = {(pid, kind, n): score for pid, kind, n, score in con.execute(
        "SELECT p.patient_id, a.kind, a.n, a.score FROM assessments a JOIN patients p USING (patient_key) "
        "WHERE a.measure = 'phq9'").fetchall()}
    series = {pid: (infusions, status, baseline_status) for pid, infusions, status, baseline_status in con.execute(
        "SELECT p.patient_id, o.infusions, o.status, o.baseline_status "
        "FROM outcomes o JOIN patients p USING (patient_key)"
    ).fetchall()}
    assert str(m.as_of) == "2025-02-22" and "as-of date" in section(doc, "The visits")
    rows = table_after(doc, "Step 1: series, baselines and the scores after n infusions")
    assert [r["patient"] for r in rows] == list("ABCDE")
    for row in rows:
        pid = row["patient"]
        baseline = number(row["baseline"])
        assert scores[(pid, "baseline", 0)] == baseline, pid
        assert number(row["responds at or below"]) == baseline * (1 - Settings().response_reduction), pid
        for n in range(1, 7):
            stated = number(row[f"after {n}"])
            assert scores.get((pid, "after", n)) == stated, (pid, n)
            # Bold marks a response.
            responds = stated is not None and stated <= baseline / 2
            assert row[f"after {n}"].startswith("**") == responds, (pid, n)
        infusions, status, baseline_status = series[pid]
        assert baseline_status == "usable"
        assert row["series"] == f"{infusions} infusions", pid
        words = {"completed": "completed", "dropped": f"stopped after {infusions}", "in_progress": "in progress"}
        assert row["status on 2025-02-22"].startswith(words[status]), pid


def test_step_2_response_by_infusion_count(doc, m):
    rows = table_after(doc, "Step 2: response by infusion count")
    r = m.response
    assert [int(row["after n infusions"]) for row in rows] == column(r, "n")
    assert [int(row["assessed"]) for row in rows] == column(r, "assessed")
    assert [int(row["responders"]) for row in rows] == column(r, "responders")
    assert [row["response"] for row in rows] == [pct(v) for v in column(r, "rate")]
    assert [int(row["evaluable (ITT)"]) for row in rows] == column(r, "evaluable")
    assert [int(row["responded so far (ITT)"]) for row in rows] == column(r, "cumulative_responders")
    assert [row["response (ITT)"] for row in rows] == [pct(v) for v in column(r, "cumulative_rate")]
    text = section(doc, "Step 2: response by infusion count")
    # The interval and the remission stated for n = 6.
    assert (f"2 of 2, 100% (95% Wilson interval {pct(column(r, 'rate_low')[5])} to "
            f"{pct(column(r, 'rate_high')[5])})") in text
    assert column(r, "remitters")[5] == 1 and "Remission after 6: 1 of 2" in text
    # Late response after 1 infusion.
    late = m.late_response.iloc[0]
    assert (late.n, late.non_responders, late.late_responders, late.no_later_assessment) == (1, 5, 3, 1)
    assert f"3 of 4, {pct(late.late_response_rate)}" in text


def test_step_3_dropout_and_retention(doc, m):
    rows = table_after(doc, "Step 3: dropout and retention")
    d = m.dropout
    assert [int(row["infusion n"]) for row in rows] == column(d, "n")
    assert [int(row["stopped after n"]) for row in rows] == column(d, "dropped_after")
    assert [int(row["at risk at n"]) for row in rows] == column(d, "at_risk")
    assert [row["retained (reaching infusion n)"] for row in rows] == [pct(v) for v in column(d, "retained")]
    s = m.summary.iloc[0]
    assert (s.completed, s.dropped, s.in_progress, s.completion_rate) == (2, 2, 1, 0.5)
    assert "2 completed (A, B) of 4 ended (A, B, C, D) = 50%" in section(doc, "Step 3: dropout and retention")


def test_step_4_durability(doc, m):
    (row,) = table_after(doc, "Step 4: durability at one month")
    d = m.durability.iloc[0]
    for heading, name in (("eligible", "eligible"), ("durable", "durable"), ("lost", "lost"),
                          ("booster first", "booster_first"), ("no follow-up", "no_follow_up"), ("pending", "pending")):
        assert int(row[heading]) == d[name], heading
    assert row["durability rate"] == pct(d.durability_rate)
    assert row["conservative rate"] == pct(d.conservative_rate)
    text = section(doc, "Step 4: durability at one month")
    assert f"(95% Wilson interval {pct(d.rate_low)} to {pct(d.rate_high)})" in text


def test_step_5_early_improvement(doc, m):
    rows = table_after(doc, "Step 5: early improvement after 1 infusion")
    e = m.early_improvement
    e = e[e["k"] == 1].sort_values("band")
    assert [row["improvement after 1 infusion"] for row in rows] == ["below 20%", "20% to below 50%", "50% or more"]
    for row, (_, band) in zip(rows, e.iterrows()):
        for heading, name in (("patients", "patients"), ("no later score", "no_later_score"),
                              ("responded later", "responded_later"), ("ITT evaluable", "itt_evaluable"),
                              ("ITT responded", "itt_responded")):
            assert int(row[heading]) == band[name], (row["improvement after 1 infusion"], heading)
        assert row["later response"] == pct(band.later_response_rate)
        assert row["response (ITT)"] == pct(band.itt_rate)


def test_step_6_reliable_change_and_time_to_response(doc, m):
    rows = table_after(doc, "Step 6: reliable change, recovery and time to response")
    rc = m.reliable_change
    assert [row["category"].replace(" ", "_") for row in rows] == column(rc, "category")
    assert [int(row["patients"]) for row in rows] == column(rc, "patients")
    assert [int(row["of"]) for row in rows] == column(rc, "denominator")
    assert [row["rate"] for row in rows] == [pct(v) for v in column(rc, "rate")]
    medians = m.median_time_to_response().iloc[0]
    text = section(doc, "Step 6: reliable change, recovery and time to response")
    assert (f"median time to response is {medians.median_days} days** (95% interval {medians.median_low} to "
            f"{medians.median_high} days)") in text
    curve = m.time_to_response
    assert column(curve, "day") == [4, 7, 10, 24]
    assert column(curve, "responded") == [0, 2, 0, 1] and column(curve, "censored") == [1, 0, 1, 0]
    assert column(curve, "responded_share") == pytest.approx([0, 0.5, 0.5, 1])


# --- Pointers to the document ---------------------------------------------------------------------

def test_the_apps_methods_panel_ends_with_the_pointer(m, monkeypatch):
    from dashboard.ui import methods

    calls = []

    class FakeStreamlit:
        def markdown(self, text, *args, **kwargs):
            calls.append(("markdown", text))

        def dataframe(self, frame, *args, **kwargs):
            calls.append(("dataframe", frame))

    monkeypatch.setattr(methods, "st", FakeStreamlit())
    methods.methods(m, "Scores taken before each infusion.")
    kind, text = calls[-1]
    assert kind == "markdown" and "docs/METHODS.md" in text


def test_the_exports_help_points_to_the_document():
    done = subprocess.run([sys.executable, "-m", "dashboard.export", "--help"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert "docs/METHODS.md" in " ".join(done.stdout.split())


def test_the_reports_methods_point_to_the_document(engine, m):
    from dashboard.present import report

    page = report.report_html(engine.dataset, m, made_at=datetime(2026, 3, 4, tzinfo=timezone.utc))
    methods = re.search(r'<h3 id="methods">Methods</h3>\s*<p>(.*?)</p>', page, re.S)
    assert methods and "docs/METHODS.md" in methods.group(1)
    assert "docs/METHODS.md" in page.split("<footer>")[1]


def test_nothing_in_the_repository_points_outside_it():
    # The contract the team keeps beside the project is not shipped with it: the project's own
    # methods are docs/METHODS.md, and nothing names the other file.
    outside = ("../" + "shared", "shared/" + "METRICS", "METRICS" + ".md")
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if not path.is_file() or parts[0] in (".git", ".venv") or "__pycache__" in parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{path.relative_to(ROOT)}: {word}" for word in outside if word in text]
    assert not found
