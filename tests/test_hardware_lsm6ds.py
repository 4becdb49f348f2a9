"""The LSM6DS driver against the simulated chips on a SimulatedBus driven by a ManualClock.

Expected register values are derived from the datasheets' register tables (LSM6DS3 DocID026899,
LSM6DS3TR-C, LSM6DSO DS12140): CTRL1_XL ODR_XL/FS_XL, CTRL2_G ODR_G/FS_G, CTRL3_C bits, FIFO_CTRL
registers of the pattern and tagged FIFOs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.hardware.imu import ChipIdError, ImuError, ImuSettings
from wobble_trainer.hardware.lsm6ds import Lsm6dsDriver
from wobble_trainer.sim.bus import RegisterWrite, SimulatedBus
from wobble_trainer.sim.chips.lsm6ds import CHIP_MODELS
from wobble_trainer.sim.motion import (
    ConstantRotation,
    StaticMotion,
    rotation_matrix_from_quaternion,
)
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

ADDRESS = 0x6A
ALL_CHIPS = list(CHIP_MODELS)
PATTERN_CHIPS = ["LSM6DS3", "LSM6DS3TR-C"]
TAGGED_CHIPS = ["LSM6DSO", "LSM6DSOX"]

# ODR code table shared by CTRL1_XL ODR_XL, CTRL2_G ODR_G, FIFO_CTRL5 ODR_FIFO, FIFO_CTRL3 BDR_*.
ODR_CODE = {12.5: 1, 26.0: 2, 52.0: 3, 104.0: 4, 208.0: 5, 416.0: 6, 833.0: 7, 1666.0: 8,
            3332.0: 9, 6664.0: 10}
RATES = {"LSM6DS3": [r for r in ODR_CODE if r <= 1666.0]}  # DS3 gyro stops at 1.66 kHz


def make(chip: str = "LSM6DSO", motion=None, address: int = ADDRESS):
    clock = ManualClock(100.0)
    model = CHIP_MODELS[chip](motion or StaticMotion(), errors=SensorErrors.none(),
                              start_time=clock.now())
    bus = SimulatedBus(1, devices={address: model}, clock=clock)
    driver = Lsm6dsDriver(bus, address, bus_number=1, sleep=clock.sleep)
    return driver, model, bus, clock


# -- identity -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chip", "name"),
    [("LSM6DS3", "LSM6DS3"), ("LSM6DS3TR-C", "LSM6DS3TR-C"),
     ("LSM6DSO", "LSM6DSO/LSM6DSOX"), ("LSM6DSOX", "LSM6DSO/LSM6DSOX")],
)
def test_chip_is_identified_by_who_am_i(chip, name):
    driver, *_ = make(chip)
    assert driver.chip_name == name


def test_wrong_chip_id_names_chip_bus_address_and_id():
    clock = ManualClock()
    model = CHIP_MODELS["LSM6DSO"](StaticMotion(), errors=SensorErrors.none())
    model.WHO_AM_I_VALUE = 0x6B
    model.regs[0x0F] = 0x6B  # e.g. an LSM6DSR answering at this address
    bus = SimulatedBus(1, devices={0x6B: model}, clock=clock)
    with pytest.raises(ChipIdError) as err:
        Lsm6dsDriver(bus, 0x6B, bus_number=1, sleep=clock.sleep)
    text = str(err.value)
    assert "LSM6DS" in text and "bus 1" in text and "0x6B" in text and "chip id 0x6B" in text
    assert err.value.id_read == 0x6B and err.value.address == 0x6B and err.value.bus == 1


def test_second_address_works():
    driver, model, bus, clock = make("LSM6DS3", address=0x6B)
    driver.configure(ImuSettings(odr_hz=104))
    clock.advance(10.5 / 104)
    assert len(driver.read_fifo()) == 10


# -- configuration writes ------------------------------------------------------------------
def test_configure_writes_ds3():
    driver, _, bus, _ = make("LSM6DS3")
    config = driver.configure(ImuSettings())  # 1000 Hz → 833 Hz, ±8 g, ±500 dps
    w = [RegisterWrite(ADDRESS, r, bytes([v])) for r, v in [
        (0x12, 0x01),  # CTRL3_C SW_RESET
        (0x12, 0x44),  # CTRL3_C BDU | IF_INC
        (0x13, 0x80),  # CTRL4_C XL_BW_SCAL_ODR: analog bandwidth from BW_XL
        (0x10, 0x7C),  # CTRL1_XL ODR_XL 0111 (833 Hz), FS_XL 11 (±8 g), BW_XL 00 (400 Hz)
        (0x11, 0x74),  # CTRL2_G ODR_G 0111, FS_G 01 (500 dps)
        (0x08, 0x09),  # FIFO_CTRL3 DEC_FIFO_GYRO 001, DEC_FIFO_XL 001 (no decimation)
        (0x0A, 0x38),  # FIFO_CTRL5 ODR_FIFO 0111, FIFO_MODE 000 bypass (empties)
        (0x0A, 0x3E),  # FIFO_CTRL5 FIFO_MODE 110 continuous
    ]]
    assert bus.writes == w
    assert config.as_dict() == {
        "chip": "LSM6DS3", "odr_hz": 833.0, "accel_range_g": 8.0, "gyro_range_dps": 500.0,
        "accel_dlpf_hz": 400.0, "gyro_dlpf_hz": 295.5, "fifo_capacity_samples": 682,
    }


def test_configure_writes_ds3trc():
    driver, _, bus, _ = make("LSM6DS3TR-C")
    config = driver.configure(ImuSettings())
    w = [RegisterWrite(ADDRESS, r, bytes([v])) for r, v in [
        (0x12, 0x01), (0x12, 0x44),
        (0x10, 0x7E),  # CTRL1_XL 833 Hz, ±8 g, LPF1_BW_SEL = 1 (ODR/4: ODR/2 is not below ODR/2)
        (0x11, 0x74),
        (0x08, 0x09), (0x0A, 0x38), (0x0A, 0x3E),
    ]]
    assert bus.writes == w
    assert config.accel_dlpf_hz == pytest.approx(833 / 4)
    assert config.fifo_capacity_samples == 341  # 4 KB FIFO, 12-byte patterns


@pytest.mark.parametrize("chip", TAGGED_CHIPS)
def test_configure_writes_dso(chip):
    driver, _, bus, _ = make(chip)
    config = driver.configure(ImuSettings(odr_hz=104, accel_range_g=4, gyro_range_dps=2000,
                                          dlpf_hz=10))
    w = [RegisterWrite(ADDRESS, r, bytes([v])) for r, v in [
        (0x12, 0x01), (0x12, 0x44),
        (0x17, 0x01 << 5),  # CTRL8_XL HPCF_XL 001: LPF2 at ODR/10 = 10.4 Hz
        (0x10, 0x4A),  # CTRL1_XL ODR_XL 0100 (104 Hz), FS_XL 10 (±4 g), LPF2_XL_EN
        (0x11, 0x4C),  # CTRL2_G ODR_G 0100, FS_G 11 (2000 dps)
        (0x09, 0x44),  # FIFO_CTRL3 BDR_GY 0100, BDR_XL 0100
        (0x0A, 0x00),  # FIFO_CTRL4 bypass, no temperature or timestamp batching
        (0x0A, 0x06),  # FIFO_CTRL4 continuous
    ]]
    assert bus.writes == w
    assert config.accel_dlpf_hz == pytest.approx(10.4)
    assert config.gyro_dlpf_hz == 33.0
    assert config.fifo_capacity_samples == 256  # 512 tagged words
    assert config.chip == "LSM6DSO/LSM6DSOX"


def test_gyro_125_dps_and_245_name():
    driver, model, bus, _ = make("LSM6DS3TR-C")
    assert driver.configure(ImuSettings(gyro_range_dps=125)).gyro_range_dps == 125.0
    assert model.regs[0x11] & 0x0F == 0b0010  # FS_125
    assert driver.configure(ImuSettings(gyro_range_dps=240)).gyro_range_dps == 245.0


def test_ds3_filter_choice_follows_odr():
    driver, model, *_ = make("LSM6DS3")
    assert driver.configure(ImuSettings(odr_hz=208)).accel_dlpf_hz == 100.0
    assert model.regs[0x10] & 0x03 == 0b10
    assert driver.configure(ImuSettings(odr_hz=12.5)).accel_dlpf_hz == 50.0
    assert driver.configure(ImuSettings(odr_hz=833, dlpf_hz=180)).accel_dlpf_hz == 200.0


# -- rates and ranges ----------------------------------------------------------------------
@pytest.mark.parametrize("chip", ALL_CHIPS)
def test_every_rate_gives_odr_times_t_samples(chip):
    driver, model, _, clock = make(chip)
    for odr in RATES.get(chip, list(ODR_CODE)):
        config = driver.configure(ImuSettings(odr_hz=odr))
        assert config.odr_hz == odr
        assert model.regs[0x10] >> 4 == ODR_CODE[odr]
        assert model.regs[0x11] >> 4 == ODR_CODE[odr]
        n = 60
        clock.advance((n + 0.5) / odr)
        batch = driver.read_fifo()
        assert len(batch) == n and not batch.overflowed
        clock.advance(20 / odr)
        assert len(driver.read_fifo()) == 20


@pytest.mark.parametrize("chip", ALL_CHIPS)
@pytest.mark.parametrize("accel_range", [2, 4, 8, 16])
def test_accel_scaling_every_range(chip, accel_range):
    q = (math.cos(0.35), math.sin(0.35) * 0.6, math.sin(0.35) * 0.8, 0.0)  # tilted ~40°
    expected = rotation_matrix_from_quaternion(np.array(q)).T @ [0, 0, STANDARD_GRAVITY]
    driver, *_, clock = make(chip, StaticMotion(q))
    driver.configure(ImuSettings(odr_hz=104, accel_range_g=accel_range))
    clock.advance(5.5 / 104)
    batch = driver.read_fifo()
    lsb = {2: 0.061, 4: 0.122, 8: 0.244, 16: 0.488}[accel_range] * 1e-3 * STANDARD_GRAVITY
    assert len(batch) == 5
    assert np.all(np.abs(batch.acc - expected) <= lsb)
    assert np.all(np.abs(batch.gyr) == 0)


@pytest.mark.parametrize("chip", ALL_CHIPS)
@pytest.mark.parametrize("gyro_range", [125, 250, 500, 1000, 2000])
def test_gyro_scaling_every_range(chip, gyro_range):
    rate = np.array([0.5, -1.0, 1.7])  # rad/s, under 125 °/s
    driver, *_, clock = make(chip, ConstantRotation(tuple(rate)))
    driver.configure(ImuSettings(odr_hz=208, gyro_range_dps=gyro_range))
    clock.advance(5.5 / 208)
    batch = driver.read_fifo()
    lsb = {125: 4.375, 250: 8.75, 500: 17.5, 1000: 35.0, 2000: 70.0}[gyro_range] * 1e-3 * DEG
    assert len(batch) == 5
    assert np.all(np.abs(batch.gyr - rate) <= lsb)
    assert np.all(np.abs(batch.acc - [0, 0, STANDARD_GRAVITY]) <= 0.244e-3 * STANDARD_GRAVITY)


@pytest.mark.parametrize("chip", ALL_CHIPS)
def test_temperature(chip):
    driver, *_, clock = make(chip, StaticMotion(temperature_c=31.3))
    driver.configure(ImuSettings(odr_hz=104))
    clock.advance(0.05)
    lsb = 1 / 16 if chip == "LSM6DS3" else 1 / 256
    assert driver.read_temperature_c() == pytest.approx(31.3, abs=lsb)


# -- FIFO ----------------------------------------------------------------------------------
def test_pattern_fifo_partial_sample_stays_for_next_read():
    driver, model, bus, clock = make("LSM6DS3", ConstantRotation((0.2, 0.0, 0.0)))
    driver.configure(ImuSettings(odr_hz=104, accel_range_g=2, gyro_range_dps=250))
    clock.advance(2.5 / 104)
    bus.read_byte_data(ADDRESS, 0x0F)  # the chip catches up with the clock on bus access
    # The chip has written the gyro half of the next pattern only.
    gyro_words = [np.int16(v).tobytes() for v in (100, -200, 300)]
    model.fifo.extend(gyro_words)
    batch = driver.read_fifo()
    assert len(batch) == 2
    status = bus.read_i2c_block_data(ADDRESS, 0x3A, 4)
    assert status[0] == 3 and status[2] == 0  # 3 words left, next one is pattern index 0 (Gx)
    model.fifo.extend(np.int16(v).tobytes() for v in (16384, 0, -16384))
    batch = driver.read_fifo()
    assert len(batch) == 1
    np.testing.assert_allclose(batch.gyr[0], np.array([100, -200, 300]) * 8.75e-3 * DEG)
    np.testing.assert_allclose(batch.acc[0],
                               np.array([16384, 0, -16384]) * 0.061e-3 * STANDARD_GRAVITY)


@pytest.mark.parametrize("chip", TAGGED_CHIPS)
def test_tagged_fifo_unpaired_gyro_word_waits_for_its_accel_word(chip):
    driver, model, bus, clock = make(chip)
    driver.configure(ImuSettings(odr_hz=104, accel_range_g=2, gyro_range_dps=250))
    clock.advance(2.5 / 104)
    bus.read_byte_data(ADDRESS, 0x0F)  # the chip catches up with the clock on bus access
    model.fifo.append(bytes([0x01 << 3]) + np.array([7, 8, 9], "<i2").tobytes())
    assert len(driver.read_fifo()) == 2
    assert bus.read_byte_data(ADDRESS, 0x3A) == 1  # the lone gyro word is still in the FIFO
    model.fifo.append(bytes([0x02 << 3]) + np.array([1, 2, 3], "<i2").tobytes())
    batch = driver.read_fifo()
    assert len(batch) == 1
    np.testing.assert_allclose(batch.gyr[0], np.array([7, 8, 9]) * 8.75e-3 * DEG)
    np.testing.assert_allclose(batch.acc[0], np.array([1, 2, 3]) * 0.061e-3 * STANDARD_GRAVITY)


def test_tagged_fifo_pairs_by_tag_whatever_the_order():
    driver, model, *_ = make("LSM6DSO")
    driver.configure(ImuSettings(odr_hz=104, accel_range_g=2, gyro_range_dps=250))
    words = [(0x02, [1, 1, 1]), (0x01, [2, 2, 2]), (0x01, [3, 3, 3]), (0x02, [4, 4, 4])]
    for tag, values in words:
        model.fifo.append(bytes([tag << 3 | 0b101]) + np.array(values, "<i2").tobytes())
    batch = driver.read_fifo()
    np.testing.assert_allclose(batch.gyr / (8.75e-3 * DEG), [[2, 2, 2], [3, 3, 3]])
    np.testing.assert_allclose(batch.acc / (0.061e-3 * STANDARD_GRAVITY), [[1, 1, 1], [4, 4, 4]])


@pytest.mark.parametrize("chip", ALL_CHIPS)
def test_forced_overflow_detected_and_recovered(chip):
    driver, model, _, clock = make(chip, ConstantRotation((0.0, 0.3, 0.0)))
    driver.configure(ImuSettings(odr_hz=104))
    clock.advance(3.5 / 104)
    model.force_fifo_overflow()
    batch = driver.read_fifo()
    assert batch.overflowed and len(batch) == 0
    assert len(model.fifo) == 0
    clock.advance(4.0 / 104)
    batch = driver.read_fifo()
    assert not batch.overflowed and len(batch) == 4
    np.testing.assert_allclose(batch.gyr[:, 1], 0.3, atol=17.5e-3 * DEG)


@pytest.mark.parametrize("chip", ALL_CHIPS)
def test_overflow_after_too_long_without_reading(chip):
    driver, _, _, clock = make(chip)
    config = driver.configure(ImuSettings(odr_hz=1666))
    clock.advance((config.fifo_capacity_samples + 10) / 1666)
    assert driver.read_fifo().overflowed
    clock.advance(10.5 / 1666)
    batch = driver.read_fifo()
    assert len(batch) == 10 and not batch.overflowed


def test_long_read_goes_through_i2c_rdwr(monkeypatch):
    driver, _, bus, clock = make("LSM6DS3")
    driver.configure(ImuSettings(odr_hz=416))
    calls = []
    original = bus.i2c_rdwr

    def spy(*msgs):
        calls.append([m.len for m in msgs])
        return original(*msgs)

    monkeypatch.setattr(bus, "i2c_rdwr", spy)
    clock.advance(10.5 / 416)
    assert len(driver.read_fifo()) == 10
    assert calls == [[1, 120]]  # register pointer write, then 10 × 12 bytes in one read


def test_reset_that_never_finishes_is_an_error():
    driver, model, _, clock = make("LSM6DS3TR-C")
    model.SW_RESET_DURATION_S = 1.0
    start = clock.now()
    with pytest.raises(ImuError, match="software reset"):
        driver.configure(ImuSettings())
    assert clock.now() - start == pytest.approx(0.050)


def test_power_down_stops_sampling():
    driver, model, bus, clock = make("LSM6DSOX")
    driver.configure(ImuSettings(odr_hz=104))
    bus.writes.clear()
    driver.close()
    # FIFO_CTRL4 bypass, CTRL1_XL and CTRL2_G power-down (ODR 0000)
    assert bus.writes == [RegisterWrite(ADDRESS, r, b"\x00") for r in (0x0A, 0x10, 0x11)]
    assert model.sample_period() is None
    before = model.samples_produced
    clock.advance(1.0)
    bus.read_byte_data(ADDRESS, 0x0F)
    assert model.samples_produced == before


def test_read_before_configure_is_an_error():
    driver, *_ = make("LSM6DS3")
    with pytest.raises(ImuError):
        driver.read_fifo()
