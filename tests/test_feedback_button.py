"""Short vs long press, from a mock pin and a manual clock (no real time)."""

import queue

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from wobble_trainer.clock import ManualClock
from wobble_trainer.feedback.button import ButtonEvent, GpioButton, PressClassifier

SHORT, LONG = ButtonEvent.SHORT_PRESS, ButtonEvent.LONG_PRESS


@pytest.fixture
def factory(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    previous = Device.pin_factory
    f = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = f
    yield f
    f.reset()
    Device.pin_factory = previous


def drain(q):
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def test_classifier_short_long_and_bounce():
    c = PressClassifier(hold_time_s=1.0, min_press_s=0.03)
    assert c.pressed(0.0) == [] and c.released(0.3) == [SHORT]
    # Long press reported by the poll at the hold time, once; its release reports nothing.
    c.pressed(1.0)
    assert c.poll(1.99) == []
    assert c.poll(2.0) == [LONG]
    assert c.poll(2.5) == []
    assert c.released(3.0) == []
    # Held past the hold time with nobody polling: long at release, never short.
    c.pressed(4.0)
    assert c.released(5.2) == [LONG]
    # Contact bounce: a 5 ms blip is no press.
    c.pressed(6.0)
    assert c.released(6.005) == []
    # A release without a press (held at start-up) is ignored.
    assert c.released(7.0) == []
    with pytest.raises(ValueError):
        PressClassifier(hold_time_s=0.02, min_press_s=0.03)


def test_gpio_button_short_press(factory):
    clock = ManualClock()
    seen = []
    with GpioButton(16, clock=clock, hold_time_s=1.0) as button:
        button.add_listener(seen.append)
        pin = factory.pin(16)
        assert pin.state  # pulled up: not pressed
        pin.drive_low()
        clock.advance(0.2)
        button.poll()
        pin.drive_high()
        button.poll()
        assert drain(button.events) == [SHORT]
        assert seen == [SHORT]
    assert button.device.closed


def test_gpio_button_long_press_while_held(factory):
    clock = ManualClock()
    # Binary-exact steps, so the hold time is reached exactly at the sixth one.
    button = GpioButton(16, clock=clock, hold_time_s=0.75)
    pin = factory.pin(16)
    pin.drive_low()
    for _ in range(5):
        clock.advance(0.125)
        button.poll()
    assert drain(button.events) == []
    clock.advance(0.125)
    button.poll()
    assert drain(button.events) == [LONG]  # menu opens while still held
    clock.advance(1.0)
    button.poll()
    pin.drive_high()
    assert drain(button.events) == []  # and the release is not a short press
    # The next press is a fresh one.
    pin.drive_low()
    clock.advance(0.1)
    pin.drive_high()
    assert drain(button.events) == [SHORT]
    button.close()
    button.close()


def test_bad_listener_does_not_stop_delivery(factory, caplog):
    clock = ManualClock()
    button = GpioButton(16, clock=clock)
    button.add_listener(lambda e: 1 / 0)
    pin = factory.pin(16)
    pin.drive_low()
    clock.advance(0.1)
    pin.drive_high()
    assert drain(button.events) == [SHORT]
    assert "button listener" in caplog.text
    button.close()
