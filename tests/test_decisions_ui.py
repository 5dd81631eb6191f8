"""Issue 13's panels in the app (streamlit.testing's AppTest): "Keep going?" led by early
improvement at infusion k with its heatmaps, "As services report it" (reliable change and
recovery, deterioration shown as a safety signal), days to response under the response chart,
baseline severity as a filter and a compare-by choice, and "Compare fairly" (funnel plots, groups
outside the limits named, never ranked, small groups suppressed in presentation mode). Every
number on screen is checked against MetricTables computed directly by the engine."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from conftest import ROOT, load_files
from streamlit.testing.v1 import AppTest

from dashboard.core.settings import Settings
from dashboard.engine.metrics import Cohort, Engine
from dashboard.present.formatting import percent

APP = str(ROOT / "dashboard" / "app.py")
SAMPLE = ROOT / "sample_data" / "ketamine_clinic_export.csv"


@pytest.fixture(scope="module")
def engine():
    return Engine(load_files((SAMPLE.name, SAMPLE.read_bytes())))


def run_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120).run()


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["panel"] = tab
    return at.run()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def text(at: AppTest) -> str:
    """Every markdown, caption, alert and metric on the page, unescaped."""
    parts = [e.value for kind in ("markdown", "caption", "warning", "success", "info", "error")
             for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts).replace("\\", "")


def headlines(at: AppTest) -> list[str]:
    return [m.value.replace("\\", "").strip("*# ") for m in at.markdown
            if m.value.startswith("**") or m.value.startswith("## ")]


def charts(at: AppTest) -> list[dict]:
    """Each chart's spec, its datasets' rows (Streamlit sends them apart, as Arrow tables) under "rows"."""
    import pyarrow as pa

    out = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        rows = []
        for dataset in chart.proto.datasets:
            rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
        spec["rows"] = rows
        out.append(spec)
    return out


def chart_titled(at: AppTest, title: str) -> dict:
    for spec in charts(at):
        text = spec.get("title", "")
        text = text.get("text", "") if isinstance(text, dict) else text
        if title in (" ".join(text) if isinstance(text, list) else str(text)):  # a title of several lines too
            return spec
    raise AssertionError(f"no chart titled {title!r}: {[s.get('title') for s in charts(at)]}")


def marks(spec: dict) -> list[str]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            mark = node.get("mark")
            if mark is not None:
                found.append(mark if isinstance(mark, str) else mark.get("type"))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


def data_values(spec: dict) -> list[dict]:
    """The rows a chart draws (inline values and the datasets Streamlit sends apart)."""
    rows = list(spec.get("rows", []))

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                rows.extend(data["values"])
            for key, v in node.items():
                if key not in ("data", "rows"):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    for values in spec.get("datasets", {}).values():
        if isinstance(values, list):
            rows.extend(values)
    return rows


def band_row(early, k: int, band: int):
    return early[(early["k"] == k) & (early["band"] == band)].iloc[0]


# --- Keep going? -------------------------------------------------------------------------------

def test_keep_going_leads_with_the_k3_sentence_and_heatmaps(engine):
    m = engine.compute(Settings())
    row = band_row(m.early_improvement, 3, 1)
    at = open_tab(run_app(), "Keep going?")
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader][:1] == ["Keep going?"]
    lead = headlines(at)
    expected = (f"Of the patients who had improved less than 20% after 3 infusions, "
                f"{percent(row.later_response_rate)} ({row.responded_later} of {row.scored_later}) responded by the "
                f"end of their series ({row.no_later_score} with no later score left out).")
    assert expected in lead, lead
    # On the sample: 2 of the 23 scored again (9%); of all 26 whose series ended, 2 (8%).
    assert (row.responded_later, row.scored_later, row.itt_responded, row.itt_evaluable) == (2, 23, 2, 26)
    assert (f"counting those who stopped as not responding: {percent(row.itt_rate)} "
            f"({row.itt_responded} of {row.itt_evaluable})") in text(at)
    # The heatmaps: a cell per k and band with its share and n; the later and the intention-to-treat one.
    later = chart_titled(at, "Responded later, of those scored again")
    itt = chart_titled(at, "Responded by the end, of all whose series ended")
    assert "rect" in marks(later) and "text" in marks(later)
    cells = {(r["k"], r["band"]): r for r in data_values(later) if "n_text" in r}
    assert len(cells) == len(m.early_improvement) == 15  # k = 1..5, three bands
    for r in m.early_improvement.itertuples():
        assert cells[(r.k, r.band)]["n_text"] == f"{r.responded_later} of {r.scored_later}"
        assert cells[(r.k, r.band)]["share_text"] == percent(r.later_response_rate)
    itt_cells = {(r["k"], r["band"]): r for r in data_values(itt) if "n_text" in r}
    assert itt_cells[(3, 1)]["n_text"] == "2 of 26"
    # The later-response content stays below.
    assert "Responding later, by infusion count" in [s.value for s in at.subheader]
    # Main-screen words are plain.
    for word in ("ITT", "Kaplan-Meier", "Wilson", "3-sigma", "evaluable"):
        assert word not in " ".join(headlines(at)), word


def test_choosing_k_changes_the_sentence(engine):
    m = engine.compute(Settings())
    at = open_tab(run_app(), "Keep going?")
    at.segmented_control(key="early_k_choice").set_value(2).run()
    row = band_row(m.early_improvement, 2, 1)
    assert row.scored_later == 36 and row.responded_later == 4
    assert any(f"after 2 infusions, {percent(row.later_response_rate)} (4 of 36) responded" in h
               for h in headlines(at)), headlines(at)
    # The choice holds on another tab and back, and in presentation mode (no control there).
    open_tab(at, "Dropout")
    open_tab(at, "Keep going?")
    assert any("after 2 infusions" in h for h in headlines(at))
    next(t for t in at.toggle if t.label == "Presentation mode").set_value(True).run()
    assert not at.segmented_control
    assert any("after 2 infusions" in h for h in headlines(at))


def test_the_report_is_about_the_k_chosen_on_screen():
    """The report for the minutes follows the "Keep going?" tab: with k = 2 chosen, its section and
    heatmaps are about 2 infusions (they were about 3 whatever was on screen)."""
    import re

    at = open_tab(run_app(), "Keep going?")
    at.segmented_control(key="early_k_choice").set_value(2).run()
    at.button(key="report_prepare").click().run()
    assert not at.exception and not at.error
    page = at.session_state["report_files"][1].html.decode()
    section = re.search(r'<section id="early_improvement" class="panel">(.*?)</section>', page, flags=re.S).group(1)
    assert "The outlined column is k = 2." in section
    assert "after 2 infusions" in section and "after 3 infusions" not in section


def test_bands_are_a_sidebar_setting(engine):
    m = engine.compute(Settings(early_bands=(0.3,)))
    row = band_row(m.early_improvement, 3, 1)
    at = open_tab(run_app(), "Keep going?")
    at.text_input(key="early_bands_text").set_value("30").run()
    assert not at.exception and not at.error
    assert any(f"improved less than 30% after 3 infusions, {percent(row.later_response_rate)} "
               f"({row.responded_later} of {row.scored_later})" in h for h in headlines(at)), headlines(at)
    cells = {(r["k"], r["band"]) for r in data_values(chart_titled(at, "Responded later, of those scored again"))
             if "n_text" in r}
    assert cells == {(k, band) for k in range(1, 6) for band in (1, 2)}  # two bands now
    at.text_input(key="early_bands_text").set_value("50, 20").run()  # not increasing: a message, the default
    assert any("Improvement bands are written like 20, 50" in e.value for e in at.error)


def test_published_context_only_with_the_toggle():
    at = open_tab(run_app(), "Keep going?")
    assert "58% of those without" not in json.dumps([d.value.to_dict() for d in at.dataframe])
    next(t for t in at.toggle if t.label == "Show published reference figures").set_value(True).run()
    tables = json.dumps([d.value.to_dict() for d in at.dataframe])
    assert "58% of those without >= 20% improvement after infusion 1 or 2" in tables
    assert "PMID 33031861" in tables
    assert any("reference: another population, not your data" in m.value for m in at.markdown)


# --- As services report it -----------------------------------------------------------------------

def test_services_panel_categories_and_deterioration(engine):
    m = engine.compute(Settings())
    rc = {r.category: r for r in m.reliable_change.itertuples()}
    assert (rc["reliable_improvement"].patients, rc["reliable_improvement"].denominator) == (450, 550)
    assert (rc["reliable_deterioration"].patients, rc["recovery"].patients, rc["recovery"].denominator) == (1, 341, 522)
    at = open_tab(run_app(), "As services report it")
    assert not at.exception and not at.error
    assert (f"Of the 550 patients who finished their series, {percent(rc['reliable_improvement'].rate)} (450 of 550) "
            f"improved reliably; 0% (1 of 550) got reliably worse; of the 522 who started as a clinical case, "
            f"{percent(rc['recovery'].rate)} (341 of 522) recovered.") in headlines(at)
    # Deterioration is its own warning, not a footnote.
    warning = " ".join(w.value for w in at.warning).replace("\\", "")
    assert ("Got reliably worse (by 6 points or more on PHQ-9): 1 of the 550 patients who finished their series "
            "(0%). Review these patients.") in warning
    tiles = {metric.label: metric.value for metric in at.metric}
    assert tiles["Reliable improvement"] == percent(rc["reliable_improvement"].rate) == "82%"
    assert tiles["Reliable recovery"] == percent(rc["reliable_recovery"].rate)
    assert tiles["Reliable deterioration"] == "0%"
    table = next(d.value for d in at.dataframe if "Category" in d.value.columns)
    assert table["Category"].tolist() == ["Reliable improvement", "No reliable change", "Reliable deterioration",
                                          "Recovery", "Reliable recovery"]
    assert table["Patients"].tolist() == [str(rc[c].patients) for c in rc]
    assert table["Of"].tolist() == ["550", "550", "550", "522", "522"]
    # The scatter: counts of patients at (baseline, last), adding up to the finished patients; no ids.
    scatter = chart_titled(at, "Start and end of each finished series")
    points = {(r["baseline"], r["last"]): r for r in data_values(scatter) if "patients" in r and "last" in r}
    assert sum(r["patients"] for r in points.values()) == 550 == m.reliable_change_points["patients"].sum()
    worse = [r for r in points.values() if r["move"] == "Reliably worse"]
    assert [(r["patients"], r["last"] - r["baseline"] >= 6) for r in worse] == [(1, True)]
    points = list(points.values())
    assert not any("patient_id" in r or "patient_key" in r for r in points)
    assert "area" in marks(scatter) and "rule" in marks(scatter)  # the reliable-change band, the caseness lines


def series_csv(groups: dict[str, tuple[int, int]], measure: str = "phq9", baseline: int = 20, better: int = 8,
               worse: int = 18, dimension: str = "site") -> bytes:
    """A clean export: for each group, (patients, responders); every patient a completed series of
    six infusions three days apart, scores before each infusion and a follow-up three days after
    the last. Responders fall to `better` from infusion 3 on, the others stay at `worse`."""
    lines = [f"patient_id,session_date,session_type,infusion_number,{measure},{dimension}"]
    start = date(2025, 1, 6)
    for g, (patients, responders) in groups.items():
        for i in range(patients):
            pid = f"{g[:3].upper()}{i:03d}"
            day = start + timedelta(days=i % 20)
            lines.append(f"{pid},{day},baseline,,{baseline},{g}")
            for n in range(1, 7):
                score = baseline if n < 3 else (better if i < responders else worse)
                lines.append(f"{pid},{day + timedelta(days=3 * n)},infusion,{n},{score},{g}")
            lines.append(f"{pid},{day + timedelta(days=21)},follow_up,,{better if i < responders else worse},{g}")
    return ("\n".join(lines) + "\n").encode()


def test_a_measure_without_thresholds_says_so():
    at = upload(run_app(), "madrs.csv", series_csv({"North": (20, 12)}, measure="madrs", baseline=30, better=12,
                                                   worse=28))
    open_tab(at, "As services report it")
    assert not at.exception and not at.error
    info = " ".join(i.value for i in at.info).replace("\\", "")
    assert "MADRS declares no caseness score and no reliable change, so these numbers can't be worked out" in info


# --- Days to response ----------------------------------------------------------------------------

def test_days_to_response_under_the_response_chart(engine):
    m = engine.compute(Settings())
    median = m.median_time_to_response().iloc[0]
    assert (median.median_days, median.median_low, median.median_high, median.responded, median.patients) == \
        (8, 7, 8, 386, 549)
    at = open_tab(run_app(), "Response")
    assert "Days to response" in [s.value for s in at.subheader]
    assert ("Half of the patients had responded within 8 days of their first infusion (95% interval 7 to 8 days); "
            "386 of 549 have responded so far.") in headlines(at)
    curve = chart_titled(at, "Days to response")
    line = [r for r in data_values(curve) if "responded_share" in r and r.get("day", 0) > 0]
    shares = {r["day"]: r["responded_share"] for r in line}
    for r in m.time_to_response.itertuples():
        assert shares[r.day] == pytest.approx(r.responded_share)
    assert "Kaplan-Meier" not in " ".join(headlines(at)) + " ".join(c.value for c in at.caption)


# --- Baseline severity ---------------------------------------------------------------------------

def test_severity_filter_changes_the_counts(engine):
    values = engine.dimension_values(Settings())["baseline_severity"]
    assert values == ["none (0-4)", "mild (5-9)", "moderate (10-14)", "moderately severe (15-19)", "severe (20-27)"]
    severe = engine.compute(Settings(), Cohort.of({"baseline_severity": ["severe (20-27)"]}))
    started = int(severe.summary["patients_started"].iloc[0])
    at = run_app()
    before = {m.label: m.value for m in at.metric}["Patients started"]
    at.multiselect(key="filter_baseline_severity").set_value(["severe (20-27)"]).run()
    assert not at.exception and not at.error
    after = {m.label: m.value for m in at.metric}["Patients started"]
    assert int(after.replace(",", "")) == started < int(before.replace(",", ""))
    assert any("Baseline severity: severe (20-27)" in m.value.replace("\\", "") for m in at.markdown)
    # The panels follow: days to response of the severe patients only.
    median = severe.median_time_to_response().iloc[0]
    assert any(f"{median.responded} of {median.patients} have responded so far" in h for h in headlines(at))


def test_compare_by_severity(engine):
    split = engine.compute(Settings(), Cohort(split_by="baseline_severity"))
    at = run_app()
    at.sidebar.selectbox[1].set_value("baseline_severity").run()
    assert not at.exception and not at.error
    sizes = next(m.value for m in at.markdown if m.value.startswith("Compared by")).replace("\\", "")
    for grp, n in zip(split.summary["grp"], split.summary["patients_started"]):
        assert f"{grp}: {n}" in sizes
    open_tab(at, "Keep going?")
    assert not at.exception and not at.error
    lead = " ".join(headlines(at))
    severe = band_row(split.early_improvement[split.early_improvement["grp"] == "severe (20-27)"], 3, 1)
    assert f"severe (20-27): {percent(severe.later_response_rate)} ({severe.responded_later} of " \
           f"{severe.scored_later})" in lead


# --- Compare fairly ------------------------------------------------------------------------------

OUTLIER = {"Alder": (40, 28), "Birch": (40, 30), "Cedar": (40, 27), "Damson": (40, 6), "Elm": (5, 4)}


def test_funnel_names_the_groups_outside_the_limits():
    data = series_csv(OUTLIER)
    m = Engine(load_files(("sites.csv", data))).compute(Settings(), Cohort(split_by="site"))
    itt = m.funnel[m.funnel["outcome"] == "itt_response"].set_index("grp")
    assert itt.loc["Damson", "position"] == "below" and (itt.drop("Damson")["position"] == "within").all()
    at = open_tab(upload(run_app(), "sites.csv", data), "Compare fairly")
    assert not at.exception and not at.error
    lead = " ".join(headlines(at))
    assert (f"outside the outer (99.8%) limits around the average of {percent(itt['target'].iloc[0])}: Damson "
            f"(below: {percent(itt.loc['Damson', 'rate'])}, 6 of 40). Every other group lies within them.") in lead
    # Never ranked: the table lists the groups by name, whatever their rates.
    table = next(d.value for d in at.dataframe if "Where it lies" in d.value.columns)
    assert table["Site"].tolist() == sorted(OUTLIER)
    assert table["Where it lies"].tolist() == ["within the limits", "within the limits", "within the limits",
                                               "below the limits", "within the limits"]
    spec = chart_titled(at, "Response by the end of the series by Site")
    points = {r["grp"]: r for r in data_values(spec) if "status" in r}
    assert points["Damson"]["status"] == "Below the outer limit" and points["Damson"]["denominator"] == 40
    # Another outcome: every site completed its series, so none stands out.
    at.radio(key="funnel_outcome_choice").set_value("completion").run()
    assert any("Completion, by Site: every group shown lies within the limits" in h for h in headlines(at))


def test_funnel_in_presentation_mode_suppresses_small_groups():
    data = series_csv(OUTLIER)
    at = open_tab(upload(run_app(), "sites.csv", data), "Compare fairly")
    next(t for t in at.toggle if t.label == "Presentation mode").set_value(True).run()
    assert not at.exception and not at.error
    assert not at.main.selectbox and not at.main.radio  # no controls on the shared screen
    table = next(d.value for d in at.dataframe if "Where it lies" in d.value.columns)
    elm = table[table["Site"] == "Elm"].iloc[0]
    assert elm["Of whom"] == "<11" and elm["Share"] == "–" and elm["Where it lies"] == "not judged"
    damson = table[table["Site"] == "Damson"].iloc[0]
    assert damson["Patients with a usable baseline"] == "40" and damson["Of whom"] == "<11"
    lead = " ".join(headlines(at))
    assert "Elm" not in lead and "not judged" in lead
    spec = chart_titled(at, "Response by the end of the series by Site")
    drawn = {r["grp"] for r in data_values(spec) if "status" in r}
    # Elm is small; Damson's 6 responders and Birch's 10 non-responders (30 of 40) are small counts too.
    assert drawn == {"Alder", "Cedar"}
    birch = table[table["Site"] == "Birch"].iloc[0]
    assert birch["Share"] == "–" and birch["Where it lies"] == "not judged"


def test_new_tabs_in_presentation_mode_show_no_patient_id():
    ids = set(re.findall(r"^([^,]+),", SAMPLE.read_text(), flags=re.M)) - {"patient_id"}
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["present"] = "1"
    at.run()
    for tab in ("Response", "Keep going?", "As services report it", "Compare fairly"):
        open_tab(at, tab)
        assert not at.exception and not at.error, tab
        assert any(m.value.startswith("## ") for m in at.markdown), tab
        page = text(at) + json.dumps(charts(at)) + " ".join(d.value.to_csv() for d in at.dataframe)
        assert not {i for i in ids if re.search(rf"\b{re.escape(i)}\b", page)}, tab
        if tab == "Response":  # a day's counts are small (day 2: 9 censored): the curve is shown by week
            assert ("Half of the patients had responded within 8 days of their first infusion, that is by the end of "
                    "week 2 (95% interval 7 to 8 days).") in headlines(at)
            curve = chart_titled(at, "Days to response, by week")
            weeks = {r["week"]: r for r in data_values(curve) if r.get("week") and isinstance(r.get("at_risk"), str)}
            assert sorted(weeks) == [1, 2, 3]  # weeks 4 and 5 rest on counts below 11
            assert [weeks[w]["at_risk"] for w in (1, 2, 3)] == ["549", "302", "116"]
            assert "Weeks 4 and 5 are not shown" in text(at)
        if tab == "Keep going?":  # 2 of 23 at k = 3: a small count, said as such
            assert any("improved less than 20% after 3 infusions, <11 of 23 responded" in h for h in headlines(at)) or \
                any("after 3 infusions, the share who responded later in their series is hidden" in h
                    for h in headlines(at)), headlines(at)
