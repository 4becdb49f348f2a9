"""Table tilt: roll marbles into holes by tilting the board.

The board's tilt is the tilt of a rectangular table (through a level-dependent gain): a marble on
it is pushed downhill by the gravity component g·sin(tilt) along the table, slowed by rolling
friction and bounced off the rails, integrated at the fixed logic step. Each marble is one
attempt: it starts at a random spot and must be sunk in the green target hole within the time
limit. From level 3 the table also has red trap holes that lose the marble. A marble only drops
into a hole when it is slow enough (a fast one skims over), so the player must brake near the
target: fine control of the board, which is the balance skill being trained.

Every marble gets a fresh, seeded layout (app.rng), so a layout cannot be learned by heart.
:class:`AdaptiveDifficulty` raises the level (smaller holes, more traps, less friction, more
gain, less time) while the player sinks more than 85% of the marbles and lowers it below 70%.
Score: per holed marble, 10 × level + up to 10 for speed; the best is kept per marble count.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import AMBER, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import angles_from_up
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG, STANDARD_GRAVITY

TABLE_WIDTH_M = 0.60
"""Table size across (x, to the right)."""
TABLE_DEPTH_M = 0.40
"""Table size front to back (y, towards the toes: up the screen)."""
BALL_RADIUS_M = 0.012
ROLLING_FACTOR = 5.0 / 7.0
"""A solid ball rolling without slipping accelerates at 5/7 of the gravity component along the
slope (the rest goes into spinning it up)."""
RESTITUTION = 0.45
"""Fraction of the speed into a rail that comes back out of it."""
MAX_TABLE_TILT = 35.0 * DEG
"""Gain × board tilt is capped here so a wild lean cannot fling the marble unrealistically."""
RESULT_PAUSE_S = 1.2
"""How long a marble's outcome is shown before the next one (logic time)."""
MIN_LEVEL, MAX_LEVEL = 1, 10
AUTOPILOT_LEAN_FRACTION = 0.55
"""The autopilot never leans further than this fraction of the edge angle (a careful player)."""
_LAYOUT_TRIES = 200


def _lerp(level: int, first: float, last: float) -> float:
    """Value at ``level`` going linearly from ``first`` at level 1 to ``last`` at level 10."""
    return first + (last - first) * (level - MIN_LEVEL) / (MAX_LEVEL - MIN_LEVEL)


@dataclass(frozen=True)
class MarbleLevel:
    """What one difficulty level means for the table."""

    level: int
    hole_radius: float
    """m."""
    traps: int
    """Red holes that lose the marble."""
    friction: float
    """Rolling-friction coefficient: deceleration μ·g·cos(tilt) against the motion."""
    gain: float
    """Table tilt per board tilt."""
    time_limit: float
    """s per marble."""

    @classmethod
    def of(cls, level: int) -> MarbleLevel:
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ValueError(f"marble level must be {MIN_LEVEL}-{MAX_LEVEL}")
        return cls(
            level=level,
            hole_radius=_lerp(level, 0.036, 0.020),
            traps=(level - 1) // 2,
            friction=_lerp(level, 0.050, 0.012),
            gain=_lerp(level, 1.0, 2.2),
            time_limit=_lerp(level, 30.0, 15.0),
        )

    @property
    def capture_speed(self) -> float:
        """Fastest a marble may cross a hole and still drop in (m/s): in the time it takes to
        fall one ball radius, sqrt(2r/g), it must not cross the hole's diameter."""
        return 2.0 * self.hole_radius / math.sqrt(2.0 * BALL_RADIUS_M / STANDARD_GRAVITY)


@dataclass(frozen=True)
class Hole:
    x: float
    y: float
    radius: float
    target: bool = False


@dataclass(frozen=True)
class TableLayout:
    """One marble's table: its holes (exactly one target) and where the marble starts (m)."""

    holes: tuple[Hole, ...]
    start: tuple[float, float]

    @property
    def target(self) -> Hole:
        return next(h for h in self.holes if h.target)

    @property
    def traps(self) -> tuple[Hole, ...]:
        return tuple(h for h in self.holes if not h.target)


def _random_point(rng: random.Random, margin: float) -> tuple[float, float]:
    return (
        rng.uniform(margin, TABLE_WIDTH_M - margin),
        rng.uniform(margin, TABLE_DEPTH_M - margin),
    )


def make_layout(rng: random.Random, level: MarbleLevel) -> TableLayout:
    """Random holes and start for one marble, always playable: holes keep two marble widths
    between each other and from the rails, and the start is well away from every hole."""
    r = level.hole_radius
    gap = 4.0 * BALL_RADIUS_M
    min_run = 0.20  # m from start to target: never a gimme
    for _ in range(_LAYOUT_TRIES):
        holes: list[Hole] = []
        while len(holes) < 1 + level.traps:
            for _ in range(_LAYOUT_TRIES):
                x, y = _random_point(rng, r + gap)
                if all(math.hypot(x - h.x, y - h.y) >= 2 * r + gap for h in holes):
                    holes.append(Hole(x, y, r, target=not holes))
                    break
            else:
                break
        if len(holes) < 1 + level.traps:
            continue
        for _ in range(_LAYOUT_TRIES):
            sx, sy = _random_point(rng, 2 * BALL_RADIUS_M)
            near = min(math.hypot(sx - h.x, sy - h.y) - h.radius for h in holes)
            if near >= gap and math.hypot(sx - holes[0].x, sy - holes[0].y) >= min_run:
                return TableLayout(tuple(holes), (sx, sy))
    raise RuntimeError("could not lay out the table")  # pragma: no cover - sizes always fit


@dataclass
class Ball:
    """The marble's centre (m, table frame: x right, y forward) and velocity (m/s)."""

    x: float
    y: float
    vx: float = 0.0
    vy: float = 0.0

    @property
    def speed(self) -> float:
        return math.hypot(self.vx, self.vy)


def step_ball(ball: Ball, tilt: float, direction: float, level: MarbleLevel, dt: float) -> int:
    """Advance the marble one step (semi-implicit Euler) on a table tilted by ``tilt`` (rad,
    table tilt already including the gain) towards ``direction`` (low side azimuth, 0 front,
    +π/2 right). Returns how many rails it hit."""
    tilt = min(max(tilt, 0.0), MAX_TABLE_TILT)
    drive = ROLLING_FACTOR * STANDARD_GRAVITY * math.sin(tilt)
    ball.vx += drive * math.sin(direction) * dt
    ball.vy += drive * math.cos(direction) * dt
    # Rolling friction brakes along the motion but never reverses it, so a marble on a nearly
    # level table stays put instead of creeping (a dead band that beginners rely on).
    brake = level.friction * STANDARD_GRAVITY * math.cos(tilt) * dt
    speed = ball.speed
    if speed <= brake:
        ball.vx = ball.vy = 0.0
    else:
        scale = (speed - brake) / speed
        ball.vx *= scale
        ball.vy *= scale
    ball.x += ball.vx * dt
    ball.y += ball.vy * dt
    hits = 0
    r = BALL_RADIUS_M
    if ball.x < r:
        ball.x, ball.vx, hits = 2 * r - ball.x, -RESTITUTION * ball.vx, hits + 1
    elif ball.x > TABLE_WIDTH_M - r:
        ball.x, ball.vx, hits = 2 * (TABLE_WIDTH_M - r) - ball.x, -RESTITUTION * ball.vx, hits + 1
    if ball.y < r:
        ball.y, ball.vy, hits = 2 * r - ball.y, -RESTITUTION * ball.vy, hits + 1
    elif ball.y > TABLE_DEPTH_M - r:
        ball.y, ball.vy, hits = 2 * (TABLE_DEPTH_M - r) - ball.y, -RESTITUTION * ball.vy, hits + 1
    return hits


def hole_taking(ball: Ball, layout: TableLayout, level: MarbleLevel) -> Hole | None:
    """The hole the marble drops into now: its centre over the hole and slow enough."""
    if ball.speed > level.capture_speed:
        return None
    for hole in layout.holes:
        if math.hypot(ball.x - hole.x, ball.y - hole.y) < hole.radius:
            return hole
    return None


def board_tilt_toward(tilt: float, direction: float) -> tuple[float, float]:
    """(pitch, roll) rad of a board tilted by ``tilt`` with its low side at ``direction``."""
    s = math.sin(tilt)
    a = angles_from_up((-s * math.cos(direction), s * math.sin(direction), math.cos(tilt)))
    return a.pitch, a.roll


def _waypoint(ball: Ball, layout: TableLayout) -> tuple[float, float]:
    """Where to steer: the target, or beside the first trap that blocks the straight path."""
    tx, ty = layout.target.x, layout.target.y
    dx, dy = tx - ball.x, ty - ball.y
    length = math.hypot(dx, dy)
    if length < 1e-9:
        return tx, ty
    ux, uy = dx / length, dy / length
    blocking: tuple[float, Hole] | None = None
    for trap in layout.traps:
        along = (trap.x - ball.x) * ux + (trap.y - ball.y) * uy
        if not 0.0 < along < length:
            continue
        off = (trap.x - ball.x) * -uy + (trap.y - ball.y) * ux
        clearance = trap.radius + 3.0 * BALL_RADIUS_M
        if abs(off) < clearance and (blocking is None or along < blocking[0]):
            blocking = (along, trap)
    if blocking is None:
        return tx, ty
    trap = blocking[1]
    clearance = trap.radius + 3.5 * BALL_RADIUS_M
    off = (trap.x - ball.x) * -uy + (trap.y - ball.y) * ux
    # Pass on the side away from the trap's offset; the other side if that leaves the table.
    for side in (-1.0, 1.0) if off >= 0 else (1.0, -1.0):
        wx, wy = trap.x + side * -uy * clearance, trap.y + side * ux * clearance
        m = 2 * BALL_RADIUS_M
        if m <= wx <= TABLE_WIDTH_M - m and m <= wy <= TABLE_DEPTH_M - m:
            return wx, wy
    return tx, ty


def marble_autopilot(
    ball: Ball, layout: TableLayout, level: MarbleLevel, edges: EdgeAngles
) -> tuple[float, float]:
    """Board (pitch, roll) a careful player would hold: steer towards the target (around traps)
    at a speed that can stop over the hole, compensating friction."""
    gx, gy = _waypoint(ball, layout)
    ex, ey = gx - ball.x, gy - ball.y
    distance = math.hypot(ex, ey)
    # Desired velocity: towards the goal, slowing down on the approach, well under the capture
    # speed so the marble drops in rather than skimming across.
    v_max = min(0.35, 0.5 * level.capture_speed)
    v_want = min(v_max, 1.6 * distance)
    vdx, vdy = (ex / distance * v_want, ey / distance * v_want) if distance > 1e-9 else (0, 0)
    ax, ay = 5.0 * (vdx - ball.vx), 5.0 * (vdy - ball.vy)
    # Friction works against the motion: add it back (or, at rest, what it takes to start).
    brake = level.friction * STANDARD_GRAVITY
    speed = ball.speed
    if speed > 1e-3:
        ax += brake * ball.vx / speed
        ay += brake * ball.vy / speed
    else:
        need = math.hypot(ax, ay)
        if need > 1e-6:
            ax += brake * ax / need
            ay += brake * ay / need
    push = math.hypot(ax, ay)
    if push < 1e-6:
        return 0.0, 0.0
    direction = math.atan2(ax, ay)
    table_tilt = math.asin(min(1.0, push / (ROLLING_FACTOR * STANDARD_GRAVITY)))
    tilt = min(table_tilt / level.gain, AUTOPILOT_LEAN_FRACTION * edges.toward(direction))
    return board_tilt_toward(tilt, direction)


class Outcome(StrEnum):
    HOLED = "holed"
    TRAP = "trap"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class MarbleAttempt:
    """One marble: the level it was played at, how it ended, how long it took, its points."""

    level: int
    outcome: Outcome
    time_s: float
    points: int

    @property
    def success(self) -> bool:
        return self.outcome is Outcome.HOLED


@dataclass(frozen=True)
class MarblesSettings:
    marbles: int = 20
    """Attempts in one game."""
    start_level: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.marbles <= 100:
            raise ValueError("a game has 1-100 marbles")
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"start level must be {MIN_LEVEL}-{MAX_LEVEL}")

    def key(self) -> str:
        # Points grow with the level, so one best per game length compares fairly.
        return f"marbles/{self.marbles}"


def marble_points(level: int, time_left: float, time_limit: float) -> int:
    """Points for a holed marble: 10 per level, plus up to 10 for speed (the fraction of the
    time limit left), so a harder level always outscores a quicker easy one."""
    return 10 * level + round(10.0 * min(1.0, max(0.0, time_left / time_limit)))


class MarblesGame(TimedActivity):
    title = "Table tilt"
    name = "marbles"

    def __init__(self, app: AppContext, settings: MarblesSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or MarblesSettings()
        self.adaptive = AdaptiveDifficulty(
            level=self.settings.start_level, min_level=MIN_LEVEL, max_level=MAX_LEVEL
        )
        self.attempts: list[MarbleAttempt] = []
        self.score = 0
        self.wall_hits = 0
        self.table_tilt = 0.0
        self.table_direction = 0.0
        self.result_left = 0.0
        """> 0 while the last marble's outcome is shown (physics stands still)."""
        self._new_marble()

    # -- state ---------------------------------------------------------------------------------
    def _new_marble(self) -> None:
        self.level = MarbleLevel.of(self.adaptive.level)
        self.layout = make_layout(self.app.rng, self.level)
        self.ball = Ball(*self.layout.start)
        self.marble_time = 0.0

    @property
    def marble_number(self) -> int:
        """1-based number of the marble in play (or just finished)."""
        return min(len(self.attempts) + (0 if self.result_left > 0 else 1), self.settings.marbles)

    @property
    def last(self) -> MarbleAttempt | None:
        return self.attempts[-1] if self.attempts else None

    def start(self) -> None:
        self.app.feedback.set_targets(FeedbackTargets(edge_angles=self.app.edge_angles))

    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        a = tick.angles
        self.table_tilt = min(self.level.gain * a.tilt, MAX_TABLE_TILT)
        self.table_direction = a.direction
        if self.result_left > 0.0:
            self.result_left -= dt
            if self.result_left <= 1e-9:
                self.result_left = 0.0
                if len(self.attempts) >= self.settings.marbles:
                    self.finish()
                else:
                    self._new_marble()
            return
        self.marble_time += dt
        self.wall_hits += step_ball(self.ball, self.table_tilt, a.direction, self.level, dt)
        hole = hole_taking(self.ball, self.layout, self.level)
        if hole is not None:
            self._end_marble(Outcome.HOLED if hole.target else Outcome.TRAP, hole)
        elif self.marble_time >= self.level.time_limit - 1e-9:
            self._end_marble(Outcome.TIMEOUT, None)

    def _end_marble(self, outcome: Outcome, hole: Hole | None) -> None:
        if hole is not None:
            # Show the marble sitting in the hole it fell into.
            self.ball = Ball(hole.x, hole.y)
        points = 0
        if outcome is Outcome.HOLED:
            lv = self.level
            points = marble_points(lv.level, lv.time_limit - self.marble_time, lv.time_limit)
            self.app.feedback.cue(Cue.SELECT)
        elif outcome is Outcome.TRAP:
            self.app.feedback.cue(Cue.EDGE)
        self.score += points
        self.attempts.append(
            MarbleAttempt(self.level.level, outcome, round(self.marble_time, 2), points)
        )
        self.adaptive.record(outcome is Outcome.HOLED)
        self.result_left = RESULT_PAUSE_S

    # -- autopilot and results -----------------------------------------------------------------
    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self.phase is not Phase.RUNNING or self.result_left > 0.0:
            return (0.0, 0.0)
        return marble_autopilot(self.ball, self.layout, self.level, self.app.edge_angles)

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        n = len(self.attempts)
        holed = sum(a.success for a in self.attempts)
        traps = sum(a.outcome is Outcome.TRAP for a in self.attempts)
        timeouts = sum(a.outcome is Outcome.TIMEOUT for a in self.attempts)
        pct = 100.0 * holed / n if n else 0.0
        times = [a.time_s for a in self.attempts if a.success]
        lines = [
            f"Holed {holed} of {n} marbles ({pct:.0f}%)",
            f"Traps {traps}   out of time {timeouts}",
            "Mean time to hole: " + (f"{sum(times) / len(times):.1f} s" if times else "-"),
            f"Level {self.settings.start_level} to {self.adaptive.level}",
            f"Score {self.score}",
        ]
        return "Table tilt", lines, self.settings.key(), float(self.score)

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        m = layout.margin
        hud = (
            f"Marble {self.marble_number}/{self.settings.marbles}   "
            f"Level {self.level.level}   Score {self.score}"
        )
        hud_rect = layout.text(
            surface, hud, layout.body_size, (layout.width // 2, m + layout.body_size // 2)
        )
        bar_h = max(8, layout.small_size // 2)
        top = hud_rect.bottom + m
        bottom = layout.height - 2 * m - bar_h
        frame = max(6, layout.short // 50)
        avail_w = layout.width - 2 * m - 2 * frame
        avail_h = bottom - top - 2 * frame
        ppm = max(1.0, min(avail_w / TABLE_WIDTH_M, avail_h / TABLE_DEPTH_M))
        table = pygame.Rect(0, 0, round(TABLE_WIDTH_M * ppm), round(TABLE_DEPTH_M * ppm))
        table.center = (layout.width // 2, (top + bottom) // 2)
        pygame.draw.rect(
            surface, (120, 84, 52), table.inflate(2 * frame, 2 * frame), border_radius=frame
        )
        pygame.draw.rect(surface, (28, 96, 72), table)

        def to_screen(x: float, y: float) -> tuple[int, int]:
            return round(table.left + x * ppm), round(table.bottom - y * ppm)

        ring = max(3, round(ppm * 0.005))
        for hole in self.layout.holes:
            c, rad = to_screen(hole.x, hole.y), max(4, round(hole.radius * ppm))
            pygame.draw.circle(surface, (8, 10, 14), c, rad)
            pygame.draw.circle(surface, GREEN if hole.target else RED, c, rad + ring, ring)
            if not hole.target:
                d = round(rad * 0.55)
                for sx in (-1, 1):
                    pygame.draw.line(
                        surface, RED, (c[0] - d, c[1] - sx * d), (c[0] + d, c[1] + sx * d), ring
                    )
        self._draw_ball(surface, to_screen(self.ball.x, self.ball.y), ppm)
        self._draw_tilt_arrow(surface, table, ppm)
        # Time left for this marble.
        fraction = max(0.0, 1.0 - self.marble_time / self.level.time_limit)
        bar = pygame.Rect(table.left, layout.height - m - bar_h, table.width, bar_h)
        pygame.draw.rect(surface, (50, 58, 80), bar, border_radius=bar_h // 2)
        if fraction > 0:
            fill = bar.copy()
            fill.width = max(bar_h, round(bar.width * fraction))
            color = GREEN if fraction > 0.5 else AMBER if fraction > 0.2 else RED
            pygame.draw.rect(surface, color, fill, border_radius=bar_h // 2)
        if self.result_left > 0.0 and self.last is not None:
            text, color = {
                Outcome.HOLED: (f"Holed! +{self.last.points}", GREEN),
                Outcome.TRAP: ("Trap!", RED),
                Outcome.TIMEOUT: ("Out of time", AMBER),
            }[self.last.outcome]
            layout.text(surface, text, layout.title_size, table.center, color)
        elif self.phase is Phase.COUNTDOWN:
            layout.text(
                surface,
                "Tilt the board to roll the marble into the green hole",
                layout.small_size,
                (layout.width // 2, table.bottom - layout.small_size),
                TEXT,
            )

    def _draw_ball(self, surface: pygame.Surface, center: tuple[int, int], ppm: float) -> None:
        rad = max(5, round(BALL_RADIUS_M * ppm))
        sinking = (
            self.result_left > 0.0
            and self.last is not None
            and self.last.outcome
            in (
                Outcome.HOLED,
                Outcome.TRAP,
            )
        )
        if sinking:
            # It shrinks into the hole while the outcome is shown.
            rad = max(2, round(rad * max(0.2, self.result_left / RESULT_PAUSE_S)))
        pygame.draw.circle(surface, (10, 40, 30), (center[0] + rad // 3, center[1] + rad // 3), rad)
        pygame.draw.circle(surface, (215, 222, 235), center, rad)
        pygame.draw.circle(
            surface, (255, 255, 255), (center[0] - rad // 3, center[1] - rad // 3), max(1, rad // 3)
        )

    def _draw_tilt_arrow(self, surface: pygame.Surface, table: pygame.Rect, ppm: float) -> None:
        """A small downhill arrow in the table's corner: which way the marble is pushed."""
        size = max(12, round(0.05 * ppm))
        corner = (table.right - size - 6, table.top + size + 6)
        pygame.draw.circle(surface, (22, 78, 58), corner, size)
        pygame.draw.circle(surface, MUTED, corner, size, 1)
        strength = min(1.0, self.table_tilt / (10.0 * DEG))
        if strength < 0.05:
            return
        d = self.table_direction
        tip = (corner[0] + math.sin(d) * size * strength, corner[1] - math.cos(d) * size * strength)
        pygame.draw.line(surface, TEXT, corner, tip, max(2, size // 6))
        pygame.draw.circle(surface, TEXT, (round(tip[0]), round(tip[1])), max(2, size // 5))


register(
    Activity(
        "marbles",
        "Table tilt",
        "Tilt the table to roll each marble into the green hole",
        lambda app: MarblesGame(app),
    )
)
