"""Target reach: limits-of-stability targets in eight directions, each held for a dwell time.

A clinician's limits-of-stability test (DOMAIN.md §6) as a game. A target appears in one of eight
directions (front, front-right, right, ... clockwise) at a fraction of the board's edge angle in
that direction (``app.edge_angles.toward``: a board may reach only 15°, and less to one side). The
person tilts the board to move the cursor into it and holds it there for the dwell time (a ring
fills), then brings the board back to the centre, which brings up the next target. Each target has
a time limit. The directions come in shuffled sets of eight (seeded from app.rng), so every
direction is tested equally often but the order cannot be learned.

Every target is one attempt for :class:`AdaptiveDifficulty`: the level sets the reach (fraction of
the edge angle), the target size, the dwell and the time limit. Per direction the game records the
time to reach (appearance to first entry), whether it was held in time and the furthest excursion
towards it, the usual limits-of-stability measures. Score: per target held, 10 × level + up to 10
for speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import ACCENT, AMBER, BACKGROUND, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.app.widgets import draw_progress_ring, draw_tilt_view
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.zones import ZoneThresholds
from wobble_trainer.tilt.board_angles import pitch_roll_toward
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG

DIRECTIONS = tuple(i * math.pi / 4 for i in range(8))
"""Target azimuths (low side, clockwise from the front), rad."""
DIRECTION_NAMES = (
    "front",
    "front-right",
    "right",
    "back-right",
    "back",
    "back-left",
    "left",
    "front-left",
)
CENTRE_FRACTION = 0.13
"""Radius of the centre zone, as a fraction of the smallest edge angle (~2° on a 15° board)."""
CENTRE_HOLD_S = 0.4
"""How long the cursor must rest in the centre before the next target appears."""
EXIT_HYSTERESIS = 0.25
"""The cursor leaves a target (or the centre) only this fraction of its radius beyond it (noise
at the rim does not reset the dwell)."""
EDGE_MARGIN = 1.0 * DEG
"""An edge touch starts this far before the edge angle (DOMAIN.md §5)."""
EDGE_HYSTERESIS = 0.5 * DEG
RESULT_SHOW_S = 1.0
MIN_LEVEL, MAX_LEVEL = 1, 10


def _lerp(level: int, first: float, last: float) -> float:
    return first + (last - first) * (level - MIN_LEVEL) / (MAX_LEVEL - MIN_LEVEL)


@dataclass(frozen=True)
class ReachLevel:
    """What one difficulty level asks."""

    level: int
    distance_fraction: float
    """Target centre as a fraction of the edge angle in its direction."""
    radius_fraction: float
    """Target radius as a fraction of the edge angle in its direction."""
    dwell_s: float
    time_limit: float
    """s from the target appearing to the end of the dwell."""

    @classmethod
    def of(cls, level: int) -> ReachLevel:
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ValueError(f"reach level must be {MIN_LEVEL}-{MAX_LEVEL}")
        return cls(
            level=level,
            distance_fraction=_lerp(level, 0.35, 0.80),
            radius_fraction=_lerp(level, 0.20, 0.08),
            dwell_s=_lerp(level, 1.0, 2.0),
            time_limit=_lerp(level, 10.0, 6.0),
        )


def cursor_of(tilt: float, direction: float) -> tuple[float, float]:
    """Cursor position (right, forward) in rad of tilt: polar tilt and low-side direction."""
    return tilt * math.sin(direction), tilt * math.cos(direction)


@dataclass(frozen=True)
class ReachTarget:
    index: int
    """Which of the eight directions (DIRECTIONS, DIRECTION_NAMES)."""
    distance: float
    """Tilt of the target centre, rad."""
    radius: float
    """rad."""

    @property
    def direction(self) -> float:
        return DIRECTIONS[self.index]

    @property
    def name(self) -> str:
        return DIRECTION_NAMES[self.index]

    @property
    def position(self) -> tuple[float, float]:
        return cursor_of(self.distance, self.direction)

    @classmethod
    def make(cls, index: int, level: ReachLevel, edges: EdgeAngles) -> ReachTarget:
        edge = edges.toward(DIRECTIONS[index])
        return cls(index, level.distance_fraction * edge, level.radius_fraction * edge)


@dataclass(frozen=True)
class ReachAttempt:
    """One target: the measures a limits-of-stability test reports for its direction."""

    index: int
    level: int
    distance: float
    """Target tilt, rad."""
    time_to_reach: float | None
    """s from the target appearing to the cursor first entering it (None: never entered)."""
    time_s: float
    """s until it was held (success) or the time limit (miss)."""
    success: bool
    max_excursion: float
    """Furthest tilt towards the target's direction while it was shown, rad."""
    points: int

    @property
    def name(self) -> str:
        return DIRECTION_NAMES[self.index]


@dataclass(frozen=True)
class DirectionSummary:
    name: str
    attempts: int
    reached: int
    mean_time_to_reach: float | None
    """s, over the attempts in which the target was entered."""
    max_excursion: float
    """rad, the furthest excursion in this direction over the game."""


@dataclass(frozen=True)
class ReachSettings:
    targets: int = 24
    """Attempts in one game (three sets of the eight directions)."""
    start_level: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.targets <= 120:
            raise ValueError("a game has 1-120 targets")
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"start level must be {MIN_LEVEL}-{MAX_LEVEL}")

    def key(self) -> str:
        return f"reach/{self.targets}"


def reach_points(level: int, time_left: float, time_limit: float) -> int:
    """Points for a target held: 10 per level plus up to 10 for the fraction of time left."""
    return 10 * level + round(10.0 * min(1.0, max(0.0, time_left / time_limit)))


class Stage(StrEnum):
    CENTRE = "centre"
    """Waiting for the cursor to rest in the centre."""
    REACH = "reach"
    """A target is shown."""


class ReachGame(TimedActivity):
    title = "Target reach"
    name = "reach"

    def __init__(self, app: AppContext, settings: ReachSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or ReachSettings()
        self.adaptive = AdaptiveDifficulty(
            level=self.settings.start_level, min_level=MIN_LEVEL, max_level=MAX_LEVEL
        )
        self.level = ReachLevel.of(self.adaptive.level)
        self.attempts: list[ReachAttempt] = []
        self.score = 0
        self.stage = Stage.CENTRE
        self.centre_time = 0.0
        self.target: ReachTarget | None = None
        self.target_time = 0.0
        self.dwell = 0.0
        self.inside = False
        self.time_to_reach: float | None = None
        self.max_excursion = 0.0
        self.cursor: tuple[float, float] | None = None
        self.edge_touches = 0
        self._on_edge = False
        self.result_left = 0.0
        # The whole order is drawn up front: sets of the eight directions, each shuffled, never
        # the same direction twice in a row across a set boundary.
        self.order: list[int] = []
        while len(self.order) < self.settings.targets:
            block = list(range(len(DIRECTIONS)))
            app.rng.shuffle(block)
            if self.order and block[0] == self.order[-1]:
                block[0], block[-1] = block[-1], block[0]
            self.order.extend(block)
        del self.order[self.settings.targets :]

    @property
    def centre_radius(self) -> float:
        return CENTRE_FRACTION * self.app.edge_angles.smallest

    @property
    def last(self) -> ReachAttempt | None:
        return self.attempts[-1] if self.attempts else None

    def start(self) -> None:
        self._show_centre()

    def _feedback(self, pitch: float, roll: float, radius: float) -> None:
        zones = ZoneThresholds(
            target_radius=radius,
            near_radius=2.0 * radius,
            hysteresis=min(0.5 * DEG, 0.4 * radius),
        )
        self.app.feedback.set_targets(
            FeedbackTargets(pitch, roll, zones=zones, edge_angles=self.app.edge_angles)
        )

    def _show_centre(self) -> None:
        self.stage = Stage.CENTRE
        self.centre_time = 0.0
        self.target = None
        self._feedback(0.0, 0.0, self.centre_radius)

    def _show_target(self) -> None:
        self.level = ReachLevel.of(self.adaptive.level)
        self.target = ReachTarget.make(
            self.order[len(self.attempts)], self.level, self.app.edge_angles
        )
        self.stage = Stage.REACH
        self.target_time = 0.0
        self.dwell = 0.0
        self.inside = False
        self.time_to_reach = None
        self.max_excursion = 0.0
        self._feedback(
            *pitch_roll_toward(self.target.distance, self.target.direction), self.target.radius
        )

    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        a = tick.angles
        self.cursor = cursor_of(a.tilt, a.direction)
        self._count_edge(a.tilt, a.direction)
        if self.result_left > 0.0:
            self.result_left = max(0.0, self.result_left - dt)
        if self.stage is Stage.CENTRE:
            # Hysteresis: once in, a sway just past the rim does not restart the wait.
            rim = self.centre_radius * (1.0 + EXIT_HYSTERESIS * (self.centre_time > 0.0))
            if math.hypot(*self.cursor) <= rim:
                self.centre_time += dt
                if self.centre_time >= CENTRE_HOLD_S - 1e-9:
                    self._show_target()
            else:
                self.centre_time = 0.0
            return
        target = self.target
        assert target is not None
        self.target_time += dt
        along = a.tilt * math.cos(a.direction - target.direction)
        self.max_excursion = max(self.max_excursion, along)
        tx, ty = target.position
        distance = math.hypot(self.cursor[0] - tx, self.cursor[1] - ty)
        limit = target.radius * (1.0 + EXIT_HYSTERESIS) if self.inside else target.radius
        self.inside = distance <= limit
        if self.inside:
            if self.time_to_reach is None:
                self.time_to_reach = self.target_time
            self.dwell += dt
            if self.dwell >= self.level.dwell_s - 1e-9:
                self._end_target(True)
                return
        else:
            self.dwell = 0.0
        if self.target_time >= self.level.time_limit - 1e-9:
            self._end_target(False)

    def _count_edge(self, tilt: float, direction: float) -> None:
        start = self.app.edge_angles.toward(direction) - EDGE_MARGIN
        on_edge = tilt >= (start - EDGE_HYSTERESIS if self._on_edge else start)
        if on_edge and not self._on_edge:
            self.edge_touches += 1
            self.events.append({"t": round(self.elapsed, 3), "event": "edge"})
            self.app.feedback.cue(Cue.EDGE)
        self._on_edge = on_edge

    def _end_target(self, success: bool) -> None:
        target = self.target
        assert target is not None
        points = 0
        if success:
            lv = self.level
            points = reach_points(lv.level, lv.time_limit - self.target_time, lv.time_limit)
            self.app.feedback.cue(Cue.SELECT)
        self.score += points
        self.attempts.append(
            ReachAttempt(
                index=target.index,
                level=self.level.level,
                distance=target.distance,
                time_to_reach=self.time_to_reach,
                time_s=round(self.target_time, 2),
                success=success,
                max_excursion=self.max_excursion,
                points=points,
            )
        )
        self.events.append(
            {
                "t": round(self.elapsed, 3),
                "event": "target",
                "direction": target.name,
                "level": self.level.level,
                "distance_deg": round(target.distance / DEG, 2),
                "time_to_reach": None
                if self.time_to_reach is None
                else round(self.time_to_reach, 2),
                "time_s": round(self.target_time, 2),
                "max_excursion_deg": round(self.max_excursion / DEG, 2),
                "success": success,
            }
        )
        self.adaptive.record(success)
        self.result_left = RESULT_SHOW_S
        self.dwell = 0.0
        if len(self.attempts) >= self.settings.targets:
            self.finish()
        else:
            self._show_centre()

    # -- autopilot and results -----------------------------------------------------------------
    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self.phase is not Phase.RUNNING or self.target is None:
            return (0.0, 0.0)
        return pitch_roll_toward(self.target.distance, self.target.direction)

    def direction_summary(self) -> list[DirectionSummary]:
        """Per direction, in clockwise order from the front (directions not yet shown left out)."""
        out = []
        for i, name in enumerate(DIRECTION_NAMES):
            mine = [a for a in self.attempts if a.index == i]
            if not mine:
                continue
            times = [a.time_to_reach for a in mine if a.time_to_reach is not None]
            out.append(
                DirectionSummary(
                    name=name,
                    attempts=len(mine),
                    reached=sum(a.success for a in mine),
                    mean_time_to_reach=sum(times) / len(times) if times else None,
                    max_excursion=max(a.max_excursion for a in mine),
                )
            )
        return out

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        n = len(self.attempts)
        reached = sum(a.success for a in self.attempts)
        pct = 100.0 * reached / n if n else 0.0
        times = [a.time_to_reach for a in self.attempts if a.time_to_reach is not None]
        lines = [
            f"Reached {reached} of {n} targets ({pct:.0f}%)",
            "Mean time to reach: " + (f"{sum(times) / len(times):.1f} s" if times else "-"),
        ]
        summary = self.direction_summary()
        if summary:
            # The weakest direction: fewest held, then slowest to reach.
            weakest = min(
                summary,
                key=lambda s: (s.reached / s.attempts, -(s.mean_time_to_reach or math.inf)),
            )
            if weakest.reached < weakest.attempts:
                lines.append(
                    f"Hardest direction: {weakest.name} ({weakest.reached}/{weakest.attempts} held)"
                )
            elif weakest.mean_time_to_reach is not None:
                lines.append(
                    f"Slowest direction: {weakest.name} ({weakest.mean_time_to_reach:.1f} s)"
                )
        lines += [
            f"{_levels(self.settings.start_level, self.adaptive.level)}   "
            f"edge touches {self.edge_touches}",
            f"Score {self.score}",
        ]
        return "Target reach", lines, self.settings.key(), float(self.score)

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        m = layout.margin
        number = min(len(self.attempts) + 1, self.settings.targets)
        hud = (
            f"Target {number}/{self.settings.targets}   "
            f"Level {self.level.level}   Score {self.score}"
        )
        hud_rect = layout.text(
            surface, hud, layout.body_size, (layout.width // 2, m + layout.body_size // 2)
        )
        bar_h = max(8, layout.small_size // 2)
        message_y = layout.height - 2 * m - bar_h - layout.small_size // 2
        top = hud_rect.bottom + m
        bottom = message_y - layout.small_size // 2 - m
        radius = max(30, min(layout.width - 2 * m, bottom - top) // 2)
        center = (layout.width // 2, (top + bottom) // 2)
        edges = self.app.edge_angles
        full_scale = max(edges.front, edges.back, edges.left, edges.right)
        draw_tilt_view(surface, center, radius, None, full_scale)

        def at(right: float, forward: float) -> tuple[int, int]:
            return (
                round(center[0] + right / full_scale * radius),
                round(center[1] - forward / full_scale * radius),
            )

        # The board's reach: its edge outline, the eight spokes and each direction's last result.
        outline = [at(*cursor_of(edges.toward(d), d)) for d in _ring(72)]
        pygame.draw.polygon(surface, (110, 120, 145), outline, max(2, radius // 80))
        dot = max(5, radius // 22)
        for i, d in enumerate(DIRECTIONS):
            end = at(*cursor_of(edges.toward(d), d))
            pygame.draw.line(surface, (60, 70, 95), center, end, 1)
            mine = [a for a in self.attempts if a.index == i]
            color = (70, 80, 105) if not mine else GREEN if mine[-1].success else RED
            pygame.draw.circle(surface, color, end, dot)
        px = radius / full_scale
        if self.stage is Stage.CENTRE and self.phase is not Phase.DONE:
            r = max(6, round(self.centre_radius * px))
            pygame.draw.circle(surface, ACCENT, center, r, max(2, r // 5))
            draw_progress_ring(surface, center, r + dot, self.centre_time / CENTRE_HOLD_S, ACCENT)
        target = self.target
        if target is not None:
            tc = at(*target.position)
            r = max(6, round(target.radius * px))
            color = GREEN if self.inside else AMBER
            pygame.draw.circle(surface, (40, 70, 60) if self.inside else (70, 60, 40), tc, r)
            pygame.draw.circle(surface, color, tc, r, max(2, r // 6))
            draw_progress_ring(surface, tc, r + dot + 2, self.dwell / self.level.dwell_s, GREEN)
        if self.cursor is not None and self.phase is Phase.RUNNING:
            # Smaller than the tilt view's usual dot: the targets ask for precision.
            spot = at(*self.cursor)
            size = max(5, radius // 22)
            pygame.draw.circle(surface, BACKGROUND, spot, size + 2)
            pygame.draw.circle(surface, ACCENT, spot, size)
        # Time left for the target, and what to do now.
        bar = pygame.Rect(center[0] - radius, layout.height - m - bar_h, 2 * radius, bar_h)
        pygame.draw.rect(surface, (50, 58, 80), bar, border_radius=bar_h // 2)
        if target is not None:
            fraction = max(0.0, 1.0 - self.target_time / self.level.time_limit)
            if fraction > 0:
                fill = bar.copy()
                fill.width = max(bar_h, round(bar.width * fraction))
                color = GREEN if fraction > 0.5 else AMBER if fraction > 0.2 else RED
                pygame.draw.rect(surface, color, fill, border_radius=bar_h // 2)
        message, color = self._message()
        layout.text(surface, message, layout.small_size, (layout.width // 2, message_y), color)

    def _message(self) -> tuple[str, tuple[int, int, int]]:
        last = self.last
        if self.result_left > 0.0 and last is not None:
            if last.success:
                return f"{last.name.capitalize()} reached!  +{last.points}", GREEN
            return f"{last.name.capitalize()} missed - back to the centre", RED
        if self.phase is Phase.COUNTDOWN:
            return "Tilt into each target and hold it there", TEXT
        if self.stage is Stage.CENTRE:
            return "Back to the centre", MUTED
        if self.target is not None:
            if self.inside:
                return "Hold it...", GREEN
            return f"Reach {self.target.name}", TEXT
        return "", TEXT


def _levels(start: int, end: int) -> str:
    return f"Level {end}" if start == end else f"Level {start} to {end}"


def _ring(n: int) -> list[float]:
    return [2 * math.pi * i / n for i in range(n)]


register(
    Activity(
        "reach",
        "Target reach",
        "Tilt into targets in eight directions and hold each one",
        lambda app: ReachGame(app),
    )
)
