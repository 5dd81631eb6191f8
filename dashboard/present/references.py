"""Published figures for the optional reference layers, quoted word for word with their
citations (the list they come from is tests/data/REFERENCES.md).

Each comes from another population, protocol and scale than a clinic's own data, so the charts
show them apart, labelled "reference: another population, not your data" with their citation,
never blended with the clinic's numbers. `value` is the figure exactly as published (never
rounded); `rate` is the same number as a fraction, only to place it on a chart.

Left out on purpose: the clinic article's summary of a 2024 study ("about 50% after 2 infusions,
over 67% after 6"), because the study itself could not be identified.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_YOUR_DATA = "reference: another population, not your data"


@dataclass(frozen=True)
class Reference:
    citation: str
    what: str  # what the figure measures, in REFERENCES.md's words
    value: str  # the published figure, as quoted
    rate: float  # `value` as a fraction
    population: str  # population, scale, definition
    n: int | None = None  # infusions, for figures "after n infusions"

    @property
    def short(self) -> str:
        """'Zheng et al. 2019' -> 'Zheng 2019', for a label on a chart."""
        author, *rest = self.citation.split(",")[0].split()
        year = next((w for w in self.citation.replace(",", " ").split() if w.isdigit() and len(w) == 4), "")
        return f"{author} {year}".strip()


_ZHENG = ("Zheng et al. 2019, serial ketamine infusions in depression",
          "77 patients, six infusions over 12 days, MADRS >= 50% reduction")
_OLIVER = ("Oliver et al. 2022, J Clin Psychiatry 83(6):21m14336",
           "424 patients, multisite private clinic, PHQ-9 >= 50% reduction, remission < 5")
_MCINNES = "McInnes et al. 2022, J Affect Disord (PMID 35027209)"

# Response after n infusions: the points beside "Response by infusion count".
RESPONSE = [
    Reference(_ZHENG[0], "response after 1 of 6 infusions", "13.0%", 0.130, _ZHENG[1], n=1),
    Reference(_ZHENG[0], "response after 6 of 6 infusions", "67.5% (remission 48.1%)", 0.675, _ZHENG[1], n=6),
    Reference(_OLIVER[0], "response after 6 infusions (real-world clinic)", "50% (remission 20%)", 0.50,
              _OLIVER[1], n=6),
    Reference(_OLIVER[0], "response (remission) after 10 infusions (real-world clinic)", "72% (38%)", 0.72,
              _OLIVER[1], n=10),
    Reference("Murrough et al. 2013, Biol Psychiatry", "response after repeated infusions",
              "70.8% after up to 6 infusions over 12 days", 0.708, "24 patients, MADRS", n=6),
]

# Response at the end of induction, not tied to an infusion count: listed, not plotted by n.
RESPONSE_AFTER_INDUCTION = Reference(
    _MCINNES, "response 14-31 days after induction (real-world registry)", "53.6% (remission 28.9%)", 0.536,
    "537 analysable of 9,016 patients at 178 practices, PHQ-9")

# Responders still responding without maintenance: beside "Durable at one month".
DURABILITY_FOUR_WEEKS = Reference(
    _MCINNES, "responders still responding without maintenance", "about 80% at 4 weeks, about 60% at 8 weeks", 0.80,
    "537 analysable registry patients at 178 practices, PHQ-9, Kaplan-Meier of loss of >= 50% reduction")

# Series completion: words, not a precise rate, so shown as text beside the dropout panel.
COMPLETION = ("Osmind, ORKA-2 analysis (blog summary)",
              "almost half did not complete 6 infusions; about 20% stopped after the first", "clinic network data")

# Early improvement and later response: beside "Keep going?" (listed, never plotted: other
# definitions of improvement and response, and one is a sensitivity, not a rate).
EARLY_IMPROVEMENT = [
    Reference("Translational Psychiatry 2024, article s41398-024-03027-2",
              "early improvement and later response: improvement (>= 20% MADRS fall) 24 h after infusion 4, or by "
              "infusion 3", "> 90% sensitivity for overall response; non-improvers showed no significant further fall",
              0.90, "135 patients, six IV infusions, MADRS 24 h after each"),
    Reference("Prog Neuropsychopharmacol Biol Psychiatry 2021 (PMID 33031861)",
              "early non-improvers who still responded",
              "58% of those without >= 20% improvement after infusion 1 or 2 reached response or partial response "
              "by infusion 4", 0.58, "134 patients, four IV infusions, QIDS-SR16, real-world centre"),
]

ALL = [*RESPONSE, RESPONSE_AFTER_INDUCTION, DURABILITY_FOUR_WEEKS, *EARLY_IMPROVEMENT]
