"""Zones and direction cues: what the feedback lights show, worked out from board angles.

Pure functions of angles and thresholds (no pins, no clock), so the same rules drive the GPIO
lights, the on-screen traffic light and the tests.

* :class:`Zone` — where the board is relative to the target: in the target ring (green), near it
  (amber), further out (red), or at the rim (red, flashing). ``OFF`` means no session or no sensor.
* :func:`classify_zone` — zone from the distance to the target and the tilt from level, with
  hysteresis: an outward boundary is crossed at its radius, the way back in only once the angle is
  ``hysteresis`` inside it, so sensor noise at a boundary does not make the light flicker.
* :func:`direction_levels` — brightness of the four direction LEDs (front, back, left, right), each
  pointing to the side that is LOW relative to the target (pitch > 0: toes down → front; roll > 0:
  right edge down → right; CONVENTIONS.md), zero inside a dead band, full at ``full_scale``.

All angles in radians (DOMAIN.md §1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG


class Zone(Enum):
    """Where the board is, from the person's point of view. Ordered from inside out."""

    OFF = "off"
    """No session running, or the sensor is lost: all lights dark."""
    TARGET = "target"
    """Within the target radius of the target tilt (green)."""
    NEAR = "near"
    """Within the near radius (amber)."""
    OUTSIDE = "outside"
    """Beyond the near radius but clear of the rim (red)."""
    EDGE = "edge"
    """Tilted to the rim: tilt ≥ edge angle − margin (red, flashing)."""


_RANK = {Zone.TARGET: 0, Zone.NEAR: 1, Zone.OUTSIDE: 2, Zone.EDGE: 3}


@dataclass(frozen=True)
class ZoneThresholds:
    """Radii (rad) that split tilt into zones. Defaults suit level stance on a typical board;
    games set their own (DOMAIN.md §5: rings of 20°/10°/2° for basic/intermediate/advanced,
    traffic light 1°/3° in one open firmware)."""

    target_radius: float = 2.0 * DEG
    """Distance from the target tilt that still counts as on target."""
    near_radius: float = 5.0 * DEG
    """Distance from the target tilt that counts as near."""
    edge_margin: float = 1.0 * DEG
    """The edge zone starts this far before the board's edge angle (DOMAIN.md §5 edge touches)."""
    hysteresis: float = 0.5 * DEG
    """How far back inside a boundary the angle must come before the inner zone is shown again."""

    def __post_init__(self) -> None:
        if not self.target_radius > 0.0:
            raise ValueError(f"target_radius must be > 0, got {self.target_radius}")
        if not self.near_radius > self.target_radius:
            raise ValueError(
                f"near_radius ({self.near_radius}) must exceed target_radius ({self.target_radius})"
            )
        if self.edge_margin < 0.0:
            raise ValueError(f"edge_margin must be ≥ 0, got {self.edge_margin}")
        # A hysteresis as wide as a zone would let a zone be skipped on the way back in.
        widest = min(self.target_radius, self.near_radius - self.target_radius)
        if not 0.0 <= self.hysteresis < widest:
            raise ValueError(f"hysteresis must be in [0, {widest}), got {self.hysteresis}")


def classify_zone(
    target_distance: float,
    tilt: float,
    edge_angle: float,
    thresholds: ZoneThresholds,
    previous: Zone = Zone.OFF,
) -> Zone:
    """Zone of the board, given the zone shown last time (for hysteresis).

    ``target_distance`` is the angle between the board's tilt and the target tilt (equal to the
    tilt magnitude when the target is level); ``tilt`` is the tilt magnitude from level and
    ``edge_angle`` the board's edge angle toward the current tilt direction. ``previous`` =
    ``OFF`` (first reading, or back from a lost sensor) applies the plain thresholds.
    """
    h = thresholds.hysteresis
    edge_start = edge_angle - thresholds.edge_margin
    if previous is Zone.EDGE:
        if tilt >= edge_start - h:
            return Zone.EDGE
    elif tilt >= edge_start:
        return Zone.EDGE
    # Leaving the edge lands wherever the distance says, seen from OUTSIDE (its neighbour).
    prev_rank = min(_RANK.get(previous, 0), 2)
    rank = 0
    for i, radius in enumerate((thresholds.target_radius, thresholds.near_radius)):
        # Outward crossings at the radius; inward ones only once `h` inside it.
        boundary = radius - h if prev_rank > i else radius
        if target_distance > boundary:
            rank = i + 1
    return (Zone.TARGET, Zone.NEAR, Zone.OUTSIDE)[rank]


@dataclass(frozen=True)
class TiltReading:
    """The quantities zone classification needs for one pitch/roll pair (rad)."""

    tilt: float
    """Tilt magnitude from level."""
    direction: float
    """Azimuth of the low side (board_angles convention: 0 front, +π/2 right)."""
    target_distance: float
    """Angle between the board normal and the normal of the target tilt."""


def tilt_reading(
    pitch: float, roll: float, target_pitch: float = 0.0, target_roll: float = 0.0
) -> TiltReading:
    """Tilt, low-side direction and distance to the target from pitch and roll (rad).

    Uses the project's one board-angle conversion (wobble_trainer.tilt.board_angles) so the
    lights agree with the analysis about what "15° toward the right" means.
    """
    up = up_from_pitch_roll(pitch, roll)
    angles = angles_from_up(up)
    if target_pitch == 0.0 and target_roll == 0.0:
        distance = angles.tilt
    else:
        t = up_from_pitch_roll(target_pitch, target_roll)
        dot = up[0] * t[0] + up[1] * t[1] + up[2] * t[2]
        cx = up[1] * t[2] - up[2] * t[1]
        cy = up[2] * t[0] - up[0] * t[2]
        cz = up[0] * t[1] - up[1] * t[0]
        # atan2 of |cross| and dot stays accurate for the small angles that matter here.
        distance = math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), dot)
    return TiltReading(tilt=angles.tilt, direction=angles.direction, target_distance=distance)


def zone_for_angles(
    pitch: float,
    roll: float,
    thresholds: ZoneThresholds,
    edge_angles: EdgeAngles,
    previous: Zone = Zone.OFF,
    target_pitch: float = 0.0,
    target_roll: float = 0.0,
) -> Zone:
    """:func:`classify_zone` from board pitch and roll, with the edge angle of the board toward
    the current low side (boards differ per direction; calibration measures all four)."""
    r = tilt_reading(pitch, roll, target_pitch, target_roll)
    return classify_zone(
        r.target_distance, r.tilt, edge_angles.toward(r.direction), thresholds, previous
    )


@dataclass(frozen=True)
class DirectionLevels:
    """Brightness 0..1 of each direction LED; a non-zero level means "lit"."""

    front: float = 0.0
    back: float = 0.0
    left: float = 0.0
    right: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"front": self.front, "back": self.back, "left": self.left, "right": self.right}


DARK = DirectionLevels()


@dataclass(frozen=True)
class DirectionScale:
    """How the direction LEDs scale with the error (rad)."""

    dead_band: float = 1.0 * DEG
    """Errors up to this leave the LED dark, so a person on target sees no arrows."""
    full_scale: float = 10.0 * DEG
    """Error at which the LED reaches full brightness."""
    hysteresis: float = 0.3 * DEG
    """A lit LED stays lit until the error is this far back inside the dead band (no flicker of
    on/off LEDs at the dead-band edge)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.hysteresis <= self.dead_band:
            raise ValueError(f"hysteresis must be in [0, dead_band], got {self.hysteresis}")
        if not self.full_scale > self.dead_band:
            raise ValueError(
                f"full_scale ({self.full_scale}) must exceed dead_band ({self.dead_band})"
            )


def _level(error: float, scale: DirectionScale, was_lit: bool) -> float:
    start = scale.dead_band - scale.hysteresis if was_lit else scale.dead_band
    if error <= start:
        return 0.0
    return min(1.0, (error - start) / (scale.full_scale - start))


def direction_levels(
    pitch_error: float,
    roll_error: float,
    scale: DirectionScale,
    previous: DirectionLevels = DARK,
) -> DirectionLevels:
    """Direction LED levels from the tilt error relative to the target (rad).

    ``pitch_error = pitch − target_pitch``: > 0 means the toes are lower than wanted → front LED;
    ``roll_error = roll − target_roll``: > 0 means the right edge is lower → right LED. With a
    level target this is simply "the LED on the low side". ``previous`` gives the hysteresis.
    """
    return DirectionLevels(
        front=_level(pitch_error, scale, previous.front > 0.0),
        back=_level(-pitch_error, scale, previous.back > 0.0),
        left=_level(-roll_error, scale, previous.left > 0.0),
        right=_level(roll_error, scale, previous.right > 0.0),
    )
