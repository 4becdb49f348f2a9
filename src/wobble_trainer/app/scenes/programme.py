"""TODAY'S PLAN: the assigned programme's exercises for today, done or not, started hands-free.

:class:`TodayPlanScene` shows where the person is in the programme (week, stage, maintenance),
this week's training days, and today's bouts (one per leg per exercise) marked done from
today's stored sessions (:func:`wobble_trainer.programme.today_plan`). Choosing a bout starts it
— board bouts as the hold challenge or circle tracing with the programme's settings (calibrating
first if needed), floor bouts as :class:`FloorStanceScene`, a timer with instructions — and the
remaining bouts of that exercise follow after the programme's rest (30 s, shown with a
countdown; lean forward or tap to skip it, lean back to stop).

:class:`HomeProgrammeScene` pages through the home ankle programme's guidance text.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.kiosk import can_see_profile
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Scene, Tick
from wobble_trainer.app.scenes.menus import lean_menu_command, lean_menu_step
from wobble_trainer.app.scenes.profiles import (
    AUTOPILOT_LEAN,
    draw_button,
    draw_lean_hint,
    draw_option_list,
    fit_size,
)
from wobble_trainer.app.scenes.routine import GuidedStepScene
from wobble_trainer.app.session_log import SessionLog
from wobble_trainer.app.widgets import draw_pause_veil, draw_progress_ring, lean_hint
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.home_routine import Placement, RoutineStep, routine_for
from wobble_trainer.programme import (
    CIRCLES_KIND,
    FLOOR_KIND,
    HOLD_KIND,
    HOME_PROGRAMME,
    Bout,
    BoutStatus,
    DayPlan,
    DayType,
    today_plan,
)
from wobble_trainer.storage import StorageError

GET_READY_S = 5.0
"""Time to get into position before a floor bout's 3-2-1."""
COUNTDOWN_S = 3


def bout_activity(bout: Bout) -> Activity:
    """The app activity that carries out a board bout, with the programme's settings."""
    settings = bout.settings()
    kind = bout.exercise.kind
    if kind == HOLD_KIND:
        from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings

        hold = HoldSettings(**settings)
        return Activity(
            HOLD_KIND, "Hold challenge", bout.label, lambda app: HoldChallenge(app, hold)
        )
    if kind == CIRCLES_KIND:
        from wobble_trainer.app.activities.circles import CircleSettings, CircleTracing

        circles = CircleSettings(**settings)
        return Activity(
            CIRCLES_KIND, "Circle tracing", bout.label, lambda app: CircleTracing(app, circles)
        )
    if kind == FLOOR_KIND:
        return Activity(
            FLOOR_KIND,
            "Floor stance",
            bout.label,
            lambda app: FloorStanceScene(app, bout),
            seated=True,
        )
    raise ValueError(f"no activity carries out {kind!r}")


def start_bout(app: AppContext, bout: Bout) -> None:
    """Start a bout the way the activity menu starts an activity (calibrating first if the board
    is needed and not calibrated)."""
    from wobble_trainer.app.scenes.menus import activity_flow

    activity_flow(app, bout_activity(bout))()


class PlanStage(StrEnum):
    LIST = "list"
    REST = "rest"


class TodayPlanScene(Scene):
    """Today's programme bouts for the current profile."""

    title = "Today's plan"

    def __init__(self, app: AppContext, today: date | None = None) -> None:
        super().__init__(app)
        self.today = today
        self.plan: DayPlan | None = None
        self.message = ""
        self.stage = PlanStage.LIST
        self.queue: list[Bout] = []
        """Bouts of the chosen exercise still to come (the first one is running or next)."""
        self.running: Bout | None = None
        self.rest_left = 0.0
        self._shown_for = 0.0
        self.menu = LeanMenu(1)
        self.refresh()

    # -- data -------------------------------------------------------------------------------
    @property
    def day(self) -> date:
        return self.today or date.today()

    def refresh(self) -> None:
        self.plan, self.message = None, ""
        self.steps, self.steps_done = (), set()
        profile = self.app.profile
        if self.app.db is None:
            self.message = "No database: the programme cannot be followed here."
        elif profile is None or profile.is_guest:
            self.message = "Choose your profile to see your programme."
        elif not can_see_profile(self.app, profile):
            self.message = "Only your own programme can be shown here."
        else:
            try:
                self.plan = today_plan(self.app.db, profile.id, self.day)
                if self.plan is not None:
                    # The rest of the home routine, as the programme week has it.
                    self.steps = routine_for(self.plan.week, self.plan.day_in_week)
                    self.steps_done = {
                        r.step_key for r in self.app.db.plan_steps.on_day(profile.id, self.day)
                    }
            except StorageError as exc:
                self.message = str(exc)
            else:
                if self.plan is None:
                    self.message = (
                        "No programme assigned. A clinician can assign one in your profile."
                    )
        highlight = 0
        if self.plan is not None:
            undone = [i for i, done in enumerate(self._done_flags()) if not done]
            highlight = undone[0] if undone else 0
        self.menu = LeanMenu(len(self.options))
        self.menu.highlight = highlight
        self._shown_for = 0.0

    @property
    def entries(self) -> list[RoutineStep | BoutStatus]:
        """The day's plan in order: warm-up and strength steps, the board bouts, then the
        steps that come after them (the stretch)."""
        if self.plan is None:
            return []
        before = [s for s in self.steps if s.placement is Placement.BEFORE]
        after = [s for s in self.steps if s.placement is Placement.AFTER]
        return [*before, *self.plan.bouts, *after]

    def _done_flags(self) -> list[bool]:
        return [
            e.done if isinstance(e, BoutStatus) else e.key in self.steps_done
            for e in self.entries
        ]

    @property
    def options(self) -> list[str]:
        labels = [
            (e.bout.label if isinstance(e, BoutStatus) else e.label) + ("  - done" if done else "")
            for e, done in zip(self.entries, self._done_flags(), strict=True)
        ]
        return [*labels, "Home exercises guide"]

    @property
    def routine_done(self) -> bool:
        """Every step of the day's home routine that is not optional is done."""
        return all(s.key in self.steps_done for s in self.steps if not s.optional)

    def done(self, bout: Bout) -> bool:
        return self.plan is not None and any(b.done for b in self.plan.bouts if b.bout == bout)

    # -- flow -------------------------------------------------------------------------------
    def enter(self) -> None:
        self.refresh()

    def resume(self) -> None:
        """Back from a bout: rest, then the next bout of the exercise, if it was completed."""
        self.refresh()
        bout, self.running = self.running, None
        if bout is None or not self.done(bout):
            self.queue = []  # left early: stop the sequence
            self.stage = PlanStage.LIST
            return
        self.queue = [b for b in self.queue if b != bout and not self.done(b)]
        if self.queue:
            self.stage = PlanStage.REST
            self.rest_left = bout.exercise.rest_s
        else:
            self.stage = PlanStage.LIST

    def choose(self, index: int) -> None:
        entries = self.entries
        if self.plan is None or index >= len(entries):
            self.app.push(HomeProgrammeScene(self.app))
            return
        entry = entries[index]
        if isinstance(entry, RoutineStep):
            self.running = None
            self.app.push(
                GuidedStepScene(
                    self.app,
                    entry,
                    day=self.day,
                    programme_id=self.plan.programme.id,
                    week=self.plan.week,
                )
            )
            return
        chosen = entry.bout
        # This bout, then the rest of its exercise not done yet.
        same = [b.bout for b in self.plan.bouts if b.bout.exercise == chosen.exercise]
        self.queue = [chosen] + [b for b in same if b != chosen and not self.done(b)]
        self.start(chosen)

    def start(self, bout: Bout) -> None:
        self.stage = PlanStage.LIST
        self.running = bout
        start_bout(self.app, bout)

    def stop_sequence(self) -> None:
        self.queue = []
        self.stage = PlanStage.LIST
        self.menu = LeanMenu(len(self.options))

    def update(self, dt: float, tick: Tick) -> None:
        self._shown_for += dt
        if self.stage is PlanStage.REST:
            self.rest_left -= dt
            result = self.menu.update(dt, tick.angles)
            if result is Command.BACK:
                self.stop_sequence()
            elif self.rest_left <= 1e-9 or result is Command.SELECT:
                self.start(self.queue[0])
            return
        lean_menu_step(self.app, self.menu, dt, tick, self.choose, self.app.pop)

    def command(self, command: Command) -> None:
        lean_menu_command(self.app, self.menu, command)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self.stage is PlanStage.REST or self._shown_for < 1.5:
            return (0.0, 0.0)
        return (AUTOPILOT_LEAN, 0.0)

    # -- drawing ----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        y = layout.title(surface, self.title)
        if self.stage is PlanStage.REST:
            self._draw_rest(surface, layout, y)
            return
        hint_h = layout.small_size * 2
        if self.plan is None:
            area = pygame.Rect(2 * m, y, layout.width - 4 * m, layout.height // 3)
            y += layout.wrapped(surface, self.message, layout.body_size, area) + m
        else:
            y = self._draw_status(surface, layout, y)
        area = pygame.Rect(2 * m, y, layout.width - 4 * m, layout.height - y - hint_h)
        colors = None
        if self.plan is not None:
            colors = [GREEN if done else TEXT for done in self._done_flags()] + [MUTED]
        draw_option_list(surface, layout, self.options, self.menu, area, self.buttons, colors)
        draw_lean_hint(surface, layout, self.menu, layout.height - hint_h // 2, "start")

    def _draw_status(self, surface: pygame.Surface, layout: Layout, y: int) -> int:
        plan = self.plan
        assert plan is not None
        m = layout.margin
        small = layout.small_size
        layout.text(
            surface,
            plan.heading,
            fit_size(layout, plan.heading, layout.body_size, layout.width - 2 * m),
            (layout.width // 2, y + layout.body_size // 2),
            ACCENT,
        )
        y += layout.body_size + m // 2
        words = {
            DayType.TRAINING: "Training day",
            DayType.DONE: "Today's plan is done. Well done!",
            DayType.REST: "This week's training is done: rest today (or train anyway)",
        }[plan.day_type]
        if plan.day_type is DayType.DONE and not self.routine_done:
            words = "Board work done: the rest of the routine is still to do"
        needed = [st for st in self.steps if not st.optional]
        done = sum(1 for st in needed if st.key in self.steps_done)
        status = (
            f"{words}  -  routine {done} of {len(needed)}  -  "
            f"this week {plan.days_done} of {plan.days_target} days"
        )
        layout.text(
            surface,
            status,
            fit_size(layout, status, small, layout.width - 2 * m),
            (layout.width // 2, y + small // 2),
            GREEN if plan.day_type is DayType.DONE and self.routine_done else TEXT,
        )
        return y + small + m

    def _draw_rest(self, surface: pygame.Surface, layout: Layout, y: int) -> None:
        nxt = self.queue[0]
        total = nxt.exercise.rest_s
        center = (layout.width // 2, (y + layout.height) // 2 - layout.body_size // 2)
        radius = max(30, min(layout.width, layout.height - y) // 4)
        draw_progress_ring(surface, center, radius, 1.0 - self.rest_left / total, GREEN)
        layout.text(surface, f"{max(0.0, self.rest_left):.0f}", layout.title_size, center)
        layout.text(
            surface,
            "Rest",
            layout.body_size,
            (layout.width // 2, center[1] - radius - layout.body_size // 2),
            MUTED,
        )
        text = f"Next: {nxt.label}"
        layout.text(
            surface,
            text,
            fit_size(layout, text, layout.body_size, layout.width - 2 * layout.margin),
            (layout.width // 2, center[1] + radius + layout.body_size // 2 + 4),
        )
        hint, colour = lean_hint(None, "start now", back="stop")
        layout.text(
            surface,
            hint,
            fit_size(layout, hint, layout.small_size, layout.width - 2 * layout.margin),
            (layout.width // 2, layout.height - layout.small_size),
            colour,
        )


# --- floor exercise ----------------------------------------------------------------------------


class FloorPhase(StrEnum):
    READY = "ready"
    COUNTDOWN = "countdown"
    RUNNING = "running"
    DONE = "done"


class FloorStanceScene(Scene):
    """A timed single-leg stance on the floor: instructions, 3-2-1, the clock, the end tone.

    The person stands beside the board, so nothing waits for the board: the clock runs by itself
    (the hardware button or a tap pauses it; BACK or MENU stops: the session stays unfinished,
    cut short). The finished bout is stored as a session of kind ``floor_stance`` with its
    stance, eyes and duration.
    """

    title = "Floor exercise"
    DONE_SHOWN_S = 2.0

    def __init__(self, app: AppContext, bout: Bout) -> None:
        super().__init__(app)
        self.bout = bout
        self.phase = FloorPhase.READY
        self.phase_time = 0.0
        self.elapsed = 0.0
        self.paused = False
        self._last_count = COUNTDOWN_S + 1
        self.log: SessionLog | None = None

    @property
    def duration(self) -> float:
        return self.bout.exercise.work_s

    def update(self, dt: float, tick: Tick) -> None:
        if self.paused:
            return
        self.phase_time += dt
        if self.phase is FloorPhase.READY:
            if self.phase_time >= GET_READY_S - 1e-9:
                self._go(FloorPhase.COUNTDOWN)
        elif self.phase is FloorPhase.COUNTDOWN:
            count = COUNTDOWN_S - int(self.phase_time + 1e-9)
            if 0 < count < self._last_count:
                self._last_count = count
                self.app.feedback.cue(Cue.COUNTDOWN)
            if self.phase_time >= COUNTDOWN_S - 1e-9:
                self._go(FloorPhase.RUNNING)
                self.app.feedback.cue(Cue.GO)
                self.log = SessionLog(self.app, FLOOR_KIND, self.bout.settings())
                self.log.start()
        elif self.phase is FloorPhase.RUNNING:
            self.elapsed += dt
            if self.elapsed >= self.duration - 1e-9:
                self._go(FloorPhase.DONE)
                self.app.feedback.cue(Cue.END)
                if self.log is not None:
                    self.log.finish({"duration_s": round(self.elapsed, 2), "completed": True})
        elif self.phase_time >= self.DONE_SHOWN_S:
            self.app.pop()

    def _go(self, phase: FloorPhase) -> None:
        self.phase = phase
        self.phase_time = 0.0

    def command(self, command: Command) -> None:
        if command in (Command.PAUSE, Command.SELECT) and self.phase is not FloorPhase.DONE:
            self.paused = not self.paused
        elif command in (Command.BACK, Command.MENU):
            # Left early: the session stays unfinished (cut short), as an activity's does, so
            # it does not count as the bout done.
            self.app.pop()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        ex = self.bout.exercise
        y = layout.title(surface, self.bout.label.split(" - ")[0])
        line = ex.title
        layout.text(
            surface,
            line,
            fit_size(layout, line, layout.body_size, layout.width - 2 * m),
            (layout.width // 2, y + layout.body_size // 2),
            ACCENT,
        )
        y += layout.body_size + m
        if self.phase is FloorPhase.READY:
            area = pygame.Rect(2 * m, y, layout.width - 4 * m, layout.height - y)
            layout.wrapped(surface, ex.instructions, layout.body_size, area)
            left = max(0.0, GET_READY_S - self.phase_time)
            layout.text(
                surface,
                f"Starting in {left:.0f} s",
                layout.body_size,
                (layout.width // 2, layout.height - layout.body_size * 2),
                MUTED,
            )
        elif self.phase is FloorPhase.COUNTDOWN:
            count = max(1, COUNTDOWN_S - int(self.phase_time + 1e-9))
            layout.text(
                surface,
                str(count),
                layout.title_size * 2,
                (layout.width // 2, (y + layout.height) // 2),
                ACCENT,
            )
        else:
            radius = max(30, min(layout.width, layout.height - y - 2 * m) // 2 - m)
            center = (layout.width // 2, y + radius + m)
            pygame.draw.circle(surface, (34, 42, 62), center, radius)
            draw_progress_ring(surface, center, radius, self.elapsed / self.duration, GREEN)
            if self.phase is FloorPhase.DONE:
                layout.text(surface, "Done!", layout.title_size, center, GREEN)
            elif ex.eyes_closed:
                layout.text(surface, "Eyes closed", layout.body_size, center, MUTED)
            else:
                left = max(0.0, self.duration - self.elapsed)
                layout.text(surface, f"{left:.0f}", layout.title_size * 3 // 2, center)
        # A touch button to pause (the person may tap the screen from the floor).
        bw, bh = layout.width // 5, layout.small_size * 2
        rect = pygame.Rect(layout.width - bw - m, layout.height - bh - m, bw, bh)
        if self.phase is not FloorPhase.DONE:
            draw_button(surface, layout, rect, "Resume" if self.paused else "Pause")
            self.buttons.append((rect, Command.PAUSE))
        if self.paused:
            draw_pause_veil(surface, layout, "Paused", "Press the button to go on")
            draw_button(surface, layout, rect, "Resume")


# --- home programme guidance -------------------------------------------------------------------


class HomeProgrammeScene(Scene):
    """The home ankle programme, one stage a page: lean left/right to turn, back to leave."""

    title = HOME_PROGRAMME.title

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.menu = LeanMenu(len(HOME_PROGRAMME.stages))
        self._sizes: dict[tuple[int, int, int], int] = {}

    @property
    def page(self) -> int:
        return self.menu.highlight

    def update(self, dt: float, tick: Tick) -> None:
        lean_menu_step(self.app, self.menu, dt, tick, lambda _: self.app.pop(), self.app.pop)

    def command(self, command: Command) -> None:
        lean_menu_command(self.app, self.menu, command)

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        stage = HOME_PROGRAMME.stages[self.page]
        y = layout.title(surface, stage.title)
        small = layout.small_size
        nav_h = max(small * 2, layout.body_size * 5 // 4)
        bottom = layout.height - nav_h - 2 * m - small
        size = layout.body_size
        # Shrink the text until the page fits (long pages on a small landscape screen); worked
        # out once per page and window size, not every frame.
        key = (layout.width, layout.height, self.page)
        if key not in self._sizes:
            while size > small and self._height(layout, stage, size, small) > bottom - y:
                size -= 2
            self._sizes[key] = size
        size = self._sizes[key]
        for item in stage.items:
            area = pygame.Rect(2 * m, y, layout.width - 4 * m, bottom - y)
            y += self._draw_left(surface, layout, f"- {item}", size, area, TEXT) + m // 3
        if stage.note:
            area = pygame.Rect(2 * m, y + m // 2, layout.width - 4 * m, bottom - y)
            self._draw_left(surface, layout, stage.note, small, area, ACCENT)
        layout.text(
            surface,
            HOME_PROGRAMME.source,
            fit_size(layout, HOME_PROGRAMME.source, small, layout.width - 2 * m, 10),
            (layout.width // 2, layout.height - nav_h - m - small // 2),
            MUTED,
        )
        ny = layout.height - nav_h - m
        bw = max(nav_h * 2, layout.width // 6)
        for rect, label, action in (
            (pygame.Rect(m, ny, bw, nav_h), "<", lambda: self.menu.move(-1)),
            (pygame.Rect(layout.width // 2 - bw // 2, ny, bw, nav_h), "Done", self.app.pop),
            (pygame.Rect(layout.width - m - bw, ny, bw, nav_h), ">", lambda: self.menu.move(1)),
        ):
            draw_button(surface, layout, rect, label)
            self.buttons.append((rect, action))
        text = f"{self.page + 1} / {len(HOME_PROGRAMME.stages)}"
        layout.text(
            surface,
            text,
            small,
            (m + bw + (layout.width // 2 - bw // 2 - m - bw) // 2, ny + nav_h // 2),
            MUTED,
        )

    @staticmethod
    def _wrap(layout: Layout, text: str, size: int, width: int) -> list[str]:
        font = layout.font(size)
        lines: list[str] = []
        line = ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if font.size(trial)[0] <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        return lines

    def _lines(self, layout: Layout, text: str, size: int) -> int:
        return len(self._wrap(layout, text, size, layout.width - 4 * layout.margin))

    def _height(self, layout: Layout, stage: Any, size: int, small: int) -> int:
        m = layout.margin
        body = sum(
            self._lines(layout, f"- {item}", size) * layout.font(size).get_linesize() + m // 3
            for item in stage.items
        )
        note = self._lines(layout, stage.note, small) * layout.font(small).get_linesize()
        return body + note + m // 2

    def _draw_left(
        self,
        surface: pygame.Surface,
        layout: Layout,
        text: str,
        size: int,
        area: pygame.Rect,
        color: tuple[int, int, int],
    ) -> int:
        """Left-aligned wrapped text (lists read better aligned); returns the height used."""
        font = layout.font(size)
        y = area.top
        for line in self._wrap(layout, text, size, area.width):
            image = font.render(line, True, color)
            layout.blit(surface, line, image, image.get_rect(topleft=(area.left, y)), size, color)
            y += font.get_linesize()
        return y - area.top
