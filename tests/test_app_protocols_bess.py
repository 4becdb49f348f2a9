from datetime import date

import pygame
import pytest
from conftest import assert_renders
from test_app_protocols_helpers import Driver

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.protocols.base import Phase, ProtocolResultsScene
from wobble_trainer.app.protocols.bess import CLINICIAN_ERRORS, Bess, BessSettings
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.storage import Profile

KINDS = [kind for kind, _ in CLINICIAN_ERRORS]


def start(app, **settings):
    app.push(StartScene(app))
    runner = Bess(app, BessSettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def tap(runner, kind, size=(800, 480)):
    """Tap the clinician's on-screen button for ``kind`` ("undo" for Undo)."""
    pygame.init()
    runner.render(pygame.Surface(size), Layout(*size))
    index = len(KINDS) if kind == "undo" else KINDS.index(kind)
    rect, _ = runner.buttons[index]
    assert runner.click(rect.center)


def to_condition(runner, d, label):
    while True:
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        d.to_running(runner)
        if runner.spec.label == label:
            return
        d.finish_trial(runner)


def test_six_conditions_eyes_closed_on_the_non_dominant_leg(app_context):
    app_context.profile = Profile(1, "P", 1990, None, 1.8, "none", "right", False, date.today())
    runner, _ = start(app_context)
    assert [s.label for s in runner.plan] == [
        "locked/double",
        "locked/single",
        "locked/tandem",
        "free/double",
        "free/single",
        "free/tandem",
    ]
    assert all(s.eyes_closed and s.duration_s == 20.0 for s in runner.plan)
    assert runner.leg == "left"
    assert "LEFT leg" in runner.plan[1].instruction
    assert runner.plan[2].instruction.startswith("LEFT foot behind")
    app_context.profile = Profile(1, "P", 1990, None, 1.8, "none", "left", False, date.today())
    assert Bess(app_context, BessSettings()).leg == "right"
    assert Bess(app_context, BessSettings(test_leg="left")).leg == "left"


def test_board_counts_edge_touches_and_steps_clinician_taps_the_rest(app_context):
    runner, d = start(app_context, surfaces=("free",), rest_s=0)
    to_condition(runner, d, "free/double")
    d.run(2.0)
    d.run(0.3, lambda t: (15.0, 0.0))  # edge touch 1
    d.run(1.0)
    d.run(0.3, lambda t: (0.0, -15.0))  # edge touch 2
    d.run(1.0)
    tap(runner, "hands")
    tap(runner, "eyes")
    tap(runner, "eyes")
    tap(runner, "undo")  # a mistaken tap taken back
    d.run(1.5)  # (an edge touch right after the taps would be the same moment's error)
    d.run(1.0, lambda t: (-15.0, 0.0))  # edge touch 3 … that turns into a step off
    d.on_board = False
    d.run(2.0, lambda t: (-15.0, 0.0))
    d.on_board = True
    d.run(1.0)
    d.on_board = False  # a step off the board without an edge touch first
    d.run(0.5)
    d.on_board = True
    d.run(1.5)  # well after the step off: a separate error
    runner.command(Command.UP)  # keyboard: an unspecified error
    d.finish_trial(runner)
    result = runner.results[0]
    assert result.time_s == pytest.approx(20.0, abs=0.011)  # stepping off does not stop BESS
    m = result.metrics
    assert m["by_kind"] == {"edge": 2, "hands": 1, "eyes": 1, "step-off": 2, "other": 1}
    assert m["errors"] == m["score"] == 7
    assert m["board_errors"] == 4 and m["clinician_errors"] == 3
    assert m["stance_s"] == pytest.approx(20.0 - 2.5, abs=0.02)
    assert m["same_moment"] == 0
    events = [e for e in result.events if e["event"] == "error"]
    assert [e["kind"] for e in events] == [
        "edge",
        "edge",
        "hands",
        "eyes",
        "step-off",
        "step-off",
        "other",
    ]
    assert any(e["event"] == "undo" for e in result.events)


def test_a_board_error_and_a_tap_at_the_same_moment_are_one_error(app_context):
    from wobble_trainer.app.protocols.bess import SAME_MOMENT_S

    assert SAME_MOMENT_S == 1.0
    runner, d = start(app_context, surfaces=("free",), rest_s=0)
    to_condition(runner, d, "free/double")
    d.run(2.0)
    d.run(0.3, lambda t: (15.0, 0.0))  # the board counts an edge touch…
    d.run(0.5)
    tap(runner, "stumble")  # …and the clinician taps the stumble 0.5-0.8 s later: one error
    assert runner.score == 1
    tap(runner, "hands")  # a second tap of the clinician's own counts (the clinician saw two)
    assert runner.score == 2
    d.run(3.0)
    tap(runner, "stumble")  # the clinician first this time…
    d.run(0.2, lambda t: (0.0, 15.0))  # …the board's edge touch follows 0.2 s later: one error
    assert runner.score == 3
    d.run(3.0)
    d.run(0.3, lambda t: (15.0, 0.0))  # an edge touch…
    d.run(1.5)
    tap(runner, "eyes")  # …and a tap 1.5 s later: two errors
    assert runner.score == 5
    tap(runner, "undo")
    assert runner.score == 4
    d.run(2.0)
    d.run(0.3, lambda t: (15.0, 0.0))
    tap(runner, "stumble")  # merged with that touch…
    tap(runner, "undo")  # …and taken back: the board's error stays, alone
    assert runner.score == 5
    d.finish_trial(runner)
    m = runner.results[0].metrics
    assert m["errors"] == 5 and m["same_moment"] == 2
    assert m["by_kind"] == {"edge": 3, "hands": 1, "stumble": 1}
    merged = [e for e in runner.results[0].events if "same_as" in e]
    assert [(e["kind"], e["same_as"]["kind"]) for e in merged] == [
        ("stumble", "edge"),
        ("edge", "stumble"),
    ]


def test_the_hip_error_reads_flexion_or_abduction():
    assert dict(CLINICIAN_ERRORS)["hip"] == "Hip flexion or abduction > 30°"


def test_at_most_10_errors_and_under_5_s_scores_10(app_context):
    runner, d = start(app_context, surfaces=("locked",), rest_s=0)
    to_condition(runner, d, "locked/double")
    for _ in range(12):
        tap(runner, "stumble")
    assert runner.score == 10
    d.finish_trial(runner)
    assert runner.results[0].metrics["errors"] == 12
    assert runner.results[0].metrics["score"] == 10
    d.to_running(runner)  # single stance: off the board after 4 s, never back
    d.run(4.0)
    d.on_board = False
    d.finish_trial(runner, lambda t: (15.0, 0.0))
    m = runner.results[1].metrics
    assert m["under_5_s"] and m["score"] == 10 and m["errors"] == 1
    d.on_board = True
    d.to_running(runner)
    tap(runner, "hip")
    tap(runner, "position", size=(720, 1280))  # portrait layout too
    d.finish_trial(runner)
    s = runner.summary()
    assert s["conditions"]["locked/tandem"]["score"] == 2
    assert s["surface_totals"] == {"locked": 22} and s["total"] == 22


def test_taps_only_count_while_a_condition_runs(app_context):
    runner, d = start(app_context, surfaces=("locked",), rest_s=5)
    runner.add_error("hands")
    assert runner.errors == []
    to_condition(runner, d, "locked/double")
    d.finish_trial(runner)
    assert runner.phase is Phase.REST
    runner.add_error("hands")
    assert runner.results[0].metrics["errors"] == 0


def test_stored_session_with_tap_events(app_with_db):  # noqa: F811
    app = app_with_db
    runner, d = start(app, duration_s=10, rest_s=0)
    while runner.phase is not Phase.DONE:
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        d.to_running(runner)
        tap(runner, "hands")
        d.finish_trial(runner)
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.kind == "test:bess" and session.finished
    trials = app.db.sessions.load_trace(session.id)
    assert [t.label for t in trials] == [s.label for s in runner.plan]
    assert all(t.events[0]["kind"] == "hands" and t.events[0]["by"] == "clinician" for t in trials)
    assert session.metrics["total"] == 6
    assert "reference" not in session.metrics
    scene = app.scene
    assert isinstance(scene, ProtocolResultsScene)
    assert scene.lines[0] == "BESS total: 6 errors"
    assert not any("Springer" in x for x in scene.lines + scene.notes)


def test_renders(app_context):
    runner, d = start(app_context, rest_s=0)
    assert_renders(runner)
    runner.command(Command.SELECT)
    d.to_running(runner)
    tap(runner, "hands")
    assert_renders(runner)
