"""``wobble selftest``: the simulated run passes; each injected fault fails with what to check."""

import io

import numpy as np
import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from wobble_trainer import cli, selftest
from wobble_trainer.clock import ManualClock
from wobble_trainer.feedback.gpio import GpioOutputs, GpioPins
from wobble_trainer.hardware.imu import ImuSettings


@pytest.fixture(autouse=True)
def no_config(monkeypatch, tmp_path):
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path))
    monkeypatch.setattr("wobble_trainer.config.config_path", lambda: None)


@pytest.fixture
def factory():
    previous = Device.pin_factory
    f = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = f
    yield f
    f.reset()
    Device.pin_factory = previous


def lines(text, status):
    return [line for line in text.splitlines() if line.startswith(f"[{status}]")]


def test_sim_selftest_passes_every_check(capsys, tmp_path):
    shot = tmp_path / "pattern.png"
    assert cli.main(["selftest", "--sim", "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    assert lines(out, "FAIL") == []
    passed = " ".join(lines(out, "PASS"))
    for name in ("IMU found", "IMU sample rate", "IMU lost samples", "IMU I2C errors",
                 "IMU gravity", "IMU gyro offset", "button", "zone LED red", "front LED",
                 "buzzer countdown", "buzzer end", "display"):  # fmt: skip
        assert name in passed, name
    assert "Self-test passed: 21 of 21" in out
    assert shot.stat().st_size > 1000


def test_a_missing_imu_fails_with_what_to_check(capsys):
    assert cli.main(["selftest", "--sim", "--sim-fault", "no-imu", "--skip", "display"]) == 1
    out = capsys.readouterr().out
    (fail,) = lines(out, "FAIL")
    assert "IMU found" in fail and "no supported IMU answered" in fail
    assert "i2cdetect -y 1" in out and "wiring" in out
    assert "FAILED" in out and "failing: IMU found" in out


def test_i2c_errors_fail_and_name_the_cable(capsys):
    assert cli.main(["selftest", "--sim", "--sim-fault", "i2c-errors", "--skip", "display"]) == 1
    out = capsys.readouterr().out
    (fail,) = lines(out, "FAIL")
    assert "IMU I2C errors" in fail and "2 I2C errors" in fail
    assert "i2c_arm_baudrate=100000" in out
    # Retried errors lose nothing: the FIFO kept the samples.
    assert any("IMU lost samples" in line for line in lines(out, "PASS"))


def test_a_button_nobody_presses_fails(capsys):
    args = ["selftest", "--sim", "--sim-fault", "no-button", "--skip", "imu", "--timeout", "3"]
    assert cli.main(args + ["--skip", "display"]) == 1
    out = capsys.readouterr().out
    (fail,) = lines(out, "FAIL")
    assert "button" in fail and "no press within 3 s" in fail and "GPIO16" in fail


def _moving_target(clock):
    from wobble_trainer.hardware.detect import scan_bus
    from wobble_trainer.sim.device import make_simulated_imu

    def locate():
        device = make_simulated_imu("LSM6DSO", clock=clock)  # someone is on the board
        device.board.set_lean_target(0.15, -0.1)
        clock.advance(0.5)
        return device.bus, scan_bus(device.bus, 1)[0]

    return selftest.ImuTarget(locate, clock)


def test_a_moving_board_is_not_judged_at_rest():
    results = selftest.check_imu(_moving_target(ManualClock(5.0)), ImuSettings(odr_hz=416.0))
    by_name = {r.name: r for r in results}
    assert by_name["IMU found"].detail.startswith("LSM6DSO")
    assert by_name["IMU sample rate"].status == "PASS"
    assert by_name["IMU at rest"].failed and "moved" in by_name["IMU at rest"].detail
    assert "IMU gravity" not in by_name


def test_judging_catches_a_slow_chip_lost_samples_and_offsets():
    from wobble_trainer.sampling.sampler import SamplerStats
    from wobble_trainer.sampling.samples import make_samples

    n = 95
    acc = np.tile([0.0, 0.0, 1.3 * 9.80665], (n, 1))  # 1.3 g: out of spec
    gyr = np.tile(np.radians([30.0, 0.0, 0.0]), (n, 1))  # 30 °/s: beyond ±20
    batches = [make_samples(np.arange(5) * 0.01, acc[:5], gyr[:5])] + [
        make_samples(np.arange(10) * 0.01, acc[:10], gyr[:10]) for _ in range(9)
    ]
    times = [0.1 * (i + 1) for i in range(10)]
    stats = SamplerStats(samples=n, lost_samples=3, gaps=1)
    results = {r.name: r for r in selftest._judge_imu("MPU-6050", 1000.0, batches, times, stats)}
    assert (
        results["IMU sample rate"].failed
        and "100.0 Hz measured" in results["IMU sample rate"].detail
    )
    assert (
        results["IMU lost samples"].failed
        and "3 lost in 1 gaps" in results["IMU lost samples"].detail
    )
    assert results["IMU gravity"].failed and "1.300 g" in results["IMU gravity"].detail
    assert results["IMU gyro offset"].failed and "+30.00" in results["IMU gyro offset"].detail


def test_chip_names_map_to_their_datasheet_figures():
    assert selftest.chip_spec("LSM6DSO/LSM6DSOX")[0] == "LSM6DSO"
    assert selftest.chip_spec("MPU-9255")[0] == "MPU-9250"
    assert selftest.chip_spec("ICM-20948")[1].gyro_offset_dps == 5.0
    assert selftest.chip_spec("mystery")[0] == "MPU-6050"  # the loosest known figures


def test_led_check_reads_the_pins_back(factory):
    outputs = GpioOutputs(GpioPins(), pin_factory=factory)
    confirmer = selftest.Confirmer(ManualClock(), io.StringIO(), auto=True)
    try:
        results = selftest.check_leds(outputs, factory, confirmer, ManualClock())
        assert [r.status for r in results] == ["PASS"] * 7
        # A LED whose pin never goes high (a broken pin driver) is caught by the read-back.
        outputs.directions["left"].on = lambda: None
        results = {
            r.name: r for r in selftest.check_leds(outputs, factory, confirmer, ManualClock())
        }
        left = results["left LED (user's left)"]
        assert left.failed and "GPIO13 off" in left.detail
    finally:
        outputs.close()


def test_led_not_seen_by_the_maker_fails(factory):
    outputs = GpioOutputs(
        GpioPins(zone_red=None, zone_green=None, zone_blue=None), pin_factory=factory
    )
    answers = iter([True, False, True, True])

    class Eye:
        def ask(self, question, idle=None):
            return next(answers)

    try:
        results = selftest.check_leds(outputs, factory, Eye(), ManualClock())
    finally:
        outputs.close()
    assert [r.status for r in results] == ["PASS", "FAIL", "PASS", "PASS"]
    assert "polarity" in results[1].fix


@pytest.mark.parametrize("kind", ["active", "passive"])
def test_buzzer_pin_follows_every_cue(factory, kind):
    outputs = GpioOutputs(GpioPins(buzzer_kind=kind), pin_factory=factory)
    clock = ManualClock()
    try:
        results = selftest.check_buzzer(
            outputs, factory, selftest.Confirmer(clock, io.StringIO(), auto=True), clock
        )
    finally:
        outputs.close()
    assert [r.name for r in results] == [
        "buzzer countdown", "buzzer go", "buzzer edge", "buzzer end", "buzzer select"
    ]  # fmt: skip
    assert all(r.status == "PASS" for r in results)
    assert clock.now() == pytest.approx(0.12 + 0.5 + 0.30 + 1.12 + 0.03)  # every note played


def test_confirmer_takes_a_button_press_and_times_out_without_one():
    import queue

    class FakeButton:
        def __init__(self):
            self.events = queue.SimpleQueue()

        def poll(self):
            pass

    out = io.StringIO()
    clock = ManualClock()
    button = FakeButton()

    class NoTty(io.StringIO):
        def isatty(self):
            return False

    confirmer = selftest.Confirmer(clock, out, button=button, timeout_s=5.0, stdin=NoTty())
    assert confirmer.ask("Is it lit?") is False
    assert clock.now() == pytest.approx(5.0, abs=0.06) and "press the button" in out.getvalue()

    class PressLater(FakeButton):
        def poll(self):
            if clock.now() > 6.0:
                self.events.put("short")

    confirmer.button = PressLater()
    assert confirmer.ask("Is it lit?") is True
    # Nothing to answer with: no.
    bare = selftest.Confirmer(clock, out, timeout_s=5.0, stdin=NoTty())
    assert bare.ask("Heard it?") is False and "counted as no" in out.getvalue()


def test_the_test_pattern_reads_back_and_a_blank_screen_does_not():
    import pygame

    pygame.font.init()
    surface = pygame.Surface((800, 480))
    selftest.draw_test_pattern(surface)
    assert selftest.pattern_errors(surface) == []
    surface.fill((0, 0, 0))
    errors = selftest.pattern_errors(surface)
    assert any("bar 1" in e for e in errors) and any("frame pixel" in e for e in errors)
