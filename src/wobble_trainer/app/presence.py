"""Is anybody on the board? A board nobody stands on rests on its rim and stays still.

The IMU cannot weigh the person, but a loaded board is never perfectly still at its rim for
long: people push back. :class:`PresenceDetector` reports "off" after the board has rested
within :attr:`margin` of its edge angle, nearly motionless, for :attr:`still_time_s`, and "on"
again as soon as it leaves the rim.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG


@dataclass
class PresenceDetector:
    edge_angles: EdgeAngles = field(default_factory=EdgeAngles)
    margin: float = 2.5 * DEG
    still_rate: float = 3.0 * DEG
    """Tilt change per second below which the board counts as still."""
    still_time_s: float = 2.0
    on_board: bool = True
    _still_for: float = 0.0
    _last: BoardAngles | None = None

    def update(self, dt: float, angles: BoardAngles | None) -> bool:
        if angles is None:
            self._last = None
            self._still_for = 0.0
            return self.on_board
        at_rim = angles.tilt >= self.edge_angles.toward(angles.direction) - self.margin
        moving = True
        if self._last is not None and dt > 0:
            change = abs(angles.pitch - self._last.pitch) + abs(angles.roll - self._last.roll)
            moving = change / dt > self.still_rate
        self._last = angles
        if not at_rim:
            self._still_for = 0.0
            self.on_board = True
        elif not moving:
            self._still_for += dt
            if self._still_for >= self.still_time_s:
                self.on_board = False
        return self.on_board
