"""Benchmark: the server's memory when a browser uploads a large export.

    python bench/bench_upload_memory.py FILE
    python bench/bench_upload_memory.py --patients 350000      # generates a ~200 MB export first

Starts `streamlit run` on loopback, opens the dashboard in headless Chromium (Playwright), waits
for the sample data, uploads FILE through the file uploader (set_input_files, as a user's
browser sends it), waits until the dashboard has drawn the uploaded data, and reports the
server's resident memory: before the upload, its peak (polled every 20 ms over the process
tree, and the kernel's VmHWM high-water mark), what it keeps once the upload is drawn, and after
the tab is closed (with --remove: after "Remove the files" first).

The bound (issue 16.14): the peak may exceed the idle server's memory (before the upload) by at
most --bound times the file's size (default 3). Above it the benchmark says so and exits 1.
--timeline prints the memory every half second from the upload on, with the moment the upload's
request was answered and the moment the data was drawn, to tell where the memory goes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from live_server import RssSampler, peak_rss_mb, rss_mb, tile_values  # noqa: E402

from dashboard.local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, running_dashboard, wait_idle  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="the export to upload")
    parser.add_argument("--patients", type=int, help="generate an export with this many patients instead")
    parser.add_argument("--remove", action="store_true", help="click 'Remove the files' before closing the tab")
    parser.add_argument("--bound", type=float, default=3.0,
                        help="the most the peak may exceed the idle server, in file sizes (default %(default)s)")
    parser.add_argument("--timeline", action="store_true", help="print the memory every half second")
    args = parser.parse_args()
    if not args.file and not args.patients:
        parser.error("give FILE or --patients N")
    path = Path(args.file) if args.file else Path(tempfile.gettempdir()) / f"bench_visits_{args.patients}.csv"
    if not args.file and not path.exists():
        subprocess.run([sys.executable, str(ROOT / "sample_data" / "generate.py"), "--patients", str(args.patients),
                        "--out", str(path)], check=True)
    size_mb = path.stat().st_size / 1_000_000

    from playwright.sync_api import sync_playwright

    with running_dashboard() as (url, server), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=120_000)
        wait_idle(page)
        before = rss_mb(server.pid)
        uploaded: list[float] = []  # when the upload's request was answered (seconds since the upload)
        with RssSampler(server.pid) as sampler:
            start = time.perf_counter()
            page.on("requestfinished", lambda request: uploaded.append(time.perf_counter() - start)
                    if "/upload_file/" in request.url and request.method == "PUT" else None)
            page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
            try:
                # The header names the data in use ("Data: FILE · visits ... · read as of ...").
                page.get_by_text(f"Data: {path.name}").first.wait_for(timeout=900_000)
            except Exception:
                page.screenshot(path=str(Path(tempfile.gettempdir()) / "bench_upload_memory.png"), full_page=True)
                print(page.locator("body").inner_text()[:3000])
                raise
            page.wait_for_selector("[data-testid='stMetricValue']", timeout=900_000)
            wait_idle(page, 900_000)
            drawn = time.perf_counter() - start
            time.sleep(2)  # let the server settle (the uploader's request, garbage collection)
            after = rss_mb(server.pid)
        tiles = tile_values(page)
        hwm = peak_rss_mb(server.pid)
        # What the session keeps: the uploaded bytes (to read them again under another column
        # mapping) and its DuckDB tables. "Remove the files" (--remove) or closing the tab frees them.
        removed = None
        if args.remove:
            page.get_by_role("button", name="Remove the files").click()
            page.get_by_text("Sample data: synthetic patients").wait_for(timeout=120_000)
            wait_idle(page)
            time.sleep(3)
            removed = rss_mb(server.pid)
        page.close()
        time.sleep(5)
        closed = rss_mb(server.pid)
        browser.close()
    peak = max(sampler.peak, hwm)
    allowed = before + args.bound * size_mb
    if args.timeline:
        print("server RSS every 0.5 s from the upload (MB):")
        marks = {"upload answered": uploaded[0] if uploaded else None, "drawn": drawn}
        step, line = 0.0, []
        for t, mb in sampler.samples:
            if t >= step:
                line.append(f"{t:.1f}s {mb:.0f}")
                step += 0.5
        print("  " + ", ".join(line))
        print("  " + "; ".join(f"{name} at {t:.1f} s" for name, t in marks.items() if t is not None)
              + f"; peak {sampler.peak:.0f} MB at {max(sampler.samples, key=lambda s: s[1])[0]:.1f} s")
    print(f"file: {path.name}, {size_mb:.0f} MB")
    print(f"upload to drawn dashboard: {drawn:.1f} s; tiles: {tiles}")
    print(f"server RSS: {before:.0f} MB before the upload, peak {max(sampler.peak, hwm):.0f} MB "
          f"(polled {sampler.peak:.0f}, VmHWM {hwm:.0f}), {after:.0f} MB kept after it was drawn"
          + (f", {removed:.0f} MB after 'Remove the files'" if removed is not None else "")
          + f", {closed:.0f} MB 5 s after the tab was closed")
    print(f"peak above the idle server: {peak - before:.0f} MB = {(peak - before) / size_mb:.2f}x the file's size "
          f"(bound: {args.bound:g}x = {args.bound * size_mb:.0f} MB)")
    if peak > allowed:
        print(f"FAIL: the peak {peak:.0f} MB is above {allowed:.0f} MB (idle {before:.0f} MB + {args.bound:g}x the file)")
        sys.exit(1)
    print("ok: within the bound")


if __name__ == "__main__":
    main()
