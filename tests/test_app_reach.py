import math
import random

import pytest
from conftest import assert_renders, autopilot_script, board_angles, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.activities.reach import (
    CENTRE_HOLD_S,
    DIRECTION_NAMES,
    DIRECTIONS,
    ReachGame,
    ReachLevel,
    ReachSettings,
    ReachTarget,
    Stage,
    cursor_of,
    reach_points,
)
from wobble_trainer.app.scene import ACTIVITIES, AppContext
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import pitch_roll_toward
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles
from wobble_trainer.units import DEG


def start_game(app, **settings):
    app.push(StartScene(app))
    scene = ReachGame(app, ReachSettings(**settings))
    app.push(scene)
    return scene


def level_board(t):
    return (0.0, 0.0)


def degrees_toward(tilt, direction):
    pitch, roll = pitch_roll_toward(tilt, direction)
    return pitch / DEG, roll / DEG


def toward_target(scene, scale=1.0):
    """A script that holds the board on the shown target (scaled), level otherwise."""

    def script(t):
        if scene.target is None:
            return (0.0, 0.0)
        return degrees_toward(scene.target.distance * scale, scene.target.direction)

    return script


def test_levels_get_harder():
    easy, hard = ReachLevel.of(1), ReachLevel.of(10)
    assert hard.distance_fraction > easy.distance_fraction
    assert hard.radius_fraction < easy.radius_fraction
    assert hard.dwell_s > easy.dwell_s and hard.time_limit < easy.time_limit
    # Even the hardest target stays clear of the rim zone (edge - 1°) on a 15° board.
    assert (hard.distance_fraction + hard.radius_fraction) * 15 < 14
    with pytest.raises(ValueError):
        ReachLevel.of(0)


def test_targets_scale_with_the_edge_angle_in_their_direction():
    edges = EdgeAngles(front=10 * DEG, back=20 * DEG, left=12 * DEG, right=16 * DEG)
    level = ReachLevel.of(3)
    for index, direction in enumerate(DIRECTIONS):
        target = ReachTarget.make(index, level, edges)
        edge = edges.toward(direction)
        assert target.distance == pytest.approx(level.distance_fraction * edge)
        assert target.radius == pytest.approx(level.radius_fraction * edge)
    assert ReachTarget.make(4, level, edges).distance == pytest.approx(
        2 * ReachTarget.make(0, level, edges).distance
    )
    right = ReachTarget.make(2, level, edges)
    assert right.name == "right"
    assert right.position == pytest.approx((right.distance, 0.0), abs=1e-12)


def test_order_is_shuffled_sets_of_all_eight_and_reproducible():
    def order(seed, targets=24):
        return ReachGame(AppContext(rng=random.Random(seed)), ReachSettings(targets=targets)).order

    a, b, c = order(1), order(1), order(2)
    assert a == b and a != c
    for k in range(0, 24, 8):
        assert sorted(a[k : k + 8]) == list(range(8))
    assert a[:8] != list(range(8))
    for seed in range(30):
        o = order(seed)
        assert all(x != y for x, y in zip(o, o[1:], strict=False))
    assert len(order(3, targets=5)) == 5


def test_perfect_play_reaches_every_target_and_levels_up(app_context):
    scene = start_game(app_context, targets=24)
    drive(app_context, COUNTDOWN_S + 90, autopilot_script(app_context, noise_deg=0.2))
    assert scene.phase is Phase.DONE
    assert app_context.results[-1]["activity"] == "reach"
    assert len(scene.attempts) == 24 and all(a.success for a in scene.attempts)
    assert scene.adaptive.level == 4  # up after each window of 8
    assert [a.level for a in scene.attempts] == [1] * 8 + [2] * 8 + [3] * 8
    assert [a.index for a in scene.attempts] == scene.order
    for a in scene.attempts:
        assert a.time_to_reach is not None and a.time_to_reach < 0.1
        level = ReachLevel.of(a.level)
        assert a.time_s == pytest.approx(a.time_to_reach + level.dwell_s, abs=0.02)
        assert a.distance - 0.3 * DEG < a.max_excursion < a.distance + 1.0 * DEG
        assert a.points == reach_points(a.level, level.time_limit - a.time_s, level.time_limit)
    assert scene.score == sum(a.points for a in scene.attempts)
    logged = [e for e in scene.events if e["event"] == "target"]
    assert [e["direction"] for e in logged] == [DIRECTION_NAMES[i] for i in scene.order]
    assert scene.edge_touches == 0
    cues = app_context.feedback.cues
    end = cues.index(Cue.END)
    assert cues[:4] == [Cue.COUNTDOWN] * 3 + [Cue.GO]
    assert cues[4:end] == [Cue.SELECT] * 24
    heading, lines, key, score = scene.results()
    assert key == "reach/24" and score == scene.score
    assert lines[0] == "Reached 24 of 24 targets (100%)"
    assert app_context.records.get("reach/24") == scene.score
    summary = scene.direction_summary()
    assert [s.name for s in summary] == list(DIRECTION_NAMES)
    assert all(s.attempts == 3 and s.reached == 3 for s in summary)


def test_standing_still_misses_every_target_and_the_level_goes_down(app_context):
    scene = start_game(app_context, targets=8, start_level=4)
    level = ReachLevel.of(4)
    drive(app_context, COUNTDOWN_S + 8 * (CENTRE_HOLD_S + level.time_limit) + 1, level_board)
    assert scene.phase is Phase.DONE
    assert len(scene.attempts) == 8 and not any(a.success for a in scene.attempts)
    assert all(a.time_to_reach is None for a in scene.attempts)
    assert all(a.time_s == pytest.approx(level.time_limit, abs=0.011) for a in scene.attempts)
    assert scene.adaptive.level == 3 and scene.score == 0
    heading, lines, key, score = scene.results()
    assert lines[0] == "Reached 0 of 8 targets (0%)"
    assert "Hardest direction" in lines[2] and "0/1 held" in lines[2]
    assert app_context.records.get("reach/8") == 0.0


def test_a_new_target_waits_for_the_board_back_at_the_centre(app_context):
    scene = start_game(app_context, targets=4)
    drive(app_context, COUNTDOWN_S + 2, lambda t: (8.0, 0.0))  # leaning: no target yet
    assert scene.stage is Stage.CENTRE and scene.target is None
    assert scene.centre_time == 0.0
    drive(app_context, CENTRE_HOLD_S - 0.05, level_board)
    assert scene.stage is Stage.CENTRE
    drive(app_context, 0.1, level_board)
    assert scene.stage is Stage.REACH and scene.target is not None
    assert scene.target.index == scene.order[0]
    assert app_context.feedback.targets is not None
    pitch, roll = pitch_roll_toward(scene.target.distance, scene.target.direction)
    assert app_context.feedback.targets.target_pitch == pytest.approx(pitch)
    assert app_context.feedback.targets.target_roll == pytest.approx(roll)


def test_dwell_restarts_when_the_cursor_leaves_and_time_to_reach_is_first_entry(app_context):
    scene = start_game(app_context, targets=2)
    drive(app_context, COUNTDOWN_S + CENTRE_HOLD_S, level_board)
    assert scene.stage is Stage.REACH
    target, level = scene.target, scene.level
    on = degrees_toward(target.distance, target.direction)
    near = degrees_toward(target.distance * 0.2, target.direction)

    drive(app_context, 0.5, lambda t: near)  # on the way
    assert not scene.inside and scene.time_to_reach is None
    drive(app_context, 0.7, lambda t: on)
    assert scene.inside and scene.dwell == pytest.approx(0.7, abs=0.011)
    drive(app_context, 0.5, lambda t: near)
    assert not scene.inside and scene.dwell == 0.0
    drive(app_context, level.dwell_s + 0.05, lambda t: on)
    attempt = scene.attempts[0]
    assert attempt.success
    assert attempt.time_to_reach == pytest.approx(0.51, abs=0.011)
    assert attempt.time_s == pytest.approx(1.7 + level.dwell_s, abs=0.02)
    assert attempt.max_excursion == pytest.approx(target.distance, abs=1e-6)
    assert scene.stage is Stage.CENTRE


def test_noise_at_the_rim_does_not_reset_the_dwell(app_context):
    scene = start_game(app_context, targets=2)
    drive(app_context, COUNTDOWN_S + CENTRE_HOLD_S, level_board)
    target = scene.target
    # Straddle the rim: in, then 10% of the radius outside it (inside the hysteresis).
    inside = degrees_toward(target.distance + 0.8 * target.radius, target.direction)
    rim = degrees_toward(target.distance + 1.1 * target.radius, target.direction)
    drive(app_context, 0.3, lambda t: inside)
    drive(app_context, 0.3, lambda t: rim)
    assert scene.inside and scene.dwell == pytest.approx(0.6, abs=0.011)


def test_entering_but_not_holding_in_time_is_a_miss(app_context):
    scene = start_game(app_context, targets=3)
    drive(app_context, COUNTDOWN_S + CENTRE_HOLD_S, level_board)
    level = scene.level
    target = scene.target
    on = degrees_toward(target.distance, target.direction)
    off = (0.0, 0.0)
    # Dip in for half the dwell every second: never long enough.
    drive(app_context, level.time_limit + 0.05, lambda t: on if (t % 1.0) < 0.5 else off)
    attempt = scene.attempts[0]
    assert not attempt.success and attempt.points == 0
    assert attempt.time_to_reach is not None
    assert attempt.time_s == pytest.approx(level.time_limit, abs=0.011)


def test_sensor_loss_and_stepping_off_freeze_the_target(app_context):
    scene = start_game(app_context, targets=3)
    drive(app_context, COUNTDOWN_S + CENTRE_HOLD_S, level_board)
    target = scene.target
    on = degrees_toward(target.distance, target.direction)
    drive(app_context, 0.5, lambda t: on)
    frozen = (scene.target_time, scene.dwell, scene.stage, len(scene.attempts))
    drive(app_context, 5, lambda t: None)
    assert scene.auto_paused
    assert (scene.target_time, scene.dwell, scene.stage, len(scene.attempts)) == frozen
    drive(app_context, 5, lambda t: on, on_board=False)
    assert (scene.target_time, scene.dwell, scene.stage, len(scene.attempts)) == frozen
    drive(app_context, 0.2, lambda t: on)
    assert not scene.auto_paused and scene.dwell == pytest.approx(frozen[1] + 0.2, abs=0.011)


def test_edge_touches_are_counted_once_per_touch(app_context):
    scene = start_game(app_context, targets=3)
    drive(app_context, COUNTDOWN_S + CENTRE_HOLD_S, level_board)

    def script(t):
        # Two touches of the right rim (15° board: rim zone from 14°), with rim noise between.
        if 0.5 <= t < 1.0 or 2.0 <= t < 2.5:
            return (0.0, 14.5)
        if 1.0 <= t < 1.2:
            return (0.0, 13.8)  # inside the hysteresis: still the same touch
        return (0.0, 0.0)

    drive(app_context, 3.0, script)
    assert scene.edge_touches == 2
    assert app_context.feedback.cues.count(Cue.EDGE) == 2
    assert [e["event"] for e in scene.events] == ["edge", "edge"]


def test_results_name_the_weakest_direction(app_context):
    scene = start_game(app_context, targets=16)

    # Reach every target except those to the back, which it only goes half-way to.
    def script(t):
        if scene.target is None:
            return (0.0, 0.0)
        scale = 0.2 if scene.target.name == "back" else 1.0
        return degrees_toward(scene.target.distance * scale, scene.target.direction)

    drive(app_context, COUNTDOWN_S + 120, script)
    assert scene.phase is Phase.DONE
    back = next(s for s in scene.direction_summary() if s.name == "back")
    assert back.attempts == 2 and back.reached == 0 and back.mean_time_to_reach is None
    assert back.max_excursion < 0.5 * ReachLevel.of(1).distance_fraction * 15 * DEG  # went part-way
    lines = scene.results()[1]
    assert lines[0] == "Reached 14 of 16 targets (88%)"
    assert lines[2] == "Hardest direction: back (0/2 held)"


def test_cursor_and_board_tilt_are_consistent():
    for direction in (0.0, 0.5, math.pi / 2, 3.0, -2.2):
        pitch, roll = pitch_roll_toward(10 * DEG, direction)
        a = board_angles(pitch / DEG, roll / DEG)
        x, y = cursor_of(a.tilt, a.direction)
        assert (x, y) == pytest.approx(cursor_of(10 * DEG, direction), abs=1e-9)
    assert cursor_of(1.0, math.pi / 2) == pytest.approx((1.0, 0.0))  # right is +x


def test_points_favour_the_level_then_speed():
    assert reach_points(1, 10.0, 10.0) == 20
    assert reach_points(2, 0.0, 10.0) == 20
    assert reach_points(3, 4.0, 8.0) == 35


def test_small_boards_scale_the_centre_and_targets(tmp_path):
    edges = EdgeAngles(front=8 * DEG, back=8 * DEG, left=8 * DEG, right=8 * DEG)
    app = AppContext(calibration=Calibration(edge_angles=edges), rng=random.Random(1))
    scene = start_game(app, targets=8)
    assert scene.centre_radius == pytest.approx(0.13 * 8 * DEG)
    drive(app, COUNTDOWN_S + 40, toward_target(scene))
    assert all(a.success for a in scene.attempts)
    assert max(a.distance for a in scene.attempts) <= 0.35 * 8 * DEG + 1e-9


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ReachSettings(targets=0)
    with pytest.raises(ValueError):
        ReachSettings(start_level=11)


def test_registered():
    assert not ACTIVITIES["reach"].seated


def test_renders_in_every_phase_and_size(app_context):
    scene = start_game(app_context, targets=4, start_level=10)
    assert_renders(scene)  # countdown
    drive(app_context, COUNTDOWN_S + 0.2, level_board)
    assert scene.stage is Stage.CENTRE
    assert_renders(scene)  # back to the centre
    drive(app_context, CENTRE_HOLD_S + 0.5, toward_target(scene))
    assert scene.stage is Stage.REACH and scene.dwell > 0
    assert_renders(scene)  # holding, ring filling
    drive(app_context, scene.level.dwell_s, toward_target(scene))
    assert scene.result_left > 0 and scene.attempts[0].success
    assert_renders(scene)  # result shown
    scene.user_paused = True
    assert_renders(scene)
