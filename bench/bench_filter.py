"""Benchmark: how long the metrics take to recompute after a filter change on a loaded file.

    python bench/bench_filter.py FILE

Loads FILE once (as the app does), prepares the default settings, then times Engine.compute for
a run of filter changes (site, KAP, split by route...), each on the already-loaded data: the
server-side work of a dashboard redraw, without drawing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.ingest import load  # noqa: E402
from dashboard.metrics import Cohort, Engine  # noqa: E402
from dashboard.settings import Settings  # noqa: E402


def main(path: str) -> None:
    start = time.perf_counter()
    dataset = load(duckdb.connect(), [(Path(path).name, Path(path).read_bytes())])
    engine = Engine(dataset)
    engine.compute(Settings())
    print(f"load and first compute: {time.perf_counter() - start:.2f} s")
    cohorts = [Cohort.of({"site": ["North"]}), Cohort.of({"kap": ["yes"]}), Cohort.of(split_by="route"),
               Cohort.of({"site": ["North", "Central"]}, split_by="kap"), Cohort.of()] * 3
    times = []
    for cohort in cohorts:
        t = time.perf_counter()
        engine.compute(Settings(), cohort)
        times.append(time.perf_counter() - t)
    print(f"filter change: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} changes")
    t = time.perf_counter()
    engine.compute(Settings(score_timing="post"))
    print(f"setting change (score timing, rebuilds series): {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
