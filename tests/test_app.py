"""The Streamlit app through streamlit.testing's AppTest: opens on the sample data with every
panel, uploads change the tiles to hand-checked values, a broken file is a message, filters
change the numbers."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "dashboard" / "app.py")
TILES = ["Patients started", "Completed series", "Response after 2 infusions", "Response after 6 infusions",
         "Durable at one month"]


def run_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=90).run()


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def test_opens_on_sample_data_with_every_panel():
    at = run_app()
    assert not at.exception and not at.error
    assert list(tiles(at)) == TILES
    assert any("Sample data" in m.value for m in at.markdown)
    assert [t.label for t in at.tabs] == ["Response", "Keep going?", "Dropout", "Durability", "Trajectories",
                                          "Data quality"]
    # Only the open tab is drawn; open each in turn.
    panels = {"Response": "Response by infusion count", "Keep going?": "Keep going?", "Dropout": "Dropout points",
              "Durability": "Durability at one month", "Trajectories": "Symptom trajectories",
              "Data quality": "Data quality"}
    for tab, heading in panels.items():
        at.session_state["panel"] = tab
        at.run()
        assert not at.exception and not at.error, tab
        assert heading in [s.value for s in at.subheader], tab
        assert at.get("vega_lite_chart") or tab == "Data quality", tab
    # The sample has deliberately bad rows, listed with a download.
    assert at.get("download_button")


def test_upload_changes_tiles_to_hand_checked_values():
    """six_patients.csv (worked in test_metrics_hand_worked.py): 6 started; 2 of 5 ended series
    completed; 2 of 3 assessed respond after 2 infusions (ITT 2 of 4); 1 of 1 after 6; 1 of 2
    followed-up responders still responding."""
    at = upload(run_app(), "six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes())
    assert not at.exception and not at.error
    assert tiles(at) == {"Patients started": "6", "Completed series": "40%", "Response after 2 infusions": "67%",
                         "Response after 6 infusions": "100%", "Durable at one month": "50%"}
    captions = " ".join(c.value for c in at.caption)
    assert "of 3 assessed · intention to treat 50% of 4" in captions
    assert not any("Sample data" in m.value for m in at.markdown)


def test_messy_export_upload():
    """Semicolons, Windows-1252, 31.12.2025 dates, EHR headers, one broken line: same tiles."""
    clean = (FIXTURES / "six_patients.csv").read_text().splitlines()
    kinds = {"baseline": "Intake", "infusion": "Ketamine IV", "follow_up": "Check-in", "No-show": "No-show"}
    lines = ["Client ID;Date of Service;Encounter Type;Infusion #;PHQ-9 Total;Reason stopped"]
    for row in clean[1:]:
        pid, day, kind, number, phq, reason = row.split(",")
        y, m, d = day.split("-")
        lines.append(";".join([pid, f"{d}.{m}.{y}", kinds[kind], number, phq, reason]))
    lines.insert(5, "A;05.01.2025;Ketamine IV;1;20;;extra")
    at = upload(run_app(), "export.csv", ("\r\n".join(lines) + "\r\n").encode("cp1252"))
    assert not at.exception and not at.error
    assert tiles(at)["Response after 2 infusions"] == "67%"
    assert tiles(at)["Patients started"] == "6"


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not a table", b"Who,When\nx,y\n"])
def test_broken_file_is_a_message_not_an_exception(data):
    at = upload(run_app(), "broken.csv", data)
    assert not at.exception
    assert at.error and at.error[0].value
    assert "Traceback" not in at.error[0].value


def test_unrecognised_columns_offer_the_mapping_step():
    at = upload(run_app(), "odd.csv", b"Who,When,Mood\nP1,2025-01-01,20\nP1,2025-01-03,9\n")
    assert "Could not recognise" in at.error[0].value
    assert "Map your columns" in [s.value for s in at.subheader]
    at.selectbox(key="map_patient_id").set_value("Who")
    at.selectbox(key="map_session_date").set_value("When")
    at.selectbox(key="map_phq9").set_value("Mood")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert tiles(at)["Patients started"] == "1"


def test_filter_changes_the_numbers():
    at = run_app()
    before = tiles(at)["Patients started"]
    at.multiselect(key="filter_site").set_value(["North"]).run()
    after = tiles(at)["Patients started"]
    assert not at.exception
    assert int(after) < int(before.replace(",", ""))


def test_compare_by_splits_the_tables():
    at = run_app()
    at.sidebar.selectbox[1].set_value("kap").run()
    assert not at.exception
    assert any("Compared by" in c.value for c in at.caption)


def test_user_text_is_not_markdown():
    """A file name or cohort value with markdown or HTML in it is shown as written, not rendered."""
    from dashboard.formatting import plain

    assert plain("[x](javascript:alert(1)) <b>**bold**</b>") == (
        "\\[x\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\>\\*\\*bold\\*\\*\\</b\\>")
    at = upload(run_app(), "<img src=x onerror=alert(1)>.csv", b"")
    assert "\\<img" in at.error[0].value


def test_minimum_cell_size_hides_small_counts_everywhere():
    """six_patients.csv with counts below 3 hidden: 6 started stays; 2 completed (< 3) hides the
    completion rate; 2 of 3 responders after 2 infusions: the count and its rate are hidden."""
    at = upload(run_app(), "six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes())
    next(n for n in at.number_input if n.label.startswith("Hide counts below")).set_value(3).run()
    assert not at.exception and not at.error
    values = tiles(at)
    assert values["Patients started"] == "6"
    assert values["Completed series"] == "–"
    assert values["Response after 2 infusions"] == "–"
    for tab in ("Keep going?", "Dropout", "Durability", "Trajectories"):
        at.session_state["panel"] = tab
        at.run()
        assert not at.exception and not at.error, tab
