"""The mapping step and the rejections (issue 12.10), through streamlit.testing's AppTest: the
mapping step opens as a question with the required choices marked, the mapping chosen stays
downloadable once the files are read with it, and a value out of range names its measure and
range, on screen and in the downloaded rejections.csv alike."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ROOT, load_files
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard.core.measures import load_measures_file
from dashboard.ui.intake import rejections_csv

APP = str(ROOT / "dashboard" / "app.py")
ODD = b"Who,When,Mood\nP1,2025-01-01,20\nP1,2025-01-03,9\n"


def upload(name: str, data: bytes) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The data of every download button drawn, by file name (Streamlit keeps it as a media file;
    a patient-level one is made only when clicked: app_downloads, whose callable is run here)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    kept: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id
    real_deferred = MediaFileManager.add_deferred

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            kept[filename] = path_or_data
        return real(self, path_or_data, mimetype, kind, filename)

    def keep_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        if file_name:
            kept[file_name] = data_callable()
        return real_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    monkeypatch.setattr(MediaFileManager, "add_deferred", keep_deferred)
    return kept


def test_the_mapping_step_asks_which_column_holds_what():
    """Not a red error: a question, the reason in plain words (which file, what is not recognised),
    and the required choices marked. Before: st.error('Could not recognise these columns: ...')
    above a 'Map your columns' heading, nothing marked required."""
    at = upload("odd.csv", ODD)
    assert not at.exception and not at.error
    assert "Which column holds what?" in [s.value for s in at.subheader]
    question = at.info[0].value
    assert ("can't tell which column of odd\\.csv holds the patient id, the visit date and a score: the headers are "
            "not ones it knows") in question
    assert "Traceback" not in question and "--map" not in question
    assert at.selectbox(key="map_patient_id").label == "Patient id (required)"
    assert at.selectbox(key="map_session_date").label == "Visit date (required)"
    assert at.selectbox(key="map_session_type").label == "Session type (optional)"
    assert "**Score columns (at least one required)**" in [m.value for m in at.markdown]


def test_use_this_mapping_waits_for_every_required_choice():
    """Patient id and visit date chosen, no score: the button says what is still to choose. Before:
    it could be pressed, and the files were read again only to fail on the missing score."""
    at = upload("odd.csv", ODD)
    use = next(b for b in at.button if b.label == "Use this mapping")
    assert use.disabled
    at.selectbox(key="map_patient_id").set_value("Who")
    at.selectbox(key="map_session_date").set_value("When").run()
    assert next(b for b in at.button if b.label == "Use this mapping").disabled
    assert "Still to choose: a score." in [c.value for c in at.caption]
    at.selectbox(key="map_phq9").set_value("Mood").run()
    assert not next(b for b in at.button if b.label == "Use this mapping").disabled
    assert not any(c.value.startswith("Still to choose") for c in at.caption)


def test_the_mapping_in_use_can_still_be_saved(downloads):
    """Once the files are read with the mapping chosen, the sidebar still offers it to save, with
    the columns chosen. Before: the download went with the mapping step."""
    at = upload("odd.csv", ODD)
    at.selectbox(key="map_patient_id").set_value("Who")
    at.selectbox(key="map_session_date").set_value("When")
    at.selectbox(key="map_phq9").set_value("Mood").run()
    next(b for b in at.button if b.label == "Use this mapping").click().run()
    assert not at.exception and not at.error and at.metric  # the dashboard, read with the mapping
    saved = [b for b in at.sidebar.get("download_button") if b.proto.label == "Save the column mapping in use (JSON)"]
    assert len(saved) == 1
    assert json.loads(downloads["column_mapping.json"])["columns"] == {"Who": "patient_id", "When": "session_date",
                                                                      "Mood": "phq9"}
    next(b for b in at.sidebar.button if b.label == "Remove the files").click().run()  # back to the sample
    assert not [b for b in at.sidebar.get("download_button") if "column mapping" in b.proto.label]


def test_no_mapping_to_save_for_the_sample_or_a_recognised_export():
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not [b for b in at.get("download_button") if "column mapping" in b.proto.label]


def test_a_value_out_of_range_names_its_measure_and_range(downloads):
    """On the Data quality tab (by reason and every rejection) and in the downloaded
    rejections.csv: 'PHQ-9 out of range 0-27', the same text. Before: 'out of range (0-27)'."""
    export = (b"patient_id,session_date,session_type,phq9,gad7\nP1,2025-01-01,baseline,20,15\n"
              b"P1,2025-01-03,infusion,99,30\nP1,2025-01-05,infusion,12,-1\n")
    at = upload("scores.csv", export)
    at.session_state["panel"] = "Data quality"
    at.run()
    assert not at.exception and not at.error
    by_reason = next(d.value for d in at.dataframe if "Reason" in d.value.columns and "Rows or values" in d.value)
    assert dict(zip(by_reason["Reason"], by_reason["Rows or values"])) == {"PHQ-9 out of range 0-27": 1,
                                                                          "GAD-7 out of range 0-21": 2}
    every = next(d.value for d in at.dataframe if "Line" in d.value.columns)
    assert sorted(zip(every["Line"], every["Reason"])) == [(3, "GAD-7 out of range 0-21"),
                                                           (3, "PHQ-9 out of range 0-27"),
                                                           (4, "GAD-7 out of range 0-21")]
    rows = list(csv.DictReader(io.StringIO(downloads["rejections.csv"].decode())))
    assert sorted((r["line"], r["column"], r["value"], r["reason"]) for r in rows) == [
        ("3", "gad7", "30", "GAD-7 out of range 0-21"), ("3", "phq9", "99", "PHQ-9 out of range 0-27"),
        ("4", "gad7", "-1", "GAD-7 out of range 0-21")]


def test_a_declared_measure_is_named_with_its_own_range():
    """A measures file's label and range, a fractional top as written and a range below 0 readable.
    Before: 'out of range (0-10)', the top of 0-10.5 shown rounded, and 'out of range (-10-10)'."""
    measures = load_measures_file('[sleepy]\nlabel = "Sleep scale"\nrange = [0, 10.5]\nbetter = "lower"\n'
                                  '[mood_delta]\nlabel = "Mood change"\nrange = [-10, 10]\nbetter = "higher"\n')
    ds = load_files(("s.csv", b"patient_id,session_date,sleepy,mood_delta\nP1,2025-01-01,10.6,11\n"
                              b"P1,2025-01-03,10.3,-3\n"), measures=measures)
    assert sorted((line, value, reason) for _, line, _, value, reason in ds.rejection_rows()) == [
        (2, "10.6", "Sleep scale out of range 0-10.5"), (2, "11", "Mood change out of range -10 to 10")]
    assert "Sleep scale out of range 0-10.5" in rejections_csv(ds.rejections()).decode()


def test_the_mapping_step_offers_the_header_below_a_title_line():
    """A title line above the header (issue 16.10): the mapping step offers the header's columns and
    previews the rows under it, as the ingest reads them. Before: the title was offered as the only
    column and the header shown as a row."""
    at = upload("titled.csv", b"Clinic export 2026-11-01\n" + ODD)
    assert not at.exception
    assert at.selectbox(key="map_patient_id").options == ["(none)", "Who", "When", "Mood"]
    assert list(at.dataframe[0].value.columns) == ["Who", "When", "Mood"]
    assert at.dataframe[0].value["Who"].tolist() == ["P1", "P1"]


def test_the_mapping_step_reads_only_the_head_of_a_csv(monkeypatch):
    """Each click of the mapping step reruns the app: the preview reads a CSV's first 200 KB, never
    the whole upload again (before: a 200 MB export was read from disk whole on every click). The
    file here is 1.3 MB, its header and first rows shown as before."""
    from dashboard.ui.session_data import FileHead

    reads = []
    real = FileHead.read

    def counted(self, limit=None):
        reads.append(limit)
        return real(self, limit)

    monkeypatch.setattr(FileHead, "read", counted)
    big = ODD + b"".join(b"P%d,2025-01-%02d,%d\n" % (i, i % 28 + 1, i % 27) for i in range(60_000))
    at = upload("odd.csv", big)
    for key, value in [("map_patient_id", "Who"), ("map_session_date", "When")]:
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception and list(at.dataframe[0].value.columns) == ["Who", "When", "Mood"]
    assert reads and all(limit == 200_000 for limit in reads)
