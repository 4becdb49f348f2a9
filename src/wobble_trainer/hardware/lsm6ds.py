"""Driver for ST's LSM6DS family: LSM6DS3, LSM6DS3TR-C, LSM6DSO and LSM6DSOX over I2C.

Two FIFO designs live in this family, and the driver handles both:

* **Pattern FIFO** (LSM6DS3, LSM6DS3TR-C): 16-bit words in a fixed repeating pattern. With gyro and
  accelerometer both batched at the same rate and no decimation the pattern is six words,
  ``Gx Gy Gz XLx XLy XLz``. FIFO_STATUS1/2 give the number of unread words, FIFO_STATUS3/4 the
  pattern index of the next word. The driver reads whole patterns only, so a half-read sample
  stays in the FIFO and the next read starts at ``Gx`` again.
* **Tagged FIFO** (LSM6DSO, LSM6DSOX): 7-byte words, a tag byte (sensor in bits 7:3) and six data
  bytes. The driver reads an even number of words and pairs the k-th gyroscope word with the k-th
  accelerometer word; a word whose partner has not been read yet is kept in the driver (not
  dropped) and paired on the next read.

LSM6DSO and LSM6DSOX share WHO_AM_I 0x6C and the same register map for everything used here (the
DSOX adds the machine-learning core), so the driver names the chip "LSM6DSO/LSM6DSOX".
WHO_AM_I 0x69 is also answered by the LSM6DS3H/LSM6DS33 and 0x6A by the LSM6DSL/LSM6DSM, which
share the respective register maps.

Register addresses and bit fields are from the datasheets' register map (§8) and register
description (§9) chapters (LSM6DS3 DocID026899, LSM6DS3TR-C, LSM6DSO DS12140), checked against
ST's own register headers (STMems_Standard_C_drivers: lsm6ds3_reg.h, lsm6ds3tr_c_reg.h,
lsm6dso_reg.h) and the Linux st_lsm6dsx driver (FIFO sizes, DIFF_FIFO widths, reset handling).
Comments name the register whose description a value comes from.

Filters. The accelerometer bandwidth is selectable per chip (see ``_accel_filter_options``): the
LSM6DS3's analog anti-aliasing filter (400/200/100/50 Hz), the LSM6DS3TR-C's digital LPF1 (ODR/2 or
ODR/4), the LSM6DSO(X)'s LPF1 + optional LPF2 (ODR/2 ... ODR/800). The gyroscope runs with LPF1
bypassed (LPF1_SEL_G = 0) so its bandwidth is the fixed LPF2 value for the ODR; the LPF1 (FTYPE)
tables could not be verified here, so the driver does not use them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wobble_trainer.hardware.imu import (
    I2C_RDWR_CHUNK,
    FifoBatch,
    ImuConfig,
    ImuDriver,
    ImuError,
    ImuSettings,
    nearest,
)
from wobble_trainer.units import DEG, STANDARD_GRAVITY

# -- registers common to the family (§8 register map) ----------------------------------------
WHO_AM_I = 0x0F  # §9: 0x69 LSM6DS3, 0x6A LSM6DS3TR-C, 0x6C LSM6DSO/DSOX
CTRL1_XL = 0x10  # ODR_XL[7:4] FS_XL[3:2] + chip-specific filter bits [1:0]
CTRL2_G = 0x11  # ODR_G[7:4] FS_G[3:2] FS_125[1]
CTRL3_C = 0x12  # BOOT BDU H_LACTIVE PP_OD SIM IF_INC BLE SW_RESET; default 0x04 (IF_INC)
CTRL4_C = 0x13  # LSM6DS3: XL_BW_SCAL_ODR[7] SLEEP_G[6]; DS3TR-C/DSO: SLEEP[6] LPF1_SEL_G[1]
CTRL6_C = 0x15  # XL_HM_MODE[4], FTYPE (gyro LPF1 bandwidth) in the low bits
CTRL8_XL = 0x17  # accelerometer LPF2 / HPF selection
STATUS_REG = 0x1E  # TDA[2] GDA[1] XLDA[0]
OUT_TEMP_L = 0x20  # temperature, 16-bit two's complement, little-endian, 0 LSB = 25 °C
OUTX_L_G = 0x22  # gyro X/Y/Z, 0x22..0x27, little-endian
OUTX_L_XL = 0x28  # accelerometer X/Y/Z, 0x28..0x2D, little-endian

# CTRL3_C bits (§9 CTRL3_C description)
CTRL3_BOOT = 0x80
CTRL3_BDU = 0x40  # block data update: LSB and MSB of one output come from the same sample
CTRL3_IF_INC = 0x04  # register address auto-increment in multi-byte access
CTRL3_SW_RESET = 0x01  # software reset; self-clearing when the reset is done

# CTRL4_C bits
CTRL4_XL_BW_SCAL_ODR = 0x80  # LSM6DS3 only: analog filter bandwidth from BW_XL, not from ODR
CTRL4_SLEEP_G = 0x40  # gyroscope sleep
CTRL4_LPF1_SEL_G = 0x02  # LSM6DS3TR-C / LSM6DSO: gyroscope digital LPF1 enable

# -- pattern FIFO (LSM6DS3, LSM6DS3TR-C; FIFO_CTRL1-5, FIFO_STATUS1-4, FIFO_DATA_OUT) --------
FIFO_CTRL1 = 0x06  # FTH[7:0] watermark (words)
FIFO_CTRL2 = 0x07  # FTH[11:8] (DS3) / FTH[10:8] + FIFO_TEMP_EN[3] (DS3TR-C), timer/pedo bits
FIFO_CTRL3 = 0x08  # DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0]: 000 not in FIFO, 001 no decimation
FIFO_CTRL4 = 0x09  # third/fourth data sets (sensor hub, step counter): unused here
FIFO_CTRL5 = 0x0A  # ODR_FIFO[6:3] FIFO_MODE[2:0]
FIFO_STATUS1 = 0x3A  # DIFF_FIFO[7:0]: unread words
FIFO_STATUS2 = 0x3B  # FTH[7] OVER_RUN[6] FULL[5] EMPTY[4] DIFF_FIFO high bits
FIFO_STATUS3 = 0x3C  # FIFO_PATTERN[7:0]: pattern index of the next word to be read
FIFO_STATUS4 = 0x3D  # FIFO_PATTERN[9:8]
FIFO_DATA_OUT_L = 0x3E  # FIFO output; a burst wraps from 0x3F back to 0x3E

DEC_NO_DECIMATION = 0b001
FIFO_CTRL3_GYRO_AND_XL = (DEC_NO_DECIMATION << 3) | DEC_NO_DECIMATION  # 0x09
FIFO_STATUS2_OVER_RUN = 0x40
FIFO_STATUS2_FULL = 0x20
FIFO_STATUS2_EMPTY = 0x10
PATTERN_WORDS = 6  # Gx Gy Gz XLx XLy XLz
PATTERN_BYTES = 2 * PATTERN_WORDS

# -- tagged FIFO (LSM6DSO/DSOX; FIFO_CTRL1-4, FIFO_STATUS1/2, FIFO_DATA_OUT_TAG..Z_H) --------
TAG_FIFO_CTRL1 = 0x07  # WTM[7:0]
TAG_FIFO_CTRL2 = 0x08  # STOP_ON_WTM[7] FIFO_COMPR_RT_EN[6] ODRCHG_EN[4] UNCOPTR_RATE[2:1] WTM8[0]
TAG_FIFO_CTRL3 = 0x09  # BDR_GY[7:4] BDR_XL[3:0]: batch data rate per sensor (0 = not batched)
TAG_FIFO_CTRL4 = 0x0A  # DEC_TS_BATCH[7:6] ODR_T_BATCH[5:4] FIFO_MODE[2:0]
TAG_FIFO_STATUS1 = 0x3A  # DIFF_FIFO[7:0]: unread words
TAG_FIFO_STATUS2 = 0x3B  # WTM_IA[7] OVR_IA[6] FULL_IA[5] COUNTER_BDR_IA[4] OVR_LATCHED[3] DIFF[9:8]
FIFO_DATA_OUT_TAG = 0x78  # TAG_SENSOR[7:3] TAG_CNT[2:1] TAG_PARITY[0], then 6 data bytes 0x79-0x7E
TAG_STATUS2_OVR_IA = 0x40
TAG_STATUS2_FULL_IA = 0x20
TAG_STATUS2_OVR_LATCHED = 0x08
TAG_DIFF_HIGH_MASK = 0x03
TAG_SENSOR_SHIFT = 3
TAG_GYRO_NC = 0x01  # gyroscope, not compressed
TAG_ACCEL_NC = 0x02  # accelerometer, not compressed
TAGGED_WORD_BYTES = 7

# FIFO_MODE values, the same in both designs
FIFO_MODE_BYPASS = 0b000  # FIFO off and emptied
FIFO_MODE_FIFO = 0b001  # stops collecting when full
FIFO_MODE_CONTINUOUS = 0b110  # newest sample overwrites the oldest when full

# -- rates and ranges -------------------------------------------------------------------------
ODR_CODES: dict[float, int] = {
    12.5: 0b0001,
    26.0: 0b0010,
    52.0: 0b0011,
    104.0: 0b0100,
    208.0: 0b0101,
    416.0: 0b0110,
    833.0: 0b0111,
    1666.0: 0b1000,
    3332.0: 0b1001,
    6664.0: 0b1010,
}
"""ODR_XL / ODR_G / ODR_FIFO / BDR code per nominal rate (CTRL1_XL, CTRL2_G tables; the same codes
serve ODR_FIFO in FIFO_CTRL5 and BDR_XL/BDR_GY in FIFO_CTRL3 of the tagged FIFO). The chips' own
clock makes 12.5 Hz slightly faster in reality; the sampler measures the rate anyway."""

ACCEL_RANGES: dict[float, tuple[int, float]] = {
    2.0: (0b00, 0.061),
    4.0: (0b10, 0.122),
    8.0: (0b11, 0.244),
    16.0: (0b01, 0.488),
}
"""±g → (FS_XL code, sensitivity mg/LSB): CTRL1_XL FS_XL table and the mechanical
characteristics table (LA_So). Note the odd code order: 01 is ±16 g."""

GYRO_RANGES: dict[float, tuple[int, float]] = {
    125.0: (0b0010, 4.375),
    250.0: (0b0000, 8.75),
    500.0: (0b0100, 17.5),
    1000.0: (0b1000, 35.0),
    2000.0: (0b1100, 70.0),
}
"""±°/s → (CTRL2_G bits 3:0 = FS_G[1:0] FS_125 0, sensitivity mdps/LSB) (G_So). The LSM6DS3 and
LSM6DS3TR-C datasheets call the 250 dps setting "245 dps" (same code, same 8.75 mdps/LSB)."""

GYRO_LPF2_BANDWIDTH_HZ: dict[float, float] = {
    12.5: 4.2,
    26.0: 8.3,
    52.0: 16.7,
    104.0: 33.0,
    208.0: 66.8,
    416.0: 135.9,
    833.0: 295.5,
    1666.0: 1108.1,
    3332.0: 1108.1,
    6664.0: 1108.1,
}
"""Gyroscope bandwidth with LPF1 bypassed (LSM6DSO DS12140 Table 18, 104-1666 Hz, read second-hand
from a code comment quoting it). 12.5-52 Hz follow the same ODR/3.1 ratio; above 1666 Hz no figure
was found and the 1666 Hz value is kept (it is above ODR/2 there anyway). The LSM6DS3/DS3TR-C
use the same values here as an approximation: their tables were not found (see module doc)."""

DS3_ANALOG_BW: dict[float, int] = {400.0: 0b00, 200.0: 0b01, 100.0: 0b10, 50.0: 0b11}
"""LSM6DS3 BW_XL (CTRL1_XL[1:0]) anti-aliasing bandwidth, used when XL_BW_SCAL_ODR = 1."""

DSO_LPF2_DIVIDERS: dict[int, int] = {4: 0b000, 10: 0b001, 20: 0b010, 45: 0b011,
                                     100: 0b100, 200: 0b101, 400: 0b110, 800: 0b111}
"""LSM6DSO accelerometer LPF2 (LPF2_XL_EN = 1): ODR divider → HPCF_XL[2:0] (CTRL8_XL[7:5])."""

DSO_CTRL1_LPF2_XL_EN = 0x02
DS3TRC_CTRL1_LPF1_BW_SEL = 0x02  # LPF1 bandwidth ODR/4 instead of ODR/2

SW_RESET_POLL_S = 0.001
SW_RESET_TIMEOUT_S = 0.050  # the Linux st_lsm6dsx driver allows 50 ms for the reset


@dataclass(frozen=True)
class ChipVariant:
    """What differs between the chips of the family, as far as this driver cares."""

    name: str
    tagged_fifo: bool
    max_odr_hz: float
    fifo_words: int
    """FIFO capacity in 16-bit words (pattern FIFO) or 7-byte tagged words."""
    diff_high_mask: int
    """Mask of the DIFF_FIFO high bits in FIFO_STATUS2."""
    temp_lsb_per_c: float
    gyro_250_name: float
    """What the datasheet calls the ±250 dps setting (245 on the older parts)."""


VARIANTS: dict[int, ChipVariant] = {
    # LSM6DS3: gyro ODR tops out at 1.66 kHz; 8 KB FIFO; DIFF_FIFO[11:0]; 16 LSB/°C.
    0x69: ChipVariant("LSM6DS3", False, 1666.0, 4095, 0x0F, 16.0, 245.0),
    # LSM6DS3TR-C: 4 KB FIFO; DIFF_FIFO[10:0]; 256 LSB/°C.
    0x6A: ChipVariant("LSM6DS3TR-C", False, 6664.0, 2047, 0x07, 256.0, 245.0),
    # LSM6DSO / LSM6DSOX: 3 KB of data = 512 tagged words; DIFF_FIFO[9:0]; 256 LSB/°C.
    0x6C: ChipVariant("LSM6DSO/LSM6DSOX", True, 6664.0, 512, TAG_DIFF_HIGH_MASK, 256.0, 250.0),
}


class Lsm6dsDriver(ImuDriver):
    """One LSM6DS3 / LSM6DS3TR-C / LSM6DSO / LSM6DSOX at address 0x6A (SA0 low) or 0x6B."""

    CHIP_FAMILY = "LSM6DS"
    ADDRESSES = (0x6A, 0x6B)
    ID_REGISTER = WHO_AM_I
    CHIP_IDS = {chip_id: v.name for chip_id, v in VARIANTS.items()}

    def __init__(
        self,
        bus: Any,
        address: int = 0x6A,
        *,
        bus_number: int | str = "?",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        super().__init__(bus, address, bus_number=bus_number)
        chip_id = next(k for k, v in VARIANTS.items() if v.name == self.chip_name)
        self.variant = VARIANTS[chip_id]
        self._fifo_odr_code = 0
        self._accel_scale = 0.0  # m/s² per LSB
        self._gyro_scale = 0.0  # rad/s per LSB
        # Tagged FIFO: words read whose partner (same sample, other sensor) is not read yet.
        self._pending_gyro: list[np.ndarray] = []
        self._pending_acc: list[np.ndarray] = []

    # -- reset and configuration ------------------------------------------------------------
    def soft_reset(self) -> None:
        """SW_RESET (CTRL3_C[0]) and wait until the chip clears it: registers back to defaults."""
        self._write(CTRL3_C, CTRL3_SW_RESET)
        waited = 0.0
        while True:
            self._sleep(SW_RESET_POLL_S)
            waited += SW_RESET_POLL_S
            if not self._read(CTRL3_C) & CTRL3_SW_RESET:
                return
            if waited >= SW_RESET_TIMEOUT_S:
                raise ImuError(
                    f"{self.chip_name} at bus {self.bus_number}, address 0x{self.address:02X}: "
                    f"software reset did not finish within {SW_RESET_TIMEOUT_S * 1000:.0f} ms"
                )

    def supported_odrs(self) -> list[float]:
        return [odr for odr in ODR_CODES if odr <= self.variant.max_odr_hz]

    def configure(self, settings: ImuSettings) -> ImuConfig:
        v = self.variant
        odr = nearest(self.supported_odrs(), settings.odr_hz)
        odr_code = ODR_CODES[odr]
        accel_range = nearest(ACCEL_RANGES, settings.accel_range_g)
        fs_xl, accel_mg = ACCEL_RANGES[accel_range]
        gyro_range = nearest(GYRO_RANGES, settings.gyro_range_dps)
        fs_g, gyro_mdps = GYRO_RANGES[gyro_range]
        options = self._accel_filter_options(odr)
        accel_bw = _pick_bandwidth(list(options), odr, settings.dlpf_hz)
        ctrl1_filter_bits, extra_writes = options[accel_bw]

        self.soft_reset()
        self._write(CTRL3_C, CTRL3_BDU | CTRL3_IF_INC)
        for register, value in extra_writes:
            self._write(register, value)
        self._write(CTRL1_XL, (odr_code << 4) | (fs_xl << 2) | ctrl1_filter_bits)
        self._write(CTRL2_G, (odr_code << 4) | fs_g)
        if v.tagged_fifo:
            self._write(TAG_FIFO_CTRL3, (odr_code << 4) | odr_code)
        else:
            self._write(FIFO_CTRL3, FIFO_CTRL3_GYRO_AND_XL)
        self._fifo_odr_code = odr_code
        self._accel_scale = accel_mg * 1e-3 * STANDARD_GRAVITY
        self._gyro_scale = gyro_mdps * 1e-3 * DEG
        self.reset_fifo()

        frame_words = 2 if v.tagged_fifo else PATTERN_WORDS
        capacity = v.fifo_words // frame_words
        self.config = ImuConfig(
            chip=v.name,
            odr_hz=odr,
            accel_range_g=accel_range,
            gyro_range_dps=v.gyro_250_name if gyro_range == 250.0 else gyro_range,
            accel_dlpf_hz=accel_bw,
            gyro_dlpf_hz=GYRO_LPF2_BANDWIDTH_HZ[odr],
            fifo_capacity_samples=capacity,
        )
        return self.config

    def _accel_filter_options(self, odr: float) -> dict[float, tuple[int, list[tuple[int, int]]]]:
        """Accelerometer bandwidth (Hz) → (CTRL1_XL bits 1:0, other register writes)."""
        name = self.variant.name
        if name == "LSM6DS3":
            # Analog anti-aliasing filter chosen by BW_XL (CTRL1_XL) once XL_BW_SCAL_ODR = 1
            # (CTRL4_C); otherwise the chip picks it from the ODR. No digital LPF2 used.
            return {bw: (code, [(CTRL4_C, CTRL4_XL_BW_SCAL_ODR)]) for bw, code in
                    DS3_ANALOG_BW.items()}
        if name == "LSM6DS3TR-C":
            # Digital LPF1: ODR/2 or ODR/4 (LPF1_BW_SEL, CTRL1_XL[1]); LPF2 is left off because it
            # also needs FUNC_EN (embedded functions) on this chip.
            return {odr / 2: (0, []), odr / 4: (DS3TRC_CTRL1_LPF1_BW_SEL, [])}
        # LSM6DSO/DSOX: LPF1 alone is ODR/2; LPF2_XL_EN (CTRL1_XL[1]) adds HPCF_XL in CTRL8_XL.
        options: dict[float, tuple[int, list[tuple[int, int]]]] = {odr / 2: (0, [(CTRL8_XL, 0)])}
        for divider, hpcf in DSO_LPF2_DIVIDERS.items():
            options[odr / divider] = (DSO_CTRL1_LPF2_XL_EN, [(CTRL8_XL, hpcf << 5)])
        return options

    # -- FIFO ---------------------------------------------------------------------------------
    def _fifo_mode_register(self) -> tuple[int, int]:
        """(register, value without mode bits) of the FIFO_MODE field."""
        if self.variant.tagged_fifo:
            return TAG_FIFO_CTRL4, 0  # no temperature, no timestamp batching
        return FIFO_CTRL5, self._fifo_odr_code << 3

    def reset_fifo(self) -> None:
        """Bypass mode empties the FIFO and clears its flags; then continuous mode again."""
        register, base = self._fifo_mode_register()
        self._write(register, base | FIFO_MODE_BYPASS)
        self._write(register, base | FIFO_MODE_CONTINUOUS)
        self._pending_gyro.clear()
        self._pending_acc.clear()

    def read_fifo(self) -> FifoBatch:
        if self.config is None:
            raise ImuError(f"{self.chip_name}: configure() before read_fifo()")
        if self.variant.tagged_fifo:
            return self._read_tagged_fifo()
        return self._read_pattern_fifo()

    def _read_pattern_fifo(self) -> FifoBatch:
        status = self._read_block(FIFO_STATUS1, 4)
        words = status[0] | ((status[1] & self.variant.diff_high_mask) << 8)
        pattern = status[2] | ((status[3] & 0x03) << 8)
        if status[1] & FIFO_STATUS2_OVER_RUN or pattern != 0:
            # Overrun: the oldest words were overwritten, so the FIFO may start mid-pattern.
            # A non-zero pattern index means the same (someone else read part of a sample).
            # Either way samples were lost: start again from an empty, aligned FIFO.
            self.reset_fifo()
            return FifoBatch.empty(overflowed=True)
        n = words // PATTERN_WORDS
        if n == 0:
            return FifoBatch.empty()
        raw = self._read_fifo_bytes(FIFO_DATA_OUT_L, n * PATTERN_BYTES, PATTERN_BYTES)
        counts = np.frombuffer(raw, dtype="<i2").reshape(n, PATTERN_WORDS).astype(float)
        return FifoBatch(
            acc=counts[:, 3:] * self._accel_scale, gyr=counts[:, :3] * self._gyro_scale
        )

    def _read_tagged_fifo(self) -> FifoBatch:
        status = self._read_block(TAG_FIFO_STATUS1, 2)
        words = status[0] | ((status[1] & TAG_DIFF_HIGH_MASK) << 8)
        if status[1] & (TAG_STATUS2_OVR_IA | TAG_STATUS2_OVR_LATCHED):
            self.reset_fifo()
            return FifoBatch.empty(overflowed=True)
        # An even number of words: a gyro word written just before its accelerometer word stays
        # in the FIFO. Words of unexpected sensors (none are enabled) are skipped.
        words -= words % 2
        if words:
            raw = self._read_fifo_bytes(
                FIFO_DATA_OUT_TAG, words * TAGGED_WORD_BYTES, TAGGED_WORD_BYTES
            )
            frames = np.frombuffer(raw, dtype=np.uint8).reshape(words, TAGGED_WORD_BYTES)
            tags = frames[:, 0] >> TAG_SENSOR_SHIFT
            values = frames[:, 1:].copy().view("<i2").astype(float)
            self._pending_gyro.extend(values[tags == TAG_GYRO_NC])
            self._pending_acc.extend(values[tags == TAG_ACCEL_NC])
        n = min(len(self._pending_gyro), len(self._pending_acc))
        if n == 0:
            return FifoBatch.empty()
        gyr = np.array(self._pending_gyro[:n]) * self._gyro_scale
        acc = np.array(self._pending_acc[:n]) * self._accel_scale
        del self._pending_gyro[:n]
        del self._pending_acc[:n]
        return FifoBatch(acc=acc, gyr=gyr)

    def _read_fifo_bytes(self, register: int, length: int, frame: int) -> bytes:
        """Burst-read FIFO output in pieces of whole frames: each piece restarts at ``register``,
        which is only right on a frame boundary (the chip's pointer wraps within the frame)."""
        piece = (I2C_RDWR_CHUNK // frame) * frame
        out = bytearray()
        while len(out) < length:
            out += self._read_block(register, min(piece, length - len(out)))
        return bytes(out)

    # -- other reads ----------------------------------------------------------------------------
    def read_temperature_c(self) -> float:
        raw = int.from_bytes(self._read_block(OUT_TEMP_L, 2), "little", signed=True)
        return 25.0 + raw / self.variant.temp_lsb_per_c

    def power_down(self) -> None:
        """Both sensors to power-down (ODR 0) and the FIFO off."""
        register = TAG_FIFO_CTRL4 if self.variant.tagged_fifo else FIFO_CTRL5
        self._write(register, FIFO_MODE_BYPASS)
        self._write(CTRL1_XL, 0x00)
        self._write(CTRL2_G, 0x00)


def _pick_bandwidth(options: list[float], odr: float, wanted: float | None) -> float:
    """The option nearest ``wanted``; without a wish, the widest one below ODR/2 (the narrowest
    option when none is below, e.g. the LSM6DS3's 50 Hz analog filter at 12.5 Hz)."""
    if wanted is not None:
        return nearest(options, wanted)
    below = [bw for bw in options if bw < odr / 2]
    return max(below) if below else min(options)
