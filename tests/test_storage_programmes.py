"""Tests of wobble_trainer.storage.programmes: assigning the balance programme to profiles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from wobble_trainer.storage import Database, NotFoundError, open_database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with open_database(tmp_path) as database:
        yield database


def test_assign_and_look_up(db: Database) -> None:
    p = db.profiles.create("Anna", 1980, 1.7, "left")
    a = db.programmes.assign(p.id, "ankle-sprain-prevention", date(2025, 3, 3),
                             assigned_by="Dr. Physio", note="after left sprain")
    assert (a.programme_id, a.start_date, a.end_date) == ("ankle-sprain-prevention",
                                                          date(2025, 3, 3), None)
    assert a.assigned_by == "Dr. Physio" and a.note == "after left sprain"
    assert a.assigned_at.tzinfo is not None
    assert db.programmes.current(p.id, date(2025, 3, 2)) is None  # not started yet
    assert db.programmes.current(p.id, date(2025, 3, 3)) == a
    assert db.programmes.get(a.id) == a
    # Day and week counting for the programme content (weeks 1-4, then maintenance).
    assert a.day_on(date(2025, 3, 3)) == 1 and a.week_on(date(2025, 3, 3)) == 1
    assert a.week_on(date(2025, 3, 9)) == 1 and a.week_on(date(2025, 3, 10)) == 2
    assert a.week_on(date(2025, 3, 31)) == 5
    assert a.week_on(date(2025, 3, 1)) == 0


def test_new_assignment_ends_the_current_one(db: Database) -> None:
    p = db.profiles.create("Anna", 1980, 1.7, "left")
    first = db.programmes.assign(p.id, "ankle-sprain-prevention", date(2025, 3, 3))
    second = db.programmes.assign(p.id, "maintenance-only", date(2025, 4, 1))
    history = db.programmes.history(p.id)
    assert [h.id for h in history] == [first.id, second.id]
    assert history[0].end_date == date(2025, 4, 1) and history[1].end_date is None
    assert db.programmes.current(p.id, date(2025, 3, 31)).id == first.id
    assert db.programmes.current(p.id, date(2025, 4, 1)).id == second.id
    assert not history[0].active_on(date(2025, 4, 1)) and history[0].active_on(date(2025, 3, 31))
    with pytest.raises(ValueError, match="end it first"):
        db.programmes.assign(p.id, "other", date(2025, 3, 15))
    ended = db.programmes.end(second.id, date(2025, 5, 1))
    assert ended.end_date == date(2025, 5, 1)
    assert db.programmes.current(p.id, date(2025, 5, 1)) is None
    with pytest.raises(ValueError, match="before the start"):
        db.programmes.end(second.id, date(2025, 1, 1))


def test_refusals(db: Database) -> None:
    guest = db.profiles.guest()
    with pytest.raises(ValueError, match="guest"):
        db.programmes.assign(guest.id, "ankle", date(2025, 1, 1))
    with pytest.raises(NotFoundError):
        db.programmes.assign(999, "ankle", date(2025, 1, 1))
    p = db.profiles.create("Anna", 1980, 1.7, "left")
    with pytest.raises(ValueError, match="programme id"):
        db.programmes.assign(p.id, " ", date(2025, 1, 1))
    with pytest.raises(ValueError, match="must be a date"):
        db.programmes.assign(p.id, "ankle", "2025-01-01")
    with pytest.raises(NotFoundError):
        db.programmes.get(42)
    assert db.programmes.history(p.id) == []
