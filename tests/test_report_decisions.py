"""Issue 13's sections of the report (dashboard.present.report_decisions): days to response, "Keep going?"
at infusion 3, as services report it and fair comparisons, each with its sentence, chart and
table, at the report's minimum cell size; numbers checked against MetricTables computed directly."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from conftest import ROOT, load_files
from test_decisions_ui import OUTLIER, series_csv
from test_report import drawn, readable, svgs

from dashboard.core.settings import Settings
from dashboard.engine.metrics import Cohort, Engine
from dashboard.present import report
from dashboard.present.formatting import percent
from dashboard.present.labels import with_group_title

SAMPLE = ROOT / "sample_data" / "ketamine_clinic_export.csv"
MADE_AT = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sample():
    dataset = load_files((SAMPLE.name, SAMPLE.read_bytes()))
    engine = Engine(dataset)
    return dataset, engine


def section(page: str, key: str) -> str:
    found = re.search(rf'<section id="{key}" class="panel">(.*?)</section>', page, flags=re.S)
    assert found, key
    return found.group(1)


def test_sections_in_the_apps_order(sample):
    dataset, engine = sample
    page = report.report_html(dataset, engine.compute(Settings()), made_at=MADE_AT)
    order = [m.group(1) for m in re.finditer(r'<section id="([a-z_]+)" class="panel">', page)]
    assert order == ["response", "time_to_response", "early_improvement", "late_response", "dropout", "durability",
                     "trajectories", "services", "fair", "over_time", "data_quality"]
    for key in ("time_to_response", "early_improvement", "services", "fair"):
        assert f'<a href="#{key}">' in page  # in the contents


def test_sample_report_at_eleven(sample):
    """At the shared reports' minimum (11): each number shown as the app shows it in presentation mode."""
    dataset, engine = sample
    m = engine.compute(Settings())
    page = report.report_html(dataset, m, made_at=MADE_AT)
    early = m.early_improvement.set_index(["k", "band"])
    # Keep going? at k = 3: the lowest band's 2 responders are hidden; the middle band is shown.
    middle = early.loc[(3, 2)]
    assert (middle.responded_later, middle.scored_later, middle.itt_responded, middle.itt_evaluable) == \
        (64, 128, 64, 137)
    text = readable(section(page, "early_improvement"))
    assert ("Of the patients who had improved less than 20% after 3 infusions, the share who responded later in "
            "their series is hidden") in text
    assert (f"Improved 20% to under 50%: {percent(middle.later_response_rate)} (64 of 128) responded later; of all "
            f"whose series ended {percent(middle.itt_rate)} (64 of 137).") in text
    assert 'id="chart-early_later"' in page and 'id="chart-early_itt"' in page
    # As services report it: 450 of 550 improved reliably; the single deterioration is a small count.
    rc = m.reliable_change.set_index("category")
    text = readable(section(page, "services"))
    assert f"{percent(rc.loc['reliable_improvement', 'rate'])} (450 of 550) improved reliably" in text
    assert f"{percent(rc.loc['recovery', 'rate'])} (341 of 522) recovered" in text
    assert ('<p class="headline">Got reliably worse (by 6 points or more on PHQ-9): &lt;11 of the 550 patients who '
            "finished their series. Review these patients.</p>") in section(page, "services")
    for category in ("Reliable improvement", "No reliable change", "Reliable deterioration", "Recovery",
                     "Reliable recovery"):
        assert f"<th scope=\"row\">{category}</th>" in section(page, "services")
    assert 'id="chart-reliable_change"' in page and 'id="chart-prepost"' in page
    # Days to response: a day's counts are small (day 2: 9 censored), so the curve is drawn by week.
    text = readable(section(page, "time_to_response"))
    assert "The curve is not drawn" not in text and 'id="chart-time_to_response"' in page
    assert ("Half of the patients had responded within 8 days of their first infusion, that is by the end of week 2 "
            "(95% interval 7 to 8 days).") in text
    assert "the curve is shown by week since the first infusion" in text and "Weeks 4 and 5 are not shown" in text
    # Fair comparisons need a comparison.
    assert "No comparison chosen" in readable(section(page, "fair"))


def test_days_to_response_drawn_with_the_settings_own_minimum(sample):
    dataset, engine = sample
    m = engine.compute(Settings(min_cell=1))
    median = m.median_time_to_response().iloc[0]
    page = report.report_html(dataset, m, made_at=MADE_AT)
    part = section(page, "time_to_response")
    assert (f"Half of the patients had responded within {median.median_days} days of their first infusion (95% "
            f"interval {median.median_low} to {median.median_high} days); {median.responded} of {median.patients} "
            "have responded so far.") in readable(part)
    figure = re.search(r'id="chart-time_to_response".*?</figure>', page, flags=re.S).group(0)
    assert drawn(svgs(figure)[0]) >= 15


def test_funnel_section_names_the_outlier():
    data = series_csv(OUTLIER)
    engine = Engine(load_files(("sites.csv", data)))
    settings = Settings(min_cell=1)
    m = with_group_title(engine.compute(settings, Cohort(split_by="site")), "Site")
    whole = engine.compute(settings)
    itt = m.funnel[m.funnel["outcome"] == "itt_response"].set_index("grp")
    page = report.report_html(load_files(("sites.csv", data)), m, whole, ["Compared by Site"], made_at=MADE_AT)
    part = section(page, "fair")
    text = readable(part)
    assert (f"Response by the end of the series, by Site: outside the outer (99.8%) limits around the average of "
            f"{percent(itt['target'].iloc[0])}: Damson (below: {percent(itt.loc['Damson', 'rate'])}, 6 of 40).") in text
    assert "Completion, by Site: every group shown lies within the limits" in text
    for outcome in ("itt_response", "completion", "durability"):
        assert f'id="chart-funnel_{outcome}"' in part
    # Listed by name, never ranked.
    first_table = re.search(r"<tbody>(.*?)</tbody>", part, flags=re.S).group(1)
    assert re.findall(r'<th scope="row">([^<]+)</th>', first_table) == sorted(OUTLIER)
    # Every chart of the page is one of panel_charts, in order (the report's own tests rely on it).
    m_shown, o_shown = report.for_report(m, whole)
    assert len(svgs(page)) == len(report.panel_charts(m_shown, load_files(("sites.csv", data)).measures,
                                                      overall=o_shown))


@pytest.mark.parametrize("split", ["", "site"])
@pytest.mark.parametrize("min_cell", [0, 11])
def test_new_charts_are_valid_vega_lite(sample, split, min_cell):
    """Every chart of the new panels, as the app and the report build them, against the Vega-Lite schema."""
    from dashboard.engine.suppression import shown_metrics
    from dashboard.present import charts_decisions

    dataset, engine = sample
    m = with_group_title(engine.compute(Settings(min_cell=min_cell), Cohort(split_by=split)), "Site")
    shown = shown_metrics(m, engine.compute(Settings(min_cell=min_cell)) if split else None)
    phq9 = dataset.measures["phq9"]
    built = [charts_decisions.reliable_change_bars(shown["reliable_change"]),
             charts_decisions.time_to_response_curve(shown["time_to_response"]),
             # by week when counts are hidden (the chart drawn in its place)
             charts_decisions.time_to_response_curve(shown.get("time_to_response_weekly", shown["time_to_response"]))]
    for grp in m.groups:
        early = shown["early_improvement"]
        built += [charts_decisions.early_heatmap(early[early["grp"] == grp], 3, kind) for kind in ("later", "itt")]
        points = m.reliable_change_points
        built.append(charts_decisions.prepost_scatter(points[points["grp"] == grp], (phq9.low, phq9.high), phq9.label,
                                                      phq9.caseness, phq9.reliable_change, min_cell))
    for outcome in ("itt_response", "completion", "durability"):
        built.append(charts_decisions.funnel_plot(shown["funnel"][shown["funnel"]["outcome"] == outcome], "x"))
    for chart in built:
        chart.to_dict(validate=True)


def test_the_exports_report_compares_by_site_with_its_funnel_plots(tmp_path):
    """python -m dashboard.export --report with --compare-by: the report of a comparison view, as the
    app's, with the funnel section naming the same outlier as test_funnel_section_names_the_outlier
    (Damson, 6 of 40 responding by the end of the series); without --compare-by the section says
    how to get one. The whole selection's tiles stay in the report."""
    from dashboard.export import main

    source = tmp_path / "sites.csv"
    source.write_bytes(series_csv(OUTLIER))
    compared, plain_report = tmp_path / "by_site.html", tmp_path / "plain.html"
    assert main([str(source), "--out", str(tmp_path / "a"), "--min-cell", "1", "--compare-by", "site",
                 "--report", str(compared)]) == 0
    assert main([str(source), "--out", str(tmp_path / "b"), "--min-cell", "1", "--report", str(plain_report)]) == 0
    page = compared.read_text(encoding="utf-8")
    text = readable(section(page, "fair"))
    assert "Response by the end of the series, by Site: outside the outer (99.8%) limits" in text
    assert "Damson (below:" in text and "6 of 40" in text
    assert "Compared by Site" in readable(page)
    for outcome in ("itt_response", "completion", "durability"):
        assert f'id="chart-funnel_{outcome}"' in section(page, "fair")
    assert 'id="chart-funnel_' not in plain_report.read_text(encoding="utf-8")
