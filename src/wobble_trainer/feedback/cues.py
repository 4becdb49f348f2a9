"""Sound cues as data, and a non-blocking player that steps through them.

DOMAIN.md §7: with eyes closed a person needs a 3-2-1 countdown of short beeps, a distinct "go",
a distinct edge-touch sound and a distinct end tone. Each cue is a tuple of :class:`Note` (a
frequency, or ``None`` for silence, and a duration). The patterns differ in RHYTHM as well as pitch,
so an active buzzer (fixed pitch, on/off only) still tells them apart; a passive buzzer (gpiozero
TonalBuzzer) and the pygame sound back end also play the pitches.

:class:`CuePlayer` owns no thread and no hardware: whoever owns the buzzer calls
:meth:`CuePlayer.update` with the current time and sounds what it returns. The feedback controller
does that from its own thread, so a cue never blocks the game that asked for it.

``COUNTDOWN`` is ONE tick: a game calls it at "3", "2" and "1" in step with its on-screen
numbers, then ``GO``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Cue(StrEnum):
    """Sound cues a game may ask for (``cue("edge")`` works too: StrEnum values)."""

    COUNTDOWN = "countdown"
    GO = "go"
    EDGE = "edge"
    END = "end"
    SELECT = "select"


@dataclass(frozen=True)
class Note:
    """One step of a pattern: a tone (Hz) or silence (``None``) for ``duration_s`` seconds."""

    frequency_hz: float | None
    duration_s: float

    def __post_init__(self) -> None:
        if not self.duration_s > 0.0:
            raise ValueError(f"a note needs a positive duration, got {self.duration_s}")
        if self.frequency_hz is not None and not self.frequency_hz > 0.0:
            raise ValueError(f"frequency must be > 0 Hz or None, got {self.frequency_hz}")


Pattern = tuple[Note, ...]

MIN_FREQUENCY_HZ = 250.0
MAX_FREQUENCY_HZ = 3900.0
"""Every pattern stays within this band: it is what a piezo can make audible and what the GPIO
TonalBuzzer is set up for (two octaves either side of ~1 kHz)."""

CUE_PATTERNS: Mapping[Cue, Pattern] = MappingProxyType(
    {
        # Short mid beep; the game calls it once per second for 3-2-1.
        Cue.COUNTDOWN: (Note(1000.0, 0.12),),
        # Higher and four times as long: unmistakably "start now".
        Cue.GO: (Note(1500.0, 0.5),),
        # Low double buzz: a warning, unlike any countdown beep.
        Cue.EDGE: (Note(400.0, 0.12), Note(None, 0.06), Note(400.0, 0.12)),
        # Falling three-note phrase ending on a long tone: "finished".
        Cue.END: (
            Note(1200.0, 0.2),
            Note(None, 0.06),
            Note(900.0, 0.2),
            Note(None, 0.06),
            Note(600.0, 0.6),
        ),
        # A click for menu navigation.
        Cue.SELECT: (Note(2000.0, 0.03),),
    }
)


def pattern_duration(pattern: Pattern) -> float:
    """Total length of a pattern in seconds."""
    return sum(n.duration_s for n in pattern)


class CuePlayer:
    """Steps through one pattern at a time; a new cue replaces the one playing (the latest event
    is the one the person needs to hear). Not thread-safe: one owner calls it."""

    def __init__(self, patterns: Mapping[Cue, Pattern] = CUE_PATTERNS) -> None:
        missing = [c for c in Cue if c not in patterns]
        if missing:
            raise ValueError(f"no pattern for cue(s) {', '.join(missing)}")
        self._patterns = patterns
        self._pattern: Pattern = ()
        self._start = 0.0
        self._cue: Cue | None = None

    @property
    def playing(self) -> Cue | None:
        """The cue being played (until :meth:`update` has passed its end), else ``None``."""
        return self._cue

    def start(self, cue: Cue | str, now: float) -> None:
        """Start ``cue`` at time ``now`` (seconds on the owner's clock)."""
        cue = Cue(cue)
        self._cue = cue
        self._pattern = self._patterns[cue]
        self._start = now

    def stop(self) -> None:
        self._cue = None
        self._pattern = ()

    def _locate(self, now: float) -> tuple[Note | None, float]:
        """The note sounding at ``now`` and when it ends, or (None, inf) after the pattern."""
        t = self._start
        for note in self._pattern:
            t += note.duration_s
            if now < t:
                return note, t
        return None, float("inf")

    def update(self, now: float) -> float | None:
        """Frequency (Hz) to sound at ``now``, ``None`` for silence; ends the cue once past it."""
        note, _ = self._locate(now)
        if note is None:
            self.stop()
            return None
        return note.frequency_hz

    def time_to_next_change(self, now: float) -> float:
        """Seconds until the output of :meth:`update` may change (``inf`` when idle), so the
        owner's loop can wake exactly at note boundaries instead of a tick later."""
        if self._cue is None:
            return float("inf")
        note, end = self._locate(now)
        if note is None:
            return 0.0
        return max(0.0, end - now)
