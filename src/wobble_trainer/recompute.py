"""``wobble recompute``: re-analyse stored sessions from their raw traces.

A re-analysis, not a rewrite. Each stored trial is turned into angles by the one function that does
that (:func:`wobble_trainer.analysis.stored_trial_angles`: the live path's angles, replayed from the
stored estimator state) and into numbers by :func:`wobble_trainer.analysis.trial_metrics`, with the
session's stored calibration and edge angles. With the same analysis version this reproduces the
stored numbers exactly, so nothing changes and nothing is written. With a newer estimator or
metrics (:data:`~wobble_trainer.analysis.ANALYSIS_VERSION`), the new numbers become the session's
and the replaced ones are kept next to them with their own version
(:meth:`~wobble_trainer.storage.sessions.SessionStore.update_metrics`), and the command says per
session what changed and by how much.

What is replaced: the balance metrics (:data:`~wobble_trainer.analysis.BALANCE_KEYS`), at the top
level for a one-trial activity and in each entry of ``"trials"`` for a protocol. Everything else
stays as it was: an activity's ``score``, a protocol's ``practice``, ``ended_by``, ``time_s`` and
its own results and summary, which the raw trace alone cannot re-derive.

A simulated session also stores the simulator's true board angles; the command then reports each
trial's RMS inclination error and the OSI of the true angles beside the measured one.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wobble_trainer import __version__
from wobble_trainer.analysis import (
    ANALYSIS_VERSION,
    BALANCE_KEYS,
    AnalysisError,
    TrialAngles,
    stored_trial_angles,
    trial_metrics,
    truth_error,
)
from wobble_trainer.reports.data import session_calibration

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

    @property
    def delta(self) -> float | None:
        """new − old for two numbers, else None."""
        if _number(self.old) and _number(self.new):
            return float(self.new) - float(self.old)
        return None


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
    stored_version: str | None = None
    """The analysis version of the stored numbers (None: recorded before versions)."""
    exact: bool = True
    """Every trial's angles were the live path's exact replay."""
    truth: list[dict[str, Any]] = field(default_factory=list)
    """Per simulated trial: label, RMS error against the simulator's truth, OSI and true OSI."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _replace_balance(target: dict[str, Any], new: dict[str, Any], *, only_held: bool) -> None:
    """The balance metrics in ``target`` from ``new``; with ``only_held`` just those it holds
    (a protocol's trial entry that never had them, such as a limits-of-stability reach, gets
    none)."""
    for key in BALANCE_KEYS:
        if key in new and (key in target or not only_held):
            target[key] = new[key]


def recompute_session(db: Any, session_id: int) -> SessionResult:
    """New metrics of one session from its raw trials (nothing is stored)."""
    session = db.sessions.get(session_id)
    old = dict(session.metrics or {})
    result = SessionResult(session.id, session.kind, stored_version=old.get("analysis_version"))
    calibration, note = session_calibration(session)
    if "unusable" in note:
        result.skipped = note
        return result
    edges = calibration.edge_angles
    measured: list[tuple[Any, TrialAngles, dict[str, Any]]] = []
    for trial in db.sessions.load_trace(session.id):
        try:
            angles = stored_trial_angles(trial, calibration)
        except AnalysisError as exc:
            result.skipped = f"trial {trial.index + 1}: {exc}"
            return result
        if angles is None:
            continue
        numbers = trial_metrics(angles, edges)
        if not numbers:
            continue
        measured.append((trial, angles, numbers))
        result.exact = result.exact and angles.exact
        error = truth_error(angles, edges)
        if error is not None:
            result.truth.append({"label": trial.label, **error})
    if not measured:
        result.skipped = "no raw trace long enough to measure"
        return result
    new = copy.deepcopy(old)
    entries = new.get("trials")
    if isinstance(entries, list) and entries:
        # A protocol: each trial's entry, matched by label (in order for repeated labels).
        unused = list(range(len(entries)))
        for trial, _angles, numbers in measured:
            match = next(
                (i for i in unused
                 if isinstance(entries[i], dict) and entries[i].get("label") == trial.label),
                None,
            )
            if match is None:
                continue
            unused.remove(match)
            _replace_balance(entries[match], numbers, only_held=True)
    elif len(measured) == 1:
        _replace_balance(new, measured[0][2], only_held=False)
    else:
        # Several trials but no per-trial entries (an older recording): add them.
        new["trials"] = [{"label": trial.label, **numbers} for trial, _a, numbers in measured]
    new["analysis_version"] = ANALYSIS_VERSION
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
        "Re-analyse stored sessions from their raw traces with this version's tilt estimator and "
        "metrics. The same version changes nothing; a newer one stores the new numbers next to "
        "the originals."
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
    from wobble_trainer.paths import state_dir
    from wobble_trainer.storage import DB_FILENAME, NotFoundError, StorageError, open_database

    out = sys.stdout
    directory = state_dir() if args.data_dir is None else args.data_dir
    if not (Path(directory) / DB_FILENAME).is_file():
        print(
            f"There is no database in {directory}: nothing to recompute. Give the data "
            "directory with --data-dir.",
            file=sys.stderr,
        )
        return 2
    try:
        db = open_database(directory)
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
                if not args.dry_run:
                    db.sessions.update_metrics(session_id, result.metrics, __version__)
            else:
                counts["unchanged"] += 1
            if args.quiet:
                continue
            how = "" if result.exact else " (angles re-estimated: no stored estimator state)"
            stored = result.stored_version or "no analysis version"
            if not result.changes:
                print(f"session {session_id} ({result.kind}): unchanged ({stored}){how}", file=out)
            else:
                print(
                    f"session {session_id} ({result.kind}): {len(result.changes)} changed, "
                    f"{stored} -> {ANALYSIS_VERSION}{how}",
                    file=out,
                )
                for change in result.changes:
                    delta = change.delta
                    by = "" if delta is None else f" ({delta:+.6g})"
                    print(
                        f"  {change.key}: {_show(change.old)} -> {_show(change.new)}{by}", file=out
                    )
            for entry in result.truth:
                print(
                    f"  truth, {entry['label'] or 'trial'}: RMS error "
                    f"{entry['rms_error_deg']:.3f}°, OSI {_show(entry['osi'])}° "
                    f"(true {_show(entry['true_osi'])}°)",
                    file=out,
                )
    verb = "would change" if args.dry_run else "changed"
    print(
        f"{len(ids)} sessions: {counts['changed']} {verb}, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed"
        + (" (dry run: nothing stored)" if args.dry_run else f" (analysis {ANALYSIS_VERSION})"),
        file=out,
    )
    return 1 if counts["failed"] else 0
