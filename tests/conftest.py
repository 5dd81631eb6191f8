"""Shared helpers: load fixture files through the real ingest and compute metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.core import db  # noqa: E402
from dashboard.core.settings import Settings  # noqa: E402
from dashboard.engine.metrics import Cohort, Engine, MetricTables  # noqa: E402
from dashboard.ingest import Dataset, load  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = ROOT / "tests" / "data"  # real data for tests, with its provenance (tests/data/README.md)


def load_files(*files: tuple[str, bytes], **kwargs) -> Dataset:
    return load(db.connect(), list(files), **kwargs)


def load_fixture(*names: str, **kwargs) -> Dataset:
    return load_files(*[(name, (FIXTURES / name).read_bytes()) for name in names], **kwargs)


def metrics_for(dataset: Dataset, cohort: Cohort | None = None, **settings) -> MetricTables:
    return Engine(dataset).compute(Settings(**settings), cohort)


def column(frame, name, grp="All patients"):
    """One column of a metric table as a plain list, for one group."""
    values = frame.loc[frame["grp"] == grp, name].tolist()
    return [None if v is None or v != v else v for v in values]


@pytest.fixture
def fixture_metrics():
    def compute(name: str, **settings) -> MetricTables:
        return metrics_for(load_fixture(name), **settings)

    return compute


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module (the browser tests)."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
