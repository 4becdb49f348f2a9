"""Programme assignments: which balance programme a clinician gave a profile, and from when.

Only the assignment is stored here — a programme id (e.g. the 4-week + maintenance
ankle-sprain prevention programme of DOMAIN.md §6) and its start date; what each week contains
belongs to the programme definitions elsewhere, which use :meth:`ProgrammeAssignment.week_on` to
know where the person is. A profile has at most one current assignment: assigning a new programme
ends the previous one on the new start date, so the history of what was assigned stays.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from wobble_trainer.storage.codec import iso, now
from wobble_trainer.storage.errors import NotFoundError

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database


@dataclass(frozen=True)
class ProgrammeAssignment:
    """One programme given to one profile. ``end_date`` is ``None`` while it is current."""

    id: int
    profile_id: int
    programme_id: str
    start_date: date
    end_date: date | None
    assigned_at: datetime
    assigned_by: str | None
    note: str | None

    def active_on(self, day: date) -> bool:
        """True if the programme runs on ``day`` (from start date, up to but not incl. end)."""
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def day_on(self, day: date) -> int:
        """1-based day of the programme on ``day`` (0 or negative before it starts)."""
        return (day - self.start_date).days + 1

    def week_on(self, day: date) -> int:
        """1-based week of the programme on ``day`` (0 or negative before it starts).

        Weeks 1-4 of the ankle programme are the progression; 5 onward is maintenance.
        """
        return (day - self.start_date).days // 7 + 1


def _from_row(row: sqlite3.Row) -> ProgrammeAssignment:
    return ProgrammeAssignment(
        id=row["id"],
        profile_id=row["profile_id"],
        programme_id=row["programme_id"],
        start_date=date.fromisoformat(row["start_date"]),
        end_date=date.fromisoformat(row["end_date"]) if row["end_date"] else None,
        assigned_at=datetime.fromisoformat(row["assigned_at"]),
        assigned_by=row["assigned_by"],
        note=row["note"],
    )


class ProgrammeStore:
    """Assign programmes to profiles and look them up (``db.programmes``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def assign(
        self,
        profile_id: int,
        programme_id: str,
        start_date: date,
        *,
        assigned_by: str | None = None,
        note: str | None = None,
    ) -> ProgrammeAssignment:
        """Give ``programme_id`` to a profile from ``start_date`` (ends the current one).

        The guest cannot be given a programme. A current assignment that starts after
        ``start_date`` cannot be ended by it (the dates would overlap): end it first.
        """
        if not programme_id or not programme_id.strip():
            raise ValueError("a programme assignment needs a programme id")
        if isinstance(start_date, datetime) or not isinstance(start_date, date):
            raise ValueError(f"start date must be a date, not {start_date!r}")
        with self._db.transaction(f"assigning programme {programme_id!r}") as conn:
            row = conn.execute("SELECT is_guest FROM profiles WHERE id = ?",
                               (profile_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"there is no profile with id {profile_id}")
            if row["is_guest"]:
                raise ValueError("the guest profile cannot be given a programme; create a profile")
            current = conn.execute(
                "SELECT id, start_date FROM programme_assignments "
                "WHERE profile_id = ? AND end_date IS NULL",
                (profile_id,),
            ).fetchall()
            for old in current:
                if old["start_date"] > start_date.isoformat():
                    raise ValueError(
                        f"the current programme starts on {old['start_date']}, after "
                        f"{start_date.isoformat()}; end it first"
                    )
                conn.execute("UPDATE programme_assignments SET end_date = ? WHERE id = ?",
                             (start_date.isoformat(), old["id"]))
            cur = conn.execute(
                "INSERT INTO programme_assignments (profile_id, programme_id, start_date, "
                "assigned_at, assigned_by, note) VALUES (?, ?, ?, ?, ?, ?)",
                (profile_id, programme_id.strip(), start_date.isoformat(), iso(now()),
                 assigned_by, note),
            )
            new_id = cur.lastrowid
        return self.get(new_id)  # type: ignore[arg-type]

    def get(self, assignment_id: int) -> ProgrammeAssignment:
        """The assignment with this id (:class:`NotFoundError` if there is none)."""
        rows = self._db.query("SELECT * FROM programme_assignments WHERE id = ?",
                              (assignment_id,))
        if not rows:
            raise NotFoundError(f"there is no programme assignment with id {assignment_id}")
        return _from_row(rows[0])

    def current(self, profile_id: int, on: date | None = None) -> ProgrammeAssignment | None:
        """The assignment running on ``on`` (default today), or ``None``."""
        day = (on or date.today()).isoformat()
        rows = self._db.query(
            "SELECT * FROM programme_assignments WHERE profile_id = ? AND start_date <= ? "
            "AND (end_date IS NULL OR end_date > ?) ORDER BY start_date DESC, id DESC LIMIT 1",
            (profile_id, day, day),
        )
        return _from_row(rows[0]) if rows else None

    def history(self, profile_id: int) -> list[ProgrammeAssignment]:
        """Every assignment of the profile, oldest first."""
        rows = self._db.query(
            "SELECT * FROM programme_assignments WHERE profile_id = ? ORDER BY start_date, id",
            (profile_id,),
        )
        return [_from_row(r) for r in rows]

    def end(self, assignment_id: int, end_date: date) -> ProgrammeAssignment:
        """Stop an assignment: it no longer runs from ``end_date`` on."""
        current = self.get(assignment_id)
        if end_date < current.start_date:
            raise ValueError(f"end date {end_date} is before the start date "
                             f"{current.start_date}")
        with self._db.transaction(f"ending programme assignment {assignment_id}") as conn:
            conn.execute("UPDATE programme_assignments SET end_date = ? WHERE id = ?",
                         (end_date.isoformat(), assignment_id))
        return self.get(assignment_id)
