"""Hands-free control: lean to move the highlight, hold to confirm; plus keys, touch and button.

The person on the board cannot reach the screen, and may be balancing hard while a menu is
shown, so :class:`LeanMenu` only listens once the board has been near level for a moment
(*armed*), moves the highlight one step per deliberate sideways lean, and confirms only after a
forward lean is held for the dwell time with visible progress. A back lean held as long goes
back. Nothing is selected by the small tilts of balancing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.units import DEG


class Command(StrEnum):
    """What any input device can ask of a scene."""

    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"
    SELECT = "select"
    BACK = "back"
    PAUSE = "pause"
    MENU = "menu"


@dataclass(frozen=True)
class LeanSettings:
    """How a lean becomes a choice (defaults suit 15-20° boards and unsteady people)."""

    lean_threshold: float = 7.0 * DEG
    """Tilt towards a side that counts as a lean."""
    level_threshold: float = 3.5 * DEG
    """Tilt under which the board counts as level (re-arms after each lean)."""
    arm_time_s: float = 0.5
    """How long the board must be level before leans count."""
    dwell_s: float = 1.5
    """How long a forward (or back) lean must be held to confirm (or go back)."""
    cone: float = 35.0 * DEG
    """How far from the side's direction a lean may point and still count."""


class LeanMenu:
    """A highlight over ``count`` options driven by board angles at a fixed logic step."""

    def __init__(
        self,
        count: int,
        settings: LeanSettings | None = None,
        *,
        allow_back: bool = True,
        preselect: bool = True,
    ) -> None:
        if count < 1:
            raise ValueError("a menu needs at least one option")
        self.count = count
        self.settings = settings or LeanSettings()
        self.allow_back = allow_back
        self.highlight: int | None = 0 if preselect else None
        """The option a forward hold would choose; None (``preselect=False``): none yet, so a
        question cannot be answered by one lean: the first sideways lean picks a side
        (left: the first option, right: the last), then a forward hold confirms it."""
        self.armed = False
        self._level_time = 0.0
        self._hold_time = 0.0
        self._holding: Command | None = None
        self._pending: Command | None = None

    def touch(self, index: int) -> None:
        """A tap on option ``index``: highlight it and confirm at the next update."""
        self.highlight = index % self.count
        self._pending = Command.SELECT

    def press(self, command: Command) -> None:
        """A key or the hardware button: moves at once, confirms at the next update."""
        if command in (Command.LEFT, Command.UP):
            self.move(-1)
        elif command in (Command.RIGHT, Command.DOWN):
            self.move(1)
        elif command is Command.SELECT and self.highlight is None:
            return  # nothing chosen yet: a press must not answer for the person
        elif command is Command.SELECT or (command is Command.BACK and self.allow_back):
            self._pending = command

    @property
    def progress(self) -> float:
        """0..1: how far the current confirm (or back) hold is."""
        return min(1.0, self._hold_time / self.settings.dwell_s) if self._holding else 0.0

    @property
    def holding(self) -> Command | None:
        """SELECT or BACK while a hold is under way."""
        return self._holding

    def move(self, step: int) -> None:
        if self.highlight is None:
            self.highlight = 0 if step < 0 else self.count - 1
        else:
            self.highlight = (self.highlight + step) % self.count

    def update(self, dt: float, angles: BoardAngles | None) -> Command | None:
        """Advance by ``dt`` seconds; returns SELECT, BACK, LEFT or RIGHT when one happens."""
        s = self.settings
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        if angles is None:
            self._reset_hold()
            self.armed = False
            self._level_time = 0.0
            return None
        if angles.tilt < s.level_threshold:
            self._reset_hold()
            self._level_time += dt
            if self._level_time >= s.arm_time_s:
                self.armed = True
            return None
        self._level_time = 0.0
        if not self.armed or angles.tilt < s.lean_threshold:
            self._reset_hold()
            return None
        side = _side(angles.direction, s.cone)
        if side in (Command.LEFT, Command.RIGHT):
            self.armed = False  # one step per lean: back to level before the next
            self.move(1 if side is Command.RIGHT else -1)
            return side
        if side is Command.SELECT and self.highlight is None:
            self._reset_hold()
            return None
        if side is Command.SELECT or (side is Command.BACK and self.allow_back):
            if self._holding is not side:
                self._holding = side
                self._hold_time = 0.0
            self._hold_time += dt
            if self._hold_time >= s.dwell_s:
                self._reset_hold()
                self.armed = False
                return side
            return None
        self._reset_hold()
        return None

    def _reset_hold(self) -> None:
        self._holding = None
        self._hold_time = 0.0


def _side(direction: float, cone: float) -> Command | None:
    """Which side a low-side azimuth points to (0 front, +π/2 right), if within ``cone``."""
    for centre, command in (
        (0.0, Command.SELECT),
        (math.pi / 2, Command.RIGHT),
        (math.pi, Command.BACK),
        (-math.pi / 2, Command.LEFT),
    ):
        if abs(math.remainder(direction - centre, 2 * math.pi)) <= cone:
            return command
    return None
