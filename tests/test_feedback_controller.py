"""The feedback controller on mock GPIO pins: scripted tilt sequences, stepped by hand."""

import queue
import threading
import time

import pytest
from gpiozero import LED, Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from wobble_trainer.clock import ManualClock
from wobble_trainer.feedback.base import Feedback, FeedbackTargets
from wobble_trainer.feedback.button import ButtonEvent
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.gpio import GpioPins, open_gpio_feedback
from wobble_trainer.feedback.zones import Zone
from wobble_trainer.units import DEG

DT = 1 / 32  # binary-exact tick, so pattern and blink boundaries never tie with a tick

RED, GREEN, BLUE, FRONT, BACK, LEFT, RIGHT, BUZZER, BUTTON = 17, 27, 22, 5, 6, 13, 26, 12, 16


@pytest.fixture
def factory(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    previous = Device.pin_factory
    f = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = f
    yield f
    f.reset()
    Device.pin_factory = previous


class Angles:
    """A settable latest_angles() source, in degrees for readability."""

    def __init__(self):
        self.value = None

    def set(self, pitch_deg, roll_deg):
        self.value = (pitch_deg * DEG, roll_deg * DEG)

    def __call__(self):
        return self.value


def states(factory, gpio):
    return [s.state for s in factory.pin(gpio).states]


def make(pins=None, **kw):
    clock = ManualClock()
    angles = Angles()
    fb = open_gpio_feedback(angles, pins or GpioPins(), clock=clock, start=False, **kw)
    return fb, angles, clock


def tick(fb, clock):
    state = fb.step()
    clock.advance(DT)
    return state


def test_scripted_tilt_sequence_records_exact_pin_states(factory):
    fb, angles, clock = make()
    assert isinstance(fb, Feedback)
    zones = []
    script = [
        ("set", None),
        ((0.0, 0.0), None),  # no session yet: dark
        ("set", FeedbackTargets()),
        ((0.5, 0.0), Zone.TARGET),  # green
        ((1.8, 0.0), Zone.TARGET),  # front dimly: (1.8-1)/9 → 3/32
        # amber (1, 0.5, 0); front already lit, so its ramp starts 0.3° earlier: 1.5/9.3 → 5/32
        ((2.2, 0.0), Zone.NEAR),
        ((1.8, 0.0), Zone.NEAR),  # hysteresis holds amber; front 1.1/9.3 → 4/32
        ((1.4, 0.0), Zone.TARGET),  # green again; front 0.7/9.3 → 2/32
        ((0.0, -6.0), Zone.OUTSIDE),  # red; front off, left (6-1)/9 → 18/32
        ((0.0, -14.5), Zone.EDGE),  # left rim (15° − 1°): red (flash starts lit), left full
        ((0.0, -13.8), Zone.EDGE),  # edge hysteresis (13.5°)
        ((0.0, -13.4), Zone.OUTSIDE),
        (None, Zone.OFF),  # sensor lost: dark
        ((0.0, 0.8), Zone.TARGET),  # within the dead band: no arrow
        ((0.0, 1.2), Zone.TARGET),  # right dimly: 0.2/9 → 1/32
        ("set", None),  # session over
        ((0.0, 1.2), Zone.OFF),
    ]
    for item, expected in script:
        if item == "set":
            fb.set_targets(expected)
            continue
        if item is None:
            angles.value = None
        else:
            angles.set(*item)
        zones.append(tick(fb, clock).zone)
        assert zones[-1] is (expected or Zone.OFF)
    assert states(factory, RED) == [False, 1.0, 0.0, 1.0, 0.0]
    assert states(factory, GREEN) == [False, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0]
    assert states(factory, BLUE) == [False]
    assert states(factory, FRONT) == [False, 3 / 32, 5 / 32, 4 / 32, 2 / 32, 0.0]
    assert states(factory, BACK) == [False]
    assert states(factory, LEFT) == [False, 18 / 32, 1.0, 0.0]
    assert states(factory, RIGHT) == [False, 1 / 32, 0.0]
    assert states(factory, BUZZER) == [False]
    fb.close()


def test_edge_flashes_and_sounds_on_entry(factory):
    fb, angles, clock = make()
    fb.set_targets(FeedbackTargets(sound_on_edge=True))
    angles.set(14.5, 0.0)  # front rim
    record = [tick(fb, clock) for _ in range(18)]
    assert {s.zone for s in record} == {Zone.EDGE}
    # 2 Hz flash: lit for 0.25 s (8 ticks), dark for 8, lit again.
    assert [s.lit for s in record] == [True] * 8 + [False] * 8 + [True] * 2
    # Edge pattern: 400 Hz 0.12 s, gap 0.06 s, 400 Hz 0.12 s → on 4 ticks, off 2, on 4, then done.
    assert [s.sound_hz for s in record] == [400.0] * 4 + [None] * 2 + [400.0] * 4 + [None] * 8
    assert [s.cue for s in record] == [Cue.EDGE] * 10 + [None] * 8
    assert states(factory, RED) == [False, 1.0, 0.0, 1.0]
    assert states(factory, GREEN) == [False]
    assert states(factory, BUZZER) == [False, 1.0, 0.0, 1.0, 0.0]  # active buzzer: on/off
    # Staying on the edge does not re-trigger; leaving and coming back does.
    angles.set(12.0, 0.0)
    assert tick(fb, clock).sound_hz is None
    angles.set(14.5, 0.0)
    assert tick(fb, clock).sound_hz == 400.0
    fb.close()


def test_no_edge_sound_unless_asked(factory):
    fb, angles, clock = make()
    fb.set_targets(FeedbackTargets())
    angles.set(0.0, 16.0)
    assert [tick(fb, clock).sound_hz for _ in range(3)] == [None] * 3
    assert states(factory, BUZZER) == [False]
    fb.close()


def test_cues_play_without_a_session_on_a_passive_buzzer(factory):
    fb, angles, clock = make(GpioPins(buzzer_kind="passive"))
    buzzer_pin = factory.pin(BUZZER)
    fb.cue("countdown")
    freqs = []
    for _ in range(6):
        tick(fb, clock)
        freqs.append(buzzer_pin.frequency)
    assert freqs == [1000.0] * 4 + [None] * 2  # 0.12 s → 4 ticks of 1/32 s
    fb.cue(Cue.END)
    for _ in range(40):
        tick(fb, clock)
        freqs.append(buzzer_pin.frequency)
    end = freqs[6:]
    # 1200 Hz 0.2 s, gap 0.06, 900 Hz 0.2, gap 0.06, 600 Hz 0.6, sampled every 1/32 s.
    assert end == [1200.0] * 7 + [None] * 2 + [900.0] * 6 + [None] * 2 + [600.0] * 19 + [None] * 4
    # TonalBuzzer: duty 0.5 while sounding, 0 when silent; pitch changes are not duty changes.
    assert states(factory, BUZZER) == [False, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0]
    fb.close()


def test_new_cue_replaces_the_playing_one(factory):
    fb, angles, clock = make(GpioPins(buzzer_kind="passive"))
    fb.cue(Cue.COUNTDOWN)
    fb.cue(Cue.GO)  # both before one tick: the latest wins
    state = tick(fb, clock)
    assert state.cue is Cue.GO and state.sound_hz == 1500.0
    fb.close()


def test_lean_target_moves_zones_and_arrows(factory):
    fb, angles, clock = make()
    fb.set_targets(FeedbackTargets(target_pitch=6 * DEG))
    angles.set(0.0, 0.0)  # level, but 6° short of the target: toes are too high
    s = tick(fb, clock)
    assert s.zone is Zone.OUTSIDE
    assert s.levels.back > 0.0 and s.levels.front == 0.0
    angles.set(6.5, 0.0)
    s = tick(fb, clock)
    assert s.zone is Zone.TARGET and s.levels.front == 0.0 and s.levels.back == 0.0
    fb.close()


def test_failing_or_nonsense_angles_mean_sensor_lost(factory, caplog):
    calls = []

    def broken():
        calls.append(1)
        raise OSError("I2C gone")

    clock = ManualClock()
    fb = open_gpio_feedback(broken, clock=clock, start=False)
    fb.set_targets(FeedbackTargets())
    assert [tick(fb, clock).zone for _ in range(5)] == [Zone.OFF] * 5
    assert len(calls) == 5
    assert caplog.text.count("latest_angles() failed") == 1  # logged once, not per tick
    fb.close()

    fb, angles, clock = make()
    fb.set_targets(FeedbackTargets())
    angles.value = (float("nan"), 0.0)
    assert tick(fb, clock).zone is Zone.OFF
    fb.close()


def test_button_long_press_detected_by_the_tick(factory):
    fb, angles, clock = make(hold_time_s=0.5)
    pin = factory.pin(BUTTON)
    pin.drive_low()
    for _ in range(15):  # 15/32 s < 0.5 s
        tick(fb, clock)
    assert fb.button.events.empty()
    tick(fb, clock)  # the tick at 15/32 s
    tick(fb, clock)  # 16/32 s = 0.5 s: hold reached
    assert fb.button.events.get_nowait() is ButtonEvent.LONG_PRESS
    pin.drive_high()
    assert fb.button.events.empty()
    fb.close()


def test_close_goes_dark_and_releases_every_pin(factory):
    fb, angles, clock = make(GpioPins(buzzer_kind="passive"))
    fb.set_targets(FeedbackTargets())
    angles.set(0.0, -6.0)
    fb.cue(Cue.GO)
    tick(fb, clock)
    assert factory.pin(RED).state == 1.0 and factory.pin(LEFT).state > 0.0
    assert factory.pin(BUZZER).state == 0.5
    fb.close()
    for gpio in (RED, GREEN, BLUE, FRONT, BACK, LEFT, RIGHT, BUZZER):
        assert factory.pin(gpio).state == 0.0, gpio
    assert fb.state.zone is Zone.OFF
    # Released: the same pins can be claimed again.
    for gpio in (RED, GREEN, BLUE, FRONT, BACK, LEFT, RIGHT, BUZZER, BUTTON):
        LED(gpio).close()
    # After close the game's calls are harmless and nothing changes.
    fb.set_targets(FeedbackTargets())
    fb.cue(Cue.END)
    fb.step()
    fb.close()
    assert factory.pin(BUZZER).state == 0.0


def test_thread_updates_lights_without_the_caller(factory):
    angles = Angles()
    angles.set(0.0, 0.0)
    with open_gpio_feedback(angles) as fb:
        assert fb.running
        fb.set_targets(FeedbackTargets())
        deadline = time.monotonic() + 5.0
        while fb.zone is not Zone.TARGET and time.monotonic() < deadline:
            time.sleep(0.005)
        assert fb.zone is Zone.TARGET
        assert factory.pin(GREEN).state == 1.0
    assert not fb.running
    assert factory.pin(GREEN).state == 0.0
    assert not any(t.name == "feedback" for t in threading.enumerate())


def test_cue_from_another_thread_is_queued_not_blocking(factory):
    fb, angles, clock = make()
    done = queue.Queue()
    threading.Thread(target=lambda: (fb.cue(Cue.SELECT), done.put(True))).start()
    assert done.get(timeout=5.0)
    assert tick(fb, clock).cue is Cue.SELECT
    fb.close()
