"""Age reference values for the timed single-leg stance test (Springer et al. 2007).

This is the ONLY place with population reference values, and only the single-leg stance protocol
shows them (DOMAIN.md §6): the other protocols (postural stability, limits of stability, m-CTSIB,
BESS, ankle range of motion) run on a wobble board, far from the conditions any published norm
was measured in, so they report the person's own values and their change over time only.

Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance test
with eyes open and eyes closed. J Geriatr Phys Ther 2007;30(1):8-15 (n = 549, ages 18-99; eyes
open and closed, arms crossed, best of 3 and mean of 3 trials, 45 s maximum, standing on a firm
floor). The values below were read from secondary transcriptions of its Table 1 (the primary PDF
was not readable; SDs were not found), so they are shown as "reference values (Springer 2007)"
with the citation, never as a pass/fail cut-off. The paper gives no eyes-closed best-of-3 column.

Age: a profile keeps the birth YEAR only, so the age is the age reached during the test's
calendar year (:meth:`wobble_trainer.storage.Profile.age_on`): up to a year more than the true
age before the birthday. Near a band limit that can pick the older band; the band shown is
therefore always printed with the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SOURCE = "reference values (Springer 2007)"
"""How the values are named wherever they are shown."""

CITATION = (
    "Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance "
    "test with eyes open and eyes closed. J Geriatr Phys Ther 2007;30(1):8-15."
)

NORMED_PROTOCOLS = frozenset({"single_leg_stance"})
"""Protocols that may show reference values; every other protocol shows none."""


@dataclass(frozen=True)
class StanceNormBand:
    """One age band of Springer 2007 Table 1 (seconds; ``None`` where the table has no value)."""

    age_min: int
    age_max: int
    eyes_open_best_s: float
    eyes_open_mean_s: float
    eyes_closed_mean_s: float

    @property
    def label(self) -> str:
        return f"{self.age_min}-{self.age_max}"


SPRINGER_2007: tuple[StanceNormBand, ...] = (
    StanceNormBand(18, 39, 44.7, 43.3, 9.4),
    StanceNormBand(40, 49, 41.9, 40.3, 7.3),
    StanceNormBand(50, 59, 41.2, 37.0, 4.8),
    StanceNormBand(60, 69, 32.1, 26.9, 2.8),
    StanceNormBand(70, 79, 21.5, 15.0, 2.0),
    StanceNormBand(80, 99, 9.4, 6.2, 1.3),
)


@dataclass(frozen=True)
class StanceReference:
    """The reference values for one age and one eyes condition, ready to show or store."""

    age: int
    age_band: str
    eyes_closed: bool
    best_s: float | None
    """Best of 3 trials; ``None`` for eyes closed (not in the table)."""
    mean_s: float
    """Mean of 3 trials."""
    source: str = SOURCE
    citation: str = CITATION

    def as_dict(self) -> dict[str, object]:
        return {
            "age": self.age,
            "age_band": self.age_band,
            "eyes": "closed" if self.eyes_closed else "open",
            "best_s": self.best_s,
            "mean_s": self.mean_s,
            "source": self.source,
            "citation": self.citation,
        }

    def describe(self) -> str:
        """One line for a results screen; deliberately no verdict, just the values."""
        eyes = "eyes closed" if self.eyes_closed else "eyes open"
        parts = [] if self.best_s is None else [f"best {self.best_s:.1f} s"]
        parts.append(f"mean {self.mean_s:.1f} s")
        return f"{eyes}, age {self.age_band}: " + ", ".join(parts)


def age_from_birth_year(birth_year: int, day: date | None = None) -> int:
    """Age reached during ``day``'s year (today by default); see the module note on accuracy."""
    if isinstance(birth_year, bool) or not isinstance(birth_year, int):
        raise ValueError(f"birth year must be a whole year, not {birth_year!r}")
    day = day or date.today()
    if birth_year > day.year:
        raise ValueError(f"birth year {birth_year} is after {day.year}")
    return day.year - birth_year


def band_for_age(age: int) -> StanceNormBand | None:
    """The Springer 2007 band holding ``age``; ``None`` outside 18-99 (no values there)."""
    for band in SPRINGER_2007:
        if band.age_min <= age <= band.age_max:
            return band
    return None


def single_leg_stance_reference(age: int, eyes_closed: bool) -> StanceReference | None:
    """Reference values for a single-leg stance at ``age`` with eyes open or closed, or
    ``None`` when the age is outside the studied 18-99 years."""
    band = band_for_age(age)
    if band is None:
        return None
    if eyes_closed:
        return StanceReference(age, band.label, True, None, band.eyes_closed_mean_s)
    return StanceReference(age, band.label, False, band.eyes_open_best_s, band.eyes_open_mean_s)


def reference_for(
    protocol: str, birth_year: int | None, eyes_closed: bool, day: date | None = None
) -> StanceReference | None:
    """Reference values to show with ``protocol``'s results, or ``None``.

    ``None`` for every protocol except single-leg stance (the one with published age norms that
    match how it is run), for an unknown birth year (guest) and for ages outside 18-99.
    """
    if protocol not in NORMED_PROTOCOLS or birth_year is None:
        return None
    return single_leg_stance_reference(age_from_birth_year(birth_year, day), eyes_closed)
