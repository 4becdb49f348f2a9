"""The home routine's adherence log: which steps of "Today's plan" a profile completed on which
day (``db.plan_steps``).

Board exercises are stored as sessions with their recordings; the rest of the home routine
(warm-up, seated ankle work, band work, calf raises, heel and toe walks, step-ups, the wall
stretch) has nothing to measure, so each completed step is one row here: the profile, the local
calendar day, the step's key, where the programme was (id and week) and what was done (reps or
seconds). Completing a step twice on one day keeps one row (the latest), so a day's count is
the number of different steps done. Deleting a profile deletes its rows (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from wobble_trainer.storage.codec import iso, now

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database


@dataclass(frozen=True)
class PlanStepRecord:
    """One completed step of the home routine."""

    id: int
    profile_id: int
    day: date
    step_key: str
    programme_id: str | None
    week: int | None
    reps: int | None
    duration_s: float | None
    completed_at: datetime


def _from_row(row: sqlite3.Row) -> PlanStepRecord:
    return PlanStepRecord(
        id=row["id"],
        profile_id=row["profile_id"],
        day=date.fromisoformat(row["day"]),
        step_key=row["step_key"],
        programme_id=row["programme_id"],
        week=row["week"],
        reps=row["reps"],
        duration_s=row["duration_s"],
        completed_at=datetime.fromisoformat(row["completed_at"]),
    )


class PlanStepStore:
    """Record and read completed home-routine steps."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def complete(
        self,
        profile_id: int,
        day: date,
        step_key: str,
        *,
        programme_id: str | None = None,
        week: int | None = None,
        reps: int | None = None,
        duration_s: float | None = None,
    ) -> PlanStepRecord:
        """Log ``step_key`` done by the profile on ``day`` (again: the row is updated)."""
        if not step_key or not step_key.strip():
            raise ValueError("a plan step needs its key")
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"day must be a date, not {day!r}")
        if reps is not None and (isinstance(reps, bool) or not isinstance(reps, int) or reps < 0):
            raise ValueError(f"reps must be a whole number >= 0, not {reps!r}")
        if duration_s is not None and not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration must be a number of seconds >= 0, not {duration_s!r}")
        with self._db.transaction(f"logging plan step {step_key!r}") as conn:
            row = conn.execute("SELECT is_guest FROM profiles WHERE id = ?",
                               (profile_id,)).fetchone()  # fmt: skip
            if row is None:
                raise ValueError(f"there is no profile with id {profile_id}")
            if row["is_guest"]:
                raise ValueError("the guest has no plan; choose a profile")
            conn.execute(
                "INSERT INTO plan_steps (profile_id, day, step_key, programme_id, week, reps, "
                "duration_s, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (profile_id, day, step_key) DO UPDATE SET "
                "programme_id = excluded.programme_id, week = excluded.week, "
                "reps = excluded.reps, duration_s = excluded.duration_s, "
                "completed_at = excluded.completed_at",
                (profile_id, day.isoformat(), step_key.strip(), programme_id, week, reps,
                 None if duration_s is None else float(duration_s), iso(now())),
            )  # fmt: skip
        return self.on_day(profile_id, day, step_key.strip())[0]

    def on_day(
        self, profile_id: int, day: date, step_key: str | None = None
    ) -> list[PlanStepRecord]:
        """The steps the profile completed on ``day`` (optionally only ``step_key``)."""
        sql = "SELECT * FROM plan_steps WHERE profile_id = ? AND day = ?"
        params: tuple = (profile_id, day.isoformat())
        if step_key is not None:
            sql += " AND step_key = ?"
            params += (step_key,)
        return [_from_row(r) for r in self._db.query(sql + " ORDER BY completed_at, id", params)]

    def between(self, profile_id: int, start: date, end: date) -> list[PlanStepRecord]:
        """The profile's completed steps from ``start`` to ``end`` (both included), by day."""
        rows = self._db.query(
            "SELECT * FROM plan_steps WHERE profile_id = ? AND day BETWEEN ? AND ? "
            "ORDER BY day, completed_at, id",
            (profile_id, start.isoformat(), end.isoformat()),
        )
        return [_from_row(r) for r in rows]
