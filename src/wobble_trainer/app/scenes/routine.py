"""A guided step of the home routine: the movement animated, a timer or a rep count, and "done"
by the hardware button (or Enter), a held forward lean, or a tap.

The person may be seated or beside the board, so nothing waits for the board: a timer step's
clock runs by itself after a short get-ready (it ends the step when it runs out); a rep step's
animation paces the repetitions and counts them. Done is logged in ``db.plan_steps`` for the
profile and the day (with the programme's id and week, and the seconds or reps done); leaving
with BACK logs nothing. A paused step's clocks stop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, PANEL, TEXT, Layout
from wobble_trainer.app.scene import AppContext, Scene, Tick
from wobble_trainer.app.scenes.menus import lean_menu_step
from wobble_trainer.app.scenes.profiles import draw_button, fit_size
from wobble_trainer.app.widgets import draw_pause_veil, draw_progress_ring
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.home_routine import Measure, Movement, RoutineStep
from wobble_trainer.storage import StorageError

GET_READY_S = 3.0
"""Time to get into position before a timer starts."""
DONE_SHOWN_S = 1.5

Point = tuple[float, float]


class GuidedStepScene(Scene):
    """One routine step, guided; ``on_done(step, amount_done)`` after it is logged."""

    def __init__(
        self,
        app: AppContext,
        step: RoutineStep,
        *,
        day: date | None = None,
        programme_id: str | None = None,
        week: int | None = None,
        on_done: Callable[[RoutineStep, float], None] | None = None,
    ) -> None:
        super().__init__(app)
        self.step = step
        self.title = step.title
        self.day = day or date.today()
        self.programme_id = programme_id
        self.week = week
        self.on_done = on_done
        self.t = 0.0
        """Time shown (s), stopped while paused."""
        self.paused = False
        self.finished = False
        self.error = ""
        self._finished_for = 0.0
        self.menu = LeanMenu(1, allow_back=True)

    # -- progress ---------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        """Seconds of the movement itself (after the get-ready of a timer step)."""
        ready = GET_READY_S if self.step.measure is Measure.TIMER else 0.0
        return max(0.0, self.t - ready)

    @property
    def reps_done(self) -> int:
        """Repetitions the animation has paced so far (rep steps), at most the target."""
        return min(int(self.step.total), int(self.elapsed / self.step.rep_s + 1e-9))

    @property
    def amount_done(self) -> float:
        if self.step.measure is Measure.TIMER:
            return min(self.elapsed, self.step.total)
        return float(self.reps_done)

    @property
    def fraction(self) -> float:
        return min(1.0, self.amount_done / self.step.total) if self.step.total else 1.0

    @property
    def side(self) -> str:
        """ "left"/"right" for a per-side step (first half left), else ""."""
        if not self.step.per_side:
            return ""
        return "left" if self.fraction < 0.5 else "right"

    # -- logic ------------------------------------------------------------------------------
    def update(self, dt: float, tick: Tick) -> None:
        if self.finished:
            self._finished_for += dt
            if self._finished_for >= DONE_SHOWN_S and self.app.scene is self:
                self.app.pop()
            return
        if not self.paused:
            before = self.reps_done
            self.t += dt
            if self.step.measure is Measure.REPS and self.reps_done > before:
                self.app.feedback.cue(Cue.SELECT)
            if self.step.measure is Measure.TIMER and self.elapsed >= self.step.total - 1e-9:
                self.done()
                return
        lean_menu_step(self.app, self.menu, dt, tick, lambda _: self.done(), self.leave)

    def command(self, command: Command) -> None:
        if self.finished:
            return
        if command in (Command.PAUSE, Command.SELECT):
            self.done()
        elif command in (Command.BACK, Command.MENU):
            self.leave()
        elif command in (Command.UP, Command.DOWN):
            self.paused = not self.paused

    def leave(self) -> None:
        """Stop without logging (the step stays to do)."""
        if self.app.scene is self:
            self.app.pop()

    def done(self) -> None:
        """The step is done: log it for the profile and the day."""
        if self.finished:
            return
        self.finished = True
        self.app.feedback.cue(Cue.END)
        amount = self.amount_done if self.amount_done > 0 else self.step.total
        profile = self.app.profile
        db = self.app.db
        if db is not None and profile is not None and not profile.is_guest:
            timer = self.step.measure is Measure.TIMER
            try:
                db.plan_steps.complete(
                    profile.id,
                    self.day,
                    self.step.key,
                    programme_id=self.programme_id,
                    week=self.week,
                    reps=None if timer else int(amount),
                    duration_s=round(self.t, 1) if timer else round(self.elapsed, 1),
                )
            except (StorageError, ValueError, OSError) as exc:
                self.error = f"Could not be saved: {exc}"
        if self.on_done is not None:
            self.on_done(self.step, amount)

    # -- drawing ----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        # The title fitted between the corners (the person's badge, the kiosk's padlock).
        title_w = layout.width - 2 * (layout.width // 4 + m)
        size = fit_size(layout, self.step.title, layout.title_size, title_w)
        title = layout.text(surface, self.step.title, size,
                            (layout.width // 2, m + layout.title_size // 2))  # fmt: skip
        y = title.bottom + m
        text_h = layout.body_size * 2 + m
        area = pygame.Rect(2 * m, y, layout.width - 4 * m, text_h)
        layout.wrapped(surface, self.step.instructions, layout.small_size, area)
        y += text_h
        bh = layout.body_size * 3 // 2
        hint_h = layout.small_size * 3 // 2
        bottom = layout.height - bh - hint_h - 2 * m
        half = (layout.width - 3 * m) // 2
        picture = pygame.Rect(m, y, half, bottom - y)
        if layout.portrait:
            picture = pygame.Rect(m, y, layout.width - 2 * m, (bottom - y) // 2)
        pygame.draw.rect(surface, PANEL, picture, border_radius=m)
        draw_movement(surface, picture.inflate(-m, -m), self.step.movement, self.elapsed)
        counter = pygame.Rect(picture.right + m, y, half, bottom - y)
        if layout.portrait:
            counter = pygame.Rect(
                m, picture.bottom + m, layout.width - 2 * m, bottom - picture.bottom - m
            )
        self._draw_counter(surface, layout, counter)
        bw = max(layout.width // 4, layout.body_size * 4)
        done_rect = pygame.Rect(layout.width - bw - m, layout.height - bh - m, bw, bh)
        back_rect = pygame.Rect(m, layout.height - bh - m, bw, bh)
        if not self.finished:
            draw_button(surface, layout, done_rect, "Done", color=GREEN)
            self.buttons.append((done_rect, self.done))
            draw_button(surface, layout, back_rect, "Back")
            self.buttons.append((back_rect, self.leave))
            hint = "Press the button or lean forward and hold: done"
            layout.text(surface, hint, fit_size(layout, hint, layout.small_size,
                        layout.width - 2 * m), (layout.width // 2, done_rect.top - hint_h // 2),
                        MUTED)  # fmt: skip
        if self.paused:
            draw_pause_veil(surface, layout, "Paused", "Lean forward or press the button: done")

    def _draw_counter(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        radius = max(24, min(area.width, area.height) // 2 - layout.margin)
        center = area.center
        pygame.draw.circle(surface, PANEL, center, radius, max(3, radius // 6))
        draw_progress_ring(surface, center, radius, self.fraction, GREEN)
        step = self.step
        if self.finished:
            big, color = "Done!", GREEN
        elif step.measure is Measure.TIMER and self.t < GET_READY_S:
            big, color = f"Get ready {math.ceil(GET_READY_S - self.t)}", ACCENT
        elif step.measure is Measure.TIMER:
            # Per side: the side's own seconds left (the first half is the left side's).
            end = step.amount if step.per_side and self.elapsed < step.amount else step.total
            big, color = f"{max(0.0, end - self.elapsed):.0f} s", TEXT
        else:
            done = self.reps_done
            if step.per_side and done >= step.amount and done < step.total:
                done -= int(step.amount)  # the second side counts from 0 again
            big = f"{min(done, int(step.amount) if step.per_side else done)} / {step.amount:g}"
            color = TEXT
        size = fit_size(layout, big, layout.title_size, radius * 2 - layout.margin)
        layout.text(surface, big, size, center, color)
        under = self.error or (f"{self.side} side" if self.side else "")
        if under:
            layout.text(surface, under, layout.small_size,
                        (center[0], center[1] + size), MUTED)  # fmt: skip


# --- the animations -------------------------------------------------------------------------------
def _line(surface: pygame.Surface, a: Point, b: Point, width: int, color=TEXT) -> None:
    pygame.draw.line(surface, color, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), width)


def _floor_y(rect: pygame.Rect) -> float:
    return rect.bottom - rect.height * 0.05


def _figure(
    surface, rect, *, lift_left=0.0, lift_right=0.0, rise=0.0, lean=0.0, x=0.5, floor=True
) -> None:
    """A side-view stick figure standing on the floor of ``rect``: ``lift_*`` knee lift (0-1),
    ``rise`` on the toes (0-1), ``lean`` forward (0-1), ``x`` across the picture (0-1);
    ``floor``: draw the floor line too."""
    h = rect.height * 0.85
    w = max(3, round(h / 40))
    foot_y = _floor_y(rect) - rise * h * 0.06
    hip = (rect.left + rect.width * x + lean * h * 0.08, foot_y - h * 0.45)
    shoulder = (hip[0] + lean * h * 0.15, hip[1] - h * 0.3)
    head = (shoulder[0] + lean * h * 0.04, shoulder[1] - h * 0.1)
    pygame.draw.circle(surface, TEXT, (round(head[0]), round(head[1])), max(4, round(h * 0.07)), w)
    _line(surface, hip, shoulder, w)
    _line(surface, shoulder, (shoulder[0] + h * 0.12, shoulder[1] + h * 0.2), w)
    for lift, shade in ((lift_left, MUTED), (lift_right, TEXT)):
        knee = (hip[0] + lift * h * 0.18, hip[1] + h * (0.22 - 0.1 * lift))
        ankle = (knee[0] - lift * h * 0.05, foot_y - lift * h * 0.18)
        _line(surface, hip, knee, w, shade)
        _line(surface, knee, ankle, w, shade)
        _line(surface, ankle, (ankle[0] + h * 0.08, ankle[1] + rise * h * 0.03), w, shade)
    if floor:
        _line(surface, (rect.left, _floor_y(rect)), (rect.right, _floor_y(rect)), 2, MUTED)


def _foot(surface, rect, angle: float, toe_offset: Point = (0.0, 0.0)) -> Point:
    """A foot seen from the side hanging from a shin, pointed by ``angle`` (rad, + = up);
    returns where the big toe is."""
    h = rect.height
    w = max(3, h // 30)
    ankle = (rect.centerx - h * 0.15, rect.centery)
    knee = (ankle[0] - h * 0.05, rect.top + h * 0.1)
    _line(surface, knee, ankle, w)
    toe = (ankle[0] + h * 0.3 * math.cos(angle) + toe_offset[0],
           ankle[1] - h * 0.3 * math.sin(angle) + toe_offset[1])  # fmt: skip
    _line(surface, ankle, toe, w)
    return toe


def draw_movement(surface: pygame.Surface, rect: pygame.Rect, movement: Movement, t: float) -> None:
    """Draw ``movement`` as it looks ``t`` seconds into it (a looping animation)."""
    phase = (t % 2.0) / 2.0
    swing = math.sin(2 * math.pi * phase)
    if movement is Movement.MARCH:
        _figure(surface, rect, lift_left=max(0.0, swing), lift_right=max(0.0, -swing))
    elif movement is Movement.CALF_RAISE:
        p = (t % 4.0) / 4.0  # up in 1 s, down slowly in 3 s
        _figure(surface, rect, rise=p * 4 if p < 0.25 else 1.0 - (p - 0.25) / 0.75)
    elif movement is Movement.HEEL_TOE_WALK:
        x = 0.2 + 0.6 * ((t % 6.0) / 6.0)
        _figure(surface, rect, lift_left=max(0.0, swing) * 0.4,
                lift_right=max(0.0, -swing) * 0.4, rise=0.8 if t % 12.0 >= 6.0 else 0.0,
                x=x)  # fmt: skip
    elif movement is Movement.STEP_UP:
        floor = _floor_y(rect)
        _line(surface, (rect.left, floor), (rect.right, floor), 2, MUTED)
        box = pygame.Rect(0, 0, rect.width // 3, rect.height // 6)
        box.bottomleft = (rect.centerx, round(floor))
        pygame.draw.rect(surface, MUTED, box, 2)
        up = 0.5 - 0.5 * math.cos(2 * math.pi * ((t % 3.0) / 3.0))
        _figure(surface, rect.move(round(up * rect.width * 0.15), round(-up * box.height)),
                lift_right=1.0 - up, floor=False)  # fmt: skip
    elif movement is Movement.WALL_STRETCH:
        pygame.draw.line(
            surface, MUTED, (rect.right - 6, rect.top), (rect.right - 6, rect.bottom), 4
        )
        _figure(surface, rect, lean=0.6 + 0.2 * (0.5 + 0.5 * swing), lift_right=0.3, x=0.55)
    elif movement is Movement.ALPHABET:
        # The toe traces a letter: an "A" drawn stroke by stroke, over and over.
        points = [(-1.0, 1.0), (0.0, -1.0), (1.0, 1.0), (0.5, 0.0), (-0.5, 0.0)]
        s = (t % 5.0) / 5.0 * (len(points) - 1)
        i = min(int(s), len(points) - 2)
        f = s - i
        px = points[i][0] + (points[i + 1][0] - points[i][0]) * f
        py = points[i][1] + (points[i + 1][1] - points[i][1]) * f
        r = rect.height * 0.08
        toe = _foot(surface, rect, 0.2, (px * r, py * r))
        pygame.draw.circle(surface, ACCENT, (round(toe[0]), round(toe[1])), 6)
    elif movement is Movement.CIRCLES:
        a = 2 * math.pi * ((t % 3.0) / 3.0)
        r = rect.height * 0.08
        toe = _foot(surface, rect, 0.2, (r * math.cos(a), r * math.sin(a)))
        pygame.draw.circle(surface, ACCENT, (round(toe[0]), round(toe[1])), 6)
    elif movement is Movement.ANKLE_PUMP:
        _foot(surface, rect, 0.5 * swing)
    elif movement is Movement.BAND:
        toe = _foot(surface, rect, 0.35 * swing)
        anchor = (rect.right - 8, rect.centery)
        _line(surface, toe, anchor, 3, ACCENT)
