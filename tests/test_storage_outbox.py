"""The board's outbox: filled by triggers in the same transaction as each change, emptied only
by confirmation, documents built generically; changes from the hub are not queued back."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date

import pytest
from conftest import record_session

from wobble_trainer.storage import Database, open_database
from wobble_trainer.storage.compact import decode_trace
from wobble_trainer.storage.schema import MIGRATIONS, migrate


@pytest.fixture
def db(tmp_path):
    with open_database(tmp_path) as opened:
        yield opened


def kinds(db) -> list[tuple[str, str]]:
    return [(e.kind, e.uid) for e in db.outbox.pending()]


def uid_of(db, table: str, row_id: int) -> str:
    return db.query(f"SELECT uid FROM {table} WHERE id = ?", (row_id,))[0]["uid"]


def test_new_profiles_and_finished_sessions_are_queued(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    p_uid = uid_of(db, "profiles", ann.id)
    assert len(p_uid) == 32 and kinds(db) == [("profile", p_uid)]
    s = db.sessions.start(ann.id, "game:marbles")
    assert kinds(db) == [("profile", p_uid)]  # not before it is finished
    db.sessions.finish(s.id, metrics={"osi": 1.0})
    assert kinds(db) == [("profile", p_uid), ("session", uid_of(db, "sessions", s.id))]


def test_guest_sessions_are_queued_only_when_kept_for_a_real_profile(db):
    guest = db.profiles.guest()
    s = record_session(db, guest.id)
    assert kinds(db) == []
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    db.sessions.keep(s.id, ann.id)
    assert ("session", uid_of(db, "sessions", s.id)) in kinds(db)


def test_edits_assignments_and_deletions_are_queued(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    uid = uid_of(db, "profiles", ann.id)
    s = record_session(db, ann.id)
    s_uid = uid_of(db, "sessions", s.id)
    for e in db.outbox.pending():
        db.outbox.done(e)
    db.profiles.update(dataclasses.replace(ann, height_m=1.7))
    assert kinds(db) == [("profile", uid)]
    db.outbox.done(db.outbox.pending()[0])
    db.programmes.assign(ann.id, "ankle-sprain-prevention", date(2026, 1, 5))
    assert kinds(db) == [("profile", uid)]
    db.sessions.delete(s.id)
    assert ("delete_session", s_uid) in kinds(db)
    db.profiles.delete(ann.id)
    assert kinds(db) == [("delete_session", s_uid), ("delete_profile", uid)]


def test_deleting_a_profile_queues_one_deletion_not_one_per_session(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(db, ann.id)
    record_session(db, ann.id, seed=1)
    db.profiles.delete(ann.id)
    assert [k for k, _ in kinds(db)] == ["delete_profile"]


def test_a_change_queued_again_while_sending_stays_queued(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    sent = db.outbox.pending()[0]
    db.profiles.update(dataclasses.replace(ann, height_m=1.7))  # while the upload runs
    db.outbox.done(sent)
    assert [e.kind for e in db.outbox.pending()] == ["profile"]


def test_session_document_carries_every_column_and_exact_traces(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    s = record_session(db, ann.id, trials=2, samples=300)
    # A column a later migration adds travels without any code change.
    with db.transaction() as conn:
        conn.execute("ALTER TABLE trials ADD COLUMN analysis_version TEXT")
        conn.execute("UPDATE trials SET analysis_version = 'v9'")
    doc = db.outbox.session_document(uid_of(db, "sessions", s.id))
    assert doc["profile_uid"] == uid_of(db, "profiles", ann.id)
    assert doc["columns"]["metrics"] == '{"osi":1.5,"apsi":1.0}'
    assert doc["columns"]["calibration"] == s.calibration
    assert "id" not in doc["columns"] and "profile_id" not in doc["columns"]
    trials = db.sessions.load_trace(s.id)
    for sent, mine in zip(doc["trials"], trials, strict=True):
        assert sent["columns"]["analysis_version"] == "v9"
        assert sent["columns"]["label"] == mine.label
        t, acc, gyr = decode_trace(sent["trace"])
        assert t.tobytes() == mine.t.tobytes() and acc.tobytes() == mine.acc.tobytes()
        assert gyr.tobytes() == mine.gyr.tobytes()
    assert db.outbox.session_document("no such uid") is None


def test_profiles_from_the_hub_are_written_without_being_queued_back(db):
    ann = db.profiles.create("Ann", 1960, 1.65, "left")
    uid = uid_of(db, "profiles", ann.id)
    for e in db.outbox.pending():
        db.outbox.done(e)
    doc = {
        "uid": uid,
        "revision": 4,
        "fields": {
            "name": "Ann",
            "birth_year": 1960,
            "sex": "female",
            "height_m": 1.7,
            "injured_side": "left",
            "dominant_leg": "left",
        },
        "assignments": [
            {
                "programme_id": "ankle-sprain-prevention",
                "start_date": "2026-01-05",
                "end_date": None,
                "assigned_at": "2026-01-04T10:00:00.000+00:00",
                "assigned_by": "dr who",
                "note": None,
            }
        ],
    }
    db.outbox.apply_profile(doc)
    assert kinds(db) == []
    got = db.profiles.get(ann.id)
    assert (got.height_m, got.sex, got.injured_side) == (1.7, "female", "left")
    assert db.outbox.known_revisions() == {uid: 4}
    assert db.programmes.current(ann.id, on=date(2026, 1, 6)).assigned_by == "dr who"
    # A new patient with a name already used here keeps both people apart.
    bob = db.profiles.create("Bob", 1970, 1.8, "right")
    new = {**doc, "uid": "f" * 32, "fields": {**doc["fields"], "name": "Bob"}, "assignments": []}
    assert db.outbox.apply_profile(new) == "Bob (2)"
    assert db.outbox.delete_profile("f" * 32) and db.profiles.find("Bob (2)") is None
    assert kinds(db) == [("profile", uid_of(db, "profiles", bob.id))]  # only the local one


def test_migrating_an_older_database_gives_existing_rows_ids(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    migrate(conn, target=len(MIGRATIONS) - 1)
    conn.execute(
        "INSERT INTO profiles (name, birth_year, height_m, dominant_leg, created_at) "
        "VALUES ('Ann', 1960, 1.6, 'left', '2025-01-01T00:00:00.000+00:00')"
    )
    conn.execute("COMMIT")
    conn.close()
    with Database(path) as db:
        uids = [r["uid"] for r in db.query("SELECT uid FROM profiles")]
        assert len(set(uids)) == 2 and all(len(u) == 32 for u in uids)
