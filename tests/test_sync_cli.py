"""``wobble link`` and ``wobble sync`` against a real hub server."""

from __future__ import annotations

import json
import stat

from conftest import record_session

from wobble_trainer.cli import main
from wobble_trainer.hub import accounts
from wobble_trainer.hub.db import HubDatabase
from wobble_trainer.storage import open_database


def test_link_then_sync_prints_what_moved(hub_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "board"))
    assert main(["sync"]) == 1
    assert "not linked" in capsys.readouterr().err
    assert main(["link", "--hub", hub_server.url, "--code", "AAAA-BBBB-CCCC"]) == 1
    assert "Not linked" in capsys.readouterr().err
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        code = accounts.enrol_board(conn, "Room 1")
    assert main(["link", "--hub", hub_server.url, "--code", code]) == 0
    creds = tmp_path / "board" / "hub-link.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert json.loads(creds.read_text())["name"] == "Room 1"
    capsys.readouterr()
    with open_database(tmp_path / "board") as db:
        ann = db.profiles.create("Ann", 1960, 1.65, "left")
        record_session(db, ann.id)
    assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "up: 1 session(s) (4000 samples" in out and "up: 1 profile(s): Ann" in out
    assert main(["sync", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sessions_up"] == 0


def test_sync_with_the_hub_down_says_nothing_is_lost(tmp_path, monkeypatch, capsys):
    from conftest import free_port

    from wobble_trainer.sync.link import HubLink, save_link

    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path))
    save_link(HubLink(f"http://127.0.0.1:{free_port()}", 1, "Room 1", "s"), tmp_path)
    assert main(["sync"]) == 1
    assert "next sync" in capsys.readouterr().out
