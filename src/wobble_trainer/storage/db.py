"""The database: one SQLite file, opened safely, migrated forward, closed on exit.

Why these settings (DOMAIN.md §8):

* **WAL journal** — readers (charts) never block the writer (the session being recorded), and a
  commit appends to the log instead of rewriting pages, which suits an SD card.
* **synchronous = FULL** — each commit is fsynced, so a committed trial also survives a power cut
  (the realistic crash on a Raspberry Pi), not only a killed process. A commit happens once per
  trial (tens of seconds), so the cost is negligible.
* **foreign_keys = ON** — SQLite's default is off; deleting a profile must cascade to its
  sessions, trials and programme assignments.
* **secure_delete = ON** — deleted health data is overwritten with zeros, not merely unlinked, and
  deleting a profile truncates the write-ahead log afterwards.
* **One transaction per change** — every method that writes runs in its own ``BEGIN IMMEDIATE`` …
  ``COMMIT``; killing the process at any instant leaves the last committed state.

Opening a file first reads its 100-byte header *without* SQLite: a database from a newer
Wobble Trainer (higher ``user_version``) or a file that is not ours is refused before anything
could touch it. An older database is copied to ``<name>.v<N>.bak`` and then migrated in one
transaction (see :mod:`wobble_trainer.storage.schema`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from wobble_trainer.paths import PRIVATE_FILE_MODE, make_private_dir
from wobble_trainer.storage import schema
from wobble_trainer.storage.codec import TracePrecision, trace_dtype
from wobble_trainer.storage.errors import (
    DiskFullError,
    NewerSchemaError,
    NotOurDatabaseError,
    StorageError,
)
from wobble_trainer.storage.history import HistoryStore
from wobble_trainer.storage.outbox import OutboxStore
from wobble_trainer.storage.plan_steps import PlanStepStore
from wobble_trainer.storage.profiles import ProfileStore
from wobble_trainer.storage.programmes import ProgrammeStore
from wobble_trainer.storage.sessions import SessionStore

DB_FILENAME = "wobble-trainer.sqlite3"
"""File name of the database inside the state directory."""

BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another process's transaction before giving up."""

_SQLITE_MAGIC = b"SQLite format 3\x00"


def read_header(path: Path) -> tuple[int, int] | None:
    """(user_version, application_id) read straight from a database file's header.

    ``None`` when the file is missing or empty (a new database). Raises
    :class:`NotOurDatabaseError` for a file that is not SQLite at all. Reading the bytes directly
    guarantees that merely looking at a file can never modify it.
    """
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StorageError(
            f"The database path {path} is a directory, not a file. Move it away (or choose "
            "another data directory) and start again; it has not been changed."
        ) from None
    except OSError as exc:
        raise StorageError(
            f"The database {path} cannot be read ({exc.strerror or exc}). Check that this user "
            "may read and write it (the service runs as user wobble)."
        ) from None
    if not header:
        return None
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise NotOurDatabaseError(
            f"{path} is not an SQLite database, so it cannot be Wobble Trainer's data. "
            "Move it away (or choose another data directory) and start again; it has not been "
            "changed."
        )
    user_version, = struct.unpack(">I", header[60:64])
    application_id, = struct.unpack(">I", header[68:72])
    return user_version, application_id


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (SQLite then gives its -wal and -shm files the same
    mode), or tighten an existing one of ours: the database holds health data."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
    except OSError:
        return  # SQLite's own open reports the problem in its words
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)


def _check_version(path: Path, user_version: int, application_id: int) -> None:
    if application_id not in (0, schema.APPLICATION_ID):
        raise NotOurDatabaseError(
            f"{path} is an SQLite database of another program (application id "
            f"{application_id:#010x}), not Wobble Trainer's. Choose another data directory; the "
            "file has not been changed."
        )
    if user_version > schema.SCHEMA_VERSION:
        raise NewerSchemaError(str(path), user_version, schema.SCHEMA_VERSION)


class Database:
    """A Wobble Trainer database file, opened (and created or migrated) on construction.

    Use it as a context manager so it is closed on exit::

        with open_database() as db:
            guest = db.profiles.guest()
            session = db.sessions.start(guest.id, "test:postural_stability")
            db.sessions.add_trial(session.id, t, acc, gyr, label="test 1")
            db.sessions.finish(session.id, metrics={"osi_deg": 2.1})

    The work is grouped in stores: :attr:`profiles`, :attr:`sessions` (recording, and the
    ``iter_sessions`` / ``load_trace`` / ``update_metrics`` trio for ``wobble recompute``),
    :attr:`programmes`, :attr:`history` and :attr:`outbox` (hub sync). Like :mod:`sqlite3`
    connections, a Database is used
    from the thread that opened it; other processes may open the same file at the same time.

    ``trace_precision`` is the dtype of new trials' accelerometer and gyroscope values (see
    :mod:`wobble_trainer.storage.codec`); traces already stored keep the format they were written
    with.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        trace_precision: TracePrecision = "float64",
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self.trace_dtype = trace_dtype(trace_precision)
        self.trace_precision: TracePrecision = trace_precision
        self._tx_depth = 0
        self._conn: sqlite3.Connection | None = None
        header = read_header(self.path)
        if header is not None:
            _check_version(self.path, *header)
        if not self.path.parent.is_dir():
            raise StorageError(
                f"The data directory {self.path.parent} does not exist; create it or choose "
                "another one."
            )
        _private_file(self.path)
        with self._translate("opening the database"):
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=True
            )
        self._conn = conn
        try:
            conn.row_factory = sqlite3.Row
            if header is not None and header[0] == 0:
                self._refuse_if_foreign(conn)
            self._configure(conn)
            self._upgrade(conn)
        except BaseException:
            self._conn = None
            conn.close()
            raise
        self.profiles = ProfileStore(self)
        self.sessions = SessionStore(self)
        self.programmes = ProgrammeStore(self)
        self.plan_steps = PlanStepStore(self)
        self.history = HistoryStore(self)
        self.outbox = OutboxStore(self)

    # -- opening -----------------------------------------------------------------------------

    def _refuse_if_foreign(self, conn: sqlite3.Connection) -> None:
        """Refuse a database with tables but no schema version: another program's file."""
        with self._translate("opening the database"):
            # The connection sees the write-ahead log, whose state may be newer than the header.
            version = schema.user_version(conn)
            tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
        if version == 0 and tables:
            raise NotOurDatabaseError(
                f"{self.path} holds tables but no Wobble Trainer schema version, so it is "
                "another program's database. Choose another data directory; the file has not "
                "been changed."
            )

    def _configure(self, conn: sqlite3.Connection) -> None:
        with self._translate("opening the database"):
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
                raise StorageError("this SQLite library cannot enforce foreign keys")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(
                    f"The database {self.path} cannot use write-ahead logging (the file system "
                    f"gave journal mode {mode!r}); put the data directory on a local disk."
                )
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA secure_delete = ON")

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        with self._translate("opening the database"):
            found_before = schema.user_version(conn)
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        _check_version(self.path, found_before, app_id)
        if found_before == schema.SCHEMA_VERSION:
            return  # the usual case: no write lock needed, so opening never waits for a writer
        if found_before > 0:
            self._backup(conn, found_before)
        with self.transaction("creating or upgrading the database"):
            # Authoritative re-check: the header may be stale if the newest state is still in
            # the write-ahead log, or another process may have migrated meanwhile.
            self._refuse_if_foreign(conn)
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            _check_version(self.path, schema.user_version(conn), app_id)
            schema.migrate(conn)

    def _backup(self, conn: sqlite3.Connection, version: int) -> None:
        """Copy an older database aside before migrating it: migrations are one-way."""
        target_path = self.path.with_name(f"{self.path.name}.v{version}.bak")
        with self._translate(f"backing up the version-{version} database before upgrading"):
            _private_file(target_path)
            target = sqlite3.connect(target_path)
            try:
                conn.backup(target)
            finally:
                target.close()

    # -- connection and transactions ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"the database {self.path} is closed")
        return self._conn

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Turn SQLite's errors into :class:`StorageError` messages that say what to do."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # a broken constraint is a caller's mistake; stores turn it into ValueError
        except sqlite3.Error as exc:
            raise self._storage_error(exc, what) from exc

    def _storage_error(self, exc: sqlite3.Error, what: str) -> StorageError:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        text = str(exc)
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
            return DiskFullError(
                f"The disk holding {self.path} is full: {what} failed, and nothing of it was "
                "saved. Everything saved before is intact. Free some space (delete old sessions "
                "or guest data, or move the data directory to a bigger partition) and try again."
            )
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StorageError(
                f"{what} failed: the database {self.path} is busy in another Wobble Trainer "
                "program. Close the other program (or wait for it) and try again."
            )
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
            return StorageError(
                f"{what} failed: cannot write {self.path} ({text}). Check that the data "
                "directory exists and that this user may write to it."
            )
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StorageError(
                f"{what} failed: the database {self.path} is damaged ({text}). Restore it from a "
                "backup, or move it away to start a new one."
            )
        if code == sqlite3.SQLITE_IOERR:
            return StorageError(
                f"{what} failed: the disk holding {self.path} reported an I/O error ({text}). "
                "Check the SD card or disk."
            )
        return StorageError(f"{what} failed: {text} (database {self.path})")

    @contextlib.contextmanager
    def transaction(self, what: str = "the change") -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction: all of it is committed, or none of it.

        Nested calls join the outermost transaction. ``what`` describes the change in error
        messages (e.g. "saving trial 2 of session 14").
        """
        conn = self._connection()
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield conn
            finally:
                self._tx_depth -= 1
            return
        with self._translate(what):
            conn.execute("BEGIN IMMEDIATE")
            self._tx_depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            finally:
                self._tx_depth = 0

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (errors translated to :class:`StorageError`)."""
        conn = self._connection()
        with self._translate("reading the database"):
            return conn.execute(sql, params).fetchall()

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` plus the foreign-key check: ``"ok"`` when sound."""
        rows = self.query("PRAGMA integrity_check")
        result = "; ".join(str(r[0]) for r in rows)
        broken = self.query("PRAGMA foreign_key_check")
        if broken:
            fk = f"{len(broken)} rows with missing parents"
            result = fk if result == "ok" else f"{result}; {fk}"
        return result

    @property
    def schema_version(self) -> int:
        """The schema version of the open database (always :data:`schema.SCHEMA_VERSION`)."""
        return schema.user_version(self._connection())

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate the log."""
        with self._translate("writing the log back to the database"):
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (idempotent). Committed data is already on disk."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA optimize")
        finally:
            conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Database({str(self.path)!r}, {state})"


def open_database(directory: str | Path | None = None, **options: Any) -> Database:
    """Open (creating if needed) the database in ``directory``.

    ``directory`` defaults to :func:`wobble_trainer.paths.state_dir` (``$WOBBLE_STATE_DIR``,
    ``$STATE_DIRECTORY`` or ``~/.local/share/wobble-trainer``); it is created if missing. The file
    is :data:`DB_FILENAME` inside it. ``options`` go to :class:`Database`.
    """
    if directory is None:
        from wobble_trainer.paths import state_dir

        base = state_dir(create=True)
    else:
        base = Path(directory)
        try:
            make_private_dir(base)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the data directory {base} ({exc.strerror}); choose a directory "
                "this user may write to."
            ) from exc
    return Database(base / DB_FILENAME, **options)
