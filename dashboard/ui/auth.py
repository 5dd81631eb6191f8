"""Optional sign-in: Streamlit's OpenID Connect login (st.login) and an allow-list of e-mail
addresses or domains, both in .streamlit/secrets.toml (README, "Sign-in").

Without an [auth] section the dashboard is open to whoever can reach it (by default only this
machine: server.address is localhost). With one, a visitor who has not signed in sees a sign-in
button and nothing else; a signed-in user whose address is not allowed sees a refusal and a
sign-out button. An [auth] section with no allow-list lets no one in. A secrets file that exists
but cannot be used (not valid TOML; an [auth] that is empty, not a table or incomplete) closes the
dashboard with a page saying what is wrong: reading it as "no sign-in" would open it to anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard.present.formatting import plain

TITLE = "Ketamine clinic outcomes"


def is_allowed(email: object, allowed: Iterable[object]) -> bool:
    """Whether an e-mail address is on the allow-list.

    Entries are whole addresses ("a.b@clinic.org") or domains ("@clinic.org"; "clinic.org" is
    read the same way). Case and surrounding spaces do not matter. A domain matches only itself,
    not its subdomains nor names that end with it ("x@evil-clinic.org" is not "@clinic.org")."""
    if not isinstance(email, str):
        return False
    address = email.strip().lower()
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(ch.isspace() for ch in address):
        return False
    for entry in allowed:
        entry = str(entry).strip().lower()
        if not entry:
            continue
        if "@" not in entry or entry.startswith("@"):
            if domain == entry.lstrip("@"):
                return True
        elif address == entry:
            return True
    return False


def _secrets() -> tuple[Mapping[str, Any], str | None]:
    """The secrets, and why they cannot be used (None when they can). Only the absence of every
    secrets file (Streamlit's secrets.files: ./.streamlit/ and ~/.streamlit/) means "no sign-in";
    load_if_toml_exists() would also say False for a file it failed to parse, so it is not used."""
    try:
        return st.secrets.to_dict(), None
    except StreamlitSecretNotFoundError as ex:
        if ex.error_id == "no-secrets-found":
            return {}, None
        if ex.error_id == "failed-parsing-secrets-file":
            return {}, "secrets.toml could not be read: it is not valid TOML"
        return {}, "the secrets could not be read"
    except Exception as ex:  # unreadable (permissions, not UTF-8...): its message may quote the file
        return {}, f"secrets.toml could not be read ({type(ex).__name__})"


def allow_list(secrets: Mapping[str, Any]) -> list[str]:
    allowed = (secrets.get("dashboard") or {}).get("allowed") or []
    return [allowed] if isinstance(allowed, str) else [str(a) for a in allowed]


def providers(auth: Mapping[str, Any]) -> list[str | None]:
    """The login providers configured: None for settings directly in [auth], else [auth.NAME]s."""
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return [None] if "client_id" in auth or not named else named


LOGIN_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def auth_problem(auth: object) -> str | None:
    """Why an [auth] value cannot give a sign-in (None when it can). It names keys, never values:
    it is shown to visitors who have not signed in."""
    if not isinstance(auth, Mapping):
        return "[auth] is not a table"
    if not auth:
        return "[auth] is empty"
    missing = [key for key in LOGIN_KEYS if not _filled(auth.get(key))]
    for provider in providers(auth):
        section = auth if provider is None else auth[provider]
        missing += [key if provider is None else f"{provider}.{key}"
                    for key in PROVIDER_KEYS if not _filled(section.get(key))]
    return f"[auth] is missing {', '.join(missing)}" if missing else None


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def gate() -> bool:
    """Run first on every rerun. True when this visitor may see the dashboard; otherwise it has
    drawn the sign-in or refusal page and the caller draws nothing else."""
    secrets, problem = _secrets()
    if problem is None and "auth" not in secrets:
        return True  # no sign-in configured: the dashboard works as it always has
    problem = problem or auth_problem(secrets["auth"])
    if problem:
        st.title(TITLE)
        st.error(f"The sign-in configuration cannot be used, so the dashboard is closed: {plain(problem)}. "
                 "The dashboard's administrator needs to correct the secrets file (README, \"Sign-in\").")
        return False
    auth = secrets["auth"]
    user = st.user
    if not user.get("is_logged_in"):
        st.title(TITLE)
        st.write("Sign in to see the dashboard.")
        for provider in providers(auth):
            label = "Sign in" if provider is None else f"Sign in with {provider}"
            st.button(label, key=f"sign_in_{provider or ''}", type="primary", on_click=st.login,
                      args=() if provider is None else (provider,))
        return False
    email = user.get("email")
    shown = plain(email) if isinstance(email, str) and email else "an account without an e-mail address"
    # Only the boolean true vouches for the address: without the claim the provider has not said
    # the account owns it, and a string or a number is not the standard claim ("false" is truthy).
    if user.get("email_verified") is not True:
        return _refuse(f"You are signed in as {shown}, but your sign-in provider does not confirm that "
                       "this address is verified. Sign in with another account, or ask the dashboard's "
                       "administrator.")
    if not is_allowed(email, allow_list(secrets)):
        return _refuse(f"You are signed in as {shown}, which is not allowed to see this dashboard. Ask the "
                       "dashboard's administrator to add your address, or sign in with another account.")
    st.sidebar.caption(f"Signed in as {plain(email)}")
    st.sidebar.button("Sign out", key="sign_out", on_click=st.logout)
    return True


def _refuse(message: str) -> bool:
    st.title(TITLE)
    st.error(message)
    st.button("Sign out", key="sign_out", on_click=st.logout)
    return False
