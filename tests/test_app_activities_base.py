"""What every timed activity shares, checked on every activity and clinical test: pause means
pause (every clock stops and the screen stands still), and leaving asks first."""

import pygame
import pytest
from conftest import autopilot_script, drive

import wobble_trainer.app.activities  # noqa: F401  (registers the activities)
from wobble_trainer.app.activities.base import COUNTDOWN_S, TimedActivity
from wobble_trainer.app.activities.hold import HoldChallenge
from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.protocols import PROTOCOLS
from wobble_trainer.app.protocols import base as protocol_base
from wobble_trainer.app.scene import ACTIVITIES
from wobble_trainer.app.scenes.menus import StartScene


def _scenes(app):
    yield "hold", HoldChallenge(app)
    for name, activity in ACTIVITIES.items():
        scene = activity.factory(app)
        if isinstance(scene, TimedActivity):
            yield name, scene
    for name, protocol in PROTOCOLS.items():
        yield f"test:{name}", protocol.factory(app, protocol.settings_type())


def _clocks(scene) -> dict[str, float]:
    """Every number the scene keeps (its clocks among them)."""
    return {k: v for k, v in vars(scene).items() if isinstance(v, float)}


def _texts(scene) -> list[str]:
    layout = Layout(800, 480)
    scene.render(pygame.Surface((800, 480)), layout)
    return [d.text for d in layout.drawn]


def _to_running(app, scene) -> None:
    app.push(StartScene(app))
    app.push(scene)
    script = autopilot_script(app)
    for _ in range(600):
        phase = getattr(scene, "phase", None)
        if str(phase) == "running" and scene.elapsed > 0.2:
            return
        if phase in (protocol_base.Phase.SETUP, protocol_base.Phase.INSTRUCT):
            scene.command(Command.SELECT)
        drive(app, 0.05, script)
    raise AssertionError(f"{type(scene).__name__} never ran")


@pytest.mark.parametrize("how", ["button", "off the board", "sensor lost"])
def test_a_paused_activity_or_test_stands_still(app_context, how):
    pygame.init()
    for name, scene in list(_scenes(app_context)):
        app_context.stack.clear()
        _to_running(app_context, scene)
        if how == "button":
            scene.command(Command.PAUSE)
        script = {"sensor lost": lambda t: None}.get(how, lambda t: (0.5, 0.3))
        drive(app_context, 0.01, script, on_board=how != "off the board")
        rule = getattr(scene, "off_board", protocol_base.OffBoard.PAUSE)
        if how == "off the board" and rule is not protocol_base.OffBoard.PAUSE:
            continue  # seated tests and BESS carry on, single-leg stance ends: their rules
        clocks, texts = _clocks(scene), _texts(scene)
        assert "Paused" in texts, name
        drive(app_context, 5.0, script, on_board=how != "off the board")
        assert app_context.scene is scene, name
        assert _clocks(scene) == clocks, name
        assert _texts(scene) == texts, name


def test_the_countdown_waits_too(app_context):
    app = app_context
    app.push(StartScene(app))
    hold = HoldChallenge(app)
    app.push(hold)
    drive(app, 1.0, lambda t: (0.0, 0.0))
    hold.command(Command.PAUSE)
    left = hold.countdown_left
    drive(app, 5.0, lambda t: (0.0, 0.0))
    assert hold.countdown_left == left
    hold.command(Command.PAUSE)
    drive(app, COUNTDOWN_S, lambda t: (0.0, 0.0))
    assert hold.elapsed > 0
