"""The errors of a real MEMS IMU, per chip, from the datasheets (DOMAIN.md §4).

:class:`SensorErrors` turns ideal readings (a :class:`~wobble_trainer.sim.motion.Motion`) into what
one particular device would report before its digital filter and quantisation: a per-device
scale and cross-axis matrix, zero-g / zero-rate offsets that move with die temperature, a slowly
wandering gyroscope bias and white noise.

Fixed errors are drawn once per seed. Datasheets give "typical" ± tolerances (InvenSense) or the
spread of a population (ST), not hard limits; we draw each one from a normal distribution with
σ = range/3, clipped to ±range, so a typical device is well inside the figure and none beyond it.

Tags as in DOMAIN.md: [V] read in the datasheet (page in the comment), [M] from memory of the
datasheet and not re-checked here, [D] our own assumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from wobble_trainer.sim.motion import Motion
from wobble_trainer.units import DEG, STANDARD_GRAVITY

REFERENCE_TEMPERATURE_C = 25.0
"""Temperature at which the datasheets state the initial offsets."""
DRIFT_KNOT_S = 1.0
"""Spacing of the gyroscope bias-drift process; it is linearly interpolated between knots."""


@dataclass(frozen=True)
class SensorErrorSpec:
    """Datasheet error figures of one chip (± values are tolerances, drawn per device)."""

    accel_noise_density_ug: float
    """Accelerometer noise density, µg/√Hz."""
    gyro_noise_density_dps: float
    """Gyroscope rate noise density, °/s/√Hz."""
    accel_offset_mg: tuple[float, float, float]
    """Zero-g offset tolerance per axis (x, y, z), ±mg at 25 °C."""
    gyro_offset_dps: float
    """Zero-rate offset tolerance, ±°/s at 25 °C."""
    sensitivity_tolerance: float
    """Scale-factor tolerance, ± fraction (accelerometer; also the gyroscope unless given)."""
    cross_axis: float
    """Cross-axis sensitivity, ± fraction."""
    gyro_bias_instability_dps: float
    """σ of the slow gyroscope bias wander (first-order Gauss-Markov), °/s."""
    gyro_bias_correlation_s: float
    """Correlation time of that wander, s."""
    accel_offset_tempco_mg_per_c: tuple[float, float, float]
    """Zero-g offset change with temperature, ±mg/°C per axis."""
    gyro_offset_tempco_dps_per_c: float
    """Zero-rate offset change with temperature, ±°/s/°C."""
    gyro_sensitivity_tolerance: float | None = None
    """Gyroscope scale-factor tolerance if it differs from ``sensitivity_tolerance``."""
    source: str = ""
    """Where the figures come from."""


# MPU-6050: PS-MPU-6000A-00 rev 3.4, §6.1 (p. 12) gyroscope and §6.2 (p. 13) accelerometer [V]:
# accel 400 µg/√Hz, zero-g ±50 mg x/y ±80 mg z, ±35 / ±60 mg over 0-70 °C, scale ±3 %,
# cross-axis ±2 %; gyro 0.005 °/s/√Hz, ZRO ±20 °/s, ±20 °/s over −40…+85 °C, scale ±3 %.
_MPU6050 = SensorErrorSpec(
    accel_noise_density_ug=400.0,
    gyro_noise_density_dps=0.005,
    accel_offset_mg=(50.0, 50.0, 80.0),
    gyro_offset_dps=20.0,
    sensitivity_tolerance=0.03,
    cross_axis=0.02,
    gyro_bias_instability_dps=0.01,  # [D] consumer MEMS, order of 0.005-0.02 °/s
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(35.0 / 70.0, 35.0 / 70.0, 60.0 / 70.0),
    gyro_offset_tempco_dps_per_c=20.0 / 125.0,
    source="InvenSense PS-MPU-6000A-00 rev 3.4, tables 6.1/6.2 [V]",
)

# MPU-6500 (and the MPU-9250, whose accel/gyro die is an MPU-6500): PS-MPU-6500A-01 [M]:
# accel 300 µg/√Hz, zero-g ±60 mg x/y ±80 mg z, ±1.5 mg/°C; gyro 0.01 °/s/√Hz, ZRO ±5 °/s,
# ±30 °/s over −40…+85 °C; scale ±3 %, cross-axis ±2 %.
_MPU6500 = SensorErrorSpec(
    accel_noise_density_ug=300.0,
    gyro_noise_density_dps=0.01,
    accel_offset_mg=(60.0, 60.0, 80.0),
    gyro_offset_dps=5.0,
    sensitivity_tolerance=0.03,
    cross_axis=0.02,
    gyro_bias_instability_dps=0.01,  # [D]
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(1.5, 1.5, 1.5),
    gyro_offset_tempco_dps_per_c=30.0 / 125.0,
    source="InvenSense PS-MPU-6500A-01 / PS-MPU-9250A-01 [M]",
)

# ICM-20948: DS-000189 rev 1.3, table 2 (p. 12) accelerometer [V]: 230 µg/√Hz, zero-g ±25 mg
# (component level; ±50 mg board level), ±0.80 mg/°C, scale ±0.5 %, cross-axis ±2 %.
# Gyroscope (table 1) [M]: 0.015 °/s/√Hz, ZRO ±5 °/s, ±0.05 °/s/°C, scale ±1.5 %.
_ICM20948 = SensorErrorSpec(
    accel_noise_density_ug=230.0,
    gyro_noise_density_dps=0.015,
    accel_offset_mg=(25.0, 25.0, 25.0),
    gyro_offset_dps=5.0,
    sensitivity_tolerance=0.005,
    gyro_sensitivity_tolerance=0.015,
    cross_axis=0.02,
    gyro_bias_instability_dps=0.01,  # [D]
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(0.8, 0.8, 0.8),
    gyro_offset_tempco_dps_per_c=0.05,
    source="TDK DS-000189 rev 1.3 table 2 [V], table 1 [M]",
)

# LSM6DS3: DocID026899 table 3 [M]/[S]: accel 90 µg/√Hz (high-performance), zero-g ±40 mg,
# ±0.5 mg/°C; gyro 7 mdps/√Hz, zero-rate ±10 °/s, ±0.05 °/s/°C. Scale and cross-axis are not in
# the table: ±1 % assumed [D].
_LSM6DS3 = SensorErrorSpec(
    accel_noise_density_ug=90.0,
    gyro_noise_density_dps=0.007,
    accel_offset_mg=(40.0, 40.0, 40.0),
    gyro_offset_dps=10.0,
    sensitivity_tolerance=0.01,  # [D]
    cross_axis=0.01,  # [D]
    gyro_bias_instability_dps=0.005,  # [D]
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(0.5, 0.5, 0.5),
    gyro_offset_tempco_dps_per_c=0.05,
    source="ST DocID026899 (LSM6DS3) table 3 [M]",
)

# LSM6DS3TR-C: DS12065 table 3 [M]: as the LSM6DS3 but gyro 4 mdps/√Hz.
_LSM6DS3TRC = SensorErrorSpec(
    accel_noise_density_ug=90.0,
    gyro_noise_density_dps=0.004,
    accel_offset_mg=(40.0, 40.0, 40.0),
    gyro_offset_dps=10.0,
    sensitivity_tolerance=0.01,  # [D]
    cross_axis=0.01,  # [D]
    gyro_bias_instability_dps=0.005,  # [D]
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(0.5, 0.5, 0.5),
    gyro_offset_tempco_dps_per_c=0.05,
    source="ST DS12065 (LSM6DS3TR-C) table 3 [M]",
)

# LSM6DSO / LSM6DSOX: DS12140 / DS12814 table 2 [M]: accel 70 µg/√Hz (high-performance, ±2 g),
# zero-g ±20 mg, ±0.1 mg/°C; gyro 3.8 mdps/√Hz, zero-rate ±1 °/s, ±0.01 °/s/°C; scale ±1 %,
# cross-axis ±1 %.
_LSM6DSO = SensorErrorSpec(
    accel_noise_density_ug=70.0,
    gyro_noise_density_dps=0.0038,
    accel_offset_mg=(20.0, 20.0, 20.0),
    gyro_offset_dps=1.0,
    sensitivity_tolerance=0.01,
    cross_axis=0.01,
    gyro_bias_instability_dps=0.003,  # [D]
    gyro_bias_correlation_s=100.0,  # [D]
    accel_offset_tempco_mg_per_c=(0.1, 0.1, 0.1),
    gyro_offset_tempco_dps_per_c=0.01,
    source="ST DS12140 (LSM6DSO) / DS12814 (LSM6DSOX) table 2 [M]",
)

ERROR_SPECS: dict[str, SensorErrorSpec] = {
    "MPU-6050": _MPU6050,
    "MPU-6500": _MPU6500,
    "MPU-9250": _MPU6500,
    "ICM-20948": _ICM20948,
    "LSM6DS3": _LSM6DS3,
    "LSM6DS3TR-C": _LSM6DS3TRC,
    "LSM6DSO": _LSM6DSO,
    "LSM6DSOX": _LSM6DSO,
}

_NONE_SPEC = SensorErrorSpec(
    accel_noise_density_ug=0.0,
    gyro_noise_density_dps=0.0,
    accel_offset_mg=(0.0, 0.0, 0.0),
    gyro_offset_dps=0.0,
    sensitivity_tolerance=0.0,
    cross_axis=0.0,
    gyro_bias_instability_dps=0.0,
    gyro_bias_correlation_s=100.0,
    accel_offset_tempco_mg_per_c=(0.0, 0.0, 0.0),
    gyro_offset_tempco_dps_per_c=0.0,
    source="ideal sensor",
)

_MG = 1e-3 * STANDARD_GRAVITY
_UG = 1e-6 * STANDARD_GRAVITY


def _draw(
    rng: np.random.Generator, limit: np.ndarray | float, shape: tuple[int, ...]
) -> np.ndarray:
    """Normal with σ = limit/3, clipped to ±limit (a realistic device within the datasheet)."""
    limit_arr = np.broadcast_to(np.asarray(limit, dtype=float), shape)
    return np.clip(rng.standard_normal(shape) * limit_arr / 3.0, -limit_arr, limit_arr)


def _error_matrix(rng: np.random.Generator, scale: float, cross: float) -> np.ndarray:
    """I + diagonal scale errors + off-diagonal cross-axis coupling."""
    matrix = _draw(rng, cross, (3, 3))
    np.fill_diagonal(matrix, 1.0 + _draw(rng, scale, (3,)))
    return matrix


class SensorErrors:
    """One device's errors: fixed per seed, plus drift and noise whose state carries over calls.

    Attributes (SI) describe the drawn device, so tests and benchmarks can compare a calibration
    against the truth: ``accel_offset`` (3,) m/s² and ``gyro_offset`` (3,) rad/s at 25 °C,
    ``accel_matrix``/``gyro_matrix`` (3, 3) (reading = matrix @ true + offset + …),
    ``accel_tempco`` (3,) m/s²/°C and ``gyro_tempco`` (3,) rad/s/°C.
    """

    def __init__(self, spec: SensorErrorSpec, seed: int = 0) -> None:
        self.spec = spec
        seq = np.random.SeedSequence([seed, 0x5E45])
        fixed_seq, noise_seq, drift_seq = seq.spawn(3)
        rng = np.random.Generator(np.random.PCG64(fixed_seq))
        self.accel_offset = _draw(rng, np.array(spec.accel_offset_mg) * _MG, (3,))
        self.gyro_offset = _draw(rng, spec.gyro_offset_dps * DEG, (3,))
        self.accel_matrix = _error_matrix(rng, spec.sensitivity_tolerance, spec.cross_axis)
        gyro_scale = (
            spec.sensitivity_tolerance
            if spec.gyro_sensitivity_tolerance is None
            else spec.gyro_sensitivity_tolerance
        )
        self.gyro_matrix = _error_matrix(rng, gyro_scale, spec.cross_axis)
        self.accel_tempco = _draw(rng, np.array(spec.accel_offset_tempco_mg_per_c) * _MG, (3,))
        self.gyro_tempco = _draw(rng, spec.gyro_offset_tempco_dps_per_c * DEG, (3,))
        self._noise_rng = np.random.Generator(np.random.PCG64(noise_seq))
        self._drift_rng = np.random.Generator(np.random.PCG64(drift_seq))
        # Gauss-Markov drift on a knot grid: knot k at _drift_t0 + k·DRIFT_KNOT_S.
        self._drift_t0: float | None = None
        self._drift_knots = np.zeros((0, 3))
        self._last_time = -math.inf

    @classmethod
    def none(cls) -> SensorErrors:
        """A perfect sensor: readings pass through unchanged."""
        return cls(_NONE_SPEC, 0)

    def gyro_drift_at(self, times: np.ndarray) -> np.ndarray:
        """(n, 3) slow gyroscope bias wander, rad/s (extends the knot grid as needed)."""
        times = np.asarray(times, dtype=float)
        sigma = self.spec.gyro_bias_instability_dps * DEG
        if len(times) == 0 or sigma == 0.0:
            return np.zeros((len(times), 3))
        if self._drift_t0 is None:
            self._drift_t0 = float(times[0])
            self._drift_knots = self._drift_rng.standard_normal((1, 3)) * sigma
        needed = int(math.floor((float(np.max(times)) - self._drift_t0) / DRIFT_KNOT_S)) + 2
        have = len(self._drift_knots)
        if needed > have:
            a = math.exp(-DRIFT_KNOT_S / self.spec.gyro_bias_correlation_s)
            b = math.sqrt(1.0 - a * a) * sigma
            z = self._drift_rng.standard_normal((needed - have, 3))
            new = np.empty((needed - have, 3))
            prev = self._drift_knots[-1]
            for i in range(needed - have):
                prev = a * prev + b * z[i]
                new[i] = prev
            self._drift_knots = np.vstack([self._drift_knots, new])
        pos = np.clip((times - self._drift_t0) / DRIFT_KNOT_S, 0.0, None)
        k = np.floor(pos).astype(np.int64)
        frac = (pos - k)[:, None]
        return self._drift_knots[k] * (1.0 - frac) + self._drift_knots[k + 1] * frac

    def apply(
        self, motion: Motion, times: np.ndarray, noise_bandwidth_hz: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(acc (n, 3) m/s², gyr (n, 3) rad/s): ``motion`` as this device would report it.

        White noise has σ = density·sqrt(noise_bandwidth_hz) per sample. ``times`` must not go
        backwards across calls (the drift and noise streams continue).
        """
        times = np.asarray(times, dtype=float)
        n = len(times)
        if n and float(times[0]) < self._last_time:
            raise ValueError("SensorErrors.apply: times went backwards")
        if n:
            self._last_time = float(times[-1])
        spec = self.spec
        dtemp = (np.asarray(motion.temperature_c, dtype=float) - REFERENCE_TEMPERATURE_C)[:, None]
        acc = motion.specific_force @ self.accel_matrix.T + self.accel_offset
        gyr = motion.angular_rate @ self.gyro_matrix.T + self.gyro_offset
        acc = acc + dtemp * self.accel_tempco
        gyr = gyr + dtemp * self.gyro_tempco + self.gyro_drift_at(times)
        bandwidth = max(float(noise_bandwidth_hz), 0.0)
        acc_sigma = spec.accel_noise_density_ug * _UG * math.sqrt(bandwidth)
        gyr_sigma = spec.gyro_noise_density_dps * DEG * math.sqrt(bandwidth)
        if acc_sigma > 0.0 or gyr_sigma > 0.0:
            noise = self._noise_rng.standard_normal((n, 6))
            acc = acc + acc_sigma * noise[:, :3]
            gyr = gyr + gyr_sigma * noise[:, 3:]
        return acc, gyr
