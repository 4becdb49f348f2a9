"""What a game sees of the feedback hardware: the :class:`Feedback` protocol, its settings record
:class:`FeedbackTargets`, and :class:`NullFeedback` for machines without any.

A game never touches a pin: it says what the target is (``set_targets``) and which sound it wants
(``cue``). Implementations: the GPIO lights and buzzer (:mod:`wobble_trainer.feedback.controller`
with :mod:`wobble_trainer.feedback.gpio`), a pygame sound back end (the app's), and
:class:`NullFeedback`. Several can be used side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.zones import DirectionScale, ZoneThresholds
from wobble_trainer.tilt.calibration import EdgeAngles


@dataclass(frozen=True)
class FeedbackTargets:
    """Everything the lights need besides the angles themselves (radians)."""

    target_pitch: float = 0.0
    """Tilt the person should hold: pitch (> 0 toes down)."""
    target_roll: float = 0.0
    """Tilt the person should hold: roll (> 0 right edge down)."""
    zones: ZoneThresholds = field(default_factory=ZoneThresholds)
    edge_angles: EdgeAngles = field(default_factory=EdgeAngles)
    """The board's calibrated edge angles (15° each when uncalibrated)."""
    directions: DirectionScale = field(default_factory=DirectionScale)
    sound_on_edge: bool = False
    """Play :attr:`Cue.EDGE` on every entry into the edge zone from the feedback's own thread
    (lowest latency; for eyes-closed tests). Leave False if the game cues edges itself."""


@runtime_checkable
class Feedback(Protocol):
    """Lights and sounds, as a game uses them. Calls return at once and are thread-safe."""

    def set_targets(self, targets: FeedbackTargets | None) -> None:
        """Start showing zones and directions about ``targets``; ``None`` = no session: dark."""
        ...

    def cue(self, kind: Cue | str) -> None:
        """Play a sound cue (countdown, go, edge, end, select) without waiting for it."""
        ...

    def close(self) -> None:
        """Go dark and silent and release the hardware. Safe to call twice."""
        ...


class NullFeedback:
    """Feedback that does nothing: for machines with no lights or buzzer, and for tests. Keeps the
    last targets and the cues asked for, so a game test can check what it would have shown."""

    def __init__(self) -> None:
        self.targets: FeedbackTargets | None = None
        self.cues: list[Cue] = []
        self.closed = False

    def set_targets(self, targets: FeedbackTargets | None) -> None:
        self.targets = targets

    def cue(self, kind: Cue | str) -> None:
        # Validate like the real ones do, so a typo fails in a test rather than on the device.
        self.cues.append(Cue(kind))

    def close(self) -> None:
        self.targets = None
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FeedbackGroup:
    """Several feedbacks as one (the speakers and the GPIO lights): every call goes to each."""

    def __init__(self, *members: Feedback) -> None:
        self.members = list(members)

    def set_targets(self, targets: FeedbackTargets | None) -> None:
        for member in self.members:
            member.set_targets(targets)

    def cue(self, kind: Cue | str) -> None:
        for member in self.members:
            member.cue(kind)

    def close(self) -> None:
        for member in self.members:
            member.close()
