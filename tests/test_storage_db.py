"""Tests of wobble_trainer.storage.db: opening, pragmas, refusals, errors, closing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.storage import (
    DB_FILENAME,
    SCHEMA_VERSION,
    Database,
    DiskFullError,
    NewerSchemaError,
    NotOurDatabaseError,
    StorageError,
    open_database,
)
from wobble_trainer.storage.db import read_header
from wobble_trainer.storage.schema import APPLICATION_ID


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_open_creates_database_with_safe_settings(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "state"
    with open_database(directory) as db:
        assert db.path == directory / DB_FILENAME
        assert db.schema_version == SCHEMA_VERSION
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"
        assert db.query("PRAGMA foreign_keys")[0][0] == 1
        assert db.query("PRAGMA synchronous")[0][0] == 2  # FULL
        assert db.query("PRAGMA secure_delete")[0][0] == 1
        assert db.query("PRAGMA application_id")[0][0] == APPLICATION_ID
        assert db.integrity_check() == "ok"
    assert read_header(directory / DB_FILENAME) == (SCHEMA_VERSION, APPLICATION_ID)


def test_default_directory_is_the_state_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "st"))
    with open_database() as db:
        assert db.path == tmp_path / "st" / DB_FILENAME


def test_reopen_keeps_data_and_context_manager_closes(tmp_path: Path) -> None:
    with open_database(tmp_path) as db:
        db.profiles.create("A", 1960, 1.6, "left")
    assert db.closed
    with pytest.raises(StorageError, match="closed"):
        db.profiles.all()
    db.close()  # idempotent
    with open_database(tmp_path) as db2:
        assert [p.name for p in db2.profiles.all()] == ["A"]


def test_missing_directory_for_a_file_path(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        Database(tmp_path / "nope" / "x.sqlite3")


def test_newer_schema_is_refused_and_file_left_unchanged(tmp_path: Path) -> None:
    with open_database(tmp_path) as db:
        db.profiles.create("A", 1960, 1.6, "left")
        path = db.path
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = _digest(path)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(NewerSchemaError) as info:
        open_database(tmp_path)
    message = str(info.value)
    assert f"version {SCHEMA_VERSION + 1}" in message
    assert f"up to {SCHEMA_VERSION}" in message
    assert "Update wobble-trainer" in message and "not been changed" in message
    assert info.value.found == SCHEMA_VERSION + 1
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before


def test_newer_schema_only_in_the_log_is_refused_too(tmp_path: Path) -> None:
    """The header can be stale while the newest state sits in the write-ahead log."""
    with open_database(tmp_path) as db:
        path = db.path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")  # lands in the WAL only
    assert read_header(path)[0] == SCHEMA_VERSION
    before = _digest(path)
    try:
        with pytest.raises(NewerSchemaError, match=f"version {SCHEMA_VERSION + 5}"):
            Database(path)
        assert _digest(path) == before
        assert holder.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    finally:
        holder.close()


def test_foreign_files_are_refused_untouched(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(NotOurDatabaseError, match="not an SQLite database"):
        Database(junk)
    assert junk.read_bytes() == b"not a database at all" * 10

    other = tmp_path / "other.sqlite3"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    before = _digest(other)
    with pytest.raises(NotOurDatabaseError, match="another program"):
        Database(other)
    assert _digest(other) == before

    tagged = tmp_path / "tagged.sqlite3"
    raw = sqlite3.connect(tagged)
    raw.execute("PRAGMA application_id = 1234")
    raw.execute("PRAGMA user_version = 1")
    raw.close()
    before = _digest(tagged)
    with pytest.raises(NotOurDatabaseError, match="0x000004d2"):
        Database(tagged)
    assert _digest(tagged) == before


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION


def test_full_disk_is_a_clear_error_and_leaves_the_database_consistent(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    with open_database(tmp_path) as db:
        person = db.profiles.create("A", 1960, 1.6, "left")
        session = db.sessions.start(person.id, "test")
        n = 3000
        t = np.arange(n) / 1000.0
        first = (t, rng.normal(size=(n, 3)), rng.normal(size=(n, 3)))
        db.sessions.add_trial(session.id, *first)
        pages = db.query("PRAGMA page_count")[0][0]
        # A size limit a few pages above the current size makes SQLite report SQLITE_FULL,
        # exactly as a full SD card would.
        db.query(f"PRAGMA max_page_count = {pages + 4}")
        with pytest.raises(DiskFullError) as info:
            db.sessions.add_trial(session.id, t, rng.normal(size=(n, 3)), rng.normal(size=(n, 3)))
        message = str(info.value)
        assert "is full" in message and "Free some space" in message
        assert "saved before is intact" in message
        assert isinstance(info.value, StorageError)
        # Rolled back: no transaction left open, only the first trial stored, all sound.
        assert not db._conn.in_transaction
        assert db.integrity_check() == "ok"
        (stored,) = db.sessions.load_trace(session.id)
        np.testing.assert_array_equal(stored.t, t)
        # Small writes still fit; after freeing space the big one succeeds.
        db.sessions.add_events(session.id, [{"type": "note"}])
        db.query("PRAGMA max_page_count = 1000000")
        db.sessions.add_trial(session.id, t, *first[1:])
        assert db.sessions.get(session.id).trial_count == 2
    with open_database(tmp_path) as db:
        assert db.integrity_check() == "ok"
        assert db.sessions.get(session.id).events == [{"type": "note"}]


def test_busy_database_is_a_clear_error(tmp_path: Path) -> None:
    with open_database(tmp_path) as db:
        path = db.path
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        with Database(path, busy_timeout_s=0.01) as db, pytest.raises(StorageError,
                                                                        match="busy"):
            db.profiles.create("B", 1960, 1.6, "left")
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_transaction_rolls_back_on_error_and_nests(tmp_path: Path) -> None:
    with open_database(tmp_path) as db:
        with pytest.raises(RuntimeError), db.transaction() as conn:
            conn.execute("UPDATE profiles SET injured_side = 'left'")
            with db.transaction() as inner:  # joins the outer transaction
                inner.execute("UPDATE profiles SET injured_side = 'both'")
            raise RuntimeError("abort")
        assert db.profiles.guest().injured_side == "none"
        with db.transaction() as conn, db.transaction() as inner:
            inner.execute("UPDATE profiles SET height_m = 1.5")
        assert db.profiles.guest().height_m == 1.5


def test_invalid_precision(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="precision"):
        Database(tmp_path / "x.sqlite3", trace_precision="float16")


def test_health_data_is_readable_by_nobody_else(tmp_path: Path, monkeypatch) -> None:
    import stat

    monkeypatch.setenv("WOBBLE_STATE_DIR", "")
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    with open_database() as db:
        db.profiles.create("A", 1970, 1.7, "left")
        files = [db.path, db.path.with_name(db.path.name + "-wal")]
        mode = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert stat.S_IMODE((tmp_path / "share" / "wobble-trainer").stat().st_mode) == 0o700
    assert set(mode.values()) == {0o600}, mode


def test_an_older_open_state_directory_and_database_are_tightened(tmp_path: Path) -> None:
    import stat

    directory = tmp_path / "wobble-trainer"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    with open_database(directory) as db:
        db.profiles.create("A", 1970, 1.7, "left")
    (directory / "wobble-trainer.sqlite3").chmod(0o644)
    open_database(directory).close()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "wobble-trainer.sqlite3").stat().st_mode) == 0o600


def test_a_database_path_that_is_a_directory_or_unreadable_is_a_clear_error(
    tmp_path: Path, monkeypatch
) -> None:
    import errno

    (tmp_path / "wobble-trainer.sqlite3").mkdir()
    with pytest.raises(StorageError, match="is a directory"):
        open_database(tmp_path)
    (tmp_path / "wobble-trainer.sqlite3").rmdir()
    open_database(tmp_path).close()

    def unreadable(self, *args, **kwargs):  # tests run as root, who may read anything
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "open", unreadable)
    with pytest.raises(StorageError, match="cannot be read .Permission denied"):
        open_database(tmp_path)
