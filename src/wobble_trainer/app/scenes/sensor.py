""" "Sensor not found": the appliance's screen while no IMU answers, which keeps looking.

In kiosk mode and under the service the trainer never falls back to the simulated board (a
clinic must not train on made-up angles): it shows what to check (the wiring checks of
:func:`wobble_trainer.hardware.detect.explain_nothing_found`) and runs the detection again
every :data:`RETRY_S` seconds; once the IMU answers, the normal app starts. It tells systemd it
is up and alive meanwhile, so the service is not restarted in a loop and then given up on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pygame

from wobble_trainer.app.layout import ACCENT, BACKGROUND, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import AppContext, Scene, Tick
from wobble_trainer.hardware.detect import ImuNotFoundError

RETRY_S = 3.0
"""How often the detection runs again."""
NOTIFY_EVERY_S = 2.0
"""How often systemd hears that the search is alive (WatchdogSec is 10 s)."""


def wiring_checks(message: str) -> str:
    """The detection's message without its pointer to the simulator (not for an appliance)."""
    lines = [line for line in message.splitlines() if "--sim" not in line]
    return "\n".join(lines)


class SensorSearchScene(Scene):
    """Shows the wiring checks and retries ``detect`` (which returns a source spec or raises
    :class:`ImuNotFoundError`) every :data:`RETRY_S`; when it succeeds, :attr:`found` holds the
    spec and the loop is asked to end (the caller starts the app on it)."""

    title = "Sensor not found"
    needs_sensor = False

    def __init__(
        self,
        app: AppContext,
        detect: Callable[[], Any],
        message: str,
        *,
        notifier: Any = None,
        retry_s: float | None = None,
    ) -> None:
        super().__init__(app)
        self.detect = detect
        self.message = wiring_checks(message)
        self.notifier = notifier
        self.retry_s = RETRY_S if retry_s is None else retry_s
        self.found: Any = None
        self.tries = 1
        self._since_try = 0.0
        self._since_notify = NOTIFY_EVERY_S

    def update(self, dt: float, tick: Tick) -> None:
        self._notify(dt)
        if self.found is not None:
            return
        self._since_try += dt
        if self._since_try < self.retry_s - 1e-9:
            return
        self._since_try = 0.0
        self.tries += 1
        try:
            self.found = self.detect()
        except ImuNotFoundError as exc:
            self.message = wiring_checks(str(exc))
            return
        self.app.quit_requested = True  # the caller starts the trainer on the sensor found

    def _notify(self, dt: float) -> None:
        if self.notifier is None:
            return
        self._since_notify += dt
        if self._since_notify < NOTIFY_EVERY_S:
            return
        self._since_notify = 0.0
        status = f"Sensor not found: looking again every {self.retry_s:g} s (try {self.tries})"
        self.notifier.ready(status)
        self.notifier.watchdog()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        surface.fill(BACKGROUND)
        m = layout.margin
        y = layout.title(surface, self.title)
        wait = max(0.0, self.retry_s - self._since_try)
        status = f"Looking again in {wait:.0f} s (try {self.tries})"
        status_h = layout.font(layout.small_size).get_linesize()
        bottom = layout.height - status_h - m
        area = pygame.Rect(2 * m, y, layout.width - 4 * m, bottom - y)
        # The checks at the largest size that fits (they are for the person fixing the device).
        size = layout.small_size
        while (
            size > layout.caption_size
            and layout.wrapped_height(self.message, size, area.width) > area.height
        ):
            size -= 2
        for line in self.message.splitlines():
            if area.top + layout.wrapped_height(line, size, area.width) > bottom:
                break
            colour = RED if line.startswith("No supported") else TEXT
            area.top += layout.wrapped(surface, line, size, area, colour)
        layout.text(
            surface,
            status,
            layout.small_size,
            (layout.width // 2, layout.height - m - status_h // 2),
            ACCENT if self.found is None else MUTED,
            max_width=layout.width - 2 * m,
        )
