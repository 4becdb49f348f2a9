"""Sampling logic: drain the chip's FIFO, stamp every sample on the chip's clock, survive faults.

:class:`SamplerCore` owns no thread and never sleeps: :meth:`SamplerCore.poll` is called every few
milliseconds by a runner (:mod:`wobble_trainer.sampling.runner`), or by a test with a manual clock.

Time base. The chip's output data rate is the clock: sample ``k`` after an anchor is stamped
``t_anchor + k·period``. The period starts at the nominal 1/ODR and follows the chip's real
rate: every :data:`DRIFT_WINDOW_S` the smallest delay between a read and the newest sample it
returned is compared with the previous window's, and the difference (the stamps running ahead
of or behind the monotonic clock) corrects the period. Host wake-up jitter only changes how many
samples a read returns, never their stamps.

Faults. A failed transaction is counted and retried on the next poll: the FIFO keeps the samples,
so nothing is lost. :data:`ERRORS_BEFORE_DISCONNECT` failures in a row, or a chip that stops
producing samples (it lost power and came back at its defaults), mean the chip is gone: the
sampler drops the driver and reopens it every :data:`RECONNECT_INTERVAL_S` until the chip answers,
is identified and configured again. Every interruption of the stream — FIFO overflow, reconnect,
clock resync — becomes a *gap*: the next sample carries ``gap_before`` (seconds missing) and
:attr:`SamplerStats.lost_samples` grows by the samples that time held. Nothing is ever silently
missing.
"""

from __future__ import annotations

import errno
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from wobble_trainer.clock import Clock
from wobble_trainer.hardware.imu import ImuConfig, ImuDriver, ImuError, ImuSettings
from wobble_trainer.sampling.samples import empty_samples, make_samples

ERRORS_BEFORE_DISCONNECT = 3
"""Consecutive failed polls after which the chip is taken as gone and reopened."""

RECONNECT_INTERVAL_S = 0.5
"""How often a gone chip is looked for again."""

STALL_PERIODS = 20
"""A running chip that produced nothing for this many sample periods (+ STALL_MARGIN_S) has
stalled: it lost power and came back at its defaults, which stops its FIFO."""

STALL_MARGIN_S = 0.1

DRIFT_WINDOW_S = 2.0
"""Length of the window over which stamps are compared with the monotonic clock."""

MAX_CLOCK_ERROR = 0.03
"""Largest believable chip clock error (datasheets: a few %); the period is kept within it."""

RESYNC_OFFSET_S = 0.25
"""Stamps further than this from the monotonic clock are re-anchored at once (counted)."""

TruthSource = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Simulator ground truth: times → (true pitch, true roll) in rad."""

DriverFactory = Callable[[], ImuDriver]


@dataclass
class SamplerStats:
    """Counters a person or a benchmark reads to judge the stream."""

    samples: int = 0
    lost_samples: int = 0
    gaps: int = 0
    fifo_overflows: int = 0
    i2c_errors: int = 0
    reconnects: int = 0
    stalls: int = 0
    resyncs: int = 0
    connected: bool = False
    clock_error_ppm: float = 0.0
    last_error: str = ""
    odr_hz: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Timebase:
    anchor_t: float
    period: float
    k: int = 0  # samples stamped since the anchor
    window_start: float = 0.0
    window_min_offset: float = math.inf
    previous_min_offset: float | None = None

    def stamps(self, n: int) -> np.ndarray:
        ks = self.k + 1 + np.arange(n)
        self.k += n
        return self.anchor_t + ks * self.period

    @property
    def last_stamp(self) -> float:
        return self.anchor_t + self.k * self.period


@dataclass
class SamplerCore:
    """Reads one IMU through its driver and turns FIFO batches into timestamped samples.

    ``open_driver`` builds a driver (and may raise ``OSError``/:class:`ImuError` when the chip is
    not there); the sampler calls it again to reconnect. ``truth`` adds simulator ground truth.
    """

    open_driver: DriverFactory
    settings: ImuSettings
    clock: Clock
    truth: TruthSource | None = None
    stats: SamplerStats = field(default_factory=SamplerStats)
    driver: ImuDriver | None = None
    config: ImuConfig | None = None
    _timebase: _Timebase | None = None
    _errors_in_row: int = 0
    _next_connect_at: float = -math.inf
    _last_sample_at: float = 0.0
    _pending_gap_from: float | None = None  # stamp of the last sample before an interruption

    # -- connection ------------------------------------------------------------------------
    def connect(self) -> bool:
        """Open and configure the chip; True when it is up. Failures are counted, not raised."""
        now = self.clock.now()
        self._next_connect_at = now + RECONNECT_INTERVAL_S
        try:
            driver = self.open_driver()
            config = driver.configure(self.settings)
        except (OSError, ImuError) as exc:
            self._record_error(exc)
            return False
        was_connected_before = self._timebase is not None
        self.driver, self.config = driver, config
        self.stats.connected = True
        self.stats.odr_hz = config.odr_hz
        self._errors_in_row = 0
        if was_connected_before:
            self.stats.reconnects += 1
        t = self.clock.now()
        self._anchor(t, 1.0 / config.odr_hz)
        self._last_sample_at = t
        return True

    def disconnect(self, reason: str) -> None:
        """Drop the driver (the chip is gone or wedged); reconnect attempts follow."""
        if self.driver is not None:
            self.driver.close()
        self.driver = None
        self.stats.connected = False
        self.stats.last_error = reason
        self._mark_interruption()
        self._next_connect_at = self.clock.now() + RECONNECT_INTERVAL_S

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
        self.driver = None
        self.stats.connected = False

    # -- the poll --------------------------------------------------------------------------
    def poll(self) -> np.ndarray:
        """Read what the chip has; return the new samples (a structured array, maybe empty)."""
        if self.driver is None:
            if self.clock.now() >= self._next_connect_at:
                self.connect()
            return empty_samples()
        try:
            batch = self.driver.read_fifo()
        except OSError as exc:
            self._record_error(exc)
            self._errors_in_row += 1
            if self._errors_in_row >= ERRORS_BEFORE_DISCONNECT:
                self.disconnect(f"{self._errors_in_row} I2C errors in a row ({exc})")
            return empty_samples()
        self._errors_in_row = 0
        t_read = self.clock.now()
        tb = self._timebase
        assert tb is not None
        if batch.overflowed:
            self.stats.fifo_overflows += 1
            self._mark_interruption()
            # The samples that survived are the newest: the last one was taken just now.
            self._anchor(t_read - len(batch) * tb.period, tb.period)
            tb = self._timebase
            assert tb is not None
        n = len(batch)
        if n == 0:
            if t_read - self._last_sample_at > STALL_PERIODS * tb.period + STALL_MARGIN_S:
                self.stats.stalls += 1
                self.disconnect("the sensor stopped delivering samples (power glitch?)")
            return empty_samples()
        self._last_sample_at = t_read
        stamps = tb.stamps(n)
        self._check_drift(t_read, float(stamps[-1]))
        if self.truth is not None:
            pitch, roll = self.truth(stamps)
            out = make_samples(stamps, batch.acc, batch.gyr, pitch, roll)
        else:
            out = make_samples(stamps, batch.acc, batch.gyr)
        if self._pending_gap_from is not None:
            gap = float(stamps[0]) - self._pending_gap_from - tb.period
            gap = max(gap, 0.0)
            out["gap_before"][0] = gap
            self.stats.gaps += 1
            self.stats.lost_samples += round(gap / tb.period)
            self._pending_gap_from = None
        self.stats.samples += n
        return out

    # -- internals ---------------------------------------------------------------------------
    def _record_error(self, exc: BaseException) -> None:
        if isinstance(exc, OSError):
            self.stats.i2c_errors += 1
            code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
            self.stats.last_error = f"I2C error {exc.errno} ({code}): {exc.strerror or exc}"
        else:
            self.stats.last_error = str(exc)

    def _mark_interruption(self) -> None:
        if self._timebase is not None and self._pending_gap_from is None and self.stats.samples:
            self._pending_gap_from = self._timebase.last_stamp

    def _anchor(self, t: float, period: float) -> None:
        # Keep stamps strictly increasing across re-anchoring.
        if self._timebase is not None:
            t = max(t, self._timebase.last_stamp)
        self._timebase = _Timebase(anchor_t=t, period=period, window_start=t)

    def _check_drift(self, t_read: float, newest_stamp: float) -> None:
        tb = self._timebase
        assert tb is not None and self.config is not None
        offset = t_read - newest_stamp  # ≥ 0 and small when the stamps follow the chip
        if abs(offset) > RESYNC_OFFSET_S:
            # The stamps ran away from the clock (the host was suspended, say). No sample is
            # missing, so this is a resync, not a gap.
            self.stats.resyncs += 1
            self._anchor(t_read, tb.period)
            return
        tb.window_min_offset = min(tb.window_min_offset, offset)
        if t_read - tb.window_start < DRIFT_WINDOW_S:
            return
        if tb.previous_min_offset is not None:
            # Offset growing: stamps fall behind real time, the chip runs slower than nominal.
            rate = (tb.window_min_offset - tb.previous_min_offset) / (t_read - tb.window_start)
            nominal = 1.0 / self.config.odr_hz
            period = tb.period * (1.0 + rate)
            period = min(
                max(period, nominal * (1 - MAX_CLOCK_ERROR)), nominal * (1 + MAX_CLOCK_ERROR)
            )
            # Re-anchor at the newest stamp so stamps stay continuous with the new period.
            previous_min = tb.window_min_offset
            self._timebase = _Timebase(anchor_t=newest_stamp, period=period, window_start=t_read)
            self._timebase.previous_min_offset = previous_min
            self.stats.clock_error_ppm = (nominal / period - 1.0) * 1e6
        else:
            tb.previous_min_offset = tb.window_min_offset
            tb.window_start = t_read
            tb.window_min_offset = math.inf
