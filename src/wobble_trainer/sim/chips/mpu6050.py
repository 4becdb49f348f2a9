"""Simulated InvenSense MPU-6050, MPU-6500 and MPU-9250 (accelerometer + gyroscope part).

Modelled from the register maps (cited by register number, which is how those documents are
organised):

- RM-MPU-6000A-00 rev 4.2, "MPU-6000 and MPU-6050 Register Map and Descriptions" (6050),
- RM-MPU-6500A-00 rev 2.1 and RM-MPU-9250A-00 rev 1.4/1.6 (6500 / 9250: same accel/gyro map).

What is modelled, because the driver and the datasheets depend on it:

- WHO_AM_I (reg 117) 0x68 / 0x70 / 0x71; power-on values: all registers 0x00 except
  PWR_MGMT_1 (reg 107) = 0x40 on the 6050 (asleep) and 0x01 on the 6500/9250 (RM-9250 §3 note).
- PWR_MGMT_1 DEVICE_RESET (bit 7) restores the defaults and reads back 1 for
  :attr:`InvenSenseMpu.reset_duration_s`; SLEEP (bit 6) stops sampling.
- Sample rate (reg 25 SMPLRT_DIV, reg 26 CONFIG DLPF_CFG bits 2:0): internal rate 1 kHz with
  DLPF_CFG 1..6, 8 kHz with 0 or 7; rate = internal / (1 + SMPLRT_DIV). On the 6500/9250 the
  divider only acts when FCHOICE_B (reg 27 bits 1:0) is 00 and 0 < DLPF_CFG < 7; FCHOICE_B != 00
  runs the gyro at 32 kHz.
- Full scale (reg 27 FS_SEL bits 4:3, reg 28 AFS_SEL bits 4:3) and the low-pass bandwidth tables
  (6050: reg 26 table, shared by accel and gyro; 6500/9250: gyro by reg 26, accelerometer by
  reg 29 ACCEL_CONFIG2 A_DLPF_CFG bits 2:0 and ACCEL_FCHOICE_B bit 3).
- Data registers 59..72: ACCEL_X/Y/Z, TEMP, GYRO_X/Y/Z, 16-bit two's complement, high byte first.
  Temperature: 6050 T = raw/340 + 36.53 °C (reg 65-66); 6500/9250 T = raw/333.87 + 21 °C.
- FIFO (reg 35 FIFO_EN, reg 106 USER_CTRL, reg 114-116): 1024 bytes on the 6050, 512 on the
  6500/9250 (Linux inv_mpu6050 ``fifo_size``; the 9250 FIFO count is seen to stop at 512). Bytes
  go in in register order (accel, temp, gyro x, y, z) at the sample rate. FIFO_COUNT_H read
  latches both count bytes (reg 114-115). FIFO_R_W (reg 116) pops one byte per read and the burst
  address does not advance past it; reading an empty FIFO returns the last byte read.
- Overflow (reg 116 text): the oldest bytes are lost and new ones written (the 6500/9250 keep the
  old data instead when CONFIG FIFO_MODE, bit 6, is 1); FIFO_OFLOW_INT (reg 58 bit 4) is set.
  The documents do not say whether the status bit latches when INT_ENABLE FIFO_OFLOW_EN (reg 56
  bit 4) is clear; this model takes the strict reading (it latches only when enabled), so a
  driver must enable it or detect overflow another way. INT_STATUS clears when read (reg 58), or
  on any read when INT_PIN_CFG INT_RD_CLEAR (reg 55 bit 4) is 1.
- USER_CTRL FIFO_RESET (bit 2) empties the FIFO; on the 6050 only while FIFO_EN (bit 6) is 0
  (reg 106 text), on the 6500/9250 at any time. The reset bits clear themselves.

Not modelled: DMP, auxiliary I2C master, the 9250's magnetometer, self-test, offsets, cycle and
low-power accelerometer modes, FSYNC.
"""

from __future__ import annotations

import numpy as np

from wobble_trainer.sim.chip import ChipModel, quantise
from wobble_trainer.units import DEG, STANDARD_GRAVITY

# -- register addresses (same on all three chips) ----------------------------------------------
SMPLRT_DIV = 0x19  # reg 25
CONFIG = 0x1A  # reg 26
GYRO_CONFIG = 0x1B  # reg 27
ACCEL_CONFIG = 0x1C  # reg 28
ACCEL_CONFIG2 = 0x1D  # reg 29, 6500/9250 only
FIFO_EN = 0x23  # reg 35
INT_PIN_CFG = 0x37  # reg 55
INT_ENABLE = 0x38  # reg 56
INT_STATUS = 0x3A  # reg 58
ACCEL_XOUT_H = 0x3B  # reg 59
TEMP_OUT_H = 0x41  # reg 65
GYRO_XOUT_H = 0x43  # reg 67
DATA_END = 0x49  # one past GYRO_ZOUT_L (reg 72)
SIGNAL_PATH_RESET = 0x68  # reg 104
USER_CTRL = 0x6A  # reg 106
PWR_MGMT_1 = 0x6B  # reg 107
PWR_MGMT_2 = 0x6C  # reg 108
FIFO_COUNTH = 0x72  # reg 114
FIFO_COUNTL = 0x73  # reg 115
FIFO_R_W = 0x74  # reg 116
WHO_AM_I = 0x75  # reg 117

# -- bits ---------------------------------------------------------------------------------------
PWR_DEVICE_RESET = 0x80
PWR_SLEEP = 0x40
USER_FIFO_EN = 0x40
USER_FIFO_RESET = 0x04
USER_SIG_COND_RESET = 0x01
USER_SELF_CLEARING = 0x0F  # DMP_RESET, FIFO_RESET, I2C_MST_RESET, SIG_COND_RESET
CONFIG_FIFO_MODE = 0x40  # 6500/9250 only
INT_FIFO_OFLOW = 0x10
INT_DATA_RDY = 0x01
INT_PIN_RD_CLEAR = 0x10
FIFO_EN_TEMP = 0x80
FIFO_EN_XG = 0x40
FIFO_EN_YG = 0x20
FIFO_EN_ZG = 0x10
FIFO_EN_ACCEL = 0x08

# Byte slices of one 14-byte data-register image (regs 59..72) per FIFO_EN bit, in the order
# the chip writes them into the FIFO (ascending register number).
_FIFO_FIELDS = (
    (FIFO_EN_ACCEL, slice(0, 6)),
    (FIFO_EN_TEMP, slice(6, 8)),
    (FIFO_EN_XG, slice(8, 10)),
    (FIFO_EN_YG, slice(10, 12)),
    (FIFO_EN_ZG, slice(12, 14)),
)

ACCEL_LSB_PER_G = (16384.0, 8192.0, 4096.0, 2048.0)
"""AFS_SEL 0..3 (±2/4/8/16 g): product specifications, accelerometer sensitivity scale factor."""
GYRO_LSB_PER_DPS = (131.0, 65.5, 32.8, 16.4)
"""FS_SEL 0..3 (±250/500/1000/2000 °/s): product specifications, gyro sensitivity scale factor."""


class InvenSenseMpu(ChipModel):
    """The shared MPU-60x0 / MPU-65x0 register model; subclasses set the chip's constants."""

    WHO_AM_I_VALUE: int = 0
    PWR_MGMT_1_DEFAULT: int = 0
    FIFO_BYTES: int = 0
    FIFO_COUNT_HIGH_MASK: int = 0xFF
    IS_6500_FAMILY: bool = False
    TEMP_LSB_PER_C: float = 1.0
    TEMP_OFFSET_C: float = 0.0
    DEFAULT_ADDRESS = 0x68
    GYRO_DLPF_HZ: dict[int, float] = {}
    ACCEL_DLPF_HZ: dict[int, float] = {}

    reset_duration_s: float = 0.05
    """How long DEVICE_RESET reads back as 1. The datasheets give no figure; drivers wait 100 ms
    (Linux inv_mpu6050 ``INV_MPU6050_POWER_UP_TIME``), so this stays below that."""

    # -- state ------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        self.regs[PWR_MGMT_1] = self.PWR_MGMT_1_DEFAULT
        self.regs[WHO_AM_I] = self.WHO_AM_I_VALUE
        self.fifo = bytearray()
        self.fifo_overflowed = False
        """Set whenever bytes were lost (whether or not INT_STATUS showed it): for tests."""
        self._count_latch = 0
        self._last_fifo_byte = 0
        self._reset_busy_until: float | None = None

    def _device_reset(self) -> None:
        """DEVICE_RESET: every register to its power-on value, FIFO empty, filters restarted."""
        self.regs[:] = bytes(self.REGISTER_SPACE)
        self._accel_filter.reset()
        self._gyro_filter.reset()
        self._next_sample_time = None
        self.reset_registers()
        self._reset_busy_until = self.now + self.reset_duration_s

    def _resetting(self) -> bool:
        return self._reset_busy_until is not None and self.now < self._reset_busy_until

    # -- configuration decoded ------------------------------------------------------------
    @property
    def dlpf_cfg(self) -> int:
        return self.regs[CONFIG] & 0x07

    @property
    def gyro_fchoice_b(self) -> int:
        return self.regs[GYRO_CONFIG] & 0x03 if self.IS_6500_FAMILY else 0

    @property
    def accel_lsb_per_g(self) -> float:
        return ACCEL_LSB_PER_G[(self.regs[ACCEL_CONFIG] >> 3) & 0x03]

    @property
    def gyro_lsb_per_dps(self) -> float:
        return GYRO_LSB_PER_DPS[(self.regs[GYRO_CONFIG] >> 3) & 0x03]

    def output_rate_hz(self) -> float:
        """Sample rate (data registers and FIFO) at the current configuration."""
        if self.gyro_fchoice_b:
            return 32000.0
        if self.dlpf_cfg in (0, 7):
            # 8 kHz gyro output; the 6050 still divides it, the 6500 ignores the divider here.
            return 8000.0 if self.IS_6500_FAMILY else 8000.0 / (1 + self.regs[SMPLRT_DIV])
        return 1000.0 / (1 + self.regs[SMPLRT_DIV])

    def sample_period(self) -> float | None:
        if self.regs[PWR_MGMT_1] & PWR_SLEEP or self._resetting():
            return None
        return 1.0 / self.output_rate_hz()

    def filter_bandwidths_hz(self) -> tuple[float, float]:
        if not self.IS_6500_FAMILY:
            return self.ACCEL_DLPF_HZ[self.dlpf_cfg], self.GYRO_DLPF_HZ[self.dlpf_cfg]
        fchoice_b = self.gyro_fchoice_b
        if fchoice_b:
            gyro = 8800.0 if fchoice_b & 0x01 else 3600.0  # reg 27 table, FCHOICE_B x1 / 10
        else:
            gyro = self.GYRO_DLPF_HZ[self.dlpf_cfg]
        config2 = self.regs[ACCEL_CONFIG2]
        accel = 1046.0 if config2 & 0x08 else self.ACCEL_DLPF_HZ[config2 & 0x07]
        return accel, gyro

    # -- samples -----------------------------------------------------------------------------
    def data_image(self, acc: np.ndarray, gyr: np.ndarray, temperature_c: np.ndarray) -> np.ndarray:
        """(n, 14) bytes of registers 59..72 for each sample: big-endian 16-bit words."""
        acc_counts = quantise(acc, self.accel_lsb_per_g / STANDARD_GRAVITY)
        gyr_counts = quantise(gyr, self.gyro_lsb_per_dps / DEG)
        temp_counts = quantise(
            np.asarray(temperature_c, dtype=float) - self.TEMP_OFFSET_C, self.TEMP_LSB_PER_C
        )
        words = np.column_stack([acc_counts, temp_counts, gyr_counts]).astype(">i2")
        return np.ascontiguousarray(words).view(np.uint8).reshape(len(words), 14)

    def fifo_frame_fields(self) -> list[slice]:
        mask = self.regs[FIFO_EN]
        return [cols for bit, cols in _FIFO_FIELDS if mask & bit]

    def on_samples(
        self, times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, temperature_c: np.ndarray
    ) -> None:
        image = self.data_image(acc, gyr, temperature_c)
        self.regs[ACCEL_XOUT_H:DATA_END] = image[-1].tobytes()
        if self.regs[INT_ENABLE] & INT_DATA_RDY:
            self.regs[INT_STATUS] |= INT_DATA_RDY
        fields = self.fifo_frame_fields()
        if self.regs[USER_CTRL] & USER_FIFO_EN and fields:
            frames = np.concatenate([image[:, cols] for cols in fields], axis=1)
            self.push_fifo(frames.tobytes())

    def push_fifo(self, data: bytes) -> None:
        """Write bytes into the FIFO as the chip does, overflowing per the datasheet."""
        keep_old = self.IS_6500_FAMILY and bool(self.regs[CONFIG] & CONFIG_FIFO_MODE)
        room = self.FIFO_BYTES - len(self.fifo)
        if len(data) <= room:
            self.fifo += data
            return
        if keep_old:
            self.fifo += data[:room]  # FIFO_MODE = 1: further writes are not stored
        else:
            self.fifo += data
            del self.fifo[: len(self.fifo) - self.FIFO_BYTES]  # the oldest bytes are lost
        self.fifo_overflowed = True
        if self.regs[INT_ENABLE] & INT_FIFO_OFLOW:
            self.regs[INT_STATUS] |= INT_FIFO_OFLOW

    def force_fifo_overflow(self) -> None:
        """Fill the FIFO past its capacity with frames of the current data registers."""
        fields = self.fifo_frame_fields()
        if not fields:
            return
        image = np.frombuffer(bytes(self.regs[ACCEL_XOUT_H:DATA_END]), dtype=np.uint8)
        frame = b"".join(image[cols].tobytes() for cols in fields)
        self.push_fifo(frame * (self.FIFO_BYTES // len(frame) + 2))

    # -- register access -------------------------------------------------------------------
    def next_read_address(self, register: int) -> int:
        # A burst from FIFO_R_W keeps popping the FIFO instead of moving to WHO_AM_I.
        return register if register == FIFO_R_W else super().next_read_address(register)

    def next_write_address(self, register: int) -> int:
        return register if register == FIFO_R_W else super().next_write_address(register)

    def read_register(self, register: int) -> int:
        if register == INT_STATUS:
            value = self.regs[INT_STATUS]
            self.regs[INT_STATUS] = 0
            return value
        if register == FIFO_COUNTH:
            self._count_latch = len(self.fifo)
            value = (self._count_latch >> 8) & self.FIFO_COUNT_HIGH_MASK
        elif register == FIFO_COUNTL:
            value = self._count_latch & 0xFF
        elif register == FIFO_R_W:
            if self.fifo:
                self._last_fifo_byte = self.fifo.pop(0)
            value = self._last_fifo_byte
        elif register == PWR_MGMT_1 and self._resetting():
            value = self.regs[PWR_MGMT_1] | PWR_DEVICE_RESET
        else:
            value = self.regs[register]
        if self.regs[INT_PIN_CFG] & INT_PIN_RD_CLEAR:
            self.regs[INT_STATUS] = 0
        return value

    def write_register(self, register: int, value: int) -> None:
        if register in (WHO_AM_I, INT_STATUS, FIFO_COUNTH, FIFO_COUNTL):
            return  # read-only
        if ACCEL_XOUT_H <= register < DATA_END:
            return  # sensor data registers are read-only
        if register == ACCEL_CONFIG2 and not self.IS_6500_FAMILY:
            return  # reg 29 is FF_THR on old 6050 maps, unused: not modelled
        if register == PWR_MGMT_1 and value & PWR_DEVICE_RESET:
            self._device_reset()
            return
        if register == FIFO_R_W:
            self.push_fifo(bytes([value]))
            return
        if register == USER_CTRL:
            if value & USER_FIFO_RESET and (self.IS_6500_FAMILY or not value & USER_FIFO_EN):
                self.fifo.clear()
                self._count_latch = 0
            if value & USER_SIG_COND_RESET:
                self._reset_signal_paths()
            self.regs[USER_CTRL] = value & ~USER_SELF_CLEARING & 0xFF
            return
        if register == SIGNAL_PATH_RESET:
            if value & 0x07:
                self._reset_signal_paths()
            return  # the reset bits are not stored
        self.regs[register] = value

    def _reset_signal_paths(self) -> None:
        self.regs[ACCEL_XOUT_H:DATA_END] = bytes(DATA_END - ACCEL_XOUT_H)
        self._accel_filter.reset()
        self._gyro_filter.reset()


# Reg 26 DLPF_CFG tables, bandwidth in Hz (7 is "reserved" on the 6050: treated as 0).
_MPU6050_ACCEL_DLPF = {0: 260.0, 1: 184.0, 2: 94.0, 3: 44.0, 4: 21.0, 5: 10.0, 6: 5.0, 7: 260.0}
_MPU6050_GYRO_DLPF = {0: 256.0, 1: 188.0, 2: 98.0, 3: 42.0, 4: 20.0, 5: 10.0, 6: 5.0, 7: 256.0}
# 6500/9250: reg 26 gyro table (FCHOICE_B = 00) and reg 29 accel table (ACCEL_FCHOICE_B = 0).
_MPU6500_GYRO_DLPF = {0: 250.0, 1: 184.0, 2: 92.0, 3: 41.0, 4: 20.0, 5: 10.0, 6: 5.0, 7: 3600.0}
_MPU6500_ACCEL_DLPF = {
    0: 218.1,
    1: 218.1,
    2: 99.0,
    3: 44.8,
    4: 21.2,
    5: 10.2,
    6: 5.05,
    7: 420.0,
}


class Mpu6050Model(InvenSenseMpu):
    """MPU-6050: 1024-byte FIFO, one DLPF for both sensors, wakes up asleep."""

    NAME = "MPU-6050"
    WHO_AM_I_VALUE = 0x68
    PWR_MGMT_1_DEFAULT = 0x40
    FIFO_BYTES = 1024
    FIFO_COUNT_HIGH_MASK = 0xFF
    IS_6500_FAMILY = False
    TEMP_LSB_PER_C = 340.0
    TEMP_OFFSET_C = 36.53
    ACCEL_DLPF_HZ = _MPU6050_ACCEL_DLPF
    GYRO_DLPF_HZ = _MPU6050_GYRO_DLPF


class Mpu6500Model(InvenSenseMpu):
    """MPU-6500: 512-byte FIFO, FIFO_MODE, separate accelerometer DLPF, wakes up awake."""

    NAME = "MPU-6500"
    WHO_AM_I_VALUE = 0x70
    PWR_MGMT_1_DEFAULT = 0x01
    FIFO_BYTES = 512
    FIFO_COUNT_HIGH_MASK = 0x1F  # FIFO_CNT[12:8]
    IS_6500_FAMILY = True
    TEMP_LSB_PER_C = 333.87
    TEMP_OFFSET_C = 21.0
    ACCEL_DLPF_HZ = _MPU6500_ACCEL_DLPF
    GYRO_DLPF_HZ = _MPU6500_GYRO_DLPF


class Mpu9250Model(Mpu6500Model):
    """MPU-9250: an MPU-6500 die plus a magnetometer (not modelled) in one package."""

    NAME = "MPU-9250"
    WHO_AM_I_VALUE = 0x71


CHIP_MODELS: dict[str, type[InvenSenseMpu]] = {
    "MPU-6050": Mpu6050Model,
    "MPU-6500": Mpu6500Model,
    "MPU-9250": Mpu9250Model,
}
"""Chip name → simulated chip class (each has ``DEFAULT_ADDRESS``)."""
