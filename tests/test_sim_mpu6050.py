"""The simulated MPU-6050 / 6500 / 9250 on its own, against the register maps.

Register numbers below are those of RM-MPU-6000A-00 rev 4.2 (6050) and RM-MPU-6500A-00 /
RM-MPU-9250A-00 (6500 / 9250).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wobble_trainer.sim.chips.mpu6050 import (
    CHIP_MODELS,
    InvenSenseMpu,
    Mpu6050Model,
    Mpu6500Model,
    Mpu9250Model,
)
from wobble_trainer.sim.motion import ConstantRotation, StaticMotion
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG

ALL_CHIPS = [Mpu6050Model, Mpu6500Model, Mpu9250Model]


def make(cls: type[InvenSenseMpu], motion=None) -> InvenSenseMpu:
    return cls(motion or StaticMotion(), errors=SensorErrors.none())


def word(chip: InvenSenseMpu, register: int) -> int:
    return int.from_bytes(chip.read(register, 2), "big", signed=True)


def start_fifo(chip: InvenSenseMpu, fifo_en: int = 0x78, int_enable: int = 0x10) -> None:
    """Awake, 1 kHz (DLPF_CFG 1, SMPLRT_DIV 0), FIFO on with the given FIFO_EN."""
    chip.write(0x6B, b"\x01")
    chip.write(0x1A, b"\x01")
    chip.write(0x19, b"\x00")
    chip.write(0x38, bytes([int_enable]))
    chip.write(0x23, bytes([fifo_en]))
    chip.write(0x6A, b"\x40")


def test_chip_models_registry() -> None:
    registry = dict(CHIP_MODELS)
    expected = {"MPU-6050": Mpu6050Model, "MPU-6500": Mpu6500Model, "MPU-9250": Mpu9250Model}
    assert registry == expected
    assert all(cls.DEFAULT_ADDRESS == 0x68 for cls in ALL_CHIPS)


@pytest.mark.parametrize(
    ("cls", "who_am_i", "pwr_mgmt_1"),
    [(Mpu6050Model, 0x68, 0x40), (Mpu6500Model, 0x70, 0x01), (Mpu9250Model, 0x71, 0x01)],
)
def test_power_on_defaults(cls, who_am_i: int, pwr_mgmt_1: int) -> None:
    # "The reset value is 0x00 for all registers other than" PWR_MGMT_1 and WHO_AM_I.
    chip = make(cls)
    assert chip.read(0x75, 1)[0] == who_am_i
    assert chip.read(0x6B, 1)[0] == pwr_mgmt_1
    others = [chip.regs[r] for r in range(0x00, 0x75) if r != 0x6B]
    assert not any(others)


def test_6050_is_asleep_at_power_on_and_6500_is_not() -> None:
    mpu6050, mpu6500 = make(Mpu6050Model), make(Mpu6500Model)
    mpu6050.advance_to(0.01)
    mpu6500.advance_to(0.01)
    assert mpu6050.samples_produced == 0
    # 6500 at defaults: DLPF_CFG 0, so the gyro runs at 8 kHz and the divider does not apply.
    assert mpu6500.samples_produced == 80


@pytest.mark.parametrize("cls", ALL_CHIPS)
def test_device_reset_restores_defaults_and_reads_busy(cls) -> None:
    chip = make(cls)
    chip.write(0x1B, b"\x18")
    chip.write(0x6B, b"\x80")
    assert chip.regs[0x1B] == 0
    assert chip.read(0x6B, 1)[0] & 0x80  # still resetting
    chip.advance_to(chip.reset_duration_s + 1e-6)
    assert chip.read(0x6B, 1)[0] == cls.PWR_MGMT_1_DEFAULT


@pytest.mark.parametrize(
    ("cls", "config", "divider", "gyro_config", "rate"),
    [
        (Mpu6050Model, 1, 0, 0, 1000.0),
        (Mpu6050Model, 6, 9, 0, 100.0),
        (Mpu6050Model, 0, 7, 0, 1000.0),  # 8 kHz gyro rate divided by 8
        (Mpu6050Model, 3, 255, 0, 1000.0 / 256),
        (Mpu6500Model, 3, 4, 0, 200.0),
        (Mpu6500Model, 0, 7, 0, 8000.0),  # divider only acts with 0 < DLPF_CFG < 7
        (Mpu6500Model, 1, 4, 0x01, 32000.0),  # FCHOICE_B != 00
    ],
)
def test_output_rate(cls, config: int, divider: int, gyro_config: int, rate: float) -> None:
    chip = make(cls)
    chip.write(0x6B, b"\x01")
    chip.write(0x19, bytes([divider]))
    chip.write(0x1A, bytes([config]))
    chip.write(0x1B, bytes([gyro_config]))
    assert chip.output_rate_hz() == pytest.approx(rate)
    chip.advance_to(10.5 / rate)
    assert chip.samples_produced == 10


def test_filter_bandwidths() -> None:
    mpu6050 = make(Mpu6050Model)
    mpu6050.write(0x1A, b"\x03")
    assert mpu6050.filter_bandwidths_hz() == (44.0, 42.0)
    mpu6500 = make(Mpu6500Model)
    mpu6500.write(0x1A, b"\x02")
    mpu6500.write(0x1D, b"\x05")
    assert mpu6500.filter_bandwidths_hz() == (10.2, 92.0)
    mpu6500.write(0x1D, b"\x08")  # ACCEL_FCHOICE_B: filter bypassed
    assert mpu6500.filter_bandwidths_hz()[0] == 1046.0


@pytest.mark.parametrize("cls", ALL_CHIPS)
def test_data_registers_big_endian(cls) -> None:
    # 1 g on z at ±2 g is 16384 = 0x4000; -1 °/s on gyro x at ±250 °/s is -131 = 0xFF7D.
    chip = make(cls, ConstantRotation((-1.0 * DEG, 0.0, 0.0), temperature_c=30.0))
    start_fifo(chip)
    chip.advance_to(0.0015)
    data = chip.read(0x3B, 14)
    assert data[4:6] == b"\x40\x00"
    assert data[0:4] == b"\x00\x00\x00\x00"
    assert data[8:10] == b"\xff\x7d"
    raw_temp = int.from_bytes(data[6:8], "big", signed=True)
    assert raw_temp == round((30.0 - cls.TEMP_OFFSET_C) * cls.TEMP_LSB_PER_C)
    # The burst read auto-increments: same bytes as register-by-register reads.
    assert data == bytes(chip.read(r, 1)[0] for r in range(0x3B, 0x49))


def test_data_registers_are_read_only() -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip)
    chip.advance_to(0.0015)
    before = chip.read(0x3B, 14)
    chip.write(0x3B, b"\x12\x34")
    assert chip.read(0x3B, 14) == before


@pytest.mark.parametrize(("afs_sel", "counts"), [(0, 16384), (1, 8192), (2, 4096), (3, 2048)])
def test_accel_full_scale(afs_sel: int, counts: int) -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip)
    chip.write(0x1C, bytes([afs_sel << 3]))
    chip.advance_to(0.0015)
    assert word(chip, 0x3F) == counts


def test_range_clipping() -> None:
    # 10 rad/s = 573 °/s: beyond ±500 °/s, so the register saturates at +32767.
    chip = make(Mpu6050Model, ConstantRotation((10.0, -10.0, 0.0)))
    start_fifo(chip)
    chip.write(0x1B, bytes([1 << 3]))
    chip.advance_to(0.0015)
    assert word(chip, 0x43) == 32767
    assert word(chip, 0x45) == -32768


@pytest.mark.parametrize("cls", ALL_CHIPS)
def test_fifo_count_and_frame_layout(cls) -> None:
    chip = make(cls, ConstantRotation((0.0, 0.0, 2.0 * DEG)))
    start_fifo(chip)
    chip.advance_to(0.0105)
    # FIFO_COUNTL alone does not update: FIFO_COUNTH latches both (reg 114-115).
    assert chip.read(0x73, 1)[0] == 0
    assert chip.read(0x72, 2) == (120).to_bytes(2, "big")
    # A burst from FIFO_R_W keeps popping the FIFO (it does not run on into WHO_AM_I).
    frame = chip.read(0x74, 12)
    assert frame == b"\x00\x00\x00\x00\x40\x00" + b"\x00\x00\x00\x00" + (262).to_bytes(2, "big")
    assert chip.read(0x72, 2) == (108).to_bytes(2, "big")


def test_fifo_with_temperature_is_in_register_order() -> None:
    chip = make(Mpu6050Model, StaticMotion(temperature_c=36.53 + 1.0))
    start_fifo(chip, fifo_en=0xF8)
    chip.advance_to(0.0015)
    frame = chip.read(0x74, 14)
    assert frame[4:6] == b"\x40\x00"
    assert int.from_bytes(frame[6:8], "big", signed=True) == 340


def test_empty_fifo_returns_last_byte() -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip)
    chip.advance_to(0.0015)
    assert chip.read(0x74, 12)[-1] == 0x00
    chip.fifo += b"\xab"
    assert chip.read(0x74, 3) == b"\xab\xab\xab"


@pytest.mark.parametrize("cls", ALL_CHIPS)
def test_overflow_drops_oldest_and_sets_flag(cls) -> None:
    chip = make(cls)
    start_fifo(chip)
    capacity_frames = cls.FIFO_BYTES // 12
    chip.advance_to((capacity_frames + 3.5) / 1000.0)
    assert chip.read(0x72, 2) == cls.FIFO_BYTES.to_bytes(2, "big")
    assert chip.fifo_overflowed
    # Oldest bytes went: the FIFO no longer starts on a frame boundary (1024, 512 % 12 != 0).
    assert (cls.FIFO_BYTES - len(chip.fifo)) == 0
    assert chip.fifo[:6] != b"\x00\x00\x00\x00\x40\x00"
    assert chip.read(0x3A, 1)[0] & 0x10
    assert chip.read(0x3A, 1)[0] == 0  # INT_STATUS clears when read


def test_overflow_flag_needs_int_enable_in_this_model() -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip, int_enable=0x00)
    chip.force_fifo_overflow()
    assert chip.fifo_overflowed
    assert len(chip.fifo) == 1024
    assert chip.read(0x3A, 1)[0] == 0


def test_int_rd_clear_clears_status_on_any_read() -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip)
    chip.write(0x37, b"\x10")
    chip.force_fifo_overflow()
    chip.read(0x75, 1)
    assert chip.read(0x3A, 1)[0] == 0


def test_6500_fifo_mode_keeps_old_data() -> None:
    chip = make(Mpu6500Model)
    start_fifo(chip)
    chip.write(0x1A, b"\x41")  # FIFO_MODE = 1, DLPF_CFG = 1
    chip.advance_to(0.1)
    assert len(chip.fifo) == 512
    assert chip.fifo[:6] == b"\x00\x00\x00\x00\x40\x00"  # still frame-aligned at the start
    assert chip.read(0x3A, 1)[0] & 0x10


def test_fifo_reset_rules() -> None:
    # 6050: FIFO_RESET only acts while FIFO_EN is 0 (reg 106); 6500: at any time.
    for cls, resets_while_enabled in ((Mpu6050Model, False), (Mpu6500Model, True)):
        chip = make(cls)
        start_fifo(chip)
        chip.advance_to(0.0055)
        chip.write(0x6A, b"\x44")
        assert (len(chip.fifo) == 0) is resets_while_enabled
        assert chip.regs[0x6A] == 0x40  # the reset bit clears itself
        chip.write(0x6A, b"\x04")
        assert len(chip.fifo) == 0


def test_fifo_stops_when_disabled_and_when_asleep() -> None:
    chip = make(Mpu6050Model)
    start_fifo(chip)
    chip.advance_to(0.0025)
    chip.write(0x6A, b"\x00")
    chip.advance_to(0.0105)
    assert len(chip.fifo) == 24
    chip.write(0x6B, b"\x40")
    produced = chip.samples_produced
    chip.advance_to(0.5)
    assert chip.samples_produced == produced


def test_dlpf_delays_a_step() -> None:
    # With a 5 Hz filter the output lags a rotation that starts after the filter has settled.
    class Step:
        def motion_at(self, times):
            rate = np.where(np.asarray(times)[:, None] >= 0.1, [0.0, 0.0, 1.0], 0.0)
            still = StaticMotion().motion_at(times)
            still.angular_rate = rate
            return still

    chip = make(Mpu6050Model, Step())
    start_fifo(chip)
    chip.write(0x1A, b"\x06")
    chip.advance_to(0.1 + 1 / (2 * math.pi * 5.0) + 0.0005)
    gyro_z = word(chip, 0x47) / 131.0 * DEG
    assert gyro_z == pytest.approx(1.0 - math.exp(-1.0), abs=0.02)
