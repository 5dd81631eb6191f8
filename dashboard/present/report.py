"""The report for the minutes: one self-contained HTML page (tiles, every panel with its headline,
chart and numbers, the settings, filters and data-quality summary, and when it was made), the
charts as SVG or PNG files, and the shown metric tables as CSV files.

No Streamlit here: the app (dashboard.ui.report_panel) and the CLI (`python -m dashboard.export
--report`) both call it. Every number comes from the tables as they may be shown
(dashboard.engine.suppression), at the report's minimum cell size: the settings' own when it is above 0,
and 11 otherwise, as docs/METHODS.md 15 requires of shared reports. The charts are the app's
(dashboard.present.charts, built as the panels build them in `panel_charts`), drawn to SVG offline by
vl-convert: the page has no script, no external font, image or style, so it opens offline and
prints to PDF from a browser. All user text (file names, group values, column names) is escaped.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import altair as alt
import pandas as pd

from dashboard.core.measures import Measure
from dashboard.engine.metrics import MetricTables
from dashboard.engine.suppression import hidden_by_value, shown_metrics
from dashboard.present import charts, headlines, report_decisions
from dashboard.present.export_files import FILES
from dashboard.present.formatting import count, csv_text, percent
from dashboard.present.labels import (
    SETTING_NAMES,
    control_columns,
    control_intro,
    control_rows,
    control_titles,
    control_withheld,
    data_source,
    has_pooled_point,
    left_out_note,
    milestones_note,
    timing_note,
)
from dashboard.present.methods_text import FULL_METHODS, METHODS_DOC
from dashboard.present.references import (
    COMPLETION,
    DURABILITY_FOUR_WEEKS,
    NOT_YOUR_DATA,
    RESPONSE,
    RESPONSE_AFTER_INDUCTION,
)
from dashboard.present.report_decisions import REPORT_K
from dashboard.present.report_parts import (
    SECTIONS,
    e,
    html_fig,
    html_p,
    html_references_table,
    html_section,
    html_table,
    html_tables_by_group,
)

SHARED_MIN_CELL = 11  # docs/METHODS.md 15: the minimum cell size of shared reports

# Chart name -> its section (trajectory_<measure> charts go to "trajectories").
CHART_SECTION = {"response": "response", "late_response": "late_response", "dropout_points": "dropout",
                 "retention": "dropout", "in_progress": "dropout", "durability": "durability",
                 "durability_rates": "durability", "milestones": "durability"}
# CSV file -> (shown table, columns): docs/METHODS.md 19's files, with their contract's columns.
CONTRACT_FILES = FILES
# px: the plotting area's width. An A4 page's text (184 mm) is about 690 px wide; axes and legends
# add to this, and a chart wider than the page is scaled down to fit it (never cut).
CHART_WIDTH = 560
# Applied when drawing (not part of the charts): text big enough to read on paper, in a font
# whose widths match what vl-convert measured (it bundles Liberation Sans; Arial has its metrics).
PRINT_CONFIG = {
    "font": "Liberation Sans, Arial, Helvetica, sans-serif",
    "axis": {"labelFontSize": 12, "titleFontSize": 13, "labelColor": "#222222", "titleColor": "#111111"},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#222222", "titleColor": "#111111"},
    "title": {"fontSize": 16, "subtitleFontSize": 12, "color": "#111111", "subtitleColor": "#333333"},
}


# --- The tables as the report shows them --------------------------------------------------------

def report_min_cell(min_cell: int) -> int:
    """The settings' minimum cell size when one is set, 11 otherwise (docs/METHODS.md 15)."""
    return min_cell if min_cell > 0 else SHARED_MIN_CELL


def for_report(metrics: MetricTables, overall: MetricTables | None = None
               ) -> tuple[MetricTables, MetricTables]:
    """Copies of the metric tables at the report's minimum cell size, with `shown` filled in (the
    groups and the whole cohort suppressed together, as the app does). `overall` is the whole
    selected cohort's tables when `metrics` is split by a dimension; the originals are not changed."""
    for tables in (metrics, overall):
        if tables is not None and missing_tables(tables):
            raise ValueError("The report needs every metric table, and these were not computed: "
                             + ", ".join(missing_tables(tables)) + " (Engine.compute without tables= computes them all).")
    k = report_min_cell(metrics.settings.min_cell)
    m = dataclasses.replace(metrics, settings=dataclasses.replace(metrics.settings, min_cell=k), shown={})
    if overall is None or overall is metrics:
        m.shown = _titled(shown_metrics(m), m)
        return m, m
    o = dataclasses.replace(overall, settings=dataclasses.replace(overall.settings, min_cell=k), shown={})
    views = shown_metrics(m, o)
    m.shown = _titled({name: frame for name, frame in views.items() if not name.startswith("overall.")}, m)
    o.shown = {name.removeprefix("overall."): frame for name, frame in views.items() if name.startswith("overall.")}
    return m, o


def _titled(frames: dict[str, pd.DataFrame], m: MetricTables) -> dict[str, pd.DataFrame]:
    """Carry the compared dimension's name (the legend title) onto the shown frames."""
    title = m.summary.attrs.get("group_title")
    if title:
        for frame in frames.values():
            frame.attrs["group_title"] = title
    return frames


def missing_tables(metrics: MetricTables) -> list[str]:
    """The metric tables a report needs that were not computed (the app computes only the open tab's)."""
    return [name for name in ("summary", "response", "late_response", "dropout", "dropout_detail", "durability",
                              "trajectories") if not len(getattr(metrics, name).columns)]


# --- Charts --------------------------------------------------------------------------------------

def panel_charts(m: MetricTables, measures: Mapping[str, Measure], show_references: bool = False,
                 overall: MetricTables | None = None, early_k: int = REPORT_K) -> dict[str, alt.TopLevelMixin]:
    """Every chart of every panel, built from m.shown as dashboard.ui.panels builds them, by name:
    response, late_response, dropout_points, retention, in_progress, durability, durability_rates,
    milestones, then trajectory_<measure> for each measure in the data, and control_<chart> for the
    p-charts by month (of `overall`, the whole selected cohort, when m is split)."""
    shown = m.shown
    stopped = shown["stopped_by_status"].copy()
    stopped.attrs = dict(m.dropout_detail.attrs)
    out: dict[str, alt.TopLevelMixin] = {
        "response": charts.response_by_infusion(shown["response"], RESPONSE if show_references else None),
        "late_response": charts.late_response(shown["late_response"]),
        "dropout_points": charts.dropout_points(stopped, sorted(set(m.dropout["n"])), shown["dropout"]),
        "retention": charts.retention(shown["dropout"]),
        "in_progress": charts.in_progress(shown["dropout"], shown["summary"][["grp", "in_progress"]]),
        "durability": charts.durability(shown["durability"]),
        "durability_rates": charts.durability_rates(shown["durability"],
                                                    DURABILITY_FOUR_WEEKS if show_references else None),
    }
    primary = measures[m.settings.measure]
    traj = shown["trajectories"]
    same = shown.get("milestones", pd.DataFrame())
    same = same[same["measure"] == primary.name] if len(same) else same
    if len(same):
        out["milestones"] = charts.milestones(same, (primary.low, primary.high), primary.lower_is_better,
                                              f"Mean {primary.label}: baseline, end of series, one month")
    for name, measure in measures.items():
        frame = traj[traj["measure"] == name] if len(traj) else traj
        if len(frame):
            out[f"trajectory_{name}"] = charts.trajectory(frame, measure.lower_is_better, (measure.low, measure.high))
    whole = overall or m
    monthly = whole.shown.get("monthly")
    if monthly is not None and len(monthly):
        for chart, title in control_titles(m.settings.planned).items():
            points = monthly[monthly["chart"] == chart]
            if not _withheld(whole, chart, points):
                out[f"control_{chart}"] = charts.control_chart(points, title, m.settings.min_cell,
                                                               m.settings.control_period)
    # The new sections' charts, in the page's order (tests read the charts and the page's SVGs in step).
    return report_decisions.in_page_order(out, report_decisions.charts(m, measures, early_k), SECTIONS, _section_of)


def _withheld(m: MetricTables, chart: str, points: pd.DataFrame) -> bool:
    """A p-chart whose shown points would be a selection by their value (docs/METHODS.md 15): not drawn."""
    return bool(m.settings.min_cell) and hidden_by_value(m.monthly[m.monthly["chart"] == chart], points)


def _section_of(chart_name: str) -> str:
    if chart_name.startswith("control_"):
        return "over_time"
    return "trajectories" if chart_name.startswith("trajectory_") else CHART_SECTION[chart_name]


def vegalite_version() -> str | None:
    """The Vega-Lite version of Altair's specs, as vl-convert names its bundled compilers ('6.4'),
    or None (vl-convert's newest) if it bundles no such version."""
    import vl_convert as vlc

    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return version if version in vlc.get_vegalite_versions() else None


def chart_spec(chart: alt.TopLevelMixin, width: int = CHART_WIDTH) -> dict:
    """The chart's Vega-Lite spec for a page rather than the app's column: a fixed plotting width,
    sized to contain its axes and legends (the app fits charts to their column, which would cut a
    legend wider than the page), and text sized for paper. The chart itself is not changed."""
    spec = chart.to_dict(validate=False)
    spec["width"] = width
    spec["autosize"] = {"type": "pad"}
    config = {key: (dict(value) if isinstance(value, dict) else value) for key, value in PRINT_CONFIG.items()}
    for key, value in spec.get("config", {}).items():
        config[key] = config.get(key, {}) | value if isinstance(value, dict) else value
    spec["config"] = config
    return spec


PAGE_WIDTH = 690  # px: an A4 page's text; a wider chart has its legends stacked, then is scaled to fit


def fit(chart: alt.TopLevelMixin) -> tuple[dict, str]:
    """The chart's spec for the page and its SVG. A chart whose legends side by side are wider than the
    page (several groups compared, each with its own legend) gets its legend entries stacked instead."""
    import vl_convert as vlc

    spec = chart_spec(chart)
    svg = vlc.vegalite_to_svg(spec, vl_version=vegalite_version())
    if svg_size(svg)[0] > PAGE_WIDTH:
        stacked = dict(spec, config=spec["config"] | {"legend": spec["config"].get("legend", {}) |
                                                      {"direction": "vertical"}})
        narrower = vlc.vegalite_to_svg(stacked, vl_version=vegalite_version())
        if svg_size(narrower)[0] < svg_size(svg)[0]:
            spec, svg = stacked, narrower
    return spec, svg


def svg_size(svg: str) -> tuple[float, float]:
    match = re.search(r'<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"', svg)
    return (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)


def render_svg(chart: alt.TopLevelMixin) -> str:
    return fit(chart)[1]


def render_png(chart: alt.TopLevelMixin, scale: float = 2.0, spec: dict | None = None) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec or fit(chart)[0], vl_version=vegalite_version(), scale=scale)


def chart_files(chart_map: Mapping[str, alt.TopLevelMixin], fmt: str = "svg",
                fitted: Mapping[str, tuple[dict, str]] | None = None) -> dict[str, bytes]:
    """Each chart as a file: {'response.svg': b'<svg ...', ...} (fmt 'svg' or 'png', at twice the
    page's resolution). fitted: fit() of each chart already worked out."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"A chart file is svg or png, not '{fmt}'.")
    fitted = fitted or {name: fit(chart) for name, chart in chart_map.items()}
    if fmt == "svg":
        return {f"{name}.svg": fitted[name][1].encode("utf-8") for name in chart_map}
    return {f"{name}.png": render_png(chart, spec=fitted[name][0]) for name, chart in chart_map.items()}


# --- CSV files ---------------------------------------------------------------------------------

def table_csvs(metrics: MetricTables, overall: MetricTables | None = None) -> dict[str, bytes]:
    """Each shown metric table as a CSV file (metrics.shown, as for_report fills it). docs/METHODS.md 19's
    files keep their contract's columns (with a leading `group` column when the patients are
    compared by a dimension); the other tables keep the shown table's columns. Aggregates only:
    no table holds a patient id. Text a spreadsheet would run as a formula is neutralised."""
    shown = metrics.shown
    split = len(metrics.groups) > 1
    out: dict[str, bytes] = {}
    for filename, (table, columns) in CONTRACT_FILES.items():
        frame = shown[table]
        out[filename] = _csv((["group"] if split else []) + columns,
                             frame[(["grp"] if split else []) + columns].itertuples(index=False))
    contract = {table for table, _ in CONTRACT_FILES.values()}
    for table, frame in shown.items():
        if table not in contract:
            out[f"{table}.csv"] = _frame_csv(frame)
    if overall is not None and overall is not metrics:
        for table, frame in overall.shown.items():
            out[f"all_selected_{table}.csv"] = _frame_csv(frame)
    return out


def _frame_csv(frame: pd.DataFrame) -> bytes:
    columns = ["group" if c == "grp" else str(c) for c in frame.columns]
    return _csv(columns, frame.itertuples(index=False))


def _csv(columns: list[str], rows: Iterable) -> bytes:
    return csv_text(columns, rows).encode("utf-8")


def zip_files(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- The HTML page -----------------------------------------------------------------------------

def report_html(dataset, metrics: MetricTables, overall: MetricTables | None = None,
                cohort_text: Iterable[str] = (), made_at: datetime | None = None, show_references: bool = False,
                early_k: int = REPORT_K) -> str:
    """The report as one HTML page. dataset: the loaded files (dashboard.ingest.Dataset); metrics: the
    panels' tables (split by a dimension or not), every table computed; overall: the whole selected
    cohort's, when split (the tiles); cohort_text: the filters and the compare-by choice in words;
    made_at: default now; early_k: the infusion count "Keep going?" is about (the app's choice). The
    tables' `shown` is recomputed at the report's minimum cell size."""
    made_at = made_at or datetime.now().astimezone()
    m, o = for_report(metrics, overall)
    chart_map = panel_charts(m, dataset.measures, show_references, o, early_k)
    svgs = {name: fit(chart)[1] for name, chart in chart_map.items()}
    return _page(dataset, m, o, list(cohort_text), made_at, chart_map, svgs, show_references,
                 own=metrics.settings.min_cell > 0, early_k=early_k)


@dataclasses.dataclass
class ReportFiles:
    html: bytes
    charts_zip: bytes  # every chart as SVG and PNG
    tables_zip: bytes  # every shown metric table as CSV
    min_cell: int
    made_at: datetime
    seconds: float = 0.0


def build(dataset, metrics: MetricTables, overall: MetricTables | None = None, cohort_text: Iterable[str] = (),
          made_at: datetime | None = None, show_references: bool = False, early_k: int = REPORT_K) -> ReportFiles:
    """Everything the app offers for download, each chart drawn once (arguments as report_html's)."""
    import time

    started = time.perf_counter()
    made_at = made_at or datetime.now().astimezone()
    m, o = for_report(metrics, overall)
    chart_map = panel_charts(m, dataset.measures, show_references, o, early_k)
    fitted = {name: fit(chart) for name, chart in chart_map.items()}
    svgs = {name: svg for name, (_, svg) in fitted.items()}
    page = _page(dataset, m, o, list(cohort_text), made_at, chart_map, svgs, show_references,
                 own=metrics.settings.min_cell > 0, early_k=early_k)
    charts_zip = zip_files(chart_files(chart_map, "svg", fitted) | chart_files(chart_map, "png", fitted))
    tables_zip = zip_files(table_csvs(m, o))
    return ReportFiles(page.encode("utf-8"), charts_zip, tables_zip, m.settings.min_cell, made_at,
                       time.perf_counter() - started)


def write_report(path: Path, dataset, metrics: MetricTables, overall: MetricTables | None = None,
                 cohort_text: Iterable[str] = (), made_at: datetime | None = None) -> None:
    page = report_html(dataset, metrics, overall, cohort_text, made_at)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(page, encoding="utf-8")


def _page(dataset, m: MetricTables, o: MetricTables, cohort_text: list[str], made_at: datetime,
          chart_map: Mapping[str, alt.TopLevelMixin], svgs: Mapping[str, str], show_references: bool,
          own: bool, early_k: int = REPORT_K) -> str:
    """own: the minimum cell size is the dashboard's own setting (else the shared reports' 11)."""
    k = m.settings.min_cell
    primary = dataset.measures[m.settings.measure]
    figures = {name: svgs[name] for name in chart_map}
    made = made_at.strftime("%Y-%m-%d %H:%M") + (f" ({made_at.strftime('%Z') or made_at.strftime('%z')})"
                                                  if made_at.tzinfo else "")
    body = [
        "<header>",
        "<h1>Ketamine clinic outcomes</h1>",
        f'<p class="source{" sample" if dataset.is_sample else ""}"><strong>'
        f"{e(data_source(dataset.is_sample, [f.name for f in dataset.files], o.first_visit, o.last_visit, o.as_of))}"
        "</strong></p>",
        f'<p class="lead">Report made on <strong>{e(made)}</strong>. Data read as of <strong>{e(m.as_of)}</strong>; '
        f"primary measure <strong>{e(primary.label)}</strong>. {e(timing_note(m.settings.score_timing))}</p>",
        f'<p class="privacy">Aggregate numbers only: no patient ids and no rejected values. Counts below {k} '
        f"are shown as &lt;{k} and every rate computed from them is hidden; a count hidden only so that a "
        "small one cannot be worked out from the others reads &#8220;hidden&#8221;. "
        + (f"Minimum cell size {k}, as set (min_cell)." if own
           else f"Shared reports use a minimum cell size of {SHARED_MIN_CELL} (the dashboard's own was off).")
        + "</p>",
        _contents(),
        "</header>",
        _tiles_section(o),
        _data_section(dataset, m, o, cohort_text, own),
        _response_section(m, figures, show_references),
        report_decisions.time_to_response_section(m, figures),
        report_decisions.early_improvement_section(m, figures, show_references, early_k),
        _late_response_section(m, figures),
        _dropout_section(m, figures, show_references),
        _durability_section(m, primary, figures, show_references),
        _trajectories_section(m, dataset.measures, figures),
        report_decisions.services_section(m, primary, figures),
        report_decisions.fair_section(m, figures),
        _over_time_section(o, figures, split=o is not m),
        _data_quality_section(dataset),
        '<footer><p>Made by the ketamine clinic outcomes dashboard. Every number is computed as its methods '
        f"describe ({METHODS_DOC} in the project); rates are rounded to whole percentages here, and unrounded "
        "in the CSV files.</p></footer>",
    ]
    title = f"Ketamine clinic outcomes: report of {made_at:%Y-%m-%d}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _contents() -> str:
    items = [("tiles", "Headline numbers"), ("data", "Data, settings and patients"), *SECTIONS.items()]
    return ('<nav aria-label="Contents"><p class="contents">Contents: '
            + " · ".join(f'<a href="#{key}">{e(title)}</a>' for key, title in items) + "</p></nav>")


def _group_column(m: MetricTables) -> dict[str, str]:
    return {"grp": m.summary.attrs.get("group_title", "Group")} if len(m.groups) > 1 else {}


def _row(frame: pd.DataFrame, n: int):
    rows = frame[frame["n"] == n]
    return rows.iloc[0] if len(rows) else None


def _tiles_section(o: MetricTables) -> str:
    """The five headline numbers for the whole selected cohort, each with its denominator (panels.tiles)."""
    tiles = headlines.tiles(o.shown, o.settings.min_cell)
    items = "".join(f'<li class="tile"><span class="label">{e(label)}</span><span class="value">{e(value)}</span>'
                    f'<span class="note">{e(note)}</span></li>' for label, value, note, _ in tiles)
    s = o.settings
    thin = "".join(html_p(note, "warning") for note in headlines.thin_denominators(
        o.shown["response"], s.score_timing, s.end_of_series_days, s.min_cell))
    return (f'<section id="tiles"><h2>Headline numbers</h2><ul class="tiles">{items}</ul>' + thin
            + html_p("All the selected patients. Response after n infusions counts the patients with a score then; "
                 "\"of all who started\" (intention to treat) counts every patient with a usable baseline, one who "
                 "stopped as not responding.", "note") + "</section>")


def _data_section(dataset, m: MetricTables, o: MetricTables, cohort_text: list[str], own: bool) -> str:
    k = m.settings.min_cell
    files = pd.DataFrame([{"name": f.name, "read_as": f.describe() + "".join(f"; {n}" for n in f.notes),
                           "rows_read": f.rows_read, "rows_used": f.rows_used, "rows_rejected": f.rows_rejected}
                          for f in dataset.files])
    parts = [html_p(f"{len(dataset.files)} file{'s' * (len(dataset.files) != 1)} read: {dataset.rows_read:,} rows, "
                f"{dataset.rows_used:,} used, {dataset.rows_rejected:,} rejected whole."
                + (" " + note if (note := left_out_note(o.left_out_after_as_of, o.dated_in_future)) else "")),
             html_table(files, {"name": "File", "read_as": "Read as", "rows_read": "Rows read", "rows_used": "Used",
                            "rows_rejected": "Rejected"}, "Files in use",
                    counts=("rows_read", "rows_used", "rows_rejected"))]
    s = m.settings
    in_force = s.to_dict() | {
        "as_of": f"{m.as_of}" + ("" if s.as_of else " (the latest visit)"),
        "min_baseline": f"{s.min_baseline:g}" if s.min_baseline is not None else "the measure's own",
        "measure": f"{dataset.measures[s.measure].label} ({s.measure})",
        "response_reduction": percent(s.response_reduction),
        "min_cell": f"{k}" + ("" if own else f" (shared reports: {SHARED_MIN_CELL}; the dashboard's own was off)"),
    }
    settings = pd.DataFrame([{"setting": SETTING_NAMES.get(key, key), "value": str(value), "name": key}
                             for key, value in in_force.items()])
    parts.append(html_table(settings, {"setting": "Setting", "value": "Value", "name": "Name in exports"},
                        "Settings in force"))
    parts.append('<h3 id="methods">Methods</h3>')
    parts.append(html_p(f"How every number here is computed, with the settings above: {FULL_METHODS}"))
    cohort = [line for line in cohort_text if line]
    parts.append("<h3>Patients</h3>")
    if cohort:
        parts.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in cohort) + "</ul>")
    else:
        parts.append(html_p("Every patient in the data: no filter, no comparison."))
    if len(m.groups) > 1:
        sizes = ", ".join(f"{g}: {count(n, k)}" for g, n in zip(m.shown["summary"]["grp"],
                                                                 m.shown["summary"]["patients_started"]))
        parts.append(html_p(f"Compared by {_group_column(m)['grp']}: patients started {sizes}. The headline numbers "
                        "count all the selected patients."))
    return '<section id="data"><h2>Data, settings and patients</h2>' + "".join(parts) + "</section>"


def _response_section(m: MetricTables, figures, show_references: bool) -> str:
    s = m.settings
    shown = m.shown["response"]
    # Two tables rather than the app's one, so that each fits the width of a page.
    assessed = html_tables_by_group(m, shown, {
        "n": "Infusions", "assessed": "Assessed", "responders": "Responders", "rate": "Response",
        "interval": "95% interval", "remitters": "Remitters", "remission_rate": "Remission"},
        "Response and remission among the patients assessed after each infusion",
        rates=("rate", "remission_rate"), intervals={"interval": ("rate_low", "rate_high")},
        counts=("assessed", "responders", "remitters"), numeric=("n",))
    itt = html_tables_by_group(m, shown, {
        "n": "Infusions", "evaluable": "Evaluable (ITT)", "cumulative_responders": "Responded so far (ITT)",
        "cumulative_rate": "Response (ITT)"}, "Response by intention to treat (ITT)",
        rates=("cumulative_rate",), counts=("evaluable", "cumulative_responders"), numeric=("n",))
    parts = [html_p(f"{timing_note(s.score_timing)} Response: a fall of at least {percent(s.response_reduction)} from "
                "baseline.", "note"),
             html_fig(figures, "response", "Response, remission and intention-to-treat response after each infusion; "
                                       "the numbers are in the tables below."),
             assessed, itt,
             html_p("Response counts the patients with a score after that infusion. Intention to treat (ITT) counts every "
                "patient with a usable baseline: one who stopped counts as not responding, unless they had already "
                "responded.", "note")]
    if show_references:
        parts.append(html_p(f"Grey diamonds: published figures ({NOT_YOUR_DATA}; other protocols, scales and "
                        "definitions).", "note"))
        parts.append(html_references_table([*RESPONSE, RESPONSE_AFTER_INDUCTION]))
    return html_section("response", headlines.response(shown, s.planned, s.min_cell), *parts)





def _late_response_section(m: MetricTables, figures) -> str:
    shown = m.shown["late_response"]
    table = html_tables_by_group(m, shown, {
        "n": "Not responding after", "non_responders": "Not responding", "late_responders": "Responded later",
        "no_later_assessment": "No later score", "scored_again": "Scored again later",
        "late_response_rate": "Responded later (share)"}, "Later response, by infusion count",
        rates=("late_response_rate",),
        counts=("non_responders", "late_responders", "no_later_assessment", "scored_again"), numeric=("n",))
    return html_section("late_response", headlines.late_response(shown, m.settings.min_cell),
                    html_p("For each infusion count: the patients not responding then, and how many of them responded "
                       "after a later infusion of their series. Patients with no later score are left out of the share "
                       "and counted in the table.", "note"),
                    html_fig(figures, "late_response", "Share responding later, by the infusion count at which they were "
                                                   "not yet responding; the numbers are in the table below."),
                    table)


def _dropout_section(m: MetricTables, figures, show_references: bool) -> str:
    k = m.settings.min_cell
    dropout = m.shown["dropout"]
    lines = []
    for row in m.shown["summary"].itertuples():
        prefix = f"{row.grp}: " if len(m.groups) > 1 else ""
        lines.append(html_p(f"{prefix}{count(row.completed, k)} completed the series, {count(row.dropped, k)} stopped "
                        f"early (completion {percent(row.completion_rate)}), {count(row.in_progress, k)} still in "
                        "their series."))
    if show_references:
        lines.append(html_p(f"Published figure ({NOT_YOUR_DATA}): {COMPLETION[1]} ({COMPLETION[0]}, {COMPLETION[2]}).",
                        "note"))
    stopped = m.shown["stopped_by_status"]
    status = stopped.assign(
        status=stopped["response_at_last"].map(charts.STOPPED_AS).fillna(stopped["response_at_last"]))
    reasons = m.shown["stop_reasons"]
    raw_reasons = m.stop_reasons()
    parts = [*lines,
             html_fig(figures, "dropout_points", "Patients who stopped after each infusion, by their response status "
                                             "then; the numbers are in the table below."),
             html_tables_by_group(m, status, {"n": "Stopped after infusion", "status": "When they stopped they were",
                                                "patients": "Patients"},
                    "Patients who stopped, by infusion and response status", counts=("patients",), numeric=("n",)),
             html_fig(figures, "retention", "Kaplan-Meier share of series reaching each infusion; the numbers are in the "
                                        "table below."),
             html_fig(figures, "in_progress", "Patients still in their series, by infusions so far; the numbers are in "
                                          "the table below."),
             html_tables_by_group(m, dropout, {
                 "n": "Infusion", "dropped_after": "Stopped after it", "completed_at": "Completed at it",
                 "in_progress_at": "Still in series at it", "retained": "Reach this infusion (Kaplan-Meier)"},
                 "Dropout and retention by infusion", rates=("retained",),
                 counts=("dropped_after", "completed_at", "in_progress_at"), numeric=("n",))]
    if (raw_reasons["reason"] != "(not recorded)").any():
        order = raw_reasons.sort_values(["grp", "patients"], ascending=[True, False]).index
        parts.append(html_table(reasons.loc[order], _group_column(m) | {"reason": "Reason", "patients": "Patients"},
                            "Reasons given for stopping", counts=("patients",)))
    else:
        parts.append(html_p("The data has no discontinuation reasons.", "note"))
    return html_section("dropout", headlines.dropout(m.shown["summary"], dropout, k), *parts)


def _durability_section(m: MetricTables, primary: Measure, figures, show_references: bool) -> str:
    s = m.settings
    shown = m.shown["durability"]
    parts = [html_p(f"Responders whose series has ended, re-assessed nearest {s.follow_up_days} days after their last "
                f"infusion (within {s.follow_up_window[0]}–{s.follow_up_window[1]} days).", "note"),
             html_fig(figures, "durability", "Where responders stand one month after their series; the numbers are in "
                                         "the table below.")]
    for row in shown.itertuples():
        prefix = f"{row.grp}: " if len(m.groups) > 1 else ""
        parts.append(html_p(prefix + headlines.durability_detail(row)))
    parts.append(html_fig(figures, "durability_rates", "Durability rates with their 95% interval."))
    if show_references:
        ref = DURABILITY_FOUR_WEEKS
        parts.append(html_p(f"Dashed grey line, {NOT_YOUR_DATA}: {ref.what}, {ref.value} ({ref.citation}; "
                        f"{ref.population}).", "note"))
    parts.append(html_table(shown, _group_column(m) | {
        "eligible": "Responders at the end of their series (any length)", "durable": "Still responding",
        "lost": "Response lost", "booster_first": "Booster before follow-up", "no_follow_up": "No follow-up",
        "pending": "Not due yet"},
        "Responders one month after their series",
        counts=("eligible", "durable", "lost", "booster_first", "no_follow_up", "pending"),
        row_header="grp" if len(m.groups) > 1 else "eligible"))
    same = m.shown.get("milestones", pd.DataFrame())
    same = same[same["measure"] == primary.name] if len(same) else same
    if len(same):
        points = charts.milestone_rows(same)
        points = points.assign(mean=[f"{v:.1f}" if not pd.isna(v) else "–" for v in pd.to_numeric(points["mean"])])
        parts.append(html_fig(figures, "milestones", f"Mean {primary.label} at baseline, at the end of the series and "
                                                 "at one month; the numbers are in the table below."))
        parts.append(html_p(milestones_note(charts.milestone_patients(same)), "note"))
        parts.append(html_table(points, _group_column(m) | {"point": f"Mean {primary.label}", "mean": "Mean",
                                                        "patients": "Patients"},
                            f"Mean {primary.label} at three points", counts=("patients",), numeric=("mean",)))
    return html_section("durability", headlines.durability(shown, s.min_cell), *parts)


def _trajectories_section(m: MetricTables, measures: Mapping[str, Measure], figures) -> str:
    traj = m.shown["trajectories"]
    primary = measures[m.settings.measure]
    present = [name for name in measures if len(traj) and name in set(traj["measure"])]
    parts = [html_p("Mean score at baseline, after each infusion and at the one-month follow-up, with its 95% interval "
                "(shaded), over the patients who have that score.", "note")]
    for name in present:
        measure = measures[name]
        frame = traj[traj["measure"] == name]
        when = ["Baseline" if kind == "baseline" else ("1 month" if kind == "follow_up" else f"After {int(n)}")
                for kind, n in zip(frame["kind"], frame["n"])]
        table = frame.assign(
            when=when,
            mean=[f"{v:.1f}" if not pd.isna(v) else "–" for v in pd.to_numeric(frame["mean"], errors="coerce")],
            interval=[f"{lo:.1f}–{hi:.1f}" if not (pd.isna(lo) or pd.isna(hi)) else "–"
                      for lo, hi in zip(pd.to_numeric(frame["mean_low"], errors="coerce"),
                                        pd.to_numeric(frame["mean_high"], errors="coerce"))])
        better = "lower" if measure.lower_is_better else "higher"
        title = (f"{measure.label}" + (f" ({measure.domain})" if measure.domain else "")
                 + f" · range {measure.low:g}–{measure.high:g}, {better} is better")
        parts.append(f'<div class="measure"><h3>{e(title)}</h3>')
        parts.append(html_fig(figures, f"trajectory_{name}", f"Mean {measure.label} over the series, with its 95% "
                                                        "interval; the numbers are in the table below."))
        parts.append(html_tables_by_group(m, table, {"when": "When", "mean": "Mean", "interval": "95% interval",
                                                       "patients": "Patients"},
                            f"Mean {measure.label} over the series", counts=("patients",),
                            numeric=("mean", "interval")))
        parts.append("</div>")
    if not present:
        parts.append(html_p("No scores to show yet."))
    primary_traj = traj[traj["measure"] == primary.name] if len(traj) else traj
    return html_section("trajectories", headlines.trajectory(primary_traj, primary.label), *parts)


def _over_time_section(o: MetricTables, figures, split: bool) -> str:
    monthly = o.shown.get("monthly")
    period = o.settings.control_period
    if monthly is None or not len(monthly):
        return html_section("over_time", f"No series start to chart by {period} yet.")
    parts = [html_p(control_intro(period, split, has_pooled_point(monthly)), "note")]
    sentences = []
    for chart, title in control_titles(o.settings.planned).items():
        points = monthly[monthly["chart"] == chart]
        parts.append(f"<h3>{e(title)}</h3>")
        if _withheld(o, chart, points):  # drawing only the points that can be shown would mislead
            sentences.append(control_withheld(points, period, o.settings.min_cell).removesuffix(
                " Quarters, on the switch above, may show it."))
        else:
            sentences.append(headlines.control_chart(points, title, period))
        parts.append(html_p(sentences[-1]))
        parts.append(html_fig(figures, f"control_{chart}", f"{title} by {period} of series start, with 3-sigma limits; "
                                                        "the numbers are in the table below."))
        parts.append(html_table(control_rows(points, period), control_columns(period), f"{title} by {period}",
                            rates=("rate", "lcl", "ucl"), counts=("patients", "events"), row_header="month"))
    return html_section("over_time", f"Response, completion and durability by {period} of series start, against "
                                 "3-sigma control limits.", *parts)


def rejections_by_reason(rejections: pd.DataFrame) -> pd.DataFrame:
    """How many rows or values were rejected for each reason: counts only, never the values or lines."""
    reasons = (rejections["reason"].astype(str).str.replace(r" line \d+$", "", regex=True)
               .str.replace(r"^exact repeat of .*", "exact repeat of an earlier row", regex=True))
    summary = reasons.to_frame("reason").groupby("reason", as_index=False).size().rename(columns={"size": "count"})
    return summary.sort_values(["count", "reason"], ascending=[False, True]).reset_index(drop=True)


def _data_quality_section(dataset) -> str:
    rejections = dataset.rejections()
    headline = headlines.data_quality(dataset.rows_read, dataset.rows_used, dataset.rows_rejected, len(rejections))
    if rejections.empty:
        return html_section("data_quality", headline, html_p("Every row and value was used: nothing was rejected."))
    return html_section("data_quality", headline,
                    html_p("Nothing is dropped silently: the dashboard lists each rejected row or value with its file, "
                       "line and reason. This report gives only the number for each reason (no values, no patient "
                       "ids).", "note"),
                    html_table(rejections_by_reason(rejections), {"reason": "Reason", "count": "Rows or values"},
                           "Rejections by reason", counts=("count",)))


STYLE = """
:root { color-scheme: light; }
html { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 12pt; line-height: 1.45;
       color: #111; background: #fff; }
body { margin: 0; }
main { max-width: 190mm; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 22pt; margin: 0 0 .4rem; }
h2 { font-size: 17pt; margin: 1.6rem 0 .5rem; padding-top: .4rem; border-top: 2px solid #111; }
h3 { font-size: 13.5pt; margin: 1.2rem 0 .3rem; }
p { margin: .45rem 0; }
a { color: #0645ad; }
.lead { font-size: 12.5pt; }
.headline { font-size: 13.5pt; font-weight: bold; margin: .6rem 0; }
.note, .privacy, figcaption, caption { color: #333; }
.privacy { border-left: 4px solid #555; padding: .2rem .6rem; background: #f3f3f3; }
.source.sample { border-left: 4px solid #B35900; padding: .2rem .6rem; background: #fff1e0; }
.warning { border-left: 4px solid #B35900; padding: .2rem .6rem; background: #fff8ec; }
.contents { font-size: 12pt; }
.tiles { list-style: none; padding: 0; margin: .6rem 0; display: grid;
         grid-template-columns: repeat(auto-fit, minmax(32mm, 1fr)); gap: 3mm; }
.tile { border: 1px solid #555; border-radius: 4px; padding: 2.5mm 3mm; display: flex; flex-direction: column;
        break-inside: avoid; }
.tile .label { font-weight: bold; }
.tile .value { font-size: 22pt; font-weight: bold; line-height: 1.2; margin: .2rem 0; }
.tile .note { font-size: 12pt; color: #333; }
figure.chart { margin: 1rem 0; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12pt; margin-top: .2rem; }
.table { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: 12pt; }
caption { text-align: left; font-weight: bold; padding: .2rem 0; }
th, td { border: 1px solid #767676; padding: .2rem .4rem; vertical-align: top; text-align: left; }
thead th { background: #e8e8e8; font-weight: bold; vertical-align: bottom; }
tbody th { font-weight: normal; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, tbody th.num { white-space: nowrap; }
footer { margin-top: 2rem; border-top: 1px solid #767676; color: #333; }
@page { size: A4; margin: 14mm 13mm; }
@media print {
  html { font-size: 12pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  section.panel { break-before: page; page-break-before: always; }
  h2 { border-top: none; margin-top: 0; }
  h2, h3, .headline { break-after: avoid; page-break-after: avoid; }
  table, figure, .tile, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .table { overflow: visible; }
}
"""
