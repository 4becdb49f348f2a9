"""``wobble hub …`` on the command line (in-process; ``serve`` runs as a real process)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from conftest import REPO_SRC, free_port

from wobble_trainer.cli import main
from wobble_trainer.hub import accounts
from wobble_trainer.hub.db import HubDatabase


def test_create_clinician_enrol_revoke_and_stats(hub_url, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("tardis-blue\n"))
    assert (
        main(["hub", "create-clinician", "dr who", "--password-stdin", "--database", hub_url]) == 0
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("tardis-blue\n"))
    assert (
        main(["hub", "create-clinician", "dr who", "--password-stdin", "--database", hub_url]) == 1
    )
    assert "already" in capsys.readouterr().err
    assert main(["hub", "enrol-board", "Room 1", "--database", hub_url]) == 0
    code = capsys.readouterr().out.strip()
    with HubDatabase(hub_url) as db, db.begin() as conn:
        assert accounts.link_board(conn, code).name == "Room 1"
        accounts.login(conn, "dr who", "tardis-blue")
    assert main(["hub", "revoke-board", "Room 1", "--database", hub_url]) == 0
    capsys.readouterr()
    assert main(["hub", "stats", "--json", "--database", hub_url]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["boards"] == 1 and stats["clinicians"] == 1
    assert main(["hub", "migrate", "--database", hub_url]) == 0


def test_serve_defaults_to_sqlite_in_the_hub_state_directory(tmp_path):
    import time
    import urllib.request

    port = free_port()
    env = {
        "PYTHONPATH": str(REPO_SRC),
        "WOBBLE_HUB_STATE_DIR": str(tmp_path / "state"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "wobble_trainer", "hub", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["ok"] is True
        assert (tmp_path / "state" / "wobble-hub.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(15)
        proc.stdout.close()
        proc.stderr.close()


def test_https_needs_both_files(capsys):
    assert main(["hub", "serve", "--ssl-certfile", "x.pem"]) == 2
    assert "both" in capsys.readouterr().err
