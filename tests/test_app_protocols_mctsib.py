import pytest
from conftest import assert_renders
from test_app_protocols_helpers import Driver

from wobble_trainer.app.controls import Command
from wobble_trainer.app.protocols.base import (
    COUNTDOWN_S,
    SETUP_HOLD_S,
    Phase,
    ProtocolResultsScene,
)
from wobble_trainer.app.protocols.mctsib import CONDITIONS, Mctsib, MctsibSettings
from wobble_trainer.app.scenes.menus import StartScene


def start(app, **settings):
    app.push(StartScene(app))
    runner = Mctsib(app, MctsibSettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def test_four_conditions_in_the_standard_order_with_setups(app_context):
    runner, _ = start(app_context)
    assert [s.label for s in runner.plan] == list(CONDITIONS)
    assert [s.eyes_closed for s in runner.plan] == [False, True, False, True]
    assert all(s.duration_s == 30.0 for s in runner.plan)
    assert runner.plan[0].setup == runner.plan[1].setup != runner.plan[2].setup
    assert runner.phase is Phase.SETUP  # the locked setup is confirmed first


def test_setup_confirmed_hands_free_or_by_tap_only_when_it_changes(app_context):
    runner, d = start(app_context, rest_s=0)
    d.run(SETUP_HOLD_S - 0.5)
    assert runner.phase is Phase.SETUP  # a 2 s level hold is not enough for a setup
    d.run(0.6)
    assert runner.phase is Phase.COUNTDOWN
    d.finish_trial(runner)  # condition 1: 30 s
    assert runner.phase is Phase.INSTRUCT  # condition 2: same board setup, no confirmation
    d.finish_trial(runner)
    assert runner.phase is Phase.SETUP  # condition 3: the board is freed
    runner.command(Command.SELECT)  # the clinician taps Ready
    assert runner.phase is Phase.COUNTDOWN
    assert [e["by"] for e in runner.session_events] == ["hold", "tap"]
    assert [e["before"] for e in runner.session_events] == ["eyes-open/locked", "eyes-open/free"]


def test_metrics_per_condition_and_early_ends(app_context):
    runner, d = start(app_context, rest_s=0, attempts=1)
    d.to_running(runner)
    d.finish_trial(runner, lambda t: (0.0, 0.0))  # locked: board cannot move
    d.to_running(runner)
    d.run(12.0)
    runner.stop_by_clinician()  # a step on the locked board: only the clinician sees it
    d.to_running(runner)
    d.finish_trial(runner, lambda t: (2.0, -1.0))
    d.to_running(runner)
    d.run(7.0, lambda t: (1.0, 1.0))
    d.run(2.0, lambda t: (15.0, 0.0))  # on the rim …
    d.on_board = False  # … and stepped off
    d.run(0.1, lambda t: (15.0, 0.0))
    assert runner.phase is Phase.DONE
    per = runner.summary()["conditions"]
    assert per["eyes-open/locked"]["held_s"] == pytest.approx(30.0, abs=0.011)
    assert per["eyes-open/locked"]["osi"] == pytest.approx(0.0, abs=1e-9)
    assert per["eyes-closed/locked"]["held_s"] == pytest.approx(12.0, abs=0.02)
    assert per["eyes-closed/locked"]["ended_by"] == "clinician"
    assert per["eyes-open/free"]["completed"]
    assert per["eyes-open/free"]["apsi"] == pytest.approx(2.0, abs=1e-6)
    assert per["eyes-open/free"]["mlsi"] == pytest.approx(1.0, abs=1e-6)
    closed_free = per["eyes-closed/free"]
    assert closed_free["ended_by"] == "step-off"
    assert closed_free["held_s"] == pytest.approx(7.0, abs=0.02)  # when the rim went down
    assert closed_free["edge_touches"] == 1
    assert runner.summary()["total_held_s"] == pytest.approx(30 + 12 + 30 + 7, abs=0.05)
    scene = app_context.scene
    assert isinstance(scene, ProtocolResultsScene)
    assert not any("Springer" in x or "reference" in x.lower() for x in scene.lines + scene.notes)


def test_sensor_loss_pauses_the_countdown_and_the_condition(app_context):
    runner, d = start(app_context, conditions=CONDITIONS[2:], rest_s=0)
    runner.command(Command.SELECT)
    d.run(1.0)
    d.run(5.0, lambda t: None)
    assert runner.phase is Phase.COUNTDOWN and runner.auto_paused
    assert runner.countdown_left == pytest.approx(COUNTDOWN_S - 1.0, abs=0.02)
    d.to_running(runner)
    d.run(5.0)
    d.run(5.0, lambda t: None)
    assert runner.elapsed == pytest.approx(5.0, abs=0.02)


def test_stored_session(app_with_db):  # noqa: F811
    app = app_with_db
    runner, d = start(app, duration_s=10, rest_s=0)
    d.until(lambda: runner.phase is Phase.DONE, lambda t: (0.5, 0.0))
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.kind == "test:mctsib" and session.finished
    assert [t.label for t in app.db.sessions.load_trace(session.id)] == list(CONDITIONS)
    assert [e["event"] for e in session.events] == ["setup", "setup"]
    assert set(session.metrics["conditions"]) == set(CONDITIONS)
    assert "reference" not in session.metrics


def test_renders_setup_running_and_results(app_context):
    runner, d = start(app_context, duration_s=10, rest_s=0)
    assert_renders(runner)
    runner.command(Command.SELECT)
    d.to_running(runner)
    assert_renders(runner)
    d.until(lambda: runner.phase is Phase.DONE, lambda t: (0.5, 0.0))
    assert_renders(app_context.scene)


def test_up_to_3_attempts_when_30_s_is_not_reached_averaged(app_context):
    runner, d = start(app_context, rest_s=0, conditions=CONDITIONS[:2])
    assert MctsibSettings().attempts == 3
    d.to_running(runner)
    d.run(10.0)
    runner.stop_by_clinician()  # attempt 1: 10 s
    assert runner.spec.label == "eyes-open/locked/attempt 2"
    assert runner.phase is Phase.INSTRUCT  # same board setup: no confirmation again
    assert "attempt 2 of 3" in runner.spec.instruction
    d.to_running(runner)
    d.run(20.0)
    runner.stop_by_clinician()  # attempt 2: 20 s
    d.finish_trial(runner)  # attempt 3: held 30 s
    assert runner.spec.label == "eyes-closed/locked"
    d.finish_trial(runner)  # held at the first attempt: no more attempts
    assert runner.phase is Phase.DONE
    assert [r.spec.label for r in runner.results] == [
        "eyes-open/locked",
        "eyes-open/locked/attempt 2",
        "eyes-open/locked/attempt 3",
        "eyes-closed/locked",
    ]
    per = runner.summary()["conditions"]
    first = per["eyes-open/locked"]
    assert first["attempts"] == 3 and first["completed"]
    assert first["attempts_held_s"] == pytest.approx([10.0, 20.0, 30.0], abs=0.02)
    assert first["held_s"] == pytest.approx(20.0, abs=0.02)  # the mean of the 3
    assert per["eyes-closed/locked"]["attempts"] == 1
    assert runner.summary()["total_held_s"] == pytest.approx(50.0, abs=0.05)
    assert any("mean of 3 attempts: 10.0 / 20.0 / 30.0" in x for x in app_context.scene.lines)


def test_attempts_stop_at_the_setting_and_at_the_first_held(app_context):
    runner, d = start(app_context, rest_s=0, conditions=CONDITIONS[:1], attempts=2)
    d.to_running(runner)
    d.run(5.0)
    runner.stop_by_clinician()
    d.to_running(runner)
    d.run(7.0)
    runner.stop_by_clinician()
    assert runner.phase is Phase.DONE  # 2 attempts, neither held
    c = runner.summary()["conditions"]["eyes-open/locked"]
    assert c["attempts"] == 2 and not c["completed"]
    assert c["held_s"] == pytest.approx(6.0, abs=0.02)
    with pytest.raises(ValueError, match="attempts"):
        MctsibSettings(attempts=4)
