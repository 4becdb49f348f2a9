"""Profiles: the people whose sessions are stored, and the built-in guest.

A profile holds only what the measures and reference values need: a name or a pseudonymous ID
(a clinic may prefer "P-017"), the birth year (reference values are by age band, DOMAIN.md §6),
optionally sex, the height in metres, the injured side and the dominant leg (limb symmetry,
single-leg tests). The guest profile is built in (it exists in every database and cannot be
edited or deleted): its sessions are recorded like any other, start "not kept", and are then
kept (optionally moved to a real profile) or discarded — see
:meth:`~wobble_trainer.storage.sessions.SessionStore.keep`.

Deleting a profile deletes all its data (sessions, trials, programme assignments) through
``ON DELETE CASCADE``, then truncates the write-ahead log so nothing of it lingers on disk.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from wobble_trainer.storage.codec import iso, now
from wobble_trainer.storage.errors import NotFoundError
from wobble_trainer.storage.schema import new_patient_code

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database

InjuredSide = Literal["none", "left", "right", "both"]
Leg = Literal["left", "right"]
Sex = Literal["female", "male", "other"]

INJURED_SIDES: tuple[str, ...] = ("none", "left", "right", "both")
LEGS: tuple[str, ...] = ("left", "right")
SEXES: tuple[str, ...] = ("female", "male", "other")

MIN_HEIGHT_M = 0.5
MAX_HEIGHT_M = 2.6
OLDEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class Profile:
    """One person (or the guest). Fields other than ``name`` are ``None`` only for the guest."""

    id: int
    name: str
    birth_year: int | None
    sex: Sex | None
    height_m: float | None
    injured_side: InjuredSide
    dominant_leg: Leg | None
    is_guest: bool
    created_at: datetime
    patient_code: str | None = None
    """The short code a patient types in a clinic's kiosk to reach their own profile (the
    clinician sees it in the profile screen); None for the guest."""

    def age_on(self, day: date) -> int | None:
        """Age in whole years reached during ``day``'s year (birth date is not stored)."""
        return None if self.birth_year is None else day.year - self.birth_year


def validate_fields(
    name: str,
    birth_year: int | None,
    height_m: float | None,
    dominant_leg: str | None,
    injured_side: str,
    sex: str | None,
) -> str:
    """The stripped name if every field is valid (``ValueError`` saying what is wrong).

    Used by the board's stores and by the hub when a clinician edits a profile there.
    """
    name = name.strip()
    if not name:
        raise ValueError("a profile needs a name or a pseudonymous ID")
    this_year = date.today().year
    if isinstance(birth_year, bool) or not isinstance(birth_year, int):
        raise ValueError(f"birth year must be a whole year, not {birth_year!r}")
    if not OLDEST_BIRTH_YEAR <= birth_year <= this_year:
        raise ValueError(f"birth year {birth_year} is not between {OLDEST_BIRTH_YEAR} and "
                         f"{this_year}")
    if height_m is None or not MIN_HEIGHT_M <= float(height_m) <= MAX_HEIGHT_M:
        raise ValueError(f"height {height_m} m is not between {MIN_HEIGHT_M} and {MAX_HEIGHT_M} m "
                         "(give it in metres)")
    if dominant_leg not in LEGS:
        raise ValueError(f"dominant leg must be one of {LEGS}, not {dominant_leg!r}")
    if injured_side not in INJURED_SIDES:
        raise ValueError(f"injured side must be one of {INJURED_SIDES}, not {injured_side!r}")
    if sex is not None and sex not in SEXES:
        raise ValueError(f"sex must be one of {SEXES} or None, not {sex!r}")
    return name


def profile_from_row(row: sqlite3.Row) -> Profile:
    """A :class:`Profile` from a ``profiles`` row."""
    return Profile(
        id=row["id"],
        name=row["name"],
        birth_year=row["birth_year"],
        sex=row["sex"],
        height_m=row["height_m"],
        injured_side=row["injured_side"],
        dominant_leg=row["dominant_leg"],
        is_guest=bool(row["is_guest"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        patient_code=row["patient_code"],
    )


class ProfileStore:
    """Create, read, edit and delete profiles (``db.profiles``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        name: str,
        birth_year: int,
        height_m: float,
        dominant_leg: Leg,
        injured_side: InjuredSide = "none",
        sex: Sex | None = None,
    ) -> Profile:
        """Add a profile; the name must not be in use (case-insensitive, guest included)."""
        name = validate_fields(name, birth_year, height_m, dominant_leg, injured_side, sex)
        try:
            with self._db.transaction(f"creating profile {name!r}") as conn:
                cur = conn.execute(
                    "INSERT INTO profiles (name, birth_year, sex, height_m, injured_side, "
                    "dominant_leg, is_guest, created_at, patient_code) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (name, birth_year, sex, float(height_m), injured_side, dominant_leg,
                     iso(now()), new_patient_code(conn)),
                )
                new_id = cur.lastrowid
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"the name {name!r} is already used by another profile") from exc
        return self.get(new_id)

    def get(self, profile_id: int) -> Profile:
        """The profile with this id (:class:`NotFoundError` if there is none)."""
        rows = self._db.query("SELECT * FROM profiles WHERE id = ?", (profile_id,))
        if not rows:
            raise NotFoundError(f"there is no profile with id {profile_id}")
        return profile_from_row(rows[0])

    def find(self, name: str) -> Profile | None:
        """The profile with this name (case-insensitive), or ``None``."""
        rows = self._db.query("SELECT * FROM profiles WHERE name = ?", (name.strip(),))
        return profile_from_row(rows[0]) if rows else None

    def by_code(self, code: str) -> Profile | None:
        """The profile whose patient code is ``code`` (spaces ignored), or ``None``."""
        code = "".join(str(code).split())
        if not code:
            return None
        rows = self._db.query("SELECT * FROM profiles WHERE patient_code = ?", (code,))
        return profile_from_row(rows[0]) if rows else None

    def new_code(self, profile_id: int) -> Profile:
        """Give the profile a fresh patient code (the old one stops working): for a code that
        others have seen."""
        if self.get(profile_id).is_guest:
            raise ValueError("the built-in guest profile has no patient code")
        with self._db.transaction("giving a new patient code") as conn:
            conn.execute(
                "UPDATE profiles SET patient_code = ? WHERE id = ?",
                (new_patient_code(conn), profile_id),
            )
        return self.get(profile_id)

    def guest(self) -> Profile:
        """The built-in guest profile."""
        return profile_from_row(self._db.query("SELECT * FROM profiles WHERE is_guest = 1")[0])

    def all(self, include_guest: bool = False) -> list[Profile]:
        """Every profile sorted by name (the guest last, if included)."""
        where = "" if include_guest else "WHERE is_guest = 0"
        rows = self._db.query(f"SELECT * FROM profiles {where} ORDER BY is_guest, name, id")
        return [profile_from_row(r) for r in rows]

    def update(self, profile: Profile) -> Profile:
        """Store edited fields of ``profile`` (use :func:`dataclasses.replace` to edit one)."""
        current = self.get(profile.id)
        if current.is_guest:
            raise ValueError("the built-in guest profile cannot be edited")
        name = validate_fields(profile.name, profile.birth_year, profile.height_m,
                         profile.dominant_leg, profile.injured_side, profile.sex)
        try:
            with self._db.transaction(f"saving profile {name!r}") as conn:
                conn.execute(
                    "UPDATE profiles SET name = ?, birth_year = ?, sex = ?, height_m = ?, "
                    "injured_side = ?, dominant_leg = ? WHERE id = ?",
                    (name, profile.birth_year, profile.sex, float(profile.height_m),
                     profile.injured_side, profile.dominant_leg, profile.id),
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"the name {name!r} is already used by another profile") from exc
        return self.get(profile.id)

    def delete(self, profile_id: int) -> None:
        """Delete a profile and ALL its data (sessions, trials, programme assignments).

        The guest profile cannot be deleted; discard its sessions instead.
        """
        profile = self.get(profile_id)
        if profile.is_guest:
            raise ValueError("the built-in guest profile cannot be deleted; discard its sessions")
        with self._db.transaction(f"deleting profile {profile.name!r}") as conn:
            conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))
        # secure_delete zeroed the freed pages; truncating the log drops its copies too.
        self._db.checkpoint()
