"""Load test: N people using one dashboard server at once.

    python bench/load_sessions.py --sessions 10
    python bench/load_sessions.py --sessions 30 --changes 8 --think 1.0 [--upload FILE]
    python bench/load_sessions.py --sessions 30 --driver socket [--think 10]

Starts one `streamlit run` on loopback. Each session opens the dashboard on the sample data (or,
with the browser driver, uploads FILE), then makes --changes setting changes one after another,
pausing --think seconds (randomised +-50%) between them like a reader: scores before/after
infusions, compare by site, another tab, a site filter.

Two drivers:
- browser (default): one headless Chromium with N browser contexts (separate cookies and
  sessions, like N people's browsers; one browser keeps 30 sessions within reach of a 2-core
  machine, where 30 browsers would not). Latency of a change, as the user sees it: from the
  click until the browser has received Streamlit's "script finished" message for the rerun it
  caused (read from the page's websocket) and the "Running..." status widget is gone. On one
  machine the browser's drawing competes with the server for CPU (the run reports both), so
  these figures are an upper bound of what people on their own machines would see.
- socket: each session speaks Streamlit's websocket protocol itself (a rerun request with the
  widgets' values, then the server's messages until "script finished"), as the frontend does,
  without drawing: the server alone, its queueing and computing. Lighter and, for the server's
  capacity, more faithful on a small machine.

The server's own time for each rerun (the app's DASHBOARD_TIMING line) is reported beside the
latency; peak memory is the server's resident memory, polled every 20 ms, and its VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from live_server import RssSampler, cpu_seconds, peak_rss_mb, rss_mb, tree  # noqa: E402

from dashboard.local_server import CHROMIUM, CHROMIUM_ARGS, running_dashboard  # noqa: E402

SIDEBAR = "[data-testid='stSidebar']"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]  # nearest rank


class Session:
    """One browser context on the dashboard, counting the reruns the server says it finished."""

    def __init__(self, number: int, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.number, self.page, self.finished = number, page, 0
        self.latencies: list[float] = []
        self._finished_changed = asyncio.Event()

        def on_frame(payload) -> None:
            if isinstance(payload, str):
                return
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload)
            except Exception:
                return
            if msg.WhichOneof("type") == "script_finished":
                self.finished += 1
                self._finished_changed.set()

        page.on("websocket", lambda ws: ws.on("framereceived", on_frame))

    async def rerun(self, action) -> float:
        """Do `action` (a click) and wait for the rerun it starts to finish and be drawn."""
        before = self.finished
        start = time.perf_counter()
        await action()
        while self.finished <= before:
            self._finished_changed.clear()
            try:
                await asyncio.wait_for(self._finished_changed.wait(), timeout=120)
            except asyncio.TimeoutError:
                raise RuntimeError(f"session {self.number}: no rerun finished within 120 s") from None
        await self.page.wait_for_function(
            "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=120_000, polling=20)
        return time.perf_counter() - start


class SocketSession:
    """One session spoken to over Streamlit's websocket, as its frontend does, without a browser:
    the BackMsg that asks for a rerun with the widgets' values, the ForwardMsgs until the run's
    "script finished". Measures the server alone: its queueing and computing, no drawing."""

    def __init__(self, number: int, url: str):
        self.number, self.url = number, url.replace("http://", "ws://") + "/_stcore/stream"
        self.latencies: list[float] = []
        self.widgets: dict[str, str] = {}  # label -> widget id, from the elements the server sent
        self.values: dict[str, object] = {}  # widget id -> the value this "user" has set

    async def __aenter__(self):
        import websockets

        self.socket = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None)
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()

    async def run(self) -> float:
        """Send the widgets' values (a rerun), return the seconds until the run finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_script_hash = ""
        for widget_id, value in self.values.items():
            state = back.rerun_script.widget_states.widgets.add()
            state.id = widget_id
            if isinstance(value, list):
                state.string_array_value.data[:] = value
            else:
                state.string_value = value
        start = time.perf_counter()
        await self.socket.send(back.SerializeToString())
        while True:
            forward = ForwardMsg.FromString(await self.socket.recv())
            kind = forward.WhichOneof("type")
            if kind == "delta":
                self._note_widget(forward.delta)
            elif kind == "script_finished" and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return time.perf_counter() - start

    def _note_widget(self, delta) -> None:
        if delta.WhichOneof("type") == "new_element":
            element = getattr(delta.new_element, delta.new_element.WhichOneof("type") or "", None)
            if hasattr(element, "id") and hasattr(element, "label") and element.id:
                self.widgets[element.label] = element.id
        elif delta.WhichOneof("type") == "add_block" and delta.add_block.WhichOneof("type") == "tab_container":
            self.widgets["(tabs)"] = delta.add_block.tab_container.id

    def set(self, label: str, value) -> None:
        self.values[self.widgets[label]] = value


def socket_changes(count: int) -> list[tuple[str, object]]:
    """The same changes as the browser's, as (widget label, value)."""
    steps = [("Scores are taken", "after each infusion"), ("Compare by", "Site"), ("(tabs)", "Dropout"),
             ("Site", ["North"]), ("Scores are taken", "before each infusion"), ("Compare by", "(no comparison)"),
             ("(tabs)", "Response"), ("Site", ["North", "Central"])]
    return [steps[i % len(steps)] for i in range(count)]


async def socket_user(number: int, url: str, args, start_gate: asyncio.Event, done: list) -> None:
    async with SocketSession(number, url) as session:
        start = time.perf_counter()
        await session.run()
        session.first_load = time.perf_counter() - start
        done.append(session)
        await start_gate.wait()
        rng = random.Random(number)
        for label, value in socket_changes(args.changes):
            await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
            session.set(label, value)
            session.latencies.append(await session.run())


async def drive_sockets(url: str, args, server_pid: int, log: Path):
    sessions: list[SocketSession] = []
    gate = asyncio.Event()
    users = [asyncio.create_task(socket_user(n, url, args, gate, sessions)) for n in range(args.sessions)]
    while len(sessions) < args.sessions:
        if any(u.done() and u.exception() for u in users):
            await asyncio.gather(*users)  # raises the failure
        await asyncio.sleep(0.2)
    before, mark = rss_mb(server_pid), log.stat().st_size
    cpu = {"server": -cpu_seconds(tree(server_pid)), "browser": 0.0, "wall": -time.perf_counter()}
    with RssSampler(server_pid) as sampler:
        gate.set()
        await asyncio.gather(*users)
        cpu["server"] += cpu_seconds(tree(server_pid))
        cpu["wall"] += time.perf_counter()
    return sessions, before, sampler.peak, mark, cpu


async def open_dashboard(session: Session, url: str, upload: str | None) -> float:
    page = session.page
    start = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector("[data-testid='stMetricValue']", timeout=300_000)
    if upload:
        await session.rerun(lambda: page.locator("[data-testid='stFileUploaderDropzoneInput']").first
                            .set_input_files(upload))
        await page.get_by_text("Your data:").first.wait_for(timeout=300_000)
        await page.wait_for_function(
            "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=300_000)
    return time.perf_counter() - start


def changes(page, count: int):
    """The setting changes a reader makes, in turn (each one click, or two for a dropdown)."""

    async def timing(label):
        await page.locator(SIDEBAR).get_by_text(label, exact=True).click()

    async def compare(option):
        await page.locator(SIDEBAR).get_by_role("combobox", name="Compare by").click()
        await page.keyboard.type(option[:4])  # narrows the list (and opens it wherever the box is)
        await page.get_by_role("option", name=option, exact=True).click()

    async def tab(name):
        await page.get_by_role("tab", name=name, exact=True).click()

    async def site(name):
        box = page.locator(SIDEBAR).get_by_role("combobox", name="Site", exact=True)
        if not await box.is_visible():
            await page.locator(SIDEBAR).get_by_text("Filters", exact=True).click()  # opens the expander
            await box.wait_for()
        await box.click()
        await page.keyboard.type(name)  # opens the list, narrowed to the site
        await page.get_by_role("option", name=name, exact=True).wait_for()
        await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")

    steps = [lambda: timing("after each infusion"), lambda: compare("Site"), lambda: tab("Dropout"),
             lambda: site("North"), lambda: timing("before each infusion"), lambda: compare("(no comparison)"),
             lambda: tab("Response"), lambda: site("Central")]
    return [steps[i % len(steps)] for i in range(count)]


async def user(session: Session, url: str, args, start_gate: asyncio.Event) -> None:
    session.first_load = await open_dashboard(session, url, args.upload)
    await start_gate.wait()
    rng = random.Random(session.number)
    for number, step in enumerate(changes(session.page, args.changes)):
        await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
        try:
            session.latencies.append(await session.rerun(step))
        except Exception as exc:
            raise RuntimeError(f"session {session.number}, change {number + 1}: {exc}") from exc


async def drive(url: str, args, server_pid: int, log: Path):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        sessions = []
        for number in range(args.sessions):
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(120_000)  # a busy server is slow, not broken
            sessions.append(Session(number, await context.new_page()))
        gate = asyncio.Event()
        users = [asyncio.create_task(user(s, url, args, gate)) for s in sessions]
        # Everyone opens the dashboard first; the measured changes start together.
        while not all(hasattr(s, "first_load") for s in sessions):
            if any(u.done() and u.exception() for u in users):
                break
            await asyncio.sleep(0.2)
        before, mark = rss_mb(server_pid), log.stat().st_size  # the server's log so far: the first loads
        browser_pids = [p for p in tree(os.getpid()) if p != os.getpid() and p not in tree(server_pid)]
        cpu = {"server": -cpu_seconds(tree(server_pid)), "browser": -cpu_seconds(browser_pids),
               "wall": -time.perf_counter()}
        with RssSampler(server_pid) as sampler:
            gate.set()
            await asyncio.gather(*users)
            cpu = {"server": cpu["server"] + cpu_seconds(tree(server_pid)),
                   "browser": cpu["browser"] + cpu_seconds(browser_pids), "wall": cpu["wall"] + time.perf_counter()}
        await browser.close()
    return sessions, before, sampler.peak, mark, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--changes", type=int, default=8, help="setting changes per session")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a session's changes (+-50%%)")
    parser.add_argument("--upload", help="a (small) export each session uploads instead of using the sample; it needs "
                        "the sample's sites (North, Central): e.g. sample_data/generate.py --patients 100")
    parser.add_argument("--driver", choices=["browser", "socket"], default="browser",
                        help="browser: Chromium contexts (what a user sees); socket: Streamlit's websocket "
                             "protocol without a browser (the server alone)")
    args = parser.parse_args()

    log = Path(tempfile.gettempdir()) / f"load_sessions_{args.sessions}.log"
    load_before = os.getloadavg()[0]
    with running_dashboard(env={"DASHBOARD_TIMING": "1"}, log=log) as (url, server):
        if args.driver == "socket":
            if args.upload:
                parser.error("--upload needs the browser driver")
            sessions, before, peak, mark, cpu = asyncio.run(drive_sockets(url, args, server.pid, log))
        else:
            sessions, before, peak, mark, cpu = asyncio.run(drive(url, args, server.pid, log))
        hwm = peak_rss_mb(server.pid)
    latencies = [x for s in sessions for x in s.latencies]
    logged = log.read_bytes()[mark:].decode(errors="replace")
    server_ms = [float(m) for m in re.findall(r"dashboard rerun: (\d+) ms", logged)]
    # A rerun that failed still "finishes": count the failures the server logged (app.py, Streamlit).
    failures = logged.count("the dashboard failed") + logged.count("Traceback (most recent call last)")
    first = [s.first_load for s in sessions]
    print(f"{args.sessions} sessions ({args.driver}), {args.changes} changes each, think {args.think:g} s"
          + (f", each uploading {Path(args.upload).name}" if args.upload else ", sample data"))
    print(f"first load (open{' + upload' if args.upload else ''}): median {statistics.median(first):.2f} s, "
          f"max {max(first):.2f} s")
    print(f"change to drawn ({len(latencies)} changes): p50 {percentile(latencies, 50) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"server time per rerun ({len(server_ms)} reruns, from DASHBOARD_TIMING): "
          f"p50 {percentile(server_ms, 50):.0f} ms, p95 {percentile(server_ms, 95):.0f} ms")
    print(f"server RSS: {before:.0f} MB with every session open, peak {max(peak, hwm):.0f} MB "
          f"(polled {peak:.0f}, VmHWM {hwm:.0f})")
    print(f"CPU while changing ({cpu['wall']:.0f} s on {os.cpu_count()} cores): server {cpu['server']:.0f} s "
          f"({cpu['server'] / max(len(server_ms), 1) * 1000:.0f} ms a rerun), browser {cpu['browser']:.0f} s; "
          f"load average before the run {load_before:.1f} (other programs on this machine)")
    print(f"failed reruns in the server log: {failures}")


if __name__ == "__main__":
    main()
