"""python -m dashboard.export INPUT... --out DIR: the metric tables as CSV files (docs/METHODS.md 19).

A thin wrapper over ingest and metrics, like the app. Imports no Streamlit, and no pandas unless
counts are suppressed or the report is written (pandas alone takes a third of a second to import).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dashboard.core import db
from dashboard.core.measures import BUILTIN, MeasuresFileError, load_measures_file
from dashboard.core.settings import CONTROL_PERIODS, Settings, parse_bands, parse_window
from dashboard.engine.metrics import (
    SEVERITY_DIM,
    WEEKLY_COLUMNS,
    Cohort,
    Engine,
    MetricRows,
    pools_by_week,
)
from dashboard.engine.sample import is_sample
from dashboard.ingest import Mapping, MappingError, UnreadableFile, load
from dashboard.present.export_files import FILES
from dashboard.present.formatting import csv_text
from dashboard.present.labels import left_out_note
from dashboard.present.methods_text import as_plain_text

# Written only with --min-cell 2 or more: the time-to-response curve by week as the app and the
# report show it (the same suppressed table as their table download's time_to_response_weekly.csv),
# one row per week with an event; a first column `group` with --compare-by, as in the other files.
WEEKLY_FILE = ("time_to_response_weekly.csv", "time_to_response_weekly", [c for c in WEEKLY_COLUMNS if c != "grp"])
# Written only with --funnel-by DIM: one row per group of DIM, for one outcome (docs/METHODS.md 13, 19).
# Its `group` is DIM's value; --compare-by adds no second one.
FUNNEL_FILE = ("funnel.csv", "funnel", [
    "group", "numerator", "denominator", "rate", "target", "low_998", "low_95", "high_95", "high_998", "position"])
FUNNEL_OUTCOMES = ("itt_response", "completion", "durability")
REJECTION_COLUMNS = ["file", "line", "column", "value", "reason"]


def parser() -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(prog="python -m dashboard.export", description=__doc__.splitlines()[0],
                                epilog=as_plain_text(d), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="CSV or XLSX visit exports")
    p.add_argument("--out", required=True, type=Path, help="folder for the CSV files")
    p.add_argument("--measure", default=d.measure, help="primary measure (default %(default)s)")
    p.add_argument("--min-baseline", type=float, default=None, help="minimum baseline (default: the measure's)")
    p.add_argument("--score-timing", choices=["pre", "post"], default=d.score_timing)
    p.add_argument("--planned", type=int, default=d.planned)
    p.add_argument("--series-gap-days", type=int, default=d.series_gap_days)
    p.add_argument("--baseline-window-days", type=int, default=d.baseline_window_days)
    p.add_argument("--end-of-series-days", type=int, default=d.end_of_series_days)
    p.add_argument("--response-reduction", type=float, default=d.response_reduction)
    p.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="YYYY-MM-DD (default: the latest visit up to today; never after today)")
    p.add_argument("--follow-up-days", type=int, default=d.follow_up_days)
    p.add_argument("--follow-up-window", type=parse_window, default=d.follow_up_window, help="e.g. 21..45")
    p.add_argument("--min-cell", type=int, default=d.min_cell,
                   help="suppress counts below this (default off); from 2 up, time_to_response.csv keeps one row "
                        "per day but leaves every count and share empty, and the curve is written by week to "
                        "time_to_response_weekly.csv, as the app and the report show it")
    p.add_argument("--measures", type=Path, help="TOML file declaring more measures")
    p.add_argument("--map", type=Path, help="JSON column mapping file")
    p.add_argument("--early-bands", type=_bands, default=d.early_bands, metavar="CUTS",
                   help="cut-offs of the early-improvement bands, as fractions of the baseline (default 0.2,0.5)")
    p.add_argument("--compare-by", metavar="DIM", default="",
                   help="add a first column `group` to every metric file: one block of rows per value of DIM "
                        f"(a column of the data, age_band, start_quarter or {SEVERITY_DIM}); with --min-cell, "
                        "the groups' counts are hidden together with the whole selection's, as in the app")
    p.add_argument("--funnel-by", metavar="DIM", default="",
                   help="also write funnel.csv: each group of DIM against the whole selection's rate")
    p.add_argument("--funnel-outcome", choices=FUNNEL_OUTCOMES, default=None,
                   help="the funnel's outcome (default itt_response; needs --funnel-by)")
    p.add_argument("--over-time", choices=CONTROL_PERIODS, default=d.control_period,
                   help="the report's p-charts: a point per month (default) or quarter of series start")
    p.add_argument("--report", type=Path, help="also write the report for the minutes (one HTML page) to this file; "
                                               "counts below --min-cell, or below 11 when it is 0, are hidden; "
                                               "with --compare-by, the report compares its groups, funnel plots "
                                               "included, as the app's report of a comparison view")
    return p


def _bands(text: str) -> tuple[float, ...]:
    """--early-bands 0.2,0.5, with parse_bands' message on a mistake (argparse hides a ValueError's)."""
    try:
        return parse_bands(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        measure=args.measure, min_baseline=args.min_baseline, response_reduction=args.response_reduction,
        score_timing=args.score_timing, planned=args.planned, series_gap_days=args.series_gap_days,
        baseline_window_days=args.baseline_window_days, end_of_series_days=args.end_of_series_days,
        as_of=args.as_of, follow_up_days=args.follow_up_days, follow_up_window=args.follow_up_window,
        min_cell=args.min_cell, control_period=args.over_time, early_bands=args.early_bands,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_from(args)
        settings.validate()
        measures = load_measures_file(args.measures.read_text(encoding="utf-8")) if args.measures else BUILTIN
        mapping = Mapping.from_json(args.map.read_text(encoding="utf-8")) if args.map else None
        files = [(Path(path).name, None, str(path)) for path in args.inputs]
        # The export has no filters: of the dimensions, only a planned-infusions column matters
        # (and, for the report's dropout panel, the reasons given for stopping); of the scores only
        # the primary measure's, unless the report shows every trajectory (every value is still
        # checked all the same).
        # With --compare-by or --funnel-by, that dimension too.
        if args.funnel_outcome and not args.funnel_by:
            raise ValueError("--funnel-outcome needs --funnel-by DIM: the dimension whose groups the funnel compares.")
        compared = {args.compare_by, args.funnel_by} - {"", SEVERITY_DIM}
        dimensions = {"planned_infusions"} | ({"discontinuation_reason"} if args.report else set()) | compared
        dataset = load(db.connect(threads=db.CLI_THREADS), files, measures, mapping, dimensions=dimensions,
                       score_measures=None if args.report else {settings.measure})
        dataset.is_sample = is_sample(args.inputs)
        missing = sorted(compared - set(dataset.dimensions()))
        if missing:
            raise ValueError(f"The data has no dimension '{missing[0]}' to compare by: a dimension is a column of the "
                             f"data with a value for some patient, age_band, start_quarter or {SEVERITY_DIM}.")
        engine = Engine(dataset, only_primary=not args.report)
        outcome = (args.funnel_outcome or FUNNEL_OUTCOMES[0]) if args.funnel_by else None
        if settings.min_cell > 0:
            # With counts hidden: every table as the app shows it at the same minimum (compared by
            # a dimension: its comparison view, the groups suppressed with the whole cohort), so
            # that the files and the screen hide the same counts.
            tables = app_view(engine, settings, args.compare_by, args.funnel_by, outcome)
        else:
            tables = engine.rows(settings, [t for t, _ in FILES.values()], Cohort(split_by=args.compare_by))
            if args.funnel_by:
                names, rows = engine.rows(settings, ["funnel"], Cohort(split_by=args.funnel_by)).tables["funnel"]
                tables.tables["funnel"] = (names, [r for r in rows if r[names.index("outcome")] == outcome])
        comparison = {"compare_by": args.compare_by or None, "funnel_by": args.funnel_by or None,
                      "funnel_outcome": outcome}
        write_all(args.out, dataset, tables, [str(p) for p in args.inputs], comparison)
        if args.report:
            from dashboard.present.report import write_report  # imported here: only the report needs vl-convert

            write_report(args.report, dataset, *report_tables(engine, settings, args.compare_by))
    except (UnreadableFile, MappingError, MeasuresFileError, ValueError, OSError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for label, rows in dataset.ambiguous_session_types:
        # Never guessed (docs/METHODS.md 1): the rows are rejected until a mapping file names the kind.
        print(f"note: session type '{label}' reads as more than one kind of visit; its {rows} rows were rejected. "
              f"Name its kind in a mapping file (--map), under \"session_types\".", file=sys.stderr)
    if note := left_out_note(tables.left_out_after_as_of, tables.dated_in_future):
        print(f"note: {note}", file=sys.stderr)
    written = len(written_files(tables, args.compare_by or None)) + 2  # and rejections.csv, settings.json
    print(f"wrote {written} files to {args.out}: {dataset.rows_read} rows read, "
          f"{dataset.rows_used} used, {dataset.rows_rejected} rejected"
          + (f"; and the report to {args.report}" if args.report else ""))
    return 0


def report_tables(engine: Engine, settings: Settings, compare_by: str = ""):
    """The report's arguments after the dataset: the metric tables (split by compare_by, when
    given, and named after it), the whole selection's when split, and the comparison in words."""
    from dashboard.present.labels import DIMENSION_LABELS, with_group_title

    if not compare_by:
        return engine.compute(settings), None, []
    title = DIMENSION_LABELS.get(compare_by, compare_by)
    return (with_group_title(engine.compute(settings, Cohort(split_by=compare_by)), title),
            engine.compute(settings, Cohort()), [f"Compared by {title}"])


def written_files(metrics: MetricRows, compare_by: str | None = None) -> dict[str, tuple[str, list[str]]]:
    """File -> (table, columns) of the files to write: FILES, each with a first column `group`
    when compared by a dimension, time_to_response_weekly.csv (likewise) when the curve is shown
    by week, and funnel.csv when the funnel was computed."""
    files = {name: (table, (["group"] if compare_by else []) + columns) for name, (table, columns) in FILES.items()}
    if "time_to_response" in metrics.tables and pools_by_week(metrics.settings.min_cell):
        files[WEEKLY_FILE[0]] = (WEEKLY_FILE[1], (["group"] if compare_by else []) + WEEKLY_FILE[2])
    if "funnel" in metrics.tables:
        files[FUNNEL_FILE[0]] = FUNNEL_FILE[1:]
    return files


@dataclass
class ShownRows(MetricRows):
    """Metric tables already suppressed, as they may be shown (app_view)."""


def app_view(engine: Engine, settings: Settings, compare_by: str = "", funnel_by: str = "",
             outcome: str | None = None) -> MetricRows:
    """The metric tables as the app shows them with counts below settings.min_cell hidden, by its
    own call (suppression.shown_metrics): of the whole selection, or split by `compare_by` as its
    comparison view shows them, every table of the groups suppressed together with every table of
    the whole cohort (else a small count of a group could be worked out from this export and one of
    all patients: the whole's count less the other groups' shown ones; the whole cohort's tables
    are then not written). Suppressing only the files' own columns would hide less than the
    screen, which shows more of them (a count the screen hides to protect another could be read
    in the file). With funnel_by, the funnel's rows for `outcome` as the "Compare fairly" panel
    shows them: the comparison's own funnel when funnel_by is compare_by, else that split's,
    suppressed with the whole cohort's tables."""
    from dashboard.engine.suppression import shown_metrics

    whole = engine.compute(settings, Cohort())
    if compare_by:
        split = engine.compute(settings, Cohort(split_by=compare_by))
        shown = {name: frame for name, frame in shown_metrics(split, whole).items() if not name.startswith("overall.")}
    else:
        split, shown = whole, shown_metrics(whole)
    wanted = [table for table, _ in FILES.values()] + ([WEEKLY_FILE[1]] if WEEKLY_FILE[1] in shown else [])
    tables = {name: (list(shown[name].columns), list(shown[name].itertuples(index=False, name=None)))
              for name in wanted}
    if funnel_by:
        funnel = (shown["funnel"] if funnel_by == compare_by else
                  shown_metrics(engine.compute(settings, Cohort(split_by=funnel_by), {"funnel"}), whole)["funnel"])
        funnel = funnel[funnel["outcome"] == outcome]
        tables["funnel"] = (list(funnel.columns), list(funnel.itertuples(index=False, name=None)))
    return ShownRows(settings, split.as_of, split.left_out_after_as_of, split.dated_in_future, tables)


def write_all(out: Path, dataset, metrics: MetricRows, inputs: list[str], comparison: dict | None = None) -> None:
    """metrics: the tables to write; with a minimum cell size, already suppressed (app_view)."""
    if metrics.settings.min_cell > 0 and not isinstance(metrics, ShownRows):
        # Fail closed: small counts are never written because a caller forgot to hide them.
        raise ValueError("tables with counts to hide must come suppressed (app_view)")
    out.mkdir(parents=True, exist_ok=True)
    comparison = comparison or {}
    files = written_files(metrics, comparison.get("compare_by"))
    shown = {table: _columns(*metrics.tables[table], columns) for table, columns in files.values()}
    for filename, (table, columns) in files.items():
        write_csv(out / filename, columns, shown[table])
    write_csv(out / "rejections.csv", REJECTION_COLUMNS, dataset.rejection_rows())
    settings_json = {
        "settings": metrics.settings.to_dict() | {"as_of": metrics.as_of.isoformat()},
        "score_timing_note": _timing_note(metrics.settings.score_timing),
        "input_files": inputs,
        "files": [
            {"name": f.name, "read_as": f.describe(), "date_style_reason": f.date_style_reason,
             "rows_read": f.rows_read, "rows_used": f.rows_used, "rows_rejected": f.rows_rejected, "notes": f.notes}
            for f in dataset.files
        ],
        "rows_read": dataset.rows_read,
        "rows_used": dataset.rows_used,
        "rows_rejected": dataset.rows_rejected,
        "visits_after_as_of": metrics.left_out_after_as_of,
        "visits_dated_in_future": metrics.dated_in_future,
        **{key: value for key, value in comparison.items() if value},
    }
    (out / "settings.json").write_text(json.dumps(settings_json, indent=2) + "\n", encoding="utf-8")


def _source(column: str) -> str:
    """The table column a file's column is read from (a file's `group` is the table's `grp`)."""
    return "grp" if column == "group" else column


def _columns(names: list[str], rows: list[tuple], columns: list[str]) -> list[tuple]:
    """The rows cut to `columns`, in that order."""
    at = [names.index(_source(column)) for column in columns]
    return [tuple(row[i] for i in at) for row in rows]


def _timing_note(timing: str) -> str:
    if timing == "pre":
        return "scores taken before each infusion: the score at infusion n+1 describes the patient after n infusions"
    return "scores taken after each infusion: the score at infusion n describes the patient after n infusions"


def write_csv(path: Path, columns: list[str], rows) -> None:
    """Rates unrounded, empty where undefined; text that Excel would run as a formula is neutralised."""
    path.write_bytes(csv_text(columns, rows).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
