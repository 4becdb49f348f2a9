"""The board's stored hub credentials."""

from __future__ import annotations

import stat

import pytest

from wobble_trainer.sync.client import HubError
from wobble_trainer.sync.link import HubLink, link_path, load_link, save_link


def test_saved_link_is_private_and_loads_back(tmp_path):
    link = HubLink("https://hub.clinic", 3, "Room 3", "secret")
    path = save_link(link, tmp_path)
    assert path == link_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_link(tmp_path) == link


def test_missing_and_damaged_links(tmp_path):
    assert load_link(tmp_path) is None
    link_path(tmp_path).write_text("{not json")
    with pytest.raises(HubError, match="link the board again"):
        load_link(tmp_path)
