"""The MPU-6050 / 6500 / 9250 driver against the simulated chip on a simulated bus.

Expected register writes come from the register maps (RM-MPU-6000A-00 rev 4.2 for the 6050,
RM-MPU-6500A-00 / RM-MPU-9250A-00 for the 6500 family), by register number:
reg 25 SMPLRT_DIV, reg 26 CONFIG (DLPF_CFG bits 2:0), reg 27 GYRO_CONFIG (FS_SEL bits 4:3),
reg 28 ACCEL_CONFIG (AFS_SEL bits 4:3), reg 29 ACCEL_CONFIG2 (A_DLPF_CFG bits 2:0, 6500 only),
reg 35 FIFO_EN, reg 56 INT_ENABLE, reg 106 USER_CTRL, reg 107 PWR_MGMT_1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.hardware.imu import ChipIdError, ImuError, ImuSettings
from wobble_trainer.hardware.mpu6050 import (
    ACCEL_LSB_PER_G,
    GYRO_LSB_PER_DPS,
    Mpu6050Driver,
)
from wobble_trainer.sim.bus import RegisterWrite, SimulatedBus
from wobble_trainer.sim.chips.mpu6050 import (
    InvenSenseMpu,
    Mpu6050Model,
    Mpu6500Model,
    Mpu9250Model,
)
from wobble_trainer.sim.motion import ConstantRotation, StaticMotion
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

ALL_CHIPS = [Mpu6050Model, Mpu6500Model, Mpu9250Model]
G = STANDARD_GRAVITY


class Rig:
    """A chip on bus 1 with a manual clock, and a driver whose sleeps move that clock."""

    def __init__(self, cls: type[InvenSenseMpu] = Mpu6050Model, motion=None, address=0x68):
        self.clock = ManualClock()
        self.chip = cls(motion or StaticMotion(), errors=SensorErrors.none())
        self.bus = SimulatedBus(1, devices={address: self.chip}, clock=self.clock)
        self.address = address

    def driver(self) -> Mpu6050Driver:
        return Mpu6050Driver(self.bus, self.address, sleep=self.clock.sleep)

    def configured(self, **settings) -> Mpu6050Driver:
        driver = self.driver()
        driver.configure(ImuSettings(**settings))
        settle(driver, self.clock)
        return driver


def settle(driver: Mpu6050Driver, clock: ManualClock) -> None:
    """Drain the FIFO half a sample period after configure, so samples fall mid-way between
    the test's clock steps: advancing by N periods then gives exactly N samples."""
    clock.advance(0.5 / driver.config.odr_hz)
    driver.read_fifo()


def writes(address: int, *pairs: tuple[int, int]) -> list[RegisterWrite]:
    return [RegisterWrite(address, reg, bytes([value])) for reg, value in pairs]


FIFO_START = [(0x6A, 0x00), (0x6A, 0x04), (0x6A, 0x40)]  # stop, reset, start (reg 106)


@pytest.mark.parametrize(
    ("cls", "settings", "expected"),
    [
        # ImuSettings() = 1000 Hz, ±8 g, ±500 °/s, DLPF widest below 500 Hz.
        (
            Mpu6050Model,
            {},
            [
                (0x6B, 0x80),
                (0x6B, 0x01),
                (0x19, 0),
                (0x1A, 1),
                (0x1B, 0x08),
                (0x1C, 0x10),
                (0x38, 0x10),
                (0x23, 0x78),
                *FIFO_START,
            ],
        ),
        # 100 Hz, ±2 g, ±2000 °/s: SMPLRT_DIV 9; widest DLPF below 50 Hz is 42 Hz (DLPF_CFG 3).
        (
            Mpu6050Model,
            {"odr_hz": 100.0, "accel_range_g": 2.0, "gyro_range_dps": 2000.0},
            [
                (0x6B, 0x80),
                (0x6B, 0x01),
                (0x19, 9),
                (0x1A, 3),
                (0x1B, 0x18),
                (0x1C, 0x00),
                (0x38, 0x10),
                (0x23, 0x78),
                *FIFO_START,
            ],
        ),
        # 6500: gyro 184 Hz (DLPF_CFG 1), accel 218.1 Hz (A_DLPF_CFG 1) in reg 29.
        (
            Mpu6500Model,
            {"accel_range_g": 16.0, "gyro_range_dps": 1000.0},
            [
                (0x6B, 0x80),
                (0x6B, 0x01),
                (0x19, 0),
                (0x1A, 1),
                (0x1B, 0x10),
                (0x1C, 0x18),
                (0x1D, 1),
                (0x38, 0x10),
                (0x23, 0x78),
                *FIFO_START,
            ],
        ),
        # 9250, 200 Hz, explicit 20 Hz filter: gyro 20 Hz (DLPF_CFG 4), accel 21.2 Hz (4).
        (
            Mpu9250Model,
            {"odr_hz": 200.0, "accel_range_g": 4.0, "gyro_range_dps": 250.0, "dlpf_hz": 20.0},
            [
                (0x6B, 0x80),
                (0x6B, 0x01),
                (0x19, 4),
                (0x1A, 4),
                (0x1B, 0x00),
                (0x1C, 0x08),
                (0x1D, 4),
                (0x38, 0x10),
                (0x23, 0x78),
                *FIFO_START,
            ],
        ),
    ],
)
def test_configure_writes_match_register_map(cls, settings, expected) -> None:
    rig = Rig(cls)
    rig.configured(**settings)
    assert rig.bus.writes == writes(0x68, *expected)


def test_dlpf_goes_in_bits_2_to_0_of_config() -> None:
    # A well-known library once put DLPF_CFG in the EXT_SYNC_SET bits 5:3: check the chip agrees.
    for dlpf_hz, cfg in ((188.0, 1), (98.0, 2), (42.0, 3), (20.0, 4), (10.0, 5), (5.0, 6)):
        rig = Rig()
        config = rig.configured(dlpf_hz=dlpf_hz).config
        assert rig.chip.regs[0x1A] == cfg
        assert rig.chip.filter_bandwidths_hz()[1] == dlpf_hz == config.gyro_dlpf_hz


@pytest.mark.parametrize(
    ("cls", "chip", "capacity", "accel_bw", "gyro_bw"),
    [
        (Mpu6050Model, "MPU-6050", 85, 184.0, 188.0),
        (Mpu6500Model, "MPU-6500", 42, 218.1, 184.0),
        (Mpu9250Model, "MPU-9250", 42, 218.1, 184.0),
    ],
)
def test_config_reported(cls, chip, capacity, accel_bw, gyro_bw) -> None:
    config = Rig(cls).configured().config
    assert config.chip == chip
    assert config.odr_hz == 1000.0
    assert (config.accel_range_g, config.gyro_range_dps) == (8.0, 500.0)
    assert (config.accel_dlpf_hz, config.gyro_dlpf_hz) == (accel_bw, gyro_bw)
    assert config.fifo_capacity_samples == capacity


def test_nearest_settings() -> None:
    config = (
        Rig().configured(odr_hz=7.0, accel_range_g=5.0, gyro_range_dps=1800.0, dlpf_hz=None).config
    )
    # 1000/143 = 6.993 Hz is nearer 7 than 1000/142 = 7.042 Hz.
    assert config.odr_hz == pytest.approx(1000.0 / 143)
    assert (config.accel_range_g, config.gyro_range_dps) == (4.0, 2000.0)
    assert config.gyro_dlpf_hz == 5.0  # nothing below 3.5 Hz: the narrowest
    assert Rig().configured(odr_hz=5000.0).config.odr_hz == 1000.0
    assert Rig().configured(odr_hz=0.1).config.odr_hz == pytest.approx(1000.0 / 256)


def test_configure_leaves_fifo_reset_and_running() -> None:
    rig = Rig()
    driver = rig.configured()
    assert rig.chip.regs[0x23] == 0x78  # accel + gyro, no temperature
    assert rig.chip.regs[0x6A] & 0x40
    assert len(rig.chip.fifo) == 0
    assert len(driver.read_fifo()) == 0


@pytest.mark.parametrize("cls", ALL_CHIPS)
@pytest.mark.parametrize("accel_range", [2.0, 4.0, 8.0, 16.0])
def test_accel_scaling_every_range(cls, accel_range: float) -> None:
    # Sensor x pointing up: rotation of -90° about y takes sensor x to earth z.
    quarter = (math.cos(-math.pi / 4), 0.0, math.sin(-math.pi / 4), 0.0)
    for orientation, expected in (((1.0, 0, 0, 0), (0, 0, G)), (quarter, (G, 0, 0))):
        rig = Rig(cls, StaticMotion(orientation))
        driver = rig.configured(accel_range_g=accel_range)
        rig.clock.advance(0.010)
        batch = driver.read_fifo()
        assert len(batch) == 10 and not batch.overflowed
        lsb = G / ACCEL_LSB_PER_G[accel_range]
        np.testing.assert_allclose(batch.acc, np.tile(expected, (10, 1)), atol=lsb)
        np.testing.assert_allclose(batch.gyr, 0.0, atol=1e-12)


@pytest.mark.parametrize("cls", ALL_CHIPS)
@pytest.mark.parametrize("gyro_range", [250.0, 500.0, 1000.0, 2000.0])
def test_gyro_scaling_and_sign_every_range(cls, gyro_range: float) -> None:
    rate = (0.5, -1.0, 2.0)  # rad/s; 2 rad/s = 115 °/s fits every range
    rig = Rig(cls, ConstantRotation(rate))
    driver = rig.configured(gyro_range_dps=gyro_range)
    rig.clock.advance(0.010)
    batch = driver.read_fifo()
    lsb = DEG / GYRO_LSB_PER_DPS[gyro_range]
    np.testing.assert_allclose(batch.gyr, np.tile(rate, (10, 1)), atol=lsb)
    np.testing.assert_allclose(batch.acc, np.tile((0, 0, G), (10, 1)), atol=G / 4096)


@pytest.mark.parametrize("divider", [0, 1, 4, 9, 99, 255])
def test_rate_gives_odr_times_t_samples(divider: int) -> None:
    odr = 1000.0 / (1 + divider)
    rig = Rig()
    driver = rig.configured(odr_hz=odr)
    assert driver.config.odr_hz == odr
    assert rig.chip.regs[0x19] == divider
    counts = []
    for _ in range(3):
        rig.clock.advance(20 / odr)
        counts.append(len(driver.read_fifo()))
    assert counts == [20, 20, 20]


def test_6500_rate_and_fifo_capacity_at_1khz() -> None:
    # 512 bytes / 12 = 42 samples: at 1 kHz the FIFO overflows after 43 ms.
    rig = Rig(Mpu6500Model)
    driver = rig.configured()
    rig.clock.advance(0.042)
    batch = driver.read_fifo()
    assert len(batch) == 42 and not batch.overflowed
    rig.clock.advance(0.044)
    assert driver.read_fifo().overflowed


def test_partial_frame_stays_for_next_read() -> None:
    # Emulate a read racing the chip's frame write: the last 7 bytes of frame 3 are not yet in.
    rig = Rig(motion=ConstantRotation((0.0, 0.0, -1.0)))
    driver = rig.configured()
    rig.clock.advance(0.003)
    rig.bus.read_byte_data(0x68, 0x75)  # let the chip catch up to the clock
    tail = bytes(rig.chip.fifo[-7:])
    del rig.chip.fifo[-7:]
    first = driver.read_fifo()
    assert len(first) == 2
    assert len(rig.chip.fifo) == 5  # the partial frame was left in the FIFO
    rig.chip.fifo += tail
    second = driver.read_fifo()
    assert len(second) == 1 and not second.overflowed
    np.testing.assert_allclose(second.gyr, [[0.0, 0.0, -1.0]], atol=DEG / 65.5)
    np.testing.assert_allclose(second.acc, [[0.0, 0.0, G]], atol=G / 4096)


@pytest.mark.parametrize("cls", ALL_CHIPS)
def test_overflow_detected_and_recovered(cls) -> None:
    rig = Rig(cls, ConstantRotation((0.3, 0.0, 0.0)))
    driver = rig.configured()
    rig.clock.advance(0.2)
    batch = driver.read_fifo()
    assert batch.overflowed and len(batch) == 0
    assert len(rig.chip.fifo) == 0  # reset, so frames line up again
    rig.clock.advance(0.010)
    batch = driver.read_fifo()
    assert len(batch) == 10 and not batch.overflowed
    np.testing.assert_allclose(batch.gyr, np.tile((0.3, 0, 0), (10, 1)), atol=DEG / 65.5)
    np.testing.assert_allclose(batch.acc, np.tile((0, 0, G), (10, 1)), atol=G / 4096)


def test_forced_overflow_detected() -> None:
    rig = Rig()
    driver = rig.configured()
    rig.clock.advance(0.001)
    rig.bus.read_byte_data(0x68, 0x75)
    rig.chip.force_fifo_overflow()
    assert driver.read_fifo().overflowed
    rig.clock.advance(0.002)
    assert len(driver.read_fifo()) == 2


def test_overflow_detected_from_count_without_status_bit() -> None:
    # If INT_STATUS never shows the overflow (INT_ENABLE cleared), the full count still does.
    rig = Rig()
    driver = rig.configured()
    rig.bus.write_byte_data(0x68, 0x38, 0x00)
    rig.clock.advance(0.2)
    assert driver.read_fifo().overflowed
    rig.clock.advance(0.003)
    assert len(driver.read_fifo()) == 3


class LateBus(SimulatedBus):
    """A bus whose long reads start ``delay`` seconds late (a host stall between transfers)."""

    delay = 0.0

    def i2c_rdwr(self, *msgs) -> None:
        self.clock.sleep(self.delay)
        super().i2c_rdwr(*msgs)


def test_overflow_during_the_data_read_is_not_trusted() -> None:
    clock = ManualClock()
    chip = Mpu6050Model(StaticMotion(), errors=SensorErrors.none())
    bus = LateBus(1, devices={0x68: chip}, clock=clock)
    driver = Mpu6050Driver(bus, 0x68, sleep=clock.sleep)
    driver.configure(ImuSettings())
    settle(driver, clock)
    clock.advance(0.010)
    bus.delay = 0.1  # the FIFO overflows between the count and the data read
    batch = driver.read_fifo()
    assert batch.overflowed and len(batch) == 0
    bus.delay = 0.0
    clock.advance(0.004)
    batch = driver.read_fifo()
    assert len(batch) == 4
    np.testing.assert_allclose(batch.acc, np.tile((0, 0, G), (4, 1)), atol=G / 4096)


def test_long_read_goes_through_i2c_rdwr() -> None:
    rig = Rig()
    calls: list[int] = []
    original = rig.bus.i2c_rdwr

    def counting(*msgs):
        calls.append(sum(m.len for m in msgs))
        original(*msgs)

    rig.bus.i2c_rdwr = counting
    driver = rig.configured()
    rig.clock.advance(0.002)
    assert len(driver.read_fifo()) == 2  # 24 bytes: an SMBus block read
    assert calls == []
    rig.clock.advance(0.010)
    assert len(driver.read_fifo()) == 10  # 120 bytes: i2c_rdwr
    assert calls == [1 + 120]


def test_chip_id_mismatch_names_chip_bus_address_and_id() -> None:
    rig = Rig(address=0x69)
    rig.chip.regs[0x75] = 0x12
    with pytest.raises(ChipIdError) as info:
        rig.driver()
    err = info.value
    assert (err.bus, err.address, err.id_read) == (1, 0x69, 0x12)
    text = str(err)
    assert "MPU-6050" in text and "0x12" in text and "0x69" in text and "bus 1" in text


def test_mpu9255_id_accepted() -> None:
    rig = Rig(Mpu9250Model)
    rig.chip.regs[0x75] = 0x73  # MPU-9255: the 9250's register map with another id
    driver = rig.driver()
    assert driver.chip_name == "MPU-9255"
    assert driver.configure(ImuSettings()).fifo_capacity_samples == 42


def test_nothing_at_address_is_oserror() -> None:
    rig = Rig()
    with pytest.raises(OSError):
        Mpu6050Driver(rig.bus, 0x69, sleep=rig.clock.sleep)


def test_reset_waits_and_polls_with_injected_sleep() -> None:
    rig = Rig()
    rig.driver().configure(ImuSettings())
    # 100 ms after DEVICE_RESET (as Linux inv_mpu6050), 50 ms gyro start-up before the FIFO.
    assert rig.clock.now() == pytest.approx(0.15)
    rig = Rig()
    rig.chip.reset_duration_s = 0.15  # longer than the driver's first 100 ms wait
    driver = rig.driver()
    driver.configure(ImuSettings())
    assert rig.clock.now() >= 0.15 + 0.05
    rig.chip.reset_duration_s = 100.0
    with pytest.raises(ImuError, match="DEVICE_RESET"):
        driver.configure(ImuSettings())


@pytest.mark.parametrize(("cls", "temperature"), [(Mpu6050Model, 31.2), (Mpu6500Model, 18.4)])
def test_temperature(cls, temperature: float) -> None:
    rig = Rig(cls, StaticMotion(temperature_c=temperature))
    driver = rig.configured()
    rig.clock.advance(0.002)
    assert driver.read_temperature_c() == pytest.approx(temperature, abs=1 / 333)


def test_power_down_stops_sampling() -> None:
    rig = Rig()
    driver = rig.configured()
    rig.bus.writes.clear()
    driver.close()
    assert rig.bus.writes == writes(0x68, (0x6A, 0x00), (0x6B, 0x40))
    produced = rig.chip.samples_produced
    rig.clock.advance(1.0)
    rig.bus.read_byte_data(0x68, 0x75)
    assert rig.chip.samples_produced == produced


def test_close_tolerates_unplugged_chip() -> None:
    rig = Rig()
    driver = rig.configured()
    rig.bus.unplug()
    driver.close()


def test_read_before_configure_is_an_error() -> None:
    with pytest.raises(ImuError):
        Rig().driver().read_fifo()


def test_with_the_chips_own_sensor_errors() -> None:
    # Default errors (one seeded device): noise and offsets of the datasheet, readings plausible.
    clock = ManualClock()
    chip = Mpu6050Model(StaticMotion(), seed=3)
    bus = SimulatedBus(1, devices={0x68: chip}, clock=clock)
    driver = Mpu6050Driver(bus, 0x68, sleep=clock.sleep)
    driver.configure(ImuSettings(odr_hz=200.0))
    settle(driver, clock)
    clock.advance(0.2)
    batch = driver.read_fifo()
    assert len(batch) == 40
    assert np.linalg.norm(batch.acc.mean(axis=0)) == pytest.approx(G, rel=0.1)
    assert np.all(np.abs(batch.gyr.mean(axis=0)) < 45 * DEG)  # ±20 °/s offset + ±20 over temp
    assert batch.acc[:, 2].std() > 0  # noise is there
