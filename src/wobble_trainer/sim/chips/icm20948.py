"""Simulated TDK InvenSense ICM-20948: accelerometer + gyroscope (no AK09916 magnetometer).

Modelled after the datasheet DS-000189 rev 1.3 (section numbers below refer to it):

- four register banks selected by REG_BANK_SEL (0x7F in every bank, USER_BANK in bits 5:4);
  bank 0 holds power, interrupt status, data and FIFO registers, bank 2 the rate/range/filter ones;
- power-on defaults: WHO_AM_I 0xEA, PWR_MGMT_1 0x41 (asleep, CLKSEL=1), LP_CONFIG 0x40,
  GYRO_CONFIG_1 0x01 and ACCEL_CONFIG 0x01 (DLPF on, ±250 °/s, ±2 g), dividers 0;
- DEVICE_RESET (PWR_MGMT_1 bit 7) restores every default and self-clears; the model keeps the
  bit set and ignores writes for :data:`RESET_DURATION_S`, so a driver that does not wait loses
  its settings;
- after SLEEP is cleared no sample comes out for :data:`STARTUP_S` (start-up, Tables 1 and 2);
- data registers big-endian: ACCEL 0x2D-0x32, GYRO 0x33-0x38, TEMP 0x39-0x3A (§8.19-8.32),
  temperature TEMP_OUT = (T - 21 °C) * 333.87 LSB/°C;
- sample rate: gyro ODR = 1.125 kHz / (1 + GYRO_SMPLRT_DIV) (the register text says 1.1 kHz,
  Table 16 says 1.125 kHz; parts measure 1.125 kHz, see the driver module), accel ODR =
  1.125 kHz / (1 + ACCEL_SMPLRT_DIV[11:0]). The FIFO is written at the gyro rate
  (GYRO_SMPLRT_DIV "controls ... FIFO sample rate", §10.1); an accelerometer running slower is
  sampled-and-held in the frames; GYRO_SMPLRT_DIV only acts with GYRO_FCHOICE = 1 and
  0 < GYRO_DLPFCFG < 7 (§10.1 note), otherwise the gyro runs at 1.125 kHz (9 kHz unfiltered);
- FIFO (§8.56-8.62): FIFO_EN_2 selects accel (6 B), gyro x/y/z (2 B each) and temp (2 B),
  written in register order; USER_CTRL.FIFO_EN gates writes; FIFO_RST[4:0] held non-zero keeps
  it empty; FIFO_MODE bit 0: 0 = stream (a full FIFO drops its *oldest bytes*, so frames lose
  their alignment), 1 = snapshot (new data dropped); FIFO_COUNTH/L big-endian 13-bit, reading
  COUNTH latches both; FIFO_R_W pops a byte and a burst read stays on it; INT_STATUS_2[4:0]
  (FIFO_OVERFLOW_INT) is set on overflow and cleared when read.
- FIFO size: the datasheet says 512 bytes; parts hold 4096 bytes (FIFO_CNT is 13 bits wide, and
  a fill-until-stop test on real parts counted 4096). The model uses :data:`FIFO_SIZE_BYTES` =
  4096. The hardware FIFO has no user watermark threshold outside the DMP, so none is modelled.
"""

from __future__ import annotations

import math

import numpy as np

from wobble_trainer.sim.chip import ChipModel, quantise
from wobble_trainer.sim.motion import MotionSource
from wobble_trainer.sim.sensor_errors import SensorErrors
from wobble_trainer.units import DEG, STANDARD_GRAVITY

# -- registers (bank, address) ----------------------------------------------------------------
REG_BANK_SEL = 0x7F
B0_WHO_AM_I = 0x00
B0_USER_CTRL = 0x03
B0_LP_CONFIG = 0x05
B0_PWR_MGMT_1 = 0x06
B0_PWR_MGMT_2 = 0x07
B0_INT_STATUS_2 = 0x1B
B0_ACCEL_XOUT_H = 0x2D
B0_GYRO_XOUT_H = 0x33
B0_TEMP_OUT_H = 0x39
B0_FIFO_EN_2 = 0x67
B0_FIFO_RST = 0x68
B0_FIFO_MODE = 0x69
B0_FIFO_COUNTH = 0x70
B0_FIFO_COUNTL = 0x71
B0_FIFO_R_W = 0x72
B2_GYRO_SMPLRT_DIV = 0x00
B2_GYRO_CONFIG_1 = 0x01
B2_ODR_ALIGN_EN = 0x09
B2_ACCEL_SMPLRT_DIV_1 = 0x10
B2_ACCEL_SMPLRT_DIV_2 = 0x11
B2_ACCEL_CONFIG = 0x14

WHO_AM_I_VALUE = 0xEA
PWR_DEVICE_RESET = 0x80
PWR_SLEEP = 0x40
CLKSEL_STOP = 0x07
USER_CTRL_FIFO_EN = 0x40
FIFO_EN_ACCEL = 0x10
FIFO_EN_GYRO_Z = 0x08
FIFO_EN_GYRO_Y = 0x04
FIFO_EN_GYRO_X = 0x02
FIFO_EN_TEMP = 0x01

FIFO_SIZE_BYTES = 4096
"""What parts hold (datasheet text: 512 B; see the module docstring)."""
FIFO_EMPTY_READ = 0xFF
"""Value read from FIFO_R_W when the FIFO is empty (as documented for sibling InvenSense parts)."""

BASE_RATE_HZ = 1125.0
"""Gyro and accel internal sample rate with their DLPF on (Tables 16 and 18)."""
GYRO_BYPASS_RATE_HZ = 9000.0
"""Gyro rate with GYRO_FCHOICE = 0 (Table 16)."""

RESET_DURATION_S = 0.005
"""How long the modelled DEVICE_RESET takes. The datasheet gives no figure; this only needs to be
non-zero so that a driver which writes straight after the reset loses those writes."""
STARTUP_S = 0.035
"""Sensor start-up after SLEEP is cleared: gyroscope 35 ms (Table 1), accelerometer 20 ms
(Table 2)."""

ACCEL_LSB_PER_G = (16384.0, 8192.0, 4096.0, 2048.0)
"""ACCEL_FS_SEL 0..3: ±2/4/8/16 g (Table 2)."""
GYRO_LSB_PER_DPS = (131.0, 65.5, 32.8, 16.4)
"""GYRO_FS_SEL 0..3: ±250/500/1000/2000 °/s (Table 1)."""
TEMP_LSB_PER_C = 333.87
TEMP_ROOM_OFFSET_C = 21.0

GYRO_DLPF_3DB_HZ = (196.6, 151.8, 119.5, 51.2, 23.9, 11.6, 5.7, 361.4)
"""GYRO_DLPFCFG 0..7 with GYRO_FCHOICE = 1, 3 dB bandwidth (Table 16)."""
GYRO_BYPASS_3DB_HZ = 12106.0
ACCEL_DLPF_3DB_HZ = (246.0, 246.0, 111.4, 50.4, 23.9, 11.5, 5.7, 473.0)
"""ACCEL_DLPFCFG 0..7 with ACCEL_FCHOICE = 1, 3 dB bandwidth (Table 18)."""
ACCEL_BYPASS_3DB_HZ = 1209.0


class ICM20948Model(ChipModel):
    """One ICM-20948 behind an I2C address (AD0 low: 0x68, high: 0x69)."""

    NAME = "ICM-20948"
    DEFAULT_ADDRESS = 0x68
    FIFO_SIZE_BYTES = FIFO_SIZE_BYTES

    def __init__(
        self,
        motion: MotionSource,
        *,
        errors: SensorErrors | None = None,
        seed: int = 0,
        clock_ppm: float = 0.0,
        start_time: float = 0.0,
    ) -> None:
        super().__init__(
            motion, errors=errors, seed=seed, clock_ppm=clock_ppm, start_time=start_time
        )

    # -- state ---------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        self.banks = [bytearray(256) for _ in range(4)]
        b0, b2 = self.banks[0], self.banks[2]
        b0[B0_WHO_AM_I] = WHO_AM_I_VALUE
        b0[B0_LP_CONFIG] = 0x40
        b0[B0_PWR_MGMT_1] = PWR_SLEEP | 0x01
        b2[B2_GYRO_CONFIG_1] = 0x01
        b2[B2_ACCEL_CONFIG] = 0x01
        self.bank = 0
        self.fifo = bytearray()
        self.fifo_overflows = 0
        self._overflow_flag = False
        self._count_latch = 0
        self._reset_until: float | None = None
        self._ready_at: float | None = None
        self._gyro_index = 0
        self._accel_index = -1
        self._held_accel = np.zeros(3)

    def reg(self, bank: int, register: int) -> int:
        """A register's stored value, without read side effects (for tests)."""
        return self.banks[bank][register]

    @property
    def sleeping(self) -> bool:
        pwr = self.banks[0][B0_PWR_MGMT_1]
        return bool(pwr & PWR_SLEEP) or (pwr & 0x07) == CLKSEL_STOP

    def _resetting(self) -> bool:
        return self._reset_until is not None and self.now < self._reset_until

    # -- time ------------------------------------------------------------------------------------
    def advance_to(self, t: float) -> None:
        # Split the step at the end of the sensor start-up so the first sample comes one period
        # after the sensors are ready, however late the bus looks at the chip.
        if self._ready_at is not None and self.now < self._ready_at <= t:
            super().advance_to(self._ready_at)
        super().advance_to(t)

    def sample_period(self) -> float | None:
        if self.sleeping or self._ready_at is None or self.now < self._ready_at:
            return None
        return 1.0 / self.gyro_rate_hz()

    def gyro_rate_hz(self) -> float:
        """The gyro (and FIFO) output data rate at the current configuration."""
        b2 = self.banks[2]
        cfg1 = b2[B2_GYRO_CONFIG_1]
        if not cfg1 & 0x01:
            return GYRO_BYPASS_RATE_HZ
        dlpfcfg = (cfg1 >> 3) & 0x07
        if dlpfcfg in (0, 7):
            return BASE_RATE_HZ
        return BASE_RATE_HZ / (1 + b2[B2_GYRO_SMPLRT_DIV])

    def accel_rate_hz(self) -> float:
        b2 = self.banks[2]
        div = ((b2[B2_ACCEL_SMPLRT_DIV_1] & 0x0F) << 8) | b2[B2_ACCEL_SMPLRT_DIV_2]
        return BASE_RATE_HZ / (1 + div)

    def filter_bandwidths_hz(self) -> tuple[float, float]:
        b2 = self.banks[2]
        acfg, gcfg = b2[B2_ACCEL_CONFIG], b2[B2_GYRO_CONFIG_1]
        accel = ACCEL_DLPF_3DB_HZ[(acfg >> 3) & 7] if acfg & 1 else ACCEL_BYPASS_3DB_HZ
        gyro = GYRO_DLPF_3DB_HZ[(gcfg >> 3) & 7] if gcfg & 1 else GYRO_BYPASS_3DB_HZ
        return accel, gyro

    def accel_lsb_per_g(self) -> float:
        return ACCEL_LSB_PER_G[(self.banks[2][B2_ACCEL_CONFIG] >> 1) & 3]

    def gyro_lsb_per_dps(self) -> float:
        return GYRO_LSB_PER_DPS[(self.banks[2][B2_GYRO_CONFIG_1] >> 1) & 3]

    def on_samples(
        self, times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, temperature_c: np.ndarray
    ) -> None:
        acc_counts = quantise(acc, self.accel_lsb_per_g() / STANDARD_GRAVITY)
        gyr_counts = quantise(gyr, self.gyro_lsb_per_dps() / DEG)
        temp_counts = quantise((temperature_c - TEMP_ROOM_OFFSET_C)[:, None], TEMP_LSB_PER_C)[:, 0]
        # Accelerometer slower than the gyro (a larger divider): the frame repeats its last value.
        ratio = self.gyro_rate_hz() / self.accel_rate_hz()
        fifo_on = (
            self.banks[0][B0_USER_CTRL] & USER_CTRL_FIFO_EN
            and (self.banks[0][B0_FIFO_RST] & 0x1F) == 0
        )
        enables = self.banks[0][B0_FIFO_EN_2]
        for i in range(len(times)):
            accel_index = math.floor(self._gyro_index / ratio + 1e-9)
            self._gyro_index += 1
            if accel_index != self._accel_index:
                self._accel_index = accel_index
                self._held_accel = acc_counts[i]
            sample = (
                self._held_accel.astype(">i2").tobytes()
                + gyr_counts[i].astype(">i2").tobytes()
                + np.array([temp_counts[i]]).astype(">i2").tobytes()
            )
            self.banks[0][B0_ACCEL_XOUT_H : B0_ACCEL_XOUT_H + 14] = sample
            if fifo_on and enables:
                self._push(self._frame(sample, enables))

    @staticmethod
    def _frame(sample: bytes, enables: int) -> bytes:
        """The FIFO bytes of one sample: enabled registers in register-number order."""
        out = b""
        if enables & FIFO_EN_ACCEL:
            out += sample[0:6]
        for bit, offset in ((FIFO_EN_GYRO_X, 6), (FIFO_EN_GYRO_Y, 8), (FIFO_EN_GYRO_Z, 10)):
            if enables & bit:
                out += sample[offset : offset + 2]
        if enables & FIFO_EN_TEMP:
            out += sample[12:14]
        return out

    def _push(self, frame: bytes) -> None:
        room = self.FIFO_SIZE_BYTES - len(self.fifo)
        if len(frame) <= room:
            self.fifo += frame
            return
        self._overflow_flag = True
        self.fifo_overflows += 1
        if self.banks[0][B0_FIFO_MODE] & 0x01:
            return  # snapshot: a full FIFO keeps what it has
        # Stream: new bytes replace the oldest ones, byte by byte, so the read side loses the
        # frame boundary unless the FIFO size is a multiple of the frame size.
        self.fifo += frame
        del self.fifo[: len(self.fifo) - self.FIFO_SIZE_BYTES]

    def force_fifo_overflow(self) -> None:
        enables = self.banks[0][B0_FIFO_EN_2] or (FIFO_EN_ACCEL | 0x0E)
        frame = self._frame(bytes(self.banks[0][B0_ACCEL_XOUT_H : B0_ACCEL_XOUT_H + 14]), enables)
        while not self._overflow_flag:
            self._push(frame)
        self._push(frame)  # and one more, so the stream-mode misalignment shows

    # -- register access ------------------------------------------------------------------------
    def next_read_address(self, register: int) -> int:
        if self.bank == 0 and register == B0_FIFO_R_W:
            return register  # a burst read keeps popping the FIFO
        return (register + 1) % self.REGISTER_SPACE

    def read_register(self, register: int) -> int:
        if register == REG_BANK_SEL:
            return self.bank << 4
        regs = self.banks[self.bank]
        if self.bank == 0:
            if register == B0_PWR_MGMT_1 and self._resetting():
                return regs[register] | PWR_DEVICE_RESET
            if register == B0_INT_STATUS_2:
                value = 0x01 if self._overflow_flag else 0x00
                self._overflow_flag = False  # cleared on read
                return value
            if register == B0_FIFO_COUNTH:
                self._count_latch = len(self.fifo)
                return (self._count_latch >> 8) & 0x1F
            if register == B0_FIFO_COUNTL:
                return self._count_latch & 0xFF
            if register == B0_FIFO_R_W:
                if not self.fifo:
                    return FIFO_EMPTY_READ
                value = self.fifo[0]
                del self.fifo[0]
                return value
        return regs[register]

    def write_register(self, register: int, value: int) -> None:
        if self._resetting():
            return  # the chip is busy resetting: the write is lost
        if register == REG_BANK_SEL:
            self.bank = (value >> 4) & 0x03
            return
        regs = self.banks[self.bank]
        if self.bank == 0:
            if register in (B0_WHO_AM_I, B0_INT_STATUS_2, B0_FIFO_COUNTH, B0_FIFO_COUNTL):
                return  # read-only
            if register == B0_PWR_MGMT_1:
                self._write_pwr_mgmt_1(value)
                return
            if register == B0_FIFO_RST and value & 0x1F:
                self.fifo.clear()
            if register == B0_FIFO_R_W:
                if len(self.fifo) < self.FIFO_SIZE_BYTES:
                    self.fifo.append(value)
                return
        if register >= B0_ACCEL_XOUT_H and register < B0_TEMP_OUT_H + 2 and self.bank == 0:
            return  # data registers are read-only
        regs[register] = value

    def _write_pwr_mgmt_1(self, value: int) -> None:
        if value & PWR_DEVICE_RESET:
            self.power_on_reset(self.now)
            self._reset_until = self.now + RESET_DURATION_S
            return
        was_sleeping = self.sleeping
        self.banks[0][B0_PWR_MGMT_1] = value & 0x7F
        if self.sleeping:
            self._ready_at = None
            self._next_sample_time = None
        elif was_sleeping:
            self._ready_at = self.now + STARTUP_S
            self._gyro_index = 0
            self._accel_index = -1


CHIP_MODELS: dict[str, type[ChipModel]] = {"ICM-20948": ICM20948Model}
"""Chip name → simulated chip class."""
