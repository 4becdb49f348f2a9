"""Tests for the per-chip sensor error model."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from wobble_trainer.sim.motion import Motion, StaticMotion
from wobble_trainer.sim.sensor_errors import ERROR_SPECS, SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

MG = 1e-3 * STANDARD_GRAVITY
CHIPS = (
    "MPU-6050",
    "MPU-6500",
    "MPU-9250",
    "ICM-20948",
    "LSM6DS3",
    "LSM6DS3TR-C",
    "LSM6DSO",
    "LSM6DSOX",
)


def _static(n: int, temperature_c: float = 25.0) -> tuple[Motion, np.ndarray]:
    times = np.arange(n) * 1e-3
    return StaticMotion(temperature_c=temperature_c).motion_at(times), times


def _quiet(chip: str):
    """The chip's fixed errors without noise and drift, for exact checks."""
    return dataclasses.replace(
        ERROR_SPECS[chip],
        accel_noise_density_ug=0.0,
        gyro_noise_density_dps=0.0,
        gyro_bias_instability_dps=0.0,
    )


def test_every_simulated_chip_has_a_spec_with_a_source():
    assert set(CHIPS) <= set(ERROR_SPECS)
    for chip in CHIPS:
        spec = ERROR_SPECS[chip]
        assert spec.source
        assert spec.accel_noise_density_ug > 0 and spec.gyro_noise_density_dps > 0


def test_mpu6050_figures_are_the_datasheet_ones():
    spec = ERROR_SPECS["MPU-6050"]
    assert spec.accel_noise_density_ug == 400.0
    assert spec.gyro_noise_density_dps == 0.005
    assert spec.accel_offset_mg == (50.0, 50.0, 80.0)
    assert spec.gyro_offset_dps == 20.0
    assert spec.sensitivity_tolerance == 0.03 and spec.cross_axis == 0.02


def test_ideal_errors_pass_readings_through_exactly():
    rng = np.random.default_rng(0)
    motion = Motion(rng.normal(size=(100, 3)), rng.normal(size=(100, 3)), np.full(100, 40.0))
    acc, gyr = SensorErrors.none().apply(motion, np.arange(100) * 0.01, 100.0)
    np.testing.assert_array_equal(acc, motion.specific_force)
    np.testing.assert_array_equal(gyr, motion.angular_rate)


@pytest.mark.parametrize("chip", CHIPS)
def test_fixed_errors_stay_within_the_datasheet_ranges(chip):
    spec = ERROR_SPECS[chip]
    gyro_scale = spec.gyro_sensitivity_tolerance or spec.sensitivity_tolerance
    for seed in range(40):
        e = SensorErrors(spec, seed)
        assert np.all(np.abs(e.accel_offset) <= np.array(spec.accel_offset_mg) * MG + 1e-15)
        assert np.all(np.abs(e.gyro_offset) <= spec.gyro_offset_dps * DEG + 1e-15)
        assert np.all(np.abs(np.diag(e.accel_matrix) - 1) <= spec.sensitivity_tolerance + 1e-15)
        assert np.all(np.abs(np.diag(e.gyro_matrix) - 1) <= gyro_scale + 1e-15)
        off_diag = ~np.eye(3, dtype=bool)
        assert np.all(np.abs(e.accel_matrix[off_diag]) <= spec.cross_axis + 1e-15)
        assert np.all(np.abs(e.gyro_matrix[off_diag]) <= spec.cross_axis + 1e-15)


def test_offsets_are_drawn_with_sigma_a_third_of_the_range():
    spec = ERROR_SPECS["MPU-6050"]
    offsets = np.array([SensorErrors(spec, s).accel_offset for s in range(400)])
    sd = offsets.std(axis=0) / (np.array(spec.accel_offset_mg) * MG)
    np.testing.assert_allclose(sd, 1 / 3, rtol=0.15)
    gyro = np.array([SensorErrors(spec, s).gyro_offset for s in range(400)])
    assert gyro.std() / (spec.gyro_offset_dps * DEG) == pytest.approx(1 / 3, rel=0.15)


@pytest.mark.parametrize(("chip", "bandwidth"), [("MPU-6050", 44.0), ("LSM6DSO", 208.0)])
def test_white_noise_sigma_is_density_times_sqrt_bandwidth(chip, bandwidth):
    spec = ERROR_SPECS[chip]
    motion, times = _static(40000)
    acc, gyr = SensorErrors(spec, 3).apply(motion, times, bandwidth)
    acc_sd = acc.std(axis=0)
    gyr_sd = (gyr - gyr.mean(axis=0)).std(axis=0)
    expected_acc = spec.accel_noise_density_ug * 1e-6 * STANDARD_GRAVITY * math.sqrt(bandwidth)
    expected_gyr = spec.gyro_noise_density_dps * DEG * math.sqrt(bandwidth)
    np.testing.assert_allclose(acc_sd, expected_acc, rtol=0.03)
    # The gyroscope's slow drift adds a little over 40 s; the white part dominates.
    np.testing.assert_allclose(gyr_sd, expected_gyr, rtol=0.05)


def test_static_reading_is_matrix_times_gravity_plus_offset():
    errors = SensorErrors(_quiet("MPU-6050"), 5)
    motion, times = _static(10)
    acc, gyr = errors.apply(motion, times, 100.0)
    expected = errors.accel_matrix @ [0.0, 0.0, STANDARD_GRAVITY] + errors.accel_offset
    np.testing.assert_allclose(acc, np.tile(expected, (10, 1)), atol=1e-12)
    np.testing.assert_allclose(gyr, np.tile(errors.gyro_offset, (10, 1)), atol=1e-12)
    # A typical MPU-6050 shows a false tilt of the order of a degree or more.
    assert np.linalg.norm(errors.accel_offset[:2]) > 1 * MG


def test_offsets_follow_temperature():
    errors = SensorErrors(_quiet("MPU-6050"), 6)
    cold, t1 = _static(5, temperature_c=25.0)
    warm, _ = _static(5, temperature_c=45.0)
    acc_c, gyr_c = errors.apply(cold, t1, 100.0)
    acc_w, gyr_w = errors.apply(warm, t1 + 1.0, 100.0)
    np.testing.assert_allclose(
        acc_w - acc_c, np.tile(20.0 * errors.accel_tempco, (5, 1)), atol=1e-12
    )
    np.testing.assert_allclose(
        gyr_w - gyr_c, np.tile(20.0 * errors.gyro_tempco, (5, 1)), atol=1e-12
    )
    assert np.all(np.abs(errors.gyro_tempco) <= 20.0 / 125.0 * DEG)


def test_gyro_drift_is_slow_and_bounded():
    spec = ERROR_SPECS["MPU-6050"]
    errors = SensorErrors(spec, 7)
    times = np.arange(0.0, 20000.0, 0.5)
    drift = errors.gyro_drift_at(times)
    sigma = spec.gyro_bias_instability_dps * DEG
    assert drift.std() == pytest.approx(sigma, rel=0.35)
    # Slow and continuous: half a second moves it by ~σ·sqrt(0.5 s / 100 s · 2) ≈ 0.07σ (rms).
    step_rms = np.sqrt(np.mean(np.diff(drift, axis=0) ** 2))
    assert step_rms < 0.1 * sigma


def test_deterministic_for_a_seed_and_continuing_across_calls():
    spec = ERROR_SPECS["ICM-20948"]
    motion, times = _static(2000)
    a = SensorErrors(spec, 9).apply(motion, times, 100.0)
    b = SensorErrors(spec, 9).apply(motion, times, 100.0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = SensorErrors(spec, 10).apply(motion, times, 100.0)
    assert not np.allclose(a[0], c[0])
    errors = SensorErrors(spec, 9)
    first = errors.apply(
        Motion(
            motion.specific_force[:1000], motion.angular_rate[:1000], motion.temperature_c[:1000]
        ),
        times[:1000],
        100.0,
    )
    second = errors.apply(
        Motion(
            motion.specific_force[1000:], motion.angular_rate[1000:], motion.temperature_c[1000:]
        ),
        times[1000:],
        100.0,
    )
    # Fixed errors and drift continue; noise continues from the same stream.
    np.testing.assert_allclose(np.vstack([first[0], second[0]]), a[0], atol=1e-12)
    with pytest.raises(ValueError):
        errors.apply(motion, times, 100.0)


def test_sensor_errors_seed_is_independent_of_board_seed():
    # The board simulator and the chip often get the same seed: their random streams must differ.
    from wobble_trainer.sim.board import BoardSimulator

    sim = BoardSimulator(seed=1)
    errors = SensorErrors(ERROR_SPECS["MPU-6050"], 1)
    board_draws = sim._noise_rng.standard_normal(6)
    error_draws = errors._noise_rng.standard_normal(6)
    assert not np.allclose(board_draws, error_draws)
