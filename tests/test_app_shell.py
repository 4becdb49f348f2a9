import queue

import pytest
from conftest import board_angles

from wobble_trainer.app.controls import Command
from wobble_trainer.app.scene import LOGIC_DT, Scene
from wobble_trainer.app.shell import TrainerApp
from wobble_trainer.feedback.button import ButtonEvent


class FakeFeed:
    simulated = True

    def __init__(self):
        self.angles = board_angles(2.0, -1.0)
        self.leans = []

    def poll(self):
        return self.angles

    def lean(self, pitch, roll):
        self.leans.append((pitch, roll))


class Recorder(Scene):
    def __init__(self, app):
        super().__init__(app)
        self.ticks = []
        self.commands = []

    def update(self, dt, tick):
        self.ticks.append(tick)

    def command(self, command):
        self.commands.append(command)

    def autopilot(self, tick):
        return (0.1, -0.2)


@pytest.fixture
def shell(app_context):
    scene = Recorder(app_context)
    app_context.push(scene)
    events = queue.SimpleQueue()
    app = TrainerApp(FakeFeed(), app_context, size=(800, 480), button_events=events)
    return app, scene, events


def test_logic_runs_in_fixed_steps_whatever_the_frame_time(shell):
    app, scene, _ = shell
    app.angles = app.feed.poll()
    for elapsed in (0.016, 0.017, 0.0, 0.05, 0.001):
        app.step_logic(elapsed)
    assert len(scene.ticks) == 8  # 84 ms of frames → 8 whole 10 ms steps, 4 ms carried over
    assert [round(t.t / LOGIC_DT) for t in scene.ticks] == list(range(1, 9))
    assert scene.ticks[0].angles.pitch_deg == pytest.approx(2.0)


def test_a_long_stall_does_not_make_logic_race(shell):
    app, scene, _ = shell
    app.step_logic(5.0)
    assert len(scene.ticks) == 10


def test_button_short_press_pauses_long_press_opens_the_menu(shell):
    app, scene, events = shell
    events.put(ButtonEvent.SHORT_PRESS)
    events.put(ButtonEvent.LONG_PRESS)
    app.handle_events()
    assert scene.commands == [Command.PAUSE, Command.MENU]


def test_the_simulated_person_follows_the_scene_autopilot(shell):
    app, _, _ = shell
    app.steer_simulation()
    assert app.feed.leans[-1] == (0.1, -0.2)
    app.app.autopilot = False
    app.steer_simulation()
    assert len(app.feed.leans) == 1


def test_sensor_lost_frame_renders(shell):
    app, _, _ = shell
    app.feed.angles = None
    app.angles = app.feed.poll()
    app.render()  # draws the "Sensor lost" veil without failing


def test_a_touch_away_from_buttons_steers_the_simulated_person(shell, monkeypatch):
    import pygame

    app, scene, _ = shell
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(700, 100)))
    monkeypatch.setattr(pygame.mouse, "get_pos", lambda: (700, 100))
    app.handle_events()
    assert app.manual.active
    assert app.manual.roll > 0 and app.manual.pitch > 0  # up and right of centre
    app.steer_simulation()
    assert app.feed.leans[-1] == (app.manual.pitch, app.manual.roll)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(700, 100)))
    app.handle_events()
    assert not app.manual.active


def test_live_angles_keep_the_learnt_gyro_bias_for_the_next_start(tmp_path):
    from types import SimpleNamespace

    from wobble_trainer.app.shell import LiveAngles
    from wobble_trainer.sampling.ring import SampleRing
    from wobble_trainer.tilt.bias_store import TrustedBias
    from wobble_trainer.tilt.calibration import Calibration

    with SampleRing(100) as ring:
        runner = SimpleNamespace(
            ring=ring,
            info={"config": {"odr_hz": 200.0}},
            spec=SimpleNamespace(kind="sim"),
            mode="thread",
        )
        first = LiveAngles(runner, Calibration.default(), bias_dir=tmp_path)
        learnt = (0.01, -0.02, 0.003)
        first.stream.trusted_bias = TrustedBias(learnt, 0.05, None, "2030-01-01T00:00:00+00:00")
        first.keep_trusted_bias()  # within the first minute: not yet
        assert not list(tmp_path.iterdir())
        first.keep_trusted_bias(force=True)  # at exit
        assert list(tmp_path.iterdir())
        again = LiveAngles(runner, Calibration.default(), bias_dir=tmp_path)
        assert again.stream.estimator.gyro_bias == pytest.approx(learnt)
        without = LiveAngles(runner, Calibration.default())
        assert without.stream.estimator.gyro_bias == pytest.approx((0.0, 0.0, 0.0))


def test_a_warning_is_shown_over_every_screen_for_a_while(shell):
    from wobble_trainer.app.shell import NOTICE_S

    app, _, _ = shell
    app.angles = app.feed.poll()
    app.app.warn("Could not save records.json: the disk at /x is full.")
    app.render()
    assert app.notice_left == NOTICE_S
    for _ in range(round(NOTICE_S / 0.1) + 1):
        app.step_logic(0.1)  # logic time: it waits out a stalled loop
        app.render()
    assert app.notice_left == 0.0
    app.app.warn("Could not save records.json: the disk at /x is full.")  # said again: shown
    app.render()
    assert app.notice_left == NOTICE_S
