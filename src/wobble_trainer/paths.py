"""Where Wobble Trainer keeps its files.

One state directory holds the calibration files (and, later, the database): ``$WOBBLE_STATE_DIR``
when set (tests, a data partition on a read-only-root device), else systemd's
``$STATE_DIRECTORY`` (the service's ``StateDirectory=``), else ``$XDG_DATA_HOME/wobble-trainer``
(normally ``~/.local/share/wobble-trainer``).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "wobble-trainer"


def state_dir(create: bool = True) -> Path:
    """The state directory (made if missing, unless ``create`` is False)."""
    return _state_dir("WOBBLE_STATE_DIR", APP_DIR_NAME, create)


def _state_dir(variable: str, name: str, create: bool, mode: int = 0o777) -> Path:
    explicit = os.environ.get(variable) or os.environ.get("STATE_DIRECTORY")
    if explicit:
        # systemd passes a colon-separated list when several directories are configured.
        path = Path(explicit.split(":")[0])
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(xdg) / name
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path


HUB_DIR_NAME = "wobble-hub"


def hub_state_dir(create: bool = True) -> Path:
    """The clinic hub's own state directory (its embedded SQLite database lives there).

    ``$WOBBLE_HUB_STATE_DIR`` when set, else systemd's ``$STATE_DIRECTORY`` (the hub unit's
    ``StateDirectory=wobble-hub``), else ``$XDG_DATA_HOME/wobble-hub``. Separate from the board's
    directory so a Pi that is both a board and the hub keeps the two databases apart.
    """
    return _state_dir("WOBBLE_HUB_STATE_DIR", HUB_DIR_NAME, create, mode=0o700)
