"""The simulated LSM6DS chips alone: defaults, byte order, auto-increment, FIFO count, overflow.

Register values written here are the datasheets' (CTRL1_XL 0x10, CTRL2_G 0x11, CTRL3_C 0x12,
FIFO_CTRL3/5 0x08/0x0A on the pattern FIFO, FIFO_CTRL3/4 0x09/0x0A on the tagged FIFO).
"""

from __future__ import annotations

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.sim.bus import SimulatedBus
from wobble_trainer.sim.chips.lsm6ds import CHIP_MODELS
from wobble_trainer.sim.motion import ConstantRotation, StaticMotion
from wobble_trainer.sim.sensor_errors import ERROR_SPECS, SensorErrors
from wobble_trainer.units import DEG

A = 0x6A
WHO_AM_I = {"LSM6DS3": 0x69, "LSM6DS3TR-C": 0x6A, "LSM6DSO": 0x6C, "LSM6DSOX": 0x6C}
PATTERN = ["LSM6DS3", "LSM6DS3TR-C"]
TAGGED = ["LSM6DSO", "LSM6DSOX"]
CAPACITY_WORDS = {"LSM6DS3": 4095, "LSM6DS3TR-C": 2047, "LSM6DSO": 512, "LSM6DSOX": 512}


def make(chip, motion=None):
    clock = ManualClock(5.0)
    model = CHIP_MODELS[chip](motion or StaticMotion(), errors=SensorErrors.none(),
                              start_time=clock.now())
    return model, SimulatedBus(1, devices={A: model}, clock=clock), clock


def start(bus, chip, odr_code=0x4, fs_xl=0b00, fs_g=0b0000, fifo=True):
    """Both sensors at one ODR, FIFO in continuous mode with gyro and accelerometer."""
    bus.write_byte_data(A, 0x10, (odr_code << 4) | (fs_xl << 2))
    bus.write_byte_data(A, 0x11, (odr_code << 4) | fs_g)
    if not fifo:
        return
    if chip in PATTERN:
        bus.write_byte_data(A, 0x08, 0x09)
        bus.write_byte_data(A, 0x0A, (odr_code << 3) | 0b110)
    else:
        bus.write_byte_data(A, 0x09, (odr_code << 4) | odr_code)
        bus.write_byte_data(A, 0x0A, 0b110)


def unread_words(bus, chip):
    s1, s2 = bus.read_i2c_block_data(A, 0x3A, 2)
    return s1 | ((s2 & (0x0F if chip == "LSM6DS3" else 0x07 if chip in PATTERN else 0x03)) << 8)


def test_registry():
    assert set(CHIP_MODELS) == set(WHO_AM_I)
    for name, cls in CHIP_MODELS.items():
        assert name == cls.NAME and name in ERROR_SPECS
        assert cls.DEFAULT_ADDRESS == 0x6A


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
def test_power_on_defaults(chip):
    model, bus, clock = make(chip)
    assert bus.read_byte_data(A, 0x0F) == WHO_AM_I[chip]
    assert bus.read_byte_data(A, 0x12) == 0x04  # CTRL3_C: IF_INC
    assert bus.read_byte_data(A, 0x10) == 0 and bus.read_byte_data(A, 0x11) == 0
    assert model.sample_period() is None
    clock.advance(1.0)
    bus.read_byte_data(A, 0x0F)
    assert model.samples_produced == 0
    assert unread_words(bus, chip) == 0
    if chip in PATTERN:
        assert bus.read_byte_data(A, 0x3B) & 0x10  # FIFO_EMPTY
    if chip == "LSM6DS3":
        assert bus.read_byte_data(A, 0x18) == 0x38 and bus.read_byte_data(A, 0x19) == 0x38


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
def test_soft_reset_restores_defaults_and_clears_itself(chip):
    model, bus, clock = make(chip)
    start(bus, chip)
    clock.advance(0.1)
    bus.write_byte_data(A, 0x12, 0x01)
    assert bus.read_byte_data(A, 0x12) & 0x01  # still resetting
    clock.advance(model.SW_RESET_DURATION_S)
    assert bus.read_byte_data(A, 0x12) == 0x04
    assert bus.read_byte_data(A, 0x10) == 0 and model.sample_period() is None
    assert unread_words(bus, chip) == 0


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
def test_output_registers_little_endian_and_scaled(chip):
    model, bus, clock = make(chip, ConstantRotation((0.5, -0.25, 1.0)))
    start(bus, chip, fs_xl=0b11, fs_g=0b0100, fifo=False)  # ±8 g, 500 dps
    clock.advance(0.1)
    raw = bytes(bus.read_i2c_block_data(A, 0x22, 12))
    gyro = np.frombuffer(raw[:6], "<i2")
    accel = np.frombuffer(raw[6:], "<i2")
    np.testing.assert_array_equal(gyro, np.rint(np.array([0.5, -0.25, 1.0]) / (17.5e-3 * DEG)))
    assert accel[2] == round(1 / 0.244e-3) and accel[0] == 0 and accel[1] == 0
    assert raw[6 + 4] == accel[2] & 0xFF  # low byte at the lower address


def test_ble_swaps_output_bytes_on_ds3():
    model, bus, clock = make("LSM6DS3")
    start(bus, "LSM6DS3", fifo=False)
    bus.write_byte_data(A, 0x12, 0x04 | 0x02)  # IF_INC | BLE
    clock.advance(0.1)
    z = bytes(bus.read_i2c_block_data(A, 0x2C, 2))
    assert int.from_bytes(z, "big", signed=True) == round(1 / 0.061e-3)


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
def test_temperature_register(chip):
    model, bus, clock = make(chip, StaticMotion(temperature_c=20.0))
    start(bus, chip, fifo=False)
    clock.advance(0.1)
    raw = int.from_bytes(bytes(bus.read_i2c_block_data(A, 0x20, 2)), "little", signed=True)
    assert raw == -5 * (16 if chip == "LSM6DS3" else 256)


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
def test_auto_increment_follows_if_inc(chip):
    model, bus, _ = make(chip)
    assert bus.read_i2c_block_data(A, 0x0F, 3) == [WHO_AM_I[chip], 0x00, 0x00]
    bus.write_byte_data(A, 0x11, 0x40)
    bus.write_byte_data(A, 0x12, 0x00)  # IF_INC off: every byte from the same register
    assert bus.read_i2c_block_data(A, 0x0F, 3) == [WHO_AM_I[chip]] * 3


@pytest.mark.parametrize("chip", PATTERN)
def test_pattern_fifo_count_order_and_wrap(chip):
    model, bus, clock = make(chip, ConstantRotation((0.1, 0.2, 0.3)))
    start(bus, chip, odr_code=0x4)
    clock.advance(5.5 / 104)
    assert unread_words(bus, chip) == 30
    assert model.samples_produced == 5
    raw = bytes(bus.read_i2c_block_data(A, 0x3E, 24))  # wraps 0x3F → 0x3E: two whole patterns
    words = np.frombuffer(raw, "<i2").reshape(2, 6)
    np.testing.assert_array_equal(words[:, :3], [np.rint(np.array([0.1, 0.2, 0.3]) /
                                                         (8.75e-3 * DEG))] * 2)
    np.testing.assert_array_equal(words[:, 3:], [[0, 0, round(1 / 0.061e-3)]] * 2)
    assert unread_words(bus, chip) == 18
    bus.read_i2c_block_data(A, 0x3E, 6)  # three more words: next one is accelerometer X
    assert bus.read_i2c_block_data(A, 0x3C, 2) == [3, 0]


@pytest.mark.parametrize("chip", PATTERN)
@pytest.mark.parametrize("mode", ["continuous", "fifo"])
def test_pattern_fifo_overflow(chip, mode):
    model, bus, clock = make(chip)
    start(bus, chip, odr_code=0x8)
    if mode == "fifo":
        bus.write_byte_data(A, 0x0A, (0x8 << 3) | 0b001)
    cap = CAPACITY_WORDS[chip]
    clock.advance((cap // 6 + 5) / 1666)
    assert unread_words(bus, chip) == cap
    status2 = bus.read_byte_data(A, 0x3B)
    assert status2 & 0x40 and status2 & 0x20  # OVER_RUN and FULL
    pattern = bus.read_i2c_block_data(A, 0x3C, 2)
    if mode == "continuous":  # the oldest words were overwritten: the FIFO starts mid-pattern
        assert pattern[0] == (6 * (cap // 6 + 5) - cap) % 6
    else:  # FIFO mode stops: the first pattern is intact, the newest words were lost
        assert pattern[0] == 0
    bus.write_byte_data(A, 0x0A, 0x8 << 3)  # bypass empties and clears
    assert unread_words(bus, chip) == 0 and not bus.read_byte_data(A, 0x3B) & 0x40


@pytest.mark.parametrize("chip", TAGGED)
def test_tagged_fifo_words(chip):
    model, bus, clock = make(chip, ConstantRotation((0.0, 0.0, -0.4)))
    start(bus, chip, odr_code=0x4)
    clock.advance(3.5 / 104)
    assert unread_words(bus, chip) == 6
    raw = bytes(bus.read_i2c_block_data(A, 0x78, 28))  # wraps 0x7E → 0x78: four words
    frames = np.frombuffer(raw, np.uint8).reshape(4, 7)
    assert list(frames[:, 0] >> 3) == [0x01, 0x02, 0x01, 0x02]  # gyro NC, accel NC
    assert all(bin(t).count("1") % 2 == 0 for t in frames[:, 0])  # parity bit
    assert ((frames[0, 0] >> 1) & 3) != ((frames[2, 0] >> 1) & 3)  # TAG_CNT moves per slot
    gyro = frames[0, 1:].copy().view("<i2")
    np.testing.assert_array_equal(gyro, [0, 0, round(-0.4 / (8.75e-3 * DEG))])
    accel = frames[1, 1:].copy().view("<i2")
    np.testing.assert_array_equal(accel, [0, 0, round(1 / 0.061e-3)])
    assert unread_words(bus, chip) == 2


@pytest.mark.parametrize("chip", TAGGED)
def test_tagged_fifo_overflow_flags(chip):
    model, bus, clock = make(chip)
    start(bus, chip, odr_code=0x7)
    clock.advance(300 / 833)
    status2 = bus.read_byte_data(A, 0x3B)
    assert status2 & 0x40 and status2 & 0x08 and status2 & 0x20  # OVR_IA, OVR_LATCHED, FULL_IA
    assert not bus.read_byte_data(A, 0x3B) & 0x08  # the latched flag clears when read
    assert unread_words(bus, chip) == 512
    bus.read_i2c_block_data(A, 0x78, 7)
    assert not bus.read_byte_data(A, 0x3B) & 0x40  # no longer full
    model.force_fifo_overflow()
    assert bus.read_byte_data(A, 0x3B) & 0x48 == 0x48
    bus.write_byte_data(A, 0x0A, 0)  # bypass
    assert unread_words(bus, chip) == 0


@pytest.mark.parametrize("chip", list(CHIP_MODELS))
@pytest.mark.parametrize("odr_code", [1, 4, 7, 8])
def test_sample_rate(chip, odr_code):
    model, bus, clock = make(chip)
    start(bus, chip, odr_code=odr_code, fifo=False)
    odr = {1: 12.5, 4: 104.0, 7: 833.0, 8: 1666.0}[odr_code]
    clock.advance(2.0 + 0.5 / odr)
    bus.read_byte_data(A, 0x0F)
    assert model.samples_produced == int(odr * 2.0)


def test_ds3_gyro_stops_at_1666_hz():
    model, _, _ = make("LSM6DS3")
    model.write(0x11, bytes([0x90]))  # 3.33 kHz is not a gyro rate on the LSM6DS3
    assert model.sample_period() is None


@pytest.mark.parametrize(
    ("chip", "writes", "accel_bw"),
    [
        ("LSM6DS3", [(0x10, 0x70)], 400.0),  # auto analog bandwidth at 833 Hz
        ("LSM6DS3", [(0x13, 0x80), (0x10, 0x43)], 50.0),  # BW_XL = 11 with XL_BW_SCAL_ODR
        ("LSM6DS3TR-C", [(0x10, 0x42)], 26.0),  # LPF1_BW_SEL: ODR/4
        ("LSM6DSO", [(0x10, 0x40)], 52.0),  # LPF1 only: ODR/2
        ("LSM6DSO", [(0x17, 0b011 << 5), (0x10, 0x42)], 104 / 45),  # LPF2, HPCF_XL 011
    ],
)
def test_accel_filter_bandwidth(chip, writes, accel_bw):
    model, bus, _ = make(chip)
    for register, value in writes:
        bus.write_byte_data(A, register, value)
    assert model.filter_bandwidths_hz()[0] == pytest.approx(accel_bw)
