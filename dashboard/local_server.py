"""`streamlit run` of the dashboard on a free loopback port, the options for driving Debian's
chromium against it, and the wait for a script run to end. Shared by the browser tests (tests/browser_support.py) and the browser
benchmarks (bench/live_server.py); the app itself does not use it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# True while Streamlit runs the script: its status widget ("Running...") is on the page.
RUNNING = "() => !!document.querySelector(\"[data-testid='stStatusWidget']\")"


@contextmanager
def running_dashboard(*options: str, log: Path | None = None, env: dict[str, str] | None = None,
                      entry: str = "app.py") -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (url, process) of `streamlit run dashboard/app.py` (or dashboard/`entry`, e.g.
    serve.py, the app behind its response headers) with `options` on 127.0.0.1; stop it
    afterwards. Its output goes to `log` (or nowhere), never to a pipe nobody reads (a full pipe
    would stall it). Raises RuntimeError, with the end of the log, when it does not answer within
    two minutes."""
    log = log or Path(os.devnull)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / entry), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *options],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited at start: {_tail(log)}") from None
                time.sleep(0.5)
        else:
            raise RuntimeError(f"streamlit did not answer within two minutes: {_tail(log)}")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _tail(log: Path) -> str:
    return Path(log).read_text(errors="replace")[-2000:] if Path(log).is_file() else ""


def wait_idle(page, timeout_ms: float = 60_000) -> None:
    """Until no script run is in progress on a Playwright page (Streamlit's status widget is gone)."""
    page.wait_for_function(f"() => !({RUNNING})()", timeout=timeout_ms, polling=20)
