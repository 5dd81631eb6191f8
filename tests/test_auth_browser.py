"""Sign-in in a real browser: `streamlit run` with an [auth] section in its secrets file. A
visitor who has not signed in gets the sign-in button and nothing else: no tiles, no uploader,
no sample data; with a secrets file that is not valid TOML, a page saying so and nothing else.
(Signing in needs a real OpenID Connect provider; tests/test_auth.py covers the signed-in cases
through AppTest.)"""

from __future__ import annotations

from browser_support import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, streamlit

pytestmark = NO_CHROMIUM

SECRETS = """
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "not-a-real-secret-only-for-this-test"
client_id = "dashboard"
client_secret = "not-a-real-secret"
server_metadata_url = "https://login.clinic.example/.well-known/openid-configuration"

[dashboard]
allowed = ["@clinic.example"]
"""


def page_body(secrets_text: str, tmp_path, wait_for) -> str:
    """The page's text, once `wait_for` shows and the script run has ended; no data on it."""
    from playwright.sync_api import sync_playwright

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(secrets_text)
    with streamlit("--secrets.files", str(secrets)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        wait_for(page).wait_for(timeout=60_000)
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
                               timeout=30_000)
        body = page.locator("body").inner_text()
        assert not page.locator("[data-testid='stMetricValue']").count()
        assert not page.locator("[data-testid='stFileUploaderDropzoneInput']").count()
        assert "Sample data" not in body and "Patients started" not in body
        browser.close()
    return body


def test_signed_out_visitor_sees_only_the_sign_in_button(tmp_path):
    body = page_body(SECRETS, tmp_path, lambda page: page.get_by_role("button", name="Sign in"))
    assert "Sign in to see the dashboard." in body


def test_a_secrets_file_that_is_not_toml_closes_the_dashboard(tmp_path):
    broken = SECRETS.replace("[dashboard]", "[dashboard")  # one missing ]
    body = page_body(broken, tmp_path, lambda page: page.get_by_text("not valid TOML"))
    assert "sign-in configuration cannot be used" in body
    assert "not-a-real-secret" not in body and "Sign in" not in body
