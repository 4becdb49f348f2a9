from datetime import date

import pytest
from conftest import assert_renders, confirm_stop
from test_app_protocols_helpers import Driver

from wobble_trainer.app.controls import Command
from wobble_trainer.app.protocols.base import COUNTDOWN_S, READY_HOLD_S, Phase, ProtocolResultsScene
from wobble_trainer.app.protocols.single_leg_stance import (
    SingleLegStance,
    SingleLegStanceSettings,
)
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.storage import Profile


def start(app, **settings):
    app.push(StartScene(app))
    runner = SingleLegStance(app, SingleLegStanceSettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def test_plan_labels_and_order_default():
    from wobble_trainer.app.scene import AppContext

    runner = SingleLegStance(AppContext())
    labels = [s.label for s in runner.plan]
    assert len(labels) == 12
    assert labels[:6] == [
        "left/eyes-open/trial 1",
        "right/eyes-open/trial 1",
        "left/eyes-open/trial 2",
        "right/eyes-open/trial 2",
        "left/eyes-open/trial 3",
        "right/eyes-open/trial 3",
    ]
    assert labels[-1] == "right/eyes-closed/trial 3"
    spec = runner.plan[7]
    assert spec.label == "right/eyes-closed/trial 1" and spec.eyes_closed
    assert spec.instruction.startswith("Stand on your RIGHT leg, eyes CLOSED")
    assert all(s.duration_s == 45.0 for s in runner.plan)


def test_edge_touch_ends_the_trial_at_the_stance_time(app_context):
    runner, d = start(app_context, legs=("left",), eyes=("open",), trials=1, rest_s=0)
    assert runner.phase is Phase.INSTRUCT
    d.to_running(runner)
    assert d.t == pytest.approx(READY_HOLD_S + COUNTDOWN_S + 0.01, abs=0.015)
    go = d.t - 0.01  # the first running step counts 0.01 s
    d.run(12.3 - 0.01)  # stance 12.3 s, then the rim touches the floor
    d.run(1.0, lambda t: (0.0, 15.0))
    assert len(runner.results) == 1
    result = runner.results[0]
    assert result.ended_by == "edge"
    assert result.time_s == pytest.approx(12.3 + 0.01, abs=0.011)
    assert d.t > go
    cues = app_context.feedback.cues
    assert Cue.EDGE in cues and cues[-1] is Cue.END
    assert cues.count(Cue.COUNTDOWN) == 3 and cues.count(Cue.GO) == 1
    assert isinstance(app_context.scene, ProtocolResultsScene)


def test_the_45_s_maximum_and_best_and_mean_of_3(app_context):
    runner, d = start(app_context, legs=("left", "right"), eyes=("open",), rest_s=0)
    # L1 45 s (max), R1 edge at 10 s, L2 edge at 20 s, R2 30 s, L3 5 s, R3 45 s
    stops = [None, 10.0, 20.0, 30.0, 5.0, None]
    for stop in stops:
        d.to_running(runner)
        started = d.t

        def script(t, started=started, stop=stop):
            if stop is not None and t - started >= stop - 1e-6:
                return (-16.0, 0.0)  # back edge down
            return (1.0, -1.0)

        d.finish_trial(runner, script)
    times = [round(r.time_s, 2) for r in runner.results]
    assert times == pytest.approx([45.0, 10.0, 20.0, 30.0, 5.0, 45.0], abs=0.02)
    assert [r.ended_by for r in runner.results] == ["time", "edge", "edge", "edge", "edge", "time"]
    cond = runner.conditions()
    assert cond["left/eyes-open"]["best_s"] == pytest.approx(45.0, abs=0.02)
    assert cond["left/eyes-open"]["mean_s"] == pytest.approx((45 + 20 + 5) / 3, abs=0.02)
    assert cond["right/eyes-open"]["best_s"] == pytest.approx(45.0, abs=0.02)
    assert cond["right/eyes-open"]["mean_s"] == pytest.approx((10 + 30 + 45) / 3, abs=0.02)
    assert isinstance(app_context.scene, ProtocolResultsScene)


def test_step_off_ends_the_trial_at_the_start_of_the_rim_contact(app_context):
    runner, d = start(
        app_context, legs=("right",), eyes=("open",), trials=1, rest_s=0, stop_at_edge=False
    )
    d.to_running(runner)
    d.run(8.0)
    d.run(2.0, lambda t: (0.0, -15.5))  # on the rim, not ending (stop_at_edge off)
    assert runner.phase is Phase.RUNNING
    d.on_board = False  # presence: nobody on the board any more
    d.run(0.5, lambda t: (0.0, -15.5))
    result = runner.results[0]
    assert result.ended_by == "step-off"
    assert result.time_s == pytest.approx(8.01, abs=0.015)


def test_clinician_stop_and_pause_on_sensor_loss(app_context):
    runner, d = start(app_context, legs=("left",), eyes=("closed",), trials=1, rest_s=0)
    d.to_running(runner)
    d.run(3.0)
    d.run(4.0, lambda t: None)  # sensor lost: time stands still
    assert runner.auto_paused and runner.elapsed == pytest.approx(3.01, abs=0.015)
    d.run(1.0)
    assert not runner.auto_paused
    import pygame

    from wobble_trainer.app.layout import Layout

    pygame.init()
    runner.render(pygame.Surface((800, 480)), Layout(800, 480))
    (rect, action) = runner.buttons[0]
    assert runner.click(rect.center)
    assert runner.results[0].ended_by == "clinician"
    assert runner.results[0].time_s == pytest.approx(4.01, abs=0.015)


def test_rest_between_trials_and_tap_to_start(app_context):
    runner, d = start(app_context, legs=("left", "right"), eyes=("open",), trials=1, rest_s=10)
    from wobble_trainer.app.controls import Command

    runner.command(Command.SELECT)  # the clinician taps Start: no hold needed
    assert runner.phase is Phase.COUNTDOWN
    d.until(lambda: runner.phase is Phase.RUNNING)
    d.until(lambda: runner.phase is Phase.REST, lambda t: (15.0, 0.0))
    d.run(5.0)
    assert runner.phase is Phase.REST and runner.rest_left == pytest.approx(5.0, abs=0.02)
    d.run(5.0)
    assert runner.phase is Phase.INSTRUCT and runner.spec.label == "right/eyes-open/trial 1"


def run_all(app, d, runner, script=lambda t: (0.5, 0.5)):
    d.until(lambda: runner.phase is Phase.DONE, script, limit_s=3000)


def test_reference_values_are_shown_for_the_profile_age(app_context):
    app = app_context
    app.profile = Profile(
        1, "P", date.today().year - 65, None, 1.7, "none", "left", False, date.today()
    )
    runner, d = start(
        app, legs=("left",), eyes=("open", "closed"), trials=1, max_s=10, rest_s=0, surface="floor"
    )
    run_all(app, d, runner)
    refs = runner.summary()["reference"]
    assert refs["eyes-open"]["age_band"] == "60-69"
    assert refs["eyes-open"]["best_s"] == 32.1 and refs["eyes-open"]["mean_s"] == 26.9
    assert refs["eyes-closed"]["mean_s"] == 2.8 and refs["eyes-closed"]["best_s"] is None
    scene = app.scene
    assert isinstance(scene, ProtocolResultsScene)
    text = "\n".join(scene.lines + scene.notes)
    assert "Reference values (Springer 2007)" in text and "J Geriatr Phys Ther" in text
    for word in ("pass", "fail", "normal", "abnormal", "below", "above"):
        assert f" {word} " not in f" {text.lower()} ".replace("pass/fail", "")
    assert_renders(scene)


def test_no_reference_values_for_a_guest(app_context):
    runner, d = start(app_context, legs=("left",), eyes=("open",), trials=1, max_s=10, rest_s=0)
    run_all(app_context, d, runner)
    assert runner.summary()["reference"] is None
    assert "Springer" not in "\n".join(app_context.scene.lines)


def test_trials_are_stored_with_labels_events_and_summary(app_with_db):  # noqa: F811
    app = app_with_db
    runner, d = start(app, legs=("left", "right"), eyes=("open",), trials=2, max_s=10, rest_s=0)
    stops = iter([None, 4.0, None, 6.0])
    while runner.phase is not Phase.DONE:
        d.to_running(runner)
        started, stop = d.t, next(stops)
        d.finish_trial(
            runner,
            lambda t, s=started, st=stop: (15.0, 0.0) if st and t - s >= st else (0.0, 0.0),
        )
    sessions = list(app.db.sessions.iter_sessions())
    assert len(sessions) == 1
    session = sessions[0]
    assert session.kind == "test:single_leg_stance" and session.finished
    assert session.settings["legs"] == ["left", "right"]
    assert session.metrics["completed"] is True
    assert session.metrics["conditions"]["right/eyes-open"]["best_s"] == pytest.approx(
        6.0, abs=0.02
    )
    assert [t["label"] for t in session.metrics["trials"]] == [
        "left/eyes-open/trial 1",
        "right/eyes-open/trial 1",
        "left/eyes-open/trial 2",
        "right/eyes-open/trial 2",
    ]
    trials = app.db.sessions.load_trace(session.id)
    assert [t.label for t in trials] == [t["label"] for t in session.metrics["trials"]]
    assert trials[1].events[0]["event"] == "edge"
    assert trials[1].events[-1] == {
        "t": pytest.approx(4.01, abs=0.015),
        "event": "end",
        "by": "edge",
    }
    assert trials[0].sample_count == pytest.approx(1000, abs=3)


def test_leaving_early_keeps_finished_trials_not_completed(app_with_db):  # noqa: F811
    from wobble_trainer.app.controls import Command

    app = app_with_db
    runner, d = start(app, legs=("left",), eyes=("open",), trials=3, max_s=10, rest_s=0)
    d.to_running(runner)
    d.finish_trial(runner)
    d.to_running(runner)
    d.run(2.0)
    runner.command(Command.MENU)
    confirm_stop(app)
    assert isinstance(app.scene, StartScene)
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.metrics["completed"] is False
    assert len(session.metrics["trials"]) == 1
    assert len(app.db.sessions.load_trace(session.id)) == 1


def test_settings_validation():
    with pytest.raises(ValueError):
        SingleLegStanceSettings(legs=())
    with pytest.raises(ValueError):
        SingleLegStanceSettings(legs=("left", "left"))
    with pytest.raises(ValueError):
        SingleLegStanceSettings(eyes=("shut",))
    with pytest.raises(ValueError):
        SingleLegStanceSettings(trials=0)
    with pytest.raises(ValueError):
        SingleLegStanceSettings(max_s=1.0)


def test_renders_in_every_phase(app_context):
    runner, d = start(
        app_context, legs=("left",), eyes=("open", "closed"), trials=1, max_s=10, rest_s=5
    )
    assert_renders(runner)  # instruction
    d.run(READY_HOLD_S + 1)
    assert runner.phase is Phase.COUNTDOWN
    assert_renders(runner)
    d.to_running(runner)
    d.run(1.0, lambda t: (2.0, 3.0))
    assert_renders(runner)  # eyes open: tilt view
    d.finish_trial(runner)
    assert runner.phase is Phase.REST
    assert_renders(runner)
    d.to_running(runner)
    assert runner.spec.eyes_closed
    assert_renders(runner)
    d.run(4.0, lambda t: None)
    assert_renders(runner)  # paused veil


def profile(injured="none", dominant="left", age=65):
    return Profile(
        1, "P", date.today().year - age, None, 1.7, injured, dominant, False, date.today()
    )


def test_on_the_board_the_norms_are_not_shown_as_a_comparison(app_context):
    app_context.profile = profile()
    runner, d = start(app_context, legs=("left",), eyes=("open",), trials=1, max_s=10, rest_s=0)
    assert SingleLegStanceSettings().surface == "board"
    run_all(app_context, d, runner)
    assert runner.summary()["reference"] is None and runner.summary()["surface"] == "board"
    text = "\n".join(app_context.scene.lines + app_context.scene.notes)
    assert "32.1" not in text and "On the board: no reference values" in text


def test_on_the_floor_best_of_3_beside_best_of_3_and_mean_beside_mean(app_context):
    app_context.profile = profile()
    runner, d = start(app_context, legs=("left",), eyes=("open",), rest_s=0, surface="floor")
    assert runner.plan[0].setup.startswith("On the FLOOR")
    assert runner.comparable  # 3 trials of at most 45 s on the floor
    stops = iter([20.0, 30.0, 40.0])
    while runner.phase is not Phase.DONE:
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        d.to_running(runner)
        d.run(next(stops) - 0.01)
        runner.stop_by_clinician()
    summary = runner.summary()
    assert summary["reference_comparable"] is True
    lines = app_context.scene.lines
    assert any(
        line.strip() == "left: best of 3 40.0 s (reference 32.1 s), "
        "mean of 3 30.0 s (reference 26.9 s)"
        for line in lines
    ), lines


def test_on_the_floor_edge_and_step_off_do_not_end_a_trial(app_context):
    runner, d = start(
        app_context, legs=("left",), eyes=("open",), trials=1, max_s=10, rest_s=0, surface="floor"
    )
    runner.command(Command.SELECT)  # the clinician confirms the floor setup
    d.to_running(runner)
    d.run(2.0, lambda t: (15.0, 0.0))  # a board set aside rests on its rim…
    d.on_board = False  # …and looks unloaded
    d.run(3.0, lambda t: (15.0, 0.0))
    assert runner.phase is Phase.RUNNING and not runner.events
    d.on_board = True
    d.run(6.0)
    assert runner.results[0].ended_by == "time"


def test_a_run_of_2_trials_shows_the_norms_without_times_beside_them(app_context):
    app_context.profile = profile()
    runner, d = start(
        app_context, legs=("left",), eyes=("open",), trials=2, max_s=10, rest_s=0, surface="floor"
    )
    assert not runner.comparable
    run_all(app_context, d, runner)
    text = "\n".join(app_context.scene.lines + app_context.scene.notes)
    assert "best of 3 32.1 s" in text and "(reference" not in text
    assert "Times not set beside them" in text


@pytest.mark.parametrize(
    ("injured", "dominant", "expected", "title"),
    [
        ("left", "right", 50.0, "injured left / right"),  # left 10 s vs right 20 s
        ("right", "right", 200.0, "injured right / left"),
        ("none", "right", 50.0, "non-dominant left / dominant right"),
        ("both", "left", 200.0, "non-dominant right / dominant left"),
    ],
)
def test_limb_symmetry_compares_the_injured_leg_with_the_other(
    app_context, injured, dominant, expected, title
):
    app_context.profile = profile(injured, dominant)
    runner, d = start(app_context, eyes=("open",), trials=1, max_s=30, rest_s=0)
    for stop in (10.0, 20.0):  # left then right
        d.to_running(runner)
        d.run(stop - 0.01)
        runner.stop_by_clinician()
    summary = runner.summary()
    assert summary["limb_symmetry_pct"]["eyes-open"] == pytest.approx(expected, rel=1e-3)
    assert any(f"Symmetry {title}, eyes open" in line for line in app_context.scene.lines)


def test_no_limb_symmetry_without_an_injured_or_dominant_side(app_context):
    runner, d = start(app_context, eyes=("open",), trials=1, max_s=10, rest_s=0)
    run_all(app_context, d, runner)
    assert runner.summary()["limb_symmetry_pct"] == {}
    assert any("No limb symmetry" in n for n in app_context.scene.notes)
