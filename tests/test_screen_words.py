"""The shared screen in plain, honest words (issue 12.3, 12.4, 12.5, 12.9), through AppTest:
a tile resting on far fewer patients than the infusion before it says why and points to the
setting; the durability panel says how many responders were not followed up and draws its
before/after line over the same patients; the completion tile and the share reaching the last
infusion are told apart; the main screen never says ITT, evaluable, Kaplan-Meier, Wilson or
3-sigma (the methods do)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from conftest import ROOT, load_files, metrics_for
from streamlit.testing.v1 import AppTest

from dashboard.engine.sample import SAMPLE

APP = str(ROOT / "dashboard" / "app.py")


def post_scored_export() -> bytes:
    """40 patients scored at each of their six infusions (after it, as this clinic does), baseline
    20, every score 8; 4 of them (P00-P03) also have a follow-up 7 days after the 6th. Read with
    scores taken before each infusion, the score after the 6th is the follow-up: 4 assessed after
    6, against 40 after 5 (the score at infusion 6). Read as after each infusion: 40 and 40."""
    rows = ["patient_id,session_date,session_type,phq9"]
    start = date(2025, 1, 6)
    for p in range(40):
        first = start + timedelta(days=p)
        rows.append(f"P{p:02d},{first - timedelta(days=1)},baseline,20")
        rows += [f"P{p:02d},{first + timedelta(days=3 * k)},infusion,8" for k in range(6)]
        if p < 4:
            rows.append(f"P{p:02d},{first + timedelta(days=15 + 7)},follow_up,9")
    return ("\n".join(rows) + "\n").encode()


def upload(data: bytes, name: str = "clinic.csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def test_a_collapsed_denominator_says_why_and_points_to_the_setting():
    at = upload(post_scored_export())
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Response after 6 infusions"] == "100%"  # 4 of 4: a rate of a few, not the clinic's
    note = at.warning[0].value.replace("\\", "")  # unescape the markdown
    assert note.startswith("Response after 6 infusions rests on 4 patients assessed, against 40 after 5.")
    assert "within 14 days after it" in note and "Scores are taken" in note
    next(r for r in at.radio if r.label == "Scores are taken").set_value("post").run()
    assert not [w for w in at.warning if "rests on" in w.value]
    assert any(c.value.startswith("of 40 assessed") for c in at.caption)


def test_durability_says_who_was_not_followed_up_and_follows_the_same_patients():
    """The sample: 338 responders whose series ended, 258 followed up, 62 with no follow-up, 15 not
    due yet. The three-point line is over the patients with all three scores, the same at each point."""
    ds = load_files((SAMPLE.name, SAMPLE.read_bytes()))
    m = metrics_for(ds)
    same = m.milestones[m.milestones["measure"] == "phq9"]
    assert same["patients"].nunique() == 1
    n = int(same["patients"].iloc[0])
    traj = m.trajectories[m.trajectories["measure"] == "phq9"]
    followed, baseline = (int(traj[traj["kind"] == kind]["patients"].iloc[0]) for kind in ("follow_up", "baseline"))
    assert 0 < n <= followed < baseline  # the old line's points were over different patients
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["panel"] = "Durability"
    at.run()
    assert not at.exception
    words = " ".join(x.value for x in [*at.markdown, *at.caption]).replace("\\", "")
    assert "62 of 338 responders whose series ended were not followed up (15 more not due yet)" in words
    line = next(c for c in at.get("vega_lite_chart") if "baseline, end of series, one month" in c.proto.spec)
    assert f"the same {n} patients at each point" in json.loads(line.proto.spec)["title"]["subtitle"]
    assert f"Over the same {n} patients at each point" in words
    table = next(d.value for d in at.dataframe if "Mean PHQ-9" in d.value.columns)
    assert table["Patients"].astype(str).tolist() == [str(n)] * 3


def test_completion_and_the_share_reaching_the_last_infusion_are_told_apart():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["panel"] = "Dropout"
    at.run()
    said = " ".join(c.value for c in at.caption).replace("\\", "")
    assert ("Completed series (62%) counts only the 571 series that have ended; the estimated share reaching "
            "infusion 6 (62%) also counts the 29 patients still in their series, as far as they have got.") in said


def test_no_jargon_on_the_main_screen():
    at = AppTest.from_file(APP, default_timeout=120).run()
    tiles = " ".join(c.value for c in at.caption)
    assert "of all 558 who started: 49% had responded by then" in tiles
    tabs = [t.label for t in at.tabs]
    assert len(tabs) == 9  # the issue-13 tabs too
    for tab in tabs:
        at.session_state["panel"] = tab
        at.run()
        shown = [*(x.value for x in [*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning]),
                 *(m.label for m in at.metric), *(str(list(d.value.columns)) for d in at.dataframe),
                 *(json.dumps(json.loads(c.proto.spec).get("title", "")) for c in at.get("vega_lite_chart")),
                 *(json.dumps(json.loads(c.proto.spec).get("layer", "")) for c in at.get("vega_lite_chart"))]
        methods = {x.value for e in at.expander if e.label == "How these numbers are computed"
                   for x in [*e.markdown, *e.caption]}
        text = " ".join(s for s in shown if s not in methods)
        for word in ("ITT", "evaluable", "Evaluable", "Kaplan-Meier", "Wilson", "3-sigma", "intention to treat"):
            assert word not in text, (tab, word)


def test_compared_groups_say_when_their_differences_could_be_chance():
    """Hand-worked: A 0.50-0.70 and B 0.60-0.80 overlap; C 0.10-0.30 overlaps neither. A hidden
    interval is left out. On the sample by site (63%, 74%, 70% after 6; intervals 52-73%, 65-82%,
    58-80%) the panel's sentence says the differences could be chance."""
    import pandas as pd

    from dashboard.present.headlines import within_chance

    rows = pd.DataFrame({"grp": ["A", "B", "C", "D"], "rate_low": [0.5, 0.6, 0.1, None],
                         "rate_high": [0.7, 0.8, 0.3, None]})
    assert within_chance(rows) == " 95% intervals that do not overlap: A and C; B and C."
    assert within_chance(rows.iloc[:2]) == (" The groups' 95% intervals all overlap: these differences could be "
                                            "chance; do not rank the groups.")
    assert within_chance(rows.iloc[[0, 3]]) == ""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.selectbox[1].set_value("site").run()
    said = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert ("Response after 6 infusions, by group: Central: 63% (n = 84); North: 74% (n = 100); Riverside: 70% "
            "(n = 63). The groups' 95% intervals all overlap: these differences could be chance") in said
