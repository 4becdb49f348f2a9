"""Who is training, in a clinic's kiosk: the patient types their own patient code.

The list of every patient is never shown to whoever walks up to the trainer. A patient types
the short code their clinician gave them (shown in the clinician's profile screen) on a keypad
(touch, or the digits of a keyboard) and reaches their own profile only; "Guest" trains without
a profile; "Clinician" asks for the PIN and opens the full list, for a clinician who picks the
patient before handing over. Wrong codes cost growing waits (:class:`~wobble_trainer.app.kiosk.
CodeAttempts`), and the code is shown as dots while typed: someone may be watching.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.kiosk import KEYPAD, draw_button, grid_rects, keypad_key, kiosk_of
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import AppContext, Scene
from wobble_trainer.storage import StorageError
from wobble_trainer.storage.schema import PATIENT_CODE_DIGITS

PROMPT = "Type your patient code"
HINT = "Your clinician gave you this code. No code? Ask your clinician, or train as Guest."


class PatientCodeScene(Scene):
    """ "Who is training?" by patient code; sets ``app.profile`` and goes back to the scene
    below (the home screen)."""

    title = "Who is training?"
    person_badge = False
    """Nobody is chosen yet: no badge over the keypad."""

    def __init__(
        self,
        app: AppContext,
        *,
        clinician_gate: Callable[[Callable[[], None]], None] | None = None,
        allow_back: bool = False,
    ) -> None:
        super().__init__(app)
        self.gate = clinician_gate
        self.allow_back = allow_back
        self.entered = ""
        self.message = PROMPT
        self.message_color = TEXT
        self.done = False
        self._opened_with = app.profile
        """Who was training when the screen opened (a switch: the person before)."""

    def resume(self) -> None:
        """Back on top: if the clinician chose the patient meanwhile (clinician menu, Profiles),
        that person trains and no code is needed."""
        profile = self.app.profile
        if profile is not None and profile != self._opened_with:
            self._leave()

    # -- input ----------------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """A keypad key: a digit, "DEL" or "OK"."""
        if self.done:
            return
        if key == "DEL":
            self.entered = self.entered[:-1]
        elif key == "OK":
            self.submit()
        elif key.isdigit() and len(key) == 1 and len(self.entered) < PATIENT_CODE_DIGITS:
            self.entered += key

    def handle_key(self, event: Any) -> bool:
        """Digits and Backspace from a keyboard (the kiosk hands key events here first)."""
        key = keypad_key(event)
        if key is not None:
            self.press(key)
        return key is not None

    def command(self, command: Command) -> None:
        if command in (Command.SELECT, Command.PAUSE):
            self.submit()
        elif command is Command.BACK and self.allow_back:
            self._leave()

    def retry_after(self) -> float:
        kiosk = kiosk_of(self.app)
        return kiosk.codes.retry_after() if kiosk is not None else 0.0

    def submit(self) -> None:
        """Check the typed code: the profile it belongs to trains now."""
        if self.done:
            return
        code, self.entered = self.entered, ""
        wait = self.retry_after()
        if wait > 0:
            self._say(f"Too many wrong codes. Try again in {math.ceil(wait)} s.", RED)
            return
        if len(code) != PATIENT_CODE_DIGITS:
            self._say(f"A patient code has {PATIENT_CODE_DIGITS} digits.", RED)
            return
        db = self.app.db
        if db is None:
            self._say("No database: profiles are not available. Train as Guest.", RED)
            return
        try:
            profile = db.profiles.by_code(code)
        except StorageError as exc:
            self._say(str(exc), RED)
            return
        kiosk = kiosk_of(self.app)
        if profile is None:
            delay = kiosk.codes.failed() if kiosk is not None else 0.0
            extra = f" Wait {math.ceil(delay)} s." if delay > 0 else ""
            self._say(f"No patient has that code. Check it and try again.{extra}", RED)
            return
        if kiosk is not None:
            kiosk.codes.succeeded()
        self.app.profile = profile
        self._leave()

    def guest(self) -> None:
        """Train without a profile (nothing is stored for anybody's record)."""
        self.app.profile = None
        self._leave()

    def clinician(self) -> None:
        """The clinician picks the patient (after the PIN) from the full list."""
        from wobble_trainer.app.scenes.profiles import ProfileSelectScene

        def pick() -> None:
            select = ProfileSelectScene(
                self.app, then=self._picked, clinician_gate=self.gate, allow_back=True
            )
            # The list of everybody is the clinician's: the kiosk stays unlocked while it is
            # open and locks once it is closed.
            select.clinician_only = True
            self.app.push(select)

        kiosk = kiosk_of(self.app)
        if kiosk is None:
            pick()
        else:
            kiosk.require_clinician(pick, "Clinician: choose the patient")

    def _picked(self, app: AppContext) -> None:
        app.pop()  # the list
        self._leave()

    def _leave(self) -> None:
        self.done = True
        if self.app.scene is self:
            self.app.pop()
        elif self in self.app.stack:
            self.app.stack.remove(self)

    def _say(self, text: str, color: tuple[int, int, int] = TEXT) -> None:
        self.message, self.message_color = text, color

    # -- drawing --------------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        if layout.width > layout.height * 1.2:
            info = pygame.Rect(m, m, layout.width // 2 - 2 * m, layout.height - 2 * m)
            pad = pygame.Rect(
                layout.width // 2 + m, m, layout.width // 2 - 2 * m, layout.height - 2 * m
            )
        else:
            info = pygame.Rect(m, m, layout.width - 2 * m, layout.height * 2 // 5)
            pad = pygame.Rect(
                2 * m, info.bottom + m, layout.width - 4 * m, layout.height - info.bottom - 2 * m
            )
        title_area = pygame.Rect(info.left, info.top, info.width, info.height // 4)
        y = info.top + layout.wrapped(surface, self.title, layout.body_size, title_area, ACCENT)
        # The digits typed, as dots: someone may be watching.
        dot_r = max(6, layout.small_size // 3)
        spacing = dot_r * 3
        x0 = info.centerx - (PATIENT_CODE_DIGITS - 1) * spacing // 2
        cy = y + m + dot_r * 2
        for i in range(PATIENT_CODE_DIGITS):
            filled = i < len(self.entered)
            pygame.draw.circle(surface, ACCENT if filled else MUTED, (x0 + i * spacing, cy),
                               dot_r, 0 if filled else 2)  # fmt: skip
        wait = self.retry_after()
        message, color = self.message, self.message_color
        if wait > 0:
            message, color = f"Too many wrong codes. Try again in {math.ceil(wait)} s.", RED
        buttons_h = layout.body_size * 2
        area = pygame.Rect(info.left, cy + dot_r * 2 + m, info.width,
                           info.bottom - cy - buttons_h - 2 * m)  # fmt: skip
        used = layout.wrapped(surface, message, layout.small_size, area, color)
        hint_area = pygame.Rect(area.left, area.top + used + m // 2, area.width,
                                max(0, area.height - used))  # fmt: skip
        layout.wrapped(surface, HINT, layout.small_size, hint_area, MUTED)
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Guest", self.guest),
            ("Clinician", self.clinician),
        ]
        if self.allow_back:
            actions.append(("Cancel", self._leave))
        row = pygame.Rect(info.left, info.bottom - buttons_h, info.width, buttons_h)
        for rect, (label, action) in zip(
            grid_rects(row, len(actions), len(actions), m // 2), actions, strict=True
        ):
            draw_button(surface, layout, rect, label)
            self.buttons.append((rect, action))
        for rect, key in zip(grid_rects(pad, len(KEYPAD), 3, max(4, m // 2)), KEYPAD, strict=True):
            label = "Delete" if key == "DEL" else key
            enabled = wait <= 0 or key == "DEL"
            draw_button(surface, layout, rect, label, enabled=enabled,
                        color=GREEN if key == "OK" and enabled else None)  # fmt: skip
            self.buttons.append((rect, lambda k=key: self.press(k)))
