import math

import pytest
from conftest import assert_renders
from test_app_protocols_helpers import Driver

from wobble_trainer.app.protocols.base import Phase, ProtocolResultsScene
from wobble_trainer.app.protocols.postural_stability import (
    PosturalStability,
    PosturalStabilitySettings,
)
from wobble_trainer.app.scenes.menus import StartScene


def start(app, **settings):
    app.push(StartScene(app))
    runner = PosturalStability(app, PosturalStabilitySettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def test_three_practice_then_three_test_trials_of_20_s(app_context):
    runner, d = start(app_context, rest_s=0)
    assert [s.label for s in runner.plan] == [
        "practice 1",
        "practice 2",
        "practice 3",
        "test 1",
        "test 2",
        "test 3",
    ]
    assert [s.practice for s in runner.plan] == [True] * 3 + [False] * 3
    # practice trials wobble a lot, test trials hold a steady 3° forward / 4° right lean
    d.until(
        lambda: runner.phase is Phase.DONE,
        lambda t: (
            (3.0, 4.0)
            if runner.index >= 3 and runner.phase is Phase.RUNNING
            else (0.0, 0.0)
            if runner.phase is not Phase.RUNNING
            else (8.0 * math.sin(t), 0.0)
        ),
    )
    assert len(runner.results) == 6
    assert all(r.time_s == pytest.approx(20.0, abs=0.011) for r in runner.results)
    s = runner.summary()
    assert s["test_trials"] == 3
    # indices of the test trials only: OSI = 5 (3-4-5), APSI = 3, MLSI = 4, no sway about the mean
    assert s["osi"] == pytest.approx(5.0, abs=1e-6)
    assert s["apsi"] == pytest.approx(3.0, abs=1e-6)
    assert s["mlsi"] == pytest.approx(4.0, abs=1e-6)
    assert s["sd"]["combined"] == pytest.approx(0.0, abs=1e-6)
    assert s["zone_pct"]["0-5"] == pytest.approx(100.0)
    assert isinstance(app_context.scene, ProtocolResultsScene)
    text = "\n".join(app_context.scene.lines + app_context.scene.notes)
    assert "OSI" in text and "Springer" not in text and "reference" not in text.lower()


def test_the_stability_level_sets_the_cursor_not_the_indices(app_context):
    calm, d = start(app_context, practice_trials=0, test_trials=1, stability_level=12, rest_s=0)
    d.to_running(calm)
    d.run(1.0, lambda t: (1.0, 0.0))
    assert calm.cursor == (0.0, 0.0)  # inside level 12's 1.5° dead band
    lively, d2 = start(app_context, practice_trials=0, test_trials=1, stability_level=1, rest_s=0)
    d2.to_running(lively)
    d2.run(1.0, lambda t: (1.0, 0.0))
    assert lively.cursor[0] == pytest.approx(math.radians(1.0) * 2.25, rel=1e-3)


def test_edge_touches_are_counted_and_step_off_pauses(app_context):
    runner, d = start(app_context, practice_trials=0, test_trials=1, rest_s=0)
    d.to_running(runner)
    d.run(2.0)
    d.run(0.5, lambda t: (0.0, 15.0))
    d.run(2.0)
    assert runner.phase is Phase.RUNNING  # an edge touch does not end it
    before = runner.elapsed
    d.on_board = False
    d.run(3.0)
    assert runner.auto_paused and runner.elapsed == pytest.approx(before)
    d.on_board = True
    d.finish_trial(runner)
    assert runner.results[0].metrics["edge_touches"] == 1
    assert [e["event"] for e in runner.results[0].events] == ["edge", "end"]


def test_paused_time_is_left_out_of_the_indices(app_context):
    from wobble_trainer.app.controls import Command

    runner, d = start(app_context, practice_trials=0, test_trials=1, rest_s=0)
    d.to_running(runner)
    d.run(5.0, lambda t: (3.0, 0.0))
    runner.command(Command.PAUSE)  # the button: a break, resting the board on its rim
    d.run(10.0, lambda t: (15.0, 0.0))
    runner.command(Command.PAUSE)
    d.run(2.0, lambda t: (3.0, 0.0))
    d.run(3.0, lambda t: None)  # sensor lost
    d.finish_trial(runner, lambda t: (3.0, 0.0))
    m = runner.results[0].metrics
    assert runner.results[0].time_s == pytest.approx(20.0, abs=0.011)
    assert m["apsi"] == pytest.approx(3.0, abs=1e-9)  # none of the 15° rim rows
    assert m["max_tilt_deg"] == pytest.approx(3.0, abs=1e-9)
    assert m["valid_duration_s"] == pytest.approx(20.0, abs=0.02)
    assert m["edge_touches"] == 0


def test_stored_session(app_with_db):  # noqa: F811
    app = app_with_db
    runner, d = start(app, practice_trials=1, test_trials=2, duration_s=10, rest_s=0)
    d.until(lambda: runner.phase is Phase.DONE, lambda t: (1.0, 1.0))
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.kind == "test:postural_stability"
    assert [t.label for t in app.db.sessions.load_trace(session.id)] == [
        "practice 1",
        "test 1",
        "test 2",
    ]
    assert session.metrics["osi"] == pytest.approx(math.sqrt(2), abs=1e-3)
    assert session.metrics["trials"][0]["practice"] is True
    assert "reference" not in session.metrics


def test_settings_validation_and_rendering(app_context):
    with pytest.raises(ValueError):
        PosturalStabilitySettings(stability_level=0)
    with pytest.raises(ValueError):
        PosturalStabilitySettings(test_trials=0)
    runner, d = start(app_context, practice_trials=0, test_trials=1, rest_s=0)
    assert_renders(runner)
    d.to_running(runner)
    d.run(1.0, lambda t: (2.0, 1.0))
    assert_renders(runner)
    eyes, d2 = start(app_context, practice_trials=0, test_trials=1, eyes_closed=True, rest_s=0)
    d2.to_running(eyes)
    assert_renders(eyes)


def test_results_call_the_level_virtual_with_the_line_on_what_it_changes(app_context):
    from wobble_trainer import virtual_level

    runner, d = start(app_context, practice_trials=0, test_trials=1, rest_s=0)
    d.until(lambda: runner.phase is Phase.DONE, lambda t: (0.0, 0.0))
    scene = app_context.scene
    assert "virtual stability level 8" in scene.lines[0]
    assert virtual_level.NOTE in scene.notes
    label = {f.name: f.label for f in PosturalStabilitySettings.FIELDS}["stability_level"]
    assert label == "Virtual stability level"
