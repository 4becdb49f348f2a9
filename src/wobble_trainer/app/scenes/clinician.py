"""The clinician menu and its own screens (kiosk mode opens it only after the clinician PIN).

The clinician uses touch (or a keyboard: arrows, Enter, Esc), not the board. The menu offers
calibration, profiles, programme assignment, protocol settings, export to USB, live sensor
diagnostics, changing the PIN, leaving the kiosk, reboot and shut down. Screens that belong to
other parts of the app are imported when chosen (:data:`CLINICIAN_SCREENS`); while one does
not exist the menu says so instead of failing. Leaving the menu locks the clinician again.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.kiosk import (
    Kiosk,
    PinPadScene,
    build_scene,
    describe_sensor,
    draw_button,
    grid_rects,
    optional_scene,
)
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import AppContext, Scene, Tick

CLINICIAN_SCREENS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "profiles": ("Profiles", (("wobble_trainer.app.scenes.profiles", "ProfileSelectScene"),)),
    # A programme is assigned in a profile's edit screen until a screen of its own exists.
    "programme": ("Assign programme", (
        ("wobble_trainer.app.scenes.programmes", "ProgrammeAssignScene"),
        ("wobble_trainer.app.scenes.profiles", "ProfileSelectScene"),
    )),
    "protocols": ("Protocol settings", (("wobble_trainer.app.protocols", "ProtocolMenuScene"),)),
    "export": ("Export to USB", (
        ("wobble_trainer.app.scenes.export", "ExportScene"),
        ("wobble_trainer.reports.export", "ExportScene"),
    )),
}  # fmt: skip
"""Menu key → (label, (module, scene class) candidates tried in order). A class is built as
``cls(app, clinician_gate=..., allow_back=True)``, passing only the options it accepts."""


def find_screen(key: str) -> Callable[..., Scene] | None:
    """The scene class for a menu entry of :data:`CLINICIAN_SCREENS`, or None while missing."""
    for module, name in CLINICIAN_SCREENS[key][1]:
        cls = optional_scene(module, name)
        if cls is not None:
            return cls
    return None


class ClinicianScene(Scene):
    """Base of the clinician's screens: a title, some text, a grid of touch buttons. Arrow keys
    (or the hardware button) move a highlight; Enter chooses; Esc or a long press goes back."""

    title = "Clinician"
    columns_wide = 3
    columns_tall = 2

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.highlight = 0

    def items(self) -> list[tuple[str, Callable[[], None]]]:
        """(label, action) of each button."""
        return [("Back", self.close)]

    def close(self) -> None:
        if self.app.scene is self:
            self.app.pop()

    def activate(self, index: int) -> None:
        items = self.items()
        if items:
            self.highlight = index % len(items)
            items[self.highlight][1]()

    def command(self, command: Command) -> None:
        count = len(self.items())
        if command in (Command.LEFT, Command.UP):
            self.highlight = (self.highlight - 1) % max(1, count)
        elif command in (Command.RIGHT, Command.DOWN):
            self.highlight = (self.highlight + 1) % max(1, count)
        elif command in (Command.SELECT, Command.PAUSE):
            self.activate(self.highlight)
        elif command in (Command.BACK, Command.MENU):
            self.close()

    def body(self, surface: pygame.Surface, layout: Layout, top: int) -> int:
        """Draw the text between title and buttons; returns the y below it."""
        return top

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        top = layout.title(surface, self.title)
        top = self.body(surface, layout, top)
        items = self.items()
        columns = self.columns_tall if layout.portrait else self.columns_wide
        columns = max(1, min(columns, len(items)))
        rows = math.ceil(len(items) / columns)
        row_h = min(layout.body_size * 5 // 2, (layout.height - top - m) // max(1, rows))
        # A row of one or two buttons stays button-sized, centred, not a full-width bar.
        width = min(layout.width - 2 * m, columns * max(layout.width // 3, layout.body_size * 6))
        area = pygame.Rect((layout.width - width) // 2, top, width, row_h * rows - m // 2)
        for i, (rect, (label, action)) in enumerate(
            zip(grid_rects(area, len(items), columns, m // 2), items, strict=True)
        ):
            draw_button(surface, layout, rect, label, highlighted=i == self.highlight)
            self.buttons.append((rect, action))

    def lines(self, surface: pygame.Surface, layout: Layout, top: int, lines: list[Any]) -> int:
        """Draw text lines (str, or (str, colour)) centred; returns the y below them."""
        size = layout.small_size
        step = layout.font(size).get_linesize()
        y = top
        for line in lines:
            text, color = (line, TEXT) if isinstance(line, str) else line
            layout.text(surface, text, size, (layout.width // 2, y + step // 2), color)
            y += step
        return y + layout.margin


class MessageScene(ClinicianScene):
    """A message with an OK button (also: "this screen is not available")."""

    def __init__(self, app: AppContext, title: str, message: str) -> None:
        super().__init__(app)
        self.title = title
        self.message = message

    def items(self) -> list[tuple[str, Callable[[], None]]]:
        return [("OK", self.close)]

    def body(self, surface: pygame.Surface, layout: Layout, top: int) -> int:
        m = layout.margin
        area = pygame.Rect(2 * m, top, layout.width - 4 * m, layout.height // 2)
        return top + layout.wrapped(surface, self.message, layout.small_size, area) + 2 * m


class ConfirmScene(ClinicianScene):
    """Asks before something that cannot be undone (reboot, shut down, leaving the kiosk)."""

    def __init__(
        self, app: AppContext, title: str, message: str, yes: str, action: Callable[[], None]
    ) -> None:
        super().__init__(app)
        self.title = title
        self.message = message
        self.yes = yes
        self.action = action
        self.highlight = 1  # Cancel: a stray Enter does nothing drastic

    def items(self) -> list[tuple[str, Callable[[], None]]]:
        return [(self.yes, self.confirm), ("Cancel", self.close)]

    def confirm(self) -> None:
        self.close()
        self.action()

    def body(self, surface: pygame.Surface, layout: Layout, top: int) -> int:
        m = layout.margin
        area = pygame.Rect(2 * m, top, layout.width - 4 * m, layout.height // 2)
        return top + layout.wrapped(surface, self.message, layout.small_size, area) + 2 * m


class DiagnosticsScene(ClinicianScene):
    """Live sampler figures: rate, lost samples, I2C errors, reconnects, clock error."""

    title = "Sensor diagnostics"
    clinician_only = True
    WINDOW_S = 2.0
    """The rate is measured over this much logic time."""

    def __init__(
        self,
        app: AppContext,
        stats: Callable[[], Mapping[str, float]] | None,
        info: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(app)
        self.stats = stats
        self.info = info
        self.t = 0.0
        self.history: deque[tuple[float, float]] = deque()
        self.latest: Mapping[str, float] = {}
        self.rate_hz: float | None = None

    def update(self, dt: float, tick: Tick) -> None:
        self.t += dt
        if self.stats is None:
            return
        self.latest = dict(self.stats())
        self.history.append((self.t, float(self.latest.get("samples", 0.0))))
        while len(self.history) > 2 and self.t - self.history[1][0] >= self.WINDOW_S:
            self.history.popleft()
        (t0, n0), (t1, n1) = self.history[0], self.history[-1]
        if t1 - t0 >= 0.5:
            self.rate_hz = (n1 - n0) / (t1 - t0)

    def report(self) -> list[tuple[str, tuple[int, int, int]]]:
        """The figures as (line, colour): red where something is wrong."""
        if self.stats is None:
            return [("No live sensor (replay or no sampler).", MUTED)]
        s = self.latest
        info = dict(self.info()) if self.info is not None else {}
        odr = float(s.get("odr_hz", 0.0))
        connected = s.get("connected", 0.0) == 1.0
        out = [(describe_sensor(info) + (" — connected" if connected else " — NOT connected"),
                GREEN if connected else RED)]  # fmt: skip
        if self.rate_hz is None:
            out.append(("Rate: measuring…", MUTED))
        else:
            off = abs(self.rate_hz - odr) > 0.05 * odr if odr else False
            out.append((f"Rate: {self.rate_hz:.1f} Hz (set {odr:.0f} Hz)", RED if off else TEXT))
        lost = s.get("lost_samples", 0.0)
        out.append((f"Lost samples: {lost:.0f} in {s.get('gaps', 0.0):.0f} gaps, "
                    f"FIFO overflows {s.get('fifo_overflows', 0.0):.0f}",
                    RED if lost else TEXT))  # fmt: skip
        errors = s.get("i2c_errors", 0.0)
        out.append((f"I2C errors: {errors:.0f}   reconnects: {s.get('reconnects', 0.0):.0f}   "
                    f"stalls: {s.get('stalls', 0.0):.0f}", RED if errors else TEXT))  # fmt: skip
        out.append((f"Chip clock error: {s.get('clock_error_ppm', 0.0):+.0f} ppm   resyncs: "
                    f"{s.get('resyncs', 0.0):.0f}", TEXT))  # fmt: skip
        out.append((f"Read lateness p99: {s.get('lateness_p99_s', 0.0) * 1000:.1f} ms   "
                    f"samples: {s.get('samples', 0.0):.0f}", MUTED))  # fmt: skip
        if info.get("last_error"):
            out.append((f"Last error: {info['last_error']}", RED))
        return out

    def items(self) -> list[tuple[str, Callable[[], None]]]:
        return [("Back", self.close)]

    def body(self, surface: pygame.Surface, layout: Layout, top: int) -> int:
        return self.lines(surface, layout, top, list(self.report()))


class ClinicianMenuScene(ClinicianScene):
    """Everything a clinician may do; patients never get here without the PIN."""

    title = "Clinician menu"
    clinician_only = True
    columns_wide = 3
    columns_tall = 2

    def __init__(self, app: AppContext, kiosk: Kiosk | None = None) -> None:
        super().__init__(app)
        self.kiosk = kiosk

    def exit(self) -> None:
        if self.kiosk is not None:
            self.kiosk.lock()

    def items(self) -> list[tuple[str, Callable[[], None]]]:
        items: list[tuple[str, Callable[[], None]]] = [("Calibrate board", self.calibrate)]
        for key, (label, _) in CLINICIAN_SCREENS.items():
            items.append((label, lambda k=key: self.open_screen(k)))
        items += [
            ("Sensor diagnostics", self.diagnostics),
            ("Change PIN", self.change_pin),
            ("Leave kiosk", self.leave),
            ("Reboot", self.reboot),
            ("Shut down", self.shut_down),
            ("Lock", self.close),
        ]
        return items

    # -- actions --------------------------------------------------------------------------------
    def calibrate(self) -> None:
        if self.app.sample_reader is None:
            self.app.push(MessageScene(self.app, "Calibration", "No live sensor to calibrate."))
            return
        from wobble_trainer.app.scenes.calibrate import CalibrationScene

        self.app.push(CalibrationScene(self.app))

    def open_screen(self, key: str) -> None:
        label = CLINICIAN_SCREENS[key][0]
        cls = find_screen(key)
        if cls is None:
            self.app.push(
                MessageScene(
                    self.app,
                    f"{label}: not available",
                    f"This version of the trainer has no {label.lower()} screen yet.",
                )
            )
            return
        gate = self.kiosk.gate if self.kiosk is not None else None
        options: dict[str, Any] = {"allow_back": True}
        if gate is not None:
            options["clinician_gate"] = gate
        self.app.push(build_scene(cls, self.app, **options))

    def diagnostics(self) -> None:
        k = self.kiosk
        self.app.push(
            DiagnosticsScene(
                self.app,
                k.sampler_stats if k is not None else None,
                k.sampler_info if k is not None else None,
            )
        )

    def change_pin(self) -> None:
        if self.kiosk is None:
            self.app.push(MessageScene(self.app, "Change PIN", "The PIN is used in kiosk mode."))
            return
        kiosk = self.kiosk

        def done() -> None:
            self.app.push(MessageScene(self.app, "PIN changed", "The new PIN is in use."))

        self.app.push(PinPadScene(self.app, kiosk, mode="set", title="New clinician PIN",
                                  on_success=done))  # fmt: skip

    def leave(self) -> None:
        def leave_now() -> None:
            if self.kiosk is not None:
                self.kiosk.allow_exit("clinician left the kiosk")
            else:
                self.app.quit_requested = True

        self.app.push(
            ConfirmScene(
                self.app,
                "Leave the trainer?",
                "The trainer closes. Under systemd it does not restart by itself: "
                "`sudo systemctl start wobble-trainer` or a reboot brings it back.",
                "Leave",
                leave_now,
            )
        )

    def _power(self, verb: str, run: Callable[[], tuple[bool, str]]) -> Callable[[], None]:
        def go() -> None:
            ok, error = run()
            if ok:
                self.app.push(MessageScene(self.app, f"{verb}…", "Please wait."))
            else:
                self.app.push(
                    MessageScene(
                        self.app,
                        f"{verb} failed",
                        f"{error}. The service user may lack permission: see systemd/README.md.",
                    )
                )

        return go

    def reboot(self) -> None:
        power = self.kiosk.power if self.kiosk is not None else None
        if power is None:
            self.app.push(MessageScene(self.app, "Reboot", "Only in kiosk mode."))
            return
        self.app.push(ConfirmScene(self.app, "Reboot?", "The trainer restarts in about a minute.",
                                   "Reboot", self._power("Rebooting", power.reboot)))  # fmt: skip

    def shut_down(self) -> None:
        power = self.kiosk.power if self.kiosk is not None else None
        if power is None:
            self.app.push(MessageScene(self.app, "Shut down", "Only in kiosk mode."))
            return
        self.app.push(
            ConfirmScene(
                self.app,
                "Shut down?",
                "Switch the power off only when the screen has gone dark.",
                "Shut down",
                self._power("Shutting down", power.poweroff),
            )
        )

    def body(self, surface: pygame.Surface, layout: Layout, top: int) -> int:
        if self.app.profile is not None:
            name = getattr(self.app.profile, "name", "")
            return self.lines(surface, layout, top, [(f"Patient: {name}", ACCENT)])
        return top
