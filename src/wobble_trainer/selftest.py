"""``wobble selftest [--sim]``: check every part of a freshly built trainer, one by one.

1. **IMU**: found on the bus, configured, then read for 1 s with the board still: the sample rate
   within 5 % of the configured output data rate, no lost samples, no I2C errors, the measured
   gravity ``|acc|`` within the chip's offset and sensitivity tolerance of 1 g, and each gyro
   axis's mean within the chip's zero-rate offset specification (DOMAIN.md §4).
2. **Button**: pressed within ``--timeout`` seconds (also checks it does not read "pressed" while
   nobody touches it).
3. **LEDs**: each lit alone in turn; the pin levels are read back, and the maker confirms each by
   pressing the button (or typing ``y``).
4. **Buzzer**: each sound cue played; confirmed the same way.
5. **Display**: a test pattern (colour bars, a frame touching every edge) drawn and read back;
   confirmed the same way.

Each check prints PASS/FAIL (or SKIP for a part that is not fitted) and, on failure, what to
check. The exit code is 0 only when nothing failed.

``--sim`` runs without hardware and without a person, for CI: the simulated IMU (resting on its
rim, nobody on the board) on a simulated bus with a manual clock, gpiozero's mock pins
(``MockFactory`` with ``MockPWMPin``, so PWM LEDs and the tonal buzzer work), a simulated
button press, and SDL's dummy video driver. Confirmations then pass when the pin levels read back
right. ``--sim-fault`` injects one failure, to see what its report looks like.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import select
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from wobble_trainer import options
from wobble_trainer.clock import Clock, ManualClock, MonotonicClock
from wobble_trainer.hardware.imu import ImuSettings
from wobble_trainer.units import DEG, STANDARD_GRAVITY

READ_S = 1.0
"""How long the IMU is read."""
POLL_S = 0.005
"""How often its FIFO is read (as the sampler does)."""
RATE_TOLERANCE = 0.05
"""The measured sample rate may differ this much (fraction) from the configured ODR."""
STILL_GYRO_SD_DPS = 1.0
"""Gyro standard deviation above this (°/s) means the board moved during the IMU test."""
STILL_ACC_SD_G = 0.03
"""Accelerometer standard deviation above this (g) means the board moved."""
GRAVITY_MARGIN_G = 0.02
"""Added to the chip's offset + sensitivity tolerance for |acc| (noise, temperature)."""
GYRO_MARGIN_DPS = 0.5
"""Added to the chip's zero-rate offset specification (noise over 1 s, temperature)."""
DEFAULT_TIMEOUT_S = 15.0
SIM_FAULTS = ("no-imu", "i2c-errors", "no-button")


@dataclass
class CheckResult:
    """One line of the report."""

    name: str
    status: str
    """"PASS", "FAIL" or "SKIP"."""
    detail: str = ""
    fix: str = ""
    """What to check when it failed."""

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def _pass(name: str, detail: str = "") -> CheckResult:
    return CheckResult(name, "PASS", detail)


def _fail(name: str, detail: str, fix: str = "") -> CheckResult:
    return CheckResult(name, "FAIL", detail, fix)


def _skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, "SKIP", detail)


# -- the IMU --------------------------------------------------------------------------------------
@dataclass
class ImuTarget:
    """Where to find the IMU: an open bus (or a way to probe all of them) and the clock."""

    locate: Callable[[], tuple[Any, Any]]
    """Returns ``(bus, FoundImu)``; raises :class:`~wobble_trainer.hardware.detect.
    ImuNotFoundError` (with what to check) when there is none."""
    clock: Clock
    close: Callable[[], None] = lambda: None


def chip_spec(chip: str):
    """The datasheet error figures of ``chip`` (a detected name such as ``LSM6DSO/LSM6DSOX``);
    the loosest known part's when the chip is not in the table."""
    from wobble_trainer.sim.sensor_errors import ERROR_SPECS

    for name in [chip, *chip.split("/"), chip.replace("9255", "9250")]:
        if name in ERROR_SPECS:
            return name, ERROR_SPECS[name]
    return "MPU-6050", ERROR_SPECS["MPU-6050"]


def check_imu(
    target: ImuTarget,
    settings: ImuSettings,
    *,
    read_s: float = READ_S,
    before_read: Callable[[Any], None] | None = None,
) -> list[CheckResult]:
    """Find, configure and read the IMU; one result per property checked."""
    from wobble_trainer.hardware.detect import ImuNotFoundError, driver_for
    from wobble_trainer.sampling.sampler import SamplerCore

    clock = target.clock
    try:
        bus, found = target.locate()
    except ImuNotFoundError as exc:
        return [
            _fail(
                "IMU found",
                "no supported IMU answered",
                str(exc).removeprefix("No supported IMU found.").strip(),
            )
        ]
    except OSError as exc:
        return [
            _fail(
                "IMU found",
                f"the I2C bus could not be opened ({exc})",
                "Enable I2C (sudo raspi-config nonint do_i2c 0) and check the i2c group.",
            )
        ]
    where = f"{found.chip} at 0x{found.address:02X} on bus {found.bus}"
    results = [_pass("IMU found", f"{where} (id 0x{found.chip_id:02X})")]

    def open_driver():
        return driver_for(bus, found.address, bus_number=found.bus, sleep=clock.sleep)

    core = SamplerCore(open_driver, settings, clock)
    try:
        if not core.connect() or core.config is None:
            results.append(
                _fail(
                    "IMU configured",
                    core.stats.last_error or "configuration failed",
                    "The chip answered its id but not the set-up: check the power (3V3) and "
                    "the cable; try a lower I2C clock for a long cable (hardware/README.md §4).",
                )
            )
            return results
        config = core.config
        results.append(
            _pass(
                "IMU configured",
                f"{config.odr_hz:.0f} Hz, ±{config.accel_range_g:.0f} g, "
                f"±{config.gyro_range_dps:.0f} °/s, filter {config.accel_dlpf_hz:.0f} Hz",
            )
        )
        if before_read is not None:
            before_read(bus)
        batches: list[np.ndarray] = []
        times: list[float] = []
        start = clock.now()
        while clock.now() - start < read_s:
            clock.sleep(POLL_S)
            batch = core.poll()
            times.append(clock.now())
            batches.append(batch)
        stats = core.stats
    finally:
        core.close()
    results += _judge_imu(found.chip, config.odr_hz, batches, times, stats)
    return results


def _judge_imu(chip: str, odr: float, batches, times, stats) -> list[CheckResult]:
    out: list[CheckResult] = []
    # The first batch holds what piled up since the FIFO was reset: count from the first read.
    counted = sum(len(b) for b in batches[1:])
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = counted / span if span > 0 else 0.0
    error = (rate - odr) / odr if odr else -1.0
    rate_text = f"{rate:.1f} Hz measured, {odr:.0f} Hz set ({error:+.1%})"
    if abs(error) <= RATE_TOLERANCE:
        out.append(_pass("IMU sample rate", rate_text))
    else:
        out.append(
            _fail(
                "IMU sample rate",
                rate_text,
                "The chip's clock is far off or samples go missing: check the I2C clock "
                "(400 kHz, or 100 kHz for a long cable) and that nothing else uses the "
                "bus.",
            )
        )
    lost = (stats.lost_samples, stats.gaps, stats.fifo_overflows)
    if lost == (0, 0, 0):
        out.append(_pass("IMU lost samples", f"none in {stats.samples} samples"))
    else:
        out.append(
            _fail(
                "IMU lost samples",
                f"{stats.lost_samples} lost in {stats.gaps} gaps, "
                f"{stats.fifo_overflows} FIFO overflows",
                "The FIFO overflowed or the chip reset: check the power supply and the "
                "cable, and that the Pi is not overloaded (another sampler running?).",
            )
        )
    if stats.i2c_errors == 0 and stats.reconnects == 0:
        out.append(_pass("IMU I2C errors", "none"))
    else:
        out.append(
            _fail(
                "IMU I2C errors",
                f"{stats.i2c_errors} I2C errors, {stats.reconnects} reconnects "
                f"({stats.last_error or 'no detail'})",
                "Check the cable and its connectors; for cables over ~1 m use twisted "
                "pairs (SDA with GND, SCL with GND) and lower the clock: "
                "dtparam=i2c_arm_baudrate=100000 (hardware/README.md §4).",
            )
        )
    samples = [b for b in batches if len(b)]
    if not samples:
        out.append(_fail("IMU at rest", "no samples to judge", "See the lines above."))
        return out
    data = np.concatenate(samples)
    acc_g = np.linalg.norm(data["acc"], axis=1) / STANDARD_GRAVITY
    gyr_dps = data["gyr"] / DEG
    spec_name, spec = chip_spec(chip)
    moving = (
        float(gyr_dps.std(axis=0).max()) > STILL_GYRO_SD_DPS or float(acc_g.std()) > STILL_ACC_SD_G
    )
    if moving:
        out.append(
            _fail(
                "IMU at rest",
                f"the board moved (gyro σ {gyr_dps.std(axis=0).max():.2f} °/s, "
                f"|acc| σ {acc_g.std():.3f} g)",
                "Leave the board still on the floor, nobody on it, and run the test "
                "again. If it is still: the sensor may be loose or on foam tape.",
            )
        )
        return out
    tolerance = max(spec.accel_offset_mg) / 1000.0 + spec.sensitivity_tolerance + GRAVITY_MARGIN_G
    gravity = float(acc_g.mean())
    gravity_text = (
        f"|acc| {gravity * STANDARD_GRAVITY:.2f} m/s² = {gravity:.3f} g "
        f"(1 g ± {tolerance:.2f} for {spec_name})"
    )
    if abs(gravity - 1.0) <= tolerance:
        out.append(_pass("IMU gravity", gravity_text))
    else:
        out.append(
            _fail(
                "IMU gravity",
                gravity_text,
                "The accelerometer is out of its specification (damaged or a fake "
                "part?), or set to the wrong range. Replace the breakout.",
            )
        )
    offsets = gyr_dps.mean(axis=0)
    limit = spec.gyro_offset_dps + GYRO_MARGIN_DPS
    gyro_text = (
        f"offsets {offsets[0]:+.2f} {offsets[1]:+.2f} {offsets[2]:+.2f} °/s "
        f"(spec ±{spec.gyro_offset_dps:g} °/s for {spec_name})"
    )
    if float(np.abs(offsets).max()) <= limit:
        out.append(_pass("IMU gyro offset", gyro_text))
    else:
        out.append(
            _fail(
                "IMU gyro offset",
                gyro_text,
                "The gyroscope's zero-rate offset is beyond its datasheet: the chip may "
                "be damaged or a fake; calibration cannot fully hide that.",
            )
        )
    return out


def sim_imu_target(chip: str, seed: int, clock: ManualClock, fault: str | None) -> ImuTarget:
    """The simulated IMU, nobody on the board (it settles on its rim first), on a manual clock."""
    from wobble_trainer.hardware.detect import (
        ImuNotFoundError,
        ProbeReport,
        explain_nothing_found,
        scan_bus,
    )
    from wobble_trainer.sim.bus import SimulatedBus
    from wobble_trainer.sim.device import SIM_BUS_NUMBER, make_simulated_imu

    def locate():
        if fault == "no-imu":
            empty = SimulatedBus(SIM_BUS_NUMBER, clock=clock)
            report = ProbeReport(buses=[SIM_BUS_NUMBER], found=scan_bus(empty, SIM_BUS_NUMBER))
            raise ImuNotFoundError(explain_nothing_found(report))
        device = make_simulated_imu(chip, seed=seed, clock=clock, clock_ppm=200.0)
        device.board.step_off()
        clock.advance(3.0)  # the empty board topples onto its rim and comes to rest
        found = scan_bus(device.bus, SIM_BUS_NUMBER)
        if not found:
            raise ImuNotFoundError(explain_nothing_found(ProbeReport([SIM_BUS_NUMBER], found)))
        return device.bus, found[0]

    return ImuTarget(locate, clock)


def real_imu_target(bus_number: int | None) -> ImuTarget:
    """The IMU on the Pi's I2C buses (``bus_number`` only, when given)."""
    from wobble_trainer.hardware.detect import ImuNotFoundError, explain_nothing_found, probe_buses

    opened: list[Any] = []

    def locate():
        from smbus2 import SMBus

        report = probe_buses()
        found = [f for f in report.found if bus_number is None or f.bus == bus_number]
        if not found:
            raise ImuNotFoundError(explain_nothing_found(report))
        bus = SMBus(found[0].bus)
        opened.append(bus)
        return bus, found[0]

    def close() -> None:
        for bus in opened:
            bus.close()

    return ImuTarget(locate, MonotonicClock(), close)


# -- asking the maker -----------------------------------------------------------------------------
class Confirmer:
    """Asks the maker yes/no: the button (a press is yes) or the keyboard (``y``/``n``), with a
    timeout (no answer is no). ``auto`` answers every question itself (``--sim``,
    ``--no-confirm``): the software checks alone decide."""

    def __init__(
        self,
        clock: Clock,
        out: TextIO,
        *,
        button: Any = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        auto: bool = False,
        stdin: TextIO | None = None,
    ) -> None:
        self.clock = clock
        self.out = out
        self.button = button
        self.timeout_s = timeout_s
        self.auto = auto
        self.stdin = stdin if stdin is not None else sys.stdin

    def _keyboard(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def ask(self, question: str, idle: Callable[[], None] | None = None) -> bool:
        if self.auto:
            return True
        how = []
        if self.button is not None:
            how.append("press the button")
        keyboard = self._keyboard()
        if keyboard:
            how.append("type y + Enter")
        if not how:
            self.out.write(f"  {question} (no button and no keyboard to answer: counted as no)\n")
            return False
        self.out.write(
            f"  {question} Yes: {' or '.join(how)}; no: "
            f"{'n + Enter or ' if keyboard else ''}wait {self.timeout_s:.0f} s.\n"
        )
        self.out.flush()
        self._drain()
        deadline = self.clock.now() + self.timeout_s
        while self.clock.now() < deadline:
            if idle is not None:
                idle()
            if self.button is not None:
                self.button.poll()
                if self._drain():
                    return True
            if keyboard:
                ready, _, _ = select.select([self.stdin], [], [], 0.05)
                if ready:
                    answer = self.stdin.readline().strip().lower()
                    return answer in ("", "y", "yes")
            else:
                self.clock.sleep(0.05)
        return False

    def _drain(self) -> bool:
        """Empty the button's queue; True if it held a press."""
        if self.button is None:
            return False
        pressed = False
        while not self.button.events.empty():
            self.button.events.get_nowait()
            pressed = True
        return pressed


# -- GPIO parts -----------------------------------------------------------------------------------
def _pin_level(factory: Any, gpio: int) -> float:
    state = factory.pin(gpio).state
    return float(state)


def _where(gpio: int) -> str:
    from wobble_trainer.feedback.gpio import HEADER_PIN

    return f"GPIO{gpio}, header pin {HEADER_PIN.get(gpio, '?')}"


def check_button(
    pins: Any,
    factory: Any,
    clock: Clock,
    out: TextIO,
    *,
    timeout_s: float,
    simulate_press: bool,
) -> tuple[CheckResult, Any]:
    """Wait for a press; returns the result and the open button (for confirmations) or None."""
    from wobble_trainer.feedback.button import GpioButton

    if pins.button is None:
        return _skip("button", "not fitted ([gpio] button = -1)"), None
    gpio = pins.button
    try:
        button = GpioButton(gpio, clock=clock, pull_up=pins.button_pull_up, pin_factory=factory)
    except Exception as exc:  # gpiozero raises many kinds: report, do not crash the test
        return _fail("button", f"could not open {_where(gpio)}: {exc}", _GPIO_FIX), None
    if button.device.is_pressed:
        result = _fail(
            "button",
            f"reads pressed while nobody touches it ({_where(gpio)})",
            "The button input is shorted to GND, or the button is normally-closed, "
            "or button_pull_up is wrong in [gpio].",
        )
        return result, button
    out.write(f"  Press the button now (within {timeout_s:.0f} s).\n")
    out.flush()
    deadline = clock.now() + timeout_s
    pressed_at = clock.now() + 1.0
    while clock.now() < deadline:
        if simulate_press and clock.now() >= pressed_at:
            simulate_press = False
            pin = factory.pin(gpio)
            press, release = (
                (pin.drive_low, pin.drive_high)
                if pins.button_pull_up
                else (pin.drive_high, pin.drive_low)
            )
            press()
            clock.sleep(0.2)  # a deliberate press, well above the 30 ms bounce filter
            release()
        button.poll()
        if not button.events.empty():
            event = button.events.get_nowait()
            return _pass("button", f"{event.value} press seen ({_where(gpio)})"), button
        clock.sleep(0.02)
    return (
        _fail(
            "button",
            f"no press within {timeout_s:.0f} s ({_where(gpio)})",
            "Check the button's two wires: one to the GPIO, the other to GND (header pin "
            "39); a normally-open button. Measure: the pin reads 3.3 V released, 0 V pressed.",
        ),
        button,
    )


_GPIO_FIX = (
    "On a Raspberry Pi install the pin library (sudo apt install python3-lgpio; a venv needs "
    "--system-site-packages) and add the user to the gpio group. Another program (the trainer "
    "service?) may hold the pins: sudo systemctl stop wobble-trainer. Without GPIO: --sim."
)


def led_parts(outputs: Any) -> list[tuple[str, int, Callable[[bool], None]]]:
    """(name, GPIO, switch) for every LED of the opened outputs, in a sensible order."""
    pins = outputs.pins
    parts: list[tuple[str, int, Callable[[bool], None]]] = []
    if outputs.rgb is not None:
        for i, colour in enumerate(("red", "green", "blue")):
            gpio = getattr(pins, f"zone_{colour}")

            def switch(on: bool, i: int = i) -> None:
                value = [0.0, 0.0, 0.0]
                value[i] = 1.0 if on else 0.0
                outputs.rgb.value = tuple(value)

            parts.append((f"zone LED {colour}", gpio, switch))
    for colour, led in outputs.lamps.items():
        gpio = getattr(pins, f"zone_{colour}")
        parts.append(
            (f"zone LED {colour}", gpio, lambda on, led=led: led.on() if on else led.off())
        )
    where = {
        "front": "toes side",
        "back": "heel side",
        "left": "user's left",
        "right": "user's right",
    }
    for side, led in outputs.directions.items():
        parts.append(
            (
                f"{side} LED ({where[side]})",
                getattr(pins, side),
                lambda on, led=led: led.on() if on else led.off(),
            )
        )
    return parts


Report = Callable[[CheckResult], None]


def check_leds(
    outputs: Any, factory: Any, confirmer: Confirmer, clock: Clock, report: Report | None = None
) -> list[CheckResult]:
    """Each LED alone: its pin must read on and every other LED pin off; then the maker's eye."""
    parts = led_parts(outputs)
    if not parts:
        return _reported([_skip("LEDs", "none fitted")], report)
    results: list[CheckResult] = []
    high = {
        gpio: (
            outputs.pins.zone_active_high
            if name.startswith("zone")
            else outputs.pins.direction_active_high
        )
        for name, gpio, _ in parts
    }
    for name, gpio, switch in parts:
        for _, _, other in parts:
            other(False)
        switch(True)
        clock.sleep(0.05)
        wrong = []
        for _, other_gpio, _ in parts:
            level = _pin_level(factory, other_gpio)
            lit = level >= 0.5 if high[other_gpio] else level < 0.5
            if lit != (other_gpio == gpio):
                wrong.append(f"GPIO{other_gpio} {'on' if lit else 'off'}")
        seen = confirmer.ask(f"Is the {name} lit ({_where(gpio)}), and only it?")
        switch(False)
        if wrong:
            result = _fail(
                name,
                "pin levels wrong: " + ", ".join(wrong),
                "Another device drives these pins, or the pin map in [gpio] is wrong.",
            )
        elif not seen:
            result = _fail(
                name,
                f"not confirmed ({_where(gpio)})",
                "Check the LED's polarity (long leg = anode towards the GPIO), "
                "its resistor, and the GND wire; an RGB LED must be common "
                "cathode (or set zone_active_high = false).",
            )
        else:
            result = _pass(name, _where(gpio))
        results += _reported([result], report)
    return results


def _reported(results: list[CheckResult], report: Report | None) -> list[CheckResult]:
    if report is not None:
        for result in results:
            report(result)
    return results


def check_buzzer(
    outputs: Any, factory: Any, confirmer: Confirmer, clock: Clock, report: Report | None = None
) -> list[CheckResult]:
    """Every cue played through the buzzer pin; the pin must follow each note."""
    from gpiozero import TonalBuzzer

    from wobble_trainer.feedback.cues import CUE_PATTERNS

    if outputs.buzzer is None:
        return _reported([_skip("buzzer", "not fitted ([gpio] buzzer = -1)")], report)
    gpio = outputs.pins.buzzer
    tonal = isinstance(outputs.buzzer, TonalBuzzer)
    results: list[CheckResult] = []
    for cue, pattern in CUE_PATTERNS.items():
        wrong = []
        for note in pattern:
            outputs.sound(note.frequency_hz)
            pin = factory.pin(gpio)
            sounding = (
                _pin_level(factory, gpio) > 0.0
                if tonal
                else ((_pin_level(factory, gpio) >= 0.5) == outputs.pins.buzzer_active_high)
            )
            if sounding != (note.frequency_hz is not None):
                wrong.append(f"{note.frequency_hz or 'silence'}: pin {'on' if sounding else 'off'}")
            elif tonal and note.frequency_hz is not None:
                frequency = getattr(pin, "frequency", None)
                if frequency is not None and abs(frequency - note.frequency_hz) > 1.0:
                    wrong.append(f"{note.frequency_hz:.0f} Hz played as {frequency:.0f} Hz")
            clock.sleep(note.duration_s)
        outputs.sound(None)
        heard = confirmer.ask(f"Did you hear the '{cue.value}' sound?")
        name = f"buzzer {cue.value}"
        if wrong:
            result = _fail(
                name,
                "; ".join(wrong),
                "The buzzer pin does not follow the notes: pin map or pin library problem.",
            )
        elif not heard:
            kind = "passive (tonal)" if tonal else "active"
            result = _fail(
                name,
                f"not heard ({_where(gpio)}, {kind})",
                "Check the transistor driver (base resistor 1.2 kΩ, emitter to "
                "GND), the buzzer's + to 5 V and the flyback diode; a passive "
                'buzzer needs buzzer_kind = "passive" (hardware/README.md §2).',
            )
        else:
            result = _pass(name, f"{len(pattern)} note{'' if len(pattern) == 1 else 's'}")
        results += _reported([result], report)
    return results


# -- the display ----------------------------------------------------------------------------------
BARS = [
    (255, 255, 255),
    (255, 255, 0),
    (0, 255, 255),
    (0, 255, 0),
    (255, 0, 255),
    (255, 0, 0),
    (0, 0, 255),
    (0, 0, 0),
]
"""The classic colour bars, left to right."""


def draw_test_pattern(surface: Any) -> None:
    """Colour bars, a white frame on the outermost pixels, a grid and the size in the middle."""
    import pygame

    w, h = surface.get_size()
    bar_w = w / len(BARS)
    for i, colour in enumerate(BARS):
        surface.fill(colour, pygame.Rect(round(i * bar_w), 0, math.ceil(bar_w), h))
    for x in range(0, w, max(20, w // 16)):
        pygame.draw.line(surface, (128, 128, 128), (x, h * 3 // 4), (x, h - 1))
    pygame.draw.rect(surface, (255, 255, 255), surface.get_rect(), 1)
    font = pygame.font.Font(None, max(18, h // 12))
    text = font.render(f"Wobble Trainer self-test  {w}x{h}", True, (255, 255, 255), (0, 0, 0))
    surface.blit(text, text.get_rect(center=(w // 2, h // 2)))


def pattern_errors(surface: Any) -> list[str]:
    """What in the drawn pattern does not read back as drawn (empty: all right)."""
    w, h = surface.get_size()
    errors = []
    bar_w = w / len(BARS)
    for i, colour in enumerate(BARS):
        x, y = int((i + 0.5) * bar_w), h // 5
        got = tuple(surface.get_at((x, y)))[:3]
        if got != colour:
            errors.append(f"bar {i + 1} at ({x}, {y}) is {got}, drawn {colour}")
    for corner in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        if tuple(surface.get_at(corner))[:3] != (255, 255, 255):
            errors.append(f"frame pixel {corner} not white")
    return errors


def check_display(
    confirmer: Confirmer,
    *,
    size: tuple[int, int] | None,
    screenshot: str | None = None,
    hold_s: float = 0.0,
) -> CheckResult:
    """Open the screen (``size`` None: full screen), draw the pattern, read it back, ask."""
    import pygame

    try:
        pygame.display.init()
        pygame.font.init()
        flags = 0 if size is not None else pygame.FULLSCREEN
        screen = pygame.display.set_mode(size or (0, 0), flags)
    except pygame.error as exc:
        with contextlib.suppress(Exception):
            pygame.display.quit()
        return _fail(
            "display",
            f"could not open the screen ({exc})",
            "The trainer service holds the display: sudo systemctl stop wobble-trainer. "
            "On the console SDL needs KMS (dtoverlay=vc4-kms-v3d) and the video and "
            "render groups (hardware/README.md §6).",
        )
    try:
        driver = pygame.display.get_driver()
        draw_test_pattern(screen)
        errors = pattern_errors(screen)
        pygame.display.flip()
        if screenshot:
            pygame.image.save(screen, screenshot)
        w, h = screen.get_size()
        if hold_s:
            time.sleep(hold_s)
        seen = confirmer.ask(
            "Do you see eight colour bars (white to black) and a white frame on all four edges?",
            idle=pygame.event.pump,
        )
    finally:
        pygame.display.quit()
    detail = f"{w}x{h} through SDL's {driver} driver"
    if errors:
        return _fail(
            "display",
            f"{detail}: " + "; ".join(errors[:3]),
            "The picture does not read back as drawn: a colour-depth or driver problem.",
        )
    if not seen:
        return _fail(
            "display",
            f"{detail}: not confirmed",
            "Check the display cable (DSI ribbon contacts face the right way) and its "
            "power; an HDMI screen may need video=HDMI-A-1:1280x720@60 on the kernel "
            "command line (hardware/README.md §6).",
        )
    return _pass("display", detail)


# -- the whole test -------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sim",
        action="store_true",
        help="no hardware, no person: simulated IMU, mock pins, simulated button press, "
        "dummy display (for CI)",
    )
    parser.add_argument("--chip", default="MPU-6050", help="simulated chip with --sim")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed with --sim")
    parser.add_argument("--bus", type=int, default=None, help="I2C bus (default: config, probe)")
    parser.add_argument(
        "--rate",
        type=options.rate_hz,
        default=None,
        help="IMU data rate, Hz (default: config, 1000)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for the button or an answer ({DEFAULT_TIMEOUT_S:.0f})",
    )
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="do not ask whether LEDs, sounds and the picture were seen: software checks only",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["imu", "button", "leds", "buzzer", "display"],
        help="leave a part out (repeatable)",
    )
    parser.add_argument("--screenshot", metavar="FILE.png", help="save the display test pattern")
    parser.add_argument(
        "--sim-fault",
        choices=SIM_FAULTS,
        default=None,
        help="with --sim: inject a failure to see its report",
    )


def _print(result: CheckResult, out: TextIO) -> None:
    out.write(f"[{result.status}] {result.name:<28} {result.detail}\n")
    if result.failed and result.fix:
        lines = []
        for paragraph in result.fix.splitlines():
            lines += textwrap.wrap(paragraph, 90) or [""]
        out.write("       check: " + "\n              ".join(lines) + "\n")
    out.flush()


@contextlib.contextmanager
def _gpio(sim: bool) -> Iterator[Any]:
    """The pin factory: mock pins with PWM for --sim, else gpiozero's default."""
    import warnings

    from gpiozero import Device

    if not sim:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpiozero lists every pin library it could not load
            yield None
        return
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    previous = Device.pin_factory
    factory = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = previous


def run_selftest(args: argparse.Namespace, out: TextIO = sys.stdout) -> list[CheckResult]:
    """Every check in order; the results (also printed as they come)."""
    from wobble_trainer.config import load_config

    loaded = load_config()
    config = loaded.config
    if loaded.message:
        out.write(loaded.message + "\n")
    rate = args.rate if args.rate is not None else config.imu_rate_hz
    bus = args.bus if args.bus is not None else config.imu_bus
    sim = bool(args.sim)
    fault = args.sim_fault if sim else None
    clock: Clock = ManualClock(1000.0) if sim else MonotonicClock()
    skip = set(args.skip or [])
    results: list[CheckResult] = []

    def report(items: list[CheckResult] | CheckResult) -> None:
        for item in items if isinstance(items, list) else [items]:
            results.append(item)
            _print(item, out)

    out.write(f"Wobble Trainer self-test{' (simulated hardware)' if sim else ''}\n")
    if "imu" not in skip:
        out.write("IMU: leave the board still on the floor, nobody on it.\n")
        target = (
            sim_imu_target(args.chip, args.seed, clock, fault)  # type: ignore[arg-type]
            if sim
            else real_imu_target(bus)
        )

        def inject(b: Any) -> None:
            if fault == "i2c-errors":
                b.inject_nack(2)

        try:
            report(check_imu(target, ImuSettings(odr_hz=rate), before_read=inject))
        finally:
            target.close()
    gpio_parts = {"button", "leds", "buzzer"} - skip
    if gpio_parts and not config.gpio_enabled:
        report(_skip("GPIO parts", "[gpio] enabled = false"))
    elif gpio_parts:
        with _gpio(sim) as factory:
            _gpio_checks(args, config.gpio_pins, factory, clock, out, gpio_parts, fault, report)
    if "display" not in skip:
        confirmer = Confirmer(clock, out, timeout_s=args.timeout, auto=sim or args.no_confirm)
        if sim:
            from wobble_trainer.app.shell import use_headless_drivers

            use_headless_drivers()
        size = (800, 480) if sim else None
        report(
            check_display(
                confirmer, size=size, screenshot=args.screenshot, hold_s=0.0 if sim else 1.0
            )
        )
    return results


def _gpio_checks(args, pins, factory, clock, out, parts, fault, report: Report) -> None:
    """Button first (it answers the questions that follow), then LEDs and buzzer."""
    from wobble_trainer.feedback.gpio import GpioOutputs

    button = None
    try:
        if "button" in parts:
            result, button = check_button(
                pins,
                factory,
                clock,
                out,
                timeout_s=args.timeout,
                simulate_press=args.sim and fault != "no-button",
            )
            report(result)
            if result.failed and button is not None:
                button.close()  # a dead or stuck button cannot answer anything
                button = None
        if not parts & {"leds", "buzzer"}:
            return
        confirmer = Confirmer(
            clock, out, button=button, timeout_s=args.timeout, auto=args.sim or args.no_confirm
        )
        try:
            outputs = GpioOutputs(pins, pin_factory=factory)
        except Exception as exc:  # no pin library, a busy pin: one clear failure
            report(_fail("LEDs and buzzer", f"could not open the pins ({exc})", _GPIO_FIX))
            return
        try:
            devices = outputs.devices()
            pin_factory = factory if factory is not None or not devices else devices[0].pin_factory
            if "leds" in parts:
                check_leds(outputs, pin_factory, confirmer, clock, report)
            if "buzzer" in parts:
                check_buzzer(outputs, pin_factory, confirmer, clock, report)
        finally:
            outputs.close()
    finally:
        if button is not None:
            button.close()


def run(args: argparse.Namespace) -> int:
    """``wobble selftest``: 0 when every check passed (skipped parts do not fail)."""
    out = sys.stdout
    results = run_selftest(args, out)
    failed = [r for r in results if r.failed]
    passed = sum(r.status == "PASS" for r in results)
    skipped = sum(r.status == "SKIP" for r in results)
    out.write(
        f"Self-test {'FAILED' if failed else 'passed'}: {passed} of {len(results)} checks "
        f"passed"
        + (f", {skipped} skipped" if skipped else "")
        + (f"; failing: {', '.join(r.name for r in failed)}" if failed else "")
        + "\n"
    )
    return 1 if failed else 0
