"""A fast synthetic raw trace as a board stores it, for tests and benchmarks of storage and sync.

An MPU-6050 at ±8 g / ±1000 °/s: a slowly wandering tilt plus sensor noise, quantised to 16-bit
raw counts and scaled by the chip's LSB size exactly as the driver does, then rounded to float32
as the database stores it. Much faster than running the physics and the register-level IMU for
minutes of 1 kHz data, and with the property that matters here: every value is a raw count.
"""

from __future__ import annotations

import numpy as np

from wobble_trainer.units import DEG, STANDARD_GRAVITY

ACCEL_LSB_PER_G = 4096.0
GYRO_LSB_PER_DPS = 32.8


def quantised_trace(
    n: int, seed: int = 0, rate_hz: float = 1000.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, acc, gyr) float64 arrays of ``n`` samples: t in s, acc in m/s², gyr in rad/s."""
    rng = np.random.default_rng(seed)
    t = 5000.123 + np.arange(n) / rate_hz
    tilt = np.cumsum(rng.normal(0.0, 0.002, (n, 2)), axis=0)
    up = np.column_stack(
        [np.sin(tilt[:, 0]), np.sin(tilt[:, 1]), np.cos(tilt[:, 0]) * np.cos(tilt[:, 1])]
    )
    acc_counts = np.rint(up * ACCEL_LSB_PER_G + rng.normal(0.0, 6.0, (n, 3)))
    rate = np.diff(tilt, axis=0, prepend=tilt[:1]).sum(axis=1)[:, None] * rate_hz / DEG
    gyr_counts = np.rint(rate * GYRO_LSB_PER_DPS + rng.normal(0.0, 3.0, (n, 3)))
    # What a driver gives: raw counts times the LSB size, in float64 (what the board stores).
    acc = acc_counts * (STANDARD_GRAVITY / ACCEL_LSB_PER_G)
    gyr = gyr_counts * (DEG / GYRO_LSB_PER_DPS)
    return t, acc, gyr
