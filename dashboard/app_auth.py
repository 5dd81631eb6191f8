"""Optional sign-in: Streamlit's OpenID Connect login (st.login) and an allow-list of e-mail
addresses or domains, both in .streamlit/secrets.toml (README, "Sign-in").

Without an [auth] section the dashboard is open to whoever can reach it (by default only this
machine: server.address is localhost). With one, a visitor who has not signed in sees a sign-in
button and nothing else; a signed-in user whose address is not allowed sees a refusal and a
sign-out button. An [auth] section with no allow-list lets no one in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from dashboard.formatting import plain

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


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    except Exception:  # an unreadable secrets file: as if there were none (Streamlit logs it)
        return {}


def allow_list(secrets: Mapping[str, Any]) -> list[str]:
    allowed = (secrets.get("dashboard") or {}).get("allowed") or []
    return [allowed] if isinstance(allowed, str) else [str(a) for a in allowed]


def providers(auth: Mapping[str, Any]) -> list[str | None]:
    """The login providers configured: None for settings directly in [auth], else [auth.NAME]s."""
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return [None] if "client_id" in auth or not named else named


def gate() -> bool:
    """Run first on every rerun. True when this visitor may see the dashboard; otherwise it has
    drawn the sign-in or refusal page and the caller draws nothing else."""
    secrets = _secrets()
    auth = secrets.get("auth")
    if not auth:
        return True  # no sign-in configured: the dashboard works as it always has
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
    if user.get("email_verified") is False or not is_allowed(email, allow_list(secrets)):
        st.title(TITLE)
        shown = plain(email) if isinstance(email, str) and email else "an account without an e-mail address"
        st.error(f"You are signed in as {shown}, which is not allowed to see this dashboard. "
                 "Ask the dashboard's administrator to add your address, or sign in with another account.")
        st.button("Sign out", key="sign_out", on_click=st.logout)
        return False
    st.sidebar.caption(f"Signed in as {plain(email)}")
    st.sidebar.button("Sign out", key="sign_out", on_click=st.logout)
    return True
