"""Board angle conventions (CONVENTIONS.md): signs, heading invariance, scalar vs vectorised."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wobble_trainer.sim.motion import rotation_matrix_from_quaternion
from wobble_trainer.tilt.board_angles import (
    IDENTITY,
    BoardAngles,
    BoardFrame,
    angles_from_up,
    angles_from_up_array,
    board_angles,
    board_angles_array,
    board_to_earth_quaternion,
    quat_angle_between,
    quat_conjugate,
    quat_from_axis_angle,
    quat_from_matrix,
    quat_multiply,
    quat_normalise,
    quat_to_matrix,
    up_from_pitch_roll,
    up_in_sensor,
    up_in_sensor_array,
    wrap_angle,
)
from wobble_trainer.units import DEG


def random_quaternion(rng: np.random.Generator) -> tuple[float, float, float, float]:
    return quat_normalise(tuple(rng.normal(size=4)))


def test_quaternion_convention_matches_simulator() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = random_quaternion(rng)
        np.testing.assert_allclose(
            quat_to_matrix(q), rotation_matrix_from_quaternion(np.array(q)), atol=1e-12
        )


def test_quat_from_matrix_round_trip_including_half_turns() -> None:
    rng = np.random.default_rng(2)
    qs = [random_quaternion(rng) for _ in range(50)]
    # Half turns exercise the branches of Shepperd's method where w ≈ 0.
    qs += [(0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)]
    qs += [quat_from_axis_angle((1.0, 1.0, 0.0), math.pi)]
    for q in qs:
        back = quat_from_matrix(quat_to_matrix(q))
        assert quat_angle_between(q, back) < 1e-6
        assert back[0] >= 0.0


def test_quat_multiply_composes_rotations() -> None:
    a = quat_from_axis_angle((0, 0, 1), 0.3)
    b = quat_from_axis_angle((1, 0, 0), -0.7)
    np.testing.assert_allclose(
        quat_to_matrix(quat_multiply(a, b)), quat_to_matrix(a) @ quat_to_matrix(b), atol=1e-12
    )
    np.testing.assert_allclose(quat_multiply(a, quat_conjugate(a)), IDENTITY, atol=1e-12)


@pytest.mark.parametrize(
    ("pitch_deg", "roll_deg", "tilt_deg", "direction_deg"),
    [
        (10.0, 0.0, 10.0, 0.0),  # toes down: low side front
        (-10.0, 0.0, 10.0, 180.0),  # heels down: low side back
        (0.0, 10.0, 10.0, 90.0),  # right edge down
        (0.0, -10.0, 10.0, -90.0),  # left edge down
    ],
)
def test_sign_conventions_and_cardinal_directions(
    pitch_deg: float, roll_deg: float, tilt_deg: float, direction_deg: float
) -> None:
    q = board_to_earth_quaternion(pitch_deg * DEG, roll_deg * DEG, heading=0.4)
    a = board_angles(q)
    assert a.pitch_deg == pytest.approx(pitch_deg, abs=1e-9)
    assert a.roll_deg == pytest.approx(roll_deg, abs=1e-9)
    assert a.tilt_deg == pytest.approx(tilt_deg, abs=1e-9)
    assert abs(wrap_angle(a.direction - direction_deg * DEG)) < 1e-9


def test_physical_meaning_of_positive_pitch_and_roll() -> None:
    # Where do the toe end and the right side of the board point in the earth frame?
    m = quat_to_matrix(board_to_earth_quaternion(10 * DEG, 0.0))
    toes = m @ np.array([1.0, 0.0, 0.0])
    assert toes[2] < 0  # pitch > 0: toes down
    m = quat_to_matrix(board_to_earth_quaternion(0.0, 10 * DEG))
    right = m @ np.array([0.0, -1.0, 0.0])
    assert right[2] < 0  # roll > 0: right edge down


def test_level_board_reports_zero_direction_and_tilt() -> None:
    a = board_angles(IDENTITY)
    assert (a.pitch, a.roll, a.tilt, a.direction) == (0.0, 0.0, 0.0, 0.0)


def test_heading_does_not_matter() -> None:
    rng = np.random.default_rng(3)
    frame = BoardFrame(random_quaternion(rng))
    for _ in range(30):
        pitch, roll = rng.uniform(-0.5, 0.5, size=2)
        q_be = board_to_earth_quaternion(pitch, roll, 0.0)
        ref = frame.angles(quat_multiply(q_be, frame.sensor_to_board))
        for heading in rng.uniform(-math.pi, math.pi, size=4):
            q_be = board_to_earth_quaternion(pitch, roll, heading)
            a = frame.angles(quat_multiply(q_be, frame.sensor_to_board))
            assert a.pitch == pytest.approx(ref.pitch, abs=1e-9)
            assert a.roll == pytest.approx(ref.roll, abs=1e-9)
            assert a.tilt == pytest.approx(ref.tilt, abs=1e-9)
            assert a.direction == pytest.approx(ref.direction, abs=1e-9)
            assert a.pitch == pytest.approx(pitch, abs=1e-9)
            assert a.roll == pytest.approx(roll, abs=1e-9)


def test_mounting_is_removed() -> None:
    """Sensor→earth = board→earth ⊗ sensor→board: the board's own angles come back."""
    rng = np.random.default_rng(4)
    for _ in range(20):
        mounting = random_quaternion(rng)
        frame = BoardFrame(mounting)
        pitch, roll, heading = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(-3, 3)
        q_be = board_to_earth_quaternion(pitch, roll, heading)
        q_se = quat_multiply(q_be, mounting)
        a = frame.angles(q_se)
        assert a.pitch == pytest.approx(pitch, abs=1e-9)
        assert a.roll == pytest.approx(roll, abs=1e-9)
        assert quat_angle_between(frame.board_to_earth(q_se), q_be) < 1e-6
        # The same mounting through the convenience wrapper.
        assert board_angles(q_se, mounting).roll == pytest.approx(roll, abs=1e-9)


def test_tilt_matches_definitions() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        pitch, roll = rng.uniform(-1.2, 1.2, size=2)
        u = up_from_pitch_roll(pitch, roll)
        a = angles_from_up(u)
        assert a.tilt == pytest.approx(math.acos(u[2]), abs=1e-9)
        assert a.direction == pytest.approx(math.atan2(u[1], -u[0]), abs=1e-12)
        # Scale-free: an accelerometer reading (length ≈ g) gives the same angles.
        b = angles_from_up(tuple(9.81 * v for v in u))
        assert b.pitch == pytest.approx(a.pitch) and b.roll == pytest.approx(a.roll)


def test_up_in_sensor_is_earth_up_seen_from_the_sensor() -> None:
    rng = np.random.default_rng(6)
    qs = np.array([random_quaternion(rng) for _ in range(10)])
    ups = up_in_sensor_array(qs)
    for q, u in zip(qs, ups, strict=True):
        expected = quat_to_matrix(q).T @ np.array([0.0, 0.0, 1.0])
        np.testing.assert_allclose(u, expected, atol=1e-12)
        np.testing.assert_allclose(up_in_sensor(tuple(q)), expected, atol=1e-12)
    assert up_in_sensor_array(qs[0]).shape == (3,)


def test_vectorised_equals_scalar() -> None:
    rng = np.random.default_rng(7)
    frame = BoardFrame(random_quaternion(rng))
    qs = np.array([random_quaternion(rng) for _ in range(100)])
    arr = frame.angles_array(qs)
    assert len(arr) == 100
    for i in range(100):
        s = frame.angles(tuple(qs[i]))
        assert arr[i].pitch == pytest.approx(s.pitch, abs=1e-12)
        assert arr[i].roll == pytest.approx(s.roll, abs=1e-12)
        assert arr[i].tilt == pytest.approx(s.tilt, abs=1e-12)
        assert arr[i].direction == pytest.approx(s.direction, abs=1e-12)
    np.testing.assert_allclose(
        board_angles_array(qs, frame.sensor_to_board).pitch, arr.pitch, atol=1e-12
    )
    ups = frame.to_board_array(up_in_sensor_array(qs))
    np.testing.assert_allclose(angles_from_up_array(ups).roll, arr.roll, atol=1e-12)
    np.testing.assert_allclose(
        frame.angles_from_sensor_up_array(up_in_sensor_array(qs)).tilt, arr.tilt, atol=1e-12
    )
    with pytest.raises(ValueError):
        frame.angles_array(np.zeros((3, 3)))


def test_degree_accessors() -> None:
    a = BoardAngles(pitch=0.1, roll=-0.2, tilt=0.3, direction=1.0)
    assert a.pitch_deg == pytest.approx(0.1 / DEG)
    assert a.roll_deg == pytest.approx(-0.2 / DEG)
    assert a.tilt_deg == pytest.approx(0.3 / DEG)
    assert a.direction_deg == pytest.approx(1.0 / DEG)
    arr = board_angles_array(np.array([board_to_earth_quaternion(5 * DEG, -3 * DEG)]))
    assert arr.pitch_deg[0] == pytest.approx(5.0)
    assert arr.roll_deg[0] == pytest.approx(-3.0)


def test_non_unit_mounting_is_normalised_and_zero_rejected() -> None:
    frame = BoardFrame((2.0, 0.0, 0.0, 0.0))
    assert frame.sensor_to_board == (1.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        BoardFrame((0.0, 0.0, 0.0, 0.0))
