"""Ankle alphabet (seated): trace the capital letters with the board's tilt cursor as the pen.

A classic non-weight-bearing early-rehabilitation exercise (DOMAIN.md §6): the person sits with one
foot on the board and "writes" each letter with the toes. Forward (toes-down) tilt moves the pen up
the screen, right-edge-down moves it right (:func:`~wobble_trainer.app.widgets.tilt_to_screen`).

Each letter is data: strokes as polylines in a unit box (x right, y up, capitals, simple strokes).
The ankle cannot lift the pen, so the guide joins the strokes with straight *connectors* (drawn
dotted): the templates order and orient their strokes so that most connectors run back along a
stroke already drawn, and the scoring allows but does not require them.

Pen down: continuously, from the moment the cursor reaches the letter's start dot (or the "get
ready" time runs out) until the letter's time window ends or the letter is complete. A speed
threshold was rejected: it cannot remove connectors (the foot still moves between strokes) and it
would drop the slow, careful tracing that people early in rehabilitation do. Standing still adds no
ink anyway: the pen only adds a point once it has moved a little (jitter does not pile up).

Scoring one letter (:func:`score_trace`), all scale and position invariant:
  - both the trace and the guide are resampled by arc length to N points and normalised (centroid
    at the origin, RMS radius 1); the *match* (0-100) comes from the symmetric mean nearest-point
    distance (trace → guide polyline, letter strokes → trace polyline);
  - *coverage*: the fraction of the letter's stroke points that the trace came within the level's
    tolerance of (did the pen visit every stroke?);
  - *size*: the trace's RMS radius over the shown letter's, in tilt (range of motion).
  The letter score is match × coverage × min(1, size); a letter succeeds at the level's pass mark.

Levels 1-10 scale the letter's size (range of motion, 6° to ~17° tall, capped by the board's edge
angles), the coverage tolerance, the pass mark and the pen speed that sets the time per letter.
Lower starting levels get a random subset in random order, from level 7 the whole A-Z in order;
every letter is slanted and stretched a little at random, so it cannot be learned by heart.
:class:`AdaptiveDifficulty` records every letter and moves the level to keep success at 70-85%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pygame

from wobble_trainer.app.activities.adaptive import AdaptiveDifficulty
from wobble_trainer.app.activities.base import Phase, TimedActivity
from wobble_trainer.app.layout import ACCENT, GREEN, MUTED, PANEL, RED, TEXT, Layout
from wobble_trainer.app.scene import Activity, AppContext, Tick, register
from wobble_trainer.app.widgets import draw_progress_ring, tilt_to_screen
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.units import DEG

Point = tuple[float, float]
Stroke = tuple[Point, ...]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> Stroke:
    """A closed ellipse starting at the top, running anticlockwise (the way an O is written)."""
    return tuple(
        (cx - rx * math.sin(2 * math.pi * i / n), cy + ry * math.cos(2 * math.pi * i / n))
        for i in range(n + 1)
    )


_O = _ellipse(0.5, 0.5, 0.38, 0.5)

LETTERS: dict[str, tuple[Stroke, ...]] = {
    "A": (((0.1, 0.0), (0.5, 1.0), (0.9, 0.0)), ((0.74, 0.4), (0.26, 0.4))),
    "B": (
        ((0.15, 0.0), (0.15, 1.0), (0.6, 1.0), (0.75, 0.88), (0.75, 0.64), (0.6, 0.52),
         (0.15, 0.52)),
        ((0.6, 0.52), (0.8, 0.4), (0.8, 0.12), (0.65, 0.0), (0.15, 0.0)),
    ),
    "C": (
        ((0.85, 0.85), (0.65, 1.0), (0.35, 1.0), (0.15, 0.8), (0.15, 0.2), (0.35, 0.0),
         (0.65, 0.0), (0.85, 0.15)),
    ),
    "D": (
        ((0.15, 0.0), (0.15, 1.0), (0.55, 1.0), (0.8, 0.8), (0.85, 0.5), (0.8, 0.2), (0.55, 0.0),
         (0.15, 0.0)),
    ),
    "E": (((0.8, 1.0), (0.2, 1.0), (0.2, 0.5), (0.7, 0.5)), ((0.2, 0.5), (0.2, 0.0), (0.8, 0.0))),
    "F": (((0.8, 1.0), (0.2, 1.0), (0.2, 0.0)), ((0.2, 0.5), (0.7, 0.5))),
    "G": (
        ((0.85, 0.85), (0.65, 1.0), (0.35, 1.0), (0.15, 0.8), (0.15, 0.2), (0.35, 0.0),
         (0.65, 0.0), (0.85, 0.2), (0.85, 0.45), (0.55, 0.45)),
    ),
    "H": (((0.15, 1.0), (0.15, 0.0)), ((0.15, 0.5), (0.85, 0.5)), ((0.85, 1.0), (0.85, 0.0))),
    "I": (((0.3, 1.0), (0.7, 1.0)), ((0.5, 1.0), (0.5, 0.0)), ((0.3, 0.0), (0.7, 0.0))),
    "J": (((0.35, 1.0), (0.85, 1.0)), ((0.7, 1.0), (0.7, 0.25), (0.5, 0.0), (0.3, 0.0),
                                       (0.15, 0.2))),
    "K": (((0.2, 1.0), (0.2, 0.0)), ((0.8, 1.0), (0.2, 0.45), (0.8, 0.0))),
    "L": (((0.2, 1.0), (0.2, 0.0), (0.8, 0.0)),),
    "M": (((0.1, 0.0), (0.1, 1.0), (0.5, 0.35), (0.9, 1.0), (0.9, 0.0)),),
    "N": (((0.15, 0.0), (0.15, 1.0), (0.85, 0.0), (0.85, 1.0)),),
    "O": (_O,),
    "P": (
        ((0.2, 0.0), (0.2, 1.0), (0.65, 1.0), (0.8, 0.88), (0.8, 0.62), (0.65, 0.5), (0.2, 0.5)),
    ),
    "Q": (_O, ((0.6, 0.25), (0.9, 0.0))),
    "R": (
        ((0.2, 0.0), (0.2, 1.0), (0.65, 1.0), (0.8, 0.88), (0.8, 0.62), (0.65, 0.5), (0.2, 0.5)),
        ((0.5, 0.5), (0.8, 0.0)),
    ),
    "S": (
        ((0.85, 0.85), (0.65, 1.0), (0.35, 1.0), (0.15, 0.85), (0.15, 0.65), (0.35, 0.52),
         (0.65, 0.48), (0.85, 0.35), (0.85, 0.15), (0.65, 0.0), (0.35, 0.0), (0.15, 0.15)),
    ),
    "T": (((0.1, 1.0), (0.9, 1.0)), ((0.5, 1.0), (0.5, 0.0))),
    "U": (((0.15, 1.0), (0.15, 0.25), (0.35, 0.0), (0.65, 0.0), (0.85, 0.25), (0.85, 1.0)),),
    "V": (((0.1, 1.0), (0.5, 0.0), (0.9, 1.0)),),
    "W": (((0.05, 1.0), (0.25, 0.0), (0.5, 0.65), (0.75, 0.0), (0.95, 1.0)),),
    "X": (((0.15, 1.0), (0.85, 0.0)), ((0.85, 1.0), (0.15, 0.0))),
    "Y": (((0.1, 1.0), (0.5, 0.5), (0.9, 1.0)), ((0.5, 0.5), (0.5, 0.0))),
    "Z": (((0.15, 1.0), (0.85, 1.0), (0.15, 0.0), (0.85, 0.0)),),
}
"""Stroke templates of the capitals A-Z in a unit box (x right, y up), in writing order."""

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

N_POINTS = 64
"""Points both the trace and the letter are resampled to for scoring."""
ZERO_MATCH_DISTANCE = 0.3
"""Symmetric mean distance (in RMS radii of the letter) that scores a match of 0."""

MIN_LEVEL, MAX_LEVEL = 1, 10
FULL_ALPHABET_LEVEL = 7
"""From this starting level the whole A-Z is traced in order; below it a random subset."""
READY_MAX_S = 5.0
"""Time to bring the pen to the start dot before it goes down anyway."""
RESULT_S = 2.0
"""How long each letter's score stays on screen."""
TIME_MARGIN_S = 3.0
"""Time per letter on top of its path length at the level's pen speed."""
MIN_SIZE_RATIO = 0.7
"""A letter written smaller than this fraction of the shown size fails (range of motion)."""
EDGE_USE = 0.8
"""The letter may reach this fraction of the board's edge angle in each direction."""
PEN_SMOOTHING_S = 0.05
"""Time constant of the pen's low-pass (takes sensor jitter out of the ink, 50 ms lag)."""


def level_size(level: int) -> float:
    """Letter height (rad) at a level: 6° at level 1 up to 16.8° at level 10."""
    return (6.0 + 1.2 * (level - 1)) * DEG


def level_tolerance(level: int) -> float:
    """Coverage tolerance in RMS radii of the letter: 0.30 (level 1) to 0.165 (level 10)."""
    return 0.30 - 0.015 * (level - 1)


def level_pass_score(level: int) -> float:
    """Letter score (0-100) needed to count the letter as a success: 45 to 72."""
    return 45.0 + 3.0 * (level - 1)


def level_speed(level: int) -> float:
    """Pen speed (rad/s) the time per letter is set from: 1.5°/s to 6°/s."""
    return (1.5 + 0.5 * (level - 1)) * DEG


def subset_size(level: int) -> int:
    """How many letters a session at this starting level traces."""
    if level >= FULL_ALPHABET_LEVEL:
        return len(ALPHABET)
    return 8 if level <= 3 else 13


# -- geometry ---------------------------------------------------------------------------------


def guide_path(strokes: tuple[Stroke, ...] | list[np.ndarray]) -> np.ndarray:
    """The whole letter as one pen-down polyline (n, 2): the strokes joined by connectors."""
    parts: list[np.ndarray] = []
    for stroke in strokes:
        s = np.asarray(stroke, dtype=float)
        if parts and np.allclose(parts[-1][-1], s[0]):
            s = s[1:]
        parts.append(s)
    return np.concatenate(parts, axis=0)


def path_length(points: np.ndarray) -> float:
    if len(points) < 2:
        return 0.0
    return float(np.sum(np.hypot(*np.diff(points, axis=0).T)))


def resample(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along the polyline ``points`` (m, 2)."""
    points = np.asarray(points, dtype=float)
    seg = np.hypot(*np.diff(points, axis=0).T) if len(points) > 1 else np.zeros(0)
    total = float(seg.sum())
    if total <= 0.0:
        return np.repeat(points[:1], n, axis=0)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    target = np.linspace(0.0, total, n)
    return np.column_stack([np.interp(target, s, points[:, 0]), np.interp(target, s, points[:, 1])])


def resample_strokes(strokes: list[np.ndarray], n: int) -> np.ndarray:
    """About ``n`` points over all strokes, shared by length (each stroke gets at least 2)."""
    lengths = np.array([path_length(s) for s in strokes])
    total = max(float(lengths.sum()), 1e-12)
    return np.concatenate(
        [resample(s, max(2, round(n * length / total))) for s, length in zip(strokes, lengths,
                                                                            strict=True)]
    )


def normaliser(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centroid and RMS radius of an arc-length resampled polyline (what position and size are
    divided out by): robust to where the pen lingered, unlike a time average."""
    even = resample(points, N_POINTS)
    centre = even.mean(axis=0)
    scale = float(np.sqrt(np.mean(np.sum((even - centre) ** 2, axis=1))))
    return centre, scale


def distance_to_polyline(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Distance of each point (n, 2) to the nearest segment of ``polyline`` (m, 2)."""
    points = np.asarray(points, dtype=float)
    polyline = np.asarray(polyline, dtype=float)
    if len(polyline) == 1:
        return np.hypot(*(points - polyline[0]).T)
    a = polyline[:-1][None, :, :]
    ab = np.diff(polyline, axis=0)[None, :, :]
    ap = points[:, None, :] - a
    denom = np.maximum(np.sum(ab * ab, axis=2), 1e-18)
    u = np.clip(np.sum(ap * ab, axis=2) / denom, 0.0, 1.0)
    nearest = a + u[:, :, None] * ab
    return np.min(np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)), axis=1)


@dataclass(frozen=True)
class TraceScore:
    """How one traced letter compares with its template."""

    match: float
    """Shape similarity 0-100 (scale and position invariant)."""
    coverage: float
    """Fraction 0-1 of the letter's strokes the pen came near."""
    size_ratio: float
    """Trace size over the shown letter's size (range of motion); 1 = as big as shown."""

    @property
    def score(self) -> float:
        """0-100: match × coverage × min(1, size)."""
        return self.match * self.coverage * min(1.0, self.size_ratio)


def score_trace(
    strokes: list[np.ndarray] | tuple[Stroke, ...], trace: np.ndarray, tolerance: float
) -> TraceScore:
    """Score ``trace`` (n, 2) against the letter ``strokes`` (same units: the size ratio compares
    them as given). ``tolerance`` is the coverage distance in RMS radii of the letter."""
    strokes = [np.asarray(s, dtype=float) for s in strokes]
    trace = np.asarray(trace, dtype=float)
    guide = guide_path(strokes)
    g_centre, g_scale = normaliser(guide)
    if len(trace) < 2 or path_length(trace) <= 1e-9 * max(g_scale, 1e-12):
        return TraceScore(0.0, 0.0, 0.0)
    t_centre, t_scale = normaliser(trace)
    guide_n = (guide - g_centre) / g_scale
    stroke_pts = (resample_strokes(strokes, N_POINTS) - g_centre) / g_scale
    trace_n = (trace - t_centre) / t_scale
    trace_pts = resample(trace_n, N_POINTS)
    # Trace → guide (connectors allowed); strokes → trace (connectors not required).
    d_out = float(np.mean(distance_to_polyline(trace_pts, guide_n)))
    d_in_each = distance_to_polyline(stroke_pts, trace_n)
    d = 0.5 * (d_out + float(np.mean(d_in_each)))
    match = 100.0 * min(1.0, max(0.0, 1.0 - d / ZERO_MATCH_DISTANCE))
    coverage = float(np.mean(d_in_each <= tolerance))
    return TraceScore(match, coverage, t_scale / g_scale)


# -- the activity -----------------------------------------------------------------------------


class Step(StrEnum):
    READY = "ready"
    """The guide is shown; bring the pen to the start dot."""
    TRACE = "trace"
    """Pen down: trace the letter."""
    RESULT = "result"
    """The letter's score is shown."""


@dataclass(frozen=True)
class AlphabetSettings:
    start_level: int = 1
    """1 (small letters, generous tolerance, slow) to 10."""
    full_alphabet: bool | None = None
    """True: A-Z in order; False: a random subset; None: by the starting level."""

    def __post_init__(self) -> None:
        if not MIN_LEVEL <= self.start_level <= MAX_LEVEL:
            raise ValueError(f"level must be {MIN_LEVEL}-{MAX_LEVEL}")

    @property
    def whole_alphabet(self) -> bool:
        if self.full_alphabet is not None:
            return self.full_alphabet
        return self.start_level >= FULL_ALPHABET_LEVEL

    def key(self) -> str:
        return "alphabet/a-z" if self.whole_alphabet else "alphabet/mixed"


@dataclass
class LetterResult:
    letter: str
    level: int
    result: TraceScore
    success: bool

    @property
    def points(self) -> float:
        """The letter score weighted by the level it was written at (bigger letters count more)."""
        return self.result.score * (1.0 + 0.1 * (self.level - 1))


@dataclass
class ShownLetter:
    """One letter as shown: its strokes in board tilt (rad; x = roll, y = pitch)."""

    letter: str
    strokes: list[np.ndarray]
    guide: np.ndarray
    time_s: float
    height: float
    trace: list[tuple[float, float]] = field(default_factory=list)


class AnkleAlphabet(TimedActivity):
    title = "Ankle alphabet"
    name = "alphabet"

    def __init__(self, app: AppContext, settings: AlphabetSettings | None = None) -> None:
        super().__init__(app)
        self.settings = settings or AlphabetSettings()
        s = self.settings
        self.adaptive = AdaptiveDifficulty(
            level=s.start_level, min_level=MIN_LEVEL, max_level=MAX_LEVEL, window=5
        )
        if s.whole_alphabet:
            self.letters = list(ALPHABET)
        else:
            self.letters = app.rng.sample(ALPHABET, subset_size(s.start_level))
        # Each letter's own slant and width, drawn now so the session is fixed by the seed.
        self.variations = [
            (app.rng.uniform(-0.15, 0.15), app.rng.uniform(0.88, 1.12)) for _ in self.letters
        ]
        self.index = 0
        self.step_kind = Step.READY
        self.step_time = 0.0
        self.pen: tuple[float, float] | None = None
        self.cursor: tuple[float, float] | None = None
        self.done: list[LetterResult] = []
        self.current = self._make_letter(0)

    # -- content ----------------------------------------------------------------------------
    @property
    def level(self) -> int:
        return self.adaptive.level

    def letter_height(self, level: int) -> float:
        """The level's letter height, capped so the letter stays inside the board's reach."""
        e = self.app.edge_angles
        vertical = 2 * EDGE_USE * min(e.front, e.back)
        horizontal = 2 * EDGE_USE * min(e.left, e.right) / 1.2  # widest letter, slanted
        return min(level_size(level), vertical, horizontal)

    def _make_letter(self, index: int) -> ShownLetter:
        letter = self.letters[index]
        slant, width = self.variations[index]
        height = self.letter_height(self.level)
        strokes = []
        for stroke in LETTERS[letter]:
            box = np.asarray(stroke, dtype=float)
            x = (box[:, 0] - 0.5) * width + slant * (box[:, 1] - 0.5)
            y = box[:, 1] - 0.5
            strokes.append(np.column_stack([x, y]) * height)
        guide = guide_path(strokes)
        time_s = path_length(guide) / level_speed(self.level) + TIME_MARGIN_S
        return ShownLetter(letter, strokes, guide, time_s, height)

    # -- logic ------------------------------------------------------------------------------
    def step(self, dt: float, tick: Tick) -> None:
        assert tick.angles is not None
        raw = (tick.angles.roll, tick.angles.pitch)
        self.cursor = raw
        self.step_time += dt
        if self.step_kind is Step.READY:
            start = self.current.guide[0]
            near = math.hypot(raw[0] - start[0], raw[1] - start[1]) <= self._start_radius()
            if near or self.step_time >= READY_MAX_S:
                self.step_kind = Step.TRACE
                self.step_time = 0.0
                self.pen = raw
                self.current.trace = [raw]
            return
        if self.step_kind is Step.TRACE:
            self._ink(raw, dt)
            if self.step_time >= self.current.time_s - 1e-9 or self._complete():
                self._score_letter()
            return
        if self.step_time >= RESULT_S - 1e-9:
            self.index += 1
            if self.index >= len(self.letters):
                self.finish()
                return
            self.current = self._make_letter(self.index)
            self.step_kind = Step.READY
            self.step_time = 0.0

    def _start_radius(self) -> float:
        return max(1.0 * DEG, 0.12 * self.current.height)

    def _ink(self, raw: tuple[float, float], dt: float) -> None:
        assert self.pen is not None
        k = dt / (PEN_SMOOTHING_S + dt)
        px, py = self.pen
        self.pen = (px + k * (raw[0] - px), py + k * (raw[1] - py))
        last = self.current.trace[-1]
        if math.hypot(self.pen[0] - last[0], self.pen[1] - last[1]) >= 0.01 * self.current.height:
            self.current.trace.append(self.pen)

    def _complete(self) -> bool:
        """The pen is at the letter's end and has visited (nearly) all of it: stop early."""
        c = self.current
        if len(c.trace) < 3 or self.pen is None:
            return False
        end = c.guide[-1]
        close = max(0.5 * DEG, 0.06 * c.height)
        if math.hypot(self.pen[0] - end[0], self.pen[1] - end[1]) > close:
            return False
        pts = resample_strokes(c.strokes, N_POINTS)
        near = distance_to_polyline(pts, np.asarray(c.trace)) <= 0.08 * c.height
        return float(np.mean(near)) >= 0.95

    def _score_letter(self) -> None:
        c = self.current
        level = self.level
        result = score_trace(c.strokes, np.asarray(c.trace), level_tolerance(level))
        success = result.score >= level_pass_score(level) and result.size_ratio >= MIN_SIZE_RATIO
        self.done.append(LetterResult(c.letter, level, result, success))
        self.events.append(
            {
                "t": round(self.elapsed, 3),
                "event": "letter",
                "letter": c.letter,
                "level": level,
                "match": round(result.match, 1),
                "coverage": round(result.coverage, 3),
                "size": round(result.size_ratio, 3),
                "success": success,
            }
        )
        self.adaptive.record(success)
        if success:
            self.app.feedback.cue(Cue.SELECT)
        self.step_kind = Step.RESULT
        self.step_time = 0.0

    def autopilot(self, tick: Tick) -> tuple[float, float] | None:
        """Go to the start dot, then run along the guide at 1.25× the level's pen speed."""
        if self.phase is not Phase.RUNNING:
            return (0.0, 0.0)
        c = self.current
        if self.step_kind is Step.READY:
            x, y = c.guide[0]
        elif self.step_kind is Step.TRACE:
            s = self.step_time * 1.25 * level_speed(self.level)
            x, y = _point_at(c.guide, s)
        else:
            x, y = c.guide[-1]
        return (float(y), float(x))

    # -- results ----------------------------------------------------------------------------
    @property
    def session_score(self) -> float:
        if not self.done:
            return 0.0
        return round(sum(r.points for r in self.done) / len(self.done), 1)

    def results(self) -> tuple[str, list[str], str | None, float | None]:
        n = len(self.done)
        good = sum(r.success for r in self.done)
        lines = [f"Letters traced well: {good} of {n}"]
        if self.done:
            match = sum(r.result.match for r in self.done) / n
            cover = sum(r.result.coverage for r in self.done) / n
            lines.append(f"Shape match {match:.0f}%, strokes covered {100 * cover:.0f}%")
            best = max(self.done, key=lambda r: r.result.score)
            worst = min(self.done, key=lambda r: r.result.score)
            lines.append(
                f"Best letter {best.letter} ({best.result.score:.0f}), "
                f"practise {worst.letter} ({worst.result.score:.0f})"
            )
        lines.append(
            f"Level {self.settings.start_level} to {self.level} "
            f"(letters {self.letter_height(self.level) / DEG:.0f} deg tall)"
        )
        lines.append(f"Score {self.session_score:.1f}")
        return "Alphabet complete", lines, self.settings.key(), self.session_score

    # -- drawing ----------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, layout: Layout) -> None:
        c = self.current
        y0 = layout.title(surface, f"Ankle alphabet - level {self.level}")
        m = layout.margin
        info_h = layout.body_size * 2
        if layout.portrait:
            side = min(layout.width - 2 * m, layout.height - y0 - info_h - 3 * layout.body_size)
            panel = pygame.Rect(0, 0, side, side)
            panel.midtop = (layout.width // 2, y0)
            info_center = (layout.width // 2, panel.bottom + m + layout.title_size)
        else:
            side = min(layout.height - y0 - m, layout.width * 3 // 5)
            panel = pygame.Rect(0, 0, side, side)
            panel.topleft = (layout.width // 2 - side // 2 - layout.width // 8, y0)
            info_center = ((panel.right + layout.width) // 2, y0 + side // 2)
        pygame.draw.rect(surface, PANEL, panel, border_radius=m)
        center = panel.center
        half = panel.width / 2
        full_scale = 0.68 * c.height  # the letter fills ~3/4 of the panel

        def to_screen(p: np.ndarray | tuple[float, float]) -> tuple[int, int]:
            return tilt_to_screen(float(p[1]), float(p[0]), center, half, full_scale)

        width = max(4, panel.width // 45)
        guide_color = (95, 110, 150)
        for a, b in zip(c.strokes, c.strokes[1:], strict=False):
            _dotted(surface, MUTED, to_screen(a[-1]), to_screen(b[0]), max(2, width // 3))
        for stroke in c.strokes:
            pygame.draw.lines(surface, guide_color, False, [to_screen(p) for p in stroke], width)
        start = to_screen(c.guide[0])
        pygame.draw.circle(surface, GREEN, start, width * 2)
        pygame.draw.circle(surface, RED, to_screen(c.guide[-1]), width, max(2, width // 3))
        if len(c.trace) >= 2:
            pygame.draw.lines(surface, ACCENT, False, [to_screen(p) for p in c.trace], width)
        if self.cursor is not None and self.phase is Phase.RUNNING:
            pygame.draw.circle(surface, TEXT, to_screen(self.cursor), width * 3 // 2)

        # The letter itself, big, with where we are and what to do.
        x, y = info_center
        big = layout.title_size * 2
        if layout.portrait:
            layout.text(surface, c.letter, layout.title_size, (layout.width // 6, y), ACCENT)
            y -= layout.body_size // 2
        else:
            layout.text(surface, c.letter, big, (x, y - big // 2 - m), ACCENT)
        n = len(self.letters)
        layout.text(surface, f"letter {self.index + 1} of {n}", layout.small_size, (x, y), MUTED)
        y += layout.body_size
        if self.step_kind is Step.READY:
            layout.text(surface, "Go to the green dot", layout.small_size, (x, y), TEXT)
        elif self.step_kind is Step.TRACE:
            left = max(0.0, c.time_s - self.step_time)
            layout.text(surface, f"Trace it  {left:4.1f} s", layout.small_size, (x, y), TEXT)
            draw_progress_ring(
                surface, (x, y + layout.body_size + m), layout.body_size // 2,
                self.step_time / c.time_s, GREEN,
            )
        elif self.done:
            r = self.done[-1]
            color = GREEN if r.success else RED
            layout.text(surface, f"{r.result.score:.0f} points", layout.body_size, (x, y), color)
            y += layout.body_size
            layout.text(
                surface,
                f"shape {r.result.match:.0f}  strokes {100 * r.result.coverage:.0f}%  "
                f"size {100 * r.result.size_ratio:.0f}%",
                layout.small_size * 3 // 4,
                (x, y),
                MUTED,
            )


def _point_at(polyline: np.ndarray, s: float) -> np.ndarray:
    """The point at arc length ``s`` along ``polyline`` (clamped to its ends)."""
    seg = np.hypot(*np.diff(polyline, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = min(max(s, 0.0), float(cum[-1]))
    return np.array([np.interp(s, cum, polyline[:, 0]), np.interp(s, cum, polyline[:, 1])])


def _dotted(
    surface: pygame.Surface,
    color: tuple[int, int, int],
    a: tuple[int, int],
    b: tuple[int, int],
    width: int,
) -> None:
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    step = max(6, width * 4)
    for i in range(int(length // step) + 1):
        f = i * step / max(length, 1e-9)
        pygame.draw.circle(
            surface, color, (round(a[0] + f * (b[0] - a[0])), round(a[1] + f * (b[1] - a[1]))),
            width,
        )


register(
    Activity(
        "alphabet",
        "Ankle alphabet",
        "Seated: write the letters with your toes",
        lambda app: AnkleAlphabet(app),
        seated=True,
    )
)
