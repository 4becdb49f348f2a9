"""Tests of wobble_trainer.app.scenes.routine: a guided home-routine step, done and logged."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import assert_renders, drive

from wobble_trainer.app.controls import Command
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.app.scenes.routine import GET_READY_S, GuidedStepScene, draw_movement
from wobble_trainer.home_routine import Movement, routine_for

DAY = date(2025, 3, 3)


def step(key, week=1):
    return next(s for s in routine_for(week, 1) if s.key == key)


@pytest.fixture
def person(app_with_db):
    app = app_with_db
    app.profile = app.db.profiles.create("P-1", 1970, 1.7, "right")
    app.push(StartScene(app))
    return app


def test_a_timer_step_runs_by_itself_and_is_logged_when_the_time_is_up(person):
    app = person
    march = step("warm-up-march")
    scene = GuidedStepScene(app, march, day=DAY, programme_id="p", week=1)
    app.push(scene)
    assert_renders(scene)
    drive(app, GET_READY_S + march.amount - 1, lambda t: None)  # nobody on the board needed
    assert not scene.finished and app.db.plan_steps.on_day(app.profile.id, DAY) == []
    scene.command(Command.UP)  # pause: the clock stops
    drive(app, 10, lambda t: None)
    assert not scene.finished
    scene.command(Command.UP)
    drive(app, 1.1, lambda t: None)
    assert scene.finished
    (row,) = app.db.plan_steps.on_day(app.profile.id, DAY)
    assert (row.step_key, row.programme_id, row.week) == ("warm-up-march", "p", 1)
    assert row.duration_s == pytest.approx(GET_READY_S + march.amount, abs=0.2)
    drive(app, 2, lambda t: None)
    assert isinstance(app.scene, StartScene)


def test_a_rep_step_counts_with_the_animation_and_the_button_says_done(person):
    app = person
    calf = step("calf-raises")
    scene = GuidedStepScene(app, calf, day=DAY)
    app.push(scene)
    drive(app, calf.rep_s * 3 + 0.1, lambda t: None)
    assert scene.reps_done == 3
    scene.command(Command.PAUSE)  # the hardware button's short press
    (row,) = app.db.plan_steps.on_day(app.profile.id, DAY)
    assert row.step_key == "calf-raises" and row.reps == 3


def test_a_held_forward_lean_says_done_and_back_logs_nothing(person):
    app = person
    scene = GuidedStepScene(app, step("seated-circles"), day=DAY)
    app.push(scene)
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (12.0, 0.0))
    assert scene.finished and len(app.db.plan_steps.on_day(app.profile.id, DAY)) == 1
    other = GuidedStepScene(app, step("heel-toe-walks"), day=DAY)
    app.push(other)
    other.command(Command.BACK)
    assert app.scene is not other
    assert [r.step_key for r in app.db.plan_steps.on_day(app.profile.id, DAY)] == ["seated-circles"]


@pytest.mark.parametrize("movement", list(Movement))
def test_every_movement_is_animated(movement):
    import numpy as np
    import pygame

    pygame.init()
    frames = []
    for t in (0.0, 0.7, 1.4, 2.9):
        surface = pygame.Surface((300, 200))
        draw_movement(surface, surface.get_rect().inflate(-20, -20), movement, t)
        frames.append(pygame.surfarray.array3d(surface))
    assert frames[0].any()  # something is drawn
    assert any(not np.array_equal(frames[0], f) for f in frames[1:])  # and it moves


def test_a_per_side_step_counts_each_side_from_zero(person):
    app = person
    circles = step("seated-circles")  # 10 each side
    scene = GuidedStepScene(app, circles, day=DAY)
    app.push(scene)
    drive(app, circles.rep_s * 12 + 0.1, lambda t: None)
    assert scene.reps_done == 12 and scene.side == "right"
    shown = []

    import pygame

    from wobble_trainer.app.layout import Layout

    class Seen(Layout):
        def text(self, surface, text, *args, **kwargs):
            shown.append(text)
            return super().text(surface, text, *args, **kwargs)

    pygame.init()
    scene.render(pygame.Surface((800, 480)), Seen(800, 480))
    assert "2 / 10" in shown and "right side" in shown
