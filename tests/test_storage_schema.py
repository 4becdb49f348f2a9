"""Tests of wobble_trainer.storage.schema: migrations, and opening an old database forward."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.storage import SCHEMA_VERSION, Database
from wobble_trainer.storage.codec import pack_trace
from wobble_trainer.storage.schema import APPLICATION_ID, MIGRATIONS, migrate, user_version


def _make_v1(path: Path) -> None:
    """A database as version 1 of Wobble Trainer left it (rollback journal, v1 tables only)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    assert migrate(conn, target=1) == 0
    conn.execute("COMMIT")
    conn.execute(
        "INSERT INTO profiles (name, birth_year, height_m, injured_side, dominant_leg, "
        "created_at) VALUES ('Old Timer', 1950, 1.7, 'left', 'right', "
        "'2024-01-01T10:00:00.000+01:00')"
    )
    conn.execute(
        "INSERT INTO sessions (profile_id, kind, settings, started_at, ended_at, software_version,"
        " metrics) VALUES (2, 'test:sls', '{}', '2024-01-02T10:00:00.000+01:00', "
        "'2024-01-02T10:01:00.000+01:00', '0.0.1', '{\"best_s\": 12.5}')"
    )
    t = np.arange(5) / 100.0
    fmt, blob, n, crc = pack_trace(t, np.ones((5, 3)), np.zeros((5, 3)))
    conn.execute(
        "INSERT INTO trials (session_id, idx, sample_count, trace_format, trace, trace_crc32) "
        "VALUES (1, 0, ?, ?, ?, ?)",
        (n, fmt, blob, crc),
    )
    conn.close()


def test_v1_database_is_migrated_forward_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _make_v1(path)
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"
        assert db.integrity_check() == "ok"
        person = db.profiles.find("old timer")
        assert person is not None and person.injured_side == "left"
        (session,) = db.history.sessions(person.id)
        assert session.metrics == {"best_s": 12.5} and session.software_version == "0.0.1"
        (trial,) = db.sessions.load_trace(session.id)
        np.testing.assert_array_equal(trial.acc, np.ones((5, 3)))
        # Tables of later versions work.
        assigned = db.programmes.assign(person.id, "ankle-sprain-prevention", date(2025, 1, 6))
        assert db.programmes.current(person.id, date(2025, 1, 7)) == assigned
    # The version-1 file was copied aside before the one-way migration.
    backup = tmp_path / "db.sqlite3.v1.bak"
    raw = sqlite3.connect(backup)
    try:
        assert user_version(raw) == 1
        assert raw.execute("SELECT name FROM profiles WHERE id = 2").fetchone()[0] == "Old Timer"
    finally:
        raw.close()
    # Opening again does nothing more.
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION


def test_every_migration_step_from_empty(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    try:
        for version in range(SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            assert migrate(conn, target=version + 1) == version
            conn.execute("COMMIT")
            assert user_version(conn) == version + 1
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        assert {"profiles", "sessions", "trials", "programme_assignments"} <= tables
        # Exactly one guest, created by the first migration.
        assert conn.execute("SELECT count(*) FROM profiles WHERE is_guest").fetchone()[0] == 1
    finally:
        conn.close()


def test_failed_migration_leaves_old_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        migrate(conn, target=1)
        conn.execute("COMMIT")
        conn.execute("CREATE TABLE programme_assignments (x)")  # makes step 1→2 fail
        conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn)
        conn.execute("ROLLBACK")
        assert user_version(conn) == 1
    finally:
        conn.close()


def test_migrate_requires_a_transaction(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    try:
        with pytest.raises(RuntimeError, match="transaction"):
            migrate(conn)
    finally:
        conn.close()


def test_single_guest_and_constraints(tmp_path: Path) -> None:
    with Database(tmp_path / "x.sqlite3") as db:
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
            conn.execute("INSERT INTO profiles (name, is_guest, created_at) VALUES ('G2', 1, 'x')")
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
            conn.execute("UPDATE profiles SET injured_side = 'middle'")
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
            conn.execute("INSERT INTO sessions (profile_id, kind, started_at, software_version) "
                         "VALUES (999, 'x', 'y', 'z')")  # foreign keys are enforced


def test_v3_profiles_get_a_patient_code_each_and_the_plan_log_exists(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    migrate(conn, target=3)
    conn.execute("COMMIT")
    for name in ("A", "B", "C"):
        conn.execute(
            "INSERT INTO profiles (name, birth_year, height_m, dominant_leg, created_at) "
            "VALUES (?, 1970, 1.7, 'right', '2024-01-01T10:00:00.000+01:00')",
            (name,),
        )
    conn.close()
    with Database(path) as db:
        codes = [p.patient_code for p in db.profiles.all()]
        assert all(c is not None and len(c) == 6 and c.isdigit() for c in codes)
        assert len(set(codes)) == 3
        assert db.profiles.guest().patient_code is None
        a = db.profiles.find("A")
        db.plan_steps.complete(a.id, date(2025, 1, 6), "warm-up-march", duration_s=60.0)
        assert [s.step_key for s in db.plan_steps.on_day(a.id, date(2025, 1, 6))] == [
            "warm-up-march"
        ]
