"""The part every simulated IMU chip shares: registers, auto-increment, a byte FIFO and sampling.

A chip model is what sits behind one I2C address of a :class:`~wobble_trainer.sim.bus.SimulatedBus`.
Time only moves for it when the bus touches it: :meth:`ChipModel.advance_to` then produces every
sample the chip would have produced since the last access, at the chip's own (slightly wrong,
``clock_ppm``) rate, from its :class:`~wobble_trainer.sim.motion.MotionSource`, through the
sensor-error model, the digital low-pass filter, range clipping and 16-bit quantisation — and hands
the counts to the family model, which updates its data registers and FIFO exactly as the datasheet
says.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from wobble_trainer.sim.motion import MotionSource
from wobble_trainer.sim.sensor_errors import ERROR_SPECS, SensorErrors


def quantise(values: np.ndarray, counts_per_unit: float) -> np.ndarray:
    """SI values to signed 16-bit counts: rounded, and clipped at full scale as the chip does."""
    counts = np.rint(values * counts_per_unit)
    return np.clip(counts, -32768, 32767).astype(np.int16)


class LowPass:
    """First-order low-pass per channel: the simulated chip's digital low-pass filter.

    A one-pole filter is a simplification of the chips' filters, enough to make the configured
    bandwidth visible (delay and attenuation) to the estimator and tests.
    """

    def __init__(self, channels: int) -> None:
        self._state: np.ndarray | None = None
        self._channels = channels

    def reset(self) -> None:
        self._state = None

    def apply(self, values: np.ndarray, cutoff_hz: float | None, rate_hz: float) -> np.ndarray:
        if cutoff_hz is None or cutoff_hz >= rate_hz / 2:
            self._state = values[-1].copy() if len(values) else self._state
            return values
        alpha = 1.0 - math.exp(-2.0 * math.pi * cutoff_hz / rate_hz)
        out = np.empty_like(values)
        state = values[0].copy() if self._state is None else self._state
        for i in range(len(values)):
            state = state + alpha * (values[i] - state)
            out[i] = state
        self._state = state
        return out


class ChipModel(ABC):
    """A register-accurate simulated IMU at one address.

    Subclasses define the register map: power-on defaults, what writes do, what reads return
    (FIFO pops, status registers), how the address auto-increments, and how a sample is laid out
    in the data registers and FIFO.
    """

    NAME: str = ""
    REGISTER_SPACE = 256

    def __init__(
        self,
        motion: MotionSource,
        *,
        errors: SensorErrors | None = None,
        seed: int = 0,
        clock_ppm: float = 0.0,
        start_time: float = 0.0,
    ) -> None:
        self.motion = motion
        self.errors = errors if errors is not None else SensorErrors(ERROR_SPECS[self.NAME], seed)
        self.clock_ppm = clock_ppm
        self.regs = bytearray(self.REGISTER_SPACE)
        self._accel_filter = LowPass(3)
        self._gyro_filter = LowPass(3)
        self.now = start_time
        self._next_sample_time: float | None = None
        self.samples_produced = 0
        self.power_on_reset(start_time)

    # -- time ------------------------------------------------------------------------------
    def power_on_reset(self, t: float) -> None:
        """Registers to their power-on values, FIFO empty, sampling stopped."""
        self.now = t
        self.regs[:] = bytes(self.REGISTER_SPACE)
        self._accel_filter.reset()
        self._gyro_filter.reset()
        self._next_sample_time = None
        self.reset_registers()

    def advance_to(self, t: float) -> None:
        """Produce every sample due up to time ``t`` (seconds on the bus clock)."""
        if t < self.now:
            return
        period = self.sample_period()
        if period is None:
            self._next_sample_time = None
            self.now = t
            return
        period *= 1.0 / (1.0 + self.clock_ppm * 1e-6)
        if self._next_sample_time is None:
            # The first sample after (re)starting comes one period after the start.
            self._next_sample_time = self.now + period
        if self._next_sample_time <= t:
            count = int((t - self._next_sample_time) / period) + 1
            times = self._next_sample_time + period * np.arange(count)
            self._next_sample_time = float(times[-1]) + period
            self._produce(times, 1.0 / period)
        self.now = t

    def _produce(self, times: np.ndarray, rate_hz: float) -> None:
        motion = self.motion.motion_at(times)
        accel_bw, gyro_bw = self.filter_bandwidths_hz()
        # White noise over the whole sampled band; the chip's filter below then shapes it, so the
        # noise that comes out follows the datasheet density and the configured bandwidth.
        acc, gyr = self.errors.apply(motion, times, rate_hz / 2.0)
        acc = self._accel_filter.apply(acc, accel_bw, rate_hz)
        gyr = self._gyro_filter.apply(gyr, gyro_bw, rate_hz)
        self.samples_produced += len(times)
        self.on_samples(times, acc, gyr, motion.temperature_c)

    # -- register access used by the bus -----------------------------------------------------
    def read(self, register: int, length: int) -> bytes:
        """Burst-read ``length`` bytes from ``register``, auto-incrementing as the chip does."""
        out = bytearray()
        reg = register
        for _ in range(length):
            out.append(self.read_register(reg) & 0xFF)
            reg = self.next_read_address(reg)
        return bytes(out)

    def write(self, register: int, data: bytes) -> None:
        """A burst write starting at ``register``."""
        reg = register
        for value in data:
            self.write_register(reg, value & 0xFF)
            reg = self.next_write_address(reg)

    def next_read_address(self, register: int) -> int:
        return (register + 1) % self.REGISTER_SPACE

    def next_write_address(self, register: int) -> int:
        return (register + 1) % self.REGISTER_SPACE

    def read_register(self, register: int) -> int:
        return self.regs[register]

    def write_register(self, register: int, value: int) -> None:
        self.regs[register] = value

    # -- what each family defines ----------------------------------------------------------
    @abstractmethod
    def reset_registers(self) -> None:
        """Set power-on register values and empty the FIFO (``regs`` is zeroed before)."""

    @abstractmethod
    def sample_period(self) -> float | None:
        """Seconds between samples at the current configuration; None while not sampling."""

    @abstractmethod
    def filter_bandwidths_hz(self) -> tuple[float, float]:
        """(accelerometer, gyroscope) digital low-pass bandwidths at the current configuration."""

    @abstractmethod
    def on_samples(
        self, times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, temperature_c: np.ndarray
    ) -> None:
        """Take new samples (SI, sensor frame, errors and filter applied): update the data
        registers to the newest one and push each into the FIFO as configured."""

    @abstractmethod
    def force_fifo_overflow(self) -> None:
        """Fill the FIFO past its capacity, as if nobody had read it for too long."""
