"""Tests of wobble_trainer.storage.sessions: recording, guest sessions, recompute API, and the
crash test (a writer process SIGKILLed at random moments, many times)."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer import __version__
from wobble_trainer.storage import Database, NotFoundError, StorageError, open_database

TZ = timezone(timedelta(hours=2))
T0 = datetime(2025, 5, 1, 9, 30, tzinfo=TZ)


def _trace(seed: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic fake raw trace (a writer and a checker regenerate the same one)."""
    rng = np.random.default_rng(seed)
    if n is None:
        n = int(rng.integers(50, 3000))
    t = 12345.0 + seed + np.arange(n) / 1000.0
    acc = rng.normal(0.0, 1.0, (n, 3)) + [0.0, 0.0, 9.81]
    gyr = rng.normal(0.0, 0.2, (n, 3))
    return t, acc, gyr


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with open_database(tmp_path) as database:
        yield database


@pytest.fixture
def person(db: Database):
    return db.profiles.create("P-001", 1970, 1.75, "right")


def test_record_session_round_trip(db: Database, person) -> None:
    calibration = '{"format": "wobble-trainer-calibration",  "edge_angles_deg": {"front": 15.2}}'
    session = db.sessions.start(
        person.id, "test:postural_stability", settings={"trials": 3, "duration_s": 20.0},
        calibration=calibration, edge_angles={"front": 15.2, "back": 14.9}, started_at=T0,
    )
    assert session.kept and not session.finished and session.trial_count == 0
    assert session.software_version == __version__
    traces = [_trace(k) for k in range(3)]
    for k, (t, acc, gyr) in enumerate(traces):
        trial_id = db.sessions.add_trial(
            session.id, t, acc, gyr, label=f"test {k + 1}",
            started_at=T0 + timedelta(seconds=30 * k),
            ended_at=T0 + timedelta(seconds=30 * k + 20),
            events=[{"t": float(t[10]), "type": "edge_touch", "direction": "left"}],
        )
        assert isinstance(trial_id, int)
    db.sessions.add_events(session.id, [{"type": "clinician_tap", "what": "hands off hips"}])
    done = db.sessions.finish(
        session.id, metrics={"osi_deg": np.float64(2.5), "first_touch_s": float("nan")},
        events=[{"type": "end"}], ended_at=T0 + timedelta(minutes=2),
    )
    assert done.finished and done.ended_at == T0 + timedelta(minutes=2)
    assert done.started_at == T0 and done.started_at.utcoffset() == timedelta(hours=2)
    assert done.calibration == calibration  # text exactly as given
    assert done.edge_angles == '{"front":15.2,"back":14.9}'
    assert done.settings == {"trials": 3, "duration_s": 20.0}
    # NaN cannot be JSON: it is stored as "no value".
    assert done.metrics == {"osi_deg": 2.5, "first_touch_s": None}
    assert done.metrics_software_version == __version__
    assert [e["type"] for e in done.events] == ["clinician_tap", "end"]
    assert done.trial_count == 3

    trials = db.sessions.load_trace(session.id)
    assert [tr.index for tr in trials] == [0, 1, 2]
    assert [tr.label for tr in trials] == ["test 1", "test 2", "test 3"]
    for tr, (t, acc, gyr) in zip(trials, traces, strict=True):
        np.testing.assert_array_equal(tr.t, t)  # float64 time base, exact
        # float64 by default: the very values the live estimator took (exact replay)
        np.testing.assert_array_equal(tr.acc, acc)
        np.testing.assert_array_equal(tr.gyr, gyr)
        assert tr.acc.dtype == np.float64 and tr.acc.shape == (len(t), 3)
        assert tr.events[0]["type"] == "edge_touch"
    assert trials[1].started_at == T0 + timedelta(seconds=30)
    assert trials[0].duration_s == pytest.approx((len(traces[0][0]) - 1) / 1000.0)


def test_float32_traces_are_kept_to_float32(tmp_path: Path) -> None:
    with Database(tmp_path / "x.sqlite3", trace_precision="float32") as db:
        guest = db.profiles.guest()
        s = db.sessions.start(guest.id, "game:maze")
        t, acc, gyr = _trace(3, 100)
        db.sessions.add_trial(s.id, t, acc, gyr)
        (tr,) = db.sessions.load_trace(s.id)
        np.testing.assert_array_equal(tr.acc, acc.astype(np.float32))
        np.testing.assert_array_equal(tr.gyr, gyr.astype(np.float32))
        (length,) = db.query("SELECT length(trace) FROM trials")[0]
        assert length == 100 * 32  # f8 t + 6 × f4


def test_stored_trace_size(db: Database, person) -> None:
    s = db.sessions.start(person.id, "test")
    t, acc, gyr = _trace(0, 1000)
    db.sessions.add_trial(s.id, t, acc, gyr)
    (length,) = db.query("SELECT length(trace) FROM trials")[0]
    assert length == 1000 * 56  # f8 t + 6 × f8


def test_truth_and_analysis_record_round_trip(db: Database, person) -> None:
    s = db.sessions.start(person.id, "test")
    t, acc, gyr = _trace(0, 50)
    truth = (np.linspace(0, 0.1, 50), np.linspace(0, -0.1, 50))
    record = {"format": 1, "rate_hz": 1000.0, "estimator_state": {"x": [0.1, 1e-300]}}
    db.sessions.add_trial(s.id, t, acc, gyr, analysis=record, truth=truth)
    db.sessions.add_trial(s.id, t, acc, gyr)
    first, second = db.sessions.load_trace(s.id)
    assert first.analysis == record
    np.testing.assert_array_equal(first.true_pitch, truth[0])
    np.testing.assert_array_equal(first.true_roll, truth[1])
    assert second.analysis is None and second.true_pitch is None


def test_update_metrics_keeps_the_replaced_ones(db: Database, person) -> None:
    s = db.sessions.start(person.id, "test")
    db.sessions.finish(s.id, metrics={"osi": 1.0})
    db.sessions.update_metrics(s.id, {"osi": 1.5}, "9.9")
    again = db.sessions.get(s.id)
    assert again.metrics == {"osi": 1.5} and again.metrics_software_version == "9.9"
    (old,) = again.metrics_history
    assert old["metrics"] == {"osi": 1.0} and old["software_version"] == __version__


def test_trial_indices_continue_and_finished_session_refuses_trials(db: Database, person) -> None:
    s = db.sessions.start(person.id, "protocol:bess")
    for k in range(4):
        db.sessions.add_trial(s.id, *_trace(k, 20))
    assert [tr.index for tr in db.sessions.load_trace(s.id)] == [0, 1, 2, 3]
    db.sessions.finish(s.id)
    with pytest.raises(ValueError, match="finished"):
        db.sessions.add_trial(s.id, *_trace(9, 20))
    with pytest.raises(ValueError, match="already finished"):
        db.sessions.finish(s.id)


def test_bad_input_is_refused(db: Database, person) -> None:
    with pytest.raises(NotFoundError):
        db.sessions.start(999, "test")
    with pytest.raises(ValueError, match="kind"):
        db.sessions.start(person.id, " ")
    with pytest.raises(ValueError, match="not valid JSON"):
        db.sessions.start(person.id, "test", calibration="{not json")
    with pytest.raises(ValueError, match="time zone"):
        db.sessions.start(person.id, "test", started_at=datetime(2025, 1, 1))
    s = db.sessions.start(person.id, "test")
    t, acc, gyr = _trace(1, 10)
    with pytest.raises(ValueError, match=r"acc \(n, 3\)"):
        db.sessions.add_trial(s.id, t, acc[:, :2], gyr)
    with pytest.raises(NotFoundError):
        db.sessions.add_trial(12345, t, acc, gyr)
    with pytest.raises(ValueError, match="list of events"):
        db.sessions.add_events(s.id, {"type": "x"})
    assert db.sessions.get(s.id).trial_count == 0


def test_damaged_trace_is_reported(db: Database, person) -> None:
    s = db.sessions.start(person.id, "test")
    db.sessions.add_trial(s.id, *_trace(1, 10))
    with db.transaction() as conn:
        conn.execute("UPDATE trials SET trace = zeroblob(length(trace))")
    with pytest.raises(StorageError, match="CRC-32"):
        db.sessions.load_trace(s.id)


def test_guest_sessions_are_kept_or_discarded(db: Database, person) -> None:
    guest = db.profiles.guest()
    a = db.sessions.start(guest.id, "game:maze")
    b = db.sessions.start(guest.id, "game:maze")
    c = db.sessions.start(guest.id, "game:maze")
    assert not a.kept
    db.sessions.add_trial(a.id, *_trace(1, 10))
    db.sessions.discard(a.id)
    with pytest.raises(NotFoundError):
        db.sessions.get(a.id)
    assert db.query("SELECT count(*) FROM trials")[0][0] == 0
    kept = db.sessions.keep(b.id, profile_id=person.id)  # "save it to my profile"
    assert kept.kept and kept.profile_id == person.id
    with pytest.raises(ValueError, match="kept"):
        db.sessions.discard(b.id)
    assert db.sessions.discard_unkept() == 1  # c, e.g. left over from a crash
    with pytest.raises(NotFoundError):
        db.sessions.get(c.id)
    assert [s.id for s in db.sessions.iter_sessions()] == [b.id]
    db.sessions.delete(b.id)
    assert list(db.sessions.iter_sessions()) == []


def test_recompute_api(db: Database, person) -> None:
    other = db.profiles.create("P-002", 1990, 1.60, "left")
    ids = []
    for k, pid in enumerate([person.id, other.id, person.id]):
        s = db.sessions.start(pid, "test" if k < 2 else "game", software_version="0.0.9")
        db.sessions.add_trial(s.id, *_trace(k, 30))
        db.sessions.finish(s.id, metrics={"osi_deg": 1.0}, software_version="0.0.9")
        ids.append(s.id)
    seen = []
    for session in db.sessions.iter_sessions():
        (trial,) = db.sessions.load_trace(session.id)
        # Writing while iterating is allowed.
        db.sessions.update_metrics(session.id, {"osi_deg": float(np.std(trial.acc))}, "0.2.0")
        seen.append(session.id)
    assert seen == ids
    for session in db.sessions.iter_sessions():
        assert session.metrics_software_version == "0.2.0"
        assert session.software_version == "0.0.9"  # what recorded it stays
        assert session.metrics["osi_deg"] > 0.5
    assert [s.id for s in db.sessions.iter_sessions(profile_id=person.id)] == [ids[0], ids[2]]
    assert [s.id for s in db.sessions.iter_sessions(kind="test")] == ids[:2]
    with pytest.raises(NotFoundError):
        db.sessions.update_metrics(999, {}, "0.2.0")
    with pytest.raises(NotFoundError):
        db.sessions.load_trace(999)


# -- crash safety ------------------------------------------------------------------------------

TRIALS_PER_SESSION = 3


def _writer(directory: str, ack_fd: int) -> None:
    """Child process: record sessions forever, acknowledging each committed trial on a pipe."""
    with open_database(directory) as db:
        person = db.profiles.find("writer") or db.profiles.create("writer", 1980, 1.8, "left")
        while True:
            session = db.sessions.start(person.id, "test:kill", settings={"n": 3})
            for _ in range(TRIALS_PER_SESSION):
                idx = db.sessions.get(session.id).trial_count
                seed = session.id * 100 + idx
                db.sessions.add_trial(session.id, *_trace(seed), label=str(seed),
                                      events=[{"seed": seed}])
                # One short write() is atomic on a pipe, so the parent never sees half a line.
                os.write(ack_fd, f"{session.id} {idx}\n".encode())
            db.sessions.finish(session.id, metrics={"trials": TRIALS_PER_SESSION})


def _check(directory: Path, acked: set[tuple[int, int]], verified: set[int]) -> int:
    """Open as the app would after a crash; check integrity and every trial's content."""
    with open_database(directory) as db:
        assert db.integrity_check() == "ok"
        present = set()
        for session in db.sessions.iter_sessions():
            trials = db.sessions.load_trace(session.id)  # checks length and CRC of each
            assert [tr.index for tr in trials] == list(range(len(trials)))
            if session.finished:
                assert len(trials) == TRIALS_PER_SESSION
                assert session.metrics == {"trials": TRIALS_PER_SESSION}
            for tr in trials:
                present.add((session.id, tr.index))
                if tr.id in verified:
                    continue
                seed = session.id * 100 + tr.index
                t, acc, gyr = _trace(seed)
                assert tr.label == str(seed) and tr.events == [{"seed": seed}]
                np.testing.assert_array_equal(tr.t, t)
                np.testing.assert_array_equal(tr.acc, acc)
                np.testing.assert_array_equal(tr.gyr, gyr)
                verified.add(tr.id)
        missing = acked - present
        assert not missing, f"acknowledged (committed) trials lost: {sorted(missing)}"
        return len(present)


def test_sigkill_at_random_moments_never_corrupts(tmp_path: Path) -> None:
    """Kill a writer with SIGKILL at random instants, many times; the database must stay sound
    and keep every trial whose commit was acknowledged. WOBBLE_KILL_ROUNDS sets the count."""
    rounds = int(os.environ.get("WOBBLE_KILL_ROUNDS", "40"))
    rng = random.Random(20250501)
    ctx = multiprocessing.get_context("fork")
    kills = trials_seen = fresh = total_acked = rounds_with_commits = 0
    directory = tmp_path / "db"
    acked: set[tuple[int, int]] = set()
    verified: set[int] = set()
    for round_no in range(rounds):
        if round_no % 10 == 0:  # start over now and then: kills also land in create/migrate
            for f in tmp_path.glob("db/*"):
                f.unlink()
            acked.clear()
            verified.clear()
            fresh += 1
        acked_before = len(acked)
        read_fd, write_fd = os.pipe()
        proc = ctx.Process(target=_writer, args=(str(directory), write_fd))
        proc.start()
        os.close(write_fd)
        time.sleep(rng.uniform(0.0, 0.12))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL, "the writer died on its own (see its stderr)"
        kills += 1
        with os.fdopen(read_fd, "rb") as pipe:
            for line in pipe.read().decode().splitlines():
                sid, idx = line.split()
                acked.add((int(sid), int(idx)))
        trials_seen = _check(directory, acked, verified)
        total_acked += len(acked) - acked_before
        rounds_with_commits += len(acked) > acked_before
    print(f"\nkill test: {kills} SIGKILLs, {fresh} fresh databases, {total_acked} acknowledged "
          f"trials, {rounds_with_commits} rounds with at least one commit")
    assert kills == rounds and fresh >= 1
    # The writer must have got far enough to commit trials in most rounds, or the test is moot.
    assert trials_seen > 0 and len(acked) > 0
