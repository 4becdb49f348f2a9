"""Runs a sample producer on its own, beside the display: in a separate process by default.

A sampler thread beside a busy pygame loop is late by 30-115 ms here (the GIL; DOMAIN.md §4), so
:class:`SamplerRunner` starts the producer in its own process. Samples reach the app through a
shared-memory :class:`~wobble_trainer.sampling.ring.SampleRing`; counters through a small shared
status block; the simulated person's lean target goes the other way through a control block.
A thread mode (same code, same ring) serves tests and tools that need no isolation.

The producer is described by a picklable :class:`SourceSpec` and built inside the worker, so the
I2C bus (or the simulated board) lives where it is read.

The sampler lives and dies with the app: the worker asks Linux for SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``) and also checks every :data:`PARENT_CHECK_S` that its parent is
still the one that started it, so it ends within a second of the app's death however the app
died; the names of the shared blocks are recorded (:mod:`~wobble_trainer.sampling.leftovers`) so
the next start frees what a killed run left. :meth:`SamplerRunner.restart` replaces a dead or
frozen worker (see :mod:`~wobble_trainer.sampling.supervisor`); the first samples of the new one
carry the time missed in ``gap_before``.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from typing import Any, Protocol

import numpy as np

from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.hardware.imu import ImuSettings
from wobble_trainer.sampling.leftovers import LeftoverReport, RunRecord, clean_leftovers
from wobble_trainer.sampling.ring import RingHandle, SampleRing

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.005
"""How often the FIFO is read. The smallest FIFO (MPU-6500 at 1 kHz) holds ~42 ms of samples."""

RING_SECONDS = 30.0
"""The ring holds this much at the configured rate before a lagging reader overruns."""

PARENT_CHECK_S = 0.25
"""How often the worker checks that the app that started it is alive."""

STOP_WAIT_S = 1.0
"""How long :meth:`SamplerRunner.stop` waits for the worker to end by itself (one poll is 5 ms)
before killing it: quitting never hangs on a frozen sampler."""

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

STAT_FIELDS = (
    "alive",
    "samples",
    "lost_samples",
    "gaps",
    "fifo_overflows",
    "i2c_errors",
    "reconnects",
    "stalls",
    "resyncs",
    "connected",
    "clock_error_ppm",
    "odr_hz",
    "polls",
    "lateness_p50_s",
    "lateness_p99_s",
    "lateness_max_s",
    "cpu_s",
    "sim_cpu_s",
    "elapsed_s",
    "finished",
    "restarts",
    "restart_gap_s",
)
"""``restarts`` and ``restart_gap_s`` (time missed across restarts) are written by the app."""
CONTROL_FIELDS = ("lean_pitch", "lean_roll", "step_off", "stop", "version")
_STATS_OFFSET = 0
_CONTROL_OFFSET = len(STAT_FIELDS)
_BLOCK_LEN = len(STAT_FIELDS) + len(CONTROL_FIELDS)
_STAT_INDEX = {k: _STATS_OFFSET + i for i, k in enumerate(STAT_FIELDS)}
_CONTROL_INDEX = {k: _CONTROL_OFFSET + i for i, k in enumerate(CONTROL_FIELDS)}


class Producer(Protocol):
    """Something the runner polls: a :class:`SamplerCore` on a chip, or a replayed recording."""

    def poll(self) -> np.ndarray: ...

    def stats_dict(self) -> dict[str, float]: ...

    def info(self) -> dict[str, Any]: ...

    def apply_control(self, lean_pitch: float, lean_roll: float, step_off: bool) -> None: ...

    def sim_cpu_s(self) -> float: ...

    @property
    def finished(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SimSpec:
    """The simulated board: chip model, person and sensor realisation."""

    chip: str = "MPU-6050"
    skill: float = 0.6
    stance: str = "double"
    eyes_closed: bool = False
    seed: int = 1
    mounting: tuple[float, float, float, float] = (0.706864, 0.01851, -0.01851, 0.706864)
    """Sensor→board: the simulated IMU is screwed on turned 90° (its x to the board's left) and
    tilted 3°, as a real one might be, so the simulator needs calibrating like a real board."""
    clock_ppm: float = 200.0
    autopilot: bool = True
    return_after_s: float | None = 3.0
    """The simulated person gets back on the board this long after stepping off, so a demo
    never waits forever for someone to stand on it; None: they stay off."""


@dataclass(frozen=True)
class SourceSpec:
    """Where samples come from: ``kind`` is "i2c", "sim" or "replay"."""

    kind: str = "sim"
    settings: ImuSettings = field(default_factory=ImuSettings)
    bus: int = 1
    address: int | None = None
    sim: SimSpec = field(default_factory=SimSpec)
    replay_path: str = ""
    replay_realtime: bool = True
    replay_loop: bool = False


class StatusBlock:
    """Shared float64 counters (worker → app) and controls (app → worker)."""

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            self._shm = shared_memory.SharedMemory(create=True, size=_BLOCK_LEN * 8)
            self._owner = True
        else:
            self._shm = shared_memory.SharedMemory(name=name)
            self._owner = False
        self.values = np.ndarray((_BLOCK_LEN,), dtype="f8", buffer=self._shm.buf)
        if self._owner:
            self.values[:] = 0.0

    @property
    def name(self) -> str:
        return self._shm.name

    def stats(self) -> dict[str, float]:
        values = self.values[_STATS_OFFSET:_CONTROL_OFFSET].tolist()
        return dict(zip(STAT_FIELDS, values, strict=True))

    def set_stats(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.values[_STAT_INDEX[key]] = value

    def control(self, key: str) -> float:
        return float(self.values[_CONTROL_INDEX[key]])

    def set_control(self, key: str, value: float) -> None:
        self.values[_CONTROL_INDEX[key]] = value

    def close(self) -> None:
        self.values = None  # type: ignore[assignment]
        self._shm.close()
        if self._owner:
            self._shm.unlink()


class LatenessLog:
    """Read-loop lateness (wake-up time minus the time asked for), with percentiles."""

    def __init__(self, size: int = 200_000) -> None:
        self._values = np.zeros(size)
        self._n = 0
        self.max = 0.0

    def add(self, lateness: float) -> None:
        self._values[self._n % len(self._values)] = lateness
        self._n += 1
        self.max = max(self.max, lateness)

    def percentile(self, q: float) -> float:
        n = min(self._n, len(self._values))
        return float(np.percentile(self._values[:n], q)) if n else 0.0


def run_producer_loop(
    producer: Producer,
    ring: SampleRing,
    status: StatusBlock,
    events: Any,
    clock: Clock,
    poll_interval: float = POLL_INTERVAL_S,
    max_polls: int | None = None,
    keep_going: Any = None,
) -> None:
    """The worker's loop: poll at a fixed interval, publish samples, counters and events.

    ``keep_going`` (called about every :data:`PARENT_CHECK_S`) ends the loop when it returns
    False. A ring that already holds samples was fed by a worker that died: the first new sample
    carries the time between them in ``gap_before`` (and ``restart_gap_s`` adds it up)."""
    lateness = LatenessLog()
    cpu0 = time.process_time()
    t_start = clock.now()
    target = t_start
    polls = 0
    control_version = -1.0
    last_info: dict[str, Any] | None = None
    last_percentiles_at = -math.inf
    percentiles = (0.0, 0.0)
    previous = ring.latest()
    last_check = t_start
    status.set_stats({"alive": 1.0})
    while status.control("stop") == 0.0 and (max_polls is None or polls < max_polls):
        now = clock.now()
        if keep_going is not None and now - last_check >= PARENT_CHECK_S:
            last_check = now
            if not keep_going():
                break
        if now < target:
            clock.sleep(target - now)
            now = clock.now()
        lateness.add(max(0.0, now - target))
        # Skip missed ticks rather than bursting to catch up: the FIFO holds the samples.
        target = max(target + poll_interval, now)
        version = status.control("version")
        if version != control_version:
            control_version = version
            producer.apply_control(
                status.control("lean_pitch"),
                status.control("lean_roll"),
                status.control("step_off") != 0.0,
            )
        samples = producer.poll()
        if previous is not None and len(samples):
            _mark_restart_gap(samples, previous, status)
            previous = None
        ring.write(samples)
        polls += 1
        info = producer.info()
        if info is not last_info:
            events.put({"event": "info", **info})
            last_info = info
        if now - last_percentiles_at > 1.0:
            percentiles = (lateness.percentile(50), lateness.percentile(99))
            last_percentiles_at = now
        stats = producer.stats_dict()
        stats.update(
            polls=polls,
            lateness_p50_s=percentiles[0],
            lateness_p99_s=percentiles[1],
            lateness_max_s=lateness.max,
            cpu_s=time.process_time() - cpu0,
            sim_cpu_s=producer.sim_cpu_s(),
            elapsed_s=clock.now() - t_start,
            finished=1.0 if producer.finished else 0.0,
        )
        status.set_stats(stats)
        if producer.finished:
            break
    stats = {
        "lateness_p50_s": lateness.percentile(50),
        "lateness_p99_s": lateness.percentile(99),
        "lateness_max_s": lateness.max,
        "cpu_s": time.process_time() - cpu0,
        "elapsed_s": clock.now() - t_start,
    }
    status.set_stats(stats)


def _mark_restart_gap(samples: np.ndarray, previous: np.ndarray, status: StatusBlock) -> None:
    """The first samples after a restart: the time since the dead worker's last sample is a gap."""
    t = samples["t"]
    period = float(t[1] - t[0]) if len(t) > 1 else 0.0
    gap = float(t[0]) - float(previous["t"]) - period
    if gap > 0:
        samples["gap_before"][0] = max(float(samples["gap_before"][0]), gap)
        total = float(status.values[_STAT_INDEX["restart_gap_s"]])
        status.set_stats({"restart_gap_s": total + gap})


class _ParentWatch:
    """Makes the worker end when the app does.

    On Linux the kernel sends SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``; the
    handler asks the loop to stop); :meth:`alive`, called by the loop, also catches a parent that
    died before the request was made, and other systems.
    """

    def __init__(self, parent_pid: int, status: StatusBlock) -> None:
        self.parent_pid = parent_pid
        self.stop_requested = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, signum: int, frame: Any) -> None:
        self.stop_requested = True

    def alive(self) -> bool:
        return not self.stop_requested and os.getppid() == self.parent_pid

    @property
    def parent_gone(self) -> bool:
        return os.getppid() != self.parent_pid


def _worker(
    spec: SourceSpec, ring_handle: RingHandle, status_name: str, events: Any, parent_pid: int
) -> None:
    """Entry point of the sampler process: attach to the shared blocks and run the loop.

    A spawned child shares its parent's resource tracker, so attaching registers nothing new
    and the parent, which made the blocks, unlinks them (or the tracker does, once both died).
    """
    ring = SampleRing(ring_handle.capacity, handle=ring_handle)
    status = StatusBlock(status_name)
    watch = _ParentWatch(parent_pid, status)
    try:
        _run_spec(spec, ring, status, events, watch.alive)
    finally:
        status.close()
        ring.close()
    if watch.parent_gone:
        # Nobody reads the events any more, and a full interpreter shutdown takes seconds on a
        # busy Pi: leave at once (the blocks were the parent's; the resource tracker frees them).
        os._exit(0)


def _run_spec(
    spec: SourceSpec, ring: SampleRing, status: StatusBlock, events: Any, keep_going: Any = None
) -> None:
    from wobble_trainer.sampling.sources import build_producer

    producer = None
    try:
        producer = build_producer(spec, MonotonicClock())
        run_producer_loop(producer, ring, status, events, MonotonicClock(), keep_going=keep_going)
    except BaseException as exc:  # report, then let the worker end
        events.put({"event": "crash", "error": f"{exc}", "traceback": traceback.format_exc()})
    finally:
        if producer is not None:
            producer.close()
        status.set_stats({"alive": 0.0})


class SamplerRunner:
    """Starts a producer in a worker (process or thread) and gives the app its ring and status.

    Use as a context manager: leaving it stops the worker and frees the shared memory.
    """

    def __init__(self, spec: SourceSpec, *, mode: str = "process") -> None:
        if mode not in ("process", "thread"):
            raise ValueError("mode must be 'process' or 'thread'")
        self.spec = spec
        self.mode = mode
        self.leftovers: LeftoverReport | None = None
        """What a killed earlier run had left and this start freed (process mode)."""
        if mode == "process":
            self.leftovers = clean_leftovers()
            if self.leftovers:
                log.warning("%s", self.leftovers.describe())
        rate = max(spec.settings.odr_hz, 100.0)
        self.ring = SampleRing(int(rate * RING_SECONDS) + 1024)
        self.status = StatusBlock()
        ctx = mp.get_context("spawn")
        self._events: Any = ctx.Queue() if mode == "process" else queue.Queue()
        self._worker: Any = None
        self._run_record: RunRecord | None = None
        self.info: dict[str, Any] = {}
        self.crash: dict[str, Any] | None = None
        self.restarts = 0

    def start(self) -> SamplerRunner:
        if self.mode == "process":
            self._worker = mp.get_context("spawn").Process(
                target=_worker,
                args=(self.spec, self.ring.handle, self.status.name, self._events, os.getpid()),
                name="wobble-sampler",
                daemon=True,
            )
        else:
            self._worker = threading.Thread(
                target=_run_spec,
                args=(self.spec, self.ring, self.status, self._events),
                name="wobble-sampler",
                daemon=True,
            )
        self._worker.start()
        if self.mode == "process":
            self._record_run()
        return self

    def _record_run(self) -> None:
        """Note the shared blocks' names (and the worker) for the next start, should we be
        killed before :meth:`close`."""
        if self._run_record is None:
            self._run_record = RunRecord.create()
        self._run_record.save(
            shared_memory=[self.ring.name, self.status.name],
            semaphores=[name for name in [self.ring.lock_name] if name],
            worker_pid=self._worker.pid,
        )

    @property
    def pid(self) -> int | None:
        """The worker process's id (None in thread mode or before the start)."""
        return getattr(self._worker, "pid", None)

    def restart(self, reason: str) -> None:
        """Replace a dead or frozen worker by a new one writing on into the same ring (process
        mode). The old one is killed first: two samplers must never read one chip."""
        if self.mode != "process":
            raise RuntimeError("only a sampler process can be restarted")
        old = self._worker
        if old is not None:
            if old.is_alive():
                old.kill()  # SIGKILL also ends a stopped (frozen) process
            old.join(STOP_WAIT_S)
        self.restarts += 1
        log.warning("sampler restarted (%s); restart %d", reason, self.restarts)
        # The old worker may have died holding the ring's lock.
        self.ring.replace_lock()
        self.status.set_stats({"alive": 0.0, "polls": 0.0, "restarts": float(self.restarts)})
        self.status.set_control("stop", 0.0)
        self.start()

    def wait_until_alive(self, timeout: float = 10.0) -> bool:
        """Wait until the worker runs its loop (or died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll_events()
            if self.status.stats()["alive"] == 1.0 or self.crash or not self.is_alive():
                return self.status.stats()["alive"] == 1.0
            time.sleep(0.01)
        return False

    def is_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def poll_events(self) -> list[dict[str, Any]]:
        """Drain worker events (chip info, crash reports) without waiting."""
        out = []
        while True:
            try:
                event = self._events.get_nowait()
            except (queue.Empty, OSError, ValueError):
                break
            out.append(event)
            if event["event"] == "info":
                self.info = {k: v for k, v in event.items() if k != "event"}
            elif event["event"] == "crash":
                self.crash = event
        return out

    def stats(self) -> dict[str, float]:
        return self.status.stats()

    def set_lean_target(self, pitch_rad: float, roll_rad: float) -> None:
        """Where the simulated person should hold the board (ignored on real hardware)."""
        self.status.set_control("lean_pitch", pitch_rad)
        self.status.set_control("lean_roll", roll_rad)
        self.status.set_control("version", self.status.control("version") + 1)

    def set_step_off(self, off: bool) -> None:
        self.status.set_control("step_off", 1.0 if off else 0.0)
        self.status.set_control("version", self.status.control("version") + 1)

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Ask the worker to end; a process that has not ended within ``timeout`` (frozen, or
        stuck in a driver) is killed, so this never hangs."""
        if self._worker is None:
            return
        self.status.set_control("stop", 1.0)
        self._worker.join(timeout)
        if self.mode == "process" and self._worker.is_alive():
            self._worker.kill()
            self._worker.join(timeout)
        self.poll_events()
        self._worker = None

    def close(self) -> None:
        """Stop the worker and free the shared blocks (once; later calls do nothing)."""
        if self.status.values is None:
            return
        self.stop()
        if self.mode == "process":
            self._events.close()
            self._events.join_thread()
        self.status.close()
        self.ring.close()
        if self._run_record is not None:
            self._run_record.remove()

    def __enter__(self) -> SamplerRunner:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
