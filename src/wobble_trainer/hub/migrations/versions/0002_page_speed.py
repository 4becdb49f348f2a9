"""Page speed: each session's headline metric and minutes as columns (the patient list sums and
compares them in SQL instead of parsing every record), and a cache of each trial's plotted
angles (recomputing a 2-minute trace at 1 kHz takes seconds; the cache is keyed by the software
version that computed it, so a new estimator recomputes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HEADLINE_METRICS = ("osi", "sway_osi", "score", "duration_s")  # as hub/views.py at this revision


def _headline(record: dict) -> float | None:
    metrics = json.loads(record.get("metrics") or "null") or {}
    for key in HEADLINE_METRICS:
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _minutes(record: dict) -> float:
    try:
        start = datetime.fromisoformat(record["started_at"])
        end = datetime.fromisoformat(record["ended_at"])
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds() / 60.0)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("headline", sa.Float))
        batch.add_column(sa.Column("minutes", sa.Float, nullable=False, server_default="0"))
    sessions = sa.table(
        "sessions",
        sa.column("id", sa.Integer),
        sa.column("record", sa.Text),
        sa.column("headline", sa.Float),
        sa.column("minutes", sa.Float),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(sessions.c.id, sessions.c.record)).all():
        record = json.loads(row.record)
        conn.execute(
            sa.update(sessions)
            .where(sessions.c.id == row.id)
            .values(headline=_headline(record), minutes=_minutes(record))
        )
    op.create_table(
        "trial_views",
        sa.Column(
            "trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("software_version", sa.String(100), nullable=False),
        sa.Column("view", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trial_views")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("minutes")
        batch.drop_column("headline")
