"""What every report and export reads about a stored session: who, the calibration in use, and the
board angles recomputed from the raw trace.

Reports never trust angles kept elsewhere: the raw trace (t, acc, gyr) is the record, so the
angles are recomputed exactly as the live path computes them
(:func:`wobble_trainer.tilt.stream.angles_for_samples`, through :class:`TiltStream`) with the
calibration stored with the session, or the uncalibrated default when there was none. The stored
edge angles (degrees per direction) are used for edge touches either way.

:class:`AngleJob` does the recomputation in slices, so the app can export while it keeps drawing
(a minute at 1 kHz is 60,000 estimator steps: seconds on a Raspberry Pi).
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from wobble_trainer import metrics
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.storage import Database, Profile, SessionRecord, TrialRecord
from wobble_trainer.tilt.calibration import (
    Calibration,
    CalibrationError,
    EdgeAngles,
    from_json_dict,
)
from wobble_trainer.tilt.stream import TiltStream
from wobble_trainer.units import DEG

GAP_FACTOR = 1.5
"""A step longer than this many nominal sample periods is a gap (samples were lost)."""

LEGS = ("left", "right")
_LEG_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)
_EYES_WORD = re.compile(r"\beyes[\s_-]*(open|closed)\b", re.IGNORECASE)
_PRACTICE_WORD = re.compile(r"\bpractice\b", re.IGNORECASE)


# --- the raw trace ------------------------------------------------------------------------------


def nominal_rate_hz(t: np.ndarray) -> float | None:
    """The sample rate of a trace from its median step (robust to a few gaps); None below 2
    samples or when the time stamps do not advance."""
    if len(t) < 2:
        return None
    step = float(np.median(np.diff(np.asarray(t, dtype=float))))
    if not math.isfinite(step) or step <= 0.0:
        return None
    return 1.0 / step


def samples_of(trial: TrialRecord) -> np.ndarray:
    """The trial's raw trace as a sampler batch (:data:`SAMPLE_DTYPE`), ``gap_before`` restored
    from the time stamps so the estimator restarts after a long hole as it did live."""
    out = np.zeros(trial.sample_count, dtype=SAMPLE_DTYPE)
    out["t"] = trial.t
    out["acc"] = trial.acc
    out["gyr"] = trial.gyr
    out["true_pitch"] = np.nan
    out["true_roll"] = np.nan
    rate = nominal_rate_hz(trial.t)
    if rate is not None and trial.sample_count > 1:
        period = 1.0 / rate
        dt = np.diff(trial.t)
        gap = np.where(dt > GAP_FACTOR * period, dt - period, 0.0)
        out["gap_before"][1:] = gap
    return out


# --- calibration and edges ----------------------------------------------------------------------


def _edges_from_json(text: str | None) -> EdgeAngles | None:
    """The session's stored edge angles (JSON degrees per direction), if usable."""
    if not text:
        return None
    try:
        data = json.loads(text)
        values = {k: float(data[k]) * DEG for k in ("front", "back", "left", "right")}
    except (ValueError, TypeError, KeyError):
        return None
    if not all(math.isfinite(v) and 0.0 < v < math.pi / 2 for v in values.values()):
        return None
    return EdgeAngles(**values)


def session_calibration(session: SessionRecord) -> tuple[Calibration, str]:
    """The calibration the session was recorded with, and a note saying where it came from.

    No stored calibration (an uncalibrated board) or an unreadable one gives the uncalibrated
    default, with the session's stored edge angles when it has them.
    """
    note = "calibrated"
    calibration: Calibration | None = None
    if session.calibration:
        try:
            calibration = from_json_dict(json.loads(session.calibration))
        except (ValueError, CalibrationError) as exc:
            note = f"stored calibration unusable ({exc}); uncalibrated default used"
    else:
        note = "uncalibrated board (identity mounting, no gyro bias correction)"
    if calibration is None:
        calibration = Calibration.default()
    edges = _edges_from_json(session.edge_angles)
    if edges is not None:
        calibration = replace(calibration, edge_angles=edges)
    return calibration, note


# --- angles -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrialAngles:
    """One trial's board angles recomputed from its raw trace (degrees, time from its start)."""

    index: int
    label: str
    rate_hz: float
    t: np.ndarray
    """(n,) s from the trial's first sample."""
    pitch_deg: np.ndarray
    """(n,) > 0: toes down."""
    roll_deg: np.ndarray
    """(n,) > 0: right edge down."""

    @property
    def duration_s(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0

    def metrics(self, edges: EdgeAngles) -> dict[str, Any] | None:
        """:func:`wobble_trainer.metrics.compute` of this trial; None below 2 samples."""
        if len(self.t) < 2:
            return None
        return metrics.compute(self.pitch_deg, self.roll_deg, self.rate_hz, edges)


class AngleJob:
    """Recompute one trial's angles a slice at a time: :meth:`step` until :attr:`done`.

    The result equals :func:`wobble_trainer.tilt.stream.angles_for_samples` over the whole trace
    (the same :class:`TiltStream`, fed in order; its state carries across slices).
    """

    def __init__(self, trial: TrialRecord, calibration: Calibration) -> None:
        self.trial = trial
        self.samples = samples_of(trial)
        self.rate_hz = nominal_rate_hz(trial.t)
        self._stream = (
            TiltStream(None, self.rate_hz, calibration) if self.rate_hz is not None else None
        )
        self._parts: list[np.ndarray] = []
        self._next = 0
        self.result: TrialAngles | None = None
        self.done = self._stream is None
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
            self.result = TrialAngles(
                index=self.trial.index,
                label=self.trial.label,
                rate_hz=self.rate_hz,
                t=angles["t"] - angles["t"][0],
                pitch_deg=np.degrees(angles["pitch"]),
                roll_deg=np.degrees(angles["roll"]),
            )
            self.done = True
        return self.done

    def run(self) -> TrialAngles | None:
        """Process everything at once."""
        while not self.step(1 << 30):
            pass
        return self.result


def trial_angles(trial: TrialRecord, calibration: Calibration) -> TrialAngles | None:
    """One trial's angles (None below 2 samples)."""
    return AngleJob(trial, calibration).run()


# --- people and labels --------------------------------------------------------------------------


def leg_of(trial: TrialRecord, session: SessionRecord) -> str | None:
    """Which leg a trial stood on: a "left"/"right" word in its label, else the session's
    ``stance`` / ``leg`` setting; None for two-legged or unknown."""
    found = _LEG_WORD.search(trial.label or "")
    if found:
        return found.group(1).lower()
    for key in ("stance", "leg", "side"):
        value = session.settings.get(key)
        if isinstance(value, str) and value.lower() in LEGS:
            return value.lower()
    return None


def eyes_closed_of(trial: TrialRecord, session: SessionRecord) -> bool:
    """Whether a trial was done with eyes closed: "eyes-closed"/"eyes open" in its label (the
    protocols' labels, e.g. ``"left/eyes-closed/trial 2"``), else the session's ``eyes_closed``
    setting (or ``eyes`` = "closed")."""
    found = _EYES_WORD.search(trial.label or "")
    if found:
        return found.group(1).lower() == "closed"
    closed = session.settings.get("eyes_closed")
    if isinstance(closed, bool):
        return closed
    return str(session.settings.get("eyes", "")).lower() == "closed"


def is_practice(trial: TrialRecord) -> bool:
    """A practice trial (stored, but left out of summaries): "practice" in its label."""
    return bool(_PRACTICE_WORD.search(trial.label or ""))


def kind_title(kind: str) -> str:
    """A readable title for a session kind: the registered activity's or protocol's title when
    the app has registered it, else the name tidied (``"test:single_leg_stance"`` →
    ``"Test: Single leg stance"``)."""
    # Registries are only looked at when the app has loaded them (reports need no pygame).
    scene_module = sys.modules.get("wobble_trainer.app.scene")
    activities = getattr(scene_module, "ACTIVITIES", {}) if scene_module else {}
    if kind in activities:
        return str(activities[kind].title)
    protocol_module = sys.modules.get("wobble_trainer.app.protocols.base")
    protocols = getattr(protocol_module, "PROTOCOLS", {}) if protocol_module else {}
    name = kind.split(":", 1)[1] if kind.startswith("test:") else None
    if name in protocols:
        return str(protocols[name].title)
    parts = [p.replace("_", " ").replace("-", " ").strip() for p in kind.split(":")]
    return ": ".join(p[:1].upper() + p[1:] for p in parts if p) or kind


def slug(text: str, fallback: str = "x") -> str:
    """A file-name-safe, ASCII, lower-case form of ``text`` (FAT32 and every OS accept it)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return cleaned[:60] or fallback


@dataclass
class SessionBundle:
    """A session with everything a report needs: who, trials, calibration, recomputed angles."""

    profile: Profile
    session: SessionRecord
    trials: list[TrialRecord]
    calibration: Calibration
    calibration_note: str
    angles: list[TrialAngles] = field(default_factory=list)
    """One per trial that has at least 2 samples, in trial order."""
    _metrics: list[dict[str, Any] | None] | None = field(default=None, repr=False)

    @property
    def age_years(self) -> int | None:
        return self.profile.age_on(self.session.day)

    @property
    def edges(self) -> EdgeAngles:
        return self.calibration.edge_angles

    @property
    def day(self) -> date:
        return self.session.day

    def trial_metrics(self) -> list[dict[str, Any] | None]:
        """Recomputed metrics of each entry of :attr:`angles` (computed once, then kept)."""
        if self._metrics is None or len(self._metrics) != len(self.angles):
            self._metrics = [a.metrics(self.edges) for a in self.angles]
        return self._metrics

    def trial(self, index: int) -> TrialRecord:
        """The stored trial with this 0-based index."""
        for trial in self.trials:
            if trial.index == index:
                return trial
        raise KeyError(index)

    def trial_time_s(self, trial: TrialRecord) -> float:
        """How long the trial ran: the time the activity or protocol recorded for it (its
        ``time_s`` in the session's ``trials`` summary, matched by label), else the duration of
        its raw trace."""
        summary = (self.session.metrics or {}).get("trials")
        if isinstance(summary, list) and trial.label:
            for entry in summary:
                if isinstance(entry, dict) and entry.get("label") == trial.label:
                    value = entry.get("time_s")
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        return float(value)
        return trial.duration_s


def load_bundle(db: Database, session_id: int, *, with_angles: bool = True) -> SessionBundle:
    """Read a session, its profile and trials; recompute angles unless ``with_angles`` is False
    (fill :attr:`SessionBundle.angles` yourself, e.g. with :class:`AngleJob` slices)."""
    session = db.sessions.get(session_id)
    profile = db.profiles.get(session.profile_id)
    trials = db.sessions.load_trace(session_id)
    calibration, note = session_calibration(session)
    bundle = SessionBundle(profile, session, trials, calibration, note)
    if with_angles:
        for trial in trials:
            angles = trial_angles(trial, calibration)
            if angles is not None:
                bundle.angles.append(angles)
    return bundle
