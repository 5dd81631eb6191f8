"""The report's sections for docs/METHODS.md's panels: days to response, "Keep going?" at infusion k
(early improvement), as services report it (reliable change and recovery), and fair comparisons
(funnel plots). Built as dashboard.present.report builds the others, from the tables as shown at the
report's minimum cell size, with the app's words (dashboard.present.decisions_text) and charts
(dashboard.present.charts_decisions). All user text is escaped. No Streamlit."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from dashboard.core.measures import Measure
from dashboard.engine.metrics import MetricTables
from dashboard.present import charts_decisions
from dashboard.present import decisions_text as words
from dashboard.present.references import EARLY_IMPROVEMENT
from dashboard.present.report_parts import (
    e,
    html_fig,
    html_p,
    html_references_table,
    html_section,
    html_table,
    html_tables_by_group,
)

REPORT_K = 3  # the infusion count the report's sentence is about, unless the app's choice is given (its default)


def _k(early: pd.DataFrame, wanted: int = REPORT_K) -> int | None:
    """The k the section is about: the one wanted (the app's choice), else the nearest there is."""
    available = words.ks(early)
    if not available:
        return None
    return min(available, key=lambda k: (abs(k - wanted), k))


def _computed(m: MetricTables, name: str) -> bool:
    return name in m.shown and len(getattr(m, name).columns) > 0


def charts(m: MetricTables, measures: Mapping[str, Measure], early_k: int = REPORT_K) -> dict[str, alt.TopLevelMixin]:
    """The new sections' charts by name, built from m.shown as the app's panels build them (the
    "keep going?" heatmaps outlining early_k, or the nearest k there is)."""
    shown = m.shown
    out: dict[str, alt.TopLevelMixin] = {}
    curve = words.time_to_response_curve(shown) if _computed(m, "time_to_response") else None
    if curve is not None and len(curve) and pd.to_numeric(curve["responded_share"], errors="coerce").notna().any():
        out["time_to_response"] = charts_decisions.time_to_response_curve(curve)  # by week when counts are hidden
    if _computed(m, "early_improvement") and (k := _k(shown["early_improvement"], early_k)) is not None:
        early = shown["early_improvement"]
        for i, grp in enumerate(m.groups):
            rows = early[early["grp"].astype(str) == str(grp)]
            suffix = f"_{i}" if len(m.groups) > 1 else ""
            for kind in ("later", "itt"):
                chart = charts_decisions.early_heatmap(rows, k, kind)
                if len(m.groups) > 1:
                    chart = chart.properties(title=alt.Title(f"{charts_decisions.EARLY_KINDS[kind][3]} ({grp})"))
                out[f"early_{kind}{suffix}"] = chart
    primary = measures[m.settings.measure]
    if _computed(m, "reliable_change") and len(shown["reliable_change"]):
        out["reliable_change"] = charts_decisions.reliable_change_bars(shown["reliable_change"])
        points = m.reliable_change_points
        for i, grp in enumerate(m.groups):
            rows = points[points["grp"].astype(str) == str(grp)] if len(points.columns) else points
            if len(rows):
                chart = charts_decisions.prepost_scatter(rows, (primary.low, primary.high), primary.label,
                                                         primary.caseness, primary.reliable_change, m.settings.min_cell)
                out[f"prepost{f'_{i}' if len(m.groups) > 1 else ''}"] = (
                    chart.properties(title=f"Start and end of each finished series ({grp})") if len(m.groups) > 1
                    else chart)
    if _computed(m, "funnel") and len(m.groups) > 1:
        title = m.summary.attrs.get("group_title", "Group")
        funnel = shown["funnel"]
        for outcome, (name, _, _) in words.OUTCOMES.items():
            rows = funnel[funnel["outcome"] == outcome]
            if len(rows):
                out[f"funnel_{outcome}"] = charts_decisions.funnel_plot(rows, f"{name} by {title}", title)
    return out


def section_of(name: str) -> str | None:
    """The section a chart of `charts` belongs to (None: not one of these)."""
    for prefix, section in (("time_to_response", "time_to_response"), ("early_", "early_improvement"),
                            ("reliable_change", "services"), ("prepost", "services"), ("funnel_", "fair")):
        if name.startswith(prefix):
            return section
    return None


def in_page_order(chart_map: dict[str, alt.TopLevelMixin], new: dict[str, alt.TopLevelMixin],
                  sections: dict[str, str], section_of_old) -> dict[str, alt.TopLevelMixin]:
    """The charts in the order the page draws them: by section, each section's in their own order."""
    order = list(sections)
    combined = list(chart_map.items()) + list(new.items())

    def place(item):
        section = section_of(item[0]) or section_of_old(item[0])
        return order.index(section) if section in order else len(order)

    return dict(sorted(combined, key=place))  # a stable sort keeps each section's own order


# --- Sections --------------------------------------------------------------------------------------

def time_to_response_section(m: MetricTables, figures) -> str:

    if not _computed(m, "time_to_response"):
        return html_section("time_to_response", "Not computed.")
    k = m.settings.min_cell
    ttr = words.time_to_response_curve(m.shown)  # by week when small counts are hidden
    weekly = words.by_week(ttr)
    unit = "week" if weekly else "day"
    several = len(m.groups) > 1
    if not len(ttr):
        return html_section("time_to_response", "No patient has a score after an infusion yet.")
    lead = ("Half of the patients had responded within how many days, by group." if several else
            words.time_to_response(ttr, k))
    parts = [html_p(f"{g}: {words.time_to_response(ttr, k, str(g))}") for g in m.groups] if several else []
    parts += [html_fig(figures, "time_to_response", f"Estimated share of patients responded by {'the end of ' * weekly}"
                                               f"each {unit} since their first infusion, with its 95% interval; the "
                                               "medians are in the table below."),
              html_p("Days from the first series infusion to the visit whose score first met response, for patients "
                 "with a usable baseline and a score after an infusion. Kaplan-Meier estimate: a patient who has "
                 "not responded is counted until their last score (censored), so the median is the day by which an "
                 "estimated half of the patients had responded, not half of those who responded.", "note")]
    if weekly and "time_to_response" in figures:
        parts.insert(-1, html_p(words.curve_note(ttr, k, several)
                            + " The median and its interval are read off the daily curve.", "note"))
    if "time_to_response" not in figures:
        parts.insert(0, html_p("The curve is not drawn: " + ("even by week, " if weekly else "")
                           + f"part of it would rest on counts below the minimum cell size ({k}), and each {unit}'s "
                             f"share depends on every {unit} before it.", "note"))
    medians = words.medians(ttr)
    medians = medians.assign(
        when=[f"{int(v)} days" if not words.hidden(v) else "–" for v in medians["median_days"]],
        interval=[f"{int(lo)}–{int(hi)} days" if not words.hidden(lo) and not words.hidden(hi) else
                  (f"from {int(lo)} days" if not words.hidden(lo) else "–")
                  for lo, hi in zip(medians["median_low"], medians["median_high"])])
    group = {"grp": m.summary.attrs.get("group_title", "Group")} if several else {}
    parts.append(html_table(medians, group | {"patients": "Patients", "responded": "Responded so far",
                                          "when": "Half responded within", "interval": "95% interval"},
                        "Days to response", counts=("patients", "responded"),
                        row_header="grp" if several else "patients"))
    return html_section("time_to_response", lead, *parts)


def early_improvement_section(m: MetricTables, figures, show_references: bool, early_k: int = REPORT_K) -> str:

    if not _computed(m, "early_improvement"):
        return html_section("early_improvement", "Not computed.")
    early = m.shown["early_improvement"]
    k_min = m.settings.min_cell
    k = _k(early, early_k)
    if k is None:
        return html_section("early_improvement", "Too few infusions in a series to ask yet.")
    several = len(m.groups) > 1
    lead = (words.early_improvement_by_group(early, k, k_min) if several else words.early_improvement(early, k, k_min))
    parts = [] if several else [html_p(words.early_all_started(early, k, k_min))]
    parts += [html_p(line) for line in ([] if several else words.early_bands(early, k, k_min))]
    parts.append(html_p("Improvement after k infusions: the fall of the score from baseline, as a share of the baseline. "
                    "Responded: a later score of the series met response. Left: of the patients scored again later "
                    "in their series; right: intention to treat, of every patient in the band whose series has "
                    "ended, one who stopped counting as not responding. The outlined column is k = "
                    f"{k}.", "note"))
    for i, grp in enumerate(m.groups):
        suffix = f"_{i}" if several else ""
        for kind in ("later", "itt"):
            parts.append(html_fig(figures, f"early_{kind}{suffix}",
                              f"{charts_decisions.EARLY_KINDS[kind][3]}, by infusion count and improvement band"
                              + (f" ({grp})" if several else "") + "; the numbers are in the table below."))
    if show_references:
        parts.append(html_references_table(EARLY_IMPROVEMENT))
    table = early.assign(band_name=[words.band_label(lo, hi) for lo, hi in zip(early["band_from"], early["band_to"])])
    parts.append(html_tables_by_group(m, table, {
        "k": "After", "band_name": "Improved", "patients": "Patients", "no_later_score": "No later score",
        "responded_later": "Responded later", "later_response_rate": "Share", "itt_evaluable": "Series ended",
        "itt_responded": "Of whom responded", "itt_rate": "Share (ITT)"},
        "Later response by infusion count and improvement band", rates=("later_response_rate", "itt_rate"),
        counts=("patients", "no_later_score", "responded_later", "itt_evaluable", "itt_responded"), numeric=("k",)))
    return html_section("early_improvement", lead, *parts)


def services_section(m: MetricTables, primary: Measure, figures) -> str:

    if not _computed(m, "reliable_change"):
        return html_section("services", "Not computed.")
    k = m.settings.min_cell
    rc = m.shown["reliable_change"]
    missing = words.thresholds_missing(primary)
    if not len(rc):
        return html_section("services", f"No reliable change or recovery for {primary.label}.",
                        html_p(missing or "No patient has finished their series yet."))
    several = len(m.groups) > 1
    lead = ("Reliable change and recovery, by group." if several else words.reliable_change(rc, primary, k))
    parts = [html_p(missing)] if missing else []
    for grp in m.groups:  # a safety signal: its own line, before the charts
        text = words.deterioration(rc, primary, k, str(grp))
        if text:
            parts.append(f'<p class="headline">{_escape((f"{grp}: " if several else "") + text)}</p>')
    parts.append(html_fig(figures, "reliable_change", "The five categories with their 95% intervals; the numbers are in "
                                                  "the table below."))
    for i, grp in enumerate(m.groups):
        parts.append(html_fig(figures, f"prepost{f'_{i}' if several else ''}",
                          "Baseline against last score of each finished series" + (f" ({grp})" if several else "")
                          + f", gathered into squares of 5 points; squares with fewer than {k} patients are not "
                          "drawn. The grey band is less than a reliable change; the dashed lines are caseness."))
    parts.append(html_p(f"NHS Talking Therapies conventions, for {primary.label}: reliable change "
                    f"{'–' if primary.reliable_change is None else f'{primary.reliable_change:g}'} points, caseness "
                    f"{'–' if primary.caseness is None else f'{primary.caseness:g}'}. Finished: the series has ended "
                    "and there is a score after it began. The first three shares are of every finished patient; "
                    "recovery and reliable recovery of those who started as a clinical case (Jacobson-Truax style).",
                    "note"))
    table = rc.assign(label=rc["category"].map(words.CATEGORY_LABELS),
                      meaning=[words.category_meaning(c, primary) for c in rc["category"]])
    group = {"grp": m.summary.attrs.get("group_title", "Group")} if several else {}
    parts.append(html_table(table, group | {"label": "Category", "meaning": "Meaning", "patients": "Patients",
                                        "denominator": "Of", "rate": "Share", "interval": "95% interval"},
                        "Reliable change and recovery", rates=("rate",),
                        intervals={"interval": ("rate_low", "rate_high")}, counts=("patients", "denominator"),
                        row_header="grp" if several else "label"))
    return html_section("services", lead, *parts)


def fair_section(m: MetricTables, figures) -> str:

    if not _computed(m, "funnel") or len(m.groups) <= 1:
        return html_section("fair", "No comparison chosen: compare the patients by a dimension (site, provider, baseline "
                                "severity...) for funnel plots of each group against all the selected patients "
                                "(in the app, \"Compare by\"; from the command line, --compare-by).")
    k = m.settings.min_cell
    title = m.summary.attrs.get("group_title", "Group")
    funnel = m.shown["funnel"]
    sentences = [words.funnel(funnel[funnel["outcome"] == o], o, title, k) for o in words.OUTCOMES]
    parts = [html_p("Each group's rate against its denominator, around the rate of all the selected patients, with "
                "exact binomial control limits at 95% and 99.8%. A group outside the 99.8% limits is unlikely to "
                "differ by chance alone. Groups are listed by name, never ranked.", "note")]
    for outcome, (name, meaning, denominator) in words.OUTCOMES.items():
        rows = funnel[funnel["outcome"] == outcome]
        parts.append(f"<h3>{_escape(name)}</h3>")
        parts.append(html_p(words.funnel(rows, outcome, title, k)))
        parts.append(html_fig(figures, f"funnel_{outcome}", f"{name} ({meaning}) by {title}, with 95% and 99.8% limits; "
                                                        "the numbers are in the table below."))
        table = rows.assign(position=rows["position"].map(lambda p: words.POSITIONS.get(p, "not judged")),
                            inner=[_limits(lo, hi) for lo, hi in zip(rows["low_95"], rows["high_95"])],
                            outer=[_limits(lo, hi) for lo, hi in zip(rows["low_998"], rows["high_998"])])
        parts.append(html_table(table, {"grp": title, "denominator": denominator.capitalize(), "numerator": "Of whom",
                                    "rate": "Share", "inner": "95% limits", "outer": "99.8% limits",
                                    "position": "Where it lies"}, f"{name} by {title}", rates=("rate",),
                            counts=("numerator", "denominator")))
    return html_section("fair", sentences[0], *parts)


def _limits(low, high) -> str:
    from dashboard.present.formatting import percent

    return "–" if words.hidden(low) or words.hidden(high) else f"{percent(low)}–{percent(high)}"


def _escape(text: str) -> str:

    return e(text)
