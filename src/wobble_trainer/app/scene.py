"""Scenes and what they share: the fixed-step tick, the app context and the activity registry.

A scene is one screen. Its logic runs in :meth:`Scene.update` at a fixed step (:data:`LOGIC_DT`),
so a 30 s hold is exactly 3000 steps whatever the frame rate, and a test can drive a scene with
scripted angles and no real time; :meth:`Scene.render` only draws.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.feedback.base import Feedback, NullFeedback
from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles

LOGIC_HZ = 100
LOGIC_DT = 1.0 / LOGIC_HZ


@dataclass(frozen=True)
class Tick:
    """What a scene knows at one logic step."""

    t: float
    """Logic time, s (counts steps, never wall-clock)."""
    angles: BoardAngles | None
    """Board angles now; None while the sensor is lost."""
    on_board: bool = True
    """False while nobody seems to stand on the board (it rests on its rim, still)."""

    @property
    def active(self) -> bool:
        """A session may run: the sensor works and someone is on the board."""
        return self.angles is not None and self.on_board


@dataclass
class AppContext:
    """What every scene may use. Nothing here touches hardware directly."""

    calibration: Calibration = field(default_factory=Calibration.default)
    feedback: Feedback = field(default_factory=NullFeedback)
    rng: random.Random = field(default_factory=random.Random)
    stack: list[Scene] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    records: Any = None
    """Personal bests (:class:`wobble_trainer.app.records.Records`), when kept."""
    quit_requested: bool = False
    safety_cleared_for: Any = None
    """The person (:func:`~wobble_trainer.app.scenes.menus.person_key`) who last answered the
    safety question "not injured" in this session; anyone else is asked first."""
    autopilot: bool = True
    """The simulated person plays by itself (follows each scene's :meth:`Scene.autopilot`)."""
    sample_reader: Callable[[], Any] | None = None
    """Makes a reader of the raw sample stream (``read_new()``), for calibration."""
    save_calibration: Callable[[Calibration], None] | None = None
    """Stores a new calibration and starts using it."""
    sound: Any = None
    """The speakers (:class:`wobble_trainer.app.sound.SoundFeedback`), for the tilt tone."""
    db: Any = None
    """The clinical database (:class:`wobble_trainer.storage.Database`), when it could be opened."""
    profile: Any = None
    """Who is training (:class:`wobble_trainer.storage.Profile`); None: nobody chosen (guest)."""
    angle_listeners: list[Callable[[Any, Any], None]] = field(default_factory=list)
    """Called once a frame with that frame's full-rate board angles (``ANGLE_DTYPE`` rows) and
    the raw samples they came from (``SAMPLE_DTYPE`` rows, one per angle; None when the angles
    do not come from the live stream, as in scene tests)."""
    tilt_state: Callable[[], Any] | None = None
    """The live estimator's full state now (:meth:`TiltStream.stream_state`): stored with a
    trial that starts with the next frame's samples, so it replays to the same angles."""
    tilt_rate_hz: float | None = None
    """The live stream's sample rate (Hz), which trial metrics use."""
    kiosk: Any = None
    """The clinic kiosk (:class:`wobble_trainer.app.kiosk.Kiosk`) when running as one."""
    device: Any = None
    """The IMU's :class:`~wobble_trainer.tilt.calibration.DeviceIdentity`, when known."""
    notice: str = ""
    """A problem everyone must see whatever the screen (e.g. "could not save: the disk is
    full"); the app shows it in a banner for a while (:meth:`warn`)."""
    notice_serial: int = 0
    """Counts :meth:`warn` calls, so the same text said again is shown again."""

    def warn(self, text: str) -> None:
        """Show ``text`` in the banner over every screen (training goes on underneath)."""
        self.notice = text
        self.notice_serial += 1

    def publish_angles(self, angles: Any, samples: Any = None) -> None:
        for listener in list(self.angle_listeners):
            listener(angles, samples)

    @property
    def edge_angles(self) -> EdgeAngles:
        return self.calibration.edge_angles

    @property
    def scene(self) -> Scene | None:
        return self.stack[-1] if self.stack else None

    def push(self, scene: Scene) -> None:
        """Show ``scene`` on top. In a clinic's kiosk a clinician-only scene is shown only after
        the PIN (the kiosk pushes its PIN pad instead, and the scene once it is given)."""
        admit = getattr(self.kiosk, "admit", None)
        if admit is not None and not admit(scene):
            return
        self.stack.append(scene)
        scene.enter()

    def pop(self) -> None:
        if self.stack:
            self.stack.pop().exit()
        if self.scene is not None:
            self.scene.resume()

    def replace(self, scene: Scene) -> None:
        if self.stack:
            self.stack.pop().exit()
        self.push(scene)

    def home(self) -> None:
        """Back to the first scene."""
        while len(self.stack) > 1:
            self.stack.pop().exit()
        if self.scene is not None:
            self.scene.resume()


class Scene:
    """Base of every screen; subclasses override what they need."""

    title = ""
    needs_sensor = True
    """The shell veils the screen with "Sensor lost" while no samples come (not a screen that
    is about the missing sensor itself)."""
    clinician_only = False
    """The clinician's screen: in kiosk mode shown only after the clinician PIN."""
    person_badge = True
    """The shell draws who is training over it (False: nobody is, e.g. choosing who)."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.buttons: list[tuple[pygame.Rect, Command | Callable[[], None]]] = []

    def enter(self) -> None:
        """Became the top scene."""

    def resume(self) -> None:
        """The scene above it was closed."""

    def exit(self) -> None:
        """Removed from the stack."""

    def update(self, dt: float, tick: Tick) -> None:
        """One fixed logic step."""

    def command(self, command: Command) -> None:
        """A key, the hardware button or a touch button asked for ``command``."""

    def click(self, pos: tuple[int, int]) -> bool:
        """A touch or mouse click: the buttons drawn last frame take it."""
        for rect, action in self.buttons:
            if rect.collidepoint(pos):
                if isinstance(action, Command):
                    self.command(action)
                else:
                    action()
                return True
        return False

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        """Draw the scene (and register its touch buttons in :attr:`buttons`)."""

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        """Where a competent person would hold the board now (pitch, roll in rad), for the
        simulated board's autopilot; None: stay level."""
        return None


@dataclass(frozen=True)
class Activity:
    """A game, challenge or exercise the menu offers and ``--activity`` starts."""

    name: str
    title: str
    description: str
    factory: Callable[[AppContext], Scene]
    seated: bool = False


ACTIVITIES: dict[str, Activity] = {}


def register(activity: Activity) -> Activity:
    if activity.name in ACTIVITIES:
        raise ValueError(f"activity {activity.name!r} registered twice")
    ACTIVITIES[activity.name] = activity
    return activity
