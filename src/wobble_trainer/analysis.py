"""One trial, one set of angles, one set of numbers.

A trial's board angles are computed once, live, by the app's
:class:`~wobble_trainer.tilt.stream.TiltStream`, whose estimator has been running since the app
started. What the estimator knew when the trial began (its orientation, gyro bias and their
uncertainty, its filter states: :meth:`TiltStream.stream_state`) is stored with the trial in a
:class:`TrialRecording`, beside the raw samples it then consumed, the sample gaps it saw and the
rows its metrics leave out (pauses). :func:`stored_trial_angles` replays exactly that: a
:class:`TiltStream` resumed from the stored state, fed the stored samples, gives bit for bit the
angles the live path gave (same software version; float64 samples; see
:meth:`~wobble_trainer.tilt.board_angles.BoardFrame.to_board_array` for why that also needs an
element-wise rotation).

Every consumer goes through here: the live results (:func:`live_trial_angles` of the angles the
stream gave), the stored metrics, history and progress charts, the session and progress PDFs,
CSV/JSON exports and ``wobble recompute`` (:func:`stored_trial_angles`), and all of them turn
angles into numbers with :func:`trial_metrics`. A clinician therefore never sees two values for one
trial.

:data:`ANALYSIS_VERSION` names the estimator and metrics code; stored metrics carry the version
that computed them, so a re-analysis with newer code can be told from the original.

Trials recorded before this module existed have no stored estimator state. They are replayed from
a warm start (:func:`warm_up_samples`: the estimator rests at the trial's first pose before it),
which is close to, but not exactly, what the live path computed; :attr:`TrialAngles.exact` says
which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wobble_trainer import metrics
from wobble_trainer.sampling.samples import make_samples
from wobble_trainer.storage import TrialRecord
from wobble_trainer.tilt.calibration import Calibration, EdgeAngles
from wobble_trainer.tilt.estimator import ESTIMATOR_VERSION
from wobble_trainer.tilt.stream import TiltStream

ANALYSIS_VERSION = f"{ESTIMATOR_VERSION}/{metrics.METRICS_VERSION}"
"""The estimator's and the metrics' versions: what turned raw samples into the stored numbers."""

RECORDING_FORMAT = 1
"""Version of the :class:`TrialRecording` JSON layout."""

MIN_VALID_SAMPLES = 10
"""A trial with fewer valid angles than this has no balance metrics."""

WARM_UP_S = 2.0
"""Legacy trials (no stored estimator state): the estimator rests this long at the first pose."""
WARM_UP_POSE_S = 0.05
"""Legacy trials: the first pose is the accelerometer's mean over this much of the trial."""

GAP_FACTOR = 1.5
"""Legacy trials: a step longer than this many sample periods was a gap (samples lost)."""


class AnalysisError(ValueError):
    """A stored trial cannot be analysed; the message says why and what to do."""


# --- what is stored with a trial ---------------------------------------------------------------


@dataclass(frozen=True)
class TrialRecording:
    """What the live path knew about one trial besides its raw samples (``trials.analysis``)."""

    rate_hz: float
    """The estimator's sample rate, which the metrics use too (Hz)."""
    stream_state: dict[str, Any] | None
    """:meth:`TiltStream.stream_state` just before the trial's first sample; None if unknown
    (a trial recorded without the live stream)."""
    gaps: tuple[tuple[int, float], ...] = ()
    """(row, seconds missing before it) for every row the sampler marked with a gap."""
    excluded: tuple[tuple[int, int], ...] = ()
    """Row ranges [start, stop) the metrics leave out (the activity was paused)."""
    version: str = ANALYSIS_VERSION
    """The analysis version that recorded the trial."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORDING_FORMAT,
            "version": self.version,
            "rate_hz": self.rate_hz,
            "stream_state": self.stream_state,
            "gaps": [[int(i), float(g)] for i, g in self.gaps],
            "excluded": [[int(a), int(b)] for a, b in self.excluded],
        }

    @classmethod
    def from_json(cls, data: Any) -> TrialRecording:
        """The recording stored as ``data``; AnalysisError when it is damaged."""
        try:
            if not isinstance(data, Mapping) or data.get("format") != RECORDING_FORMAT:
                raise ValueError("unknown layout")
            rate = float(data["rate_hz"])
            if not math.isfinite(rate) or rate <= 0:
                raise ValueError(f"rate {rate!r}")
            state = data.get("stream_state")
            if state is not None and not isinstance(state, Mapping):
                raise ValueError("stream_state is not an object")
            gaps = tuple((int(i), float(g)) for i, g in data.get("gaps", []))
            excluded = tuple((int(a), int(b)) for a, b in data.get("excluded", []))
            return cls(
                rate,
                dict(state) if state is not None else None,
                gaps,
                excluded,
                str(data.get("version", "")),
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise AnalysisError(
                f"the trial's stored analysis record is damaged ({exc}); its angles can only be "
                "estimated again from the raw samples"
            ) from exc


def recording_for(
    samples: np.ndarray,
    rate_hz: float,
    stream_state: dict[str, Any] | None,
    excluded: Iterable[tuple[int, int]] = (),
) -> TrialRecording:
    """The :class:`TrialRecording` of a trial whose raw samples (``SAMPLE_DTYPE`` rows, in the
    order the estimator took them) are ``samples``."""
    gap_rows = np.flatnonzero(samples["gap_before"] > 0) if len(samples) else []
    gaps = tuple((int(i), float(samples["gap_before"][i])) for i in gap_rows)
    return TrialRecording(
        float(rate_hz), stream_state, gaps, clip_ranges(excluded, len(samples))
    )


def clip_ranges(ranges: Iterable[tuple[int, int]], n: int) -> tuple[tuple[int, int], ...]:
    """Row ranges [start, stop) limited to ``n`` rows, empty ones dropped."""
    out = []
    for a, b in ranges:
        start, stop = max(0, int(a)), min(n, int(b))
        if stop > start:
            out.append((start, stop))
    return tuple(out)


# --- angles -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrialAngles:
    """One trial's board angles: degrees, time from the trial's first sample."""

    index: int
    label: str
    rate_hz: float
    t: np.ndarray
    """(n,) s from the trial's first sample."""
    pitch_deg: np.ndarray
    """(n,) > 0: toes down."""
    roll_deg: np.ndarray
    """(n,) > 0: right edge down."""
    excluded: tuple[tuple[int, int], ...] = ()
    """Row ranges the metrics leave out (pauses)."""
    exact: bool = True
    """True when these are the live path's angles (or their exact replay); False for a legacy
    trial replayed from a warm start."""
    true_pitch_deg: np.ndarray | None = field(default=None, repr=False)
    """The simulator's true board angles, when the trial was simulated."""
    true_roll_deg: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0

    def for_metrics(self) -> tuple[np.ndarray, np.ndarray]:
        """(pitch°, roll°) with the excluded rows as NaN (gaps for :mod:`metrics`)."""
        pitch = self.pitch_deg.copy()
        roll = self.roll_deg.copy()
        for start, stop in self.excluded:
            pitch[start:stop] = np.nan
            roll[start:stop] = np.nan
        return pitch, roll

    def metrics(self, edges: EdgeAngles) -> dict[str, Any]:
        """:func:`trial_metrics` of this trial."""
        return trial_metrics(self, edges)


def _degrees(rad: np.ndarray) -> np.ndarray:
    return np.degrees(np.asarray(rad, dtype=float))


def live_trial_angles(
    angles: np.ndarray,
    rate_hz: float,
    *,
    index: int = 0,
    label: str = "",
    excluded: Sequence[tuple[int, int]] = (),
    samples: np.ndarray | None = None,
) -> TrialAngles:
    """The :class:`TrialAngles` of angles the live stream gave (``ANGLE_DTYPE`` rows)."""
    t = np.asarray(angles["t"], dtype=float)
    truth = _truth_deg(samples) if samples is not None and len(samples) == len(angles) else None
    return TrialAngles(
        index=index,
        label=label,
        rate_hz=float(rate_hz),
        t=t - t[0] if len(t) else t,
        pitch_deg=_degrees(angles["pitch"]),
        roll_deg=_degrees(angles["roll"]),
        excluded=tuple(excluded),
        true_pitch_deg=None if truth is None else truth[0],
        true_roll_deg=None if truth is None else truth[1],
    )


def _truth_deg(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if "true_pitch" not in (samples.dtype.names or ()):
        return None
    pitch, roll = samples["true_pitch"], samples["true_roll"]
    if not len(pitch) or not np.all(np.isfinite(pitch)) or not np.all(np.isfinite(roll)):
        return None
    return _degrees(pitch), _degrees(roll)


def trial_samples(trial: TrialRecord, recording: TrialRecording | None) -> np.ndarray:
    """The trial's raw samples as the estimator took them (``SAMPLE_DTYPE``): gaps from the
    recording, or (legacy trials) re-derived from the time stamps."""
    out = make_samples(trial.t, trial.acc, trial.gyr, trial.true_pitch, trial.true_roll)
    if recording is not None:
        for row, gap in recording.gaps:
            if 0 <= row < len(out):
                out["gap_before"][row] = gap
    elif len(out) > 1:
        rate = nominal_rate_hz(trial.t)
        if rate is not None:
            period = 1.0 / rate
            dt = np.diff(trial.t)
            out["gap_before"][1:] = np.where(dt > GAP_FACTOR * period, dt - period, 0.0)
    return out


def nominal_rate_hz(t: np.ndarray) -> float | None:
    """A trace's sample rate from its median step (robust to a few gaps); None below 2 samples
    or when the time stamps do not advance."""
    if len(t) < 2:
        return None
    step = float(np.median(np.diff(np.asarray(t, dtype=float))))
    if not math.isfinite(step) or step <= 0.0:
        return None
    return 1.0 / step


def recording_of(trial: TrialRecord) -> TrialRecording | None:
    """The trial's stored :class:`TrialRecording` (None for a legacy trial)."""
    return None if trial.analysis is None else TrialRecording.from_json(trial.analysis)


def warm_up_samples(samples: np.ndarray, rate_hz: float, calibration: Calibration) -> np.ndarray:
    """Legacy trials: :data:`WARM_UP_S` of the board resting at the trial's first pose (the
    accelerometer's mean over :data:`WARM_UP_POSE_S`, the gyroscope reading its calibrated bias),
    just before the trial, so a cold estimator does not spend the trial aligning."""
    n = max(1, round(WARM_UP_S * rate_hz))
    k = max(1, min(len(samples), round(WARM_UP_POSE_S * rate_hz)))
    t0 = float(samples["t"][0])
    acc = np.tile(samples["acc"][:k].mean(axis=0), (n, 1))
    gyr = np.tile(np.asarray(calibration.gyro_bias, dtype=float), (n, 1))
    return make_samples(t0 - np.arange(n, 0, -1) / rate_hz, acc, gyr)


class ReplayJob:
    """Replay one stored trial a slice at a time (:meth:`step` until :attr:`done`), so the app
    can export while it keeps drawing. :meth:`run` does it at once; the result equals
    :func:`stored_trial_angles`."""

    def __init__(self, trial: TrialRecord, calibration: Calibration) -> None:
        self.trial = trial
        self.recording = recording_of(trial)
        self.samples = trial_samples(trial, self.recording)
        self.result: TrialAngles | None = None
        self._parts: list[np.ndarray] = []
        self._next = 0
        self._stream: TiltStream | None = None
        self.exact = False
        if self.recording is not None:
            self.rate_hz: float | None = self.recording.rate_hz
            if self.recording.stream_state is not None:
                try:
                    self._stream = TiltStream.resumed(
                        None, calibration, self.recording.stream_state
                    )
                    self.exact = True
                except ValueError:
                    self._stream = None  # another estimator version: a warm start below
        else:
            self.rate_hz = nominal_rate_hz(trial.t)
        if self._stream is None and self.rate_hz is not None and len(self.samples) >= 2:
            self._stream = TiltStream(None, self.rate_hz, calibration)
            self._stream.process(warm_up_samples(self.samples, self.rate_hz, calibration))
        self.done = self._stream is None or len(self.samples) < 2
        """True when finished; a trace below 2 samples is done at once with no result."""

    @property
    def fraction(self) -> float:
        n = len(self.samples)
        return 1.0 if self.done or n == 0 else self._next / n

    def step(self, max_samples: int = 5000) -> bool:
        """Process up to ``max_samples`` more samples; returns :attr:`done`."""
        if self.done:
            return True
        assert self._stream is not None and self.rate_hz is not None
        chunk = self.samples[self._next : self._next + max(1, int(max_samples))]
        self._parts.append(self._stream.process(chunk))
        self._next += len(chunk)
        if self._next >= len(self.samples):
            angles = np.concatenate(self._parts)
            self._parts = []
            live = live_trial_angles(
                angles,
                self.rate_hz,
                index=self.trial.index,
                label=self.trial.label,
                excluded=self.recording.excluded if self.recording else (),
                samples=self.samples,
            )
            self.result = TrialAngles(
                **{**live.__dict__, "exact": self.exact}  # frozen: rebuild with the flag
            )
            self.done = True
        return self.done

    def run(self) -> TrialAngles | None:
        while not self.step(1 << 30):
            pass
        return self.result


def stored_trial_angles(trial: TrialRecord, calibration: Calibration) -> TrialAngles | None:
    """THE way a stored trial becomes angles (None below 2 samples): the live path's own angles,
    replayed exactly from the stored estimator state (legacy trials: from a warm start)."""
    return ReplayJob(trial, calibration).run()


# --- numbers ------------------------------------------------------------------------------------


def trial_metrics(angles: TrialAngles, edges: EdgeAngles) -> dict[str, Any]:
    """THE balance metrics of one trial (:func:`wobble_trainer.metrics.compute` of its angles,
    excluded rows as gaps, at the trial's own rate); {} with fewer than
    :data:`MIN_VALID_SAMPLES` valid angles. Carries ``analysis_version``."""
    pitch, roll = angles.for_metrics()
    if np.count_nonzero(~np.isnan(pitch)) < MIN_VALID_SAMPLES:
        return {}
    out = metrics.compute(pitch, roll, angles.rate_hz, edges)
    out["analysis_version"] = ANALYSIS_VERSION
    return out


def truth_error(angles: TrialAngles, edges: EdgeAngles) -> dict[str, Any] | None:
    """How far a simulated trial's angles are from the simulator's truth: RMS inclination error
    (°) and the OSI of the true angles beside the measured one; None without truth."""
    if angles.true_pitch_deg is None or angles.true_roll_deg is None:
        return None
    dp = angles.pitch_deg - angles.true_pitch_deg
    dr = angles.roll_deg - angles.true_roll_deg
    ok = np.isfinite(dp) & np.isfinite(dr)
    if np.count_nonzero(ok) < MIN_VALID_SAMPLES:
        return None
    true = TrialAngles(
        angles.index,
        angles.label,
        angles.rate_hz,
        angles.t,
        angles.true_pitch_deg,
        angles.true_roll_deg,
        angles.excluded,
    )
    measured = trial_metrics(angles, edges)
    truth = trial_metrics(true, edges)
    return {
        "rms_error_deg": float(np.sqrt(np.mean(dp[ok] ** 2 + dr[ok] ** 2))),
        "osi": measured.get("osi"),
        "true_osi": truth.get("osi"),
    }


def _balance_keys() -> frozenset[str]:
    t = np.linspace(0.0, 1.0, 32)
    demo = TrialAngles(0, "", 32.0, t, np.sin(7 * t), np.cos(5 * t))
    return frozenset(trial_metrics(demo, EdgeAngles(0.3, 0.3, 0.3, 0.3)))


BALANCE_KEYS = _balance_keys()
"""The keys :func:`trial_metrics` produces: what ``wobble recompute`` may replace."""
