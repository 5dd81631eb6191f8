"""What the real-browser tests share: Debian's chromium and a `streamlit run` of the dashboard
on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NO_CHROMIUM = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SERVER_LOG: list[Path | None] = [None]  # the running server's output, for a failure's message


@contextmanager
def streamlit(*extra: str):
    """Yield the URL of `streamlit run dashboard/app.py` with `extra` options; stop it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server's output goes to a file, never to a pipe nobody reads (a full pipe would stall it).
    log = Path(tempfile.mkstemp(prefix="streamlit_", suffix=".log")[1])
    SERVER_LOG[0] = log
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             *extra], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            pytest.fail("streamlit did not start: " + log.read_text(errors="replace")[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.unlink(missing_ok=True)


def server_log_tail() -> str:
    return SERVER_LOG[0].read_text(errors="replace")[-3000:] if SERVER_LOG[0] and SERVER_LOG[0].exists() else ""
