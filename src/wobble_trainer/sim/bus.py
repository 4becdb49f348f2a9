"""A drop-in for ``smbus2.SMBus`` whose devices are simulated IMU chips.

The real drivers run against it unchanged: same method names and signatures (byte, word, block
and ``i2c_rdwr`` with ``smbus2.i2c_msg``), same errors (``OSError`` with errno 121 when nothing
answers). Before every transaction the addressed chip is advanced to the bus clock, so a chip
fills its FIFO in real time with :class:`~wobble_trainer.clock.MonotonicClock`, or exactly as fast
as a test moves a :class:`~wobble_trainer.clock.ManualClock`.

Faults on demand, for testing recovery: :meth:`SimulatedBus.inject_nack`,
:meth:`~SimulatedBus.inject_io_error`, :meth:`~SimulatedBus.unplug` / :meth:`~SimulatedBus.replug`
(the chip comes back at power-on defaults), :meth:`~SimulatedBus.set_stuck` (transactions time
out) and the chip's own ``force_fifo_overflow``. Every write is logged in :attr:`writes` so tests
can compare a driver's configuration with the datasheet.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smbus2 import i2c_msg
from smbus2.smbus2 import I2C_M_RD

from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.sim.chip import ChipModel

STUCK_BUS_TIMEOUT_S = 0.025
"""How long a transaction on a stuck bus takes to fail (a controller timeout: tens of ms)."""


@dataclass(frozen=True)
class RegisterWrite:
    """One write as the chip saw it: address, first register and the bytes."""

    address: int
    register: int
    data: bytes


def _simulation_cost(method: Callable[..., Any]) -> Callable[..., Any]:
    """Count the CPU time a bus call spends simulating, in :attr:`SimulatedBus.sim_cpu_s`.

    On a Pi this work is done by the kernel, the I2C controller and the chip, so benchmarks
    report the sampler's own CPU without it.
    """

    @functools.wraps(method)
    def timed(self: SimulatedBus, *args: Any, **kwargs: Any) -> Any:
        if self._timing:
            return method(self, *args, **kwargs)
        self._timing = True
        started = time.thread_time()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.sim_cpu_s += time.thread_time() - started
            self._timing = False

    return timed


class SimulatedBus:
    """An I2C bus with simulated chips, duck-typed as ``smbus2.SMBus``."""

    def __init__(
        self,
        bus: int | str | None = 1,
        *,
        devices: dict[int, ChipModel] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.bus_number = bus
        self.clock = clock or MonotonicClock()
        self.devices: dict[int, ChipModel] = dict(devices or {})
        self.writes: list[RegisterWrite] = []
        self.transactions = 0
        self.sim_cpu_s = 0.0
        self._timing = False
        self._unplugged: set[int] = set()
        self._pending_errors: list[int] = []
        self._stuck = False
        self.closed = bus is None

    # -- context manager and open/close as smbus2 ------------------------------------------
    def open(self, bus: int | str) -> None:
        self.bus_number = bus
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> SimulatedBus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- faults ----------------------------------------------------------------------------
    def inject_nack(self, count: int = 1) -> None:
        """The next ``count`` transactions fail with OSError 121 (remote I/O error: NACK)."""
        self._pending_errors += [errno.EREMOTEIO] * count

    def inject_io_error(self, count: int = 1) -> None:
        """The next ``count`` transactions fail with OSError 5 (I/O error)."""
        self._pending_errors += [errno.EIO] * count

    def unplug(self, address: int | None = None) -> None:
        """The chip vanishes (every transaction NACKs) until :meth:`replug`."""
        self._unplugged.update(self.devices if address is None else [address])

    def replug(self, address: int | None = None) -> None:
        """The chip returns, powered on afresh: registers at defaults, FIFO off and empty."""
        addresses = set(self._unplugged) if address is None else {address}
        for a in addresses:
            self._unplugged.discard(a)
            self.devices[a].power_on_reset(self.clock.now())

    def set_stuck(self, stuck: bool = True) -> None:
        """A stuck bus (SDA held low): every transaction times out after a delay."""
        self._stuck = stuck

    # -- the core of every transaction -----------------------------------------------------
    def _device(self, address: int) -> ChipModel:
        if self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor: the bus is closed")
        self.transactions += 1
        if self._stuck:
            self.clock.sleep(STUCK_BUS_TIMEOUT_S)
            raise OSError(errno.ETIMEDOUT, "Connection timed out")
        if self._pending_errors:
            code = self._pending_errors.pop(0)
            raise OSError(code, _ERROR_TEXT[code])
        chip = self.devices.get(address)
        if chip is None or address in self._unplugged:
            raise OSError(errno.EREMOTEIO, _ERROR_TEXT[errno.EREMOTEIO])
        chip.advance_to(self.clock.now())
        return chip

    def _write(self, address: int, register: int, data: bytes) -> None:
        chip = self._device(address)
        self.writes.append(RegisterWrite(address, register, bytes(data)))
        chip.write(register, data)

    # -- smbus2.SMBus methods ----------------------------------------------------------------
    @_simulation_cost
    def write_quick(self, i2c_addr: int, force: bool | None = None) -> None:
        self._device(i2c_addr)

    @_simulation_cost
    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        chip = self._device(i2c_addr)
        return chip.read(chip_pointer(chip), 1)[0]

    @_simulation_cost
    def write_byte(self, i2c_addr: int, value: int, force: bool | None = None) -> None:
        chip = self._device(i2c_addr)
        chip.pointer = value  # a bare byte write sets the register pointer
        self.writes.append(RegisterWrite(i2c_addr, value, b""))

    @_simulation_cost
    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return self._device(i2c_addr).read(register, 1)[0]

    @_simulation_cost
    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value & 0xFF]))

    @_simulation_cost
    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        data = self._device(i2c_addr).read(register, 2)
        return data[0] | (data[1] << 8)  # SMBus words are little-endian on the wire

    @_simulation_cost
    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value & 0xFF, (value >> 8) & 0xFF]))

    @_simulation_cost
    def process_call(self, i2c_addr: int, register: int, value: int, force: bool | None = None):
        self.write_word_data(i2c_addr, register, value)
        return self.read_word_data(i2c_addr, register)

    @_simulation_cost
    def read_block_data(self, i2c_addr: int, register: int, force: bool | None = None) -> list[int]:
        chip = self._device(i2c_addr)
        count = min(chip.read(register, 1)[0], 32)
        return list(chip.read(register, count + 1)[1:])

    @_simulation_cost
    def write_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        self._check_block(data)
        self._write(i2c_addr, register, bytes([len(data), *data]))

    @_simulation_cost
    def block_process_call(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> list[int]:
        self.write_block_data(i2c_addr, register, data)
        return self.read_block_data(i2c_addr, register)

    @_simulation_cost
    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        if length > 32:
            raise ValueError("Desired block length over 32 bytes")
        return list(self._device(i2c_addr).read(register, length))

    @_simulation_cost
    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        self._check_block(data)
        self._write(i2c_addr, register, bytes(data))

    @_simulation_cost
    def i2c_rdwr(self, *i2c_msgs: i2c_msg) -> None:
        """Combined transactions: a write sets the register pointer (and writes any data after
        it); a read reads from the pointer with the chip's auto-increment."""
        pointer: int | None = None
        for msg in i2c_msgs:
            chip = self._device(msg.addr)
            if msg.flags & I2C_M_RD:
                start = pointer if pointer is not None else chip_pointer(chip)
                data = chip.read(start, msg.len)
                ctypes.memmove(msg.buf, data, len(data))
                pointer = None
            else:
                payload = bytes(msg)
                if not payload:
                    continue
                pointer = payload[0]
                chip.pointer = pointer
                if len(payload) > 1:
                    self.writes.append(RegisterWrite(msg.addr, pointer, payload[1:]))
                    chip.write(pointer, payload[1:])

    @staticmethod
    def _check_block(data: Any) -> None:
        if len(data) > 32:
            raise ValueError("Data length cannot exceed 32 bytes")


def chip_pointer(chip: ChipModel) -> int:
    """The register a chip's address pointer is at (set by the last bare write)."""
    return getattr(chip, "pointer", 0)


_ERROR_TEXT = {
    errno.EREMOTEIO: "Remote I/O error",
    errno.EIO: "Input/output error",
}
