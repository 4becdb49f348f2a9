"""River run: steer a boat down a scrolling river by rolling the board.

The river scrolls at a constant speed (up the screen, the way the toes point). Board roll steers:
right edge down moves the boat right, at a lateral speed proportional to the roll, so a bend is
followed by holding the board tilted and a straight by bringing it back to level. From
:data:`PITCH_SPEED_LEVEL` on, pitch also sets the speed (toes down: faster, heels down: slower).

The course is drawn from the app's seeded random generator, so it cannot be learned by heart but a
test can replay it: the centre line runs through waypoints at random spacing and random sideways
offsets, joined by half-cosine curves (smooth bends of random curvature), and its width is set per
waypoint by the level at the time it was laid, so a level change never narrows the river under the
boat. Every bend is drawn to be steerable: it asks at most a level-set fraction of the boat's top
lateral speed.

Gates stand every :data:`GATE_SPACING` along the course. An attempt is one stretch between gates:
success when the boat passed it without touching a bank. Touching a bank costs points, slows the
boat for a moment and plays the edge cue. Scored: points per clean gate (more at higher levels)
minus touch penalties; adaptive difficulty keeps the clean-gate rate at 70-85%.

Course coordinates: ``s`` along the river and ``x`` across it, in course units (the playing field
is 2 units wide, ``x`` in [-1, 1], > 0 to the right). Angles in rad, time in s.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import ACCENT, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.feedback.base import FeedbackTargets
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.feedback.zones import ZoneThresholds
from wobble_trainer.units import DEG

DURATIONS_S = (60, 90, 120, 180)
MIN_LEVEL = 1
MAX_LEVEL = 10

FIELD_HALF = 1.0
"""Half the playing field's width (course units); the river always lies inside it."""
BANK_CLEARANCE = 0.03
"""Gap kept between a bank and the edge of the field, so both banks are always seen."""
VIEW_AHEAD = 2.4
"""Course shown ahead of the boat (course units)."""
VIEW_BEHIND = 0.6
"""Course shown behind the boat."""
BOAT_HALF_WIDTH = 0.06
BOAT_LENGTH = 0.18
GATE_SPACING = 1.0
"""Course length of one attempt."""
START_STRAIGHT = 1.5
"""A straight stretch at the start, to settle in."""
WAYPOINT_SPACING = (1.0, 2.2)
"""Range of the random distance between two waypoints of the centre line."""

LATERAL_SPEED = 0.9
"""Sideways speed of the boat at full steer (course units/s)."""
STEER_FRACTION = 0.5
"""Roll for full steer, as a fraction of the board's edge angle toward that side: steering never
needs the rim (a board may only reach 15°)."""
STEER_DEAD_BAND = 0.5 * DEG
"""Roll ignored around level, so a level board goes straight despite sensor noise."""
PITCH_SPEED_LEVEL = 6
"""From this level on pitch sets the speed."""
PITCH_FRACTION = 0.5
"""Pitch for the fastest / slowest speed, as a fraction of the edge angle front / back."""
SPEED_UP = 0.5
SLOW_DOWN = 0.4
"""Full forward pitch adds 50% speed; full backward pitch takes 40% off."""

TOUCH_SLOW_S = 1.2
"""How long a bank touch slows the boat (recovering linearly once off the bank)."""
TOUCH_SLOW_FACTOR = 0.4
"""Speed right after a touch, as a fraction of the normal speed."""
TOUCH_RELEASE = 0.01
"""The boat must come this far off the bank before a new touch counts (course units)."""
GATE_POINTS = 10
"""Points for a clean gate, times the level."""
TOUCH_PENALTY = 10
"""Points lost per bank touch."""


@dataclass(frozen=True)
class RiverLevel:
    """What a level sets."""

    width: float
    """River width (course units; the field is 2 wide)."""
    speed: float
    """Scrolling speed (course units/s) at neutral pitch."""
    bend: float
    """Steepest bend, as the fraction of the boat's top lateral speed it demands."""
    pitch_speed: bool
    """Pitch sets the speed."""


def level_params(level: int) -> RiverLevel:
    """Level 1 (wide, slow, gentle) to 10 (narrow, fast, sharp), linear in between."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"river level must be {MIN_LEVEL}-{MAX_LEVEL}")
    q = (level - MIN_LEVEL) / (MAX_LEVEL - MIN_LEVEL)
    return RiverLevel(
        width=1.10 - 0.70 * q,
        speed=0.30 + 0.40 * q,
        bend=0.25 + 0.40 * q,
        pitch_speed=level >= PITCH_SPEED_LEVEL,
    )


@dataclass(frozen=True)
class RiverSettings:
    duration_s: float = 90.0
    start_level: int = 1

    def __post_init__(self) -> None:
        if self.duration_s not in DURATIONS_S:
            raise ValueError(f"river duration must be one of {DURATIONS_S} s")
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"start level must be {MIN_LEVEL}-{MAX_LEVEL}")

    def key(self) -> str:
        return f"river/{self.duration_s:g}s"


class Course:
    """The river's centre line and width as smooth functions of the distance ``s``, laid lazily
    ahead of the boat from ``rng`` with the level current at the time."""

    def __init__(self, rng: random.Random, level: int) -> None:
        self.rng = rng
        width = level_params(level).width
        self.s = [0.0, START_STRAIGHT]
        self.x = [0.0, 0.0]
        self.w = [width, width]

    def extend(self, until: float, level: int) -> None:
        """Lay waypoints until the course reaches ``until``."""
        p = level_params(level)
        fastest = p.speed * (1.0 + SPEED_UP if p.pitch_speed else 1.0)
        while self.s[-1] < until:
            length = self.rng.uniform(*WAYPOINT_SPACING)
            # A half-cosine from x0 to x1 over `length` is steepest mid-way: π/2·|Δx|/length.
            # At the fastest speed that must stay within the bend's share of the lateral speed.
            max_shift = p.bend * LATERAL_SPEED * length * 2.0 / (math.pi * fastest)
            limit = FIELD_HALF - p.width / 2 - BANK_CLEARANCE
            prev = self.x[-1]
            shift = self.rng.uniform(0.3, 1.0) * max_shift * self.rng.choice((-1.0, 1.0))
            if abs(prev + shift) > limit:
                shift = -shift  # bend the other way rather than into the field's edge
            # The previous waypoint may lie outside a narrower level's limit: clamp.
            x = max(-limit, min(limit, prev + shift))
            x = max(prev - max_shift, min(prev + max_shift, x))
            self.s.append(self.s[-1] + length)
            self.x.append(x)
            self.w.append(p.width)

    def _segment(self, s: float) -> tuple[int, float]:
        i = bisect.bisect_right(self.s, s) - 1
        i = max(0, min(i, len(self.s) - 2))
        u = (s - self.s[i]) / (self.s[i + 1] - self.s[i])
        return i, max(0.0, min(1.0, u))

    def at(self, s: float) -> tuple[float, float]:
        """Centre ``x`` and width at ``s``."""
        i, u = self._segment(s)
        a = (1.0 - math.cos(math.pi * u)) / 2.0
        return (
            self.x[i] + (self.x[i + 1] - self.x[i]) * a,
            self.w[i] + (self.w[i + 1] - self.w[i]) * a,
        )

    def slope(self, s: float) -> float:
        """d(centre x)/ds at ``s``."""
        i, u = self._segment(s)
        length = self.s[i + 1] - self.s[i]
        return (self.x[i + 1] - self.x[i]) * math.pi * math.sin(math.pi * u) / (2.0 * length)

    def banks(self, s: float) -> tuple[float, float]:
        c, w = self.at(s)
        return c - w / 2, c + w / 2


def _soft(value: float, dead_band: float, full: float) -> float:
    """-1..1 from an angle through a dead band, full at ``full``."""
    size = abs(value) - dead_band
    if size <= 0.0:
        return 0.0
    return math.copysign(min(1.0, size / (full - dead_band)), value)


class RiverRun(TimedActivity):
    title = "River run"
    name = "river"

    def __init__(self, app: AppContext, settings: RiverSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or RiverSettings()
        self.adaptive = AdaptiveDifficulty(
            level=self.settings.start_level, min_level=MIN_LEVEL, max_level=MAX_LEVEL
        )
        # One child generator, seeded from the app's: the course is the same for one seed
        # whatever else draws from app.rng while the game runs.
        self.course = Course(random.Random(app.rng.getrandbits(64)), self.settings.start_level)
        self.course.extend(VIEW_AHEAD + GATE_SPACING, self.level)
        self.s = 0.0
        """Distance travelled along the course."""
        self.x = 0.0
        """Boat centre across the field."""
        self.lateral_velocity = 0.0
        self.speed = 0.0
        self.slow_left = 0.0
        self.touching = False
        self.touches = 0
        self.gate_touched = False
        self.gates: list[bool] = []
        """Every gate passed so far: True when clean."""
        self.score = 0
        edges = app.edge_angles
        self.steer_full = {
            +1: STEER_FRACTION * edges.toward(math.pi / 2),
            -1: STEER_FRACTION * edges.toward(-math.pi / 2),
        }
        self.pitch_full = {+1: PITCH_FRACTION * edges.front, -1: PITCH_FRACTION * edges.back}

    @property
    def level(self) -> int:
        return self.adaptive.level

    def start(self) -> None:
        steer = min(self.steer_full.values())
        self.app.feedback.set_targets(
            FeedbackTargets(
                zones=ZoneThresholds(target_radius=steer, near_radius=1.5 * steer),
                edge_angles=self.app.edge_angles,
            )
        )

    # -- control -------------------------------------------------------------------------------
    def steer(self, roll: float) -> float:
        """Boat lateral velocity (units/s) for a board roll (rad)."""
        side = 1 if roll >= 0 else -1
        return LATERAL_SPEED * _soft(roll, STEER_DEAD_BAND, self.steer_full[side])

    def speed_for(self, pitch: float) -> float:
        """Scrolling speed (units/s) for a board pitch, before any touch slow-down."""
        p = level_params(self.level)
        if not p.pitch_speed:
            return p.speed
        side = 1 if pitch >= 0 else -1
        lean = _soft(pitch, STEER_DEAD_BAND, self.pitch_full[side])
        return p.speed * (1.0 + (SPEED_UP if lean > 0 else SLOW_DOWN) * lean)

    # -- logic ---------------------------------------------------------------------------------
    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        a = tick.angles
        slow = 1.0 - (1.0 - TOUCH_SLOW_FACTOR) * max(0.0, self.slow_left) / TOUCH_SLOW_S
        self.slow_left = max(0.0, self.slow_left - dt)
        self.speed = self.speed_for(a.pitch) * slow
        self.lateral_velocity = self.steer(a.roll)
        s_before = self.s
        self.s += self.speed * dt
        self.x += self.lateral_velocity * dt
        self.course.extend(self.s + VIEW_AHEAD + GATE_SPACING, self.level)
        self._banks()
        if math.floor(self.s / GATE_SPACING) > math.floor(s_before / GATE_SPACING):
            self._gate()
        if self.elapsed >= self.settings.duration_s - 1e-9:
            self.finish()

    def _banks(self) -> None:
        left, right = self.course.banks(self.s)
        lo, hi = left + BOAT_HALF_WIDTH, right - BOAT_HALF_WIDTH
        contact = self.x <= lo or self.x >= hi
        # The bank stops the boat: it slides along it.
        self.x = max(lo, min(hi, self.x))
        if contact and not self.touching:
            self.touches += 1
            self.gate_touched = True
            self.score -= TOUCH_PENALTY
            self.slow_left = TOUCH_SLOW_S
            self.app.feedback.cue(Cue.EDGE)
        if contact:
            self.touching = True
            self.slow_left = TOUCH_SLOW_S  # scraping along the bank keeps the boat slow
        elif lo + TOUCH_RELEASE < self.x < hi - TOUCH_RELEASE:
            self.touching = False

    def _gate(self) -> None:
        clean = not self.gate_touched
        self.gates.append(clean)
        if clean:
            self.score += GATE_POINTS * self.level
        self.adaptive.record(clean)
        self.gate_touched = self.touching

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        """Steer for the centre line a little ahead, matching its drift; level pitch."""
        if self.phase is not Phase.RUNNING:
            return (0.0, 0.0)
        speed = max(self.speed, level_params(self.level).speed * TOUCH_SLOW_FACTOR)
        ahead = self.s + speed * 0.3
        centre, _ = self.course.at(ahead)
        wanted = self.course.slope(ahead) * speed + (centre - self.x) / 0.5
        share = max(-1.0, min(1.0, wanted / LATERAL_SPEED))
        if share == 0.0:
            return (0.0, 0.0)
        side = 1 if share > 0 else -1
        full = self.steer_full[side]
        roll = side * (STEER_DEAD_BAND + abs(share) * (full - STEER_DEAD_BAND))
        return (0.0, roll)

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        clean = sum(self.gates)
        total = len(self.gates)
        pct = 100.0 * clean / total if total else 0.0
        score = max(0, self.score)
        lines = [
            f"Score: {score}",
            f"Clean gates: {clean} of {total} ({pct:.0f}%)",
            f"Bank touches: {self.touches}",
            f"Level: {self.settings.start_level} to {self.level}",
        ]
        return "River run complete", lines, self.settings.key(), float(score)

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        m = layout.margin
        view = VIEW_AHEAD + VIEW_BEHIND
        if layout.portrait:
            top = m + 2 * layout.body_size + m
            avail_w, avail_h = layout.width - 2 * m, layout.height - top - m
        else:
            top = m
            side = max(layout.width // 5, 6 * layout.body_size)
            avail_w, avail_h = layout.width - 2 * side, layout.height - 2 * m
        ppu = max(10.0, min(avail_w / (2 * FIELD_HALF), avail_h / view))
        field = pygame.Rect(0, 0, round(2 * FIELD_HALF * ppu), round(view * ppu))
        field.midtop = (layout.width // 2, top)
        self._draw_course(surface, field, ppu)
        self._draw_boat(surface, field, ppu)
        self._draw_info(surface, layout, field)

    def _to_screen(self, field: pygame.Rect, ppu: float, s: float, x: float) -> tuple[int, int]:
        return (
            round(field.centerx + x * ppu),
            round(field.bottom - (s - self.s + VIEW_BEHIND) * ppu),
        )

    def _draw_course(self, surface: pygame.Surface, field: pygame.Rect, ppu: float) -> None:
        pygame.draw.rect(surface, LAND, field)
        s0, s1 = self.s - VIEW_BEHIND, self.s + VIEW_AHEAD
        n = 48
        ss = [max(0.0, s0) + (s1 - max(0.0, s0)) * i / n for i in range(n + 1)]
        if s0 < 0.0:
            ss.insert(0, s0)  # the start straight extends below the start line
        left = [self._to_screen(field, ppu, s, self.course.banks(s)[0]) for s in ss]
        right = [self._to_screen(field, ppu, s, self.course.banks(s)[1]) for s in ss]
        pygame.draw.polygon(surface, WATER, left + right[::-1])
        bank = max(2, round(ppu / 40))
        pygame.draw.lines(surface, BANK, False, left, bank)
        pygame.draw.lines(surface, BANK, False, right, bank)
        # Flow streaks fixed to the course, so the water is seen to move.
        step = 0.35
        k0 = math.floor(s0 / step)
        for k in range(k0, k0 + int((s1 - s0) / step) + 2):
            s = k * step
            if not s0 <= s <= s1 - 0.1:
                continue
            centre, width = self.course.at(s)
            u = _hash(k) - 0.5
            p0 = self._to_screen(field, ppu, s, centre + u * width * 0.8)
            p1 = self._to_screen(field, ppu, s + 0.1, centre + u * width * 0.8)
            pygame.draw.line(surface, STREAK, p0, p1, max(1, round(ppu / 60)))
        # Gates: a buoy on each bank, green or red once passed.
        g0 = max(1, math.ceil(s0 / GATE_SPACING))
        for g in range(g0, int(s1 / GATE_SPACING) + 1):
            s = g * GATE_SPACING
            lb, rb = self.course.banks(s)
            passed = g <= len(self.gates)
            color = ACCENT if not passed else GREEN if self.gates[g - 1] else RED
            a, b = self._to_screen(field, ppu, s, lb), self._to_screen(field, ppu, s, rb)
            pygame.draw.line(surface, color, a, b, max(1, round(ppu / 80)))
            buoy = max(4, round(ppu / 22))
            pygame.draw.circle(surface, color, a, buoy)
            pygame.draw.circle(surface, color, b, buoy)
        pygame.draw.rect(surface, MUTED, field, max(1, round(ppu / 80)))

    def _draw_boat(self, surface: pygame.Surface, field: pygame.Rect, ppu: float) -> None:
        cx, cy = self._to_screen(field, ppu, self.s, self.x)
        heading = math.atan2(self.lateral_velocity, max(self.speed, 0.05))
        hw, hl = BOAT_HALF_WIDTH * ppu, BOAT_LENGTH * ppu / 2
        hull = [
            (0.0, -hl * 1.25),
            (hw, -hl * 0.2),
            (hw * 0.8, hl),
            (-hw * 0.8, hl),
            (-hw, -hl * 0.2),
        ]
        c, s = math.cos(heading), math.sin(heading)
        points = [(cx + px * c - py * s, cy + px * s + py * c) for px, py in hull]
        color = RED if self.touching or self.slow_left > 0.0 else ACCENT
        pygame.draw.polygon(surface, color, points)
        pygame.draw.polygon(surface, (40, 30, 10), points, max(1, round(ppu / 70)))

    def _draw_info(self, surface: pygame.Surface, layout: Layout, field: pygame.Rect) -> None:
        left = max(0.0, self.settings.duration_s - self.elapsed)
        clean = sum(self.gates)
        items = [
            ("Level", str(self.level)),
            ("Score", str(max(0, self.score))),
            ("Time", f"{int(left) // 60}:{int(left) % 60:02d}"),
            ("Gates", f"{clean}/{len(self.gates)}"),
        ]
        body, small = layout.body_size, layout.small_size
        hint = "Lean forward: faster" if level_params(self.level).pitch_speed else ""
        if layout.portrait:
            n = len(items)
            w = layout.width // n
            for i, (label, value) in enumerate(items):
                x = w * i + w // 2
                layout.text(surface, label, small, (x, layout.margin + small // 2), MUTED)
                layout.text(surface, value, body, (x, layout.margin + small + body // 2), TEXT)
            if hint and layout.height - field.bottom > small:
                layout.text(
                    surface, hint, small, (layout.width // 2, (field.bottom + layout.height) // 2)
                )
            return
        columns = (field.left // 2, (field.right + layout.width) // 2)
        rows = (items[:2], items[2:])
        for x, row in zip(columns, rows, strict=True):
            y = layout.height // 2 - 2 * body
            for label, value in row:
                layout.text(surface, label, small, (x, y), MUTED)
                layout.text(surface, value, layout.title_size, (x, y + small // 2 + body), TEXT)
                y += 2 * body + small
        if hint:
            layout.text(surface, hint, small, (columns[1], layout.height - small), MUTED)


LAND = (34, 70, 48)
WATER = (40, 96, 170)
BANK = (200, 180, 120)
STREAK = (120, 170, 230)


def _hash(k: int) -> float:
    """A fixed pseudo-random 0..1 per integer, for scenery only (not game content)."""
    value = math.sin(k * 12.9898) * 43758.5453
    return value - math.floor(value)


register(
    Activity(
        "river",
        "River run",
        "Roll the board to steer the boat down the river",
        lambda app: RiverRun(app),
    )
)
