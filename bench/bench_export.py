"""Benchmark: the export CLI on a large visit file against a bare DuckDB aggregate over the same file.

    python bench/bench_export.py [--patients 150000] [--file PATH] [--repeat 3]

Both run in fresh Python processes, in the same run, on the same file; the export is reported as
a ratio to the bare aggregate (goal: at most 4x), with each process's peak memory (goal for the
export: under 1.5 GB). Without --file, the sample generator writes the file first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import duckdb, resource, sys
duckdb.sql("select count(*), count(distinct patient_id), avg(phq9) from read_csv($f)", params={"f": sys.argv[1]}).fetchall()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
EXPORT = """
import resource, sys
from dashboard.export import main
code = main([sys.argv[1], "--out", sys.argv[2]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def timed(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a fresh Python process running `code`."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(done.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="an existing visit CSV (default: generate one)")
    parser.add_argument("--patients", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_"))
    path = args.file
    if path is None:
        path = work / "visits.csv"
        subprocess.run([sys.executable, str(ROOT / "sample_data" / "generate.py"), "--patients", str(args.patients),
                        "--out", str(path)], check=True)
    rows = sum(1 for _ in path.open("rb")) - 1
    print(f"file: {path} ({rows:,} rows, {path.stat().st_size / 1e6:.0f} MB)")
    bare, export = [], []
    for i in range(args.repeat):  # interleaved, so both see the same machine state
        bare.append(timed(BARE, str(path)))
        export.append(timed(EXPORT, str(path), str(work / f"out{i}")))
    bare_s = statistics.median(s for s, _ in bare)
    export_s = statistics.median(s for s, _ in export)
    print(f"bare DuckDB aggregate: {bare_s:.2f} s (median of {args.repeat}), peak {max(m for _, m in bare):.0f} MB")
    print(f"export CLI:            {export_s:.2f} s (median of {args.repeat}), peak {max(m for _, m in export):.0f} MB")
    print(f"ratio export / bare:   {export_s / bare_s:.2f}x")


if __name__ == "__main__":
    main()
