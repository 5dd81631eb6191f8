"""What each column of an export means: recognised from its header, or set by a mapping file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dashboard.core.measures import BUILTIN, Measure, measure_for_header, normalise_header

# Canonical column -> header spellings seen in EHR exports (compared after normalise_header).
CANONICAL_ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": (
        "patientid", "patient", "patientnumber", "patientno", "mrn", "medicalrecordnumber", "clientid",
        "client", "clientnumber", "personid", "subjectid", "subject", "usubjid", "chartnumber", "ptid",
    ),
    "session_date": (
        "sessiondate", "date", "dateofservice", "dos", "servicedate", "visitdate", "appointmentdate",
        "apptdate", "encounterdate", "dateofvisit", "treatmentdate", "infusiondate",
    ),
    "session_type": (
        "sessiontype", "visittype", "encountertype", "appointmenttype", "appttype", "type", "servicetype",
        "visitcategory",
    ),
    "infusion_number": (
        "infusionnumber", "infusion", "infusionno", "infusioncount", "infusionnum", "sessionnumber",
        "treatmentnumber", "dosenumber",
    ),
    "site": ("site", "clinic", "location", "clinicsite", "facility"),
    "provider": ("provider", "clinician", "physician", "prescriber", "renderingprovider"),
    "route": ("route", "administrationroute", "routeofadministration"),
    "kap": ("kap", "ketamineassistedpsychotherapy", "psychotherapy", "withpsychotherapy", "kapsession"),
    "sex": ("sex", "gender", "sexatbirth"),
    "age": ("age", "ageyears", "ageatstart", "ageatbaseline"),
    "diagnosis": ("diagnosis", "dx", "primarydiagnosis"),
    "planned_infusions": ("plannedinfusions", "planned", "plannedseries", "plannedsessions"),
    "discontinuation_reason": (
        "discontinuationreason", "reasonfordiscontinuation", "dropoutreason", "stopreason", "reasonstopped",
    ),
}
LONG_MEASURE_ALIASES = ("measure", "instrument", "scale", "questionnaire", "assessment", "measurename")
LONG_SCORE_ALIASES = ("score", "value", "result", "totalscore", "total")

REQUIRED = ("patient_id", "session_date")
DIMENSIONS = ("site", "provider", "route", "kap", "sex", "age", "diagnosis", "planned_infusions", "discontinuation_reason")
ROLE_NAMES = {
    "patient_id": "patient id",
    "session_date": "session date",
    "session_type": "session type",
    "infusion_number": "infusion number",
    "measure": "measure name (long layout)",
    "score": "score (long layout)",
}


class MappingError(ValueError):
    """Required columns that could not be recognised; the message names them and the headers found."""


@dataclass
class Mapping:
    """A saved column mapping: header text -> canonical column, measure name or dimension name."""

    columns: dict[str, str] = field(default_factory=dict)
    session_types: dict[str, str] = field(default_factory=dict)  # raw value -> baseline/infusion/follow_up
    date_style: str = "auto"

    def to_json(self) -> str:
        return json.dumps(
            {"columns": self.columns, "session_types": self.session_types, "date_style": self.date_style}, indent=2
        )

    @classmethod
    def from_json(cls, text: str) -> "Mapping":
        try:
            data = json.loads(text)
            mapping = cls(
                columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
                session_types={str(k): str(v) for k, v in data.get("session_types", {}).items()},
                date_style=str(data.get("date_style", "auto")),
            )
        except (ValueError, AttributeError, TypeError):
            raise MappingError(
                'The mapping file is not valid. Expected JSON like {"columns": {"Pt Ref": "patient_id"}}.'
            ) from None
        if mapping.date_style not in ("auto", "iso", "us", "eu"):
            raise MappingError("The mapping file's date_style must be auto, iso, us or eu.")
        return mapping


@dataclass
class ColumnPlan:
    """The role of each column of one file. Columns are referred to by index."""

    roles: dict[int, str]  # index -> patient_id / session_date / session_type / infusion_number / measure / score
    measures: dict[int, str]  # index -> measure name (wide layout)
    dimensions: dict[int, str]  # index -> dimension name (canonical or the header as written)
    how: dict[int, str]  # index -> "by name", "by mapping file"

    @property
    def layout(self) -> str:
        return "long" if "measure" in self.roles.values() else "wide"

    def index_of(self, role: str) -> int | None:
        return next((i for i, r in self.roles.items() if r == role), None)

    def describe(self, headers: list[str], measures: dict[str, Measure]) -> list[tuple[str, str, str]]:
        """(header, meaning, how) for each column, for the 'what we read' summary."""
        out = []
        for i, header in enumerate(headers):
            if i in self.roles:
                meaning = ROLE_NAMES[self.roles[i]]
            elif i in self.measures:
                meaning = f"score: {measures[self.measures[i]].label}"
            elif i in self.dimensions:
                meaning = f"dimension: {self.dimensions[i]}"
            else:
                meaning = "ignored (repeats a column already used)"
            out.append((header, meaning, self.how.get(i, "")))
        return out


def plan_columns(headers: list[str], measures: dict[str, Measure], mapping: Mapping | None = None) -> ColumnPlan:
    """Decide each column's role; raise MappingError naming what is missing."""
    plan = ColumnPlan({}, {}, {}, {})
    overrides = {normalise_header(k): v for k, v in (mapping.columns if mapping else {}).items()}
    taken: set[str] = set()
    for i, header in enumerate(headers):
        key = normalise_header(header)
        target, how = (overrides[key], "by mapping file") if key in overrides else (_recognise(key, measures), "by name")
        if target is None:
            plan.dimensions[i] = header
            plan.how[i] = "kept as a dimension"
            continue
        target_key = normalise_header(target)
        canonical = next((c for c in (*CANONICAL_ALIASES, "measure", "score") if normalise_header(c) == target_key), None)
        measure = measure_for_header(target, measures) if canonical is None else None
        if canonical in ROLE_NAMES and canonical not in taken:
            plan.roles[i] = canonical
        elif measure and measure not in taken:
            plan.measures[i] = measure
        elif canonical in DIMENSIONS and canonical not in taken:
            plan.dimensions[i] = canonical
        elif canonical is None and measure is None:
            plan.dimensions[i] = target  # a mapping file naming a dimension
        elif canonical == "patient_id":
            # A second patient id column (say MRN beside Patient ID) is not made a dimension:
            # patient ids never appear in filters, charts or groups (docs/METHODS.md 15).
            plan.how[i] = "not used: a second patient id column"
            continue
        else:
            # A second column for a role already filled is kept, as a dimension, not dropped.
            plan.dimensions[i] = f"{header} (column {i + 1})"
            plan.how[i] = "kept as a dimension: the role is taken by an earlier column"
            continue
        taken.add(canonical or measure or target)
        plan.how[i] = how
    roles = set(plan.roles.values())
    if ("measure" in roles) != ("score" in roles):
        # Only a pair makes a long layout; a lone "Score" or "Assessment" column is a dimension.
        lone = next(i for i, r in plan.roles.items() if r in ("measure", "score"))
        if plan.how[lone] == "by name":
            plan.dimensions[lone] = headers[lone]
            plan.how[lone] = "kept as a dimension"
            del plan.roles[lone]
    _check_required(plan, headers)
    return plan


def known_header(text: str) -> bool:
    """Whether a cell reads as a column name ingest recognises (a role or a built-in measure)."""
    return _recognise(normalise_header(text), BUILTIN) is not None


def _recognise(key: str, measures: dict[str, Measure]) -> str | None:
    for canonical, aliases in CANONICAL_ALIASES.items():
        if key == normalise_header(canonical) or key in aliases:
            return canonical
    if key in LONG_MEASURE_ALIASES:
        return "measure"
    if key in LONG_SCORE_ALIASES:
        return "score"
    return measure_for_header(key, measures)


def _check_required(plan: ColumnPlan, headers: list[str]) -> None:
    roles = set(plan.roles.values())
    missing = [ROLE_NAMES[r] for r in REQUIRED if r not in roles]
    if "measure" in roles and "score" not in roles:
        missing.append("score (a long export has a measure column and a score column)")
    if not plan.measures and "measure" not in roles:
        missing.append("at least one score column (e.g. PHQ-9, GAD-7, MADRS)")
    if missing:
        examples = {
            "patient id": "'patient_id', 'Patient ID', 'MRN' or 'Client ID'",
            "session date": "'session_date', 'Date of Service', 'DOS' or 'Visit Date'",
        }
        wanted = "; ".join(f"{m} (a header like {examples[m]})" if m in examples else m for m in missing)
        found = ", ".join(f"'{_shown(h)}'" for h in headers[:30]) + (" ..." if len(headers) > 30 else "")
        raise MappingError(
            f"Could not recognise these columns: {wanted}. The file's headers are: {found}. "
            "Name these columns with a column mapping (the app's mapping step, or a mapping file given with "
            "--map on the command line)."
        )


def _shown(header: str) -> str:
    """A header as a message quotes it: on one line, and not too long to read."""
    text = " ".join(header.split())
    return text if len(text) <= 60 else text[:57] + "..."
