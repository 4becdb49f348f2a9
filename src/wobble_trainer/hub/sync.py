"""The hub's side of sync: taking sessions and profiles from boards, handing back edits.

Rules (what a clinic can rely on):

* **Nothing twice.** A session is known by the globally unique id its board gave it. Uploading it
  again (a retry after a lost answer, a killed sync, two hub processes at once) stores nothing
  new: the session row is upserted and trials are added only for indices not yet stored. Two
  concurrent first uploads race on the unique key; the loser finds the winner's row and carries
  on as a re-upload.
* **Edits on both sides.** A profile (with its programme assignments) has a revision on the hub.
  A board sends an edit together with the revision it last saw. The first edit to reach the hub
  against the current revision is accepted (revision + 1); an edit made against an older
  revision — the profile was changed meanwhile on the hub or by another board — is refused and
  the board takes the hub's version. In practice: a clinician's change on the hub wins over a
  board's change made before that board had heard of it.
* **Deleting a patient** on the hub, or on any board, deletes the patient with every session and
  trial on the hub and leaves only a tombstone (the random id, no personal data); every board
  that still has the patient deletes it at its next sync.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wobble_trainer.hub.accounts import Board, record, utcnow
from wobble_trainer.hub.tables import (
    board_patients,
    boards,
    deleted_patients,
    patients,
    sessions,
    trials,
)
from wobble_trainer.storage.compact import TraceCodecError, decode_trace

HEADLINE_METRICS = ("osi", "sway_osi", "score", "duration_s")
"""The metric lists and charts show for a session: the first of these its metrics have."""


class SyncError(ValueError):
    """A document from a board that the hub cannot take; the message says why."""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)


def patient_document(row: Any) -> dict[str, Any]:
    """What a board receives for a patient."""
    return {
        "uid": row.uid,
        "revision": row.revision,
        "fields": json.loads(row.profile),
        "assignments": json.loads(row.assignments),
        "updated_at": row.updated_at.isoformat(),
    }


def _is_deleted(conn: Connection, uid: str) -> bool:
    return (
        conn.execute(select(deleted_patients.c.uid).where(deleted_patients.c.uid == uid)).first()
        is not None
    )


def _patient(conn: Connection, uid: str) -> Any:
    return conn.execute(select(patients).where(patients.c.uid == uid)).first()


def _link(conn: Connection, board: Board, patient_id: int) -> None:
    exists = conn.execute(
        select(board_patients.c.board_id).where(
            board_patients.c.board_id == board.id, board_patients.c.patient_id == patient_id
        )
    ).first()
    if exists is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(board_patients).values(board_id=board.id, patient_id=patient_id)
                )
        except IntegrityError:
            pass  # another process linked it at the same moment


def _check_profile(doc: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[Any]]:
    try:
        uid = str(doc["uid"])
        fields = dict(doc["fields"])
        assignments = list(doc.get("assignments", []))
        name = str(fields["name"]).strip()
    except (KeyError, TypeError, ValueError) as exc:
        raise SyncError(
            f"a profile document needs uid, fields.name and assignments ({exc})"
        ) from exc
    if not uid or not name:
        raise SyncError("a profile document needs a uid and a name")
    return uid, fields, assignments


def _insert_patient(
    conn: Connection, uid: str, fields: dict[str, Any], assignments: list[Any], actor: str
) -> bool:
    """Insert revision 1 of a patient; False if another process inserted it first."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(patients).values(
                    uid=uid,
                    name=str(fields["name"]).strip(),
                    profile=_json(fields),
                    assignments=_json(assignments),
                    revision=1,
                    updated_at=utcnow(),
                    updated_by=actor,
                )
            )
        return True
    except IntegrityError:
        return False


def receive_profile(conn: Connection, board: Board, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A board's new or edited profile: ``{"status": accepted|conflict|deleted, "patient"}``."""
    uid, fields, assignments = _check_profile(doc)
    base = int(doc.get("base_revision") or 0)
    actor = f"board {board.name}"
    if _is_deleted(conn, uid):
        return {"status": "deleted", "uid": uid}
    row = _patient(conn, uid)
    if row is None and _insert_patient(conn, uid, fields, assignments, actor):
        row = _patient(conn, uid)
        _link(conn, board, row.id)
        return {"status": "accepted", "patient": patient_document(row)}
    if row is None:
        row = _patient(conn, uid)
    _link(conn, board, row.id)
    # Compare-and-set on the revision: atomic across hub processes.
    changed = conn.execute(
        update(patients)
        .where(patients.c.uid == uid, patients.c.revision == base)
        .values(
            name=str(fields["name"]).strip(),
            profile=_json(fields),
            assignments=_json(assignments),
            revision=patients.c.revision + 1,
            updated_at=utcnow(),
            updated_by=actor,
        )
    ).rowcount
    row = _patient(conn, uid)
    return {"status": "accepted" if changed else "conflict", "patient": patient_document(row)}


def headline_of(columns: Mapping[str, Any]) -> float | None:
    """The value of the session's headline metric (see :data:`HEADLINE_METRICS`)."""
    try:
        metrics = json.loads(columns.get("metrics") or "null") or {}
    except (TypeError, ValueError):
        return None
    for key in HEADLINE_METRICS:
        value = metrics.get(key) if isinstance(metrics, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def minutes_of(columns: Mapping[str, Any]) -> float:
    """Minutes from the session's start to its end (0 when either is missing)."""
    try:
        start = datetime.fromisoformat(columns["started_at"])
        end = datetime.fromisoformat(columns["ended_at"])
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds() / 60.0)


def receive_session(conn: Connection, board: Board, doc: Mapping[str, Any]) -> str:
    """Store an uploaded session: ``stored``, ``updated``, ``unchanged`` or ``deleted``.

    ``doc`` has ``uid``, ``profile`` (the patient's document, used if the hub does not have
    the patient yet), ``columns`` (every session column, generic) and ``trials`` (each with
    ``columns``, ``sample_count`` and the compact ``trace`` bytes).
    """
    try:
        uid = str(doc["uid"])
        columns = dict(doc["columns"])
        trial_docs = list(doc["trials"])
        profile = doc["profile"]
        kind = str(columns["kind"])
        started = str(columns["started_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SyncError(
            f"a session document needs uid, profile, columns and trials ({exc})"
        ) from exc
    p_uid, fields, assignments = _check_profile(profile)
    if _is_deleted(conn, p_uid):
        return "deleted"
    for t in trial_docs:
        try:
            t_, _acc, _gyr = decode_trace(t["trace"])
        except (TraceCodecError, KeyError, TypeError) as exc:
            raise SyncError(f"session {uid}: a trial's trace cannot be read ({exc})") from exc
        if len(t_) != int(t["sample_count"]):
            raise SyncError(f"session {uid}: a trial's sample count does not match its trace")
    patient = _patient(conn, p_uid)
    if patient is None:
        _insert_patient(conn, p_uid, fields, assignments, f"board {board.name}")
        patient = _patient(conn, p_uid)
    _link(conn, board, patient.id)
    now = utcnow()
    record_text = _json(columns)
    values = dict(
        patient_id=patient.id,
        board_id=board.id,
        kind=kind,
        started_at=started,
        ended_at=columns.get("ended_at"),
        record=record_text,
        updated_at=now,
        headline=headline_of(columns),
        minutes=minutes_of(columns),
    )
    outcome = "stored"
    try:
        with conn.begin_nested():
            session_id = conn.execute(
                insert(sessions).values(uid=uid, uploaded_at=now, **values)
            ).inserted_primary_key[0]
    except IntegrityError:
        existing = conn.execute(select(sessions).where(sessions.c.uid == uid)).first()
        session_id = existing.id
        outcome = "unchanged"
        if existing.record != record_text or existing.patient_id != patient.id:
            conn.execute(update(sessions).where(sessions.c.id == session_id).values(**values))
            outcome = "updated"
    have = set(
        conn.execute(select(trials.c.idx).where(trials.c.session_id == session_id)).scalars()
    )
    for t in trial_docs:
        idx = int(t["columns"]["idx"])
        if idx in have:
            continue
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(trials).values(
                        session_id=session_id,
                        idx=idx,
                        record=_json(t["columns"]),
                        sample_count=int(t["sample_count"]),
                        trace=bytes(t["trace"]),
                    )
                )
            if outcome == "unchanged":
                outcome = "updated"
        except IntegrityError:
            pass  # the same trial stored by a concurrent upload
    return outcome


def delete_session(conn: Connection, board: Board, uid: str) -> bool:
    """A session deleted on its board; True if the hub had it."""
    return bool(conn.execute(delete(sessions).where(sessions.c.uid == uid)).rowcount)


def delete_patient(conn: Connection, uid: str, actor: str) -> bool:
    """Delete a patient and all their data on the hub; boards follow at their next sync."""
    gone = conn.execute(delete(patients).where(patients.c.uid == uid)).rowcount
    if not _is_deleted(conn, uid):
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(deleted_patients).values(uid=uid, deleted_at=utcnow(), deleted_by=actor)
                )
        except IntegrityError:
            pass
    record(conn, actor, "deleted patient", uid)
    return bool(gone)


def pull(
    conn: Connection,
    board: Board,
    known: Mapping[str, int],
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a board must change: newer profiles of its patients, and deleted patients.

    ``known`` maps each of the board's profile uids to the revision it has. A patient linked
    to the board that it does not have yet (given to it on the hub) comes down too.
    """
    conn.execute(
        update(boards)
        .where(boards.c.id == board.id)
        .values(
            last_sync_at=utcnow(),
            software_version=str((status or {}).get("software_version") or "") or None,
            status=_json(dict(status or {})),
        )
    )
    deleted = []
    if known:
        deleted = list(
            conn.execute(
                select(deleted_patients.c.uid).where(deleted_patients.c.uid.in_(list(known)))
            ).scalars()
        )
    linked = conn.execute(
        select(patients)
        .join(board_patients, board_patients.c.patient_id == patients.c.id)
        .where(board_patients.c.board_id == board.id)
    ).all()
    updates = [patient_document(r) for r in linked if r.revision > int(known.get(r.uid, 0))]
    return {"profiles": updates, "deleted": deleted}


# -- edits made on the hub --------------------------------------------------------------------


def edit_patient(conn: Connection, uid: str, fields: Mapping[str, Any], actor: str) -> dict:
    """Change a patient's profile fields on the hub (a new revision for the boards)."""
    row = _patient(conn, uid)
    if row is None:
        raise SyncError(f"there is no patient {uid}")
    merged = {**json.loads(row.profile), **dict(fields)}
    conn.execute(
        update(patients)
        .where(patients.c.id == row.id)
        .values(
            name=str(merged["name"]).strip(),
            profile=_json(merged),
            revision=patients.c.revision + 1,
            updated_at=utcnow(),
            updated_by=actor,
        )
    )
    record(conn, actor, "edited profile", uid)
    return patient_document(_patient(conn, uid))


def assign_programme(
    conn: Connection, uid: str, programme_id: str, start: date, actor: str, note: str | None = None
) -> dict:
    """Give a patient a programme from ``start``, ending the current one (as on a board)."""
    row = _patient(conn, uid)
    if row is None:
        raise SyncError(f"there is no patient {uid}")
    if not programme_id.strip():
        raise SyncError("choose a programme")
    assignments = json.loads(row.assignments)
    for a in assignments:
        if a.get("end_date") is None:
            if a["start_date"] > start.isoformat():
                raise SyncError(
                    f"the current programme starts on {a['start_date']}, after "
                    f"{start.isoformat()}; end it first"
                )
            a["end_date"] = start.isoformat()
    assignments.append(
        {
            "programme_id": programme_id.strip(),
            "start_date": start.isoformat(),
            "end_date": None,
            "assigned_at": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "assigned_by": actor,
            "note": note,
        }
    )
    conn.execute(
        update(patients)
        .where(patients.c.id == row.id)
        .values(
            assignments=_json(assignments),
            revision=patients.c.revision + 1,
            updated_at=utcnow(),
            updated_by=actor,
        )
    )
    record(conn, actor, "assigned programme", f"{uid} {programme_id}")
    return patient_document(_patient(conn, uid))


def give_patient_to_board(conn: Connection, uid: str, board_name: str, actor: str) -> None:
    """Make a patient come down to a board at its next sync."""
    row = _patient(conn, uid)
    board = conn.execute(select(boards).where(boards.c.name == board_name)).first()
    if row is None or board is None:
        raise SyncError("no such patient or board")
    conn.execute(
        delete(board_patients).where(
            board_patients.c.board_id == board.id, board_patients.c.patient_id == row.id
        )
    )
    conn.execute(insert(board_patients).values(board_id=board.id, patient_id=row.id))
    record(conn, actor, "gave patient to board", f"{uid} {board_name}")


def session_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(sessions)).scalar_one())
