"""The panels of docs/METHODS.md: "Keep going?" at infusion k (early improvement), "As services
report it" (reliable change and recovery), days to response, and "Compare fairly" (funnel plots).
Drawing only: every number comes from MetricTables (dashboard.engine.metrics), as shown
(dashboard.engine.suppression); the words from dashboard.present.decisions_text; the charts from
dashboard.present.charts_decisions. Main-screen words are plain; the methods expander names the methods."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.core.measures import Measure
from dashboard.engine.metrics import Cohort, MetricTables
from dashboard.present import charts_decisions, labels
from dashboard.present import decisions_text as words
from dashboard.present.formatting import count, percent, plain, readable
from dashboard.present.references import EARLY_IMPROVEMENT, NOT_YOUR_DATA
from dashboard.ui.panels import draw, headline, panel_title, text_and_chart

# The chosen k, kept apart from its control so that it holds while the control is not drawn
# (another tab open, presentation mode); likewise the funnel's dimension and outcome.
K_KEY = "early_k"
FUNNEL_DIM_KEY = "funnel_dim"
FUNNEL_OUTCOME_KEY = "funnel_outcome"
DEFAULT_K = 3


def _presenting() -> bool:
    return bool(st.session_state.get("present"))


def _keep(key: str) -> None:
    chosen = st.session_state[f"{key}_choice"]
    if chosen is None:  # a segmented control clicked twice: keep the choice in force, and show it
        st.session_state[f"{key}_choice"] = st.session_state.get(key, DEFAULT_K)
    else:
        st.session_state[key] = chosen


def _group_title(m: MetricTables) -> str:
    return m.summary.attrs.get("group_title", "Group")


def _table(frame: pd.DataFrame, columns: dict[str, str], **options) -> None:
    shown = readable(frame, **options)
    st.dataframe(shown[list(columns)].rename(columns=columns), hide_index=True)


# --- Keep going? ---------------------------------------------------------------------------------

def wanted_k() -> int:
    """The k chosen on the "Keep going?" tab (3 until one is chosen), for the report."""
    return st.session_state.get(K_KEY, DEFAULT_K)


def chosen_k(available: list[int]) -> int:
    """The k in force: the one chosen, else 3, else the nearest there is."""
    wanted = wanted_k()
    if not available or wanted in available:
        return wanted
    return min(available, key=lambda k: (abs(k - wanted), k))


def keep_going(m: MetricTables, show_references: bool) -> None:
    """Early improvement at infusion k, the heart of the "Keep going?" tab: one sentence for the
    chosen k, the heatmaps of every k and band (later response, and of all whose series ended)."""
    panel_title("Keep going?")
    early = m.shown["early_improvement"]
    k_min = m.settings.min_cell
    available = words.ks(early)
    if not available:
        headline("Too few infusions in a series to ask yet: no patient can have a score after one infusion "
                 "and a later one.")
        return
    k = chosen_k(available)
    if not _presenting():
        st.segmented_control("Improvement after how many infusions?", available, default=k, key=f"{K_KEY}_choice",
                             on_change=_keep, args=(K_KEY,), format_func=lambda v: f"{v} infusion{'s' * (v != 1)}",
                             help="The decision point: a patient who has had this many infusions.")
        k = chosen_k(available)
    several = len(m.groups) > 1
    headline(words.early_improvement_by_group(early, k, k_min) if several else
             words.early_improvement(early, k, k_min))
    text, chart = text_and_chart()
    if not several:
        text.markdown(plain(words.early_all_started(early, k, k_min)))
    bands = ", ".join(words.band_label(lo, hi) for lo, hi in
                      early[early["k"].astype(int) == k][["band_from", "band_to"]].itertuples(index=False))
    where = "" if _presenting() else "; set them in the sidebar under Thresholds and windows"
    text.caption(f"Improvement after k infusions: the fall of the score from baseline, as a share of the baseline "
               f"(bands: {plain(bands)}{where}). Responded: a later "
               "score of the series met response. The left chart leaves out patients with no later score; the right "
               "one counts every patient in the band whose series has ended, one who stopped as not responding.")
    for grp in m.groups:
        rows = early[early["grp"].astype(str) == str(grp)]
        if several:
            chart.markdown(f"**{plain(_group_title(m))}: {plain(grp)}**")
        left, right = chart.columns(2)
        draw(left, charts_decisions.early_heatmap, rows, k, "later")
        draw(right, charts_decisions.early_heatmap, rows, k, "itt")
    if show_references:
        st.markdown(f"**Published figures** ({NOT_YOUR_DATA}; other protocols, scales and definitions of "
                    "improvement and response)")
        st.dataframe(pd.DataFrame([{"Source": r.citation, "Figure": r.what, "Published value": r.value,
                                    "Population, scale, definition": r.population} for r in EARLY_IMPROVEMENT]),
                     hide_index=True)
    with st.expander("Every infusion count and band: the numbers"):
        table = early.assign(band_name=[words.band_label(lo, hi) for lo, hi in zip(early["band_from"],
                                                                                   early["band_to"])])
        _table(table, ({"grp": _group_title(m)} if several else {}) | {
            "k": "After infusions", "band_name": "Improved by then", "patients": "Patients",
            "no_later_score": "No later score", "responded_later": "Responded later",
            "later_response_rate": "Responded later (share)", "interval": "95% interval",
            "itt_evaluable": "Series ended", "itt_responded": "Of whom responded",
            "itt_rate": "Of all whose series ended"},
            rates=("later_response_rate", "itt_rate"), intervals={"interval": ("rate_low", "rate_high")},
            counts=("patients", "no_later_score", "responded_later", "itt_evaluable", "itt_responded"))


# --- As services report it -------------------------------------------------------------------------

def services_panel(m: MetricTables, measure: Measure) -> None:
    """Reliable change and recovery (docs/METHODS.md 8), as NHS Talking Therapies services report them."""
    panel_title("As services report it")
    k = m.settings.min_cell
    rc = m.shown["reliable_change"]
    missing = words.thresholds_missing(measure)
    if not len(rc):
        headline(f"No reliable change or recovery for {measure.label}.")
        st.info(plain(missing or "No patient has finished their series yet."))
        return
    several = len(m.groups) > 1
    if several:
        headline(f"Improved reliably, of the patients who finished their series, by {_group_title(m)}: " + "; ".join(
            f"{g}: " + _category_share(rc, g, "reliable_improvement", k) for g in m.groups) + ".")
    else:
        headline(words.reliable_change(rc, measure, k))
    if missing:
        st.info(plain(missing))
    # Reliable deterioration is a safety signal: said on its own line, above everything else.
    for grp in m.groups:
        text = words.deterioration(rc, measure, k, str(grp))
        if text is None:
            continue
        prefix = f"**{plain(grp)}**: " if several else ""
        rows = rc[(rc["grp"].astype(str) == str(grp)) & (rc["category"] == "reliable_deterioration")]
        if len(rows) and words.number(rows.iloc[0]["patients"]) == 0:
            st.success(prefix + plain(text), icon=":material/check_circle:")
        else:
            st.warning(prefix + plain(text), icon=":material/warning:")
    text, chart = text_and_chart()
    if not several:
        row = {r["category"]: r for _, r in rc.iterrows()}
        for col, category in zip(text.columns(len(row)), [c for c in words.CATEGORY_LABELS if c in row]):
            r = row[category]
            col.metric(words.CATEGORY_LABELS[category], percent(r["rate"]),
                       help=words.category_meaning(category, measure).capitalize() + ".")
            col.caption(f"{count(r['patients'], k)} of {count(r['denominator'], k)} "
                        + ("finished" if category in ("reliable_improvement", "no_reliable_change",
                                                      "reliable_deterioration") else "who started as a case"))
    left, right = chart.columns(2)
    draw(left, charts_decisions.reliable_change_bars, rc)
    points = m.reliable_change_points
    with right:
        for grp in m.groups:
            rows = points[points["grp"].astype(str) == str(grp)]
            if not len(rows):
                continue
            title = f"{_group_title(m)}: {grp}" if several else None
            draw(st, charts_decisions.prepost_scatter, rows, (measure.low, measure.high), measure.label,
                 measure.caseness, measure.reliable_change, k, title=title)
    rc_text = "–" if measure.reliable_change is None else f"{measure.reliable_change:g}"
    case_text = "–" if measure.caseness is None else f"{measure.caseness:g}"
    st.caption(f"The way NHS Talking Therapies services report outcomes, for {plain(measure.label)} (reliable change "
               f"{rc_text} points, a clinical case from {case_text}). Finished: the series has ended and there is a "
               "score after it began; the last score is compared with the baseline. The first three shares are of "
               "every patient who finished; recovery and reliable recovery are of those who started as a clinical "
               "case. On the right, "
               + (f"patients are gathered into squares of 5 points by 5; a square of fewer than {k} is not drawn."
                  if k else "each point is a pair of scores and how many patients share it."))
    table = rc.assign(label=rc["category"].map(words.CATEGORY_LABELS),
                      meaning=[words.category_meaning(c, measure) for c in rc["category"]])
    _table(table, ({"grp": _group_title(m)} if several else {}) | {
        "label": "Category", "meaning": "Meaning", "patients": "Patients", "denominator": "Of",
        "rate": "Share", "interval": "95% interval"},
        rates=("rate",), intervals={"interval": ("rate_low", "rate_high")}, counts=("patients", "denominator"))


def _category_share(rc: pd.DataFrame, grp, category: str, k: int) -> str:
    rows = rc[(rc["grp"].astype(str) == str(grp)) & (rc["category"] == category)]
    if not len(rows):
        return "–"
    r = rows.iloc[0]
    if words.hidden(r["rate"]):
        return f"hidden (n = {count(r['denominator'], k)})"
    return f"{percent(r['rate'])} ({count(r['patients'], k)} of {count(r['denominator'], k)})"


# --- Days to response ------------------------------------------------------------------------------

def time_to_response(m: MetricTables) -> None:
    """Days from the first infusion to the first response (docs/METHODS.md 9-10), below the response chart."""
    st.subheader("Days to response")
    k = m.settings.min_cell
    ttr = words.time_to_response_curve(m.shown)  # by week when small counts are hidden
    if not len(ttr):
        st.markdown("No patient has a score after an infusion yet.")
        return
    several = len(m.groups) > 1
    if several:
        for grp in m.groups:
            st.markdown(f"**{plain(grp)}**: " + plain(words.time_to_response(ttr, k, str(grp))))
    else:
        headline(words.time_to_response(ttr, k))
    medians = words.medians(ttr)
    if pd.to_numeric(ttr["responded_share"], errors="coerce").isna().all():
        return  # the whole curve rests on small counts (suppression): the sentence says so
    draw(st, charts_decisions.time_to_response_curve, ttr)
    st.caption("Days from the first infusion to the visit whose score first met response, for patients with a "
               "usable baseline and a score after an infusion. The curve is the estimated share responded by each "
               f"{'week' if words.by_week(ttr) else 'day'}: a patient who has not responded (yet) counts until their "
               "last score, then leaves the count without counting as a response."
               + (" " + plain(words.curve_note(ttr, k, several)) if words.by_week(ttr) else ""))
    _table(medians.assign(when=[f"{int(v)} days" if not words.hidden(v) else "–" for v in medians["median_days"]],
                          interval=[f"{int(lo)}–{int(hi)} days" if not words.hidden(lo) and not words.hidden(hi)
                                    else (f"from {int(lo)} days" if not words.hidden(lo) else "–")
                                    for lo, hi in zip(medians["median_low"], medians["median_high"])]),
           ({"grp": _group_title(m)} if several else {}) | {
               "patients": "Patients", "responded": "Responded so far", "when": "Half responded within",
               "interval": "95% interval"}, counts=("patients", "responded"))


# --- Compare fairly --------------------------------------------------------------------------------

def offered_dimensions(values_by_dimension: dict[str, list[str]]) -> dict[str, str]:
    """The dimensions a funnel can compare, as the sidebar offers them to compare by: dimension ->
    its name in words."""
    from dashboard.ui import sidebar

    offered, _ = sidebar.offered_dimensions(values_by_dimension)
    return {d: labels.DIMENSION_LABELS.get(d, d) for d in offered}


def fair_panel(engine, settings, cohort: Cohort, metrics: MetricTables, overall: MetricTables,
               offered: dict[str, str], data_key) -> None:
    """A funnel plot for any dimension and outcome (docs/METHODS.md 13). offered: dimension -> its name in
    words (the sidebar's compare-by choices); data_key: the data's key, for keeping suppressed tables."""
    panel_title("Compare fairly")
    if not offered:
        headline("There is no patient dimension with two or more groups to compare.")
        return
    dims = list(offered)
    default_dim = cohort.split_by if cohort.split_by in offered else ("site" if "site" in offered else dims[0])
    dim = st.session_state.get(FUNNEL_DIM_KEY, default_dim)
    dim = dim if dim in offered else default_dim
    outcome = st.session_state.get(FUNNEL_OUTCOME_KEY, "itt_response")
    if not _presenting():
        left, right = st.columns([1, 2])
        left.selectbox("Compare groups of", dims, index=dims.index(dim), key=f"{FUNNEL_DIM_KEY}_choice",
                       on_change=_keep, args=(FUNNEL_DIM_KEY,), format_func=lambda d: offered[d])
        right.radio("Outcome", list(words.OUTCOMES), index=list(words.OUTCOMES).index(outcome),
                    key=f"{FUNNEL_OUTCOME_KEY}_choice", on_change=_keep, args=(FUNNEL_OUTCOME_KEY,),
                    format_func=lambda o: words.OUTCOMES[o][0], horizontal=True)
        dim = st.session_state.get(FUNNEL_DIM_KEY, dim)
        outcome = st.session_state.get(FUNNEL_OUTCOME_KEY, outcome)
    funnel = funnel_shown(engine, settings, cohort, dim, metrics, overall, data_key)
    rows = funnel[funnel["outcome"] == outcome]
    name, meaning, denominator = words.OUTCOMES[outcome]
    headline(words.funnel(rows, outcome, offered[dim], settings.min_cell))
    draw(st, charts_decisions.funnel_plot, rows, f"{name} by {offered[dim]}", offered[dim])
    st.caption(f"Each point is a group: its share ({plain(meaning)}) against its number of "
               f"{plain(denominator)}. The curves mark how far a group of that size can fall from the rate of all "
               "the selected patients by chance alone: 95% of groups fall within the dashed ones, 99.8% within the "
               "solid ones. A small group needs a large difference to stand out. Groups are not ranked: one near "
               "the edge of its limits is not worse than the others, only worth a look. Listed by name below.")
    table = rows.assign(position=rows["position"].map(lambda p: words.POSITIONS.get(p, "not judged")),
                        inner=[_limits(lo, hi) for lo, hi in zip(rows["low_95"], rows["high_95"])],
                        outer=[_limits(lo, hi) for lo, hi in zip(rows["low_998"], rows["high_998"])])
    _table(table, {"grp": offered[dim], "denominator": denominator.capitalize(), "numerator": "Of whom",
                   "rate": "Share", "inner": "95% limits", "outer": "99.8% limits", "position": "Where it lies"},
           rates=("rate",), counts=("numerator", "denominator"))


def _limits(low, high) -> str:
    return "–" if words.hidden(low) or words.hidden(high) else f"{percent(low)}–{percent(high)}"


def funnel_shown(engine, settings, cohort: Cohort, dim: str, metrics: MetricTables, overall: MetricTables,
                 data_key) -> pd.DataFrame:
    """The funnel table for the patients selected, split by `dim`, as it may be shown: the panels'
    own when `dim` is the compare-by choice; else computed for that split and, with a minimum cell
    size, suppressed together with the whole selection's tables (kept for the next rerun)."""
    if dim == cohort.split_by and "funnel" in metrics.shown:
        return metrics.shown["funnel"]
    split = Cohort(cohort.filters, cohort.start_from, cohort.start_to, dim)
    m = engine.compute(settings, split, {"funnel"})
    if not settings.min_cell:
        return m.funnel
    from dashboard.engine.suppression import shown_metrics

    key = (data_key, settings, split)
    held = st.session_state.get("funnel_shown")
    if held is None or held[0] != key:
        held = (key, shown_metrics(m, overall)["funnel"])
        st.session_state["funnel_shown"] = held
    return held[1]
