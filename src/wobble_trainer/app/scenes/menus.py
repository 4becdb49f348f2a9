"""The home flow: start → safety check → warm-up → choose an activity → (calibrate) → play →
results → back. Every screen is a lean menu (or a tap, a key, the button)."""

from __future__ import annotations

from collections.abc import Callable

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import ACCENT, BACKGROUND, MUTED, Layout
from wobble_trainer.app.scene import ACTIVITIES, Activity, AppContext, Scene, Tick
from wobble_trainer.app.widgets import draw_lean_menu
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.units import DEG

AUTOPILOT_LEAN = 12.0 * DEG
"""How far the simulated person leans to work a menu."""


def lean_menu_step(
    app: AppContext,
    menu: LeanMenu,
    dt: float,
    tick: Tick,
    choose: Callable[[int], None],
    back: Callable[[], None],
) -> None:
    """One logic step of a lean menu: a click for every move, ``choose`` on a confirmed option,
    ``back`` on a back lean."""
    result = menu.update(dt, tick.angles)
    if result in (Command.LEFT, Command.RIGHT):
        app.feedback.cue(Cue.SELECT)
    elif result is Command.SELECT:
        app.feedback.cue(Cue.SELECT)
        choose(menu.highlight)
    elif result is Command.BACK:
        back()


def lean_menu_command(app: AppContext, menu: LeanMenu, command: Command) -> None:
    """A key, tap or button on a lean menu: the hardware button's short press confirms, its
    long press (MENU) goes home."""
    if command is Command.MENU:
        app.home()
    elif command is Command.PAUSE:
        menu.press(Command.SELECT)
    else:
        menu.press(command)


class MenuScene(Scene):
    """A title, a message and options chosen hands-free."""

    message = ""
    options: list[str] = []
    allow_back = True

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.menu = LeanMenu(len(self.options), allow_back=self.allow_back)
        self._shown_for = 0.0

    def enter(self) -> None:
        self.menu = LeanMenu(len(self.options), allow_back=self.allow_back)
        self._shown_for = 0.0

    resume = enter

    def update(self, dt: float, tick: Tick) -> None:
        self._shown_for += dt
        lean_menu_step(self.app, self.menu, dt, tick, self.choose, self.back)

    def command(self, command: Command) -> None:
        lean_menu_command(self.app, self.menu, command)

    def choose(self, index: int) -> None:
        """An option was chosen."""

    def back(self) -> None:
        self.app.pop()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        y = layout.title(surface, self.title)
        if self.message:
            area = pygame.Rect(
                layout.margin * 2, y, layout.width - 4 * layout.margin, layout.height // 3
            )
            y += layout.wrapped(surface, self.message, layout.small_size, area) + layout.margin
        draw_lean_menu(surface, layout, self.options, self.menu, y, self.buttons)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        # Stand level for a moment (arms the menu), then lean forward until it chooses.
        if self._shown_for < 1.5:
            return (0.0, 0.0)
        return (AUTOPILOT_LEAN, 0.0)


class StartScene(MenuScene):
    title = "Wobble Trainer"
    message = "Stand on the board. Lean forward and hold to start."
    options = ["Start"]
    allow_back = False

    def choose(self, index: int) -> None:
        self.app.push(SafetyScene(self.app))

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        if self.app.calibration.uncalibrated:
            layout.text(
                surface,
                "Board not calibrated yet: it will be done first.",
                layout.small_size,
                (layout.width // 2, layout.height - layout.small_size),
                MUTED,
            )


class SafetyScene(MenuScene):
    title = "Before you start"
    message = "Is your ankle swollen, painful or freshly injured?"
    options = ["No", "Yes"]

    def choose(self, index: int) -> None:
        if index == 1:
            self.app.replace(RestScene(self.app))
        else:
            self.app.replace(WarmUpScene(self.app))


class RestScene(MenuScene):
    title = "Rest today"
    message = (
        "A swollen, painful or freshly injured ankle needs rest, not training. "
        "Cool it, raise it, and try again when it has settled. "
        "If it keeps giving way, or you keep spraining it, see a physiotherapist."
    )
    options = ["OK"]
    allow_back = False

    def choose(self, index: int) -> None:
        self.app.home()


class WarmUpScene(MenuScene):
    title = "Warm up, stay safe"
    message = (
        "Warm up first: march on the spot for a minute and circle each ankle. "
        "Stand next to a wall, rail or chair you can grab. Start easy."
    )
    options = ["I am ready"]

    def choose(self, index: int) -> None:
        self.app.replace(ActivityMenuScene(self.app))


def activity_flow(app: AppContext, activity: Activity) -> Callable[[], None]:
    """Start ``activity``, calibrating first when the board is not calibrated (seated ones
    too: without the calibration's gyro bias the tilt of an MPU-6050 drifts within seconds)."""

    def start() -> None:
        if app.calibration.uncalibrated:
            from wobble_trainer.app.scenes.calibrate import CalibrationScene

            app.push(CalibrationScene(app, then=activity))
        else:
            app.push(activity.factory(app))

    return start


def _today_plan(app: AppContext) -> None:
    from wobble_trainer.app.scenes.programme import TodayPlanScene

    app.push(TodayPlanScene(app))


def _clinical_tests(app: AppContext) -> None:
    from wobble_trainer.app.protocols import ProtocolMenuScene

    app.push(ProtocolMenuScene(app))


def _progress(app: AppContext) -> None:
    from wobble_trainer.app.scenes.history import HistoryScene

    app.push(HistoryScene(app))


def _switch_person(app: AppContext) -> None:
    if app.kiosk is not None:
        # In a clinic nobody sees the list of patients: the next person types their code.
        from wobble_trainer.app.scenes.patient_code import PatientCodeScene

        app.push(PatientCodeScene(app, clinician_gate=app.kiosk.gate, allow_back=True))
        return
    from wobble_trainer.app.scenes.profiles import ProfileSelectScene

    app.push(ProfileSelectScene(app, allow_back=True))


def _export(app: AppContext) -> None:
    from wobble_trainer.app.scenes.export import ExportScene

    app.push(ExportScene(app))


MORE_ENTRIES: tuple[tuple[str, str, Callable[[AppContext], None], bool], ...] = (
    ("Today's plan", "What your programme has for today", _today_plan, True),
    ("Clinical tests", "Standard balance tests, run with a clinician", _clinical_tests, False),
    ("My progress", "Charts of your sessions over the weeks", _progress, True),
    ("Switch person", "Choose who is training", _switch_person, True),
    ("Export to USB", "Sessions and reports to a USB stick", _export, True),
)
"""Menu entries besides the activities: (title, description, action, needs the database).
In kiosk mode export is in the clinician menu only (it reaches everybody's data)."""


class ActivityMenuScene(MenuScene):
    title = "Choose an activity"

    def __init__(self, app: AppContext) -> None:
        from wobble_trainer.app.activities import MENU_ORDER

        def rank(activity: Activity) -> tuple[int, str]:
            known = activity.name in MENU_ORDER
            return (MENU_ORDER.index(activity.name) if known else len(MENU_ORDER), activity.name)

        self.activities = sorted(ACTIVITIES.values(), key=rank)
        self.more = [
            e
            for e in MORE_ENTRIES
            if (app.db is not None or not e[3]) and not (app.kiosk is not None and e[2] is _export)
        ]
        self.options = [a.title for a in self.activities] + [e[0] for e in self.more]
        super().__init__(app)

    def choose(self, index: int) -> None:
        if index < len(self.activities):
            activity_flow(self.app, self.activities[index])()
        else:
            self.more[index - len(self.activities)][2](self.app)

    def back(self) -> None:
        self.app.home()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        i = self.menu.highlight
        if i < len(self.activities):
            text = self.activities[i].description
        else:
            text = self.more[i - len(self.activities)][1]
        layout.text(
            surface,
            text,
            layout.small_size,
            (layout.width // 2, layout.height - layout.small_size),
            ACCENT,
        )


class ResultsScene(MenuScene):
    """Shows an activity's score lines; leaning forward goes back to the menu."""

    title = "Results"
    options = ["Done"]

    def __init__(self, app: AppContext, heading: str, lines: list[str], best: bool = False):
        super().__init__(app)
        self.heading = heading
        self.lines = lines
        self.best = best

    def choose(self, index: int) -> None:
        self.app.pop()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        y = layout.title(surface, self.heading)
        if self.best:
            y = layout.text(
                surface,
                "New personal best!",
                layout.body_size,
                (layout.width // 2, y + layout.body_size // 2),
                ACCENT,
            ).bottom
        for line in self.lines:
            y = layout.text(
                surface, line, layout.body_size, (layout.width // 2, y + layout.body_size // 2 + 4)
            ).bottom
        draw_lean_menu(surface, layout, self.options, self.menu, y + layout.margin, self.buttons)
