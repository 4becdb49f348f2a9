"""Where Wobble Trainer keeps its files, readable by nobody but the user running it.

One state directory holds the database, calibration files, personal bests and the PIN file:
``$WOBBLE_STATE_DIR`` when set (tests, a data partition on a read-only-root device), else
systemd's ``$STATE_DIRECTORY`` (the service's ``StateDirectory=`` with ``StateDirectoryMode=0700``),
else ``$XDG_DATA_HOME/wobble-trainer`` (normally ``~/.local/share/wobble-trainer``).

It holds health data, so it is made ``0700`` and an existing one of ours that is open to others
(an older version made it ``0755``) is tightened; files in it are written ``0600``
(:data:`PRIVATE_FILE_MODE`).

The runtime directory (:func:`runtime_dir`) holds what only lives while the app runs: the record
of each sampler's shared memory, so the next start can clean up after a killed run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

APP_DIR_NAME = "wobble-trainer"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
"""Health data: read and written by the user running the trainer, nobody else."""


def state_dir(create: bool = True) -> Path:
    """The state directory (made ``0700`` if missing, unless ``create`` is False)."""
    return _state_dir("WOBBLE_STATE_DIR", APP_DIR_NAME, create)


HUB_DIR_NAME = "wobble-hub"


def hub_state_dir(create: bool = True) -> Path:
    """The clinic hub's own state directory (its embedded SQLite database lives there).

    ``$WOBBLE_HUB_STATE_DIR`` when set, else systemd's ``$STATE_DIRECTORY`` (the hub unit's
    ``StateDirectory=wobble-hub``), else ``$XDG_DATA_HOME/wobble-hub``. Separate from the board's
    directory so a Pi that is both a board and the hub keeps the two databases apart. Made
    ``0700`` like the board's: it holds every clinic patient's data.
    """
    return _state_dir("WOBBLE_HUB_STATE_DIR", HUB_DIR_NAME, create)


def _state_dir(variable: str, name: str, create: bool) -> Path:
    explicit = os.environ.get(variable) or os.environ.get("STATE_DIRECTORY")
    if explicit:
        # systemd passes a colon-separated list when several directories are configured.
        path = Path(explicit.split(":")[0])
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(xdg) / name
    if create:
        make_private_dir(path)
    return path


def runtime_dir() -> Path:
    """The runtime directory: ``$WOBBLE_RUNTIME_DIR``, systemd's ``$RUNTIME_DIRECTORY``,
    ``$XDG_RUNTIME_DIR/wobble-trainer``, else ``<tmp>/wobble-trainer-<uid>``; made ``0700``."""
    explicit = os.environ.get("WOBBLE_RUNTIME_DIR") or os.environ.get("RUNTIME_DIRECTORY")
    if explicit:
        path = Path(explicit.split(":")[0])
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / APP_DIR_NAME
    else:
        path = Path(tempfile.gettempdir()) / f"{APP_DIR_NAME}-{os.getuid()}"
    make_private_dir(path)
    return path


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) with mode 0700; an existing ``wobble-trainer`` directory
    that is ours and open to others is tightened (a directory named by the user, such as
    ``$WOBBLE_STATE_DIR=/srv/data``, is left as it is). ``OSError`` when it cannot be made."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if not path.name.startswith((APP_DIR_NAME, HUB_DIR_NAME)):
        return
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            path.chmod(PRIVATE_DIR_MODE)
