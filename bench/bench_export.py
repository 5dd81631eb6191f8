"""Benchmark: the export CLI on a large visit file against a bare DuckDB aggregate over the same file.

    python bench/bench_export.py [--patients 150000] [--file PATH] [--repeat 3]

Both run in fresh Python processes (the export as `python -m dashboard.export`), interleaved, in
the same run, on the same file; the export's median wall time is reported as a ratio to the bare
aggregate's (goal: at most 4x), with the CPU times (steadier on a shared machine) and each
process's peak memory (goal for the export: under 1.5 GB). Without --file, the sample generator
writes the file first. The dashboard package's bytecode is compiled first, as an installed
package's is: where PYTHONDONTWRITEBYTECODE is set (as on the development machine), Python would
otherwise compile it from source in every run, which DuckDB's own, installed, modules never are.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import duckdb, sys
duckdb.sql("select count(*), count(distinct patient_id), avg(phq9) from read_csv($f)", params={"f": sys.argv[1]}).fetchall()
"""


def timed(*command: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident memory (MB) of a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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
    compileall.compile_dir(ROOT / "dashboard", quiet=1)
    rows = sum(1 for _ in path.open("rb")) - 1
    print(f"file: {path} ({rows:,} rows, {path.stat().st_size / 1e6:.0f} MB)")
    bare, export = [], []
    for i in range(args.repeat):  # interleaved, so both see the same machine state
        bare.append(timed(sys.executable, "-c", BARE, str(path)))
        export.append(timed(sys.executable, "-m", "dashboard.export", str(path), "--out", str(work / f"out{i}")))
    for name, runs in (("bare DuckDB aggregate", bare), ("export CLI", export)):
        print(f"{name + ':':22} {statistics.median(w for w, _, _ in runs):.2f} s (median of {args.repeat}), "
              f"CPU {statistics.median(c for _, c, _ in runs):.2f} s, peak {max(m for _, _, m in runs):.0f} MB")
    wall = statistics.median(w for w, _, _ in export) / statistics.median(w for w, _, _ in bare)
    cpu = statistics.median(c for _, c, _ in export) / statistics.median(c for _, c, _ in bare)
    print(f"ratio export / bare:   {wall:.2f}x (CPU time {cpu:.2f}x)")


if __name__ == "__main__":
    main()
