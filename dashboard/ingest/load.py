"""Exports in, DuckDB tables `visits` (a view of the parsed rows), `scores`, `patients`, `patient_dims`
and `rejections` out (docs/METHODS.md 1 and 6)."""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from dashboard.core import db, sql
from dashboard.core.measures import BUILTIN, Measure, measure_for_header, normalise_header
from dashboard.ingest.columns import ColumnPlan, Mapping, MappingError, plan_columns
from dashboard.ingest.reading import RawFile, UnreadableFile, drop_raw, read_file
from dashboard.ingest.values import AMBIGUOUS, DATE_STYLE_NAMES, session_type

if TYPE_CHECKING:  # pandas is slow to import, and reading the files needs none of it
    import pandas as pd

_STAGING_DDL = """
-- A visit's session type, stored as a small number (cheaper to group and filter by than text).
CREATE TYPE IF NOT EXISTS visit_kind AS ENUM ('baseline', 'infusion', 'follow_up');
CREATE OR REPLACE TEMP TABLE input_files (file_idx INTEGER, name VARCHAR, date_style VARCHAR, decimal_comma BOOLEAN);
CREATE OR REPLACE TEMP TABLE input_columns (file_idx INTEGER, col INTEGER, header VARCHAR, role VARCHAR, name VARCHAR);
CREATE OR REPLACE TEMP TABLE date_texts (file_idx INTEGER, date_raw VARCHAR, date_txt VARCHAR);
CREATE OR REPLACE TEMP TABLE broken_lines (file_idx INTEGER, line BIGINT, value VARCHAR, reason VARCHAR);
CREATE OR REPLACE TEMP TABLE dim_candidates (patient_key INTEGER, file_idx INTEGER, col INTEGER, place BIGINT,
    value VARCHAR);
CREATE OR REPLACE TEMP TABLE type_map (raw VARCHAR, session_type visit_kind, ambiguous BOOLEAN);
CREATE OR REPLACE TEMP TABLE measure_map (raw VARCHAR, measure VARCHAR);
-- out_of_range: the reason a value outside the range is rejected, naming the measure and its range.
CREATE OR REPLACE TEMP TABLE measure_ranges (measure VARCHAR, low DOUBLE, high DOUBLE, out_of_range VARCHAR);
-- Filled by merged_rows.sql; the score cells' views (_stage_file) refer to it before then.
CREATE OR REPLACE TEMP TABLE merged_rows (file_idx INTEGER, line BIGINT);
"""
# Run once measure_ranges holds the measures: measure names are stored as an ENUM of the loaded
# measures' names, cheaper to group and join by than text (assessments.sql).
_MEASURE_DDL = """
CREATE TYPE measure_name AS ENUM (SELECT measure FROM measure_ranges);
-- The measure of each plain-score column of the rows (score_0, score_1...; see _stage_file).
CREATE OR REPLACE TEMP TABLE score_columns (col VARCHAR, measure measure_name);
"""
_REJECTIONS = 'SELECT file, line, "column", value, reason FROM rejections'
_WIDE = 50  # dimension columns above which a file's dimensions are staged cell by cell
_SCRATCH = ("date_texts", "broken_lines", "dim_candidates", "merged_rows", "parsed_cells", "repeated_rows",
            "row_values", "patient_ids", "type_map", "measure_map", "measure_ranges")
# parsed_rows stays, as the view visits shows it; of its columns, these only ingest needs.
_PARSED_ONLY = ("number_txt", "rejected_value")


@dataclass
class FileSummary:
    """What was read from one file, in plain facts for the 'what we read' panel and settings.json."""

    name: str
    kind: str
    encoding: str
    delimiter: str
    layout: str
    date_style: str
    date_style_reason: str
    columns: list[tuple[str, str, str]]  # (header, meaning, how)
    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        form = "Excel workbook" if self.kind == "xlsx" else f"{self.delimiter}-separated, {self.encoding}"
        mapped = sum(1 for _, meaning, _ in self.columns if not meaning.startswith(("dimension", "ignored")))
        return (
            f"{form}, {self.layout} layout, dates as {DATE_STYLE_NAMES[self.date_style]}, "
            f"{mapped} columns recognised, {len(self.columns) - mapped} kept as dimensions or ignored"
        )


@dataclass(eq=False)
class Dataset:
    """The loaded visits in a DuckDB connection, with what was read from each file."""

    con: duckdb.DuckDBPyConnection
    files: list[FileSummary]
    measures: dict[str, Measure]
    # Session types as written that read as more than one kind of visit (docs/METHODS.md 1), each with
    # its rows, most rows first: their rows are rejected until a mapping names their kind.
    ambiguous_session_types: list[tuple[str, int]] = field(default_factory=list)
    # The bundled synthetic sample (dashboard.engine.sample), set by whoever loaded it: said wherever the
    # data is named, so that a meeting never mistakes it for a clinic's patients.
    is_sample: bool = False

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_used(self) -> int:
        return sum(f.rows_used for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def rejections(self) -> pd.DataFrame:
        return self.con.execute(_REJECTIONS).df()

    def rejection_rows(self) -> list[tuple]:
        """The rejections as rows (file, line, column, value, reason), without pandas."""
        return self.con.execute(_REJECTIONS).fetchall()

    @functools.cached_property
    def _present(self) -> set[str]:
        return {m for (m,) in sql.run(self.con, "measures_present").fetchall()}

    def measures_present(self) -> list[str]:
        return [m for m in self.measures if m in self._present]

    def dimensions(self) -> list[str]:
        return [d for (d,) in self.con.execute("SELECT DISTINCT dim FROM patient_dims ORDER BY dim").fetchall()]

    @functools.cached_property  # the data never changes after load; the app asks on every rerun
    def _dimension_values(self) -> dict[str, list[str]]:
        """Each dimension's values, '(not recorded)' included where some patients have none."""
        rows = self.con.execute(
            """SELECT dim, list(DISTINCT value ORDER BY value),
                count(*) < (SELECT count(*) FROM patients) FROM patient_dims GROUP BY dim ORDER BY dim"""
        ).fetchall()
        return {dim: values + ["(not recorded)"] * missing for dim, values, missing in rows}

    def dimension_values(self) -> dict[str, list[str]]:
        """Each dimension's values, '(not recorded)' included where some patients have none."""
        return self._dimension_values


def load(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[str, bytes]] | list[tuple[str, bytes | None, str]],
    measures: dict[str, Measure] | None = None,
    mapping: Mapping | None = None,
    dimensions: set[str] | None = None,
    score_measures: set[str] | None = None,
) -> Dataset:
    """Read every file into the connection's tables. Raises UnreadableFile or MappingError, with a plain message.

    Each file is (name, bytes), or (name, bytes, path) when it is also on disk, or (name, None,
    path) to have it read from disk (a large export is then not read whole into Python). `dimensions`
    limits the patient dimensions built to those named (the CSV export needs only
    planned_infusions); None builds them all. Likewise `score_measures` limits the scores kept to
    those measures (the export needs only the primary one); every cell of every measure is still
    checked and its rejection listed. Afterwards the connection is locked down
    (dashboard.core.db): load new files into a new connection."""
    measures = measures or BUILTIN
    if not files:
        raise UnreadableFile("No file was given. Expected one or more CSV or Excel visit exports.")
    if len(files) > 255:  # the dimension ranking packs the file number into 8 bits
        raise UnreadableFile(f"{len(files)} files were given; load at most 255 at once (combine monthly exports).")
    con.execute(_STAGING_DDL)
    con.executemany("INSERT INTO measure_ranges VALUES (?, ?, ?, ?)",
                    [(m.name, m.low, m.high, out_of_range(m)) for m in measures.values()])
    con.execute(_MEASURE_DDL)
    sql.run(con, "ingest/cleaned_macro")
    sql.run(con, "ingest/number_macro")
    raws, plans = [], []
    for file_idx, (name, data, *path) in enumerate(files):
        planned: list[ColumnPlan] = []
        raws.append(read_file(con, name, data, f"raw_{file_idx}", *path,
                              select=lambda headers: _kept_columns(headers, measures, mapping, planned)))
        # A file whose columns can't be planned is still read first, so that an unreadable file
        # is reported as such; then the mapping error is raised.
        plans.append(planned[0] if planned else plan_columns(raws[-1].headers, measures, mapping))
    score_columns = _plain_measures(plans, measures, score_measures)
    con.execute("INSERT INTO score_columns SELECT 'score_' || generate_subscripts($m, 1) - 1, unnest($m)",
                {"m": score_columns})
    summaries, row_views, cell_views, hash_views = [], [], [], []
    for file_idx, ((name, *_), raw, plan) in enumerate(zip(files, raws, plans)):
        rows_sql, cells_sql = _stage_file(con, file_idx, raw, plan, measures, score_columns)
        row_views.append(rows_sql)
        cell_views.extend(cells_sql)
        hash_views.append(_row_hashes(file_idx, raw, plan))
        # staged_rows and staged_cells: every file's rows and score cells in one shape, as views
        # (nothing is copied).
        con.execute("CREATE OR REPLACE TEMP VIEW staged_rows AS " + " UNION ALL ".join(row_views))
        sql.run(con, "ingest/date_texts", {"file_idx": file_idx})
        style, reason, read_as = _date_style(con, file_idx, mapping.date_style if mapping else "auto")
        con.execute(
            "INSERT INTO input_files VALUES ($f, $name, $style, $decimal_comma)",
            # A decimal comma only where the comma does not separate the cells (docs/METHODS.md 1).
            {"f": file_idx, "name": name, "style": read_as, "decimal_comma": raw.kind == "csv" and raw.delimiter != "comma"},
        )
        summaries.append(
            FileSummary(name, raw.kind, raw.encoding, raw.delimiter, plan.layout, style, reason,
                        plan.describe(raw.headers, measures), notes=list(raw.notes))
        )
    con.execute("CREATE OR REPLACE TEMP VIEW staged_cells AS " + " UNION ALL ".join(cell_views))
    con.execute("CREATE OR REPLACE TEMP VIEW row_hashes AS " + " UNION ALL ".join(hash_views))
    sql.run(con, "ingest/row_values")
    sql.run(con, "ingest/patient_ids")
    _fill_lookups(con, measures, mapping)
    for step in ("parse_rows", "mark_control_ids", "merged_rows", "mark_merged_rows", "parse_cells", "repeated_rows",
                 "mark_repeats", "drop_repeated_cells", "merged_visits", "visits", "patients", "mark_conflicts",
                 "cell_scores", "scores"):
        sql.run(con, f"ingest/{step}", {"measures": sorted(score_measures) if score_measures is not None else None})
    for file_idx, (raw, plan) in enumerate(zip(raws, plans)):
        _stage_dimensions(con, file_idx, raw, plan, dimensions)
    sql.run(con, "ingest/patient_dims", {"dimensions": sorted(dimensions) if dimensions is not None else None})
    sql.run(con, "ingest/rejections")
    con.execute("DROP VIEW staged_cells; DROP VIEW staged_rows; DROP VIEW row_hashes")
    for raw in raws:
        drop_raw(con, raw)
    _count_rows(con, summaries)
    ambiguous = _spellings_grouped(con.execute(
        """SELECT value, count(*) AS rows FROM rejections WHERE starts_with(reason, 'ambiguous session type')
        GROUP BY value ORDER BY rows DESC, value""").fetchall())
    for table in _SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for column in _PARSED_ONLY:
        con.execute(f"ALTER TABLE parsed_rows DROP COLUMN {column}")
    db.lock_down(con)
    return Dataset(con, summaries, measures, ambiguous)


def out_of_range(measure: Measure) -> str:
    """The reason a value outside the measure's range is rejected: 'PHQ-9 out of range 0-27'."""
    low, high = f"{measure.low:g}", f"{measure.high:g}"
    return f"{measure.label} out of range {low}-{high}" if measure.low >= 0 else f"{measure.label} out of range {low} to {high}"


def _kept_columns(headers: list[str], measures: dict[str, Measure], mapping: Mapping | None,
                  planned: list[ColumnPlan]) -> str | None:
    """The columns of a file as ingest keeps them (see reading.Selector), planned from its headers:
    every one, as text, but a wide file's scores (below). The columns that are neither a role nor
    a score are needed, even when no dimension is built of them, for repeated_rows.sql to spot
    exact repeats (_row_hashes): kept as they are, they cost the read less than a hash of them
    on every row did. Only our own names (c0, c1...) and numbers are written into that SQL;
    headers and values from the file stay data.

    A wide file's score column i is kept as two: n{i}, the cell read as a whole number, and
    t{i}, its text only when that is not exactly how the number is written (7.5, 07, NA, abc):
    most scores are stored as small numbers, and only the few texts are checked as text."""
    try:
        plan = plan_columns(headers, measures, mapping)
    except MappingError:
        return None
    planned.append(plan)
    split = plan.measures if plan.layout == "wide" else {}
    return ", ".join(_score_columns(i) if i in split else f"c{i}" for i in range(len(headers)))


def _other_columns(plan: ColumnPlan, width: int) -> list[int]:
    """The columns of a file that are neither a role nor a score (dimensions and ignored columns),
    ordered by what each means, so that files with the same columns in another order compare equal."""
    return [i for _, i in sorted((_column_role(plan, i)[1] or "", i) for i in range(width)
                                 if i not in plan.roles and i not in plan.measures)]


def _row_hashes(file_idx: int, raw: RawFile, plan: ColumnPlan) -> str:
    """The SELECT giving `cells_hash` of this file's rows of visits of several rows (merged_rows):
    a hash of its other columns (_other_columns, each cleaned as the checks read it) and which
    columns those are. Only those rows are hashed: repeated_rows.sql compares no others (hashing
    every row of a large file as it was read took the export a tenth of its time)."""
    others = _other_columns(plan, len(raw.headers))
    shape = int(hashlib.sha256("|".join(_column_role(plan, i)[1] or "" for i in others).encode()).hexdigest()[:12], 16)
    hashed = ", ".join([str(shape)] + [f"cleaned(c{i})" for i in others])
    if raw.line_offset is not None:  # by rowid, so that only the row groups of those rows are read
        return f"""SELECT {file_idx} AS file_idx, rowid + {raw.line_offset} AS line, hash({hashed}) AS cells_hash
    FROM {raw.table}_cells WHERE rowid IN (SELECT line - {raw.line_offset} FROM merged_rows WHERE file_idx = {file_idx})"""
    return f"""SELECT {file_idx} AS file_idx, line, hash({hashed}) AS cells_hash FROM {raw.table}
    WHERE line IN (SELECT line FROM merged_rows WHERE file_idx = {file_idx})"""


def _score_columns(i: int) -> str:
    """Score column i as n{i} and t{i} (see above)."""
    return f"TRY_CAST(c{i} AS INTEGER) AS n{i}, CASE WHEN n{i}::VARCHAR IS DISTINCT FROM c{i} THEN c{i} END AS t{i}"


def _plain_measures(plans: list[ColumnPlan], measures: dict[str, Measure], score_measures: set[str] | None) -> list[str]:
    """The measures whose plain scores (see _stage_file) stay on the rows, one column each, in the
    order of `measures`: those with a finite range in a column of a wide file, and kept
    (score_measures; None keeps all)."""
    in_columns = {name for plan in plans if plan.layout == "wide" for name in plan.measures.values()}
    return [name for name, m in measures.items() if name in in_columns and _whole_range(m) is not None
            and (score_measures is None or name in score_measures)]


def _stage_file(con, file_idx: int, raw: RawFile, plan: ColumnPlan, measures: dict[str, Measure],
                score_columns: list[str]) -> tuple[str, list[str]]:
    """Record one file's columns; return the SELECTs that give its rows and its score cells the
    shared staged shapes (one SELECT per score column).

    A plain score is a whole number written as such, within its measure's range: most of a wide
    file's scores. They need no more checking, so they stay on their row, as column score_j for
    the j-th of `score_columns` (a row of a visit of its own is its visit: visits.sql), and skip
    parse_cells.sql: a million cells through it would take the export longer than reading the
    file. The cells SELECTs give the other cells, and the plain ones of rows merged into a visit
    with others (merged_rows.sql). There is always a score_0 column, empty when no measure is in
    score_columns, so that the SQL reading the score columns always finds one.

    Only our own names (c0, c1, score_0...) and numbers are written into that SQL; headers and
    values from the file stay data.
    """
    roles = [_column_role(plan, i) for i in range(len(raw.headers))]
    # One statement for all columns: a file may have thousands.
    con.execute("INSERT INTO input_columns SELECT $f, unnest($cols), unnest($headers), unnest($roles), unnest($names)",
                {"f": file_idx, "cols": list(range(len(raw.headers))), "headers": raw.headers,
                 "roles": [r for r, _ in roles], "names": [n for _, n in roles]})
    if raw.broken_lines:
        con.executemany("INSERT INTO broken_lines VALUES (?, ?, ?, ?)",
                        [(file_idx, line, text[:200], reason) for line, reason, text in raw.broken_lines])
    for first, reason, text in raw.spans:
        sql.run(con, "ingest/broken_spans", {"file_idx": file_idx, "first": first, "reason": reason, "text": text})
    col = {role: f"c{i}" for i, role in plan.roles.items()}
    wide = plan.measures if plan.layout == "wide" else {}
    plain_value = {i: _plain_value(i, measures.get(name)) for i, name in wide.items()}
    column_of = {name: i for i, name in wide.items()}
    plain = [f"CASE WHEN {plain_value[column_of[name]]} THEN n{column_of[name]} END AS score_{j}"
             if name in column_of else f"NULL::INTEGER AS score_{j}" for j, name in enumerate(score_columns)]
    rows = f"""SELECT {file_idx} AS file_idx, line, {col['patient_id']} AS patient_raw,
        {col['session_date']} AS date_raw, {col.get('session_type', 'NULL')}::VARCHAR AS type_raw,
        {col.get('infusion_number', 'NULL')}::VARCHAR AS number_raw,
        {", ".join(plain or ["NULL::INTEGER AS score_0"])}
    FROM {raw.table}"""
    cells = []
    if plan.layout == "long":
        i = plan.index_of("score")
        cells.append(f"""SELECT {file_idx} AS file_idx, line, {i} AS col, c{i}::VARCHAR AS cell, NULL::INTEGER AS number,
        trim({col['measure']})::VARCHAR AS measure_raw
    FROM {raw.table} WHERE c{i} IS NOT NULL""")
    for i, value in plain_value.items():
        skip = f" AND NOT ({value} AND line NOT IN (SELECT line FROM merged_rows WHERE file_idx = {file_idx}))" if value else ""
        cells.append(f"""SELECT {file_idx} AS file_idx, line, {i} AS col, t{i} AS cell, n{i} AS number,
        NULL::VARCHAR AS measure_raw
    FROM {raw.table} WHERE (t{i} IS NOT NULL OR n{i} IS NOT NULL){skip}""")
    return rows, cells


def _whole_range(measure: Measure | None) -> tuple[int, int] | None:
    """The whole numbers a measure's scores may take, or None for a measure without a finite range."""
    if measure is None or not (math.isfinite(float(measure.low)) and math.isfinite(float(measure.high))):
        return None
    return math.ceil(float(measure.low)), math.floor(float(measure.high))


def _plain_value(i: int, measure: Measure | None) -> str:
    """The condition that score column i of a wide file (n{i}, t{i}: see _kept_columns) holds a
    plain score (see _stage_file). Empty for a measure without a finite range, whose cells all go
    through parse_cells."""
    bounds = _whole_range(measure)
    if bounds is None:
        return ""
    # n{i} is whole: compared with whole bounds, it is compared as an integer.
    return f"t{i} IS NULL AND coalesce(n{i} BETWEEN {bounds[0]} AND {bounds[1]}, false)"


def _column_role(plan: ColumnPlan, i: int) -> tuple[str, str | None]:
    if i in plan.roles:
        return plan.roles[i], plan.roles[i]
    if i in plan.measures:
        return "measure", plan.measures[i]
    if i in plan.dimensions:
        return "dimension", plan.dimensions[i]
    return "ignored", None


def _date_style(con, file_idx: int, requested: str) -> tuple[str, str, str]:
    """The file's date style and why, in words (docs/METHODS.md 1: detected per file and stated), and
    the style its day/month dates are read in (the same, unless most of its dates are ISO)."""
    if requested != "auto":
        return requested, "set by the mapping", requested
    iso, day_month, dotted, max_first, max_second = sql.run(
        con, "ingest/date_style_evidence", {"file_idx": file_idx}).fetchone()
    if day_month == 0:
        return "iso", "ISO dates" if iso else "no dates in a known style", "iso"
    if max_first > 12:
        style, reason = "eu", "a first part above 12 can only be a day"
    elif max_second > 12:
        style, reason = "us", "a second part above 12 can only be a day"
    elif dotted == day_month:
        style, reason = "eu", "dates written with dots are day-first"
    else:
        checks = {style: (bad, span) for style, bad, span, _ in
                  sql.run(con, "ingest/date_order_check", {"file_idx": file_idx}).fetchall()}
        style = min(("us", "eu"), key=lambda s: checks.get(s, (0, 0)))
        reason = ("ambiguous (no part above 12): this reading keeps each patient's visits in order and closest "
                  "together; set the date style if it is wrong")
    if iso > day_month:
        return "iso", (f"most dates are ISO ({iso} of {iso + day_month}); the others are read as "
                       f"{DATE_STYLE_NAMES[style]}: {reason}"), style
    return style, reason, style


def _fill_lookups(con, measures: dict[str, Measure], mapping: Mapping | None) -> None:
    """Small tables the parsing SQL joins: session-type spellings, long-layout measure names (the
    score ranges were filled first: load)."""
    overrides = mapping.session_types if mapping else None
    # Each session type as written; a missing one (empty, NA...: value NULL) means an infusion.
    raw_types = con.execute("SELECT raw, value FROM row_values WHERE kind = 'type'").fetchall()
    if raw_types:
        kinds = [(raw, session_type(value, overrides)) for raw, value in raw_types]
        con.executemany("INSERT INTO type_map VALUES (?, ?, ?)",
                        [(raw, None if kind == AMBIGUOUS else kind, kind == AMBIGUOUS) for raw, kind in kinds])
    names = [r for (r,) in con.execute(
        "SELECT DISTINCT measure_raw FROM staged_cells WHERE measure_raw IS NOT NULL").fetchall()]
    if names:
        con.executemany("INSERT INTO measure_map VALUES (?, ?)", [(n, measure_for_header(n, measures)) for n in names])


def _spellings_grouped(labels: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Labels that differ only in case, spaces or punctuation ('Post-infusion assessment', 'post
    infusion assessment') are one question: a mapping's choice applies to every spelling
    (values.session_type compares them normalised). Each group is named by its most used spelling."""
    groups: dict[str, tuple[str, int]] = {}
    for label, rows in labels:  # most rows first
        key = normalise_header(label)
        name, total = groups.get(key, (label, 0))
        groups[key] = (name, total + rows)
    return sorted(groups.values(), key=lambda g: (-g[1], g[0]))


def _stage_dimensions(con, file_idx: int, raw: RawFile, plan: ColumnPlan, wanted: set[str] | None) -> None:
    """Each patient's candidate value for every dimension of this file (see patient_dims.sql).

    The candidate is the first non-missing value by (not the first infusion, date, file, line),
    packed into one sortable number: 1 bit, 17 bits of days since 1900, 8 of file, 37 of line.
    """
    columns = [i for i, name in plan.dimensions.items() if wanted is None or name in wanted]
    if not columns:
        return
    rows = f"""SELECT {", ".join(f"r.c{i}" for i in columns)}, p.patient_key,
            (CASE WHEN p.session_type = 'infusion' AND p.session_date = s.first_infusion THEN 0 ELSE 1 END::BIGINT << 62)
            + (greatest(0, date_diff('day', DATE '1900-01-01', p.session_date))::BIGINT << 45)
            + ($f::BIGINT << 37) + r.line AS place
        FROM {raw.table} r
        JOIN parsed_rows p ON p.file_idx = $f AND p.line = r.line AND p.row_problem IS NULL
        LEFT JOIN (SELECT patient_key, min(session_date) AS first_infusion FROM visits
                   WHERE session_type = 'infusion' GROUP BY patient_key) s ON s.patient_key = p.patient_key"""
    # Missing values (empty, NA, N/A, -), spelled out by case: cheaper than case-folding every cell.
    present = "trim({c}) NOT IN ('', 'NA', 'Na', 'na', 'nA', 'N/A', 'n/a', 'N/a', 'n/A', '-')"
    if len(columns) > _WIDE:
        # DuckDB's planning time grows with the square of the aggregates in one statement: a file
        # of hundreds or thousands of columns is turned into one row per cell first.
        con.execute(
            f"""INSERT INTO dim_candidates
            SELECT patient_key, $f, CAST(substr(col, 2) AS INTEGER), min(place), arg_min(trim(value), place)
            FROM (UNPIVOT ({rows}) ON COLUMNS(* EXCLUDE (patient_key, place)) INTO NAME col VALUE value)
            WHERE {present.format(c="value")}
            GROUP BY patient_key, col""",
            {"f": file_idx},
        )
        return
    picks = ", ".join(
        f"{{'k': min(place) FILTER (WHERE {present.format(c=f'c{i}')}), "
        f"'v': arg_min(trim(c{i}), place) FILTER (WHERE {present.format(c=f'c{i}')})}} AS c{i}"
        for i in columns
    )
    con.execute(
        f"""INSERT INTO dim_candidates
        SELECT patient_key, $f, CAST(substr(col, 2) AS INTEGER), candidate.k, candidate.v FROM (
            UNPIVOT (
                SELECT patient_key, {picks}
                FROM ({rows})
                GROUP BY patient_key
            ) ON COLUMNS(* EXCLUDE (patient_key)) INTO NAME col VALUE candidate
        ) WHERE candidate.v IS NOT NULL""",
        {"f": file_idx},
    )


def _count_rows(con, summaries: list[FileSummary]) -> None:
    counts = con.execute(
        """SELECT file_idx, count(*), count(*) FILTER (WHERE row_problem IS NOT NULL) FROM parsed_rows GROUP BY file_idx"""
    ).fetchall()
    broken = dict(con.execute("SELECT file_idx, count(*) FROM broken_lines GROUP BY file_idx").fetchall())
    by_file = {f: (n, bad) for f, n, bad in counts}
    for file_idx, summary in enumerate(summaries):
        n, bad = by_file.get(file_idx, (0, 0))
        summary.rows_read = n + broken.get(file_idx, 0)
        summary.rows_rejected = bad + broken.get(file_idx, 0)
        summary.rows_used = n - bad
