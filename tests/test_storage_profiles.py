"""Tests of wobble_trainer.storage.profiles: profiles, the guest, and deletion of all data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.storage import Database, NotFoundError, open_database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with open_database(tmp_path) as database:
        yield database


def test_create_and_read(db: Database) -> None:
    p = db.profiles.create("  P-017 ", 1955, 1.68, "left", injured_side="right", sex="female")
    assert p.name == "P-017" and p.birth_year == 1955 and p.height_m == 1.68
    assert p.dominant_leg == "left" and p.injured_side == "right" and p.sex == "female"
    assert not p.is_guest and p.created_at.tzinfo is not None
    assert p.age_on(date(2025, 6, 1)) == 70
    assert db.profiles.get(p.id) == p
    assert db.profiles.find("p-017") == p
    assert db.profiles.find("nobody") is None
    q = db.profiles.create("Anna", 2001, 1.60, "right")  # sex optional
    assert q.sex is None and q.injured_side == "none"
    assert [x.name for x in db.profiles.all()] == ["Anna", "P-017"]
    assert [x.name for x in db.profiles.all(include_guest=True)] == ["Anna", "P-017", "Guest"]
    with pytest.raises(NotFoundError):
        db.profiles.get(999)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " "}, "name"),
        ({"birth_year": 1800}, "birth year"),
        ({"birth_year": date.today().year + 1}, "birth year"),
        ({"birth_year": 1980.5}, "whole year"),
        ({"height_m": 175}, "metres"),
        ({"dominant_leg": "both"}, "dominant leg"),
        ({"injured_side": "middle"}, "injured side"),
        ({"sex": "f"}, "sex"),
    ],
)
def test_validation(db: Database, kwargs: dict, message: str) -> None:
    args = {"name": "X", "birth_year": 1980, "height_m": 1.7, "dominant_leg": "left"} | kwargs
    with pytest.raises(ValueError, match=message):
        db.profiles.create(**args)
    assert db.profiles.all() == []


def test_names_are_unique_ignoring_case(db: Database) -> None:
    db.profiles.create("Anna", 1980, 1.7, "left")
    with pytest.raises(ValueError, match="already used"):
        db.profiles.create("ANNA", 1980, 1.7, "left")
    with pytest.raises(ValueError, match="already used"):
        db.profiles.create("guest", 1980, 1.7, "left")


def test_update(db: Database) -> None:
    p = db.profiles.create("Anna", 1980, 1.7, "left")
    other = db.profiles.create("Bea", 1981, 1.6, "left")
    edited = db.profiles.update(replace(p, injured_side="both", height_m=1.71, name="Anna K"))
    assert edited.injured_side == "both" and edited.height_m == 1.71 and edited.name == "Anna K"
    assert db.profiles.get(p.id) == edited
    with pytest.raises(ValueError, match="already used"):
        db.profiles.update(replace(edited, name="bea"))
    with pytest.raises(ValueError, match="injured side"):
        db.profiles.update(replace(other, injured_side="up"))


def test_guest_is_built_in(db: Database) -> None:
    guest = db.profiles.guest()
    assert guest.is_guest and guest.name == "Guest" and guest.birth_year is None
    with pytest.raises(ValueError, match="guest"):
        db.profiles.delete(guest.id)
    with pytest.raises(ValueError, match="guest"):
        db.profiles.update(replace(guest, birth_year=1990))


def test_delete_removes_all_data_of_that_profile_only(db: Database) -> None:
    secret = "Zebediah-Quux-7731"
    gone = db.profiles.create(secret, 1970, 1.8, "right")
    kept = db.profiles.create("Stays", 1970, 1.8, "right")
    for pid in (gone.id, kept.id):
        who = secret if pid == gone.id else "x"
        s = db.sessions.start(pid, "test", calibration=f'{{"who": "{who}"}}')
        db.sessions.add_trial(s.id, np.arange(100.0), np.ones((100, 3)), np.ones((100, 3)))
        db.programmes.assign(pid, "ankle", date(2025, 1, 6))

    def files_contain(text: str) -> bool:
        return any(text.encode() in f.read_bytes() for f in db.path.parent.iterdir())

    assert files_contain(secret)
    db.profiles.delete(gone.id)

    with pytest.raises(NotFoundError):
        db.profiles.get(gone.id)
    rows = {
        table: db.query(f"SELECT count(*) FROM {table}")[0][0]
        for table in ("sessions", "trials", "programme_assignments")
    }
    assert rows == {"sessions": 1, "trials": 1, "programme_assignments": 1}  # cascaded
    assert len(db.history.sessions(kept.id)) == 1
    assert db.programmes.current(kept.id, date(2025, 2, 1)) is not None
    assert db.integrity_check() == "ok"
    # secure_delete + log truncation: the name is gone from the files, not just unlinked.
    assert not files_contain(secret)


def test_patient_codes_are_unique_digits_found_by_code_and_renewable(db: Database) -> None:
    a = db.profiles.create("Ann", 1970, 1.7, "right")
    b = db.profiles.create("Bob", 1970, 1.7, "right")
    assert a.patient_code.isdigit() and len(a.patient_code) == 6
    assert a.patient_code != b.patient_code
    assert db.profiles.by_code(a.patient_code) == a
    assert db.profiles.by_code(f" {b.patient_code[:3]} {b.patient_code[3:]} ") == b
    assert db.profiles.by_code("") is None
    assert db.profiles.by_code("not-a-code") is None
    renewed = db.profiles.new_code(a.id)
    assert renewed.patient_code != a.patient_code
    assert db.profiles.by_code(a.patient_code) is None
    assert db.profiles.by_code(renewed.patient_code) == renewed
    with pytest.raises(ValueError, match="guest"):
        db.profiles.new_code(db.profiles.guest().id)
