"""Tests of the 6-axis inclination estimator on synthetic data with exact ground truth."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from wobble_trainer.tilt import TiltEstimator, TiltParams, estimate_orientation
from wobble_trainer.units import DEG, STANDARD_GRAVITY

G = STANDARD_GRAVITY


def up_of(q: np.ndarray) -> np.ndarray:
    """(N, 3) earth z in the sensor frame for (N, 4) sensor→earth quaternions."""
    w, x, y, z = q.T
    return np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], 1)


def angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, axis=-1)))


def axis_rotation(
    axis: str, rate_rad_s: float, rate_hz: float, duration_s: float, start_angle: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensor turning at a constant rate about one sensor axis (x or y), no translation.

    Returns acc (specific force, m/s²), gyr (rad/s) and the true up vector, all sensor frame.
    A right-handed rotation by θ about sensor x gives up = (0, sin θ, cos θ); about y,
    up = (−sin θ, 0, cos θ) (u = R(θ)ᵀ·ẑ).
    """
    n = int(round(duration_s * rate_hz))
    theta = start_angle + rate_rad_s * np.arange(1, n + 1) / rate_hz
    if axis == "x":
        up = np.stack([np.zeros(n), np.sin(theta), np.cos(theta)], 1)
        gyr = np.tile([rate_rad_s, 0.0, 0.0], (n, 1))
    else:
        up = np.stack([-np.sin(theta), np.zeros(n), np.cos(theta)], 1)
        gyr = np.tile([0.0, rate_rad_s, 0.0], (n, 1))
    return G * up, gyr, up


def static(
    up: tuple[float, float, float],
    rate_hz: float,
    duration_s: float,
    gyro_bias: tuple[float, float, float] = (0.0, 0.0, 0.0),
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    n = int(round(duration_s * rate_hz))
    u = np.asarray(up, dtype=float) / np.linalg.norm(up)
    rng = np.random.default_rng(seed)
    acc = np.tile(G * u, (n, 1)) + noise * 0.05 * rng.standard_normal((n, 3))
    gyr = np.tile(gyro_bias, (n, 1)) + noise * 0.001 * rng.standard_normal((n, 3))
    return acc, gyr


def test_gyro_integration_matches_constant_rate_rotation() -> None:
    """With the accelerometer silent (zero readings), the state is the exact integral."""
    rate_hz, w = 200.0, np.array([0.4, -0.7, 1.1])  # rad/s, fixed axis
    n = 600
    est = TiltEstimator(rate_hz)
    for _ in range(n):
        est.update(0.0, 0.0, 0.0, *w)
    angle = np.linalg.norm(w) * n / rate_hz
    axis = w / np.linalg.norm(w)
    expected = np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis])
    q = np.array(est.quaternion)
    assert min(np.abs(q - expected).max(), np.abs(q + expected).max()) < 1e-9


@pytest.mark.parametrize("rate_hz", [100.0, 1000.0])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_known_rotation_through_all_angles(axis: str, rate_hz: float) -> None:
    """A full turn about a horizontal axis: through 90° pitch and upside down, no singularity."""
    acc0, gyr0 = static((0.0, 0.0, 1.0), rate_hz, 4.0)
    acc1, gyr1, up1 = axis_rotation(axis, 60.0 * DEG, rate_hz, 7.0)  # 420°
    q = estimate_orientation(np.vstack([acc0, acc1]), np.vstack([gyr0, gyr1]), rate_hz)
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    err = angle_deg(up_of(q[len(acc0) :]), up1)
    assert err.max() < 0.1


def test_sign_conventions_match_conventions_md() -> None:
    """Positive rate about sensor x is right-handed; at rest "up" is the accelerometer direction."""
    rate_hz = 100.0
    acc0, gyr0 = static((0.0, 0.0, 1.0), rate_hz, 3.0)
    acc1, gyr1, up1 = axis_rotation("x", 20.0 * DEG, rate_hz, 1.0)  # to +20° about x
    est = TiltEstimator(rate_hz)
    est.update_batch(np.vstack([acc0, acc1]), np.vstack([gyr0, gyr1]))
    up = np.array(est.up)
    assert up[1] > 0.3  # u = (0, sin 20°, cos 20°)
    np.testing.assert_allclose(up, up1[-1], atol=2e-3)
    w, x, y, z = est.quaternion
    # Sensor→earth for a +20° turn about x from level with heading 0: (cos 10°, sin 10°, 0, 0).
    np.testing.assert_allclose(
        [w, x, y, z], [math.cos(10 * DEG), math.sin(10 * DEG), 0, 0], atol=2e-3
    )
    # A tilted sensor at rest: up is where the accelerometer points.
    acc, gyr = static((0.3, -0.5, 0.8), rate_hz, 10.0)
    q = estimate_orientation(acc, gyr, rate_hz)
    assert angle_deg(up_of(q[-1:]), acc[-1:] / G)[0] < 0.01


def test_rest_converges_to_accelerometer_tilt_from_wrong_state() -> None:
    """Level for 5 s, then the readings jump to a 30° tilt (state now 30° wrong)."""
    rate_hz = 100.0
    acc0, gyr0 = static((0.0, 0.0, 1.0), rate_hz, 5.0, noise=1.0)
    true_up = np.array([math.sin(30 * DEG), 0.0, math.cos(30 * DEG)])
    acc1, gyr1 = static(tuple(true_up), rate_hz, 30.0, noise=1.0, seed=1)
    est = TiltEstimator(rate_hz)
    q = est.update_batch(np.vstack([acc0, acc1]), np.vstack([gyr0, gyr1]))
    err = angle_deg(up_of(q[len(acc0) :]), true_up[None, :])
    assert err[0] > 25.0  # it really starts wrong
    # The 2nd-order gravity low-pass overshoots a step by ~4% (1.2° here) before settling.
    assert err[int(10 * rate_hz) :].max() < 1.5
    assert err[int(20 * rate_hz)] < 0.3
    assert err[-int(5 * rate_hz) :].max() < 0.1  # settled
    assert est.at_rest


def test_gyro_bias_converges_at_rest() -> None:
    """A 1.5 °/s bias at rest (tilted, noisy): the estimate is within 0.02 °/s after 5 s."""
    rate_hz = 200.0
    bias = (1.5 * DEG, -0.8 * DEG, 0.5 * DEG)
    acc, gyr = static((0.2, 0.1, 1.0), rate_hz, 5.0, gyro_bias=bias, noise=1.0)
    est = TiltEstimator(rate_hz)
    est.update_batch(acc, gyr)
    assert est.at_rest
    np.testing.assert_allclose(est.gyro_bias, bias, atol=0.02 * DEG)
    assert est.gyro_bias_sigma < 0.1 * DEG


def test_gyro_bias_estimated_in_motion() -> None:
    """Rocking about x and y (never at rest) with a 0.8 °/s bias: horizontal bias learnt."""
    rate_hz = 100.0
    n = int(120 * rate_hz)
    t = np.arange(1, n + 1) / rate_hz
    # Small rocking: pitch/roll sinusoids; small angles keep the body rates ≈ the angle rates.
    a1, a2, f1, f2 = 8 * DEG, 6 * DEG, 0.3, 0.47
    roll = a1 * np.sin(2 * np.pi * f1 * t)
    pitch = a2 * np.sin(2 * np.pi * f2 * t)
    droll = a1 * 2 * np.pi * f1 * np.cos(2 * np.pi * f1 * t)
    dpitch = a2 * 2 * np.pi * f2 * np.cos(2 * np.pi * f2 * t)
    # R = R_y(pitch)·R_x(roll): up = R^T z; body rate = (droll, dpitch·cos roll, −dpitch·sin roll)
    up = np.stack([-np.sin(pitch), np.cos(pitch) * np.sin(roll), np.cos(pitch) * np.cos(roll)], 1)
    gyr = np.stack([droll, dpitch * np.cos(roll), -dpitch * np.sin(roll)], 1)
    bias = np.array([0.8, -0.8, 0.0]) * DEG
    est = TiltEstimator(rate_hz)
    q = est.update_batch(G * up, gyr + bias)
    assert not est.at_rest
    np.testing.assert_allclose(est.gyro_bias[:2], bias[:2], atol=0.1 * DEG)
    assert angle_deg(up_of(q[-2000:]), up[-2000:]).max() < 0.3


def test_large_acceleration_bump_is_rejected() -> None:
    """A 0.2 s, 3 g horizontal bump (and a 2 g vertical one) barely moves the tilt."""
    rate_hz = 200.0
    acc, gyr = static((0.0, 0.0, 1.0), rate_hz, 20.0, noise=1.0)
    start, m = int(10 * rate_hz), int(0.2 * rate_hz)
    # One full sine period of acceleration: the velocity returns to zero, like a real bump.
    pulse = np.sin(2 * np.pi * np.arange(m) / m)
    acc[start : start + m, 0] += 3 * G * pulse
    acc[start + m : start + 2 * m, 2] += 2 * G * pulse
    q = estimate_orientation(acc, gyr, rate_hz)
    err = angle_deg(up_of(q[start:]), np.array([[0.0, 0.0, 1.0]]))
    assert err.max() < 1.0
    assert err[-int(2 * rate_hz) :].max() < 0.3
    # What a plain accelerometer tilt would have said at the peak: ~72°.
    assert math.degrees(math.atan2(3 * G, G)) > 70


@pytest.mark.parametrize(
    "up", [(0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (-0.6, 0.0, -0.8)]
)
def test_any_static_orientation(up: tuple[float, float, float]) -> None:
    """Upside down, on its side, 90° pitch: converges from identity, no singularity."""
    rate_hz = 100.0
    acc, gyr = static(up, rate_hz, 8.0, noise=1.0)
    q = estimate_orientation(acc, gyr, rate_hz)
    assert np.all(np.isfinite(q))
    assert angle_deg(up_of(q[-100:]), np.array([up]) / np.linalg.norm(up)).max() < 0.2


def test_batch_equals_per_sample_exactly() -> None:
    rate_hz = 150.0
    rng = np.random.default_rng(3)
    acc1, gyr1, _ = axis_rotation("y", 40 * DEG, rate_hz, 3.0)
    acc = np.vstack([static((0.1, 0.2, 1.0), rate_hz, 3.0, noise=1.0)[0], acc1])
    gyr = np.vstack([static((0.1, 0.2, 1.0), rate_hz, 3.0, noise=1.0)[1], gyr1])
    acc += rng.standard_normal(acc.shape)
    batch = estimate_orientation(acc, gyr, rate_hz)
    est = TiltEstimator(rate_hz)
    live = np.empty_like(batch)
    for i in range(len(acc)):
        if i % 2:
            est.update(*acc[i], *gyr[i])
        else:
            est.update_vec(acc[i], gyr[i])
        live[i] = est.quaternion
    assert np.array_equal(batch, live)


def test_seeded_bias_and_reset() -> None:
    """A calibration seed far outside the ±2 °/s band is kept; reset() restores the seed."""
    rate_hz = 100.0
    bias = (12.0 * DEG, -7.0 * DEG, 3.0 * DEG)
    acc0, gyr0 = static((0.0, 0.0, 1.0), rate_hz, 3.0, gyro_bias=bias)
    acc1, gyr1, up1 = axis_rotation("x", 30 * DEG, rate_hz, 3.0)
    est = TiltEstimator(rate_hz)
    est.seed_gyro_bias([b + 0.3 * DEG for b in bias])  # calibration 0.3 °/s off
    q = est.update_batch(np.vstack([acc0, acc1]), np.vstack([gyr0, gyr1 + bias]))
    assert angle_deg(up_of(q[-1:]), up1[-1:])[0] < 0.5
    assert abs(est.gyro_bias[0] - bias[0]) < 0.1 * DEG  # learnt at rest
    est.reset()
    assert est.samples == 0 and not est.at_rest
    np.testing.assert_allclose(est.gyro_bias, [b + 0.3 * DEG for b in bias])
    assert est.quaternion == (1.0, 0.0, 0.0, 0.0)


def test_adaptive_time_constant_stays_in_range() -> None:
    rate_hz = 100.0
    p = TiltParams()
    acc, gyr, _ = axis_rotation("x", 200 * DEG, rate_hz, 6.0)
    est = TiltEstimator(rate_hz, p)
    seen = []
    for a, g in zip(acc, gyr, strict=True):
        est.update_vec(a, g)
        seen.append(est.tau_acc)
    assert p.tau_min_s <= min(seen) and max(seen) <= p.tau_max_s
    fixed = TiltEstimator(rate_hz, TiltParams(adaptive_tau=False))
    assert fixed.tau_acc == p.tau_acc_s


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        TiltEstimator(0.0)
    with pytest.raises(ValueError):
        TiltParams(tau_min_s=5.0, tau_max_s=4.0)
    with pytest.raises(ValueError):
        estimate_orientation(np.zeros((3, 3)), np.zeros((4, 3)), 100.0)


def _vqf_mode(**kw: float) -> TiltParams:
    """Our additions switched off: VQF's 6D filter."""
    return TiltParams(
        adaptive_tau=False,
        coning_correction=False,
        rest_tilt_change_deg=180.0,
        bias_band_dps=2.0,
        bias_sigma_init_dps=0.5,
        bias_forgetting_time_s=100.0,
        skip_alignment_in_bias=False,
        rest_gyro_threshold_dps=2.0,
        **kw,
    )


def test_vqf_mode_matches_the_vqf_package() -> None:
    """With our additions off and the slow part every sample, the algorithm is VQF's 6D filter."""
    vqf = pytest.importorskip("vqf")
    rate_hz = 100.0
    rng = np.random.default_rng(5)
    acc0, gyr0 = static((0.1, 0.0, 1.0), rate_hz, 4.0, gyro_bias=(0.01, 0.0, -0.01), noise=1.0)
    acc1, gyr1, _ = axis_rotation("y", 50 * DEG, rate_hz, 4.0)
    acc = np.vstack([acc0, acc1 + 0.5 * rng.standard_normal(acc1.shape)])
    gyr = np.vstack([gyr0, gyr1 + 0.01])
    params = _vqf_mode(correction_rate_hz=rate_hz)
    assert TiltEstimator(rate_hz, params).block == 1
    ours = estimate_orientation(acc, gyr, rate_hz, params)
    ref = vqf.VQF(1.0 / rate_hz).updateBatch(np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
    assert angle_deg(up_of(ours), up_of(np.asarray(ref["quat6D"]))).max() < 1e-3


@pytest.mark.parametrize("rate_hz", [100.0, 1000.0])
def test_vqf_mode_in_blocks_stays_with_the_vqf_package(rate_hz: float) -> None:
    """The default two-rate form (slow part on block means, 4 and 34 samples) against VQF.

    Static at 10° with a gyro bias, then a 200° turn at 50 °/s with a noisy accelerometer (both
    filters are ~2.5° off the truth there, from the bias): after the first second they agree to
    a few hundredths of a degree, the lag of half a block in a converging correction.
    """
    vqf = pytest.importorskip("vqf")
    rng = np.random.default_rng(5)
    th0 = 10 * DEG
    acc0, gyr0 = static(
        (-math.sin(th0), 0.0, math.cos(th0)), rate_hz, 4.0, gyro_bias=(0.01, 0.0, -0.01), noise=1.0
    )
    acc1, gyr1, _ = axis_rotation("y", 50 * DEG, rate_hz, 4.0, start_angle=th0)
    acc = np.vstack([acc0, acc1 + 0.5 * rng.standard_normal(acc1.shape)])
    gyr = np.vstack([gyr0, gyr1 + 0.01])
    params = _vqf_mode()
    assert TiltEstimator(rate_hz, params).block > 1
    ours = estimate_orientation(acc, gyr, rate_hz, params)
    ref = vqf.VQF(1.0 / rate_hz).updateBatch(np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
    err = angle_deg(up_of(ours), up_of(np.asarray(ref["quat6D"])))
    assert err[int(rate_hz) :].max() < 0.06


def test_block_size_follows_the_sample_rate() -> None:
    """The slow part runs at ≤ correction_rate_hz (20 Hz by default) whatever the sample rate."""
    assert TiltParams().correction_rate_hz == 20.0
    assert [TiltEstimator(r).block for r in (20.0, 30.0, 100.0, 1000.0 / 3.5, 1000.0)] == [
        1,
        2,
        5,
        15,
        50,
    ]
    assert TiltEstimator(200.0, TiltParams(correction_rate_hz=200.0)).block == 1
    with pytest.raises(ValueError):
        TiltParams(correction_rate_hz=0.0)
    est = TiltEstimator(100.0)
    for i in range(6):  # the counter and the output are per sample, not per block
        est.update(0.0, 0.0, 0.0, 0.2, 0.0, 0.0)  # accelerometer dropped: pure integration
        assert est.samples == i + 1
        assert est.quaternion[1] == pytest.approx(math.sin(0.2 * (i + 1) / 100.0 / 2.0), abs=1e-9)
    est = TiltEstimator(100.0)
    for i in range(10):  # a first block of one sample (the alignment), then blocks of 4
        est.update(0.0, 0.0, G, 0.0, 0.0, 0.0)
        assert est.samples == i + 1
    est.reset()
    assert est.samples == 0


def test_two_rate_form_matches_every_sample_form() -> None:
    """Rocking with a noisy accelerometer: blocks of 4 samples give the same inclination as
    running the slow part every sample, to a few hundredths of a degree (the block means
    average, they do not decimate). Motion bias estimation is off here: fed by this much noise
    it wanders, and two runs that differ at all end up with different bias estimates."""
    rate_hz = 100.0
    n = int(40 * rate_hz)
    t = np.arange(1, n + 1) / rate_hz
    rng = np.random.default_rng(7)
    roll = 8 * DEG * np.sin(2 * np.pi * 0.4 * t)
    droll = 8 * DEG * 2 * np.pi * 0.4 * np.cos(2 * np.pi * 0.4 * t)
    up = np.stack([np.zeros(n), np.sin(roll), np.cos(roll)], 1)
    acc = G * up + 0.3 * rng.standard_normal((n, 3))
    gyr = np.stack([droll, np.zeros(n), np.zeros(n)], 1) + np.array([0.1, -0.1, 0.05]) * DEG
    late = slice(int(5 * rate_hz), None)
    fast = estimate_orientation(
        acc, gyr, rate_hz, TiltParams(correction_rate_hz=rate_hz, motion_bias_estimation=False)
    )
    four = TiltParams(correction_rate_hz=25.0)  # blocks of 4 samples at 100 Hz
    blocks = estimate_orientation(
        acc, gyr, rate_hz, TiltParams(correction_rate_hz=25.0, motion_bias_estimation=False)
    )
    assert angle_deg(up_of(fast[late]), up[late]).max() < 1.0  # it really tracks the rocking
    assert angle_deg(up_of(blocks[late]), up_of(fast[late])).max() < 0.04
    # Dropped accelerometer readings (every 7th): the block means use the valid ones.
    acc[::7] = 0.0
    blocks = estimate_orientation(acc, gyr, rate_hz, four)
    assert angle_deg(up_of(blocks[late]), up[late]).max() < 1.0


@pytest.mark.parametrize("skip", [True, False])
def test_initial_alignment_is_not_a_bias_measurement(skip: bool) -> None:
    """The first correction (identity → the measured 30° tilt) leaves the bias alone by default;
    VQF (``skip_alignment_in_bias=False``) takes it as a clipped 2 °/s correction rate."""
    rate_hz = 100.0
    acc, gyr = static((0.5, 0.0, math.sqrt(0.75)), rate_hz, 0.1)
    est = TiltEstimator(rate_hz, TiltParams(skip_alignment_in_bias=skip))
    assert est.block > 1
    est.update_vec(acc[0], gyr[0])  # the slow part runs at once on the first sample
    assert angle_deg(up_of(np.array([est.quaternion])), acc[:1] / G)[0] < 1e-6  # aligned
    moved = max(abs(b) for b in est.gyro_bias)
    assert (moved == 0.0) if skip else (moved > 1e-3 * DEG)


def test_slow_two_leg_sway_of_a_skilled_person_is_not_taken_for_rest() -> None:
    """Regression: with VQF's 2 °/s rest threshold, this sway drove the tilt ~2° off."""
    from wobble_trainer.sim.board import PersonParams, simulate

    rec = simulate(40.0, 200.0, person=PersonParams(skill=0.8, stance="double"), chip=None, seed=3)
    q = estimate_orientation(rec.acc, rec.gyr, 200.0)
    true_up = up_of(rec.truth.quaternion)
    err = angle_deg(up_of(q), true_up)[int(5 * 200) :]
    assert np.sqrt(np.mean(err**2)) < 0.1


def _state_test_recording() -> tuple[np.ndarray, np.ndarray]:
    """Rest with a gyro bias (the rest detector engages), then a person balancing (MPU-6050
    errors), with a few dropped accelerometer readings: every branch of the state is used."""
    from wobble_trainer.sim.board import PersonParams, simulate

    rate_hz = 100.0
    acc0, gyr0 = static((0.05, -0.1, 1.0), rate_hz, 4.0, gyro_bias=(0.01, -0.02, 0.005), noise=1.0)
    rec = simulate(8.0, rate_hz, person=PersonParams(skill=0.5), seed=11)
    acc = np.vstack([acc0, rec.acc])
    gyr = np.vstack([gyr0, rec.gyr])
    acc[[37, 420, 421, 700]] = 0.0
    return acc, gyr


def test_state_round_trip_through_json_continues_bit_for_bit() -> None:
    """Snapshots (fresh, in the first block, mid-block, at rest, in motion) restored from JSON
    give exactly (==) the same up, quaternion and bias as the original continuing."""
    import json

    from wobble_trainer.tilt.estimator import ESTIMATOR_VERSION

    acc, gyr = _state_test_recording()
    rate_hz = 100.0
    est = TiltEstimator(rate_hz)
    est.seed_gyro_bias((0.002, -0.001, 0.0), sigma_dps=0.7)
    assert est.block == 5
    rng = np.random.default_rng(2)
    points = sorted({0, 1, 3, 151, 303, *rng.integers(5, len(acc) - 50, 5).tolist()})
    assert any(p % est.block for p in points)  # mid-block
    snaps: dict[int, str] = {}
    outputs = []
    for i in range(len(acc)):
        if i in points:
            snaps[i] = json.dumps(est.get_state(), allow_nan=False)
        est.update_vec(acc[i], gyr[i])
        outputs.append((est.up, est.quaternion, est.gyro_bias, est.at_rest, est.samples))
    saw_rest = False
    for i, text in snaps.items():
        state = json.loads(text)
        assert state["version"] == ESTIMATOR_VERSION
        restored = TiltEstimator.from_state(state)
        assert restored.get_state() == state
        for j in range(i, len(acc)):
            restored.update_vec(acc[j], gyr[j])
            got = (
                restored.up,
                restored.quaternion,
                restored.gyro_bias,
                restored.at_rest,
                restored.samples,
            )
            assert got == outputs[j], (i, j)
            saw_rest |= restored.at_rest
    assert saw_rest


def test_state_is_a_deep_copy() -> None:
    """A state taken is not changed by the estimator running on, nor the estimator by edits to
    the state, nor a restored estimator by edits to the state it came from."""
    acc, gyr = _state_test_recording()
    est = TiltEstimator(100.0)
    est.update_batch(acc[:12], gyr[:12])  # inside the low-passes' warm-up: sums in use
    state = est.get_state()
    frozen = copy.deepcopy(state)
    est.update_batch(acc[12:300], gyr[12:300])
    assert state == frozen
    restored = TiltEstimator.from_state(state)
    before = restored.get_state()
    state["state"]["acc_lp"]["sums"][0] += 1.0
    state["state"]["q"][0] = 0.5
    state["params"]["tau_min_s"] = 1.0
    assert restored.get_state() == before
    again = TiltEstimator.from_state(frozen)
    after = est.get_state()
    again.update_batch(acc[12:300], gyr[12:300])
    assert again.get_state() == after


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(version="tilt-0"), "version"),
        (lambda s: s.pop("params"), "params"),
        (lambda s: s["params"].pop("tau_gain"), "tau_gain"),
        (lambda s: s["params"].update(adaptive_tau=1.0), "adaptive_tau"),
        (lambda s: s["state"].pop("bias_cov"), "bias_cov"),
        (lambda s: s["state"]["q"].append(0.0), "q"),
        (lambda s: s["state"].update(at_rest="no"), "at_rest"),
        (lambda s: s["state"].update(block_left=9), "block position"),
        (lambda s: s["state"]["rest_gyr_lp"].update(n_init=3), "n_init"),
        (lambda s: s["state"]["acc_lp"].update(x1="abc"), "acc_lp.x1"),
        (lambda s: s.update(rate_hz="fast"), "rate_hz"),
    ],
)
def test_state_that_cannot_be_restored_is_refused_clearly(edit: Any, message: str) -> None:
    est = TiltEstimator(100.0)
    acc, gyr = static((0.0, 0.0, 1.0), 100.0, 1.0, noise=1.0)
    est.update_batch(acc, gyr)
    state = est.get_state()
    edit(state)
    with pytest.raises(ValueError, match=message):
        TiltEstimator.from_state(state)


def test_non_finite_state_is_refused_when_taken() -> None:
    est = TiltEstimator(100.0)
    est.update(0.0, 0.0, G, math.nan, 0.0, 0.0)
    with pytest.raises(ValueError, match="not finite"):
        est.get_state()


def _run_script(script: Any, rate_hz: float = 100.0) -> tuple[np.ndarray, np.ndarray, Any]:
    """Estimator seeded at zero over a scripted recording: (inclination error °, bias °/s, rec)."""
    from wobble_trainer.sim.scenario import simulate_script

    rec = simulate_script(script, rate_hz)
    est = TiltEstimator(rate_hz)
    est.seed_gyro_bias((0.0, 0.0, 0.0))
    ups = np.empty((len(rec.t), 3))
    bias = np.empty((len(rec.t), 3))
    for i in range(len(rec.t)):
        est.update_vec(rec.acc[i], rec.gyr[i])
        ups[i] = est.up
        bias[i] = est.gyro_bias
    err = angle_deg(ups @ rec.level_fix.T, up_of(rec.truth.quaternion))
    return err, bias / DEG, rec


@pytest.mark.parametrize("offset", [(5.0, -5.0, 5.0), (-5.0, 5.0, -5.0)])
def test_gyro_bias_error_of_5_dps_is_learnt_within_10_s_of_rim_rest(offset: Any) -> None:
    """A stale calibration (5 °/s off on every axis), nobody on the board (it lies on its rim):
    within 10 s the bias is within 0.05 °/s and the tilt within 0.3°."""
    from wobble_trainer.sim.board import PersonParams
    from wobble_trainer.sim.scenario import Script

    script = Script(
        16.0, off_intervals=((0.0, 16.0),), person=PersonParams(), gyro_offset_dps=offset
    )
    err, bias, _ = _run_script(script)
    late = slice(int(10 * 100), None)
    assert err[: late.start].max() > 0.5  # it really starts wrong
    assert err[late].max() < 0.3
    assert np.abs(bias[late] - offset).max() < 0.05


@pytest.mark.parametrize("offset", [(5.0, -5.0, 5.0), (-5.0, 5.0, -5.0)])
def test_gyro_bias_error_of_5_dps_is_overcome_within_60_s_of_balancing(offset: Any) -> None:
    """The same stale calibration, someone balancing throughout (never at rest): after 60 s the
    tilt is within 0.5° RMS, and the earth-horizontal bias has been learnt."""
    from wobble_trainer.sim.board import PersonParams
    from wobble_trainer.sim.scenario import Script

    script = Script(80.0, person=PersonParams(skill=0.6), gyro_offset_dps=offset, seed=2)
    err, bias, rec = _run_script(script)
    assert rec.truth.person_on_board.all()
    late = slice(int(60 * 100), None)
    assert err[: int(20 * 100)].max() > 3.0  # it really starts wrong
    assert np.sqrt(np.mean(err[late] ** 2)) < 0.5
    assert np.abs(bias[late, :2] - offset[:2]).max() < 0.3
