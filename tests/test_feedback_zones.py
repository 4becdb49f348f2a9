"""Zone classification (with hysteresis) and direction LED levels."""

import math

import pytest

from wobble_trainer.feedback.zones import (
    DARK,
    DirectionLevels,
    DirectionScale,
    Zone,
    ZoneThresholds,
    classify_zone,
    direction_levels,
    tilt_reading,
    zone_for_angles,
)
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG

TH = ZoneThresholds(
    target_radius=2 * DEG, near_radius=5 * DEG, edge_margin=1 * DEG, hysteresis=0.5 * DEG
)
EDGE = 15 * DEG


def run(distances_deg, tilts_deg=None, start=Zone.OFF):
    """Classify a sequence, feeding each zone back as ``previous``."""
    tilts_deg = tilts_deg or distances_deg
    zone, out = start, []
    for d, t in zip(distances_deg, tilts_deg, strict=True):
        zone = classify_zone(d * DEG, t * DEG, EDGE, TH, zone)
        out.append(zone)
    return out


def test_plain_thresholds_from_off():
    assert classify_zone(0.0, 0.0, EDGE, TH) is Zone.TARGET
    assert classify_zone(2 * DEG, 2 * DEG, EDGE, TH) is Zone.TARGET  # on the radius: inside
    assert classify_zone(2.01 * DEG, 2.01 * DEG, EDGE, TH) is Zone.NEAR
    assert classify_zone(5.01 * DEG, 5.01 * DEG, EDGE, TH) is Zone.OUTSIDE
    assert classify_zone(13.99 * DEG, 13.99 * DEG, EDGE, TH) is Zone.OUTSIDE
    assert classify_zone(14.001 * DEG, 14.001 * DEG, EDGE, TH) is Zone.EDGE  # ≥ edge − margin


def test_noise_at_a_boundary_does_not_flicker():
    # ±0.3° noise around the 2° boundary: one change out, none back until 1.5°.
    seq = [1.0, 2.1, 1.8, 2.2, 1.7, 2.3, 1.6, 1.4, 1.8, 2.0, 2.05]
    assert run(seq) == [
        Zone.TARGET, Zone.NEAR, Zone.NEAR, Zone.NEAR, Zone.NEAR, Zone.NEAR, Zone.NEAR,
        Zone.TARGET, Zone.TARGET, Zone.TARGET, Zone.NEAR,
    ]  # fmt: skip


def test_near_outside_boundary_hysteresis_and_jumps():
    seq = [6.0, 4.8, 4.4, 0.5, 6.0, 1.0]
    assert run(seq) == [
        Zone.OUTSIDE, Zone.OUTSIDE, Zone.NEAR, Zone.TARGET, Zone.OUTSIDE, Zone.TARGET,
    ]  # fmt: skip


def test_edge_hysteresis_and_exit():
    seq = [14.2, 13.6, 13.4, 13.8, 14.01]
    assert run(seq) == [Zone.EDGE, Zone.EDGE, Zone.OUTSIDE, Zone.OUTSIDE, Zone.EDGE]


def test_edge_uses_tilt_not_target_distance():
    # Leaning on purpose toward a target 13° forward: close to target, but the rim decides.
    assert classify_zone(0.5 * DEG, 14.5 * DEG, EDGE, TH) is Zone.EDGE
    assert classify_zone(0.5 * DEG, 13.0 * DEG, EDGE, TH) is Zone.TARGET


def test_thresholds_validated():
    with pytest.raises(ValueError):
        ZoneThresholds(target_radius=0.0)
    with pytest.raises(ValueError):
        ZoneThresholds(target_radius=3 * DEG, near_radius=2 * DEG)
    with pytest.raises(ValueError):
        ZoneThresholds(edge_margin=-DEG)
    with pytest.raises(ValueError):  # as wide as the near band
        ZoneThresholds(target_radius=2 * DEG, near_radius=3 * DEG, hysteresis=1.2 * DEG)


def test_tilt_reading_level_target_and_lean_target():
    r = tilt_reading(3 * DEG, 4 * DEG)
    assert r.target_distance == pytest.approx(r.tilt)
    assert r.tilt == pytest.approx(math.acos(math.cos(3 * DEG) * math.cos(4 * DEG)))
    on_target = tilt_reading(5 * DEG, 0.0, target_pitch=5 * DEG)
    assert on_target.target_distance == pytest.approx(0.0, abs=1e-12)
    assert on_target.tilt == pytest.approx(5 * DEG)
    off = tilt_reading(5 * DEG, 3 * DEG, target_pitch=5 * DEG)
    assert off.target_distance == pytest.approx(3 * DEG, rel=0.01)


def test_direction_convention():
    assert tilt_reading(5 * DEG, 0.0).direction == pytest.approx(0.0)  # toes down: front
    assert tilt_reading(0.0, 5 * DEG).direction == pytest.approx(math.pi / 2)  # right down
    assert tilt_reading(0.0, -5 * DEG).direction == pytest.approx(-math.pi / 2)


def test_zone_for_angles_uses_edge_angle_of_the_low_side():
    edges = EdgeAngles(front=12 * DEG, back=15 * DEG, left=15 * DEG, right=18 * DEG)
    # 13° toward the toes: past the front rim (12 − 1); 13° right: far from the right rim.
    assert zone_for_angles(13 * DEG, 0.0, TH, edges) is Zone.EDGE
    assert zone_for_angles(0.0, 13 * DEG, TH, edges) is Zone.OUTSIDE
    assert zone_for_angles(0.0, 17.5 * DEG, TH, edges) is Zone.EDGE
    assert zone_for_angles(4 * DEG, 0.0, TH, edges, target_pitch=3 * DEG) is Zone.TARGET


SCALE = DirectionScale(dead_band=1 * DEG, full_scale=10 * DEG, hysteresis=0.3 * DEG)


def levels(pitch_deg, roll_deg, **previous):
    return direction_levels(
        pitch_deg * DEG, roll_deg * DEG, SCALE, DirectionLevels(**previous)
    ).as_dict()


def only(side, value):
    out = {"front": 0.0, "back": 0.0, "left": 0.0, "right": 0.0}
    out[side] = value
    return pytest.approx(out)


def test_direction_levels_point_to_low_side():
    assert levels(5.5, 0.0) == only("front", 0.5)  # toes down
    assert levels(-5.5, 0.0) == only("back", 0.5)
    assert levels(0.0, 5.5) == only("right", 0.5)  # right edge down
    assert levels(0.0, -5.5) == only("left", 0.5)
    both = direction_levels(3 * DEG, -20 * DEG, SCALE)
    assert both.front == pytest.approx(2 / 9) and both.left == 1.0
    assert both.back == 0.0 and both.right == 0.0


def test_direction_dead_band_and_hysteresis():
    assert direction_levels(0.9 * DEG, -0.9 * DEG, SCALE) == DARK
    lit = direction_levels(1.2 * DEG, 0.0, SCALE)
    assert lit.front > 0.0
    # Back to 0.9°: inside the dead band but not by the hysteresis: stays lit (dimly).
    still = direction_levels(0.9 * DEG, 0.0, SCALE, previous=lit)
    assert 0.0 < still.front < lit.front
    assert direction_levels(0.65 * DEG, 0.0, SCALE, previous=still).front == 0.0


def test_direction_scale_validated():
    with pytest.raises(ValueError):
        DirectionScale(dead_band=1 * DEG, hysteresis=2 * DEG)
    with pytest.raises(ValueError):
        DirectionScale(dead_band=5 * DEG, full_scale=4 * DEG)
