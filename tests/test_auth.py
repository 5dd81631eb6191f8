"""Optional sign-in (dashboard/ui/auth.py): with an [auth] section in the secrets, a signed-out
visitor sees a sign-in button and no data, a signed-in user off the allow-list (or not verified) a
refusal; with none the dashboard opens as before; a secrets file that cannot be used closes it.
AppTest gives the secrets (at.secrets) and the user (at.user)."""

from __future__ import annotations

import pytest
import streamlit
from conftest import ROOT
from streamlit.runtime.secrets import Secrets
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

from dashboard.ui.auth import is_allowed, providers

APP = str(ROOT / "dashboard" / "app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "dashboard", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://login.clinic.example/.well-known/openid-configuration"}
ALLOWED = {"allowed": ["dr.okafor@north-clinic.org", "@clinic.org"]}
SECRET = "not-a-real-secret"
SIGNED_IN = {"is_logged_in": True, "email": "a@clinic.org", "email_verified": True}


def app(user: dict, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets.update(secrets if secrets is not None else {"auth": AUTH, "dashboard": ALLOWED})
    at.user = user
    return at.run()


def shows_no_data(at: AppTest) -> None:
    assert not at.metric and not at.tabs and not at.get("vega_lite_chart") and not at.dataframe
    assert not at.sidebar.file_uploader and not at.expander
    assert not any("Sample data" in m.value for m in at.markdown)


def page_text(at: AppTest) -> str:
    """Everything sent to the browser, hidden fields included, without markdown's escapes."""
    return "\n".join(str(node.proto) for block in (at.main, at.sidebar) for node in block
                     if hasattr(node, "proto")).replace("\\", "")


def closed_for_configuration(at: AppTest, reason: str) -> None:
    assert not at.exception
    shows_no_data(at)
    assert not at.button  # not even a sign-in button: the configuration behind it is broken
    assert "sign-in configuration cannot be used" in at.error[0].value
    assert reason in at.error[0].value.replace("\\", "")
    assert SECRET not in page_text(at)


def test_signed_out_visitor_sees_only_a_sign_in_button():
    at = app({"is_logged_in": False})
    assert not at.exception and not at.error
    shows_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]


def test_signed_in_user_off_the_list_is_refused_with_a_sign_out_button():
    at = app({"is_logged_in": True, "email": "someone@evil-clinic.org", "name": "<b>Someone</b>",
              "email_verified": True})
    assert not at.exception
    shows_no_data(at)
    assert "someone@evil-clinic.org" in at.error[0].value.replace("\\", "")
    assert "not allowed" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


@pytest.mark.parametrize("claim", [{"email_verified": False}, {}, {"email_verified": "false"},
                                   {"email_verified": 0}, {"email_verified": "true"}, {"email_verified": 1},
                                   {"email_verified": None}])
def test_address_not_verified_as_exactly_true_is_refused(claim):
    at = app({"is_logged_in": True, "email": "a@clinic.org", **claim})
    assert not at.exception
    shows_no_data(at)
    assert "does not confirm" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


def test_auth_without_an_allow_list_lets_no_one_in():
    at = app(SIGNED_IN, {"auth": AUTH})
    shows_no_data(at)
    assert at.error


@pytest.mark.parametrize("email", ["dr.okafor@north-clinic.org", "Nurse.Lee@Clinic.org"])
def test_allowed_user_sees_the_dashboard_and_a_sign_out(email):
    at = app({"is_logged_in": True, "email": email, "email_verified": True})
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


@pytest.mark.parametrize("auth, reason", [
    ({}, "[auth] is empty"),
    ("client_id", "[auth] is not a table"),
    (["x"], "[auth] is not a table"),
    ({k: v for k, v in AUTH.items() if k != "client_id"}, "[auth] is missing client_id"),
    ({**AUTH, "cookie_secret": " "}, "[auth] is missing cookie_secret"),
    ({"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET,
      "google": {"client_id": "dashboard", "client_secret": SECRET}},
     "[auth] is missing google.server_metadata_url"),
])
def test_unusable_auth_section_closes_the_dashboard(auth, reason):
    at = app(SIGNED_IN, {"auth": auth, "dashboard": ALLOWED})  # even for a user who would be let in
    closed_for_configuration(at, reason)


@pytest.mark.parametrize("text, reason", [
    (f'[auth\nclient_secret = "{SECRET}"\n', "it is not valid TOML"),
    (f'[auth]\nclient_secret = "{SECRET}\n', "it is not valid TOML"),
    (b'[auth]\nclient_secret = "\xff"\n', "could not be read (UnicodeDecodeError)"),
])
def test_secrets_file_that_cannot_be_read_closes_the_dashboard(tmp_path, monkeypatch, text, reason):
    path = tmp_path / "secrets.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    monkeypatch.setattr(streamlit, "secrets", Secrets())  # a fresh one reads secrets.files
    with patch_config_options({"secrets.files": [str(tmp_path / "missing.toml"), str(path)]}):
        at = app(SIGNED_IN, {})  # no at.secrets: the app reads the file itself
    closed_for_configuration(at, reason)


def test_without_any_secrets_file_the_dashboard_opens(tmp_path, monkeypatch):
    monkeypatch.setattr(streamlit, "secrets", Secrets())
    with patch_config_options({"secrets.files": [str(tmp_path / "secrets.toml")]}):
        at = app({}, {})
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:1] == ["Patients started"]


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
