"""Board angles: pitch, roll, tilt magnitude and tilt direction from an orientation (the ONE place).

Conventions (CONVENTIONS.md, DOMAIN.md §1). Board frame: x forward (towards the toes), y to the
user's left, z up. Earth frame: z up, heading arbitrary. Quaternions are (w, x, y, z) and rotate
vectors from the first-named frame into the second. The board orientation board→earth is
``R = R_z(heading)·R_y(pitch)·R_x(roll)``; from the unit "up" vector ``u = Rᵀ·ẑ`` in the board
frame:

* ``pitch = atan2(-u_x, sqrt(u_y² + u_z²))`` — pitch > 0: toes / front edge down;
* ``roll = atan2(u_y, u_z)`` — roll > 0: right edge down;
* ``tilt = angle between board normal and vertical`` (``acos(u_z)``, computed as an ``atan2`` so it
  stays accurate near level);
* ``direction = atan2(u_y, -u_x)`` — azimuth of the LOW side, clockwise seen from above:
  0 = front/toes, +π/2 = right, ±π = back, -π/2 = left. Level has no low side; it reports 0.

Only the up vector matters, so heading never changes any of these angles. Every formula here is
scale-free (atan2 of components), so an un-normalised up vector works too: the accelerometer
reading of a board held still (specific force points up) can be fed straight in.

Two paths: :class:`BoardFrame` methods ending in ``_array`` are vectorised with numpy for offline
analysis of (N, 4) quaternions; the plain methods use :mod:`math` on floats, for the live
per-frame path where numpy's per-call overhead on a 4-vector costs more than the maths.

The sensor→board rotation (``mounting``) comes from :mod:`wobble_trainer.tilt.calibration`.
Sensor→earth = board→earth ⊗ sensor→board, hence up-in-board = R(sensor→board)·up-in-sensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from wobble_trainer.units import DEG

Quaternion = tuple[float, float, float, float]
"""A quaternion (w, x, y, z) as plain floats."""

Vector3 = tuple[float, float, float]

IDENTITY: Quaternion = (1.0, 0.0, 0.0, 0.0)


# --- quaternion helpers (plain floats; the calibration maths and tests need these few) ----------


def quat_multiply(a: Sequence[float], b: Sequence[float]) -> Quaternion:
    """Hamilton product ``a ⊗ b``: the rotation ``b`` followed by ``a``."""
    aw, ax, ay, az = (float(v) for v in a)
    bw, bx, by, bz = (float(v) for v in b)
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def quat_conjugate(q: Sequence[float]) -> Quaternion:
    """Inverse rotation of a unit quaternion (A→B becomes B→A)."""
    w, x, y, z = (float(v) for v in q)
    return (w, -x, -y, -z)


def quat_normalise(q: Sequence[float]) -> Quaternion:
    """Unit quaternion with w ≥ 0 (q and -q are the same rotation; one canonical sign helps tests
    and files)."""
    w, x, y, z = (float(v) for v in q)
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if not n > 0.0 or not math.isfinite(n):
        raise ValueError(f"cannot normalise quaternion {tuple(q)!r}")
    if w < 0.0:
        n = -n
    return (w / n, x / n, y / n, z / n)


def quat_from_axis_angle(axis: Sequence[float], angle_rad: float) -> Quaternion:
    """Rotation by ``angle_rad`` (right-handed) about ``axis`` (any length > 0)."""
    ax, ay, az = (float(v) for v in axis)
    n = math.sqrt(ax * ax + ay * ay + az * az)
    if n == 0.0:
        raise ValueError("rotation axis must not be zero")
    s = math.sin(angle_rad / 2.0) / n
    return (math.cos(angle_rad / 2.0), ax * s, ay * s, az * s)


def quat_to_matrix(q: Sequence[float]) -> np.ndarray:
    """3×3 rotation matrix of a unit quaternion: ``v_to = M @ v_from``."""
    w, x, y, z = (float(v) for v in q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def quat_from_matrix(m: np.ndarray) -> Quaternion:
    """Unit quaternion (w ≥ 0) of a 3×3 rotation matrix.

    Shepperd's method: take the square root of the largest of the four diagonal combinations, so
    the division never goes through a near-zero component.
    """
    m = np.asarray(m, dtype=float)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    cands = (tr, m[0, 0], m[1, 1], m[2, 2])
    k = int(np.argmax(cands))
    if k == 0:
        s = 2.0 * math.sqrt(max(1.0 + tr, 0.0))
        q = (s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s)
    elif k == 1:
        s = 2.0 * math.sqrt(max(1.0 + m[0, 0] - m[1, 1] - m[2, 2], 0.0))
        q = ((m[2, 1] - m[1, 2]) / s, s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s)
    elif k == 2:
        s = 2.0 * math.sqrt(max(1.0 - m[0, 0] + m[1, 1] - m[2, 2], 0.0))
        q = ((m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s)
    else:
        s = 2.0 * math.sqrt(max(1.0 - m[0, 0] - m[1, 1] + m[2, 2], 0.0))
        q = ((m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4)
    return quat_normalise(q)


def quat_angle_between(a: Sequence[float], b: Sequence[float]) -> float:
    """Angle (rad, 0..π) of the rotation that takes ``a`` to ``b``; sign of q ignored."""
    dot = abs(sum(float(x) * float(y) for x, y in zip(a, b, strict=True)))
    return 2.0 * math.acos(min(1.0, dot))


def board_to_earth_quaternion(pitch: float, roll: float, heading: float = 0.0) -> Quaternion:
    """Board→earth orientation ``R_z(heading)·R_y(pitch)·R_x(roll)`` as a quaternion.

    The inverse of the angle conversion, for simulators and tests that need an orientation with a
    known pitch and roll.
    """
    qz = quat_from_axis_angle((0.0, 0.0, 1.0), heading)
    qy = quat_from_axis_angle((0.0, 1.0, 0.0), pitch)
    qx = quat_from_axis_angle((1.0, 0.0, 0.0), roll)
    return quat_normalise(quat_multiply(qz, quat_multiply(qy, qx)))


def up_from_pitch_roll(pitch: float, roll: float) -> Vector3:
    """Unit up vector in the board frame of a board at ``pitch``, ``roll`` (rad)."""
    cp = math.cos(pitch)
    return (-math.sin(pitch), math.sin(roll) * cp, math.cos(roll) * cp)


def pitch_roll_toward(tilt: float, direction: float) -> tuple[float, float]:
    """(pitch, roll) rad of a board tilted by ``tilt`` with its low side at ``direction``: the
    inverse of the tilt magnitude and direction above."""
    s = math.sin(tilt)
    a = angles_from_up((-s * math.cos(direction), s * math.sin(direction), math.cos(tilt)))
    return a.pitch, a.roll


# --- up vector ------------------------------------------------------------------------------------


def up_in_sensor(q_sensor_to_earth: Sequence[float]) -> Vector3:
    """Earth's up (ẑ) expressed in the sensor frame: ``R(q)ᵀ·ẑ``, the bottom row of R(q).

    Plain floats, for the per-frame path. At rest this is the accelerometer direction.
    """
    w, x, y, z = q_sensor_to_earth
    return (2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y))


def up_in_sensor_array(q_sensor_to_earth: np.ndarray) -> np.ndarray:
    """Vectorised :func:`up_in_sensor`: (N, 4) quaternions → (N, 3) up vectors ((4,) → (3,))."""
    q = np.asarray(q_sensor_to_earth, dtype=float)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        (2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)), axis=-1
    )


# --- angle records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardAngles:
    """Board angles at one instant, radians (degrees only through the ``*_deg`` accessors)."""

    pitch: float
    """rad; > 0 toes / front edge down."""
    roll: float
    """rad; > 0 right edge down."""
    tilt: float
    """rad, 0..π: angle between board normal and vertical."""
    direction: float
    """rad, -π..π: azimuth of the low side, clockwise from above (0 front, +π/2 right)."""

    @property
    def pitch_deg(self) -> float:
        return self.pitch / DEG

    @property
    def roll_deg(self) -> float:
        return self.roll / DEG

    @property
    def tilt_deg(self) -> float:
        return self.tilt / DEG

    @property
    def direction_deg(self) -> float:
        return self.direction / DEG


@dataclass(frozen=True)
class BoardAnglesArray:
    """Board angles over N instants: (N,) arrays in radians."""

    pitch: np.ndarray
    roll: np.ndarray
    tilt: np.ndarray
    direction: np.ndarray

    def __len__(self) -> int:
        return len(self.pitch)

    def __getitem__(self, i: int) -> BoardAngles:
        return BoardAngles(
            float(self.pitch[i]), float(self.roll[i]), float(self.tilt[i]), float(self.direction[i])
        )

    @property
    def pitch_deg(self) -> np.ndarray:
        return self.pitch / DEG

    @property
    def roll_deg(self) -> np.ndarray:
        return self.roll / DEG

    @property
    def tilt_deg(self) -> np.ndarray:
        return self.tilt / DEG

    @property
    def direction_deg(self) -> np.ndarray:
        return self.direction / DEG


def angles_from_up(up_board: Sequence[float]) -> BoardAngles:
    """Board angles from the up vector in the board frame (any length > 0), plain math."""
    ux, uy, uz = up_board
    horizontal = math.hypot(ux, uy)
    return BoardAngles(
        pitch=math.atan2(-ux, math.hypot(uy, uz)),
        roll=math.atan2(uy, uz),
        tilt=math.atan2(horizontal, uz),
        # "+ 0.0" turns -0.0 into +0.0 so a level board reports direction 0, not π.
        direction=math.atan2(uy + 0.0, -ux + 0.0),
    )


def angles_from_up_array(up_board: np.ndarray) -> BoardAnglesArray:
    """Vectorised :func:`angles_from_up`: (N, 3) up vectors in the board frame."""
    u = np.asarray(up_board, dtype=float)
    ux, uy, uz = u[..., 0], u[..., 1], u[..., 2]
    return BoardAnglesArray(
        pitch=np.arctan2(-ux, np.hypot(uy, uz)),
        roll=np.arctan2(uy, uz),
        tilt=np.arctan2(np.hypot(ux, uy), uz),
        direction=np.arctan2(uy + 0.0, -ux + 0.0),
    )


# --- the board frame ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFrame:
    """The sensor→board mounting, with its rotation matrix precomputed for the per-frame path.

    Build one per calibration and call :meth:`angles` every frame.
    """

    sensor_to_board: Quaternion = IDENTITY
    _rows: tuple[Vector3, Vector3, Vector3] = field(init=False, repr=False, compare=False)
    _matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        q = quat_normalise(self.sensor_to_board)
        m = quat_to_matrix(q)
        # Frozen dataclass: the derived fields are set once here and never change.
        object.__setattr__(self, "sensor_to_board", q)
        object.__setattr__(self, "_matrix", m)
        object.__setattr__(self, "_rows", tuple(tuple(float(v) for v in row) for row in m))

    @property
    def matrix(self) -> np.ndarray:
        """3×3 sensor→board rotation matrix (a copy)."""
        return self._matrix.copy()

    # scalar path -----------------------------------------------------------------------------

    def to_board(self, v_sensor: Sequence[float]) -> Vector3:
        """A sensor-frame vector expressed in the board frame (plain math)."""
        a, b, c = v_sensor
        r0, r1, r2 = self._rows
        return (
            r0[0] * a + r0[1] * b + r0[2] * c,
            r1[0] * a + r1[1] * b + r1[2] * c,
            r2[0] * a + r2[1] * b + r2[2] * c,
        )

    def up_in_board(self, q_sensor_to_earth: Sequence[float]) -> Vector3:
        """Earth's up in the board frame, from the sensor→earth orientation."""
        return self.to_board(up_in_sensor(q_sensor_to_earth))

    def angles(self, q_sensor_to_earth: Sequence[float]) -> BoardAngles:
        """Board angles from one sensor→earth quaternion (w, x, y, z); heading is ignored."""
        return angles_from_up(self.up_in_board(q_sensor_to_earth))

    def angles_from_sensor_up(self, up_sensor: Sequence[float]) -> BoardAngles:
        """Board angles from an up vector in the sensor frame, e.g. the accelerometer of a board
        held still (any magnitude)."""
        return angles_from_up(self.to_board(up_sensor))

    def board_to_earth(self, q_sensor_to_earth: Sequence[float]) -> Quaternion:
        """Board→earth orientation = sensor→earth ⊗ board→sensor."""
        return quat_multiply(q_sensor_to_earth, quat_conjugate(self.sensor_to_board))

    # vectorised path -------------------------------------------------------------------------

    def to_board_array(self, v_sensor: np.ndarray) -> np.ndarray:
        """(N, 3) sensor-frame vectors in the board frame.

        Written out element by element rather than as a matrix product: BLAS gives a row a
        result that depends on how many rows it is multiplied with (blocking, FMA in the main
        kernel but not at the edges), and a stored trial replayed in one piece must give the very
        angles the live path computed frame by frame (:mod:`wobble_trainer.analysis`).
        """
        v = np.asarray(v_sensor, dtype=float)
        x, y, z = v[..., 0], v[..., 1], v[..., 2]
        m = self._matrix
        out = np.empty(v.shape, dtype=float)
        for row in range(3):
            out[..., row] = x * m[row, 0] + y * m[row, 1] + z * m[row, 2]
        return out

    def angles_array(self, q_sensor_to_earth: np.ndarray) -> BoardAnglesArray:
        """Board angles of (N, 4) sensor→earth quaternions."""
        q = np.atleast_2d(np.asarray(q_sensor_to_earth, dtype=float))
        if q.shape[-1] != 4:
            raise ValueError(f"expected quaternions of shape (N, 4), got {q.shape}")
        return angles_from_up_array(self.to_board_array(up_in_sensor_array(q)))

    def angles_from_sensor_up_array(self, up_sensor: np.ndarray) -> BoardAnglesArray:
        """Board angles of (N, 3) sensor-frame up vectors (e.g. accelerometer at rest)."""
        return angles_from_up_array(self.to_board_array(np.atleast_2d(up_sensor)))


_IDENTITY_FRAME = BoardFrame()


def board_angles(
    q_sensor_to_earth: Sequence[float], sensor_to_board: Sequence[float] | None = None
) -> BoardAngles:
    """Board angles of one sensor→earth quaternion with an optional mounting (sensor→board).

    Convenience wrapper; in a per-frame loop keep a :class:`BoardFrame` instead, so the mounting's
    matrix is not rebuilt every call.
    """
    frame = _IDENTITY_FRAME if sensor_to_board is None else BoardFrame(tuple(sensor_to_board))
    return frame.angles(q_sensor_to_earth)


def board_angles_array(
    q_sensor_to_earth: np.ndarray, sensor_to_board: Sequence[float] | None = None
) -> BoardAnglesArray:
    """Vectorised :func:`board_angles` for (N, 4) sensor→earth quaternions."""
    frame = _IDENTITY_FRAME if sensor_to_board is None else BoardFrame(tuple(sensor_to_board))
    return frame.angles_array(q_sensor_to_earth)


def wrap_angle(angle: float) -> float:
    """Angle wrapped to -π..π (for comparing directions)."""
    return math.atan2(math.sin(angle), math.cos(angle))
