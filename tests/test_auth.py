"""Optional sign-in (dashboard/app_auth.py): with an [auth] section in the secrets, a signed-out
visitor sees a sign-in button and no data, a signed-in user off the allow-list a refusal; with
none the dashboard opens as before. AppTest gives the secrets (at.secrets) and the user (at.user)."""

from __future__ import annotations

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from dashboard.app_auth import is_allowed, providers

APP = str(ROOT / "dashboard" / "app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "dashboard", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://login.clinic.example/.well-known/openid-configuration"}
ALLOWED = {"allowed": ["dr.okafor@north-clinic.org", "@clinic.org"]}


def app(user: dict, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets.update(secrets if secrets is not None else {"auth": AUTH, "dashboard": ALLOWED})
    at.user = user
    return at.run()


def shows_no_data(at: AppTest) -> None:
    assert not at.metric and not at.tabs and not at.get("vega_lite_chart") and not at.dataframe
    assert not at.sidebar.file_uploader and not at.expander
    assert not any("Sample data" in m.value for m in at.markdown)


def test_signed_out_visitor_sees_only_a_sign_in_button():
    at = app({"is_logged_in": False})
    assert not at.exception and not at.error
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]


def test_signed_in_user_off_the_list_is_refused_with_a_sign_out_button():
    at = app({"is_logged_in": True, "email": "someone@evil-clinic.org", "name": "<b>Someone</b>"})
    assert not at.exception
    shows_no_data(at)
    assert "someone@evil-clinic.org" in at.error[0].value.replace("\\", "")
    assert "not allowed" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


def test_unverified_address_is_refused():
    at = app({"is_logged_in": True, "email": "a@clinic.org", "email_verified": False})
    shows_no_data(at)
    assert at.error and [b.label for b in at.button] == ["Sign out"]


def test_auth_without_an_allow_list_lets_no_one_in():
    at = app({"is_logged_in": True, "email": "a@clinic.org"}, {"auth": AUTH})
    shows_no_data(at)
    assert at.error


@pytest.mark.parametrize("email", ["dr.okafor@north-clinic.org", "Nurse.Lee@Clinic.org"])
def test_allowed_user_sees_the_dashboard_and_a_sign_out(email):
    at = app({"is_logged_in": True, "email": email})
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:1] == ["Patients started"]
    assert any(email in c.value.replace("\\", "") for c in at.sidebar.caption)
    assert "Sign out" in [b.label for b in at.sidebar.button]


def test_without_auth_the_dashboard_opens_as_before():
    at = app({}, {"dashboard": ALLOWED})  # an allow-list alone turns nothing on
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:1] == ["Patients started"]
    assert "Sign out" not in [b.label for b in at.button]


def test_named_providers_get_one_button_each():
    secrets = {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "x",
                        "google": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")},
                        "microsoft": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}},
               "dashboard": ALLOWED}
    at = app({"is_logged_in": False}, secrets)
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in with google", "Sign in with microsoft"]
    assert providers(AUTH) == [None]


@pytest.mark.parametrize("email, allowed, expected", [
    ("a@clinic.org", ["a@clinic.org"], True),
    ("A@Clinic.ORG ", [" a@clinic.org"], True),
    ("b@clinic.org", ["a@clinic.org"], False),
    ("b@clinic.org", ["@clinic.org"], True),
    ("b@clinic.org", ["clinic.org"], True),
    ("b@evil-clinic.org", ["@clinic.org"], False),
    ("b@sub.clinic.org", ["@clinic.org"], False),
    ("b@clinic.org.evil.com", ["@clinic.org"], False),
    ("a@clinic.org@evil.com", ["a@clinic.org", "@clinic.org"], False),
    ("clinic.org", ["@clinic.org"], False),
    ("@clinic.org", ["@clinic.org"], False),
    ("a b@clinic.org", ["@clinic.org"], False),
    ("", ["@clinic.org", ""], False),
    (None, ["@clinic.org"], False),
    ("a@clinic.org", [], False),
    ("a@clinic.org", ["", "  "], False),
])
def test_allow_list_matching(email, allowed, expected):
    assert is_allowed(email, allowed) is expected
