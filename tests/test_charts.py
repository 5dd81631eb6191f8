"""Charts (dashboard.present.charts): every chart function gives a valid Vega-Lite spec for one group, for
several groups and for suppressed frames; reference figures are labelled as such and quoted from
REFERENCES.md exactly; no patient id reaches a chart; percentages round half up."""

from __future__ import annotations

import json
import re

import altair as alt
import pandas as pd
import pytest
from conftest import ROOT, load_files, load_fixture, metrics_for

from dashboard.engine.metrics import Cohort
from dashboard.engine.suppression import suppress
from dashboard.present import charts
from dashboard.present.formatting import percent
from dashboard.present.references import ALL, DURABILITY_FOUR_WEEKS, NOT_YOUR_DATA, RESPONSE

REFERENCES_MD = ROOT / "tests" / "data" / "REFERENCES.md"


@pytest.fixture(scope="module")
def sample():
    return load_fixture("six_patients.csv")


@pytest.fixture(scope="module")
def clinic():
    """The bundled synthetic export: 600 patients, three sites, KAP or not."""
    path = ROOT / "sample_data" / "ketamine_clinic_export.csv"
    return load_files((path.name, path.read_bytes()))


def every_chart(m, min_cell: int = 0) -> dict[str, object]:
    """Each chart the dashboard draws, built as the panels build it."""
    def shown(frame, table):
        return suppress(frame, table, min_cell)

    stopped = m.dropout_detail.groupby(["grp", "n", "response_at_last"], as_index=False)["patients"].sum()
    phq9 = m.trajectories[m.trajectories["measure"] == "phq9"]
    return {
        "response": charts.response_by_infusion(shown(m.response, "response")),
        "response with references": charts.response_by_infusion(shown(m.response, "response"), RESPONSE),
        "late response": charts.late_response(shown(m.late_response, "late_response")),
        "dropout points": charts.dropout_points(shown(stopped, "dropout_detail"), sorted(set(m.dropout["n"])),
                                                shown(m.dropout, "dropout")),
        "in progress": charts.in_progress(shown(m.dropout, "dropout")),
        "retention": charts.retention(shown(m.dropout, "dropout")),
        "durability": charts.durability(shown(m.durability, "durability")),
        "durability rates": charts.durability_rates(shown(m.durability, "durability"), DURABILITY_FOUR_WEEKS),
        "milestones": charts.milestones(shown(m.milestones[m.milestones["measure"] == "phq9"], "milestones"), (0, 27), True),
        "trajectory": charts.trajectory(shown(phq9, "trajectories"), True, (0, 27)),
        "control chart": charts.control_chart(
            shown(m.monthly, "monthly").query("chart == 'completion'"), "Completed series", min_cell),
    }


@pytest.mark.parametrize("split_by, min_cell", [("", 0), ("", 11), ("kap", 0), ("site", 11), ("start_quarter", 0)])
def test_every_chart_is_a_valid_spec(clinic, split_by, min_cell):
    m = metrics_for(clinic, Cohort.of(split_by=split_by), min_cell=min_cell)
    for name, chart in every_chart(m, min_cell).items():
        spec = chart.to_dict()  # validates against the Vega-Lite schema: the app skips this per redraw
        assert spec["autosize"]["type"] == "fit-x", name


def test_no_patient_id_reaches_a_chart(sample):
    """Charts carry aggregates only: no patient_id column, and none of six_patients.csv's ids as a value."""
    m = metrics_for(sample)
    for name, chart in every_chart(m).items():
        for rows in chart.to_dict()["datasets"].values():
            for row in rows:
                assert "patient_id" not in row, name
                assert not set(map(str, row.values())) & set("ABCDEFGH"), name


def test_small_counts_are_not_drawn(sample):
    """six_patients: 2 of 3 respond after 2 infusions; with min_cell 3 the rate is hidden."""
    m = metrics_for(sample, min_cell=3)
    spec = charts.response_by_infusion(suppress(m.response, "response", 3)).to_dict()
    rows = [r for values in spec["datasets"].values() for r in values if r.get("n") == 2 and "share" in r]
    assert not any(r["line"].startswith("Response") for r in rows)


def test_reference_layer_is_marked_and_cited(sample):
    m = metrics_for(sample)
    spec = json.dumps(charts.response_by_infusion(m.response, RESPONSE).to_dict())
    assert NOT_YOUR_DATA in spec
    for ref in RESPONSE:
        if ref.n <= 6:
            assert ref.citation in spec and ref.short in spec
    assert "Oliver et al. 2022" in spec  # its 6-infusion figure; the 10-infusion one is off this axis
    assert NOT_YOUR_DATA not in json.dumps(charts.response_by_infusion(m.response).to_dict())
    durability = json.dumps(charts.durability_rates(m.durability, DURABILITY_FOUR_WEEKS).to_dict())
    assert NOT_YOUR_DATA in durability and "McInnes" in durability


@pytest.mark.skipif(not REFERENCES_MD.exists(), reason="tests/data/REFERENCES.md is missing")
def test_reference_figures_are_quoted_exactly():
    """Every published value and population is written in REFERENCES.md as we quote it, and each
    plotted rate is its own published number (never rounded or invented)."""
    text = REFERENCES_MD.read_text()
    flat = text.replace("≥", ">=")
    for ref in ALL:
        for part in re.split(r"[;,] ", ref.value):
            assert part.strip() in flat, (ref.citation, part)
        assert ref.citation.split(",")[0] in flat
        first = re.search(r"\d+(\.\d+)?%", ref.value).group(0)
        assert ref.rate == pytest.approx(float(first.rstrip("%")) / 100)


@pytest.mark.parametrize("rate, shown", [
    (57 / 200, "29%"),  # 28.5% exactly; the float is 0.28499999999999998
    (29 / 200, "15%"),
    (1 / 8, "13%"),  # half up, not to even
    (5 / 8, "63%"),
    (2 / 3, "67%"),
    (0.0, "0%"),
    (1.0, "100%"),
    (None, "–"),
    (float("nan"), "–"),
])
def test_whole_percentages_round_half_up(rate, shown):
    assert percent(rate) == shown


def _contrast(colour: str, background: str = "#ffffff") -> float:
    """WCAG 2 contrast ratio."""
    def luminance(hex_colour):
        r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_meet_wcag_aa_contrast():
    """Marks that carry meaning at least 3:1 against the white page (WCAG 1.4.11); text at least 4.5:1."""
    marks = [*charts.PALETTE, *charts.STATUS_COLOURS.values(), *charts.STOPPED_COLOURS.values(),
             charts.IN_PROGRESS_COLOUR, charts.REFERENCE_GREY, *(c for _, c, _ in charts.RESPONSE_LINES.values()),
             *(c for _, c, _ in charts.CONTROL_STATUS.values())]
    assert min(_contrast(c) for c in marks) >= 3, [c for c in marks if _contrast(c) < 3]
    for text in ("#555555", "#666666", "#333333", "#111111"):
        assert _contrast(text) >= 4.5


def test_room_style_enlarges_type_and_marks(clinic):
    m = metrics_for(clinic, Cohort.of(split_by="kap"))
    chart = charts.response_by_infusion(m.response)
    spec = charts.for_room(chart)
    normal = chart.to_dict(validate=False)
    assert spec["config"]["axis"]["labelFontSize"] >= 18 and spec["config"]["title"]["fontSize"] >= 24
    widths = [layer["mark"].get("strokeWidth") for layer in spec["layer"] if isinstance(layer["mark"], dict)]
    before = [layer["mark"].get("strokeWidth") for layer in normal["layer"] if isinstance(layer["mark"], dict)]
    assert all(a >= b for a, b in zip(widths, before) if a and b) and widths != before
    # As tall as at a desk (charts.ROOM_HEIGHT): the first chart of a tab fits above the fold at 1920x1080.
    assert spec["height"] == normal["height"]
    assert spec["config"]["font"] == charts.ROOM_FONT  # the page's font: one font on the screen
    alt.LayerChart.from_dict(spec)  # still a valid Vega-Lite spec (validated against the schema)


def test_hidden_parts_of_a_dropout_bar_are_drawn_together_to_its_shown_total():
    """After infusion 2, 30 stopped (shown): 12 responding (shown), the other two statuses hidden
    ("<11" each). The bar is drawn 30 tall: 12, then one light segment of 30 - 12 = 18. After
    infusion 3 every part is shown and adds up, so there is no such segment."""
    stopped = pd.DataFrame({"grp": "All patients", "n": [2, 2, 2, 3, 3],
                            "response_at_last": ["responder", "non-responder", "unknown", "responder", "non-responder"],
                            "patients": [12, "<11", "<11", 14, 20]})
    totals = pd.DataFrame({"grp": ["All patients"] * 2, "n": [2, 3], "dropped_after": [30, 34]})
    spec = charts.to_spec(charts.dropout_points(stopped, [1, 2, 3], totals))
    rows = next(iter(spec["datasets"].values()))
    hidden = [r for r in rows if r["status"] == charts.HIDDEN_PART]
    assert [(r["n"], r["patients"]) for r in hidden] == [(2, 18)]
    assert charts.HIDDEN_PART in spec["encoding"]["color"]["scale"]["domain"]
    plain = charts.to_spec(charts.dropout_points(stopped, [1, 2, 3]))  # no totals: nothing added
    assert not any(r["status"] == charts.HIDDEN_PART for r in next(iter(plain["datasets"].values())))


def test_hidden_durability_statuses_are_drawn_together_to_the_eligible_count():
    """338 responders whose series ended (shown): 209 durable, 49 lost and 62 without follow-up
    shown; a booster first (3) and not due yet (15, hidden to protect the 3) are not. The bar is
    338 long: the light segment is 338 - 209 - 49 - 62 = 18."""
    shown = pd.DataFrame({"grp": ["All patients"], "eligible": [338], "durable": [209], "lost": [49],
                          "booster_first": ["<11"], "no_follow_up": [62], "pending": ["hidden"]})
    spec = charts.to_spec(charts.durability(shown))
    rows = next(iter(spec["datasets"].values()))
    assert sorted((r["label"], r["patients"]) for r in rows) == sorted(
        [("Still responding", 209), ("Response lost", 49), ("No follow-up", 62), (charts.HIDDEN_PART, 18)])


def test_durability_sentence_leaves_out_a_hidden_conservative_rate():
    from types import SimpleNamespace

    from dashboard.present import headlines

    row = SimpleNamespace(durability_rate=0.81, rate_low=0.76, rate_high=0.85, conservative_rate=None)
    assert headlines.durability_detail(row) == "Still responding at one month: 81% (95% interval 76% to 85%)."
    row.conservative_rate = 0.8
    assert headlines.durability_detail(row).endswith("; 80% if a booster before the follow-up counts as lost.")
