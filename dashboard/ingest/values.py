"""Reading single values the way clinics write them: session types, yes/no flags, date styles."""

from __future__ import annotations

from dashboard.measures import normalise_header

SESSION_TYPES = ("baseline", "infusion", "follow_up")

# Normalised value -> session type. Checked first, then the keyword rules below.
_TYPE_WORDS = {
    "baseline": ("baseline", "intake", "screening", "screen", "initialassessment", "consult", "consultation",
                 "evaluation", "pretreatment", "assessment", "initial"),
    "infusion": ("infusion", "ketamineiv", "ketamineim", "ketamine", "treatment", "iv", "im", "dose", "dosing",
                 "booster", "maintenance", "session", "kapsession", "ketamineinfusion", "spravato", "esketamine"),
    "follow_up": ("followup", "fu", "checkin", "posttreatment", "followupvisit", "onemonthfollowup", "review"),
}
_NOT_A_VISIT = ("noshow", "cancel", "cancelled", "canceled", "didnotattend", "dna", "rescheduled", "void")
_YES = {"yes", "y", "true", "t", "1", "x", "kap", "with", "withkap"}
_NO = {"no", "n", "false", "f", "0", "none", "without", "nokap"}


def session_type(raw: str | None, overrides: dict[str, str] | None = None) -> str | None:
    """'Ketamine IV' -> 'infusion', '' -> 'infusion' (an empty cell means an infusion), 'No-show' -> None."""
    if raw is None or not raw.strip():
        return "infusion"
    if overrides:
        for key, value in overrides.items():
            if normalise_header(key) == normalise_header(raw) and value in SESSION_TYPES:
                return value
    key = normalise_header(raw)
    if any(word in key for word in _NOT_A_VISIT):
        return None
    for kind, words in _TYPE_WORDS.items():
        if key in words or key.replace("visit", "") in words:
            return kind
    if "follow" in key or "checkin" in key:
        return "follow_up"
    if any(w in key for w in ("baseline", "intake", "screen")):
        return "baseline"
    if any(w in key for w in ("infusion", "ketamine", "treatment", "booster", "dose")):
        return "infusion"
    return None


def flag(raw: str) -> str:
    """Yes/no spellings -> 'yes' / 'no'; anything else is kept as written."""
    key = normalise_header(raw)
    if key in _YES:
        return "yes"
    if key in _NO:
        return "no"
    return raw.strip()


DATE_STYLE_NAMES = {
    "iso": "ISO (2025-12-31)",
    "us": "US month/day (12/31/2025)",
    "eu": "European day/month (31.12.2025 or 31/12/2025)",
}
