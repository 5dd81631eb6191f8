"""How every number is computed, in plain words, with the settings in force filled in: one text for
the app's "How these numbers are computed" and the export's --help, so that the two never say
different things. No Streamlit, no pandas (the export's --help imports this)."""

from __future__ import annotations

import re
import textwrap

from dashboard.core.settings import Settings
from dashboard.present.formatting import percent

# The project's full methods document: every definition at length, with a worked example.
METHODS_DOC = "docs/METHODS.md"
FULL_METHODS = f"The full methods, with a worked example, are in {METHODS_DOC} in the project."


def definitions(s: Settings, as_of: str = "the latest visit up to today") -> list[tuple[str, str]]:
    """(term, what it means) for each definition, in the order a reader needs them."""
    low, high = s.follow_up_window
    return [
        ("A visit", "a row of the export; rows of one patient, date and session type are one visit. A row that "
                    "repeats an earlier one once its values are read (20 and 20.0, 2 and 2.0, a value with and without "
                    "spaces around it) is rejected as an exact repeat; two different scores for one measure on one "
                    "visit are both rejected as a conflicting duplicate."),
        ("Dates", "a visit dated before 1990-01-01 is not plausible (an EHR placeholder such as 1900-01-01) and is "
                  "rejected. Visits after today are counted apart as dated in the future and never used. Numbers "
                  f"are read as of {as_of}, never after today; visits after that date, and any value given only "
                  "on them, are left out of every number."),
        ("Numbers", "digits with at most one decimal point (20, 20.0, .5); a decimal comma only in files whose "
                    "delimiter is not a comma. Anything else (20,0 in a comma-separated file, 1_0, 1e1, 0x1A, "
                    "Infinity) is rejected as not a number, alone: the rest of the row is kept."),
        ("Session types", "a label that could mean more than one kind of visit (\"Post-infusion assessment\", "
                          "\"Assessment\") is never guessed: its rows are rejected until the column mapping says "
                          "which kind it is. An empty session type means an infusion."),
        ("The series", f"a patient's infusions in date order, until a gap of more than {s.series_gap_days} days or "
                       f"{s.planned} infusions, whichever comes first; later infusions are boosters. A "
                       "planned_infusions column overrides the count per patient. A patient's planned count, "
                       "site and other dimensions are the values on their first infusion, else the first "
                       "non-empty value by date. A patient whose first infusion carries a number above 1 started "
                       "before the data and is left out (counted as such); an empty number does not mean that."),
        ("Baseline", f"the latest baseline score within {s.baseline_window_days} days before the first infusion "
                     "(or on its day); with scores taken before each infusion and no such baseline, the score at "
                     "infusion 1. Response is judged only when the baseline is at least the measure's moderate "
                     "band (or the minimum set) and above 0; the others are counted as no usable baseline."),
        ("Score after n infusions", "with scores taken after each infusion, the score at infusion n; taken "
                                    "before, the score at infusion n+1, and after the last infusion of the series "
                                    f"the first score within {s.end_of_series_days} days after its day (a follow-up "
                                    "or a booster's check-in; one on the same day does not count)."),
        ("Response", f"a fall of at least {percent(s.response_reduction)} from baseline. Remission: a score at or "
                     "below the measure's cut-off; a measure without a cut-off has no remission figures (empty, "
                     "not 0)."),
        ("Intention to treat", "every patient with a usable baseline and a series infusion counts; one who "
                               "stopped counts as not responding from then on, unless they had already "
                               "responded. A patient still in their series counts after n only once their score "
                               "after n can be in: their series has passed n, or stands at n with that score in."),
        ("Keep going?", "of the patients not responding after n infusions, the share who responded after a later "
                        "infusion of their series; those with no later score are left out of the share and "
                        "counted beside it."),
        ("Dropout", f"a patient stopped after infusion L when their series has fewer than the planned infusions "
                    f"and the last one is more than {s.series_gap_days} days before the as-of date; otherwise "
                    "they are still in their series. Completion is completed / (completed + stopped). Retention "
                    "is a Kaplan-Meier estimate of the share whose series reaches each infusion."),
        ("Durability", f"responders whose series has ended, re-assessed nearest {s.follow_up_days} days after "
                       f"their last infusion, within {low}-{high} days and on a later day than it. Durable / "
                       "(durable + lost); the conservative rate also counts a booster given before the "
                       "follow-up as lost."),
        ("Early improvement", "the improvement after k infusions is (baseline - score after k) / baseline, negative "
                              "when worse, cut into bands at "
                              + ", ".join(percent(edge) for edge in s.early_bands) + " (a band holds its lower "
                              "edge). For each k and band: of the patients with a score after k infusions, those "
                              "who met response after a later infusion of their series; the share leaves out those "
                              "with no later score (counted beside it). The intention-to-treat share counts every "
                              "patient in the band whose series has ended, one who stopped without a later response "
                              "as not responding."),
        ("Reliable change and recovery", "as NHS Talking Therapies reports them, for a measure that declares a "
                                         "caseness score and a reliable change (PHQ-9: caseness 10, reliable change "
                                         "6 points; GAD-7: 8 and 4; a measures file can declare them, else these "
                                         "numbers are not worked out). Finished: the series has ended (completed or "
                                         "stopped), with a baseline score and a score after an infusion; the last "
                                         "such score is compared with the baseline. Reliable improvement or "
                                         "deterioration: a change of at least the reliable change, else no reliable "
                                         "change (each of all finished patients). Recovery: a case at baseline "
                                         "(score at or above caseness) and below caseness at the end; reliable "
                                         "recovery: recovery with reliable improvement (each of the finished "
                                         "patients who were a case at baseline)."),
        ("Baseline severity", "a patient dimension like site, for filters and comparisons: the band of the "
                              "baseline score of the primary measure (PHQ-9: none 0-4, mild 5-9, moderate 10-14, "
                              "moderately severe 15-19, severe 20-27; GAD-7: 0-4, 5-9, 10-14, 15-21; MADRS: 0-6, "
                              "7-19, 20-34, 35-60; others as a measures file declares, else \"(no bands)\"); \"(no "
                              "baseline)\" when there is none."),
        ("Time to response", "days from the first series infusion to the visit carrying the first responding score, "
                             "for patients with a usable baseline and a score after an infusion; one who has not "
                             "responded is censored on the date of their last such score. A Kaplan-Meier estimate of "
                             "the share responded by each day, with its 95% interval (exponential Greenwood, as "
                             "lifelines), and the median: the first day by which the estimated share reaches one "
                             "half (half of the patients, not half of those who responded), with its interval."),
        ("Funnel limits", "each group's rate against its denominator (response by the end of the series by "
                          "intention to treat, completion, or durability), around the rate of all the selected "
                          "patients, with exact binomial control limits at 95% and 99.8% (Spiegelhalter 2005, "
                          "interpolated between whole counts). A group outside the 99.8% limits is above or below; "
                          "groups are listed by name, never ranked."),
        ("Intervals", "95% Wilson score intervals for rates; t-based 95% intervals for mean scores."),
        ("Small counts", (f"a count from 1 to {s.min_cell - 1} shows as <{s.min_cell} and every rate using it is "
                          "hidden; a zero shows as 0. Where a hidden count could be worked out from a total and "
                          "its other parts, one more count is hidden too and written 'hidden'."
                          if s.min_cell else "shown as they are (a minimum hides counts below it; a zero always "
                                             "shows as 0).")),
    ]


def as_markdown(s: Settings, as_of: str) -> str:
    """The definitions as a Markdown list (the app)."""
    return "\n".join(f"- **{term}**: {text}" for term, text in definitions(s, as_of))


def as_plain_text(s: Settings, width: int = 88) -> str:
    """The definitions as wrapped plain text (the export's --help), with the default settings."""
    lines = ["How the numbers are computed (the defaults shown; each is an option above):", ""]
    for term, text in definitions(s):
        lines += textwrap.wrap(f"{term}: {re.sub(r'[*`]', '', text)}", width, subsequent_indent="  ")
    lines += ["", *textwrap.wrap(FULL_METHODS, width, break_on_hyphens=False)]
    return "\n".join(lines)
