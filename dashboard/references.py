"""Published figures for the optional reference layers (../shared/REFERENCES.md), quoted exactly.

Each comes from another population, protocol and scale than a clinic's own data: charts show
them labelled as references with their citation, never blended with the clinic's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    n: int  # infusions
    rate: float
    label: str  # as quoted
    citation: str
    population: str


RESPONSE = [
    Reference(1, 0.130, "13.0%", "Zheng et al. 2019",
              "77 patients, six infusions over 12 days, MADRS >= 50% reduction"),
    Reference(6, 0.675, "67.5%", "Zheng et al. 2019",
              "77 patients, six infusions over 12 days, MADRS >= 50% reduction"),
    Reference(6, 0.50, "50%", "Oliver et al. 2022, J Clin Psychiatry 83(6):21m14336",
              "424 patients, multisite private clinic, PHQ-9 >= 50% reduction"),
    Reference(6, 0.708, "70.8%", "Murrough et al. 2013, Biol Psychiatry",
              "24 patients, up to 6 infusions over 12 days, MADRS"),
]

# Registry responders still responding without maintenance at about four weeks.
DURABILITY_FOUR_WEEKS = Reference(0, 0.80, "about 80% at 4 weeks", "McInnes et al. 2022, J Affect Disord (PMID 35027209)",
                                  "537 analysable registry patients at 178 practices, PHQ-9, Kaplan-Meier")
