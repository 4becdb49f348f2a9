"""wobble recompute: stored raw traces → estimator with the stored calibration → new metrics."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from wobble_trainer import __version__, recompute
from wobble_trainer.sim.motion import rotation_matrix_from_quaternion
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.board_angles import up_from_pitch_roll
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles, to_json_dict
from wobble_trainer.units import DEG, STANDARD_GRAVITY

RATE = 200.0
# The IMU sits turned 90° about the board's z axis and tipped 10° about x (sensor -> board).
MOUNT = (
    math.cos(math.radians(45)) * math.cos(math.radians(5)),
    math.cos(math.radians(45)) * math.sin(math.radians(5)),
    -math.sin(math.radians(45)) * math.sin(math.radians(5)),
    math.sin(math.radians(45)) * math.cos(math.radians(5)),
)


def still_trace(pitch_deg, roll_deg, seconds=6.0, mounting=MOUNT, start=10.0, noise=0.0, seed=0):
    """Raw samples of a board held still at a known tilt, seen by an IMU mounted at ``mounting``."""
    n = int(seconds * RATE)
    t = start + np.arange(n) / RATE
    up_board = np.array(up_from_pitch_roll(pitch_deg * DEG, roll_deg * DEG))
    r_sb = rotation_matrix_from_quaternion(np.array(mounting))  # sensor -> board
    f_sensor = r_sb.T @ (up_board * STANDARD_GRAVITY)
    rng = np.random.default_rng(seed)
    acc = np.tile(f_sensor, (n, 1)) + rng.normal(0, noise, (n, 3))
    gyr = np.zeros((n, 3)) + rng.normal(0, noise * 0.01, (n, 3))
    return t, acc, gyr


def calibration(edge_deg=14.0):
    return Calibration(
        sensor_to_board=MOUNT,
        edge_angles=EdgeAngles(*(edge_deg * DEG,) * 4),
        created="2024-03-01T10:00:00+00:00",
    )


def args(tmp_path, *extra):
    parser = argparse.ArgumentParser()
    recompute.add_arguments(parser)
    return parser.parse_args(["--data-dir", str(tmp_path), *extra])


def store_session(db, t, acc, gyr, *, cal=None, edges_deg=None, metrics=None, kind="hold"):
    existing = db.profiles.find("P-001")
    pid = existing.id if existing else db.profiles.create("P-001", 1980, 1.75, "right").id
    cal_json = None if cal is None else to_json_dict(cal)
    edges = (
        None if edges_deg is None else dict.fromkeys(("front", "back", "left", "right"), edges_deg)
    )
    s = db.sessions.start(
        pid,
        kind,
        settings={"stance": "left"},
        calibration=cal_json,
        edge_angles=edges,
        software_version="0.0.1",
    )
    db.sessions.add_trial(s.id, t, acc, gyr, label="run")
    db.sessions.finish(s.id, metrics=metrics, software_version="0.0.1")
    return s.id


def test_recompute_end_to_end_uses_the_stored_calibration(tmp_path, capsys):
    with open_database(tmp_path) as db:
        sid = store_session(
            db,
            *still_trace(5.0, -3.0),
            cal=calibration(),
            edges_deg=14.0,
            metrics={"score": 12.5, "osi": 99.0, "edge_touches": 7},
        )
    assert recompute.run(args(tmp_path, "--session", str(sid))) == 0
    printed = capsys.readouterr().out
    assert f"session {sid} (hold)" in printed
    assert "osi: 99 ->" in printed
    with open_database(tmp_path) as db:
        s = db.sessions.get(sid)
    m = s.metrics
    # The estimator sees the known tilt through the stored mounting.
    assert m["mean_deg"]["ap"] == pytest.approx(5.0, abs=0.05)
    assert m["mean_deg"]["ml"] == pytest.approx(-3.0, abs=0.05)
    assert m["osi"] == pytest.approx(math.hypot(5.0, 3.0), abs=0.05)
    assert m["edge_touches"] == 0
    assert m["score"] == 12.5  # not derivable from the trace: kept
    assert m["duration_s"] == pytest.approx(6.0)
    assert s.metrics_software_version == __version__
    assert s.software_version == "0.0.1"  # the recording's own version stays


def test_without_a_stored_calibration_the_uncalibrated_default_is_used(tmp_path):
    # Mounted straight (identity): the default reads the tilt right, and the 15° default edge.
    with open_database(tmp_path) as db:
        sid = store_session(db, *still_trace(14.5, 0.0, mounting=(1, 0, 0, 0)), metrics=None)
        result = recompute.recompute_session(db, sid)
    assert result.skipped == ""
    assert result.metrics["osi"] == pytest.approx(14.5, abs=0.05)
    # 14.5° is within 1° of the default 15° edge: one touch with the default edge angle.
    assert result.metrics["edge_touches"] == 1


def test_stored_edge_angles_are_used_for_edge_touches(tmp_path):
    with open_database(tmp_path) as db:
        near = store_session(db, *still_trace(9.5, 0.0), cal=calibration(), edges_deg=10.0)
        far = store_session(db, *still_trace(9.5, 0.0), cal=calibration(), edges_deg=20.0)
        assert recompute.recompute_session(db, near).metrics["edge_touches"] == 1
        assert recompute.recompute_session(db, far).metrics["edge_touches"] == 0


def test_dry_run_stores_nothing_and_all_walks_every_session(tmp_path, capsys):
    with open_database(tmp_path) as db:
        a = store_session(
            db, *still_trace(2.0, 0.0), cal=calibration(), edges_deg=14.0, metrics={"osi": 1.0}
        )
        b = store_session(
            db, *still_trace(0.0, 4.0), cal=calibration(), edges_deg=14.0, metrics={"osi": 1.0}
        )
    assert recompute.run(args(tmp_path, "--all", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "2 sessions: 2 would change" in out
    with open_database(tmp_path) as db:
        assert db.sessions.get(a).metrics == {"osi": 1.0}
        assert db.sessions.get(b).metrics_software_version == "0.0.1"
    # Recomputing twice: the second run finds nothing to change.
    assert recompute.run(args(tmp_path, "--all")) == 0
    capsys.readouterr()
    assert recompute.run(args(tmp_path, "--all")) == 0
    assert "0 changed, 2 unchanged" in capsys.readouterr().out


def test_multi_trial_sessions_without_entries_get_per_trial_metrics(tmp_path):
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-002", 1990, 1.6, "left").id
        s = db.sessions.start(
            pid,
            "test:postural_stability",
            calibration=to_json_dict(calibration()),
            edge_angles={"front": 14, "back": 14, "left": 14, "right": 14},
        )
        db.sessions.add_trial(s.id, *still_trace(2.0, 0.0, start=0.0), label="test 1")
        db.sessions.add_trial(s.id, *still_trace(4.0, 0.0, start=30.0), label="test 2")
        db.sessions.finish(s.id, metrics={"protocol": "biodex"})
        result = recompute.recompute_session(db, s.id)
    m = result.metrics
    assert [t["label"] for t in m["trials"]] == ["test 1", "test 2"]
    assert m["trials"][0]["osi"] == pytest.approx(2.0, abs=0.05)
    assert m["trials"][1]["osi"] == pytest.approx(4.0, abs=0.05)
    assert "osi" not in m  # a protocol's summary is its own: not invented from the trace
    assert m["protocol"] == "biodex"


def test_protocol_entries_keep_every_field_recompute_does_not_compute(tmp_path):
    entry = {"label": "test 1", "practice": True, "ended_by": "edge", "time_s": 7.5, "osi": 9.0,
             "reached": True}
    reach = {"label": "test 2", "direction": "front", "direction_control_pct": 80.0}
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-005", 1990, 1.6, "left").id
        s = db.sessions.start(pid, "test:x", calibration=to_json_dict(calibration()))
        db.sessions.add_trial(s.id, *still_trace(2.0, 0.0, start=0.0), label="test 1")
        db.sessions.add_trial(s.id, *still_trace(4.0, 0.0, start=30.0), label="test 2")
        db.sessions.finish(s.id, metrics={"trials": [entry, reach], "mean_osi": 9.0})
        m = recompute.recompute_session(db, s.id).metrics
    first, second = m["trials"]
    assert {k: first[k] for k in ("practice", "ended_by", "time_s", "reached")} == {
        "practice": True, "ended_by": "edge", "time_s": 7.5, "reached": True
    }
    assert first["osi"] == pytest.approx(2.0, abs=0.05)
    assert second == reach  # held no balance metrics: gets none
    assert m["mean_osi"] == 9.0


def test_sessions_that_cannot_be_recomputed_are_skipped_or_refused(tmp_path, capsys):
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-003", 1990, 1.6, "left").id
        empty = db.sessions.start(pid, "hold").id  # no trial (e.g. a floor exercise)
        bad = db.sessions.start(pid, "hold", calibration={"format": "something else"}).id
        db.sessions.add_trial(bad, *still_trace(1.0, 0.0))
    assert recompute.run(args(tmp_path, "--all")) == 0
    out = capsys.readouterr().out
    assert f"session {empty} (hold): skipped: no raw trace" in out
    assert f"session {bad} (hold): skipped: stored calibration unusable" in out
    assert recompute.run(args(tmp_path, "--session", "999")) == 2
    with pytest.raises(SystemExit):
        recompute.add_arguments(p := argparse.ArgumentParser())
        p.parse_args([])  # --session or --all is required


def test_diff_reports_nested_and_added_keys():
    changes = recompute.diff_metrics(
        {"osi": 1.0, "zone_pct": {"0-5": 50.0}, "score": 3},
        {"osi": 1.0 + 1e-13, "zone_pct": {"0-5": 60.0}, "score": 3, "n_gaps": 0},
    )
    assert [(c.key, c.old, c.new) for c in changes] == [
        ("n_gaps", None, 0),
        ("zone_pct.0-5", 50.0, 60.0),
    ]
    assert json.dumps([c.__dict__ for c in changes])


def test_a_legacy_trial_starts_warm_at_its_first_pose(tmp_path):
    # Cold, the estimator would show the mounting's own 10° tip until its first alignment.
    with open_database(tmp_path) as db:
        sid = store_session(db, *still_trace(3.0, 1.0, seconds=1.0), cal=calibration())
        m = recompute.recompute_session(db, sid).metrics
    assert m["mean_deg"]["ap"] == pytest.approx(3.0, abs=0.02)
    assert m["max_tilt_deg"] == pytest.approx(math.hypot(3.0, 1.0), abs=0.03)


def test_recompute_is_a_re_analysis_not_a_rewrite(tmp_path, capsys):
    """Same version: nothing changes, nothing is written. Newer numbers are stored next to the
    originals, and the command says what changed and by how much."""
    from wobble_trainer.analysis import ANALYSIS_VERSION, live_trial_angles, recording_for
    from wobble_trainer.analysis import trial_metrics as numbers_of
    from wobble_trainer.sampling.samples import make_samples
    from wobble_trainer.tilt.stream import TiltStream

    t, acc, gyr = still_trace(2.0, -1.0, seconds=4.0, noise=0.05)
    truth = (np.full(len(t), 2.0 * DEG), np.full(len(t), -1.0 * DEG))
    samples = make_samples(t, acc, gyr, *truth)
    stream = TiltStream(None, RATE, calibration())
    stream.process(samples[:200])
    state = stream.stream_state()
    live = live_trial_angles(stream.process(samples[200:]), RATE, samples=samples[200:])
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-004", 1990, 1.6, "left").id
        s = db.sessions.start(pid, "hold", calibration=to_json_dict(calibration()))
        trial = samples[200:]
        db.sessions.add_trial(
            s.id, trial["t"], trial["acc"], trial["gyr"],
            analysis=recording_for(trial, RATE, state).to_json(),
            truth=(trial["true_pitch"], trial["true_roll"]),
        )
        stored = {"score": 4.0, **numbers_of(live, calibration().edge_angles)}
        db.sessions.finish(s.id, metrics=stored)
    assert recompute.run(args(tmp_path, "--all")) == 0
    out = capsys.readouterr().out
    assert f"unchanged ({ANALYSIS_VERSION})" in out and "1 unchanged" in out
    assert "truth" in out and "RMS error" in out
    with open_database(tmp_path) as db:
        again = db.sessions.get(s.id)
        assert again.metrics == json.loads(json.dumps(stored)) and again.metrics_history == []
        # An older analysis stored other numbers: the re-analysis replaces and keeps them.
        db.sessions.update_metrics(s.id, {**stored, "osi": 3.0, "analysis_version": "old"}, "0.0.9")
    assert recompute.run(args(tmp_path, "--all")) == 0
    out = capsys.readouterr().out
    assert f"old -> {ANALYSIS_VERSION}" in out and "osi: 3 ->" in out and "(-" in out
    with open_database(tmp_path) as db:
        final = db.sessions.get(s.id)
    assert final.metrics["osi"] == pytest.approx(stored["osi"], rel=1e-12)
    assert final.metrics["score"] == 4.0
    assert [h["metrics"]["osi"] for h in final.metrics_history][-1] == 3.0
    assert final.metrics_history[-1]["software_version"] == "0.0.9"


def test_dry_run_without_a_database_creates_none(tmp_path, capsys):
    assert recompute.run(args(tmp_path / "nothing", "--all", "--dry-run")) == 2
    assert "no database" in capsys.readouterr().err.lower()
    assert not (tmp_path / "nothing").exists()
