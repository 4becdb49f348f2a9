"""What the clinician web view shows, as plain functions over a connection (the handlers in
:mod:`wobble_trainer.hub.web` only render them).

Every number is the board's: session metrics are the ones the board stored (its one source),
and angles are recomputed from the hub's exact copy of the raw trace with the reports layer's
own functions (:func:`wobble_trainer.analysis.stored_trial_angles`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wobble_trainer import __version__
from wobble_trainer.analysis import ANALYSIS_VERSION, stored_trial_angles
from wobble_trainer.hub.records import session_record, trial_record
from wobble_trainer.hub.sync import HEADLINE_METRICS
from wobble_trainer.hub.tables import (
    audit_log,
    board_patients,
    boards,
    patients,
    sessions,
    trial_views,
    trials,
)
from wobble_trainer.programme import PROGRAMMES
from wobble_trainer.reports.data import kind_title, session_calibration

VIEW_VERSION = f"{__version__}/{ANALYSIS_VERSION}"
"""A cached trial view is reused only by the same software and analysis versions."""

def headline(metrics: dict[str, Any] | None) -> tuple[str, float] | None:
    """(name, value) of a session's headline metric."""
    for key in HEADLINE_METRICS:  # the same choice as the stored ``sessions.headline``
        value = (metrics or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return key, float(value)
    return None


def current_assignment(assignments: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    for a in reversed(assignments):
        if a["start_date"] <= day.isoformat() and (
            a.get("end_date") is None or a["end_date"] > day.isoformat()
        ):
            return a
    return None


@dataclass
class PatientRow:
    uid: str
    name: str
    programme: str
    target_days: int | None
    sessions_week: int = 0
    minutes_week: float = 0.0
    latest: list[dict[str, Any]] = field(default_factory=list)


PAGE_SIZE = 50
"""Patients per page of the list (a tablet screen or two; search finds the rest)."""


def patient_list(
    conn: Connection, query: str = "", today: date | None = None, page: int = 0
) -> list[PatientRow]:
    """One page of patients (matching ``query``, by name) with this week's adherence and their
    latest test results; one row more than a page tells the caller there is a next page."""
    today = today or date.today()
    week_start = (today - timedelta(days=today.weekday())).isoformat()
    stmt = (
        select(patients)
        .order_by(patients.c.name, patients.c.id)
        .offset(max(0, page) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    if query.strip():
        stmt = stmt.where(patients.c.name.ilike(f"%{query.strip()}%"))
    rows = conn.execute(stmt).all()
    out: dict[int, PatientRow] = {}
    for r in rows:
        current = current_assignment(json.loads(r.assignments), today)
        programme = PROGRAMMES.get(current["programme_id"]) if current else None
        target = None
        title = current["programme_id"] if current else "—"
        if programme is not None and current is not None:
            week = (today - date.fromisoformat(current["start_date"])).days // 7 + 1
            target = programme.stage_for_week(max(week, 1)).days_per_week
            title = programme.short_title
        out[r.id] = PatientRow(r.uid, r.name, title, target)
    if not out:
        return []
    week = conn.execute(
        select(sessions.c.patient_id, func.count(), func.sum(sessions.c.minutes))
        .where(sessions.c.patient_id.in_(list(out)), sessions.c.started_at >= week_start)
        .group_by(sessions.c.patient_id)
    ).all()
    for patient_id, count, minutes in week:
        out[patient_id].sessions_week = int(count)
        out[patient_id].minutes_week = float(minutes or 0.0)
    tests = conn.execute(
        select(sessions.c.patient_id, sessions.c.kind, sessions.c.headline)
        .where(
            sessions.c.patient_id.in_(list(out)),
            sessions.c.headline.is_not(None),
            sessions.c.kind.like("test:%") | sessions.c.kind.like("protocol:%"),
        )
        .order_by(sessions.c.started_at)
    ).all()
    by_kind: dict[tuple[int, str], list[float]] = {}
    for s in tests:
        by_kind.setdefault((s.patient_id, s.kind), []).append(s.headline)
    for (pid, kind), values in sorted(by_kind.items()):
        out[pid].latest.append(
            {
                "kind": kind_title(kind),
                "value": values[-1],
                "change": values[-1] - values[0] if len(values) > 1 else None,
            }
        )
    return list(out.values())


def patient_detail(conn: Connection, uid: str) -> dict[str, Any] | None:
    row = conn.execute(select(patients).where(patients.c.uid == uid)).first()
    if row is None:
        return None
    session_rows = conn.execute(
        select(sessions, func.count(trials.c.id).label("n_trials"))
        .outerjoin(trials, trials.c.session_id == sessions.c.id)
        .where(sessions.c.patient_id == row.id)
        .group_by(sessions.c.id)
        .order_by(sessions.c.started_at.desc())
    ).all()
    listed = []
    history: dict[str, list[tuple[str, float]]] = {}
    for s in session_rows:
        record = session_record(s, s.n_trials)
        h = headline(record.metrics)
        listed.append(
            {
                "uid": s.uid,
                "kind": kind_title(record.kind),
                "started": record.started_at.strftime("%Y-%m-%d %H:%M"),
                "minutes": s.minutes,
                "headline": h,
                "trials": s.n_trials,
            }
        )
        if h is not None:
            history.setdefault(kind_title(record.kind), []).append(
                (record.started_at.date().isoformat(), h[1])
            )
    linked = (
        conn.execute(
            select(boards.c.name)
            .join(board_patients, board_patients.c.board_id == boards.c.id)
            .where(board_patients.c.patient_id == row.id)
            .order_by(boards.c.name)
        )
        .scalars()
        .all()
    )
    return {
        "uid": row.uid,
        "name": row.name,
        "profile": json.loads(row.profile),
        "assignments": json.loads(row.assignments),
        "revision": row.revision,
        "sessions": listed,
        "charts": {k: chart_points(list(reversed(v))) for k, v in history.items()},
        "boards": list(linked),
    }


def chart_points(
    points: list[tuple[str, float]], width: float = 300, height: float = 80
) -> dict[str, Any]:
    """An SVG polyline of (label, value) points in time order."""
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    step = width / max(1, len(values) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - (v - lo) / span * height:.1f}" for i, v in enumerate(values)
    )
    return {
        "points": coords,
        "first": points[0],
        "last": points[-1],
        "min": lo,
        "max": hi,
        "width": width,
        "height": height,
    }


def _polyline(
    x: np.ndarray,
    y: np.ndarray,
    width: float,
    height: float,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    max_points: int = 600,
) -> str:
    step = max(1, len(x) // max_points)
    x, y = x[::step], y[::step]
    (x0, x1), (y0, y1) = x_range, y_range
    xs = (x - x0) / ((x1 - x0) or 1.0) * width
    ys = height - (y - y0) / ((y1 - y0) or 1.0) * height
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))


def session_detail(conn: Connection, uid: str) -> dict[str, Any] | None:
    row = conn.execute(select(sessions).where(sessions.c.uid == uid)).first()
    if row is None:
        return None
    trial_rows = conn.execute(
        select(trials).where(trials.c.session_id == row.id).order_by(trials.c.idx)
    ).all()
    record = session_record(row, len(trial_rows))
    patient = conn.execute(select(patients).where(patients.c.id == row.patient_id)).first()
    calibration, warning = session_calibration(record)
    shown = [trial_view(conn, tr, calibration) for tr in trial_rows]
    return {
        "uid": uid,
        "kind": kind_title(record.kind),
        "raw_kind": record.kind,
        "started": record.started_at.isoformat(timespec="seconds"),
        "metrics": flatten(record.metrics or {}),
        "patient_uid": patient.uid,
        "patient_name": patient.name,
        "trials": shown,
        "calibration_warning": warning,
        "software_version": record.software_version,
        "record": record,
    }


def trial_view(conn: Connection, row: Any, calibration: Any) -> dict[str, Any]:
    """What the session page draws of one trial, cached in the database per software version
    (the tilt estimator needs seconds for a 2-minute trace at 1 kHz)."""
    cached = conn.execute(select(trial_views).where(trial_views.c.trial_id == row.id)).first()
    if cached is not None and cached.software_version == VIEW_VERSION:
        return json.loads(cached.view)
    trial = trial_record(row)
    angles = stored_trial_angles(trial, calibration)
    entry: dict[str, Any] = {
        "index": trial.index,
        "label": trial.label,
        "samples": trial.sample_count,
        "bytes_per_sample": len(row.trace) / max(1, row.sample_count),
    }
    if angles is not None and len(angles.t) > 1:
        lim = float(max(5.0, np.max(np.abs(angles.pitch_deg)), np.max(np.abs(angles.roll_deg))))
        span = (0.0, angles.duration_s)
        entry["trace_pitch"] = _polyline(angles.t, angles.pitch_deg, 600, 120, span, (-lim, lim))
        entry["trace_roll"] = _polyline(angles.t, angles.roll_deg, 600, 120, span, (-lim, lim))
        entry["sway"] = _polyline(
            angles.roll_deg, angles.pitch_deg, 200, 200, (-lim, lim), (-lim, lim)
        )
        entry["limit_deg"] = lim
        entry["duration_s"] = angles.duration_s
    text = json.dumps(entry)
    if cached is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(trial_views).values(
                        trial_id=row.id, view=text, software_version=VIEW_VERSION
                    )
                )
        except IntegrityError:
            pass  # another request cached it meanwhile
    else:
        conn.execute(
            update(trial_views)
            .where(trial_views.c.trial_id == row.id)
            .values(view=text, software_version=VIEW_VERSION)
        )
    return entry


def flatten(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested metrics as (dotted name, value) rows."""
    out: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(flatten(value, f"{name}."))
        else:
            out.append((name, round(value, 3) if isinstance(value, float) else value))
    return out


def trial_csv(conn: Connection, uid: str, index: int) -> str | None:
    """One trial's raw samples as CSV (SI units, the sensor frame)."""
    row = conn.execute(
        select(trials)
        .join(sessions, sessions.c.id == trials.c.session_id)
        .where(sessions.c.uid == uid, trials.c.idx == index)
    ).first()
    if row is None:
        return None
    trial = trial_record(row)
    lines = ["t_s,ax_m_s2,ay_m_s2,az_m_s2,gx_rad_s,gy_rad_s,gz_rad_s"]
    for t, a, g in zip(trial.t, trial.acc, trial.gyr, strict=True):
        lines.append(",".join(repr(float(v)) for v in (t, *a, *g)))
    return "\n".join(lines) + "\n"


def session_json(detail: dict[str, Any]) -> dict[str, Any]:
    """The session's record (as the board has it) for download."""
    record = detail["record"]
    return {
        "format": "wobble-trainer-hub-session",
        "uid": detail["uid"],
        "patient": detail["patient_uid"],
        "kind": record.kind,
        "started_at": record.started_at.isoformat(),
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "settings": record.settings,
        "metrics": record.metrics,
        "events": record.events,
        "calibration": record.calibration,
        "software_version": record.software_version,
        "metrics_software_version": record.metrics_software_version,
        "trials": [{k: t[k] for k in ("index", "label", "samples")} for t in detail["trials"]],
    }


def audit_entries(conn: Connection, limit: int = 500) -> list[Any]:
    return conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all()
