"""Who is training: choosing a profile (or Guest) hands-free, and the clinician's profile screens.

* :class:`ProfileSelectScene` lists the profiles (name or pseudonymous ID) and Guest as a lean
  menu (touch, keys and the button work too); choosing sets ``app.profile`` (``None`` = guest)
  and calls ``then(app)`` (default: back to the scene below). Small touch buttons at the bottom
  are for the clinician: new profile, edit the highlighted one, and the guest sessions waiting
  to be kept or discarded.
* :class:`ProfileEditScene` (touch and keys): name or ID with an on-screen keyboard
  (:class:`TextEntryScene`), birth year and height with -/+ buttons, sex, injured side, dominant
  leg and the assigned programme by cycling; save, cancel, and delete after a confirmation
  (:class:`ConfirmScene`) — deleting removes all the profile's data (storage cascades).
* :class:`GuestSessionsScene`: a guest's sessions are recorded "not kept"; the clinician keeps
  them (for the guest or moved to a profile) or discards them.

Clinician screens are built on :class:`TouchScene`: their controls are touch buttons, and the
keys (or the hardware button) move a focus frame through the same buttons and press them, so
every action works with either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.kiosk import can_see_profile
from wobble_trainer.app.layout import (
    ACCENT,
    BACKGROUND,
    GREEN,
    MUTED,
    PANEL,
    RED,
    TEXT,
    Layout,
)
from wobble_trainer.app.scene import AppContext, Scene, Tick
from wobble_trainer.app.scenes.menus import lean_menu_command, lean_menu_step
from wobble_trainer.app.widgets import draw_choice, lean_hint
from wobble_trainer.storage import StorageError
from wobble_trainer.storage.profiles import (
    INJURED_SIDES,
    LEGS,
    MAX_HEIGHT_M,
    MIN_HEIGHT_M,
    OLDEST_BIRTH_YEAR,
    SEXES,
)
from wobble_trainer.units import DEG

AUTOPILOT_LEAN = 12.0 * DEG
Then = Callable[[AppContext], None]
ClinicianGate = Callable[[Callable[[], None]], None]
"""Runs an action only for the clinician (e.g. after the PIN); the default runs it at once."""


def _open_gate(action: Callable[[], None]) -> None:
    action()


# --- drawing helpers shared by the profile, history and programme scenes ----------------------


def fit_size(layout: Layout, text: str, size: int, width: int, smallest: int = 12) -> int:
    """The largest font size ≤ ``size`` at which ``text`` fits in ``width`` pixels."""
    measured = layout.font(size).size(text)[0]
    if measured <= width or size <= smallest:
        return size
    # Text width grows about linearly with the size: start from the proportional guess, so
    # only one or two sizes are measured (each new size loads a font).
    guess = max(smallest, size * width // measured)
    while guess > smallest and layout.font(guess).size(text)[0] > width:
        guess -= 1
    return guess


def draw_button(
    surface: pygame.Surface,
    layout: Layout,
    rect: pygame.Rect,
    label: str,
    *,
    focused: bool = False,
    color: tuple[int, int, int] = PANEL,
    text_color: tuple[int, int, int] = TEXT,
) -> None:
    """A rounded button with its label fitted inside."""
    radius = max(4, layout.margin // 2)
    pygame.draw.rect(surface, color, rect, border_radius=radius)
    if focused:
        pygame.draw.rect(surface, ACCENT, rect, max(3, layout.margin // 3), border_radius=radius)
    size = fit_size(layout, label, min(layout.body_size, rect.height * 2 // 3), rect.width - 8)
    layout.text(surface, label, size, rect.center, text_color)


def draw_option_list(
    surface: pygame.Surface,
    layout: Layout,
    labels: list[str],
    menu: LeanMenu,
    area: pygame.Rect,
    buttons: list,
    colors: list[tuple[int, int, int]] | None = None,
) -> None:
    """A vertical lean-menu list in ``area``, scrolled to keep the highlight in view; each row is
    a touch button. ``colors``: per-row text colours (e.g. green for done)."""
    m = layout.margin
    n = len(labels)
    body = layout.body_size
    text_w = area.width - 3 * body
    # Labels too long for one line at a readable size (portrait screens) go on two lines.
    font = layout.font(body)
    wrap = any(font.size(label)[0] > text_w * 5 // 4 for label in labels)
    lines = [split_in_two(label) if wrap else (label,) for label in labels]
    line_h = font.get_linesize()
    tallest = max(len(ls) for ls in lines) * line_h
    row_h = max(body * 5 // 4, tallest + m, min(body * 2, area.height // max(n, 1)))
    visible = max(1, area.height // row_h)
    first = min(max(0, menu.highlight - visible // 2), max(0, n - visible))
    for slot, i in enumerate(range(first, min(n, first + visible))):
        rect = pygame.Rect(area.left, area.top + slot * row_h, area.width, row_h - m // 2)
        draw_choice(surface, layout, rect, i == menu.highlight, menu,
                    ring_radius=rect.height // 3)  # fmt: skip
        color = colors[i] if colors else TEXT
        size = min(
            fit_size(layout, line, min(body, rect.height * 3 // 4), text_w) for line in lines[i]
        )
        step = layout.font(size).get_linesize()
        y0 = rect.centery - step * (len(lines[i]) - 1) // 2
        for k, line in enumerate(lines[i]):
            layout.text(surface, line, size, (rect.centerx, y0 + k * step), color)
        buttons.append((rect, _toucher(menu, i)))
    # Arrows when rows are hidden above or below.
    half = max(6, m)
    if first > 0:
        x, y = area.right - half, area.top - half // 2
        pygame.draw.polygon(surface, MUTED, [(x - half, y), (x + half, y), (x, y - half)])
    if first + visible < n:
        x, y = area.right - half, area.top + visible * row_h
        pygame.draw.polygon(surface, MUTED, [(x - half, y), (x + half, y), (x, y + half)])


def split_in_two(text: str) -> tuple[str, ...]:
    """A label on two lines: at its first " - " if it has one, else at the middle space."""
    if " - " in text:
        head, tail = text.split(" - ", 1)
        return (head, tail)
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return (text,)
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return (text[:cut], text[cut + 1 :])


def _toucher(menu: LeanMenu, index: int) -> Callable[[], None]:
    return lambda: menu.touch(index)


def draw_lean_hint(
    surface: pygame.Surface, layout: Layout, menu: LeanMenu, y: int, what: str = "choose"
) -> None:
    """How to work a vertical lean menu, or why it does not listen yet."""
    text, color = lean_hint(menu, what)
    size = fit_size(layout, text, layout.small_size, layout.width - 2 * layout.margin)
    layout.text(surface, text, size, (layout.width // 2, y), color)


# --- touch-and-keys screens --------------------------------------------------------------------


@dataclass
class Control:
    rect: pygame.Rect
    label: str
    action: Callable[[], None]
    color: tuple[int, int, int] = PANEL
    text_color: tuple[int, int, int] = TEXT


class TouchScene(Scene):
    """A clinician screen of buttons: touch presses them; keys move a focus frame through them
    in reading order (up/left: previous, down/right: next) and SELECT (or the hardware button)
    presses the focused one; BACK cancels."""

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.controls: list[Control] = []
        self.focus = 0

    def add(self, control: Control) -> None:
        """Register a control while rendering (drawn by :meth:`draw_controls`)."""
        self.controls.append(control)
        self.buttons.append((control.rect, control.action))

    def draw_controls(self, surface: pygame.Surface, layout: Layout) -> None:
        if self.controls:
            self.focus %= len(self.controls)
        for i, c in enumerate(self.controls):
            draw_button(
                surface,
                layout,
                c.rect,
                c.label,
                focused=i == self.focus,
                color=c.color,
                text_color=c.text_color,
            )

    def command(self, command: Command) -> None:
        if command in (Command.UP, Command.LEFT):
            self.focus -= 1
        elif command in (Command.DOWN, Command.RIGHT):
            self.focus += 1
        elif command in (Command.SELECT, Command.PAUSE):
            if self.controls:
                self.controls[self.focus % len(self.controls)].action()
        elif command is Command.BACK:
            self.cancel()
        elif command is Command.MENU:
            self.app.home()
        if self.controls:
            self.focus %= len(self.controls)

    def cancel(self) -> None:
        self.app.pop()

    def begin_render(self, surface: pygame.Surface) -> None:
        self.buttons = []
        self.controls = []
        surface.fill(BACKGROUND)


class ConfirmScene(TouchScene):
    """A question with Cancel (focused first) and a confirm button."""

    def __init__(
        self,
        app: AppContext,
        title: str,
        message: str,
        confirm_label: str,
        on_confirm: Callable[[], None],
    ) -> None:
        super().__init__(app)
        self.title = title
        self.message = message
        self.confirm_label = confirm_label
        self.on_confirm = on_confirm

    def confirm(self) -> None:
        self.app.pop()
        self.on_confirm()

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.begin_render(surface)
        m = layout.margin
        y = layout.title(surface, self.title)
        area = pygame.Rect(2 * m, y, layout.width - 4 * m, layout.height // 2)
        layout.wrapped(surface, self.message, layout.body_size, area)
        h = layout.body_size * 2
        w = (layout.width - 3 * m) // 2
        top = layout.height - h - 2 * m
        self.add(Control(pygame.Rect(m, top, w, h), "Cancel", self.app.pop))
        self.add(
            Control(pygame.Rect(2 * m + w, top, w, h), self.confirm_label, self.confirm, color=RED)
        )
        self.draw_controls(surface, layout)


KEY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM_.'")


class TextEntryScene(TouchScene):
    """An on-screen keyboard for a short text (a name or a pseudonymous ID)."""

    person_badge = False
    """Its text box fills the top edge (and it is the clinician's tool, not a patient screen)."""

    def __init__(
        self,
        app: AppContext,
        title: str,
        text: str,
        on_done: Callable[[str], None],
        max_length: int = 32,
    ) -> None:
        super().__init__(app)
        self.title = title
        self.text = text
        self.on_done = on_done
        self.max_length = max_length
        self.upper = True

    def type(self, char: str) -> None:
        if len(self.text) < self.max_length:
            # As the keys show it: no automatic switch to small letters, which turned an ID
            # such as "PT" into "Pt" (abc/ABC switches by hand).
            self.text += char if self.upper else char.lower()

    def handle_key(self, event) -> bool:
        """A physical keyboard types too (the kiosk hands key events here first): printable
        characters as typed (their case kept), Backspace deletes, Enter is OK, Esc cancels."""
        if event.key == pygame.K_BACKSPACE:
            self.backspace()
        elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.done()
        elif event.key == pygame.K_ESCAPE:
            self.app.pop()
        else:
            char = getattr(event, "unicode", "") or ""
            if len(char) != 1 or not char.isprintable():
                return False
            if len(self.text) < self.max_length:
                self.text += char
        return True

    def backspace(self) -> None:
        self.text = self.text[:-1]

    def toggle_case(self) -> None:
        self.upper = not self.upper

    def done(self) -> None:
        self.app.pop()
        self.on_done(self.text.strip())

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.begin_render(surface)
        m = layout.margin
        size = layout.body_size
        layout.text(
            surface, self.title, layout.small_size, (layout.width // 2, m + size // 3), MUTED
        )
        box = pygame.Rect(m, m + size * 2 // 3, layout.width - 2 * m, size * 3 // 2)
        pygame.draw.rect(surface, (10, 12, 20), box, border_radius=m // 2)
        pygame.draw.rect(surface, MUTED, box, 2, border_radius=m // 2)
        shown = self.text + "_"
        layout.text(surface, shown, fit_size(layout, shown, size, box.width - 2 * m), box.center)
        top = box.bottom + m
        rows = len(KEY_ROWS) + 1
        key_h = (layout.height - top - m) // rows
        for r, row in enumerate(KEY_ROWS):
            key_w = (layout.width - m) // len(row)
            for c, char in enumerate(row):
                rect = pygame.Rect(
                    m // 2 + c * key_w + 2, top + r * key_h + 2, key_w - 4, key_h - 4
                )
                label = char if self.upper else char.lower()
                self.add(Control(rect, label, lambda ch=char: self.type(ch)))
        y = top + len(KEY_ROWS) * key_h + 2
        specials = [
            ("abc" if self.upper else "ABC", self.toggle_case, 1, PANEL),
            ("Space", lambda: self.type(" "), 3, PANEL),
            ("Delete", self.backspace, 2, PANEL),
            ("Cancel", self.app.pop, 2, PANEL),
            ("OK", self.done, 2, GREEN),
        ]
        unit = (layout.width - m) / sum(s[2] for s in specials)
        x = m / 2
        for label, action, span, color in specials:
            rect = pygame.Rect(round(x) + 2, y, round(unit * span) - 4, key_h - 4)
            self.add(Control(rect, label, action, color=color))
            x += unit * span
        self.draw_controls(surface, layout)


# --- choosing who trains ----------------------------------------------------------------------


def profile_label(profile) -> str:
    """How a profile is listed: its name or pseudonymous ID."""
    return profile.name


class ProfileSelectScene(Scene):
    """Profiles and Guest, chosen hands-free or by touch; sets ``app.profile`` and goes on."""

    title = "Who is training?"

    def __init__(
        self,
        app: AppContext,
        then: Then | None = None,
        *,
        clinician_gate: ClinicianGate | None = None,
        allow_back: bool = False,
    ) -> None:
        super().__init__(app)
        self.then = then
        self.gate = clinician_gate or _open_gate
        self.allow_back = allow_back
        self.profiles: list = []
        self.guest_waiting = 0
        self.error = ""
        self._shown_for = 0.0
        self.menu = LeanMenu(1, allow_back=allow_back)
        self._loaded = False
        self.reload()

    # -- data -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the profiles again (after an edit or a delete), keeping the highlight."""
        if self._loaded:
            on_guest = self.menu.highlight >= len(self.profiles)
            keep = "guest" if on_guest else self.profiles[self.menu.highlight].id
        else:
            keep = None if self.app.profile is None else self.app.profile.id
        self._loaded = True
        self.profiles, self.guest_waiting, self.error = [], 0, ""
        db = self.app.db
        if db is not None:
            try:
                # In a clinic's kiosk a patient sees only themselves (the clinician: all).
                self.profiles = [p for p in db.profiles.all() if can_see_profile(self.app, p)]
                guest = db.profiles.guest()
                self.guest_waiting = sum(
                    1 for s in db.history.sessions(guest.id, include_unkept=True) if not s.kept
                )
            except StorageError as exc:
                self.error = str(exc)
        self.menu = LeanMenu(len(self.options), allow_back=self.allow_back)
        ids = [p.id for p in self.profiles]
        if keep == "guest":
            self.menu.highlight = len(self.profiles)
        elif keep in ids:
            self.menu.highlight = ids.index(keep)
        self._shown_for = 0.0

    @property
    def options(self) -> list[str]:
        return [profile_label(p) for p in self.profiles] + ["Guest"]

    def enter(self) -> None:
        self.reload()

    resume = enter

    # -- choosing ---------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        self.app.profile = self.profiles[index] if index < len(self.profiles) else None
        if self.then is not None:
            self.then(self.app)
        else:
            self.app.pop()

    def update(self, dt: float, tick: Tick) -> None:
        self._shown_for += dt
        lean_menu_step(self.app, self.menu, dt, tick, self.choose, self.app.pop)

    def command(self, command: Command) -> None:
        lean_menu_command(self.app, self.menu, command)

    # -- clinician ---------------------------------------------------------------------------
    def new_profile(self) -> None:
        self.gate(lambda: self.app.push(ProfileEditScene(self.app)))

    def edit_highlighted(self) -> None:
        if self.menu.highlight < len(self.profiles):
            profile = self.profiles[self.menu.highlight]
            self.gate(lambda: self.app.push(ProfileEditScene(self.app, profile)))

    def guest_sessions(self) -> None:
        self.gate(lambda: self.app.push(GuestSessionsScene(self.app)))

    # -- drawing ----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        y = layout.title(surface, self.title)
        tools_h = layout.small_size * 2 if self.app.db is not None else 0
        hint_h = layout.small_size * 2
        area = pygame.Rect(2 * m, y, layout.width - 4 * m, layout.height - y - tools_h - hint_h - m)
        draw_option_list(surface, layout, self.options, self.menu, area, self.buttons)
        draw_lean_hint(surface, layout, self.menu, area.bottom + hint_h // 2)
        if self.error:
            layout.text(
                surface,
                self.error[:80],
                layout.small_size,
                (layout.width // 2, area.bottom + hint_h // 2),
                RED,
            )
        if self.app.db is None:
            return
        # The clinician's buttons: small, at the bottom, touch only.
        labels: list[tuple[str, Callable[[], None]]] = [("New profile", self.new_profile)]
        if self.menu.highlight < len(self.profiles):
            labels.append(("Edit", self.edit_highlighted))
        if self.guest_waiting:
            labels.append((f"Guest sessions ({self.guest_waiting})", self.guest_sessions))
        w = (layout.width - (len(labels) + 1) * m) // len(labels)
        top = layout.height - tools_h
        for i, (label, action) in enumerate(labels):
            rect = pygame.Rect(m + i * (w + m), top, w, tools_h - m // 2)
            draw_button(surface, layout, rect, label, text_color=MUTED)
            self.buttons.append((rect, action))

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self._shown_for < 1.5:
            return (0.0, 0.0)
        return (AUTOPILOT_LEAN, 0.0)


# --- editing a profile ------------------------------------------------------------------------


SEX_CHOICES: tuple[str | None, ...] = (None, *SEXES)
DEFAULT_BIRTH_YEAR = 1970
DEFAULT_HEIGHT_M = 1.70


@dataclass
class ProfileForm:
    """The fields being edited (height in whole centimetres, as it is adjusted)."""

    name: str = ""
    birth_year: int = DEFAULT_BIRTH_YEAR
    sex: str | None = None
    height_cm: int = round(DEFAULT_HEIGHT_M * 100)
    injured_side: str = "none"
    dominant_leg: str = "right"
    programme: str | None = None
    """Programme id to be running after saving (None: none)."""

    def step_year(self, delta: int) -> None:
        self.birth_year = min(max(self.birth_year + delta, OLDEST_BIRTH_YEAR), date.today().year)

    def step_height(self, delta: int) -> None:
        lo, hi = round(MIN_HEIGHT_M * 100), round(MAX_HEIGHT_M * 100)
        self.height_cm = min(max(self.height_cm + delta, lo), hi)


def _cycle(values: tuple, current, step: int):
    i = values.index(current) if current in values else 0
    return values[(i + step) % len(values)]


class ProfileEditScene(TouchScene):
    """Create or edit a profile (clinician; touch and keys)."""

    clinician_only = True

    def __init__(
        self,
        app: AppContext,
        profile=None,
        on_saved: Callable[[object], None] | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__(app)
        from wobble_trainer.programme import PROGRAMMES

        self.profile = profile
        self.on_saved = on_saved
        self.today = today or date.today()
        self.programme_ids: tuple[str | None, ...] = (None, *PROGRAMMES)
        self.error = ""
        self.current_programme = None
        if profile is None:
            self.form = ProfileForm()
        else:
            self.form = ProfileForm(
                name=profile.name,
                birth_year=profile.birth_year or DEFAULT_BIRTH_YEAR,
                sex=profile.sex,
                height_cm=round((profile.height_m or DEFAULT_HEIGHT_M) * 100),
                injured_side=profile.injured_side,
                dominant_leg=profile.dominant_leg or "right",
            )
            if app.db is not None:
                self.current_programme = app.db.programmes.current(profile.id, on=self.today)
                if self.current_programme is not None:
                    self.form.programme = self.current_programme.programme_id
        self.title = "New profile" if profile is None else f"Edit {profile.name}"
        if profile is not None and profile.patient_code:
            # The code the clinician gives the patient (typed at "Who is training?").
            self.title += f"  -  patient code {profile.patient_code}"

    # -- actions ----------------------------------------------------------------------------
    def edit_name(self) -> None:
        def done(text: str) -> None:
            self.form.name = text

        self.app.push(TextEntryScene(self.app, "Name or pseudonymous ID", self.form.name, done))

    def save(self) -> None:
        """Store the profile (and the programme choice); stays open with the error if refused."""
        db = self.app.db
        if db is None:
            self.error = "No database: profiles cannot be saved."
            return
        f = self.form
        try:
            if self.profile is None:
                saved = db.profiles.create(
                    f.name, f.birth_year, f.height_cm / 100, f.dominant_leg, f.injured_side, f.sex
                )
            else:
                saved = db.profiles.update(
                    dataclasses.replace(
                        self.profile,
                        name=f.name,
                        birth_year=f.birth_year,
                        sex=f.sex,
                        height_m=f.height_cm / 100,
                        injured_side=f.injured_side,
                        dominant_leg=f.dominant_leg,
                    )
                )
            self._save_programme(saved.id)
        except (ValueError, StorageError) as exc:
            self.error = str(exc)
            return
        if self.app.profile is not None and self.app.profile.id == saved.id:
            self.app.profile = saved
        self.app.pop()
        if self.on_saved is not None:
            self.on_saved(saved)

    def _save_programme(self, profile_id: int) -> None:
        db = self.app.db
        current = db.programmes.current(profile_id, on=self.today)
        wanted = self.form.programme
        if current is not None and current.programme_id == wanted:
            return
        if wanted is None:
            if current is not None:
                db.programmes.end(current.id, self.today)
            return
        db.programmes.assign(profile_id, wanted, self.today, assigned_by="clinician")

    def ask_delete(self) -> None:
        if self.profile is None:
            return
        count = 0
        if self.app.db is not None:
            count = len(self.app.db.history.sessions(self.profile.id, include_unkept=True))
        self.app.push(
            ConfirmScene(
                self.app,
                f"Delete {self.profile.name}?",
                f"This deletes the profile, its {count} sessions with their recordings, and its "
                "programme. It cannot be undone.",
                "Delete",
                self.delete,
            )
        )

    def delete(self) -> None:
        try:
            self.app.db.profiles.delete(self.profile.id)
        except (ValueError, StorageError) as exc:
            self.error = str(exc)
            return
        if self.app.profile is not None and self.app.profile.id == self.profile.id:
            self.app.profile = None
        self.app.pop()

    # -- drawing ----------------------------------------------------------------------------
    def _rows(self) -> list[tuple[str, str, list[tuple[str, Callable[[], None]]]]]:
        f = self.form
        from wobble_trainer.programme import PROGRAMMES

        def cyc(attr: str, values: tuple) -> list[tuple[str, Callable[[], None]]]:
            def step(d: int) -> Callable[[], None]:
                return lambda: setattr(f, attr, _cycle(values, getattr(f, attr), d))

            return [("<", step(-1)), (">", step(1))]

        programme = "none" if f.programme is None else PROGRAMMES[f.programme].short_title
        if (
            f.programme is not None
            and self.current_programme is not None
            and (self.current_programme.programme_id == f.programme)
        ):
            programme += f" (since {self.current_programme.start_date:%d %b})"
        elif f.programme is not None:
            programme += " (from today)"
        return [
            ("Name / ID", f.name or "(tap to type)", [("Type", self.edit_name)]),
            (
                "Born",
                str(f.birth_year),
                [
                    ("-10", lambda: f.step_year(-10)),
                    ("-", lambda: f.step_year(-1)),
                    ("+", lambda: f.step_year(1)),
                    ("+10", lambda: f.step_year(10)),
                ],
            ),
            ("Sex", f.sex or "not given", cyc("sex", SEX_CHOICES)),
            (
                "Height",
                f"{f.height_cm} cm",
                [
                    ("-10", lambda: f.step_height(-10)),
                    ("-", lambda: f.step_height(-1)),
                    ("+", lambda: f.step_height(1)),
                    ("+10", lambda: f.step_height(10)),
                ],
            ),
            ("Injured side", f.injured_side, cyc("injured_side", INJURED_SIDES)),
            ("Dominant leg", f.dominant_leg, cyc("dominant_leg", LEGS)),
            ("Programme", programme, cyc("programme", self.programme_ids)),
        ]

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.begin_render(surface)
        m = layout.margin
        head = layout.body_size
        title_size = fit_size(layout, self.title, head, layout.width - 2 * m)
        layout.text(surface, self.title, title_size, (layout.width // 2, m + head // 2), ACCENT)
        rows = self._rows()
        action_h = max(layout.small_size * 2, layout.body_size * 5 // 4)
        error_h = layout.small_size + m if self.error else 0
        top = m + head + m
        row_h = (layout.height - top - action_h - error_h - 2 * m) // len(rows)
        label_w = layout.width * 28 // 100
        small = min(layout.small_size, row_h * 2 // 3)
        value_size = min(layout.body_size, row_h * 2 // 3)
        for r, (label, value, actions) in enumerate(rows):
            y = top + r * row_h
            mid = y + row_h // 2
            layout.text(
                surface,
                label,
                fit_size(layout, label, small, label_w - m),
                (m + label_w // 2, mid),
                MUTED,
            )
            area = pygame.Rect(label_w + m, y + 2, layout.width - label_w - 2 * m, row_h - 4)
            btn_w = min(row_h * 3 // 2, area.width // 7)
            if len(actions) == 1:  # the name: the value itself is the button
                rect = pygame.Rect(area.left, area.top, area.width, area.height)
                self.add(Control(rect, value, actions[0][1]))
                continue
            half = len(actions) // 2
            left = [
                pygame.Rect(area.left + i * (btn_w + 4), area.top, btn_w, area.height)
                for i in range(half)
            ]
            right = [
                pygame.Rect(area.right - (half - i) * (btn_w + 4) + 4, area.top, btn_w, area.height)
                for i in range(half)
            ]
            for rect, (text, action) in zip(left + right, actions, strict=True):
                self.add(Control(rect, text, action))
            value_w = right[0].left - left[-1].right - 8
            layout.text(
                surface,
                value,
                fit_size(layout, value, value_size, value_w),
                ((left[-1].right + right[0].left) // 2, mid),
            )
        if self.error:
            text = self.error
            layout.text(
                surface,
                text,
                fit_size(layout, text, layout.small_size, layout.width - 2 * m, 10),
                (layout.width // 2, top + len(rows) * row_h + error_h // 2),
                RED,
            )
        actions = [("Cancel", self.app.pop, PANEL), ("Save", self.save, GREEN)]
        if self.profile is not None:
            actions.insert(0, ("Delete", self.ask_delete, RED))
        w = (layout.width - (len(actions) + 1) * m) // len(actions)
        y = layout.height - action_h - m
        for i, (text, action, color) in enumerate(actions):
            self.add(
                Control(pygame.Rect(m + i * (w + m), y, w, action_h), text, action, color=color)
            )
        self.draw_controls(surface, layout)


# --- guest sessions ---------------------------------------------------------------------------


class GuestSessionsScene(TouchScene):
    """The guest's sessions not kept yet: keep each (for the guest or a profile) or discard."""

    title = "Guest sessions"
    clinician_only = True

    def __init__(self, app: AppContext) -> None:
        super().__init__(app)
        self.sessions: list = []
        self.targets: list = []
        self.target = 0
        self.first = 0
        self.message = ""
        self.reload()

    def reload(self) -> None:
        db = self.app.db
        guest = db.profiles.guest()
        self.sessions = [
            s for s in db.history.sessions(guest.id, include_unkept=True) if not s.kept
        ]
        self.targets = [guest, *db.profiles.all()]
        self.target = min(self.target, len(self.targets) - 1)
        self.first = min(self.first, max(0, len(self.sessions) - 1))

    def keep(self, session_id: int) -> None:
        target = self.targets[self.target]
        self.app.db.sessions.keep(session_id, None if target.is_guest else target.id)
        self.message = f"Kept for {target.name}."
        self.reload()

    def discard(self, session_id: int) -> None:
        self.app.db.sessions.discard(session_id)
        self.message = "Discarded."
        self.reload()

    def discard_all(self) -> None:
        for s in self.sessions:
            self.app.db.sessions.discard(s.id)
        self.message = "All discarded."
        self.reload()

    def step_target(self, delta: int) -> None:
        self.target = (self.target + delta) % len(self.targets)

    def scroll(self, delta: int) -> None:
        self.first = min(max(0, self.first + delta), max(0, len(self.sessions) - 1))

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.begin_render(surface)
        m = layout.margin
        head = layout.body_size
        heading = f"{self.title}: {self.message}" if self.message else self.title
        layout.text(
            surface,
            heading,
            fit_size(layout, heading, head, layout.width - 2 * m),
            (layout.width // 2, m + head // 2),
            ACCENT,
        )
        row_h = max(layout.small_size * 2, layout.height // 9)
        y = m * 2 + head
        # Whom "Keep" keeps them for.
        bw = row_h * 3 // 2
        self.add(Control(pygame.Rect(m, y, bw, row_h - 4), "<", lambda: self.step_target(-1)))
        self.add(
            Control(
                pygame.Rect(layout.width - m - bw, y, bw, row_h - 4),
                ">",
                lambda: self.step_target(1),
            )
        )
        text = f"Keep for: {self.targets[self.target].name}"
        layout.text(
            surface,
            text,
            fit_size(layout, text, layout.small_size, layout.width - 2 * bw - 4 * m),
            (layout.width // 2, y + row_h // 2),
        )
        y += row_h
        bottom = layout.height - row_h - m
        visible = max(1, (bottom - y) // row_h)
        if not self.sessions:
            layout.text(
                surface,
                "No guest sessions waiting.",
                layout.body_size,
                (layout.width // 2, (y + bottom) // 2),
                MUTED,
            )
        shown = self.sessions[self.first : self.first + visible]
        for i, s in enumerate(shown):
            top = y + i * row_h
            what = f"{s.started_at:%d %b %H:%M}  {s.kind}"
            score = (s.metrics or {}).get("score")
            if isinstance(score, int | float):
                what += f"  score {score:g}"
            bw2 = layout.width // 6
            text_w = layout.width - 2 * bw2 - 4 * m
            layout.text(
                surface,
                what,
                fit_size(layout, what, layout.small_size, text_w),
                (m + text_w // 2, top + row_h // 2),
            )
            self.add(
                Control(
                    pygame.Rect(layout.width - 2 * bw2 - 2 * m, top, bw2, row_h - 6),
                    "Keep",
                    lambda sid=s.id: self.keep(sid),
                    color=GREEN,
                )
            )
            self.add(
                Control(
                    pygame.Rect(layout.width - bw2 - m, top, bw2, row_h - 6),
                    "Discard",
                    lambda sid=s.id: self.discard(sid),
                    color=RED,
                )
            )
        actions: list[tuple[str, Callable[[], None], tuple[int, int, int]]] = []
        if self.first > 0:
            actions.append(("Up", lambda: self.scroll(-visible), PANEL))
        if self.first + visible < len(self.sessions):
            actions.append(("Down", lambda: self.scroll(visible), PANEL))
        if self.sessions:
            actions.append(("Discard all", self.discard_all, RED))
        actions.append(("Done", self.app.pop, PANEL))
        w = (layout.width - (len(actions) + 1) * m) // len(actions)
        for i, (label, action, color) in enumerate(actions):
            self.add(
                Control(
                    pygame.Rect(m + i * (w + m), bottom, w, row_h - 4), label, action, color=color
                )
            )
        self.draw_controls(surface, layout)
