"""One sync round between boards and a real hub process (on SQLite and on PostgreSQL).

Covers: everything goes up once and the hub's copy gives the board's angles bit for bit; edits
and programme assignments made on the hub come down; the rule for an edit made on both sides;
deleting a patient on a board or on the hub deletes them everywhere; a revoked board is refused;
a round cut after any request is finished by the next one with nothing stored twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from datetime import date

import numpy as np
import pytest
from conftest import record_session
from sqlalchemy import select

from wobble_trainer.analysis import stored_trial_angles
from wobble_trainer.hub import accounts, sync
from wobble_trainer.hub.db import HubDatabase
from wobble_trainer.hub.records import session_record, trial_record
from wobble_trainer.hub.tables import patients, sessions, trials
from wobble_trainer.reports.data import session_calibration
from wobble_trainer.sync.client import HubRefused, HubUnreachable


def hub_counts(url: str) -> dict[str, int]:
    with HubDatabase(url) as hub:
        return hub.stats()


def test_round_sends_everything_once_and_angles_are_bit_exact(make_board, hub_server):
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
    counts = hub_counts(hub_server.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (1, 2, 3)

    # The hub's copy, read back as the board's records, gives the same angles bit for bit.
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        row = conn.execute(
            select(sessions).where(
                sessions.c.uid == s1.uid if hasattr(s1, "uid") else sessions.c.kind == s1.kind
            )
        ).first()
        hub_trials = [
            trial_record(r)
            for r in conn.execute(
                select(trials).where(trials.c.session_id == row.id).order_by(trials.c.idx)
            )
        ]
        hub_session = session_record(row, len(hub_trials))
    board_trials = board.db.sessions.load_trace(s1.id)
    assert hub_session.metrics == s1.metrics and hub_session.kind == s1.kind
    assert hub_session.started_at == s1.started_at and hub_session.calibration == s1.calibration
    cal_board, _ = session_calibration(s1)
    cal_hub, _ = session_calibration(hub_session)
    for mine, theirs in zip(board_trials, hub_trials, strict=True):
        for name in ("t", "acc", "gyr"):
            assert getattr(mine, name).tobytes() == getattr(theirs, name).tobytes()
        assert (mine.label, mine.events, mine.index) == (theirs.label, theirs.events, theirs.index)
        a, b = stored_trial_angles(mine, cal_board), stored_trial_angles(theirs, cal_hub)
        assert a is not None and b is not None
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert x.tobytes() == y.tobytes(), f.name
            else:
                assert x == y, f.name


def test_changed_metrics_are_sent_again_without_duplicating(make_board, hub_server):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    s = record_session(board.db, ann.id)
    board.sync()
    board.db.sessions.update_metrics(s.id, {"osi": 9.0}, "0.2.0")
    report = board.sync()
    assert report.sessions_up == 1
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        rows = conn.execute(select(sessions)).all()
        assert len(rows) == 1
        assert session_record(rows[0], 2).metrics == {"osi": 9.0}
    assert hub_counts(hub_server.database)["trials"] == 2


def test_guest_and_unfinished_sessions_stay_on_the_board(make_board, hub_server):
    board = make_board()
    guest = board.db.profiles.guest()
    record_session(board.db, guest.id)
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.db.sessions.start(ann.id, "game:marbles")
    board.sync()
    assert hub_counts(hub_server.database)["sessions"] == 0


def test_profile_and_programme_edited_on_the_hub_come_down(make_board, hub_server):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.sync()
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        sync.edit_patient(conn, ann_uid(board, ann.id), {"height_m": 1.7}, "dr who")
        sync.assign_programme(
            conn, ann_uid(board, ann.id), "ankle-sprain-prevention", date(2026, 12, 1), "dr who"
        )
    report = board.sync()
    assert report.profiles_down == ["Ann"]
    assert board.db.profiles.get(ann.id).height_m == 1.7
    current = board.db.programmes.current(ann.id, on=date(2026, 12, 2))
    assert current is not None and current.programme_id == "ankle-sprain-prevention"
    assert current.assigned_by == "dr who"
    assert board.db.outbox.pending() == []  # what came down is not sent back up
    assert board.sync().profiles_down == []


def test_edit_on_both_sides_the_first_to_reach_the_hub_wins(make_board, hub_server):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    board.sync()
    uid = ann_uid(board, ann.id)
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        sync.edit_patient(conn, uid, {"height_m": 1.7}, "dr who")  # reaches the hub first
    board.db.profiles.update(dataclasses.replace(ann, height_m=1.6, injured_side="left"))
    report = board.sync()
    assert report.conflicts == ["Ann"]
    mine = board.db.profiles.get(ann.id)
    assert (mine.height_m, mine.injured_side) == (1.7, "none")
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        assert conn.execute(select(patients.c.revision)).scalar_one() == 2
    # An edit made after the board saw the newest revision is accepted.
    board.db.profiles.update(dataclasses.replace(mine, injured_side="right"))
    assert board.sync().conflicts == []
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        row = conn.execute(select(patients)).first()
        assert sync.patient_document(row)["fields"]["injured_side"] == "right"


def test_deleting_a_patient_on_a_board_deletes_them_everywhere(make_board, hub_server):
    a, b = make_board("Room 1"), make_board("Room 2")
    ann = a.db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(a.db, ann.id)
    a.sync()
    uid = ann_uid(a, ann.id)
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        sync.give_patient_to_board(conn, uid, "Room 2", "dr who")
    assert b.sync().profiles_down == ["Ann"]
    ann_b = b.db.profiles.find("Ann")
    record_session(b.db, ann_b.id, seed=3)
    b.sync()
    assert hub_counts(hub_server.database)["sessions"] == 2
    a.db.profiles.delete(ann.id)
    assert a.sync().deletions_up == 1
    counts = hub_counts(hub_server.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (0, 0, 0)
    assert b.sync().deleted_down == ["Ann"]
    assert b.db.profiles.find("Ann") is None
    assert list(b.db.sessions.iter_sessions()) == []


def test_deleting_a_patient_on_the_hub_deletes_them_on_the_board(make_board, hub_server):
    board = make_board()
    ann = board.db.profiles.create("Ann", 1960, 1.65, "left")
    record_session(board.db, ann.id)
    board.sync()
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        sync.delete_patient(conn, ann_uid(board, ann.id), "dr who")
    # A session recorded meanwhile is not resurrected on the hub.
    record_session(board.db, ann.id, seed=5)
    report = board.sync()
    assert report.deleted_down == ["Ann"]
    assert board.db.profiles.find("Ann") is None
    assert hub_counts(hub_server.database)["sessions"] == 0


def test_a_revoked_board_is_refused(make_board, hub_server):
    board = make_board("Room 1")
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
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
def test_a_cut_round_is_finished_by_the_next_with_nothing_twice(
    make_board, hub_server, answer_lost
):
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
    counts = hub_counts(hub_server.database)
    assert (counts["patients"], counts["sessions"], counts["trials"]) == (1, 3, 3)


def ann_uid(board, profile_id: int) -> str:
    return board.db.query("SELECT uid FROM profiles WHERE id = ?", (profile_id,))[0]["uid"]


# -- faults: three boards through a breaking network, a hub killed and restarted ---------------


def expected_on_hub(boards) -> tuple[set[str], int, int]:
    """Session uids, trial count and sample count the boards hold for real profiles."""
    uids, n_trials, n_samples = set(), 0, 0
    for b in boards:
        for row in b.db.query(
            "SELECT s.uid, (SELECT count(*) FROM trials WHERE session_id = s.id) AS n, "
            "(SELECT coalesce(sum(sample_count), 0) FROM trials WHERE session_id = s.id) AS m "
            "FROM sessions s JOIN profiles p ON p.id = s.profile_id "
            "WHERE p.is_guest = 0 AND s.ended_at IS NOT NULL"
        ):
            uids.add(row["uid"])
            n_trials += row["n"]
            n_samples += row["m"]
    return uids, n_trials, n_samples


def assert_hub_holds_exactly(url: str, boards) -> None:
    uids, n_trials, n_samples = expected_on_hub(boards)
    with HubDatabase(url) as hub, hub.begin() as conn:
        on_hub = list(conn.execute(select(sessions.c.uid)).scalars())
    assert sorted(on_hub) == sorted(uids)  # every session, exactly once
    counts = hub_counts(url)
    assert (counts["trials"], counts["samples"]) == (n_trials, n_samples)


def test_three_boards_through_a_faulty_network_and_a_hub_restart(hub_url, tmp_path, fault_proxy):
    import random
    import subprocess
    import sys

    from conftest import REPO_SRC, HubProcess, SimBoard

    from wobble_trainer.sync.client import HubError

    HubDatabase(hub_url).close()
    hub = HubProcess(hub_url, tmp_path / "hub-state").start()
    boards: list[SimBoard] = []
    try:
        proxies = [fault_proxy(hub.port, seed=k) for k in range(3)]
        # Linking goes straight to the hub; syncing goes through the breaking proxies.
        for k in range(3):
            b = SimBoard(tmp_path / f"b{k}", hub_url, hub.url, f"Room {k}")
            b.link = dataclasses.replace(b.link, hub_url=proxies[k].url)
            boards.append(b)
        rng = random.Random(42)
        for k, b in enumerate(boards):
            for name in ("Ann", "Bob"):
                p = b.db.profiles.create(f"{name} {k}", 1950 + k, 1.7, "left")
                for s in range(2):
                    record_session(b.db, p.id, trials=2, samples=1500, seed=k * 10 + s)
        killed = 0
        for round_no in range(8):
            if round_no == 3:
                hub.kill()  # the hub's machine loses power mid-day ...
                hub.start()  # ... and comes back on the same address
            for k, b in enumerate(boards):
                if round_no % 2:  # the board keeps recording meanwhile
                    p = b.db.profiles.find(f"Ann {k}")
                    record_session(b.db, p.id, trials=1, samples=800, seed=100 + round_no)
                if round_no in (1, 5) and k == 1:
                    # `wobble sync` in its own process, killed at a random instant.
                    from wobble_trainer.sync.link import save_link

                    save_link(b.link, b.directory)
                    env = {
                        **os.environ,
                        "PYTHONPATH": str(REPO_SRC),
                        "WOBBLE_STATE_DIR": str(b.directory),
                    }
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "wobble_trainer", "sync"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    try:
                        proc.wait(rng.uniform(0.5, 3.0))
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        killed += 1
                    proc.wait(10)
                    continue
                with contextlib.suppress(HubError):  # a broken round; the next carries on
                    b.sync(b.link.client(timeout_s=3.0))
        faults = [f for p in proxies for f in p.fates if f != "pass"]
        assert len(faults) >= 10
        for p in proxies:
            p.faulty = False
        for _ in range(5):
            for b in boards:
                b.sync(b.link.client(timeout_s=10.0))
            if all(not b.db.outbox.pending() for b in boards):
                break
        assert all(not b.db.outbox.pending() for b in boards)
        assert_hub_holds_exactly(hub_url, boards)
        assert hub_counts(hub_url)["patients"] == 6
    finally:
        hub.stop()
        for b in boards:
            b.close()


def test_two_hub_processes_on_one_postgresql_take_syncs_at_once(postgres_server, tmp_path):
    import threading

    from conftest import HubProcess, SimBoard

    url = postgres_server.new_database()
    HubDatabase(url).close()
    hubs = [HubProcess(url, tmp_path / f"hub{k}").start() for k in range(2)]
    boards = []
    try:
        for k in range(3):
            b = SimBoard(tmp_path / f"b{k}", url, hubs[k % 2].url, f"Room {k}")
            p = b.db.profiles.create(f"Ann {k}", 1960, 1.6, "left")
            for s in range(4):
                record_session(b.db, p.id, trials=2, samples=1000, seed=k * 10 + s)
            boards.append(b)
        docs = [b.db.outbox.session_document(b.db.outbox.pending()[-1].uid) for b in boards]
        errors: list[BaseException] = []

        def sync_board(k: int) -> None:
            from wobble_trainer.storage import open_database
            from wobble_trainer.sync.round import sync_once

            # Each thread its own connection (SQLite connections stay in their thread).
            try:
                with open_database(boards[k].directory) as db:
                    for r in range(2):
                        hub = hubs[(k + r) % 2]
                        sync_once(db, dataclasses.replace(boards[k].link, hub_url=hub.url).client())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def race_same_session(k: int) -> None:
            # The same session sent to both processes at the same moment.
            import base64

            try:
                for hub in hubs:
                    link = dataclasses.replace(boards[k].link, hub_url=hub.url)
                    doc = dict(docs[k])
                    doc["trials"] = [
                        {**t, "trace_b64": base64.b64encode(t["trace"]).decode()}
                        for t in docs[k]["trials"]
                    ]
                    for t in doc["trials"]:
                        t.pop("trace", None)
                    doc["profile"] = profile_docs[k]
                    link.client().post("/api/sessions", doc)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        profile_docs = [
            b.db.outbox.profile_document(d["profile_uid"])
            for b, d in zip(boards, docs, strict=True)
        ]
        threads = [threading.Thread(target=sync_board, args=(k,)) for k in range(3)]
        threads += [threading.Thread(target=race_same_session, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        for b in boards:
            b.sync()
        assert_hub_holds_exactly(url, boards)
        assert hub_counts(url)["sessions"] == 12
    finally:
        for h in hubs:
            h.stop()
        for b in boards:
            b.close()
