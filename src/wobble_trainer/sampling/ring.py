"""A bounded buffer of samples in shared memory: one writer (the sampler), many readers.

Overrun policy: the writer never waits. When a reader falls more than :attr:`SampleRing.capacity`
samples behind, the oldest samples it had not read are overwritten; its next
:meth:`RingReader.read_new` returns what is still there, counts the lost ones in
:attr:`RingReader.overruns` and marks the jump as a gap on the first sample returned, so a
slow consumer sees a reported gap, never a silent one. A reader that only wants the present
(the display, every frame) calls :meth:`SampleRing.latest`, which costs one row copy.

The ring lives in :mod:`multiprocessing.shared_memory` so the sampler can run in its own process
(a sampler thread beside a busy pygame loop is late by tens of ms: DOMAIN.md §4); it works the
same within one process.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from wobble_trainer.sampling.samples import SAMPLE_DTYPE, empty_samples

_HEADER = np.dtype("u8")  # total samples written


@dataclass
class RingHandle:
    """What another process needs to attach to a ring (picklable)."""

    name: str
    capacity: int
    lock: Any


class SampleRing:
    """Fixed-capacity ring of :data:`SAMPLE_DTYPE` rows with a total-written counter."""

    def __init__(self, capacity: int, *, handle: RingHandle | None = None) -> None:
        size = _HEADER.itemsize + capacity * SAMPLE_DTYPE.itemsize
        if handle is None:
            self._shm = shared_memory.SharedMemory(create=True, size=size)
            self._owner = True
            self._lock = mp.get_context("spawn").Lock()
        else:
            self._shm = shared_memory.SharedMemory(name=handle.name)
            self._owner = False
            self._lock = handle.lock
        self.capacity = capacity
        buf = self._shm.buf
        self._header = np.ndarray((1,), dtype=_HEADER, buffer=buf[: _HEADER.itemsize])
        self._rows = np.ndarray(
            (capacity,), dtype=SAMPLE_DTYPE, buffer=buf[_HEADER.itemsize : size]
        )
        if self._owner:
            self._header[0] = 0

    @property
    def handle(self) -> RingHandle:
        return RingHandle(self._shm.name, self.capacity, self._lock)

    @property
    def written(self) -> int:
        """Samples written since the ring was made."""
        return int(self._header[0])

    def write(self, samples: np.ndarray) -> None:
        """Append samples; never blocks beyond a copy under the lock."""
        total = len(samples)
        if total == 0:
            return
        # Rows that would be overwritten within this very batch are skipped, but still counted,
        # so readers see them as overrun rather than silently missing.
        skipped = max(0, total - self.capacity)
        samples = samples[skipped:]
        n = len(samples)
        with self._lock:
            start = (self.written + skipped) % self.capacity
            first = min(n, self.capacity - start)
            self._rows[start : start + first] = samples[:first]
            if first < n:
                self._rows[: n - first] = samples[first:]
            self._header[0] += total

    def latest(self) -> np.ndarray | None:
        """The newest sample (a 0-d structured array copy), or None before the first one."""
        with self._lock:
            written = self.written
            if written == 0:
                return None
            return self._rows[(written - 1) % self.capacity].copy()

    def read_range(self, start: int, stop: int) -> np.ndarray:
        """Copy samples with absolute indices [start, stop) (caller checks they are still held)."""
        n = stop - start
        if n <= 0:
            return empty_samples()
        a = start % self.capacity
        if a + n <= self.capacity:
            return self._rows[a : a + n].copy()
        return np.concatenate((self._rows[a:], self._rows[: n - (self.capacity - a)]))

    def reader(self, from_now: bool = True) -> RingReader:
        """A reader whose first :meth:`RingReader.read_new` starts now (or at the oldest held)."""
        start = self.written if from_now else max(0, self.written - self.capacity)
        return RingReader(self, start)

    def close(self) -> None:
        self._header = None  # type: ignore[assignment]
        self._rows = None  # type: ignore[assignment]
        self._shm.close()
        if self._owner:
            self._shm.unlink()

    def __enter__(self) -> SampleRing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class RingReader:
    """One consumer's position in a :class:`SampleRing`."""

    def __init__(self, ring: SampleRing, start: int) -> None:
        self.ring = ring
        self.position = start
        self.overruns = 0

    def read_new(self) -> np.ndarray:
        """Every sample written since the last call, in order (see the overrun policy)."""
        ring = self.ring
        with ring._lock:
            written = ring.written
            oldest = written - ring.capacity
            lost = 0
            if self.position < oldest:
                lost = oldest - self.position
                self.position = oldest
            out = ring.read_range(self.position, written)
            self.position = written
        if lost:
            self.overruns += lost
            if len(out):
                period = float(out["t"][1] - out["t"][0]) if len(out) > 1 else 0.0
                out["gap_before"][0] += lost * period
        return out
