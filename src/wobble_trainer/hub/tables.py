"""The hub's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

The Alembic migrations in :mod:`wobble_trainer.hub.migrations` create exactly these; a test
compares the migrated database with this metadata so the two cannot drift apart.

Everything the hub knows lives here, including what other servers keep in memory: clinicians'
login sessions, failed-login counters and lockouts, one-time enrolment codes. That is what lets
several hub processes serve one PostgreSQL database behind a load balancer.

Times are timezone-aware UTC. JSON documents are stored as text (the same on both databases).
Secrets (board secrets, enrolment codes, login-session tokens) are stored as SHA-256 digests of
256-bit (or, for the typed enrolment code, 60-bit and short-lived) random values; passwords as
scrypt hashes (see :mod:`wobble_trainer.hub.credentials`).
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcTime(TypeDecorator):
    """An aware UTC datetime on both databases (SQLite's driver would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001 - SQLAlchemy's signature
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("hub times must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTC_TIME = UtcTime()

clinicians = Table(
    "clinicians",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTC_TIME),
    Column("disabled", Boolean, nullable=False, default=False),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "clinician_id", Integer, ForeignKey("clinicians.id", ondelete="CASCADE"), nullable=False
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    Column("expires_at", UTC_TIME, nullable=False),
)

boards = Table(
    "boards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("secret_hash", String(64)),
    Column("created_at", UTC_TIME, nullable=False),
    Column("linked_at", UTC_TIME),
    Column("revoked_at", UTC_TIME),
    Column("last_sync_at", UTC_TIME),
    Column("software_version", String(100)),
    Column("status", Text, nullable=False, default="{}"),
)

enrol_codes = Table(
    "enrol_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("board_id", Integer, ForeignKey("boards.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    Column("expires_at", UTC_TIME, nullable=False),
    Column("used_at", UTC_TIME),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("profile", Text, nullable=False),
    Column("assignments", Text, nullable=False, default="[]"),
    Column("revision", Integer, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Column("updated_by", String(200)),
    Index("patients_by_name", "name"),
)

board_patients = Table(
    "board_patients",
    metadata,
    Column("board_id", Integer, ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
)

deleted_patients = Table(
    "deleted_patients",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("deleted_at", UTC_TIME, nullable=False),
    Column("deleted_by", String(200)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("patient_id", Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("board_id", Integer, ForeignKey("boards.id", ondelete="SET NULL")),
    Column("kind", String(200), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40)),
    Column("record", Text, nullable=False),
    Column("uploaded_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Column("headline", Float),
    Column("minutes", Float, nullable=False, default=0.0),
    Index("sessions_by_patient_time", "patient_id", "started_at"),
)

trials = Table(
    "trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("record", Text, nullable=False),
    Column("sample_count", Integer, nullable=False),
    Column("trace", LargeBinary, nullable=False),
    UniqueConstraint("session_id", "idx", name="trials_session_idx"),
)

trial_views = Table(
    "trial_views",
    metadata,
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
    Column("software_version", String(100), nullable=False),
    Column("view", Text, nullable=False),
)

live_states = Table(
    "live_states",
    metadata,
    Column("board_id", Integer, ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Column("state", Text, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTC_TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(400), nullable=False, default=""),
    Index("audit_by_time", "at"),
)
