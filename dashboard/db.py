"""DuckDB connections for patient data: bounded resources, no extensions fetched, and no file
access once the exports have been read."""

from __future__ import annotations

import os
import tempfile

import duckdb

MEMORY_LIMIT = os.environ.get("DASHBOARD_DUCKDB_MEMORY", "2GB")
THREADS = int(os.environ.get("DASHBOARD_DUCKDB_THREADS", "2"))


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory database of its own (one per browser session or CLI run)."""
    return duckdb.connect(config={
        "memory_limit": MEMORY_LIMIT,
        "threads": THREADS,
        "temp_directory": os.path.join(tempfile.gettempdir(), "dashboard_duckdb_spill"),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    })


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """After ingest: no SQL run on this connection can read or write a file, or undo this."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
