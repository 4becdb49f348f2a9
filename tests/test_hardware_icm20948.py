"""ICM-20948 driver against the simulated chip on a SimulatedBus driven by a ManualClock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.hardware import icm20948 as drv
from wobble_trainer.hardware.icm20948 import ICM20948Driver, divider_for
from wobble_trainer.hardware.imu import ChipIdError, ImuError, ImuSettings
from wobble_trainer.sim.bus import RegisterWrite, SimulatedBus
from wobble_trainer.sim.chips.icm20948 import ICM20948Model
from wobble_trainer.sim.motion import ConstantRotation, StaticMotion
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

ADDR = 0x68


class Rig:
    def __init__(self, motion=None, address: int = ADDR, **chip_kwargs) -> None:
        self.clock = ManualClock()
        self.chip = ICM20948Model(
            motion or StaticMotion(), errors=SensorErrors.none(), **chip_kwargs
        )
        self.address = address
        self.bus = SimulatedBus(1, devices={address: self.chip}, clock=self.clock)

    def driver(self, **kwargs) -> ICM20948Driver:
        return ICM20948Driver(
            self.bus, self.address, bus_number=1, sleep=self.clock.sleep, **kwargs
        )

    def writes(self) -> list[tuple[int, int]]:
        return [(w.register, w.data[0]) for w in self.bus.writes]


def drain(driver: ICM20948Driver, clock: ManualClock, seconds: float, step: float = 0.1):
    """Advance the clock, reading the FIFO every ``step`` (well inside its 4096 bytes)."""
    acc, gyr = [], []
    elapsed = 0.0
    while elapsed < seconds - 1e-12:
        dt = min(step, seconds - elapsed)
        clock.advance(dt)
        elapsed += dt
        batch = driver.read_fifo()
        assert not batch.overflowed
        acc.append(batch.acc)
        gyr.append(batch.gyr)
    return np.concatenate(acc), np.concatenate(gyr)


# -- chip id ---------------------------------------------------------------------------------
def test_chip_id_selects_bank_0_first():
    rig = Rig()
    driver = rig.driver()
    assert driver.chip_name == "ICM-20948"
    assert rig.bus.writes == [RegisterWrite(ADDR, 0x7F, b"\x00")]


def test_chip_left_in_bank_2_is_recognised():
    rig = Rig()
    rig.bus.write_byte_data(ADDR, 0x7F, 0x20)  # a crashed program left bank 2 selected
    assert rig.driver().chip_name == "ICM-20948"


def test_read_id_probe_writes_nothing_to_a_chip_in_bank_0():
    rig = Rig()
    assert ICM20948Driver.read_id(rig.bus, ADDR) == 0xEA
    assert rig.bus.writes == []
    rig.bus.write_byte_data(ADDR, 0x7F, 0x20)
    rig.bus.writes.clear()
    assert ICM20948Driver.read_id(rig.bus, ADDR) == 0xEA
    assert rig.bus.writes == [RegisterWrite(ADDR, 0x7F, b"\x00")]


def test_chip_id_mismatch_names_chip_bus_address_and_id():
    rig = Rig(address=0x69)
    rig.chip.banks[0][0x00] = 0x71  # e.g. an MPU-9250 answering
    with pytest.raises(ChipIdError) as info:
        rig.driver()
    message = str(info.value)
    assert "ICM-20948" in message and "bus 1" in message
    assert "0x69" in message and "0x71" in message and "0xEA" in message
    assert info.value.id_read == 0x71 and info.value.address == 0x69


# -- configuration: exact register writes ----------------------------------------------------------
def test_configure_default_settings_writes_exactly_the_datasheet_sequence():
    rig = Rig()
    driver = rig.driver()
    rig.bus.writes.clear()
    config = driver.configure(ImuSettings())  # 1000 Hz, ±8 g, ±500 °/s, widest DLPF below ODR/2
    # DS-000189: §8.4 PWR_MGMT_1, §10.x bank 2 (Table 16 gyro DLPF, Table 18 accel DLPF),
    # §8.57 FIFO_EN_2, §8.2 USER_CTRL, §8.58 FIFO_RST.
    expected = [
        (0x06, 0x80),  # DEVICE_RESET (bank 0 already selected at construction)
        (0x06, 0x01),  # wake, CLKSEL = 1 (auto)
        (0x7F, 0x20),  # bank 2
        (0x09, 0x01),  # ODR_ALIGN_EN
        (0x00, 0x00),  # GYRO_SMPLRT_DIV = 0 -> 1125 Hz
        (0x01, (1 << 3) | (1 << 1) | 1),  # GYRO_DLPFCFG 1 (151.8 Hz), ±500 °/s, FCHOICE
        (0x10, 0x00),  # ACCEL_SMPLRT_DIV[11:8]
        (0x11, 0x00),  # ACCEL_SMPLRT_DIV[7:0]
        (0x14, (7 << 3) | (2 << 1) | 1),  # ACCEL_DLPFCFG 7 (473 Hz), ±8 g, FCHOICE
        (0x7F, 0x00),  # bank 0
        (0x67, 0x1E),  # FIFO_EN_2: accel + gyro x/y/z, no temperature
        (0x03, 0x40),  # USER_CTRL.FIFO_EN
        (0x68, 0x1F),  # FIFO_RST assert
        (0x68, 0x00),  # FIFO_RST release
    ]
    assert rig.writes() == expected
    assert config.chip == "ICM-20948"
    assert config.odr_hz == pytest.approx(1125.0)
    assert (config.accel_range_g, config.gyro_range_dps) == (8.0, 500.0)
    assert (config.accel_dlpf_hz, config.gyro_dlpf_hz) == (473.0, 151.8)
    assert config.fifo_capacity_samples == 512 // 12
    # The chip really holds it (no write was lost to the reset).
    assert rig.chip.reg(2, 0x14) == 0x3D and rig.chip.reg(2, 0x01) == 0x0B
    assert not rig.chip.sleeping


def test_configure_waits_for_reset_and_startup_on_the_injected_clock():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings())
    assert rig.clock.now() >= drv.RESET_WAIT_S + drv.STARTUP_S


def test_reset_that_never_finishes_raises_instead_of_spinning():
    rig = Rig()
    driver = ICM20948Driver(rig.bus, ADDR, bus_number=1, sleep=lambda s: None)  # time stands still
    with pytest.raises(ImuError, match="soft reset"):
        driver.configure(ImuSettings())


def test_low_rate_writes_the_same_divider_to_gyro_and_accel():
    rig = Rig()
    driver = rig.driver()
    rig.bus.writes.clear()
    config = driver.configure(ImuSettings(odr_hz=100.0, dlpf_hz=20.0))
    writes = rig.writes()
    assert (0x00, 10) in writes and (0x11, 10) in writes and (0x10, 0) in writes
    assert config.odr_hz == pytest.approx(1125.0 / 11)
    assert (config.accel_dlpf_hz, config.gyro_dlpf_hz) == (23.9, 23.9)
    assert rig.chip.reg(2, 0x01) >> 3 & 7 == 4 and rig.chip.reg(2, 0x14) >> 3 & 7 == 4


@pytest.mark.parametrize(
    ("wanted", "divider"),
    [(1125.0, 0), (1000.0, 0), (562.5, 1), (500.0, 1), (200.0, 5), (100.0, 10), (1.0, 255)],
)
def test_divider_for(wanted, divider):
    assert divider_for(wanted) == divider


@pytest.mark.parametrize(
    ("wanted", "accel", "gyro"),
    [
        (None, 473.0, 151.8),
        (500.0, 473.0, 151.8),
        (200.0, 246.0, 151.8),
        (120.0, 111.4, 119.5),
        (50.0, 50.4, 51.2),
        (24.0, 23.9, 23.9),
        (11.0, 11.5, 11.6),
        (5.0, 5.7, 5.7),
    ],
)
def test_every_filter(wanted, accel, gyro):
    rig = Rig()
    config = rig.driver().configure(ImuSettings(odr_hz=1125.0, dlpf_hz=wanted))
    assert (config.accel_dlpf_hz, config.gyro_dlpf_hz) == (accel, gyro)
    assert rig.chip.filter_bandwidths_hz() == (accel, gyro)


def test_default_filter_stays_below_half_the_rate():
    rig = Rig()
    config = rig.driver().configure(ImuSettings(odr_hz=100.0))
    half = config.odr_hz / 2  # 1125 / 11 / 2 = 51.1 Hz
    assert config.accel_dlpf_hz < half and config.gyro_dlpf_hz < half
    assert (config.accel_dlpf_hz, config.gyro_dlpf_hz) == (50.4, 23.9)


# -- rate ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("wanted", [1125.0, 562.5, 375.0, 225.0, 100.0, 50.0, 10.0, 4.4])
def test_advancing_the_clock_by_t_yields_odr_times_t_samples(wanted):
    rig = Rig()
    driver = rig.driver()
    config = driver.configure(ImuSettings(odr_hz=wanted))
    duration = 2.0
    acc, gyr = drain(driver, rig.clock, duration)
    assert len(acc) == len(gyr)
    assert abs(len(acc) - config.odr_hz * duration) <= 1


# -- scaling ---------------------------------------------------------------------------------------
def _tilted() -> tuple[float, float, float, float]:
    # 30° about x then 50° about y: gravity spread over all three axes, some negative.
    qx = (math.cos(math.radians(15)), math.sin(math.radians(15)), 0.0, 0.0)
    qy = (math.cos(math.radians(25)), 0.0, math.sin(math.radians(25)), 0.0)
    w1, x1, y1, z1 = qy
    w2, x2, y2, z2 = qx
    return (
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    )


@pytest.mark.parametrize("range_g", [2.0, 4.0, 8.0, 16.0])
def test_accel_scaling_every_range(range_g):
    motion = StaticMotion(_tilted())
    expected = motion.motion_at(np.zeros(1)).specific_force[0]
    rig = Rig(motion)
    driver = rig.driver()
    config = driver.configure(ImuSettings(odr_hz=225.0, accel_range_g=range_g))
    assert config.accel_range_g == range_g
    acc, _ = drain(driver, rig.clock, 0.2)
    lsb = range_g * STANDARD_GRAVITY / 32768
    assert len(acc) > 10
    assert np.all(np.abs(acc - expected) <= lsb * 1.01)
    assert np.all(np.sign(acc[0]) == np.sign(expected))


@pytest.mark.parametrize("range_dps", [250.0, 500.0, 1000.0, 2000.0])
def test_gyro_scaling_every_range(range_dps):
    rate = np.array([0.8, -0.5, 0.3]) * range_dps * DEG
    rig = Rig(ConstantRotation(tuple(rate)))
    driver = rig.driver()
    config = driver.configure(ImuSettings(odr_hz=225.0, gyro_range_dps=range_dps))
    assert config.gyro_range_dps == range_dps
    _, gyr = drain(driver, rig.clock, 0.2)
    lsb = DEG / drv.GYRO_LSB_PER_DPS[drv.GYRO_RANGES_DPS[range_dps]]
    assert len(gyr) > 10
    assert np.all(np.abs(gyr - rate) <= lsb * 1.01)


def test_ranges_snap_to_nearest_supported():
    rig = Rig()
    config = rig.driver().configure(ImuSettings(accel_range_g=6.5, gyro_range_dps=1500.0))
    assert config.accel_range_g == 8.0 and config.gyro_range_dps == 2000.0


def test_temperature():
    rig = Rig(StaticMotion(temperature_c=37.5))
    driver = rig.driver()
    driver.configure(ImuSettings())
    rig.clock.advance(0.01)
    assert driver.read_temperature_c() == pytest.approx(37.5, abs=1 / 333.87)


# -- FIFO ----------------------------------------------------------------------------------------
def test_partial_frame_stays_in_the_fifo_for_the_next_read():
    rig = Rig(ConstantRotation((0.2, -0.1, 0.05)))
    driver = rig.driver()
    driver.configure(ImuSettings(odr_hz=1125.0))
    rig.clock.advance(3 / 1125 + 1e-6)
    rig.bus.read_byte_data(ADDR, 0x00)  # let the chip catch up
    assert len(rig.chip.fifo) == 36
    tail = bytes(rig.chip.fifo[-6:])  # the chip is half-way through writing frame 3
    del rig.chip.fifo[-6:]
    first = driver.read_fifo()
    assert len(first) == 2
    assert len(rig.chip.fifo) == 6  # the half frame was not read
    rig.chip.fifo += tail
    second = driver.read_fifo()
    assert len(second) == 1
    np.testing.assert_allclose(second.gyr[0], first.gyr[0])
    np.testing.assert_allclose(second.acc[0], first.acc[0])


def test_overflow_is_reported_and_recovered_with_frames_aligned():
    motion = StaticMotion(_tilted())
    expected = motion.motion_at(np.zeros(1)).specific_force[0]
    rig = Rig(motion)
    driver = rig.driver()
    config = driver.configure(ImuSettings(odr_hz=1125.0))
    rig.clock.advance(1.0)  # 1125 frames of 12 bytes: far past 4096 bytes
    batch = driver.read_fifo()
    assert batch.overflowed and len(batch) == 0
    assert len(rig.chip.fifo) == 0  # reset: the misaligned bytes are gone
    acc, gyr = drain(driver, rig.clock, 0.1)
    assert abs(len(acc) - config.odr_hz * 0.1) <= 1
    lsb = 8 * STANDARD_GRAVITY / 32768
    assert np.all(np.abs(acc - expected) <= lsb * 1.01)
    assert np.all(np.abs(gyr) <= DEG / 65.5)


def test_forced_overflow_is_reported_once():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings())
    rig.clock.advance(0.01)
    rig.bus.read_byte_data(ADDR, 0x00)
    rig.chip.force_fifo_overflow()
    assert driver.read_fifo().overflowed
    rig.clock.advance(0.01)
    assert not driver.read_fifo().overflowed


def test_long_fifo_read_goes_through_i2c_rdwr_and_short_one_does_not(monkeypatch):
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings(odr_hz=1125.0))
    calls = []
    real = rig.bus.i2c_rdwr
    monkeypatch.setattr(rig.bus, "i2c_rdwr", lambda *msgs: (calls.append(msgs), real(*msgs)))
    rig.clock.advance(2 / 1125 + 1e-6)
    assert len(driver.read_fifo()) == 2  # 24 bytes: plain block read
    assert calls == []
    rig.clock.advance(100 / 1125)
    assert len(driver.read_fifo()) == 100  # 1200 bytes
    assert len(calls) == 1


def test_reads_do_not_rewrite_the_bank_register():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings())
    rig.bus.writes.clear()
    for _ in range(3):
        rig.clock.advance(0.01)
        driver.read_fifo()
        driver.read_temperature_c()
    assert rig.bus.writes == []


def test_bank_is_reselected_after_a_bus_error():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings())
    rig.bus.inject_io_error()
    with pytest.raises(OSError):
        driver.read_fifo()
    rig.bus.writes.clear()
    rig.clock.advance(0.01)
    driver.read_fifo()
    assert rig.bus.writes == [RegisterWrite(ADDR, 0x7F, b"\x00")]


def test_replugged_chip_can_be_configured_again():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings(odr_hz=225.0))
    rig.bus.unplug()
    with pytest.raises(OSError):
        driver.read_fifo()
    rig.bus.replug()
    config = driver.configure(ImuSettings(odr_hz=225.0))
    acc, _ = drain(driver, rig.clock, 0.2)
    assert abs(len(acc) - config.odr_hz * 0.2) <= 1


def test_read_before_configure_is_an_error():
    with pytest.raises(ImuError):
        Rig().driver().read_fifo()


def test_power_down_sleeps_the_chip():
    rig = Rig()
    driver = rig.driver()
    driver.configure(ImuSettings())
    driver.close()
    assert rig.chip.sleeping
    produced = rig.chip.samples_produced
    rig.clock.advance(1.0)
    rig.bus.read_byte_data(ADDR, 0x00)
    assert rig.chip.samples_produced == produced
