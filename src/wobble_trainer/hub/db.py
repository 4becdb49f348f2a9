"""The hub's database: one SQLAlchemy engine for SQLite or PostgreSQL, migrated with Alembic.

``database_url(None)`` is the embedded SQLite file in the hub's state directory (see
:func:`wobble_trainer.paths.hub_state_dir`), so a hub runs on a laptop or a Pi with nothing else
installed; ``postgresql://user@host/db`` is PostgreSQL through psycopg 3. Everything else in the
hub goes through :class:`HubDatabase` and SQLAlchemy Core, one code path for both.

SQLite is opened in WAL mode with foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: two requests writing at once then queue on the busy timeout instead of one
failing with "database is locked" when it tries to upgrade a read lock.

Migrations (:mod:`wobble_trainer.hub.migrations`, shipped in the package) run on start and with
``wobble hub migrate``. On PostgreSQL they hold an advisory lock, so several hub processes
starting together migrate once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from wobble_trainer.hub import tables

HUB_DB_FILENAME = "wobble-hub.sqlite3"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x57424C54  # advisory lock key on PostgreSQL ("WBLT")
SQLITE_BUSY_TIMEOUT_S = 30.0


class HubDatabaseError(RuntimeError):
    """The hub's database cannot be used (bad URL, unreachable server, newer schema)."""


def database_url(url: str | None) -> str:
    """The SQLAlchemy URL for ``--database`` (``None``: the embedded SQLite file)."""
    if not url:
        from wobble_trainer.paths import hub_state_dir

        return f"sqlite:///{hub_state_dir(create=True) / HUB_DB_FILENAME}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise HubDatabaseError(
        f"--database {url!r} is not a database URL the hub knows: give "
        "postgresql://USER:PASSWORD@HOST:PORT/NAME, sqlite:///PATH, or nothing for the embedded "
        "SQLite file"
    )


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001 - DB-API objects
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None) -> Engine:
    """An engine for ``--database`` (see :func:`database_url`)."""
    full = database_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError as exc:
        raise HubDatabaseError(f"--database: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.parent.is_dir():
            raise HubDatabaseError(
                f"the directory {path.parent} for the hub's database does not exist; create it"
            )
        engine = create_engine(full, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_setup(engine)
        return engine
    return create_engine(full, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest migration this code ships."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The migration the database is at (``None`` for an empty one)."""
    return MigrationContext.configure(conn).get_current_revision()


class HubDatabase:
    """The hub's database, migrated to the newest schema on opening (use ``with``)."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            if migrate:
                self.migrate()
            else:
                self.check_schema()
        except BaseException:
            self.engine.dispose()
            raise

    def migrate(self) -> tuple[str | None, str]:
        """Bring the schema to the newest revision; returns (found, now)."""
        head = head_revision()
        with self._connect("migrating the hub's database") as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            try:
                found = current_revision(conn)
                self._refuse_newer(found)
                if found != head:
                    command.upgrade(_alembic_config(conn), "head")
                conn.commit()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()
        return found, head

    def check_schema(self) -> None:
        """Refuse a database that is not at this code's schema revision."""
        with self._connect("reading the hub's database") as conn:
            found = current_revision(conn)
        self._refuse_newer(found)
        if found != head_revision():
            raise HubDatabaseError(
                f"the hub's database is at schema revision {found}, this hub needs "
                f"{head_revision()}: run `wobble hub migrate`"
            )

    @staticmethod
    def _refuse_newer(found: str | None) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
        if found is not None and found not in known:
            raise HubDatabaseError(
                f"the hub's database is at schema revision {found!r}, which this version of "
                "Wobble Trainer does not know (a newer hub wrote it); upgrade this hub"
            )

    @contextlib.contextmanager
    def _connect(self, what: str) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except Exception as exc:  # the driver's own error types differ per database
            raise HubDatabaseError(f"{what} failed: cannot connect ({exc})") from exc
        with conn:
            yield conn

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, rolled back on an exception."""
        with self.engine.begin() as conn:
            yield conn

    def stats(self) -> dict[str, int]:
        """Counts of boards, patients, sessions, trials and samples."""
        with self.begin() as conn:

            def count(table) -> int:  # noqa: ANN001
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

            samples = conn.execute(
                select(func.coalesce(func.sum(tables.trials.c.sample_count), 0))
            ).scalar_one()
            return {
                "boards": count(tables.boards),
                "patients": count(tables.patients),
                "sessions": count(tables.sessions),
                "trials": count(tables.trials),
                "samples": int(samples),
                "clinicians": count(tables.clinicians),
            }

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HubDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
