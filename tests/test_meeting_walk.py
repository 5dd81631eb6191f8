"""Walking a meeting through the dashboard (issue 12.6-8): a visible "next panel" control with a
keyboard shortcut, a link that reopens the same view (tab, filters, compare-by, settings) from
the address's query parameters, the room's layout (no page title or panel title above the
headline; the explanation below the chart), and "What we read" open on an upload's first view
only. The browser checks (the fold, contrast, the link typed into a new browser) are in
tests/test_room_fold.py."""

from __future__ import annotations

from conftest import FIXTURES, ROOT
from streamlit.testing.v1 import AppTest

from dashboard.app import PANEL_TABLES

APP = str(ROOT / "dashboard" / "app.py")
PANELS = list(PANEL_TABLES)


def opened(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def next_button(at: AppTest):
    return next(b for b in at.button if b.label.startswith("Next: "))


def test_the_room_has_a_next_panel_button_with_a_shortcut_that_walks_every_panel_and_wraps():
    at = opened(present="1")
    assert not at.exception
    button = next_button(at)
    assert button.label == "Next: Keep going?"
    assert button.proto.shortcut.upper() == "N" and "Keyboard: N" in button.help
    walked = []
    for _ in PANELS:
        next_button(at).click().run()
        assert not at.exception
        walked.append(at.session_state["panel"])
    assert walked == PANELS[1:] + PANELS[:1]  # every panel once, then back to the first
    # The panel the button opened is the one drawn: the Response tab's headline is back.
    assert any("responded after 2 infusions" in m.value for m in at.markdown)


def test_a_link_reopens_the_same_view_tab_filters_compare_by_and_settings():
    """Option texts travel as they are shown ("Site", "after each infusion"); a link carrying them
    opens the Dropout tab, compared by site, for North and Central only, with scores taken after
    each infusion, a series of 5 and counts below 11 hidden."""
    at = opened(panel="Dropout", compare="Site", filter_site=["North", "Central"], timing="after each infusion",
                planned="5", min_cell="11")
    assert not at.exception
    assert at.session_state["panel"] == "Dropout"
    assert at.selectbox(key="compare").value == "site"
    assert at.multiselect(key="filter_site").value == ["North", "Central"]
    assert at.radio(key="timing").value == "post"
    assert at.number_input(key="planned").value == 5 and at.number_input(key="min_cell").value == 11
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Filtered" in text and "Site: North, Central" in text
    assert "Compared by **Site**" in text
    assert "Scores taken **after** each infusion" in text
    assert any("Reasons given for stopping" in m.value for m in at.markdown)  # the Dropout panel is drawn
    # A value the data does not have is dropped, not an error.
    at = opened(panel="No such tab", compare="Nothing like it")
    assert not at.exception and at.selectbox(key="compare").value == ""
    assert any("Response by infusion count" in s.value for s in at.subheader)


def test_in_the_room_the_headline_leads_straight_into_the_chart():
    """No page title and no panel title in the room (the header and the tab name them); the
    explanation of a chart comes after it. At a desk both titles stay and the explanation leads."""
    room = opened(present="1")
    assert not room.title and not [s for s in room.subheader if s.value == "Response by infusion count"]
    desk = opened()
    assert [t.value for t in desk.title] == ["Ketamine clinic outcomes"]
    assert [s.value for s in desk.subheader][:1] == ["Response by infusion count"]

    def order(at: AppTest) -> list[str]:
        """The Response panel's caption about timing and its chart, in the order they are drawn."""
        kinds = []
        for element in at.main:
            for node in _walk(element):
                if node.type == "caption" and "Scores taken" in node.value:
                    kinds.append("explanation")
                elif node.type == "vega_lite_chart" and "Response after each infusion" in node.proto.spec:
                    kinds.append("chart")
        return kinds

    desk_order, room_order = order(desk), order(room)
    assert desk_order.index("explanation") < desk_order.index("chart")
    assert room_order.index("chart") < room_order.index("explanation")


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_what_we_read_is_open_on_an_uploads_first_view_and_closed_after():
    at = opened()
    assert not at.expander[0].proto.expanded  # the sample: closed
    at.sidebar.file_uploader[0].set_value(("six_patients.csv", (FIXTURES / "six_patients.csv").read_bytes(),
                                           "text/csv"))
    at.run()
    summary = at.expander[0]
    assert summary.label.startswith("What we read") and summary.proto.expanded
    at.session_state["panel"] = "Dropout"
    at.run()
    assert at.expander[0].label.startswith("What we read") and not at.expander[0].proto.expanded
