"""What the real-browser tests share: Debian's chromium and a `streamlit run` of the dashboard
on a free loopback port."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard.local_server import CHROMIUM, CHROMIUM_ARGS, running_dashboard, wait_idle

__all__ = ["CHROMIUM", "CHROMIUM_ARGS"]  # for the browser tests
NO_CHROMIUM = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
SERVER_LOG: list[Path | None] = [None]  # the running server's output, for a failure's message


@contextmanager
def streamlit(*extra: str, entry: str = "app.py", env: dict[str, str] | None = None):
    """Yield the URL of `streamlit run dashboard/app.py` (or dashboard/`entry`) with `extra` options;
    stop it afterwards."""
    log = Path(tempfile.mkstemp(prefix="streamlit_", suffix=".log")[1])
    SERVER_LOG[0] = log
    try:
        with running_dashboard(*extra, log=log, entry=entry, env=env) as (url, _):
            yield url
    finally:
        log.unlink(missing_ok=True)


def server_log_tail() -> str:
    return SERVER_LOG[0].read_text(errors="replace")[-3000:] if SERVER_LOG[0] and SERVER_LOG[0].exists() else ""


def wait_for_tile(page, value: str) -> None:
    """Until a headline tile reads `value`; if none does, fail saying what the page and the server showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "v => [...document.querySelectorAll(\"[data-testid='stMetricValue']\")].some(e => e.innerText.trim() === v)",
            arg=value, timeout=60_000)
    except PlaywrightTimeout:
        pytest.fail(f"no tile reads {value!r}; the page shows: {page.locator('body').inner_text()[:1500]}\n"
                    f"server log: {server_log_tail()}")


def idle(page) -> None:
    """Until no script run is in progress, after a moment for one to start."""
    time.sleep(0.3)
    wait_idle(page, 30_000)
