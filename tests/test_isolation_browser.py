"""Two people, one server: two browser contexts (separate cookies and sessions, like two
clinicians' browsers) open the same `streamlit run` server and upload different exports at the
same time. Each sees only its own patients, sites and file name, never the other's.

Also: a file larger than server.maxUploadSize gets Streamlit's plain message in the uploader
(the browser refuses it before sending; the server would answer 413), not a stack trace."""

from __future__ import annotations

from pathlib import Path

from browser_support import NO_CHROMIUM, idle, streamlit, wait_for_tile

pytestmark = NO_CHROMIUM


def clinic_export(path: Path, prefix: str, sites: list[str], patients: int) -> Path:
    """`patients` patients spread over `sites`, each a baseline PHQ-9 of 20 and two infusions."""
    rows = ["patient_id,session_date,session_type,infusion_number,phq9,site"]
    for i in range(patients):
        pid, site = f"{prefix}{i:02d}", sites[i % len(sites)]
        rows += [f"{pid},2025-03-01,baseline,,20,{site}", f"{pid},2025-03-03,infusion,1,18,{site}",
                 f"{pid},2025-03-06,infusion,2,12,{site}"]
    path.write_text("\n".join(rows) + "\n")
    return path


def patients_started(page) -> str:
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    return dict(zip([x.strip() for x in labels], [v.strip() for v in values]))["Patients started"]


def compare_by_site(page) -> str:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Compare by").click()
    page.get_by_role("option", name="Site", exact=True).click()
    page.get_by_text("Compared by").wait_for(timeout=30_000)
    idle(page)
    return page.locator("body").inner_text()


def test_two_sessions_see_only_their_own_data(browser, tmp_path):
    lakeside = clinic_export(tmp_path / "lakeside_export.csv", "LK", ["Lakeside", "Harbor"], 7)
    hilltop = clinic_export(tmp_path / "hilltop_export.csv", "HT", ["Hilltop", "Meadow"], 4)
    with streamlit() as url:
        contexts = [browser.new_context(viewport={"width": 1600, "height": 1000}) for _ in range(2)]
        one, two = (context.new_page() for context in contexts)
        for page in (one, two):
            page.goto(url)
        for page in (one, two):
            wait_for_tile(page, "600")  # both start on the sample
        # Both uploads in flight at once: neither waits for the other's dashboard.
        one.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(lakeside))
        two.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(hilltop))
        wait_for_tile(one, "7")
        wait_for_tile(two, "4")
        for page in (one, two):
            idle(page)
        assert patients_started(one) == "7" and patients_started(two) == "4"

        text_one, text_two = compare_by_site(one), compare_by_site(two)
        assert "Harbor: 3, Lakeside: 4" in text_one and "lakeside_export.csv" in text_one
        assert "Hilltop: 2, Meadow: 2" in text_two and "hilltop_export.csv" in text_two
        for text, others in ((text_one, ["Hilltop", "Meadow", "hilltop_export", "HT0"]),
                             (text_two, ["Lakeside", "Harbor", "lakeside_export", "LK0"])):
            assert not [word for word in others if word in text]
        # A reload of one is a new session: back to the sample, and the other keeps its data.
        one.reload()
        wait_for_tile(one, "600")
        two.get_by_role("tab", name="Dropout").click()
        idle(two)
        assert patients_started(two) == "4"
        for context in contexts:
            context.close()


def test_a_file_over_the_upload_limit_gets_a_plain_message(browser, tmp_path):
    big = tmp_path / "too_big.csv"
    big.write_bytes(b"patient_id,session_date,phq9\n" + b"P1,2025-01-01,20\n" * 80_000)  # 1.4 MB
    with streamlit("--server.maxUploadSize", "1") as url:
        page = browser.new_page()
        page.goto(url)
        wait_for_tile(page, "600")
        page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(big))
        page.get_by_text("File must be 1.0MB or smaller").wait_for(timeout=30_000)
        idle(page)
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and not page.locator("[data-testid='stException']").count()
        assert patients_started(page) == "600"  # still the sample: nothing was read
        page.close()
