"""``wobble link`` and ``wobble sync``: the board's side of the clinic hub on the command line."""

from __future__ import annotations

import argparse
import json
import sys


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``link`` and ``sync`` on the ``wobble`` parser."""
    link = sub.add_parser("link", help="link this board to a clinic hub with a one-time code")
    link.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.clinic")
    link.add_argument("--code", required=True, help="the code `wobble hub enrol-board` printed")
    link.set_defaults(func=cmd_link)
    sync = sub.add_parser("sync", help="one sync round with the hub: print what went up and down")
    sync.add_argument("--json", action="store_true", help="print the round's counts as JSON")
    sync.add_argument("--timeout", type=float, default=30.0, help="per request, s (30)")
    sync.set_defaults(func=cmd_sync)


def cmd_link(args: argparse.Namespace) -> int:
    from wobble_trainer.sync.client import HubError
    from wobble_trainer.sync.link import link_board, link_path

    try:
        link = link_board(args.hub, args.code)
    except HubError as exc:
        print(f"Not linked: {exc}", file=sys.stderr)
        return 1
    print(f"Linked to {link.hub_url} as board {link.name!r}; credentials in {link_path()}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from wobble_trainer.storage import StorageError, open_database
    from wobble_trainer.sync.client import HubError
    from wobble_trainer.sync.link import load_link
    from wobble_trainer.sync.round import SyncReport, sync_once

    try:
        link = load_link()
    except HubError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if link is None:
        print(
            "This board is not linked to a hub: run `wobble link --hub URL --code CODE` "
            "(the code comes from `wobble hub enrol-board NAME` on the hub).",
            file=sys.stderr,
        )
        return 1
    report = SyncReport()
    status = 0
    try:
        with open_database() as db:
            sync_once(db, link.client(args.timeout), report)
    except (HubError, StorageError) as exc:
        report.error = str(exc)
        status = 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return status
