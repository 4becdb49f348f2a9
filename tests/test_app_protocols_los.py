import math
import random

import pytest
from conftest import assert_renders, autopilot_script
from test_app_protocols_helpers import Driver

from wobble_trainer.app.protocols.base import Phase, ProtocolResultsScene
from wobble_trainer.app.protocols.limits_of_stability import (
    DIRECTIONS,
    LimitsOfStability,
    LimitsOfStabilitySettings,
    angle_between,
)
from wobble_trainer.app.scene import AppContext
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles
from wobble_trainer.units import DEG


def start(app, **settings):
    app.push(StartScene(app))
    runner = LimitsOfStability(app, LimitsOfStabilitySettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def ramp_to_target(runner, d, ramp_s=1.0):
    """Straight from level to the target in ramp_s, then hold it (a perfect reach)."""
    started = d.t
    p = runner.spec.params

    def script(t):
        f = min(1.0, (t - started) / ramp_s)
        return (f * p["pitch"] / DEG, f * p["roll"] / DEG)

    return script


def test_targets_at_a_fraction_of_each_directions_edge():
    edges = EdgeAngles(
        front=math.radians(20), back=math.radians(16), left=math.radians(18), right=math.radians(14)
    )
    app = AppContext(calibration=Calibration(edge_angles=edges))
    runner = LimitsOfStability(app, LimitsOfStabilitySettings(target_fraction=0.5))
    assert [s.label for s in runner.plan] == [name for name, _ in DIRECTIONS]
    by = {s.label: s.params for s in runner.plan}
    assert by["front"]["tilt"] == pytest.approx(math.radians(10))
    assert by["front"]["pitch"] == pytest.approx(math.radians(10)) and by["front"]["roll"] == 0
    assert by["right"]["roll"] == pytest.approx(math.radians(7))
    assert by["back"]["pitch"] == pytest.approx(-math.radians(8))
    assert by["left"]["roll"] == pytest.approx(-math.radians(9))
    # diagonals: a true tilt of half the interpolated edge, low side at ±45°/±135°
    fr = by["front-right"]
    assert fr["tilt"] == pytest.approx(math.radians(17) / 2)
    assert angle_between(0.0, 0.0, fr["pitch"], fr["roll"]) == pytest.approx(fr["tilt"])
    assert fr["pitch"] > 0 and fr["roll"] > 0


def test_random_order_is_reproducible_per_seed():
    def order(seed):
        app = AppContext(rng=random.Random(seed))
        runner = LimitsOfStability(app, LimitsOfStabilitySettings(order="random"))
        return [s.label for s in runner.plan]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == sorted(name for name, _ in DIRECTIONS)


def test_straight_reaches_score_full_direction_control(app_context):
    runner, d = start(app_context, rest_s=0)
    for _ in range(8):
        d.to_running(runner)
        d.finish_trial(runner, ramp_to_target(runner, d))
    assert [r.ended_by for r in runner.results] == ["reached"] * 8
    for r in runner.results:
        m = r.metrics
        assert m["reached"]
        assert m["direction_control_pct"] == pytest.approx(100.0, abs=1e-6)
        # 9° target (60% of 15°), 2° radius: inside from 7/9 of the 1 s ramp
        assert m["time_to_reach_s"] == pytest.approx(7 / 9, abs=0.03)
        assert r.time_s == pytest.approx(7 / 9 + 0.5, abs=0.03)  # + the 0.5 s hold
        # the ramp ends on the target's centre: the excursion is the whole distance
        assert m["excursion_pct"] == pytest.approx(100.0, abs=0.5)
        assert m["max_excursion_deg"] == pytest.approx(9.0, abs=0.1)
    assert all("excursion 100%" in line for line in app_context.scene.lines[2:])
    s = runner.summary()
    assert s["reached"] == 8
    assert s["score_pct"] == pytest.approx(100.0, abs=1e-6)
    assert s["total_time_s"] == pytest.approx(8 * 7 / 9, abs=0.2)
    assert isinstance(app_context.scene, ProtocolResultsScene)
    assert not any("Springer" in line for line in app_context.scene.lines)


def test_wandering_reach_scores_lower_and_a_missed_target_its_time_limit(app_context):
    runner, d = start(app_context, rest_s=0, time_limit_s=5.0)
    d.to_running(runner)  # front: wander right first, then to the target
    started = d.t

    def wander(t):
        f = t - started
        if f < 1.0:
            return (0.0, 2.0 * f)
        return (min(1.0, f - 1.0) * 9.0, 2.0 * max(0.0, 2.0 - f))

    d.finish_trial(runner, wander)
    m = runner.results[0].metrics
    assert m["reached"] and 20 < m["direction_control_pct"] < 80
    d.to_running(runner)  # front-right: never gets there
    d.finish_trial(runner, lambda t: (1.0, 1.0))
    missed = runner.results[1]
    assert missed.ended_by == "time" and missed.time_s == pytest.approx(5.0, abs=0.011)
    assert not missed.metrics["reached"]
    s = runner.summary()
    assert s["reached"] == 1
    assert s["total_time_s"] == pytest.approx(m["time_to_reach_s"] + 5.0, abs=1e-6)


def test_autopilot_reaches_every_target(app_context):
    runner, d = start(app_context, rest_s=0)
    d.until(lambda: runner.phase is Phase.DONE, autopilot_script(app_context), limit_s=300)
    assert runner.summary()["reached"] == 8


def test_stored_with_one_trial_per_direction(app_with_db):  # noqa: F811
    app = app_with_db
    runner, d = start(app, rest_s=0)
    d.until(lambda: runner.phase is Phase.DONE, autopilot_script(app), limit_s=300)
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.kind == "test:limits_of_stability" and session.finished
    labels = [t.label for t in app.db.sessions.load_trace(session.id)]
    assert labels == [name for name, _ in DIRECTIONS]
    assert session.metrics["score_pct"] is not None
    assert set(session.metrics["directions"]) == set(labels)


def test_renders(app_context):
    runner, d = start(app_context, rest_s=3)
    assert_renders(runner)
    d.to_running(runner)
    d.run(0.5, ramp_to_target(runner, d))
    assert_renders(runner)
    d.finish_trial(runner, ramp_to_target(runner, d))
    assert runner.phase is Phase.REST
    assert_renders(runner)
