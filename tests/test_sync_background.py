"""Background sync rounds in a child process."""

from __future__ import annotations

import time

from conftest import record_session

from wobble_trainer.sync.background import BackgroundSync


def test_a_linked_board_syncs_in_the_background(make_board, hub_server):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(board.db, ann.id)
    syncer = BackgroundSync(board.directory, interval_s=0.2, first_after_s=0.0).start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (board.db.outbox.pending() or not syncer.rounds):
            time.sleep(0.1)
    finally:
        syncer.stop()
    assert board.db.outbox.pending() == []
    assert syncer.last_error == ""
    assert not syncer.running


def test_an_unlinked_board_does_nothing(tmp_path):
    syncer = BackgroundSync(tmp_path, interval_s=0.05, first_after_s=0.0).start()
    time.sleep(0.3)
    syncer.stop()
    assert syncer.rounds == 0 and syncer.last_report is None
