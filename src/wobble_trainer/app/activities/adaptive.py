"""Adaptive difficulty: keep a person succeeding 70-85% of the time (DOMAIN.md §7).

People drop out when the challenge does not match their ability. Every game reports each attempt
(a marble holed or lost, a target reached or missed, a gate passed or clipped) to
:class:`AdaptiveDifficulty`, which raises the level after a run of successes above the band and
lowers it when success falls below, judged over the last :attr:`window` attempts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class AdaptiveDifficulty:
    level: int = 1
    min_level: int = 1
    max_level: int = 10
    low: float = 0.70
    high: float = 0.85
    window: int = 8
    """Attempts judged together; the history restarts after every change of level."""
    _results: deque[bool] = field(default_factory=deque, repr=False)
    changes: list[tuple[int, int]] = field(default_factory=list)
    """(attempt number, new level) for every change, for the results screen and tests."""
    attempts: int = 0
    successes: int = 0

    def __post_init__(self) -> None:
        if not self.min_level <= self.level <= self.max_level:
            raise ValueError("level must lie between min_level and max_level")
        if not 0.0 < self.low < self.high < 1.0:
            raise ValueError("the target band needs 0 < low < high < 1")

    @property
    def success_rate(self) -> float | None:
        """Over the whole game so far."""
        return self.successes / self.attempts if self.attempts else None

    def record(self, success: bool) -> int:
        """Count one attempt; returns the (possibly new) level."""
        self.attempts += 1
        self.successes += int(success)
        self._results.append(success)
        if len(self._results) > self.window:
            self._results.popleft()
        if len(self._results) == self.window:
            rate = sum(self._results) / self.window
            if rate > self.high and self.level < self.max_level:
                self._change(self.level + 1)
            elif rate < self.low and self.level > self.min_level:
                self._change(self.level - 1)
        return self.level

    def _change(self, level: int) -> None:
        self.level = level
        self.changes.append((self.attempts, level))
        self._results.clear()
