"""Ankle circles (seated): slow circles with the foot on the board, clockwise and anticlockwise.

A classic non-weight-bearing mobility exercise (DOMAIN.md §6). The board's tilt cursor draws the
circle (forward/toes-down tilt up the screen, right-edge-down to the right), so "clockwise" is as
the screen shows it: seen from above with the toes at the top (toes down → right edge down → toes
up → left edge down).

Turns are counted from the signed angle the cursor sweeps about the circle's centre (clockwise
positive): every ±2π completes one turn and its sign gives the direction. Near the centre the angle
means nothing, so inside a small inner radius no angle is added (and a pass through the centre
gives no credit for the jump). The centre starts at level and then follows the person: after each
completed turn it moves to that turn's fitted centre, after a timed-out attempt to the mean of the
attempt, within the target ring, because the seated exercises skip calibration and a foot's
resting tilt need not be level.

Each turn is scored (:func:`analyse_turn`) by
  - roundness: the coefficient of variation of the radius about a least-squares fitted circle
    (0 for a perfect circle; an ellipse of axis ratio 0.6 gives ~0.18), as 0-100;
  - range: the mean radius in degrees against the level's target radius; the reach is also kept
    per direction: pitch (toes down = plantarflexion, toes up = dorsiflexion) and roll
    (inversion/eversion, whose sign depends on which foot is on the board).
The turn score is roundness × min(1, radius / target). A turn succeeds when it goes the asked way,
its radius CV is within the level's tolerance, its radius reaches 80% of the target and it was
done within the time limit; :class:`AdaptiveDifficulty` records every turn attempt.

Levels 1-10 set the target radius (3° to 10.2°, capped by the board's edge angles), the roundness
tolerance (CV 0.30 to 0.12), the pace (8 s to 4 s per turn, shown by a moving dot) and, from the
starting level, how many turns each way (3 to 6). Which direction comes first, where the pace dot
starts and the exact pace are random, from the app's seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import ACCENT, BLUE, GREEN, MUTED, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.app.widgets import draw_tilt_view, tilt_to_screen
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.units import DEG

CLOCKWISE = 1
ANTICLOCKWISE = -1
FEET = ("right", "left")

MIN_LEVEL, MAX_LEVEL = 1, 10
INTRO_S = 3.0
"""Time to read "now clockwise" before a direction's turns count."""
RESULT_SHOW_S = 2.0
"""How long the last turn's score stays on screen (the next turn already runs)."""
INNER_FRACTION = 0.3
"""No angle is swept inside this fraction of the target radius (the angle is noise there)."""
MIN_INNER = 0.8 * DEG
MIN_RANGE = 0.8
"""A turn's mean radius must reach this fraction of the target."""
ZERO_ROUNDNESS_CV = 0.4
"""Radius CV that scores a roundness of 0."""
EDGE_USE = 0.75
"""The target ring stays inside this fraction of the board's smallest edge angle."""


def level_radius(level: int) -> float:
    """Target circle radius (rad): 3° at level 1 up to 10.2° at level 10."""
    return (3.0 + 0.8 * (level - 1)) * DEG


def level_cv_tolerance(level: int) -> float:
    """Largest radius CV a successful turn may have: 0.30 (level 1) to 0.12 (level 10)."""
    return 0.30 - 0.02 * (level - 1)


def level_period(level: int) -> float:
    """Pace of the guide dot, s per turn: 8 s (level 1) to 3.95 s (level 10)."""
    return 8.0 - 0.45 * (level - 1)


def turns_per_direction(level: int) -> int:
    """Turns each way for a session starting at ``level``: 3 (levels 1-3) to 6 (level 10)."""
    return 3 + (level - 1) // 3


def time_limit(period: float) -> float:
    """Time allowed for one turn at a pace: generous, so slow careful circles still count."""
    return 2.5 * period + 3.0


# -- maths ------------------------------------------------------------------------------------


def fit_circle(points: np.ndarray) -> tuple[float, float, float]:
    """Least-squares (Kåsa) circle through ``points`` (n, 2): centre x, y and radius.

    Solves x² + y² = a·x + b·y + c linearly; fine for points spread round most of a circle. With
    fewer than 3 points or collinear points it falls back to the centroid and mean distance.
    """
    p = np.asarray(points, dtype=float)
    if len(p) >= 3:
        design = np.column_stack([p[:, 0], p[:, 1], np.ones(len(p))])
        rhs = p[:, 0] ** 2 + p[:, 1] ** 2
        sol, _, rank, _ = np.linalg.lstsq(design, rhs, rcond=None)
        if rank == 3:
            cx, cy = sol[0] / 2, sol[1] / 2
            r2 = sol[2] + cx * cx + cy * cy
            if r2 > 0:
                return float(cx), float(cy), float(math.sqrt(r2))
    c = p.mean(axis=0)
    return float(c[0]), float(c[1]), float(np.mean(np.hypot(*(p - c).T)))


@dataclass(frozen=True)
class TurnAnalysis:
    """Shape and size of one traced turn; x = roll, y = pitch, rad."""

    centre: tuple[float, float]
    mean_radius: float
    radius_cv: float
    """Standard deviation over mean of the distances from the fitted centre."""
    fit_residual: float
    """RMS distance of the points from the fitted circle, rad."""
    pitch_range: tuple[float, float]
    """Lowest and highest pitch (rad): toes up (dorsiflexion) / toes down (plantarflexion)."""
    roll_range: tuple[float, float]
    """Lowest and highest roll (rad): left edge down / right edge down."""

    @property
    def roundness(self) -> float:
        """0-100 from the radius CV (100: a perfect circle)."""
        return 100.0 * min(1.0, max(0.0, 1.0 - self.radius_cv / ZERO_ROUNDNESS_CV))

    def score(self, target_radius: float) -> float:
        """0-100: roundness × min(1, radius / target)."""
        return self.roundness * min(1.0, self.mean_radius / target_radius)


def analyse_turn(points: np.ndarray) -> TurnAnalysis:
    """Fit a circle to one turn's samples (n, 2) and measure how round and how big it was."""
    p = np.asarray(points, dtype=float)
    cx, cy, r = fit_circle(p)
    radii = np.hypot(p[:, 0] - cx, p[:, 1] - cy)
    mean = float(radii.mean())
    cv = float(radii.std() / mean) if mean > 0 else 1.0
    residual = float(np.sqrt(np.mean((radii - r) ** 2)))
    return TurnAnalysis(
        (cx, cy),
        mean,
        cv,
        residual,
        (float(p[:, 1].min()), float(p[:, 1].max())),
        (float(p[:, 0].min()), float(p[:, 0].max())),
    )


def wrap(angle: float) -> float:
    """Angle wrapped to [-π, π)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


class TurnCounter:
    """Signed swept angle of the cursor about a centre; reports each completed turn.

    The angle is measured like the board's tilt direction, from forward (up the screen) towards
    right edge down, so a clockwise circle on screen sweeps a positive angle.
    """

    def __init__(self, inner_radius: float, centre: tuple[float, float] = (0.0, 0.0)) -> None:
        self.inner_radius = inner_radius
        self.reset(centre)

    def reset(self, centre: tuple[float, float] | None = None) -> None:
        if centre is not None:
            self.centre = centre
        self.swept = 0.0
        self._last: float | None = None

    def update(self, x: float, y: float) -> int:
        """Add the sample (x = roll, y = pitch); +1 / -1 when a clockwise / anticlockwise turn
        has just been completed, else 0."""
        dx, dy = x - self.centre[0], y - self.centre[1]
        if math.hypot(dx, dy) < self.inner_radius:
            self._last = None
            return 0
        angle = math.atan2(dx, dy)
        if self._last is not None:
            self.swept += wrap(angle - self._last)
        self._last = angle
        if self.swept >= 2 * math.pi:
            self.swept -= 2 * math.pi
            return CLOCKWISE
        if self.swept <= -2 * math.pi:
            self.swept += 2 * math.pi
            return ANTICLOCKWISE
        return 0


# -- the activity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CircleSettings:
    start_level: int = 1
    """1 (small, slow, forgiving circles) to 10."""
    foot: str = "right"
    """The foot on the board: which roll side is inversion."""
    turns: int | None = None
    """Turns each way; None: by the starting level."""

    def __post_init__(self) -> None:
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"level must be {MIN_LEVEL}-{MAX_LEVEL}")
        if self.foot not in FEET:
            raise ValueError(f"foot must be one of {FEET}")
        if self.turns is not None and not 1 <= self.turns <= 20:
            raise ValueError("turns each way must be 1-20")

    @property
    def turns_each_way(self) -> int:
        return self.turns if self.turns is not None else turns_per_direction(self.start_level)

    def key(self) -> str:
        return f"ankle_circles/{self.foot}"


@dataclass
class TurnResult:
    asked: int
    """Direction asked for: +1 clockwise, -1 anticlockwise."""
    done: int
    """Direction turned: +1, -1, or 0 when the time ran out."""
    level: int
    target_radius: float
    analysis: TurnAnalysis | None
    duration_s: float
    success: bool

    @property
    def score(self) -> float:
        if self.analysis is None or self.done != self.asked:
            return 0.0
        return self.analysis.score(self.target_radius)

    @property
    def points(self) -> float:
        """The turn score weighted by the level it was done at."""
        return self.score * (1.0 + 0.1 * (self.level - 1))


class Step(StrEnum):
    INTRO = "intro"
    TURNING = "turning"


class AnkleCircles(TimedActivity):
    title = "Ankle circles"
    name = "ankle_circles"

    def __init__(self, app: AppContext, settings: CircleSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or CircleSettings()
        s = self.settings
        self.adaptive = AdaptiveDifficulty(
            level=s.start_level, min_level=MIN_LEVEL, max_level=MAX_LEVEL, window=4
        )
        first = app.rng.choice((CLOCKWISE, ANTICLOCKWISE))
        self.directions = [first, -first]
        # Per direction: pace factor and where the guide dot starts (drawn now: fixed by seed).
        self.block_pace = [app.rng.uniform(0.9, 1.1) for _ in self.directions]
        self.block_phase = [app.rng.uniform(-math.pi, math.pi) for _ in self.directions]
        self.block = 0
        self.step_kind = Step.INTRO
        self.step_time = 0.0
        self.block_time = 0.0
        self.attempt_time = 0.0
        self.samples: list[tuple[float, float]] = []
        self.cursor: tuple[float, float] | None = None
        self.centre = (0.0, 0.0)
        self.turns: list[TurnResult] = []
        self._block_start = 0
        """Index in :attr:`turns` of the current direction's first turn."""
        self.counter = TurnCounter(self._inner_radius())
        self.period = self._period()

    # -- levels -----------------------------------------------------------------------------
    @property
    def level(self) -> int:
        return self.adaptive.level

    @property
    def direction(self) -> int:
        return self.directions[self.block]

    @property
    def target_radius(self) -> float:
        return min(level_radius(self.level), EDGE_USE * self.app.edge_angles.smallest)

    def _inner_radius(self) -> float:
        return max(MIN_INNER, INNER_FRACTION * self.target_radius)

    def _period(self) -> float:
        return level_period(self.level) * self.block_pace[self.block]

    # -- logic ------------------------------------------------------------------------------
    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        x, y = tick.angles.roll, tick.angles.pitch
        self.cursor = (x, y)
        self.step_time += dt
        if self.step_kind is Step.INTRO:
            if self.step_time >= INTRO_S - 1e-9:
                self.step_kind = Step.TURNING
                self.block_time = 0.0
                self._new_attempt()
            return
        self.block_time += dt
        self.attempt_time += dt
        self.samples.append((x, y))
        turned = self.counter.update(x, y)
        if turned:
            self._end_attempt(turned)
        elif self.attempt_time >= time_limit(self.period) - 1e-9:
            self._end_attempt(0)

    def _new_attempt(self) -> None:
        self.counter.inner_radius = self._inner_radius()
        self.counter.reset(self.centre)
        self.attempt_time = 0.0
        self.samples = []
        if self.cursor is not None:
            self.samples.append(self.cursor)
            self.counter.update(*self.cursor)

    def _end_attempt(self, turned: int) -> None:
        target = self.target_radius
        level = self.level
        pts = np.asarray(self.samples)
        analysis = analyse_turn(pts) if len(pts) >= 3 else None
        success = (
            turned == self.direction
            and analysis is not None
            and analysis.radius_cv <= level_cv_tolerance(level)
            and analysis.mean_radius >= MIN_RANGE * target
        )
        self.turns.append(
            TurnResult(self.direction, turned, level, target, analysis, self.attempt_time, success)
        )
        self.adaptive.record(success)
        self.events.append(
            {
                "t": round(self.elapsed, 3),
                "event": "turn",
                "asked": self.direction,
                "turned": turned,
                "level": level,
                "radius_deg": None if analysis is None else round(analysis.mean_radius / DEG, 2),
                "radius_cv": None if analysis is None else round(analysis.radius_cv, 4),
                "success": success,
            }
        )
        if success:
            self.app.feedback.cue(Cue.SELECT)
        # Follow the person's own centre (seated: no calibration, the foot rests where it rests).
        if analysis is not None:
            centre = analysis.centre if turned else tuple(pts.mean(axis=0))
            limit = 0.8 * self.target_radius
            mag = math.hypot(*centre)
            if mag > limit:
                centre = (centre[0] * limit / mag, centre[1] * limit / mag)
            self.centre = (float(centre[0]), float(centre[1]))
        if len(self.turns) - self._block_start >= self.settings.turns_each_way:
            self.block += 1
            self._block_start = len(self.turns)
            if self.block >= len(self.directions):
                self.block = len(self.directions) - 1
                self.finish()
                return
            self.step_kind = Step.INTRO
            self.step_time = 0.0
            self.period = self._period()
            return
        self.period = self._period()
        self._new_attempt()

    def pace_point(self) -> tuple[float, float]:
        """Where the guide dot is now (x = roll, y = pitch, rad), on the target ring."""
        angle = self.block_phase[self.block]
        if self.step_kind is Step.TURNING:
            angle += self.direction * 2 * math.pi * self.block_time / self.period
        r = self.target_radius
        return (self.centre[0] + r * math.sin(angle), self.centre[1] + r * math.cos(angle))

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        """Follow the pace dot, a little outside the ring."""
        if self.phase is not Phase.RUNNING:
            return (0.0, 0.0)
        x, y = self.pace_point()
        cx, cy = self.centre
        return (cy + 1.05 * (y - cy), cx + 1.05 * (x - cx))

    # -- results ----------------------------------------------------------------------------
    @property
    def session_score(self) -> float:
        if not self.turns:
            return 0.0
        return round(sum(t.points for t in self.turns) / len(self.turns), 1)

    def reach(self) -> dict[str, float]:
        """Mean reach per direction over the completed turns, rad from level: plantarflexion
        (toes down), dorsiflexion (toes up), inversion and eversion (by foot)."""
        done = [t.analysis for t in self.turns if t.analysis is not None and t.done != 0]
        if not done:
            return {}
        right_down = float(np.mean([a.roll_range[1] for a in done]))
        left_down = -float(np.mean([a.roll_range[0] for a in done]))
        # Right foot: inversion lowers its outer (right) edge; left foot: its outer (left) edge.
        inversion, eversion = (
            (right_down, left_down) if self.settings.foot == "right" else (left_down, right_down)
        )
        return {
            "plantarflexion": float(np.mean([a.pitch_range[1] for a in done])),
            "dorsiflexion": -float(np.mean([a.pitch_range[0] for a in done])),
            "inversion": inversion,
            "eversion": eversion,
        }

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        lines = []
        for direction, label in ((CLOCKWISE, "Clockwise"), (ANTICLOCKWISE, "Anticlockwise")):
            turns = [t for t in self.turns if t.asked == direction]
            if not turns:
                continue
            good = sum(t.success for t in turns)
            shaped = [t.analysis for t in turns if t.analysis is not None and t.done == direction]
            if shaped:
                radius = float(np.mean([a.mean_radius for a in shaped])) / DEG
                roundness = float(np.mean([a.roundness for a in shaped]))
                lines.append(
                    f"{label}: {good} of {len(turns)} good, "
                    f"radius {radius:.1f} deg, round {roundness:.0f}"
                )
            else:
                lines.append(f"{label}: {good} of {len(turns)} good")
        reach = self.reach()
        if reach:
            lines.append(
                f"Toes down {reach['plantarflexion'] / DEG:.1f}, "
                f"toes up {reach['dorsiflexion'] / DEG:.1f} deg"
            )
            lines.append(
                f"Inversion {reach['inversion'] / DEG:.1f}, "
                f"eversion {reach['eversion'] / DEG:.1f} deg ({self.settings.foot} foot)"
            )
        lines.append(
            f"Level {self.settings.start_level} to {self.level}, score {self.session_score:.1f}"
        )
        return "Circles complete", lines, self.settings.key(), self.session_score

    # -- drawing ----------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        y0 = layout.title(surface, f"Ankle circles - level {self.level}")
        m = layout.margin
        if layout.portrait:
            radius = max(30, min(layout.width - 4 * m, layout.height // 2) // 2)
            center = (layout.width // 2, y0 + radius + m)
            info = (layout.width // 2, center[1] + radius + m + layout.body_size)
        else:
            radius = max(30, (layout.height - y0 - 2 * m) // 2)
            center = (layout.width // 2 - layout.width // 6, y0 + radius)
            info = ((center[0] + radius + layout.width) // 2, y0 + layout.body_size)
        full_scale = 2.0 * self.target_radius  # the ring may sit off level by 0.8 radius
        draw_tilt_view(surface, center, radius, None, full_scale)

        def to_screen(p: tuple[float, float]) -> tuple[int, int]:
            return tilt_to_screen(p[1], p[0], center, radius, full_scale)

        ring_px = max(8, round(self.target_radius / full_scale * radius))
        ring_c = to_screen(self.centre)
        width = max(3, radius // 35)
        pygame.draw.circle(surface, (95, 110, 150), ring_c, ring_px, width * 2)
        arrow_color = GREEN if self.direction == CLOCKWISE else BLUE
        _draw_turn_arrow(surface, ring_c, ring_px + width * 4, self.direction, arrow_color, width)
        if self.step_kind is Step.TURNING and len(self.samples) >= 2:
            pygame.draw.lines(
                surface, ACCENT, False, [to_screen(p) for p in self.samples[-600:]], width
            )
        if self.phase is Phase.RUNNING:
            pygame.draw.circle(surface, arrow_color, to_screen(self.pace_point()), width * 2)
            if self.cursor is not None:
                pygame.draw.circle(surface, TEXT, to_screen(self.cursor), width * 2)

        x, y = info
        word = "Clockwise" if self.direction == CLOCKWISE else "Anticlockwise"
        layout.text(surface, word, layout.body_size, (x, y), arrow_color)
        y += layout.body_size
        n = self.settings.turns_each_way
        done = len(self.turns) - self._block_start
        if self.step_kind is Step.INTRO:
            layout.text(surface, f"{n} slow circles", layout.small_size, (x, y), TEXT)
            y += layout.small_size
            layout.text(surface, "follow the dot", layout.small_size, (x, y), MUTED)
        else:
            layout.text(surface, f"turn {min(done + 1, n)} of {n}", layout.small_size, (x, y), TEXT)
            y += layout.small_size
            good = sum(t.success for t in self.turns)
            layout.text(surface, f"{good} good so far", layout.small_size, (x, y), MUTED)
            y += layout.small_size
            hint = self._hint()
            if hint:
                layout.text(surface, hint, layout.small_size, (x, y), RED)
        y += layout.body_size
        last = self.turns[-1] if self.turns else None
        if last is not None and (self.step_kind is Step.INTRO or self.attempt_time < RESULT_SHOW_S):
            color = GREEN if last.success else RED
            layout.text(surface, f"{last.score:.0f} points", layout.body_size, (x, y), color)
            y += layout.small_size
            if last.analysis is not None and last.done != 0:
                a = last.analysis
                detail = (
                    f"round {a.roundness:.0f}  size "
                    f"{100 * a.mean_radius / last.target_radius:.0f}%"
                )
            else:
                detail = "time ran out" if last.done == 0 else "wrong way"
            layout.text(surface, detail, layout.small_size * 3 // 4, (x, y), MUTED)

    def _hint(self) -> str:
        if self.counter.swept * self.direction < -math.pi / 2:
            return "other way!"
        if self.cursor is not None and self.attempt_time > 1.0:
            r = math.hypot(self.cursor[0] - self.centre[0], self.cursor[1] - self.centre[1])
            if r < self.counter.inner_radius:
                return "bigger circles"
        return ""


def _draw_turn_arrow(
    surface: pygame.Surface,
    center: tuple[int, int],
    radius: int,
    direction: int,
    color: tuple[int, int, int],
    width: int,
) -> None:
    """An arc over the top of the ring with an arrowhead showing the way round."""
    span = math.radians(50)
    pts = [
        (center[0] + radius * math.sin(a), center[1] - radius * math.cos(a))
        for a in np.linspace(-span / 2, span / 2, 12)
    ]
    if direction == ANTICLOCKWISE:
        pts.reverse()
    pygame.draw.lines(surface, color, False, pts, width)
    tip = np.array(pts[-1])
    back = np.array(pts[-3])
    along = (tip - back) / max(float(np.hypot(*(tip - back))), 1e-9)
    normal = np.array([-along[1], along[0]])
    size = width * 3
    head = [tip + along * size, tip + normal * size, tip - normal * size]
    pygame.draw.polygon(surface, color, [(float(p[0]), float(p[1])) for p in head])


register(
    Activity(
        "ankle_circles",
        "Ankle circles",
        "Seated: slow circles with your foot, both ways",
        lambda app: AnkleCircles(app),
        seated=True,
    )
)
