"""Tests of wobble_trainer.reports.fhir_check: each problem it is there to catch is caught, and
a sound Bundle passes."""

from __future__ import annotations

import copy

import pytest

from wobble_trainer.reports.fhir import session_bundle
from wobble_trainer.reports.fhir_check import check_bundle


@pytest.fixture(scope="module")
def sound(sessions_of_every_kind):
    db, kinds = sessions_of_every_kind
    return session_bundle(db, kinds["test:limits_of_stability"], with_pdf=True)


def broken(bundle, change):
    copy_ = copy.deepcopy(bundle)
    change(copy_)
    return check_bundle(copy_)


def first(bundle, resource_type):
    return next(e for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type)


def test_a_sound_bundle_passes(sound):
    assert check_bundle(sound) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: first(b, "Observation")["resource"].update(status="done"), "required value"),
        (lambda b: first(b, "DiagnosticReport")["resource"].update(status="ok"), "required"),
        (lambda b: first(b, "CarePlan")["resource"].update(intent="wish"), "required value"),
        (lambda b: first(b, "Patient")["resource"].update(gender="f"), "required value"),
        (
            lambda b: first(b, "Observation")["resource"]["component"][1]["valueQuantity"].update(
                code="degrees"
            ),
            "unit code",
        ),
        (
            lambda b: first(b, "Observation")["resource"]["component"][1]["valueQuantity"].update(
                system="http://example.org/units"
            ),
            "not UCUM",
        ),
        (
            lambda b: first(b, "Observation")["resource"]["subject"].update(
                reference="urn:uuid:00000000-0000-0000-0000-000000000000"
            ),
            "is not an entry",
        ),
        (lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"]), "used twice"),
        (lambda b: b["entry"][0].update(fullUrl="Patient/1"), "not a urn:uuid"),
        (lambda b: b.update(type="collection"), "not 'transaction'"),
        (lambda b: b["entry"][0]["request"].update(ifNoneExist="identifier=x|y"), "ifNoneExist"),
        (lambda b: b["entry"][0]["request"].update(url="Device"), "resource type"),
        (
            lambda b: first(b, "Observation")["resource"]["code"]["coding"][0].update(
                code="no-such-code"
            ),
            "is not a code of",
        ),
        (
            lambda b: first(b, "Observation")["resource"].update(
                effectiveDateTime="2025-05-01T09:30:00+02:00"
            ),
            "exactly one effective",
        ),
        (
            lambda b: first(b, "Observation")["resource"]["component"][1].update(valueBoolean=True),
            "one value[x]",
        ),
        (
            lambda b: first(b, "DiagnosticReport")["resource"]["presentedForm"][0].update(size=12),
            "size",
        ),
        (
            lambda b: first(b, "DiagnosticReport")["resource"]["presentedForm"][0].update(
                data="***"
            ),
            "base64",
        ),
    ],
)
def test_each_problem_is_caught(sound, change, expected):
    problems = broken(sound, change)
    assert problems and any(expected in p for p in problems), problems
