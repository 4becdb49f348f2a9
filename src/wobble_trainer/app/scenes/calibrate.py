"""Calibration in the app: the same hands-free procedure as ``wobble calibrate``, on screen."""

from __future__ import annotations

import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, Layout
from wobble_trainer.app.scene import Activity, AppContext, Scene, Tick
from wobble_trainer.app.widgets import draw_progress_ring
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.calibration import CalibrationProcedure, StepId
from wobble_trainer.tilt.calibration_session import SIM_POSES


class CalibrationScene(Scene):
    """Runs :class:`CalibrationProcedure` on the live samples, then starts ``then``."""

    title = "Calibration"

    def __init__(self, app: AppContext, then: Activity | None = None) -> None:
        super().__init__(app)
        self.then = then
        self.procedure = CalibrationProcedure(app.device)
        self.reader = app.sample_reader() if app.sample_reader else None
        self._step: StepId | None = None
        self.saved = False

    def update(self, dt: float, tick: Tick) -> None:
        if self.reader is None:
            return
        samples = self.reader.read_new()
        if len(samples):
            self.procedure.feed_batch(samples["t"], samples["acc"], samples["gyr"])
        if self.procedure.step != self._step:
            if self._step is not None:
                self.app.feedback.cue(Cue.SELECT)
            self._step = self.procedure.step
        if self.procedure.done and not self.saved:
            self.saved = True
            result = self.procedure.result
            if result is not None and self.app.save_calibration is not None:
                self.app.save_calibration(result)
            self.app.feedback.cue(Cue.END)
            if self.then is not None:
                self.app.replace(self.then.factory(self.app))
            else:
                self.app.pop()

    def command(self, command: Command) -> None:
        if command in (Command.BACK, Command.MENU):
            self.app.pop()

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return SIM_POSES[self.procedure.step]

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        surface.fill(BACKGROUND)
        p = self.procedure
        y = layout.title(surface, f"Calibration {p.step_number}/6")
        area = pygame.Rect(layout.margin * 2, y, layout.width - 4 * layout.margin, layout.height)
        y += layout.wrapped(surface, p.instruction, layout.body_size, area, ACCENT)
        area.top = y + layout.margin
        y += layout.wrapped(surface, p.detail, layout.small_size, area) + 2 * layout.margin
        radius = max(20, min(layout.width, layout.height - y) // 5)
        center = (layout.width // 2, y + radius + layout.margin)
        pygame.draw.circle(surface, (50, 60, 85), center, radius, max(3, radius // 6))
        draw_progress_ring(surface, center, radius, p.step_progress, GREEN)
        if p.hint:
            layout.text(
                surface,
                p.hint,
                layout.small_size,
                (layout.width // 2, center[1] + radius + layout.small_size),
                MUTED,
            )
