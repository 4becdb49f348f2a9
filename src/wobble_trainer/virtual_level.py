"""The virtual stability level 1-12: a software gain on a passive board.

A Biodex Balance System changes how stiffly its platform resists tilting; a wobble board cannot:
its stiffness is its shape. What the hold challenge and the postural-stability test call a
"stability level" therefore changes only the on-screen cursor: how far it moves per degree of
board tilt (:func:`cursor_gain`) and how much tilt around level it ignores (:func:`dead_band`).
The board moves exactly as before, and every measure (OSI, sway, edge touches) is of the real
board tilt. Screens and reports name it :data:`LABEL` and explain it with :data:`NOTE`, so nobody
reads it as Biodex's platform levels.

This is the one place with the mapping; :class:`wobble_trainer.app.activities.hold.HoldSettings`
uses it.
"""

from __future__ import annotations

from wobble_trainer.units import DEG

LOWEST = 1
HIGHEST = 12
"""12 is the calmest cursor (most forgiving), 1 the liveliest."""

LABEL = "Virtual stability level"
"""How the setting is named on every screen and report."""


def check(level: int) -> int:
    """``level`` if it is a whole level 1-12; ``ValueError`` otherwise."""
    if isinstance(level, bool) or not isinstance(level, int) or not LOWEST <= level <= HIGHEST:
        raise ValueError(f"stability level must be {LOWEST}-{HIGHEST}, not {level!r}")
    return level


def cursor_gain(level: int) -> float:
    """Cursor degrees per board degree: 0.6 at level 12 up to 2.25 at level 1."""
    return 0.6 + (HIGHEST - check(level)) * 0.15


def dead_band(level: int) -> float:
    """Board tilt (rad) the cursor ignores around level: 1.5° at level 12, none at level 1."""
    return (check(level) - LOWEST) / (HIGHEST - LOWEST) * 1.5 * DEG


NOTE = (
    f"{LABEL}: a software setting, the board stays as free as ever. It changes only how far the "
    f"cursor moves per degree of board tilt ({cursor_gain(HIGHEST):g}x at {HIGHEST} to "
    f"{cursor_gain(LOWEST):g}x at {LOWEST}) and the tilt it ignores around level (up to "
    f"{dead_band(HIGHEST) / DEG:g}\u00b0), never the measures."
)
"""The one line that says what the level changes (setup and results screens, reports)."""
