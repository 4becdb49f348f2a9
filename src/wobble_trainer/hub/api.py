"""The boards' HTTP API: thin handlers over :mod:`~wobble_trainer.hub.accounts` and
:mod:`~wobble_trainer.hub.sync`.

Every route needs a board's credentials (``Authorization: Board <id>:<secret>``) except
``POST /api/link``, whose one-time code *is* the credential. Bodies are JSON; trace bytes travel
base64-encoded inside it (``"trace_b64"``). Each request is one database transaction, so a cut
connection leaves either all of an upload or none of it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from wobble_trainer.hub import accounts, live, sync
from wobble_trainer.hub.db import HubDatabase

MAX_BODY_BYTES = 256 * 1024 * 1024
"""Largest upload taken (a session of several hours at 1 kHz is far below)."""


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and int(length) > MAX_BODY_BYTES:
        raise ValueError("the upload is too large")
    body = await request.body()
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the body is not JSON ({exc})") from exc


def parse_board_auth(header: str | None) -> tuple[int, str] | None:
    """(board id, secret) from ``Authorization: Board <id>:<secret>``."""
    if not header or not header.startswith("Board "):
        return None
    ident, sep, secret = header[6:].strip().partition(":")
    if not sep or not ident.isdigit() or not secret:
        return None
    return int(ident), secret


def build_routes(db: HubDatabase) -> list[Route]:
    """The API routes over one database."""

    def board_of(request: Request, conn) -> accounts.Board | None:  # noqa: ANN001
        creds = parse_board_auth(request.headers.get("authorization"))
        return None if creds is None else accounts.authenticate_board(conn, *creds)

    def refused() -> JSONResponse:
        return error(
            401,
            "this board is not linked to the hub, or was revoked: link it again "
            "with `wobble link --hub URL --code CODE`",
        )

    async def link(request: Request) -> JSONResponse:
        def run(body: Any) -> accounts.BoardLink:
            with db.begin() as conn:
                return accounts.link_board(
                    conn, str(body.get("code", "")), body.get("software_version")
                )

        try:
            done = await run_in_threadpool(run, await read_json(request))
        except (ValueError, AttributeError) as exc:
            return error(400, str(exc))
        return JSONResponse({"board_id": done.board_id, "name": done.name, "secret": done.secret})

    def handler(work):  # noqa: ANN001, ANN202 - decorator
        async def endpoint(request: Request) -> JSONResponse:
            try:
                body = await read_json(request)
            except ValueError as exc:
                return error(400, str(exc))

            def run() -> JSONResponse:
                with db.begin() as conn:
                    board = board_of(request, conn)
                    if board is None:
                        return refused()
                    try:
                        return JSONResponse(work(conn, board, body))
                    except sync.SyncError as exc:
                        conn.rollback()
                        return error(422, str(exc))

            return await run_in_threadpool(run)

        return endpoint

    def profiles(conn, board, body):  # noqa: ANN001, ANN202
        return sync.receive_profile(conn, board, body)

    def sessions(conn, board, body):  # noqa: ANN001, ANN202
        try:
            for t in body["trials"]:
                t["trace"] = base64.b64decode(t.pop("trace_b64"), validate=True)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise sync.SyncError(f"each trial needs its trace as trace_b64 ({exc})") from exc
        return {"status": sync.receive_session(conn, board, body)}

    def deletions(conn, board, body):  # noqa: ANN001, ANN202
        done = {"profiles": 0, "sessions": 0}
        for uid in body.get("profiles", []):
            done["profiles"] += sync.delete_patient(conn, str(uid), f"board {board.name}")
        for uid in body.get("sessions", []):
            done["sessions"] += sync.delete_session(conn, board, str(uid))
        return done

    def pull(conn, board, body):  # noqa: ANN001, ANN202
        known = {str(k): int(v) for k, v in dict(body.get("known", {})).items()}
        return sync.pull(conn, board, known, body.get("status"))

    def live_state(conn, board, body):  # noqa: ANN001, ANN202
        try:
            return {"seq": live.publish(conn, board, dict(body))}
        except (live.LiveError, TypeError, ValueError) as exc:
            raise sync.SyncError(str(exc)) from exc

    return [
        Route("/api/link", link, methods=["POST"]),
        Route("/api/live", handler(live_state), methods=["POST"]),
        Route("/api/profiles", handler(profiles), methods=["POST"]),
        Route("/api/sessions", handler(sessions), methods=["POST"]),
        Route("/api/deletions", handler(deletions), methods=["POST"]),
        Route("/api/pull", handler(pull), methods=["POST"]),
    ]
