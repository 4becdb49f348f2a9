"""Keeping what an activity or test measured: its raw samples, angles, events and metrics.

A :class:`SessionLog` is opened by an activity when it starts. Between :meth:`begin_trial` and
:meth:`end_trial` it collects every raw sample (for ``wobble recompute`` and exports) and every
board angle at full rate (for the metrics) — fed once a frame by the app through
:attr:`AppContext.angle_listeners`, so the estimator runs once for everyone. Each trial is stored
in its own transaction when it ends, so a power cut loses at most the trial in progress. Without
a database (or with a full disk) the session still runs; the problem is kept in :attr:`error`
for the results screen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wobble_trainer.app.scene import AppContext
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.storage import StorageError
from wobble_trainer.tilt.calibration import to_json_dict
from wobble_trainer.tilt.stream import ANGLE_DTYPE


class SessionLog:
    """One session of ``kind`` (an activity or protocol name) for the current profile."""

    def __init__(self, app: AppContext, kind: str, settings: dict[str, Any]) -> None:
        self.app = app
        self.kind = kind
        self.settings = settings
        self.session_id: int | None = None
        self.error = ""
        self._reader: Any = None
        self._samples: list[np.ndarray] = []
        self._angles: list[np.ndarray] = []
        self.recording = False
        self.trials = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Create the session in the database (when there is one and somebody to keep it for)."""
        db = self.app.db
        if db is None:
            return
        try:
            profile = self.app.profile or db.profiles.guest()
            cal = self.app.calibration
            record = db.sessions.start(
                profile.id,
                self.kind,
                settings=self.settings,
                calibration=None if cal.uncalibrated else to_json_dict(cal),
                edge_angles={k: float(np.degrees(v)) for k, v in cal.edge_angles.as_dict().items()},
            )
            self.session_id = record.id
        except StorageError as exc:
            self.error = str(exc)

    def begin_trial(self) -> None:
        """Start collecting samples and angles from now on."""
        self._samples.clear()
        self._angles.clear()
        self._reader = self.app.sample_reader() if self.app.sample_reader else None
        if self._on_angles not in self.app.angle_listeners:
            self.app.angle_listeners.append(self._on_angles)
        self.recording = True

    def _on_angles(self, angles: np.ndarray) -> None:
        if not self.recording:
            return
        if len(angles):
            self._angles.append(angles.copy())
        if self._reader is not None:
            new = self._reader.read_new()
            if len(new):
                self._samples.append(new)

    def trial_angles(self) -> np.ndarray:
        """The angles collected in the trial so far."""
        return np.concatenate(self._angles) if self._angles else np.empty(0, dtype=ANGLE_DTYPE)

    def end_trial(self, label: str = "", events: list[Any] | None = None) -> np.ndarray:
        """Stop collecting, store the trial; returns its angles (``ANGLE_DTYPE``)."""
        self._on_angles(np.empty(0, dtype=ANGLE_DTYPE))  # the samples of the last frame
        self.recording = False
        angles = self.trial_angles()
        samples = np.concatenate(self._samples) if self._samples else np.zeros(0, SAMPLE_DTYPE)
        if self.session_id is not None and len(samples):
            try:
                self.app.db.sessions.add_trial(
                    self.session_id,
                    samples["t"],
                    samples["acc"],
                    samples["gyr"],
                    label=label,
                    events=events or [],
                )
                self.trials += 1
            except StorageError as exc:
                self.error = str(exc)
        self._samples.clear()
        return angles

    def finish(self, metrics: dict[str, Any] | None = None, events: list[Any] | None = None):
        """Close the session with its metrics."""
        self.recording = False
        if self._on_angles in self.app.angle_listeners:
            self.app.angle_listeners.remove(self._on_angles)
        if self.session_id is None:
            return
        try:
            self.app.db.sessions.finish(self.session_id, metrics=metrics, events=events or [])
        except StorageError as exc:
            self.error = str(exc)
