"""Tests of wobble_trainer.storage.plan_steps: the home routine's adherence log."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from wobble_trainer.storage import Database, open_database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with open_database(tmp_path) as database:
        yield database


def test_completed_steps_are_logged_per_profile_and_day_once(db: Database) -> None:
    ann = db.profiles.create("Ann", 1970, 1.7, "right")
    bob = db.profiles.create("Bob", 1970, 1.7, "right")
    day = date(2025, 3, 3)
    db.plan_steps.complete(ann.id, day, "calf-raises", programme_id="p", week=2, reps=10)
    again = db.plan_steps.complete(ann.id, day, "calf-raises", programme_id="p", week=2, reps=12)
    db.plan_steps.complete(ann.id, date(2025, 3, 4), "warm-up-march", duration_s=60)
    db.plan_steps.complete(bob.id, day, "calf-raises", reps=8)
    (row,) = db.plan_steps.on_day(ann.id, day)
    assert row == again and row.reps == 12 and row.week == 2 and row.programme_id == "p"
    assert [s.step_key for s in db.plan_steps.between(ann.id, day, date(2025, 3, 4))] == [
        "calf-raises",
        "warm-up-march",
    ]
    assert [s.reps for s in db.plan_steps.on_day(bob.id, day)] == [8]
    db.profiles.delete(ann.id)  # cascades
    assert db.plan_steps.between(ann.id, day, date(2025, 3, 4)) == []


def test_bad_steps_are_refused_with_a_reason(db: Database) -> None:
    ann = db.profiles.create("Ann", 1970, 1.7, "right")
    day = date(2025, 3, 3)
    with pytest.raises(ValueError, match="guest"):
        db.plan_steps.complete(db.profiles.guest().id, day, "calf-raises")
    with pytest.raises(ValueError, match="no profile"):
        db.plan_steps.complete(9999, day, "calf-raises")
    with pytest.raises(ValueError, match="key"):
        db.plan_steps.complete(ann.id, day, " ")
    with pytest.raises(ValueError, match="reps"):
        db.plan_steps.complete(ann.id, day, "x", reps=-1)
    with pytest.raises(ValueError, match="duration"):
        db.plan_steps.complete(ann.id, day, "x", duration_s=math.nan)
