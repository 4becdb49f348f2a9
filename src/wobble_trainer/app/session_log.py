"""Keeping what an activity or test measured: its raw samples, angles, events and metrics.

A :class:`SessionLog` is opened by an activity when it starts. Between :meth:`begin_trial` and
:meth:`end_trial` it collects every board angle at full rate and the raw samples the live
estimator computed them from — both fed once a frame by the app through
:attr:`AppContext.angle_listeners`, so the estimator runs once for everyone. At
:meth:`begin_trial` it takes the estimator's full state (:attr:`AppContext.tilt_state`); that
state, the samples, their gaps and the rows left out of the metrics are stored with the trial
(:class:`wobble_trainer.analysis.TrialRecording`), so the stored trial replays to exactly the
angles shown live, and every report shows the same numbers. Each trial is stored in its own
transaction when it ends, so a power cut loses at most the trial in progress. Without a database
(or with a full or read-only disk) the session still runs: a trial that could not be stored is
kept in memory (:attr:`SessionLog.unsaved`) and stored with the next trial or at the end if the
disk has room again; the problem is kept in :attr:`error`, shown in the app's banner at once and
on the results screen.

Scene tests publish angles without samples; the log then reads raw samples from
:attr:`AppContext.sample_reader` for storage (no exact replay: there is no live estimator).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from wobble_trainer.analysis import (
    TrialAngles,
    clip_ranges,
    live_trial_angles,
    nominal_rate_hz,
    recording_for,
)
from wobble_trainer.app.scene import AppContext
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.storage import StorageError
from wobble_trainer.tilt.calibration import to_json_dict
from wobble_trainer.tilt.stream import ANGLE_DTYPE

MAX_UNSAVED_TRIALS = 20
"""Trials kept in memory while the disk refuses them (a few MB each at 1 kHz); older ones go."""


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
        self._start_state: dict[str, Any] | None = None
        self.recording = False
        self.trials = 0
        """Trials stored."""
        self.ended = 0
        """Trials ended (stored or not)."""
        self.last_trial: TrialAngles | None = None
        """The angles of the trial :meth:`end_trial` ended last (what its metrics come from)."""
        self.unsaved: list[dict[str, Any]] = []
        """Trials the database refused (the :meth:`add_trial` arguments), kept to try again."""

    def _failed(self, what: str, exc: StorageError) -> None:
        """Keep the reason for the results screen and say it now, over whatever is on screen."""
        first = not self.error
        self.error = f"{what} could not be saved: {exc}"
        if first:
            self.app.warn(self.error + " Training goes on; the session is kept in memory.")

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
            self._failed("This session", exc)

    def begin_trial(self) -> None:
        """Start collecting from the next frame on, remembering the estimator's state now."""
        self._samples.clear()
        self._angles.clear()
        self._start_state = self.app.tilt_state() if self.app.tilt_state else None
        self._reader = None
        if self._start_state is None and self.app.sample_reader:
            self._reader = self.app.sample_reader()
        if self._on_angles not in self.app.angle_listeners:
            self.app.angle_listeners.append(self._on_angles)
        self.recording = True

    def _on_angles(self, angles: np.ndarray, samples: np.ndarray | None = None) -> None:
        if not self.recording:
            return
        if len(angles):
            self._angles.append(angles.copy())
        if samples is not None and self._reader is None:
            if len(samples):
                self._samples.append(samples.copy())
        elif self._reader is not None:
            new = self._reader.read_new()
            if len(new):
                self._samples.append(new)

    def trial_angles(self) -> np.ndarray:
        """The angles collected in the trial so far."""
        return np.concatenate(self._angles) if self._angles else np.empty(0, dtype=ANGLE_DTYPE)

    def end_trial(
        self,
        label: str = "",
        events: list[Any] | None = None,
        excluded: Sequence[tuple[int, int]] = (),
    ) -> np.ndarray:
        """Stop collecting, store the trial; returns its angles (``ANGLE_DTYPE``).

        ``excluded`` are row ranges [start, stop) of the trial the metrics leave out (pauses).
        :attr:`last_trial` then holds the trial's :class:`TrialAngles`, whose
        :func:`~wobble_trainer.analysis.trial_metrics` are the trial's numbers everywhere.
        """
        if self._reader is not None:
            self._on_angles(np.empty(0, dtype=ANGLE_DTYPE))  # the samples of the last frame
        self.recording = False
        angles = self.trial_angles()
        samples = np.concatenate(self._samples) if self._samples else np.zeros(0, SAMPLE_DTYPE)
        rate = self.app.tilt_rate_hz or nominal_rate_hz(angles["t"]) or 0.0
        exact = self._start_state is not None and len(samples) == len(angles)
        recording = recording_for(
            samples, rate, self._start_state if exact else None, excluded
        )
        self.last_trial = (
            live_trial_angles(
                angles,
                rate,
                index=self.ended,
                label=label,
                excluded=clip_ranges(excluded, len(angles)),
                samples=samples if exact else None,
            )
            if len(angles) and rate > 0
            else None
        )
        if len(samples) and self.app.db is not None:
            truth = None
            if exact and np.all(np.isfinite(samples["true_pitch"])):
                truth = (samples["true_pitch"], samples["true_roll"])
            self.unsaved.append(
                {
                    "t": samples["t"],
                    "acc": samples["acc"],
                    "gyr": samples["gyr"],
                    "label": label,
                    "events": events or [],
                    "analysis": recording.to_json() if rate > 0 else None,
                    "truth": truth,
                }
            )
            del self.unsaved[:-MAX_UNSAVED_TRIALS]
        self._store_unsaved()
        self._samples.clear()
        self.ended += 1
        return angles

    def _store_unsaved(self) -> None:
        """Store the trials kept in memory, oldest first, as long as the database takes them
        (and the session itself, if even that could not be created)."""
        if self.app.db is None or not self.unsaved:
            return
        if self.session_id is None:
            self.start()
            if self.session_id is None:
                return
        while self.unsaved:
            trial = self.unsaved[0]
            try:
                self.app.db.sessions.add_trial(
                    self.session_id,
                    trial["t"],
                    trial["acc"],
                    trial["gyr"],
                    label=trial["label"],
                    events=trial["events"],
                    analysis=trial["analysis"],
                    truth=trial["truth"],
                )
            except StorageError as exc:
                self._failed(f"Trial {self.trials + 1}", exc)
                return
            self.unsaved.pop(0)
            self.trials += 1

    def finish(self, metrics: dict[str, Any] | None = None, events: list[Any] | None = None):
        """Close the session with its metrics."""
        self.recording = False
        if self._on_angles in self.app.angle_listeners:
            self.app.angle_listeners.remove(self._on_angles)
        self._store_unsaved()
        if self.session_id is None or self.unsaved:
            return  # the session stays open (unfinished) rather than finished without a trial
        try:
            self.app.db.sessions.finish(self.session_id, metrics=metrics, events=events or [])
        except StorageError as exc:
            self._failed("The session's results", exc)
            return
        if self.error:
            self.error = ""  # everything reached the disk in the end
