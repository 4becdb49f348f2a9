"""Clinical balance metrics: every metric against values worked out by hand (arithmetic in the
comments), known shapes (circle, straight line), hysteresis, gaps and input errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from wobble_trainer import metrics
from wobble_trainer.metrics import (
    CHI2_95_2DOF,
    compute,
    edge_touches,
    ellipse95_area,
    limb_symmetry_index,
    limits_of_stability_reach,
    mean_velocity,
    path_length,
    quadrant_percentages,
    stability_indices,
    sway_sd,
    time_in_target,
    zone_percentages,
)
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG

NAN = float("nan")

# A small trace used by several tests: y = pitch (AP), x = roll (ML), degrees.
PITCH = [1.0, -2.0, 3.0, 0.0]
ROLL = [2.0, 0.0, -1.0, 1.0]


def acosd(v: float) -> float:
    return math.degrees(math.acos(v))


def cosd(v: float) -> float:
    return math.cos(math.radians(v))


# --- stability indices and SD ---------------------------------------------------------------------


def test_stability_indices_by_hand() -> None:
    # Σy² = 1 + 4 + 9 + 0 = 14;  Σx² = 4 + 0 + 1 + 1 = 6;  N = 4
    # APSI = sqrt(14/4) = sqrt(3.5); MLSI = sqrt(6/4) = sqrt(1.5); OSI = sqrt(20/4) = sqrt(5)
    s = stability_indices(PITCH, ROLL)
    assert s["apsi"] == pytest.approx(math.sqrt(3.5), abs=1e-12)
    assert s["mlsi"] == pytest.approx(math.sqrt(1.5), abs=1e-12)
    assert s["osi"] == pytest.approx(math.sqrt(5.0), abs=1e-12)


def test_stability_indices_score_distance_from_level_not_sway() -> None:
    # A steady 5° forward lean: no sway at all, yet APSI = 5 and SD = 0.
    s = stability_indices([5.0] * 10, [0.0] * 10)
    sd = sway_sd([5.0] * 10, [0.0] * 10)
    assert (s["apsi"], s["mlsi"], s["osi"]) == pytest.approx((5.0, 0.0, 5.0))
    assert sd == {"ap": 0.0, "ml": 0.0, "combined": 0.0}


def test_sd_about_the_mean_by_hand() -> None:
    # ȳ = (1 − 2 + 3 + 0)/4 = 0.5 → deviations 0.5, −2.5, 2.5, −0.5 → Σ² = 0.25+6.25+6.25+0.25 = 13
    # x̄ = (2 + 0 − 1 + 1)/4 = 0.5 → deviations 1.5, −0.5, −1.5, 0.5 → Σ² = 2.25+0.25+2.25+0.25 = 5
    # ap = sqrt(13/4), ml = sqrt(5/4), combined = sqrt(18/4)   (population normalisation, 1/N)
    sd = sway_sd(PITCH, ROLL)
    assert sd["ap"] == pytest.approx(math.sqrt(3.25), abs=1e-12)
    assert sd["ml"] == pytest.approx(math.sqrt(1.25), abs=1e-12)
    assert sd["combined"] == pytest.approx(math.sqrt(4.5), abs=1e-12)
    # APSI² = ap² + ȳ²: 3.5 = 3.25 + 0.25
    assert stability_indices(PITCH, ROLL)["apsi"] ** 2 == pytest.approx(sd["ap"] ** 2 + 0.25)


# --- path, velocity -------------------------------------------------------------------------------


def test_path_length_and_velocity_by_hand() -> None:
    # (x, y) = (0,0) → (4,3) → (4,3) → (0,0): steps 5 + 0 + 5 = 10°; 3 steps at 10 Hz = 0.3 s
    pitch = [0.0, 3.0, 3.0, 0.0]
    roll = [0.0, 4.0, 4.0, 0.0]
    assert path_length(pitch, roll) == pytest.approx(10.0)
    assert mean_velocity(pitch, roll, 10.0) == pytest.approx(10.0 / 0.3)


def test_constant_speed_line_gives_its_speed() -> None:
    # 0.5° per sample at 100 Hz = 50°/s; 101 samples span 100 steps = 1 s, 50° of path.
    pitch = 0.5 * np.arange(101)
    assert path_length(pitch, np.zeros(101)) == pytest.approx(50.0)
    assert mean_velocity(pitch, np.zeros(101), 100.0) == pytest.approx(50.0)


def test_single_sample_has_no_velocity_or_ellipse() -> None:
    r = compute([1.0], [2.0], 100.0, 15.0)
    assert r["path_length_deg"] == 0.0
    assert r["mean_velocity_deg_s"] is None
    assert r["ellipse95_area_deg2"] is None
    assert r["duration_s"] == pytest.approx(0.01)


# --- ellipse --------------------------------------------------------------------------------------


def test_ellipse_axis_aligned_by_hand() -> None:
    # (x, y) = (1,0), (−1,0), (0,2), (0,−2); mean 0; covariance with 1/(N−1) = 1/3:
    # Sxx = (1+1)/3 = 2/3, Syy = (4+4)/3 = 8/3, Sxy = 0 → λ1·λ2 = 16/9 → sqrt = 4/3
    area = ellipse95_area([0.0, 0.0, 2.0, -2.0], [1.0, -1.0, 0.0, 0.0])
    assert area == pytest.approx(math.pi * 5.991464547 * 4.0 / 3.0)


def test_ellipse_correlated_by_hand() -> None:
    # (x, y) = (2,1), (−2,−1), (1,−1), (−1,1); mean 0
    # Sxx = (4+4+1+1)/3 = 10/3, Syy = 4/3, Sxy = (2+2−1−1)/3 = 2/3
    # λ1·λ2 = det = 40/9 − 4/9 = 4 → sqrt = 2 → area = 2·π·5.991
    area = ellipse95_area([1.0, -1.0, -1.0, 1.0], [2.0, -2.0, 1.0, -1.0])
    assert area == pytest.approx(2.0 * math.pi * CHI2_95_2DOF)
    assert abs(CHI2_95_2DOF - 5.991) < 5e-4


def test_chi2_is_within_1_percent_of_the_prediction_factor_only_from_about_500_samples() -> None:
    # The docstring's claim (DOMAIN.md §9): 1.66% at N = 300, 1.00% at N = 500.
    def shortfall(n: int) -> float:
        exact = metrics.prediction_ellipse_factor(n)
        return (exact - CHI2_95_2DOF) / exact

    assert shortfall(300) == pytest.approx(0.0166, abs=5e-5)
    assert shortfall(480) > 0.01
    assert shortfall(500) == pytest.approx(0.00998, abs=5e-5)
    assert shortfall(2000) < 0.0026
    # The closed-form F quantile inverts F(2, m)'s survival function (1 + 2x/m)^(−m/2).
    m = 98
    f = m / 2 * (0.05 ** (-2 / m) - 1)
    assert (1 + 2 * f / m) ** (-m / 2) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        metrics.prediction_ellipse_factor(2)


def test_pure_ap_sway_has_zero_ellipse_area() -> None:
    # All points on one line: one eigenvalue is 0.
    assert ellipse95_area([-3.0, -1.0, 1.0, 3.0], [0.0] * 4) == pytest.approx(0.0, abs=1e-12)


# --- a circle -------------------------------------------------------------------------------------


def _circle(radius: float, per_turn: int, turns: int) -> tuple[np.ndarray, np.ndarray]:
    theta = 2.0 * np.pi * np.arange(per_turn * turns) / per_turn
    return radius * np.sin(theta), radius * np.cos(theta)  # pitch = y, roll = x


def test_circle() -> None:
    r, n, turns, rate = 7.0, 360, 2, 100.0
    pitch, roll = _circle(r, n, turns)
    m = n * turns
    res = compute(pitch, roll, rate, 15.0)
    # Path: m − 1 chords of 2r·sin(π/n) each; → 2πr per turn.
    chord = 2.0 * r * math.sin(math.pi / n)
    assert res["path_length_deg"] == pytest.approx((m - 1) * chord)
    assert res["path_length_deg"] == pytest.approx(turns * 2.0 * math.pi * r, rel=2e-3)
    assert res["mean_velocity_deg_s"] == pytest.approx(chord * rate)
    # Covariance over whole turns = r²/2 · I (1/m), times m/(m − 1) for the 1/(m − 1) normalisation.
    lam = r * r / 2.0 * m / (m - 1)
    assert res["ellipse95_area_deg2"] == pytest.approx(math.pi * CHI2_95_2DOF * lam)
    # Every sample tilts 7° (6.99..7, since tilt = acos(cos p · cos r)): all in the 5-10 band.
    assert res["zone_pct"] == {"0-5": 0.0, "5-10": 100.0, "10-15": 0.0, "15-20": 0.0, ">20": 0.0}
    assert res["osi"] == pytest.approx(r)
    assert res["apsi"] == pytest.approx(r / math.sqrt(2.0))
    assert res["sd"]["combined"] == pytest.approx(r)
    for key in metrics.QUADRANT_KEYS:
        assert res["quadrant_pct"][key] == pytest.approx(25.0, abs=0.2)
    assert res["edge_touches"] == 0


# --- zones ----------------------------------------------------------------------------------------


def test_zone_bands_by_hand_including_boundaries() -> None:
    # Roll 0, so tilt = |pitch|. Bands are (lo, hi]: 5 → "0-5", 15 → "10-15", 20 → "15-20".
    pitch = [0.0, 5.0, 5.5, 10.0, 12.0, 15.0, 16.0, 20.0, 21.0, -3.0]
    # 0-5: {0, 5, 3} = 3; 5-10: {5.5, 10} = 2; 10-15: {12, 15} = 2; 15-20: {16, 20} = 2; >20: 1
    z = zone_percentages(pitch, [0.0] * 10, 10.0)
    assert z["pct"] == pytest.approx(
        {"0-5": 30.0, "5-10": 20.0, "10-15": 20.0, "15-20": 20.0, ">20": 10.0}
    )
    assert z["s"] == pytest.approx(
        {"0-5": 0.3, "5-10": 0.2, "10-15": 0.2, "15-20": 0.2, ">20": 0.1}
    )


def test_tilt_magnitude_follows_board_angles_not_hypot() -> None:
    # Tilt of pitch 3°, roll 4° = angle between normal and vertical = acos(cos 3° · cos 4°)
    # = 4.99866°, not hypot(3, 4) = 5.
    res = compute([3.0], [4.0], 10.0, 15.0)
    assert res["max_tilt_deg"] == pytest.approx(acosd(cosd(3.0) * cosd(4.0)), abs=1e-10)
    assert res["max_tilt_deg"] < 5.0 - 1e-3


# --- quadrants ------------------------------------------------------------------------------------


def test_quadrants_by_hand_with_boundary_sharing() -> None:
    # (pitch, roll): front = pitch > 0 (toes down), right = roll > 0 (right edge down)
    pitch = [2.0, 2.0, -2.0, -2.0, 2.0, 0.0, 0.0, -1.0]
    roll = [1.0, -1.0, 1.0, -1.0, 0.0, -3.0, 0.0, -1.0]
    # FR, FL, BR, BL, front line (½ FL + ½ FR), left line (½ FL + ½ BL), level (¼ each), BL
    # FL = 1 + ½ + ½ + ¼ = 2.25 → 28.125 %;  FR = 1 + ½ + ¼ = 1.75 → 21.875 %
    # BL = 1 + ½ + ¼ + 1 = 2.75 → 34.375 %;  BR = 1 + ¼ = 1.25 → 15.625 %
    q = quadrant_percentages(pitch, roll)
    assert q == pytest.approx(
        {"front-left": 28.125, "front-right": 21.875, "back-left": 34.375, "back-right": 15.625}
    )


def test_pure_back_and_right_boundaries() -> None:
    # Pure back tilt (direction ±180°) splits back-left/back-right; pure right (+90°) front/back.
    q = quadrant_percentages([-4.0, 0.0], [0.0, 4.0])
    assert q == pytest.approx(
        {"front-left": 0.0, "front-right": 25.0, "back-left": 25.0, "back-right": 50.0}
    )


# --- edge touches ---------------------------------------------------------------------------------

# Edge 15°, margin 1°, hysteresis 1°: a touch starts at ≥ 14° and ends below 13°.
CHATTER = [10.0, 12.0, 14.2, 13.8, 14.1, 13.5, 14.3, 12.9, 11.0, 14.0, 10.0]


def test_edge_hysteresis_counts_chatter_once() -> None:
    # idx 2 (14.2) starts touch 1; 13.8, 14.1, 13.5, 14.3 stay ≥ 13 → still on;
    # idx 7 (12.9) ends it;
    # idx 9 (14.0, exactly the threshold) starts touch 2; idx 10 ends it.
    # On: idx 2..6 (5 samples) + idx 9 (1) = 6 samples = 0.6 s at 10 Hz, 6/11 of the time.
    e = edge_touches(CHATTER, [0.0] * 11, 10.0, 15.0)
    assert e["edge_touches"] == 2
    assert e["edge_time_s"] == pytest.approx(0.6)
    assert e["edge_time_pct"] == pytest.approx(100.0 * 6 / 11)
    assert e["time_to_first_touch_s"] == pytest.approx(0.2)


def test_without_hysteresis_chatter_counts_every_crossing() -> None:
    # Threshold 14 both ways: 14.2 on, 13.8 off, 14.1 on, 13.5 off, 14.3 on, 12.9 off, 14.0 on = 4
    e = edge_touches(CHATTER, [0.0] * 11, 10.0, 15.0, hysteresis_deg=0.0)
    assert e["edge_touches"] == 4
    assert e["edge_time_s"] == pytest.approx(0.4)


def test_edge_uses_tilt_magnitude_in_any_direction() -> None:
    # Back and left tilts touch too (|tilt|); roll −14.5 is 14.5° of tilt.
    e = edge_touches([0.0, -14.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -14.5, 0.0], 5.0, 15.0)
    assert e["edge_touches"] == 2
    assert e["time_to_first_touch_s"] == pytest.approx(0.2)


def test_no_touch_and_touch_at_start() -> None:
    assert edge_touches([1.0, 2.0], [0.0, 0.0], 10.0, 15.0)["time_to_first_touch_s"] is None
    e = edge_touches([14.5, 14.5, 0.0], [0.0, 0.0, 0.0], 10.0, 15.0)
    assert (e["edge_touches"], e["time_to_first_touch_s"]) == (1, 0.0)


def test_exact_thresholds_land_on_their_documented_side() -> None:
    # 15° comes back from the degree→radian→degree round trip as 14.999999999999998°, and 7.5° as
    # 7.499999999999999°; the 1e-9° snap keeps "≥ edge − margin" and "≤ radius" exact.
    assert edge_touches([15.0], [0.0], 1.0, 16.0)["edge_touches"] == 1  # 15 ≥ 16 − 1
    assert edge_touches([0.0, 15.0], [15.0, 0.0], 1.0, 16.0)["edge_touches"] == 1  # roll, pitch
    assert time_in_target([7.5], [0.0], 1.0, 7.5)["pct"] == 100.0


def test_per_sample_edge_angles() -> None:
    # Same tilt 12° throughout; the edge changes: 20 (enter 19), 12.5 (enter 11.5), 12.5, 20.
    # idx 1 starts a touch; idx 3: leave level is 20 − 1 − 1 = 18 > 12 → ends.
    e = edge_touches([12.0] * 4, [0.0] * 4, 1.0, [20.0, 12.5, 12.5, 20.0])
    assert e["edge_touches"] == 1
    assert e["edge_time_s"] == pytest.approx(2.0)
    assert e["time_to_first_touch_s"] == pytest.approx(1.0)


def test_edge_angles_per_direction_from_calibration() -> None:
    # Back edge 10° (enter at 9°), front edge 15° (enter at 14°): 9.5° back touches, 9.5° front not.
    edges = EdgeAngles(front=15.0 * DEG, back=10.0 * DEG, left=20.0 * DEG, right=20.0 * DEG)
    e = edge_touches([0.0, 9.5, 0.0, -9.5, 0.0], [0.0] * 5, 10.0, edges)
    assert e["edge_touches"] == 1
    assert e["time_to_first_touch_s"] == pytest.approx(0.3)


# --- time in target -------------------------------------------------------------------------------


def test_time_in_target_level_centre() -> None:
    # radius 2: tilts 0, 1, 2 (on the rim counts), 3, 1.5 → 4 of 5 inside = 80 %, 0.4 s at 10 Hz
    t = time_in_target([0.0, 1.0, 2.0, 3.0, -1.5], [0.0] * 5, 10.0, 2.0)
    assert t == pytest.approx({"seconds": 0.4, "pct": 80.0})


def test_time_in_target_off_centre_uses_angle_between_normals() -> None:
    # Target pitch 3°, roll 0. Sample (0, 4): angle between normals (−sin3, 0, cos3)·(0, sin4, cos4)
    # = acos(cos 3° · cos 4°) = 4.99866°: inside radius 5, outside radius 4.99.
    d = acosd(cosd(3.0) * cosd(4.0))
    assert 4.99 < d < 5.0
    pitch, roll = [3.0, 0.0], [0.0, 4.0]
    assert time_in_target(pitch, roll, 1.0, 5.0, (3.0, 0.0))["pct"] == pytest.approx(100.0)
    assert time_in_target(pitch, roll, 1.0, 4.99, (3.0, 0.0))["pct"] == pytest.approx(50.0)


# --- limb symmetry --------------------------------------------------------------------------------


def test_limb_symmetry_index() -> None:
    # involved / reference × 100 where higher is better (stance time): 16.6 / 20 = 83%
    assert limb_symmetry_index(16.6, 20.0) == pytest.approx(83.0)
    # the involved leg doing BETTER is not folded back under 100 (min/max would say 83%)
    assert limb_symmetry_index(20.0, 16.6) == pytest.approx(100 * 20 / 16.6)
    # lower is better (sway): reference / involved, so more sway on the injured leg is < 100
    assert limb_symmetry_index(2.0, 1.5, higher_is_better=False) == pytest.approx(75.0)
    assert limb_symmetry_index(3.0, 3.0) == pytest.approx(100.0)
    assert limb_symmetry_index(0.0, 0.0) is None
    assert limb_symmetry_index(5.0, 0.0) is None
    assert limb_symmetry_index(0.0, 4.0, higher_is_better=False) is None
    with pytest.raises(ValueError):
        limb_symmetry_index(-1.0, 2.0)
    with pytest.raises(ValueError):
        limb_symmetry_index(NAN, 2.0)


def test_symmetry_sides_from_the_profile() -> None:
    injured = metrics.symmetry_sides("left", "left")
    assert (injured.involved, injured.reference, injured.basis) == ("left", "right", "injured")
    assert metrics.symmetry_sides("right", None).title == "injured right / left"
    dominance = metrics.symmetry_sides("none", "right")
    assert (dominance.involved, dominance.reference) == ("left", "right")
    assert dominance.title == "non-dominant left / dominant right"
    assert metrics.symmetry_sides("both", "left").involved == "right"
    assert metrics.symmetry_sides("none", None) is None
    assert metrics.symmetry_sides(None, None) is None


def test_los_straight_reach() -> None:
    # Target pitch 10 (forward), radius 1. Sample 5 (9.5) is 0.5° away: reached at 0.5 s.
    # Steps 0→5 all along the line: toward 9.5, extraneous 0 → 100 %.
    r = limits_of_stability_reach(
        [0.0, 2.0, 4.0, 6.0, 8.0, 9.5, 10.0], [0.0] * 7, 10.0, (10.0, 0.0), 1.0
    )
    assert r["reached"] is True
    assert r["time_to_reach_s"] == pytest.approx(0.5)
    assert r["toward_deg"] == pytest.approx(9.5)
    assert r["direction_control_pct"] == pytest.approx(100.0)


def test_los_wandering_reach_by_hand() -> None:
    # (x, y): (0,0) → (2,0) sideways 2 → (2,4) toward 4 → (0,4) sideways 2 → (0,10) toward 6
    # toward = 10, extraneous = 4 → (10 − 4)/10 × 100 = 60 %; target hit at idx 4 = 0.4 s.
    r = limits_of_stability_reach(
        [0.0, 0.0, 4.0, 4.0, 10.0], [0.0, 2.0, 2.0, 0.0, 0.0], 10.0, (10.0, 0.0), 0.5
    )
    assert r["toward_deg"] == pytest.approx(10.0)
    assert r["extraneous_deg"] == pytest.approx(4.0)
    assert r["direction_control_pct"] == pytest.approx(60.0)
    assert r["time_to_reach_s"] == pytest.approx(0.4)


def test_los_backing_off_and_not_reached() -> None:
    # 0 → 5 (toward 5) → 3 (away 2) → 8 (toward 5); target 10 never within 1°:
    # toward 10, extraneous 2 → 80 %; time None.
    r = limits_of_stability_reach([0.0, 5.0, 3.0, 8.0], [0.0] * 4, 10.0, (10.0, 0.0), 1.0)
    assert r["direction_control_pct"] == pytest.approx(80.0)
    assert r["reached"] is False
    assert r["time_to_reach_s"] is None


def test_los_excursion_is_the_farthest_along_the_line_over_the_whole_trial() -> None:
    # pitch 0 → 12 (beyond the 10° target) → back to 6; sideways roll does not count
    r = limits_of_stability_reach(
        [0.0, 6.0, 12.0, 6.0], [0.0, 3.0, 0.0, 0.0], 10.0, (10.0, 0.0), 1.0
    )
    assert r["max_excursion_deg"] == pytest.approx(12.0)
    assert r["excursion_pct"] == pytest.approx(120.0)
    short = limits_of_stability_reach([0.0, 2.0, 4.0, 1.0], [0.0] * 4, 10.0, (10.0, 0.0), 1.0)
    assert short["excursion_pct"] == pytest.approx(40.0) and not short["reached"]
    away = limits_of_stability_reach([0.0, -3.0], [0.0, 0.0], 10.0, (10.0, 0.0), 1.0)
    assert away["excursion_pct"] == 0.0  # never toward the target


def test_los_diagonal_target() -> None:
    # Target front-right (pitch 6, roll 6) from level; path goes right 6 then forward 6.
    # e = (1, 1)/√2: step (6, 0): along 6/√2, across 6/√2; step (0, 6): the same.
    # toward = 12/√2, extraneous = 12/√2 → 0 %.
    r = limits_of_stability_reach([0.0, 0.0, 6.0], [0.0, 6.0, 6.0], 1.0, (6.0, 6.0), 0.5)
    assert r["direction_control_pct"] == pytest.approx(0.0, abs=1e-9)
    assert r["time_to_reach_s"] == pytest.approx(2.0)


def test_los_target_at_start_rejected() -> None:
    with pytest.raises(ValueError, match="start"):
        limits_of_stability_reach([0.0, 1.0], [0.0, 0.0], 10.0, (0.0, 0.0), 1.0)


# --- gaps -----------------------------------------------------------------------------------------


def test_nan_samples_are_skipped() -> None:
    # Valid samples: idx 0 (1, 0) and idx 3 (4, 0); idx 1 and 2 each have a NaN axis.
    pitch = [1.0, NAN, 3.0, 4.0]
    roll = [0.0, 0.0, NAN, 0.0]
    r = compute(pitch, roll, 10.0, 15.0)
    assert (r["n_samples"], r["n_valid"], r["n_gaps"]) == (4, 2, 2)
    assert r["duration_s"] == pytest.approx(0.4)
    assert r["valid_duration_s"] == pytest.approx(0.2)
    assert r["apsi"] == pytest.approx(math.sqrt((1.0 + 16.0) / 2.0))  # sqrt(17/2)
    # No two consecutive valid samples: no step, no velocity.
    assert r["path_length_deg"] == 0.0
    assert r["mean_velocity_deg_s"] is None


def test_path_is_not_bridged_across_a_gap() -> None:
    # Steps 0→1 (1°) and 3→4 (1°) count; 1→2, 2→3 touch the gap. 2° over 2 steps = 0.2 s → 10°/s.
    pitch = [0.0, 1.0, NAN, 2.0, 3.0]
    assert path_length(pitch, [0.0] * 5) == pytest.approx(2.0)
    assert mean_velocity(pitch, [0.0] * 5, 10.0) == pytest.approx(10.0)


def test_gaps_take_time_but_do_not_break_a_touch() -> None:
    # First touch at idx 3 = 0.3 s although idx 1, 2 are gaps.
    e = edge_touches([0.0, NAN, NAN, 15.0], [0.0] * 4, 10.0, 15.0)
    assert e["time_to_first_touch_s"] == pytest.approx(0.3)
    # On the edge either side of a gap is one touch, and the gap is not counted as edge time.
    e = edge_touches([14.5, NAN, 14.5], [0.0] * 3, 10.0, 15.0)
    assert e["edge_touches"] == 1
    assert e["edge_time_s"] == pytest.approx(0.2)
    assert e["edge_time_pct"] == pytest.approx(100.0)


def test_percentages_are_of_valid_samples() -> None:
    z = zone_percentages([1.0, NAN, 7.0, NAN], [0.0] * 4, 10.0)
    assert z["pct"]["0-5"] == pytest.approx(50.0)
    assert z["pct"]["5-10"] == pytest.approx(50.0)


# --- input errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pitch", "roll", "match"),
    [
        ([], [], "no samples"),
        ([1.0, 2.0], [1.0], "2 samples but roll_deg has 1"),
        ([NAN, NAN], [0.0, 0.0], "all 2 samples are NaN"),
        ([1.0, math.inf], [0.0, 0.0], "inf"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "1-D"),
    ],
)
def test_bad_traces_raise(pitch: list, roll: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute(pitch, roll, 100.0, 15.0)


@pytest.mark.parametrize("rate", [0.0, -10.0, NAN, math.inf])
def test_bad_rate_raises(rate: float) -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        compute([0.0], [0.0], rate, 15.0)


@pytest.mark.parametrize("edge", [0.0, -5.0, NAN, 95.0, [15.0, 15.0]])
def test_bad_edge_raises(edge: object) -> None:
    with pytest.raises(ValueError):
        compute([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], 100.0, edge)  # type: ignore[arg-type]


def test_bad_target_radius_raises() -> None:
    with pytest.raises(ValueError, match="radius"):
        time_in_target([0.0], [0.0], 10.0, 0.0)


# --- compute --------------------------------------------------------------------------------------


def test_compute_is_plain_json_and_matches_the_parts() -> None:
    rng = np.random.default_rng(3)
    pitch = np.cumsum(rng.normal(0.0, 0.3, 500))
    roll = np.cumsum(rng.normal(0.0, 0.3, 500))
    pitch[100] = NAN
    res = compute(pitch, roll, 100.0, 12.0, target_radius_deg=2.0)
    text = json.dumps(res, allow_nan=False)
    assert json.loads(text) == res
    assert isinstance(res["edge_touches"], int)
    for key in (
        "osi",
        "apsi",
        "mlsi",
        "path_length_deg",
        "mean_velocity_deg_s",
        "ellipse95_area_deg2",
        "edge_time_s",
        "duration_s",
    ):
        assert type(res[key]) is float, key
    assert set(res["sd"]) == {"ap", "ml", "combined"}
    assert set(res["zone_pct"]) >= {"0-5", "5-10", "10-15", "15-20"}
    assert sum(res["zone_pct"].values()) == pytest.approx(100.0)
    assert sum(res["quadrant_pct"].values()) == pytest.approx(100.0)
    assert res["osi"] == pytest.approx(stability_indices(pitch, roll)["osi"])
    assert res["sd"] == pytest.approx(sway_sd(pitch, roll))
    assert res["path_length_deg"] == pytest.approx(path_length(pitch, roll))
    assert res["ellipse95_area_deg2"] == pytest.approx(ellipse95_area(pitch, roll))
    e = edge_touches(pitch, roll, 100.0, 12.0)
    assert res["edge_touches"] == e["edge_touches"]
    assert res["time_to_first_touch_s"] == e["time_to_first_touch_s"]
    t = time_in_target(pitch, roll, 100.0, 2.0)
    assert res["time_in_target"]["pct"] == pytest.approx(t["pct"])
    assert res["osi"] ** 2 == pytest.approx(res["apsi"] ** 2 + res["mlsi"] ** 2)
    assert compute(pitch, roll, 100.0, 12.0)["time_in_target"] is None
