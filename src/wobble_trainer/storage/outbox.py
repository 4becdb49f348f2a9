"""The board's side of hub sync: what is waiting to go up, and writing what came down.

The outbox itself is filled by triggers (see ``_add_hub_sync`` in
:mod:`wobble_trainer.storage.schema`), in the same transaction as each change, so nothing edits
the database without queueing what the hub must hear. This store only reads the queue, builds
the documents that travel, and removes an entry once the hub has confirmed it (by entry id: an
entry queued again meanwhile has a new id and stays).

Documents are built from the rows *generically* (every column but the board's own integer ids),
so a column added by a later migration (an estimator state snapshot, an analysis version) is
carried to the hub without a change here. Traces travel in the compact, lossless form of
:mod:`wobble_trainer.storage.compact`.

Writing what came down (profiles and programme assignments edited on the hub, deletions) sets
``sync_state.applying`` inside the same transaction, so those writes are not queued back up.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wobble_trainer.storage.codec import iso, now, unpack_trace
from wobble_trainer.storage.compact import encode_trace

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database

LOCAL_COLUMNS = frozenset({"id", "profile_id", "session_id", "uid", "hub_revision", "is_guest"})
"""Columns that mean something only on this board (integer ids) or are sent separately."""

TRACE_COLUMNS = frozenset({"trace", "trace_format", "trace_crc32", "sample_count"})
"""A trial's stored trace; it travels as one compact blob instead."""

PROFILE_FIELDS = ("name", "birth_year", "sex", "height_m", "injured_side", "dominant_leg")
"""The profile fields a hub edit may change."""


@dataclass(frozen=True)
class OutboxEntry:
    """One queued change: ``kind`` is session, profile, delete_profile or delete_session."""

    id: int
    kind: str
    uid: str


def _generic(row: sqlite3.Row, skip: frozenset[str]) -> dict[str, Any]:
    return {k: row[k] for k in row.keys() if k not in skip}  # noqa: SIM118 - sqlite3.Row


def _precision(trace_format: str) -> str:
    fields = {f["name"]: f["dtype"] for f in json.loads(trace_format)["fields"]}
    return "float64" if fields.get("acc") == "<f8" else "float32"


class OutboxStore:
    """Read the outbox and apply the hub's changes (``db.outbox``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- going up ----------------------------------------------------------------------------

    def pending(self, limit: int = 1000) -> list[OutboxEntry]:
        """Queued changes, oldest first (profiles before the sessions that need them)."""
        rows = self._db.query(
            "SELECT id, kind, uid FROM sync_outbox ORDER BY "
            "CASE kind WHEN 'profile' THEN 0 WHEN 'session' THEN 1 ELSE 2 END, id LIMIT ?",
            (limit,),
        )
        return [OutboxEntry(r["id"], r["kind"], r["uid"]) for r in rows]

    def done(self, entry: OutboxEntry) -> None:
        """Remove an entry the hub has confirmed (a newer queueing of it stays)."""
        with self._db.transaction("marking a change as synced") as conn:
            conn.execute("DELETE FROM sync_outbox WHERE id = ?", (entry.id,))

    def session_document(self, uid: str) -> dict[str, Any] | None:
        """Everything of a finished session, ready to upload (``None`` if it is gone)."""
        rows = self._db.query(
            "SELECT s.*, p.uid AS profile_uid FROM sessions AS s JOIN profiles AS p "
            "ON p.id = s.profile_id WHERE s.uid = ?",
            (uid,),
        )
        if not rows:
            return None
        row = rows[0]
        trials = []
        for tr in self._db.query(
            "SELECT * FROM trials WHERE session_id = ? ORDER BY idx", (row["id"],)
        ):
            what = f"trial {tr['idx'] + 1} of session {row['id']}"
            t, acc, gyr = unpack_trace(
                tr["trace_format"], tr["trace"], tr["sample_count"], tr["trace_crc32"], what
            )
            compact = encode_trace(t, acc, gyr, _precision(tr["trace_format"]))
            trials.append(
                {
                    "columns": _generic(tr, LOCAL_COLUMNS | TRACE_COLUMNS),
                    "sample_count": tr["sample_count"],
                    "trace": compact.blob,
                }
            )
        columns = _generic(row, LOCAL_COLUMNS | {"profile_uid"})
        return {"uid": uid, "profile_uid": row["profile_uid"], "columns": columns, "trials": trials}

    def profile_document(self, uid: str) -> dict[str, Any] | None:
        """A profile with its programme assignments, and the hub revision it was edited from."""
        rows = self._db.query("SELECT * FROM profiles WHERE uid = ? AND is_guest = 0", (uid,))
        if not rows:
            return None
        row = rows[0]
        assignments = [
            _generic(a, LOCAL_COLUMNS)
            for a in self._db.query(
                "SELECT * FROM programme_assignments WHERE profile_id = ? ORDER BY start_date, id",
                (row["id"],),
            )
        ]
        return {
            "uid": uid,
            "base_revision": row["hub_revision"],
            "fields": _generic(row, LOCAL_COLUMNS),
            "assignments": assignments,
        }

    # -- coming down -------------------------------------------------------------------------

    def known_revisions(self) -> dict[str, int]:
        """Each real profile's uid and the hub revision this board last had of it."""
        rows = self._db.query("SELECT uid, hub_revision FROM profiles WHERE is_guest = 0")
        return {r["uid"]: r["hub_revision"] for r in rows}

    @contextmanager
    def _applying(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._db.transaction(what) as conn:
            conn.execute("UPDATE sync_state SET applying = 1 WHERE id = 1")
            try:
                yield conn
            finally:
                conn.execute("UPDATE sync_state SET applying = 0 WHERE id = 1")

    def apply_profile(self, doc: Mapping[str, Any]) -> str:
        """Write a profile (and its assignments) as the hub has it; returns its local name.

        A local profile with the same name but another uid keeps its name; the arriving one gets
        a suffix, so nobody's data is merged with somebody else's by accident.
        """
        fields = {k: doc["fields"].get(k) for k in PROFILE_FIELDS}
        with self._applying(f"saving profile {fields['name']!r} from the hub") as conn:
            existing = conn.execute(
                "SELECT id FROM profiles WHERE uid = ?", (doc["uid"],)
            ).fetchone()
            name = fields["name"]
            for n in range(2, 100):
                clash = conn.execute(
                    "SELECT 1 FROM profiles WHERE name = ? AND uid IS NOT ?", (name, doc["uid"])
                ).fetchone()
                if clash is None:
                    break
                name = f"{fields['name']} ({n})"
            fields["name"] = name
            if existing is None:
                cur = conn.execute(
                    "INSERT INTO profiles (uid, name, birth_year, sex, height_m, injured_side, "
                    "dominant_leg, is_guest, created_at, hub_revision) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (
                        doc["uid"],
                        *fields.values(),
                        doc["fields"].get("created_at") or iso(now()),
                        doc["revision"],
                    ),
                )
                profile_id = cur.lastrowid
            else:
                profile_id = existing["id"]
                conn.execute(
                    "UPDATE profiles SET name = ?, birth_year = ?, sex = ?, height_m = ?, "
                    "injured_side = ?, dominant_leg = ?, hub_revision = ? WHERE id = ?",
                    (*fields.values(), doc["revision"], profile_id),
                )
            conn.execute("DELETE FROM programme_assignments WHERE profile_id = ?", (profile_id,))
            for a in doc.get("assignments", []):
                conn.execute(
                    "INSERT INTO programme_assignments (profile_id, programme_id, start_date, "
                    "end_date, assigned_at, assigned_by, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        profile_id,
                        a["programme_id"],
                        a["start_date"],
                        a.get("end_date"),
                        a["assigned_at"],
                        a.get("assigned_by"),
                        a.get("note"),
                    ),
                )
            # The hub's version is now the board's: a local edit still queued is superseded.
            conn.execute(
                "DELETE FROM sync_outbox WHERE kind = 'profile' AND uid = ?", (doc["uid"],)
            )
        return name

    def set_revision(self, uid: str, revision: int) -> None:
        """Record that the hub accepted this board's edit of a profile as ``revision``."""
        with self._applying("saving the hub revision of a profile") as conn:
            conn.execute("UPDATE profiles SET hub_revision = ? WHERE uid = ?", (revision, uid))

    def delete_profile(self, uid: str) -> bool:
        """Delete a profile the hub says was deleted (all its data); True if it was here."""
        with self._applying("deleting a profile deleted on the hub") as conn:
            gone = conn.execute(
                "DELETE FROM profiles WHERE uid = ? AND is_guest = 0", (uid,)
            ).rowcount
            conn.execute("DELETE FROM sync_outbox WHERE uid = ?", (uid,))
        if gone:
            self._db.checkpoint()  # as ProfileStore.delete: no copy lingers in the log
        return bool(gone)
