"""Reading single values the way clinics write them: session types, yes/no flags, date styles."""

from __future__ import annotations

from dashboard.core.measures import normalise_header

SESSION_TYPES = ("baseline", "infusion", "follow_up")
AMBIGUOUS = "ambiguous"  # a label that reads as more than one kind of visit: never guessed (docs/METHODS.md 1)

# Whole labels (normalised, with or without "visit") that name one kind and nothing else.
_LABELS = {
    "baseline": ("baseline", "intake", "screening", "screen", "initialassessment", "consult", "consultation",
                 "pretreatment", "initial", "initialconsult", "pretreatmentassessment"),
    "infusion": ("infusion", "ketamineiv", "ketamineim", "ketamine", "treatment", "iv", "im", "dose", "dosing",
                 "booster", "maintenance", "session", "kapsession", "ketamineinfusion", "spravato", "esketamine"),
    "follow_up": ("followup", "fu", "checkin", "posttreatment", "followupvisit", "onemonthfollowup", "review"),
}
# Words inside a longer label that name a kind. "pretreatment" and "posttreatment" are read
# before "treatment", which they contain.
_NAMES = {
    "baseline": ("baseline", "intake", "screen", "consult", "pretreatment", "initial"),
    "follow_up": ("follow", "checkin", "posttreatment"),
    "infusion": ("infusion", "booster", "dose", "dosing"),
}
# Words that name the treatment, not the visit: an infusion when nothing else is named
# ("Ketamine IV treatment"), context when something is ("Ketamine follow-up").
_TREATMENT = ("ketamine", "treatment", "spravato", "esketamine")
# An assessment is a baseline or a follow-up: which one, only another word can say.
_ASSESSMENT = ("assessment", "evaluation", "eval")
_NOT_A_VISIT = ("noshow", "cancel", "cancelled", "canceled", "didnotattend", "dna", "rescheduled", "void")
_YES = {"yes", "y", "true", "t", "1", "x", "kap", "with", "withkap"}
_NO = {"no", "n", "false", "f", "0", "none", "without", "nokap"}


def session_type(raw: str | None, overrides: dict[str, str] | None = None) -> str | None:
    """'Ketamine IV' -> 'infusion', '' -> 'infusion' (an empty cell means an infusion), 'No-show' ->
    None (not a visit), 'Post-infusion assessment' -> AMBIGUOUS (it names an infusion but is an
    assessment; 'Assessment' alone may be a baseline or a follow-up). A mapping's choice comes first."""
    if raw is None or not raw.strip():
        return "infusion"
    key = normalise_header(raw)
    for label, kind in (overrides or {}).items():
        if normalise_header(label) == key and kind in SESSION_TYPES:
            return kind
    if any(word in key for word in _NOT_A_VISIT):
        return None
    for kind, labels in _LABELS.items():
        if key in labels or key.replace("visit", "") in labels:
            return kind
    named = _kinds_named(key)
    if len(named) > 1:
        return AMBIGUOUS
    if any(word in key for word in _ASSESSMENT):
        # "Intake assessment", "Follow-up assessment": the other word says which; alone, or beside
        # an infusion ("Post-infusion assessment"), it can't be told.
        return named.pop() if named and named != {"infusion"} else AMBIGUOUS
    if named:
        return named.pop()
    if any(word in key for word in _TREATMENT):
        return "infusion"
    return None


def _kinds_named(key: str) -> set[str]:
    """The kinds of visit that the words inside a normalised label name (see _NAMES)."""
    named = set()
    for kind, words in _NAMES.items():
        for word in words:
            if word in key:
                named.add(kind)
                key = key.replace(word, " ")  # "posttreatment" is not also "treatment"
    return named


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
