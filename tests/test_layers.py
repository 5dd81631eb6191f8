"""The package's shape (README, "How the code is laid out"): five layers, each importing only from
itself and the layers below it, no import circles, and Streamlit only in ui/ and the entry points.

    entry points  dashboard/app.py, export.py, serve.py, local_server.py
    ui/           draws with Streamlit
    present/      tables into words, charts and the report
    engine/       numbers in, tables out
    ingest/       files into one table of visits
    core/         the DuckDB connection, the SQL loader, measures and settings

Read from the source (ast), nothing is imported or run."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "dashboard"
LAYERS = ["core", "ingest", "engine", "present", "ui"]  # lowest first
ENTRY = len(LAYERS)  # the top-level modules


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else ENTRY


def imports(path: Path) -> set[str]:
    """The modules of the package (and 'streamlit') that `path` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # `from dashboard.ui import panels`
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in known and m != "dashboard"} | {m for m in found if m.split(".")[0] == "streamlit"}


GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def test_the_package_has_its_layers():
    for name in LAYERS:
        assert (PACKAGE / name / "__init__.py").exists(), name
    loose = sorted(module_name(p) for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == ["dashboard.app", "dashboard.export", "dashboard.local_server", "dashboard.serve"], loose


def test_no_layer_imports_from_a_layer_above_it():
    upward = [(m, i) for m, found in GRAPH.items() for i in found
              if i.startswith("dashboard.") and layer(i) > layer(m)]
    assert not upward, upward


def test_streamlit_only_in_the_ui_and_the_entry_points():
    drawn = [m for m, found in GRAPH.items() if any(i.split(".")[0] == "streamlit" for i in found)
             and layer(m) < LAYERS.index("ui")]
    assert not drawn, drawn


def test_no_import_circles():
    edges = {m: {i for i in found if i in GRAPH and i != m and not i.endswith("__init__")} for m, found in GRAPH.items()}
    done, path, circles = set(), [], []

    def visit(m):
        if m in path:
            circles.append(path[path.index(m):] + [m])
            return
        if m in done:
            return
        path.append(m)
        for n in sorted(edges.get(m, ())):
            visit(n)
        path.pop()
        done.add(m)

    for m in sorted(edges):
        visit(m)
    assert not circles, circles
