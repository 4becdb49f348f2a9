"""The home flow: start → safety check → warm-up → home (five choices) → a short submenu →
(calibrate) → play → results → back. Every screen is a lean menu (or a tap, a key, the button).

Every menu has at most seven options and wraps around, so anything on it is at most three leans
and a forward hold away; the home screen has at most five. The safety question has nothing
preselected and is asked for every person at the start of every session, again whenever the
person changes."""

from __future__ import annotations

from collections.abc import Callable

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import ACCENT, BACKGROUND, MUTED, TEXT, Layout
from wobble_trainer.app.scene import ACTIVITIES, Activity, AppContext, Scene, Tick
from wobble_trainer.app.widgets import draw_lean_menu, draw_notice, draw_results_picture
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
    elif result is Command.SELECT and menu.highlight is not None:
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
    preselect = True
    """False: no option is highlighted until the person leans to one (a question)."""

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.menu = self._new_menu()
        self._shown_for = 0.0

    def _new_menu(self) -> LeanMenu:
        return LeanMenu(len(self.options), allow_back=self.allow_back, preselect=self.preselect)

    def enter(self) -> None:
        self.menu = self._new_menu()
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
        # Stand level for a moment (arms the menu), then lean forward until it chooses; with
        # nothing preselected, first lean left to the first option and back to level.
        if self._shown_for < 1.5:
            return (0.0, 0.0)
        if self.menu.highlight is None:
            return (0.0, -AUTOPILOT_LEAN)
        if not self.menu.armed:
            return (0.0, 0.0)
        return (AUTOPILOT_LEAN, 0.0)


def person_key(app: AppContext) -> tuple[str, object]:
    """Who is on the board, for the safety check: a profile's id, or the guest."""
    profile = app.profile
    return ("guest", None) if profile is None else ("profile", getattr(profile, "id", profile))


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
    """The safety question. Nothing is preselected: the person leans to an answer (left "No",
    right "Yes"), then holds forward. ``back_to_home``: asked from the home screen for a new
    person; "No" warms up and returns there."""

    title = "Before you start"
    message = "Is your ankle swollen, painful or freshly injured?"
    options = ["No", "Yes"]
    preselect = False

    def __init__(self, app: AppContext, *, back_to_home: bool = False) -> None:
        self.back_to_home = back_to_home
        super().__init__(app)

    def choose(self, index: int) -> None:
        if index == 1:
            self.app.safety_cleared_for = None
            self.app.replace(RestScene(self.app))
        else:
            self.app.safety_cleared_for = person_key(self.app)
            self.app.replace(WarmUpScene(self.app, back_to_home=self.back_to_home))

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        if self.menu.highlight is None:
            layout.text(
                surface,
                "Lean left for No, right for Yes",
                layout.small_size,
                (layout.width // 2, layout.height - layout.small_size),
                TEXT,
                max_width=layout.width - 2 * layout.margin,
            )


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

    def __init__(self, app: AppContext, *, back_to_home: bool = False) -> None:
        self.back_to_home = back_to_home
        super().__init__(app)

    def choose(self, index: int) -> None:
        if self.back_to_home:
            self.app.pop()
        else:
            self.app.replace(HomeScene(self.app))


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


def _train(app: AppContext) -> None:
    app.push(ActivityMenuScene(app))


def _more(app: AppContext) -> None:
    app.push(MoreMenuScene(app))


def _clinician(app: AppContext) -> None:
    app.kiosk.open_clinician_menu()


MenuEntry = tuple[str, str, Callable[[AppContext], None], bool]
"""(title, description, action, needs the database)."""

HOME_ENTRIES: tuple[MenuEntry, ...] = (
    ("Train", "Balance games, challenges and seated ankle exercises", _train, False),
    ("Today's plan", "What your programme has for today", _today_plan, True),
    ("Tests", "Standard balance tests, run with a clinician", _clinical_tests, False),
    ("More", "Switch person, export, clinician", _more, False),
    ("My progress", "Charts of your sessions over the weeks", _progress, True),
)
"""The home screen: at most five large choices (the menu wraps: "My progress", last, is one lean
left of "Train")."""

MORE_ENTRIES: tuple[MenuEntry, ...] = (
    ("Switch person", "Choose who is training", _switch_person, True),
    ("Export to USB", "Sessions and reports to a USB stick", _export, True),
    ("Clinician", "The clinician's menu (PIN)", _clinician, False),
)
"""Under "More". Export is not offered in kiosk mode (it reaches everybody's data; it is in the
clinician's menu there), the clinician's menu only in kiosk mode (elsewhere it is the
command line)."""


def _offered(app: AppContext, entry: MenuEntry) -> bool:
    action, needs_db = entry[2], entry[3]
    if needs_db and app.db is None:
        return False
    if action is _export and app.kiosk is not None:
        return False
    if action is _clinician and getattr(app.kiosk, "open_clinician_menu", None) is None:
        return False
    if action is _more:
        return any(_offered(app, e) for e in MORE_ENTRIES)
    return True


class EntryMenuScene(MenuScene):
    """A menu of :data:`MenuEntry` rows, the highlighted one's description at the bottom."""

    entries: tuple[MenuEntry, ...] = ()

    def __init__(self, app: AppContext) -> None:
        self.shown = [e for e in self.entries if _offered(app, e)]
        self.options = [e[0] for e in self.shown]
        super().__init__(app)

    def choose(self, index: int) -> None:
        self.shown[index][2](self.app)

    def description(self, index: int) -> str:
        return self.shown[index][1]

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        draw_description(surface, layout, self.description(self.menu.highlight or 0))


def draw_description(surface: pygame.Surface, layout: Layout, text: str) -> None:
    """The highlighted option's description along the bottom edge (wrapped when long)."""
    m = layout.margin
    width = layout.width - 2 * m
    height = layout.wrapped_height(text, layout.small_size, width)
    area = pygame.Rect(m, layout.height - m // 2 - height, width, height)
    layout.wrapped(surface, text, layout.small_size, area, ACCENT)


class HomeScene(EntryMenuScene):
    """Five large choices. A new person (switched, or logged in) answers the safety question
    first: it is asked for every person at the start of their session."""

    title = "Wobble Trainer"
    entries = HOME_ENTRIES

    def enter(self) -> None:
        super().enter()
        self._check_person()

    def resume(self) -> None:
        super().enter()
        self._check_person()

    def _check_person(self) -> None:
        if self.app.scene is self and self.app.safety_cleared_for != person_key(self.app):
            self.app.push(SafetyScene(self.app, back_to_home=True))

    def back(self) -> None:
        self.app.home()


class MoreMenuScene(EntryMenuScene):
    title = "More"
    entries = MORE_ENTRIES


class ActivityMenuScene(MenuScene):
    """Train: the activities (at most seven, so each is at most three leans away)."""

    title = "Train"

    def __init__(self, app: AppContext) -> None:
        from wobble_trainer.app.activities import MENU_ORDER

        def rank(activity: Activity) -> tuple[int, str]:
            known = activity.name in MENU_ORDER
            return (MENU_ORDER.index(activity.name) if known else len(MENU_ORDER), activity.name)

        self.activities = sorted(ACTIVITIES.values(), key=rank)
        self.options = [a.title for a in self.activities]
        super().__init__(app)

    def choose(self, index: int) -> None:
        activity_flow(self.app, self.activities[index])()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        draw_description(surface, layout, self.activities[self.menu.highlight or 0].description)


class ConfirmStopScene(MenuScene):
    """Asked before a running test or activity is left: one key or lean never throws a trial
    away. "Keep going" is highlighted; BACK, MENU or a back lean also keep going; stopping
    takes a lean to "Stop" and a forward hold (or a tap on it)."""

    options = ["Keep going", "Stop"]

    def __init__(
        self, app: AppContext, title: str, message: str, on_stop: Callable[[], None]
    ) -> None:
        super().__init__(app)
        self.title = title
        self.message = message
        self.on_stop = on_stop

    def choose(self, index: int) -> None:
        self.app.pop()
        if index == 1:
            self.on_stop()

    def back(self) -> None:
        self.app.pop()

    def command(self, command: Command) -> None:
        if command in (Command.BACK, Command.MENU):
            self.app.pop()
        else:
            lean_menu_command(self.app, self.menu, command)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        return super().autopilot(tick)  # leans forward: keeps going


class ResultsScene(MenuScene):
    """An activity's result as a picture (stars, a bar with the personal best marked) over its
    main figures; leaning forward goes back to the menu."""

    title = "Results"
    options = ["Done"]

    def __init__(
        self,
        app: AppContext,
        heading: str,
        lines: list[str],
        best: bool = False,
        *,
        score: float | None = None,
        previous_best: float | None = None,
        warning: str = "",
    ):
        super().__init__(app)
        self.heading = heading
        self.lines = lines
        self.best = best
        self.warning = warning
        """Why the session (or the best) could not be saved, shown in a red banner."""
        self.score = score
        self.previous_best = previous_best

    def choose(self, index: int) -> None:
        self.app.pop()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        y = layout.title(surface, self.heading)
        # Bottom up: the Done option and its hint need about three rows.
        menu_top = layout.height - int(layout.body_size * 1.7) - 3 * layout.small_size - 2 * m
        if layout.portrait:
            menu_top = layout.height - int(layout.body_size * 1.7) - 4 * layout.small_size - 2 * m
        if self.best:
            y = (
                layout.text(
                    surface,
                    "New personal best!",
                    layout.body_size,
                    (layout.width // 2, y + layout.body_size // 2),
                    ACCENT,
                    max_width=layout.width - 2 * m,
                ).bottom
                + m // 2
            )
        if self.score is not None:
            room = (menu_top - y) // 2 if self.lines else menu_top - y
            area = pygame.Rect(0, y, layout.width, max(layout.body_size * 2, room))
            y += draw_results_picture(
                surface, layout, area, self.score, self.previous_best, self.best
            )
        size = layout.small_size
        step = layout.font(size).get_linesize()
        for line in self.lines:
            if y + step > menu_top:
                break  # the picture says it; the details are in My progress
            y = layout.text(
                surface,
                line,
                size,
                (layout.width // 2, y + step // 2),
                TEXT,
                max_width=layout.width - 2 * m,
            ).bottom
        draw_lean_menu(surface, layout, self.options, self.menu, max(y + m, menu_top), self.buttons)
        if self.warning:
            draw_notice(surface, layout, "NOT SAVED. " + self.warning)
