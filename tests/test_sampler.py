"""SamplerCore logic with a scripted driver and a manual clock (no real time anywhere).

The same faults against the real drivers on the simulated bus are in test_sampler_faults.py.
"""

import errno

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.hardware.imu import FifoBatch, ImuConfig, ImuSettings
from wobble_trainer.sampling.sampler import (
    ERRORS_BEFORE_DISCONNECT,
    RECONNECT_INTERVAL_S,
    SamplerCore,
)


class ScriptedChip:
    """A chip that makes samples at its own (slightly wrong) rate into a bounded FIFO."""

    def __init__(self, clock, odr=1000.0, ppm=0.0, capacity=1000):
        self.clock, self.odr, self.ppm, self.capacity = clock, odr, ppm, capacity
        self.present = True
        self.running = False
        self.errors: list[int] = []
        self.reset()

    def reset(self):
        self.started_at = self.clock.now()
        self.produced = 0
        self.read = 0
        self.overflowed = False

    def due(self):
        if not self.running:
            return self.produced
        period = 1.0 / (self.odr * (1 + self.ppm * 1e-6))
        total = int((self.clock.now() - self.started_at) / period + 1e-9)
        if total - self.read > self.capacity:
            self.overflowed = True
            self.read = total - self.capacity
        self.produced = total
        return total


class ScriptedDriver:
    chip_name = "SCRIPTED"
    address = 0x68
    bus_number = 9

    def __init__(self, chip: ScriptedChip):
        if not chip.present:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        self.chip = chip
        self.closed = False

    def configure(self, settings: ImuSettings) -> ImuConfig:
        self.chip.running = True
        self.chip.reset()
        return ImuConfig("SCRIPTED", self.chip.odr, 8, 500, 184, 184, self.chip.capacity)

    def read_fifo(self) -> FifoBatch:
        chip = self.chip
        if not chip.present:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        if chip.errors:
            code = chip.errors.pop(0)
            raise OSError(code, "scripted")
        total = chip.due()
        n = total - chip.read
        start = chip.read
        chip.read = total
        overflowed, chip.overflowed = chip.overflowed, False
        index = start + np.arange(n)
        acc = np.zeros((n, 3))
        acc[:, 0] = index  # each sample carries its index
        return FifoBatch(acc, np.zeros((n, 3)), overflowed)

    def close(self):
        self.closed = True


@pytest.fixture
def clock():
    return ManualClock(100.0)


def make(clock, **chip_args):
    chip = ScriptedChip(clock, **chip_args)
    core = SamplerCore(lambda: ScriptedDriver(chip), ImuSettings(), clock)
    assert core.connect()
    return core, chip


def run(core, clock, seconds, step=0.005):
    out = []
    for _ in range(round(seconds / step)):
        clock.advance(step)
        out.append(core.poll())
    return np.concatenate(out)


def test_stamps_are_t0_plus_k_over_odr_whatever_the_poll_jitter(clock):
    core, _ = make(clock)
    out = []
    rng = np.random.default_rng(1)
    for _ in range(300):
        clock.advance(float(rng.uniform(0.001, 0.02)))
        out.append(core.poll())
    s = np.concatenate(out)
    assert list(s["acc"][:, 0]) == list(range(len(s)))
    np.testing.assert_allclose(s["t"], 100.0 + (np.arange(len(s)) + 1) / 1000.0)
    assert core.stats.samples == len(s)
    assert core.stats.lost_samples == 0 and core.stats.gaps == 0


def test_a_chip_clock_off_by_1000_ppm_is_followed(clock):
    core, _ = make(clock, ppm=1000.0)
    s = run(core, clock, 20.0)
    assert core.stats.clock_error_ppm == pytest.approx(1000.0, abs=150.0)
    # the newest stamp stays within a few ms of the true sample time
    true_newest = 100.0 + len(s) / (1000.0 * 1.001)
    assert abs(s["t"][-1] - true_newest) < 0.01
    assert np.all(np.diff(s["t"]) > 0)
    assert core.stats.gaps == 0


def test_transient_i2c_errors_lose_nothing(clock):
    core, chip = make(clock)
    run(core, clock, 0.5)
    chip.errors = [errno.EREMOTEIO, errno.EIO]
    s = run(core, clock, 0.5)
    assert core.stats.i2c_errors == 2
    assert core.stats.connected
    assert core.stats.lost_samples == 0
    assert np.all(np.diff(s["acc"][:, 0]) == 1)


def test_fifo_overflow_becomes_a_reported_gap(clock):
    core, _ = make(clock, capacity=50)
    first = run(core, clock, 0.2)
    clock.advance(0.2)  # the host stalls for 200 ms: the 50-sample FIFO overflows
    after = run(core, clock, 0.1)
    assert core.stats.fifo_overflows == 1
    assert core.stats.gaps == 1
    gap = after["gap_before"][0]
    assert after["gap_before"][1:].sum() == 0
    # 205 samples were made while nobody read; the FIFO kept the newest 50
    missing = after["acc"][0, 0] - first["acc"][-1, 0] - 1
    assert gap == pytest.approx(missing / 1000.0, abs=0.002)
    assert core.stats.lost_samples == pytest.approx(missing, abs=2)
    assert np.all(np.diff(np.concatenate([first, after])["t"]) > 0)


def test_chip_unplugged_then_back_reconnects_with_a_gap(clock):
    core, chip = make(clock)
    run(core, clock, 0.5)
    chip.present = False
    run(core, clock, 1.0)
    assert not core.stats.connected
    assert core.stats.i2c_errors >= ERRORS_BEFORE_DISCONNECT
    chip.present = True
    chip.running = False  # back at power-on defaults
    s = run(core, clock, RECONNECT_INTERVAL_S + 0.5)
    assert core.stats.connected
    assert core.stats.reconnects == 1
    assert core.stats.gaps == 1
    assert s["gap_before"][0] == pytest.approx(1.0, abs=RECONNECT_INTERVAL_S + 0.05)


def test_a_chip_that_silently_stops_is_reopened(clock):
    core, chip = make(clock)
    run(core, clock, 0.5)
    chip.running = False  # lost power for a moment: FIFO off, every read answers "empty"
    run(core, clock, 0.5)
    assert core.stats.stalls == 1
    s = run(core, clock, 1.0)
    assert core.stats.reconnects == 1
    assert core.stats.connected and len(s) > 0
    assert core.stats.gaps == 1


def test_no_chip_at_start_is_retried_not_raised(clock):
    chip = ScriptedChip(clock)
    chip.present = False
    core = SamplerCore(lambda: ScriptedDriver(chip), ImuSettings(), clock)
    assert not core.connect()
    assert "Remote I/O" in core.stats.last_error
    run(core, clock, 1.0)
    chip.present = True
    run(core, clock, 1.0)
    assert core.stats.connected
    assert core.stats.samples > 0


# -- the real drivers on the simulated bus: every fault the simulator can inject -----------------

CHIPS = ["MPU-6050", "MPU-6500", "LSM6DS3", "LSM6DSO", "ICM-20948"]


def sim_sampler(chip, clock, odr=1000.0):
    from wobble_trainer.hardware.detect import driver_for
    from wobble_trainer.sim.device import make_simulated_imu

    device = make_simulated_imu(chip, clock=clock, seed=4)

    def open_driver():
        return driver_for(device.bus, device.address, bus_number="sim", sleep=clock.sleep)

    def truth(times):
        state = device.board.truth_at(times)
        return state.pitch_rad, state.roll_rad

    core = SamplerCore(open_driver, ImuSettings(odr_hz=odr), clock, truth=truth)
    assert core.connect()
    return core, device


def check_continuous(s, period):
    dt = np.diff(s["t"])
    ok = s["gap_before"][1:] == 0
    np.testing.assert_allclose(dt[ok], period, rtol=0.02)


@pytest.mark.parametrize("chip", CHIPS)
def test_sim_stream_is_complete_and_carries_truth(chip, clock):
    core, device = sim_sampler(chip, clock)
    s = run(core, clock, 2.0)
    odr = core.config.odr_hz
    assert len(s) == pytest.approx(2.0 * odr, abs=3)
    check_continuous(s, 1.0 / odr)
    assert core.stats.lost_samples == 0 and core.stats.fifo_overflows == 0
    assert np.isfinite(s["true_pitch"]).all()
    # at rest-ish on the board the accelerometer magnitude is about g
    assert np.median(np.linalg.norm(s["acc"], axis=1)) == pytest.approx(9.81, rel=0.05)


@pytest.mark.parametrize("chip", CHIPS)
def test_sim_faults_nack_io_error_and_stuck_bus(chip, clock):
    core, device = sim_sampler(chip, clock)
    run(core, clock, 0.3)
    device.bus.inject_nack(1)
    device.bus.inject_io_error(1)
    s = run(core, clock, 0.3)
    assert core.stats.i2c_errors == 2
    assert core.stats.lost_samples == 0
    device.bus.set_stuck(True)
    run(core, clock, 1.0)
    assert not core.stats.connected
    device.bus.set_stuck(False)
    s = run(core, clock, 1.5)
    assert core.stats.connected
    assert core.stats.reconnects == 1
    assert core.stats.gaps == 1
    assert s["gap_before"].max() > 0.5  # the stuck second is reported as a gap


@pytest.mark.parametrize("chip", CHIPS)
def test_sim_chip_vanishes_and_returns_at_defaults(chip, clock):
    core, device = sim_sampler(chip, clock)
    run(core, clock, 0.3)
    device.bus.unplug()
    run(core, clock, 1.0)
    assert not core.stats.connected
    device.bus.replug()
    s = run(core, clock, 1.5)
    assert core.stats.connected and core.stats.reconnects == 1
    assert core.stats.gaps == 1 and len(s) > 0
    gap = s["gap_before"][s["gap_before"] > 0][0]
    assert gap == pytest.approx(1.0, abs=0.6)


@pytest.mark.parametrize("chip", CHIPS)
def test_sim_power_glitch_without_errors_is_caught(chip, clock):
    core, device = sim_sampler(chip, clock)
    run(core, clock, 0.3)
    device.bus.unplug()
    device.bus.replug()  # back at power-on defaults before the sampler noticed anything
    run(core, clock, 2.0)
    assert core.stats.stalls == 1
    assert core.stats.reconnects == 1
    assert core.stats.connected


@pytest.mark.parametrize("chip", CHIPS)
def test_sim_fifo_overflow_is_a_gap(chip, clock):
    core, device = sim_sampler(chip, clock)
    run(core, clock, 0.3)
    device.chip.force_fifo_overflow()
    s = run(core, clock, 0.3)
    assert core.stats.fifo_overflows == 1
    assert core.stats.gaps == 1
    assert core.stats.lost_samples > 0
    assert np.all(np.diff(s["t"]) > 0)


def test_stamps_far_from_the_clock_are_resynced_without_a_gap(clock):
    core, chip = make(clock)
    run(core, clock, 1.0)
    # The chip kept its count but the clock jumped (the host was suspended for a second while
    # the chip was stopped): the stamps are now far behind.
    chip.running = False
    clock.advance(1.0)
    chip.running = True
    chip.started_at = clock.now() - chip.produced / chip.odr
    s = run(core, clock, 0.5)
    assert core.stats.resyncs == 1
    assert core.stats.gaps == 0 and core.stats.lost_samples == 0
    assert np.all(np.diff(s["t"]) > 0)
    assert abs(s["t"][-1] - clock.now()) < 0.05
