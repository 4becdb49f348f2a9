"""The board's link to a hub: its credentials, kept in the state directory (mode 0600).

``wobble link --hub URL --code CODE`` (or the clinician menu) trades a one-time enrolment code
for this board's own secret and stores ``hub-link.json``: the hub's address, the board's id and
name on the hub, and the secret. The file is written atomically and readable only by the board's
user; deleting it unlinks the board.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from wobble_trainer import __version__
from wobble_trainer.files import write_atomically
from wobble_trainer.sync.client import HubClient, HubError

LINK_FILENAME = "hub-link.json"


@dataclass(frozen=True)
class HubLink:
    """This board's credentials for one hub."""

    hub_url: str
    board_id: int
    name: str
    secret: str

    def client(self, timeout_s: float = 30.0) -> HubClient:
        return HubClient(self.hub_url, self.board_id, self.secret, timeout_s=timeout_s)


def link_path(directory: Path | None = None) -> Path:
    if directory is None:
        from wobble_trainer.paths import state_dir

        directory = state_dir(create=True)
    return Path(directory) / LINK_FILENAME


def load_link(directory: Path | None = None) -> HubLink | None:
    """The stored link, or ``None`` when the board is not linked."""
    path = link_path(directory)
    try:
        data = json.loads(path.read_text())
        return HubLink(
            str(data["hub_url"]), int(data["board_id"]), str(data["name"]), str(data["secret"])
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise HubError(
            f"{path} is damaged ({exc}); link the board again with "
            "`wobble link --hub URL --code CODE`"
        ) from exc


def save_link(link: HubLink, directory: Path | None = None) -> Path:
    path = link_path(directory)
    write_atomically(path, json.dumps(asdict(link), indent=2) + "\n", mode=0o600)
    os.chmod(path, 0o600)
    return path


def link_board(
    hub_url: str, code: str, directory: Path | None = None, timeout_s: float = 30.0
) -> HubLink:
    """Trade an enrolment code for this board's credentials and store them."""
    answer = HubClient(hub_url, timeout_s=timeout_s).post(
        "/api/link", {"code": code, "software_version": __version__}
    )
    try:
        link = HubLink(
            hub_url.rstrip("/"), int(answer["board_id"]), str(answer["name"]), str(answer["secret"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HubError(f"the hub's answer to linking is not understood ({exc})") from exc
    save_link(link, directory)
    return link
