"""Tests of wobble_trainer.storage.history: history queries and streaks."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wobble_trainer.storage import (
    Database,
    Streak,
    current_streak,
    find_streaks,
    longest_streak,
    open_database,
)

D = date(2025, 3, 3)  # a Monday


def days(*offsets: int) -> list[date]:
    return [D + timedelta(days=k) for k in offsets]


def test_find_streaks() -> None:
    assert find_streaks([]) == []
    runs = find_streaks(days(5, 0, 1, 1, 2, 7, 8))  # unordered, with a duplicate
    assert runs == [Streak(D, D + timedelta(days=2)), Streak(*days(5, 5)), Streak(*days(7, 8))]
    assert [r.days for r in runs] == [3, 1, 2]
    # Across a month and a year boundary.
    assert find_streaks([date(2024, 12, 31), date(2025, 1, 1)])[0].days == 2


def test_longest_streak() -> None:
    assert longest_streak([]) == 0
    assert longest_streak(days(0, 1, 2, 4, 5)) == 3
    assert longest_streak(days(3)) == 1


def test_current_streak() -> None:
    history = days(0, 1, 2, 4, 5)
    assert current_streak(history, D + timedelta(days=5)) == 2  # trained today
    assert current_streak(history, D + timedelta(days=6)) == 2  # not yet today: still alive
    assert current_streak(history, D + timedelta(days=7)) == 0  # missed yesterday
    assert current_streak(history, D + timedelta(days=2)) == 3  # later days ignored
    assert current_streak([], D) == 0


TZ = timezone(timedelta(hours=1))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with open_database(tmp_path) as database:
        yield database


def _session(db: Database, pid: int, when: datetime, kind: str = "game:maze", **metrics) -> int:
    s = db.sessions.start(pid, kind, started_at=when)
    db.sessions.finish(s.id, metrics=metrics or None, ended_at=when + timedelta(minutes=5))
    return s.id


def test_history_queries(db: Database) -> None:
    p = db.profiles.create("Anna", 1980, 1.7, "left")
    other = db.profiles.create("Bea", 1980, 1.7, "left")
    at = lambda d, h=10: datetime(2025, 3, d, h, tzinfo=TZ)  # noqa: E731
    ids = [
        _session(db, p.id, at(3), "test:pst", osi_deg=3.0),
        _session(db, p.id, at(3, 18), "game:maze"),
        _session(db, p.id, at(4), "test:pst", osi_deg=2.5),
        # Late evening in another zone: the stored local date (5 March) counts, not UTC's.
        _session(db, p.id, datetime(2025, 3, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
                 "test:pst", osi_deg=2.0, nested={"best_s": 9.5}),
        _session(db, p.id, at(10), "game:maze"),
    ]
    _session(db, other.id, at(4), "test:pst")
    guest_session = db.sessions.start(db.profiles.guest().id, "game:maze", started_at=at(4, 12))
    db.sessions.keep(guest_session.id, profile_id=p.id)
    unkept = db.sessions.start(db.profiles.guest().id, "game:maze", started_at=at(4))

    everything = db.history.sessions(p.id)
    assert [s.id for s in everything] == [ids[0], ids[1], ids[2], guest_session.id, ids[3],
                                          ids[4]]
    in_range = db.history.sessions(p.id, start=date(2025, 3, 4), end=date(2025, 3, 5))
    assert [s.id for s in in_range] == [ids[2], guest_session.id, ids[3]]
    assert [s.id for s in db.history.sessions(p.id, kind="test:pst", end=date(2025, 3, 4))] == [
        ids[0], ids[2]]
    guest_id = db.profiles.guest().id
    assert db.history.sessions(guest_id) == []
    assert [s.id for s in db.history.sessions(guest_id, include_unkept=True)] == [unkept.id]

    counts = db.history.daily_counts(p.id, start=date(2025, 3, 3), end=date(2025, 3, 5))
    assert [(c.day.day, c.kind, c.count) for c in counts] == [
        (3, "game:maze", 1), (3, "test:pst", 1), (4, "game:maze", 1), (4, "test:pst", 1),
        (5, "test:pst", 1)]
    assert db.history.kinds(p.id) == {"game:maze": 3, "test:pst": 3}

    series = db.history.metric_series(p.id, "test:pst", "osi_deg")
    assert [(m.session_id, m.value) for m in series] == [(ids[0], 3.0), (ids[2], 2.5),
                                                         (ids[3], 2.0)]
    nested = db.history.metric_series(p.id, "test:pst", "nested", "best_s")
    assert [m.value for m in nested] == [None, None, 9.5]
    with pytest.raises(ValueError, match="quotes"):
        db.history.metric_series(p.id, "test:pst", 'a"b')

    assert db.history.session_days(p.id) == [date(2025, 3, d) for d in (3, 4, 5, 10)]
    summary = db.history.streaks(p.id, today=date(2025, 3, 6))
    assert (summary.current, summary.longest) == (3, 3)
    assert db.history.streaks(p.id, today=date(2025, 3, 10)).current == 1
    assert db.history.streaks(p.id, today=date(2025, 3, 12)).current == 0
    assert db.history.streaks(p.id, kind="test:pst", today=date(2025, 3, 5)).current == 3
