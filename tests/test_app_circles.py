import math
import random
from itertools import pairwise

import pytest
from conftest import assert_renders, autopilot_script, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.activities.circles import (
    LEAD_IN_S,
    MAX_LEVEL,
    CircleSettings,
    CircleTracing,
    Direction,
    LapStage,
    level_params,
    target_tilt,
    tilt_distance,
)
from wobble_trainer.app.scene import ACTIVITIES, AppContext, Tick
from wobble_trainer.app.scenes.menus import ResultsScene, StartScene
from wobble_trainer.feedback.base import NullFeedback
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles
from wobble_trainer.units import DEG


def start_circles(app, **settings):
    app.push(StartScene(app))
    scene = CircleTracing(app, CircleSettings(**settings))
    app.push(scene)
    return scene


def lap_time(level):
    return LEAD_IN_S + level_params(level).lap_s


def level_board(t):
    return (0.0, 0.0)


def test_registered_as_circles():
    assert "circles" in ACTIVITIES and not ACTIVITIES["circles"].seated


def test_following_the_target_wins_every_lap_and_raises_the_level(app_context):
    scene = start_circles(app_context, laps=8, start_level=1)
    # Four laps at level 1, then four at level 2 (shorter); then the results screen, which the
    # autopilot would leave by leaning forward.
    drive(
        app_context, COUNTDOWN_S + 4 * lap_time(1) + 4 * lap_time(2), autopilot_script(app_context)
    )
    assert isinstance(app_context.scene, ResultsScene)
    assert len(scene.laps) == 8 and all(lap.success for lap in scene.laps)
    assert all(lap.fraction > 0.99 for lap in scene.laps)
    assert scene.adaptive.changes == [(4, 2), (8, 3)]  # four good laps: up
    assert [lap.level for lap in scene.laps] == [1] * 4 + [2] * 4
    # Close to the target all the time: nearly the full 100 points per lap per level.
    assert scene.score == pytest.approx(4 * 100 + 4 * 200, rel=0.03)
    cues = app_context.feedback.cues
    assert cues[:4] == [Cue.COUNTDOWN] * 3 + [Cue.GO] and cues[-1] == Cue.END
    assert cues.count(Cue.SELECT) == 8  # one "go" click per lap
    heading, lines, key, score = scene.results()
    assert key == "circles/8laps/alternate" and score == scene.score
    assert app_context.records.get(key) == pytest.approx(scene.score)
    assert any("Laps done well: 8 of 8" in line for line in lines)


def test_a_noisy_player_succeeds_at_an_easy_level(app_context):
    scene = start_circles(app_context, laps=4, start_level=3)
    drive(app_context, COUNTDOWN_S + 4 * lap_time(3), autopilot_script(app_context, 1.0, seed=2))
    assert len(scene.laps) == 4 and all(lap.success for lap in scene.laps)


def test_standing_still_fails_every_lap_and_lowers_the_level(app_context):
    scene = start_circles(app_context, laps=8, start_level=5)
    drive(app_context, COUNTDOWN_S + 4 * lap_time(5) + 0.5, level_board)
    assert scene.level == 4 and len(scene.laps) == 4
    for lap in scene.laps:
        assert not lap.success and lap.on_target_s == 0.0
        # Level all the time: the mean distance is the circle's radius, so closeness is 0.
        radius = level_params(5).radius_fraction * 15 * DEG
        assert lap.mean_distance == pytest.approx(radius, rel=1e-3)
        assert lap.points == pytest.approx(0.0, abs=0.2)


def test_success_needs_the_set_share_of_the_lap_on_target(app_context):
    level = 2
    half = level_params(level).lap_s / 2
    for needed, success in ((0.6, False), (0.4, True)):
        scene = start_circles(app_context, laps=4, start_level=level, success_fraction=needed)
        follow = autopilot_script(app_context)

        def script(t, follow=follow, scene=scene):
            # Follow the first half of the lap, then stand level.
            if scene.stage is LapStage.MOVING and scene.stage_time >= half:
                return (0.0, 0.0)
            return follow(t)

        drive(app_context, COUNTDOWN_S + lap_time(level) + 0.05, script)
        lap = scene.laps[0]
        assert lap.fraction == pytest.approx(0.5, abs=0.03)
        assert lap.success is success
        assert lap.lap_s == pytest.approx(level_params(level).lap_s, abs=0.011)  # no lead-in


def test_the_target_runs_round_a_fraction_of_each_directions_edge_angle():
    edges = EdgeAngles(front=0.30, right=0.20, back=0.26, left=0.22)
    app = AppContext(
        calibration=Calibration(edge_angles=edges), feedback=NullFeedback(), rng=random.Random(5)
    )
    scene = CircleTracing(app, CircleSettings(start_level=4))
    fraction = level_params(4).radius_fraction
    scene.stage = LapStage.MOVING
    for t in (0.0, 1.3, 4.0, 7.7, 10.0):
        pitch, roll = scene.target(t)
        a = angles_from_up(up_from_pitch_roll(pitch, roll))
        phi = scene.target_angle(t)
        assert a.tilt == pytest.approx(fraction * edges.toward(phi), abs=1e-9)
        assert math.remainder(a.direction - phi, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)
    # Front is up the board's pitch, right is roll > 0.
    assert target_tilt(0.0, 0.1)[0] == pytest.approx(0.1) and target_tilt(0.0, 0.1)[1] == 0.0
    assert target_tilt(math.pi / 2, 0.1)[1] == pytest.approx(0.1)
    # Target size scales with the board too.
    assert scene.target_size == pytest.approx(level_params(4).target_fraction * 0.20)


def test_clockwise_goes_front_to_right(app_context):
    scene = start_circles(app_context)
    scene.stage = LapStage.MOVING
    sign = scene.lap.direction.sign
    quarter = level_params(scene.lap.level).lap_s / 4
    assert scene.target_angle(quarter) - scene.target_angle(0.0) == pytest.approx(
        sign * math.pi / 2
    )
    assert Direction.CLOCKWISE.sign == 1  # direction angle grows: front (0) → right (+π/2)


def test_alternate_mode_alternates_and_random_mode_mixes(app_context):
    scene = start_circles(app_context, laps=12, start_level=10)
    drive(app_context, COUNTDOWN_S + 12 * lap_time(10), autopilot_script(app_context))
    turns = [lap.direction for lap in scene.laps]
    assert all(a is not b for a, b in pairwise(turns))

    app = AppContext(feedback=NullFeedback(), rng=random.Random(3))
    rnd = CircleTracing(app, CircleSettings(direction="random"))
    plans = [rnd._plan_lap() for _ in range(40)]
    kinds = [p.direction for p in plans]
    assert Direction.CLOCKWISE in kinds and Direction.ANTICLOCKWISE in kinds
    assert any(a is b for a, b in pairwise(kinds))  # not simply alternating
    starts = [p.start_angle for p in plans]
    assert len(set(starts)) == 40 and min(starts) < -1.5 and max(starts) > 1.5


def test_laps_are_random_per_seed_and_repeatable_for_one_seed():
    def plans(seed):
        app = AppContext(feedback=NullFeedback(), rng=random.Random(seed))
        scene = CircleTracing(app, CircleSettings(direction="random"))
        return [scene.lap] + [scene._plan_lap() for _ in range(5)]

    assert plans(21) == plans(21)
    assert plans(21) != plans(22)


def test_levels_grow_the_circle_speed_it_up_and_shrink_the_target():
    params = [level_params(n) for n in range(1, MAX_LEVEL + 1)]
    for easy, hard in pairwise(params):
        assert hard.radius_fraction > easy.radius_fraction
        assert hard.lap_s < easy.lap_s
        assert hard.target_fraction < easy.target_fraction
    # The target's outer edge stays off the rim even at the top level.
    assert params[-1].radius_fraction + params[-1].target_fraction < 1.0
    with pytest.raises(ValueError):
        level_params(MAX_LEVEL + 1)


def test_the_target_waits_at_the_start_during_the_lead_in(app_context):
    scene = start_circles(app_context, start_level=3)
    start = scene.target()
    drive(app_context, COUNTDOWN_S + LEAD_IN_S - 0.1, level_board)
    assert scene.stage is LapStage.LEAD_IN and scene.target() == start
    assert scene.autopilot(Tick(0.0, None)) == start
    drive(app_context, 1.0, level_board)
    assert scene.stage is LapStage.MOVING and scene.target() != start


def test_the_lights_follow_the_moving_target(app_context):
    scene = start_circles(app_context, start_level=3)
    drive(app_context, COUNTDOWN_S + LEAD_IN_S + 2.0, autopilot_script(app_context))
    targets = app_context.feedback.targets
    pitch, roll = scene.target()
    # Sent every 0.1 s: the lights are at most one period behind.
    assert tilt_distance(targets.target_pitch, targets.target_roll, pitch, roll) < 0.02
    assert targets.zones.target_radius == pytest.approx(scene.target_size)


def test_sensor_loss_and_stepping_off_freeze_the_lap(app_context):
    scene = start_circles(app_context, start_level=2)
    drive(app_context, COUNTDOWN_S + LEAD_IN_S + 3, autopilot_script(app_context))

    def state():
        return (scene.stage_time, scene.on_target_s, scene.distance_sum, scene.target())

    frozen = state()
    drive(app_context, 3, lambda t: None)
    assert scene.auto_paused and state() == frozen
    drive(app_context, 3, level_board, on_board=False)
    assert state() == frozen
    drive(app_context, 1, autopilot_script(app_context))
    assert scene.stage_time == pytest.approx(frozen[0] + 1, abs=0.011)
    assert scene.on_target_s == pytest.approx(frozen[1] + 1, abs=0.02)


def test_a_worse_session_keeps_the_personal_best(app_context):
    good = start_circles(app_context, laps=4, start_level=1)
    drive(app_context, COUNTDOWN_S + 4 * lap_time(1) + 0.1, autopilot_script(app_context))
    assert good.phase is Phase.DONE
    bad = start_circles(app_context, laps=4, start_level=1)
    drive(app_context, COUNTDOWN_S + 4 * lap_time(1) + 0.1, level_board)
    assert bad.phase is Phase.DONE and bad.score < good.score
    assert app_context.records.get("circles/4laps/alternate") == pytest.approx(good.score)
    assert not app_context.scene.best


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        CircleSettings(laps=5)
    with pytest.raises(ValueError):
        CircleSettings(start_level=0)
    with pytest.raises(ValueError):
        CircleSettings(direction="both")
    with pytest.raises(ValueError):
        CircleSettings(success_fraction=1.0)


def test_circles_render_in_every_phase_and_size(app_context):
    scene = start_circles(app_context, start_level=6)
    assert_renders(scene)  # countdown
    drive(app_context, COUNTDOWN_S + 1, level_board)
    assert_renders(scene)  # lead-in
    drive(app_context, LEAD_IN_S + 2, autopilot_script(app_context))
    assert scene.on_target
    assert_renders(scene)  # moving, on target
    drive(app_context, 1, level_board)
    assert not scene.on_target
    assert_renders(scene)  # off target
    drive(app_context, 1, lambda t: None)
    assert_renders(scene)  # paused
