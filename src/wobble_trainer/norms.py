"""Age reference values for the timed single-leg stance test (Springer et al. 2007).

This is the ONLY place with population reference values, and only the single-leg stance protocol
shows them (DOMAIN.md §6): the other protocols (postural stability, limits of stability, m-CTSIB,
BESS, ankle range of motion) run on a wobble board, far from the conditions any published norm
was measured in, so they report the person's own values and their change over time only.

Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance test
with eyes open and eyes closed. J Geriatr Phys Ther 2007;30(1):8-15 (n = 549, ages 18-99; eyes
open and closed, arms crossed, 3 trials of at most 45 s, standing on a FIRM FLOOR; "mean and
best of 3 UPST times for males and females of 6 age groups (18-39, 40-49, 50-59, 60-69, 70-79,
and 80+)", abstract). The values below were read from secondary transcriptions of its Table 1
(the primary PDF was not readable; SDs were not found), so they are shown as "reference values
(Springer 2007)" with the citation, never as a pass/fail cut-off. The paper has eyes-closed best
of 3 by sex, but no pooled eyes-closed best-of-3 value was found: for eyes closed only the mean of
3 is compared.

Like with like (:meth:`StanceReference.compare`): a person's best of 3 is set beside the best-of-3
value and their mean of 3 beside the mean-of-3 value, and only for a run done as the norms were
measured (:func:`comparable`): on the floor (the board locked on its mat, or stepped off and set
aside), 3 trials per leg and condition, 45 s maximum. On the board, times are shorter than on a
floor and no comparison is shown.

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

NORM_SURFACE = "floor"
"""The surface the norms were measured on; a run on any other shows no comparison."""
NORM_TRIALS = 3
NORM_MAX_S = 45.0


def comparable(surface: str | None, trials: int | None, max_s: float | None) -> bool:
    """A single-leg stance run done as Springer 2007 measured: on the floor, 3 trials of at
    most 45 s (a best of 2 or a 30 s cap is not a best of 3 of 45 s)."""
    return surface == NORM_SURFACE and trials == NORM_TRIALS and max_s == NORM_MAX_S


@dataclass(frozen=True)
class StanceNormBand:
    """One age band of Springer 2007 Table 1 (seconds; ``None`` where the table has no value)."""

    age_min: int
    age_max: int | None
    """``None``: open-ended (the last band, "80+")."""
    eyes_open_best_s: float
    eyes_open_mean_s: float
    eyes_closed_mean_s: float

    @property
    def label(self) -> str:
        return f"{self.age_min}+" if self.age_max is None else f"{self.age_min}-{self.age_max}"

    def holds(self, age: int) -> bool:
        return self.age_min <= age and (self.age_max is None or age <= self.age_max)


SPRINGER_2007: tuple[StanceNormBand, ...] = (
    StanceNormBand(18, 39, 44.7, 43.3, 9.4),
    StanceNormBand(40, 49, 41.9, 40.3, 7.3),
    StanceNormBand(50, 59, 41.2, 37.0, 4.8),
    StanceNormBand(60, 69, 32.1, 26.9, 2.8),
    StanceNormBand(70, 79, 21.5, 15.0, 2.0),
    StanceNormBand(80, None, 9.4, 6.2, 1.3),
)


@dataclass(frozen=True)
class StanceReference:
    """The reference values for one age and one eyes condition, ready to show or store."""

    age: int
    age_band: str
    eyes_closed: bool
    best_s: float | None
    """Best of 3 trials; ``None`` for eyes closed (no pooled value found)."""
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
        parts = [] if self.best_s is None else [f"best of 3 {self.best_s:.1f} s"]
        parts.append(f"mean of 3 {self.mean_s:.1f} s")
        return f"{eyes}, age {self.age_band}: " + ", ".join(parts)

    def compare(self, best_s: float, mean_s: float) -> str:
        """A person's best and mean of 3 beside the values of the same kind (no verdict):
        e.g. "best of 3 38.2 s (reference 44.7 s), mean of 3 30.1 s (reference 43.3 s)"."""
        parts = []
        if self.best_s is not None:
            parts.append(f"best of 3 {best_s:.1f} s (reference {self.best_s:.1f} s)")
        parts.append(f"mean of 3 {mean_s:.1f} s (reference {self.mean_s:.1f} s)")
        return ", ".join(parts)


def age_from_birth_year(birth_year: int, day: date | None = None) -> int:
    """Age reached during ``day``'s year (today by default); see the module note on accuracy."""
    if isinstance(birth_year, bool) or not isinstance(birth_year, int):
        raise ValueError(f"birth year must be a whole year, not {birth_year!r}")
    day = day or date.today()
    if birth_year > day.year:
        raise ValueError(f"birth year {birth_year} is after {day.year}")
    return day.year - birth_year


def band_for_age(age: int) -> StanceNormBand | None:
    """The Springer 2007 band holding ``age``; ``None`` below 18 (no values there)."""
    for band in SPRINGER_2007:
        if band.holds(age):
            return band
    return None


def single_leg_stance_reference(age: int, eyes_closed: bool) -> StanceReference | None:
    """Reference values for a single-leg stance at ``age`` with eyes open or closed, or
    ``None`` below the studied 18 years."""
    band = band_for_age(age)
    if band is None:
        return None
    if eyes_closed:
        return StanceReference(age, band.label, True, None, band.eyes_closed_mean_s)
    return StanceReference(age, band.label, False, band.eyes_open_best_s, band.eyes_open_mean_s)


def reference_for(
    protocol: str,
    birth_year: int | None,
    eyes_closed: bool,
    day: date | None = None,
    *,
    surface: str | None = NORM_SURFACE,
) -> StanceReference | None:
    """Reference values to show with ``protocol``'s results, or ``None``.

    ``None`` for every protocol except single-leg stance (the one with published age norms that
    match how it is run), for a run on any surface but the floor (the norms' surface), for an
    unknown birth year (guest) and for ages under 18.
    """
    if protocol not in NORMED_PROTOCOLS or birth_year is None or surface != NORM_SURFACE:
        return None
    return single_leg_stance_reference(age_from_birth_year(birth_year, day), eyes_closed)
