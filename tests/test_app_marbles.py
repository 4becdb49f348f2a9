import math
import random

import pytest
from conftest import assert_renders, autopilot_script, board_angles, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.activities.marbles import (
    BALL_RADIUS_M,
    RESTITUTION,
    RESULT_PAUSE_S,
    ROLLING_FACTOR,
    TABLE_DEPTH_M,
    TABLE_WIDTH_M,
    Ball,
    Hole,
    MarbleAutopilot,
    MarbleLevel,
    MarblesGame,
    MarblesSettings,
    Outcome,
    TableLayout,
    _segment_distance,
    hole_taking,
    make_layout,
    marble_points,
    plan_path,
    step_ball,
)
from wobble_trainer.app.scene import ACTIVITIES, LOGIC_DT, AppContext
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import pitch_roll_toward
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG, STANDARD_GRAVITY


def start_game(app, **settings):
    app.push(StartScene(app))
    scene = MarblesGame(app, MarblesSettings(**settings))
    app.push(scene)
    return scene


def level_board(t):
    return (0.0, 0.0)


# -- physics -----------------------------------------------------------------------------------
def test_marble_accelerates_at_five_sevenths_g_sin_tilt_downhill():
    level = MarbleLevel(1, 0.03, 0, friction=0.0, gain=1.0, time_limit=30.0)
    ball = Ball(0.3, 0.2)
    tilt = 5 * DEG
    for _ in range(50):  # 0.5 s tilted to the right (low side right)
        step_ball(ball, tilt, math.pi / 2, level, LOGIC_DT)
    a = ROLLING_FACTOR * STANDARD_GRAVITY * math.sin(tilt)
    assert ball.vx == pytest.approx(a * 0.5, rel=1e-9)
    assert ball.vy == pytest.approx(0.0, abs=1e-12)
    assert ball.x - 0.3 == pytest.approx(0.5 * a * 0.25, rel=0.02)
    forward = Ball(0.3, 0.2)
    step_ball(forward, tilt, 0.0, level, LOGIC_DT)  # toes down: up the table
    assert forward.vy > 0 and forward.vx == pytest.approx(0.0, abs=1e-12)


def test_rolling_friction_holds_the_marble_on_a_gentle_tilt_and_brakes_it():
    level = MarbleLevel.of(1)
    # Below the breakaway tilt nothing moves...
    breakaway = math.asin(level.friction / ROLLING_FACTOR)
    ball = Ball(0.3, 0.2)
    for _ in range(300):
        step_ball(ball, 0.9 * breakaway, 0.3, level, LOGIC_DT)
    assert (ball.x, ball.y, ball.speed) == (0.3, 0.2, 0.0)
    # ...and on a level table a rolling marble slows at μ·g until it stops (never reverses).
    rolling = Ball(0.1, 0.2, vx=0.2)
    step_ball(rolling, 0.0, 0.0, level, LOGIC_DT)
    assert rolling.vx == pytest.approx(0.2 - level.friction * STANDARD_GRAVITY * LOGIC_DT)
    for _ in range(200):
        step_ball(rolling, 0.0, 0.0, level, LOGIC_DT)
    assert rolling.speed == 0.0 and rolling.x > 0.1


def test_rails_bounce_the_marble_back_with_restitution():
    level = MarbleLevel(1, 0.03, 0, friction=0.0, gain=1.0, time_limit=30.0)
    ball = Ball(TABLE_WIDTH_M - BALL_RADIUS_M - 0.001, 0.2, vx=0.5)
    hits = step_ball(ball, 0.0, 0.0, level, LOGIC_DT)
    assert hits == 1 and ball.vx == pytest.approx(-RESTITUTION * 0.5)
    assert ball.x <= TABLE_WIDTH_M - BALL_RADIUS_M
    corner = Ball(BALL_RADIUS_M + 0.001, BALL_RADIUS_M + 0.001, vx=-0.4, vy=-0.4)
    assert step_ball(corner, 0.0, 0.0, level, LOGIC_DT) == 2
    assert corner.vx > 0 and corner.vy > 0
    # However hard it is pushed, it stays on the table.
    wild = Ball(0.3, 0.2)
    for i in range(2000):
        step_ball(wild, 30 * DEG, i * 0.01, level, LOGIC_DT)
        assert BALL_RADIUS_M <= wild.x <= TABLE_WIDTH_M - BALL_RADIUS_M
        assert BALL_RADIUS_M <= wild.y <= TABLE_DEPTH_M - BALL_RADIUS_M


def test_a_hole_takes_only_a_slow_marble_over_it():
    level = MarbleLevel.of(1)
    layout = TableLayout((Hole(0.2, 0.2, 0.03, target=True), Hole(0.4, 0.2, 0.03)), (0.1, 0.1))
    assert hole_taking(Ball(0.21, 0.2, vx=0.1), layout, level) == layout.target
    assert hole_taking(Ball(0.41, 0.19), layout, level) == layout.traps[0]
    assert hole_taking(Ball(0.2, 0.2, vx=level.capture_speed * 1.1), layout, level) is None
    assert hole_taking(Ball(0.3, 0.2), layout, level) is None


def test_levels_get_harder():
    easy, hard = MarbleLevel.of(1), MarbleLevel.of(10)
    assert hard.hole_radius < easy.hole_radius
    assert hard.traps > easy.traps == 0
    assert hard.friction < easy.friction
    assert hard.gain > easy.gain
    assert hard.time_limit < easy.time_limit
    with pytest.raises(ValueError):
        MarbleLevel.of(11)


def test_layouts_are_playable_random_and_reproducible():
    for level_number in range(1, 11):
        level = MarbleLevel.of(level_number)
        rng = random.Random(level_number)
        for _ in range(30):
            layout = make_layout(rng, level)
            assert len(layout.traps) == level.traps
            assert sum(h.target for h in layout.holes) == 1
            for i, a in enumerate(layout.holes):
                assert a.radius <= a.x <= TABLE_WIDTH_M - a.radius
                assert a.radius <= a.y <= TABLE_DEPTH_M - a.radius
                for b in layout.holes[i + 1 :]:  # a marble fits between any two holes
                    gap = math.hypot(a.x - b.x, a.y - b.y) - a.radius - b.radius
                    assert gap >= 2 * BALL_RADIUS_M
            sx, sy = layout.start
            assert all(math.hypot(sx - h.x, sy - h.y) > h.radius for h in layout.holes)
    a = [make_layout(random.Random(5), MarbleLevel.of(5)) for _ in range(2)]
    b = make_layout(random.Random(6), MarbleLevel.of(5))
    assert a[0] == a[1] and a[0] != b


def test_autopilot_tilts_the_board_towards_the_target_within_the_edge():
    level = MarbleLevel.of(1)
    layout = TableLayout((Hole(0.5, 0.2, 0.03, target=True),), (0.1, 0.2))
    pitch, roll = MarbleAutopilot(layout).aim(Ball(0.1, 0.2), level, EdgeAngles())
    assert roll > 0 and abs(pitch) < 1e-9  # target to the right: right edge down
    assert math.hypot(pitch, roll) <= 0.55 * 15 * DEG + 1e-9
    # Arriving fast at the target: it brakes (tilts away).
    pitch, roll = MarbleAutopilot(layout).aim(Ball(0.45, 0.2, vx=0.4), level, EdgeAngles())
    assert roll < 0
    # A trap right on the way makes it steer to one side first.
    blocked = TableLayout((Hole(0.5, 0.2, 0.03, target=True), Hole(0.3, 0.2, 0.03)), (0.1, 0.2))
    pitch, roll = MarbleAutopilot(blocked).aim(Ball(0.1, 0.2), level, EdgeAngles())
    assert abs(pitch) > 0.1 * abs(roll)


def test_planned_path_goes_round_the_traps():
    for seed in range(40):
        layout = make_layout(random.Random(seed), MarbleLevel.of(10))
        path = plan_path(layout.start, layout)
        assert path[-1] == (layout.target.x, layout.target.y)
        points = [layout.start, *path]
        for p, q in zip(points, points[1:], strict=False):
            for trap in layout.traps:
                assert _segment_distance(p, q, (trap.x, trap.y)) >= trap.radius + BALL_RADIUS_M
    # Straight across when nothing is in the way.
    open_table = TableLayout((Hole(0.5, 0.2, 0.03, target=True), Hole(0.3, 0.35, 0.03)), (0.1, 0.2))
    assert plan_path(open_table.start, open_table) == [(0.5, 0.2)]


def test_pitch_roll_toward_is_exact():
    for direction in (0.0, 0.7, math.pi / 2, 2.5, -2.0):
        pitch, roll = pitch_roll_toward(8 * DEG, direction)
        a = board_angles(pitch / DEG, roll / DEG)
        assert a.tilt == pytest.approx(8 * DEG, abs=1e-9)
        assert math.remainder(a.direction - direction, 2 * math.pi) == pytest.approx(0, abs=1e-9)


# -- the game ----------------------------------------------------------------------------------
def test_perfect_play_holes_every_marble_and_levels_up(app_context):
    scene = start_game(app_context, marbles=20)
    drive(app_context, COUNTDOWN_S + 60, autopilot_script(app_context, noise_deg=0.5))
    assert scene.phase is Phase.DONE
    assert app_context.results[-1]["activity"] == "marbles"
    assert len(scene.attempts) == 20
    assert all(a.outcome is Outcome.HOLED for a in scene.attempts)
    assert scene.adaptive.level == 3  # up after each window of 8 successes
    assert [a.level for a in scene.attempts][:9] == [1] * 8 + [2]
    assert scene.score == sum(a.points for a in scene.attempts)
    logged = [e for e in scene.events if e["event"] == "marble"]
    assert [e["outcome"] for e in logged] == ["holed"] * 20  # kept with the stored session
    assert all(10 * a.level < a.points <= 10 * a.level + 10 for a in scene.attempts)
    cues = app_context.feedback.cues
    assert cues[:4] == [Cue.COUNTDOWN] * 3 + [Cue.GO]
    end = cues.index(Cue.END)
    assert cues[4:end] == [Cue.SELECT] * 20  # one click per holed marble, then the end tone
    heading, lines, key, score = scene.results()
    assert key == "marbles/20" and score == scene.score
    assert "Holed 20 of 20" in lines[0]
    assert app_context.records.get("marbles/20") == scene.score


def test_a_level_board_times_out_and_the_level_goes_down(app_context):
    scene = start_game(app_context, marbles=8, start_level=4)
    limit = MarbleLevel.of(4).time_limit
    drive(app_context, COUNTDOWN_S + 8 * (limit + RESULT_PAUSE_S) + 1, level_board)
    assert scene.phase is Phase.DONE
    assert [a.outcome for a in scene.attempts] == [Outcome.TIMEOUT] * 8
    assert all(a.time_s == pytest.approx(limit, abs=0.011) for a in scene.attempts)
    assert scene.adaptive.level == 3 and scene.score == 0
    assert app_context.records.get("marbles/8") == 0.0


def test_rolling_into_a_trap_loses_the_marble(app_context):
    scene = start_game(app_context, marbles=3, start_level=5)
    drive(app_context, COUNTDOWN_S, level_board)
    scene.layout = TableLayout(
        (Hole(0.5, 0.3, scene.level.hole_radius, target=True), Hole(0.3, 0.2, 0.03)), (0.1, 0.2)
    )
    scene.ball = Ball(0.1, 0.2)
    # Lean right: the marble runs along y = 0.2 straight into the trap.
    drive(app_context, 3, lambda t: (0.0, 3.0))
    assert scene.attempts[0].outcome is Outcome.TRAP and scene.attempts[0].points == 0
    assert Cue.EDGE in app_context.feedback.cues


def test_each_marble_gets_a_new_layout_and_seeds_reproduce_the_game():
    def play(seed):
        app = AppContext(rng=random.Random(seed))
        app.push(StartScene(app))
        scene = MarblesGame(app, MarblesSettings(marbles=5, start_level=5))
        app.push(scene)
        layouts = [scene.layout]
        autopilot = autopilot_script(app)

        def script(t):
            if scene.layout is not layouts[-1]:
                layouts.append(scene.layout)
            return autopilot(t)

        drive(app, COUNTDOWN_S + 30, script)
        assert scene.phase is Phase.DONE
        return layouts, [a.time_s for a in scene.attempts]

    first, same, other = play(1), play(1), play(2)
    assert first == same
    assert first[0] != other[0]
    assert len(first[0]) == 5 and len(set(first[0])) == 5  # a new table for every marble


def test_sensor_loss_and_stepping_off_freeze_the_marble(app_context):
    scene = start_game(app_context, marbles=5)
    drive(app_context, COUNTDOWN_S + 0.5, lambda t: (0.0, 8.0))
    moving = (scene.ball.x, scene.ball.y, scene.ball.vx, scene.marble_time)
    assert scene.ball.vx > 0
    drive(app_context, 5, lambda t: None)
    assert scene.auto_paused
    assert (scene.ball.x, scene.ball.y, scene.ball.vx, scene.marble_time) == moving
    drive(app_context, 5, lambda t: (0.0, 8.0), on_board=False)
    assert (scene.ball.x, scene.ball.y, scene.ball.vx, scene.marble_time) == moving
    drive(app_context, 0.2, lambda t: (0.0, 8.0))
    assert not scene.auto_paused and scene.marble_time > moving[3]


def test_the_countdown_does_not_move_the_marble(app_context):
    scene = start_game(app_context)
    start = scene.ball.x, scene.ball.y
    drive(app_context, COUNTDOWN_S - 0.1, lambda t: (10.0, 10.0))
    assert (scene.ball.x, scene.ball.y) == start and scene.phase is Phase.COUNTDOWN


def test_points_favour_the_level_then_speed():
    assert marble_points(1, 30.0, 30.0) == 20
    assert marble_points(2, 0.0, 30.0) == 20
    assert marble_points(3, 7.5, 15.0) == 35
    assert marble_points(3, -1.0, 15.0) == 30


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        MarblesSettings(marbles=0)
    with pytest.raises(ValueError):
        MarblesSettings(start_level=0)


def test_registered():
    assert ACTIVITIES["marbles"].factory is not None
    assert not ACTIVITIES["marbles"].seated


def test_renders_in_every_phase_and_size(app_context):
    scene = start_game(app_context, marbles=3, start_level=10)
    assert_renders(scene)  # countdown
    drive(app_context, COUNTDOWN_S + 0.5, lambda t: (0.0, 0.0))
    assert len(scene.layout.traps) == 4
    assert_renders(scene)  # rolling, with traps
    drive(app_context, scene.level.time_limit, level_board)
    assert scene.result_left > 0 and scene.last.outcome is Outcome.TIMEOUT
    assert_renders(scene)  # the outcome shown
    scene.user_paused = True
    assert_renders(scene)
