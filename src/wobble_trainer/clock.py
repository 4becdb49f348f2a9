"""Clocks: the machine's monotonic clock, and a manual one that tests and fast simulation drive.

Everything that depends on time (the simulated chips, the sampler, game timers) takes a clock
object instead of calling :func:`time.monotonic` itself, so a test can run minutes of sampling in
milliseconds and get exactly the same answer every time.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of monotonic time in seconds, able to wait."""

    def now(self) -> float:
        """Seconds on a monotonic time base."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a manual clock simply advances)."""
        ...


class MonotonicClock:
    """The real clock: :func:`time.monotonic` and :func:`time.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to: ``sleep`` and ``advance`` move it forward."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (asked to advance {seconds} s)")
        self._now += seconds
