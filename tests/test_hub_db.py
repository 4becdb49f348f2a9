"""The hub's database on SQLite and PostgreSQL: migrations, schema = metadata, stats, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from wobble_trainer.hub.db import (
    HubDatabase,
    HubDatabaseError,
    current_revision,
    database_url,
    head_revision,
)
from wobble_trainer.hub.tables import metadata


def test_migrated_schema_is_exactly_the_metadata(hub_db):
    found = inspect(hub_db.engine)
    tables = set(found.get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)
    for name, table in metadata.tables.items():
        assert {c["name"] for c in found.get_columns(name)} == set(table.columns.keys()), name
    with hub_db.begin() as conn:
        assert current_revision(conn) == head_revision()


def test_opening_again_migrates_nothing_and_stats_count(hub_url):
    with HubDatabase(hub_url) as db:
        assert db.migrate() == (head_revision(), head_revision())
        assert db.stats() == {
            "boards": 0,
            "patients": 0,
            "sessions": 0,
            "trials": 0,
            "samples": 0,
            "clinicians": 0,
        }


def test_a_database_from_a_newer_hub_is_refused(hub_db, hub_url):
    with hub_db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    with pytest.raises(HubDatabaseError, match="newer hub"):
        HubDatabase(hub_url)


def test_unmigrated_database_is_refused_when_not_migrating(tmp_path):
    with pytest.raises(HubDatabaseError, match="wobble hub migrate"):
        HubDatabase(f"sqlite:///{tmp_path / 'h.sqlite3'}", migrate=False)


def test_database_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("WOBBLE_HUB_STATE_DIR", str(tmp_path / "state"))
    assert database_url(None) == f"sqlite:///{tmp_path / 'state' / 'wobble-hub.sqlite3'}"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(HubDatabaseError, match="not a database URL"):
        database_url("mysql://x")
    with pytest.raises(HubDatabaseError, match="does not exist"):
        HubDatabase(f"sqlite:///{tmp_path / 'missing' / 'h.sqlite3'}")


def test_an_unreachable_postgresql_says_so(tmp_path):
    from conftest import free_port

    with pytest.raises(HubDatabaseError, match="cannot connect"):
        HubDatabase(f"postgresql://nobody@127.0.0.1:{free_port()}/none")


def test_upgrading_from_the_first_revision_fills_the_new_columns(hub_url):
    import json

    from alembic import command
    from sqlalchemy import select

    from wobble_trainer.hub.db import _alembic_config, make_engine
    from wobble_trainer.hub.tables import sessions

    engine = make_engine(hub_url)
    with engine.connect() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO patients (uid, name, profile, assignments, revision, updated_at) "
                "VALUES ('p', 'Ann', '{}', '[]', 1, CURRENT_TIMESTAMP)"
            )
        )
        record = {
            "metrics": json.dumps({"osi": 2.5}),
            "started_at": "2026-01-01T10:00:00+00:00",
            "ended_at": "2026-01-01T10:03:00+00:00",
        }
        conn.execute(
            text(
                "INSERT INTO sessions (uid, patient_id, kind, started_at, record, uploaded_at, "
                "updated_at) VALUES ('s', 1, 'test:x', '2026-01-01', :r, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            ),
            {"r": json.dumps(record)},
        )
        conn.commit()
    engine.dispose()
    with HubDatabase(hub_url) as db, db.begin() as conn:
        row = conn.execute(select(sessions)).first()
        assert (row.headline, row.minutes) == (2.5, 3.0)
