"""6-axis inclination estimator (accelerometer + gyroscope), quaternion state, gyro-bias estimation.

What it does
------------
Estimates the sensor→earth orientation quaternion (w, x, y, z), earth z up, heading arbitrary
(it drifts slowly: nothing observes it), from accelerometer (m/s², specific force) and gyroscope
(rad/s) samples. Only the inclination (the "up" direction in the sensor frame) is meant to be used.

How (the technique of VQF: Laidig & Seel 2023, "VQF: Highly accurate IMU orientation estimation
with bias estimation and magnetic disturbance rejection", Information Fusion 91:187-204, 6D part;
implemented here from the paper's equations):

* Strapdown integration of the bias-corrected gyroscope gives ``q_gyr`` (sensor → an "almost
  inertial" frame I). It is exact for any orientation: no Euler angles anywhere.
* The accelerometer is rotated into I and low-pass filtered there (2nd-order Butterworth, time
  constant τ). In an inertial frame every non-gravity acceleration integrates to a
  velocity change, so over a few seconds its mean is ~zero, whereas gravity is constant: the
  filter keeps gravity and drops bumps, steps and shaking *without attenuating the tilt itself*
  (the tilt lives in ``q_gyr``, not in the filtered signal). This is why it beats a complementary
  filter on a wobble board, where the sway frequency (0.3-2 Hz) is where the accelerometer is
  most corrupted by the board's own motion (DOMAIN.md §2).
* Our additions to VQF: τ adapts to the motion, τ ∝ √(σ_a/ω̄) within [2 s, 4 s] (see
  :class:`TiltParams`): long while the sensor translates or shakes without rotating much (a
  wobble board), shorter during fast rotation, where gyro scale errors dominate; a two-sample
  coning correction in the gyro integration; a rest test on the gravity direction in the sensor
  frame, so that a person swaying slowly on the board is not mistaken for rest whatever the bias
  error; a short time constant at rest; a bias band around the calibration's seed.
* A correction quaternion ``q_acc`` (I → earth) rotates the filtered gravity direction exactly
  onto earth z each step. Output ``q = q_acc ⊗ q_gyr``.
* Two rates (ours, for speed in plain Python): every sample integrates the gyroscope and adds
  the accelerometer, rotated by the current output into the earth frame, to a block sum. Once
  per block (``correction_rate_hz``, 30 Hz by default) the slow part runs on the block means:
  rest detection, the gravity low-pass, the inclination correction and the bias filter. The
  accelerometer mean is taken back into I with ``q_acc⁻¹`` (constant over a block), so it is
  exactly the mean of the samples rotated into I: averaging, not decimating, so nothing
  aliases; the low-passes cut off below 0.5 Hz, so a block of ≤ 33 ms changes nothing
  measurable. The output is integrated directly (``q ← q ⊗ Δq_gyr`` every sample,
  ``q ← Δq_acc ⊗ q`` at a correction), so it is fresh at every sample.
* Gyro bias: a 3-state Kalman filter. At rest (low gyro and accelerometer deviation from their
  own low-pass for ``rest_min_time_s``) the low-pass gyro reading measures the bias directly. In
  motion, the inclination correction rate, expressed back through the (low-pass filtered)
  rotation matrix, measures the horizontal earth-frame components of the bias; the vertical one
  is made almost unobservable on purpose (it would only feed heading).

All filter coefficients are computed once from the sample rate: ``update`` does plain ``math``
float arithmetic (numpy small-array operations would cost far more per sample), with the
filters unrolled and the state in locals where it is hot.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wobble_trainer.units import DEG

__all__ = ["ESTIMATOR_VERSION", "TiltParams", "TiltEstimator", "estimate_orientation"]

ESTIMATOR_VERSION = "tilt-3"
"""Identity of the algorithm: bumped by every change that alters any output of
:class:`TiltEstimator` for the same parameters and samples. A saved :meth:`TiltEstimator.get_state`
restores only into the same version, because only then does it reproduce the angles bit for bit."""

_INV_DEG = 1.0 / DEG


@dataclass(frozen=True)
class TiltParams:
    """Tuning of :class:`TiltEstimator`; independent of the sample rate.

    One parameter set serves every use (the BROAD benchmark, the wobble board at 100-1000 Hz).
    Most bias and rest-detection values are VQF's published defaults; the adaptive time
    constant, the rest-time constant, the gravity-direction rest test, the bias band and the
    faster bias forgetting are ours (they let a stale calibration's bias error of several °/s be
    learnt). With ``adaptive_tau=False, coning_correction=False, skip_alignment_in_bias=False``,
    the rest tilt test opened (``rest_tilt_change_deg`` = 180), VQF's bias values
    (``bias_band_dps=2, bias_sigma_init_dps=0.5, bias_forgetting_time_s=100``, rest gyro
    threshold 2 °/s) and ``correction_rate_hz`` at the sample rate, this is VQF's 6D algorithm
    (the tests check it against the ``vqf`` package).
    """

    tau_acc_s: float = 3.0
    """Time constant of the accelerometer low-pass in the almost-inertial frame when
    ``adaptive_tau`` is off (VQF's default), and the length of the filters' warm-up. Longer: more
    rejection of non-gravity acceleration, slower removal of gyro integration errors."""
    adaptive_tau: bool = True
    """Adapt that time constant to the motion (see ``tau_gain``); off: VQF's fixed
    ``tau_acc_s``."""
    tau_gain: float = 20.0
    """Adaptive time constant τ = tau_gain·√(σ_a/ω̄), clipped to [tau_min_s, tau_max_s], with σ_a
    the RMS non-gravity acceleration (m/s²) and ω̄ the mean rotation rate (°/s, at least
    ``tau_rate_floor_dps``), both over ``tau_window_s``. Why this form: gyro integration errors
    (scale, misalignment) grow ∝ ω·τ while the residual of a velocity-bounded acceleration after
    averaging over τ falls ∝ σ_a/τ; the sum is smallest at τ ∝ √(σ_a/ω). Units s·√((°/s)/(m/s²))."""
    tau_min_s: float = 2.0
    """Shortest adaptive time constant (fast rotation with little acceleration, and rest)."""
    tau_max_s: float = 4.0
    """Longest adaptive time constant (translation or shaking with little rotation: the board)."""
    tau_rest_s: float = 0.5
    """Adaptive time constant while at rest. The accelerometer then reads gravity alone, so a
    short filter costs nothing but a little noise, and it lets the inclination catch up within
    seconds when rest has just corrected a large gyro-bias error (a stale calibration: the tilt
    integrated degrees of drift before the rest was recognised)."""
    tau_window_s: float = 2.0
    """Averaging time of the σ_a and ω̄ estimates that drive the adaptation."""
    tau_rate_floor_dps: float = 5.0
    """ω̄ floor: below it the rate estimate is noise, not rotation."""
    coning_correction: bool = True
    """Second-order (two-sample) coning term in the gyro integration: the rotation vector of a
    step gets (Ts²/12)·ω_prev×ω, the error of assuming a fixed axis over the step."""
    correction_rate_hz: float = 20.0
    """Highest rate of the slow part (rest detection, gravity low-pass, inclination correction,
    gyro bias), Hz: it runs once per block of ``ceil(rate_hz / correction_rate_hz)`` samples, on
    the block's means, while the gyroscope is integrated every sample. Its filters have time
    constants of 0.5-4 s (cut-offs ≤ 0.5 Hz), so 20 Hz loses nothing measurable: on BROAD
    (285.7 Hz) 20, 25-100 Hz and every sample give mean errors within 0.003° of each other;
    and the per-sample cost is then mostly the gyro integration (20 rather than 30 Hz keeps a
    100 Hz IMU within 8× VQF's cost too)."""
    skip_alignment_in_bias: bool = True
    """Give the bias filter no measurement from the first inclination correction after a
    (re)start: it is the initial alignment (from the identity to the measured tilt), not a gyro
    drift. VQF uses it, clipped to ``bias_clip_dps``; in simulation that start-up outlier biased
    the estimate for about a minute. Nor motion measurements during the gravity filter's warm-up
    (its first ``tau_acc_s``), which is still the alignment: with a wide initial bias
    uncertainty they would set the bias to start-up transients."""
    motion_bias_estimation: bool = True
    """Estimate the gyro bias while moving (from the inclination corrections)."""
    rest_bias_estimation: bool = True
    """Estimate the gyro bias at rest (directly from the low-pass gyro reading)."""
    bias_sigma_init_dps: float = 5.0
    """Standard deviation of the initial bias estimate, °/s (a seed may give its own). Without
    a seed we know only that the bias is a few °/s (VQF's 0.5 °/s made the filter so sure of a
    zero bias that a real 5 °/s took minutes to learn in motion)."""
    bias_forgetting_time_s: float = 20.0
    """Time for the bias uncertainty to grow by 0.1 °/s: how fast the true bias may drift. An
    MPU-6050 drifts by 0.16 °/s per °C (PS-MPU-6000A §6.1) and warms by a few °C in its first
    minutes, so 0.1 °/s in 20 s (VQF: 100 s); this also keeps the motion bias update able to
    follow a bias error that rest has not corrected (it converges within a minute of
    balancing from 5 °/s)."""
    bias_clip_dps: float = 2.0
    """Largest single disagreement between a bias measurement and the estimate that is used,
    °/s (VQF's clip): a larger one counts as this large, so one outlier moves the estimate
    little, while a real bias error still gets learnt over several steps."""
    bias_band_dps: float = 10.0
    """Largest bias correction about the seeded bias, per axis, °/s. It must exceed how far the
    real bias may be from the seed: an MPU-6050's zero-rate output moves by several °/s with
    temperature and from one power-on to the next (PS-MPU-6000A §6.1: ±20 °/s over
    −40…+85 °C), so a weeks-old calibration is routinely 1-5 °/s off. A rest reading beyond the
    band is not taken for a bias (nothing real moves the zero-rate output that far)."""
    bias_sigma_motion_dps: float = 0.1
    """Steady-state uncertainty the motion bias update aims for, °/s."""
    bias_vertical_forgetting_factor: float = 1e-4
    """Relative weight of the (unobservable) earth-vertical bias component in motion."""
    bias_sigma_rest_dps: float = 0.03
    """Steady-state uncertainty the rest bias update aims for, °/s."""
    rest_min_time_s: float = 1.5
    """How long the deviations must stay below the thresholds before "at rest"."""
    rest_filter_tau_s: float = 0.5
    """Time constant of the low-pass the rest detector compares against."""
    rest_gyro_threshold_dps: float = 0.5
    """Largest gyro deviation from its low-pass at rest, °/s. VQF uses 2 °/s; a skilled person
    standing on two legs sways more slowly than that, and taking that sway for rest drove the
    gyro-bias estimate, and the tilt, 1-2.5° off on the simulator. A board truly at rest
    shows gyro noise of a few hundredths of °/s; 0.5 °/s keeps BROAD within its targets."""
    rest_acc_threshold_ms2: float = 0.5
    """Largest accelerometer deviation from its low-pass at rest, m/s² (sensor frame, as in
    VQF: the test must not depend on the bias estimate, which is what rest is there to
    measure)."""
    rest_tilt_change_deg: float = 0.15
    """Largest change of the (low-passed) gravity direction in the sensor frame since the start
    of a rest, degrees. Our addition to VQF's rest detector: a person balancing on a board can
    sway so smoothly that the deviation tests alone pass for a second or two, and the bias would
    jump to the sway rate (seen in simulation: 0.7 °/s, 2.7° of tilt error for a minute). A
    board at rest does not turn, so its gravity direction stays put to within the accelerometer
    noise (≈0.02° after the rest low-pass for an MPU-6050), whatever the gyro bias; sway turns
    it by the sway itself (tenths of a degree within a second). A rest that passes this test
    has a horizontal rotation rate below ≈ this angle / ``rest_min_time_s``, so the bias it
    measures is that close to the truth, for any bias error (an earlier gate on the distance
    from the current bias estimate also kept real rests out once the bias was far off)."""

    def __post_init__(self) -> None:
        for name in (
            "tau_acc_s",
            "rest_filter_tau_s",
            "bias_forgetting_time_s",
            "tau_min_s",
            "tau_rest_s",
            "tau_window_s",
            "tau_rate_floor_dps",
            "tau_gain",
            "correction_rate_hz",
        ):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"{name} must be > 0")
        for name in (
            "bias_sigma_init_dps",
            "bias_sigma_motion_dps",
            "bias_sigma_rest_dps",
            "bias_clip_dps",
            "rest_min_time_s",
            "rest_gyro_threshold_dps",
            "rest_acc_threshold_ms2",
            "bias_vertical_forgetting_factor",
            "rest_tilt_change_deg",
            "bias_band_dps",
        ):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be >= 0")
        if self.tau_max_s < self.tau_min_s:
            raise ValueError("tau_max_s must be >= tau_min_s")


def _butterworth2(tau_s: float, ts: float) -> tuple[float, float, float]:
    """(b0, a1, a2) of a 2nd-order Butterworth low-pass, bilinear transform, prewarped.

    The numerator is b0·(1, 2, 1). The cutoff is fc = √2 / (2π·tau): the convention VQF uses for
    its time constants, so the same tau means the same filter here and there.
    """
    fc = math.sqrt(2.0) / (2.0 * math.pi * tau_s)
    c = math.tan(math.pi * fc * ts)
    d = c * c + math.sqrt(2.0) * c + 1.0
    return c * c / d, 2.0 * (c * c - 1.0) / d, (1.0 - math.sqrt(2.0) * c + c * c) / d


class _LowPass:
    """k-channel 2nd-order Butterworth low-pass in direct form I, with a mean warm-up.

    Direct form I keeps the last two inputs and outputs, so the coefficients may change from one
    sample to the next (the adaptive time constant) without a jump in the output. For the first
    ``n_init`` samples the output is the running mean of the input, after which the history is
    set to that mean: starting a seconds-long filter from zero (or from one noisy sample) would
    otherwise take several seconds to settle. The history is four k-sequences (x[n-1], x[n-2],
    y[n-1], y[n-2]), shifted by reassignment: no per-channel bookkeeping.
    """

    __slots__ = ("n_init", "n", "sums", "x1", "x2", "y1", "y2")

    def __init__(self, k: int, warmup_s: float, ts: float) -> None:
        self.n_init = max(1, math.ceil(warmup_s / ts - 1e-9))
        self.n = 0
        self.sums = [0.0] * k
        zeros = [0.0] * k
        self.x1: Sequence[float] = zeros
        self.x2: Sequence[float] = zeros
        self.y1: Sequence[float] = zeros
        self.y2: Sequence[float] = zeros

    @property
    def warm(self) -> bool:
        """True once the warm-up is over and the history holds filter outputs."""
        return self.n >= self.n_init

    def step(self, x: Sequence[float], b0: float, a1: float, a2: float) -> list[float]:
        """Filter one k-vector with numerator b0·(1, 2, 1) and denominator (1, a1, a2)."""
        if self.n >= self.n_init:
            x1 = self.x1
            y1 = self.y1
            y = [
                b0 * (u + v + v + w) - a1 * p - a2 * r
                for u, v, w, p, r in zip(x, x1, self.x2, y1, self.y2, strict=True)
            ]
            self.x2 = x1
            self.x1 = x
            self.y2 = y1
            self.y1 = y
            return y
        self.n += 1
        sums = self.sums
        for i, xi in enumerate(x):
            sums[i] += xi
        mean = [v / self.n for v in sums]
        if self.n >= self.n_init:
            self.x1 = self.x2 = self.y1 = self.y2 = mean
        return mean


def _lp3(
    lp: _LowPass, b0: float, a1: float, a2: float, x0: float, x1: float, x2: float
) -> Sequence[float]:
    """``lp.step((x0, x1, x2), b0, a1, a2)`` unrolled (the slow part's hot path)."""
    x = (x0, x1, x2)
    if lp.n < lp.n_init:
        return lp.step(x, b0, a1, a2)
    u0, u1, u2 = lp.x1
    v0, v1, v2 = lp.x2
    p0, p1, p2 = lp.y1
    q0, q1, q2 = lp.y2
    lp.x2 = lp.x1
    lp.x1 = x
    lp.y2 = lp.y1
    y = (
        b0 * (x0 + u0 + u0 + v0) - a1 * p0 - a2 * q0,
        b0 * (x1 + u1 + u1 + v1) - a1 * p1 - a2 * q1,
        b0 * (x2 + u2 + u2 + v2) - a1 * p2 - a2 * q2,
    )
    lp.y1 = y
    return y


def _lp14(lp: _LowPass, b0: float, a1: float, a2: float, x: tuple[float, ...]) -> Sequence[float]:
    """``lp.step(x, b0, a1, a2)`` for 14 channels, unrolled (the slow part's hot path)."""
    if lp.n < lp.n_init:
        return lp.step(x, b0, a1, a2)
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13 = x
    u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13 = lp.x1
    v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13 = lp.x2
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13 = lp.y1
    q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13 = lp.y2
    lp.x2 = lp.x1
    lp.x1 = x
    lp.y2 = lp.y1
    y = (
        b0 * (x0 + u0 + u0 + v0) - a1 * p0 - a2 * q0,
        b0 * (x1 + u1 + u1 + v1) - a1 * p1 - a2 * q1,
        b0 * (x2 + u2 + u2 + v2) - a1 * p2 - a2 * q2,
        b0 * (x3 + u3 + u3 + v3) - a1 * p3 - a2 * q3,
        b0 * (x4 + u4 + u4 + v4) - a1 * p4 - a2 * q4,
        b0 * (x5 + u5 + u5 + v5) - a1 * p5 - a2 * q5,
        b0 * (x6 + u6 + u6 + v6) - a1 * p6 - a2 * q6,
        b0 * (x7 + u7 + u7 + v7) - a1 * p7 - a2 * q7,
        b0 * (x8 + u8 + u8 + v8) - a1 * p8 - a2 * q8,
        b0 * (x9 + u9 + u9 + v9) - a1 * p9 - a2 * q9,
        b0 * (x10 + u10 + u10 + v10) - a1 * p10 - a2 * q10,
        b0 * (x11 + u11 + u11 + v11) - a1 * p11 - a2 * q11,
        b0 * (x12 + u12 + u12 + v12) - a1 * p12 - a2 * q12,
        b0 * (x13 + u13 + u13 + v13) - a1 * p13 - a2 * q13,
    )
    lp.y1 = y
    return y


_STATE_FIELDS: tuple[tuple[str, str, Any], ...] = (
    # (key in the state, attribute, vector length or scalar type)
    ("q", "_q", 4),
    ("q_acc", "_qa", 4),
    ("q_block_start", "_q_start", 4),
    ("bias", "_bias", 3),
    ("bias_cov", "_P", 9),
    ("seed_bias", "_seed", 3),
    ("seed_var", "_seed_var", float),
    ("prev_rate", "_prev_rate", 3),
    ("rate_mean_dps", "_rate_mean", float),
    ("dist_ms2_sq", "_dist_ms", float),
    ("tau_s", "_tau", float),
    ("rest_t", "_rest_t", float),
    ("at_rest", "_at_rest", bool),
    ("rest_ref", "_rest_ref", 3),
    ("aligned", "_aligned", bool),
    ("sum_ex", "_sex", float),
    ("sum_ey", "_sey", float),
    ("sum_ez", "_sez", float),
    ("sum_aa", "_saa", float),
    ("sum_sx", "_ssx", float),
    ("sum_sy", "_ssy", float),
    ("sum_sz", "_ssz", float),
    ("dropped", "_dropped", int),
    ("block_len", "_len", int),
    ("block_left", "_left", int),
    ("done", "_done", int),
)
"""Every mutable attribute of :class:`TiltEstimator` except the low-passes (below)."""

_LOWPASS_FIELDS: tuple[tuple[str, str], ...] = (
    ("acc_lp", "_acc_lp"),
    ("rest_gyr_lp", "_rest_gyr_lp"),
    ("rest_acc_lp", "_rest_acc_lp"),
)


def _check_finite(value: Any, where: str) -> None:
    """Raise ValueError if a float anywhere in ``value`` is NaN or infinite."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"estimator state: {where} is not finite ({value!r})")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


def _state_float(d: dict[str, Any], key: str, prefix: str = "") -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"estimator state: {prefix}{key} should be a finite number, got {v!r}")
    return float(v)


def _state_int(d: dict[str, Any], key: str, prefix: str = "") -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"estimator state: {prefix}{key} should be an integer, got {v!r}")
    return v


def _state_bool(d: dict[str, Any], key: str, prefix: str = "") -> bool:
    v = d.get(key)
    if not isinstance(v, bool):
        raise ValueError(f"estimator state: {prefix}{key} should be true or false, got {v!r}")
    return v


def _state_floats(d: dict[str, Any], key: str, n: int, prefix: str = "") -> tuple[float, ...]:
    v = d.get(key)
    if not isinstance(v, list) or len(v) != n:
        raise ValueError(f"estimator state: {prefix}{key} should be a list of {n} numbers")
    return tuple(_state_float({key: x}, key, prefix) for x in v)


_sqrt = math.sqrt
_sin = math.sin
_cos = math.cos
_tan = math.tan
_atan2 = math.atan2
_SQRT2 = math.sqrt(2.0)


class TiltEstimator:
    """Per-sample 6-axis orientation/inclination estimator (the live path).

    ``TiltEstimator(rate_hz, params=None)``; feed every sample to :meth:`update` (sensor frame,
    acc in m/s², gyro in rad/s); read :attr:`quaternion` (w, x, y, z) sensor→earth, :attr:`up`
    (earth z in the sensor frame), :attr:`gyro_bias` (rad/s), :attr:`at_rest`. Seed the bias
    from a calibration with :meth:`seed_gyro_bias`.

    Two rates (see the module docstring): every sample integrates the gyroscope into the output
    quaternion and adds the readings to block sums; every ``block`` samples the block means go
    through the slow part (rest detection, gravity low-pass, inclination correction, bias).
    """

    def __init__(self, rate_hz: float, params: TiltParams | None = None) -> None:
        if not (rate_hz > 0.0 and math.isfinite(rate_hz)):
            raise ValueError("rate_hz must be a positive finite number")
        self.rate_hz = float(rate_hz)
        self.params = params if params is not None else TiltParams()
        p = self.params
        ts = 1.0 / self.rate_hz
        self._ts = ts
        self._half_ts = 0.5 * ts
        # Samples per slow step: the slow part runs at ≤ correction_rate_hz.
        self._block = max(1, math.ceil(self.rate_hz / p.correction_rate_hz - 1e-9))
        ts_s = self._block * ts  # time step of the slow part
        self._ts_slow = ts_s
        # Bias covariance units: (°/s)², bias itself in rad/s (converted at the measurement).
        self._p0 = p.bias_sigma_init_dps**2
        # Process noise: the bias may drift by 0.1 °/s within the forgetting time.
        self._v = 0.1**2 * ts_s / p.bias_forgetting_time_s
        # Measurement noise W = σ²/V + σ² makes σ² the steady-state posterior variance of a
        # scalar random walk observed directly every step (solve P = (P+V) − (P+V)²/(P+V+W)).
        pm = p.bias_sigma_motion_dps**2
        self._w_motion = pm * pm / self._v + pm
        self._w_vertical = self._w_motion / max(p.bias_vertical_forgetting_factor, 1e-10)
        pr = p.bias_sigma_rest_dps**2
        self._w_rest = pr * pr / self._v + pr
        self._clip = p.bias_clip_dps * DEG
        self._band = p.bias_band_dps * DEG
        self._acc_coeffs = _butterworth2(p.tau_acc_s, ts_s)
        self._tan_k = ts_s / _SQRT2  # π·fc·ts = tan_k / tau
        self._rest_coeffs = _butterworth2(p.rest_filter_tau_s, ts_s)
        self._coning = p.coning_correction
        self._coning_k = ts / 12.0
        self._bias_on = p.motion_bias_estimation or p.rest_bias_estimation
        self._skip_alignment = p.skip_alignment_in_bias
        self._motion_bias = p.motion_bias_estimation
        self._rest_bias = p.rest_bias_estimation
        self._rest_min_t = p.rest_min_time_s
        self._adaptive = p.adaptive_tau
        self._tau_gain = p.tau_gain
        self._tau_floor = p.tau_rate_floor_dps
        self._tau_min = p.tau_min_s
        self._tau_max = p.tau_max_s
        self._tau_rest = p.tau_rest_s
        # Chord length² of the largest gravity-direction change at rest (unit vectors).
        self._rest_tilt2 = (2.0 * math.sin(0.5 * p.rest_tilt_change_deg * DEG)) ** 2
        # First-order averaging weight for σ_a and ω̄ (exact discretisation of exp(−t/τ)).
        self._window_k = 1.0 - math.exp(-ts_s / p.tau_window_s)
        self._rest_th_gyr2 = (p.rest_gyro_threshold_dps * DEG) ** 2
        self._rest_th_acc2 = p.rest_acc_threshold_ms2**2
        self._seed = (0.0, 0.0, 0.0)
        self._seed_var = self._p0
        self.reset()

    # -- state -------------------------------------------------------------------------------

    def reset(self, keep_bias: bool = False, elapsed_s: float = 0.0) -> None:
        """Back to the initial state: identity orientation, filters empty, and the seeded bias
        (``keep_bias=False``) or the bias learnt so far with its uncertainty (``keep_bias=True``).

        Keep the bias across a gap in the samples (the chip was unplugged, a stall): the bias is
        a property of the chip, and what rest and motion taught the estimator about it is still
        the best knowledge; only the orientation is lost. ``elapsed_s`` is how long the gap
        lasted: the uncertainty grows by the bias model's drift over that time
        (``bias_forgetting_time_s``).
        """
        p = self.params
        ts_s = self._ts_slow
        self._q = (1.0, 0.0, 0.0, 0.0)  # sensor → earth: the output, = q_acc ⊗ q_gyr
        self._qa = (1.0, 0.0, 0.0, 0.0)  # I → earth (inclination correction)
        if keep_bias:
            if not (elapsed_s >= 0.0 and math.isfinite(elapsed_s)):
                raise ValueError("elapsed_s must be a finite number >= 0")
            grow = self._v * elapsed_s / ts_s
            P = self._P
            self._P = (P[0] + grow, P[1], P[2], P[3], P[4] + grow, P[5], P[6], P[7], P[8] + grow)
        else:
            self._bias = self._seed  # rad/s, sensor frame
            v0 = self._seed_var
            self._P = (v0, 0.0, 0.0, 0.0, v0, 0.0, 0.0, 0.0, v0)  # row-major, (°/s)²
        # Gravity in I (3 channels), and with bias estimation R (9) and R·b (x, y): one filter,
        # since all use the same coefficients at the same steps.
        self._acc_lp = _LowPass(14 if self._bias_on else 3, p.tau_acc_s, ts_s)
        self._rest_gyr_lp = _LowPass(3, p.rest_filter_tau_s, ts_s)
        self._rest_acc_lp = _LowPass(3, p.rest_filter_tau_s, ts_s)
        self._prev_rate = (0.0, 0.0, 0.0)  # bias-corrected gyro of the previous step (coning)
        self._rate_mean = 0.0  # ω̄, °/s
        self._dist_ms = 0.0  # σ_a², (m/s²)²
        self._tau = p.tau_min_s if p.adaptive_tau else p.tau_acc_s
        self._rest_t = 0.0
        self._at_rest = False
        # Low-passed sensor-frame gravity direction at the start of the current rest candidate.
        self._rest_ref = (0.0, 0.0, 0.0)
        self._aligned = False  # the first correction (the initial alignment) has been made
        self._q_start = self._q  # output at the start of the current block
        # Block sum of the accelerometer in the earth frame of the current output (valid
        # samples only; _dropped counts the others), in the sensor frame, and of |acc|².
        self._sex = self._sey = self._sez = self._saa = 0.0
        self._ssx = self._ssy = self._ssz = 0.0
        self._dropped = 0  # samples of this block without a valid accelerometer reading
        # Blocks of one sample until the first correction: the output is aligned with the
        # accelerometer from the first sample on, as if the slow part ran every sample.
        self._len = 1  # samples in the current block
        self._left = 1  # samples still to come in the current block
        self._done = 0  # samples of completed blocks

    def seed_gyro_bias(self, bias_rad_s: Sequence[float], sigma_dps: float | None = None) -> None:
        """Set the gyro bias (rad/s, sensor frame), e.g. from a calibration, and reset.

        The estimator keeps tracking drift within ±``bias_band_dps`` around this seed.
        ``sigma_dps`` is the seed's uncertainty (default: ``bias_sigma_init_dps``).
        """
        bx, by, bz = (float(v) for v in bias_rad_s)
        if not all(math.isfinite(v) for v in (bx, by, bz)):
            raise ValueError("bias must be finite")
        self._seed = (bx, by, bz)
        sigma = self.params.bias_sigma_init_dps if sigma_dps is None else float(sigma_dps)
        if not sigma >= 0.0:
            raise ValueError("sigma_dps must be >= 0")
        self._seed_var = sigma * sigma
        self.reset()

    @property
    def quaternion(self) -> tuple[float, float, float, float]:
        """Orientation (w, x, y, z), sensor→earth, unit norm; heading arbitrary."""
        return self._q

    @property
    def up(self) -> tuple[float, float, float]:
        """Earth "up" as a unit vector in the sensor frame (R(q)ᵀ·ẑ); all inclination lives here."""
        w, x, y, z = self._q
        return (2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y))

    @property
    def gyro_bias(self) -> tuple[float, float, float]:
        """Current gyro-bias estimate, rad/s, sensor frame (subtracted from every reading)."""
        return self._bias

    @property
    def gyro_bias_sigma(self) -> float:
        """Standard deviation of the bias estimate, rad/s (largest diagonal of its covariance)."""
        P = self._P
        return math.sqrt(max(P[0], P[4], P[8], 0.0)) * DEG

    @property
    def tau_acc(self) -> float:
        """Time constant of the gravity low-pass in use, s (adaptive unless switched off)."""
        return self._tau

    @property
    def at_rest(self) -> bool:
        """True while the sensor has been still for at least ``rest_min_time_s``."""
        return self._at_rest

    @property
    def samples(self) -> int:
        """Samples processed since construction/reset."""
        return self._done + self._len - self._left

    @property
    def block(self) -> int:
        """Samples per step of the slow part (1 when ``rate_hz`` ≤ ``correction_rate_hz``)."""
        return self._block

    # -- saving and restoring the full state -------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here, as JSON-ready plain data.

        ``{"version", "rate_hz", "params", "state"}``: the algorithm's :data:`ESTIMATOR_VERSION`,
        the sample rate, every :class:`TiltParams` field and every piece of mutable state
        (orientation, inclination correction, bias and its covariance, the seed, the low-pass
        histories with their warm-up counters and sums, the rest timer, the block sums and the
        position in the block). All lists are fresh copies: changing the estimator afterwards
        does not change a state already taken, nor the reverse. Floats survive ``json`` exactly
        (it writes the shortest repr, which reads back to the same double), so
        :meth:`from_state` of a JSON round trip continues bit for bit.

        Raises ValueError if the state holds a non-finite number (a NaN or infinite reading was
        fed in): such a state cannot be stored as JSON, and it would produce no angles anyway.
        """
        state: dict[str, Any] = {}
        for key, attr, kind in _STATE_FIELDS:
            value = getattr(self, attr)
            state[key] = [float(v) for v in value] if isinstance(kind, int) else kind(value)
        for key, attr in _LOWPASS_FIELDS:
            lp: _LowPass = getattr(self, attr)
            state[key] = {
                "n_init": lp.n_init,
                "n": lp.n,
                "sums": [float(v) for v in lp.sums],
                "x1": [float(v) for v in lp.x1],
                "x2": [float(v) for v in lp.x2],
                "y1": [float(v) for v in lp.y1],
                "y2": [float(v) for v in lp.y2],
            }
        out = {
            "version": ESTIMATOR_VERSION,
            "rate_hz": self.rate_hz,
            "params": {
                k: v if isinstance(v, bool) else float(v)
                for k, v in dataclasses.asdict(self.params).items()
            },
            "state": state,
        }
        _check_finite(out, "state")
        return out

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TiltEstimator:
        """An estimator that continues exactly where the one that gave ``state`` was.

        ``state`` is what :meth:`get_state` returned (possibly through a JSON round trip). Fed
        the same samples afterwards, the new estimator gives bit-for-bit the same outputs as the
        original continuing. Raises ValueError, saying which field, if the state comes from
        another estimator version or a field is missing or malformed.
        """
        if not isinstance(state, dict):
            raise ValueError(f"estimator state must be a dict, got {type(state).__name__}")
        version = state.get("version")
        if version != ESTIMATOR_VERSION:
            raise ValueError(
                f"estimator state is from version {version!r}, this is {ESTIMATOR_VERSION!r}: "
                "it cannot be continued exactly; recompute the angles from the raw samples"
            )
        rate_hz = _state_float(state, "rate_hz")
        raw_params = state.get("params")
        if not isinstance(raw_params, dict):
            raise ValueError("estimator state: 'params' is missing or not a dict")
        fields = {f.name: f for f in dataclasses.fields(TiltParams)}
        if set(raw_params) != set(fields):
            missing = sorted(set(fields) - set(raw_params))
            extra = sorted(set(raw_params) - set(fields))
            raise ValueError(f"estimator state: params missing {missing}, unknown {extra}")
        kwargs: dict[str, Any] = {}
        for name, f in fields.items():
            default = f.default
            if isinstance(default, bool):
                kwargs[name] = _state_bool(raw_params, name, "params.")
            else:
                kwargs[name] = _state_float(raw_params, name, "params.")
        est = cls(rate_hz, TiltParams(**kwargs))
        body = state.get("state")
        if not isinstance(body, dict):
            raise ValueError("estimator state: 'state' is missing or not a dict")
        for key, attr, kind in _STATE_FIELDS:
            if isinstance(kind, int):
                setattr(est, attr, _state_floats(body, key, kind))
            elif kind is bool:
                setattr(est, attr, _state_bool(body, key))
            elif kind is int:
                setattr(est, attr, _state_int(body, key))
            else:
                setattr(est, attr, _state_float(body, key))
        for key, attr in _LOWPASS_FIELDS:
            lp: _LowPass = getattr(est, attr)
            raw = body.get(key)
            if not isinstance(raw, dict):
                raise ValueError(f"estimator state: '{key}' is missing or not a dict")
            k = len(lp.sums)
            n_init = _state_int(raw, "n_init", f"{key}.")
            if n_init != lp.n_init:
                raise ValueError(
                    f"estimator state: {key}.n_init is {n_init}, the parameters give {lp.n_init}"
                )
            lp.n = _state_int(raw, "n", f"{key}.")
            if not 0 <= lp.n <= lp.n_init:
                raise ValueError(f"estimator state: {key}.n must be within 0..{lp.n_init}")
            lp.sums = list(_state_floats(raw, "sums", k, f"{key}."))
            lp.x1 = _state_floats(raw, "x1", k, f"{key}.")
            lp.x2 = _state_floats(raw, "x2", k, f"{key}.")
            lp.y1 = _state_floats(raw, "y1", k, f"{key}.")
            lp.y2 = _state_floats(raw, "y2", k, f"{key}.")
        if not (1 <= est._left <= est._len and est._len in (1, est._block)):
            raise ValueError(
                f"estimator state: block position {est._left}/{est._len} does not fit "
                f"blocks of {est._block} samples"
            )
        if est._dropped < 0 or est._done < 0:
            raise ValueError("estimator state: sample counters must be >= 0")
        return est

    # -- the per-sample update ---------------------------------------------------------------

    def update_vec(self, acc: Sequence[float], gyr: Sequence[float]) -> None:
        """:meth:`update` taking two 3-sequences (acc m/s², gyr rad/s)."""
        self.update(acc[0], acc[1], acc[2], gyr[0], gyr[1], gyr[2])

    def update(self, ax: float, ay: float, az: float, gx: float, gy: float, gz: float) -> None:
        """Process one sample: acc (m/s², sensor frame) and gyro (rad/s, sensor frame).

        A sample whose accelerometer reads exactly zero (a dropped reading) only propagates the
        gyroscope.
        """
        # ---- gyroscope strapdown integration of the output (exact exponential map) ----
        # q = q_acc ⊗ q_gyr and q_acc is constant between slow steps, so integrating q itself
        # (right-multiplying by the step's rotation) is integrating q_gyr.
        bx, by, bz = self._bias
        wx = gx - bx
        wy = gy - by
        wz = gz - bz
        if self._coning:
            px, py, pz = self._prev_rate
            self._prev_rate = (wx, wy, wz)
            k = self._coning_k
            cx = wx + k * (py * wz - pz * wy)
            cy = wy + k * (pz * wx - px * wz)
            wz += k * (px * wy - py * wx)
            wx = cx
            wy = cy
        qw, qx, qy, qz = self._q
        wn = wx * wx + wy * wy + wz * wz
        if wn > 1e-24:
            wn = _sqrt(wn)
            half = wn * self._half_ts
            c = _cos(half)
            s = _sin(half) / wn
            wx *= s
            wy *= s
            wz *= s
            nw = qw * c - qx * wx - qy * wy - qz * wz
            nx = qw * wx + qx * c + qy * wz - qz * wy
            ny = qw * wy - qx * wz + qy * c + qz * wx
            qz = qw * wz + qx * wy - qy * wx + qz * c
            qw = nw
            qx = nx
            qy = ny
            # Normalised once per block, in the slow part: a product of unit quaternions
            # drifts off unit norm by ~1e-16 per step.
            self._q = (qw, qx, qy, qz)

        if ax != 0.0 or ay != 0.0 or az != 0.0:
            # Accelerometer into the earth frame of the current output: v' = v + w·t + u×t,
            # t = 2·u×v. The slow part takes the block mean back into I with q_acc⁻¹ (constant
            # over the block), which is the mean of the samples rotated by q_gyr.
            tx = 2.0 * (qy * az - qz * ay)
            ty = 2.0 * (qz * ax - qx * az)
            tz = 2.0 * (qx * ay - qy * ax)
            self._sex += ax + qw * tx + qy * tz - qz * ty
            self._sey += ay + qw * ty + qz * tx - qx * tz
            self._sez += az + qw * tz + qx * ty - qy * tx
            self._saa += ax * ax + ay * ay + az * az
            self._ssx += ax
            self._ssy += ay
            self._ssz += az
        else:
            self._dropped += 1

        n = self._left - 1
        if n:
            self._left = n
            return
        self._slow_step()

    def _slow_step(self) -> None:
        """Rest detection, gravity low-pass, inclination correction and bias, on block means."""
        m = self._len
        self._done += m
        t_block = m * self._ts
        if self._aligned:
            self._left = self._block
        else:  # set to the full block at the first correction
            self._len = self._left = 1
        clip = self._clip
        sbx, sby, sbz = self._seed
        bx, by, bz = self._bias
        qw, qx, qy, qz = self._q
        # ---- block mean of the bias-corrected gyroscope: the rotation over the block ----
        # Δ = q_start⁻¹ ⊗ q (sensor frame; q has only been right-multiplied by the gyro steps
        # since q_start), mean rate = rotation vector of Δ / block time: the mean of the
        # integrated rates up to second-order (coning) terms, without summing three channels
        # every sample.
        w0, x0, y0, z0 = self._q_start
        dw = w0 * qw + x0 * qx + y0 * qy + z0 * qz
        dx = w0 * qx - x0 * qw - y0 * qz + z0 * qy
        dy = w0 * qy + x0 * qz - y0 * qw - z0 * qx
        dz = w0 * qz - x0 * qy + y0 * qx - z0 * qw
        n = dx * dx + dy * dy + dz * dz
        if n > 0.0:
            n = _sqrt(n)
            n = 2.0 * _atan2(n, dw) / (n * t_block)
        wx = dx * n
        wy = dy * n
        wz = dz * n
        gx = wx + bx  # raw gyroscope block mean (the bias was constant over the block)
        gy = wy + by
        gz = wz + bz
        n = 1.0 / _sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        qw *= n
        qx *= n
        qy *= n
        qz *= n
        self._q = self._q_start = (qw, qx, qy, qz)

        # ---- rest detection, gyroscope half: deviation from its own low-pass ----
        b0, a1, a2 = self._rest_coeffs
        rgx, rgy, rgz = _lp3(self._rest_gyr_lp, b0, a1, a2, gx, gy, gz)
        dx, dy, dz = gx - rgx, gy - rgy, gz - rgz
        P = self._P
        band = self._band
        if (
            dx * dx + dy * dy + dz * dz >= self._rest_th_gyr2
            or abs(rgx - sbx) > band
            or abs(rgy - sby) > band
            or abs(rgz - sbz) > band
        ):
            # Moving, or the reading is too far from the seeded bias to be a bias.
            self._rest_t = 0.0
            self._at_rest = False

        na = m - self._dropped
        if self._dropped:
            self._dropped = 0
            if na == 0:  # no valid accelerometer sample in this block: gyroscope only
                return
        inv_n = 1.0 / na
        vx = self._sex * inv_n
        vy = self._sey * inv_n
        vz = self._sez * inv_n
        aa = self._saa * inv_n
        sx = self._ssx * inv_n
        sy = self._ssy * inv_n
        sz = self._ssz * inv_n
        self._sex = self._sey = self._sez = self._saa = 0.0
        self._ssx = self._ssy = self._ssz = 0.0

        # ---- accelerometer block mean from the earth frame back into I: rotate by q_acc⁻¹ ----
        cw, cx, cy, cz = self._qa
        tx = 2.0 * (vy * cz - vz * cy)
        ty = 2.0 * (vz * cx - vx * cz)
        tz = 2.0 * (vx * cy - vy * cx)
        ix = vx + cw * tx - cy * tz + cz * ty
        iy = vy + cw * ty - cz * tx + cx * tz
        iz = vz + cw * tz - cx * ty + cy * tx

        # ---- rest detection, accelerometer half (sensor frame: independent of the bias) ----
        rax, ray, raz = _lp3(self._rest_acc_lp, b0, a1, a2, sx, sy, sz)
        dx, dy, dz = sx - rax, sy - ray, sz - raz
        if dx * dx + dy * dy + dz * dz >= self._rest_th_acc2:
            self._rest_t = 0.0
            self._at_rest = False
        else:
            # The gravity direction must also stay where it was when this rest began: a board
            # at rest does not turn, a smoothly swaying one does (see rest_tilt_change_deg).
            n = rax * rax + ray * ray + raz * raz
            n = 1.0 / _sqrt(n) if n > 0.0 else 0.0
            rax *= n
            ray *= n
            raz *= n
            if self._rest_t == 0.0:
                self._rest_ref = (rax, ray, raz)
            else:
                ux, uy, uz = self._rest_ref
                dx, dy, dz = rax - ux, ray - uy, raz - uz
                if dx * dx + dy * dy + dz * dz > self._rest_tilt2:
                    self._rest_t = 0.0
                    self._at_rest = False
                    self._rest_ref = (rax, ray, raz)
            self._rest_t += na * self._ts
            if self._rest_t >= self._rest_min_t:
                self._at_rest = True

        # ---- time constant of the gravity low-pass ----
        acc_lp = self._acc_lp
        if self._adaptive:
            kw = self._window_k
            self._rate_mean += kw * (
                _sqrt(wx * wx + wy * wy + wz * wz) * _INV_DEG - self._rate_mean
            )
            if acc_lp.n >= acc_lp.n_init:
                # Non-gravity acceleration ≈ the I-frame reading minus the gravity estimate l.
                # Its mean square over the block's samples (not that of the block mean: sensor
                # noise must count as it did per sample) is mean|a|² − 2·mean(a_I)·l + |l|², as
                # rotation keeps |a|.
                last = acc_lp.y1
                lx = last[0]
                ly = last[1]
                lz = last[2]
                d2 = aa - 2.0 * (ix * lx + iy * ly + iz * lz) + lx * lx + ly * ly + lz * lz
                self._dist_ms += kw * ((d2 if d2 > 0.0 else 0.0) - self._dist_ms)
            rate = self._rate_mean
            if rate < self._tau_floor:
                rate = self._tau_floor
            tau = self._tau_gain * _sqrt(_sqrt(self._dist_ms) / rate)
            if self._at_rest:
                tau = self._tau_rest
            elif tau < self._tau_min:
                tau = self._tau_min
            elif tau > self._tau_max:
                tau = self._tau_max
            self._tau = tau
            # _butterworth2(tau, ts_slow) inlined: c = tan(π·fc·ts) with fc = √2/(2π·tau).
            c = _tan(self._tan_k / tau)
            cc = c * c
            sc = _SQRT2 * c
            d = 1.0 / (cc + sc + 1.0)
            b0 = cc * d
            a1 = 2.0 * (cc - 1.0) * d
            a2 = (1.0 - sc + cc) * d
        else:
            b0, a1, a2 = self._acc_coeffs

        if self._bias_on:
            # Rotation matrix of the 6D estimate (sensor → earth) *before* this correction, the
            # frame in which this step's correction rate is measured; R and R·b are low-passed
            # with the accelerometer's filter: the correction rate reflects the bias as seen
            # through that filter, so the model must go through it too.
            xx, yy, zz = qx * qx, qy * qy, qz * qz
            xy, xz, yz = qx * qy, qx * qz, qy * qz
            wx_, wy_, wz_ = qw * qx, qw * qy, qw * qz
            r0 = 1.0 - 2.0 * (yy + zz)
            r1 = 2.0 * (xy - wz_)
            r2 = 2.0 * (xz + wy_)
            r3 = 2.0 * (xy + wz_)
            r4 = 1.0 - 2.0 * (xx + zz)
            r5 = 2.0 * (yz - wx_)
            lp = _lp14(
                acc_lp,
                b0,
                a1,
                a2,
                (
                    ix,
                    iy,
                    iz,
                    r0,
                    r1,
                    r2,
                    r3,
                    r4,
                    r5,
                    2.0 * (xz - wy_),
                    2.0 * (yz + wx_),
                    1.0 - 2.0 * (xx + yy),
                    r0 * bx + r1 * by + r2 * bz,
                    r3 * bx + r4 * by + r5 * bz,
                ),
            )
        else:
            lp = _lp3(acc_lp, b0, a1, a2, ix, iy, iz)
        lx, ly, lz = lp[0], lp[1], lp[2]

        # ---- filtered gravity into the earth frame with the current correction ----
        tx = 2.0 * (cy * lz - cz * ly)
        ty = 2.0 * (cz * lx - cx * lz)
        tz = 2.0 * (cx * ly - cy * lx)
        ex = lx + cw * tx + cy * tz - cz * ty
        ey = ly + cw * ty + cz * tx - cx * tz
        ez = lz + cw * tz + cx * ty - cy * tx
        en = _sqrt(ex * ex + ey * ey + ez * ez)
        if en < 1e-9:
            return
        ex /= en
        ey /= en
        ez /= en

        # ---- inclination correction: the rotation taking (ex, ey, ez) onto +z ----
        # Axis e×ẑ = (ey, −ex, 0), angle φ = acos(ez): w = cos(φ/2) = √((1+ez)/2) and
        # vector part sin(φ/2)/sin(φ)·(ey, −ex, 0) = (ey, −ex, 0)/(2w). It left-multiplies both
        # q_acc and the output q (= q_acc ⊗ q_gyr).
        kw = _sqrt(max(0.0, (ez + 1.0) * 0.5))
        if kw > 1e-6:
            kx = 0.5 * ey / kw
            ky = -0.5 * ex / kw
        else:  # gravity estimate points straight down: any horizontal axis will do
            kw, kx, ky = 0.0, 1.0, 0.0
        nw = kw * cw - kx * cx - ky * cy
        nx = kw * cx + kx * cw + ky * cz
        ny = kw * cy - kx * cz + ky * cw
        nz = kw * cz + kx * cy - ky * cx
        n = 1.0 / _sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
        self._qa = (nw * n, nx * n, ny * n, nz * n)
        self._q = self._q_start = (
            kw * qw - kx * qx - ky * qy,
            kw * qx + kx * qw + ky * qz,
            kw * qy - kx * qz + ky * qw,
            kw * qz + kx * qy - ky * qx,
        )
        first = not self._aligned
        if first:
            self._aligned = True
            self._len = self._left = self._block

        if not self._bias_on:
            return
        if first and self._skip_alignment:
            # The first correction after a (re)start is the initial alignment from the identity,
            # not drift: as a "correction rate" it is a clipped outlier, and the bias estimate
            # would carry it for minutes.
            return

        # ---- gyro bias: Kalman filter on b (sensor frame, rad/s; P in (°/s)²) ----
        if P[0] < self._p0:
            v = self._v
            P = (P[0] + v, P[1], P[2], P[3], P[4] + v, P[5], P[6], P[7], P[8] + v)
        p0, p1, p2, _, p4, p5, _, _, p8 = P

        if self._at_rest and self._rest_bias:
            # The low-pass gyro reading *is* the bias at rest: H = I, so P·Hᵀ = P.
            e0 = rgx - bx
            e1 = rgy - by
            e2 = rgz - bz
            m0, m1, m2, m3, m4, m5, m6, m7, m8 = P
            w = self._w_rest
            s0 = p0 + w
            s1 = p1
            s2 = p2
            s4 = p4 + w
            s5 = p5
            s8 = p8 + w
        elif self._motion_bias and (acc_lp.n >= acc_lp.n_init or not self._skip_alignment):
            # (Not during the gravity filter's warm-up either: its running mean is still
            # aligning, and a confident bias filter would take that for drift.)
            # Earth-frame correction rate (ey, −ex)/ts cancels the drift R·(b_true − b):
            # measurement of LP(R)·b_true is LP(R·b) − correction rate.
            _, _, _, h0, h1, h2, h3, h4, h5, h6, h7, h8, rbx, rby = lp
            inv_ts = 1.0 / t_block
            e0 = -ey * inv_ts + rbx - (h0 * bx + h1 * by + h2 * bz)
            e1 = ex * inv_ts + rby - (h3 * bx + h4 * by + h5 * bz)
            # The earth-vertical component is unobservable in motion: it is held (weakly) at the
            # seed's, which a calibration measured, rather than at zero.
            e2 = h6 * (sbx - bx) + h7 * (sby - by) + h8 * (sbz - bz)
            # PHt = P·Hᵀ; S = H·P·Hᵀ + W (P symmetric).
            m0 = p0 * h0 + p1 * h1 + p2 * h2
            m1 = p0 * h3 + p1 * h4 + p2 * h5
            m2 = p0 * h6 + p1 * h7 + p2 * h8
            m3 = p1 * h0 + p4 * h1 + p5 * h2
            m4 = p1 * h3 + p4 * h4 + p5 * h5
            m5 = p1 * h6 + p4 * h7 + p5 * h8
            m6 = p2 * h0 + p5 * h1 + p8 * h2
            m7 = p2 * h3 + p5 * h4 + p8 * h5
            m8 = p2 * h6 + p5 * h7 + p8 * h8
            w = self._w_motion
            s0 = h0 * m0 + h1 * m3 + h2 * m6 + w
            s1 = h0 * m1 + h1 * m4 + h2 * m7
            s2 = h0 * m2 + h1 * m5 + h2 * m8
            s4 = h3 * m1 + h4 * m4 + h5 * m7 + w
            s5 = h3 * m2 + h4 * m5 + h5 * m8
            s8 = h6 * m2 + h7 * m5 + h8 * m8 + self._w_vertical
        else:
            self._P = P
            return

        # A single disagreement larger than the clip band is an outlier, not bias information.
        e0 = (clip if e0 > clip else -clip if e0 < -clip else e0) * _INV_DEG
        e1 = (clip if e1 > clip else -clip if e1 < -clip else e1) * _INV_DEG
        e2 = (clip if e2 > clip else -clip if e2 < -clip else e2) * _INV_DEG

        # K = PHt·S⁻¹; b += K·e; P −= K·(PHt)ᵀ. Inverse of the symmetric S by its adjugate.
        c0 = s4 * s8 - s5 * s5
        c1 = s2 * s5 - s1 * s8
        c2 = s1 * s5 - s2 * s4
        det = s0 * c0 + s1 * c1 + s2 * c2
        if det == 0.0 or not math.isfinite(det):
            self._P = P
            return
        idet = 1.0 / det
        i0 = c0 * idet
        i1 = c1 * idet
        i2 = c2 * idet
        i4 = (s0 * s8 - s2 * s2) * idet
        i5 = (s1 * s2 - s0 * s5) * idet
        i8 = (s0 * s4 - s1 * s1) * idet
        k0 = m0 * i0 + m1 * i1 + m2 * i2
        k1 = m0 * i1 + m1 * i4 + m2 * i5
        k2 = m0 * i2 + m1 * i5 + m2 * i8
        k3 = m3 * i0 + m4 * i1 + m5 * i2
        k4 = m3 * i1 + m4 * i4 + m5 * i5
        k5 = m3 * i2 + m4 * i5 + m5 * i8
        k6 = m6 * i0 + m7 * i1 + m8 * i2
        k7 = m6 * i1 + m7 * i4 + m8 * i5
        k8 = m6 * i2 + m7 * i5 + m8 * i8
        bx += (k0 * e0 + k1 * e1 + k2 * e2) * DEG
        by += (k3 * e0 + k4 * e1 + k5 * e2) * DEG
        bz += (k6 * e0 + k7 * e1 + k8 * e2) * DEG
        # (PHt)ᵀ rows are the columns of m.
        q0 = p0 - (k0 * m0 + k1 * m1 + k2 * m2)
        q1 = p1 - (k0 * m3 + k1 * m4 + k2 * m5)
        q2 = p2 - (k0 * m6 + k1 * m7 + k2 * m8)
        q4 = p4 - (k3 * m3 + k4 * m4 + k5 * m5)
        q5 = p5 - (k3 * m6 + k4 * m7 + k5 * m8)
        q8 = p8 - (k6 * m6 + k7 * m7 + k8 * m8)
        self._P = (q0, q1, q2, q1, q4, q5, q2, q5, q8)
        lo = sbx - band
        hi = sbx + band
        bx = hi if bx > hi else lo if bx < lo else bx
        lo = sby - band
        hi = sby + band
        by = hi if by > hi else lo if by < lo else by
        lo = sbz - band
        hi = sbz + band
        bz = hi if bz > hi else lo if bz < lo else bz
        self._bias = (bx, by, bz)

    # -- batch form --------------------------------------------------------------------------

    def update_batch(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Run :meth:`update` over (N, 3) arrays; returns the (N, 4) quaternion after each sample.

        Exactly the per-sample algorithm (it is a loop over it), so batch and live agree bit for
        bit.
        """
        acc = np.asarray(acc, dtype=float)
        gyr = np.asarray(gyr, dtype=float)
        if acc.ndim != 2 or acc.shape[1] != 3 or gyr.shape != acc.shape:
            raise ValueError("acc and gyr must both have shape (N, 3)")
        out = np.empty((acc.shape[0], 4))
        update = self.update
        rows = []
        append = rows.append
        for (ax, ay, az), (gx, gy, gz) in zip(acc.tolist(), gyr.tolist(), strict=True):
            update(ax, ay, az, gx, gy, gz)
            append(self._q)
        if rows:
            out[:] = rows
        return out


def estimate_orientation(
    acc: np.ndarray,
    gyr: np.ndarray,
    rate_hz: float,
    params: TiltParams | None = None,
    gyro_bias: Sequence[float] | None = None,
) -> np.ndarray:
    """Orientation for a whole recording: (N, 4) unit quaternions (w, x, y, z), sensor→earth.

    ``acc`` (N, 3) m/s² and ``gyr`` (N, 3) rad/s in the sensor frame at ``rate_hz``. Runs exactly
    the live path (:class:`TiltEstimator` with the same parameters), sample by sample, causally.
    ``gyro_bias`` (rad/s) seeds the bias estimate as a calibration would.
    """
    est = TiltEstimator(rate_hz, params)
    if gyro_bias is not None:
        est.seed_gyro_bias(gyro_bias)
    return est.update_batch(acc, gyr)
