"""Calibration maths, the hands-free procedure and the calibration file."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.tilt import calibration as cal_mod
from wobble_trainer.tilt.board_angles import (
    BoardFrame,
    quat_angle_between,
    quat_normalise,
    quat_to_matrix,
    up_from_pitch_roll,
)
from wobble_trainer.tilt.calibration import (
    Calibration,
    CalibrationError,
    CalibrationProcedure,
    DeviceIdentity,
    EdgeAngles,
    NewerFormatError,
    StepId,
    StillCapture,
    calibrate_from_captures,
    calibration_path,
    load,
    save,
    sensor_to_board_from_captures,
    still_capture,
)
from wobble_trainer.units import DEG, STANDARD_GRAVITY

G = STANDARD_GRAVITY
RATE = 200.0
ACC_NOISE = 0.06  # m/s² per sample: MPU-6050 noise density at full bandwidth
GYR_NOISE = 0.002  # rad/s per sample
DEVICE = DeviceIdentity(chip="MPU-6050", bus="/dev/i2c-1", address=0x68)


def random_mounting(rng: np.random.Generator) -> tuple[float, float, float, float]:
    return quat_normalise(tuple(rng.normal(size=4)))


class BoardScript:
    """Sensor readings of a board following a scripted pitch/roll path, for a given mounting."""

    def __init__(self, mounting, seed=0, gyro_bias=(0.0, 0.0, 0.0), accel_offset=(0.0, 0.0, 0.0)):
        self.board_to_sensor = quat_to_matrix(mounting).T
        self.rng = np.random.default_rng(seed)
        self.gyro_bias = np.asarray(gyro_bias)
        self.accel_offset = np.asarray(accel_offset)
        self.t: list[float] = []
        self.pose = (0.0, 0.0)
        self.acc: list[np.ndarray] = []
        self.gyr: list[np.ndarray] = []

    def _sample(self, pitch: float, roll: float, rate_board: np.ndarray) -> None:
        t = len(self.t) / RATE
        u = np.array(up_from_pitch_roll(pitch, roll))
        acc = self.board_to_sensor @ (G * u) + self.accel_offset
        gyr = self.board_to_sensor @ rate_board + self.gyro_bias
        self.t.append(t)
        self.acc.append(acc + self.rng.normal(0.0, ACC_NOISE, 3))
        self.gyr.append(gyr + self.rng.normal(0.0, GYR_NOISE, 3))

    def hold(self, seconds: float) -> BoardScript:
        for _ in range(round(seconds * RATE)):
            self._sample(*self.pose, np.zeros(3))
        return self

    def move_to(self, pitch_deg: float, roll_deg: float, seconds: float = 1.0) -> BoardScript:
        p0, r0 = self.pose
        p1, r1 = pitch_deg * DEG, roll_deg * DEG
        n = round(seconds * RATE)
        # Board-frame rate of a pitch/roll change (small-angle: roll about x, pitch about y).
        rate = np.array([(r1 - r0) / seconds, (p1 - p0) / seconds, 0.0])
        for i in range(1, n + 1):
            s = i / n
            self._sample(p0 + s * (p1 - p0), r0 + s * (r1 - r0), rate)
        self.pose = (p1, r1)
        return self

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.t), np.array(self.acc), np.array(self.gyr)


def capture_at(mounting, pitch_deg, roll_deg, seconds=2.0, seed=0, **kw) -> StillCapture:
    t, acc, gyr = (
        BoardScript(mounting, seed, **kw).move_to(pitch_deg, roll_deg, 0.01).hold(seconds).arrays()
    )
    return still_capture(t[2:], acc[2:], gyr[2:])


# --- maths -------------------------------------------------------------------------------------


def test_recovers_random_mountings_within_half_a_degree() -> None:
    rng = np.random.default_rng(10)
    worst = 0.0
    for k in range(25):
        mounting = random_mounting(rng)
        tilt = rng.uniform(6.0, 15.0)
        level = capture_at(mounting, 0.0, 0.0, seed=k)
        forward = capture_at(mounting, tilt, 0.0, seed=100 + k)
        q = sensor_to_board_from_captures(level.mean_acc, forward.mean_acc)
        worst = max(worst, quat_angle_between(q, mounting))
    assert worst < 0.5 * DEG


def test_calibrated_frame_gives_correct_signs() -> None:
    rng = np.random.default_rng(11)
    mounting = random_mounting(rng)
    q = sensor_to_board_from_captures(
        capture_at(mounting, 0, 0).mean_acc, capture_at(mounting, 10, 0, seed=1).mean_acc
    )
    frame = BoardFrame(q)
    toes = frame.angles_from_sensor_up(tuple(capture_at(mounting, 12, 0, seed=2).mean_acc))
    right = frame.angles_from_sensor_up(tuple(capture_at(mounting, 0, 12, seed=3).mean_acc))
    assert toes.pitch > 0 and abs(toes.direction) < 2 * DEG
    assert right.roll > 0 and abs(right.direction - 90 * DEG) < 2 * DEG


def test_level_absorbs_accelerometer_offset() -> None:
    """A 50 mg offset (~2.9° of false tilt on an MPU-6050) reads as level after calibration."""
    mounting = random_mounting(np.random.default_rng(12))
    offset = (0.05 * G, -0.03 * G, 0.02 * G)
    level = capture_at(mounting, 0, 0, accel_offset=offset)
    forward = capture_at(mounting, 10, 0, seed=1, accel_offset=offset)
    frame = BoardFrame(sensor_to_board_from_captures(level.mean_acc, forward.mean_acc))
    assert frame.angles_from_sensor_up(tuple(level.mean_acc)).tilt < 0.05 * DEG


def test_forward_tilt_too_small_or_too_large_is_refused() -> None:
    mounting = random_mounting(np.random.default_rng(13))
    level = capture_at(mounting, 0, 0)
    with pytest.raises(CalibrationError, match="at least 5"):
        sensor_to_board_from_captures(level.mean_acc, capture_at(mounting, 3, 0).mean_acc)
    with pytest.raises(CalibrationError, match="on the floor"):
        sensor_to_board_from_captures(level.mean_acc, capture_at(mounting, 75, 0).mean_acc)


def test_still_capture_rejects_motion_and_gaps() -> None:
    mounting = random_mounting(np.random.default_rng(14))
    t, acc, gyr = BoardScript(mounting).hold(1.0).move_to(4, 0, 0.3).hold(1.0).arrays()
    with pytest.raises(CalibrationError, match="moved"):
        still_capture(t, acc, gyr)
    t, acc, gyr = BoardScript(mounting).hold(2.0).arrays()
    t[200:] += 1.0
    with pytest.raises(CalibrationError, match="gap"):
        still_capture(t, acc, gyr)


def test_level_capture_checks_gravity_and_gyro() -> None:
    mounting = random_mounting(np.random.default_rng(15))
    forward = capture_at(mounting, 10, 0)
    weak = StillCapture(np.array([0.0, 0.0, 6.0]), np.zeros(3), 2.0, 400)
    with pytest.raises(CalibrationError, match="accelerometer reads 6.00"):
        calibrate_from_captures(weak, forward)
    spinning = StillCapture(np.array([0.0, 0.0, G]), np.array([0.0, 2.0, 0.0]), 2.0, 400)
    with pytest.raises(CalibrationError, match="gyroscope"):
        calibrate_from_captures(spinning, forward)


def test_calibrate_from_captures_with_edges() -> None:
    mounting = random_mounting(np.random.default_rng(16))
    bias = (0.1, -0.05, 0.02)
    cal = calibrate_from_captures(
        capture_at(mounting, 0, 0, gyro_bias=bias),
        capture_at(mounting, 9, 0, seed=1),
        {
            "left": capture_at(mounting, 0, -17, seed=2),
            "back": capture_at(mounting, -14, 0, seed=3),
        },
        device=DEVICE,
        created="2025-01-02T03:04:05+00:00",
    )
    assert cal.edge_angles.left == pytest.approx(17 * DEG, abs=0.3 * DEG)
    assert cal.edge_angles.back == pytest.approx(14 * DEG, abs=0.3 * DEG)
    assert cal.edge_angles.front == pytest.approx(15 * DEG)  # not measured: default
    np.testing.assert_allclose(cal.gyro_bias, bias, atol=0.002)
    assert not cal.uncalibrated and cal.device == DEVICE
    with pytest.raises(CalibrationError, match="to the left: tilt it to the right"):
        calibrate_from_captures(
            capture_at(mounting, 0, 0),
            capture_at(mounting, 9, 0, seed=1),
            {"right": capture_at(mounting, 0, -15, seed=2)},
        )


def test_edge_angles_toward_any_direction() -> None:
    e = EdgeAngles(front=0.1, back=0.3, left=0.4, right=0.2)
    assert e.toward(0.0) == pytest.approx(0.1)
    assert e.toward(math.pi / 2) == pytest.approx(0.2)
    assert e.toward(math.pi) == pytest.approx(0.3)
    assert e.toward(-math.pi) == pytest.approx(0.3)
    assert e.toward(-math.pi / 2) == pytest.approx(0.4)
    assert e.toward(math.pi / 4) == pytest.approx(0.15)
    assert e.toward(-math.pi / 4) == pytest.approx(0.25)
    assert e.smallest == 0.1


def test_uncalibrated_default() -> None:
    d = Calibration.default(DEVICE)
    assert d.uncalibrated and d.sensor_to_board == (1.0, 0.0, 0.0, 0.0)
    assert d.gyro_bias == (0.0, 0.0, 0.0)
    for v in d.edge_angles.as_dict().values():
        assert v == pytest.approx(15 * DEG)
    np.testing.assert_allclose(d.correct_gyro(np.ones((2, 3))), np.ones((2, 3)))


# --- procedure ---------------------------------------------------------------------------------

EDGES_DEG = {"front": 15.5, "back": 14.5, "left": 16.0, "right": 15.8}


def full_script(mounting, bias=(0.03, -0.02, 0.01)) -> BoardScript:
    s = BoardScript(mounting, seed=5, gyro_bias=bias)
    s.hold(4.0)
    s.move_to(10, 0).hold(3.0)  # forward tilt
    s.move_to(EDGES_DEG["front"], 0, 0.5).hold(2.5)
    s.move_to(-EDGES_DEG["back"], 0, 1.5).hold(2.5)
    s.move_to(0, -EDGES_DEG["left"], 1.5).hold(2.5)
    s.move_to(0, EDGES_DEG["right"], 1.5).hold(2.5)
    return s


def test_procedure_scripted_stream_gives_the_calibration() -> None:
    mounting = random_mounting(np.random.default_rng(20))
    bias = (0.03, -0.02, 0.01)
    t, acc, gyr = full_script(mounting, bias).arrays()
    proc = CalibrationProcedure(device=DEVICE, wall_clock=lambda: "2025-01-02T03:04:05+00:00")
    assert proc.step is StepId.LEVEL and proc.instruction and proc.progress == 0.0
    seen = []
    progress = []
    for i in range(len(t)):
        proc.feed(t[i], acc[i], gyr[i])
        progress.append(proc.progress)
        if not seen or seen[-1] is not proc.step:
            seen.append(proc.step)
    assert seen == [
        StepId.LEVEL,
        StepId.FORWARD_TILT,
        StepId.EDGE_FRONT,
        StepId.EDGE_BACK,
        StepId.EDGE_LEFT,
        StepId.EDGE_RIGHT,
        StepId.DONE,
    ]
    assert all(b >= a for a, b in zip(progress, progress[1:], strict=False))
    assert proc.done and proc.progress == 1.0 and proc.instruction == "Calibration done"
    cal = proc.result
    assert cal is not None and not cal.uncalibrated
    assert quat_angle_between(cal.sensor_to_board, mounting) < 0.5 * DEG
    np.testing.assert_allclose(cal.gyro_bias, bias, atol=0.1 * DEG)
    for name, deg in EDGES_DEG.items():
        assert getattr(cal.edge_angles, name) == pytest.approx(deg * DEG, abs=0.5 * DEG), name
    assert cal.device == DEVICE and cal.created == "2025-01-02T03:04:05+00:00"
    assert cal.level_accel is not None and abs(cal.accel_scale_error_ms2) < 0.05
    # Live board angles are available once the mounting is known: here, at the right rim.
    assert proc.board_angles is not None and proc.board_angles.roll > 14 * DEG


def test_motion_during_a_hold_restarts_it() -> None:
    mounting = random_mounting(np.random.default_rng(21))
    s = BoardScript(mounting, seed=6).hold(2.0)  # 2 of the 3 s needed
    s.move_to(4, 0, 0.15).move_to(0, 0, 0.15)  # a bump
    t, acc, gyr = s.hold(2.5).arrays()
    proc = CalibrationProcedure()
    before = int(2.0 * RATE)
    proc.feed_batch(t[:before], acc[:before], gyr[:before])
    assert proc.step is StepId.LEVEL and proc.step_progress > 0.6 and proc.holding
    bump_end = before + int(0.3 * RATE)
    proc.feed_batch(t[before:bump_end], acc[before:bump_end], gyr[before:bump_end])
    assert proc.step_progress < 0.1
    assert "keep still" in proc.hint
    proc.feed_batch(t[bump_end:], acc[bump_end:], gyr[bump_end:])
    # 2.5 s after the bump is not the 3 s hold: the level step is still going.
    assert proc.step is StepId.LEVEL
    more = s.hold(1.0)
    t, acc, gyr = more.arrays()
    proc.feed_batch(t[len(t) - int(RATE) :], acc[len(t) - int(RATE) :], gyr[len(t) - int(RATE) :])
    assert proc.step is StepId.FORWARD_TILT


def test_forward_tilt_too_small_keeps_asking() -> None:
    mounting = random_mounting(np.random.default_rng(22))
    t, acc, gyr = BoardScript(mounting).hold(3.5).move_to(3, 0).hold(5.0).arrays()
    proc = CalibrationProcedure()
    proc.feed_batch(t, acc, gyr)
    assert proc.step is StepId.FORWARD_TILT and not proc.holding
    assert "tilt further forward" in proc.hint and "5°" in proc.hint


def test_pose_from_previous_step_is_not_reused() -> None:
    """Still at 10° forward after the forward tilt: the front-edge step must wait for a move."""
    mounting = random_mounting(np.random.default_rng(23))
    t, acc, gyr = BoardScript(mounting).hold(3.5).move_to(10, 0).hold(8.0).arrays()
    proc = CalibrationProcedure()
    proc.feed_batch(t, acc, gyr)
    assert proc.step is StepId.EDGE_FRONT and proc.step_progress == 0.0


def test_edge_in_the_wrong_direction_is_not_taken() -> None:
    mounting = random_mounting(np.random.default_rng(24))
    s = BoardScript(mounting).hold(3.5).move_to(10, 0).hold(2.5).move_to(15, 0).hold(2.0)
    t, acc, gyr = s.move_to(0, -15, 1.5).hold(3.0).arrays()  # left, when back is asked
    proc = CalibrationProcedure()
    proc.feed_batch(t, acc, gyr)
    assert proc.step is StepId.EDGE_BACK
    assert "to the left" in proc.hint and "back" in proc.hint


def test_a_tilt_just_past_the_tolerance_is_named_in_eight_ways_never_as_the_asked_one() -> None:
    mounting = random_mounting(np.random.default_rng(24))
    s = BoardScript(mounting).hold(3.5).move_to(10, 0).hold(2.5).move_to(15, 0).hold(2.0)
    off = math.radians(133.0)  # 47° from the back edge, towards the left
    pitch, roll = 15.0 * math.cos(off), -15.0 * math.sin(off)
    t, acc, gyr = s.move_to(pitch, roll, 1.5).hold(3.0).arrays()
    proc = CalibrationProcedure()
    proc.feed_batch(t, acc, gyr)
    assert proc.step is StepId.EDGE_BACK
    assert "tilted back and to the left: tilt it back instead" in proc.hint


def test_procedure_restart_and_invalid_samples() -> None:
    proc = CalibrationProcedure()
    proc.feed(0.0, (0.0, 0.0, G), (0.0, 0.0, 0.0))
    proc.feed(0.01, (math.nan, 0.0, G), (0.0, 0.0, 0.0))
    assert "invalid reading" in proc.hint
    proc.restart()
    assert proc.step is StepId.LEVEL and proc.hint == "" and proc.result is None


# --- file --------------------------------------------------------------------------------------


def good_calibration() -> Calibration:
    return Calibration(
        sensor_to_board=quat_normalise((0.9, 0.1, -0.3, 0.2)),
        gyro_bias=(0.01, -0.02, 0.005),
        edge_angles=EdgeAngles(front=15.2 * DEG, back=14.8 * DEG, left=16 * DEG, right=15 * DEG),
        level_accel=(0.3, -0.2, 9.79),
        device=DEVICE,
        created="2025-01-02T03:04:05+00:00",
    )


def test_save_load_round_trip(tmp_path: Path) -> None:
    path = calibration_path(tmp_path / "state", DEVICE)
    assert path.name == "calibration-mpu-6050_i2c-1_0x68.json"
    cal = good_calibration()
    save(cal, path)
    result = load(path, DEVICE)
    assert result.ok and result.message == "" and not result.calibration.uncalibrated
    back = result.calibration
    assert quat_angle_between(back.sensor_to_board, cal.sensor_to_board) < 1e-8
    np.testing.assert_allclose(back.gyro_bias, cal.gyro_bias, atol=1e-7)
    np.testing.assert_allclose(back.level_accel, cal.level_accel, atol=1e-6)
    for k, v in cal.edge_angles.as_dict().items():
        assert getattr(back.edge_angles, k) == pytest.approx(v, abs=1e-4)
    assert back.device == DEVICE and back.created == cal.created
    # A person reads degrees in the file.
    data = json.loads(path.read_text())
    assert data["edge_angles_deg"]["front"] == pytest.approx(15.2)
    assert data["device"]["address"] == "0x68" and data["format_version"] == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_save_refuses_uncalibrated(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save(Calibration.default(), tmp_path / "c.json")


def test_save_is_atomic_when_the_disk_fails(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.json"
    save(good_calibration(), path)
    before = path.read_text()

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(cal_mod.os, "fsync", broken_fsync)
    other = Calibration(**{**good_calibration().__dict__, "gyro_bias": (0.0, 0.0, 0.0)})
    with pytest.raises(OSError):
        save(other, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def write(tmp_path: Path, content) -> Path:
    path = tmp_path / "c.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def assert_default(result, *words: str) -> None:
    assert not result.ok
    assert result.calibration.uncalibrated
    assert result.calibration.sensor_to_board == (1.0, 0.0, 0.0, 0.0)
    for w in words:
        assert w in result.message, result.message


def test_missing_file(tmp_path: Path) -> None:
    r = load(tmp_path / "nope.json")
    assert_default(r, "no calibration", "wobble calibrate")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_default(load(path), "cannot be read", "wobble calibrate")
    assert_default(load(tmp_path), "cannot be read")  # a directory


@pytest.mark.parametrize("text", ["", "{", '{"format": "wobble', "[1, 2]", "null", "42"])
def test_bad_json(tmp_path: Path, text: str) -> None:
    assert_default(load(write(tmp_path, text)), "wobble calibrate")


def valid_dict() -> dict:
    return cal_mod.to_json_dict(good_calibration())


CORRUPTIONS = {
    "wrong format name": (lambda d: d.update(format="something-else"), "not a Wobble Trainer"),
    "version string": (lambda d: d.update(format_version="1"), "format_version"),
    "version zero": (lambda d: d.update(format_version=0), "format_version 0"),
    "version bool": (lambda d: d.update(format_version=True), "format_version"),
    "non-unit quaternion": (lambda d: d.update(sensor_to_board=[1, 0.2, 0, 0]), "unit quaternion"),
    "quaternion short": (lambda d: d.update(sensor_to_board=[1, 0, 0]), "list of 4"),
    "quaternion text": (lambda d: d.update(sensor_to_board=["1", 0, 0, 0]), "number"),
    "gyro bias absurd": (lambda d: d.update(gyro_bias_dps=[0, 500, 0]), "gyro_bias_dps"),
    "gyro bias bool": (lambda d: d.update(gyro_bias_dps=[0, True, 0]), "gyro_bias_dps"),
    "edge too big": (lambda d: d["edge_angles_deg"].update(left=80), "edge_angles_deg.left"),
    "edge negative": (lambda d: d["edge_angles_deg"].update(back=-3), "edge_angles_deg.back"),
    "edge missing": (lambda d: d["edge_angles_deg"].pop("right"), "missing right"),
    "edges not object": (lambda d: d.update(edge_angles_deg=[15, 15, 15, 15]), "edge_angles_deg"),
    "level accel absurd": (lambda d: d.update(level_accel_ms2=[0, 0, 30]), "level_accel_ms2"),
    "created bad": (lambda d: d.update(created="yesterday"), "created"),
    "device bad address": (lambda d: d["device"].update(address="0x1ff"), "device.address"),
    "device no chip": (lambda d: d["device"].pop("chip"), "device.chip"),
    "device not object": (lambda d: d.update(device="MPU"), "device"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupt_fields(tmp_path: Path, name: str) -> None:
    change, words = CORRUPTIONS[name]
    d = valid_dict()
    change(d)
    assert_default(load(write(tmp_path, d)), words, "wobble calibrate")


@pytest.mark.parametrize(
    "field",
    ["format_version", "created", "device", "sensor_to_board", "gyro_bias_dps", "edge_angles_deg"],
)
def test_missing_fields(tmp_path: Path, field: str) -> None:
    d = valid_dict()
    del d[field]
    assert_default(load(write(tmp_path, d)), field)


def test_nan_in_file(tmp_path: Path) -> None:
    text = json.dumps(valid_dict()).replace('"gyro_bias_dps": [', '"gyro_bias_dps": [NaN, ')
    assert_default(load(write(tmp_path, text)), "NaN")


def test_newer_version_is_refused_and_not_overwritten(tmp_path: Path) -> None:
    d = valid_dict()
    d["format_version"] = 2
    path = write(tmp_path, d)
    r = load(path)
    assert_default(r, "newer Wobble Trainer", "format 2", "left untouched")
    assert r.newer_version
    before = path.read_text()
    with pytest.raises(NewerFormatError):
        save(good_calibration(), path)
    assert path.read_text() == before
    save(good_calibration(), path, overwrite_newer=True)
    assert load(path).ok


def test_corrupt_file_is_replaced_by_save(tmp_path: Path) -> None:
    path = write(tmp_path, "{ not json")
    save(good_calibration(), path)
    assert load(path).ok


def test_other_device_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    save(good_calibration(), path)
    other = DeviceIdentity(chip="ICM-20948", bus="/dev/i2c-1", address=0x69)
    assert_default(load(path, other), "another sensor", "ICM-20948")
    assert load(path, other).calibration.device == other


def test_hand_edited_file_loads(tmp_path: Path) -> None:
    """Rounded quaternion, integer address and bus, no level accel: still fine."""
    d = valid_dict()
    d["sensor_to_board"] = [0.7071, 0.0, 0.7071, 0.0]
    d["device"] = {"chip": "MPU-6050", "bus": 1, "address": 104}
    d["level_accel_ms2"] = None
    d["edge_angles_deg"]["front"] = 18
    d["comment"] = "edited by hand"
    r = load(write(tmp_path, d))
    assert r.ok, r.message
    c = r.calibration
    assert math.isclose(sum(v * v for v in c.sensor_to_board), 1.0)
    assert c.device == DeviceIdentity("MPU-6050", "1", 0x68)
    assert c.edge_angles.front == pytest.approx(18 * DEG) and c.level_accel is None


def test_file_format_is_documented() -> None:
    doc = cal_mod.__doc__ or ""
    for key in valid_dict():
        assert f"``{key}``" in doc, key


def test_save_creates_directory_and_uses_fsync(tmp_path: Path, monkeypatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(cal_mod.os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    save(good_calibration(), tmp_path / "a" / "b" / "c.json")
    assert (tmp_path / "a" / "b" / "c.json").exists() and len(calls) >= 1


def test_level_hold_bias_excludes_the_boards_own_slow_rotation() -> None:
    """A person on the board sways during the level hold: the board turns a little, and the
    mean gyro reading holds that rotation on top of the bias. The bias is the reading minus the
    rotation the gravity direction shows (here 0.2 °/s about x for 3 s, with a wobble)."""
    rate = 200.0
    t = np.arange(int(3.0 * rate)) / rate
    theta = 0.2 * DEG * t + 0.1 * DEG * np.sin(2 * np.pi * 0.7 * t)  # about sensor x
    rate_x = 0.2 * DEG + 0.1 * DEG * 2 * np.pi * 0.7 * np.cos(2 * np.pi * 0.7 * t)
    acc = STANDARD_GRAVITY * np.stack([np.zeros_like(t), np.sin(theta), np.cos(theta)], 1)
    bias = np.array([0.5, -0.3, 1.0]) * DEG
    gyr = np.stack([rate_x, np.zeros_like(t), np.zeros_like(t)], 1) + bias
    capture = cal_mod.still_capture(t, acc, gyr)
    assert abs(capture.mean_gyr[0] - bias[0]) > 0.1 * DEG  # the plain mean is off
    _, got = cal_mod.check_level_capture(capture)
    np.testing.assert_allclose(got, bias, atol=0.005 * DEG)


def test_a_deeply_nested_file_is_damaged_not_a_crash(tmp_path: Path) -> None:
    path = calibration_path(tmp_path, DEVICE)
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = load(path, DEVICE)
    assert not result.ok and result.calibration.uncalibrated
    assert "nested far too deeply" in result.message
