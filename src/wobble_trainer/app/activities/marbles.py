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
from wobble_trainer.app.layout import AMBER, BACKGROUND, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.board_angles import pitch_roll_toward
from wobble_trainer.tilt.calibration import EdgeAngles
from wobble_trainer.units import DEG, STANDARD_GRAVITY

TABLE_WIDTH_M = 0.60
"""Table size across (x, to the right)."""
TABLE_DEPTH_M = 0.40
"""Table size front to back (y, towards the toes: up the screen)."""
BALL_RADIUS_M = 0.015
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
_AUTOPILOT_SLOW = 0.03
"""m/s: below this the autopilot counts the marble as at rest (for friction compensation)."""


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


Point = tuple[float, float]
_PASS_MARGIN = 1.3 * BALL_RADIUS_M
"""How far outside a trap's rim the autopilot's path keeps the marble's centre."""
_RING_MARGIN = 2.4 * BALL_RADIUS_M
"""Radius beyond a trap's rim of the ring of points the path may use to go round it."""
_RING_POINTS = 12


def _segment_distance(p: Point, q: Point, c: Point) -> float:
    dx, dy = q[0] - p[0], q[1] - p[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 < 1e-18 else ((c[0] - p[0]) * dx + (c[1] - p[1]) * dy) / length2
    t = min(max(t, 0.0), 1.0)
    return math.hypot(p[0] + t * dx - c[0], p[1] + t * dy - c[1])


def _clear(p: Point, q: Point, traps: tuple[Hole, ...]) -> bool:
    """The marble can roll straight from p to q without passing near a trap. A trap that p is
    already close to only must not get closer (so a path can always lead away from it)."""
    for trap in traps:
        c = (trap.x, trap.y)
        need = min(trap.radius + _PASS_MARGIN, math.dist(p, c) - 1e-9)
        if _segment_distance(p, q, c) < need:
            return False
    return True


def plan_path(start: Point, layout: TableLayout) -> list[Point]:
    """Shortest path (visibility graph over rings of points around each trap, Dijkstra) from
    ``start`` to the target hole; the list excludes ``start`` and ends at the target."""
    traps = layout.traps
    goal = (layout.target.x, layout.target.y)
    wall = BALL_RADIUS_M + 0.003
    nodes: list[Point] = [start, goal]
    for trap in traps:
        for k in range(_RING_POINTS):
            angle = 2 * math.pi * k / _RING_POINTS
            rad = trap.radius + _RING_MARGIN
            n = (trap.x + rad * math.cos(angle), trap.y + rad * math.sin(angle))
            inside = wall <= n[0] <= TABLE_WIDTH_M - wall and wall <= n[1] <= TABLE_DEPTH_M - wall
            if inside and all(
                math.dist(n, (h.x, h.y)) >= h.radius + _PASS_MARGIN for h in traps if h is not trap
            ):
                nodes.append(n)
    best = [math.inf] * len(nodes)
    previous = [-1] * len(nodes)
    best[0] = 0.0
    done = [False] * len(nodes)
    for _ in range(len(nodes)):
        u = min((i for i in range(len(nodes)) if not done[i]), key=best.__getitem__)
        if best[u] == math.inf or u == 1:
            break
        done[u] = True
        for v in range(len(nodes)):
            if done[v] or not _clear(nodes[u], nodes[v], traps):
                continue
            d = best[u] + math.dist(nodes[u], nodes[v])
            if d < best[v]:
                best[v], previous[v] = d, u
    if previous[1] < 0:
        return [goal]  # boxed in (does not happen with make_layout's gaps): just go for it
    path = [goal]
    node = previous[1]
    while node > 0:
        path.append(nodes[node])
        node = previous[node]
    return path[::-1]


class MarbleAutopilot:
    """What a careful player does with one marble: plan a way round the traps once, then steer
    along it (cutting corners whenever a later point is in clear view) at a speed that can stop
    over the hole, compensating friction. Keeps its plan between calls, so it does not dither
    between two ways round a trap."""

    def __init__(self, layout: TableLayout) -> None:
        self.layout = layout
        self.path: list[Point] | None = None

    def goal(self, ball: Ball) -> Point:
        """The point to head for now."""
        here = (ball.x, ball.y)
        traps = self.layout.traps
        if self.path is None:
            self.path = plan_path(here, self.layout)
        for k in range(len(self.path) - 1, -1, -1):
            if _clear(here, self.path[k], traps):
                del self.path[:k]
                return self.path[0]
        # Pushed off the way (a lagging player): plan again from here.
        self.path = plan_path(here, self.layout)
        return self.path[0]

    def aim(self, ball: Ball, level: MarbleLevel, edges: EdgeAngles) -> tuple[float, float]:
        """Board (pitch, roll) rad to hold now."""
        gx, gy = self.goal(ball)
        ex, ey = gx - ball.x, gy - ball.y
        distance = math.hypot(ex, ey)
        # Desired velocity: towards the goal, slowing on the approach, well under the capture
        # speed so the marble drops in rather than skimming across.
        v_max = min(0.35, 0.5 * level.capture_speed)
        v_want = min(v_max, 1.6 * distance)
        vdx, vdy = (ex / distance * v_want, ey / distance * v_want) if distance > 1e-9 else (0, 0)
        ax, ay = 5.0 * (vdx - ball.vx), 5.0 * (vdy - ball.vy)
        # Friction works against the motion: add it back along the velocity, and at (near) rest
        # along the wanted push, which it takes to get going. Blended over a small speed so the
        # compensation does not flip with the sign of a tiny velocity and chatter.
        brake = level.friction * STANDARD_GRAVITY
        speed = ball.speed
        moving = min(1.0, speed / _AUTOPILOT_SLOW)
        need = math.hypot(ax, ay)
        if speed > 1e-9:
            ax += brake * moving * ball.vx / speed
            ay += brake * moving * ball.vy / speed
        if need > 1e-9:
            ax += brake * (1.0 - moving) * ax / need
            ay += brake * (1.0 - moving) * ay / need
        push = math.hypot(ax, ay)
        if push < 1e-6:
            return 0.0, 0.0
        direction = math.atan2(ax, ay)
        table_tilt = math.asin(min(1.0, push / (ROLLING_FACTOR * STANDARD_GRAVITY)))
        tilt = min(table_tilt / level.gain, AUTOPILOT_LEAN_FRACTION * edges.toward(direction))
        return pitch_roll_toward(tilt, direction)


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
        self.pilot = MarbleAutopilot(self.layout)
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
        self.events.append(
            {
                "t": round(self.elapsed, 3),
                "event": "marble",
                "outcome": outcome.value,
                "level": self.level.level,
                "time_s": round(self.marble_time, 2),
                "points": points,
            }
        )
        self.adaptive.record(outcome is Outcome.HOLED)
        self.result_left = RESULT_PAUSE_S

    # -- autopilot and results -----------------------------------------------------------------
    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        if self.phase is not Phase.RUNNING or self.result_left > 0.0:
            return (0.0, 0.0)
        return self.pilot.aim(self.ball, self.level, self.app.edge_angles)

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
            _levels(self.settings.start_level, self.adaptive.level),
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
        ball = to_screen(self.ball.x, self.ball.y)
        self._draw_ball(surface, ball, ppm)
        if layout.portrait:  # room below the table, none beside the title
            size = max(10, layout.body_size)
            spot = (layout.width // 2, (table.bottom + frame + bottom) // 2)
        else:
            size = max(10, layout.body_size * 9 // 20)
            spot = (layout.width - m - size, hud_rect.centery)
        self._draw_tilt_arrow(surface, spot, size)
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
            _banner(surface, layout, text, layout.body_size, color, table, ball[1])
        elif self.phase is Phase.COUNTDOWN:
            _banner(
                surface,
                layout,
                "Tilt the board: roll the marble into the green hole",
                layout.small_size,
                TEXT,
                table,
                ball[1],
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

    def _draw_tilt_arrow(self, surface: pygame.Surface, center: tuple[int, int], size: int) -> None:
        """A small downhill arrow: which way the table tilts, and how much (full at 10°)."""
        pygame.draw.circle(surface, (22, 78, 58), center, size)
        pygame.draw.circle(surface, MUTED, center, size, 1)
        strength = min(1.0, self.table_tilt / (10.0 * DEG))
        if strength < 0.05:
            pygame.draw.circle(surface, TEXT, center, max(2, size // 5))
            return
        d = self.table_direction
        tip = (center[0] + math.sin(d) * size * strength, center[1] - math.cos(d) * size * strength)
        pygame.draw.line(surface, TEXT, center, tip, max(2, size // 6))
        pygame.draw.circle(surface, TEXT, (round(tip[0]), round(tip[1])), max(2, size // 5))


def _banner(
    surface: pygame.Surface,
    layout: Layout,
    text: str,
    size: int,
    color: tuple[int, int, int],
    table: pygame.Rect,
    avoid_y: int,
) -> None:
    """Text on a dark plate across the table, in the half away from the marble (never hiding
    it or the hole it just dropped into)."""
    width, height = layout.font(size).size(text)
    plate = pygame.Rect(0, 0, min(table.width, width + 2 * layout.margin), height + layout.margin)
    y = (
        table.top + table.height // 4
        if avoid_y > table.centery
        else table.bottom - table.height // 4
    )
    plate.center = (table.centerx, y)
    pygame.draw.rect(surface, BACKGROUND, plate, border_radius=layout.margin)
    pygame.draw.rect(surface, color, plate, 2, border_radius=layout.margin)
    layout.text(surface, text, size, plate.center, color)


def _levels(start: int, end: int) -> str:
    return f"Level {end}" if start == end else f"Level {start} to {end}"


register(
    Activity(
        "marbles",
        "Table tilt",
        "Tilt the table to roll each marble into the green hole",
        lambda app: MarblesGame(app),
    )
)
