"""The GPIO feedback hardware through gpiozero: zone light, four direction LEDs, buzzer, button.

Default wiring (BCM numbers, physical header pin in brackets), grouped so each part plugs into
neighbouring header pins; I2C1 (GPIO2/3, pins 3/5) stays free for the IMU, and the UART
(GPIO14/15), SPI0 (GPIO7-11), the ID EEPROM (GPIO0/1) and the PCM/I2S audio pins (GPIO18-21)
are avoided too:

==============  ==============  ================================================================
part            GPIO (pin)      notes
==============  ==============  ================================================================
zone red        GPIO17 (11)     RGB LED (common cathode to GND pin 9) or a separate red LED
zone green      GPIO27 (13)
zone blue/amber GPIO22 (15)     blue lead of the RGB LED, or the amber LED of three separate ones
front LED       GPIO5  (29)     toes side; each LED with its own ~330 Ω resistor, GND pin 39
back LED        GPIO6  (31)
left LED        GPIO13 (33)
right LED       GPIO26 (37)
buzzer          GPIO12 (32)     hardware-PWM capable (PWM0) for a passive piezo; GND pin 34.
                                A buzzer drawing more than ~8 mA needs a transistor.
button          GPIO16 (36)     to GND pin 34 (or 39); internal pull-up
==============  ==============  ================================================================

Any part set to ``None`` is "not fitted" and simply left out. An RGB LED uses gpiozero
:class:`~gpiozero.RGBLED`; three separate LEDs (``zone_style="separate"``: red, amber, green) use
one :class:`~gpiozero.LED` / :class:`~gpiozero.PWMLED` each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal, TypeVar

from gpiozero import (
    LED,
    PWMLED,
    RGBLED,
    Buzzer,
    GPIOZeroError,
    PinPWMUnsupported,
    TonalBuzzer,
)
from gpiozero.pins import Factory
from gpiozero.tones import Tone

from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.feedback.button import DEFAULT_HOLD_TIME_S, ButtonEvent, GpioButton
from wobble_trainer.feedback.controller import (
    DEFAULT_RATE_HZ,
    AnglesSource,
    FeedbackController,
)
from wobble_trainer.feedback.cues import MAX_FREQUENCY_HZ, MIN_FREQUENCY_HZ
from wobble_trainer.feedback.zones import DirectionLevels, Zone

log = logging.getLogger(__name__)
T = TypeVar("T")

HEADER_PIN: dict[int, int] = {
    2: 3, 3: 5, 4: 7, 14: 8, 15: 10, 17: 11, 18: 12, 27: 13, 22: 15, 23: 16, 24: 18, 10: 19,
    9: 21, 25: 22, 11: 23, 8: 24, 7: 26, 0: 27, 1: 28, 5: 29, 6: 31, 12: 32, 13: 33, 19: 35,
    16: 36, 26: 37, 20: 38, 21: 40,
}  # fmt: skip
"""BCM GPIO number → physical pin on the 40-pin header (all Pi models with a 40-pin header)."""

RESERVED_GPIOS: dict[int, str] = {2: "I2C1 SDA (the IMU)", 3: "I2C1 SCL (the IMU)"}
"""GPIOs the feedback hardware must not take."""

PIN_FIELDS = ("zone_red", "zone_green", "zone_blue", "zone_amber", "front", "back", "left",
              "right", "buzzer", "button")  # fmt: skip

ZoneStyle = Literal["rgb", "separate"]
BuzzerKind = Literal["active", "passive"]


@dataclass(frozen=True)
class GpioPins:
    """Where the feedback parts are wired (BCM numbers; ``None`` = not fitted) and how.

    ``zone_blue`` and ``zone_amber`` share GPIO22 by default: the third lead of the zone light
    goes to header pin 15 whichever kind is fitted; only the one ``zone_style`` uses is opened.
    """

    zone_style: ZoneStyle = "rgb"
    zone_red: int | None = 17
    zone_green: int | None = 27
    zone_blue: int | None = 22
    zone_amber: int | None = 22
    zone_active_high: bool = True
    """False for a common-anode RGB LED (or LEDs wired from 3.3 V to the GPIO)."""
    zone_pwm: bool = True
    """PWM lets an RGB LED mix amber; without it amber is red + green at full."""
    front: int | None = 5
    back: int | None = 6
    left: int | None = 13
    right: int | None = 26
    direction_pwm: bool = True
    """Brightness proportional to the error; False: plain on/off outside the dead band."""
    direction_active_high: bool = True
    buzzer: int | None = 12
    buzzer_kind: BuzzerKind = "active"
    """"active": a buzzer with its own oscillator (on/off, gpiozero Buzzer); "passive": a bare
    piezo driven at the cue's pitch (gpiozero TonalBuzzer, needs PWM)."""
    buzzer_active_high: bool = True
    button: int | None = 16
    button_pull_up: bool = True
    """True: button between the GPIO and ground (internal pull-up)."""

    def __post_init__(self) -> None:
        if self.zone_style not in ("rgb", "separate"):
            raise ValueError(f"zone_style must be 'rgb' or 'separate', got {self.zone_style!r}")
        if self.buzzer_kind not in ("active", "passive"):
            raise ValueError(f"buzzer_kind must be 'active' or 'passive', got {self.buzzer_kind!r}")
        seen: dict[int, str] = {}
        for name, gpio in self.fitted().items():
            if gpio not in HEADER_PIN:
                raise ValueError(f"{name}: GPIO{gpio} is not on the 40-pin header (0-27)")
            if gpio in RESERVED_GPIOS:
                raise ValueError(f"{name}: GPIO{gpio} is {RESERVED_GPIOS[gpio]}")
            if gpio in seen:
                raise ValueError(f"{name} and {seen[gpio]} both use GPIO{gpio}")
            seen[gpio] = name

    def fitted(self) -> dict[str, int]:
        """The parts in use, name → GPIO (the unused one of zone_blue/zone_amber left out)."""
        skip = "zone_amber" if self.zone_style == "rgb" else "zone_blue"
        out: dict[str, int] = {}
        for name in PIN_FIELDS:
            gpio = getattr(self, name)
            if name != skip and gpio is not None:
                out[name] = int(gpio)
        return out

    def describe(self) -> list[str]:
        """One line per fitted part, e.g. ``"front: GPIO5 (header pin 29)"``, for the setup
        screen and the logs."""
        return [f"{n}: GPIO{g} (header pin {HEADER_PIN[g]})" for n, g in self.fitted().items()]

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> GpioPins:
        """From a config mapping (unknown keys rejected so a typo is not silently ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown GPIO setting(s): {', '.join(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


class GpioSetupError(RuntimeError):
    """A feedback part could not be opened; the message names the part and its pin."""


AMBER_RGB = (1.0, 0.5, 0.0)
"""Amber on an RGB LED with PWM (green dies are brighter per mA than red ones)."""

_RGB: dict[Zone, tuple[float, float, float]] = {
    Zone.OFF: (0.0, 0.0, 0.0),
    Zone.TARGET: (0.0, 1.0, 0.0),
    Zone.NEAR: AMBER_RGB,
    Zone.OUTSIDE: (1.0, 0.0, 0.0),
    Zone.EDGE: (1.0, 0.0, 0.0),
}
_LAMP = {Zone.TARGET: "green", Zone.NEAR: "amber", Zone.OUTSIDE: "red", Zone.EDGE: "red"}

BRIGHTNESS_STEPS = 32
"""Direction LED brightness is rounded to 1/32: invisible steps, and the pins are not rewritten
every tick for sensor noise (a software-PWM rewrite can glitch the waveform)."""

LedDevice = LED | PWMLED


class GpioOutputs:
    """:class:`~wobble_trainer.feedback.controller.FeedbackOutputs` on GPIO pins (gpiozero).

    Writes a device only when its value changes. Opens every fitted part at construction; if one
    fails (pin busy, no PWM) the ones already opened are released before the error propagates.
    """

    def __init__(self, pins: GpioPins | None = None, *, pin_factory: Factory | None = None) -> None:
        pins = pins or GpioPins()
        self.pins = pins
        self._closed = False
        self.rgb: RGBLED | None = None
        self.lamps: dict[str, LedDevice] = {}
        """Zone light as single LEDs: "red", "green", and "amber" (separate style) or "blue"."""
        self.directions: dict[str, LedDevice] = {}
        self.buzzer: Buzzer | TonalBuzzer | None = None
        self._zone_value: tuple[float, ...] | None = None
        self._levels: DirectionLevels | None = None
        self._frequency: float | None = None
        self._sounding = False
        try:
            self._open(pins, pin_factory)
        except BaseException:
            self._release()
            raise

    def _make(self, part: str, gpio: int, build: Callable[[], T]) -> T:
        """Open one device, turning gpiozero's terse errors (often with no message at all) into
        one that tells the person what to change."""
        try:
            return build()
        except PinPWMUnsupported as exc:
            raise GpioSetupError(
                f"{part} on GPIO{gpio} (header pin {HEADER_PIN.get(gpio, '?')}) needs PWM, which "
                "this pin library does not offer here; use the on/off setting for it"
            ) from exc
        except GPIOZeroError as exc:
            detail = str(exc) or type(exc).__name__
            raise GpioSetupError(
                f"{part} on GPIO{gpio} (header pin {HEADER_PIN.get(gpio, '?')}): {detail}"
            ) from exc

    def _led(
        self, part: str, gpio: int, pwm: bool, active_high: bool, factory: Factory | None
    ) -> LedDevice:
        cls = PWMLED if pwm else LED
        return self._make(
            part, gpio, lambda: cls(gpio, active_high=active_high, pin_factory=factory)
        )

    def _open(self, p: GpioPins, factory: Factory | None) -> None:
        if p.zone_style == "rgb":
            channels = {"red": p.zone_red, "green": p.zone_green, "blue": p.zone_blue}
        else:
            channels = {"red": p.zone_red, "amber": p.zone_amber, "green": p.zone_green}
        if p.zone_style == "rgb" and None not in channels.values():
            red, green, blue = p.zone_red, p.zone_green, p.zone_blue
            self.rgb = self._make(
                "zone RGB LED",
                red,
                lambda: RGBLED(
                    red,
                    green,
                    blue,
                    active_high=p.zone_active_high,
                    pwm=p.zone_pwm,
                    pin_factory=factory,
                ),
            )
        else:
            for name, gpio in channels.items():
                if gpio is not None:
                    self.lamps[name] = self._led(
                        f"zone {name} LED", gpio, p.zone_pwm, p.zone_active_high, factory
                    )
        for side in ("front", "back", "left", "right"):
            gpio = getattr(p, side)
            if gpio is not None:
                self.directions[side] = self._led(
                    f"{side} LED", gpio, p.direction_pwm, p.direction_active_high, factory
                )
        if p.buzzer is not None:
            pin = p.buzzer
            if p.buzzer_kind == "passive":
                # Two octaves either side of ~1 kHz: 247-3951 Hz covers every cue pattern.
                self.buzzer = self._make(
                    "passive buzzer",
                    pin,
                    lambda: TonalBuzzer(
                        pin, mid_tone=Tone(frequency=1000.0), octaves=2, pin_factory=factory
                    ),
                )
            else:
                self.buzzer = self._make(
                    "buzzer",
                    pin,
                    lambda: Buzzer(pin, active_high=p.buzzer_active_high, pin_factory=factory),
                )

    # --- FeedbackOutputs ---------------------------------------------------------------------

    def _zone_target(self, zone: Zone, lit: bool) -> tuple[float, ...]:
        """Values for the zone light's channels (rgb tuple, or lamps in ``self.lamps`` order)."""
        if not lit:
            zone = Zone.OFF
        if self.rgb is not None or self.pins.zone_style == "rgb":
            r, g, b = _RGB[zone]
            if not self.pins.zone_pwm:
                # No mixing without PWM: amber becomes red + green at full.
                r, g, b = (1.0 if v > 0.0 else 0.0 for v in (r, g, b))
            if self.rgb is not None:
                return (r, g, b)
            mix = {"red": r, "green": g, "blue": b}
            return tuple(mix[name] for name in self.lamps)
        lamp = _LAMP.get(zone)
        if lamp == "amber" and "amber" not in self.lamps:
            # No amber LED fitted: red and green together still differ from either alone.
            wanted = {"red", "green"}
        else:
            wanted = {lamp} if lamp else set()
        return tuple(1.0 if name in wanted else 0.0 for name in self.lamps)

    def show_zone(self, zone: Zone, lit: bool) -> None:
        value = self._zone_target(zone, lit)
        if value == self._zone_value:
            return
        if self.rgb is not None:
            self.rgb.value = value
        else:
            for led, v in zip(self.lamps.values(), value, strict=True):
                led.value = v
        self._zone_value = value

    def show_directions(self, levels: DirectionLevels) -> None:
        if levels == self._levels:
            return
        for side, led in self.directions.items():
            level = getattr(levels, side)
            if isinstance(led, PWMLED):
                led.value = round(level * BRIGHTNESS_STEPS) / BRIGHTNESS_STEPS
            else:
                led.value = 1 if level > 0.0 else 0
        self._levels = levels

    def sound(self, frequency_hz: float | None) -> None:
        if self.buzzer is None:
            return
        if isinstance(self.buzzer, TonalBuzzer):
            if frequency_hz == self._frequency:
                return
            if frequency_hz is None:
                self.buzzer.stop()
            else:
                f = min(max(frequency_hz, MIN_FREQUENCY_HZ), MAX_FREQUENCY_HZ)
                self.buzzer.play(Tone(frequency=f))
            self._frequency = frequency_hz
        else:
            on = frequency_hz is not None
            if on == self._sounding:
                return
            if on:
                self.buzzer.on()
            else:
                self.buzzer.off()
            self._sounding = on

    def devices(self) -> list[object]:
        """Every open gpiozero device (for tests and diagnostics)."""
        out: list[object] = []
        if self.rgb is not None:
            out.append(self.rgb)
        out.extend(self.lamps.values())
        out.extend(self.directions.values())
        if self.buzzer is not None:
            out.append(self.buzzer)
        return out

    def _release(self) -> None:
        # Every device gets its turn even if one fails: dark and released matters more than
        # the first error, which is logged.
        for device in self.devices():
            try:
                # Off first: some pin libraries leave the line at its last level when freed.
                if isinstance(device, TonalBuzzer):
                    device.stop()
                else:
                    device.off()  # type: ignore[attr-defined]
            except Exception:
                log.exception("could not switch off %r", device)
            try:
                device.close()  # type: ignore[attr-defined]
            except Exception:
                log.exception("could not release %r", device)

    def close(self) -> None:
        """Turn every part off and release its pin. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._release()


def open_gpio_feedback(
    latest_angles: AnglesSource,
    pins: GpioPins | None = None,
    *,
    clock: Clock | None = None,
    rate_hz: float = DEFAULT_RATE_HZ,
    hold_time_s: float = DEFAULT_HOLD_TIME_S,
    pin_factory: Factory | None = None,
    start: bool = True,
    on_button: Callable[[ButtonEvent], None] | None = None,
) -> FeedbackController:
    """The GPIO implementation of ``Feedback``: outputs and button on ``pins``, driven by a
    :class:`FeedbackController` (thread started unless ``start=False``).

    Button events arrive on ``controller.button.events`` (a queue) and, if given, ``on_button``.
    Use as a context manager so the lights go dark and the pins are released on exit.
    """
    pins = pins or GpioPins()
    clock = clock or MonotonicClock()
    outputs = GpioOutputs(pins, pin_factory=pin_factory)
    button: GpioButton | None = None
    try:
        if pins.button is not None:
            gpio = pins.button
            try:
                button = GpioButton(
                    gpio,
                    clock=clock,
                    hold_time_s=hold_time_s,
                    pull_up=pins.button_pull_up,
                    pin_factory=pin_factory,
                )
            except GPIOZeroError as exc:
                detail = str(exc) or type(exc).__name__
                raise GpioSetupError(
                    f"button on GPIO{gpio} (header pin {HEADER_PIN[gpio]}): {detail}"
                ) from exc
            if on_button is not None:
                button.add_listener(on_button)
    except BaseException:
        outputs.close()
        raise
    controller = FeedbackController(
        latest_angles, outputs, button=button, clock=clock, rate_hz=rate_hz
    )
    if start:
        controller.start()
    return controller
