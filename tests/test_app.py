"""The Streamlit app through streamlit.testing's AppTest: opens on the sample data with every
panel, uploads change the tiles to hand-checked values, a broken file is a message, filters
change the numbers."""

from __future__ import annotations

import re

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
    assert [t.label for t in at.tabs] == TABS
    # Only the open tab is drawn; open each in turn.
    panels = {"Response": "Response by infusion count", "Keep going?": "Keep going?", "Dropout": "Dropout points",
              "Durability": "Durability at one month", "Trajectories": "Symptom trajectories",
              "As services report it": "As services report it", "Compare fairly": "Compare fairly",
              "Over time": "Are we getting better?", "Data quality": "Data quality"}
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
    assert "of 3 assessed · of all 4 who started: 50% had responded by then" in captions
    assert not any("Sample data" in m.value for m in at.markdown)
    top = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Data: six_patients.csv · visits " in top
    # In presentation mode too (the file is still this session's).
    at.session_state["present"] = True
    top = " ".join(m.value for m in at.run().markdown).replace("\\", "")
    assert "**Data: six_patients.csv · visits " in top and "Sample data" not in top


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
    # An unreadable file is an error; unknown headers (the last) are a question: the mapping step.
    message = (at.error or at.info)[0].value
    assert message and "Traceback" not in message


def test_unrecognised_columns_offer_the_mapping_step():
    at = upload(run_app(), "odd.csv", b"Who,When,Mood\nP1,2025-01-01,20\nP1,2025-01-03,9\n")
    assert not at.error  # a question, not an error (tests/test_app_intake.py)
    assert "Which column holds what?" in [s.value for s in at.subheader]
    at.selectbox(key="map_patient_id").set_value("Who")
    at.selectbox(key="map_session_date").set_value("When")
    at.selectbox(key="map_phq9").set_value("Mood").run()
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
    assert any("Filtered" in m.value and "Site: North" in m.value.replace("\\", "") for m in at.markdown)


def test_compare_by_splits_the_tables():
    at = run_app()
    at.sidebar.selectbox[1].set_value("kap").run()
    assert not at.exception
    assert any("Compared by" in m.value for m in at.markdown)


def test_user_text_is_not_markdown():
    """A file name or cohort value with markdown or HTML in it is shown as written, not rendered."""
    from dashboard.present.formatting import plain

    assert plain("[x](javascript:alert(1)) <b>**bold**</b>") == (
        "\\[x\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\>\\*\\*bold\\*\\*\\</b\\>")
    at = upload(run_app(), "<img src=x onerror=alert(1)>.csv", b"")
    assert "\\<img" in at.error[0].value


def test_minimum_cell_size_hides_small_counts_everywhere():
    """six_patients.csv with counts below 3 hidden: 2 completed (< 3) hides the completion rate;
    2 of 3 responders after 2 infusions: the count and its rate are hidden. The 6 started and 3
    stopped early are shown; complementary suppression hides the 5 whose series ended (5 - 3
    would give away the 2 who completed)."""
    at = upload(run_app(), "six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes())
    next(n for n in at.number_input if n.label.startswith("Hide counts below")).set_value(3).run()
    assert not at.exception and not at.error
    values = tiles(at)
    assert values["Patients started"] == "6"
    assert values["Completed series"] == "–"
    assert values["Response after 2 infusions"] == "–"
    for tab in ("Keep going?", "Dropout", "Durability", "Trajectories", "Over time"):
        at.session_state["panel"] = tab
        at.run()
        assert not at.exception and not at.error, tab


TABS = ["Response", "Keep going?", "Dropout", "Durability", "Trajectories", "As services report it", "Compare fairly",
        "Over time", "Data quality"]


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["panel"] = tab
    return at.run()


@pytest.mark.parametrize("min_cell", [0, 11])
def test_compare_by_draws_every_tab(min_cell):
    """Split by KAP: every tab draws (charts split by group, counts per group), also with suppression."""
    at = run_app()
    at.sidebar.selectbox[1].set_value("kap").run()
    next(n for n in at.number_input if n.label.startswith("Hide counts below")).set_value(min_cell).run()
    compared = next(m.value for m in at.markdown if "Compared by" in m.value)
    assert "no:" in compared and "yes:" in compared  # patients started per group
    for tab in TABS:
        open_tab(at, tab)
        assert not at.exception and not at.error, tab
        # Over time at 11: a p-chart that could show only a selection of its points says so instead.
        assert at.get("vega_lite_chart") or tab == "Data quality" or (tab == "Over time" and at.info), tab


def test_published_references_are_marked_and_cited():
    at = run_app()
    next(t for t in at.toggle if t.label == "Show published reference figures").set_value(True).run()
    assert not at.exception
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "grey diamonds: published figures (reference: another population, not your data)" in spec
    assert any("Published figures" in m.value for m in at.markdown)
    sources = next(d.value for d in at.dataframe if "Source" in d.value.columns)["Source"].tolist()
    assert "Zheng et al. 2019, serial ketamine infusions in depression" in sources
    open_tab(at, "Durability")
    durability = at.get("vega_lite_chart")[1].proto
    assert "reference: another population, not your data" in durability.spec
    assert any(b"McInnes" in d.data.data for d in durability.datasets)  # the line's label, in the chart data
    open_tab(at, "Dropout")
    assert any("Osmind" in c.value for c in at.caption)


def half_up_export() -> bytes:
    """200 patients, baseline PHQ-9 20, three infusions a few days apart. Scores are taken before
    each infusion, so the score after 2 infusions is the one at infusion 3: 57 patients score 10
    (a 50% fall: response) and 143 score 15. One later baseline-only visit moves the as-of date
    past the 21-day gap, so every series has ended (stopped after 3 of 6).
    Hand-checked: response after 2 = 57/200 = 28.5% -> "29%" (half up; the float is 0.28499...),
    intention to treat 57/200 too; completed 0 of 200 -> "0%"; no one reached 6 -> "–"; the 57
    responders have no follow-up -> durable "–"."""
    rows = ["patient_id,session_date,session_type,infusion_number,phq9"]
    for i in range(200):
        pid = f"P{i:03d}"
        rows += [f"{pid},2025-01-01,baseline,,20", f"{pid},2025-01-02,infusion,1,20",
                 f"{pid},2025-01-05,infusion,2,16", f"{pid},2025-01-08,infusion,3,{10 if i < 57 else 15}"]
    rows.append("LATE,2025-04-01,baseline,,20")
    return ("\n".join(rows) + "\n").encode()


def test_tiles_round_half_up_with_denominators():
    at = upload(run_app(), "half_up.csv", half_up_export())
    assert not at.exception and not at.error
    assert tiles(at) == {"Patients started": "200", "Completed series": "0%", "Response after 2 infusions": "29%",
                         "Response after 6 infusions": "–", "Durable at one month": "–"}
    captions = " ".join(c.value for c in at.caption)
    assert "of 200 assessed · of all 200 who started: 29% had responded by then" in captions
    assert "0 of 200 whose series ended" in captions


def test_what_we_read_after_an_upload():
    """The summary opens after an upload: the file's form, date style and why, rows, rejections."""
    at = upload(run_app(), "six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes())
    summary = at.expander[0]
    assert summary.label.startswith("What we read: 1 file, 34 rows, 33 used, 1 rejected")
    text = " ".join(m.value for m in summary.markdown).replace("\\", "")  # shown as written, not markdown
    assert "comma-separated" in text and "dates as ISO (2025-12-31)" in text and "Why this date style" in text
    assert "34 rows read, 33 used, 1 rejected whole" in text


def test_rejections_download_neutralises_formulas():
    """A cell an spreadsheet would run as a formula is written with a leading quote."""
    import pandas as pd

    from dashboard.ui.intake import rejections_csv

    frame = pd.DataFrame([{"file": "x.csv", "line": 3, "column": "phq9", "value": "=HYPERLINK(\"x\")",
                           "reason": "not a number"},
                          {"file": "x.csv", "line": 4, "column": "phq9", "value": "-3", "reason": "out of range"},
                          {"file": "x.csv", "line": 5, "column": "session_type", "value": "@SUM(A1)",
                           "reason": "not a visit"}])
    text = rejections_csv(frame).decode()
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert ",-3," in text  # a negative number is a number, not a formula


def test_saved_mapping_file_reads_an_export_with_odd_headers():
    """A mapping saved from the mapping step, uploaded in the sidebar, reads next month's export."""
    at = run_app()
    at.file_uploader(key="mapping_file").set_value(
        ("column_mapping.json", b'{"columns": {"Who": "patient_id", "When": "session_date", "Mood": "phq9"}}',
         "application/json"))
    at = upload(at, "odd.csv", b"Who,When,Mood\nP1,2025-01-01,20\nP1,2025-01-03,9\n")
    assert not at.exception and not at.error
    assert tiles(at)["Patients started"] == "1"


def test_mapping_step_starts_from_the_recognised_columns():
    """Headers the dashboard knows are chosen already; only the unknown ones are left to pick."""
    at = upload(run_app(), "odd.csv", b"Client;Seen on;Kind;Mood score\nC-1;03.02.2025;Intake;20\n")
    assert at.selectbox(key="map_patient_id").value == "Client"
    assert at.selectbox(key="map_session_date").value == "(none)"
    at.selectbox(key="map_session_date").set_value("Seen on")
    at.selectbox(key="map_phq9").set_value("Mood score").run()
    saved = at.get("download_button")[0].proto
    assert saved.label == "Save this mapping (JSON)"


def test_methods_show_the_settings_in_force():
    at = run_app()
    settings = next(d.value for d in at.dataframe if "Setting" in d.value.columns)
    assert set(settings["Name in exports"]) >= {"measure", "score_timing", "planned", "series_gap_days", "as_of",
                                                "follow_up_window", "min_cell", "response_reduction"}
    assert "How these numbers are computed" in [e.label for e in at.expander]
    # The same definitions as the export's --help (dashboard.present.methods_text), settings filled in.
    text = " ".join(m.value for m in at.markdown)
    for term in ("A visit", "Dates", "Numbers", "Session types", "The series", "Score after n infusions",
                 "Intention to treat", "Durability", "Small counts"):
        assert f"**{term}**" in text
    assert "before 1990-01-01" in text and "dated in the future" in text and "never guessed" in text


def test_excel_export_with_odd_headers_gets_the_mapping_step():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Who", "When", "Mood"])
    sheet.append(["P1", "2025-01-01", 20])
    sheet.append(["P1", "2025-01-03", 9])
    data = io.BytesIO()
    book.save(data)
    at = upload(run_app(), "odd.xlsx", data.getvalue())
    assert not at.exception
    assert "Which column holds what?" in [s.value for s in at.subheader]
    assert list(at.dataframe[0].value.columns) == ["Who", "When", "Mood"]


def test_a_good_file_replaces_one_that_could_not_be_read():
    at = upload(run_app(), "broken.csv", b"%PDF-1.4 not a table")
    assert at.error
    at = upload(at, "six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes())
    assert not at.exception and not at.error
    assert tiles(at)["Patients started"] == "6"
    at.sidebar.button[0].click().run()  # Remove the files: back to the sample
    assert tiles(at)["Patients started"] == "600"
    assert any("Sample data" in m.value for m in at.markdown)



def sample_patient_ids() -> set[str]:
    import csv as csv_module

    with open(ROOT / "sample_data" / "ketamine_clinic_export.csv", newline="") as fh:
        return {row["patient_id"] for row in csv_module.DictReader(fh) if row["patient_id"]}


def everything_on_screen(at: AppTest) -> str:
    """Every text, table and chart dataset the page holds, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "subheader", "title", "header", "error", "info", "success")
             for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    for chart in at.get("vega_lite_chart"):
        parts.append(chart.proto.spec)
        parts += [d.data.data.decode("latin-1") for d in chart.proto.datasets]
    return "\n".join(parts)


def presenting() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["present"] = "1"
    return at.run()


def test_presentation_mode_from_the_address():
    """?present=1: counts below 11 hidden, settings stated at the top, a plain headline per panel,
    no controls or file details in the main area, and a way back."""
    at = presenting()
    assert not at.exception and not at.error
    assert at.session_state["present"] is True
    top = " ".join(m.value for m in at.markdown).replace("\\", "")  # unescape the markdown
    assert "counts below 11 hidden" in top and "PHQ" in top and "Patients: all" in top
    # Whose data: a bookmarked ?present=1 on the meeting PC must say it shows the synthetic sample.
    assert ("Sample data: synthetic patients, not a clinic's · visits 2025-04-18 to 2026-10-31 · "
            "read as of 2026-10-31") in top
    assert not [e for e in at.expander if e.label in ("What we read", "How these numbers are computed")]
    assert "## 51% responded after 2 infusions (n = 483) and 69% responded after 6 infusions (n = 247)." in top
    assert list(tiles(at)) == TILES
    for tab in TABS:
        open_tab(at, tab)
        assert not at.exception and not at.error, tab
        assert not at.toggle or all("patients who stopped" not in t.label for t in at.toggle), tab
        assert not at.download_button, tab  # no downloads of rows that may hold identifiers
        assert any(m.value.startswith("## ") for m in at.markdown) or tab in ("Over time", "Data quality"), tab
    next(b for b in at.button if b.label == "Leave presentation mode").click().run()
    assert at.session_state["present"] is False and "present" not in at.query_params
    assert any("Sample data" in m.value for m in at.markdown)


def test_presentation_mode_shows_no_patient_identifiers():
    ids = sample_patient_ids()
    at = presenting()
    for tab in TABS:
        text = everything_on_screen(open_tab(at, tab))
        shown = {i for i in ids if i in text}
        assert not shown, (tab, sorted(shown)[:5])


def test_presentation_mode_keeps_a_larger_minimum_cell_size():
    at = run_app()
    next(n for n in at.number_input if n.label.startswith("Hide counts below")).set_value(20).run()
    next(t for t in at.toggle if t.label == "Presentation mode").set_value(True).run()
    assert at.query_params["present"] == ["1"] or at.query_params["present"] == "1"
    assert any("counts below 20 hidden" in m.value for m in at.markdown)


def test_patient_list_only_on_request_and_outside_presentation_mode():
    ids = sample_patient_ids()
    at = open_tab(run_app(), "Dropout")
    assert not {i for i in ids if i in everything_on_screen(at)}
    next(t for t in at.toggle if "patients who stopped" in t.label).set_value(True).run()
    listed = next(d.value for d in at.dataframe if "Patient" in d.value.columns)
    assert len(listed) == 218 and set(listed["Patient"]) <= ids  # the sample's 218 dropouts
    assert listed["Last infusion"].is_monotonic_decreasing
    assert any(b.label == "Download this list (CSV)" for b in at.download_button)


def test_a_file_with_no_usable_row_says_so_and_lists_the_rejections():
    """Every row rejected: no tiles or charts to draw, a plain message, and the rejected rows (not a crash)."""
    data = b"patient_id,session_date,session_type,infusion_number,phq9\nA,not a date,infusion,1,20\nB,,infusion,1,20\n"
    at = upload(run_app(), "nothing_usable.csv", data)
    assert not at.exception and not at.error
    assert "No patient to show" in at.warning[0].value
    assert any(b.label == "Download the full list (CSV)" for b in at.download_button)


def test_over_time_by_quarter_carries_into_presentation_mode():
    """On the sample (about 33 patients a month) at 11, by month no response point can be shown;
    chosen on the Over time tab, quarters stay chosen in presentation mode, where they show points
    (and where the switch stays: tests/test_room_story.py)."""
    at = open_tab(run_app(), "Over time")
    by_quarter = next(r for r in at.radio if r.label == "A point per")
    by_quarter.set_value("quarter").run()
    assert any("by quarter of series start" in m.value for m in at.markdown)
    next(t for t in at.toggle if t.label == "Presentation mode").set_value(True).run()
    assert next(r for r in at.radio if r.label == "A point per").value == "quarter"  # the switch stays in the room
    headlines = [m.value for m in at.markdown if "of series start" in m.value]
    assert headlines and all("by quarter" in h and "can be shown" not in h for h in headlines), headlines
    drawn = " ".join(c.proto.spec + " ".join(d.data.data.decode("latin-1") for d in c.proto.datasets)
                     for c in at.get("vega_lite_chart"))
    assert re.search(r"Q[1-4] 20\d\d", drawn)  # the points are labelled by quarter
