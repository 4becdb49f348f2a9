"""The project's own checks of a FHIR transaction Bundle: what structural validators skip.

A structural validator (the tests use ``fhirclient``'s R4 models) checks element names, types,
cardinality of required elements and date formats. It does not check that codes come from their
required value sets, that quantities carry valid UCUM units, that references resolve, or that
the Bundle's transaction requests are sound. :func:`check_bundle` does, and returns a list of
problems (empty when the Bundle is sound), each naming the entry and the element.

Checked:

* Bundle type ``transaction``; every entry has a unique ``urn:uuid:`` fullUrl, a request with
  method ``POST`` or ``PUT`` and a URL naming its resource type, and an ``ifNoneExist`` that
  searches one of the resource's own identifiers;
* every ``reference`` anywhere resolves to an entry of the Bundle;
* required bindings: Observation/DiagnosticReport/CarePlan/Device status, CarePlan intent and
  activity status, DeviceMetric category/operational status/calibration, Patient gender,
  Attachment content type (a MIME type), identifier ``use``;
* every Quantity: a finite ``value``, ``system`` = UCUM and a unit code this project uses;
* every Coding in our code system is a code of it; every ``system`` is an absolute URI;
* Observation: exactly one ``effective[x]``; a component has a value or a data-absent reason,
  never both;
* Attachment ``data`` is base64 whose ``size`` and SHA-1 ``hash`` match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import uuid
from collections.abc import Iterator
from typing import Any

from wobble_trainer.reports.fhir_codes import CODE_SYSTEM_URL, CODES, UCUM, UCUM_UNITS

BINDINGS: dict[tuple[str, str], frozenset[str]] = {
    ("Observation", "status"): frozenset(
        {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("DiagnosticReport", "status"): frozenset(
        {
            "registered",
            "partial",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "appended",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("CarePlan", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("Device", "status"): frozenset({"active", "inactive", "entered-in-error", "unknown"}),
    ("DeviceMetric", "category"): frozenset(
        {"measurement", "setting", "calculation", "unspecified"}
    ),
    ("DeviceMetric", "operationalStatus"): frozenset({"on", "off", "standby", "entered-in-error"}),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
}
"""Required bindings of top-level codes (FHIR R4 value sets)."""

CALIBRATION_TYPES = frozenset({"unspecified", "offset", "gain", "two-point"})
CALIBRATION_STATES = frozenset(
    {"not-calibrated", "calibration-required", "calibrated", "unspecified"}
)
ACTIVITY_STATUS = frozenset(
    {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    }
)
DEVICE_NAME_TYPES = frozenset(
    {
        "udi-label-name",
        "user-friendly-name",
        "patient-reported-name",
        "manufacturer-name",
        "model-name",
        "other",
    }
)
IDENTIFIER_USES = frozenset({"usual", "official", "temp", "secondary", "old"})
MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")
ABSOLUTE_URI = re.compile(r"^(https?://\S+|urn:\S+)$")
_VALUE_KEYS = (
    "valueQuantity",
    "valueBoolean",
    "valueString",
    "valueInteger",
    "valueCodeableConcept",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) pair inside a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _is_uuid_url(text: Any) -> bool:
    if not isinstance(text, str) or not text.startswith("urn:uuid:"):
        return False
    try:
        return str(uuid.UUID(text[9:])) == text[9:]
    except ValueError:
        return False


def _check_quantity(where: str, q: Any, problems: list[str]) -> None:
    if not isinstance(q, dict):
        problems.append(f"{where}: a Quantity must be an object")
        return
    value = q.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{where}: value {value!r} is not a finite number")
    if q.get("system") != UCUM:
        problems.append(f"{where}: unit system {q.get('system')!r} is not UCUM ({UCUM})")
    if q.get("code") not in UCUM_UNITS:
        problems.append(f"{where}: unit code {q.get('code')!r} is not one of {sorted(UCUM_UNITS)}")


def _check_coding(where: str, c: Any, problems: list[str]) -> None:
    if not isinstance(c, dict):
        return
    system = c.get("system")
    if system is not None and not (isinstance(system, str) and ABSOLUTE_URI.match(system)):
        problems.append(f"{where}: coding system {system!r} is not an absolute URI")
    if system == CODE_SYSTEM_URL and c.get("code") not in CODES:
        problems.append(f"{where}: {c.get('code')!r} is not a code of {CODE_SYSTEM_URL}")
    if system == UCUM and c.get("code") not in UCUM_UNITS:
        problems.append(f"{where}: unit code {c.get('code')!r} is not one this project uses")


def _check_attachment(where: str, a: dict[str, Any], problems: list[str]) -> None:
    if not MIME.match(str(a.get("contentType", ""))):
        problems.append(f"{where}: contentType {a.get('contentType')!r} is not a MIME type")
    if "data" not in a:
        return
    try:
        data = base64.b64decode(a["data"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        problems.append(f"{where}: data is not base64")
        return
    if "size" in a and a["size"] != len(data):
        problems.append(f"{where}: size {a['size']} is not the data's {len(data)} bytes")
    if "hash" in a and a["hash"] != base64.b64encode(hashlib.sha1(data).digest()).decode():
        problems.append(f"{where}: hash is not the SHA-1 of the data")


def _check_resource(where: str, resource: dict[str, Any], problems: list[str]) -> None:
    rtype = resource.get("resourceType")
    for (bound_type, element), allowed in BINDINGS.items():
        if rtype == bound_type and element in resource and resource[element] not in allowed:
            problems.append(
                f"{where}.{element}: {resource[element]!r} is not in its required "
                f"value set {sorted(allowed)}"
            )
    if rtype == "Observation":
        effective = [k for k in resource if k.startswith("effective")]
        if len(effective) != 1:
            problems.append(
                f"{where}: an Observation needs exactly one effective[x], has {effective}"
            )
        for i, comp in enumerate(resource.get("component", [])):
            values = [k for k in comp if k in _VALUE_KEYS]
            absent = "dataAbsentReason" in comp
            if len(values) + absent != 1:
                problems.append(
                    f"{where}.component[{i}]: needs one value[x] or a "
                    f"dataAbsentReason, has {values + ['dataAbsentReason'] * absent}"
                )
    if rtype == "DeviceMetric":
        for i, cal in enumerate(resource.get("calibration", [])):
            if cal.get("type") not in CALIBRATION_TYPES | {None}:
                problems.append(f"{where}.calibration[{i}].type: {cal.get('type')!r}")
            if cal.get("state") not in CALIBRATION_STATES | {None}:
                problems.append(f"{where}.calibration[{i}].state: {cal.get('state')!r}")
    if rtype == "CarePlan":
        for i, activity in enumerate(resource.get("activity", [])):
            status = activity.get("detail", {}).get("status")
            if status not in ACTIVITY_STATUS:
                problems.append(f"{where}.activity[{i}].detail.status: {status!r}")
    if rtype == "Device":
        for i, name in enumerate(resource.get("deviceName", [])):
            if name.get("type") not in DEVICE_NAME_TYPES:
                problems.append(f"{where}.deviceName[{i}].type: {name.get('type')!r}")
    for path, key, value in _walk(resource, where):
        if key in ("valueQuantity",) or (key == "quantity" and isinstance(value, dict)):
            _check_quantity(f"{path}.{key}", value, problems)
        elif key == "coding" and isinstance(value, list):
            for i, c in enumerate(value):
                _check_coding(f"{path}.coding[{i}]", c, problems)
        elif key == "presentedForm" and isinstance(value, list):
            for i, a in enumerate(value):
                _check_attachment(f"{path}.presentedForm[{i}]", a, problems)
        elif key == "identifier":
            for ident in value if isinstance(value, list) else [value]:
                if isinstance(ident, dict) and ident.get("use") not in IDENTIFIER_USES | {None}:
                    problems.append(f"{path}.identifier.use: {ident.get('use')!r}")


def _identifiers(resource: dict[str, Any]) -> set[str]:
    found = resource.get("identifier", [])
    found = found if isinstance(found, list) else [found]
    return {f"{i.get('system')}|{i.get('value')}" for i in found if isinstance(i, dict)}


def check_bundle(bundle: Any) -> list[str]:
    """Problems with a transaction Bundle (see the module docstring); empty when it is sound."""
    problems: list[str] = []
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["not a Bundle"]
    if bundle.get("type") != "transaction":
        problems.append(f"Bundle.type is {bundle.get('type')!r}, not 'transaction'")
    entries = bundle.get("entry") or []
    urls = [e.get("fullUrl") for e in entries if isinstance(e, dict)]
    for url in urls:
        if not _is_uuid_url(url):
            problems.append(f"fullUrl {url!r} is not a urn:uuid")
    duplicates = sorted({u for u in urls if urls.count(u) > 1})
    if duplicates:
        problems.append(f"fullUrls used twice: {duplicates}")
    known = set(urls)
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            problems.append(f"entry[{n}] has no resource")
            continue
        where = f"entry[{n}].{resource.get('resourceType')}"
        request = entry.get("request") or {}
        method = request.get("method")
        if method not in ("POST", "PUT"):
            problems.append(f"{where}: request method {method!r} is not POST or PUT")
        url = str(request.get("url", ""))
        if url.split("?")[0].split("/")[0] != resource.get("resourceType"):
            problems.append(f"{where}: request url {url!r} does not name its resource type")
        condition = request.get("ifNoneExist")
        if method == "POST" and condition is not None:
            wanted = condition.removeprefix("identifier=")
            if not condition.startswith("identifier=") or wanted not in _identifiers(resource):
                problems.append(
                    f"{where}: ifNoneExist {condition!r} is not one of its own identifiers"
                )
        _check_resource(where, resource, problems)
        for path, key, value in _walk(resource, where):
            if key == "reference" and value not in known:
                problems.append(f"{path}.reference: {value!r} is not an entry of the Bundle")
    return problems
