"""Who may talk to the hub: clinicians (password, login sessions, lockout) and boards (one-time
enrolment code, then a per-board secret), and the audit log of who did what.

Plain functions over a SQLAlchemy connection inside the caller's transaction; the HTTP handlers
and the command line call them, and so do the tests. All state (failed-login counters, lockouts,
login sessions, codes) is in the database, so any hub process can answer any request.

Lockout: after :data:`FREE_FAILURES` wrong passwords in a row a clinician is locked for
:data:`FIRST_LOCK_S`, doubling with every further failure up to :data:`MAX_LOCK_S`; a correct
password (once unlocked) resets the count. While locked, no password is even checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from wobble_trainer.hub import credentials
from wobble_trainer.hub.tables import (
    audit_log,
    boards,
    clinicians,
    enrol_codes,
    login_sessions,
)

FREE_FAILURES = 3
FIRST_LOCK_S = 30.0
MAX_LOCK_S = 3600.0
LOGIN_SESSION_HOURS = 12
ENROL_CODE_MINUTES = 15


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccountError(ValueError):
    """A refused account operation; the message says what to do."""


class LoginRefused(AccountError):
    """Wrong name or password, or locked; ``retry_after_s`` > 0 while locked."""

    def __init__(self, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Login:
    """A clinician's login session: the cookie value and the CSRF token of its forms."""

    token: str
    csrf_token: str
    clinician_id: int
    name: str


@dataclass(frozen=True)
class BoardLink:
    """What a board receives when it links: its id, name and secret (shown once)."""

    board_id: int
    name: str
    secret: str


@dataclass(frozen=True)
class Board:
    id: int
    name: str
    revoked: bool
    linked_at: datetime | None
    last_sync_at: datetime | None
    software_version: str | None
    status: dict[str, Any]


def _clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError(f"a {what} needs a name of 1 to 200 characters")
    return name


# -- clinicians ------------------------------------------------------------------------------


def create_clinician(conn: Connection, name: str, password: str) -> int:
    """Add a clinician; returns the id."""
    name = _clean_name(name, "clinician")
    try:
        hashed = credentials.hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    try:
        with conn.begin_nested():
            result = conn.execute(
                insert(clinicians).values(
                    name=name,
                    password_hash=hashed,
                    created_at=utcnow(),
                    failed_logins=0,
                    disabled=False,
                )
            )
    except IntegrityError as exc:
        raise AccountError(f"there is already a clinician called {name!r}") from exc
    return int(result.inserted_primary_key[0])


def lock_seconds(failures: int) -> float:
    """How long a clinician is locked after ``failures`` wrong passwords in a row."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (failures - FREE_FAILURES))


_DUMMY_HASH = credentials.hash_password("not a real password")


def login(conn: Connection, name: str, password: str, now: datetime | None = None) -> Login:
    """Check a clinician's password and open a login session (raises :class:`LoginRefused`)."""
    now = now or utcnow()
    row = conn.execute(select(clinicians).where(clinicians.c.name == name.strip())).first()
    if row is None or row.disabled:
        credentials.verify_password(password, _DUMMY_HASH)  # same time as a real check
        raise LoginRefused("wrong name or password")
    if row.locked_until is not None and row.locked_until > now:
        wait = (row.locked_until - now).total_seconds()
        raise LoginRefused(
            f"too many wrong passwords: try again in {wait:.0f} s", retry_after_s=wait
        )
    if not credentials.verify_password(password, row.password_hash):
        failures = row.failed_logins + 1
        lock = lock_seconds(failures)
        conn.execute(
            update(clinicians)
            .where(clinicians.c.id == row.id)
            .values(
                failed_logins=failures,
                locked_until=now + timedelta(seconds=lock) if lock else None,
            )
        )
        record(conn, row.name, "login failed", f"{failures} in a row", now)
        raise LoginRefused("wrong name or password", retry_after_s=lock)
    conn.execute(
        update(clinicians)
        .where(clinicians.c.id == row.id)
        .values(failed_logins=0, locked_until=None)
    )
    token, csrf = credentials.new_token(), credentials.new_token()
    conn.execute(
        insert(login_sessions).values(
            token_hash=credentials.digest(token),
            clinician_id=row.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=LOGIN_SESSION_HOURS),
        )
    )
    conn.execute(delete(login_sessions).where(login_sessions.c.expires_at < now))
    record(conn, row.name, "login", "", now)
    return Login(token, csrf, row.id, row.name)


def session_for_token(
    conn: Connection, token: str | None, now: datetime | None = None
) -> Login | None:
    """The live login session of a cookie value, or ``None``."""
    if not token:
        return None
    now = now or utcnow()
    row = conn.execute(
        select(login_sessions, clinicians.c.name, clinicians.c.disabled)
        .join(clinicians, clinicians.c.id == login_sessions.c.clinician_id)
        .where(login_sessions.c.token_hash == credentials.digest(token))
    ).first()
    if row is None or row.expires_at <= now or row.disabled:
        return None
    return Login(token, row.csrf_token, row.clinician_id, row.name)


def logout(conn: Connection, token: str) -> None:
    conn.execute(
        delete(login_sessions).where(login_sessions.c.token_hash == credentials.digest(token))
    )


# -- boards ----------------------------------------------------------------------------------


def enrol_board(
    conn: Connection, name: str, minutes: float = ENROL_CODE_MINUTES, now: datetime | None = None
) -> str:
    """A one-time code for a board to link with (a new board, or re-linking an existing one)."""
    name = _clean_name(name, "board")
    if not 0 < minutes <= 24 * 60:
        raise AccountError("an enrolment code must expire within 1 minute to 24 hours")
    now = now or utcnow()
    row = conn.execute(select(boards.c.id).where(boards.c.name == name)).first()
    if row is None:
        board_id = conn.execute(
            insert(boards).values(name=name, created_at=now, status="{}")
        ).inserted_primary_key[0]
    else:
        board_id = row.id
    code = credentials.new_code()
    conn.execute(
        insert(enrol_codes).values(
            code_hash=credentials.digest(code),
            board_id=board_id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    return code


def link_board(
    conn: Connection, code: str, software_version: str | None = None, now: datetime | None = None
) -> BoardLink:
    """Use an enrolment code: the board gets a fresh secret (a revoked board is live again)."""
    now = now or utcnow()
    code_hash = credentials.digest(credentials.normalise_code(code))
    used = conn.execute(
        update(enrol_codes)
        .where(
            enrol_codes.c.code_hash == code_hash,
            enrol_codes.c.used_at.is_(None),
            enrol_codes.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(enrol_codes.c.board_id)
    ).first()
    if used is None:
        raise AccountError(
            "that code is wrong, expired or already used: ask for a new one "
            "(`wobble hub enrol-board NAME` on the hub)"
        )
    secret = credentials.new_token()
    conn.execute(
        update(boards)
        .where(boards.c.id == used.board_id)
        .values(
            secret_hash=credentials.digest(secret),
            linked_at=now,
            revoked_at=None,
            software_version=software_version,
        )
    )
    name = conn.execute(select(boards.c.name).where(boards.c.id == used.board_id)).scalar_one()
    record(conn, f"board {name}", "linked", "", now)
    return BoardLink(int(used.board_id), name, secret)


def authenticate_board(conn: Connection, board_id: int, secret: str) -> Board | None:
    """The board these credentials belong to; ``None`` if wrong or revoked."""
    row = conn.execute(select(boards).where(boards.c.id == board_id)).first()
    if (
        row is None
        or row.revoked_at is not None
        or not credentials.same_digest(secret, row.secret_hash)
    ):
        return None
    return _board(row)


def _board(row: Any) -> Board:
    return Board(
        row.id,
        row.name,
        row.revoked_at is not None,
        row.linked_at,
        row.last_sync_at,
        row.software_version,
        json.loads(row.status or "{}"),
    )


def revoke_board(conn: Connection, name: str, actor: str) -> None:
    """Refuse a board from now on (lost or stolen); re-enrol it to use it again."""
    done = conn.execute(
        update(boards).where(boards.c.name == name).values(revoked_at=utcnow(), secret_hash=None)
    ).rowcount
    if not done:
        raise AccountError(f"there is no board called {name!r}")
    record(conn, actor, "revoked board", name)


def list_boards(conn: Connection) -> list[Board]:
    return [_board(r) for r in conn.execute(select(boards).order_by(boards.c.name))]


# -- audit -----------------------------------------------------------------------------------


def record(
    conn: Connection, actor: str, action: str, target: str = "", now: datetime | None = None
) -> None:
    """Append to the audit log (who viewed, exported, changed or deleted what)."""
    conn.execute(
        insert(audit_log).values(
            at=now or utcnow(), actor=actor, action=action, target=target[:400]
        )
    )
