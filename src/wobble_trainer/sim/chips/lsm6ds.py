"""Simulated ST LSM6DS3, LSM6DS3TR-C, LSM6DSO and LSM6DSOX: registers, sampling and both FIFO kinds.

What is modelled (the parts a driver and the tests touch, per the datasheets; see
:mod:`wobble_trainer.hardware.lsm6ds` for sources):

* WHO_AM_I, power-on defaults, CTRL3_C (SW_RESET clears itself after ``SW_RESET_DURATION_S`` and
  puts every register back to its default; BOOT clears itself after ``BOOT_DURATION_S``; IF_INC
  auto-increment; BLE byte order of the output registers on the pattern-FIFO chips), SLEEP_G.
* CTRL1_XL / CTRL2_G: ODR (power-down at 0), full scale, and the accelerometer filter bits; the
  bandwidth each setting gives is what :meth:`filter_bandwidths_hz` reports to the one-pole filter
  of :class:`~wobble_trainer.sim.chip.ChipModel`. The gyroscope LPF1 (FTYPE) is not modelled: the
  gyroscope always has the LPF2 bandwidth of its ODR.
* Output registers (temperature, gyro, accelerometer; 16-bit two's complement, little-endian) and
  STATUS_REG data-ready bits.
* Pattern FIFO (LSM6DS3, LSM6DS3TR-C): FIFO_CTRL3 decimation per sensor, FIFO_CTRL5 ODR_FIFO and
  mode, words stored gyro first then accelerometer, FIFO_STATUS1-4 (unread words, watermark,
  overrun, full, empty, pattern index of the next word), FIFO_DATA_OUT_L/H popping one word per
  L+H pair, with the burst address wrapping from 0x3F back to 0x3E.
* Tagged FIFO (LSM6DSO/DSOX): FIFO_CTRL3 batch data rate per sensor, FIFO_CTRL4 mode, 7-byte words
  (tag in bits 7:3, a 2-bit time-slot counter in bits 2:1, a parity bit), FIFO_STATUS1/2 (unread
  words, WTM_IA, OVR_IA, FULL_IA, OVR_LATCHED cleared by reading FIFO_STATUS2), the burst address
  wrapping from 0x7E back to 0x78.
* Overflow: in continuous mode the newest word overwrites the oldest and the overrun flag is set
  (it clears when the FIFO is no longer full, or on bypass); in FIFO mode collection stops when
  full. Bypass mode empties the FIFO. The trigger-driven modes (continuous-to-FIFO,
  bypass-to-continuous, bypass-to-FIFO) are treated as continuous, bypass and bypass: no trigger
  events are modelled.

Not modelled: block data update (a simulated burst read is atomic anyway), embedded functions and
their register bank, interrupts pins, the timestamp, FIFO compression, watermark stop.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque

import numpy as np

from wobble_trainer.sim.chip import ChipModel, quantise
from wobble_trainer.units import DEG, STANDARD_GRAVITY

WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
CTRL4_C = 0x13
CTRL8_XL = 0x17
CTRL9_XL = 0x18
CTRL10_C = 0x19
STATUS_REG = 0x1E
OUT_TEMP_L = 0x20
OUTX_L_G = 0x22
OUTX_L_XL = 0x28
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B
FIFO_STATUS3 = 0x3C
FIFO_STATUS4 = 0x3D
FIFO_DATA_OUT_L = 0x3E
FIFO_DATA_OUT_H = 0x3F
FIFO_DATA_OUT_TAG = 0x78
FIFO_DATA_OUT_Z_H = 0x7E

# pattern FIFO
P_FIFO_CTRL1 = 0x06
P_FIFO_CTRL2 = 0x07
P_FIFO_CTRL3 = 0x08
P_FIFO_CTRL5 = 0x0A
# tagged FIFO
T_FIFO_CTRL1 = 0x07
T_FIFO_CTRL2 = 0x08
T_FIFO_CTRL3 = 0x09
T_FIFO_CTRL4 = 0x0A

SW_RESET = 0x01
BLE = 0x02
IF_INC = 0x04
BOOT = 0x80
SLEEP_G = 0x40
XL_BW_SCAL_ODR = 0x80

MODE_BYPASS = 0b000
MODE_FIFO = 0b001
MODE_CONT_TO_FIFO = 0b011
MODE_CONTINUOUS = 0b110

TAG_GYRO_NC = 0x01
TAG_ACCEL_NC = 0x02

ODR_HZ = {1: 12.5, 2: 26.0, 3: 52.0, 4: 104.0, 5: 208.0, 6: 416.0, 7: 833.0, 8: 1666.0,
          9: 3332.0, 10: 6664.0}
"""ODR code → nominal rate (the same table as the driver's)."""

ACCEL_MG_PER_LSB = {0b00: 0.061, 0b10: 0.122, 0b11: 0.244, 0b01: 0.488}
GYRO_MDPS_PER_LSB = {0b00: 8.75, 0b01: 17.5, 0b10: 35.0, 0b11: 70.0}
GYRO_125_MDPS_PER_LSB = 4.375
GYRO_LPF2_HZ = {12.5: 4.2, 26.0: 8.3, 52.0: 16.7, 104.0: 33.0, 208.0: 66.8, 416.0: 135.9,
                833.0: 295.5, 1666.0: 1108.1, 3332.0: 1108.1, 6664.0: 1108.1}
DEC_FACTORS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 8, 6: 16, 7: 32}
"""Pattern FIFO DEC_FIFO_* code → decimation factor (0 = not in the FIFO)."""
DS3_ANALOG_BW = {0b00: 400.0, 0b01: 200.0, 0b10: 100.0, 0b11: 50.0}
DS3TRC_LPF2_DIVIDERS = {0b00: 50, 0b01: 100, 0b10: 9, 0b11: 400}
DSO_LPF2_DIVIDERS = {0b000: 4, 0b001: 10, 0b010: 20, 0b011: 45, 0b100: 100, 0b101: 200,
                     0b110: 400, 0b111: 800}

READ_ONLY = {WHO_AM_I, STATUS_REG, *range(OUT_TEMP_L, 0x2E), *range(FIFO_STATUS1, 0x40),
             *range(FIFO_DATA_OUT_TAG, FIFO_DATA_OUT_Z_H + 1)}


def _ds3_auto_analog_bw(odr: float) -> float:
    """LSM6DS3 anti-aliasing bandwidth picked from the ODR when XL_BW_SCAL_ODR = 0."""
    if odr >= 3332.0:
        return odr / 2  # no analog filter at 3.33/6.66 kHz
    if odr >= 833.0:
        return 400.0
    if odr >= 416.0:
        return 200.0
    if odr >= 208.0:
        return 100.0
    return 50.0


class Lsm6dsModel(ChipModel):
    """Common part of the family; subclasses set the chip's constants."""

    DEFAULT_ADDRESS = 0x6A
    WHO_AM_I_VALUE = 0x00
    TAGGED_FIFO = False
    FIFO_CAPACITY_WORDS = 0
    DIFF_HIGH_MASK = 0x00
    TEMP_LSB_PER_C = 256.0
    MAX_GYRO_ODR_CODE = 10
    DEFAULTS: dict[int, int] = {}
    SW_RESET_DURATION_S = 50e-6
    BOOT_DURATION_S = 10e-3

    # -- state ----------------------------------------------------------------------------
    def reset_registers(self) -> None:
        self.regs[WHO_AM_I] = self.WHO_AM_I_VALUE
        self.regs[CTRL3_C] = IF_INC
        for register, value in self.DEFAULTS.items():
            self.regs[register] = value
        self.fifo: deque[bytes] = deque()
        self._out_word: bytes | None = None
        self._overrun = False
        self._overrun_latched = False
        self._removed_words = 0
        self._tick = 0
        self._fifo_tick = 0
        self._busy_until = {SW_RESET: -1.0, BOOT: -1.0}
        self.pointer = 0

    def _soft_reset(self) -> None:
        now = self.now
        self.regs[:] = bytes(self.REGISTER_SPACE)
        self._accel_filter.reset()
        self._gyro_filter.reset()
        self._next_sample_time = None
        self.reset_registers()
        self._busy_until[SW_RESET] = now + self.SW_RESET_DURATION_S

    def _odr_codes(self) -> tuple[int, int]:
        """(accelerometer, gyroscope) ODR codes in use; 0 = power-down."""
        xl = self.regs[CTRL1_XL] >> 4
        g = self.regs[CTRL2_G] >> 4
        xl = xl if xl in ODR_HZ else 0
        g = g if 0 < g <= self.MAX_GYRO_ODR_CODE else 0
        if self.regs[CTRL4_C] & SLEEP_G:
            g = 0
        return xl, g

    def sample_period(self) -> float | None:
        code = max(self._odr_codes())
        return 1.0 / ODR_HZ[code] if code else None

    def accel_sensitivity(self) -> float:
        """m/s² per LSB at the current full scale."""
        return ACCEL_MG_PER_LSB[(self.regs[CTRL1_XL] >> 2) & 0x3] * 1e-3 * STANDARD_GRAVITY

    def gyro_sensitivity(self) -> float:
        """rad/s per LSB at the current full scale."""
        ctrl2 = self.regs[CTRL2_G]
        mdps = GYRO_125_MDPS_PER_LSB if ctrl2 & 0x02 else GYRO_MDPS_PER_LSB[(ctrl2 >> 2) & 0x3]
        return mdps * 1e-3 * DEG

    def filter_bandwidths_hz(self) -> tuple[float, float]:
        xl, g = self._odr_codes()
        xl_odr = ODR_HZ.get(xl, 0.0)
        g_odr = ODR_HZ.get(g, 0.0)
        return (self.accel_bandwidth_hz(xl_odr) if xl else 0.0,
                GYRO_LPF2_HZ[g_odr] if g else 0.0)

    @abstractmethod
    def accel_bandwidth_hz(self, odr: float) -> float:
        """Accelerometer bandwidth at ``odr`` with the current filter bits (each chip's chain)."""

    # -- sampling -------------------------------------------------------------------------
    def on_samples(
        self, times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, temperature_c: np.ndarray
    ) -> None:
        acc_counts = quantise(acc, 1.0 / self.accel_sensitivity())
        gyr_counts = quantise(gyr, 1.0 / self.gyro_sensitivity())
        temp_counts = np.clip(np.rint((temperature_c - 25.0) * self.TEMP_LSB_PER_C),
                              -32768, 32767).astype(np.int16)
        xl, g = self._odr_codes()
        top = max(xl, g)
        xl_div = 1 << (top - xl) if xl else 0
        g_div = 1 << (top - g) if g else 0
        order = ">" if (not self.TAGGED_FIFO and self.regs[CTRL3_C] & BLE) else "<"
        for i in range(len(times)):
            self._tick += 1
            new_g = bool(g_div) and self._tick % g_div == 0
            new_xl = bool(xl_div) and self._tick % xl_div == 0
            g_bytes = gyr_counts[i].astype("<i2").tobytes()
            xl_bytes = acc_counts[i].astype("<i2").tobytes()
            if new_g:
                self.regs[OUTX_L_G:OUTX_L_G + 6] = gyr_counts[i].astype(order + "i2").tobytes()
                self.regs[STATUS_REG] |= 0x02
            if new_xl:
                self.regs[OUTX_L_XL:OUTX_L_XL + 6] = acc_counts[i].astype(order + "i2").tobytes()
                self.regs[STATUS_REG] |= 0x01
            self.regs[OUT_TEMP_L:OUT_TEMP_L + 2] = temp_counts[i].astype(order + "i2").tobytes()
            self.regs[STATUS_REG] |= 0x04
            self._batch(top, xl, g, xl_bytes, g_bytes)

    @abstractmethod
    def _batch(self, top: int, xl: int, g: int, xl_bytes: bytes, g_bytes: bytes) -> None:
        """Store one tick's words in the FIFO as its configuration says (pattern or tagged)."""

    def _fifo_mode(self, register: int) -> int:
        mode = self.regs[register] & 0x7
        if mode == MODE_CONT_TO_FIFO:
            return MODE_CONTINUOUS
        return mode if mode in (MODE_FIFO, MODE_CONTINUOUS) else MODE_BYPASS

    def _push(self, word: bytes, mode: int) -> None:
        if len(self.fifo) >= self.FIFO_CAPACITY_WORDS:
            if mode == MODE_FIFO:
                self._overrun = True  # FIFO mode: stops collecting, the new word is lost
                return
            self.fifo.popleft()  # continuous: the oldest word is overwritten
            self._removed_words += 1
            self._overrun = True
            self._overrun_latched = True
        self.fifo.append(word)

    def _clear_fifo(self) -> None:
        self.fifo.clear()
        self._out_word = None
        self._overrun = False
        self._overrun_latched = False
        self._removed_words = 0
        self._fifo_tick = 0

    def _pop_word(self) -> bytes | None:
        if not self.fifo:
            return None
        self._removed_words += 1
        word = self.fifo.popleft()
        if len(self.fifo) < self.FIFO_CAPACITY_WORDS:
            self._overrun = False
        return word

    def force_fifo_overflow(self) -> None:
        """Keep batching the newest sample until the FIFO has overwritten (or refused) words."""
        xl, g = self._odr_codes()
        top = max(xl, g)
        if not top:
            return
        g_bytes = bytes(self.regs[OUTX_L_G:OUTX_L_G + 6])
        xl_bytes = bytes(self.regs[OUTX_L_XL:OUTX_L_XL + 6])
        if not self.TAGGED_FIFO and self.regs[CTRL3_C] & BLE:
            g_bytes = _swap_pairs(g_bytes)
            xl_bytes = _swap_pairs(xl_bytes)
        for _ in range(2 * self.FIFO_CAPACITY_WORDS + 2):
            self._tick += 1
            self._batch(top, xl, g, xl_bytes, g_bytes)
            if self._overrun:
                return

    # -- register access ------------------------------------------------------------------
    def next_read_address(self, register: int) -> int:
        if not self.regs[CTRL3_C] & IF_INC:
            return register
        if self.TAGGED_FIFO and register == FIFO_DATA_OUT_Z_H:
            return FIFO_DATA_OUT_TAG
        if not self.TAGGED_FIFO and register == FIFO_DATA_OUT_H:
            return FIFO_DATA_OUT_L
        return (register + 1) % self.REGISTER_SPACE

    def next_write_address(self, register: int) -> int:
        if not self.regs[CTRL3_C] & IF_INC:
            return register
        return (register + 1) % self.REGISTER_SPACE

    def read_register(self, register: int) -> int:
        if register == CTRL3_C:
            value = self.regs[CTRL3_C]
            for bit, until in self._busy_until.items():
                if self.now < until:
                    value |= bit
            return value
        if OUT_TEMP_L <= register <= 0x2D:
            # Reading the high byte of an output marks that sensor's data as read.
            if register == OUTX_L_G + 5:
                self.regs[STATUS_REG] &= ~0x02 & 0xFF
            elif register == OUTX_L_XL + 5:
                self.regs[STATUS_REG] &= ~0x01 & 0xFF
            elif register == OUT_TEMP_L + 1:
                self.regs[STATUS_REG] &= ~0x04 & 0xFF
            return self.regs[register]
        return self.read_fifo_register(register)

    def read_fifo_register(self, register: int) -> int:
        return self.regs[register]

    def write_register(self, register: int, value: int) -> None:
        if register in READ_ONLY:
            return
        if register == CTRL3_C:
            if value & SW_RESET:
                self._soft_reset()
                return
            if value & BOOT:
                self._busy_until[BOOT] = self.now + self.BOOT_DURATION_S
            self.regs[CTRL3_C] = value & ~(SW_RESET | BOOT) & 0xFF
            return
        if register in (CTRL1_XL, CTRL2_G, CTRL4_C):
            before = self._odr_codes()
            self.regs[register] = value
            if self._odr_codes() != before:
                # A new rate restarts the sample clock: first sample one period from now.
                self._next_sample_time = None
                self._tick = 0
                self._fifo_tick = 0
            return
        self.regs[register] = value
        self.on_config_write(register, value)

    def on_config_write(self, register: int, value: int) -> None:
        """Family-specific effects of a write (FIFO mode changes)."""


class PatternFifoModel(Lsm6dsModel):
    """LSM6DS3 / LSM6DS3TR-C: pattern FIFO of 16-bit words."""

    def _pattern_words(self) -> int:
        ctrl3 = self.regs[P_FIFO_CTRL3]
        sensors = int(bool(ctrl3 & 0x07)) + int(bool((ctrl3 >> 3) & 0x07))
        return 3 * sensors

    def _batch(self, top: int, xl: int, g: int, xl_bytes: bytes, g_bytes: bytes) -> None:
        mode = self._fifo_mode(P_FIFO_CTRL5)
        fifo_code = (self.regs[P_FIFO_CTRL5] >> 3) & 0x0F
        if mode == MODE_BYPASS or fifo_code not in ODR_HZ:
            return
        if self._tick % (1 << max(0, top - fifo_code)):
            return
        self._fifo_tick += 1
        dec_xl = DEC_FACTORS.get(self.regs[P_FIFO_CTRL3] & 0x07, 0)
        dec_g = DEC_FACTORS.get((self.regs[P_FIFO_CTRL3] >> 3) & 0x07, 0)
        # Pattern order: gyroscope words first, then accelerometer (datasheet FIFO section).
        if g and dec_g and self._fifo_tick % dec_g == 0:
            for k in range(3):
                self._push(g_bytes[2 * k:2 * k + 2], mode)
        if xl and dec_xl and self._fifo_tick % dec_xl == 0:
            for k in range(3):
                self._push(xl_bytes[2 * k:2 * k + 2], mode)

    def on_config_write(self, register: int, value: int) -> None:
        if register == P_FIFO_CTRL5 and self._fifo_mode(P_FIFO_CTRL5) == MODE_BYPASS:
            self._clear_fifo()

    def read_fifo_register(self, register: int) -> int:
        count = len(self.fifo)
        if register == FIFO_STATUS1:
            return count & 0xFF
        if register == FIFO_STATUS2:
            watermark = (self.regs[P_FIFO_CTRL1] | (self.regs[P_FIFO_CTRL2] & 0x0F) << 8)
            value = (count >> 8) & self.DIFF_HIGH_MASK
            if watermark and count >= watermark:
                value |= 0x80
            if self._overrun:
                value |= 0x40
            if count >= self.FIFO_CAPACITY_WORDS - self._pattern_words():
                value |= 0x20  # full at the next ODR ("smart" full on the DS3TR-C)
            if count == 0:
                value |= 0x10
            return value
        if register in (FIFO_STATUS3, FIFO_STATUS4):
            length = self._pattern_words() or 1
            pattern = self._removed_words % length
            return pattern & 0xFF if register == FIFO_STATUS3 else (pattern >> 8) & 0x03
        if register == FIFO_DATA_OUT_L:
            if self._out_word is None:
                self._out_word = self._pop_word() or b"\x00\x00"
            return self._out_word[0]
        if register == FIFO_DATA_OUT_H:
            if self._out_word is None:
                self._out_word = self._pop_word() or b"\x00\x00"
            value = self._out_word[1]
            self._out_word = None  # L+H read: the next read gets the next word
            return value
        return self.regs[register]


class TaggedFifoModel(Lsm6dsModel):
    """LSM6DSO / LSM6DSOX: tagged FIFO of 7-byte words."""

    TAGGED_FIFO = True

    def _batch(self, top: int, xl: int, g: int, xl_bytes: bytes, g_bytes: bytes) -> None:
        mode = self._fifo_mode(T_FIFO_CTRL4)
        if mode == MODE_BYPASS:
            return
        bdr_g = self.regs[T_FIFO_CTRL3] >> 4
        bdr_xl = self.regs[T_FIFO_CTRL3] & 0x0F
        slot = self._tick & 0x3  # TAG_CNT: a 2-bit counter of the time slot
        for code, bdr, tag, data in ((g, bdr_g, TAG_GYRO_NC, g_bytes),
                                     (xl, bdr_xl, TAG_ACCEL_NC, xl_bytes)):
            if not code or bdr not in ODR_HZ:
                continue
            if self._tick % (1 << (top - min(bdr, code))):
                continue
            self._push(bytes([_tag_byte(tag, slot)]) + data, mode)

    def on_config_write(self, register: int, value: int) -> None:
        if register == T_FIFO_CTRL4 and self._fifo_mode(T_FIFO_CTRL4) == MODE_BYPASS:
            self._clear_fifo()

    def read_fifo_register(self, register: int) -> int:
        count = len(self.fifo)
        if register == FIFO_STATUS1:
            return count & 0xFF
        if register == FIFO_STATUS2:
            watermark = self.regs[T_FIFO_CTRL1] | (self.regs[T_FIFO_CTRL2] & 0x01) << 8
            value = (count >> 8) & self.DIFF_HIGH_MASK
            if watermark and count >= watermark:
                value |= 0x80
            if self._overrun:
                value |= 0x40
            if count >= self.FIFO_CAPACITY_WORDS - 2:
                value |= 0x20  # FULL_IA: full at the next batch
            if self._overrun_latched:
                value |= 0x08
                self._overrun_latched = False  # FIFO_OVR_LATCHED clears when read
            return value
        if FIFO_DATA_OUT_TAG <= register <= FIFO_DATA_OUT_Z_H:
            if register == FIFO_DATA_OUT_TAG or self._out_word is None:
                self._out_word = self._pop_word() or bytes(7)
            value = self._out_word[register - FIFO_DATA_OUT_TAG]
            if register == FIFO_DATA_OUT_Z_H:
                self._out_word = None
            return value
        return self.regs[register]


def _tag_byte(sensor: int, slot: int) -> int:
    """TAG_SENSOR[7:3] TAG_CNT[2:1] TAG_PARITY[0]; parity makes the byte's bit count even."""
    byte = (sensor << 3) | (slot << 1)
    return byte | (bin(byte).count("1") & 1)


def _swap_pairs(data: bytes) -> bytes:
    return b"".join(data[i + 1:i + 2] + data[i:i + 1] for i in range(0, len(data), 2))


class LSM6DS3Model(PatternFifoModel):
    """LSM6DS3: WHO_AM_I 0x69, 8 KB FIFO, DIFF_FIFO[11:0], gyro up to 1.66 kHz, 16 LSB/°C."""

    NAME = "LSM6DS3"
    WHO_AM_I_VALUE = 0x69
    FIFO_CAPACITY_WORDS = 4095
    DIFF_HIGH_MASK = 0x0F
    TEMP_LSB_PER_C = 16.0
    MAX_GYRO_ODR_CODE = 8
    DEFAULTS = {CTRL9_XL: 0x38, CTRL10_C: 0x38}  # all axes enabled

    def accel_bandwidth_hz(self, odr: float) -> float:
        if self.regs[CTRL4_C] & XL_BW_SCAL_ODR:
            return DS3_ANALOG_BW[self.regs[CTRL1_XL] & 0x03]
        return _ds3_auto_analog_bw(odr)


class LSM6DS3TRCModel(PatternFifoModel):
    """LSM6DS3TR-C: WHO_AM_I 0x6A, 4 KB FIFO, DIFF_FIFO[10:0], 256 LSB/°C."""

    NAME = "LSM6DS3TR-C"
    WHO_AM_I_VALUE = 0x6A
    FIFO_CAPACITY_WORDS = 2047
    DIFF_HIGH_MASK = 0x07
    TEMP_LSB_PER_C = 256.0
    DEFAULTS = {CTRL9_XL: 0xE0}

    def accel_bandwidth_hz(self, odr: float) -> float:
        # LPF2 (CTRL8_XL[7]) acts only with FUNC_EN (CTRL10_C[2]) on this chip.
        if self.regs[CTRL8_XL] & 0x80 and self.regs[CTRL10_C] & 0x04:
            return odr / DS3TRC_LPF2_DIVIDERS[(self.regs[CTRL8_XL] >> 5) & 0x03]
        return odr / 4 if self.regs[CTRL1_XL] & 0x02 else odr / 2


class LSM6DSOModel(TaggedFifoModel):
    """LSM6DSO: WHO_AM_I 0x6C, 512-word tagged FIFO (3 KB of data), DIFF_FIFO[9:0], 256 LSB/°C."""

    NAME = "LSM6DSO"
    WHO_AM_I_VALUE = 0x6C
    FIFO_CAPACITY_WORDS = 512
    DIFF_HIGH_MASK = 0x03
    TEMP_LSB_PER_C = 256.0
    DEFAULTS = {0x02: 0x3F, CTRL9_XL: 0xE0}  # PIN_CTRL pull-up bits, DEN axis bits

    def accel_bandwidth_hz(self, odr: float) -> float:
        if self.regs[CTRL1_XL] & 0x02:  # LPF2_XL_EN
            return odr / DSO_LPF2_DIVIDERS[(self.regs[CTRL8_XL] >> 5) & 0x07]
        return odr / 2


class LSM6DSOXModel(LSM6DSOModel):
    """LSM6DSOX: the LSM6DSO's registers and FIFO (plus a machine-learning core not modelled);
    its own sensor-error figures."""

    NAME = "LSM6DSOX"


CHIP_MODELS: dict[str, type[Lsm6dsModel]] = {
    "LSM6DS3": LSM6DS3Model,
    "LSM6DS3TR-C": LSM6DS3TRCModel,
    "LSM6DSO": LSM6DSOModel,
    "LSM6DSOX": LSM6DSOXModel,
}
