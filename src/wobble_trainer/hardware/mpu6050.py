"""Driver for the InvenSense MPU-6050, MPU-6500, MPU-9250 and MPU-9255 (accelerometer + gyroscope).

One driver covers the family: the register map of the accelerometer/gyroscope part is shared.
The differences that matter here are the chip id, the FIFO size (1024 bytes on the 6050, 512 on the
6500/9250/9255), the low-pass filter tables, the separate accelerometer filter of the 6500 family
(ACCEL_CONFIG2) and the temperature formula. The 9250/9255 magnetometer is out of scope.

Sources, cited by register number (the register maps are organised by it):
RM-MPU-6000A-00 rev 4.2 (MPU-6000/6050 register map), PS-MPU-6000A-00 rev 3.4 (6050 product
specification, sensitivity tables), RM-MPU-6500A-00 rev 2.1 and RM-MPU-9250A-00 rev 1.6
(6500/9250 register maps). FIFO sizes and the MPU-9255 id 0x73 are as in the Linux
``inv_mpu6050`` IIO driver (``hw_info``).

How the FIFO is run: accelerometer and gyroscope only (FIFO_EN = 0x78), 12-byte frames
``ax ay az gx gy gz`` (big-endian int16), so the FIFO holds 85 samples on the 6050 and only 42
on the 6500/9250 (42 ms at 1 kHz: read at least every ~30 ms at that rate).

Overflow is detected two ways per read (count, data, status: three transactions): a FIFO count
at capacity before the read (1024 and 512 are not multiples of 12, so a full FIFO has dropped
bytes, and the count stays at capacity once it overflowed), and INT_STATUS FIFO_OFLOW_INT after
the data read (an overflow during the read shifts the bytes, so the frames cannot be trusted).
The documents leave open whether the status bit latches without INT_ENABLE FIFO_OFLOW_EN, so the
driver sets it; reading INT_STATUS clears it. Recovery is a FIFO reset, so frames stay aligned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from wobble_trainer.hardware.imu import (
    FifoBatch,
    ImuConfig,
    ImuDriver,
    ImuError,
    ImuSettings,
    nearest,
)
from wobble_trainer.units import DEG, STANDARD_GRAVITY

# -- registers (RM-MPU-6000A-00 rev 4.2 / RM-MPU-6500A-00 / RM-MPU-9250A-00, by register number) ---
SMPLRT_DIV = 0x19  # reg 25: rate = internal rate / (1 + SMPLRT_DIV)
CONFIG = 0x1A  # reg 26: [6] FIFO_MODE (6500 family), [5:3] EXT_SYNC_SET, [2:0] DLPF_CFG
GYRO_CONFIG = 0x1B  # reg 27: [4:3] FS_SEL, [1:0] FCHOICE_B (6500 family)
ACCEL_CONFIG = 0x1C  # reg 28: [4:3] AFS_SEL
ACCEL_CONFIG2 = 0x1D  # reg 29 (6500 family only): [3] ACCEL_FCHOICE_B, [2:0] A_DLPF_CFG
FIFO_EN = 0x23  # reg 35: [7] TEMP, [6] XG, [5] YG, [4] ZG, [3] ACCEL
INT_ENABLE = 0x38  # reg 56: [4] FIFO_OFLOW_EN, [0] DATA_RDY_EN
INT_STATUS = 0x3A  # reg 58: [4] FIFO_OFLOW_INT, [0] DATA_RDY_INT; cleared when read
ACCEL_XOUT_H = 0x3B  # reg 59-64: accelerometer x, y, z, high byte first
TEMP_OUT_H = 0x41  # reg 65-66: temperature, high byte first
GYRO_XOUT_H = 0x43  # reg 67-72: gyroscope x, y, z, high byte first
USER_CTRL = 0x6A  # reg 106: [6] FIFO_EN, [2] FIFO_RESET (6050: only while FIFO_EN = 0)
PWR_MGMT_1 = 0x6B  # reg 107: [7] DEVICE_RESET, [6] SLEEP, [2:0] CLKSEL
FIFO_COUNTH = 0x72  # reg 114-115: byte count; reading the high byte latches both
FIFO_R_W = 0x74  # reg 116: FIFO data; a burst read keeps popping the FIFO
WHO_AM_I = 0x75  # reg 117

# -- bit fields ---------------------------------------------------------------------------------
PWR_DEVICE_RESET = 0x80  # reg 107 bit 7, clears itself when the reset is done
PWR_SLEEP = 0x40  # reg 107 bit 6
PWR_CLKSEL_PLL = 0x01  # reg 107 CLKSEL = 1: PLL with X gyro (6050), auto-select PLL (6500)
USER_FIFO_EN = 0x40  # reg 106 bit 6
USER_FIFO_RESET = 0x04  # reg 106 bit 2
INT_FIFO_OFLOW = 0x10  # reg 56 FIFO_OFLOW_EN and reg 58 FIFO_OFLOW_INT, bit 4
FIFO_ACCEL_GYRO = 0x78  # reg 35: XG | YG | ZG | ACCEL, no temperature, no slaves
FS_SHIFT = 3  # reg 27 FS_SEL and reg 28 AFS_SEL sit in bits 4:3

FRAME_BYTES = 12
"""One FIFO sample with FIFO_EN = 0x78: accel x, y, z then gyro x, y, z, int16 big-endian."""

INTERNAL_RATE_HZ = 1000.0
"""Internal sample rate with DLPF_CFG 1..6 (reg 25); the driver never uses the 8 kHz modes."""

ACCEL_RANGES_G = {2.0: 0, 4.0: 1, 8.0: 2, 16.0: 3}  # reg 28 AFS_SEL
# Sensitivity scale factors, product specifications (the same on the 6050, 6500 and 9250).
ACCEL_LSB_PER_G = {2.0: 16384.0, 4.0: 8192.0, 8.0: 4096.0, 16.0: 2048.0}
GYRO_RANGES_DPS = {250.0: 0, 500.0: 1, 1000.0: 2, 2000.0: 3}  # reg 27 FS_SEL
GYRO_LSB_PER_DPS = {250.0: 131.0, 500.0: 65.5, 1000.0: 32.8, 2000.0: 16.4}

ODR_BY_DIVIDER = {INTERNAL_RATE_HZ / (1 + div): div for div in range(256)}
"""Every output data rate the driver offers: 1000/(1 + SMPLRT_DIV) Hz, SMPLRT_DIV 0..255."""

# Reg 26 DLPF_CFG 1..6 → bandwidth (Hz). 6050: one setting for both sensors.
MPU6050_ACCEL_DLPF_HZ = {1: 184.0, 2: 94.0, 3: 44.0, 4: 21.0, 5: 10.0, 6: 5.0}
MPU6050_GYRO_DLPF_HZ = {1: 188.0, 2: 98.0, 3: 42.0, 4: 20.0, 5: 10.0, 6: 5.0}
# 6500 family: reg 26 (gyro, FCHOICE_B = 00) and reg 29 A_DLPF_CFG (accel, ACCEL_FCHOICE_B = 0).
MPU6500_GYRO_DLPF_HZ = {1: 184.0, 2: 92.0, 3: 41.0, 4: 20.0, 5: 10.0, 6: 5.0}
MPU6500_ACCEL_DLPF_HZ = {1: 218.1, 2: 99.0, 3: 44.8, 4: 21.2, 5: 10.2, 6: 5.05}

FIFO_BYTES = {"MPU-6050": 1024, "MPU-6500": 512, "MPU-9250": 512, "MPU-9255": 512}

RESET_WAIT_S = 0.1
"""Wait after DEVICE_RESET before the first access (Linux inv_mpu6050 waits 100 ms too)."""
RESET_POLL_S = 0.01
RESET_POLLS = 20
GYRO_STARTUP_S = 0.05
"""Wait after waking before the FIFO is started: gyro start-up is 30 ms (6050) / 35 ms (6500)
typical in the product specifications; earlier samples are not to be trusted."""


def choose_dlpf(table: dict[int, float], odr_hz: float, wanted_hz: float | None) -> int:
    """DLPF_CFG for a bandwidth: the nearest one to ``wanted_hz``, or with None the widest one
    below the Nyquist frequency ODR/2 (the narrowest when none is below it)."""
    if wanted_hz is not None:
        by_bandwidth = {bw: cfg for cfg, bw in table.items()}
        return by_bandwidth[nearest(by_bandwidth, wanted_hz)]
    below = {cfg: bw for cfg, bw in table.items() if bw < odr_hz / 2}
    if not below:
        return min(table, key=lambda cfg: table[cfg])
    return max(below, key=lambda cfg: below[cfg])


class Mpu6050Driver(ImuDriver):
    """MPU-6050 / 6500 / 9250 / 9255 accelerometer + gyroscope on one I2C address."""

    CHIP_FAMILY = "MPU-6050/6500/9250"
    ADDRESSES = (0x68, 0x69)
    ID_REGISTER = WHO_AM_I
    CHIP_IDS = {0x68: "MPU-6050", 0x70: "MPU-6500", 0x71: "MPU-9250", 0x73: "MPU-9255"}

    def __init__(
        self,
        bus: Any,
        address: int = 0x68,
        *,
        bus_number: int | str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if bus_number is None:
            bus_number = getattr(bus, "bus_number", "?")
        self._sleep = sleep
        super().__init__(bus, address, bus_number=bus_number)
        self.is_6500_family = self.chip_name != "MPU-6050"
        self.fifo_bytes = FIFO_BYTES[self.chip_name]
        self._accel_ms2_per_lsb = 0.0
        self._gyro_rads_per_lsb = 0.0

    # -- configuration ---------------------------------------------------------------------
    def reset(self) -> None:
        """Soft reset (PWR_MGMT_1 DEVICE_RESET) and wait until the chip reports it done."""
        self._write(PWR_MGMT_1, PWR_DEVICE_RESET)
        self._sleep(RESET_WAIT_S)
        for _ in range(RESET_POLLS):
            if not self._read(PWR_MGMT_1) & PWR_DEVICE_RESET:
                return
            self._sleep(RESET_POLL_S)
        raise ImuError(
            f"{self.chip_name} at bus {self.bus_number}, address 0x{self.address:02X}: "
            "DEVICE_RESET did not complete; power-cycle the sensor."
        )

    def configure(self, settings: ImuSettings) -> ImuConfig:
        odr_hz = nearest(ODR_BY_DIVIDER, settings.odr_hz)
        divider = ODR_BY_DIVIDER[odr_hz]
        accel_range = nearest(ACCEL_RANGES_G, settings.accel_range_g)
        gyro_range = nearest(GYRO_RANGES_DPS, settings.gyro_range_dps)
        if self.is_6500_family:
            gyro_cfg = choose_dlpf(MPU6500_GYRO_DLPF_HZ, odr_hz, settings.dlpf_hz)
            accel_cfg = choose_dlpf(MPU6500_ACCEL_DLPF_HZ, odr_hz, settings.dlpf_hz)
            gyro_bw = MPU6500_GYRO_DLPF_HZ[gyro_cfg]
            accel_bw = MPU6500_ACCEL_DLPF_HZ[accel_cfg]
        else:
            gyro_cfg = accel_cfg = choose_dlpf(MPU6050_GYRO_DLPF_HZ, odr_hz, settings.dlpf_hz)
            gyro_bw = MPU6050_GYRO_DLPF_HZ[gyro_cfg]
            accel_bw = MPU6050_ACCEL_DLPF_HZ[accel_cfg]

        self.reset()
        self._write(PWR_MGMT_1, PWR_CLKSEL_PLL)  # awake, gyro PLL clock (better than internal)
        self._write(SMPLRT_DIV, divider)
        self._write(CONFIG, gyro_cfg)  # DLPF_CFG in bits 2:0; FIFO_MODE 0, no FSYNC
        self._write(GYRO_CONFIG, GYRO_RANGES_DPS[gyro_range] << FS_SHIFT)  # FCHOICE_B = 00
        self._write(ACCEL_CONFIG, ACCEL_RANGES_G[accel_range] << FS_SHIFT)
        if self.is_6500_family:
            self._write(ACCEL_CONFIG2, accel_cfg)  # ACCEL_FCHOICE_B = 0: A_DLPF_CFG applies
        self._write(INT_ENABLE, INT_FIFO_OFLOW)
        self._write(FIFO_EN, FIFO_ACCEL_GYRO)
        self._sleep(GYRO_STARTUP_S)
        self.reset_fifo()

        self._accel_ms2_per_lsb = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel_range]
        self._gyro_rads_per_lsb = DEG / GYRO_LSB_PER_DPS[gyro_range]
        self.config = ImuConfig(
            chip=self.chip_name,
            odr_hz=odr_hz,
            accel_range_g=accel_range,
            gyro_range_dps=gyro_range,
            accel_dlpf_hz=accel_bw,
            gyro_dlpf_hz=gyro_bw,
            fifo_capacity_samples=self.fifo_bytes // FRAME_BYTES,
        )
        return self.config

    # -- FIFO ------------------------------------------------------------------------------
    def reset_fifo(self) -> None:
        # The 6050 honours FIFO_RESET only while USER_CTRL FIFO_EN is 0 (reg 106), so: stop,
        # reset, start. Reading INT_STATUS afterwards drops an overflow flag from before.
        self._write(USER_CTRL, 0x00)
        self._write(USER_CTRL, USER_FIFO_RESET)
        self._write(USER_CTRL, USER_FIFO_EN)
        self._read(INT_STATUS)

    def fifo_count(self) -> int:
        """Bytes in the FIFO (high byte first: reading it latches both, reg 114-115)."""
        high, low = self._read_block(FIFO_COUNTH, 2)
        if self.is_6500_family:
            high &= 0x1F  # FIFO_CNT[12:8]
        return (high << 8) | low

    def read_fifo(self) -> FifoBatch:
        if self.config is None:
            raise ImuError(f"{self.chip_name}: configure() before reading the FIFO")
        count = self.fifo_count()
        if count >= self.fifo_bytes:
            # 1024 and 512 are not multiples of 12: a full FIFO has dropped bytes (reg 116).
            return self._recover()
        frames = count // FRAME_BYTES  # a partial frame stays for the next read
        if frames == 0:
            return FifoBatch.empty()
        raw = self._read_block(FIFO_R_W, frames * FRAME_BYTES)
        if self._read(INT_STATUS) & INT_FIFO_OFLOW:
            # Bytes were dropped while we read: where the frames start is no longer known.
            return self._recover()
        counts = np.frombuffer(raw, dtype=">i2").reshape(frames, 6).astype(float)
        return FifoBatch(
            acc=counts[:, :3] * self._accel_ms2_per_lsb,
            gyr=counts[:, 3:] * self._gyro_rads_per_lsb,
        )

    def _recover(self) -> FifoBatch:
        self.reset_fifo()
        return FifoBatch.empty(overflowed=True)

    # -- other readings and power ----------------------------------------------------------
    def read_temperature_c(self) -> float:
        high, low = self._read_block(TEMP_OUT_H, 2)
        raw = int.from_bytes(bytes([high, low]), "big", signed=True)
        if self.is_6500_family:
            return raw / 333.87 + 21.0  # RM-MPU-6500A reg 65-66 (room-temperature offset 0)
        return raw / 340.0 + 36.53  # RM-MPU-6000A reg 65-66

    def power_down(self) -> None:
        self._write(USER_CTRL, 0x00)  # FIFO off
        self._write(PWR_MGMT_1, PWR_SLEEP)
