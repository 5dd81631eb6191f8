"""The dashboard behind response headers that forbid framing: `streamlit run dashboard/serve.py`
(what scripts/run.sh starts). Streamlit's configuration has no option to add response headers,
but its st.App (an ASGI app, which `streamlit run` serves) takes middleware: every HTTP response
of the server (the page, its scripts, /media downloads, health checks) gets

    X-Frame-Options: DENY
    Content-Security-Policy: frame-ancestors 'none'

so that no other site can show the dashboard in a frame (clickjacking: a page that overlays the
dashboard's buttons with its own). The WebSocket is not an HTTP response and gets none; browsers
do not apply framing rules to it. `streamlit run dashboard/app.py` still works, without them.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

FRAME_HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'")]


class FrameGuard:
    """ASGI middleware: the framing headers on every HTTP response (replacing any of the same name)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {name for name, _ in FRAME_HEADERS}

        async def send_guarded(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": headers + FRAME_HEADERS}
            await send(message)

        await self.app(scope, receive, send_guarded)


app = st.App(Path(__file__).with_name("app.py"), middleware=[Middleware(FrameGuard)])
