"""Sign-in in a real browser: `streamlit run` with an [auth] section in its secrets file. A
visitor who has not signed in gets the sign-in button and nothing else: no tiles, no uploader,
no sample data. (Signing in needs a real OpenID Connect provider; tests/test_auth.py covers the
signed-in cases through AppTest.)"""

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


def test_signed_out_visitor_sees_only_the_sign_in_button(tmp_path):
    from playwright.sync_api import sync_playwright

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS)
    with streamlit("--secrets.files", str(secrets)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
                               timeout=30_000)
        body = page.locator("body").inner_text()
        assert "Sign in to see the dashboard." in body
        assert not page.locator("[data-testid='stMetricValue']").count()
        assert not page.locator("[data-testid='stFileUploaderDropzoneInput']").count()
        assert "Sample data" not in body and "Patients started" not in body
        browser.close()
