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

A sampler process killed while it held the ring's lock would leave the lock taken for ever, and
the app frozen on its next read: readers wait at most :data:`LOCK_TIMEOUT_S` (and get nothing
new that frame), and whoever restarts the sampler gives the ring a fresh lock
(:meth:`SampleRing.replace_lock`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from wobble_trainer.sampling.samples import SAMPLE_DTYPE, empty_samples

_HEADER = np.dtype("u8")  # total samples written

LOCK_TIMEOUT_S = 0.2
"""A reader waits this long for the lock: far beyond a copy, short enough for a frame."""


class RingLockTimeout(RuntimeError):
    """The ring's lock was not free within :data:`LOCK_TIMEOUT_S` (its writer died holding it)."""


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
    def name(self) -> str:
        """The shared-memory segment's name (``/dev/shm/<name>`` on Linux)."""
        return self._shm.name

    @property
    def lock_name(self) -> str | None:
        """The lock's POSIX semaphore name, for cleaning up after a killed run (None if unnamed)."""
        semlock = getattr(self._lock, "_semlock", None)
        return getattr(semlock, "name", None)

    def replace_lock(self) -> None:
        """A fresh lock, once the writer is dead (it may have died holding the old one). Give the
        next writer the new :attr:`handle`."""
        self._lock = mp.get_context("spawn").Lock()

    @contextlib.contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold the lock; :class:`RingLockTimeout` when it is not free within ``timeout``."""
        lock = self._lock
        if not lock.acquire(timeout=timeout):
            raise RingLockTimeout(f"the sample ring's lock was not free within {timeout} s")
        try:
            yield
        finally:
            lock.release()

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
        with self.locked(timeout=2.0):
            start = (self.written + skipped) % self.capacity
            first = min(n, self.capacity - start)
            self._rows[start : start + first] = samples[:first]
            if first < n:
                self._rows[: n - first] = samples[first:]
            self._header[0] += total

    def latest(self) -> np.ndarray | None:
        """The newest sample (a 0-d structured array copy), or None before the first one (or
        while the lock is stuck)."""
        try:
            with self.locked():
                written = self.written
                if written == 0:
                    return None
                return self._rows[(written - 1) % self.capacity].copy()
        except RingLockTimeout:
            return None

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
        """Every sample written since the last call, in order (see the overrun policy); nothing
        new while the ring's lock is stuck (the samples stay for the next call)."""
        ring = self.ring
        try:
            with ring.locked():
                written = ring.written
                oldest = written - ring.capacity
                lost = 0
                if self.position < oldest:
                    lost = oldest - self.position
                    self.position = oldest
                out = ring.read_range(self.position, written)
                self.position = written
        except RingLockTimeout:
            return empty_samples()
        if lost:
            self.overruns += lost
            if len(out):
                period = float(out["t"][1] - out["t"][0]) if len(out) > 1 else 0.0
                out["gap_before"][0] += lost * period
        return out
