"""The hub's first schema: clinicians and their login sessions, boards and enrolment codes,
patients (profile and programme assignments), sessions with compact trials, deletions, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", T),
        sa.Column("disabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "clinician_id",
            sa.Integer,
            sa.ForeignKey("clinicians.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.Column("expires_at", T, nullable=False),
    )
    op.create_table(
        "boards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64)),
        sa.Column("created_at", T, nullable=False),
        sa.Column("linked_at", T),
        sa.Column("revoked_at", T),
        sa.Column("last_sync_at", T),
        sa.Column("software_version", sa.String(100)),
        sa.Column("status", sa.Text, nullable=False),
    )
    op.create_table(
        "enrol_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column(
            "board_id", sa.Integer, sa.ForeignKey("boards.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", T, nullable=False),
        sa.Column("expires_at", T, nullable=False),
        sa.Column("used_at", T),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("assignments", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", T, nullable=False),
        sa.Column("updated_by", sa.String(200)),
    )
    op.create_index("patients_by_name", "patients", ["name"])
    op.create_table(
        "board_patients",
        sa.Column(
            "board_id", sa.Integer, sa.ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "patient_id",
            sa.Integer,
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "deleted_patients",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("deleted_at", T, nullable=False),
        sa.Column("deleted_by", sa.String(200)),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "patient_id",
            sa.Integer,
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id", ondelete="SET NULL")),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40)),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("uploaded_at", T, nullable=False),
        sa.Column("updated_at", T, nullable=False),
    )
    op.create_index("sessions_by_patient_time", "sessions", ["patient_id", "started_at"])
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("sample_count", sa.Integer, nullable=False),
        sa.Column("trace", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("session_id", "idx", name="trials_session_idx"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", T, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(400), nullable=False),
    )
    op.create_index("audit_by_time", "audit_log", ["at"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "trials",
        "sessions",
        "deleted_patients",
        "board_patients",
        "patients",
        "enrol_codes",
        "boards",
        "login_sessions",
        "clinicians",
    ):
        op.drop_table(table)
