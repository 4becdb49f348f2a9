"""The hub's web application: the boards' API, the health check and the clinician web view.

:func:`create_app` builds a Starlette application over one :class:`HubDatabase`; it keeps no
state of its own between requests, so any number of processes can serve the same PostgreSQL
database. :func:`serve` runs it with uvicorn (HTTPS when given a certificate and key).
"""

from __future__ import annotations

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from wobble_trainer import __version__
from wobble_trainer.hub import api, web
from wobble_trainer.hub.db import HubDatabase


def create_app(db: HubDatabase) -> Starlette:
    """The ASGI application over ``db``."""

    def check() -> bool:
        try:
            with db.begin() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not healthy"  # noqa: BLE001
            return False

    async def healthz(request: Request) -> JSONResponse:
        ok = await run_in_threadpool(check)
        return JSONResponse({"ok": ok, "version": __version__}, status_code=200 if ok else 503)

    routes = [Route("/healthz", healthz), *api.build_routes(db), *web.build_routes(db)]
    app = Starlette(routes=routes)
    app.state.db = db
    return app


def serve(
    db: HubDatabase,
    host: str = "127.0.0.1",
    port: int = 8470,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM end it cleanly)."""
    import uvicorn

    uvicorn.run(
        create_app(db),
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="warning",
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
