import math
import random
from itertools import pairwise

import pytest
from conftest import assert_renders, autopilot_script, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.activities.river import (
    BOAT_HALF_WIDTH,
    FIELD_HALF,
    GATE_POINTS,
    GATE_SPACING,
    LATERAL_SPEED,
    MAX_LEVEL,
    PITCH_SPEED_LEVEL,
    SPEED_UP,
    TOUCH_PENALTY,
    TOUCH_SLOW_FACTOR,
    Course,
    RiverRun,
    RiverSettings,
    level_params,
)
from wobble_trainer.app.scene import ACTIVITIES, AppContext, Tick
from wobble_trainer.app.scenes.menus import ResultsScene, StartScene
from wobble_trainer.feedback.base import NullFeedback
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles
from wobble_trainer.units import DEG


def start_river(app, **settings):
    app.push(StartScene(app))
    scene = RiverRun(app, RiverSettings(**settings))
    app.push(scene)
    return scene


def hard_right(t):
    return (0.0, 9.0)


def test_registered_as_river():
    assert ACTIVITIES["river"].factory is not None
    assert not ACTIVITIES["river"].seated


def test_perfect_steering_passes_every_gate_and_the_level_rises(app_context):
    scene = start_river(app_context, duration_s=90, start_level=1)
    drive(app_context, COUNTDOWN_S + 90.5, autopilot_script(app_context))
    assert isinstance(app_context.scene, ResultsScene)
    assert scene.touches == 0
    assert len(scene.gates) >= 20 and all(scene.gates)
    assert scene.level >= 3 and scene.adaptive.changes[0] == (8, 2)
    # Every gate scored its level's points: more than the level-1 rate.
    assert scene.score > GATE_POINTS * len(scene.gates)
    cues = app_context.feedback.cues
    assert cues[:4] == [Cue.COUNTDOWN] * 3 + [Cue.GO] and cues[-1] == Cue.END
    assert Cue.EDGE not in cues
    heading, lines, key, score = scene.results()
    assert key == "river/90s" and score == scene.score
    assert app_context.records.get("river/90s") == pytest.approx(scene.score)
    assert any("Clean gates" in line for line in lines)


def test_a_noisy_competent_player_still_does_well_at_a_high_level(app_context):
    scene = start_river(app_context, duration_s=60, start_level=8)
    drive(app_context, COUNTDOWN_S + 60, autopilot_script(app_context, noise_deg=1.0, seed=3))
    assert sum(scene.gates) / len(scene.gates) >= 0.85


def test_hitting_the_bank_costs_points_slows_the_boat_and_lowers_the_level(app_context):
    scene = start_river(app_context, duration_s=60, start_level=5)
    drive(app_context, COUNTDOWN_S + 0.01, hard_right)
    base_speed = level_params(5).speed
    # Steer hard right until the first touch.
    while scene.touches == 0:
        drive(app_context, 0.01, hard_right)
    assert Cue.EDGE in app_context.feedback.cues
    assert scene.score == -TOUCH_PENALTY
    drive(app_context, 0.02, hard_right)
    assert scene.speed < 0.5 * base_speed  # the slow-down (TOUCH_SLOW_FACTOR = 0.4)
    # Hugging the bank along its length is ONE touch, and the boat never leaves the river.
    for _ in range(100):
        drive(app_context, 0.01, hard_right)
        _, right = scene.course.banks(scene.s)
        assert scene.x <= right - BOAT_HALF_WIDTH + 1e-9
    assert scene.touches == 1
    drive(app_context, 40, hard_right)
    assert scene.level < 5
    assert not any(scene.gates[-5:])
    assert scene.speed == pytest.approx(TOUCH_SLOW_FACTOR * level_params(scene.level).speed, 0.2)


def test_each_new_touch_counts(app_context):
    scene = start_river(app_context, duration_s=60, start_level=3)

    def zigzag(t):
        # 1.5 s right, 1.5 s left: bank to bank across the river.
        return (0.0, 9.0 if int(t / 1.5) % 2 == 0 else -9.0)

    drive(app_context, COUNTDOWN_S + 20, zigzag)
    assert scene.touches >= 8
    assert app_context.feedback.cues.count(Cue.EDGE) == scene.touches


def test_the_final_score_never_goes_below_zero(app_context):
    scene = start_river(app_context, duration_s=60, start_level=1)
    drive(app_context, COUNTDOWN_S + 61, lambda t: (0.0, 9.0 if int(t / 1.5) % 2 else -9.0))
    assert scene.score < 0
    assert scene.results()[3] == 0.0


def test_roll_steers_and_a_level_board_goes_straight(app_context):
    scene = start_river(app_context, duration_s=60, start_level=1)
    drive(app_context, COUNTDOWN_S + 0.5, lambda t: (0.0, 0.3))  # inside the dead band
    assert scene.x == 0.0
    drive(app_context, 0.5, lambda t: (0.0, 4.0))
    assert scene.x > 0.0
    assert scene.steer(-7.5 * DEG) == pytest.approx(-LATERAL_SPEED)  # full steer at half the edge
    assert scene.steer(3.0 * DEG) == pytest.approx(-scene.steer(-3.0 * DEG))


def test_steering_scales_to_the_boards_edge_angles():
    edges = EdgeAngles(front=0.3, back=0.3, left=0.2, right=0.3)
    app = AppContext(
        calibration=Calibration(edge_angles=edges), feedback=NullFeedback(), rng=random.Random(1)
    )
    scene = RiverRun(app)
    assert scene.steer(-0.1) == pytest.approx(-LATERAL_SPEED)  # left: full at half of 0.2 rad
    assert scene.steer(0.1) < LATERAL_SPEED  # right: 0.1 rad is less than half of 0.3 rad
    assert scene.steer(0.15) == pytest.approx(LATERAL_SPEED)


def test_pitch_sets_the_speed_only_from_its_level_on(app_context):
    low = start_river(app_context, start_level=PITCH_SPEED_LEVEL - 1)
    assert low.speed_for(5 * DEG) == low.speed_for(-5 * DEG) == level_params(low.level).speed
    high = RiverRun(app_context, RiverSettings(start_level=PITCH_SPEED_LEVEL))
    base = level_params(PITCH_SPEED_LEVEL).speed
    assert high.speed_for(0.0) == pytest.approx(base)
    assert high.speed_for(10 * DEG) == pytest.approx(base * (1 + SPEED_UP))
    assert high.speed_for(-10 * DEG) < base < high.speed_for(3 * DEG)


def test_levels_narrow_speed_up_and_sharpen():
    params = [level_params(n) for n in range(1, MAX_LEVEL + 1)]
    for easy, hard in pairwise(params):
        assert hard.width < easy.width and hard.speed > easy.speed and hard.bend > easy.bend
    assert params[-1].width > 4 * BOAT_HALF_WIDTH
    with pytest.raises(ValueError):
        level_params(0)
    with pytest.raises(ValueError):
        level_params(MAX_LEVEL + 1)


@pytest.mark.parametrize("level", [1, 5, 10])
def test_every_bend_is_steerable_and_the_river_stays_in_the_field(level):
    p = level_params(level)
    fastest = p.speed * (1 + SPEED_UP if p.pitch_speed else 1)
    for seed in range(5):
        course = Course(random.Random(seed), level)
        course.extend(200.0, level)
        s = 0.0
        while s < 200.0:
            left, right = course.banks(s)
            assert -FIELD_HALF < left < right < FIELD_HALF
            assert abs(course.slope(s)) * fastest <= p.bend * LATERAL_SPEED + 1e-9
            s += 0.05
        shifts = [abs(b - a) for a, b in pairwise(course.x[1:])]
        assert max(shifts) > 0.1  # it does bend


def test_slope_is_the_derivative_of_the_centre_line():
    course = Course(random.Random(4), 6)
    course.extend(30.0, 6)
    for s in (2.0, 7.3, 15.1, 22.9):
        h = 1e-5
        numeric = (course.at(s + h)[0] - course.at(s - h)[0]) / (2 * h)
        assert course.slope(s) == pytest.approx(numeric, abs=1e-6)


def test_the_course_is_random_per_seed_and_repeatable_for_one_seed():
    def course_of(seed):
        app = AppContext(feedback=NullFeedback(), rng=random.Random(seed))
        scene = RiverRun(app)
        scene.course.extend(50.0, 1)
        return scene.course.s, scene.course.x

    assert course_of(11) == course_of(11)
    assert course_of(11) != course_of(12)


def test_a_level_change_never_narrows_the_river_already_laid(app_context):
    scene = start_river(app_context, duration_s=90, start_level=1)
    drive(app_context, COUNTDOWN_S + 5, autopilot_script(app_context))
    ahead = [scene.s + d for d in (0.0, 0.5, 1.0, 2.0)]
    before = [scene.course.at(s) for s in ahead]
    scene.adaptive.level = 10  # as if it had adapted all the way at once
    drive(app_context, 0.01, autopilot_script(app_context))
    assert [scene.course.at(s) for s in ahead] == before
    # ...but what is laid from now on is level 10's width.
    far = scene.course.s[-1] + 30.0
    scene.course.extend(far, 10)
    assert scene.course.at(far - 0.01)[1] == pytest.approx(level_params(10).width)


def test_gates_are_one_gate_spacing_apart(app_context):
    scene = start_river(app_context, duration_s=60, start_level=2)
    drive(app_context, COUNTDOWN_S + 20, autopilot_script(app_context))
    assert len(scene.gates) == math.floor(scene.s / GATE_SPACING)
    assert scene.adaptive.attempts == len(scene.gates)


def test_sensor_loss_and_stepping_off_freeze_the_river(app_context):
    scene = start_river(app_context, duration_s=60, start_level=4)
    drive(app_context, COUNTDOWN_S + 3, autopilot_script(app_context))
    frozen = (scene.s, scene.x, scene.elapsed, scene.score, len(scene.gates))
    drive(app_context, 4, lambda t: None)
    assert scene.auto_paused
    assert (scene.s, scene.x, scene.elapsed, scene.score, len(scene.gates)) == frozen
    drive(app_context, 4, hard_right, on_board=False)
    assert (scene.s, scene.x, scene.elapsed, scene.score, len(scene.gates)) == frozen
    drive(app_context, 1, autopilot_script(app_context))
    assert scene.s > frozen[0] and scene.elapsed == pytest.approx(frozen[2] + 1, abs=0.011)


def test_autopilot_is_level_until_running(app_context):
    scene = start_river(app_context, start_level=9)
    assert scene.autopilot(Tick(0.0, None)) == (0.0, 0.0)
    assert scene.phase is Phase.COUNTDOWN


def test_a_worse_run_keeps_the_personal_best(app_context):
    best = start_river(app_context, duration_s=60, start_level=3)
    drive(app_context, COUNTDOWN_S + 61, autopilot_script(app_context))
    assert best.results()[3] > 0
    assert app_context.scene is not best
    worse = start_river(app_context, duration_s=60, start_level=3)
    drive(app_context, COUNTDOWN_S + 61, hard_right)
    assert worse.phase is Phase.DONE
    assert app_context.records.get("river/60s") == pytest.approx(best.results()[3])
    assert not app_context.scene.best


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        RiverSettings(duration_s=75)
    with pytest.raises(ValueError):
        RiverSettings(start_level=0)
    with pytest.raises(ValueError):
        RiverSettings(start_level=11)


def test_river_renders_in_every_phase_and_size(app_context):
    scene = start_river(app_context, duration_s=60, start_level=PITCH_SPEED_LEVEL)
    assert_renders(scene)  # countdown
    drive(app_context, COUNTDOWN_S + 4, autopilot_script(app_context))
    assert_renders(scene)  # running
    while scene.touches == 0:
        drive(app_context, 0.01, hard_right)
    assert_renders(scene)  # on the bank
    drive(app_context, 1, lambda t: None)
    assert_renders(scene)  # paused
