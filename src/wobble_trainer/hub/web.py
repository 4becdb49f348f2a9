"""The clinician web view: server-rendered pages (Jinja2), no build step, usable on a tablet.

Security, all kept in the database (any hub process answers any request):

* login with a scrypt-hashed password and the growing lockout of
  :mod:`wobble_trainer.hub.accounts`; the login session is a random token in an ``HttpOnly``,
  ``SameSite=Strict`` cookie (``Secure`` over HTTPS), stored only as its digest;
* CSRF: every form carries a token that must match — the login session's own token once logged
  in, a double-submit cookie on the login form itself;
* every page but the login form needs a logged-in clinician; viewing a patient or a session and
  every download or change is written to the audit log.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from wobble_trainer.hub import accounts, live, sync, views
from wobble_trainer.hub.credentials import new_token
from wobble_trainer.hub.db import HubDatabase
from wobble_trainer.programme import PROGRAMMES
from wobble_trainer.storage.profiles import INJURED_SIDES, LEGS, validate_fields

SESSION_COOKIE = "wobble_hub_session"
LIVE_JS = Path(__file__).resolve().parent / "static" / "live.js"
LOGIN_CSRF_COOKIE = "wobble_hub_login_csrf"

templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("title", name.split(".")[0].capitalize())
    context.setdefault("login", None)
    context.setdefault("error", "")
    response = HTMLResponse(templates.get_template(name).render(**context), status_code=status)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _cookie(response: Any, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def profile_fields(form: dict[str, str], current: dict[str, Any]) -> dict[str, Any]:
    """Edited profile fields from a form, checked with the board's own validation."""
    try:
        fields = {
            "name": form.get("name", "").strip(),
            "birth_year": int(form.get("birth_year", "")),
            "height_m": float(form.get("height_m", "")),
            "injured_side": form.get("injured_side", "none"),
            "dominant_leg": form.get("dominant_leg", ""),
        }
    except ValueError as exc:
        raise ValueError("birth year and height must be numbers") from exc
    validate_fields(
        fields["name"],
        fields["birth_year"],
        fields["height_m"],
        fields["dominant_leg"],
        fields["injured_side"],
        current.get("sex"),
    )
    return fields


def build_routes(db: HubDatabase) -> list[Route]:
    """The web view's routes over one database."""

    Work = Callable[[Connection, accounts.Login, Request, dict[str, str]], Any]

    def page(work: Work, method: str = "GET"):  # noqa: ANN202
        """A handler needing a logged-in clinician (and, for POST, the form's CSRF token)."""

        async def endpoint(request: Request):  # noqa: ANN202
            form = dict(await request.form()) if method == "POST" else {}

            def run() -> Any:
                with db.begin() as conn:
                    login = accounts.session_for_token(conn, request.cookies.get(SESSION_COOKIE))
                    if login is None:
                        return RedirectResponse("/login", status_code=303)
                    if method == "POST" and not _same(form.get("csrf"), login.csrf_token):
                        return PlainTextResponse(
                            "The form has expired: go back, reload the page and try again.",
                            status_code=403,
                        )
                    return work(conn, login, request, form)

            return await run_in_threadpool(run)

        return endpoint

    async def login_form(request: Request) -> HTMLResponse:
        csrf = new_token()
        response = render("login.html", csrf=csrf, title="Log in")
        _cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
        return response

    async def login_post(request: Request):  # noqa: ANN202
        form = dict(await request.form())
        if not _same(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return PlainTextResponse(
                "The login form has expired: reload it and try again.", status_code=403
            )

        def run() -> accounts.Login | str:
            with db.begin() as conn:
                try:
                    return accounts.login(
                        conn, str(form.get("name", "")), str(form.get("password", ""))
                    )
                except accounts.LoginRefused as exc:
                    return str(exc)  # inside the transaction: the failure count is kept

        result = await run_in_threadpool(run)
        if isinstance(result, str):
            csrf = new_token()
            response = render("login.html", status=401, csrf=csrf, error=result, title="Log in")
            _cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
            return response
        response = RedirectResponse("/", status_code=303)
        _cookie(
            response, request, SESSION_COOKIE, result.token, accounts.LOGIN_SESSION_HOURS * 3600
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    def logout(conn, login, request, form):  # noqa: ANN001, ANN202
        accounts.logout(conn, login.token)
        accounts.record(conn, login.name, "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def patient_list(conn, login, request, form):  # noqa: ANN001, ANN202
        q = request.query_params.get("q", "")
        try:
            page_no = max(0, int(request.query_params.get("page", "0")))
        except ValueError:
            page_no = 0
        rows = views.patient_list(conn, q, page=page_no)
        more = len(rows) > views.PAGE_SIZE
        return render(
            "patients.html",
            login=login,
            rows=rows[: views.PAGE_SIZE],
            q=q,
            page=page_no,
            more=more,
            title="Patients",
        )

    def patient_page(conn, login, request, form, error: str = ""):  # noqa: ANN001, ANN202
        uid = request.path_params["uid"]
        detail = views.patient_detail(conn, uid)
        if detail is None:
            return render("base.html", status=404, login=login, error="No such patient.")
        accounts.record(conn, login.name, "viewed patient", f"{detail['name']} ({uid})")
        return render(
            "patient.html",
            status=400 if error else 200,
            login=login,
            p=detail,
            error=error,
            title=detail["name"],
            sides=INJURED_SIDES,
            legs=LEGS,
            programmes=sorted(PROGRAMMES.items()),
            today=date.today().isoformat(),
            boards=[b for b in accounts.list_boards(conn) if not b.revoked],
        )

    def back_to_patient(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/patients/{request.path_params['uid']}", status_code=303)

    def edit_profile(conn, login, request, form):  # noqa: ANN001, ANN202
        uid = request.path_params["uid"]
        detail = views.patient_detail(conn, uid)
        if detail is None:
            return render("base.html", status=404, login=login, error="No such patient.")
        try:
            fields = profile_fields(form, detail["profile"])
        except ValueError as exc:
            return patient_page(conn, login, request, form, error=str(exc))
        sync.edit_patient(conn, uid, fields, login.name)
        return back_to_patient(request)

    def assign(conn, login, request, form):  # noqa: ANN001, ANN202
        try:
            start = date.fromisoformat(form.get("start_date", ""))
            if form.get("programme_id") not in PROGRAMMES:
                raise sync.SyncError("choose one of the programmes")
            sync.assign_programme(
                conn, request.path_params["uid"], form["programme_id"], start, login.name
            )
        except (ValueError, sync.SyncError) as exc:
            return patient_page(conn, login, request, form, error=str(exc))
        return back_to_patient(request)

    def to_board(conn, login, request, form):  # noqa: ANN001, ANN202
        try:
            sync.give_patient_to_board(
                conn, request.path_params["uid"], form.get("board", ""), login.name
            )
        except sync.SyncError as exc:
            return patient_page(conn, login, request, form, error=str(exc))
        return back_to_patient(request)

    def delete(conn, login, request, form):  # noqa: ANN001, ANN202
        uid = request.path_params["uid"]
        detail = views.patient_detail(conn, uid)
        if detail is None:
            return RedirectResponse("/", status_code=303)
        if form.get("confirm", "").strip() != detail["name"]:
            return patient_page(
                conn, login, request, form, error="Type the patient's name exactly to delete them."
            )
        sync.delete_patient(conn, uid, login.name)
        return RedirectResponse("/", status_code=303)

    def session_page(conn, login, request, form):  # noqa: ANN001, ANN202
        uid = request.path_params["uid"]
        detail = views.session_detail(conn, uid)
        if detail is None:
            return render("base.html", status=404, login=login, error="No such session.")
        accounts.record(conn, login.name, "viewed session", f"{detail['patient_name']} {uid}")
        return render("session.html", login=login, s=detail, title=detail["kind"])

    def session_download(conn, login, request, form):  # noqa: ANN001, ANN202
        uid = request.path_params["uid"]
        detail = views.session_detail(conn, uid)
        if detail is None:
            return PlainTextResponse("No such session.", status_code=404)
        accounts.record(conn, login.name, "exported session JSON", uid)
        return JSONResponse(
            views.session_json(detail),
            headers={"Content-Disposition": f'attachment; filename="session-{uid}.json"'},
        )

    def trial_download(conn, login, request, form):  # noqa: ANN001, ANN202
        uid, index = request.path_params["uid"], request.path_params["index"]
        text = views.trial_csv(conn, uid, index)
        if text is None:
            return PlainTextResponse("No such trial.", status_code=404)
        accounts.record(conn, login.name, "exported trial CSV", f"{uid} trial {index + 1}")
        return PlainTextResponse(
            text,
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="session-{uid}-trial-{index + 1}.csv"'
            },
        )

    def boards_page(conn, login, request, form):  # noqa: ANN001, ANN202
        return render("boards.html", login=login, boards=accounts.list_boards(conn), title="Boards")

    def revoke(conn, login, request, form):  # noqa: ANN001, ANN202
        try:
            accounts.revoke_board(conn, form.get("name", ""), login.name)
        except accounts.AccountError as exc:
            return render(
                "boards.html",
                status=400,
                login=login,
                error=str(exc),
                boards=accounts.list_boards(conn),
                title="Boards",
            )
        return RedirectResponse("/boards", status_code=303)

    def live_page(conn, login, request, form):  # noqa: ANN001, ANN202
        board_id = request.path_params["board_id"]
        board = next((b for b in accounts.list_boards(conn) if b.id == board_id), None)
        if board is None:
            return render("base.html", status=404, login=login, error="No such board.")
        accounts.record(conn, login.name, "watched live", board.name)
        return render("live.html", login=login, board=board, title=f"Live: {board.name}")

    def live_json(conn, login, request, form):  # noqa: ANN001, ANN202
        state = live.latest(conn, request.path_params["board_id"])
        return JSONResponse(state or {}, headers={"Cache-Control": "no-store"})

    async def live_script(request: Request) -> PlainTextResponse:
        return PlainTextResponse(LIVE_JS.read_text(), media_type="text/javascript")

    def audit(conn, login, request, form):  # noqa: ANN001, ANN202
        accounts.record(conn, login.name, "viewed audit log")
        return render(
            "audit.html", login=login, entries=views.audit_entries(conn), title="Audit log"
        )

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", page(logout, "POST"), methods=["POST"]),
        Route("/", page(patient_list)),
        Route("/patients/{uid}", page(patient_page)),
        Route("/patients/{uid}/profile", page(edit_profile, "POST"), methods=["POST"]),
        Route("/patients/{uid}/programme", page(assign, "POST"), methods=["POST"]),
        Route("/patients/{uid}/board", page(to_board, "POST"), methods=["POST"]),
        Route("/patients/{uid}/delete", page(delete, "POST"), methods=["POST"]),
        Route("/sessions/{uid}", page(session_page)),
        Route("/sessions/{uid}/session.json", page(session_download)),
        Route("/sessions/{uid}/trial-{index:int}.csv", page(trial_download)),
        Route("/boards", page(boards_page)),
        Route("/boards/revoke", page(revoke, "POST"), methods=["POST"]),
        Route("/audit", page(audit)),
        Route("/boards/{board_id:int}/live", page(live_page)),
        Route("/boards/{board_id:int}/live.json", page(live_json)),
        Route("/static/live.js", live_script),
    ]
