"""One sync round between boards and a real hub process (on SQLite and on PostgreSQL).

Covers: everything goes up once and the hub's copy gives the board's angles bit for bit; edits
and programme assignments made on the hub come down; the rule for an edit made on both sides;
deleting a patient on a board or on the hub deletes them everywhere; a revoked board is refused;
a round cut after any request is finished by the next one with nothing stored twice.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from conftest import record_session
from sqlalchemy import select

from wobble_trainer.hub import accounts, sync
from wobble_trainer.hub.db import HubDatabase
from wobble_trainer.hub.records import session_record, trial_record
from wobble_trainer.hub.tables import patients, sessions, trials
from wobble_trainer.reports.data import session_calibration, trial_angles
from wobble_trainer.sync.client import HubRefused, HubUnreachable


def hub_counts(url: str) -> dict[str, int]:
    with HubDatabase(url) as hub:
        return hub.stats()


def test_round_sends_everything_once_and_angles_are_bit_exact(make_board, hub_process):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    s1 = record_session(board.db, ann.id, seed=1)
    record_session(board.db, ann.id, kind="game:marbles", trials=1, seed=2)
    report = board.sync()
    assert report.sessions_up == 2 and report.profiles_up == ["Ann"]
    assert report.samples_up == 3 * 2000
    assert report.trace_bytes_up / report.samples_up <= 12
    assert board.db.outbox.pending() == []
    again = board.sync()
    assert again.sessions_up == 0 and again.profiles_up == []
    counts = hub_counts(hub_process.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (1, 2, 3)

    # The hub's copy, read back as the board's records, gives the same angles bit for bit.
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        row = conn.execute(select(sessions).where(sessions.c.uid == s1.uid if hasattr(s1, "uid")
                                                  else sessions.c.kind == s1.kind)).first()
        hub_trials = [trial_record(r) for r in conn.execute(
            select(trials).where(trials.c.session_id == row.id).order_by(trials.c.idx))]
        hub_session = session_record(row, len(hub_trials))
    board_trials = board.db.sessions.load_trace(s1.id)
    assert hub_session.metrics == s1.metrics and hub_session.kind == s1.kind
    assert hub_session.started_at == s1.started_at and hub_session.calibration == s1.calibration
    cal_board, _ = session_calibration(s1)
    cal_hub, _ = session_calibration(hub_session)
    for mine, theirs in zip(board_trials, hub_trials, strict=True):
        for name in ("t", "acc", "gyr"):
            assert getattr(mine, name).tobytes() == getattr(theirs, name).tobytes()
        assert (mine.label, mine.events, mine.index) == (theirs.label, theirs.events,
                                                          theirs.index)
        a, b = trial_angles(mine, cal_board), trial_angles(theirs, cal_hub)
        assert a is not None and b is not None
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert x.tobytes() == y.tobytes(), f.name
            else:
                assert x == y, f.name


def test_changed_metrics_are_sent_again_without_duplicating(make_board, hub_process):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    s = record_session(board.db, ann.id)
    board.sync()
    board.db.sessions.update_metrics(s.id, {"osi": 9.0}, "0.2.0")
    report = board.sync()
    assert report.sessions_up == 1
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        rows = conn.execute(select(sessions)).all()
        assert len(rows) == 1
        assert session_record(rows[0], 2).metrics == {"osi": 9.0}
    assert hub_counts(hub_process.database)["trials"] == 2


def test_guest_and_unfinished_sessions_stay_on_the_board(make_board, hub_process):
    board = make_board()
    guest = board.db.profiles.guest()
    record_session(board.db, guest.id)
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.db.sessions.start(ann.id, "game:marbles")
    board.sync()
    assert hub_counts(hub_process.database)["sessions"] == 0


def test_profile_and_programme_edited_on_the_hub_come_down(make_board, hub_process):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.sync()
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        sync.edit_patient(conn, ann_uid(board, ann.id), {"height_m": 1.7}, "dr who")
        sync.assign_programme(conn, ann_uid(board, ann.id), "ankle_sprain_prevention",
                              date(2026, 12, 1), "dr who")
    report = board.sync()
    assert report.profiles_down == ["Ann"]
    assert board.db.profiles.get(ann.id).height_m == 1.7
    current = board.db.programmes.current(ann.id, on=date(2026, 12, 2))
    assert current is not None and current.programme_id == "ankle_sprain_prevention"
    assert current.assigned_by == "dr who"
    assert board.db.outbox.pending() == []  # what came down is not sent back up
    assert board.sync().profiles_down == []


def test_edit_on_both_sides_the_first_to_reach_the_hub_wins(make_board, hub_process):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.sync()
    uid = ann_uid(board, ann.id)
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        sync.edit_patient(conn, uid, {"height_m": 1.7}, "dr who")  # reaches the hub first
    board.db.profiles.update(dataclasses.replace(ann, height_m=1.6, injured_side="left"))
    report = board.sync()
    assert report.conflicts == ["Ann"]
    mine = board.db.profiles.get(ann.id)
    assert (mine.height_m, mine.injured_side) == (1.7, "none")
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        assert conn.execute(select(patients.c.revision)).scalar_one() == 2
    # An edit made after the board saw the newest revision is accepted.
    board.db.profiles.update(dataclasses.replace(mine, injured_side="right"))
    assert board.sync().conflicts == []
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        row = conn.execute(select(patients)).first()
        assert sync.patient_document(row)["fields"]["injured_side"] == "right"


def test_deleting_a_patient_on_a_board_deletes_them_everywhere(make_board, hub_process):
    a, b = make_board("Room 1"), make_board("Room 2")
    ann = a.db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(a.db, ann.id)
    a.sync()
    uid = ann_uid(a, ann.id)
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        sync.give_patient_to_board(conn, uid, "Room 2", "dr who")
    assert b.sync().profiles_down == ["Ann"]
    ann_b = b.db.profiles.find("Ann")
    record_session(b.db, ann_b.id, seed=3)
    b.sync()
    assert hub_counts(hub_process.database)["sessions"] == 2
    a.db.profiles.delete(ann.id)
    assert a.sync().deletions_up == 1
    counts = hub_counts(hub_process.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (0, 0, 0)
    assert b.sync().deleted_down == ["Ann"]
    assert b.db.profiles.find("Ann") is None
    assert list(b.db.sessions.iter_sessions()) == []


def test_deleting_a_patient_on_the_hub_deletes_them_on_the_board(make_board, hub_process):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(board.db, ann.id)
    board.sync()
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        sync.delete_patient(conn, ann_uid(board, ann.id), "dr who")
    # A session recorded meanwhile is not resurrected on the hub.
    record_session(board.db, ann.id, seed=5)
    report = board.sync()
    assert report.deleted_down == ["Ann"]
    assert board.db.profiles.find("Ann") is None
    assert hub_counts(hub_process.database)["sessions"] == 0


def test_a_revoked_board_is_refused(make_board, hub_process):
    board = make_board("Room 1")
    with HubDatabase(hub_process.database) as hub, hub.begin() as conn:
        accounts.revoke_board(conn, "Room 1", "dr who")
    with pytest.raises(HubRefused):
        board.sync()


class CutAfter:
    """A client that delivers ``n`` requests, then fails: either before sending the next
    (network down) or after the hub answered it (answer lost)."""

    def __init__(self, client, n: int, answer_lost: bool) -> None:
        self.client, self.left, self.answer_lost = client, n, answer_lost

    def post(self, path, body):
        if self.left <= 0:
            if self.answer_lost:
                self.client.post(path, body)
            raise HubUnreachable("cut")
        self.left -= 1
        return self.client.post(path, body)


@pytest.mark.parametrize("answer_lost", [False, True])
def test_a_cut_round_is_finished_by_the_next_with_nothing_twice(make_board, hub_process,
                                                                answer_lost):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    for k in range(3):
        record_session(board.db, ann.id, trials=1, samples=500, seed=k)
    board.db.profiles.delete(board.db.profiles.create("Bob", 1970, 1.8, "right").id)
    cuts = 0
    for cut in (0, 1, 0, 1, 2, 1, 1, 1, 1):
        try:
            board.sync(CutAfter(board.link.client(), cut, answer_lost))
        except HubUnreachable:
            cuts += 1
    assert cuts >= 5
    board.sync()
    assert board.db.outbox.pending() == []
    counts = hub_counts(hub_process.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (1, 3, 3)


def ann_uid(board, profile_id: int) -> str:
    return board.db.query("SELECT uid FROM profiles WHERE id = ?", (profile_id,))[0]["uid"]
