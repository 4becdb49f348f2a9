"""Keeping the sampler process running while the app runs.

The sampler's loop turns every 5 ms and counts its turns (``polls`` in the status block). When
the process has died, or its count has not moved for :data:`FROZEN_AFTER_S` (stopped, or stuck
in the kernel), :class:`SamplerSupervisor` restarts it (:meth:`SamplerRunner.restart
<wobble_trainer.sampling.runner.SamplerRunner.restart>`): the app calls :meth:`check` every
frame, so a dead or frozen sampler is replaced within :data:`FROZEN_AFTER_S` plus a frame. The
time missed is reported in the first new sample's ``gap_before`` (like any other gap) and in
:attr:`SamplerSupervisor.events`.

A new worker needs a few seconds to start (imports, probing the chip): it is given
:data:`START_GRACE_S` before it counts as frozen. A replay that reached its end is finished,
not dead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wobble_trainer.clock import Clock, MonotonicClock

FROZEN_AFTER_S = 1.0
"""A loop that has not turned for this long is frozen (it turns every 5 ms)."""

START_GRACE_S = 30.0
"""A freshly started worker may take this long to run its loop (a Zero 2 W imports slowly)."""

RETRY_AFTER_S = 2.0
"""After a restart, the next one waits at least this long (a worker that dies at once, say on a
broken chip, is not respawned every frame)."""


@dataclass(frozen=True)
class RestartEvent:
    """One restart: when (the supervisor's clock), why, and how long the loop had been still."""

    at: float
    reason: str
    silent_s: float


class SamplerSupervisor:
    """Restarts a dead or frozen sampler process; ``check()`` once per frame."""

    def __init__(
        self,
        runner: Any,
        clock: Clock | None = None,
        frozen_after_s: float = FROZEN_AFTER_S,
        start_grace_s: float = START_GRACE_S,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self.runner = runner
        self.clock = clock or MonotonicClock()
        self.frozen_after_s = frozen_after_s
        self.start_grace_s = start_grace_s
        self.retry_after_s = retry_after_s
        self.events: list[RestartEvent] = []
        now = self.clock.now()
        self._polls = -1.0
        self._moved_at = now
        self._started_at = now

    def check(self) -> RestartEvent | None:
        """Restart the sampler if it is dead or frozen; the restart, or None."""
        runner = self.runner
        if runner.mode != "process" or runner.pid is None:
            return None
        now = self.clock.now()
        stats = runner.stats()
        if stats.get("finished", 0.0) == 1.0:
            return None  # a replay that ended
        polls = float(stats.get("polls", 0.0))
        running = stats.get("alive", 0.0) == 1.0
        if polls != self._polls:
            self._polls, self._moved_at = polls, now
        reason = ""
        if not runner.is_alive():
            reason = "the sampler process died"
        elif running and now - self._moved_at > self.frozen_after_s:
            reason = f"the sampler loop has not turned for {now - self._moved_at:.1f} s"
        elif not running and now - self._started_at > self.start_grace_s:
            reason = f"the sampler did not start within {self.start_grace_s:.0f} s"
        if not reason or (self.events and now - self.events[-1].at < self.retry_after_s):
            return None
        event = RestartEvent(now, reason, now - self._moved_at)
        runner.restart(reason)
        self.events.append(event)
        self._polls, self._moved_at, self._started_at = -1.0, now, now
        return event
