"""Circle tracing: keep the tilt cursor on a target that goes round the rim (board rotations).

The target runs round a circle in tilt space: in tilt direction ``φ`` (the low side's azimuth,
0 front, +π/2 right) its tilt is a level-set fraction of the board's edge angle toward ``φ``
(``app.edge_angles.toward(φ)``), so on a board whose edge angles differ per direction the path
follows the board's own rim. Clockwise (seen from above, front at the top of the screen) is
increasing ``φ``. Each lap starts at a random angle, clockwise or anticlockwise (alternating or
random, as set); the target first waits at its start for :data:`LEAD_IN_S` so the person can get
there, then goes once round at the level's speed.

An attempt is one lap: success when the cursor was on the target (within the level's target size,
the angle between the board's normal and the target's) for at least the set fraction of the lap.
Each lap scores ``level × (70 × fraction on target + 30 × closeness)``, closeness being
1 − mean distance / circle radius (0 at worst), so both the time on target and the mean distance
count, and harder levels count more. Levels set the circle's size, the speed and the target size;
adaptive difficulty keeps the lap success rate at 70-85%.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import ACCENT, AMBER, GREEN, MUTED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.app.widgets import draw_tilt_view, tilt_to_screen
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.zones import ZoneThresholds
from wobble_trainer.tilt.board_angles import pitch_roll_toward, up_from_pitch_roll
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG

LAP_COUNTS = (4, 6, 8, 10, 12)
DIRECTION_MODES = ("alternate", "random")
MIN_LEVEL = 1
MAX_LEVEL = 10
LEAD_IN_S = 2.0
"""The target waits this long at each lap's start before it moves (not scored)."""
FEEDBACK_PERIOD_S = 0.1
"""How often the feedback lights are told where the moving target is."""
ADAPT_WINDOW = 4
"""Laps judged together by the adaptive difficulty."""
PATH_POINTS = 96
"""Points drawn per lap of the path."""
AUTOPILOT_LEAD_S = 0.05
"""The autopilot aims this far ahead of the target, for the simulated person's reaction time."""


class Direction(StrEnum):
    CLOCKWISE = "clockwise"
    ANTICLOCKWISE = "anticlockwise"

    @property
    def sign(self) -> int:
        """+1 when the tilt direction angle grows (clockwise seen from above)."""
        return 1 if self is Direction.CLOCKWISE else -1


class LapStage(StrEnum):
    LEAD_IN = "lead-in"
    MOVING = "moving"


@dataclass(frozen=True)
class CircleLevel:
    """What a level sets."""

    radius_fraction: float
    """Circle tilt as a fraction of the edge angle in each direction."""
    lap_s: float
    """Time for one lap."""
    target_fraction: float
    """Target size (on-target distance) as a fraction of the smallest edge angle."""


def level_params(level: int) -> CircleLevel:
    """Level 1 (small slow circle, big target) to 10 (near the rim, fast, small target)."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"circle level must be {MIN_LEVEL}-{MAX_LEVEL}")
    q = (level - MIN_LEVEL) / (MAX_LEVEL - MIN_LEVEL)
    return CircleLevel(
        radius_fraction=0.40 + 0.40 * q,
        lap_s=16.0 - 9.0 * q,
        target_fraction=0.25 - 0.14 * q,
    )


@dataclass(frozen=True)
class CircleSettings:
    laps: int = 8
    start_level: int = 1
    direction: str = "alternate"
    """"alternate": each lap turns the other way (the first at random); "random": each lap's
    turn is drawn."""
    success_fraction: float = 0.6
    """Share of a lap on target that makes it a success."""

    def __post_init__(self) -> None:
        if self.laps not in LAP_COUNTS:
            raise ValueError(f"laps must be one of {LAP_COUNTS}")
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"start level must be {MIN_LEVEL}-{MAX_LEVEL}")
        if self.direction not in DIRECTION_MODES:
            raise ValueError(f"direction must be one of {DIRECTION_MODES}")
        if not 0.3 <= self.success_fraction <= 0.95:
            raise ValueError("success fraction must be 0.3-0.95")

    def key(self) -> str:
        return f"circles/{self.laps}laps/{self.direction}"


@dataclass(frozen=True)
class Lap:
    """One lap's plan, fixed when it starts."""

    level: int
    start_angle: float
    """Tilt direction (rad) the target starts from."""
    direction: Direction


@dataclass(frozen=True)
class LapResult:
    level: int
    direction: Direction
    on_target_s: float
    lap_s: float
    mean_distance: float
    """Mean angle between board and target normals over the lap (rad)."""
    points: float
    success: bool

    @property
    def fraction(self) -> float:
        return self.on_target_s / self.lap_s


def target_tilt(direction: float, tilt: float) -> tuple[float, float]:
    """Pitch and roll (rad) of a board tilted by ``tilt`` toward ``direction`` (low-side
    azimuth), through the project's one angle conversion."""
    return pitch_roll_toward(tilt, direction)


def tilt_distance(p1: float, r1: float, p2: float, r2: float) -> float:
    """Angle (rad) between the normals of two boards given by pitch and roll."""
    u, v = up_from_pitch_roll(p1, r1), up_from_pitch_roll(p2, r2)
    dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2]
    cx = u[1] * v[2] - u[2] * v[1]
    cy = u[2] * v[0] - u[0] * v[2]
    cz = u[0] * v[1] - u[1] * v[0]
    # atan2 stays accurate for the small angles that decide "on target".
    return math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), dot)


class CircleTracing(TimedActivity):
    title = "Circle tracing"
    name = "circles"

    def __init__(self, app: AppContext, settings: CircleSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or CircleSettings()
        # A lap is a long attempt: judge four at a time (4 of 4 up, 3 of 4 stay, fewer down),
        # which still holds a person at 70-85% and lets the level move within one session.
        self.adaptive = AdaptiveDifficulty(
            level=self.settings.start_level,
            min_level=MIN_LEVEL,
            max_level=MAX_LEVEL,
            window=ADAPT_WINDOW,
        )
        # A child generator seeded from the app's: the laps are the same for one seed whatever
        # else draws from app.rng meanwhile.
        self.rng = random.Random(app.rng.getrandbits(64))
        self.laps: list[LapResult] = []
        self._last_direction: Direction | None = None
        self.lap = self._plan_lap()
        self.stage = LapStage.LEAD_IN
        self.stage_time = 0.0
        self.on_target_s = 0.0
        self.distance_sum = 0.0
        self.on_target = False
        self.distance: float | None = None
        self.cursor: tuple[float, float] | None = None
        self._feedback_due = 0.0

    @property
    def level(self) -> int:
        return self.adaptive.level

    @property
    def params(self) -> CircleLevel:
        return level_params(self.lap.level)

    @property
    def target_size(self) -> float:
        """On-target distance (rad) this lap."""
        return self.params.target_fraction * self.app.edge_angles.smallest

    def radius_toward(self, direction: float) -> float:
        """Circle tilt (rad) toward ``direction`` this lap."""
        return self.params.radius_fraction * self.app.edge_angles.toward(direction)

    def _plan_lap(self) -> Lap:
        if self.settings.direction == "random" or self._last_direction is None:
            direction = self.rng.choice((Direction.CLOCKWISE, Direction.ANTICLOCKWISE))
        elif self._last_direction is Direction.CLOCKWISE:
            direction = Direction.ANTICLOCKWISE
        else:
            direction = Direction.CLOCKWISE
        self._last_direction = direction
        return Lap(self.level, self.rng.uniform(-math.pi, math.pi), direction)

    def target_angle(self, lap_time: float | None = None) -> float:
        """Tilt direction of the target (rad) ``lap_time`` s into the moving part of the lap."""
        t = self.stage_time if lap_time is None else lap_time
        if self.stage is LapStage.LEAD_IN and lap_time is None:
            t = 0.0
        t = max(0.0, min(t, self.params.lap_s))
        return self.lap.start_angle + self.lap.direction.sign * 2 * math.pi * t / self.params.lap_s

    def target(self, lap_time: float | None = None) -> tuple[float, float]:
        """Target pitch and roll (rad)."""
        phi = self.target_angle(lap_time)
        return target_tilt(phi, self.radius_toward(phi))

    # -- logic ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._feedback_due = 0.0
        self._send_feedback()

    def _send_feedback(self) -> None:
        pitch, roll = self.target()
        size = self.target_size
        self.app.feedback.set_targets(
            FeedbackTargets(
                target_pitch=pitch,
                target_roll=roll,
                zones=ZoneThresholds(target_radius=size, near_radius=2 * size),
                edge_angles=self.app.edge_angles,
            )
        )

    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        a = tick.angles
        self.cursor = (a.pitch, a.roll)
        self.stage_time += dt
        if self.stage is LapStage.LEAD_IN:
            if self.stage_time >= LEAD_IN_S - 1e-9:
                self.stage = LapStage.MOVING
                self.stage_time = 0.0
                self.app.feedback.cue(Cue.SELECT)
            self.distance = tilt_distance(a.pitch, a.roll, *self.target())
            self.on_target = self.distance <= self.target_size
        else:
            self.distance = tilt_distance(a.pitch, a.roll, *self.target())
            self.on_target = self.distance <= self.target_size
            self.distance_sum += self.distance * dt
            if self.on_target:
                self.on_target_s += dt
            if self.stage_time >= self.params.lap_s - 1e-9:
                self._end_lap()
                if self.phase is Phase.DONE:
                    return
        self._feedback_due -= dt
        if self._feedback_due <= 0.0:
            self._feedback_due += FEEDBACK_PERIOD_S
            self._send_feedback()

    def _end_lap(self) -> None:
        p = self.params
        lap_s = self.stage_time
        fraction = min(1.0, self.on_target_s / lap_s)
        mean = self.distance_sum / lap_s
        mean_radius = p.radius_fraction * _mean_edge(self.app.edge_angles)
        closeness = max(0.0, 1.0 - mean / mean_radius)
        success = fraction >= self.settings.success_fraction - 1e-9
        self.laps.append(
            LapResult(
                level=self.lap.level,
                direction=self.lap.direction,
                on_target_s=self.on_target_s,
                lap_s=lap_s,
                mean_distance=mean,
                points=self.lap.level * (70.0 * fraction + 30.0 * closeness),
                success=success,
            )
        )
        self.adaptive.record(success)
        if len(self.laps) >= self.settings.laps:
            self.finish()
            return
        self.lap = self._plan_lap()
        self.stage = LapStage.LEAD_IN
        self.stage_time = 0.0
        self.on_target_s = 0.0
        self.distance_sum = 0.0

    @property
    def score(self) -> float:
        return round(sum(lap.points for lap in self.laps), 1)

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        """Where the target is (a touch ahead of it while it moves)."""
        if self.phase is Phase.DONE:
            return (0.0, 0.0)
        if self.phase is Phase.RUNNING and self.stage is LapStage.MOVING:
            return self.target(self.stage_time + AUTOPILOT_LEAD_S)
        return self.target()

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        total_s = sum(lap.lap_s for lap in self.laps)
        on_s = sum(lap.on_target_s for lap in self.laps)
        pct = 100.0 * on_s / total_s if total_s else 0.0
        mean = sum(lap.mean_distance * lap.lap_s for lap in self.laps) / max(total_s, 1e-9)
        good = sum(lap.success for lap in self.laps)
        lines = [
            f"Score: {self.score:.0f}",
            f"On target: {on_s:.0f} of {total_s:.0f} s ({pct:.0f}%)",
            f"Mean distance: {mean / DEG:.1f}°",
            f"Laps done well: {good} of {len(self.laps)}",
            f"Level: {self.settings.start_level} to {self.level}",
        ]
        return "Circles complete", lines, self.settings.key(), self.score

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        m = layout.margin
        body, small = layout.body_size, layout.small_size
        if layout.portrait:
            top = m + small + body + m
            below = 2 * body + m  # the status line under the disc
            radius = min(layout.width - 2 * m, layout.height - top - below - 2 * m) // 2
            spare = layout.height - top - below - 2 * radius
            center = (layout.width // 2, top + spare // 2 + radius)
        else:
            side = max(layout.width // 5, 6 * body)
            radius = min(layout.width - 2 * side, layout.height - 2 * m) // 2
            center = (layout.width // 2, layout.height // 2)
        radius = max(30, radius - m)
        edges = self.app.edge_angles
        full_scale = max(edges.front, edges.back, edges.left, edges.right)
        draw_tilt_view(surface, center, radius, None, full_scale)

        # The path (the part behind the target this lap in green), the way on, and the target.
        lap = self.lap
        progress = 0.0
        if self.stage is LapStage.MOVING and self.phase is not Phase.COUNTDOWN:
            progress = min(1.0, self.stage_time / self.params.lap_s)
        path = []
        for i in range(PATH_POINTS + 1):
            phi = lap.start_angle + lap.direction.sign * 2 * math.pi * i / PATH_POINTS
            point = target_tilt(phi, self.radius_toward(phi))
            path.append(tilt_to_screen(*point, center, radius, full_scale))
        pygame.draw.lines(surface, MUTED, True, path, max(2, radius // 80))
        done = path[: round(progress * PATH_POINTS) + 1]
        if len(done) > 1:
            width = max(3, radius // 30)
            pygame.draw.lines(surface, GREEN, False, done, width)
            for point in done:  # round joints: thick polylines leave notches at the bends
                pygame.draw.circle(surface, GREEN, point, width // 2)
        self._draw_arrows(surface, center, radius, full_scale)
        tp = tilt_to_screen(*self.target(), center, radius, full_scale)
        size = max(6, round(self.target_size / full_scale * radius))
        color = GREEN if self.on_target else AMBER
        glow = pygame.Surface((2 * size + 2, 2 * size + 2), pygame.SRCALPHA)
        pygame.draw.circle(glow, (*color, 90), (size + 1, size + 1), size)
        surface.blit(glow, (tp[0] - size - 1, tp[1] - size - 1))
        pygame.draw.circle(surface, color, tp, size, max(2, radius // 50))
        if self.cursor is not None:
            cp = tilt_to_screen(*self.cursor, center, radius, full_scale)
            pygame.draw.circle(surface, ACCENT, cp, max(6, radius // 14))
            pygame.draw.circle(surface, (40, 30, 10), cp, max(6, radius // 14), 2)
        self._draw_info(surface, layout, center, radius)

    def _draw_arrows(
        self, surface: pygame.Surface, center: tuple[int, int], radius: int, full_scale: float
    ) -> None:
        """Arrowheads on the path just ahead of the target, pointing the way it goes."""
        phi = self.target_angle()
        sign = self.lap.direction.sign
        r_here = max(self.radius_toward(phi), 1e-6)
        first = 1.6 * self.target_size / r_here  # clear of the target ring
        h = max(6.0, radius / 16)

        def at(angle: float) -> tuple[int, int]:
            return tilt_to_screen(
                *target_tilt(angle, self.radius_toward(angle)), center, radius, full_scale
            )

        for k in range(3):
            a = phi + sign * (first + k * 0.35)
            p, ahead, behind = at(a), at(a + sign * 0.05), at(a - sign * 0.05)
            tx, ty = ahead[0] - behind[0], ahead[1] - behind[1]
            norm = math.hypot(tx, ty) or 1.0
            tx, ty = tx / norm, ty / norm
            tip = (p[0] + tx * h, p[1] + ty * h)
            wing1 = (p[0] - tx * h / 2 - ty * h * 0.7, p[1] - ty * h / 2 + tx * h * 0.7)
            wing2 = (p[0] - tx * h / 2 + ty * h * 0.7, p[1] - ty * h / 2 - tx * h * 0.7)
            pygame.draw.polygon(surface, TEXT, [tip, wing1, wing2])

    def _draw_info(
        self, surface: pygame.Surface, layout: Layout, center: tuple[int, int], radius: int
    ) -> None:
        body, small, m = layout.body_size, layout.small_size, layout.margin
        lap_no = min(len(self.laps) + 1, self.settings.laps)
        turn = "clockwise" if self.lap.direction is Direction.CLOCKWISE else "anticlockwise"
        items = [
            ("Level", str(self.level)),
            ("Score", f"{self.score:.0f}"),
            ("Lap", f"{lap_no}/{self.settings.laps}"),
            ("This lap", f"{self._lap_fraction() * 100:.0f}%"),
        ]
        if self.stage is LapStage.LEAD_IN:
            status, color = f"Get ready: {turn}", TEXT
        elif self.on_target:
            status, color = "On target", GREEN
        else:
            status, color = "Follow the ring", AMBER
        if layout.portrait:
            w = layout.width // len(items)
            for i, (label, value) in enumerate(items):
                x = w * i + w // 2
                layout.text(surface, label, small, (x, m + small // 2), MUTED)
                layout.text(surface, value, body, (x, m + small + body // 2), TEXT)
            layout.text(
                surface, status, body, (layout.width // 2, center[1] + radius + m + body), color
            )
            return
        columns = ((center[0] - radius) // 2, (center[0] + radius + layout.width) // 2)
        for x, row in zip(columns, (items[:2], items[2:]), strict=True):
            y = layout.height // 2 - 2 * body
            for label, value in row:
                layout.text(surface, label, small, (x, y), MUTED)
                layout.text(surface, value, layout.title_size, (x, y + small // 2 + body), TEXT)
                y += 2 * body + small
        layout.text(surface, status, small, (columns[1], layout.height - small), color)

    def _lap_fraction(self) -> float:
        if self.stage is LapStage.LEAD_IN or self.stage_time <= 0.0:
            return self.laps[-1].fraction if self.laps else 0.0
        return min(1.0, self.on_target_s / self.stage_time)


def _mean_edge(edges: EdgeAngles) -> float:
    return (edges.front + edges.back + edges.left + edges.right) / 4


register(
    Activity(
        "circles",
        "Circle tracing",
        "Follow the target round the rim, both ways",
        lambda app: CircleTracing(app),
    )
)
