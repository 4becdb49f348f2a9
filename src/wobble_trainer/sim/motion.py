"""What a simulated IMU senses: the ideal motion of its sensor frame over time.

A :class:`MotionSource` answers "what specific force and angular rate does a perfect sensor at this
place on the board feel at these instants", in the *sensor* frame (mounting rotation applied). The
simulated chips (``wobble_trainer.sim.chips``) turn that into register bytes, adding the sensor
errors of DOMAIN.md §4, their filter, range clipping and quantisation.

Two small sources live here for tests: :class:`StaticMotion` (a still sensor in a fixed
orientation) and :class:`ConstantRotation` (spinning about one axis). The person-on-a-board
physics is :class:`wobble_trainer.sim.board.BoardSimulator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from wobble_trainer.units import STANDARD_GRAVITY

DEFAULT_TEMPERATURE_C = 25.0


@dataclass
class Motion:
    """Ideal readings at ``n`` instants, sensor frame, SI units."""

    specific_force: np.ndarray
    """(n, 3) m/s²: what a perfect accelerometer reads (+9.81 on the axis pointing up at rest)."""
    angular_rate: np.ndarray
    """(n, 3) rad/s: what a perfect gyroscope reads."""
    temperature_c: np.ndarray
    """(n,) die temperature in °C."""


class MotionSource(Protocol):
    """Ideal motion of a sensor, queried with non-decreasing times across calls."""

    def motion_at(self, times: np.ndarray) -> Motion:
        """Ideal readings at ``times`` (seconds, same time base as the bus clock)."""
        ...


def rotation_matrix_from_quaternion(q: np.ndarray) -> np.ndarray:
    """3×3 rotation matrix of a unit quaternion (w, x, y, z): maps sensor vectors to earth."""
    w, x, y, z = (float(v) for v in q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


class StaticMotion:
    """A sensor at rest; ``orientation`` is a unit quaternion (w, x, y, z), sensor to earth."""

    def __init__(
        self,
        orientation: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
        temperature_c: float = DEFAULT_TEMPERATURE_C,
    ) -> None:
        rotation = rotation_matrix_from_quaternion(np.asarray(orientation, dtype=float))
        # Specific force at rest is gravity's reaction: +g along earth z, seen in the sensor frame.
        self._force = rotation.T @ np.array([0.0, 0.0, STANDARD_GRAVITY])
        self._temperature_c = temperature_c

    def motion_at(self, times: np.ndarray) -> Motion:
        n = len(times)
        return Motion(
            specific_force=np.tile(self._force, (n, 1)),
            angular_rate=np.zeros((n, 3)),
            temperature_c=np.full(n, self._temperature_c),
        )


class ConstantRotation:
    """A sensor spinning at a constant rate about a fixed sensor axis, with 1 g on sensor z.

    Good for checking gyroscope scaling and sign: the gyroscope reads ``rate_rad_s`` exactly.
    """

    def __init__(
        self,
        rate_rad_s: tuple[float, float, float],
        temperature_c: float = DEFAULT_TEMPERATURE_C,
    ) -> None:
        self._rate = np.asarray(rate_rad_s, dtype=float)
        self._temperature_c = temperature_c

    def motion_at(self, times: np.ndarray) -> Motion:
        n = len(times)
        return Motion(
            specific_force=np.tile([0.0, 0.0, STANDARD_GRAVITY], (n, 1)),
            angular_rate=np.tile(self._rate, (n, 1)),
            temperature_c=np.full(n, self._temperature_c),
        )
