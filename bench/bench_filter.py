"""Benchmark: how long the metrics take to recompute after a filter change on a loaded file.

    python bench/bench_filter.py FILE

Loads FILE once (as the app does), prepares the default settings, then times Engine.compute for
a run of filter changes (site, KAP, split by route...), each on the already-loaded data: the
server-side work of a dashboard redraw, without drawing. Then the same with "compare by" on, as
the app asks for it on every rerun: the tiles' tables for the whole selection and the open tab's
tables for the split one, after a filter change and on a rerun that changed neither (another tab,
a toggle).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.core.settings import Settings  # noqa: E402
from dashboard.engine.metrics import Cohort, Engine  # noqa: E402
from dashboard.ingest import load  # noqa: E402

# What the app computes on a rerun (dashboard/app.py): the tiles' tables, and the open tab's.
TILE_TABLES = {"summary", "response", "durability"}
TAB_TABLES = [{"response"}, {"late_response"}, {"dropout", "dropout_detail"}, {"response"}]


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)}"


def main(path: str) -> None:
    start = time.perf_counter()
    dataset = load(duckdb.connect(), [(Path(path).name, Path(path).read_bytes())])
    engine = Engine(dataset)
    engine.compute(Settings())
    print(f"load and first compute: {time.perf_counter() - start:.2f} s")
    # Filters never chosen before (each a real filter change), split or not; then the same again.
    values = dataset.dimension_values()
    filters = [{dim: [value]} for dim in ("site", "kap", "route", "sex") for value in values.get(dim, [])[:3]]
    cohorts = [Cohort.of(f, split_by=split) for f in filters for split in ("", "route")]
    first, again = [], []
    for times in (first, again):
        for cohort in cohorts:
            t = time.perf_counter()
            engine.compute(Settings(), cohort)
            times.append(time.perf_counter() - t)
    print(f"filter change: {ms(first)} changes; back to an earlier filter: {ms(again)}")

    # Compare by: every rerun computes two cohorts, the whole selection and the split one.
    changed, unchanged = [], []
    for f in filters:
        split, whole = Cohort.of(f, split_by="kap"), Cohort.of(f)
        for i, tables in enumerate(TAB_TABLES):
            t = time.perf_counter()
            engine.compute(Settings(), whole, TILE_TABLES)
            engine.compute(Settings(), split, tables)
            (changed if i == 0 else unchanged).append(time.perf_counter() - t)
    print(f"compare by, rerun after a filter change: {ms(changed)} reruns")
    print(f"compare by, rerun with the same filters (another tab, a toggle): {ms(unchanged)} reruns")

    t = time.perf_counter()
    engine.compute(Settings(score_timing="post"))
    print(f"setting change (score timing, rebuilds series): {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
