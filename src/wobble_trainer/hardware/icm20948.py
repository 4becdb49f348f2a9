"""Driver for the TDK InvenSense ICM-20948: accelerometer and gyroscope through the FIFO.

Register facts are from the datasheet DS-000189 rev 1.3 (section and table numbers beside each
constant). The AK09916 magnetometer behind the chip's auxiliary I2C master is not used.

Choices worth knowing:

- **Banks.** Registers live in four banks chosen by REG_BANK_SEL (0x7F in every bank). The driver
  remembers the bank it selected and only writes REG_BANK_SEL when it needs another one; after a bus
  error it forgets (the chip may have been power-cycled back to bank 0) and selects again. The
  chip-id check selects bank 0 first, so a chip left in bank 2 by a crashed program is recognised.
- **One rate for both sensors.** The datasheet gives the gyro rate as
  1.1 kHz / (1 + GYRO_SMPLRT_DIV) in the register text (§10.1) but 1.125 kHz in Table 16, and
  the accelerometer 1.125 kHz / (1 + ACCEL_SMPLRT_DIV) (§10.11, Table 18). Parts measure
  1.125 kHz for the gyro too (a 125 Hz request computed with 1100 came out at 140 Hz:
  pimoroni/icm20948-python issue #17). The driver writes the *same* divider to both, so both
  sensors run at 1125 / (1 + div) Hz from the same internal clock, ODR_ALIGN_EN lines up their
  start times, and every FIFO frame (written at the gyro rate, §10.1) carries a fresh accel and
  gyro sample: 12 bytes, accel x y z then gyro x y z, big-endian. The reported ODR is
  1125 / (1 + div).
- **Filters.** Gyro DLPFCFG 0 and 7 are not used: the divider is documented to act only for
  0 < GYRO_DLPFCFG < 7 (§10.1 note). Both DLPFs stay on (FCHOICE = 1), which is what makes the
  1.125 kHz base rate and the divider apply.
- **FIFO size.** The datasheet text says 512 bytes; parts hold 4096 (FIFO_CNT is 13 bits wide and
  a fill-until-full test counted 4096). The capacity reported is the datasheet's guaranteed
  512 bytes (42 frames, 37 ms at 1125 Hz), so a sampler that trusts it reads early enough on
  any part.
- **Overflow.** The FIFO is in stream mode: when full, new bytes replace the oldest byte by byte,
  so after an overflow the frame boundary is lost (4096 is not a multiple of 12). read_fifo checks
  INT_STATUS_2.FIFO_OVERFLOW_INT first and on overflow resets the FIFO and reports
  ``overflowed=True`` with no samples rather than returning misaligned garbage.
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

# -- bank select (every bank) -----------------------------------------------------------------
REG_BANK_SEL = 0x7F
"""§8.65 / 9.x / 10.x: USER_BANK[1:0] in bits 5:4, same address in every bank."""
BANK_SHIFT = 4

# -- user bank 0 (§8) -------------------------------------------------------------------------
B0_WHO_AM_I = 0x00
"""§8.1: reads 0xEA."""
B0_USER_CTRL = 0x03
"""§8.2: bit 6 FIFO_EN (FIFO operation), bit 5 I2C_MST_EN, bit 7 DMP_EN."""
B0_PWR_MGMT_1 = 0x06
"""§8.4: bit 7 DEVICE_RESET (self-clearing), bit 6 SLEEP, bit 3 TEMP_DIS, bits 2:0 CLKSEL;
reset value 0x41."""
B0_INT_STATUS_2 = 0x1B
"""§8.13: bits 4:0 FIFO_OVERFLOW_INT, cleared on read."""
B0_ACCEL_XOUT_H = 0x2D
"""§8.19-8.24: ACCEL_X/Y/ZOUT_H/L, big-endian two's complement."""
B0_GYRO_XOUT_H = 0x33
"""§8.25-8.30: GYRO_X/Y/ZOUT_H/L, big-endian."""
B0_TEMP_OUT_H = 0x39
"""§8.31-8.32: TEMP_OUT_H/L, big-endian."""
B0_FIFO_EN_2 = 0x67
"""§8.57: bit 4 ACCEL_FIFO_EN, bits 3/2/1 GYRO_Z/Y/X_FIFO_EN, bit 0 TEMP_FIFO_EN."""
B0_FIFO_RST = 0x68
"""§8.58: FIFO_RESET[4:0]; assert then de-assert to empty the FIFO."""
B0_FIFO_MODE = 0x69
"""§8.59: bit 0: 0 = stream (oldest data replaced), 1 = snapshot; reset value 0 (stream)."""
B0_FIFO_COUNTH = 0x70
"""§8.60-8.61: FIFO_CNT[12:8] then FIFO_CNT[7:0]; reading COUNTH latches both."""
B0_FIFO_R_W = 0x72
"""§8.62: FIFO data; a burst read keeps popping it."""

# -- user bank 2 (§10) ------------------------------------------------------------------------
B2_GYRO_SMPLRT_DIV = 0x00
"""§10.1: gyro ODR = 1.125 kHz / (1 + div) (see module docstring about the text's 1.1 kHz)."""
B2_GYRO_CONFIG_1 = 0x01
"""§10.2: bits 5:3 GYRO_DLPFCFG, bits 2:1 GYRO_FS_SEL, bit 0 GYRO_FCHOICE; reset 0x01."""
B2_ODR_ALIGN_EN = 0x09
"""§10.10: bit 0: align sensor ODR start times when a divider register is written."""
B2_ACCEL_SMPLRT_DIV_1 = 0x10
"""§10.11: ACCEL_SMPLRT_DIV[11:8]."""
B2_ACCEL_SMPLRT_DIV_2 = 0x11
"""§10.12: ACCEL_SMPLRT_DIV[7:0]; accel ODR = 1.125 kHz / (1 + div)."""
B2_ACCEL_CONFIG = 0x14
"""§10.15: bits 5:3 ACCEL_DLPFCFG, bits 2:1 ACCEL_FS_SEL, bit 0 ACCEL_FCHOICE; reset 0x01."""

# -- bit values -------------------------------------------------------------------------------
CHIP_ID = 0xEA
PWR_DEVICE_RESET = 0x80
PWR_SLEEP = 0x40
CLKSEL_AUTO = 0x01
"""CLKSEL = 1: PLL when ready, else internal oscillator; needed for full gyro performance (§8.4)."""
USER_CTRL_FIFO_EN = 0x40
FIFO_EN_ACCEL_GYRO = 0x10 | 0x08 | 0x04 | 0x02
"""ACCEL + GYRO_Z/Y/X, no temperature: a 12-byte frame ax ay az gx gy gz (register order)."""
FIFO_RESET_ALL = 0x1F
FIFO_OVERFLOW_MASK = 0x1F
FCHOICE_DLPF_ON = 0x01

FRAME_BYTES = 12
FIFO_SIZE_BYTES = 512
"""Datasheet FIFO size (parts hold 4096 bytes; see the module docstring)."""

BASE_RATE_HZ = 1125.0
"""Internal sample rate of gyro and accel with their DLPF on (Tables 16 and 18)."""
MAX_DIVIDER = 255
"""GYRO_SMPLRT_DIV is 8 bits (ACCEL_SMPLRT_DIV has 12, but both get the same value)."""

ACCEL_RANGES_G: dict[float, int] = {2.0: 0, 4.0: 1, 8.0: 2, 16.0: 3}
"""Full scale ±g → ACCEL_FS_SEL (Table 2, §10.15)."""
ACCEL_LSB_PER_G = {0: 16384.0, 1: 8192.0, 2: 4096.0, 3: 2048.0}
"""ACCEL_FS_SEL → sensitivity (Table 2)."""
GYRO_RANGES_DPS: dict[float, int] = {250.0: 0, 500.0: 1, 1000.0: 2, 2000.0: 3}
"""Full scale ±°/s → GYRO_FS_SEL (Table 1, §10.2)."""
GYRO_LSB_PER_DPS = {0: 131.0, 1: 65.5, 2: 32.8, 3: 16.4}
"""GYRO_FS_SEL → sensitivity (Table 1)."""

GYRO_DLPF_HZ: dict[float, int] = {151.8: 1, 119.5: 2, 51.2: 3, 23.9: 4, 11.6: 5, 5.7: 6}
"""Gyro 3 dB bandwidth → GYRO_DLPFCFG with FCHOICE = 1 (Table 16); 0 (196.6 Hz) and 7 (361.4 Hz)
left out because the divider only acts for 0 < GYRO_DLPFCFG < 7."""
ACCEL_DLPF_HZ: dict[float, int] = {
    473.0: 7,
    246.0: 1,
    111.4: 2,
    50.4: 3,
    23.9: 4,
    11.5: 5,
    5.7: 6,
}
"""Accel 3 dB bandwidth → ACCEL_DLPFCFG with FCHOICE = 1 (Table 18; 0 duplicates 1)."""

TEMP_LSB_PER_C = 333.87
TEMP_ROOM_OFFSET_C = 21.0
"""TEMP_degC = TEMP_OUT / 333.87 + 21 (§8.31, RoomTemp_Offset = 0)."""

RESET_WAIT_S = 0.010
"""First wait after DEVICE_RESET before polling it (the datasheet gives no reset time)."""
RESET_POLL_S = 0.001
RESET_TIMEOUT_S = 0.100
"""Give up if DEVICE_RESET has not cleared by then (the register start-up time is ≤ 100 ms)."""
STARTUP_S = 0.035
"""Wait after leaving sleep before starting the FIFO: gyro start-up 35 ms (Table 1), accel 20 ms
(Table 2)."""


def divider_for(odr_hz: float) -> int:
    """The sample-rate divider whose rate 1125 / (1 + div) is nearest to ``odr_hz``."""
    if odr_hz <= 0:
        raise ValueError(f"output data rate must be positive, got {odr_hz}")
    guess = max(0, min(MAX_DIVIDER, round(BASE_RATE_HZ / odr_hz) - 1))
    candidates = {d for d in (guess - 1, guess, guess + 1) if 0 <= d <= MAX_DIVIDER}
    return min(candidates, key=lambda d: (abs(BASE_RATE_HZ / (1 + d) - odr_hz), d))


def _dlpf_choice(options: dict[float, int], wanted: float | None, odr_hz: float) -> float:
    """The wanted bandwidth's nearest option, or the widest one below ODR/2 when none is wanted."""
    if wanted is not None:
        return nearest(options, wanted)
    below = [bw for bw in options if bw < odr_hz / 2]
    return max(below) if below else min(options)


class ICM20948Driver(ImuDriver):
    """ICM-20948 accelerometer + gyroscope on one I2C address (0x68 with AD0 low, 0x69 high)."""

    CHIP_FAMILY = "ICM-20948"
    ADDRESSES = (0x68, 0x69)
    ID_REGISTER = B0_WHO_AM_I
    CHIP_IDS = {CHIP_ID: "ICM-20948"}

    def __init__(
        self,
        bus: Any,
        address: int = 0x68,
        *,
        bus_number: int | str = "?",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self._bank: int | None = None
        """The bank REG_BANK_SEL holds, as far as the driver knows (None: unknown)."""
        self._accel_scale = 0.0
        self._gyro_scale = 0.0
        super().__init__(bus, address, bus_number=bus_number)

    # -- chip id ---------------------------------------------------------------------------------
    def _check_chip_id(self) -> str:
        # Whatever bank a previous program left selected, WHO_AM_I is only at 0x00 in bank 0.
        self._select_bank(0, force=True)
        return super()._check_chip_id()

    @classmethod
    def read_id(cls, bus: Any, address: int) -> int:
        """WHO_AM_I of whatever answers at ``address``, touching it as little as possible.

        Reads 0x00 first; only if that is not the ICM id and 0x7F looks like an ICM bank select
        left on another bank (bits 5:4 set, nothing else) does it select bank 0 and read again,
        so probing an address with some other chip on it writes nothing.
        """
        value = bus.read_byte_data(address, B0_WHO_AM_I)
        if value == CHIP_ID:
            return value
        bank_sel = bus.read_byte_data(address, REG_BANK_SEL)
        if bank_sel & 0x30 and not bank_sel & 0xCF:
            bus.write_byte_data(address, REG_BANK_SEL, 0)
            value = bus.read_byte_data(address, B0_WHO_AM_I)
        return value

    # -- banked register access --------------------------------------------------------------------
    def _guarded(self, action: Callable[[], Any]) -> Any:
        """Run a bus transaction; on a bus error forget the bank (the chip may have restarted)."""
        try:
            return action()
        except OSError:
            self._bank = None
            raise

    def _select_bank(self, bank: int, *, force: bool = False) -> None:
        if force or self._bank != bank:
            self._guarded(lambda: ImuDriver._write(self, REG_BANK_SEL, bank << BANK_SHIFT))
            self._bank = bank

    def _read_in(self, bank: int, register: int) -> int:
        self._select_bank(bank)
        return self._guarded(lambda: ImuDriver._read(self, register))

    def _write_in(self, bank: int, register: int, value: int) -> None:
        self._select_bank(bank)
        self._guarded(lambda: ImuDriver._write(self, register, value))

    def _read_block_in(self, bank: int, register: int, length: int) -> bytes:
        self._select_bank(bank)
        return self._guarded(lambda: ImuDriver._read_block(self, register, length))

    # -- reset and configuration --------------------------------------------------------------
    def reset(self) -> None:
        """Soft reset (all registers to defaults, bank 0, asleep) and wait until it has finished."""
        self._write_in(0, B0_PWR_MGMT_1, PWR_DEVICE_RESET)
        self._bank = 0  # DEVICE_RESET restores REG_BANK_SEL to 0
        self._sleep(RESET_WAIT_S)
        waited = RESET_WAIT_S
        while self._read_in(0, B0_PWR_MGMT_1) & PWR_DEVICE_RESET:
            if waited >= RESET_TIMEOUT_S:
                raise ImuError(
                    f"{self.CHIP_FAMILY} at bus {self.bus_number}, address 0x{self.address:02X}: "
                    f"soft reset did not finish within {RESET_TIMEOUT_S * 1000:.0f} ms"
                )
            self._sleep(RESET_POLL_S)
            waited += RESET_POLL_S

    def configure(self, settings: ImuSettings) -> ImuConfig:
        """Reset, wake, set rate/ranges/filters (bank 2), then start the FIFO empty (bank 0)."""
        divider = divider_for(settings.odr_hz)
        odr_hz = BASE_RATE_HZ / (1 + divider)
        accel_range = nearest(ACCEL_RANGES_G, settings.accel_range_g)
        gyro_range = nearest(GYRO_RANGES_DPS, settings.gyro_range_dps)
        accel_dlpf = _dlpf_choice(ACCEL_DLPF_HZ, settings.dlpf_hz, odr_hz)
        gyro_dlpf = _dlpf_choice(GYRO_DLPF_HZ, settings.dlpf_hz, odr_hz)
        accel_fs, gyro_fs = ACCEL_RANGES_G[accel_range], GYRO_RANGES_DPS[gyro_range]

        self.reset()
        # Wake with the auto clock; accel and gyro are on by default (PWR_MGMT_2 = 0 after reset).
        self._write_in(0, B0_PWR_MGMT_1, CLKSEL_AUTO)

        self._write_in(2, B2_ODR_ALIGN_EN, 0x01)
        self._write_in(2, B2_GYRO_SMPLRT_DIV, divider)
        self._write_in(
            2, B2_GYRO_CONFIG_1, (GYRO_DLPF_HZ[gyro_dlpf] << 3) | (gyro_fs << 1) | FCHOICE_DLPF_ON
        )
        self._write_in(2, B2_ACCEL_SMPLRT_DIV_1, (divider >> 8) & 0x0F)
        self._write_in(2, B2_ACCEL_SMPLRT_DIV_2, divider & 0xFF)
        self._write_in(
            2, B2_ACCEL_CONFIG, (ACCEL_DLPF_HZ[accel_dlpf] << 3) | (accel_fs << 1) | FCHOICE_DLPF_ON
        )

        # Let the sensors start up so the first FIFO frame holds settled data.
        self._sleep(STARTUP_S)
        # FIFO_MODE is 0 (stream) after the reset: no write needed.
        self._write_in(0, B0_FIFO_EN_2, FIFO_EN_ACCEL_GYRO)
        self._write_in(0, B0_USER_CTRL, USER_CTRL_FIFO_EN)
        self.reset_fifo()

        self._accel_scale = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel_fs]
        self._gyro_scale = DEG / GYRO_LSB_PER_DPS[gyro_fs]
        self.config = ImuConfig(
            chip=self.chip_name,
            odr_hz=odr_hz,
            accel_range_g=accel_range,
            gyro_range_dps=gyro_range,
            accel_dlpf_hz=accel_dlpf,
            gyro_dlpf_hz=gyro_dlpf,
            fifo_capacity_samples=FIFO_SIZE_BYTES // FRAME_BYTES,
        )
        return self.config

    # -- FIFO -----------------------------------------------------------------------------------
    def reset_fifo(self) -> None:
        """Empty the FIFO (assert and release FIFO_RST) and clear a pending overflow flag."""
        self._write_in(0, B0_FIFO_RST, FIFO_RESET_ALL)
        self._write_in(0, B0_FIFO_RST, 0x00)
        self._read_in(0, B0_INT_STATUS_2)  # clear-on-read

    def read_fifo(self) -> FifoBatch:
        """Drain whole frames; after an overflow reset the FIFO and report it with no samples."""
        if self.config is None:
            raise ImuError(f"{self.CHIP_FAMILY}: configure() before read_fifo()")
        if self._read_in(0, B0_INT_STATUS_2) & FIFO_OVERFLOW_MASK:
            # Stream mode overwrote the oldest bytes: frame boundaries are gone, start afresh.
            self.reset_fifo()
            return FifoBatch.empty(overflowed=True)
        high, low = self._read_block_in(0, B0_FIFO_COUNTH, 2)
        count = ((high & 0x1F) << 8) | low
        frames = count // FRAME_BYTES
        if frames == 0:
            return FifoBatch.empty()
        # A partial frame (count not a multiple of 12) stays in the FIFO for the next read.
        data = self._read_block_in(0, B0_FIFO_R_W, frames * FRAME_BYTES)
        counts = np.frombuffer(data, dtype=">i2").reshape(frames, 6).astype(float)
        return FifoBatch(
            acc=counts[:, :3] * self._accel_scale, gyr=counts[:, 3:] * self._gyro_scale
        )

    # -- other readings and power ---------------------------------------------------------------
    def read_temperature_c(self) -> float:
        high, low = self._read_block_in(0, B0_TEMP_OUT_H, 2)
        raw = int.from_bytes(bytes([high, low]), "big", signed=True)
        return raw / TEMP_LSB_PER_C + TEMP_ROOM_OFFSET_C

    def power_down(self) -> None:
        """FIFO off and full-chip sleep (8 µA, Table 4)."""
        self._write_in(0, B0_USER_CTRL, 0x00)
        self._write_in(0, B0_PWR_MGMT_1, PWR_SLEEP | CLKSEL_AUTO)
