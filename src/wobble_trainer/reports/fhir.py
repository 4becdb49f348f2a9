"""Sessions as HL7 FHIR R4: one transaction Bundle per session, for a clinic's record system.

What a Bundle holds (the mapping table is in ``docs/fhir.md``):

* ``Patient`` — the profile, pseudonymous: no name, only the profile's label (its name or
  pseudonymous ID, as a secondary identifier), birth year and sex;
* ``Device`` — the board: the IMU chip, the recording and analysis software versions; and a
  ``DeviceMetric`` for its tilt measurement carrying the calibration date (or "not calibrated");
* one ``Observation`` per test result — a protocol's trials (practice trials left out) and its
  summary (``hasMember`` → the trials), or one for a training activity — each measure a
  ``component`` with a UCUM quantity, ``effectivePeriod``, ``method``, ``device`` and the
  analysis version (extension :data:`~wobble_trainer.reports.fhir_codes.EXT_ANALYSIS_VERSION`);
* a ``DiagnosticReport`` referencing the Observations, with the session's PDF attached;
* a ``CarePlan`` for the programme assigned on the session's day, if any.

The values are the session's STORED metrics, never recomputed here (one number, one source).

Identifiers are UUIDs derived from the database's own identity (the built-in guest row's
creation time, written once when the database was made) and the row ids, so exporting the same
session again gives the same identifiers; fullUrls are ``urn:uuid:`` of the same UUIDs and
every reference points inside the Bundle. Each entry is a conditional create (``POST`` with
``ifNoneExist`` on its identifier), so posting a Bundle twice creates nothing twice.

:func:`session_bundle` and :func:`patient_bundles` are what the hub serves; ``wobble export
--format fhir`` writes :func:`bundle_text` per session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from wobble_trainer import __version__
from wobble_trainer.reports.data import kind_title, load_bundle
from wobble_trainer.reports.fhir_codes import (
    ANALYSIS_SOFTWARE,
    DATA_ABSENT,
    DEVICE_METRIC,
    DEVICE_TYPE,
    DIAGNOSTIC_SERVICE,
    EXT_ANALYSIS_VERSION,
    IDENTIFIER_SYSTEMS,
    METHOD,
    OBSERVATION_CATEGORY,
    OTHER_PROTOCOL,
    PROTOCOL_CODES,
    RECORDING_SOFTWARE,
    REPORT,
    SUMMARY_METRICS,
    TRACE_METRICS,
    TRAINING_SESSION,
    TRIAL_METRICS,
    UCUM,
    Concept,
    Metric,
    coding,
)
from wobble_trainer.storage import Database, Profile, SessionRecord
from wobble_trainer.storage.programmes import ProgrammeAssignment

NAMESPACE = uuid.UUID("8d6f3c2e-5b1a-5e4f-9a37-6f7e1d2c9b40")
"""UUID namespace of every identifier this module derives (uuid5); never change it."""

GENDERS = {"female": "female", "male": "male", "other": "other"}
"""Profile sex → FHIR AdministrativeGender."""

_VERSION_KEY = re.compile(r"^(analysis|algorithm|metrics)[_-]?(software[_-]?)?version$")

_TRAINING_TRIAL_CODES = frozenset({"score"})
"""Of :data:`TRIAL_METRICS`, what a training activity keeps (a protocol's trials never have
an activity score: BESS's ``score`` is its error score)."""


GUEST_REFUSED = (
    "the guest's sessions belong to nobody in particular, so they cannot go to a patient "
    "record: keep the session for a profile first"
)


class FhirExportError(ValueError):
    """A session cannot be expressed as FHIR; the message says why and what to do."""


# --- identity -----------------------------------------------------------------------------------


def database_key(db: Database) -> str:
    """The database's own identity: the creation time of its built-in guest row (written when the
    file was made, never edited), so identifiers travel with the data, not with a host."""
    return db.profiles.guest().created_at.isoformat(timespec="milliseconds")


def stable_uuid(db_key: str, *parts: Any) -> str:
    """A UUID that depends only on the database and ``parts`` (same input, same UUID)."""
    return str(uuid.uuid5(NAMESPACE, "/".join([db_key, *map(str, parts)])))


def _identifier(kind: str, value: str) -> dict[str, str]:
    return {"system": IDENTIFIER_SYSTEMS[kind], "value": value}


def _entry(kind: str, key: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A transaction entry: conditional create on the resource's identifier."""
    resource_type = resource["resourceType"]
    return {
        "fullUrl": f"urn:uuid:{key}",
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource_type,
            "ifNoneExist": f"identifier={IDENTIFIER_SYSTEMS[kind]}|{key}",
        },
    }


def _ref(key: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{key}"}


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def _period(start: datetime | None, end: datetime | None) -> dict[str, str]:
    out = {}
    if start is not None:
        out["start"] = _when(start)
    if end is not None:
        out["end"] = _when(end)
    return out  # type: ignore[return-value]


# --- versions -----------------------------------------------------------------------------------


def analysis_version(session: SessionRecord) -> str:
    """The version of the analysis that computed the session's measures.

    A version stored inside the metrics wins (a key such as ``analysis_version``; read
    generically, so the key the analysis writes is found without this module knowing it), then
    the version that stored the metrics, then the one that recorded the session.
    """
    for key, value in (session.metrics or {}).items():
        if _VERSION_KEY.match(str(key)) and isinstance(value, str | int | float) and value != "":
            return str(value)
    return session.metrics_software_version or session.software_version or __version__


# --- resources ----------------------------------------------------------------------------------


def patient_resource(profile: Profile, db_key: str) -> dict[str, Any]:
    """The profile as a pseudonymous Patient (never a name: the label is an identifier)."""
    if profile.is_guest:
        raise FhirExportError(GUEST_REFUSED)
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [
            _identifier("patient", stable_uuid(db_key, "profile", profile.id)),
            {**_identifier("profile-label", profile.name), "use": "secondary"},
        ],
        "active": True,
    }
    if profile.sex in GENDERS:
        resource["gender"] = GENDERS[profile.sex]
    if profile.birth_year is not None:
        resource["birthDate"] = f"{profile.birth_year:04d}"
    return resource


def _calibration(session: SessionRecord) -> dict[str, Any] | None:
    if not session.calibration:
        return None
    try:
        data = json.loads(session.calibration)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _calibration_time(calibration: Mapping[str, Any] | None) -> str | None:
    created = (calibration or {}).get("created")
    if not isinstance(created, str) or not created:
        return None
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.isoformat(timespec="milliseconds")


def _chip(calibration: Mapping[str, Any] | None) -> str | None:
    device = (calibration or {}).get("device")
    if isinstance(device, dict) and isinstance(device.get("chip"), str):
        return device["chip"]
    return None


def device_resources(session: SessionRecord, db_key: str) -> tuple[str, dict, str, dict]:
    """(key, Device, key, DeviceMetric) of the board that recorded the session."""
    calibration = _calibration(session)
    chip = _chip(calibration)
    calibrated = _calibration_time(calibration)
    versions = (session.software_version, analysis_version(session))
    device_key = stable_uuid(db_key, "device", chip or "unknown-chip", *versions)
    device: dict[str, Any] = {
        "resourceType": "Device",
        "identifier": [_identifier("device", device_key)],
        "status": "active",
        "manufacturer": "Wobble Trainer project",
        "deviceName": [{"name": "Wobble Trainer balance board", "type": "user-friendly-name"}],
        "type": {"coding": [coding(DEVICE_TYPE)], "text": DEVICE_TYPE.display},
        "version": [
            {"type": {"coding": [coding(RECORDING_SOFTWARE)]}, "value": versions[0]},
            {"type": {"coding": [coding(ANALYSIS_SOFTWARE)]}, "value": versions[1]},
        ],
    }
    if chip:
        device["deviceName"].append({"name": chip, "type": "model-name"})
        device["modelNumber"] = chip
    metric_key = stable_uuid(db_key, "device-metric", device_key, calibrated or "uncalibrated")
    calibration_entry: dict[str, Any] = (
        {"type": "unspecified", "state": "calibrated", "time": calibrated}
        if calibrated
        else {"type": "unspecified", "state": "not-calibrated"}
    )
    metric = {
        "resourceType": "DeviceMetric",
        "identifier": [_identifier("device-metric", metric_key)],
        "type": {"coding": [coding(DEVICE_METRIC)], "text": DEVICE_METRIC.display},
        "unit": {"coding": [{"system": UCUM, "code": "deg", "display": "degree"}]},
        "source": _ref(device_key),
        "operationalStatus": "on",
        "category": "measurement",
        "calibration": [calibration_entry],
    }
    return device_key, device, metric_key, metric


def care_plan_resource(
    assignment: ProgrammeAssignment, patient_key: str, db_key: str, today: date | None = None
) -> tuple[str, dict[str, Any]]:
    """(key, CarePlan) of a programme assignment."""
    from wobble_trainer.programme import PROGRAMMES

    key = stable_uuid(db_key, "programme-assignment", assignment.id)
    programme = PROGRAMMES.get(assignment.programme_id)
    ended = assignment.end_date is not None and assignment.end_date <= (today or date.today())
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "identifier": [_identifier("care-plan", key)],
        "status": "completed" if ended else "active",
        "intent": "plan",
        "title": programme.title if programme else assignment.programme_id,
        "subject": _ref(patient_key),
        "period": {"start": assignment.start_date.isoformat()},
        "created": _when(assignment.assigned_at),
    }
    if assignment.end_date is not None:
        resource["period"]["end"] = assignment.end_date.isoformat()
    if assignment.assigned_by:
        resource["author"] = {"display": assignment.assigned_by}
    notes = [assignment.note] if assignment.note else []
    if programme is not None:
        resource["description"] = programme.summary
        notes.append(f"Source: {programme.citation}")
        stages = [*programme.weeks, programme.maintenance]
        resource["activity"] = [
            {
                "detail": {
                    "status": "completed" if ended else "in-progress",
                    "description": f"{stage.label} ({stage.days_per_week} days a week): "
                    + "; ".join(f"{ex.title} - {ex.instructions}" for ex in stage.exercises),
                }
            }
            for stage in stages
        ]
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return key, resource


# --- observations -------------------------------------------------------------------------------


def _lookup(values: Mapping[str, Any], path: Sequence[str]) -> tuple[bool, Any]:
    """(found, value) at ``path`` inside nested dicts."""
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def components(values: Mapping[str, Any], metrics: Iterable[Metric]) -> list[dict[str, Any]]:
    """One component per measure present in ``values`` (a stored value of ``None`` — undefined,
    e.g. no edge touch — becomes a component with a data-absent reason, not a made-up number)."""
    out = []
    for metric in metrics:
        found, value = _lookup(values, metric.path)
        if not found:
            continue
        item: dict[str, Any] = {
            "code": {"coding": [coding(metric.concept)], "text": metric.display}
        }
        if value is None:
            item["dataAbsentReason"] = {
                "coding": [{"system": DATA_ABSENT, "code": "not-applicable"}]
            }
        elif metric.kind == "quantity" and _number(value):
            item["valueQuantity"] = {
                "value": value,
                "unit": metric.unit,
                "system": UCUM,
                "code": metric.unit,
            }
        elif metric.kind == "boolean" and isinstance(value, bool):
            item["valueBoolean"] = value
        elif metric.kind == "string" and isinstance(value, str) and value:
            item["valueString"] = value
        else:
            continue  # a value of an unexpected type is not one of these measures
        out.append(item)
    return out


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


class _ObservationFactory:
    """Builds the session's Observations with what they share."""

    def __init__(self, session: SessionRecord, db_key: str, refs: dict[str, str]) -> None:
        self.session = session
        self.db_key = db_key
        self.refs = refs
        self.session_key = stable_uuid(db_key, "session", session.id)
        self.version = analysis_version(session)
        self.category = (
            _category("exam", "Exam")
            if session.kind.startswith("test:")
            else _category("activity", "Activity")
        )

    def make(
        self,
        part: str,
        concept: Concept,
        text: str,
        parts: list[dict[str, Any]],
        period: dict[str, str],
        members: Sequence[str] = (),
    ) -> tuple[str, dict[str, Any]]:
        key = stable_uuid(self.db_key, "session", self.session.id, "observation", part)
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "identifier": [_identifier("observation", key)],
            "extension": [{"url": EXT_ANALYSIS_VERSION, "valueString": self.version}],
            "status": "final",
            "category": self.category,
            "code": {"coding": [coding(concept)], "text": text},
            "subject": _ref(self.refs["patient"]),
            "effectivePeriod": period,
            "issued": _when(self.session.ended_at or self.session.started_at),
            "method": {"coding": [coding(METHOD)], "text": METHOD.display},
            "device": _ref(self.refs["device"]),
        }
        if "care_plan" in self.refs:
            resource["basedOn"] = [_ref(self.refs["care_plan"])]
        if members:
            resource["hasMember"] = [_ref(m) for m in members]
        if parts:
            resource["component"] = parts
        return key, resource


def _trial_periods(db: Database, session: SessionRecord) -> list[dict[str, str]]:
    """The stored trials' start/end, in order (no traces loaded)."""
    rows = db.query(
        "SELECT started_at, ended_at FROM trials WHERE session_id = ? ORDER BY idx", (session.id,)
    )
    return [
        _period(
            datetime.fromisoformat(r["started_at"]) if r["started_at"] else None,
            datetime.fromisoformat(r["ended_at"]) if r["ended_at"] else None,
        )
        for r in rows
    ]


def observations(
    db: Database, session: SessionRecord, db_key: str, refs: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(key, Observation) of every test result of the session, the summary last."""
    metrics = session.metrics
    if not isinstance(metrics, dict) or not metrics:
        raise FhirExportError(
            f"session {session.id} has no stored measures (it was cut short before the end); "
            "there is nothing to send. Run `wobble recompute` if its trials should be measured"
        )
    factory = _ObservationFactory(session, db_key, refs)
    session_period = _period(session.started_at, session.ended_at)
    title = kind_title(session.kind)
    protocol = metrics.get("protocol") if session.kind.startswith("test:") else None
    if not isinstance(protocol, str):
        extras = [m for m in TRIAL_METRICS if m.code in _TRAINING_TRIAL_CODES]
        parts = components(metrics, (*TRACE_METRICS, *extras))
        return [factory.make("session", TRAINING_SESSION, title, parts, session_period)]
    summary_code, trial_code = PROTOCOL_CODES.get(protocol, OTHER_PROTOCOL)
    trial_metrics = [m for m in TRIAL_METRICS if m.code not in _TRAINING_TRIAL_CODES]
    periods = _trial_periods(db, session)
    out = []
    trials = metrics.get("trials") if isinstance(metrics.get("trials"), list) else []
    for index, trial in enumerate(trials):
        if not isinstance(trial, dict) or trial.get("practice"):
            continue  # practice trials are stored but left out of results, as on screen
        period = periods[index] if index < len(periods) and periods[index] else session_period
        label = str(trial.get("label") or f"trial {index + 1}")
        parts = components(trial, (*trial_metrics, *TRACE_METRICS))
        out.append(factory.make(f"trial/{index}", trial_code, f"{title}: {label}", parts, period))
    summary = components(metrics, (*SUMMARY_METRICS, *TRACE_METRICS))
    members = [key for key, _ in out]
    out.append(factory.make("summary", summary_code, title, summary, session_period, members))
    return out


# --- the report and the bundle ------------------------------------------------------------------


def _pdf_bytes(db: Database, session: SessionRecord) -> bytes:
    from wobble_trainer.reports import pdf

    bundle = load_bundle(db, session.id)
    return pdf.session_pdf(bundle, generated=session.ended_at or session.started_at)


def diagnostic_report(
    session: SessionRecord,
    db_key: str,
    refs: dict[str, str],
    results: Sequence[str],
    pdf: bytes | None,
) -> tuple[str, dict[str, Any]]:
    """(key, DiagnosticReport) of the session, the PDF attached when given."""
    key = stable_uuid(db_key, "session", session.id, "report")
    completed = session.finished and (session.metrics or {}).get("completed") is not False
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "identifier": [_identifier("diagnostic-report", key)],
        "status": "final" if completed else "partial",
        "category": [
            {
                "coding": [
                    {"system": DIAGNOSTIC_SERVICE, "code": "PT", "display": "Physical Therapy"}
                ]
            }
        ],
        "code": {"coding": [coding(REPORT)], "text": kind_title(session.kind)},
        "subject": _ref(refs["patient"]),
        "effectivePeriod": _period(session.started_at, session.ended_at),
        "issued": _when(session.ended_at or session.started_at),
        "result": [_ref(r) for r in results],
    }
    if "care_plan" in refs:
        resource["basedOn"] = [_ref(refs["care_plan"])]
    if pdf is not None:
        resource["presentedForm"] = [
            {
                "contentType": "application/pdf",
                "language": "en",
                "data": base64.b64encode(pdf).decode("ascii"),
                "size": len(pdf),
                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                "title": f"Session report {session.id}: {kind_title(session.kind)}",
                "creation": _when(session.ended_at or session.started_at),
            }
        ]
    return key, resource


def session_bundle(db: Database, session_id: int, *, with_pdf: bool = True) -> dict[str, Any]:
    """The transaction Bundle of one stored session (see the module docstring).

    Raises :class:`FhirExportError` for a guest's session or one without stored measures, and
    :class:`~wobble_trainer.storage.NotFoundError` for an unknown id.
    """
    session = db.sessions.get(session_id)
    profile = db.profiles.get(session.profile_id)
    db_key = database_key(db)
    patient = patient_resource(profile, db_key)
    patient_key = patient["identifier"][0]["value"]
    device_key, device, metric_key, metric = device_resources(session, db_key)
    refs = {"patient": patient_key, "device": device_key}
    entries = [
        _entry("patient", patient_key, patient),
        _entry("device", device_key, device),
        _entry("device-metric", metric_key, metric),
    ]
    assignment = db.programmes.current(profile.id, on=session.day)
    if assignment is not None:
        plan_key, plan = care_plan_resource(assignment, patient_key, db_key)
        refs["care_plan"] = plan_key
        entries.append(_entry("care-plan", plan_key, plan))
    found = observations(db, session, db_key, refs)
    entries.extend(_entry("observation", key, resource) for key, resource in found)
    pdf = _pdf_bytes(db, session) if with_pdf else None
    report_key, report = diagnostic_report(session, db_key, refs, [k for k, _ in found], pdf)
    entries.append(_entry("diagnostic-report", report_key, report))
    return {
        "resourceType": "Bundle",
        "identifier": _identifier("bundle", stable_uuid(db_key, "session", session.id)),
        "type": "transaction",
        "entry": entries,
    }


def patient_bundles(db: Database, profile_id: int, *, with_pdf: bool = True) -> list[dict]:
    """One Bundle per kept, finished session of the profile that has measures, oldest first."""
    profile = db.profiles.get(profile_id)
    if profile.is_guest:
        raise FhirExportError(GUEST_REFUSED)
    return [
        session_bundle(db, s.id, with_pdf=with_pdf)
        for s in db.history.sessions(profile_id)
        if s.finished and s.metrics
    ]


def bundle_text(bundle: Mapping[str, Any]) -> str:
    """The Bundle as JSON text (UTF-8, indented, stable key order as built)."""
    return json.dumps(bundle, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
