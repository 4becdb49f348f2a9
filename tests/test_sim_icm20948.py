"""The simulated ICM-20948 on its own: defaults, banks, byte order, auto-increment, FIFO, reset."""

from __future__ import annotations

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.sim.bus import SimulatedBus
from wobble_trainer.sim.chips import icm20948 as sim
from wobble_trainer.sim.chips.icm20948 import CHIP_MODELS, ICM20948Model
from wobble_trainer.sim.motion import ConstantRotation, StaticMotion
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG

ADDR = 0x68


def make(motion=None, **kwargs):
    clock = ManualClock()
    chip = ICM20948Model(motion or StaticMotion(), errors=SensorErrors.none(), **kwargs)
    bus = SimulatedBus(1, devices={ADDR: chip}, clock=clock)
    return chip, bus, clock


def bank(bus: SimulatedBus, number: int) -> None:
    bus.write_byte_data(ADDR, sim.REG_BANK_SEL, number << 4)


def wake_with_fifo(bus, clock, *, fifo_en_2=0x1E, divider=0):
    """Wake, set one divider, enable the FIFO and wait out the start-up."""
    bus.write_byte_data(ADDR, sim.B0_PWR_MGMT_1, 0x01)
    bank(bus, 2)
    bus.write_byte_data(ADDR, sim.B2_GYRO_SMPLRT_DIV, divider)
    bus.write_byte_data(ADDR, sim.B2_GYRO_CONFIG_1, (1 << 3) | 1)  # DLPFCFG 1: divider acts
    bus.write_byte_data(ADDR, sim.B2_ACCEL_SMPLRT_DIV_2, divider)
    bank(bus, 0)
    bus.write_byte_data(ADDR, sim.B0_FIFO_EN_2, fifo_en_2)
    bus.write_byte_data(ADDR, sim.B0_USER_CTRL, sim.USER_CTRL_FIFO_EN)
    clock.advance(sim.STARTUP_S)


def fifo_count(bus) -> int:
    high, low = bus.read_i2c_block_data(ADDR, sim.B0_FIFO_COUNTH, 2)
    return (high << 8) | low


def test_registry_and_address():
    assert CHIP_MODELS["ICM-20948"] is ICM20948Model and len(CHIP_MODELS) == 1
    assert ICM20948Model.DEFAULT_ADDRESS == 0x68


def test_power_on_defaults_per_datasheet():
    chip, bus, _ = make()
    # DS-000189 §8.1, §8.2, §8.3, §8.4, §10.2, §10.15 reset values.
    assert bus.read_byte_data(ADDR, 0x00) == 0xEA
    assert bus.read_byte_data(ADDR, 0x03) == 0x00
    assert bus.read_byte_data(ADDR, 0x05) == 0x40
    assert bus.read_byte_data(ADDR, 0x06) == 0x41
    assert bus.read_byte_data(ADDR, sim.REG_BANK_SEL) == 0x00
    bank(bus, 2)
    assert bus.read_byte_data(ADDR, 0x00) == 0x00  # GYRO_SMPLRT_DIV, not WHO_AM_I
    assert bus.read_byte_data(ADDR, 0x01) == 0x01
    assert bus.read_byte_data(ADDR, 0x14) == 0x01
    assert bus.read_byte_data(ADDR, sim.REG_BANK_SEL) == 0x20
    assert chip.sleeping


def test_asleep_chip_makes_no_samples():
    chip, bus, clock = make()
    clock.advance(1.0)
    bus.read_byte_data(ADDR, 0x00)
    assert chip.samples_produced == 0


def test_no_samples_during_startup_then_gyro_rate():
    chip, bus, clock = make()
    bus.write_byte_data(ADDR, sim.B0_PWR_MGMT_1, 0x01)
    clock.advance(sim.STARTUP_S * 0.9)
    bus.read_byte_data(ADDR, 0x00)
    assert chip.samples_produced == 0
    clock.advance(sim.STARTUP_S * 0.1 + 1.0)
    bus.read_byte_data(ADDR, 0x00)
    assert chip.samples_produced == 1125  # 1.125 kHz / (1 + 0), first sample one period in


@pytest.mark.parametrize("divider", [0, 1, 4, 10, 255])
def test_rate_follows_gyro_divider(divider):
    chip, bus, clock = make()
    wake_with_fifo(bus, clock, divider=divider, fifo_en_2=0)
    start = chip.samples_produced
    clock.advance(4.0)
    bus.read_byte_data(ADDR, 0x00)
    expected = 4.0 * 1125.0 / (1 + divider)
    assert abs(chip.samples_produced - start - expected) <= 1


def test_divider_ignored_with_dlpfcfg_0_or_fchoice_0():
    chip, bus, _ = make()
    bank(bus, 2)
    bus.write_byte_data(ADDR, sim.B2_GYRO_SMPLRT_DIV, 9)
    bus.write_byte_data(ADDR, sim.B2_GYRO_CONFIG_1, (3 << 3) | 1)
    assert chip.gyro_rate_hz() == pytest.approx(112.5)
    bus.write_byte_data(ADDR, sim.B2_GYRO_CONFIG_1, (0 << 3) | 1)
    assert chip.gyro_rate_hz() == pytest.approx(1125.0)
    bus.write_byte_data(ADDR, sim.B2_GYRO_CONFIG_1, 0)
    assert chip.gyro_rate_hz() == pytest.approx(9000.0)


def test_clock_ppm_changes_the_rate():
    chip, bus, clock = make(clock_ppm=1000.0)
    wake_with_fifo(bus, clock, fifo_en_2=0)
    start = chip.samples_produced
    clock.advance(10.0)
    bus.read_byte_data(ADDR, 0x00)
    assert abs(chip.samples_produced - start - 11250 * 1.001) <= 1


def test_data_registers_big_endian_and_burst_auto_increment():
    chip, bus, clock = make(ConstantRotation((0.5, -0.25, 1.0)))
    wake_with_fifo(bus, clock, fifo_en_2=0)
    clock.advance(0.01)
    raw = bytes(bus.read_i2c_block_data(ADDR, sim.B0_ACCEL_XOUT_H, 14))
    ax, ay, az, gx, gy, gz, temp = np.frombuffer(raw, dtype=">i2")
    assert (ax, ay, az) == (0, 0, 16384)  # ±2 g after reset: 16384 LSB/g
    assert raw[4:6] == b"\x40\x00"  # high byte first
    assert gx == round(0.5 / DEG * 131.0)
    assert gy == round(-0.25 / DEG * 131.0)
    assert gz == round(1.0 / DEG * 131.0)
    assert temp == round((25.0 - 21.0) * 333.87)


def test_fifo_count_frames_and_burst_read_stays_on_fifo_r_w():
    chip, bus, clock = make(ConstantRotation((0.1, 0.2, 0.3)))
    wake_with_fifo(bus, clock)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x1F)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x00)
    clock.advance(10 / 1125 + 1e-6)
    assert fifo_count(bus) == 10 * 12
    data = bytes(bus.read_i2c_block_data(ADDR, sim.B0_FIFO_R_W, 24))
    frames = np.frombuffer(data, dtype=">i2").reshape(2, 6)
    np.testing.assert_array_equal(frames[0], frames[1])
    gyro = [round(rate / DEG * 131) for rate in (0.1, 0.2, 0.3)]
    np.testing.assert_array_equal(frames[0], [0, 0, 16384, *gyro])
    assert fifo_count(bus) == 8 * 12


def test_fifo_with_temperature_has_14_byte_frames():
    chip, bus, clock = make(StaticMotion(temperature_c=31.0))
    wake_with_fifo(bus, clock, fifo_en_2=0x1F)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x1F)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x00)
    clock.advance(3 / 1125 + 1e-6)
    assert fifo_count(bus) == 3 * 14
    frame = np.frombuffer(bytes(bus.read_i2c_block_data(ADDR, sim.B0_FIFO_R_W, 14)), ">i2")
    assert frame[-1] == round(10.0 * 333.87)


def test_count_high_byte_latches_both():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    clock.advance(30 / 1125)
    high = bus.read_byte_data(ADDR, sim.B0_FIFO_COUNTH)
    latched = len(chip.fifo)
    clock.advance(30 / 1125)
    low = bus.read_byte_data(ADDR, sim.B0_FIFO_COUNTL)
    assert (high << 8) | low == latched != len(chip.fifo)


def test_fifo_reset_empties_and_holds_empty_while_asserted():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    clock.advance(0.01)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x1F)
    clock.advance(0.01)
    assert fifo_count(bus) == 0
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x00)
    clock.advance(0.01)
    assert fifo_count(bus) > 0


def test_empty_fifo_reads_ff():
    _, bus, _ = make()
    assert bus.read_byte_data(ADDR, sim.B0_FIFO_R_W) == sim.FIFO_EMPTY_READ


def test_stream_overflow_keeps_newest_bytes_sets_flag_and_clears_on_read():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    assert bus.read_byte_data(ADDR, sim.B0_INT_STATUS_2) == 0
    clock.advance(1.0)  # 1125 frames of 12 B >> 4096 B
    assert fifo_count(bus) == sim.FIFO_SIZE_BYTES
    assert bus.read_byte_data(ADDR, sim.B0_INT_STATUS_2) & 0x1F
    assert bus.read_byte_data(ADDR, sim.B0_INT_STATUS_2) == 0  # cleared on read
    # 4096 is not a multiple of 12: the oldest frame is cut, the FIFO starts mid-frame.
    head = np.frombuffer(bytes(bus.read_i2c_block_data(ADDR, sim.B0_FIFO_R_W, 12)), ">i2")
    assert not np.array_equal(head, [0, 0, 16384, 0, 0, 0])


def test_snapshot_overflow_keeps_oldest():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    bus.write_byte_data(ADDR, sim.B0_FIFO_MODE, 0x01)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x1F)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x00)
    clock.advance(1.0)
    assert fifo_count(bus) == (sim.FIFO_SIZE_BYTES // 12) * 12
    assert bus.read_byte_data(ADDR, sim.B0_INT_STATUS_2) & 0x01
    head = np.frombuffer(bytes(bus.read_i2c_block_data(ADDR, sim.B0_FIFO_R_W, 12)), ">i2")
    np.testing.assert_array_equal(head, [0, 0, 16384, 0, 0, 0])


def test_force_fifo_overflow():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    chip.force_fifo_overflow()
    assert len(chip.fifo) == sim.FIFO_SIZE_BYTES
    assert bus.read_byte_data(ADDR, sim.B0_INT_STATUS_2) & 0x01


def test_slower_accel_divider_repeats_accel_in_frames():
    class Ramp:
        def motion_at(self, times):
            base = StaticMotion().motion_at(times)
            base.specific_force[:, 0] = times  # changes every sample
            return base

    chip, bus, clock = make(Ramp())
    wake_with_fifo(bus, clock)
    bank(bus, 2)
    bus.write_byte_data(ADDR, sim.B2_ACCEL_SMPLRT_DIV_2, 1)  # accel at half the gyro rate
    bank(bus, 0)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x1F)
    bus.write_byte_data(ADDR, sim.B0_FIFO_RST, 0x00)
    clock.advance(0.5)
    count = fifo_count(bus)
    data = b""
    while len(data) < count:
        data += bytes(bus.read_i2c_block_data(ADDR, sim.B0_FIFO_R_W, 24))
    ax = np.frombuffer(data, ">i2").reshape(-1, 6)[:, 0]
    assert len(np.unique(ax)) <= len(ax) // 2 + 1


def test_device_reset_restores_defaults_and_ignores_writes_meanwhile():
    chip, bus, clock = make()
    wake_with_fifo(bus, clock)
    bank(bus, 2)
    bus.write_byte_data(ADDR, sim.B2_ACCEL_CONFIG, 0x3F)
    bank(bus, 0)
    bus.write_byte_data(ADDR, sim.B0_PWR_MGMT_1, 0x80)
    assert bus.read_byte_data(ADDR, sim.B0_PWR_MGMT_1) == 0xC1  # DEVICE_RESET still set
    bus.write_byte_data(ADDR, sim.B0_PWR_MGMT_1, 0x01)  # lost: the chip is resetting
    clock.advance(sim.RESET_DURATION_S)
    assert bus.read_byte_data(ADDR, sim.B0_PWR_MGMT_1) == 0x41
    assert chip.bank == 0
    assert chip.reg(2, sim.B2_ACCEL_CONFIG) == 0x01
    assert len(chip.fifo) == 0 and chip.sleeping


def test_read_only_registers_ignore_writes():
    chip, bus, _ = make()
    bus.write_byte_data(ADDR, sim.B0_WHO_AM_I, 0x00)
    bus.write_byte_data(ADDR, sim.B0_ACCEL_XOUT_H, 0x12)
    assert bus.read_byte_data(ADDR, sim.B0_WHO_AM_I) == 0xEA
    assert chip.reg(0, sim.B0_ACCEL_XOUT_H) == 0
