"""Board calibration: how the IMU sits on the board, its gyro bias, and the board's edge angles.

What is measured, and why (DOMAIN.md §1, §2, §4):

* **Level capture** — the board held level and still. The mean accelerometer reading is the board's
  z axis in the sensor frame, and the mean gyroscope reading is the gyro bias (an MPU-6050 may be
  ±20 °/s off). Taking "level" from the accelerometer also absorbs its zero-g offset at level: 50 mg
  is ~2.9° of false tilt, more than a healthy person's sway.
* **Forward tilt** — the board tilted toes down (at least 5°) and held. The direction in which the
  accelerometer vector moved, projected onto the board plane, is the board's -x axis; y = z × x.
  Together these give the sensor→board rotation (the mounting), so nothing downstream cares how
  the IMU was screwed on.
* **Edges** — tilt until the rim touches the floor, front, back, left, right; the held tilt
  magnitude is that direction's edge angle (boards differ: 15-20°). Held still at the rim, the
  accelerometer alone gives the tilt reliably.

:class:`CalibrationProcedure` runs these steps hands-free from a live sample stream (holding still
advances), for both ``wobble calibrate`` and the pygame app. The offline equivalents are
:func:`still_capture`, :func:`sensor_to_board_from_captures` and :func:`calibrate_from_captures`.

Calibration file (JSON, UTF-8, one file per device; see :func:`calibration_path`)
--------------------------------------------------------------------------------
::

    {
      "format": "wobble-trainer-calibration",
      "format_version": 1,
      "created": "2025-05-01T09:30:00+00:00",
      "device": {"chip": "MPU-6050", "bus": "/dev/i2c-1", "address": "0x68"},
      "sensor_to_board": [0.99, 0.01, -0.12, 0.03],
      "gyro_bias_dps": [-1.92, 0.35, 0.81],
      "level_accel_ms2": [0.41, -0.2, 9.83],
      "edge_angles_deg": {"front": 15.2, "back": 14.9, "left": 15.6, "right": 15.1}
    }

* ``format``: always ``"wobble-trainer-calibration"``.
* ``format_version``: integer, currently 1. A file with a higher version was written by a newer
  Wobble Trainer: it is not used and not overwritten (unless ``wobble calibrate`` is told to).
* ``created``: ISO 8601 time the calibration was made (UTC).
* ``device``: the IMU this calibration belongs to (chip name, I2C bus, address as ``"0x68"`` or an
  integer), or ``null`` when unknown (simulator, replay).
* ``sensor_to_board``: unit quaternion (w, x, y, z) rotating sensor-frame vectors into the board
  frame (x forward to the toes, y left, z up). Must have norm 1 within 0.001 (it is re-normalised).
* ``gyro_bias_dps``: gyroscope reading at rest, °/s per sensor axis (subtracted from readings);
  each within ±60 °/s.
* ``level_accel_ms2``: mean accelerometer reading at level, m/s², sensor frame (information: its
  length minus 9.81 shows the accelerometer's scale/offset error), or ``null``; length 0.5-1.5 g.
* ``edge_angles_deg``: tilt in degrees at which the rim touches the floor, per direction
  (``front`` = toes down, ``back``, ``left``, ``right``), each 1-60°. A person may edit these.

Unknown extra keys are ignored. Anything missing, mistyped, non-finite or out of range makes
:func:`load` fall back to the uncalibrated defaults (identity mounting, zero gyro bias, 15° edges)
with a message that says what is wrong and to run ``wobble calibrate``; :func:`load` never raises.
:func:`save` writes a temporary file in the same directory, fsyncs it and renames it over the old
one, so a power cut leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from wobble_trainer.files import write_atomically
from wobble_trainer.tilt.board_angles import (
    IDENTITY,
    BoardAngles,
    BoardFrame,
    Quaternion,
    Vector3,
    quat_from_matrix,
    quat_normalise,
    wrap_angle,
)
from wobble_trainer.units import DEG, STANDARD_GRAVITY

FORMAT_NAME = "wobble-trainer-calibration"
FORMAT_VERSION = 1

DEFAULT_EDGE_ANGLE_RAD = 15.0 * DEG
"""Edge angle of the default board geometry (DOMAIN.md §2: 350 mm disc, 55 mm ball, 50 mm cap)."""

EDGE_DIRECTIONS: dict[str, float] = {
    "front": 0.0,
    "right": math.pi / 2,
    "back": math.pi,
    "left": -math.pi / 2,
}
"""Azimuth of the low side (board_angles convention) for each edge direction."""

MIN_FORWARD_TILT_RAD = 5.0 * DEG
"""Below this the direction of the tilt is too uncertain to define "forward"."""
MAX_FORWARD_TILT_RAD = 60.0 * DEG
"""Above this the board is not on the floor any more (lifted, turned over)."""
EDGE_CAPTURE_RANGE_RAD = (5.0 * DEG, 40.0 * DEG)
"""A rim touch outside this range is not a wobble board's rim (boards: 15-20°)."""
EDGE_FILE_RANGE_RAD = (1.0 * DEG, 60.0 * DEG)
"""Edge angles a (hand-edited) file may hold; anything else is absurd."""
EDGE_DIRECTION_TOLERANCE_RAD = 40.0 * DEG
"""How far from the asked direction an edge tilt may point and still count."""
MAX_GYRO_BIAS_RADS = 60.0 * DEG
"""Per axis: MPU-6050 allows ±20 °/s plus ±20 °/s over temperature; 60 °/s is a broken reading."""
GRAVITY_TOLERANCE = 0.15
"""Fraction by which the accelerometer at rest may differ from 1 g during the level capture."""
QUATERNION_NORM_TOLERANCE = 1e-3


class CalibrationError(Exception):
    """A capture cannot be used; the message says why and what the person should do."""


class NewerFormatError(CalibrationError):
    """A calibration file was written by a newer Wobble Trainer; it is not overwritten silently."""


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceIdentity:
    """Which IMU a calibration belongs to."""

    chip: str
    """Chip name as the drivers report it, e.g. ``"MPU-6050"``."""
    bus: str
    """I2C bus, e.g. ``"/dev/i2c-1"`` or ``"1"``."""
    address: int
    """7-bit I2C address, e.g. 0x68."""

    def key(self) -> str:
        """A file-name-safe identifier, e.g. ``mpu-6050_i2c-1_0x68``."""
        bus = self.bus.rsplit("/", 1)[-1]
        raw = f"{self.chip}_{bus}_0x{self.address:02x}".lower()
        return re.sub(r"[^a-z0-9._-]+", "-", raw)


@dataclass(frozen=True)
class EdgeAngles:
    """Tilt (rad) at which the rim touches the floor, per direction."""

    front: float = DEFAULT_EDGE_ANGLE_RAD
    back: float = DEFAULT_EDGE_ANGLE_RAD
    left: float = DEFAULT_EDGE_ANGLE_RAD
    right: float = DEFAULT_EDGE_ANGLE_RAD

    def as_dict(self) -> dict[str, float]:
        return {"front": self.front, "back": self.back, "left": self.left, "right": self.right}

    def toward(self, direction_rad: float) -> float:
        """Edge angle toward any tilt direction (board_angles azimuth), interpolated linearly in
        azimuth between the two nearest measured directions."""
        # Measured directions in clockwise order starting at front: 0, π/2, π, 3π/2.
        ring = (self.front, self.right, self.back, self.left)
        a = (direction_rad % (2 * math.pi)) / (math.pi / 2)
        i = int(a) % 4
        frac = a - math.floor(a)
        return ring[i] * (1.0 - frac) + ring[(i + 1) % 4] * frac

    @property
    def smallest(self) -> float:
        return min(self.front, self.back, self.left, self.right)


@dataclass(frozen=True)
class Calibration:
    """Everything calibration knows about one board + IMU. Radians and rad/s inside."""

    sensor_to_board: Quaternion = IDENTITY
    """Unit quaternion (w, x, y, z): sensor-frame vectors into the board frame."""
    gyro_bias: Vector3 = (0.0, 0.0, 0.0)
    """rad/s per sensor axis, to subtract from gyroscope readings."""
    edge_angles: EdgeAngles = field(default_factory=EdgeAngles)
    level_accel: Vector3 | None = None
    """Mean accelerometer reading during the level capture, m/s², sensor frame (if measured)."""
    device: DeviceIdentity | None = None
    created: str = ""
    """ISO 8601 UTC time the calibration was made ("" for the uncalibrated default)."""
    format_version: int = FORMAT_VERSION
    uncalibrated: bool = False
    """True for the safe default used when there is no usable calibration."""

    @classmethod
    def default(cls, device: DeviceIdentity | None = None) -> Calibration:
        """The uncalibrated default: identity mounting, zero bias, 15° edges, flagged as such."""
        return cls(device=device, uncalibrated=True)

    def board_frame(self) -> BoardFrame:
        """The mounting, ready for per-frame board-angle conversion (build once, reuse)."""
        return BoardFrame(self.sensor_to_board)

    @property
    def accel_scale_error_ms2(self) -> float | None:
        """Length of the level accelerometer reading minus standard gravity (m/s²), if known."""
        if self.level_accel is None:
            return None
        return math.sqrt(sum(v * v for v in self.level_accel)) - STANDARD_GRAVITY

    def correct_gyro(self, gyr: np.ndarray) -> np.ndarray:
        """Gyroscope readings (…, 3) rad/s with the bias removed."""
        return np.asarray(gyr, dtype=float) - np.asarray(self.gyro_bias)


@dataclass(frozen=True)
class LoadResult:
    """What :func:`load` found. ``calibration`` is always usable (the default when not ``ok``)."""

    calibration: Calibration
    ok: bool
    message: str
    """Empty when ok; otherwise what is wrong and what to do, for a person."""
    path: Path
    newer_version: bool = False
    """The file is from a newer Wobble Trainer: leave it alone (see :class:`NewerFormatError`)."""


# --- stillness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StillnessCriteria:
    """When is the board "held still"? Deviations of a lightly smoothed signal from the mean of the
    current hold. Smoothing removes sensor noise (MPU-6050 accel noise is ~0.06 m/s² RMS at its
    full bandwidth) without hiding a real movement."""

    acc_tolerance_ms2: float = 0.35
    """≈ 2° of tilt change at 1 g: a person standing still sways ~1°."""
    gyr_tolerance_rads: float = 5.0 * DEG
    """Rate change allowed; compared with the hold's mean, so the unknown gyro bias cancels."""
    smoothing_s: float = 0.05
    """Time constant of the exponential smoothing applied before the comparison."""
    max_gap_s: float = 0.25
    """A longer gap between samples (dropped data) restarts the hold."""


class _Smoother:
    """Exponential smoothing of accelerometer and gyroscope, initialised on the first sample."""

    def __init__(self, time_constant_s: float) -> None:
        self.tau = time_constant_s
        self.acc: np.ndarray | None = None
        self.gyr: np.ndarray | None = None

    def update(self, dt: float, acc: np.ndarray, gyr: np.ndarray) -> None:
        if self.acc is None or self.gyr is None:
            self.acc, self.gyr = acc.copy(), gyr.copy()
            return
        k = 1.0 - math.exp(-max(dt, 0.0) / self.tau) if self.tau > 0 else 1.0
        self.acc += k * (acc - self.acc)
        self.gyr += k * (gyr - self.gyr)


HOLD_END_WINDOW_S = 0.5
"""Length of the stretches at a hold's start and end whose mean accelerometer readings give
the tilt change over the hold (:attr:`StillCapture.mean_tilt_rate`)."""


class _Hold:
    """Running statistics of a still hold; restarted whenever the board moves."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.t_start = 0.0
        self.t_last = 0.0
        self.sum_acc = np.zeros(3)
        self.sum_gyr = np.zeros(3)
        # The samples themselves, for the bias correction of capture() (a hold is seconds).
        self.ts: list[float] = []
        self.accs: list[np.ndarray] = []
        self.gyrs: list[np.ndarray] = []

    @property
    def duration(self) -> float:
        return self.t_last - self.t_start if self.n else 0.0

    def moved(
        self,
        criteria: StillnessCriteria,
        smooth_acc: np.ndarray,
        smooth_gyr: np.ndarray,
        gyro_bias: np.ndarray | None = None,
    ) -> bool:
        """Has the board moved away from this hold? With a known ``gyro_bias`` a steady rotation
        counts too (comparing with the hold's mean alone cannot see a constant rate)."""
        if gyro_bias is not None and np.linalg.norm(smooth_gyr - gyro_bias) > (
            criteria.gyr_tolerance_rads
        ):
            return True
        if self.n == 0:
            return False
        d_acc = np.linalg.norm(smooth_acc - self.sum_acc / self.n)
        d_gyr = np.linalg.norm(smooth_gyr - self.sum_gyr / self.n)
        return bool(d_acc > criteria.acc_tolerance_ms2 or d_gyr > criteria.gyr_tolerance_rads)

    def add(self, t: float, acc: np.ndarray, gyr: np.ndarray) -> None:
        if self.n == 0:
            self.t_start = t
        self.t_last = t
        self.n += 1
        self.sum_acc += acc
        self.sum_gyr += gyr
        self.ts.append(t)
        self.accs.append(np.array(acc, dtype=float))
        self.gyrs.append(np.array(gyr, dtype=float))

    def bias_correction(self) -> np.ndarray:
        """What to subtract from the mean gyroscope reading to leave the bias alone, rad/s:
        the board's own mean rotation about the horizontal axes over the hold.

        The gravity direction's mean over the hold's last :data:`HOLD_END_WINDOW_S` minus that
        over its first is the rotation between them (in the sensor frame gravity turns as
        dg/dt = g × ω, so Δθ⊥ = −g × Δg / |g|²). The gyroscope, weighted so that its integral
        is that same difference of window means (weight of sample j: the share of the last
        window's samples at or after j minus the first window's), gives bias·Σw·dt + Δθ: the
        two agree whatever the sway did in between. Zero for a hold too short to have ends.
        """
        t = np.asarray(self.ts)
        n = len(t)
        if n < 4 or t[-1] - t[0] < 2.0 * HOLD_END_WINDOW_S:
            return np.zeros(3)
        acc = np.asarray(self.accs)
        gyr = np.asarray(self.gyrs)
        dt = np.diff(t, prepend=t[0] - (t[-1] - t[0]) / (n - 1))
        head = t < t[0] + HOLD_END_WINDOW_S
        tail = t > t[-1] - HOLD_END_WINDOW_S
        idx = np.arange(n)
        # c_S(j) = share of the window's samples i with i >= j.
        c_head = np.array([np.mean(idx[head] >= j) for j in range(n)])
        c_tail = np.array([np.mean(idx[tail] >= j) for j in range(n)])
        w = (c_tail - c_head) * dt
        g = acc.mean(axis=0)
        g2 = float(g @ g)
        if not (w.sum() > 0.0 and g2 > 0.0):
            return np.zeros(3)
        d_theta = -np.cross(g, acc[tail].mean(axis=0) - acc[head].mean(axis=0)) / g2
        weighted = (w @ gyr - d_theta) / w.sum()  # the bias, horizontal components exact
        mean = gyr.mean(axis=0)
        u = g / math.sqrt(g2)
        diff = weighted - mean
        return -(diff - u * float(u @ diff))  # horizontal part only; vertical: the plain mean

    def capture(self) -> StillCapture:
        return StillCapture(
            mean_acc=self.sum_acc / self.n,
            mean_gyr=self.sum_gyr / self.n,
            duration_s=self.duration,
            samples=self.n,
            mean_tilt_rate=self.bias_correction(),
        )


@dataclass(frozen=True)
class StillCapture:
    """Means over a still hold, sensor frame, SI units."""

    mean_acc: np.ndarray
    mean_gyr: np.ndarray
    duration_s: float
    samples: int
    mean_tilt_rate: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Mean rotation about the horizontal axes during the hold, rad/s, from the gravity
    direction at its start and end. A person standing "still" on a board sways, and over a
    3 s hold the board ends a few tenths of a degree away from where it began: the gyroscope's
    mean then holds that ≈0.1 °/s on top of its bias (on the simulator this was the tilt error
    of the first seconds after a calibration)."""


def still_capture(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    criteria: StillnessCriteria = StillnessCriteria(),  # noqa: B008 - frozen, safe to share
) -> StillCapture:
    """Means of a recorded capture that must be still throughout (offline counterpart of a hold).

    Raises :class:`CalibrationError` if the board moved or the data has a gap.
    """
    t = np.asarray(t, dtype=float)
    acc = np.asarray(acc, dtype=float).reshape(-1, 3)
    gyr = np.asarray(gyr, dtype=float).reshape(-1, 3)
    if len(t) < 2 or len(acc) != len(t) or len(gyr) != len(t):
        raise CalibrationError("the capture needs at least 2 samples of t, acc and gyr alike")
    smoother, hold = _Smoother(criteria.smoothing_s), _Hold()
    t_prev = t[0]
    for ti, a, g in zip(t, acc, gyr, strict=True):
        if ti - t_prev > criteria.max_gap_s:
            raise CalibrationError(
                f"the capture has a {ti - t_prev:.2f} s gap in its data at t = {ti:.2f} s: "
                "check the sensor connection and capture again"
            )
        smoother.update(ti - t_prev, a, g)
        t_prev = ti
        assert smoother.acc is not None and smoother.gyr is not None
        if hold.moved(criteria, smoother.acc, smoother.gyr):
            raise CalibrationError(
                f"the board moved during the capture (at {ti - t[0]:.1f} s): "
                "hold it still and capture again"
            )
        hold.add(float(ti), a, g)
    return hold.capture()


# --- the maths -----------------------------------------------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if not n > 0.0 or not math.isfinite(n):
        raise CalibrationError("the accelerometer reads zero or not-a-number: check the sensor")
    return v / n


def check_level_capture(capture: StillCapture) -> tuple[np.ndarray, np.ndarray]:
    """Validate a level capture; returns (mean accelerometer m/s², gyro bias rad/s)."""
    g = float(np.linalg.norm(capture.mean_acc))
    if not math.isfinite(g) or abs(g - STANDARD_GRAVITY) > GRAVITY_TOLERANCE * STANDARD_GRAVITY:
        raise CalibrationError(
            f"the accelerometer reads {g:.2f} m/s² at rest instead of about "
            f"{STANDARD_GRAVITY:.2f}: check the sensor's wiring and range setting, "
            "then calibrate again"
        )
    # The mean reading minus the board's own net rotation during the hold: the bias alone.
    bias = capture.mean_gyr - capture.mean_tilt_rate
    worst = float(np.max(np.abs(bias)))
    if not math.isfinite(worst) or worst > MAX_GYRO_BIAS_RADS:
        raise CalibrationError(
            f"the gyroscope reads {worst / DEG:.0f} °/s while still, more than a working sensor "
            "should: check the sensor, then calibrate again"
        )
    return capture.mean_acc.copy(), bias.copy()


def tilt_between(acc_a: Sequence[float], acc_b: Sequence[float]) -> float:
    """Angle (rad) between two accelerometer readings (robust near 0 and π)."""
    a, b = _unit(np.asarray(acc_a, float)), _unit(np.asarray(acc_b, float))
    return math.atan2(float(np.linalg.norm(np.cross(a, b))), float(np.dot(a, b)))


def sensor_to_board_from_captures(
    level_acc: Sequence[float], forward_acc: Sequence[float]
) -> Quaternion:
    """The sensor→board rotation from the mean accelerometer level and tilted toes-down.

    Board z (in the sensor frame) is the level reading's direction. Tilting toes down by p moves
    "up" to ``cos p·z − sin p·x`` (board frame), so the part of the tilted reading across z points
    along -x. y completes the right-handed frame.
    """
    z = _unit(np.asarray(level_acc, float))
    f = _unit(np.asarray(forward_acc, float))
    tilt = tilt_between(z, f)
    if tilt < MIN_FORWARD_TILT_RAD:
        raise CalibrationError(
            f"the forward tilt was only {tilt / DEG:.1f}°: tilt the board further forward "
            f"(toes down, at least {MIN_FORWARD_TILT_RAD / DEG:.0f}°) and hold it there"
        )
    if tilt > MAX_FORWARD_TILT_RAD:
        raise CalibrationError(
            f"the forward tilt was {tilt / DEG:.0f}°, more than a board on the floor can tilt: "
            "put the board on the floor and tilt it forward, toes down"
        )
    x = -_unit(f - np.dot(f, z) * z)
    y = np.cross(z, x)
    # Rows are the board axes in sensor coordinates: that matrix maps sensor → board.
    return quat_from_matrix(np.vstack((x, y, z)))


def edge_angle_from_capture(mean_acc: Sequence[float], frame: BoardFrame, direction: str) -> float:
    """Edge angle (rad) from the mean accelerometer held at the rim in ``direction``."""
    angles = frame.angles_from_sensor_up(tuple(float(v) for v in mean_acc))
    problem = _edge_pose_problem(angles, direction)
    if problem:
        raise CalibrationError(problem)
    return angles.tilt


def _edge_pose_problem(angles: BoardAngles, direction: str) -> str:
    """Why ``angles`` is not a rim touch toward ``direction`` ("" if it is)."""
    lo, hi = EDGE_CAPTURE_RANGE_RAD
    if angles.tilt < lo:
        return (
            f"tilt the board {_TOWARD[direction]} until the rim touches the floor "
            f"(now {angles.tilt / DEG:.0f}°)"
        )
    off = abs(wrap_angle(angles.direction - EDGE_DIRECTIONS[direction]))
    if off > EDGE_DIRECTION_TOLERANCE_RAD:
        return (
            f"the board is tilted {_direction_word(angles.direction)}: tilt it "
            f"{_TOWARD[direction]} instead"
        )
    if angles.tilt > hi:
        return (
            f"the board is tilted {angles.tilt / DEG:.0f}°, more than a rim touch: put the board "
            f"on the floor and tilt it {_TOWARD[direction]} until the rim touches"
        )
    return ""


_TOWARD = {"front": "forward", "back": "back", "left": "to the left", "right": "to the right"}


_EIGHT_WAYS = (
    "forward",
    "forward and to the right",
    "to the right",
    "back and to the right",
    "back",
    "back and to the left",
    "to the left",
    "forward and to the left",
)
"""Where the low side points, in 45° sectors clockwise from the front (board_angles azimuth)."""


def _direction_word(direction_rad: float) -> str:
    """The way the board is tilted in eight words: a tilt refused as off the asked direction
    (more than the 40° tolerance) never reads as the asked direction itself (four words did:
    "tilted to the left: tilt it to the left instead")."""
    sector = round(wrap_angle(direction_rad) / (math.pi / 4)) % 8
    return _EIGHT_WAYS[sector]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def calibrate_from_captures(
    level: StillCapture,
    forward: StillCapture,
    edges: dict[str, StillCapture] | None = None,
    device: DeviceIdentity | None = None,
    created: str | None = None,
) -> Calibration:
    """A calibration from still captures (offline path; the procedure does the same live).

    ``edges`` maps "front"/"back"/"left"/"right" to rim captures; missing ones keep 15°.
    """
    level_acc, bias = check_level_capture(level)
    q = sensor_to_board_from_captures(level_acc, forward.mean_acc)
    frame = BoardFrame(q)
    measured = {
        name: edge_angle_from_capture(cap.mean_acc, frame, name)
        for name, cap in (edges or {}).items()
    }
    return Calibration(
        sensor_to_board=q,
        gyro_bias=_vec3(bias),
        edge_angles=replace(EdgeAngles(), **measured),
        level_accel=_vec3(level_acc),
        device=device,
        created=created if created is not None else _now_iso(),
    )


def _vec3(v: Sequence[float] | np.ndarray) -> Vector3:
    a, b, c = (float(x) for x in v)
    return (a, b, c)


# --- the live procedure --------------------------------------------------------------------------


class StepId(StrEnum):
    """Steps of the calibration procedure, in order."""

    LEVEL = "level"
    FORWARD_TILT = "forward_tilt"
    EDGE_FRONT = "edge_front"
    EDGE_BACK = "edge_back"
    EDGE_LEFT = "edge_left"
    EDGE_RIGHT = "edge_right"
    DONE = "done"


STEP_ORDER: tuple[StepId, ...] = (
    StepId.LEVEL,
    StepId.FORWARD_TILT,
    StepId.EDGE_FRONT,
    StepId.EDGE_BACK,
    StepId.EDGE_LEFT,
    StepId.EDGE_RIGHT,
)

_EDGE_OF_STEP = {
    StepId.EDGE_FRONT: "front",
    StepId.EDGE_BACK: "back",
    StepId.EDGE_LEFT: "left",
    StepId.EDGE_RIGHT: "right",
}

INSTRUCTIONS: dict[StepId, tuple[str, str]] = {
    StepId.LEVEL: (
        "Hold the board level and keep still",
        "Stand on the board (or rest it) with the deck level - a spirit level helps - "
        "and keep still until the bar is full.",
    ),
    StepId.FORWARD_TILT: (
        "Tilt the board forward, toes down, and hold still",
        "Let the toe edge go down part of the way to the floor, then keep still there.",
    ),
    StepId.EDGE_FRONT: (
        "Tilt forward until the rim touches the floor, and hold",
        "Toes down all the way: keep the front rim on the floor and keep still.",
    ),
    StepId.EDGE_BACK: (
        "Tilt back until the rim touches the floor, and hold",
        "Heels down all the way: keep the back rim on the floor and keep still.",
    ),
    StepId.EDGE_LEFT: (
        "Tilt left until the rim touches the floor, and hold",
        "Left side down all the way: keep the left rim on the floor and keep still.",
    ),
    StepId.EDGE_RIGHT: (
        "Tilt right until the rim touches the floor, and hold",
        "Right side down all the way: keep the right rim on the floor and keep still.",
    ),
    StepId.DONE: ("Calibration done", "You can step off the board."),
}


@dataclass(frozen=True)
class ProcedureSettings:
    """Hold times and stillness of the live procedure."""

    level_hold_s: float = 3.0
    """Longer than the others: the gyro bias is averaged over it."""
    forward_hold_s: float = 2.0
    edge_hold_s: float = 1.5
    stillness: StillnessCriteria = field(default_factory=StillnessCriteria)

    def hold_for(self, step: StepId) -> float:
        if step is StepId.LEVEL:
            return self.level_hold_s
        if step is StepId.FORWARD_TILT:
            return self.forward_hold_s
        return self.edge_hold_s


class CalibrationProcedure:
    """Hands-free, step-by-step calibration fed with live samples.

    Feed every sample with :meth:`feed` (or :meth:`feed_batch`); show :attr:`instruction`,
    :attr:`hint` and :attr:`progress`. Holding still in the asked pose for the step's hold time
    completes the step; any movement restarts the hold. A step after the first only starts
    counting once the board has moved (so a pose still held from the previous step is not taken
    for the next one). When :attr:`done`, :attr:`result` is the :class:`Calibration`.
    """

    def __init__(
        self,
        device: DeviceIdentity | None = None,
        settings: ProcedureSettings | None = None,
        wall_clock: Callable[[], str] = _now_iso,
    ) -> None:
        self.device = device
        self.settings = settings or ProcedureSettings()
        self._wall_clock = wall_clock
        self.restart()

    def restart(self) -> None:
        """Start again from the level step, forgetting everything captured."""
        self._step_index = 0
        self._smoother = _Smoother(self.settings.stillness.smoothing_s)
        self._hold = _Hold()
        self._t_prev: float | None = None
        self._armed = True
        self._hint = ""
        self._level_acc: np.ndarray | None = None
        self._gyro_bias: np.ndarray | None = None
        self._frame: BoardFrame | None = None
        self._edges: dict[str, float] = {}
        self._angles: BoardAngles | None = None
        self._result: Calibration | None = None

    # what a UI shows ---------------------------------------------------------------------------

    @property
    def step(self) -> StepId:
        return STEP_ORDER[self._step_index] if self._step_index < len(STEP_ORDER) else StepId.DONE

    @property
    def instruction(self) -> str:
        """Short instruction for the current step, plain English."""
        return INSTRUCTIONS[self.step][0]

    @property
    def detail(self) -> str:
        """One more sentence on how to do the current step."""
        return INSTRUCTIONS[self.step][1]

    @property
    def hint(self) -> str:
        """What is stopping progress right now ("" when nothing is)."""
        return self._hint

    @property
    def holding(self) -> bool:
        """True while a still hold is counting."""
        return self._armed and self._hold.n > 0 and not self.done

    @property
    def step_progress(self) -> float:
        """0..1 through the current step's hold."""
        if self.done:
            return 1.0
        if not self.holding:
            return 0.0
        return min(1.0, self._hold.duration / self.settings.hold_for(self.step))

    @property
    def progress(self) -> float:
        """0..1 through the whole procedure."""
        return min(1.0, (self._step_index + self.step_progress) / len(STEP_ORDER))

    @property
    def step_number(self) -> int:
        """1-based number of the current step (len(STEP_ORDER) + 1 when done)."""
        return self._step_index + 1

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> Calibration | None:
        return self._result

    @property
    def board_angles(self) -> BoardAngles | None:
        """Accelerometer tilt of the board, once the mounting is known (for a live display)."""
        return self._angles

    # feeding -----------------------------------------------------------------------------------

    def feed_batch(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        """Feed (n,) times, (n, 3) accelerometer m/s² and (n, 3) gyroscope rad/s."""
        for ti, a, g in zip(
            np.asarray(t, float), np.asarray(acc, float), np.asarray(gyr, float), strict=True
        ):
            self.feed(float(ti), a, g)

    def feed(self, t: float, acc: Sequence[float], gyr: Sequence[float]) -> None:
        """Feed one sample: time s, accelerometer (3) m/s², gyroscope (3) rad/s, sensor frame."""
        if self.done:
            return
        a = np.asarray(acc, dtype=float).reshape(3)
        g = np.asarray(gyr, dtype=float).reshape(3)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(g))):
            self._restart_hold("the sensor sent an invalid reading: check its connection")
            return
        crit = self.settings.stillness
        dt = 0.0 if self._t_prev is None else t - self._t_prev
        self._t_prev = t
        if dt > crit.max_gap_s:
            self._restart_hold("samples were lost: keep still, starting the hold again")
        self._smoother.update(dt, a, g)
        s_acc, s_gyr = self._smoother.acc, self._smoother.gyr
        assert s_acc is not None and s_gyr is not None
        if self._frame is not None:
            self._angles = self._frame.angles_from_sensor_up(_vec3(s_acc))

        if self._hold.moved(crit, s_acc, s_gyr, self._gyro_bias):
            # Only worth telling the person if they had been holding for a while.
            was_holding = self.holding and self._hold.duration > 0.3
            self._restart_hold("you moved: keep still" if was_holding else "")

        problem = self._pose_problem(s_acc)
        if problem:
            self._restart_hold(problem)
            return
        self._hold.add(t, a, g)
        if not self._armed:
            self._hint = ""
            return
        if self._hold.duration >= self.settings.hold_for(self.step):
            self._complete_step()
        elif self._hold.duration > 0.3:
            self._hint = ""

    # internals ---------------------------------------------------------------------------------

    def _restart_hold(self, hint: str) -> None:
        self._hold.reset()
        self._armed = True
        if hint:
            self._hint = hint

    def _pose_problem(self, s_acc: np.ndarray) -> str:
        step = self.step
        if step is StepId.FORWARD_TILT:
            assert self._level_acc is not None
            tilt = tilt_between(self._level_acc, s_acc)
            if tilt < MIN_FORWARD_TILT_RAD:
                return (
                    f"tilt further forward, toes down (now {tilt / DEG:.0f}°, "
                    f"at least {MIN_FORWARD_TILT_RAD / DEG:.0f}° needed)"
                )
            if tilt > MAX_FORWARD_TILT_RAD:
                return "that is too far for a board on the floor: put it down and tilt it forward"
            return ""
        if step in _EDGE_OF_STEP:
            assert self._angles is not None
            return _edge_pose_problem(self._angles, _EDGE_OF_STEP[step])
        return ""

    def _complete_step(self) -> None:
        capture = self._hold.capture()
        step = self.step
        try:
            if step is StepId.LEVEL:
                self._level_acc, self._gyro_bias = check_level_capture(capture)
            elif step is StepId.FORWARD_TILT:
                assert self._level_acc is not None
                q = sensor_to_board_from_captures(self._level_acc, capture.mean_acc)
                self._frame = BoardFrame(q)
            else:
                assert self._frame is not None
                name = _EDGE_OF_STEP[step]
                self._edges[name] = edge_angle_from_capture(capture.mean_acc, self._frame, name)
        except CalibrationError as exc:
            # Rare (the pose was checked sample by sample); try the hold again, saying why.
            self._restart_hold(str(exc))
            return
        self._step_index += 1
        self._hold.reset()
        # The next step waits for a movement, so this pose is not captured twice.
        self._armed = False
        self._hint = ""
        if self._step_index >= len(STEP_ORDER):
            self._finish()

    def _finish(self) -> None:
        assert self._level_acc is not None and self._gyro_bias is not None
        assert self._frame is not None
        self._result = Calibration(
            sensor_to_board=self._frame.sensor_to_board,
            gyro_bias=_vec3(self._gyro_bias),
            edge_angles=EdgeAngles(**self._edges),
            level_accel=_vec3(self._level_acc),
            device=self.device,
            created=self._wall_clock(),
        )


# --- the file ------------------------------------------------------------------------------------


def calibration_path(directory: str | os.PathLike[str], device: DeviceIdentity | None) -> Path:
    """Where a device's calibration lives in ``directory`` (the app's state directory)."""
    name = f"calibration-{device.key()}.json" if device else "calibration.json"
    return Path(directory) / name


def to_json_dict(cal: Calibration) -> dict[str, Any]:
    """The file's JSON object for ``cal`` (degrees for angles and rates, see module docstring)."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": cal.created,
        "device": None
        if cal.device is None
        else {
            "chip": cal.device.chip,
            "bus": cal.device.bus,
            "address": f"0x{cal.device.address:02x}",
        },
        "sensor_to_board": [round(v, 10) for v in cal.sensor_to_board],
        "gyro_bias_dps": [round(v / DEG, 6) for v in cal.gyro_bias],
        "level_accel_ms2": None
        if cal.level_accel is None
        else [round(v, 6) for v in cal.level_accel],
        "edge_angles_deg": {k: round(v / DEG, 3) for k, v in cal.edge_angles.as_dict().items()},
    }


def save(cal: Calibration, path: str | os.PathLike[str], *, overwrite_newer: bool = False) -> None:
    """Write ``cal`` to ``path`` atomically (temp file, fsync, rename, fsync the directory).

    Raises :class:`NewerFormatError` if ``path`` holds a file from a newer Wobble Trainer (unless
    ``overwrite_newer``), ``ValueError`` for the uncalibrated default (saving it would hide a
    missing calibration behind a file), and ``OSError`` if the disk refuses.
    """
    if cal.uncalibrated:
        raise ValueError("refusing to save the uncalibrated default; run the calibration first")
    path = Path(path)
    if not overwrite_newer:
        existing = _file_version(path)
        if existing is not None and existing > FORMAT_VERSION:
            raise NewerFormatError(
                f"{path} was written by a newer Wobble Trainer (calibration format {existing}, "
                f"this version writes {FORMAT_VERSION}); not overwriting it. Update Wobble "
                "Trainer, or confirm that the new calibration should replace it."
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_json_dict(cal), indent=2, allow_nan=False)
    # One line per list of numbers: easier for a person to read and edit.
    text = _NUMBER_LIST.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"
    write_atomically(path, text)


_NUMBER_LIST = re.compile(r"\[\s*((?:-?[0-9.eE+-]+,?\s*)+)\]")


def _file_version(path: Path) -> int | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("format_version") if isinstance(data, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


class _Invalid(CalibrationError):
    """A problem found in a calibration file (message for a person)."""


def _reject_constant(name: str) -> float:
    raise _Invalid(f"it contains {name}, which is not a number")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{what} should be a number, found {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise _Invalid(f"{what} is not a finite number")
    return x


def _numbers(value: Any, n: int, what: str) -> list[float]:
    if not isinstance(value, list) or len(value) != n:
        raise _Invalid(f"{what} should be a list of {n} numbers, found {value!r}")
    return [_number(v, what) for v in value]


def _parse_device(value: Any) -> DeviceIdentity | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid(f"device should be an object or null, found {value!r}")
    chip, bus, address = value.get("chip"), value.get("bus"), value.get("address")
    if not isinstance(chip, str) or not chip:
        raise _Invalid("device.chip should be the chip's name")
    if isinstance(bus, int) and not isinstance(bus, bool):
        bus = str(bus)
    if not isinstance(bus, str):
        raise _Invalid('device.bus should be the I2C bus, e.g. "/dev/i2c-1"')
    if isinstance(address, str):
        try:
            address = int(address, 0)
        except ValueError:
            raise _Invalid(f'device.address {address!r} is not an address like "0x68"') from None
    if isinstance(address, bool) or not isinstance(address, int) or not 0 <= address <= 0x7F:
        raise _Invalid(
            f'device.address should be a 7-bit I2C address like "0x68", found '
            f"{value.get('address')!r}"
        )
    return DeviceIdentity(chip=chip, bus=bus, address=address)


def from_json_dict(data: Any) -> Calibration:
    """Parse and check a file's JSON object; raises :class:`CalibrationError` when unusable."""
    if not isinstance(data, dict):
        raise _Invalid("it is not a calibration (no JSON object)")
    if data.get("format") != FORMAT_NAME:
        raise _Invalid(f"it is not a Wobble Trainer calibration (format {data.get('format')!r})")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Invalid(f"its format_version should be an integer, found {version!r}")
    if version > FORMAT_VERSION:
        raise NewerFormatError(
            f"it was written by a newer Wobble Trainer (calibration format {version}; this "
            f"version reads format {FORMAT_VERSION}). It was left untouched: update Wobble "
            "Trainer to use it"
        )
    if version < 1:
        raise _Invalid(f"its format_version {version} is not one Wobble Trainer ever wrote")
    required = ("created", "device", "sensor_to_board", "gyro_bias_dps", "edge_angles_deg")
    missing = [k for k in required if k not in data]
    if missing:
        raise _Invalid(f"it is missing {', '.join(missing)}")

    created = data["created"]
    if not isinstance(created, str):
        raise _Invalid(f"created should be a date and time, found {created!r}")
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise _Invalid(f"created {created!r} is not an ISO 8601 date and time") from None

    q = _numbers(data["sensor_to_board"], 4, "sensor_to_board")
    norm = math.sqrt(sum(v * v for v in q))
    if abs(norm - 1.0) > QUATERNION_NORM_TOLERANCE:
        raise _Invalid(f"sensor_to_board is not a unit quaternion (its length is {norm:.4f})")

    bias_dps = _numbers(data["gyro_bias_dps"], 3, "gyro_bias_dps")
    limit_dps = MAX_GYRO_BIAS_RADS / DEG
    if any(abs(b) > limit_dps for b in bias_dps):
        raise _Invalid(f"gyro_bias_dps {bias_dps} is beyond ±{limit_dps:.0f} °/s")

    level = data.get("level_accel_ms2")
    level_accel: Vector3 | None = None
    if level is not None:
        level_accel = _vec3(_numbers(level, 3, "level_accel_ms2"))
        g = math.sqrt(sum(v * v for v in level_accel))
        if not 0.5 * STANDARD_GRAVITY <= g <= 1.5 * STANDARD_GRAVITY:
            raise _Invalid(f"level_accel_ms2 has length {g:.2f} m/s², not about 9.81")

    edges_raw = data["edge_angles_deg"]
    if not isinstance(edges_raw, dict):
        raise _Invalid("edge_angles_deg should be an object with front, back, left and right")
    missing_edges = [k for k in EDGE_DIRECTIONS if k not in edges_raw]
    if missing_edges:
        raise _Invalid(f"edge_angles_deg is missing {', '.join(missing_edges)}")
    lo, hi = (v / DEG for v in EDGE_FILE_RANGE_RAD)
    edges: dict[str, float] = {}
    for k in EDGE_DIRECTIONS:
        deg = _number(edges_raw[k], f"edge_angles_deg.{k}")
        if not lo <= deg <= hi:
            raise _Invalid(f"edge_angles_deg.{k} = {deg}° is outside {lo:.0f}-{hi:.0f}°")
        edges[k] = deg * DEG

    return Calibration(
        sensor_to_board=quat_normalise(q),
        gyro_bias=_vec3([b * DEG for b in bias_dps]),
        edge_angles=EdgeAngles(**edges),
        level_accel=level_accel,
        device=_parse_device(data["device"]),
        created=created,
        format_version=version,
    )


_WHAT_TO_DO = (
    "Using uncalibrated defaults (board level = as mounted, no gyro bias correction, "
    "15° edges). Run `wobble calibrate` to calibrate this board."
)


def load(path: str | os.PathLike[str], device: DeviceIdentity | None = None) -> LoadResult:
    """Read a calibration file; never raises.

    For a missing, unreadable, corrupt, implausible or newer-format file (or one that belongs to
    another ``device``) the result holds the uncalibrated default and a message saying what is
    wrong and what to do.
    """
    path = Path(path)

    def fail(why: str, newer: bool = False) -> LoadResult:
        if newer:
            msg = f"Calibration {path}: {why}. Until then the board runs uncalibrated."
        else:
            msg = f"Calibration {path}: {why}. {_WHAT_TO_DO}"
        return LoadResult(Calibration.default(device), False, msg, path, newer_version=newer)

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return fail("there is no calibration for this board yet")
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"the file cannot be read ({exc})")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return fail(f"the file is damaged (not valid JSON: {exc.msg} at line {exc.lineno})")
    except _Invalid as exc:
        return fail(f"the file is damaged ({exc})")
    except RecursionError:
        return fail("the file is damaged (nested far too deeply to be a calibration)")
    try:
        cal = from_json_dict(data)
    except NewerFormatError as exc:
        return fail(str(exc), newer=True)
    except _Invalid as exc:
        return fail(f"the file is not usable: {exc}")
    if device is not None and cal.device is not None and cal.device != device:
        return fail(
            f"it belongs to another sensor ({cal.device.chip} at 0x{cal.device.address:02x} "
            f"on {cal.device.bus}; this one is {device.chip} at 0x{device.address:02x} "
            f"on {device.bus})"
        )
    return LoadResult(cal, True, "", path)
