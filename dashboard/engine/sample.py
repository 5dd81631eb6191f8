"""The synthetic export the dashboard opens by default (sample_data/), named in one place: every
screen and report made from it must say that its patients are not real."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "ketamine_clinic_export.csv"


def is_sample(paths) -> bool:
    """True when the inputs are the bundled sample alone."""
    paths = list(paths)
    return len(paths) == 1 and Path(paths[0]).resolve() == SAMPLE
