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
