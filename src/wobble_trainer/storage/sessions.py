"""Sessions and their trials: recording them safely, and reading them back for recomputation.

A session is one game, test or protocol run by one profile: its settings, the calibration and
edge angles in use, the software version, and a sequence of trials (e.g. 3 trials of 20 s), each
with the full-rate raw trace (t, acc xyz, gyr xyz) and its events. Recording goes::

    session = db.sessions.start(profile.id, "test:postural_stability", settings=...,
                                calibration=calibration_json, edge_angles=edges_json)
    for each trial:                       # each call is one transaction, committed at once
        db.sessions.add_trial(session.id, t, acc, gyr, label="test 1", events=[...])
    db.sessions.finish(session.id, metrics={...}, events=[...])

so killing the process at any instant loses at most the trial being recorded; a session cut short
keeps its finished trials and has ``ended_at`` = ``None``.

For ``wobble recompute``: :meth:`SessionStore.iter_sessions` walks every session,
:meth:`SessionStore.load_trace` returns its trials with the raw traces, and
:meth:`SessionStore.update_metrics` stores new metrics with the version that computed them (the
recording's own ``software_version`` stays as it was).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from wobble_trainer import __version__
from wobble_trainer.storage.codec import (
    from_json,
    iso,
    json_text,
    now,
    pack_trace,
    parse_iso,
    to_json,
    unpack_trace_fields,
)
from wobble_trainer.storage.errors import NotFoundError

if TYPE_CHECKING:
    from wobble_trainer.storage.db import Database

SESSION_SELECT = (
    "SELECT s.*, (SELECT count(*) FROM trials AS tr WHERE tr.session_id = s.id) AS trial_count "
    "FROM sessions AS s"
)
"""Selects session rows with their trial count; callers append WHERE / ORDER BY."""


@dataclass(frozen=True)
class SessionRecord:
    """One stored session (without its traces; see :meth:`SessionStore.load_trace`)."""

    id: int
    profile_id: int
    kind: str
    """Game, test or protocol name, e.g. ``"test:postural_stability"``."""
    settings: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    """``None`` while recording, or if the session was cut short."""
    calibration: str | None
    """The calibration in use, JSON text exactly as given."""
    edge_angles: str | None
    """The edge angles in use, JSON text exactly as given."""
    software_version: str
    """Version of Wobble Trainer that recorded the session."""
    metrics: dict[str, Any] | None
    metrics_software_version: str | None
    """Version of Wobble Trainer that computed :attr:`metrics`."""
    events: list[Any]
    kept: bool
    """False for a guest session that has been neither kept nor discarded yet."""
    trial_count: int
    metrics_history: list[Any] = field(default_factory=list)
    """The metrics that re-analyses replaced, oldest first: ``{"metrics", "software_version",
    "replaced_at"}`` each (see :meth:`SessionStore.update_metrics`)."""

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def day(self) -> date:
        """Local calendar date the session started on."""
        return self.started_at.date()


@dataclass(frozen=True, eq=False)
class TrialRecord:
    """One trial with its raw trace as float64 arrays (SI units, sensor frame)."""

    id: int
    session_id: int
    index: int
    """0-based position in the session."""
    label: str
    started_at: datetime | None
    ended_at: datetime | None
    t: np.ndarray
    """(n,) s, the sampler's time base."""
    acc: np.ndarray
    """(n, 3) m/s², specific force."""
    gyr: np.ndarray
    """(n, 3) rad/s."""
    events: list[Any]
    analysis: dict[str, Any] | None = None
    """What the live path knew about the trial (:class:`wobble_trainer.analysis.TrialRecording`
    as JSON); None for a trial recorded without it."""
    true_pitch: np.ndarray | None = None
    """(n,) rad: the simulator's true board pitch, for a simulated trial."""
    true_roll: np.ndarray | None = None
    """(n,) rad: the simulator's true board roll, for a simulated trial."""

    @property
    def sample_count(self) -> int:
        return int(self.t.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample."""
        return float(self.t[-1] - self.t[0]) if self.sample_count else 0.0


def session_from_row(row: sqlite3.Row) -> SessionRecord:
    """A :class:`SessionRecord` from a :data:`SESSION_SELECT` row."""
    return SessionRecord(
        id=row["id"],
        profile_id=row["profile_id"],
        kind=row["kind"],
        settings=from_json(row["settings"]),
        started_at=parse_iso(row["started_at"]),  # type: ignore[arg-type]
        ended_at=parse_iso(row["ended_at"]),
        calibration=row["calibration"],
        edge_angles=row["edge_angles"],
        software_version=row["software_version"],
        metrics=from_json(row["metrics"]),
        metrics_software_version=row["metrics_software_version"],
        events=from_json(row["events"]),
        kept=bool(row["kept"]),
        trial_count=row["trial_count"],
        # A hub's copy of a board row may predate the column.
        metrics_history=(
            from_json(row["metrics_history"]) if "metrics_history" in row.keys() else []  # noqa: SIM118
        ),
    )


def _events_json(events: Sequence[Any] | None, what: str) -> list[Any]:
    if events is None:
        return []
    if isinstance(events, str | bytes | Mapping):
        raise ValueError(f"{what} must be a list of events, not {type(events).__name__}")
    return list(events)


def trial_from_row(row: Mapping[str, Any]) -> TrialRecord:
    """A :class:`TrialRecord` from a ``trials`` row (or a mapping with the same keys; the
    ``analysis`` column may be missing)."""
    what = f"trial {row['idx'] + 1} of session {row['session_id']}"
    fields = unpack_trace_fields(row["trace_format"], row["trace"], row["sample_count"],
                                 row["trace_crc32"], what)
    analysis = row["analysis"] if "analysis" in row.keys() else None  # noqa: SIM118 (sqlite3.Row)
    return TrialRecord(
        id=row["id"],
        session_id=row["session_id"],
        index=row["idx"],
        label=row["label"],
        started_at=parse_iso(row["started_at"]),
        ended_at=parse_iso(row["ended_at"]),
        t=fields["t"],
        acc=fields["acc"],
        gyr=fields["gyr"],
        events=from_json(row["events"]),
        analysis=from_json(analysis) if analysis is not None else None,
        true_pitch=fields.get("true_pitch"),
        true_roll=fields.get("true_roll"),
    )


class SessionStore:
    """Record sessions and trials, and read them back (``db.sessions``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- recording ---------------------------------------------------------------------------

    def start(
        self,
        profile_id: int,
        kind: str,
        *,
        settings: Mapping[str, Any] | None = None,
        calibration: str | Mapping[str, Any] | None = None,
        edge_angles: str | Mapping[str, Any] | None = None,
        started_at: datetime | None = None,
        software_version: str = __version__,
    ) -> SessionRecord:
        """Create a session (committed at once) and return it.

        ``calibration`` and ``edge_angles`` are stored as the JSON text given (a mapping is
        serialised); ``started_at`` defaults to now. A guest session starts not kept.
        """
        if not kind or not kind.strip():
            raise ValueError("a session needs a kind (game, test or protocol name)")
        settings_text = to_json(dict(settings or {}), "settings")
        calibration_text = json_text(calibration, "calibration")
        edges_text = json_text(edge_angles, "edge angles")
        started = iso(started_at or now())
        with self._db.transaction(f"starting a {kind} session") as conn:
            row = conn.execute(
                "SELECT is_guest FROM profiles WHERE id = ?", (profile_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"there is no profile with id {profile_id}")
            cur = conn.execute(
                "INSERT INTO sessions (profile_id, kind, settings, started_at, calibration, "
                "edge_angles, software_version, kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, kind.strip(), settings_text, started, calibration_text, edges_text,
                 software_version, 0 if row["is_guest"] else 1),
            )
            session_id = cur.lastrowid
        return self.get(session_id)  # type: ignore[arg-type]

    def add_trial(
        self,
        session_id: int,
        t: np.ndarray,
        acc: np.ndarray,
        gyr: np.ndarray,
        *,
        label: str = "",
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        events: Sequence[Any] | None = None,
        analysis: Mapping[str, Any] | None = None,
        truth: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> int:
        """Store one finished trial in its own transaction; returns the trial id.

        ``t`` (n,) s, ``acc`` (n, 3) m/s², ``gyr`` (n, 3) rad/s — e.g. ``samples["t"]``,
        ``samples["acc"]``, ``samples["gyr"]`` of a sampler batch. The trial gets the next
        index in the session. ``events`` is a JSON-able list (edge touches, taps, ...).
        ``analysis`` is the live path's record of the trial (JSON-able, see
        :class:`wobble_trainer.analysis.TrialRecording`); ``truth`` the simulator's true
        (pitch, roll) per sample in rad, for a simulated trial.
        """
        fmt, blob, count, crc = pack_trace(t, acc, gyr, self._db.trace_precision, truth)
        events_text = to_json(_events_json(events, "trial events"), "trial events")
        analysis_text = None if analysis is None else to_json(dict(analysis), "trial analysis")
        start_text = iso(started_at) if started_at else None
        end_text = iso(ended_at or now())
        with self._db.transaction(f"saving a trial of session {session_id}") as conn:
            row = conn.execute(
                "SELECT ended_at, (SELECT coalesce(max(idx) + 1, 0) FROM trials "
                "WHERE session_id = ?) AS next_idx FROM sessions WHERE id = ?",
                (session_id, session_id),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"there is no session with id {session_id}")
            if row["ended_at"] is not None:
                raise ValueError(f"session {session_id} is finished; start a new session")
            cur = conn.execute(
                "INSERT INTO trials (session_id, idx, label, started_at, ended_at, sample_count, "
                "trace_format, trace, trace_crc32, events, analysis) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, row["next_idx"], label, start_text, end_text, count, fmt,
                 sqlite3.Binary(blob), crc, events_text, analysis_text),
            )
            return cur.lastrowid  # type: ignore[return-value]

    def add_events(self, session_id: int, events: Sequence[Any]) -> None:
        """Append events (e.g. a clinician's taps) to the session's event list."""
        new = _events_json(events, "events")
        with self._db.transaction(f"saving events of session {session_id}") as conn:
            row = conn.execute("SELECT events FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"there is no session with id {session_id}")
            merged = from_json(row["events"]) + new
            conn.execute("UPDATE sessions SET events = ? WHERE id = ?",
                         (to_json(merged, "events"), session_id))

    def finish(
        self,
        session_id: int,
        *,
        metrics: Mapping[str, Any] | None = None,
        events: Sequence[Any] | None = None,
        ended_at: datetime | None = None,
        software_version: str = __version__,
    ) -> SessionRecord:
        """Mark the session ended, store its metrics and append final events."""
        metrics_text = None if metrics is None else to_json(dict(metrics), "metrics")
        new_events = _events_json(events, "events")
        end_text = iso(ended_at or now())
        with self._db.transaction(f"finishing session {session_id}") as conn:
            row = conn.execute("SELECT ended_at, events FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"there is no session with id {session_id}")
            if row["ended_at"] is not None:
                raise ValueError(f"session {session_id} is already finished")
            conn.execute(
                "UPDATE sessions SET ended_at = ?, events = ?, metrics = coalesce(?, metrics), "
                "metrics_software_version = CASE WHEN ? IS NULL THEN metrics_software_version "
                "ELSE ? END WHERE id = ?",
                (end_text, to_json(from_json(row["events"]) + new_events, "events"),
                 metrics_text, metrics_text, software_version, session_id),
            )
        return self.get(session_id)

    # -- guest sessions ----------------------------------------------------------------------

    def keep(self, session_id: int, profile_id: int | None = None) -> SessionRecord:
        """Keep a (guest) session; with ``profile_id``, move it to that profile first."""
        with self._db.transaction(f"keeping session {session_id}") as conn:
            self._require(conn, session_id)
            if profile_id is not None:
                row = conn.execute("SELECT is_guest FROM profiles WHERE id = ?",
                                   (profile_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"there is no profile with id {profile_id}")
                conn.execute("UPDATE sessions SET profile_id = ? WHERE id = ?",
                             (profile_id, session_id))
            conn.execute("UPDATE sessions SET kept = 1 WHERE id = ?", (session_id,))
        return self.get(session_id)

    def discard(self, session_id: int) -> None:
        """Delete a session that was not kept (a guest's); kept ones need :meth:`delete`."""
        with self._db.transaction(f"discarding session {session_id}") as conn:
            row = self._require(conn, session_id)
            if row["kept"]:
                raise ValueError(f"session {session_id} was kept; use delete() to remove it")
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def discard_unkept(self) -> int:
        """Delete every session not kept (guest sessions left by a crash); returns the count.

        Meant for start-up: it would also delete a guest session another process is recording.
        """
        with self._db.transaction("discarding guest sessions that were not kept") as conn:
            return conn.execute("DELETE FROM sessions WHERE kept = 0").rowcount

    def delete(self, session_id: int) -> None:
        """Delete a session and its trials."""
        with self._db.transaction(f"deleting session {session_id}") as conn:
            self._require(conn, session_id)
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- reading and recomputing -------------------------------------------------------------

    def get(self, session_id: int) -> SessionRecord:
        """The session with this id (:class:`NotFoundError` if there is none)."""
        rows = self._db.query(f"{SESSION_SELECT} WHERE s.id = ?", (session_id,))
        if not rows:
            raise NotFoundError(f"there is no session with id {session_id}")
        return session_from_row(rows[0])

    def iter_sessions(
        self, profile_id: int | None = None, kind: str | None = None
    ) -> Iterator[SessionRecord]:
        """Every session (kept or not, finished or not), oldest id first, optionally filtered.

        Ids are read first and records fetched one by one, so the caller may call
        :meth:`update_metrics` (or anything else) while iterating.
        """
        clauses, params = [], []
        if profile_id is not None:
            clauses.append("profile_id = ?")
            params.append(profile_id)
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        ids = [r[0] for r in self._db.query(f"SELECT id FROM sessions {where} ORDER BY id",
                                            tuple(params))]
        for session_id in ids:
            rows = self._db.query(f"{SESSION_SELECT} WHERE s.id = ?", (session_id,))
            if rows:  # deleted meanwhile
                yield session_from_row(rows[0])

    def load_trace(self, session_id: int) -> list[TrialRecord]:
        """The session's trials in order, each with its raw trace (float64 arrays)."""
        self.get(session_id)
        rows = self._db.query("SELECT * FROM trials WHERE session_id = ? ORDER BY idx",
                              (session_id,))
        return [trial_from_row(r) for r in rows]

    def update_metrics(
        self, session_id: int, metrics: Mapping[str, Any], software_version: str
    ) -> None:
        """Store a re-analysis: the new metrics become the session's, recording which software
        version computed them, and the metrics they replace are appended to
        :attr:`SessionRecord.metrics_history` with their own version (nothing is overwritten)."""
        text = to_json(dict(metrics), "metrics")
        with self._db.transaction(f"saving metrics of session {session_id}") as conn:
            row = self._require(conn, session_id)
            history = from_json(row["metrics_history"])
            if row["metrics"] is not None:
                history.append(
                    {
                        "metrics": from_json(row["metrics"]),
                        "software_version": row["metrics_software_version"],
                        "replaced_at": iso(now()),
                    }
                )
            conn.execute(
                "UPDATE sessions SET metrics = ?, metrics_software_version = ?, "
                "metrics_history = ? WHERE id = ?",
                (text, software_version, to_json(history, "metrics history"), session_id),
            )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _require(conn: sqlite3.Connection, session_id: int) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no session with id {session_id}")
        return row
