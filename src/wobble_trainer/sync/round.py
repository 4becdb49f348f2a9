"""One sync round between this board and its hub.

1. **Up**: every entry of the outbox (see :mod:`wobble_trainer.storage.outbox`), profiles first,
   then finished sessions with all their trials, then deletions. An entry leaves the outbox only
   after the hub confirmed it, so a round cut anywhere (network, hub restart, killed process,
   power cut) is simply repeated by the next one; the hub stores nothing twice.
2. **Down**: the board tells the hub which profiles it has at which revision; the hub answers with
   newer versions (edits and programme assignments made on the hub, or by another board) and the
   patients deleted elsewhere, which are then deleted here with all their data.

The rule for an edit made on both sides is the hub's (see :mod:`wobble_trainer.hub.sync`): the
first edit to reach the hub wins; the other side takes it (reported as a conflict).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from wobble_trainer import __version__
from wobble_trainer.storage.db import Database
from wobble_trainer.sync.client import HubClient, HubError

MAX_ENTRIES_PER_ROUND = 10_000


@dataclass
class SyncReport:
    """What one round moved (names are the profiles' local names)."""

    sessions_up: int = 0
    sessions_already_there: int = 0
    samples_up: int = 0
    trace_bytes_up: int = 0
    profiles_up: list[str] = field(default_factory=list)
    deletions_up: int = 0
    profiles_down: list[str] = field(default_factory=list)
    deleted_down: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    error: str = ""

    def lines(self) -> list[str]:
        """Human-readable summary for ``wobble sync``."""
        out = [
            f"up: {self.sessions_up} session(s) ({self.samples_up} samples, "
            f"{self.trace_bytes_up} trace bytes)"
            + (
                f", {self.sessions_already_there} already on the hub"
                if self.sessions_already_there
                else ""
            ),
            f"up: {len(self.profiles_up)} profile(s)"
            + (f": {', '.join(self.profiles_up)}" if self.profiles_up else ""),
            f"up: {self.deletions_up} deletion(s)",
            f"down: {len(self.profiles_down)} profile(s)"
            + (f": {', '.join(self.profiles_down)}" if self.profiles_down else ""),
            f"down: {len(self.deleted_down)} deleted patient(s)",
        ]
        for name in self.conflicts:
            out.append(f"conflict: {name} was also changed on the hub; the hub's version is kept")
        if self.error:
            out.append(f"stopped: {self.error}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def status_of_board(db: Database) -> dict[str, Any]:
    """What the hub's boards page shows of this board."""
    return {"software_version": __version__, "schema_version": db.schema_version}


def _session_body(db: Database, uid: str) -> tuple[dict[str, Any] | None, int, int]:
    doc = db.outbox.session_document(uid)
    if doc is None:
        return None, 0, 0
    profile = db.outbox.profile_document(doc["profile_uid"])
    samples = sum(t["sample_count"] for t in doc["trials"])
    size = sum(len(t["trace"]) for t in doc["trials"])
    for t in doc["trials"]:
        t["trace_b64"] = base64.b64encode(t.pop("trace")).decode("ascii")
    doc["profile"] = profile
    return doc, samples, size


def sync_once(db: Database, client: HubClient, report: SyncReport | None = None) -> SyncReport:
    """Run one round; raises :class:`HubError` (with ``report`` filled so far) when cut."""
    report = report if report is not None else SyncReport()
    names = {r["uid"]: r["name"] for r in db.query("SELECT uid, name FROM profiles")}
    deletions: dict[str, list[str]] = {"profiles": [], "sessions": []}
    deletion_entries = []
    for entry in db.outbox.pending(MAX_ENTRIES_PER_ROUND):
        if entry.kind == "profile":
            doc = db.outbox.profile_document(entry.uid)
            if doc is not None:
                answer = client.post("/api/profiles", doc)
                _apply_profile_answer(db, answer, doc, report)
                report.profiles_up.append(doc["fields"]["name"])
        elif entry.kind == "session":
            body, samples, size = _session_body(db, entry.uid)
            if body is not None and body["profile"] is not None:
                status = client.post("/api/sessions", body)["status"]
                if status == "deleted":
                    if db.outbox.delete_profile(body["profile_uid"]):
                        report.deleted_down.append(names.get(body["profile_uid"], "?"))
                elif status == "unchanged":
                    report.sessions_already_there += 1
                else:
                    report.sessions_up += 1
                    report.samples_up += samples
                    report.trace_bytes_up += size
        else:
            key = "profiles" if entry.kind == "delete_profile" else "sessions"
            deletions[key].append(entry.uid)
            deletion_entries.append(entry)
            continue
        db.outbox.done(entry)
    if deletion_entries:
        client.post("/api/deletions", deletions)
        for entry in deletion_entries:
            db.outbox.done(entry)
        report.deletions_up = len(deletion_entries)
    answer = client.post(
        "/api/pull", {"known": db.outbox.known_revisions(), "status": status_of_board(db)}
    )
    for uid in answer.get("deleted", []):
        name = names.get(uid, uid)
        if db.outbox.delete_profile(uid):
            report.deleted_down.append(name)
    for doc in answer.get("profiles", []):
        report.profiles_down.append(db.outbox.apply_profile(doc))
    return report


def _apply_profile_answer(
    db: Database, answer: dict[str, Any], sent: dict[str, Any], report: SyncReport
) -> None:
    status = answer.get("status")
    if status == "accepted":
        db.outbox.set_revision(sent["uid"], int(answer["patient"]["revision"]))
    elif status == "conflict":
        report.conflicts.append(db.outbox.apply_profile(answer["patient"]))
    elif status == "deleted":
        if db.outbox.delete_profile(sent["uid"]):
            report.deleted_down.append(sent["fields"]["name"])
    else:
        raise HubError(
            f"the hub's answer about profile {sent['fields']['name']!r} is not understood"
        )
