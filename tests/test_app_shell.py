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
    # nobody steering: the simulated person stands level (not left on a rim)
    assert app.feed.leans[-1] == (0.0, 0.0)


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


class LeaningFeed:
    """A simulated board whose person takes the leaned-to pose at once (no physics)."""

    simulated = True

    def __init__(self):
        import numpy as np

        from wobble_trainer.tilt.stream import ANGLE_DTYPE

        self.target = (0.0, 0.0)
        self.new_angles = np.empty(0, dtype=ANGLE_DTYPE)
        self.new_samples = None
        self.lost = False

    def poll(self):
        from wobble_trainer.units import DEG

        if self.lost:
            return None
        return board_angles(self.target[0] / DEG, self.target[1] / DEG)

    def lean(self, pitch, roll):
        self.target = (pitch, roll)


def test_the_demo_recovers_from_any_key_sequence(app_context):
    """Random keys (menus, pause, back, the autopilot toggle) and then nobody steering: the
    board stands level, never on a rim; with the autopilot back on (and a pause the keys left
    lifted, as the person would) the demo goes on into a running activity or test."""
    import random

    import pygame

    from wobble_trainer.app.activities.base import Phase as ActivityPhase
    from wobble_trainer.app.activities.base import TimedActivity
    from wobble_trainer.app.protocols.base import Phase as TestPhase
    from wobble_trainer.app.protocols.base import ProtocolRunner
    from wobble_trainer.app.scenes.menus import StartScene
    from wobble_trainer.tilt.calibration import Calibration
    from wobble_trainer.units import DEG

    keys = [pygame.K_LEFT, pygame.K_RIGHT, pygame.K_RETURN, pygame.K_ESCAPE, pygame.K_SPACE]
    keys += [pygame.K_m, pygame.K_p, pygame.K_DOWN]
    for seed in range(3):
        context = app_context
        context.stack.clear()
        context.autopilot = True
        context.calibration = Calibration(uncalibrated=False)
        context.push(StartScene(context))
        feed = LeaningFeed()
        app = TrainerApp(feed, context, size=(800, 480))
        rng = random.Random(seed)
        for _ in range(1500):  # 25 s of frames, a key in every fifth
            if rng.random() < 0.2:
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=rng.choice(keys), mod=0))
            app.frame(1 / 60)
        context.autopilot = False
        app.frame(1 / 60)
        assert feed.target == (0.0, 0.0)
        assert app.angles.tilt < 1 * DEG
        context.autopilot = True
        running = False
        for _ in range(60 * 240):
            scene = context.scene
            if getattr(scene, "user_paused", False):
                scene.command(Command.PAUSE)
            app.frame(1 / 60)
            scene = context.scene
            if isinstance(scene, TimedActivity) and scene.phase is ActivityPhase.RUNNING:
                running = True
            if isinstance(scene, ProtocolRunner) and scene.phase is TestPhase.RUNNING:
                running = True
            if running:
                break
        assert running, f"seed {seed}: stuck on {type(context.scene).__name__}"


def test_sensor_lost_replaces_the_paused_veil_instead_of_drawing_over_it(app_context):
    from wobble_trainer.app.activities.hold import HoldChallenge

    app_context.push(HoldChallenge(app_context))
    feed = LeaningFeed()
    app = TrainerApp(feed, app_context, size=(480, 800))
    feed.lost = True
    for _ in range(3):
        app.frame(1 / 60)
    texts = [d.text for d in app.layout.drawn]
    assert "Sensor lost" in texts and "Paused" not in texts


def test_the_simulated_board_banner_is_below_every_screen(app_context):
    from wobble_trainer.app.scenes.menus import StartScene

    app_context.push(StartScene(app_context))
    app = TrainerApp(
        LeaningFeed(), app_context, size=(800, 480), banner=("Simulated board", "Wire an IMU")
    )
    app.frame(1 / 60)
    assert app.layout.height < 480
    banner = [d for d in app.banner_layout.drawn]
    assert [d.text for d in banner] == ["Simulated board", "Wire an IMU"]
    assert all(d.rect.top >= app.layout.height for d in banner)
    assert all(d.rect.bottom <= app.layout.height for d in app.layout.drawn)


def test_a_scene_that_takes_typing_gets_the_keys_before_the_menu_keys(shell):
    import pygame

    from wobble_trainer.app.scenes.profiles import TextEntryScene

    app, scene, _ = shell
    entry = TextEntryScene(app.app, "Name", "", lambda text: None)
    app.app.push(entry)
    pygame.event.clear()
    for char, key in (("m", pygame.K_m), ("P", pygame.K_p)):  # M is the menu key elsewhere
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=0))
    app.handle_events()
    assert entry.text == "mP" and app.app.scene is entry


def test_who_is_training_is_drawn_over_the_scene(shell, monkeypatch):
    from wobble_trainer.app import shell as shell_module

    app, scene, _ = shell
    drawn = []
    monkeypatch.setattr(
        shell_module, "draw_person_badge", lambda surface, layout, ctx: drawn.append(ctx.scene)
    )
    app.render()
    assert drawn == [scene]
