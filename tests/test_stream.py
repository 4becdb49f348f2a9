"""Tests of the live angle stream: gaps keep the learnt gyro bias; the trusted bias for restarts."""

from __future__ import annotations

import numpy as np

from wobble_trainer.sampling.samples import make_samples
from wobble_trainer.sim.board import PersonParams
from wobble_trainer.sim.scenario import Script, simulate_script
from wobble_trainer.tilt.bias_store import TrustedBias
from wobble_trainer.tilt.calibration import Calibration, DeviceIdentity
from wobble_trainer.tilt.stream import TiltStream
from wobble_trainer.units import DEG

RATE = 100.0
OFFSET = (4.0, -3.0, 2.0)
DEVICE = DeviceIdentity("MPU-6050", "/dev/i2c-1", 0x68)


def _samples() -> np.ndarray:
    """Board on its rim for 12 s with a gyro 4/−3/2 °/s off the calibration, then balancing."""
    script = Script(
        30.0, off_intervals=((0.0, 12.0),), person=PersonParams(skill=0.7), gyro_offset_dps=OFFSET
    )
    rec = simulate_script(script, RATE)
    return make_samples(rec.t, rec.acc, rec.gyr, rec.truth.pitch_rad, rec.truth.roll_rad)


def _calibration(created: str = "2026-11-01T10:00:00+00:00") -> Calibration:
    return Calibration(device=DEVICE, created=created)


def test_a_gap_restarts_the_orientation_but_keeps_the_learnt_bias() -> None:
    samples = _samples()
    stream = TiltStream(None, RATE, _calibration(), wall_clock=lambda: "2026-12-04T20:00:00+00:00")
    stream.process(samples[:1100])  # 11 s on the rim: bias learnt
    learnt = np.array(stream.estimator.gyro_bias) / DEG
    np.testing.assert_allclose(learnt, OFFSET, atol=0.05)
    sigma_before = stream.estimator.gyro_bias_sigma
    rest = samples[1100:].copy()
    rest["gap_before"][0] = 3.0  # unplugged for 3 s
    angles = stream.process(rest)
    assert stream.resets == 1
    # Re-levelled within a second, and the bias was not thrown away: from then on the angles
    # are those of a stream that never lost a sample (the uncalibrated accelerometer offset is
    # the same in both), and they follow the board.
    steady = TiltStream(None, RATE, _calibration()).process(samples)[1100:]
    diff = np.hypot(angles["pitch"] - steady["pitch"], angles["roll"] - steady["roll"])
    assert np.degrees(diff[100:]).max() < 0.3  # the re-levelling's warm-up
    assert np.degrees(diff[-300:]).max() < 0.05  # the same estimate once it has settled
    err = np.hypot(angles["pitch"] - rest["true_pitch"], angles["roll"] - rest["true_roll"])
    assert np.degrees(err[100:]).max() < 1.0
    np.testing.assert_allclose(np.array(stream.estimator.gyro_bias) / DEG, OFFSET, atol=0.1)
    assert stream.estimator.gyro_bias_sigma >= sigma_before or stream.estimator.at_rest is False


def test_reset_keeps_bias_and_grows_its_uncertainty_by_the_gap() -> None:
    stream = TiltStream(None, RATE, _calibration())
    est = stream.estimator
    est.seed_gyro_bias((0.01, 0.02, -0.01), sigma_dps=0.05)
    before = est.gyro_bias_sigma
    est.reset(keep_bias=True, elapsed_s=100.0)
    assert est.gyro_bias == (0.01, 0.02, -0.01)
    assert est.gyro_bias_sigma > before
    assert est.quaternion == (1.0, 0.0, 0.0, 0.0) and est.samples == 0
    est.reset()
    assert est.gyro_bias == (0.01, 0.02, -0.01)  # the seed (the same here)


def test_trusted_bias_appears_after_a_rest_and_seeds_the_next_start() -> None:
    samples = _samples()
    stream = TiltStream(None, RATE, _calibration(), wall_clock=lambda: "2026-12-04T20:00:00+00:00")
    stream.process(samples[:200])
    assert stream.trusted_bias is None  # nothing learnt yet
    stream.process(samples[200:1100])
    trusted = stream.trusted_bias
    assert trusted is not None and trusted.device == DEVICE
    assert trusted.saved == "2026-12-04T20:00:00+00:00" and trusted.sigma_dps <= 0.1
    np.testing.assert_allclose(np.array(trusted.bias_rad_s) / DEG, OFFSET, atol=0.05)
    # Next start: the kept bias (newer than the calibration) is the seed, from the first sample.
    again = TiltStream(None, RATE, _calibration())
    again.seed_trusted_bias(trusted)
    np.testing.assert_allclose(again.estimator.gyro_bias, trusted.bias_rad_s)
    span = slice(1200, 2000)  # 8 s of balancing, no rest
    steady = TiltStream(None, RATE, _calibration()).process(samples)[span]
    angles = again.process(samples[span])
    diff = np.hypot(angles["pitch"] - steady["pitch"], angles["roll"] - steady["roll"])
    assert np.degrees(diff[-200:]).max() < 0.1
    # Started from the calibration's (stale) bias instead, it is still far off.
    stale = TiltStream(None, RATE, _calibration()).process(samples[span])
    diff = np.hypot(stale["pitch"] - steady["pitch"], stale["roll"] - steady["roll"])
    assert np.degrees(diff[-200:]).max() > 1.0
    # A calibration made after it measured the bias afresh: the calibration's bias wins.
    newer = TiltStream(None, RATE, _calibration(created="2026-12-05T09:00:00+00:00"))
    newer.seed_trusted_bias(trusted)
    assert newer.estimator.gyro_bias == (0.0, 0.0, 0.0)
    other = TrustedBias(trusted.bias_rad_s, 0.03, DeviceIdentity("MPU-6050", "1", 0x69), "2027")
    fresh = TiltStream(None, RATE, _calibration())
    fresh.seed_trusted_bias(other)  # another sensor's bias is not used
    assert fresh.estimator.gyro_bias == (0.0, 0.0, 0.0)
