"""``wobble hub …``: serve, migrate, create clinicians, enrol and revoke boards, stats."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

HUB_MISSING = (
    "The hub's dependencies are not installed: pip install 'wobble-trainer[hub]' "
    "(a board does not need them)."
)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``wobble hub`` and its sub-commands."""
    hub = sub.add_parser("hub", help="the clinic hub server (needs the [hub] extra)")
    hub_sub = hub.add_subparsers(dest="hub_command", metavar="HUB_COMMAND", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--database",
            default=os.environ.get("WOBBLE_HUB_DATABASE") or None,
            help="postgresql://USER:PASS@HOST:PORT/DB (default: $WOBBLE_HUB_DATABASE, "
            "else embedded SQLite in the hub's state directory)",
        )
        return p

    serve = with_db(hub_sub.add_parser("serve", help="serve the boards' API and the web view"))
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8470, help="port (8470)")
    serve.add_argument("--ssl-certfile", help="HTTPS certificate (PEM); else plain HTTP")
    serve.add_argument("--ssl-keyfile", help="HTTPS private key (PEM)")
    serve.set_defaults(func=cmd_serve)
    migrate = with_db(hub_sub.add_parser("migrate", help="bring the database to this version"))
    migrate.set_defaults(func=cmd_migrate)
    clin = with_db(hub_sub.add_parser("create-clinician", help="add a clinician who can log in"))
    clin.add_argument("name")
    clin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    clin.set_defaults(func=cmd_create_clinician)
    enrol = with_db(
        hub_sub.add_parser("enrol-board", help="print a one-time code a board links with")
    )
    enrol.add_argument("name", help="the board's name, e.g. 'Room 2' or 'Home P-017'")
    enrol.add_argument(
        "--expires-minutes", type=float, default=15.0, help="the code expires after (15 min)"
    )
    enrol.set_defaults(func=cmd_enrol_board)
    revoke = with_db(hub_sub.add_parser("revoke-board", help="refuse a lost or retired board"))
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke_board)
    stats = with_db(hub_sub.add_parser("stats", help="counts of boards, patients, sessions…"))
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)


def _open(args: argparse.Namespace):  # noqa: ANN202
    try:
        from wobble_trainer.hub.db import HubDatabase
    except ImportError as exc:
        raise SystemExit(f"{HUB_MISSING} ({exc})") from exc
    return HubDatabase(args.database)


def _run(args: argparse.Namespace, work) -> int:  # noqa: ANN001
    from wobble_trainer.hub.accounts import AccountError
    from wobble_trainer.hub.db import HubDatabaseError

    try:
        with _open(args) as db:
            return work(db)
    except (AccountError, HubDatabaseError) as exc:
        print(str(exc), file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    from wobble_trainer.hub.app import serve

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        print("HTTPS needs both --ssl-certfile and --ssl-keyfile.", file=sys.stderr)
        return 2

    def work(db) -> int:  # noqa: ANN001
        scheme = "https" if args.ssl_certfile else "http"
        print(f"Wobble hub on {scheme}://{args.host}:{args.port} ({db.dialect})", flush=True)
        serve(db, args.host, args.port, args.ssl_certfile, args.ssl_keyfile)
        return 0

    return _run(args, work)


def cmd_migrate(args: argparse.Namespace) -> int:
    def work(db) -> int:  # noqa: ANN001
        found, now = db.migrate()  # opening migrated already; this reports the result
        print(f"The hub's database is at schema revision {now}.")
        return 0

    return _run(args, work)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("The two passwords differ; nothing was changed.")
    return first


def cmd_create_clinician(args: argparse.Namespace) -> int:
    from wobble_trainer.hub import accounts

    password = _read_password(args)

    def work(db) -> int:  # noqa: ANN001
        with db.begin() as conn:
            accounts.create_clinician(conn, args.name, password)
            accounts.record(conn, "command line", "created clinician", args.name)
        print(f"Clinician {args.name!r} created.")
        return 0

    return _run(args, work)


def cmd_enrol_board(args: argparse.Namespace) -> int:
    from wobble_trainer.hub import accounts

    def work(db) -> int:  # noqa: ANN001
        with db.begin() as conn:
            code = accounts.enrol_board(conn, args.name, args.expires_minutes)
            accounts.record(conn, "command line", "enrolment code", args.name)
        print(code)
        print(
            f"On board {args.name!r}, within {args.expires_minutes:g} minutes and once: "
            f"wobble link --hub URL --code {code}",
            file=sys.stderr,
        )
        return 0

    return _run(args, work)


def cmd_revoke_board(args: argparse.Namespace) -> int:
    from wobble_trainer.hub import accounts

    def work(db) -> int:  # noqa: ANN001
        with db.begin() as conn:
            accounts.revoke_board(conn, args.name, "command line")
        print(f"Board {args.name!r} is refused from now on.")
        return 0

    return _run(args, work)


def cmd_stats(args: argparse.Namespace) -> int:
    def work(db) -> int:  # noqa: ANN001
        counts = db.stats()
        if args.json:
            print(json.dumps(counts))
        else:
            for key, value in counts.items():
                print(f"{key:>10}  {value}")
        return 0

    return _run(args, work)
