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
    explicit = os.environ.get("WOBBLE_STATE_DIR") or os.environ.get("STATE_DIRECTORY")
    if explicit:
        # systemd passes a colon-separated list when several directories are configured.
        path = Path(explicit.split(":")[0])
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(xdg) / APP_DIR_NAME
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
