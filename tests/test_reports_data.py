"""Tests of wobble_trainer.reports.data: sessions read back with recomputed angles.

Also home of the synthetic sessions the other report tests use (:func:`sway_trace`,
:func:`store_session`): a raw trace made from a known pitch/roll sway, written through storage.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from wobble_trainer.analysis import stored_trial_angles
from wobble_trainer.reports.data import (
    eyes_closed_of,
    is_practice,
    kind_title,
    leg_of,
    load_bundle,
    session_calibration,
    slug,
)
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.board_angles import quat_from_axis_angle, quat_to_matrix
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles, to_json_dict
from wobble_trainer.units import DEG, STANDARD_GRAVITY

TZ = timezone(timedelta(hours=2))
T0 = datetime(2025, 5, 1, 9, 30, tzinfo=TZ)
MOUNTING = quat_from_axis_angle((0.0, 0.0, 1.0), math.pi / 2)
"""The IMU turned 90° on the board: uncalibrated, pitch and roll would swap."""


def sway_truth(
    seconds: float = 8.0,
    rate_hz: float = 100.0,
    pitch_amp: float = 3.0,
    roll_amp: float = 1.5,
    offset: float = 0.0,
):
    """(t, pitch°, roll°) of a smooth two-frequency sway."""
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    pitch = pitch_amp * np.sin(2 * math.pi * 0.4 * t + offset)
    roll = roll_amp * np.sin(2 * math.pi * 0.25 * t + 1.0 + offset)
    return t, pitch, roll


def sway_trace(
    seconds: float = 8.0,
    rate_hz: float = 100.0,
    *,
    mounting=MOUNTING,
    t0=1000.0,
    pitch_amp: float = 3.0,
    roll_amp: float = 1.5,
    offset: float = 0.0,
):
    """Raw (t, acc, gyr) of a board swaying in pitch and roll, seen by an IMU mounted with
    ``mounting`` (sensor→board). The board pivots at the sensor (no linear acceleration), so
    the accelerometer reads gravity only; the gyroscope reads the body rates of
    R = R_y(pitch)·R_x(roll): ω = (ṙ, ṗ·cos r, −ṗ·sin r)."""
    t, pitch_deg, roll_deg = sway_truth(seconds, rate_hz, pitch_amp, roll_amp, offset)
    p, r = pitch_deg * DEG, roll_deg * DEG
    up = np.column_stack([-np.sin(p), np.cos(p) * np.sin(r), np.cos(p) * np.cos(r)])
    pd, rd = np.gradient(p, t), np.gradient(r, t)
    omega = np.column_stack([rd, pd * np.cos(r), -pd * np.sin(r)])
    to_sensor = quat_to_matrix(mounting).T  # board-frame vectors into the sensor frame
    acc = STANDARD_GRAVITY * up @ to_sensor.T
    gyr = omega @ to_sensor.T
    return t0 + t, acc, gyr


def calibration_json(mounting=MOUNTING, edge_deg: float = 15.0) -> dict:
    edges = EdgeAngles(*(edge_deg * DEG,) * 4)
    return to_json_dict(
        Calibration(
            sensor_to_board=mounting, edge_angles=edges, created="2025-04-30T08:00:00+00:00"
        )
    )


def store_session(
    db,
    profile,
    kind="hold",
    *,
    trials=(("", 0.0),),
    settings=None,
    metrics=None,
    started_at=T0,
    calibrated=True,
    seconds=8.0,
    events=None,
):
    """A finished session through storage: one raw sway trace per (label, phase offset)."""
    session = db.sessions.start(
        profile.id,
        kind,
        settings=settings or {"duration_s": 30.0},
        calibration=calibration_json() if calibrated else None,
        edge_angles={"front": 15.0, "back": 15.0, "left": 15.0, "right": 15.0},
        started_at=started_at,
    )
    for k, (label, offset) in enumerate(trials):
        t, acc, gyr = sway_trace(
            seconds,
            t0=1000.0 + 100 * k,
            offset=offset,
            mounting=MOUNTING if calibrated else (1.0, 0.0, 0.0, 0.0),
        )
        db.sessions.add_trial(
            session.id,
            t,
            acc,
            gyr,
            label=label,
            started_at=started_at + timedelta(seconds=40 * k),
            ended_at=started_at + timedelta(seconds=40 * k + seconds),
            events=events if events is not None else [{"t": 1.5, "event": "edge"}],
        )
    return db.sessions.finish(
        session.id,
        metrics=metrics or {"score": 12.5, "osi": 2.0},
        events=[{"event": "note", "text": "ok"}],
        ended_at=started_at + timedelta(minutes=3),
    )


@pytest.fixture
def db(tmp_path):
    with open_database(tmp_path / "data") as database:
        yield database


@pytest.fixture
def person(db):
    return db.profiles.create("P-017", 1958, 1.68, "right", injured_side="left")


# --- calibration ----------------------------------------------------------------------------------


def test_stored_calibration_is_used(db, person):
    session = store_session(db, person)
    calibration, note = session_calibration(session)
    assert not calibration.uncalibrated
    assert note == "calibrated"
    assert np.allclose(calibration.sensor_to_board, MOUNTING)


def test_uncalibrated_session_gets_default_with_its_stored_edges(db, person):
    session = db.sessions.start(
        person.id, "hold", edge_angles={"front": 17.0, "back": 16.0, "left": 18.0, "right": 19.0}
    )
    calibration, note = session_calibration(session)
    assert calibration.uncalibrated and "uncalibrated" in note
    assert calibration.edge_angles.right == pytest.approx(19.0 * DEG)


def test_unusable_calibration_falls_back_and_says_so(db, person):
    broken = {**calibration_json(), "sensor_to_board": [2.0, 0.0, 0.0, 0.0]}
    session = db.sessions.start(person.id, "hold", calibration=json.dumps(broken))
    calibration, note = session_calibration(session)
    assert calibration.uncalibrated
    assert "unusable" in note and "unit quaternion" in note


# --- angles ---------------------------------------------------------------------------------------


def test_recomputed_angles_follow_the_true_sway_through_the_mounting(db, person):
    session = store_session(db, person, seconds=10.0)
    bundle = load_bundle(db, session.id)
    (angles,) = bundle.angles
    _, pitch, roll = sway_truth(10.0)
    assert angles.rate_hz == pytest.approx(100.0)
    assert angles.t[0] == 0.0 and angles.duration_s == pytest.approx(9.99)
    settled = slice(200, None)  # the estimator's first 2 s
    assert np.max(np.abs(angles.pitch_deg[settled] - pitch[settled])) < 0.3
    assert np.max(np.abs(angles.roll_deg[settled] - roll[settled])) < 0.3
    # Without the calibration the 90° mounting would swap the axes: the check above can fail.
    raw = stored_trial_angles(bundle.trials[0], Calibration.default())
    assert np.max(np.abs(raw.pitch_deg[settled] - pitch[settled])) > 1.0


def test_a_trial_too_short_for_angles_has_none(db, person):
    session = db.sessions.start(person.id, "hold")
    db.sessions.add_trial(session.id, np.array([1.0]), np.array([[0, 0, 9.81]]), np.zeros((1, 3)))
    bundle = load_bundle(db, session.id)
    assert bundle.angles == [] and bundle.trial_metrics() == []


def test_bundle_metrics_and_trial_times(db, person):
    session = store_session(
        db,
        person,
        "test:single_leg_stance",
        trials=(("left/eyes-open/trial 1", 0.0),),
        metrics={"trials": [{"label": "left/eyes-open/trial 1", "time_s": 7.25}]},
    )
    bundle = load_bundle(db, session.id)
    (m,) = bundle.trial_metrics()
    assert m["n_samples"] == 800 and m["osi"] > 1.0
    assert bundle.trial_metrics() is bundle.trial_metrics()  # computed once
    assert bundle.trial_time_s(bundle.trials[0]) == 7.25
    assert bundle.age_years == 2025 - 1958


# --- labels ---------------------------------------------------------------------------------------


def test_leg_eyes_and_practice_from_labels_and_settings(db, person):
    session = store_session(
        db,
        person,
        trials=(("right/eyes-closed/trial 2", 0.0), ("practice 1", 0.5)),
        settings={"stance": "left", "eyes_closed": False},
    )
    first, second = db.sessions.load_trace(session.id)
    assert leg_of(first, session) == "right" and eyes_closed_of(first, session)
    assert leg_of(second, session) == "left" and not eyes_closed_of(second, session)
    assert is_practice(second) and not is_practice(first)
    both = store_session(db, person, settings={"stance": "both"})
    assert leg_of(db.sessions.load_trace(both.id)[0], both) is None


def test_kind_titles_and_slugs():
    assert kind_title("test:made_up_protocol") == "Test: Made up protocol"
    assert kind_title("some-game") == "Some game"
    import wobble_trainer.app.activities.hold  # noqa: F401  (registers "hold")
    from wobble_trainer.app.scene import ACTIVITIES

    assert kind_title("hold") == ACTIVITIES["hold"].title
    assert slug("Zoë Müller-Łukasz / P 17") == "zoe-muller-ukasz-p-17"
    assert slug("***", "guest") == "guest"
