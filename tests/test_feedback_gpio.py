"""Pin map and the gpiozero outputs (RGB or separate zone LEDs, PWM or on/off, both buzzers)."""

import pytest
from gpiozero import LED, RGBLED, Device, GPIOPinInUse
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from wobble_trainer.feedback.gpio import (
    HEADER_PIN,
    GpioOutputs,
    GpioPins,
    GpioSetupError,
    open_gpio_feedback,
)
from wobble_trainer.feedback.zones import DARK, DirectionLevels, Zone


def _factory(monkeypatch, pin_class):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    previous = Device.pin_factory
    f = MockFactory(pin_class=pin_class)
    Device.pin_factory = f
    return f, previous


@pytest.fixture
def factory(monkeypatch):
    f, previous = _factory(monkeypatch, MockPWMPin)
    yield f
    f.reset()
    Device.pin_factory = previous


@pytest.fixture
def plain_factory(monkeypatch):
    """Mock pins WITHOUT PWM, as on a pin library that has none."""
    f, previous = _factory(monkeypatch, MockPin)
    yield f
    f.reset()
    Device.pin_factory = previous


def states(factory, gpio):
    return [s.state for s in factory.pin(gpio).states]


# --- pin map ---------------------------------------------------------------------------------


def test_default_pin_map_avoids_bus_pins_and_documents_header_pins():
    pins = GpioPins()
    fitted = pins.fitted()
    assert fitted == {
        "zone_red": 17, "zone_green": 27, "zone_blue": 22, "front": 5, "back": 6, "left": 13,
        "right": 26, "buzzer": 12, "button": 16,
    }  # fmt: skip
    # I2C1 (IMU), ID EEPROM, UART, SPI0 and PCM/I2S audio stay free.
    assert not set(fitted.values()) & {0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21}
    assert pins.describe()[0] == "zone_red: GPIO17 (header pin 11)"
    assert "button: GPIO16 (header pin 36)" in pins.describe()
    assert HEADER_PIN[2] == 3 and HEADER_PIN[3] == 5 and HEADER_PIN[26] == 37
    assert sorted(HEADER_PIN) == list(range(28))
    separate = GpioPins(zone_style="separate")
    assert separate.fitted()["zone_amber"] == 22 and "zone_blue" not in separate.fitted()


def test_pin_map_validation():
    with pytest.raises(ValueError, match="I2C1"):
        GpioPins(front=2)
    with pytest.raises(ValueError, match="both use GPIO5"):
        GpioPins(back=5)
    with pytest.raises(ValueError, match="not on the 40-pin header"):
        GpioPins(buzzer=40)
    with pytest.raises(ValueError):
        GpioPins(zone_style="neon")
    with pytest.raises(ValueError):
        GpioPins(buzzer_kind="loud")
    # None = not fitted, so its pin is free for something else.
    assert GpioPins(front=None, back=None, button=5).fitted()["button"] == 5
    assert GpioPins.from_dict({"buzzer": None}).buzzer is None
    with pytest.raises(ValueError, match="buzzr"):
        GpioPins.from_dict({"buzzr": 12})


# --- zone light ------------------------------------------------------------------------------


ZONE_SEQUENCE = [
    (Zone.TARGET, True), (Zone.NEAR, True), (Zone.OUTSIDE, True), (Zone.EDGE, True),
    (Zone.EDGE, False), (Zone.EDGE, True), (Zone.OFF, False),
]  # fmt: skip


def show_all(out):
    for zone, lit in ZONE_SEQUENCE:
        out.show_zone(zone, lit)


def test_rgb_led_colours(factory):
    out = GpioOutputs(GpioPins())
    assert isinstance(out.rgb, RGBLED)
    show_all(out)
    assert states(factory, 17) == [False, 1.0, 0.0, 1.0, 0.0]  # amber, red, flash
    assert states(factory, 27) == [False, 1.0, 0.5, 0.0]
    assert states(factory, 22) == [False]
    out.close()


def test_rgb_without_pwm_mixes_amber_from_full_red_and_green(plain_factory):
    out = GpioOutputs(GpioPins(zone_pwm=False, direction_pwm=False))
    show_all(out)
    assert states(plain_factory, 17) == [False, True, False, True, False]
    assert states(plain_factory, 27) == [False, True, False]
    out.close()


def test_common_anode_rgb_is_inverted(factory):
    out = GpioOutputs(GpioPins(zone_active_high=False))
    out.show_zone(Zone.TARGET, True)
    out.show_zone(Zone.OFF, False)
    # Idle high (off); green driven low to light it.
    assert states(factory, 27) == [False, 1.0, 0.0, 1.0]
    out.close()


def test_separate_red_amber_green_leds(factory):
    out = GpioOutputs(GpioPins(zone_style="separate"))
    assert out.rgb is None and list(out.lamps) == ["red", "amber", "green"]
    show_all(out)
    assert states(factory, 27) == [False, 1.0, 0.0]  # green: target
    assert states(factory, 22) == [False, 1.0, 0.0]  # amber: near
    assert states(factory, 17) == [False, 1.0, 0.0, 1.0, 0.0]  # red: outside, edge flashing
    out.close()


def test_separate_without_amber_shows_near_as_red_and_green(factory):
    out = GpioOutputs(GpioPins(zone_style="separate", zone_amber=None))
    out.show_zone(Zone.NEAR, True)
    assert (factory.pin(17).state, factory.pin(27).state) == (1.0, 1.0)
    assert states(factory, 22) == [False]
    out.close()


def test_rgb_with_blue_not_fitted_uses_single_leds(factory):
    out = GpioOutputs(GpioPins(zone_blue=None))
    assert out.rgb is None and list(out.lamps) == ["red", "green"]
    out.show_zone(Zone.NEAR, True)
    assert (factory.pin(17).state, factory.pin(27).state) == (1.0, 0.5)
    out.close()


# --- direction LEDs and buzzers --------------------------------------------------------------


def test_direction_leds_pwm_quantised_and_written_on_change_only(factory):
    out = GpioOutputs(GpioPins())
    out.show_directions(DirectionLevels(front=0.5, left=0.01))
    out.show_directions(DirectionLevels(front=0.51, left=0.01))  # same 1/32 step
    out.show_directions(DirectionLevels(front=1.0, right=0.25))
    out.show_directions(DARK)
    assert states(factory, 5) == [False, 0.5, 1.0, 0.0]
    assert states(factory, 13) == [False]  # 0.01 rounds to dark
    assert states(factory, 26) == [False, 0.25, 0.0]
    assert states(factory, 6) == [False]
    out.close()


def test_direction_leds_on_off(plain_factory):
    out = GpioOutputs(GpioPins(zone_pwm=False, direction_pwm=False))
    out.show_directions(DirectionLevels(back=0.01))
    out.show_directions(DirectionLevels(back=0.9))
    out.show_directions(DARK)
    assert states(plain_factory, 6) == [False, True, False]
    out.close()


def test_active_and_passive_buzzer(factory):
    out = GpioOutputs(GpioPins())
    for f in (1000.0, 1500.0, None, 400.0, None):
        out.sound(f)
    assert states(factory, 12) == [False, 1.0, 0.0, 1.0, 0.0]
    out.close()
    factory.reset()
    out = GpioOutputs(GpioPins(buzzer_kind="passive"))
    pin = factory.pin(12)
    seen = []
    for f in (1000.0, 1500.0, None, 100.0, 9000.0, None):
        out.sound(f)
        seen.append(pin.frequency)
    # Out-of-band pitches are clamped to what the TonalBuzzer was set up for, not an error.
    assert seen == [1000.0, 1500.0, None, 250.0, 3900.0, None]
    assert states(factory, 12) == [False, 0.5, 0.0, 0.5, 0.0]
    out.close()


def test_passive_buzzer_needs_pwm(plain_factory):
    with pytest.raises(
        GpioSetupError, match=r"passive buzzer on GPIO12 \(header pin 32\) needs PWM"
    ):
        GpioOutputs(GpioPins(buzzer_kind="passive", zone_pwm=False, direction_pwm=False))
    # Everything opened before the failure was released again.
    for gpio in (17, 27, 22, 5, 6, 13, 26):
        LED(gpio).close()


def test_nothing_fitted_is_valid(factory):
    none = {name: None for name in GpioPins().fitted()}
    out = GpioOutputs(GpioPins(**none))
    assert out.devices() == []
    out.show_zone(Zone.TARGET, True)
    out.show_directions(DirectionLevels(front=1.0))
    out.sound(1000.0)
    out.close()


def test_busy_pin_fails_cleanly(factory):
    blocker = LED(26)
    with pytest.raises(GpioSetupError, match=r"right LED on GPIO26 \(header pin 37\)") as err:
        GpioOutputs(GpioPins())
    assert isinstance(err.value.__cause__, GPIOPinInUse)
    blocker.close()
    out = GpioOutputs(GpioPins())  # nothing leaked from the failed attempt
    out.close()
    blocker = LED(16)
    with pytest.raises(GpioSetupError, match=r"button on GPIO16 \(header pin 36\)"):
        open_gpio_feedback(lambda: None, start=False)
    blocker.close()
    open_gpio_feedback(lambda: None, start=False).close()  # outputs released after the failure


def test_close_turns_off_then_releases(factory):
    out = GpioOutputs(GpioPins())
    out.show_zone(Zone.OUTSIDE, True)
    out.show_directions(DirectionLevels(front=1.0))
    out.sound(1000.0)
    out.close()
    out.close()
    assert states(factory, 17)[-1] == 0.0
    assert states(factory, 5)[-1] == 0.0
    assert states(factory, 12)[-1] == 0.0
    assert all(d.closed for d in out.devices())
