"""Benchmark: the export CLI on a large visit file against a bare DuckDB aggregate over the same file.

    python bench/bench_export.py [--rows 1000000 2900000] [--narrow | --both] [--repeat 3] [--bound 3]
    python bench/bench_export.py --file PATH [--narrow] [--phases]

Both run in fresh Python processes (the export as `python -m dashboard.export`), interleaved, in
the same run, on the same file; the export's median wall time is reported as a ratio to the bare
aggregate's, with the CPU times (steadier on a shared machine) and each process's peak memory.
The bound (issue 16.15): the export takes at most --bound times the bare aggregate (default 3),
at every size up to the row limit, narrow or wide; above it for any file, the benchmark says so
and exits 1.

Files: without --file, the sample generator writes one per --rows (its first N visit rows; the
generator's 16 columns: "wide"). --narrow cuts each file to 9 columns (patient id, date, session
type, infusion number, PHQ-9, GAD-7, site, provider, sex), as a clinic's narrower export would be;
--both measures the wide file and its narrow cut. The dashboard package's bytecode is compiled
first, as an installed package's is: where PYTHONDONTWRITEBYTECODE is set (as on the development
machine), Python would otherwise compile it from source in every run, which DuckDB's own,
installed, modules never are.

With --phases, a third command is timed alongside: the export's ingest alone (the file read, checked
and parsed into the tables the metrics read, as the export loads it), so that the export's time
splits into ingest and metrics (the export less its ingest), each as a ratio to the bare aggregate.

The bare aggregate reads with ignore_errors: the generator's deliberately bad rows ("n/a?" as a
score) lie past DuckDB's type-sniffing sample in a large file, where a plain read_csv stops with a
conversion error; skipping them costs the bare aggregate nothing measurable (0.98x on a million rows).
"""

from __future__ import annotations

import argparse
import compileall
import math
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
duckdb.sql("select count(*), count(distinct patient_id), avg(phq9) from read_csv($f, ignore_errors = true)",
           params={"f": sys.argv[1]}).fetchall()
"""
# The export's ingest alone: dashboard.export.main up to the metrics (the same load call).
INGEST = """
import sys
from dashboard.core import db
from dashboard.ingest import load
load(db.connect(threads=db.CLI_THREADS), [("visits.csv", None, sys.argv[1])], dimensions={"planned_infusions"},
     score_measures={"phq9"})
"""
NARROW = ["patient_id", "session_date", "session_type", "infusion_number", "phq9", "gad7", "site", "provider", "sex"]
ROWS_PER_PATIENT = 7.0  # the generator's visits per patient (7.03)


def timed(*command: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident memory (MB) of a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def generated(work: Path, rows: int) -> Path:
    """The generator's first `rows` visit rows (header kept, lines as written)."""
    path = work / f"visits_{rows}.csv"
    full = work / f"generated_{rows}.csv"
    subprocess.run([sys.executable, str(ROOT / "sample_data" / "generate.py"), "--patients",
                    str(math.ceil(rows / ROWS_PER_PATIENT) + 10), "--out", str(full)], check=True,
                   stdout=subprocess.DEVNULL)
    with open(full, "rb") as src, open(path, "wb") as out:
        for i, line in enumerate(src):
            if i > rows:
                break
            out.write(line)
    full.unlink()
    return path


CUT = """
import duckdb, sys
columns = ", ".join(f'"{c}"' for c in sys.argv[3].split(","))
duckdb.sql(f"COPY (SELECT {columns} FROM read_csv($f, all_varchar = true, header = true)) TO '{sys.argv[2]}' "
           "(HEADER, DELIMITER ',')", params={"f": sys.argv[1]})
"""


def narrow_cut(path: Path, work: Path) -> Path:
    """The file cut to the NARROW columns, every value written as it was (read and written as
    text), in a process of its own (this one stays small: a child's peak memory counts its parent's)."""
    out = work / f"{path.stem}_narrow.csv"
    subprocess.run([sys.executable, "-c", CUT, str(path), str(out), ",".join(NARROW)], check=True)
    return out


def measure(path: Path, label: str, repeat: int, work: Path, phases: bool = False) -> float:
    rows = sum(1 for _ in path.open("rb")) - 1
    print(f"\n{label}: {path.name} ({rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, "
          f"{len(path.open().readline().split(','))} columns)")
    bare, export, ingest = [], [], []
    for i in range(repeat):  # interleaved, so both see the same machine state
        bare.append(timed(sys.executable, "-c", BARE, str(path)))
        export.append(timed(sys.executable, "-m", "dashboard.export", str(path), "--out", str(work / f"out{i}")))
        if phases:
            ingest.append(timed(sys.executable, "-c", INGEST, str(path)))
    measured = [("bare DuckDB aggregate", bare), ("export CLI", export)] + ([("its ingest alone", ingest)] if phases else [])
    for name, runs in measured:
        print(f"  {name + ':':22} {statistics.median(w for w, _, _ in runs):.2f} s (median of {repeat}), "
              f"CPU {statistics.median(c for _, c, _ in runs):.2f} s, peak {max(m for _, _, m in runs):.0f} MB")
    wall = statistics.median(w for w, _, _ in export) / statistics.median(w for w, _, _ in bare)
    cpu = statistics.median(c for _, c, _ in export) / statistics.median(c for _, c, _ in bare)
    print(f"  ratio export / bare:   {wall:.2f}x (CPU time {cpu:.2f}x)")
    if phases:
        base, whole, part = (statistics.median(w for w, _, _ in runs) for runs in (bare, export, ingest))
        print(f"  of which ingest:       {part / base:.2f}x; metrics and files (export less ingest): "
              f"{(whole - part) / base:.2f}x")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="an existing visit CSV (default: generate one per --rows)")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="visit rows of each generated file (default 1000000; the row limit is 3000000)")
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--narrow", action="store_true", help="cut each file to 9 columns")
    layout.add_argument("--both", action="store_true", help="measure each file wide and cut to 9 columns")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phases", action="store_true", help="also time the export's ingest alone")
    parser.add_argument("--bound", type=float, default=3.0, help="the most export / bare may be (default %(default)s)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_"))
    compileall.compile_dir(ROOT / "dashboard", quiet=1)
    files = [args.file] if args.file else [generated(work, rows) for rows in args.rows]
    ratios = {}
    for path in files:
        if not args.narrow:
            ratios[f"{path.name}, wide"] = measure(path, "wide", args.repeat, work, args.phases)
        if args.narrow or args.both:
            cut = narrow_cut(path, work)
            ratios[f"{path.name}, narrow"] = measure(cut, "narrow", args.repeat, work, args.phases)
    over = {name: ratio for name, ratio in ratios.items() if ratio > args.bound}
    print(f"\nbound: export / bare at most {args.bound:g}x; "
          + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items()))
    if over:
        print("FAIL: above the bound: " + ", ".join(f"{name} ({ratio:.2f}x)" for name, ratio in over.items()))
        sys.exit(1)
    print("ok: within the bound")


if __name__ == "__main__":
    main()
