import pytest
from conftest import board_angles

from wobble_trainer.app.controls import Command, LeanMenu, LeanSettings
from wobble_trainer.app.scene import LOGIC_DT


def run(menu, seconds, pitch, roll):
    events = []
    for _ in range(round(seconds / LOGIC_DT)):
        event = menu.update(LOGIC_DT, board_angles(pitch, roll))
        if event is not None:
            events.append(event)
    return events


def test_nothing_counts_until_the_board_has_been_level():
    menu = LeanMenu(3)
    assert run(menu, 3.0, 12.0, 0.0) == []  # leaning from the start: not armed
    assert run(menu, 0.6, 0.0, 0.0) == [] and menu.armed


def test_forward_hold_confirms_after_the_dwell_with_progress():
    menu = LeanMenu(3)
    run(menu, 0.6, 0.0, 0.0)
    assert run(menu, 1.0, 12.0, 0.0) == []
    assert menu.holding is Command.SELECT
    assert menu.progress == pytest.approx(1.0 / LeanSettings().dwell_s, abs=0.01)
    assert run(menu, 0.6, 12.0, 0.0) == [Command.SELECT]
    assert not menu.armed  # must come back to level before anything else counts


def test_one_step_per_sideways_lean():
    menu = LeanMenu(3)
    run(menu, 0.6, 0.0, 0.0)
    assert run(menu, 1.0, 0.0, 10.0) == [Command.RIGHT]
    assert menu.highlight == 1
    run(menu, 0.6, 0.0, 0.0)
    assert run(menu, 1.0, 0.0, -10.0) == [Command.LEFT]
    assert menu.highlight == 0


def test_balancing_sway_never_selects():
    import math

    menu = LeanMenu(4)
    events = []
    for i in range(6000):  # a minute of sway up to 5° in every direction
        t = i * LOGIC_DT
        p = 5.0 * math.sin(2 * math.pi * 0.3 * t)
        r = 5.0 * math.sin(2 * math.pi * 0.23 * t + 1.0)
        e = menu.update(LOGIC_DT, board_angles(p, r))
        if e:
            events.append(e)
    assert events == []


def test_a_forward_lean_that_wavers_back_restarts_the_dwell():
    menu = LeanMenu(2)
    run(menu, 0.6, 0.0, 0.0)
    run(menu, 1.0, 12.0, 0.0)
    run(menu, 0.1, 5.0, 0.0)  # between level and lean: the hold is dropped
    assert run(menu, 1.0, 12.0, 0.0) == []
    assert menu.holding is None or menu.progress < 1.0


def test_back_needs_allow_back_and_sensor_loss_disarms():
    menu = LeanMenu(2, allow_back=False)
    run(menu, 0.6, 0.0, 0.0)
    assert run(menu, 3.0, -12.0, 0.0) == []
    menu = LeanMenu(2)
    run(menu, 0.6, 0.0, 0.0)
    assert run(menu, 2.0, -12.0, 0.0) == [Command.BACK]
    run(menu, 0.6, 0.0, 0.0)
    menu.update(LOGIC_DT, None)
    assert not menu.armed


def test_touch_and_keys_act_at_the_next_step():
    menu = LeanMenu(3)
    menu.touch(2)
    assert menu.update(LOGIC_DT, None) is Command.SELECT and menu.highlight == 2
    menu.press(Command.RIGHT)
    assert menu.highlight == 0
    menu.press(Command.SELECT)
    assert menu.update(LOGIC_DT, board_angles(0, 0)) is Command.SELECT
