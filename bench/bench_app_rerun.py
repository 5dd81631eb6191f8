"""Benchmark: server time of a dashboard rerun after a filter change, with a large file loaded.

    python bench/bench_app_rerun.py FILE

Runs the real app script through streamlit.testing's AppTest (the same code a browser session
runs, without the network and the browser's drawing), uploads FILE, then changes the site filter
a few times and reports each rerun's wall time.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def main(path: str) -> None:
    at = AppTest.from_file(APP, default_timeout=600).run()
    start = time.perf_counter()
    at.sidebar.file_uploader[0].set_value((Path(path).name, Path(path).read_bytes(), "text/csv"))
    at.run()
    print(f"upload and first draw: {time.perf_counter() - start:.1f} s; tiles: {[m.value for m in at.metric]}")
    options = at.multiselect(key="filter_site").options
    times = []
    for choice in [options[:1], options[1:2], options[:2], [], options[2:3], []] * 2:
        t = time.perf_counter()
        at.multiselect(key="filter_site").set_value(choice).run()
        times.append(time.perf_counter() - t)
    print(f"rerun after a filter change: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} changes")


if __name__ == "__main__":
    main(sys.argv[1])
