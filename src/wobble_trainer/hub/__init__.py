"""The clinic hub: a server that a clinic's boards sync with, and a web view for clinicians.

Above storage and reports in the layers; nothing below imports it. Its dependencies are in the
``[hub]`` extra (Starlette, uvicorn, SQLAlchemy 2, Alembic, psycopg 3, Jinja2, python-multipart),
so importing this package alone imports none of them.

* :mod:`~wobble_trainer.hub.tables` — the schema (SQLAlchemy Core), one for SQLite and PostgreSQL;
* :mod:`~wobble_trainer.hub.migrations` — Alembic migrations, run programmatically;
* :mod:`~wobble_trainer.hub.db` — engine, migrations on start, stats;
* :mod:`~wobble_trainer.hub.credentials` — password hashes and secret digests;
* :mod:`~wobble_trainer.hub.accounts` — clinicians, login sessions and lockout, boards, audit;
* :mod:`~wobble_trainer.hub.sync` — taking boards' sessions and profiles, handing back edits;
* :mod:`~wobble_trainer.hub.live` — the newest live state of each board, for the live view;
* :mod:`~wobble_trainer.hub.records` — the hub's rows as the board's own session/trial records;
* :mod:`~wobble_trainer.hub.views` — what the web pages show, as plain functions;
* :mod:`~wobble_trainer.hub.api` — the boards' HTTP API (thin handlers);
* :mod:`~wobble_trainer.hub.web` — the clinician web view (server-rendered Jinja2);
* :mod:`~wobble_trainer.hub.app` — the ASGI application and the server;
* :mod:`~wobble_trainer.hub.cli` — ``wobble hub …``.
"""
