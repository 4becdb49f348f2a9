"""``wobble pin set``: set the clinic's clinician PIN from the command line.

On a kiosk's first start the trainer asks for a new PIN on the touch screen, which whoever
touches it first could complete. The installer (``systemd/install.sh``) or the clinic's IT person
sets it here instead, before the trainer is handed over: typed twice at a hidden prompt, or one
line on standard input with ``--pin-stdin`` (scripts). It is stored the way the kiosk stores it
(:class:`~wobble_trainer.app.kiosk.PinStore`: a salted scrypt hash, 0600, written atomically) in
the state directory, and replaces any PIN set before (with its count of failed tries).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from wobble_trainer.app.kiosk import PinStore
from wobble_trainer.appliance.pin import (
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    PinFormatError,
    validate_pin,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pin_command", metavar="ACTION", required=True)
    setting = sub.add_parser(
        "set",
        help=f"set the clinic's clinician PIN ({MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits)",
        description="Set the clinician PIN the kiosk asks for (clinician menu, patients' "
        "profiles, exports, leaving the trainer). Run it as the user the trainer runs as "
        "(the service: sudo -u wobble), or with --state-dir.",
    )
    setting.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from one line of standard input instead of a hidden prompt",
    )
    setting.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the trainer's state directory (default: $WOBBLE_STATE_DIR, the service's "
        "StateDirectory, or ~/.local/share/wobble-trainer)",
    )
    setting.set_defaults(func=run)


def read_pin(
    from_stdin: bool,
    stdin: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> str:
    """The new PIN: one line of ``stdin``, or typed twice at a hidden prompt (ValueError with
    the reason when the two differ or the PIN is not 4-8 digits)."""
    if from_stdin:
        pin = (stdin or sys.stdin).readline().strip()
    else:
        pin = prompt(f"New clinician PIN ({MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits): ").strip()
        try:
            validate_pin(pin)
        except PinFormatError as exc:
            raise ValueError(str(exc)) from exc
        if prompt("Type it again: ").strip() != pin:
            raise ValueError("the two PINs differ; nothing was changed")
    try:
        validate_pin(pin)
    except PinFormatError as exc:
        raise ValueError(str(exc)) from exc
    return pin


def run(args: argparse.Namespace) -> int:
    """Exit 0 when set, 2 for a PIN refused (nothing changed), 1 when it could not be saved."""
    from wobble_trainer.paths import state_dir

    try:
        pin = read_pin(args.pin_stdin)
    except ValueError as exc:
        print(f"wobble pin set: {exc}. Nothing was changed.", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("wobble pin set: no PIN given. Nothing was changed.", file=sys.stderr)
        return 2
    try:
        directory = args.state_dir if args.state_dir is not None else state_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = PinStore.in_state_dir(directory)
        store.set_pin(pin)
    except OSError as exc:
        print(
            f"wobble pin set: could not save the PIN ({exc}). Run it as the trainer's user "
            "(e.g. sudo -u wobble wobble pin set) or give --state-dir. Nothing was changed.",
            file=sys.stderr,
        )
        return 1
    print(f"Clinician PIN set ({store.path}). Restart the trainer if it is running.")
    return 0
