"""Scripted offline recordings: a board that rests on its rim, people stepping on and off, foot
strikes, and a gyroscope whose bias the calibration did not catch.

:func:`simulate` in :mod:`wobble_trainer.sim.board` records one person balancing throughout.
The gyro-bias scenarios of ``wobble bench tilt`` and of the estimator's tests need the life of a
board at home instead: nobody on it (it lies still on its rim), someone stepping on, balancing,
stamping a foot down, stepping off again, with a gyroscope that is several °/s away from what the
estimator was told. :func:`simulate_script` records that, from the same physics
(:class:`~wobble_trainer.sim.board.BoardSimulator`) and the same chip error model
(:class:`~wobble_trainer.sim.sensor_errors.SensorErrors`).

The gyro offset the estimator does not know is put in exactly: the chip's own zero-rate output
at the recording's start temperature is removed, as a fresh calibration of that device would
(its drift with temperature and its slow wander stay), and ``gyro_offset_dps`` is added. The
accelerometer keeps all its errors; :attr:`ScriptedRecording.level_fix` is the rotation a level
capture of the same device gives (what the app's calibration applies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from wobble_trainer.sim.board import BoardSimulator, BoardTruth, PersonParams
from wobble_trainer.sim.motion import StaticMotion
from wobble_trainer.sim.sensor_errors import ERROR_SPECS, REFERENCE_TEMPERATURE_C, SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

FOOT_STRIKE_PEAK_G = 3.0
"""Peak acceleration of a foot strike at the IMU, g: a foot stamped on a plywood deck gives a
sharp 1-5 g shock (the deck rings at tens of Hz and dies out within a tenth of a second)."""
FOOT_STRIKE_FREQ_HZ = 30.0
FOOT_STRIKE_DECAY_S = 0.03
FOOT_STRIKE_RATE_PEAK_DPS = 20.0
"""Peak angular rate of the deck's ringing during a strike, °/s (the angle returns to where it
was: the rate is the derivative of a decaying oscillation)."""


@dataclass(frozen=True)
class Script:
    """What happens during a scripted recording (times in seconds from its start)."""

    duration_s: float
    off_intervals: tuple[tuple[float, float], ...] = ()
    """Intervals with nobody on the board: it topples onto its rim and lies still there."""
    foot_strikes_s: tuple[float, ...] = ()
    """Moments a foot is stamped onto the deck."""
    person: PersonParams = field(default_factory=PersonParams)
    chip: str = "MPU-6050"
    gyro_offset_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Gyro bias the estimator is not told about, °/s per sensor axis."""
    seed: int = 0


@dataclass
class ScriptedRecording:
    """Readings and truth of a :class:`Script`."""

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    truth: BoardTruth
    level_fix: np.ndarray
    """3×3 rotation taking the accelerometer's "up" at level onto the true up: the level
    capture of the app's calibration, applied to the estimated up before comparing it with the
    truth."""


def _rotation_onto(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """3×3 rotation taking unit vector u onto unit vector v (shortest arc; u ≠ −v)."""
    axis = np.cross(u, v)
    s = float(np.linalg.norm(axis))
    c = float(u @ v)
    if s < 1e-12:
        return np.eye(3)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + k + k @ k * ((1.0 - c) / (s * s))


def level_capture_fix(errors: SensorErrors, rate_hz: float, temperature_c: float) -> np.ndarray:
    """Rotation a 2 s still, level capture of the device ``errors`` gives (see
    :attr:`ScriptedRecording.level_fix`). Uses a copy's noise, so ``errors`` is not advanced."""
    device = SensorErrors(errors.spec, 0)
    for name in ("accel_offset", "accel_matrix", "accel_tempco"):
        setattr(device, name, getattr(errors, name))
    tc = np.arange(int(2.0 * rate_hz)) / rate_hz
    cap_acc, _ = device.apply(
        StaticMotion(temperature_c=temperature_c).motion_at(tc), tc, rate_hz / 2.0
    )
    mean = cap_acc.mean(axis=0)
    return _rotation_onto(mean / np.linalg.norm(mean), np.array([0.0, 0.0, 1.0]))


def _strike_shapes(t: np.ndarray, strikes: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Unit-peak acceleration burst and angular-rate burst (zero net angle) at each strike."""
    acc = np.zeros(len(t))
    rate = np.zeros(len(t))
    w = 2.0 * math.pi * FOOT_STRIKE_FREQ_HZ
    k = 1.0 / FOOT_STRIKE_DECAY_S
    for t0 in strikes:
        s = t - t0
        on = (s >= 0.0) & (s < 10.0 * FOOT_STRIKE_DECAY_S)
        ss = s[on]
        env = np.exp(-k * ss)
        acc[on] += env * np.sin(w * ss)
        # d/dt [e^{-ks} sin(ws)] / w: the angle e^{-ks} sin(ws)/w starts and ends at zero.
        rate[on] += env * (np.cos(w * ss) - (k / w) * np.sin(w * ss))
    return acc, rate


def simulate_script(script: Script, rate_hz: float) -> ScriptedRecording:
    """Record ``script`` at ``rate_hz`` (samples at k / rate_hz)."""
    person = PersonParams(**{**script.person.__dict__, "can_step_off": False})
    sim = BoardSimulator(person=person, seed=script.seed)
    errors = SensorErrors(ERROR_SPECS[script.chip], script.seed)
    start_temp = float(sim.temperature_at(np.zeros(1))[0])
    # A fresh calibration's gyro bias: the zero-rate output at the start temperature.
    calibrated = errors.gyro_offset + (start_temp - REFERENCE_TEMPERATURE_C) * errors.gyro_tempco
    level_fix = level_capture_fix(errors, rate_hz, start_temp)
    n = int(round(script.duration_s * rate_hz))
    t = np.arange(n) / rate_hz
    events = sorted(
        [(a, "off") for a, _ in script.off_intervals] + [(b, "on") for _, b in script.off_intervals]
    )
    acc, gyr = np.empty((n, 3)), np.empty((n, 3))
    pitch, roll, quat = np.empty(n), np.empty(n), np.empty((n, 4))
    on_edge, on_board = np.empty(n, bool), np.empty(n, bool)
    pos = np.empty((n, 3))
    pv, rv = np.empty(n), np.empty(n)
    bounds = sorted({0, n, *(min(n, max(0, math.ceil(e[0] * rate_hz))) for e in events)})
    chunk = max(1, int(rate_hz))
    ei = 0
    for lo_b, hi_b in zip(bounds[:-1], bounds[1:], strict=True):
        while ei < len(events) and events[ei][0] * rate_hz <= lo_b + 1e-9:
            at, kind = events[ei]
            (sim.step_off if kind == "off" else sim.step_on)(at_time=at)
            ei += 1
        for i in range(lo_b, hi_b, chunk):
            sl = slice(i, min(i + chunk, hi_b))
            times = t[sl]
            motion = sim.motion_at(times)
            truth = sim.truth_at(times)
            acc[sl], gyr[sl] = errors.apply(motion, times, rate_hz / 2.0)
            pitch[sl], roll[sl], quat[sl] = truth.pitch_rad, truth.roll_rad, truth.quaternion
            on_edge[sl], on_board[sl] = truth.on_edge, truth.person_on_board
            pos[sl] = truth.sensor_position_m
            pv[sl], rv[sl] = truth.pitch_rate_rad_s, truth.roll_rate_rad_s
    gyr += np.asarray(script.gyro_offset_dps, dtype=float) * DEG - calibrated
    if script.foot_strikes_s:
        burst, ring = _strike_shapes(t, script.foot_strikes_s)
        # Mostly vertical shock with some horizontal; the deck rings about both tilt axes.
        acc += (FOOT_STRIKE_PEAK_G * STANDARD_GRAVITY * burst)[:, None] * np.array([0.3, 0.2, 1.0])
        gyr += (FOOT_STRIKE_RATE_PEAK_DPS * DEG * ring)[:, None] * np.array([0.7, 1.0, 0.0])
    truth_all = BoardTruth(
        pitch_rad=pitch,
        roll_rad=roll,
        quaternion=quat,
        on_edge=on_edge,
        person_on_board=on_board,
        sensor_position_m=pos,
        pitch_rate_rad_s=pv,
        roll_rate_rad_s=rv,
    )
    return ScriptedRecording(t=t, acc=acc, gyr=gyr, truth=truth_all, level_fix=level_fix)


__all__ = ["Script", "ScriptedRecording", "level_capture_fix", "simulate_script"]
