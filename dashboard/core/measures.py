"""The rating scales the dashboard knows (docs/METHODS.md 1, "Measures"), and measures files that add more."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    name: str  # canonical key, e.g. "phq9"
    label: str  # what a clinician reads, e.g. "PHQ-9"
    low: float
    high: float
    lower_is_better: bool
    remission_cutoff: float | None  # remission when score <= this
    min_baseline: float | None  # start of the moderate band
    domain: str = ""  # mood, anxiety, sleep, well-being
    aliases: tuple[str, ...] = field(default=())
    # Routine outcome monitoring (docs/METHODS.md 8): a score at or above `caseness` is a clinical case;
    # a change of at least `reliable_change` points is beyond measurement error. None: not declared.
    caseness: float | None = None
    reliable_change: float | None = None
    # Baseline severity bands (docs/METHODS.md 9-10): (lowest score of the band, its name), in order.
    severity: tuple[tuple[float, str], ...] = field(default=())

    def severity_bands(self) -> list[tuple[float, str]]:
        """Each band's lowest score and the name the baseline_severity dimension gives it: the
        band's name with its scores, "moderate (10-14)" (whole-number bounds) or "moderate (from
        10.5)". Empty when the measure declares no bands."""
        whole = all(float(lo).is_integer() for lo, _ in self.severity) and float(self.high).is_integer()
        out = []
        for i, (lo, name) in enumerate(self.severity):
            top = self.severity[i + 1][0] - 1 if i + 1 < len(self.severity) else self.high
            out.append((float(lo), f"{name} ({lo:g}-{top:g})" if whole else f"{name} (from {lo:g})"))
        return out


BUILTIN: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("phq9", "PHQ-9", 0, 27, True, 4, 10, "mood", ("phq", "phq9total", "phq9score"), caseness=10,
                reliable_change=6, severity=((0, "none"), (5, "mild"), (10, "moderate"), (15, "moderately severe"),
                                             (20, "severe"))),
        Measure("gad7", "GAD-7", 0, 21, True, 4, 10, "anxiety", ("gad", "gad7total", "gad7score"), caseness=8,
                reliable_change=4, severity=((0, "none"), (5, "mild"), (10, "moderate"), (15, "severe"))),
        Measure("madrs", "MADRS", 0, 60, True, 10, 20, "mood", ("madrstotal", "madrsscore"),
                severity=((0, "none"), (7, "mild"), (20, "moderate"), (35, "severe"))),
        Measure("qids", "QIDS", 0, 27, True, 5, 11, "mood", ("qidssr", "qidssr16", "qids16", "qidsc16")),
        Measure("isi", "ISI", 0, 28, True, 7, 15, "sleep", ("insomniaseverityindex", "isitotal")),
        Measure("hamd17", "HAM-D17", 0, 52, True, 7, 14, "mood", ("hamd", "hdrs", "hdrs17", "hrsd", "hrsd17", "hamilton")),
        Measure("bdi2", "BDI-II", 0, 63, True, 13, 20, "mood", ("bdiii", "bdi", "beck")),
        Measure("who5", "WHO-5", 0, 25, False, None, None, "well-being", ("who5wellbeing", "who5wellbeingindex", "who5raw")),
    ]
}


class MeasuresFileError(ValueError):
    """A measures file that can't be used; the message says why in plain words."""


def load_measures_file(text: str, base: dict[str, Measure] | None = None) -> dict[str, Measure]:
    """Return the built-in measures plus those a TOML measures file declares.

    Format, one table per measure (the numbers here only illustrate the format):

        [hama]
        label = "HAM-A"
        range = [0, 56]
        better = "lower"          # or "higher"
        remission_cutoff = 7      # optional
        min_baseline = 18         # optional
        aliases = ["HAM-A total"] # optional: other headers that mean this measure
        caseness = 18             # optional: a baseline at or above it is a clinical case
        reliable_change = 7       # optional: the smallest change in points beyond measurement error
        severity_bands = { none = 0, mild = 8, moderate = 18, severe = 25 }  # optional: each band's lowest score
    """
    measures = dict(base or BUILTIN)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MeasuresFileError(f"The measures file is not valid TOML: {exc}.") from None
    for key, spec in data.items():
        name = normalise_header(key)
        if not isinstance(spec, dict):
            raise MeasuresFileError(f"Measure '{key}' must be a table like [{key}] with label, range and better.")
        try:
            low, high = (float(v) for v in spec["range"])
            better = str(spec.get("better", "lower")).lower()
            if better not in ("lower", "higher") or low >= high:
                raise ValueError
            measures[name] = Measure(
                name=name,
                label=str(spec.get("label", key)),
                low=low,
                high=high,
                lower_is_better=better == "lower",
                remission_cutoff=_optional_float(spec.get("remission_cutoff")),
                min_baseline=_optional_float(spec.get("min_baseline")),
                domain=str(spec.get("domain", "")),
                aliases=tuple(normalise_header(a) for a in spec.get("aliases", [])),
                caseness=_optional_float(spec.get("caseness")),
                reliable_change=_optional_float(spec.get("reliable_change")),
                severity=_severity(key, spec.get("severity_bands"), low, high),
            )
            if measures[name].reliable_change is not None and measures[name].reliable_change <= 0:
                raise MeasuresFileError(f"Measure '{key}': reliable_change must be a number of points above 0.")
        except MeasuresFileError:
            raise
        except (KeyError, TypeError, ValueError):
            raise MeasuresFileError(
                f"Measure '{key}' needs range = [low, high] with low < high and better = \"lower\" or \"higher\"."
            ) from None
    return measures


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


def _severity(key: str, spec, low: float, high: float) -> tuple[tuple[float, str], ...]:
    """severity_bands = { name = lowest score, ... } as ((lowest, name), ...) in score order; the
    first band must start at the bottom of the range, so that every score has a band."""
    if spec is None:
        return ()
    if not isinstance(spec, dict) or not spec:
        raise MeasuresFileError(f"Measure '{key}': severity_bands is a table of band names and their lowest "
                                f"scores, like {{ none = 0, mild = 5 }}.")
    try:
        bands = sorted((float(v), str(name)) for name, v in spec.items())
    except (TypeError, ValueError):
        raise MeasuresFileError(f"Measure '{key}': each severity band needs a number, its lowest score.") from None
    starts = [lo for lo, _ in bands]
    if starts[0] != low or starts[-1] > high or len(set(starts)) < len(starts):
        raise MeasuresFileError(f"Measure '{key}': the severity bands must start at {low:g}, the bottom of the "
                                f"range, have different lowest scores and stay within the range.")
    return tuple(bands)


def normalise_header(text: str) -> str:
    """Header text reduced to lower-case letters and digits: 'PHQ-9 Total' -> 'phq9total'."""
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def measure_for_header(header: str, measures: dict[str, Measure]) -> str | None:
    """The measure a column header (or a long export's measure name) stands for, if any."""
    key = normalise_header(header)
    for suffix in ("totalscore", "total", "score", "sum"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key_trimmed = key[: -len(suffix)]
            break
    else:
        key_trimmed = key
    for m in measures.values():
        names = {m.name, normalise_header(m.label), *m.aliases}
        if key in names or key_trimmed in names:
            return m.name
    return None
