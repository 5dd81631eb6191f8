"""The report's HTML building blocks, shared by dashboard.present.report and report_decisions:
escaping, figures, sections, paragraphs and tables, and the report's sections in page order.
All user and data text is escaped here. No Streamlit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from dashboard.engine.metrics import MetricTables
from dashboard.present.formatting import readable
from dashboard.present.references import NOT_YOUR_DATA, Reference

# Section id -> heading, in the order of the app's tabs.
SECTIONS = {"response": "Response by infusion count", "late_response": "Keep going?", "dropout": "Dropout points",
            "durability": "Durability at one month", "trajectories": "Symptom trajectories",
            "over_time": "Are we getting better?", "data_quality": "Data quality"}
# New sections, each placed after the one named (dict order is the page's order).
NEW_SECTIONS = {
    "time_to_response": ("response", "Days to response"),
    "early_improvement": ("response", "Keep going? Improvement after k infusions"),
    "services": ("trajectories", "As services report it"),
    "fair": ("services", "Compare fairly"),
}


def with_sections(sections: dict[str, str]) -> dict[str, str]:
    """The report's sections with the new ones inserted after their anchors, in order."""
    out = dict(sections)
    for key, (after, title) in NEW_SECTIONS.items():
        items = list(out.items())
        at = next((i + 1 for i, (k, _) in enumerate(items) if k == after), len(items))
        # Keep an earlier-inserted section after the same anchor before this one.
        while at < len(items) and items[at][0] in NEW_SECTIONS and list(NEW_SECTIONS).index(items[at][0]) < \
                list(NEW_SECTIONS).index(key):
            at += 1
        out = dict(items[:at] + [(key, title)] + items[at:])
    return out


# The report's sections, each of docs/METHODS.md's after the panel it goes with.
SECTIONS = with_sections(SECTIONS)


def e(text) -> str:
    """User or data text, escaped for HTML (quotes too: it may sit in an attribute)."""
    return html.escape(str(text), quote=True)


def html_figure(name: str, svg: str, caption: str) -> str:
    """An inline SVG chart, captioned; its numbers are in the table after it (for screen readers and print)."""
    svg = re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="chart-{e(name)}-caption" ', 1)
    return (f'<figure class="chart" id="chart-{e(name)}">{svg}'
            f'<figcaption id="chart-{e(name)}-caption">{e(caption)}</figcaption></figure>')


def html_fig(svgs: Mapping[str, str], name: str, caption: str) -> str:
    return html_figure(name, svgs[name], caption) if name in svgs else ""


def html_section(key: str, headline: str, *parts: str) -> str:
    return (f'<section id="{key}" class="panel"><h2>{e(SECTIONS[key])}</h2>'
            f'<p class="headline">{e(headline)}</p>' + "".join(parts) + "</section>")


def html_p(text: str, cls: str = "") -> str:
    attrs = f' class="{cls}"' if cls else ""
    return f"<p{attrs}>{e(text)}</p>"


NUM = ' class="num"'


def html_table(frame: pd.DataFrame, columns: dict[str, str], caption: str, rates: tuple[str, ...] = (),
           intervals: dict[str, tuple[str, str]] | None = None, counts: tuple[str, ...] = (),
           row_header: str | None = None, numeric: Iterable[str] = ()) -> str:
    """A table of a shown metric frame, as the app's panels show it: rates as whole percentages,
    intervals as 'low–high', counts as written ('<11', 'hidden'). row_header: the column whose cells
    head their row."""
    shown = readable(frame, rates, intervals, counts)
    row_header = row_header or next(iter(columns))
    right = set(rates) | set(counts) | set(intervals or {}) | set(numeric)
    head = "".join(f'<th scope="col"{NUM if col in right else ""}>{e(label)}</th>' for col, label in columns.items())
    rows = []
    for _, row in shown.iterrows():
        cells = []
        for col in columns:
            value = row[col]
            text = "–" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            attrs = NUM if col in right else ""
            if col == row_header:
                cells.append(f'<th scope="row"{attrs}>{e(text)}</th>')
            else:
                cells.append(f"<td{attrs}>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table"><table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def html_tables_by_group(m: MetricTables, frame: pd.DataFrame, columns: dict[str, str], caption: str, **options) -> str:
    """One table per group when the patients are compared by a dimension (narrow enough for a page),
    else one table."""
    if len(m.groups) <= 1:
        return html_table(frame, columns, caption, **options)
    title = m.summary.attrs.get("group_title", "Group")
    return "".join(html_table(frame[frame["grp"].astype(str) == str(g)], columns, f"{caption} ({title}: {g})", **options)
                   for g in m.groups)


def html_references_table(references: list[Reference]) -> str:
    frame = pd.DataFrame([{"source": r.citation, "figure": r.what, "value": r.value, "population": r.population}
                          for r in references])
    return html_table(frame, {"source": "Source", "figure": "Figure", "value": "Published value",
                          "population": "Population, scale, definition"}, f"Published figures ({NOT_YOUR_DATA})")
