"""The feedback controller: a thread of its own keeps the lights and buzzer right.

The lights must never wait for the render loop (DOMAIN.md §7: well under 50 ms end to end), so
:class:`FeedbackController` runs at ~50 Hz on its own thread: each tick (:meth:`step`) reads the
newest board angles through a ``latest_angles()`` callable (pitch, roll in rad, or ``None`` when
the sensor is lost), classifies the zone, sets the direction LEDs, advances the sound cue and polls
the button. The game only calls :meth:`set_targets` and :meth:`cue` (the :class:`Feedback`
protocol); both return at once.

Tests call :meth:`step` directly with a ManualClock, so no test depends on real time. The thread
waits on an event rather than sleeping, so a cue starts at once and the loop wakes exactly at note
boundaries; :meth:`close` (or leaving a ``with`` block) stops the thread, turns everything off and
releases the pins.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import CUE_PATTERNS, Cue, CuePlayer, Pattern
from wobble_trainer.feedback.zones import (
    DARK,
    DirectionLevels,
    Zone,
    classify_zone,
    direction_levels,
    tilt_reading,
)

log = logging.getLogger(__name__)

AnglesSource = Callable[[], tuple[float, float] | None]
"""Returns the newest (pitch, roll) in rad, or None when the sensor is lost. Called from the
controller's thread: it must be cheap and thread-safe (e.g. read one attribute)."""

DEFAULT_RATE_HZ = 50.0
EDGE_BLINK_HZ = 2.0
"""Flash rate of the red light at the rim: clearly a flash, well below the 3-30 Hz band that
photosensitivity guidance warns about."""


class FeedbackOutputs(Protocol):
    """The hardware side: what to show and sound. Called only from the controller (one thread at a
    time), every tick with the full state, so implementations write pins only on change."""

    def show_zone(self, zone: Zone, lit: bool) -> None:
        """Show ``zone``; ``lit`` is False during the dark half of a flash."""
        ...

    def show_directions(self, levels: DirectionLevels) -> None: ...

    def sound(self, frequency_hz: float | None) -> None:
        """Sound ``frequency_hz`` (an active buzzer just turns on), ``None`` for silence."""
        ...

    def close(self) -> None:
        """Turn everything off and release the pins."""
        ...


class Pollable(Protocol):
    """An input the controller services each tick (the start/pause button's long press)."""

    def poll(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class FeedbackState:
    """What one tick showed (returned by :meth:`FeedbackController.step`, kept as ``state``)."""

    time: float
    zone: Zone
    lit: bool
    levels: DirectionLevels
    sound_hz: float | None
    cue: Cue | None


class FeedbackController:
    """Drives :class:`FeedbackOutputs` from the newest angles; implements ``Feedback``.

    Takes ownership of ``outputs`` and ``button``: :meth:`close` closes both.
    """

    def __init__(
        self,
        latest_angles: AnglesSource,
        outputs: FeedbackOutputs,
        *,
        button: Pollable | None = None,
        clock: Clock | None = None,
        rate_hz: float = DEFAULT_RATE_HZ,
        patterns: Mapping[Cue, Pattern] = CUE_PATTERNS,
        edge_blink_hz: float = EDGE_BLINK_HZ,
    ) -> None:
        if not rate_hz > 0.0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
        self._latest_angles = latest_angles
        self._outputs = outputs
        self._button = button
        self._clock = clock or MonotonicClock()
        self._period = 1.0 / rate_hz
        self._blink_hz = edge_blink_hz
        self._player = CuePlayer(patterns)
        self._targets: FeedbackTargets | None = None
        self._cues: queue.SimpleQueue[Cue] = queue.SimpleQueue()
        self._zone = Zone.OFF
        self._levels = DARK
        self._edge_since = 0.0
        self._next_sound_change = math.inf
        self._angles_failing = False
        self._state = FeedbackState(0.0, Zone.OFF, False, DARK, None, None)
        self._step_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.ticks = 0
        """Number of steps run (a liveness figure for diagnostics)."""

    # --- the Feedback protocol ---------------------------------------------------------------

    def set_targets(self, targets: FeedbackTargets | None) -> None:
        """Show zones about ``targets`` from the next tick; ``None`` (no session) goes dark."""
        # One reference assignment: atomic, and the thread reads it once per tick.
        self._targets = targets
        self._wake.set()

    def cue(self, kind: Cue | str) -> None:
        """Play a cue from the controller's thread, starting now; replaces one already playing."""
        cue = Cue(kind)
        if self._closed:
            return
        self._cues.put(cue)
        self._wake.set()

    # --- state -------------------------------------------------------------------------------

    @property
    def state(self) -> FeedbackState:
        """What the last tick showed."""
        return self._state

    @property
    def zone(self) -> Zone:
        return self._state.zone

    @property
    def targets(self) -> FeedbackTargets | None:
        return self._targets

    @property
    def button(self) -> Pollable | None:
        return self._button

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- one tick ----------------------------------------------------------------------------

    def _read_angles(self) -> tuple[float, float] | None:
        try:
            angles = self._latest_angles()
        except Exception:
            # A failing source is a lost sensor: go dark, log once rather than 50 times a second.
            if not self._angles_failing:
                log.exception("latest_angles() failed; feedback dark until it recovers")
            self._angles_failing = True
            return None
        self._angles_failing = False
        if angles is None:
            return None
        pitch, roll = float(angles[0]), float(angles[1])
        if not (math.isfinite(pitch) and math.isfinite(roll)):
            return None
        return pitch, roll

    def step(self) -> FeedbackState:
        """One update of every output from the newest angles and the current time."""
        with self._step_lock:
            if self._closed:
                return self._state
            now = self._clock.now()
            while True:
                try:
                    self._player.start(self._cues.get_nowait(), now)
                except queue.Empty:
                    break

            targets = self._targets
            angles = self._read_angles() if targets is not None else None
            if targets is None or angles is None:
                zone, levels = Zone.OFF, DARK
            else:
                pitch, roll = angles
                r = tilt_reading(pitch, roll, targets.target_pitch, targets.target_roll)
                zone = classify_zone(
                    r.target_distance,
                    r.tilt,
                    targets.edge_angles.toward(r.direction),
                    targets.zones,
                    self._zone,
                )
                levels = direction_levels(
                    pitch - targets.target_pitch,
                    roll - targets.target_roll,
                    targets.directions,
                    self._levels,
                )

            if zone is Zone.EDGE and self._zone is not Zone.EDGE:
                self._edge_since = now
                if targets is not None and targets.sound_on_edge:
                    self._player.start(Cue.EDGE, now)
            if zone is Zone.OFF:
                lit = False
            elif zone is Zone.EDGE:
                # Flash starting with "on", so touching the rim shows at once.
                lit = ((now - self._edge_since) * self._blink_hz) % 1.0 < 0.5
            else:
                lit = True

            frequency = self._player.update(now)
            self._next_sound_change = self._player.time_to_next_change(now)
            self._outputs.show_zone(zone, lit)
            self._outputs.show_directions(levels)
            self._outputs.sound(frequency)
            if self._button is not None:
                self._button.poll()

            self._zone, self._levels = zone, levels
            self._state = FeedbackState(now, zone, lit, levels, frequency, self._player.playing)
            self.ticks += 1
            return self._state

    # --- thread ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the feedback thread (once)."""
        if self._closed:
            raise RuntimeError("feedback controller is closed")
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="feedback", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failing = False
        next_tick = time.monotonic()
        while not self._stop.is_set():
            try:
                self.step()
                failing = False
            except Exception:
                # Keep the thread (and the button) alive; a broken output is logged once.
                if not failing:
                    log.exception("feedback step failed")
                failing = True
            next_tick += self._period
            now = time.monotonic()
            if next_tick < now:
                # Fell behind (machine busy): skip the missed ticks rather than bursting them.
                next_tick = now
            wait = min(next_tick - now, self._next_sound_change)
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def close(self) -> None:
        """Stop the thread, turn every light and the buzzer off, release the pins. Idempotent."""
        if self._closed:
            return
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():
                log.error("feedback thread did not stop within 2 s; closing outputs anyway")
        with self._step_lock:
            self._closed = True
            self._targets = None
            self._player.stop()
            try:
                self._outputs.close()
            finally:
                if self._button is not None:
                    self._button.close()
            self._state = FeedbackState(self._clock.now(), Zone.OFF, False, DARK, None, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
