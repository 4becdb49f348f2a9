"""What every IMU driver shares: settings, the FIFO batch record, errors and bus helpers.

A driver talks to one chip through an injected bus object with the ``smbus2.SMBus`` interface (a
real ``SMBus(1)`` on a Pi, :class:`wobble_trainer.sim.bus.SimulatedBus` everywhere else). It checks
the chip id when constructed, configures rate, ranges and filter, runs the chip's FIFO and hands
out samples in SI units (m/s², rad/s). Drivers never sleep on their own clock and never loop: the
sampler decides when to read.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from smbus2 import i2c_msg

SMBUS_BLOCK_LIMIT = 32
"""smbus2's ``read_i2c_block_data`` moves at most 32 bytes; longer bursts use ``i2c_rdwr``."""

I2C_RDWR_CHUNK = 4096
"""Bytes per ``i2c_rdwr`` read message: far below the kernel's 8192-byte message limit."""


class ImuError(Exception):
    """Base class of IMU errors that a person can act on."""


class ChipIdError(ImuError):
    """The chip at an address did not answer with the id of the chip the driver drives."""

    def __init__(self, chip: str, bus: int | str, address: int, id_read: int, expected: str):
        self.chip = chip
        self.bus = bus
        self.address = address
        self.id_read = id_read
        super().__init__(
            f"{chip}: chip id 0x{id_read:02X} at bus {bus}, address 0x{address:02X} "
            f"(expected {expected}). Check that the right chip is wired to this address, or run "
            "`wobble detect` to see what is there."
        )


@dataclass(frozen=True)
class ImuSettings:
    """What the sampler asks of a chip; the driver picks the nearest setting the chip has."""

    odr_hz: float = 1000.0
    """Output data rate wanted, Hz."""
    accel_range_g: float = 8.0
    """Accelerometer full scale, ±g: 8 g keeps stepping on and off the board unclipped."""
    gyro_range_dps: float = 500.0
    """Gyroscope full scale, ±°/s: a wobble board rarely exceeds 200 °/s."""
    dlpf_hz: float | None = None
    """Digital low-pass bandwidth wanted; None lets the driver pick the widest one below ODR/2."""


@dataclass(frozen=True)
class ImuConfig:
    """What a chip was actually configured to (after :meth:`ImuDriver.configure`)."""

    chip: str
    odr_hz: float
    accel_range_g: float
    gyro_range_dps: float
    accel_dlpf_hz: float
    gyro_dlpf_hz: float
    fifo_capacity_samples: int
    """How many complete samples (accel + gyro) the FIFO holds before it overflows."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "chip": self.chip,
            "odr_hz": self.odr_hz,
            "accel_range_g": self.accel_range_g,
            "gyro_range_dps": self.gyro_range_dps,
            "accel_dlpf_hz": self.accel_dlpf_hz,
            "gyro_dlpf_hz": self.gyro_dlpf_hz,
            "fifo_capacity_samples": self.fifo_capacity_samples,
        }


@dataclass
class FifoBatch:
    """Samples drained from the FIFO in one read, oldest first, in SI units."""

    acc: np.ndarray
    """(n, 3) specific force, m/s², sensor frame."""
    gyr: np.ndarray
    """(n, 3) angular rate, rad/s, sensor frame."""
    overflowed: bool = False
    """The FIFO overflowed before this read: samples were lost before the first one here."""

    def __len__(self) -> int:
        return len(self.acc)

    @staticmethod
    def empty(overflowed: bool = False) -> FifoBatch:
        return FifoBatch(np.zeros((0, 3)), np.zeros((0, 3)), overflowed)


def nearest(options: dict[float, Any] | list[float], wanted: float) -> float:
    """The option closest to ``wanted`` (ties go to the larger one)."""
    keys = list(options)
    return min(keys, key=lambda k: (abs(k - wanted), -k))


class ImuDriver(ABC):
    """One IMU chip on one I2C bus address. Subclasses implement a chip family.

    The bus object is injected and not owned: closing the driver powers the chip down but leaves
    the bus open for whoever created it.
    """

    CHIP_FAMILY: str = ""
    ADDRESSES: tuple[int, ...] = ()
    ID_REGISTER: int = 0
    CHIP_IDS: dict[int, str] = {}
    """Id register value → chip name, for the chips this driver supports."""

    def __init__(self, bus: Any, address: int, *, bus_number: int | str = "?") -> None:
        self.bus = bus
        self.address = address
        self.bus_number = bus_number
        self.chip_name = self._check_chip_id()
        self.config: ImuConfig | None = None

    def _check_chip_id(self) -> str:
        id_read = self.read_id(self.bus, self.address)
        if id_read not in self.CHIP_IDS:
            expected = " or ".join(f"0x{k:02X} ({v})" for k, v in self.CHIP_IDS.items())
            raise ChipIdError(self.CHIP_FAMILY, self.bus_number, self.address, id_read, expected)
        return self.CHIP_IDS[id_read]

    @classmethod
    def read_id(cls, bus: Any, address: int) -> int:
        """Read the id register (raises OSError when nothing answers)."""
        return bus.read_byte_data(address, cls.ID_REGISTER)

    # -- register access -------------------------------------------------------------------
    def _read(self, register: int) -> int:
        return self.bus.read_byte_data(self.address, register)

    def _write(self, register: int, value: int) -> None:
        self.bus.write_byte_data(self.address, register, value & 0xFF)

    def _read_block(self, register: int, length: int) -> bytes:
        """Read ``length`` bytes from ``register`` on (one burst; auto-increment is the chip's)."""
        if length <= SMBUS_BLOCK_LIMIT:
            return bytes(self.bus.read_i2c_block_data(self.address, register, length))
        return read_burst(self.bus, self.address, register, length)

    # -- what each family implements -------------------------------------------------------
    @abstractmethod
    def configure(self, settings: ImuSettings) -> ImuConfig:
        """Reset the chip, set rate, ranges and filter, and start the FIFO empty."""

    @abstractmethod
    def reset_fifo(self) -> None:
        """Empty the FIFO and clear its overflow state."""

    @abstractmethod
    def read_fifo(self) -> FifoBatch:
        """Drain the complete samples in the FIFO (partial ones stay for the next read)."""

    @abstractmethod
    def read_temperature_c(self) -> float:
        """Die temperature, °C."""

    @abstractmethod
    def power_down(self) -> None:
        """Put the chip in its lowest-power state."""

    def close(self) -> None:
        """Power the chip down; an unplugged chip is not an error here."""
        with contextlib.suppress(OSError):
            self.power_down()

    def __enter__(self) -> ImuDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_burst(bus: Any, address: int, register: int, length: int) -> bytes:
    """Read more than 32 bytes from ``register`` with combined write-then-read ``i2c_rdwr``.

    Each chunk restarts at ``register``: used for FIFO data registers, where the chip keeps
    popping the FIFO (MPU FIFO_R_W) or wraps its address pointer back (LSM6DS FIFO output).
    """
    out = bytearray()
    while len(out) < length:
        n = min(I2C_RDWR_CHUNK, length - len(out))
        write = i2c_msg.write(address, [register])
        read = i2c_msg.read(address, n)
        bus.i2c_rdwr(write, read)
        out += bytes(read)
    return bytes(out)
