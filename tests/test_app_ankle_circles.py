import math
import random

import numpy as np
import pytest
from conftest import assert_renders, autopilot_script, drive

from wobble_trainer.app.activities.ankle_circles import (
    ANTICLOCKWISE,
    CLOCKWISE,
    AnkleCircles,
    CircleSettings,
    Step,
    TurnCounter,
    analyse_turn,
    fit_circle,
    level_cv_tolerance,
    level_period,
    level_radius,
    turns_per_direction,
)
from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.controls import Command
from wobble_trainer.app.records import Records
from wobble_trainer.app.scene import ACTIVITIES, AppContext
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.feedback.base import NullFeedback
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.units import DEG


def start(app, **settings):
    app.push(StartScene(app))
    scene = AnkleCircles(app, CircleSettings(**settings))
    app.push(scene)
    return scene


def play(app, scene, script, limit_s=300.0, **kw):
    """Drive until the activity ends (one drive call: logic time never runs backwards)."""
    drive(app, limit_s, lambda t: None if scene.phase is Phase.DONE else script(t), **kw)
    assert scene.phase is Phase.DONE


def circle(n, radius=1.0, centre=(0.0, 0.0), turns=1.0, direction=CLOCKWISE, start=0.0):
    """Points (x = roll, y = pitch) round a circle, clockwise on screen for direction +1."""
    a = start + direction * np.linspace(0, 2 * math.pi * turns, n)
    return np.column_stack([centre[0] + radius * np.sin(a), centre[1] + radius * np.cos(a)])


# -- maths ------------------------------------------------------------------------------------


def test_fit_circle_finds_centre_and_radius_of_an_arc():
    pts = circle(50, radius=0.1, centre=(0.03, -0.02), turns=0.7)
    cx, cy, r = fit_circle(pts)
    assert (cx, cy, r) == pytest.approx((0.03, -0.02, 0.1), abs=1e-9)


def test_a_round_turn_is_round_and_an_ellipse_is_less_so():
    round_ = analyse_turn(circle(200, radius=5 * DEG, centre=(1 * DEG, 2 * DEG)))
    assert round_.radius_cv < 1e-9 and round_.roundness == pytest.approx(100.0)
    assert round_.mean_radius == pytest.approx(5 * DEG)
    assert round_.centre == pytest.approx((1 * DEG, 2 * DEG))
    assert round_.pitch_range == pytest.approx((-3 * DEG, 7 * DEG), abs=1e-4)
    squashed = circle(200, radius=5 * DEG) * np.array([1.0, 0.6])
    oval = analyse_turn(squashed)
    assert 0.12 < oval.radius_cv < 0.25 and oval.roundness < 70
    assert oval.score(5 * DEG) < round_.score(5 * DEG)
    # Range: a circle half the target size scores half.
    small = analyse_turn(circle(200, radius=2.5 * DEG))
    assert small.score(5 * DEG) == pytest.approx(50.0)


def test_counter_counts_turns_and_their_direction():
    counter = TurnCounter(inner_radius=0.3)
    cw = [counter.update(x, y) for x, y in circle(400, turns=3.05)]
    assert cw.count(CLOCKWISE) == 3 and ANTICLOCKWISE not in cw
    counter.reset()
    acw = [counter.update(x, y) for x, y in circle(400, turns=2.05, direction=ANTICLOCKWISE)]
    assert acw.count(ANTICLOCKWISE) == 2 and CLOCKWISE not in acw


def test_counter_about_an_offset_centre_and_ignoring_the_middle():
    counter = TurnCounter(inner_radius=0.3, centre=(5.0, 5.0))
    results = [counter.update(x, y) for x, y in circle(300, centre=(5.0, 5.0), turns=1.02)]
    assert results.count(CLOCKWISE) == 1
    # Back and forth through the centre sweeps nothing however often it is done.
    counter.reset((0.0, 0.0))
    sweep = np.concatenate([np.linspace(-1, 1, 50), np.linspace(1, -1, 50)])
    line = np.column_stack([np.tile(sweep, 10), np.zeros(1000)])
    assert not any(counter.update(x, y) for x, y in line)
    assert abs(counter.swept) < math.pi
    # Jitter around the centre (inside the inner radius) adds no angle.
    rng = np.random.default_rng(0)
    for x, y in rng.normal(0, 0.05, (500, 2)):
        assert counter.update(x, y) == 0


def test_half_a_turn_then_back_completes_nothing():
    counter = TurnCounter(inner_radius=0.1)
    there = circle(100, turns=0.6)
    back = there[::-1]
    assert not any(counter.update(x, y) for x, y in np.concatenate([there, back]))
    assert counter.swept == pytest.approx(0.0, abs=1e-9)


def test_levels_scale_size_tolerance_pace_and_count():
    assert level_radius(1) == pytest.approx(3 * DEG) and level_radius(10) > level_radius(1)
    assert level_cv_tolerance(10) < level_cv_tolerance(1)
    assert level_period(10) < level_period(1)
    assert turns_per_direction(1) == 3 and turns_per_direction(10) == 6


# -- the activity -----------------------------------------------------------------------------


def test_registered_as_a_seated_activity():
    activity = ACTIVITIES["ankle_circles"]
    assert activity.seated and isinstance(activity.factory(AppContext()), AnkleCircles)


def test_perfect_circles_succeed_both_ways_and_the_level_goes_up(app_context):
    scene = start(app_context, start_level=1)
    play(app_context, scene, autopilot_script(app_context))
    turns = scene.turns
    assert len(turns) == 6
    assert [t.asked for t in turns] == [scene.directions[0]] * 3 + [scene.directions[1]] * 3
    assert all(t.success and t.done == t.asked for t in turns)
    assert all(t.analysis.radius_cv < 0.05 for t in turns)
    assert scene.level > 1 and scene.adaptive.changes
    assert scene.session_score > 90
    assert app_context.feedback.cues.count(Cue.SELECT) == 6
    heading, lines, key, score = scene.results()
    assert key == "ankle_circles/right"
    assert app_context.records.get(key) == pytest.approx(score)
    assert any(line.startswith("Clockwise: 3 of 3") for line in lines)
    assert any(line.startswith("Anticlockwise: 3 of 3") for line in lines)
    assert len(scene.events) == 6


def test_reach_per_direction_and_foot(app_context):
    scene = start(app_context, start_level=4, turns=2)
    play(app_context, scene, autopilot_script(app_context))
    reach = scene.reach()
    r = scene.target_radius
    for key in ("plantarflexion", "dorsiflexion", "inversion", "eversion"):
        assert reach[key] == pytest.approx(1.05 * r, rel=0.15), key
    # An ankle that goes further towards toes-down and right-edge-down shows it.
    app = AppContext(feedback=NullFeedback(), rng=random.Random(1), records=Records(None))
    left = start(app, start_level=4, turns=2, foot="left")
    inner = autopilot_script(app)

    def lopsided(t):
        p, rr = inner(t)
        return (p + 2.0, rr + 2.0)

    play(app, left, lopsided)
    reach = left.reach()
    assert reach["plantarflexion"] > reach["dorsiflexion"] + 3 * DEG
    # Left foot: lowering the right edge is eversion.
    assert reach["eversion"] > reach["inversion"] + 3 * DEG


def test_the_wrong_way_round_fails(app_context):
    scene = start(app_context, start_level=2, turns=2)
    inner = autopilot_script(app_context)

    def mirrored(t):  # the same circles, mirrored left-right: the other way round
        p, r = inner(t)
        return (p, -r)

    play(app_context, scene, mirrored)
    assert len(scene.turns) == 4
    assert all(t.done == -t.asked and not t.success and t.score == 0 for t in scene.turns)
    assert scene.level < 2


def test_holding_still_times_out_and_the_level_goes_down(app_context):
    scene = start(app_context, start_level=5, turns=3)
    play(app_context, scene, lambda t: (0.3, -0.2), limit_s=400)
    assert len(scene.turns) == 6
    assert all(t.done == 0 and not t.success for t in scene.turns)
    assert scene.level < 5 and scene.session_score == 0.0
    assert scene.reach() == {}
    scene.results()  # lines without any completed turn


def test_small_or_oval_circles_fail(app_context):
    scene = start(app_context, start_level=6, turns=2)
    inner = autopilot_script(app_context)

    def small(t):
        p, r = inner(t)
        return (0.5 * p, 0.5 * r)

    play(app_context, scene, small)
    assert all(t.done == t.asked and not t.success for t in scene.turns)
    assert all(t.analysis.mean_radius < 0.8 * t.target_radius for t in scene.turns)

    app = AppContext(feedback=NullFeedback(), rng=random.Random(3), records=Records(None))
    oval = start(app, start_level=10, turns=2)
    inner2 = autopilot_script(app)

    def flat(t):  # full side to side, a third of the way forward and back
        p, r = inner2(t)
        return (p / 3, r)

    play(app, oval, flat)
    assert oval.turns[0].done == oval.turns[0].asked
    assert oval.turns[0].analysis.radius_cv > level_cv_tolerance(10)
    assert not oval.turns[0].success


def test_the_circle_centre_follows_the_person(app_context):
    scene = start(app_context, start_level=3, turns=3)
    offset = 2.0 * DEG  # the seated foot rests a little toes-down (no calibration)
    state = {"angle": 0.0, "t": 0.0}

    def shifted(t):  # good circles, but about (pitch 2°, roll 0), not about level
        dt, state["t"] = t - state["t"], t
        if scene.phase is Phase.RUNNING and scene.step_kind is Step.TURNING:
            state["angle"] += scene.direction * 2 * math.pi * dt / scene.period
        r = 1.05 * scene.target_radius
        return ((offset + r * math.cos(state["angle"])) / DEG, r * math.sin(state["angle"]) / DEG)

    play(app_context, scene, shifted)
    assert scene.centre[1] == pytest.approx(offset, abs=0.2 * DEG)
    assert scene.centre[0] == pytest.approx(0.0, abs=0.2 * DEG)
    assert sum(t.success for t in scene.turns) >= 5


def make(seed):
    app = AppContext(feedback=NullFeedback(), rng=random.Random(seed), records=Records(None))
    return AnkleCircles(app, CircleSettings())


def test_content_is_random_per_seed_and_repeatable():
    a, b = make(5), make(5)
    assert a.directions == b.directions
    assert (a.block_pace, a.block_phase) == (b.block_pace, b.block_phase)
    seen = {tuple(make(s).directions) for s in range(10)}
    assert seen == {(CLOCKWISE, ANTICLOCKWISE), (ANTICLOCKWISE, CLOCKWISE)}
    assert len({make(s).block_phase[0] for s in range(10)}) == 10


def test_target_ring_stays_inside_a_small_board(app_context):
    from wobble_trainer.tilt.calibration import Calibration, EdgeAngles

    edges = EdgeAngles(8 * DEG, 8 * DEG, 6 * DEG, 6 * DEG)
    app_context.calibration = Calibration(edge_angles=edges)
    scene = start(app_context, start_level=10)
    assert scene.target_radius == pytest.approx(0.75 * 6 * DEG)


def test_sensor_loss_and_stepping_off_freeze_the_turn(app_context):
    scene = start(app_context, start_level=1)
    script = autopilot_script(app_context)
    drive(app_context, COUNTDOWN_S + 6, script)
    assert scene.step_kind is Step.TURNING
    state = (scene.attempt_time, scene.counter.swept, len(scene.samples), len(scene.turns))
    drive(app_context, 4, lambda t: None)
    assert scene.auto_paused
    drive(app_context, 4, lambda t: (5.0, 5.0), on_board=False)
    assert (scene.attempt_time, scene.counter.swept, len(scene.samples), len(scene.turns)) == state


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        CircleSettings(start_level=11)
    with pytest.raises(ValueError):
        CircleSettings(foot="both")
    with pytest.raises(ValueError):
        CircleSettings(turns=0)


def test_renders_in_every_phase(app_context):
    scene = start(app_context, start_level=1)
    assert_renders(scene)  # countdown
    script = autopilot_script(app_context)
    drive(app_context, COUNTDOWN_S + 1, script)
    assert scene.step_kind is Step.INTRO
    assert_renders(scene)
    drive(app_context, 12, script)
    assert scene.step_kind is Step.TURNING and scene.turns
    assert_renders(scene)
    scene.command(Command.PAUSE)
    assert_renders(scene)
