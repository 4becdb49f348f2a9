"""Posting FHIR transaction Bundles to a clinic's FHIR server, without losing or doubling any.

* **Nothing lost.** A Bundle to send is first written to an outbox directory (one file per
  session, written atomically), and removed only once the server has answered 2xx with a
  transaction-response. A server that is down, a cut network or a killed process leaves the
  file there; the next :meth:`FhirPusher.flush` (the next ``wobble fhir push``, or the hub's next
  round) sends it again. A Bundle the server refuses for good (a 4xx other than 408/429) moves to
  ``failed/`` beside the outbox with the server's answer, for a person to look at.
* **Nothing doubled.** The outbox file is named by the Bundle's identifier, so queueing the same
  session again replaces it; every entry is a conditional create (``ifNoneExist`` on its stable
  identifier, see :mod:`wobble_trainer.reports.fhir`), so a retry after a lost answer creates
  nothing the first try created.
* **Backoff.** After a failure an item waits ``min(MAX_BACKOFF_S, BASE_BACKOFF_S · 2^(n-1))``
  before its next try; a connection failure stops the round (the server is down: there is no
  point in hammering it with the rest). Clock and sleep are injected, so tests need no real time.

The token is sent as ``Authorization: Bearer``; it is read from a file (never the command line,
where other users see it) and never written anywhere. Plain ``http://`` is refused except to
this machine (loopback), so a token never crosses a network unencrypted.

Command line: ``wobble fhir push --url URL --token-file FILE [--session ID | --profile NAME |
--all] [--retries N]`` queues the chosen sessions' Bundles (none: only what is queued) and sends
the queue; ``wobble fhir status`` lists what is waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wobble_trainer.files import write_atomically

OUTBOX_DIRNAME = "fhir-outbox"
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0
TIMEOUT_S = 60.0
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
FHIR_JSON = "application/fhir+json"


class FhirPushError(Exception):
    """A Bundle could not be delivered; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class FhirTarget:
    """Where Bundles go: the server's base URL and the bearer token."""

    base_url: str
    token: str
    timeout_s: float = TIMEOUT_S

    def __post_init__(self) -> None:
        check_url(self.base_url)
        if not self.token or any(c in self.token for c in "\r\n"):
            raise ValueError(
                "the bearer token is empty or spans lines; put the token alone in its file"
            )

    @classmethod
    def from_token_file(cls, base_url: str, path: str | os.PathLike[str]) -> FhirTarget:
        """A target whose token is the (stripped) content of ``path``."""
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read the token file {path}: {exc.strerror or exc}") from exc
        return cls(base_url, token)


def check_url(url: str) -> None:
    """Refuse a base URL that is not http(s), or plain http to anything but this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a FHIR base URL like https://fhir.example.org/r4")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(
            f"{url!r} is plain http to another machine: the token and the patient data would "
            "cross the network unencrypted. Use the server's https:// address"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_transaction(target: FhirTarget, bundle: Mapping[str, Any]) -> dict[str, Any]:
    """POST one transaction Bundle; the server's transaction-response Bundle.

    Raises :class:`FhirPushError` (retryable for connection failures, timeouts, 408/429/5xx).
    """
    body = json.dumps(bundle, ensure_ascii=False, allow_nan=False).encode("utf-8")
    request = urllib.request.Request(
        target.base_url.rstrip("/") or target.base_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": f"{FHIR_JSON}; charset=utf-8",
            "Accept": FHIR_JSON,
            "Authorization": f"Bearer {target.token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=target.timeout_s) as response:
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise FhirPushError(
            f"the FHIR server answered {exc.code} {exc.reason}: {detail}",
            retryable=exc.code in RETRYABLE_STATUS,
            status=exc.code,
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FhirPushError(
            f"cannot reach the FHIR server at {target.base_url} ({reason}); the Bundle stays "
            "queued and is sent again later",
            retryable=True,
        ) from exc
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise FhirPushError("the FHIR server's answer is not JSON", retryable=True) from exc
    if answer.get("resourceType") != "Bundle" or answer.get("type") != "transaction-response":
        raise FhirPushError(
            "the FHIR server did not answer with a transaction-response", retryable=True
        )
    for entry in answer.get("entry", []):
        status = str(entry.get("response", {}).get("status", ""))
        if not status[:1] == "2":
            raise FhirPushError(f"the FHIR server refused an entry: {status}", retryable=False)
    return answer


# --- the outbox ---------------------------------------------------------------------------------


@dataclass
class OutboxItem:
    """One queued Bundle and its delivery history."""

    path: Path
    bundle: dict[str, Any]
    attempts: int = 0
    next_attempt_at: float = 0.0
    """Unix time before which it is not tried again."""
    last_error: str = ""


def _item_name(bundle: Mapping[str, Any]) -> str:
    ident = bundle.get("identifier") or {}
    value = str(ident.get("value", "")) if isinstance(ident, Mapping) else ""
    if not value or not all(c.isalnum() or c == "-" for c in value):
        raise ValueError("a Bundle to queue needs a plain identifier value (a UUID)")
    return f"{value}.json"


class FhirOutbox:
    """The directory of Bundles waiting to be sent (``<state dir>/fhir-outbox`` by default)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.failed_dir = self.directory / "failed"

    def put(self, bundle: Mapping[str, Any]) -> Path:
        """Queue a Bundle (replacing a queued one with the same identifier: no duplicates)."""
        path = self.directory / _item_name(bundle)
        self._write(OutboxItem(path, dict(bundle)))
        return path

    def items(self) -> list[OutboxItem]:
        """Every queued Bundle, oldest file first (an unreadable file is moved to ``failed/``)."""
        if not self.directory.is_dir():
            return []
        out = []
        paths = sorted(self.directory.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
        for path in paths:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                out.append(
                    OutboxItem(
                        path,
                        data["bundle"],
                        int(data.get("attempts", 0)),
                        float(data.get("next_attempt_at", 0.0)),
                        str(data.get("last_error", "")),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self._move_to_failed(path, f"unreadable queue file: {exc}")
        return out

    def update(self, item: OutboxItem) -> None:
        self._write(item)

    def done(self, item: OutboxItem) -> None:
        with contextlib.suppress(FileNotFoundError):
            item.path.unlink()

    def fail(self, item: OutboxItem, reason: str) -> Path:
        item.last_error = reason
        self._write(item)
        return self._move_to_failed(item.path, reason)

    def _write(self, item: OutboxItem) -> None:
        doc = {
            "bundle": item.bundle,
            "attempts": item.attempts,
            "next_attempt_at": item.next_attempt_at,
            "last_error": item.last_error,
        }
        # 0600: the queue holds patient data.
        write_atomically(item.path, json.dumps(doc, ensure_ascii=False), mode=0o600)

    def _move_to_failed(self, path: Path, reason: str) -> Path:
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        target = self.failed_dir / path.name
        os.replace(path, target)
        write_atomically(target.with_suffix(".error.txt"), reason + "\n", mode=0o600)
        return target


# --- sending ------------------------------------------------------------------------------------


def backoff_s(attempts: int) -> float:
    """Wait before the next try after ``attempts`` failed ones."""
    return min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(0, attempts - 1))


@dataclass
class FlushResult:
    """What one round of sending did."""

    sent: int = 0
    failed: int = 0
    """Refused for good (moved to ``failed/``)."""
    waiting: int = 0
    """Still queued (server down, or waiting for their backoff)."""
    errors: list[str] = field(default_factory=list)


Poster = Callable[[FhirTarget, Mapping[str, Any]], dict[str, Any]]


class FhirPusher:
    """Sends an outbox's Bundles to a target (:meth:`flush` one round, :meth:`push` with
    retries). ``clock`` (unix seconds), ``sleep`` and ``poster`` are injectable for tests."""

    def __init__(
        self,
        outbox: FhirOutbox,
        target: FhirTarget,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poster: Poster = post_transaction,
    ) -> None:
        self.outbox = outbox
        self.target = target
        self.clock = clock
        self.sleep = sleep
        self.poster = poster
        self.server_retry_at = 0.0
        self.unreachable_rounds = 0
        """After the server could not be reached: no try before this time (unix seconds)."""

    def flush(self) -> FlushResult:
        """Try every queued Bundle whose backoff has passed, once."""
        result = FlushResult()
        items = self.outbox.items()
        if self.clock() < self.server_retry_at:
            result.waiting = len(items)
            return result
        for n, item in enumerate(items):
            if item.next_attempt_at > self.clock():
                result.waiting += 1
                continue
            try:
                self.poster(self.target, item.bundle)
            except FhirPushError as exc:
                item.attempts += 1
                item.last_error = str(exc)
                result.errors.append(str(exc))
                if not exc.retryable:
                    self.outbox.fail(item, str(exc))
                    result.failed += 1
                    continue
                item.next_attempt_at = self.clock() + backoff_s(item.attempts)
                self.outbox.update(item)
                if exc.status is None:  # the server is unreachable: leave the rest queued
                    # The server's backoff grows with every round it stays unreachable,
                    # whichever item that round tried.
                    self.unreachable_rounds += 1
                    self.server_retry_at = self.clock() + backoff_s(self.unreachable_rounds)
                    result.waiting += len(items) - n
                    return result
                result.waiting += 1
                continue
            self.outbox.done(item)
            self.unreachable_rounds = 0
            result.sent += 1
        return result

    def push(self, retries: int = 0) -> FlushResult:
        """Flush, then up to ``retries`` more rounds while items wait, sleeping until the next
        item's backoff has passed (bounded by :data:`MAX_BACKOFF_S`)."""
        total = FlushResult()
        for round_no in range(retries + 1):
            result = self.flush()
            total.sent += result.sent
            total.failed += result.failed
            total.errors.extend(result.errors)
            total.waiting = result.waiting
            if not result.waiting or round_no == retries:
                break
            due = min((i.next_attempt_at for i in self.outbox.items()), default=self.clock())
            due = max(due, self.server_retry_at)
            self.sleep(min(MAX_BACKOFF_S, max(0.0, due - self.clock())))
        return total


# --- command line -------------------------------------------------------------------------------


def default_outbox() -> FhirOutbox:
    from wobble_trainer.paths import state_dir

    return FhirOutbox(state_dir() / OUTBOX_DIRNAME)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``wobble fhir``."""
    sub = parser.add_subparsers(dest="fhir_command", metavar="ACTION", required=True)
    push = sub.add_parser("push", help="queue sessions as FHIR Bundles and send the queue")
    push.add_argument("--url", required=True, help="the FHIR server's base URL (https://…)")
    push.add_argument(
        "--token-file",
        required=True,
        type=Path,
        help="file holding the bearer token (and nothing else)",
    )
    which = push.add_mutually_exclusive_group()
    which.add_argument(
        "--session", type=int, dest="session_id", metavar="ID", help="queue this session"
    )
    which.add_argument("--profile", metavar="NAME", help="queue this profile's sessions")
    which.add_argument(
        "--all", action="store_true", dest="all_profiles", help="queue every profile's sessions"
    )
    push.add_argument(
        "--retries",
        type=int,
        default=3,
        help="rounds to try again while the server is down, with backoff (3)",
    )
    push.add_argument("--outbox", type=Path, help="queue directory (default: in the state dir)")
    status = sub.add_parser("status", help="list the Bundles waiting to be sent")
    status.add_argument("--outbox", type=Path, help="queue directory (default: in the state dir)")


def _queue_sessions(args: argparse.Namespace, outbox: FhirOutbox) -> int:
    from wobble_trainer.reports.export import select_sessions
    from wobble_trainer.reports.fhir import session_bundle
    from wobble_trainer.storage import open_database

    with open_database() as db:
        items = select_sessions(
            db, profile=args.profile, all_profiles=args.all_profiles, session_id=args.session_id
        )
        queued = 0
        for profile, session in items:
            if profile.is_guest or not session.finished or not session.metrics:
                continue
            outbox.put(session_bundle(db, session.id))
            queued += 1
    return queued


def run(args: argparse.Namespace) -> int:
    """``wobble fhir push`` / ``wobble fhir status``."""
    from wobble_trainer.reports.export import ExportError
    from wobble_trainer.reports.fhir import FhirExportError
    from wobble_trainer.storage import StorageError

    outbox = FhirOutbox(args.outbox) if args.outbox else default_outbox()
    if args.fhir_command == "status":
        items = outbox.items()
        for item in items:
            when = datetime.fromtimestamp(item.next_attempt_at, UTC).isoformat(timespec="seconds")
            print(f"{item.path.name}: {item.attempts} tries, next {when}; {item.last_error}")
        print(f"{len(items)} Bundle{'s' if len(items) != 1 else ''} waiting in {outbox.directory}")
        return 0
    try:
        target = FhirTarget.from_token_file(args.url, args.token_file)
        queued = 0
        if args.session_id is not None or args.profile or args.all_profiles:
            queued = _queue_sessions(args, outbox)
    except (ValueError, ExportError, FhirExportError, StorageError) as exc:
        print(f"wobble fhir push: {exc}", file=sys.stderr)
        return 1
    result = FhirPusher(outbox, target).push(retries=max(0, args.retries))
    print(
        f"Queued {queued}, sent {result.sent}, refused {result.failed}, still waiting "
        f"{result.waiting} (queue: {outbox.directory})"
    )
    for error in dict.fromkeys(result.errors):
        print(f"  {error}", file=sys.stderr)
    return 0 if not result.failed and not result.waiting else 1
