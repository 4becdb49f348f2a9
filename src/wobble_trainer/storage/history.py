"""History for charts and motivation: sessions over a date range, counts per day and kind, metric
series, and streaks of consecutive days with a session.

Dates are local calendar dates of a session's start (the date printed on the device's screen at
that moment), taken from the stored ISO time. Unless asked otherwise only kept sessions count: a
guest session that was neither kept nor discarded is not part of anyone's history.

The streak functions are pure (they take dates), so the rules are easy to test: a *streak* is a
run of consecutive calendar days with at least one session; the *current* streak is the run that
ends today, or yesterday when there is no session yet today (the day is not over, so the streak
is not broken yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from wobble_trainer.storage.sessions import SESSION_SELECT, SessionRecord, session_from_row

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database


@dataclass(frozen=True)
class Streak:
    """A run of consecutive days, ``first`` to ``last`` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class DailyCount:
    """How many sessions of one kind a profile did on one day."""

    day: date
    kind: str
    count: int


@dataclass(frozen=True)
class MetricPoint:
    """One session's value of one metric (``None`` when the session lacks it)."""

    session_id: int
    started_at: datetime
    value: Any


@dataclass(frozen=True)
class StreakSummary:
    """Current and longest streak of one profile, and the days it trained."""

    current: int
    longest: int
    days: list[date]


def find_streaks(days: Iterable[date]) -> list[Streak]:
    """The runs of consecutive days among ``days`` (any order, duplicates allowed), in order."""
    ordered = sorted(set(days))
    runs: list[Streak] = []
    for day in ordered:
        if runs and day - runs[-1].last == timedelta(days=1):
            runs[-1] = Streak(runs[-1].first, day)
        else:
            runs.append(Streak(day, day))
    return runs


def longest_streak(days: Iterable[date]) -> int:
    """Length in days of the longest run of consecutive days (0 for none)."""
    return max((s.days for s in find_streaks(days)), default=0)


def current_streak(days: Iterable[date], today: date) -> int:
    """Length of the run ending today, or yesterday if today has no session yet; else 0.

    Days after ``today`` (a clock set wrong at some point) are ignored.
    """
    runs = find_streaks(d for d in days if d <= today)
    if runs and runs[-1].last >= today - timedelta(days=1):
        return runs[-1].days
    return 0


def _day_bounds(
    start: date | None, end: date | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses for a local-date range on ``started_at`` (text starting with the date)."""
    clauses: list[str] = []
    params: list[Any] = []
    if start is not None:
        clauses.append("s.started_at >= ?")
        params.append(start.isoformat())
    if end is not None:
        # Every time on day `end` sorts before the next day's date string.
        clauses.append("s.started_at < ?")
        params.append((end + timedelta(days=1)).isoformat())
    return clauses, params


def _json_path(keys: tuple[str, ...]) -> str:
    if not keys:
        raise ValueError("give at least one metric key")
    for key in keys:
        if '"' in key or "\\" in key:
            raise ValueError(f"metric key {key!r} must not contain quotes or backslashes")
    return "$" + "".join(f'."{k}"' for k in keys)


class HistoryStore:
    """Queries over past sessions (``db.history``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _where(
        self,
        profile_id: int,
        start: date | None,
        end: date | None,
        kind: str | None,
        include_unkept: bool,
    ) -> tuple[str, tuple[Any, ...]]:
        clauses, params = _day_bounds(start, end)
        clauses.insert(0, "s.profile_id = ?")
        params.insert(0, profile_id)
        if kind is not None:
            clauses.append("s.kind = ?")
            params.append(kind)
        if not include_unkept:
            clauses.append("s.kept = 1")
        return "WHERE " + " AND ".join(clauses), tuple(params)

    def sessions(
        self,
        profile_id: int,
        start: date | None = None,
        end: date | None = None,
        kind: str | None = None,
        include_unkept: bool = False,
    ) -> list[SessionRecord]:
        """A profile's sessions started between ``start`` and ``end`` (inclusive), oldest first."""
        where, params = self._where(profile_id, start, end, kind, include_unkept)
        rows = self._db.query(
            f"{SESSION_SELECT} {where} ORDER BY julianday(s.started_at), s.id", params
        )
        return [session_from_row(r) for r in rows]

    def daily_counts(
        self,
        profile_id: int,
        start: date | None = None,
        end: date | None = None,
        kind: str | None = None,
    ) -> list[DailyCount]:
        """Sessions per day and kind (days without sessions are absent), for charts."""
        where, params = self._where(profile_id, start, end, kind, False)
        rows = self._db.query(
            "SELECT substr(s.started_at, 1, 10) AS day, s.kind AS kind, count(*) AS n "
            f"FROM sessions AS s {where} GROUP BY day, s.kind ORDER BY day, s.kind",
            params,
        )
        return [DailyCount(date.fromisoformat(r["day"]), r["kind"], r["n"]) for r in rows]

    def kinds(self, profile_id: int) -> dict[str, int]:
        """How many kept sessions of each kind a profile has."""
        rows = self._db.query(
            "SELECT kind, count(*) AS n FROM sessions WHERE profile_id = ? AND kept = 1 "
            "GROUP BY kind ORDER BY kind",
            (profile_id,),
        )
        return {r["kind"]: r["n"] for r in rows}

    def session_days(
        self,
        profile_id: int,
        start: date | None = None,
        end: date | None = None,
        kind: str | None = None,
    ) -> list[date]:
        """The distinct days with at least one kept session, in order."""
        where, params = self._where(profile_id, start, end, kind, False)
        rows = self._db.query(
            f"SELECT DISTINCT substr(s.started_at, 1, 10) AS day FROM sessions AS s {where} "
            "ORDER BY day",
            params,
        )
        return [date.fromisoformat(r["day"]) for r in rows]

    def metric_series(
        self,
        profile_id: int,
        kind: str,
        *keys: str,
        start: date | None = None,
        end: date | None = None,
    ) -> list[MetricPoint]:
        """One metric over time for a chart: ``metric_series(pid, kind, "osi_deg")``.

        Several keys walk into nested objects (``"eyes_open", "best_s"``). Sessions without
        metrics, or without that key, give ``None``.
        """
        path = _json_path(keys)
        where, params = self._where(profile_id, start, end, kind, False)
        rows = self._db.query(
            "SELECT s.id, s.started_at, json_extract(s.metrics, ?) AS value FROM sessions AS s "
            f"{where} ORDER BY julianday(s.started_at), s.id",
            (path, *params),
        )
        return [
            MetricPoint(r["id"], datetime.fromisoformat(r["started_at"]), r["value"])
            for r in rows
        ]

    def streaks(self, profile_id: int, today: date | None = None,
                kind: str | None = None) -> StreakSummary:
        """Current and longest streak of a profile (optionally of one kind of session)."""
        days = self.session_days(profile_id, kind=kind)
        return StreakSummary(
            current=current_streak(days, today or date.today()),
            longest=longest_streak(days),
            days=days,
        )
