"""Clinical balance metrics of a board-tilt trace: numpy arrays in, a plain JSON-ready dict out.

Input is a uniformly sampled trace of board pitch and roll in degrees (DOMAIN.md §1: pitch > 0 toes
down, roll > 0 right edge down) at ``rate_hz``. Following DOMAIN.md §5 and Arnold & Schmitz 1998,
``x`` is the medio-lateral angle (roll) and ``y`` the antero-posterior angle (pitch); the plane
point of a sample is ``p = (x, y)`` in degrees.

Tilt magnitude and tilt direction are not re-derived here: each sample's up vector comes from
:func:`wobble_trainer.tilt.board_angles.up_from_pitch_roll` and the angles from
:func:`~wobble_trainer.tilt.board_angles.angles_from_up_array`, so the tilt magnitude is the
true angle between board normal and vertical (``acos(cos pitch · cos roll)``), not
``hypot(pitch, roll)``.

Conventions shared by every function of this module:

* **Time.** Sample ``i`` is at ``t = i / rate_hz`` (the first sample at 0) and stands for one sample
  period, so a trace of N samples lasts ``duration_s = N / rate_hz`` (3000 samples at 100 Hz: 30 s)
  and "seconds in X" is ``(samples in X) / rate_hz``.
* **Gaps.** A sample whose pitch or roll is NaN is a gap (a dropped sample). Gaps are skipped: they
  are left out of every mean, SD, percentage and count; a path step is only counted between two
  consecutive valid samples (the path across a gap is unknown, so it is neither guessed nor
  interpolated), and mean velocity divides by the time those counted steps span. Gaps still take
  time: times (to first edge touch, to reach) are measured from sample 0 of the whole trace, and
  ``duration_s`` counts them. Percentages are of the *valid* samples. ±inf is not a gap but corrupt
  input, and raises ``ValueError``; so do empty input, an all-NaN trace and mismatched lengths.
* **Thresholds.** Before a tilt or distance is compared with a band edge, radius or edge angle it is
  rounded to 1e-9°, so that a value meant to sit exactly on a boundary (15° after the
  degree→radian→degree round trip is 14.999999999999998°) lands on the documented side of it.
* **Output.** Plain ``float`` / ``int`` / ``dict`` / ``None`` only (``json.dumps`` works with
  ``allow_nan=False``); ``None`` where a value is undefined (no edge touch, too few samples).

:func:`compute` bundles the session metrics; the single metrics are public functions too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Real
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np

from wobble_trainer.tilt.board_angles import (
    BoardAnglesArray,
    angles_from_up_array,
    up_from_pitch_roll,
)
from wobble_trainer.units import DEG

ArrayLike: TypeAlias = Sequence[float] | np.ndarray

CHI2_95_2DOF = -2.0 * math.log(0.05)
"""5.991464547…: the 95% quantile of χ² with 2 degrees of freedom (the "5.991" of the ellipse)."""

METRICS_VERSION = "metrics-1"
"""Bumped whenever a change alters a number :func:`compute` gives: stored metrics carry the
analysis version (:data:`wobble_trainer.analysis.ANALYSIS_VERSION`) that includes it."""


def prediction_ellipse_factor(n: int, p: float = 0.95) -> float:
    """The exact factor of the ``p`` prediction ellipse of ``n`` bivariate normal samples,
    ``2(n−1)(n+1)/(n(n−2)) · F_p(2, n−2)`` (Schubert & Kirchner 2014), which χ² approximates.

    F(2, m) has the closed-form quantile ``m/2 · ((1−p)^(−2/m) − 1)`` (its survival function is
    ``(1 + 2x/m)^(−m/2)``), so no statistics library is needed. Kept to state, and test, how far
    the χ² form of :func:`ellipse95_area` is from it at a given ``n``.
    """
    if n < 3:
        raise ValueError("the prediction ellipse needs at least 3 samples")
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    m = n - 2
    f = m / 2.0 * ((1.0 - p) ** (-2.0 / m) - 1.0)
    return 2.0 * (n - 1) * (n + 1) / (n * (n - 2)) * f


ZONE_UPPER_DEG = (5.0, 10.0, 15.0, 20.0)
"""Upper limits of the tilt bands (Biodex zones A-D, Arnold & Schmitz 1998)."""
ZONE_KEYS = ("0-5", "5-10", "10-15", "15-20", ">20")
QUADRANT_KEYS = ("front-left", "front-right", "back-left", "back-right")

DEFAULT_EDGE_MARGIN_DEG = 1.0
"""An edge touch starts at ``edge − margin``: calibration of the edge angle and floor give are
not exact, and a touch that the IMU sees 0.5° short of the measured edge is still a touch."""
DEFAULT_EDGE_HYSTERESIS_DEG = 1.0
"""A touch ends only below ``edge − margin − hysteresis``, so sensor noise (~0.1°) and a board
rocking on its rim count once, not at every crossing."""

_SNAP_DECIMALS = 9


@runtime_checkable
class EdgeAnglesLike(Protocol):
    """Anything with per-direction edge angles, like ``wobble_trainer.tilt.calibration.EdgeAngles``:
    ``toward(direction_rad)`` returns the edge angle (rad) toward a tilt direction given as the
    board_angles azimuth of the low side (rad)."""

    def toward(self, direction_rad: float) -> float: ...


EdgeSpec: TypeAlias = float | ArrayLike | EdgeAnglesLike
"""An edge angle: scalar degrees, per-sample degrees (length N), or an :class:`EdgeAnglesLike`
(whose ``toward`` works in radians, as EdgeAngles does)."""


# --- input handling -------------------------------------------------------------------------------


_UP_BLOCK = 65_536
"""Samples turned into Python numbers at a time (up vectors, the edge state machine)."""


@dataclass
class _Trace:
    """A validated trace: full-length arrays (gaps kept as NaN so indices are times)."""

    pitch: np.ndarray
    roll: np.ndarray
    valid: np.ndarray

    @property
    def n(self) -> int:
        return int(self.pitch.size)

    @property
    def n_valid(self) -> int:
        return int(np.count_nonzero(self.valid))

    @property
    def x(self) -> np.ndarray:
        """Medio-lateral (roll) angles of the valid samples, degrees."""
        return self.roll[self.valid]

    @property
    def y(self) -> np.ndarray:
        """Antero-posterior (pitch) angles of the valid samples, degrees."""
        return self.pitch[self.valid]

    @cached_property
    def up(self) -> np.ndarray:
        """(N, 3) unit up vectors in the board frame; NaN rows at gaps."""
        up = np.full((self.n, 3), np.nan)
        valid = np.flatnonzero(self.valid)
        # board_angles offers only a scalar up_from_pitch_roll; a list comprehension over it costs
        # < 1 µs a sample, and keeps the convention in its one place. In blocks, so the Python
        # floats and tuples of a long recording never all exist at once (bench memory).
        for start in range(0, valid.size, _UP_BLOCK):
            idx = valid[start : start + _UP_BLOCK]
            p = (self.pitch[idx] * DEG).tolist()
            r = (self.roll[idx] * DEG).tolist()
            up[idx] = [up_from_pitch_roll(a, b) for a, b in zip(p, r, strict=True)]
        return up

    @cached_property
    def angles(self) -> BoardAnglesArray:
        return angles_from_up_array(self.up)

    @cached_property
    def tilt_deg(self) -> np.ndarray:
        """(N,) tilt magnitude in degrees, NaN at gaps."""
        return self.angles.tilt_deg


def _prepare(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> _Trace:
    p = np.asarray(pitch_deg, dtype=float)
    r = np.asarray(roll_deg, dtype=float)
    if p.ndim != 1 or r.ndim != 1:
        raise ValueError(
            f"pitch_deg and roll_deg must be 1-D sequences, got shapes {p.shape} and {r.shape}"
        )
    if p.size != r.size:
        raise ValueError(
            f"pitch_deg has {p.size} samples but roll_deg has {r.size}: they must pair up"
        )
    if p.size == 0:
        raise ValueError("no samples: pitch_deg and roll_deg are empty")
    if np.isinf(p).any() or np.isinf(r).any():
        raise ValueError("pitch_deg/roll_deg contain ±inf: corrupt input (use NaN for a gap)")
    valid = ~(np.isnan(p) | np.isnan(r))
    if not valid.any():
        raise ValueError(f"all {p.size} samples are NaN: nothing to measure")
    return _Trace(p, r, valid)


def _check_rate(rate_hz: float) -> float:
    rate = float(rate_hz)
    if not (math.isfinite(rate) and rate > 0.0):
        raise ValueError(f"rate_hz must be a positive finite number, got {rate_hz!r}")
    return rate


def _snap(values: np.ndarray) -> np.ndarray:
    return np.round(values, _SNAP_DECIMALS)


def _point(value: Sequence[float], name: str) -> tuple[float, float]:
    """A (pitch_deg, roll_deg) pair, checked."""
    if len(value) != 2:
        raise ValueError(f"{name} must be (pitch_deg, roll_deg), got {value!r}")
    p, r = float(value[0]), float(value[1])
    if not (math.isfinite(p) and math.isfinite(r)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return p, r


def _angle_to_deg(up: np.ndarray, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Angle (deg) between each up vector and the up vector of the board at (pitch, roll): the
    tilt *relative to* that orientation (equals the tilt magnitude when the point is level)."""
    c = np.array(up_from_pitch_roll(pitch_deg * DEG, roll_deg * DEG))
    # atan2(|u×c|, u·c) stays accurate for small angles, where acos(u·c) loses digits.
    return np.arctan2(np.linalg.norm(np.cross(up, c), axis=-1), up @ c) / DEG


# --- stability indices and spread ---------------------------------------------------------------


def _stability(tr: _Trace) -> dict[str, float]:
    x, y = tr.x, tr.y
    n = x.size
    return {
        "osi": math.sqrt(float(np.sum(x * x + y * y)) / n),
        "apsi": math.sqrt(float(np.sum(y * y)) / n),
        "mlsi": math.sqrt(float(np.sum(x * x)) / n),
    }


def stability_indices(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> dict[str, float]:
    """Overall, antero-posterior and medio-lateral stability indices about level, degrees.

    Arnold & Schmitz 1998 (J Athl Train 33(4):323-327), the Biodex Balance System indices::

        OSI  = sqrt(Σ(x² + y²) / N)
        APSI = sqrt(Σ y² / N)
        MLSI = sqrt(Σ x² / N)

    with x = roll (ML), y = pitch (AP) and N the number of valid samples. They are RMS distances
    from *level* (0, 0), not from the mean: a person holding a steady 5° lean scores 5, so read them
    beside :func:`sway_sd`. Note OSI² = APSI² + MLSI².
    """
    return _stability(_prepare(pitch_deg, roll_deg))


def _sd(tr: _Trace) -> dict[str, float]:
    dx = tr.x - tr.x.mean()
    dy = tr.y - tr.y.mean()
    n = dx.size
    ap = float(np.sum(dy * dy)) / n
    ml = float(np.sum(dx * dx)) / n
    return {"ap": math.sqrt(ap), "ml": math.sqrt(ml), "combined": math.sqrt(ap + ml)}


def sway_sd(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> dict[str, float]:
    """Standard deviation about the mean (the "RMS about the mean" of DOMAIN.md §5), degrees.

    Population normalisation (divide by N, the number of valid samples), the same form as the
    stability indices so that the two differ only by the reference point::

        ap       = sqrt(Σ(y − ȳ)² / N)
        ml       = sqrt(Σ(x − x̄)² / N)
        combined = sqrt(Σ((x − x̄)² + (y − ȳ)²) / N) = sqrt(ap² + ml²)

    Identity used by the tests: APSI² = ap² + ȳ² (likewise for ML and OSI).
    """
    return _sd(_prepare(pitch_deg, roll_deg))


# --- path, velocity, ellipse ----------------------------------------------------------------------


def _path(tr: _Trace) -> tuple[float, int]:
    """(path length in degrees, number of steps counted)."""
    ok = tr.valid[:-1] & tr.valid[1:]
    dx = np.diff(tr.roll)[ok]
    dy = np.diff(tr.pitch)[ok]
    return float(np.sum(np.hypot(dx, dy))), int(np.count_nonzero(ok))


def path_length(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> float:
    """Path length ``Σ |p_{i+1} − p_i|`` of the (roll, pitch) trace, degrees.

    Euclidean step lengths in the (x, y) = (roll, pitch) plane, summed over steps whose two ends are
    both valid (a step into or out of a gap is skipped, not bridged). A circle of radius r sampled
    at n points per turn gives ``n·2r·sin(π/n)`` per turn, → 2πr as n grows.
    """
    return _path(_prepare(pitch_deg, roll_deg))[0]


def _velocity(tr: _Trace, rate: float) -> float | None:
    length, steps = _path(tr)
    if steps == 0:
        return None
    return length / (steps / rate)


def mean_velocity(pitch_deg: ArrayLike, roll_deg: ArrayLike, rate_hz: float) -> float | None:
    """Mean sway velocity = path length / duration, deg/s.

    The duration is the time spanned by the steps counted in :func:`path_length` (steps/rate_hz):
    for an unbroken trace that is ``(N − 1) / rate_hz``, the time from first to last sample, so a
    constant-speed motion returns its speed exactly; time lost in gaps is left out of both the
    numerator and the denominator. ``None`` when no step can be counted (a single valid sample).
    """
    return _velocity(_prepare(pitch_deg, roll_deg), _check_rate(rate_hz))


def _ellipse(tr: _Trace) -> float | None:
    if tr.n_valid < 2:
        return None
    cov = np.cov(np.vstack((tr.x, tr.y)), ddof=1)
    lam = np.clip(np.linalg.eigvalsh(cov), 0.0, None)  # rounding can give -1e-17
    return float(math.pi * CHI2_95_2DOF * math.sqrt(float(lam[0] * lam[1])))


def ellipse95_area(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> float | None:
    """Area of the 95% *prediction* ellipse of the (roll, pitch) scatter, deg².

    Schubert & Kirchner 2014 (Gait Posture 39(1):518-522) recommend the prediction ellipse (the
    region expected to hold 95% of the samples) over the confidence ellipse of the mean, whose area
    shrinks with N and so says nothing about sway::

        area = π · χ²₂(0.95) · sqrt(λ1 · λ2),   χ²₂(0.95) = −2·ln 0.05 = 5.991

    λ1, λ2 are the eigenvalues of the 2×2 sample covariance of (x, y) with the unbiased
    normalisation **1/(N − 1)** (``numpy.cov`` default, as in the MATLAB code published with that
    paper; N = valid samples). Using χ² instead of the exact prediction factor
    ``2(N−1)(N+1)/(N(N−2)) · F₀.₉₅(2, N−2)`` is the large-N form: χ² is 1.66% below it at N = 300,
    1.00% at N = 500 and 0.25% at N = 2000, so within 1% only from about N = 500 on (computed
    with the closed form ``F₀.₉₅(2, m) = m/2 · (0.05^(−2/m) − 1)``; DOMAIN.md §9). A 20 s trial at
    100 Hz has 2000 samples. ``None`` below 2 valid samples.
    Circle of radius r, whole turns of n samples: covariance = r²/2·n/(n − 1) · I.
    """
    return _ellipse(_prepare(pitch_deg, roll_deg))


# --- zones and quadrants --------------------------------------------------------------------------


def _zones(tr: _Trace, rate: float) -> tuple[dict[str, float], dict[str, float]]:
    tilt = _snap(tr.tilt_deg[tr.valid])
    # side="left": a value equal to an upper limit stays in the lower band ((lo, hi] bands).
    band = np.searchsorted(np.asarray(ZONE_UPPER_DEG), tilt, side="left")
    counts = np.bincount(band, minlength=len(ZONE_KEYS))
    pct = {k: 100.0 * int(c) / tr.n_valid for k, c in zip(ZONE_KEYS, counts, strict=True)}
    sec = {k: int(c) / rate for k, c in zip(ZONE_KEYS, counts, strict=True)}
    return pct, sec


def zone_percentages(
    pitch_deg: ArrayLike, roll_deg: ArrayLike, rate_hz: float
) -> dict[str, dict[str, float]]:
    """Share of time in bands of tilt magnitude (Biodex zones; Arnold & Schmitz 1998).

    Bands of the tilt magnitude (angle of the board normal from vertical, via board_angles):
    ``"0-5"`` = [0, 5]°, ``"5-10"`` = (5, 10]°, ``"10-15"`` = (10, 15]°, ``"15-20"`` = (15, 20]°
    and ``">20"`` = above 20°: a board that can tilt past 20° still accounts for every sample, so
    the five percentages sum to 100 (of the valid samples). Returns ``{"pct": {...}, "s": {...}}``.
    """
    pct, sec = _zones(_prepare(pitch_deg, roll_deg), _check_rate(rate_hz))
    return {"pct": pct, "s": sec}


def _quadrants(tr: _Trace) -> dict[str, float]:
    d = tr.angles.direction[tr.valid]
    level = tr.angles.tilt[tr.valid] == 0.0
    a = np.abs(d)
    # Weight of "front" and of "right" for each sample; a sample exactly on a dividing line (pure
    # forward/back or pure left/right tilt) is shared half-and-half between its two neighbours,
    # and an exactly level sample a quarter to each, so no quadrant is favoured by a tie rule.
    front = np.where(a < math.pi / 2, 1.0, np.where(a == math.pi / 2, 0.5, 0.0))
    on_ml_line = (d == 0.0) | (a == math.pi)
    right = np.where((d > 0.0) & (a < math.pi), 1.0, np.where(on_ml_line, 0.5, 0.0))
    front = np.where(level, 0.5, front)
    right = np.where(level, 0.5, right)
    n = tr.n_valid
    return {
        "front-left": 100.0 * float(np.sum(front * (1.0 - right))) / n,
        "front-right": 100.0 * float(np.sum(front * right)) / n,
        "back-left": 100.0 * float(np.sum((1.0 - front) * (1.0 - right))) / n,
        "back-right": 100.0 * float(np.sum((1.0 - front) * right)) / n,
    }


def quadrant_percentages(pitch_deg: ArrayLike, roll_deg: ArrayLike) -> dict[str, float]:
    """Percentage of (valid) samples with the board's low side in each quadrant.

    The quadrant is read from the board_angles tilt direction (azimuth of the low side, clockwise
    from above: 0 front/toes, +90° right, ±180° back, −90° left), i.e. from the signs of pitch and
    roll: front = pitch > 0 (toes down), right = roll > 0 (right edge down). Boundary convention:
    a sample exactly on a dividing line (direction 0°, ±90° or ±180°) counts half to each of the two
    quadrants it separates; an exactly level sample counts a quarter to each. Keys
    ``front-left``, ``front-right``, ``back-left``, ``back-right``; they sum to 100.
    """
    return _quadrants(_prepare(pitch_deg, roll_deg))


# --- edge touches ---------------------------------------------------------------------------------


def _edge_per_sample(tr: _Trace, edge_deg: EdgeSpec) -> np.ndarray:
    """(N,) edge angle in degrees for every sample (NaN at gaps)."""
    if isinstance(edge_deg, EdgeAnglesLike):
        edge = np.full(tr.n, np.nan)
        idx = np.flatnonzero(tr.valid)
        dirs = tr.angles.direction[idx].tolist()
        edge[idx] = [float(edge_deg.toward(d)) / DEG for d in dirs]
    elif isinstance(edge_deg, Real) or np.ndim(edge_deg) == 0:
        edge = np.full(tr.n, float(edge_deg))
    else:
        edge = np.asarray(edge_deg, dtype=float)
        if edge.shape != (tr.n,):
            raise ValueError(
                f"per-sample edge_deg must have one value per sample ({tr.n}), got {edge.shape}"
            )
    e = edge[tr.valid]
    if not (np.all(np.isfinite(e)) and np.all(e > 0.0) and np.all(e < 90.0)):
        raise ValueError("edge angles must be finite and between 0 and 90 degrees")
    return np.where(tr.valid, edge, np.nan)


def _edges(
    tr: _Trace, rate: float, edge_deg: EdgeSpec, margin_deg: float, hysteresis_deg: float
) -> dict[str, Any]:
    if not (math.isfinite(margin_deg) and margin_deg >= 0.0):
        raise ValueError(f"edge margin must be ≥ 0 degrees, got {margin_deg!r}")
    if not (math.isfinite(hysteresis_deg) and hysteresis_deg >= 0.0):
        raise ValueError(f"edge hysteresis must be ≥ 0 degrees, got {hysteresis_deg!r}")
    enter = _edge_per_sample(tr, edge_deg) - margin_deg
    if np.any(enter[tr.valid] <= 0.0):
        raise ValueError("edge margin must be smaller than the edge angle")
    leave = _snap(enter - hysteresis_deg)
    enter = _snap(enter)
    tilt = _snap(tr.tilt_deg)
    on = False
    touches = 0
    first: int | None = None
    on_samples = 0
    valid = np.flatnonzero(tr.valid)
    # A two-state machine over the valid samples only: a gap neither starts nor ends a touch.
    # In blocks, so a long recording's samples are never all Python objects at once.
    for start in range(0, valid.size, _UP_BLOCK):
        idx = valid[start : start + _UP_BLOCK]
        for i, t, hi, lo in zip(
            idx.tolist(), tilt[idx].tolist(), enter[idx].tolist(), leave[idx].tolist(), strict=True
        ):
            if on:
                on = t >= lo
            elif t >= hi:
                on = True
                touches += 1
                if first is None:
                    first = i
            on_samples += on
    return {
        "edge_touches": touches,
        "edge_time_s": on_samples / rate,
        "edge_time_pct": 100.0 * on_samples / tr.n_valid,
        "time_to_first_touch_s": None if first is None else first / rate,
    }


def edge_touches(
    pitch_deg: ArrayLike,
    roll_deg: ArrayLike,
    rate_hz: float,
    edge_deg: EdgeSpec,
    *,
    margin_deg: float = DEFAULT_EDGE_MARGIN_DEG,
    hysteresis_deg: float = DEFAULT_EDGE_HYSTERESIS_DEG,
) -> dict[str, Any]:
    """Edge (rim-to-floor) contacts, counted with hysteresis (DOMAIN.md §5; SMARTwobble 2014).

    ``edge_deg`` is a scalar (degrees, same in every direction), a sequence of one edge angle per
    sample (degrees), or an :class:`EdgeAnglesLike` such as calibration's ``EdgeAngles``, asked
    ``toward(direction)`` for each sample's tilt direction (radians in and out, its own units).

    A touch *starts* at the first valid sample with tilt magnitude ≥ ``edge − margin_deg`` and
    *lasts* until a sample drops below ``edge − margin_deg − hysteresis_deg``; chatter between the
    two levels is one touch. A trace that starts on the edge counts a touch at t = 0. Returns
    ``edge_touches`` (count of starts), ``edge_time_s`` / ``edge_time_pct`` (valid samples inside a
    touch, including its hysteresis tail, as seconds and % of valid samples) and
    ``time_to_first_touch_s`` (t of the first touch's first sample, ``None`` if none).
    """
    tr = _prepare(pitch_deg, roll_deg)
    return _edges(tr, _check_rate(rate_hz), edge_deg, float(margin_deg), float(hysteresis_deg))


# --- target ---------------------------------------------------------------------------------------


def _check_radius(radius_deg: float) -> float:
    radius = float(radius_deg)
    if not (math.isfinite(radius) and radius > 0.0):
        raise ValueError(f"target radius must be a positive number of degrees, got {radius_deg!r}")
    return radius


def _in_target(
    tr: _Trace, rate: float, centre: tuple[float, float], radius: float
) -> dict[str, float]:
    dist = _snap(_angle_to_deg(tr.up[tr.valid], *centre))
    inside = int(np.count_nonzero(dist <= radius))
    return {"seconds": inside / rate, "pct": 100.0 * inside / tr.n_valid}


def time_in_target(
    pitch_deg: ArrayLike,
    roll_deg: ArrayLike,
    rate_hz: float,
    radius_deg: float,
    centre_deg: Sequence[float] = (0.0, 0.0),
) -> dict[str, float]:
    """Time with the board within ``radius_deg`` of a target orientation (Fusco's "time in the
    central target").

    ``centre_deg`` is (pitch, roll) in degrees. Distance is the angle between the board normal and
    the target's board normal (both from board_angles' up vectors); for a level centre that is the
    tilt magnitude. A sample is inside when distance ≤ radius. Returns ``seconds`` (inside samples /
    rate_hz) and ``pct`` (% of valid samples).
    """
    tr = _prepare(pitch_deg, roll_deg)
    return _in_target(
        tr, _check_rate(rate_hz), _point(centre_deg, "centre_deg"), _check_radius(radius_deg)
    )


# --- limb symmetry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymmetrySides:
    """Which leg a limb symmetry index compares with which, and why."""

    involved: str
    """"left" or "right": the injured leg (or, with no single injured side, the non-dominant)."""
    reference: str
    """The other leg."""
    basis: str
    """"injured" or "dominance"."""

    @property
    def title(self) -> str:
        """E.g. "injured left / right" or "non-dominant left / dominant right"."""
        if self.basis == "injured":
            return f"injured {self.involved} / {self.reference}"
        return f"non-dominant {self.involved} / dominant {self.reference}"

    def as_dict(self) -> dict[str, str]:
        return {"involved": self.involved, "reference": self.reference, "basis": self.basis}


def symmetry_sides(injured_side: str | None, dominant_leg: str | None) -> SymmetrySides | None:
    """The legs a limb symmetry index compares, from a profile: the injured leg against the
    other; with no single injured side ("none", "both", unknown) the non-dominant leg against
    the dominant one (the usual screening comparison); None when neither is known."""
    legs = ("left", "right")
    if injured_side in legs:
        return SymmetrySides(injured_side, legs[1 - legs.index(injured_side)], "injured")
    if dominant_leg in legs:
        return SymmetrySides(legs[1 - legs.index(dominant_leg)], dominant_leg, "dominance")
    return None


def limb_symmetry_index(
    involved: float, reference: float, higher_is_better: bool = True
) -> float | None:
    """Limb symmetry index of the involved (injured) leg against the other, % (DOMAIN.md §5).

    ``involved / reference × 100`` where a higher value is better (seconds held, range of
    motion), ``reference / involved × 100`` where lower is better (sway): below 100 the involved
    leg does worse, above 100 better, whichever leg happens to score lower — unlike min/max,
    which cannot tell a deficit of the injured leg from one of the healthy leg. Values must be
    finite and ≥ 0; ``None`` when the divisor is 0 (undefined).
    """
    a, b = float(involved), float(reference)
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0.0 or b < 0.0:
        raise ValueError(f"limb values must be finite and ≥ 0, got {involved!r} and {reference!r}")
    top, bottom = (a, b) if higher_is_better else (b, a)
    if bottom == 0.0:
        return None
    return 100.0 * top / bottom


# --- limits of stability --------------------------------------------------------------------------


def limits_of_stability_reach(
    pitch_deg: ArrayLike,
    roll_deg: ArrayLike,
    rate_hz: float,
    target_deg: Sequence[float],
    target_radius_deg: float,
    start_deg: Sequence[float] | None = None,
) -> dict[str, Any]:
    """One limits-of-stability reach: direction control (%) and time to reach the target.

    Biodex's LOS report (Balance System SD manual, as quoted in the project's issue; the manual's
    own text was not re-read here) and NeuroCom's "directional control" both define::

        direction control = (movement toward the target − extraneous movement)
                            / movement toward the target × 100

    Neither publishes the decomposition, so this one is ours: with ``e`` the unit vector from the
    start point to the target in the (x, y) = (roll, pitch) plane, every path step ``d`` (between
    consecutive valid samples, as in :func:`path_length`) splits into ``a = d·e`` along the line and
    ``|d × e|`` across it. Toward = Σ max(a, 0); extraneous = Σ max(−a, 0) + Σ |d × e|, i.e.
    everything that is not progress toward the target (sideways wander and backing off). A
    straight, monotonic reach scores 100; a path with as much wander as progress scores 0; the score
    is not clipped and can go negative. Steps are counted from sample 0 up to the first sample
    inside the target (or to the end when it is never reached).

    Excursion (NeuroCom's and Biodex's "maximum excursion"): the farthest the board got along
    the start→target line over the whole trial (not only until reached), as ``max_excursion_deg``
    and as ``excursion_pct`` of the start-to-target distance (100 = to the target's centre,
    more = beyond it).

    ``target_deg`` and ``start_deg`` are (pitch, roll) degrees; the start defaults to the first
    valid sample. Reached = first valid sample within ``target_radius_deg`` of the target, by the
    same angular distance as :func:`time_in_target`; ``time_to_reach_s`` is its time from sample 0
    (``None`` when never reached). ``direction_control_pct`` is ``None`` when there was no movement
    toward the target at all.
    """
    tr = _prepare(pitch_deg, roll_deg)
    rate = _check_rate(rate_hz)
    radius = _check_radius(target_radius_deg)
    t_pitch, t_roll = _point(target_deg, "target_deg")
    if start_deg is None:
        first = int(np.flatnonzero(tr.valid)[0])
        s_pitch, s_roll = float(tr.pitch[first]), float(tr.roll[first])
    else:
        s_pitch, s_roll = _point(start_deg, "start_deg")
    line = np.array([t_roll - s_roll, t_pitch - s_pitch])
    length = float(np.hypot(*line))
    if length == 0.0:
        raise ValueError("the target coincides with the start point: no direction to control")
    e = line / length

    dist = _snap(_angle_to_deg(tr.up, t_pitch, t_roll))
    hits = np.flatnonzero(tr.valid & (dist <= radius))
    reached = int(hits[0]) if hits.size else None
    end = reached if reached is not None else tr.n - 1

    ok = (tr.valid[:-1] & tr.valid[1:])[:end]
    dx = np.diff(tr.roll)[:end][ok]
    dy = np.diff(tr.pitch)[:end][ok]
    along = dx * e[0] + dy * e[1]
    across = np.abs(dx * e[1] - dy * e[0])
    toward = float(np.sum(np.clip(along, 0.0, None)))
    extraneous = float(np.sum(np.clip(-along, 0.0, None)) + np.sum(across))
    reach_along = (tr.roll[tr.valid] - s_roll) * e[0] + (tr.pitch[tr.valid] - s_pitch) * e[1]
    excursion = max(0.0, float(np.max(reach_along)))
    return {
        "direction_control_pct": (
            None if toward == 0.0 else 100.0 * (toward - extraneous) / toward
        ),
        "time_to_reach_s": None if reached is None else reached / rate,
        "reached": reached is not None,
        "toward_deg": toward,
        "extraneous_deg": extraneous,
        "max_excursion_deg": excursion,
        "excursion_pct": 100.0 * excursion / length,
    }


# --- everything at once ---------------------------------------------------------------------------


def compute(
    pitch_deg: ArrayLike,
    roll_deg: ArrayLike,
    rate_hz: float,
    edge_deg: EdgeSpec,
    *,
    edge_margin_deg: float = DEFAULT_EDGE_MARGIN_DEG,
    edge_hysteresis_deg: float = DEFAULT_EDGE_HYSTERESIS_DEG,
    target_radius_deg: float | None = None,
    target_centre_deg: Sequence[float] = (0.0, 0.0),
) -> dict[str, Any]:
    """All session metrics of one trace, as a JSON-serialisable dict.

    Arguments as in the single-metric functions of this module (degrees, Hz; NaN samples are gaps,
    see the module docstring). Keys:

    * ``n_samples`` (all, gaps included), ``n_valid``, ``n_gaps``, ``rate_hz``,
      ``duration_s`` = n_samples / rate_hz, ``valid_duration_s`` = n_valid / rate_hz;
    * ``osi``, ``apsi``, ``mlsi`` (:func:`stability_indices`), ``sd`` = {ap, ml, combined}
      (:func:`sway_sd`), ``mean_deg`` = {ap, ml} (mean pitch and roll);
    * ``path_length_deg``, ``mean_velocity_deg_s`` (:func:`mean_velocity`, None with < 2 samples),
      ``ellipse95_area_deg2`` (:func:`ellipse95_area`);
    * ``mean_tilt_deg``, ``max_tilt_deg`` (tilt magnitude);
    * ``zone_pct`` / ``zone_s`` = {"0-5", "5-10", "10-15", "15-20", ">20"}
      (:func:`zone_percentages`), ``quadrant_pct`` (:func:`quadrant_percentages`);
    * ``edge_touches``, ``edge_time_s``, ``edge_time_pct``, ``time_to_first_touch_s`` (None when
      no touch) and ``edge_margin_deg``, ``edge_hysteresis_deg`` (:func:`edge_touches`);
    * ``time_in_target`` = {seconds, pct, radius_deg, centre_deg} when ``target_radius_deg`` is
      given, else None (:func:`time_in_target`).
    """
    tr = _prepare(pitch_deg, roll_deg)
    rate = _check_rate(rate_hz)
    zone_pct, zone_s = _zones(tr, rate)
    tilt = tr.tilt_deg[tr.valid]
    result: dict[str, Any] = {
        "n_samples": tr.n,
        "n_valid": tr.n_valid,
        "n_gaps": tr.n - tr.n_valid,
        "rate_hz": rate,
        "duration_s": tr.n / rate,
        "valid_duration_s": tr.n_valid / rate,
        **_stability(tr),
        "sd": _sd(tr),
        "mean_deg": {"ap": float(tr.y.mean()), "ml": float(tr.x.mean())},
        "path_length_deg": _path(tr)[0],
        "mean_velocity_deg_s": _velocity(tr, rate),
        "ellipse95_area_deg2": _ellipse(tr),
        "mean_tilt_deg": float(tilt.mean()),
        "max_tilt_deg": float(tilt.max()),
        "zone_pct": zone_pct,
        "zone_s": zone_s,
        "quadrant_pct": _quadrants(tr),
        **_edges(tr, rate, edge_deg, float(edge_margin_deg), float(edge_hysteresis_deg)),
        "edge_margin_deg": float(edge_margin_deg),
        "edge_hysteresis_deg": float(edge_hysteresis_deg),
        "time_in_target": None,
    }
    if target_radius_deg is not None:
        radius = _check_radius(target_radius_deg)
        centre = _point(target_centre_deg, "target_centre_deg")
        result["time_in_target"] = {
            **_in_target(tr, rate, centre, radius),
            "radius_deg": radius,
            "centre_deg": {"pitch": centre[0], "roll": centre[1]},
        }
    return result
