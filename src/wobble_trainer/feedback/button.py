"""The start/pause button: short press vs long press (menu), from a gpiozero Button.

A long press is reported the moment the hold time is reached, while the button is still down (the
menu opens without waiting for the release); its release then reports nothing, so a long press is
never also a short press. A short press is reported on release.

Timing comes from an injected :class:`~wobble_trainer.clock.Clock`, not from gpiozero's hold
thread: the press and release edges arrive through gpiozero's callbacks, and the hold is detected
by :meth:`GpioButton.poll`, which the feedback controller calls on every tick (50 Hz, so the long
press lands at most one tick after the hold time). Tests drive a mock pin and a ManualClock and
need no real time. Contact bounce is handled here too: a press shorter than ``min_press_s`` is
ignored, whichever pin library (with or without its own debounce) sits underneath.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from enum import StrEnum
from types import TracebackType
from typing import Self

from gpiozero import Button
from gpiozero.pins import Factory

from wobble_trainer.clock import Clock, MonotonicClock

log = logging.getLogger(__name__)

DEFAULT_HOLD_TIME_S = 1.0
"""Long enough that nobody holds by accident, short enough not to feel stuck."""
DEFAULT_MIN_PRESS_S = 0.03
"""Mechanical switches bounce for a few ms; nobody presses deliberately for under 30 ms."""


class ButtonEvent(StrEnum):
    SHORT_PRESS = "short"
    """Pressed and released before the hold time: start / pause."""
    LONG_PRESS = "long"
    """Held for the hold time: menu."""


class PressClassifier:
    """Turns press and release times into :class:`ButtonEvent`. Thread-safe: edges arrive on the
    pin library's thread, polls on the controller's."""

    def __init__(
        self, hold_time_s: float = DEFAULT_HOLD_TIME_S, min_press_s: float = DEFAULT_MIN_PRESS_S
    ) -> None:
        if not 0.0 <= min_press_s < hold_time_s:
            raise ValueError(f"need 0 ≤ min_press_s ({min_press_s}) < hold_time_s ({hold_time_s})")
        self.hold_time_s = hold_time_s
        self.min_press_s = min_press_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._long_reported = False

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def pressed(self, now: float) -> list[ButtonEvent]:
        with self._lock:
            if self._down_since is None:
                self._down_since = now
                self._long_reported = False
        return []

    def released(self, now: float) -> list[ButtonEvent]:
        with self._lock:
            since, self._down_since = self._down_since, None
            if since is None or self._long_reported:
                # A release with no press seen (held at start-up), or the end of a long press.
                return []
            held = now - since
            if held >= self.hold_time_s:
                # Nobody polled during the hold (busy controller): still a long press, not short.
                self._long_reported = True
                return [ButtonEvent.LONG_PRESS]
            if held < self.min_press_s:
                return []
            return [ButtonEvent.SHORT_PRESS]

    def poll(self, now: float) -> list[ButtonEvent]:
        """Report the long press once the button has been down for the hold time."""
        with self._lock:
            if (
                self._down_since is not None
                and not self._long_reported
                and now - self._down_since >= self.hold_time_s
            ):
                self._long_reported = True
                return [ButtonEvent.LONG_PRESS]
        return []


class GpioButton:
    """A push button between a GPIO and ground (internal pull-up by default), reporting
    :class:`ButtonEvent` to listeners and to the thread-safe queue :attr:`events`.

    Listeners run on the thread that detected the event (the pin library's callback thread for a
    short press, the caller of :meth:`poll` for a long press): keep them short, or read
    :attr:`events` from the UI loop instead.
    """

    def __init__(
        self,
        pin: int,
        *,
        clock: Clock | None = None,
        hold_time_s: float = DEFAULT_HOLD_TIME_S,
        min_press_s: float = DEFAULT_MIN_PRESS_S,
        pull_up: bool = True,
        pin_factory: Factory | None = None,
    ) -> None:
        self._clock = clock or MonotonicClock()
        self._classifier = PressClassifier(hold_time_s, min_press_s)
        self._listeners: list[Callable[[ButtonEvent], None]] = []
        self.events: queue.SimpleQueue[ButtonEvent] = queue.SimpleQueue()
        # No gpiozero bounce_time: the classifier's minimum press handles bounce the same way on
        # every pin library (their bounce semantics differ).
        self._button = Button(pin, pull_up=pull_up, bounce_time=None, pin_factory=pin_factory)
        self._button.when_pressed = self._on_pressed
        self._button.when_released = self._on_released

    @property
    def device(self) -> Button:
        """The gpiozero device (tests reach its mock pin through it)."""
        return self._button

    @property
    def hold_time_s(self) -> float:
        return self._classifier.hold_time_s

    def add_listener(self, listener: Callable[[ButtonEvent], None]) -> None:
        self._listeners.append(listener)

    def _deliver(self, events: list[ButtonEvent]) -> None:
        for event in events:
            self.events.put(event)
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    # A broken listener must not kill the pin thread or the feedback loop.
                    log.exception("button listener %r failed on %s", listener, event)

    def _on_pressed(self) -> None:
        self._deliver(self._classifier.pressed(self._clock.now()))

    def _on_released(self) -> None:
        self._deliver(self._classifier.released(self._clock.now()))

    def poll(self) -> None:
        """Check for a long press; call often (the feedback controller does, every tick)."""
        self._deliver(self._classifier.poll(self._clock.now()))

    def close(self) -> None:
        """Release the pin. Safe to call twice."""
        if self._button.closed:
            return
        self._button.when_pressed = None
        self._button.when_released = None
        self._button.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
