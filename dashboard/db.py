"""DuckDB connections for patient data: bounded resources, no extensions fetched, and no file
access once the exports have been read.

Each browser session (and each CLI run) has an in-memory database of its own, so these limits
are per session. The defaults suit a small server (a few GB of memory, two cores, a handful of
users); set them with environment variables:

    DASHBOARD_DUCKDB_MEMORY     memory limit of one session's database (default: a quarter of the
                                machine's memory, at most 2GB); beyond it DuckDB spills to the
                                temporary directory, or stops the query
    DASHBOARD_DUCKDB_THREADS    threads one query may use (default: 2, or 1 on a one-core machine,
                                for a browser session, as sessions share the server; a CLI run has
                                the machine to itself and uses every core, DuckDB's default)
    DASHBOARD_DUCKDB_TEMP       where spilled data goes (default: a private directory, mode 0700,
                                made under the system's temporary directory for this process and
                                removed when it exits)
    DASHBOARD_DUCKDB_TEMP_SIZE  the most one session may spill (default 4GB)
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

import duckdb


def _default_memory_limit() -> str:
    """A quarter of the machine's memory, at most 2 GB (a 200 MB export needs about 1.5 GB to
    read without spilling to disk; with less it is read, more slowly)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "1GB"
    return f"{max(256, min(2048, total // 4 // 2**20))}MB"


MEMORY_LIMIT = os.environ.get("DASHBOARD_DUCKDB_MEMORY") or _default_memory_limit()
_THREADS_SET = int(os.environ["DASHBOARD_DUCKDB_THREADS"]) if os.environ.get("DASHBOARD_DUCKDB_THREADS") else None
THREADS = _THREADS_SET or min(2, os.cpu_count() or 1)
CLI_THREADS = _THREADS_SET  # None: DuckDB's own default, every core it finds
TEMP_SIZE = os.environ.get("DASHBOARD_DUCKDB_TEMP_SIZE", "4GB")

_temp_lock = threading.Lock()
_temp_dir: str | None = None


def temp_directory() -> str:
    """Where sessions spill: DASHBOARD_DUCKDB_TEMP, or one private directory for this process.

    DuckDB names its spill files per database, so sessions can share it."""
    global _temp_dir
    if configured := os.environ.get("DASHBOARD_DUCKDB_TEMP"):
        return configured
    with _temp_lock:
        if _temp_dir is None or not os.path.isdir(_temp_dir):
            _temp_dir = tempfile.mkdtemp(prefix="dashboard_duckdb_")  # mode 0700: this user only
            atexit.register(shutil.rmtree, _temp_dir, True)
        return _temp_dir


def connect(threads: int | None = THREADS) -> duckdb.DuckDBPyConnection:
    """An in-memory database of its own (one per browser session or CLI run). `threads` None
    leaves DuckDB's default (every core)."""
    return duckdb.connect(config={
        "memory_limit": MEMORY_LIMIT,
        **({"threads": threads} if threads is not None else {}),
        "temp_directory": temp_directory(),
        "max_temp_directory_size": TEMP_SIZE,
        # Give memory freed by ingest's scratch tables back to the system (otherwise a 200 MB
        # upload keeps about 1 GB more resident than its tables need; bench_upload_memory.py).
        "allocator_background_threads": True,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        # This optimizer copies every filter its readers apply to a CTE into the CTE, as one
        # disjunction that each row is tested against: in assessments.sql, which reads a million
        # scores through several CTEs, that costs more than it filters (0.32 s -> 0.27 s; no
        # other query changed by more than its noise).
        "disabled_optimizers": "cte_filter_pusher",
    })


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """After ingest: no SQL run on this connection can read or write a file, or undo this."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
