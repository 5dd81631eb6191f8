"""DuckDB connections for patient data: bounded resources, no extensions fetched, and no file
access once the exports have been read.

Each browser session (and each CLI run) has an in-memory database of its own, so these limits
are per session. The defaults suit a small server (a few GB of memory, two cores, a handful of
users); set them with environment variables:

    DASHBOARD_DUCKDB_MEMORY     memory limit of one session's database (default: a quarter of the
                                machine's memory, at most 2GB; for a session reading uploads,
                                twice their size, at least 256MB, within that: see
                                upload_memory_limit); beyond it DuckDB spills to the
                                temporary directory, or stops the query
    DASHBOARD_DUCKDB_THREADS    threads one query may use (default: 2, or 1 on a one-core machine,
                                for a browser session, as sessions share the server; a CLI run has
                                the machine to itself and uses every core, DuckDB's default)
    DASHBOARD_DUCKDB_TEMP       where spilled data goes (default: this process's run directory, below)
    DASHBOARD_DUCKDB_TEMP_SIZE  the most one session may spill (default 4GB)
    DASHBOARD_PRIVATE_DIR       where the dashboard keeps patient data on disk: DuckDB's spill files
                                and the uploads a session holds (default: the user's
                                cache, ~/.cache/ketamine-dashboard, or $XDG_CACHE_HOME; mode 0700).
                                Each process works in a run directory of its own in it, removed
                                when it exits; one left by a process that no longer runs (killed,
                                crashed) is removed when the next one starts (see run_directory).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import stat
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
# A browser session reading uploads: DuckDB's memory limit per byte uploaded, and its least
# (upload_memory_limit).
UPLOAD_MEMORY_FACTOR = 2.0
UPLOAD_MEMORY_FLOOR = 256

_temp_lock = threading.Lock()
_run_dir: str | None = None
# A run directory's name: run-<host>-<process id>-<random>. Only such names are ever removed.
_RUN_NAME = re.compile(r"run-(?P<host>[A-Za-z0-9_.-]+)-(?P<pid>[0-9]+)-[a-z0-9_]{8}")


class PrivateDirectoryError(RuntimeError):
    """The private directory is not this user's alone (another owner, a link, open to others)."""


def private_directory() -> str:
    """DASHBOARD_PRIVATE_DIR, or ketamine-dashboard in the user's cache: made with mode 0700 if
    missing; refused if it is a link, or belongs to another user; made this user's only if open
    to others. Without a home directory to write to, a directory of this user's own in the
    system's temporary directory (ketamine-dashboard-<uid>), checked the same way."""
    if configured := os.environ.get("DASHBOARD_PRIVATE_DIR"):
        return _own_directory(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        os.makedirs(cache, mode=0o700, exist_ok=True)
        return _own_directory(os.path.join(cache, "ketamine-dashboard"))
    except OSError:
        return _own_directory(os.path.join(tempfile.gettempdir(), f"ketamine-dashboard-{os.getuid()}"))


def _own_directory(path: str) -> str:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise PrivateDirectoryError(f"{path} is not a directory (a link or a file): patient data is not kept there")
    if info.st_uid != os.getuid():
        raise PrivateDirectoryError(f"{path} belongs to another user: patient data is not kept there")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def run_directory() -> str:
    """This process's own directory in the private directory: DuckDB's spill files (unless
    DASHBOARD_DUCKDB_TEMP says otherwise) and the uploads sessions hold go there. Removed when the process
    exits; when it is first made, run directories left by processes of this user on this machine
    that no longer run (a server killed with kill -9, or crashed) are removed (remove_stale_runs)."""
    global _run_dir
    with _temp_lock:
        if _run_dir is None or not os.path.isdir(_run_dir):
            base = private_directory()
            remove_stale_runs(base)
            host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"
            _run_dir = tempfile.mkdtemp(prefix=f"run-{host}-{os.getpid()}-", dir=base)  # mode 0700
            atexit.register(shutil.rmtree, _run_dir, True)
        return _run_dir


def remove_stale_runs(base: str) -> list[str]:
    """Remove the run directories in `base` that an earlier process left: named as run_directory
    names them, for this machine, owned by this user, and whose process is no longer running.
    Anything else in `base` is left alone. Returns the paths removed."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"
    removed = []
    for entry in os.scandir(base):
        match = _RUN_NAME.fullmatch(entry.name)
        if not match or match["host"] != host or int(match["pid"]) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or _running(int(match["pid"])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not one of ours, but running
        return True
    return True


def temp_directory() -> str:
    """Where sessions spill: DASHBOARD_DUCKDB_TEMP, or this process's run directory.

    DuckDB names its spill files per database, so sessions can share it."""
    if configured := os.environ.get("DASHBOARD_DUCKDB_TEMP"):
        return configured
    return run_directory()


def upload_memory_limit(size: int) -> str:
    """The memory limit of a browser session's database for uploads of `size` bytes together:
    UPLOAD_MEMORY_FACTOR times their size, at least UPLOAD_MEMORY_FLOOR, at most MEMORY_LIMIT.
    Past it DuckDB keeps the session's tables in its spill files (temp_directory) rather than in
    memory, so that a 200 MB upload stays under three times its size above the idle server
    (bench_upload_memory.py), at some cost in time. DASHBOARD_DUCKDB_MEMORY, when set, is the
    limit whatever the size."""
    if os.environ.get("DASHBOARD_DUCKDB_MEMORY"):
        return MEMORY_LIMIT
    mb = max(UPLOAD_MEMORY_FLOOR, int(UPLOAD_MEMORY_FACTOR * size / 2**20))
    return f"{min(mb, _megabytes(MEMORY_LIMIT))}MB"


def limit_memory(con: duckdb.DuckDBPyConnection, upload_bytes: int) -> None:
    """Set a browser session's memory limit for the uploads it reads (upload_memory_limit)."""
    con.execute(f"SET memory_limit = '{upload_memory_limit(upload_bytes)}'")


def _megabytes(limit: str) -> int:
    """A DuckDB memory size ('2048MB', '1GB', '1.5 GB') in MB (MB and GB as DuckDB reads them:
    powers of 1024 for MiB/GiB, of 1000 for MB/GB, alike enough here)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]i?B?)?\s*", limit, re.I)
    if not match:
        return 2048
    unit = (match[2] or "MB")[0].upper()
    return int(float(match[1]) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}[unit])


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
