"""What every report and export reads about a stored session: who, the calibration in use, and the
board angles of its trials.

Reports never trust angles kept elsewhere: a trial's angles are the live path's, replayed from the
stored raw trace and estimator state by the one function that does that,
:func:`wobble_trainer.analysis.stored_trial_angles` (or :class:`~wobble_trainer.analysis.ReplayJob`
in slices, so the app can export while it keeps drawing), with the calibration stored with the
session, or the uncalibrated default when there was none. The stored edge angles (degrees per
direction) are used for edge touches either way, and the numbers come from
:func:`wobble_trainer.analysis.trial_metrics`.
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

from wobble_trainer.analysis import (
    ANALYSIS_VERSION,
    TrialAngles,
    recording_of,
    stored_trial_angles,
    trial_metrics,
)
from wobble_trainer.storage import Database, Profile, SessionRecord, TrialRecord
from wobble_trainer.tilt.calibration import (
    Calibration,
    CalibrationError,
    EdgeAngles,
    from_json_dict,
)
from wobble_trainer.tilt.estimator import ESTIMATOR_VERSION
from wobble_trainer.units import DEG

LEGS = ("left", "right")
_LEG_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)
_EYES_WORD = re.compile(r"\beyes[\s_-]*(open|closed)\b", re.IGNORECASE)
_PRACTICE_WORD = re.compile(r"\bpractice\b", re.IGNORECASE)


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
        """The metrics of each entry of :attr:`angles` (:func:`analysis.trial_metrics`, computed
        once, then kept; None for a trial too short to measure)."""
        if self._metrics is None or len(self._metrics) != len(self.angles):
            self._metrics = [trial_metrics(a, self.edges) or None for a in self.angles]
        return self._metrics

    def analysis_lines(self) -> list[str]:
        """What the numbers come from, for reports and exports: the sample rate, the estimator
        and its version, the filtering, the analysis version, and whether the angles are the
        live path's exactly."""
        rates = sorted({round(a.rate_hz, 3) for a in self.angles})
        rate = ", ".join(f"{r:g}" for r in rates) or "-"
        exact = all(a.exact for a in self.angles)
        versions = sorted(
            {r.version for t in self.trials if (r := _recording(t)) is not None}
        ) or ["recorded before analysis versions"]
        return [
            f"Sample rate {rate} Hz; tilt estimator {ESTIMATOR_VERSION} (6-axis quaternion "
            "filter, gravity low-pass and gyro-bias estimation at 20 Hz; no further filtering "
            "of the angles)",
            f"Analysis {ANALYSIS_VERSION}; recorded with {', '.join(versions)}; angles "
            + ("replayed exactly from the live estimator's state" if exact
               else "re-estimated from the raw samples (no stored estimator state)"),
        ]

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
    (fill :attr:`SessionBundle.angles` yourself, e.g. with
    :class:`~wobble_trainer.analysis.ReplayJob` slices)."""
    session = db.sessions.get(session_id)
    profile = db.profiles.get(session.profile_id)
    trials = db.sessions.load_trace(session_id)
    calibration, note = session_calibration(session)
    bundle = SessionBundle(profile, session, trials, calibration, note)
    if with_angles:
        for trial in trials:
            angles = stored_trial_angles(trial, calibration)
            if angles is not None:
                bundle.angles.append(angles)
    return bundle


def _recording(trial: TrialRecord):
    try:
        return recording_of(trial)
    except ValueError:
        return None
