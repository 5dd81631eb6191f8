"""python -m dashboard.export, docs/METHODS.md 19: early_improvement.csv, reliable_change.csv,
time_to_response.csv, funnel.csv with --funnel-by, --compare-by adding a `group` column to every
metric file, --early-bands; on the patients worked out by hand in test_new_metrics.py."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, load_files, metrics_for
from test_new_metrics import HAND

from dashboard.engine.metrics import Cohort
from dashboard.export import FILES, main

FUNNEL_HEADER = "group,numerator,denominator,rate,target,low_998,low_95,high_95,high_998,position"


def read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def hand_csv(tmp_path) -> Path:
    path = tmp_path / "hand.csv"
    path.write_text(HAND)
    return path


def export(hand_csv: Path, out: Path, *args: str) -> int:
    return main([str(hand_csv), "--out", str(out), "--planned", "4", *args])


def test_the_new_files_by_hand(hand_csv, tmp_path):
    assert export(hand_csv, tmp_path / "o") == 0
    out = tmp_path / "o"
    assert not (out / "funnel.csv").exists()  # only with --funnel-by
    early = read(out / "early_improvement.csv")
    assert [(r["k"], r["band_from"], r["band_to"], r["patients"], r["no_later_score"], r["responded_later"])
            for r in early[:3]] == [("1", "", "0.2", "4", "1", "2"), ("1", "0.2", "0.5", "1", "0", "1"),
                                    ("1", "0.5", "", "1", "1", "0")]
    assert float(early[0]["later_response_rate"]) == 2 / 3 and float(early[0]["itt_rate"]) == 0.5
    assert (early[2]["later_response_rate"], early[2]["rate_low"], early[2]["itt_rate"]) == ("", "", "")
    assert [(r["category"], r["patients"], r["denominator"]) for r in read(out / "reliable_change.csv")] == [
        ("reliable_improvement", "3", "6"), ("no_reliable_change", "2", "6"), ("reliable_deterioration", "1", "6"),
        ("recovery", "4", "5"), ("reliable_recovery", "3", "5")]
    times = read(out / "time_to_response.csv")
    assert [(r["day"], r["at_risk"], r["responded"], r["censored"]) for r in times] == [
        ("3", "6", "1", "1"), ("4", "4", "1", "0"), ("6", "3", "0", "1"), ("9", "2", "2", "0")]
    assert float(times[1]["responded_share"]) == pytest.approx(3 / 8)
    settings = json.loads((out / "settings.json").read_text())
    assert settings["settings"]["early_bands"] == "0.2,0.5"
    assert "compare_by" not in settings and "funnel_by" not in settings


def test_funnel_csv_by_hand(hand_csv, tmp_path):
    """Completion by site (worked in test_new_metrics.test_funnel_by_hand): North 1 of 2, South 3
    of 4, the patient without a site 0 of 0; target 4/6."""
    out = tmp_path / "o"
    assert export(hand_csv, out, "--funnel-by", "site", "--funnel-outcome", "completion") == 0
    assert (out / "funnel.csv").read_text().splitlines()[0] == FUNNEL_HEADER
    rows = read(out / "funnel.csv")
    assert [(r["group"], r["numerator"], r["denominator"], r["position"]) for r in rows] == [
        ("(not recorded)", "0", "0", ""), ("North", "1", "2", "within"), ("South", "3", "4", "within")]
    assert {float(r["target"]) for r in rows} == {4 / 6}
    assert float(rows[2]["high_95"]) == pytest.approx((4 - 0.025 * 81 / 16) / 4)
    assert rows[0]["low_95"] == ""  # no denominator, no limits
    settings = json.loads((out / "settings.json").read_text())
    assert (settings["funnel_by"], settings["funnel_outcome"]) == ("site", "completion")
    # The default outcome: intention-to-treat response after N (North 1 of 2, South 2 of 3).
    assert export(hand_csv, tmp_path / "d", "--funnel-by", "site") == 0
    assert [(r["group"], r["numerator"], r["denominator"]) for r in read(tmp_path / "d" / "funnel.csv")] == [
        ("(not recorded)", "0", "0"), ("North", "1", "2"), ("South", "2", "3")]


def test_compare_by_adds_a_group_column_to_every_metric_file(hand_csv, tmp_path):
    """One block of rows per group, each equal to the engine's numbers for that group; funnel.csv
    keeps its own `group` (the funnel's dimension), with no second one."""
    out = tmp_path / "o"
    assert export(hand_csv, out, "--compare-by", "site", "--funnel-by", "baseline_severity") == 0
    split = metrics_for(load_files(("hand.csv", HAND.encode())), Cohort.of(split_by="site"), planned=4)
    for filename, (table, columns) in FILES.items():
        text = (out / filename).read_text()
        assert text.splitlines()[0] == ",".join(["group", *columns]), filename
        rows = read(out / filename)
        expected = getattr(split, table)
        assert [r["group"] for r in rows] == expected["grp"].tolist(), filename
        for got, want in zip(rows, expected[columns].itertuples(index=False)):
            for col, value in zip(columns, want):
                if value is None or value != value:
                    assert got[col] == "", (filename, col)
                elif isinstance(value, str):
                    assert got[col] == value, (filename, col)
                else:
                    assert float(got[col]) == pytest.approx(float(value)), (filename, col)
    assert (out / "funnel.csv").read_text().splitlines()[0] == FUNNEL_HEADER
    assert [r["group"] for r in read(out / "funnel.csv")] == [
        "(no baseline)", "mild (5-9)", "moderate (10-14)", "moderately severe (15-19)", "severe (20-27)"]
    assert json.loads((out / "settings.json").read_text())["compare_by"] == "site"


def test_early_bands_flag(hand_csv, tmp_path):
    assert export(hand_csv, tmp_path / "o", "--early-bands", "0.3") == 0
    early = read(tmp_path / "o" / "early_improvement.csv")
    assert [(r["k"], r["band_from"], r["band_to"], r["patients"]) for r in early[:2]] == [
        ("1", "", "0.3", "5"), ("1", "0.3", "", "1")]


def test_a_measure_without_thresholds_writes_a_header_only(hand_csv, tmp_path):
    assert export(hand_csv, tmp_path / "o", "--measure", "isi") == 0
    assert (tmp_path / "o" / "reliable_change.csv").read_text() == (
        "category,patients,denominator,rate,rate_low,rate_high\n")


def test_min_cell_hides_the_new_files_small_counts(hand_csv, tmp_path):
    out = tmp_path / "o"
    assert export(hand_csv, out, "--min-cell", "3", "--funnel-by", "site") == 0
    counts = {"early_improvement.csv": ("patients", "no_later_score", "responded_later", "itt_evaluable",
                                        "itt_responded"),
              "reliable_change.csv": ("patients", "denominator"),
              "time_to_response.csv": ("at_risk", "responded", "censored"),
              "time_to_response_weekly.csv": ("at_risk", "responded", "censored"),
              "funnel.csv": ("numerator", "denominator")}
    for name, columns in counts.items():
        for row in read(out / name):
            for col in columns:
                assert row[col] not in ("1", "2"), (name, col)  # shown as <3 (or hidden)
    changes = read(out / "reliable_change.csv")
    assert [(r["category"], r["patients"], r["rate"]) for r in changes[1:3]] == [
        ("no_reliable_change", "<3", ""), ("reliable_deterioration", "<3", "")]
    # With counts hidden the curve is written by week; the days keep their rows, every count and
    # share empty. Every week here rests on fewer than 3 responses: no share is shown.
    days = read(out / "time_to_response.csv")
    assert [r["day"] for r in days] == ["3", "4", "6", "9"]
    assert {v for r in days for col, v in r.items() if col != "day"} == {""}
    assert {r["responded_share"] for r in read(out / "time_to_response_weekly.csv")} == {""}
    north = read(out / "funnel.csv")[1]
    assert (north["group"], north["denominator"], north["rate"], north["low_95"], north["position"]) == (
        "North", "<3", "", "", "")


@pytest.mark.parametrize("args,fragment", [
    (["--compare-by", "clinic"], "no dimension 'clinic'"),
    (["--funnel-by", "clinic"], "no dimension 'clinic'"),
    (["--funnel-outcome", "completion"], "--funnel-outcome needs --funnel-by"),
    (["--early-bands", "0.5,0.2"], "0.2,0.5"),
    (["--funnel-by", "site", "--funnel-outcome", "ranking"], "invalid choice"),
])
def test_plain_errors(hand_csv, tmp_path, args, fragment):
    result = subprocess.run([sys.executable, "-m", "dashboard.export", str(hand_csv), "--out", str(tmp_path / "o"),
                             *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_the_funnel_needs_no_pandas(hand_csv, tmp_path):
    check = ("import sys\nfrom dashboard.export import main\n"
             "main([sys.argv[1], '--out', sys.argv[2], '--funnel-by', 'site', '--compare-by', 'site'])\n"
             "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", check, str(hand_csv), str(tmp_path / "o")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split()[-1] == "False"


# --- --compare-by with --min-cell: suppressed with the whole cohort, as the app's comparison ------

SAMPLE = ROOT / "sample_data" / "ketamine_clinic_export.csv"
K = 11


@pytest.fixture(scope="module")
def sample_exports(tmp_path_factory):
    """The sample exported at --min-cell 11, of all patients and by site (and by site with the
    funnel of baseline severity: the funnel's own split), and the engine the app would use."""
    from dashboard.engine.metrics import Engine

    out = tmp_path_factory.mktemp("exports")
    runs = {"plain": [], "split": ["--compare-by", "site"],
            "funnel": ["--compare-by", "site", "--funnel-by", "baseline_severity"]}
    for name, args in runs.items():
        assert main([str(SAMPLE), "--out", str(out / name), "--min-cell", str(K), *args]) == 0
    return out, Engine(load_files((SAMPLE.name, SAMPLE.read_bytes())))


def written_cells(path: Path) -> list[dict]:
    """A written file's cells as shown_tables gives them: empty as None, numbers as floats, text
    ('<K', 'hidden', a group or category) as it is."""
    def cell(v):
        try:
            return None if v == "" else float(v)
        except ValueError:
            return v
    return [{col: cell(v) for col, v in row.items()} for row in read(path)]


def app_cells(frame, columns: list[str]) -> list[dict]:
    """The app's shown table in the same form (a file's `group` is the table's `grp`)."""
    import pandas as pd

    def cell(v):
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v if isinstance(v, str) else float(v)
    return [{col: cell(row["grp" if col == "group" else col]) for col in columns} for _, row in frame.iterrows()]


def assert_same_cells(written: list[dict], shown: list[dict], filename: str) -> None:
    assert len(written) == len(shown), filename
    for i, (got, want) in enumerate(zip(written, shown)):
        for col, value in want.items():
            if isinstance(value, float):
                assert got[col] == pytest.approx(value), (filename, i, col, got[col], value)
            else:
                assert got[col] == value, (filename, i, col, got[col], value)


def test_export_by_site_at_eleven_is_the_apps_comparison_view(sample_exports):
    """--compare-by site --min-cell 11: every metric file holds, cell for cell, the table the app's
    comparison view shows (the groups suppressed with the whole cohort: shown_metrics(metrics,
    overall), as dashboard/app.py calls it), and funnel.csv the "Compare fairly" panel's funnel."""
    from dashboard.core.settings import Settings
    from dashboard.engine.metrics import Engine
    from dashboard.engine.suppression import shown_metrics
    from dashboard.export import WEEKLY_FILE

    out, engine = sample_exports
    s = Settings(min_cell=K)
    split, whole = engine.compute(s, Cohort(split_by="site")), engine.compute(s)
    app = shown_metrics(split, whole)
    files = {**FILES, WEEKLY_FILE[0]: (WEEKLY_FILE[1], WEEKLY_FILE[2])}
    for filename, (table, columns) in files.items():
        assert_same_cells(written_cells(out / "split" / filename), app_cells(app[table], ["group", *columns]), filename)
    # Not all hidden: most of each group's counts are shown.
    response = written_cells(out / "split" / "response_by_infusion.csv")
    assert sum(isinstance(r["assessed"], float) for r in response) > len(response) / 2
    # The funnel, as decisions.funnel_shown gives it for another dimension than the comparison's.
    by_severity = Engine(load_files((SAMPLE.name, SAMPLE.read_bytes()))).compute(
        s, Cohort(split_by="baseline_severity"), {"funnel"})
    funnel = shown_metrics(by_severity, whole)["funnel"]
    funnel = funnel[funnel["outcome"] == "itt_response"]
    assert_same_cells(written_cells(out / "funnel" / "funnel.csv"),
                      app_cells(funnel, FUNNEL_HEADER.split(",")), "funnel.csv")
    for filename in files:  # the funnel changes nothing else
        assert (out / "funnel" / filename).read_text() == (out / "split" / filename).read_text(), filename


def test_export_at_eleven_is_the_apps_view(sample_exports):
    """--min-cell 11 without a comparison: every metric file holds, cell for cell, the table the app
    shows at 11 (shown_metrics(metrics)). Before, the files were suppressed on their own columns and
    showed a count the screen hides: "keep going?" after 5 infusions, band 20-50%, 28 patients with
    no later score (hidden on screen, where the number scored again is shown beside it)."""
    from dashboard.core.settings import Settings
    from dashboard.engine.suppression import shown_metrics
    from dashboard.export import WEEKLY_FILE

    out, engine = sample_exports
    app = shown_metrics(engine.compute(Settings(min_cell=K)))
    files = {**FILES, WEEKLY_FILE[0]: (WEEKLY_FILE[1], WEEKLY_FILE[2])}
    for filename, (table, columns) in files.items():
        assert_same_cells(written_cells(out / "plain" / filename), app_cells(app[table], columns), filename)
    early = written_cells(out / "plain" / "early_improvement.csv")
    row = next(r for r in early if r["k"] == 5 and r["band_from"] == pytest.approx(0.2))
    assert row["no_later_score"] == "hidden"


def test_exports_of_all_and_by_site_at_eleven_together_give_no_small_count_away(sample_exports):
    """A reader holding both the export of all patients and the export by site, each at
    --min-cell 11, can subtract the sites' shown counts from the whole's: no count from 1 to 10
    may be pinned down by every sum at once (the linear-programming audit of test_suppression).
    Suppressing each site's tables on their own (as the export did) let it: North's patients with
    no later score after 1 infusion in the 20-50% band, 10, were the whole's count less the other
    sites'; and Riverside's after 3 infusions in the 50%+ band, 10, too."""
    from test_suppression import assert_nothing_small_recoverable

    from dashboard.core.settings import Settings
    from dashboard.engine.suppression import COUNT_COLUMNS, metric_frames, shown_tables

    out, engine = sample_exports
    s = Settings(min_cell=K)
    split, whole = engine.compute(s, Cohort(split_by="site")), engine.compute(s)
    files = {table: (filename, columns) for filename, (table, columns) in FILES.items()}
    tables = ["response", "late_response", "dropout", "durability", "early_improvement", "reliable_change"]
    frames = {prefix + table: m_frames[table].reset_index(drop=True)
              for prefix, m_frames in (("", metric_frames(split)), ("overall.", metric_frames(whole)))
              for table in tables}

    def as_read(name: str, cells: list[dict]):
        """The table as a reader of the file knows it: the written counts, the others unknown."""
        raw = frames[name]
        assert len(cells) == len(raw), name
        known = raw.astype(object)
        for col in COUNT_COLUMNS[name.removeprefix("overall.")]:
            known[col] = [row[col] for row in cells] if col in cells[0] else None
        return known

    shown = {prefix + table: as_read(prefix + table, written_cells(out / folder / files[table][0]))
             for prefix, folder in (("", "split"), ("overall.", "plain")) for table in tables}
    assert_nothing_small_recoverable(frames, shown, K)

    # The sites' tables suppressed on their own, beside the same export of all patients: the
    # audit finds the small counts given away.
    alone = shown_tables({table: frames[table] for table in tables}, K,
                         displayed={table: files[table][1] for table in tables})
    leaky = shown | {table: alone[table] for table in tables}
    with pytest.raises(AssertionError, match="is pinned down"):
        assert_nothing_small_recoverable(frames, leaky, K)
    early = frames["early_improvement"]
    for grp, k, band_from in (("North", 1, 0.2), ("Riverside", 3, 0.5)):
        row = early.index[(early["grp"] == grp) & (early["k"] == k) & (early["band_from"] == band_from)][0]
        assert early.loc[row, "no_later_score"] == 10
        assert alone["early_improvement"].loc[row, "no_later_score"] == "<11"
        assert shown["early_improvement"].loc[row, "no_later_score"] in ("<11", "hidden")
