"""The database layout and its migrations.

The schema version lives in SQLite's own header field ``PRAGMA user_version``; the file is marked
as ours with ``PRAGMA application_id`` = :data:`APPLICATION_ID`. :data:`MIGRATIONS` is an ordered
list: ``MIGRATIONS[k]`` turns a version-``k`` database into version ``k + 1`` (version 0 = empty
file). A migration, once released, is never edited: a later change is a new function appended to
the list. :func:`migrate` runs every missing step inside the caller's transaction, so a process
killed half-way leaves the old version intact.

Layout at :data:`SCHEMA_VERSION` (times are ISO 8601 text with the local UTC offset at the time,
e.g. ``2025-05-01T09:30:00.000+02:00``, so the first ten characters are the local calendar date
that history and streaks use; JSON columns are checked with ``json_valid``)::

    profiles     id, name (unique, case-insensitive; a name or a pseudonymous ID), birth_year,
                 sex (female/male/other or NULL), height_m, injured_side (none/left/right/both),
                 dominant_leg (left/right), is_guest (exactly one built-in guest row), created_at
    sessions     id, profile_id → profiles ON DELETE CASCADE, kind (game/test/protocol name),
                 settings (JSON object), started_at, ended_at (NULL while running or if cut short),
                 calibration (JSON text as given), edge_angles (JSON text as given),
                 software_version (that recorded it), metrics (JSON object or NULL),
                 metrics_software_version (that computed the metrics), events (JSON list),
                 kept (0 for a guest session not yet kept),
                 metrics_history (v3: JSON list of {metrics, software_version, replaced_at}
                 that re-analyses replaced, oldest first)
    trials       id, session_id → sessions ON DELETE CASCADE, idx (0-based, unique per session),
                 label, started_at, ended_at, sample_count, trace_format (JSON: field names, dtypes
                 and shapes of one sample), trace (BLOB: sample_count packed little-endian
                 samples), trace_crc32, events (JSON list), analysis (v3: JSON, the
                 live path's :class:`~wobble_trainer.analysis.TrialRecording`, or NULL)
    programme_assignments (v2)
                 id, profile_id → profiles ON DELETE CASCADE, programme_id, start_date (YYYY-MM-DD),
                 end_date (NULL while current), assigned_at, assigned_by, note
    profiles.patient_code (v4)
                 a short random code per person (digits, unique; NULL for the guest): how a
                 patient picks themselves in a clinic's kiosk without the list of every patient
    plan_steps (v5)
                 id, profile_id → profiles ON DELETE CASCADE, day (YYYY-MM-DD, local), step_key
                 (a home-routine step of :mod:`wobble_trainer.home_routine`), programme_id and
                 week (where the programme was, or NULL), reps, duration_s, completed_at;
                 one row per profile, day and step (adherence to the home routine)
    hub sync (v6, :func:`_add_hub_sync`)
                 profiles.uid and sessions.uid (globally unique, set by triggers),
                 profiles.hub_revision, sync_outbox (kind, uid, queued_at) filled by triggers,
                 sync_state (applying: 1 while changes from the hub are written)
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from datetime import datetime

APPLICATION_ID = 0x57424C54
"""``PRAGMA application_id`` of a Wobble Trainer database (ASCII "WBLT")."""

GUEST_NAME = "Guest"
"""Name of the built-in guest profile."""


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _v0_to_v1(conn: sqlite3.Connection) -> None:
    """First layout: profiles (with the built-in guest), sessions and their trials."""
    conn.execute(
        """
        CREATE TABLE profiles (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(name)) > 0),
            birth_year INTEGER CHECK (birth_year IS NULL OR birth_year BETWEEN 1850 AND 2500),
            sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male', 'other')),
            height_m REAL CHECK (height_m IS NULL OR height_m > 0),
            injured_side TEXT NOT NULL DEFAULT 'none'
                CHECK (injured_side IN ('none', 'left', 'right', 'both')),
            dominant_leg TEXT CHECK (dominant_leg IS NULL OR dominant_leg IN ('left', 'right')),
            is_guest INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1)),
            created_at TEXT NOT NULL
        )
        """
    )
    # At most one guest row: a partial unique index over the flag.
    conn.execute("CREATE UNIQUE INDEX profiles_single_guest ON profiles(is_guest) WHERE is_guest")
    conn.execute(
        "INSERT INTO profiles (name, is_guest, created_at) VALUES (?, 1, ?)",
        (GUEST_NAME, _now_iso()),
    )
    conn.execute(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (length(kind) > 0),
            settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
            started_at TEXT NOT NULL,
            ended_at TEXT,
            calibration TEXT CHECK (calibration IS NULL OR json_valid(calibration)),
            edge_angles TEXT CHECK (edge_angles IS NULL OR json_valid(edge_angles)),
            software_version TEXT NOT NULL,
            metrics TEXT CHECK (metrics IS NULL OR json_valid(metrics)),
            metrics_software_version TEXT,
            events TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(events)),
            kept INTEGER NOT NULL DEFAULT 1 CHECK (kept IN (0, 1))
        )
        """
    )
    conn.execute("CREATE INDEX sessions_by_profile_time ON sessions(profile_id, started_at)")
    conn.execute(
        """
        CREATE TABLE trials (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL CHECK (idx >= 0),
            label TEXT NOT NULL DEFAULT '',
            started_at TEXT,
            ended_at TEXT,
            sample_count INTEGER NOT NULL CHECK (sample_count >= 0),
            trace_format TEXT NOT NULL CHECK (json_valid(trace_format)),
            trace BLOB NOT NULL,
            trace_crc32 INTEGER NOT NULL,
            events TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(events)),
            UNIQUE (session_id, idx)
        )
        """
    )


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Programme assignments: which balance programme a clinician gave a profile, from when."""
    conn.execute(
        """
        CREATE TABLE programme_assignments (
            id INTEGER PRIMARY KEY,
            profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            programme_id TEXT NOT NULL CHECK (length(programme_id) > 0),
            start_date TEXT NOT NULL CHECK (date(start_date) IS start_date),
            end_date TEXT CHECK (end_date IS NULL OR date(end_date) IS end_date),
            assigned_at TEXT NOT NULL,
            assigned_by TEXT,
            note TEXT,
            CHECK (end_date IS NULL OR end_date >= start_date)
        )
        """
    )
    conn.execute(
        "CREATE INDEX programme_assignments_by_profile ON programme_assignments(profile_id, "
        "start_date)"
    )


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """One trial, one set of angles: what the live estimator knew when each trial began (so a
    stored trial replays to the very angles shown live), and the metrics each re-analysis
    replaced (a re-analysis is stored next to the original, never over it)."""
    conn.execute(
        "ALTER TABLE trials ADD COLUMN analysis TEXT "
        "CHECK (analysis IS NULL OR json_valid(analysis))"
    )
    conn.execute(
        "ALTER TABLE sessions ADD COLUMN metrics_history TEXT NOT NULL DEFAULT '[]' "
        "CHECK (json_valid(metrics_history))"
    )


def _add_hub_sync(conn: sqlite3.Connection) -> None:
    """Hub sync: global ids for profiles and sessions, and an outbox filled by triggers.

    Self-contained (it only adds columns, tables and triggers), so it can be renumbered at a
    merge. The triggers put every change the hub must hear of into ``sync_outbox`` in the same
    transaction as the change itself, so no code path that edits the database can forget it and
    a power cut can never separate the two. A change queued again replaces its entry (a new id),
    so a sync that sent the older state removes only the entry it sent. ``sync_state.applying``
    is set (inside the sync's own transaction) while changes that came *from* the hub are
    written, so they are not sent back.
    """
    not_applying = "(SELECT applying FROM sync_state WHERE id = 1) = 0"
    for table in ("profiles", "sessions"):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN uid TEXT")
        # randomblob() is evaluated per row: 128 random bits, a globally unique id.
        conn.execute(f"UPDATE {table} SET uid = lower(hex(randomblob(16)))")
        conn.execute(f"CREATE UNIQUE INDEX {table}_by_uid ON {table}(uid)")
    # One trigger gives a new row its id and (for a real profile made here) queues it, so the
    # queueing can never run before the id exists.
    conn.execute(
        """
        CREATE TRIGGER sessions_new_uid AFTER INSERT ON sessions WHEN NEW.uid IS NULL
        BEGIN
            UPDATE sessions SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
        END
        """
    )
    # The hub's revision of the profile this board last saw (0: never synced).
    conn.execute("ALTER TABLE profiles ADD COLUMN hub_revision INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        """
        CREATE TABLE sync_outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('session', 'profile', 'delete_profile',
                                               'delete_session')),
            uid TEXT NOT NULL,
            queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            UNIQUE (kind, uid)
        )
        """
    )
    conn.execute(
        "CREATE TABLE sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "applying INTEGER NOT NULL DEFAULT 0 CHECK (applying IN (0, 1)))"
    )
    conn.execute("INSERT INTO sync_state (id, applying) VALUES (1, 0)")
    conn.execute(
        f"""
        CREATE TRIGGER profiles_new_uid AFTER INSERT ON profiles WHEN NEW.uid IS NULL
        BEGIN
            UPDATE profiles SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
            INSERT OR REPLACE INTO sync_outbox (kind, uid)
                SELECT 'profile', uid FROM profiles
                WHERE id = NEW.id AND is_guest = 0 AND {not_applying};
        END
        """
    )
    real_profile = "(SELECT is_guest FROM profiles WHERE id = {}) = 0"
    session_ready = (
        f"NEW.ended_at IS NOT NULL AND NEW.kept = 1 AND NEW.uid IS NOT NULL AND "
        f"{real_profile.format('NEW.profile_id')} AND {not_applying}"
    )
    triggers = [
        f"""
        CREATE TRIGGER sessions_outbox_update AFTER UPDATE ON sessions WHEN {session_ready}
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (kind, uid) VALUES ('session', NEW.uid);
        END""",
        f"""
        CREATE TRIGGER sessions_outbox_delete AFTER DELETE ON sessions
            WHEN OLD.kept = 1 AND {not_applying}
            -- not when its profile is being deleted: that deletion covers the sessions
            AND EXISTS (SELECT 1 FROM profiles WHERE id = OLD.profile_id)
        BEGIN
            DELETE FROM sync_outbox WHERE kind = 'session' AND uid = OLD.uid;
            INSERT OR REPLACE INTO sync_outbox (kind, uid) VALUES ('delete_session', OLD.uid);
        END""",
        f"""
        CREATE TRIGGER profiles_outbox_update AFTER UPDATE OF name, birth_year, sex, height_m,
            injured_side, dominant_leg ON profiles WHEN NEW.is_guest = 0 AND {not_applying}
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (kind, uid) VALUES ('profile', NEW.uid);
        END""",
        f"""
        CREATE TRIGGER profiles_outbox_delete AFTER DELETE ON profiles
            WHEN OLD.is_guest = 0 AND {not_applying}
        BEGIN
            DELETE FROM sync_outbox WHERE uid = OLD.uid
                OR (kind = 'session' AND uid NOT IN (SELECT uid FROM sessions));
            INSERT OR REPLACE INTO sync_outbox (kind, uid) VALUES ('delete_profile', OLD.uid);
        END""",
        f"""
        CREATE TRIGGER programmes_outbox_insert AFTER INSERT ON programme_assignments
            WHEN {not_applying}
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (kind, uid)
                SELECT 'profile', uid FROM profiles WHERE id = NEW.profile_id;
        END""",
        f"""
        CREATE TRIGGER programmes_outbox_update AFTER UPDATE ON programme_assignments
            WHEN {not_applying}
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (kind, uid)
                SELECT 'profile', uid FROM profiles WHERE id = NEW.profile_id;
        END""",
    ]
    for trigger in triggers:
        conn.execute(trigger)


PATIENT_CODE_DIGITS = 6
"""Length of a patient code: a million codes, typed on a keypad in a few seconds."""


def new_patient_code(conn: sqlite3.Connection) -> str:
    """A random patient code not in use yet (:data:`PATIENT_CODE_DIGITS` digits).

    Random, not sequential: a patient who knows their own code learns nothing about another's.
    """
    while True:
        code = f"{secrets.randbelow(10**PATIENT_CODE_DIGITS):0{PATIENT_CODE_DIGITS}d}"
        taken = conn.execute("SELECT 1 FROM profiles WHERE patient_code = ?", (code,)).fetchone()
        if taken is None:
            return code


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """Patient codes: in a clinic's kiosk a patient reaches their own profile by a short code
    instead of picking from a list of everybody. Existing profiles get a code each."""
    conn.execute("ALTER TABLE profiles ADD COLUMN patient_code TEXT")
    conn.execute(
        "CREATE UNIQUE INDEX profiles_patient_code ON profiles(patient_code) "
        "WHERE patient_code IS NOT NULL"
    )
    ids = [row[0] for row in conn.execute("SELECT id FROM profiles WHERE is_guest = 0")]
    for profile_id in ids:
        conn.execute(
            "UPDATE profiles SET patient_code = ? WHERE id = ?",
            (new_patient_code(conn), profile_id),
        )


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    """The home routine's adherence log: each completed step of "Today's plan" per profile and
    day (warm-up, seated work, band work, calf raises, ...), for the clinician and the hub."""
    conn.execute(
        """
        CREATE TABLE plan_steps (
            id INTEGER PRIMARY KEY,
            profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            day TEXT NOT NULL CHECK (date(day) IS day),
            step_key TEXT NOT NULL CHECK (length(step_key) > 0),
            programme_id TEXT,
            week INTEGER CHECK (week IS NULL OR week >= 1),
            reps INTEGER CHECK (reps IS NULL OR reps >= 0),
            duration_s REAL CHECK (duration_s IS NULL OR duration_s >= 0),
            completed_at TEXT NOT NULL,
            UNIQUE (profile_id, day, step_key)
        )
        """
    )


Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: tuple[Migration, ...] = (
    _v0_to_v1,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _add_hub_sync,
)
"""``MIGRATIONS[k]`` upgrades a version-``k`` database to version ``k + 1``. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes and understands."""


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in an open database (0 for a new, empty one)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Upgrade ``conn`` from its recorded version to ``target``; returns the version found.

    Must run inside a transaction the caller owns (``BEGIN IMMEDIATE``): SQLite DDL and the
    ``user_version`` header field are transactional, so either every step lands or none does.
    A database newer than ``target`` is left alone (the caller refuses it before getting here).
    """
    if not conn.in_transaction:
        raise RuntimeError("migrate() must run inside a transaction")
    found = user_version(conn)
    for version in range(found, target):
        MIGRATIONS[version](conn)
        # PRAGMA takes no parameters; the value is an int from range(), not user input.
        conn.execute(f"PRAGMA user_version = {version + 1}")
    if found < target:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return found
