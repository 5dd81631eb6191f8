"""Benchmark: the server's memory when a browser uploads a large export.

    python bench/bench_upload_memory.py FILE
    python bench/bench_upload_memory.py --patients 350000      # generates a ~200 MB export first

Starts `streamlit run` on loopback, opens the dashboard in headless Chromium (Playwright), waits
for the sample data, uploads FILE through the file uploader (set_input_files, as a user's
browser sends it), waits until the dashboard has drawn the uploaded data, and reports the
server's resident memory: before the upload, its peak (polled every 20 ms over the process
tree, and the kernel's VmHWM high-water mark), what it keeps once the upload is drawn, and after
the tab is closed (with --remove: after "Remove the files" first).
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
        with RssSampler(server.pid) as sampler:
            start = time.perf_counter()
            page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
            try:
                page.get_by_text("Your data: 1 file").wait_for(timeout=900_000)
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
    print(f"file: {path.name}, {size_mb:.0f} MB")
    print(f"upload to drawn dashboard: {drawn:.1f} s; tiles: {tiles}")
    print(f"server RSS: {before:.0f} MB before the upload, peak {max(sampler.peak, hwm):.0f} MB "
          f"(polled {sampler.peak:.0f}, VmHWM {hwm:.0f}), {after:.0f} MB kept after it was drawn"
          + (f", {removed:.0f} MB after 'Remove the files'" if removed is not None else "")
          + f", {closed:.0f} MB 5 s after the tab was closed")


if __name__ == "__main__":
    main()
