"""Loads the statements in queries/ and runs them with bound parameters."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

QUERIES = Path(__file__).resolve().parents[2] / "queries"
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


@cache
def statement(name: str) -> str:
    """The SQL of queries/<name>.sql (one statement per file)."""
    return (QUERIES / f"{name}.sql").read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Run queries/<name>.sql, binding the parameters it names (and only those) from `params`."""
    sql = statement(name)
    wanted = set(_PARAM.findall(sql))
    given = params or {}
    missing = wanted - given.keys()
    if missing:
        raise KeyError(f"{name}.sql needs parameters {sorted(missing)}")
    return con.execute(sql, {k: given[k] for k in wanted}) if wanted else con.execute(sql)
