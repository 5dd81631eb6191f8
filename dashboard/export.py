"""python -m dashboard.export INPUT... --out DIR: the metric tables as CSV files (METRICS.md 8).

A thin wrapper over ingest and metrics, like the app. Imports no Streamlit, and no pandas unless
counts are suppressed or the report is written (pandas alone takes a third of a second to import).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path


from dashboard import db
from dashboard.formatting import csv_text
from dashboard.labels import left_out_note
from dashboard.ingest import Mapping, MappingError, UnreadableFile, load
from dashboard.measures import BUILTIN, MeasuresFileError, load_measures_file
from dashboard.methods_text import as_plain_text
from dashboard.metrics import Engine, MetricRows
from dashboard.settings import CONTROL_PERIODS, Settings, parse_window

# File -> (metric table, columns): a contract that tests and users rely on.
FILES = {
    "response_by_infusion.csv": ("response", [
        "n", "assessed", "responders", "rate", "rate_low", "rate_high", "remitters", "remission_rate",
        "cumulative_responders", "evaluable", "cumulative_rate"]),
    "late_response.csv": ("late_response", [
        "n", "non_responders", "late_responders", "no_later_assessment", "late_response_rate"]),
    "dropout.csv": ("dropout", ["n", "dropped_after", "retained"]),
    "durability.csv": ("durability", [
        "eligible", "durable", "lost", "booster_first", "no_follow_up", "pending", "durability_rate",
        "rate_low", "rate_high", "conservative_rate"]),
}
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
    p.add_argument("--min-cell", type=int, default=d.min_cell, help="suppress counts below this (default off)")
    p.add_argument("--measures", type=Path, help="TOML file declaring more measures")
    p.add_argument("--map", type=Path, help="JSON column mapping file")
    p.add_argument("--over-time", choices=CONTROL_PERIODS, default=d.control_period,
                   help="the report's p-charts: a point per month (default) or quarter of series start")
    p.add_argument("--report", type=Path, help="also write the report for the minutes (one HTML page) to this file; "
                                               "counts below --min-cell, or below 11 when it is 0, are hidden")
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        measure=args.measure, min_baseline=args.min_baseline, response_reduction=args.response_reduction,
        score_timing=args.score_timing, planned=args.planned, series_gap_days=args.series_gap_days,
        baseline_window_days=args.baseline_window_days, end_of_series_days=args.end_of_series_days,
        as_of=args.as_of, follow_up_days=args.follow_up_days, follow_up_window=args.follow_up_window,
        min_cell=args.min_cell, control_period=args.over_time,
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
        dimensions = {"planned_infusions"} | ({"discontinuation_reason"} if args.report else set())
        dataset = load(db.connect(threads=db.CLI_THREADS), files, measures, mapping, dimensions=dimensions,
                       score_measures=None if args.report else {settings.measure})
        engine = Engine(dataset, only_primary=not args.report)
        tables = engine.rows(settings, [t for t, _ in FILES.values()])
        write_all(args.out, dataset, tables, [str(p) for p in args.inputs])
        if args.report:
            from dashboard.report import write_report  # imported here: only the report needs vl-convert

            write_report(args.report, dataset, engine.compute(settings))
    except (UnreadableFile, MappingError, MeasuresFileError, ValueError, OSError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for label, rows in dataset.ambiguous_session_types:
        # Never guessed (METRICS.md 1): the rows are rejected until a mapping file names the kind.
        print(f"note: session type '{label}' reads as more than one kind of visit; its {rows} rows were rejected. "
              f"Name its kind in a mapping file (--map), under \"session_types\".", file=sys.stderr)
    if note := left_out_note(tables.left_out_after_as_of, tables.dated_in_future):
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(FILES) + 2} files to {args.out}: {dataset.rows_read} rows read, "
          f"{dataset.rows_used} used, {dataset.rows_rejected} rejected"
          + (f"; and the report to {args.report}" if args.report else ""))
    return 0


def write_all(out: Path, dataset, metrics: MetricRows, inputs: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shown = _shown_rows(metrics) if metrics.settings.min_cell > 0 else {
        table: _columns(*metrics.tables[table], columns) for table, columns in FILES.values()}
    for filename, (table, columns) in FILES.items():
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
    }
    (out / "settings.json").write_text(json.dumps(settings_json, indent=2) + "\n", encoding="utf-8")


def _columns(names: list[str], rows: list[tuple], columns: list[str]) -> list[tuple]:
    """The rows cut to `columns`, in that order."""
    at = [names.index(column) for column in columns]
    return [tuple(row[i] for i in at) for row in rows]


def _shown_rows(metrics: MetricRows) -> dict[str, list[tuple]]:
    """Each file's rows with small counts suppressed: the tables are suppressed together, knowing
    which counts the files show, so that none can be worked out from the others."""
    import pandas as pd

    from dashboard.suppression import shown_tables

    frames = {table: pd.DataFrame(rows, columns=names) for table, (names, rows) in metrics.tables.items()}
    shown = shown_tables(frames, metrics.settings.min_cell, displayed={table: columns for table, columns in FILES.values()})
    return {table: list(shown[table][columns].itertuples(index=False, name=None)) for table, columns in FILES.values()}


def _timing_note(timing: str) -> str:
    if timing == "pre":
        return "scores taken before each infusion: the score at infusion n+1 describes the patient after n infusions"
    return "scores taken after each infusion: the score at infusion n describes the patient after n infusions"


def write_csv(path: Path, columns: list[str], rows) -> None:
    """Rates unrounded, empty where undefined; text that Excel would run as a formula is neutralised."""
    path.write_bytes(csv_text(columns, rows).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
