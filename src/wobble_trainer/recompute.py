"""``wobble recompute``: re-derive stored sessions' metrics from their raw traces.

When the tilt estimator or the metrics improve, past sessions can be brought up to date: for each
session the raw trials are reloaded
(:meth:`~wobble_trainer.storage.sessions.SessionStore.load_trace`), run through the estimator
as the live app runs it (its :class:`~wobble_trainer.tilt.stream.TiltStream`, the code of
:func:`~wobble_trainer.tilt.stream.angles_for_samples`, with the calibration stored with the
session, or the uncalibrated default when it had none), the metrics recomputed with
:func:`wobble_trainer.metrics.compute` and the session's stored edge angles, and stored with the
current software version (:meth:`~wobble_trainer.storage.sessions.SessionStore.update_metrics`).

What is replaced: the keys :func:`metrics.compute` produces. What stays: everything else in the
stored metrics (an activity's ``score``, test-specific results), which the raw trace alone cannot
re-derive. A session of several trials gets top-level metrics over all its trials (joined with a
one-sample gap, so no path is counted across the pause between trials) and per-trial metrics
under ``"trials"``.

The live estimator has been running for minutes when a trial begins; started cold here, it would
spend the trial's first moments aligning, and that would enter the metrics. So it first rests
for :data:`WARM_UP_S` at the trial's starting pose (:func:`warm_up_samples`), then runs the
trial from its first sample.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wobble_trainer import __version__, metrics
from wobble_trainer.sampling.samples import make_samples
from wobble_trainer.tilt.calibration import (
    Calibration,
    CalibrationError,
    EdgeAngles,
    from_json_dict,
)
from wobble_trainer.tilt.stream import TiltStream
from wobble_trainer.units import DEG

MIN_SAMPLES = 10
"""A trial shorter than this is not measured (as the live path, which needs > 10 angles)."""
WARM_UP_S = 2.0
"""How long the estimator rests at a trial's first pose before the trial (see
:func:`warm_up_samples`)."""
WARM_UP_POSE_S = 0.05
"""The first pose is the accelerometer's mean over this much of the trial."""
REL_TOLERANCE = 1e-9
"""Values closer than this (relative) are reported unchanged (JSON round trips, float noise)."""


class RecomputeError(ValueError):
    """A session cannot be recomputed; the message says why."""


@dataclass
class Change:
    """One metric whose value changed."""

    key: str
    """Dotted path, e.g. ``"osi"`` or ``"zone_pct.0-5"``."""
    old: Any
    new: Any


@dataclass
class SessionResult:
    """What recomputing one session did."""

    session_id: int
    kind: str
    skipped: str = ""
    """Why the session was left alone ("" when it was recomputed)."""
    changes: list[Change] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    """The new metrics (also for a dry run)."""


def rate_from_times(t: np.ndarray) -> float:
    """The sample rate of a stored trace, Hz.

    Sample times are the sampler's ``t0 + k/ODR`` (the chip's clock), so the median step is the
    period exactly, and dropped samples (longer steps) do not bias it.
    """
    steps = np.diff(np.asarray(t, dtype=float))
    steps = steps[steps > 0]
    if steps.size == 0:
        raise RecomputeError("the trace's sample times do not advance")
    return float(1.0 / np.median(steps))


def samples_from_trace(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float):
    """Sample rows as the sampler delivered them, ``gap_before`` restored from the times."""
    samples = make_samples(t, acc, gyr)
    if len(t) > 1:
        missing = np.diff(t) - 1.0 / rate_hz
        # Jitter is not a gap: only count steps over one and a half periods.
        samples["gap_before"][1:] = np.where(missing > 0.5 / rate_hz, missing, 0.0)
    return samples


def warm_up_samples(samples: np.ndarray, rate_hz: float, calibration: Calibration) -> np.ndarray:
    """:data:`WARM_UP_S` of the board resting at the trial's starting pose, just before it.

    The live estimator has been running for minutes when a trial begins; started cold on the
    trial it would spend its first moments aligning (the identity, then the measured tilt) and
    that start-up would enter the metrics. These samples give it the state a board resting at
    the first pose would have given it: the accelerometer's mean over the first
    :data:`WARM_UP_POSE_S`, the gyroscope reading its calibrated bias (i.e. not rotating).
    """
    n = max(1, round(WARM_UP_S * rate_hz))
    k = max(1, min(len(samples), round(WARM_UP_POSE_S * rate_hz)))
    t0 = float(samples["t"][0])
    acc = np.tile(samples["acc"][:k].mean(axis=0), (n, 1))
    gyr = np.tile(np.asarray(calibration.gyro_bias, dtype=float), (n, 1))
    return make_samples(t0 - np.arange(n, 0, -1) / rate_hz, acc, gyr)


def trial_angles(samples: np.ndarray, rate_hz: float, calibration: Calibration) -> np.ndarray:
    """Board angles of one trial: the live path's :class:`~wobble_trainer.tilt.stream.TiltStream`
    (what :func:`~wobble_trainer.tilt.stream.angles_for_samples` runs), warmed up at the trial's
    starting pose first (:func:`warm_up_samples`)."""
    stream = TiltStream(None, rate_hz, calibration)
    stream.process(warm_up_samples(samples, rate_hz, calibration))
    return stream.process(samples)


def calibration_of(text: str | None) -> Calibration:
    """The calibration stored with a session (JSON text), or the uncalibrated default."""
    if text is None:
        return Calibration.default()
    try:
        return from_json_dict(json.loads(text))
    except (ValueError, CalibrationError) as exc:
        raise RecomputeError(f"its stored calibration is not usable ({exc})") from exc


def edge_angles_of(text: str | None, calibration: Calibration) -> EdgeAngles:
    """The edge angles stored with a session (degrees per direction), else the calibration's."""
    if text is None:
        return calibration.edge_angles
    try:
        data = json.loads(text)
        edges = {k: float(data[k]) * DEG for k in ("front", "back", "left", "right")}
    except (ValueError, TypeError, KeyError) as exc:
        raise RecomputeError(f"its stored edge angles are not usable ({exc})") from exc
    if not all(math.isfinite(v) and v > 0 for v in edges.values()):
        raise RecomputeError(f"its stored edge angles are not usable ({data})")
    return EdgeAngles(**edges)


def _compute(angle_blocks: list[np.ndarray], rate_hz: float, edges: EdgeAngles) -> dict[str, Any]:
    pitch = np.concatenate([b["pitch"] for b in angle_blocks]) / DEG
    roll = np.concatenate([b["roll"] for b in angle_blocks]) / DEG
    return metrics.compute(pitch, roll, rate_hz, edges)


def recompute_session(db: Any, session_id: int) -> SessionResult:
    """New metrics of one session from its raw trials (nothing is stored)."""
    session = db.sessions.get(session_id)
    result = SessionResult(session.id, session.kind)
    try:
        calibration = calibration_of(session.calibration)
        edges = edge_angles_of(session.edge_angles, calibration)
    except RecomputeError as exc:
        result.skipped = str(exc)
        return result
    trials = [tr for tr in db.sessions.load_trace(session.id) if tr.sample_count >= MIN_SAMPLES]
    if not trials:
        result.skipped = "no raw trace long enough to measure"
        return result
    blocks: list[np.ndarray] = []
    per_trial: list[dict[str, Any]] = []
    rates: list[float] = []
    for trial in trials:
        try:
            rate = rate_from_times(trial.t)
        except RecomputeError as exc:
            result.skipped = f"trial {trial.index + 1}: {exc}"
            return result
        samples = samples_from_trace(trial.t, trial.acc, trial.gyr, rate)
        angles = trial_angles(samples, rate, calibration)
        blocks.append(angles)
        # The metrics' rate as the live path takes it: from the angles' own time span.
        span = float(angles["t"][-1] - angles["t"][0])
        rates.append((len(angles) - 1) / span if span > 0 else rate)
        per_trial.append(_compute([angles], rates[-1], edges))
    old = dict(session.metrics or {})
    new = dict(old)
    if len(blocks) == 1:
        new.update(per_trial[0])
    else:
        # One NaN sample between trials: a gap, so no path is counted across the pause.
        gap = np.full(1, np.nan, dtype=blocks[0].dtype)
        joined: list[np.ndarray] = []
        for i, block in enumerate(blocks):
            if i:
                joined.append(gap)
            joined.append(block)
        new.update(_compute(joined, float(np.median(rates)), edges))
        new["trials"] = [
            {"label": trial.label, **m} for trial, m in zip(trials, per_trial, strict=True)
        ]
    result.metrics = new
    result.changes = diff_metrics(old, new)
    return result


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return a == b


def diff_metrics(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every leaf value that differs between two metric dicts (added and removed ones too)."""
    a, b = _flatten(old), _flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b or not _same(a[key], b[key]):
            changes.append(Change(key, a.get(key), b.get(key)))
    return changes


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# --- command ------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``wobble recompute``."""
    parser.description = (
        "Recompute stored sessions' metrics from their raw traces with this version's tilt "
        "estimator and metrics."
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--session", type=int, action="append", metavar="ID", help="this session (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every stored session")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change; store nothing"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="the data directory (default: the state directory)",
    )
    parser.add_argument("--quiet", action="store_true", help="only the summary line")


def run(args: argparse.Namespace) -> int:
    """Recompute the chosen sessions; prints each change. 0 when every chosen session was
    recomputed (or had no trace), 1 when one failed, 2 for an unknown session id."""
    from wobble_trainer.storage import NotFoundError, StorageError, open_database

    out = sys.stdout
    try:
        db = open_database(args.data_dir)
    except StorageError as exc:
        print(f"Cannot open the database: {exc}", file=sys.stderr)
        return 1
    with db:
        if args.all:
            ids = [s.id for s in db.sessions.iter_sessions()]
        else:
            ids = list(dict.fromkeys(args.session))
            for session_id in ids:
                try:
                    db.sessions.get(session_id)
                except NotFoundError:
                    print(f"There is no session {session_id}.", file=sys.stderr)
                    return 2
        counts = {"changed": 0, "unchanged": 0, "skipped": 0, "failed": 0}
        for session_id in ids:
            try:
                result = recompute_session(db, session_id)
            except (StorageError, ValueError) as exc:
                counts["failed"] += 1
                print(f"session {session_id}: FAILED: {exc}", file=sys.stderr)
                continue
            if result.skipped:
                counts["skipped"] += 1
                if not args.quiet:
                    print(
                        f"session {session_id} ({result.kind}): skipped: {result.skipped}", file=out
                    )
                continue
            if result.changes:
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
            if not args.dry_run:
                db.sessions.update_metrics(session_id, result.metrics, __version__)
            if args.quiet:
                continue
            if not result.changes:
                print(f"session {session_id} ({result.kind}): unchanged", file=out)
                continue
            print(f"session {session_id} ({result.kind}): {len(result.changes)} changed", file=out)
            for change in result.changes:
                print(f"  {change.key}: {_show(change.old)} -> {_show(change.new)}", file=out)
    verb = "would change" if args.dry_run else "changed"
    print(
        f"{len(ids)} sessions: {counts['changed']} {verb}, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed"
        + (" (dry run: nothing stored)" if args.dry_run else f" (metrics version {__version__})"),
        file=out,
    )
    return 1 if counts["failed"] else 0
