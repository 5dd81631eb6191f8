"""python -m dashboard.export: the files and columns of docs/METHODS.md 19, clear errors, suppression,
and a messy export that gives exactly the numbers of the same visits written cleanly."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from dashboard.export import FILES, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.export", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_files_and_columns_are_the_contract(tmp_path):
    assert main([str(FIXTURES / "six_patients.csv"), "--out", str(tmp_path)]) == 0
    headers = {p.name: p.read_text().splitlines()[0] for p in tmp_path.glob("*.csv")}
    assert headers == {
        "response_by_infusion.csv": "n,assessed,responders,rate,rate_low,rate_high,remitters,remission_rate,"
                                    "cumulative_responders,evaluable,cumulative_rate",
        "late_response.csv": "n,non_responders,late_responders,no_later_assessment,late_response_rate",
        "dropout.csv": "n,dropped_after,retained",
        "durability.csv": "eligible,durable,lost,booster_first,no_follow_up,pending,durability_rate,rate_low,"
                          "rate_high,conservative_rate",
        "rejections.csv": "file,line,column,value,reason",
        # docs/METHODS.md 19 (funnel.csv only with --funnel-by: test_export_decisions.py).
        "early_improvement.csv": "k,band_from,band_to,patients,no_later_score,responded_later,later_response_rate,"
                                 "rate_low,rate_high,itt_evaluable,itt_responded,itt_rate",
        "reliable_change.csv": "category,patients,denominator,rate,rate_low,rate_high",
        "time_to_response.csv": "day,at_risk,responded,censored,responded_share,share_low,share_high",
    }
    response = read(tmp_path / "response_by_infusion.csv")
    # Hand-worked in test_metrics_hand_worked.py: 1/5 after one infusion, 2/3 after two.
    assert [(r["n"], r["assessed"], r["responders"]) for r in response[:2]] == [("1", "5", "1"), ("2", "3", "2")]
    assert float(response[1]["rate"]) == 2 / 3  # unrounded
    late = read(tmp_path / "late_response.csv")
    assert late[1]["late_response_rate"] == ""  # undefined: empty
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["settings"]["score_timing"] == "pre" and settings["settings"]["as_of"] == "2025-03-10"
    assert (settings["rows_read"], settings["rows_used"], settings["rows_rejected"]) == (34, 33, 1)
    assert read(tmp_path / "rejections.csv") == [{
        "file": "six_patients.csv", "line": "35", "column": "session_type", "value": "No-show",
        "reason": "not a visit: unrecognised session type"}]


def test_every_setting_is_an_option(tmp_path):
    out = tmp_path / "o"
    result = run_cli(str(FIXTURES / "six_patients.csv"), "--out", str(out), "--measure", "phq9", "--min-baseline", "5",
                     "--score-timing", "post", "--planned", "6", "--series-gap-days", "21",
                     "--baseline-window-days", "30", "--end-of-series-days", "14", "--response-reduction", "0.5",
                     "--as-of", "2025-03-10", "--follow-up-days", "30", "--follow-up-window", "21..45",
                     "--min-cell", "0", "--early-bands", "0.25,0.5")
    assert result.returncode == 0, result.stderr
    settings = json.loads((out / "settings.json").read_text())["settings"]
    assert settings["min_baseline"] == 5 and settings["score_timing"] == "post"
    assert settings["follow_up_window"] == "21..45" and settings["early_bands"] == "0.25,0.5"


def test_min_cell_suppresses_counts_and_their_rates(tmp_path):
    assert main([str(FIXTURES / "six_patients.csv"), "--out", str(tmp_path), "--min-cell", "3"]) == 0
    first, second = read(tmp_path / "response_by_infusion.csv")[:2]
    # n=1: 5 assessed, 1 responder (< 3), as the app shows it at 3 (the file holds the app's view):
    # the 5 is hidden, since early_improvement splits them 1, 3, 1 by improvement band, and with 5
    # shown the two "<3" bands (at least 1 each) would add up to 2 or less: 1 each. The 1 responder
    # is not shown at all (empty, not "<3"): with the counts beside it on screen, "<3" would pin it
    # (suppression.suppressed_cells, "blanked"); its rates are empty.
    assert (first["assessed"], first["responders"], first["rate"], first["rate_low"]) == ("hidden", "", "", "")
    assert first["evaluable"] == "5" and first["cumulative_rate"] == ""  # 1 cumulative responder
    assert second["assessed"] == "3" and second["responders"] == "<3"


@pytest.mark.parametrize("content,fragment", [
    (b"", "the file is empty"),
    (b"Who,When\nx,y\n", "Could not recognise these columns"),
])
def test_unreadable_input_exits_non_zero_with_one_clear_message(tmp_path, content, fragment):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = run_cli(str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode != 0
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_file_and_bad_option_are_plain_errors(tmp_path):
    result = run_cli(str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert result.returncode != 0 and "Traceback" not in result.stderr and "nope.csv" in result.stderr
    result = run_cli(str(FIXTURES / "six_patients.csv"), "--out", str(tmp_path / "o"), "--follow-up-window", "45")
    assert result.returncode != 0 and "Traceback" not in result.stderr


def test_rejections_csv_neutralises_formulas(tmp_path):
    src = tmp_path / "x.csv"
    src.write_text("patient_id,session_date,phq9\n=HYPERLINK(\"x\"),2025-01-01,@SUM(1)\n")
    assert main([str(src), "--out", str(tmp_path / "o")]) == 0
    rows = read(tmp_path / "o" / "rejections.csv")
    assert rows[0]["value"] == "'@SUM(1)"


# --- A messy export against the same visits written cleanly ------------------------------------

def clinic_rows(seed: int = 11, patients: int = 80) -> list[dict]:
    """A deterministic small clinic: baselines, series with dropout and gaps, follow-ups, boosters."""
    rnd = random.Random(seed)
    rows = []
    for p in range(patients):
        pid, site, start = f"P{p:03d}", rnd.choice(["North", "Südstadt"]), date(2025, 1, 1) + timedelta(days=rnd.randint(0, 300))
        base = rnd.randint(8, 26)
        rows.append(dict(pid=pid, day=start - timedelta(days=rnd.randint(0, 10)), type="baseline", phq=base,
                         gad=rnd.randint(0, 21), site=site))
        day, score = start, base
        for k in range(1, rnd.choice([1, 2, 3, 4, 6, 6, 6, 7]) + 1):
            rows.append(dict(pid=pid, day=day, type="infusion", num=k, phq=score, gad=rnd.choice([None, rnd.randint(0, 21)]),
                             site=site))
            score = max(0, score - rnd.randint(0, 5))
            day += timedelta(days=rnd.choice([2, 3, 4, 25]) if k < 6 else rnd.randint(20, 40))
        if rnd.random() < 0.7:
            rows.append(dict(pid=pid, day=day + timedelta(days=rnd.randint(0, 35)), type="follow_up",
                             phq=min(27, score + rnd.randint(0, 6)), site=site))
    return rows


def write_clean(rows, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["patient_id", "session_date", "session_type", "infusion_number", "phq9", "gad7", "site"])
        for r in rows:
            w.writerow([r["pid"], r["day"].isoformat(), r["type"], r.get("num", ""), r["phq"],
                        "" if r.get("gad") is None else r["gad"], r["site"]])


def write_messy(rows, path: Path, rnd: random.Random) -> list[int]:
    """Semicolons, Windows-1252, 31.12.2025 dates, EHR headers and values, CRLF, a few dozen bad
    lines (every one rejected whole). Returns the bad lines' numbers."""
    kinds = {"baseline": "Intake", "infusion": "Ketamine IV", "follow_up": "Check-in"}
    lines = ["MRN;Date of Service;Encounter Type;Infusion #;PHQ-9 Total;GAD-7;Clinic"]
    bad = []
    for r in rows:
        lines.append(";".join([r["pid"], r["day"].strftime("%d.%m.%Y"), kinds[r["type"]], str(r.get("num", "")),
                               f"{r['phq']},0" if r["phq"] % 2 else str(r["phq"]),
                               "N/A" if r.get("gad") is None else str(r["gad"]), r["site"]]))
        if rnd.random() < 0.08:
            junk = rnd.choice([
                f"{r['pid']};{r['day'].strftime('%d.%m.%Y')};No-show;;;;{r['site']}",
                f";{r['day'].strftime('%d.%m.%Y')};Ketamine IV;;12;;{r['site']}",
                f"{r['pid']};31.02.2025;Ketamine IV;;12;;{r['site']}",
                f"{r['pid']};{r['day'].strftime('%d.%m.%Y')};Cancelled;;;;{r['site']}",
                lines[-1] + ";extra;fields",
                lines[-1],  # an exact repeat of the line before
            ])
            lines.append(junk)
            bad.append(len(lines))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return bad


def test_messy_export_gives_the_clean_numbers(tmp_path):
    rows = clinic_rows()
    write_clean(rows, tmp_path / "clean.csv")
    bad_lines = write_messy(rows, tmp_path / "messy.csv", random.Random(5))
    assert 20 <= len(bad_lines) <= 60
    assert main([str(tmp_path / "clean.csv"), "--out", str(tmp_path / "a")]) == 0
    assert main([str(tmp_path / "messy.csv"), "--out", str(tmp_path / "b")]) == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text(), name
    assert read(tmp_path / "a" / "rejections.csv") == []
    rejected = read(tmp_path / "b" / "rejections.csv")
    assert sorted(int(r["line"]) for r in rejected) == bad_lines
    summary = json.loads((tmp_path / "b" / "settings.json").read_text())
    assert "semicolon-separated, Windows-1252" in summary["files"][0]["read_as"]
    assert summary["rows_rejected"] == len(bad_lines)


def test_map_and_measures_files(tmp_path):
    """--map names unrecognised headers; --measures declares a scale (HAM-A) the export can use."""
    src = tmp_path / "odd.csv"
    src.write_text("Who,When,Kind,Anx\nP1,2025-01-01,Consult,30\nP1,2025-01-02,,30\nP1,2025-01-05,,12\n")
    mapping = tmp_path / "map.json"
    mapping.write_text('{"columns": {"Who": "patient_id", "When": "session_date", "Kind": "session_type", '
                       '"Anx": "hama"}, "session_types": {"Consult": "baseline"}}')
    measures = tmp_path / "measures.toml"
    measures.write_text('[hama]\nlabel = "HAM-A"\nrange = [0, 56]\nbetter = "lower"\nmin_baseline = 18\n')
    out = tmp_path / "o"
    result = run_cli(str(src), "--out", str(out), "--map", str(mapping), "--measures", str(measures),
                     "--measure", "hama", "--planned", "2")
    assert result.returncode == 0, result.stderr
    first = read(out / "response_by_infusion.csv")[0]
    # Baseline 30 (the Consult row); after 1 infusion (pre timing: the 01-05 check-in) 12 <= 15.
    assert (first["assessed"], first["responders"]) == ("1", "1")
    assert read(out / "rejections.csv") == []


def test_export_equals_the_full_engine(tmp_path):
    """The export builds only what it writes (no filter dimensions but planned_infusions, the
    primary measure's scores and assessments); its numbers and rejections equal the full load's
    and engine's on the sample data."""
    from conftest import load_files, metrics_for

    sample = ROOT / "sample_data" / "ketamine_clinic_export.csv"
    planned = sample.read_text().replace("patient_id,", "planned_infusions,patient_id,", 1)
    lines = planned.splitlines()
    # Plan 4 infusions for every tenth patient's rows, to exercise the per-patient override.
    rows = [("4," if i % 10 == 0 else ",") + line for i, line in enumerate(lines[1:])]
    path = tmp_path / "planned.csv"
    path.write_text("\n".join([lines[0]] + rows) + "\n")
    assert main([str(path), "--out", str(tmp_path / "o")]) == 0
    dataset = load_files((path.name, path.read_bytes()))
    full = metrics_for(dataset)
    # The same rejections too (the sample's bad values include other measures' than PHQ-9's).
    assert [tuple(r.values()) for r in read(tmp_path / "o" / "rejections.csv")] == [
        tuple(str(v) for v in row) for row in dataset.rejection_rows()]
    for filename, (table, columns) in FILES.items():
        exported = read(tmp_path / "o" / filename)
        expected = getattr(full, table)[columns]
        assert len(exported) == len(expected), filename
        for got, want in zip(exported, expected.itertuples(index=False)):
            for col, value in zip(columns, want):
                if value is None or value != value:
                    assert got[col] == "", (filename, col)
                elif isinstance(value, str):  # reliable_change.csv's category
                    assert got[col] == value, (filename, col)
                else:
                    assert float(got[col]) == pytest.approx(float(value)), (filename, col)


def test_other_measures_are_judged_though_only_the_primary_is_kept(tmp_path):
    """The export keeps only the primary measure's scores and leaves the others' good numbers
    unread, yet every other score is judged as in the app. Worked by hand, GAD-7 (range 0-21) in
    a semicolon file, where a decimal comma is a decimal point:
      line 2  P1 01-01 baseline  gad7 22    GAD-7 out of range 0-21
      line 3  P1 01-03 infusion  gad7 x     not a number
      line 4  P1 01-05 infusion  gad7 7,5   7.5: fine
      line 5  P1 01-07 infusion  gad7 9     one visit with line 6 (same PHQ-9, 12): the GAD-7
      line 6  P1 01-07 infusion  gad7 10    values differ, so both are rejected
      line 7  P2 01-07 infusion  gad7 21    top of the range: fine
      line 8  P2 01-09 infusion  gad7 -1    GAD-7 out of range 0-21
      line 9  P2 01-11 infusion  gad7 NA    missing, not an error
    """
    path = tmp_path / "gad.csv"
    path.write_text("patient_id;session_date;session_type;phq9;gad7\n"
                    "P1;2025-01-01;baseline;20;22\nP1;2025-01-03;infusion;18;x\nP1;2025-01-05;infusion;15;7,5\n"
                    "P1;2025-01-07;infusion;12;9\nP1;2025-01-07;infusion;12;10\nP2;2025-01-07;infusion;16;21\n"
                    "P2;2025-01-09;infusion;14;-1\nP2;2025-01-11;infusion;13;NA\n")
    assert main([str(path), "--out", str(tmp_path / "o")]) == 0
    conflict = "conflicting duplicate: this visit has different gad7 scores"
    expected = [("2", "22", "GAD-7 out of range 0-21"), ("3", "x", "not a number"), ("5", "9", conflict),
                ("6", "10", conflict), ("8", "-1", "GAD-7 out of range 0-21")]
    assert [(r["line"], r["value"], r["reason"]) for r in read(tmp_path / "o" / "rejections.csv")] == expected
    assert {r["column"] for r in read(tmp_path / "o" / "rejections.csv")} == {"gad7"}
    # The same as the app's full load, which keeps every score.
    from conftest import load_files

    full = load_files((path.name, path.read_bytes()))
    assert [(str(line), value, reason) for _, line, _, value, reason in full.rejection_rows()] == expected
    assert full.con.execute("SELECT score FROM scores WHERE measure = 'gad7' ORDER BY score").fetchall() == [
        (7.5,), (21.0,)]


def test_the_export_imports_no_pandas_unless_it_suppresses(tmp_path):
    """pandas takes about a third of a second to import: the export leaves it out unless counts
    are suppressed (the suppression works on frames) or the report is written."""
    check = ("import sys\nfrom dashboard.export import main\n"
             "main([sys.argv[1], '--out', sys.argv[2], '--min-cell', sys.argv[3]])\n"
             "print('pandas' in sys.modules)")
    fixture = str(FIXTURES / "six_patients.csv")
    imported = [subprocess.run([sys.executable, "-c", check, fixture, str(tmp_path / k), k], cwd=ROOT,
                               capture_output=True, text=True, timeout=120, check=True).stdout.split()[-1]
                for k in ("0", "3")]
    assert imported == ["False", "True"]


def test_the_export_uses_every_core_a_browser_session_two(tmp_path):
    """A browser session's queries use 2 threads, as sessions share the server; the command-line
    export has the machine to itself and leaves DuckDB its default, every core (as the bare
    DuckDB query it is benchmarked against does), unless DASHBOARD_DUCKDB_THREADS says otherwise.
    Printed: the export's threads, DuckDB's default, a browser session's."""
    check = textwrap.dedent("""
        import sys, duckdb
        from dashboard.core import db
        made = []
        connect = db.connect
        db.connect = lambda threads=db.THREADS: made.append(connect(threads)) or made[-1]
        from dashboard.export import main
        main([sys.argv[1], '--out', sys.argv[2]])
        q = "SELECT current_setting('threads')"
        print(made[0].execute(q).fetchone()[0], duckdb.connect().execute(q).fetchone()[0], connect().execute(q).fetchone()[0])
    """)

    def threads(**env):
        environment = {k: v for k, v in os.environ.items() if k != "DASHBOARD_DUCKDB_THREADS"} | env
        out = subprocess.run([sys.executable, "-c", check, str(FIXTURES / "six_patients.csv"), str(tmp_path / "out")],
                             cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=True)
        return [int(t) for t in out.stdout.split()[-3:]]

    export, duckdb_default, session = threads()
    assert export == duckdb_default and session == min(2, os.cpu_count() or 1)
    export, _, session = threads(DASHBOARD_DUCKDB_THREADS="1")
    assert export == session == 1
