"""Tests of wobble_trainer.reports.fhir: every kind of stored session as a FHIR R4 transaction
Bundle, validated structurally by fhirclient's R4 models (FHIR 4.0.1) and by the project's own
checks, carrying exactly the stored metrics; stable identifiers; the export command."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fhirclient.models.bundle import Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError

from wobble_trainer import cli
from wobble_trainer.reports.data import kind_title
from wobble_trainer.reports.export import ExportJob, select_sessions
from wobble_trainer.reports.fhir import (
    FhirExportError,
    analysis_version,
    bundle_text,
    patient_bundles,
    session_bundle,
)
from wobble_trainer.reports.fhir_check import check_bundle
from wobble_trainer.reports.fhir_codes import CODE_SYSTEM_URL, CODES, UCUM, code_system

KINDS = (
    "hold",
    "circles",
    "test:mctsib",
    "test:bess",
    "test:limits_of_stability",
    "test:ankle_rom",
    "test:postural_stability",
    "test:single_leg_stance",
)
DOCS = Path(__file__).resolve().parent.parent / "docs"


def resources(bundle, resource_type):
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def component(observation, code):
    found = [c for c in observation.get("component", []) if c["code"]["coding"][0]["code"] == code]
    assert len(found) == 1, f"{code} in {observation['code']['text']}"
    return found[0]


def quantity(observation, code):
    return component(observation, code)["valueQuantity"]["value"]


@pytest.fixture(scope="module")
def bundles(sessions_of_every_kind):
    db, kinds = sessions_of_every_kind
    assert set(kinds) == set(KINDS)
    return {kind: session_bundle(db, sid, with_pdf=kind == "hold") for kind, sid in kinds.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_valid_r4_transaction_bundle(bundles, kind):
    bundle = bundles[kind]
    Bundle(bundle, strict=True)  # raises FHIRValidationError on any structural fault
    assert check_bundle(bundle) == []
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types[:4] == ["Patient", "Device", "DeviceMetric", "CarePlan"]
    assert types[-1] == "DiagnosticReport" and "Observation" in types
    report = resources(bundle, "DiagnosticReport")[0]
    observations = [
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    assert [r["reference"] for r in report["result"]] == observations


def test_the_structural_validator_catches_what_it_should(bundles):
    broken = json.loads(json.dumps(bundles["hold"]))
    del resources(broken, "Observation")[0]["status"]
    with pytest.raises(FHIRValidationError):
        Bundle(broken, strict=True)
    broken = json.loads(json.dumps(bundles["hold"]))
    resources(broken, "Observation")[0]["effectivePeriod"]["start"] = "1 May 2025"
    with pytest.raises(FHIRValidationError):
        Bundle(broken, strict=True)


def test_hold_session_carries_the_stored_metrics_with_ucum_units(sessions_of_every_kind, bundles):
    db, kinds = sessions_of_every_kind
    stored = db.sessions.get(kinds["hold"]).metrics
    (obs,) = resources(bundles["hold"], "Observation")
    assert obs["status"] == "final" and obs["category"][0]["coding"][0]["code"] == "activity"
    assert obs["code"]["coding"][0] == {
        "system": CODE_SYSTEM_URL,
        "code": "training-session",
        "display": "Wobble board training session",
    }
    assert obs["code"]["text"] == kind_title("hold")
    for code, value in (
        ("osi", stored["osi"]),
        ("apsi", stored["apsi"]),
        ("mlsi", stored["mlsi"]),
        ("sd-ap", stored["sd"]["ap"]),
        ("path-length", stored["path_length_deg"]),
        ("mean-velocity", stored["mean_velocity_deg_s"]),
        ("ellipse95-area", stored["ellipse95_area_deg2"]),
        ("zone-0-5-pct", stored["zone_pct"]["0-5"]),
        ("zone-over-20-time", stored["zone_s"][">20"]),
        ("edge-touches", 1),
        ("score", stored["score"]),
    ):
        assert quantity(obs, code) == value, code
    units = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["code"]
        for c in obs["component"]
        if "valueQuantity" in c
    }
    assert units["osi"] == "deg" and units["ellipse95-area"] == "deg2"
    assert units["mean-velocity"] == "deg/s" and units["zone-0-5-pct"] == "%"
    assert units["zone-0-5-time"] == "s" and units["edge-touches"] == "{count}"
    assert all(
        c["valueQuantity"]["system"] == UCUM for c in obs["component"] if "valueQuantity" in c
    )
    assert obs["extension"][0]["valueString"] == analysis_version(db.sessions.get(kinds["hold"]))
    assert set(obs["effectivePeriod"]) == {"start", "end"}


def test_undefined_metrics_are_absent_not_invented(bundles):
    (obs,) = resources(bundles["circles"], "Observation")
    first = component(obs, "time-to-first-edge")  # never touched: stored as null
    assert "valueQuantity" not in first
    assert first["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"


def test_protocols_have_an_observation_per_trial_and_a_summary(sessions_of_every_kind, bundles):
    db, kinds = sessions_of_every_kind
    obs = resources(bundles["test:postural_stability"], "Observation")
    assert [o["code"]["coding"][0]["code"] for o in obs] == [
        "postural-stability-trial",
        "postural-stability-trial",
        "postural-stability",
    ]  # the practice trial is left out, as in the summary
    summary = obs[-1]
    assert [m["reference"] for m in summary["hasMember"]] == [
        e["fullUrl"]
        for e in bundles["test:postural_stability"]["entry"]
        if e["resource"] in obs[:2]
    ]
    stored = db.sessions.get(kinds["test:postural_stability"]).metrics
    assert quantity(summary, "osi") == stored["osi"]
    assert quantity(summary, "stability-level") == 8
    assert all(o["category"][0]["coding"][0]["code"] == "exam" for o in obs)


def test_bess_sls_los_and_rom_measures(sessions_of_every_kind, bundles):
    db, kinds = sessions_of_every_kind
    bess = resources(bundles["test:bess"], "Observation")
    assert len(bess) == 7 and quantity(bess[-1], "bess-total") == 0
    assert quantity(bess[0], "bess-errors") == 0 and quantity(bess[0], "bess-score") == 0
    assert component(bess[0], "condition")["valueString"] == "locked/double"
    sls = resources(bundles["test:single_leg_stance"], "Observation")
    assert quantity(sls[0], "stance-time") == 10.0
    assert quantity(sls[-1], "sls-best-left-eyes-closed") == 10.0
    assert quantity(sls[-1], "sls-symmetry-eyes-open") == 100.0
    los = resources(bundles["test:limits_of_stability"], "Observation")
    assert len(los) == 9
    assert quantity(los[0], "direction-control") == 100.0
    assert component(los[0], "target-reached")["valueBoolean"] is True
    assert quantity(los[-1], "targets-reached") == 8 and quantity(los[-1], "los-score") == 100.0
    rom = resources(bundles["test:ankle_rom"], "Observation")
    stored = db.sessions.get(kinds["test:ankle_rom"]).metrics["rom_deg"]
    assert quantity(rom[-1], "rom-left-inversion") == stored["left"]["inversion"]
    assert quantity(rom[0], "rom") == pytest.approx(12.0)
    mctsib = resources(bundles["test:mctsib"], "Observation")
    assert quantity(mctsib[-1], "mctsib-total-held") == 40.0


def test_patient_is_pseudonymous_and_device_carries_chip_versions_calibration(bundles):
    bundle = bundles["hold"]
    (patient,) = resources(bundle, "Patient")
    assert "name" not in patient and patient["gender"] == "female"
    assert patient["birthDate"] == "1958"
    assert {
        "system": "https://wobble-trainer.org/fhir/sid/profile-label",
        "value": "P-017",
        "use": "secondary",
    } in patient["identifier"]
    (device,) = resources(bundle, "Device")
    assert device["modelNumber"] == "MPU-6050"
    from wobble_trainer import __version__
    from wobble_trainer.analysis import ANALYSIS_VERSION

    assert [v["value"] for v in device["version"]] == [__version__, ANALYSIS_VERSION]
    (metric,) = resources(bundle, "DeviceMetric")
    assert metric["calibration"] == [
        {"type": "unspecified", "state": "calibrated", "time": "2025-04-30T08:00:00.000+00:00"}
    ]
    (plan,) = resources(bundle, "CarePlan")
    assert plan["title"].startswith("Ankle sprain prevention") and plan["status"] == "active"
    assert len(plan["activity"]) == 5


def test_report_attaches_the_session_pdf(bundles):
    (report,) = resources(bundles["hold"], "DiagnosticReport")
    (form,) = report["presentedForm"]
    data = base64.b64decode(form["data"])
    assert form["contentType"] == "application/pdf" and data.startswith(b"%PDF")
    assert form["size"] == len(data)
    assert report["category"][0]["coding"][0]["code"] == "PT"


def test_re_export_gives_the_same_identifiers(sessions_of_every_kind, bundles):
    db, kinds = sessions_of_every_kind
    again = session_bundle(db, kinds["test:bess"], with_pdf=False)
    assert again == bundles["test:bess"]
    ids = [e["fullUrl"] for e in again["entry"]]
    other = session_bundle(db, kinds["test:mctsib"], with_pdf=False)
    assert ids[0] == other["entry"][0]["fullUrl"]  # the same patient
    assert not set(ids[4:]) & {e["fullUrl"] for e in other["entry"]}


def test_analysis_version_is_read_from_the_metrics_when_stored(sessions_of_every_kind):
    from dataclasses import replace

    db, kinds = sessions_of_every_kind
    session = db.sessions.get(kinds["hold"])
    from wobble_trainer.analysis import ANALYSIS_VERSION

    assert analysis_version(session) == ANALYSIS_VERSION  # stored with the metrics
    untagged = replace(session, metrics={k: v for k, v in session.metrics.items()
                                         if k != "analysis_version"})
    assert analysis_version(untagged) == session.metrics_software_version
    tagged = replace(session, metrics={**session.metrics, "analysis_version": "2.3.0"})
    assert analysis_version(tagged) == "2.3.0"


def test_guest_and_unmeasured_sessions_are_refused_clearly(tmp_path):
    from wobble_trainer.storage import open_database

    with open_database(tmp_path) as db:
        guest = db.profiles.guest()
        session = db.sessions.start(guest.id, "hold")
        with pytest.raises(FhirExportError, match="keep the session for a profile"):
            session_bundle(db, session.id)
        person = db.profiles.create("P-1", 1990, 1.8, "left")
        cut = db.sessions.start(person.id, "hold")
        with pytest.raises(FhirExportError, match="no stored measures"):
            session_bundle(db, cut.id)
        assert patient_bundles(db, person.id) == []


def test_patient_bundles_one_per_session(sessions_of_every_kind):
    db, kinds = sessions_of_every_kind
    profile_id = db.sessions.get(kinds["hold"]).profile_id
    found = patient_bundles(db, profile_id, with_pdf=False)
    assert len(found) == len(KINDS)
    assert all(check_bundle(b) == [] for b in found)


def test_code_system_is_complete_and_shipped_in_docs(bundles):
    system = code_system()
    assert system["count"] == len(system["concept"]) == len(CODES)
    shipped = json.loads((DOCS / "fhir" / "CodeSystem-balance-metrics.json").read_text())
    assert shipped == system, "regenerate docs/fhir/CodeSystem-balance-metrics.json"
    doc = (DOCS / "fhir.md").read_text()
    for code in CODES:
        assert f"`{code}`" in doc, f"{code} missing from docs/fhir.md"
    used = {
        c["code"]
        for b in bundles.values()
        for e in b["entry"]
        for c in json.loads(json.dumps(e["resource"])).get("code", {}).get("coding", [])
    }
    assert used <= CODES


def test_export_command_writes_one_bundle_per_session(sessions_of_every_kind, tmp_path):
    db, kinds = sessions_of_every_kind
    items = [
        (p, s) for p, s in select_sessions(db, all_profiles=True) if s.kind in ("hold", "test:bess")
    ]
    result = ExportJob(db, items, tmp_path, ["fhir"]).run()
    written = sorted(p for p in result.files if p.name.endswith(".fhir.json"))
    assert len(written) == 2
    for path in written:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        assert check_bundle(bundle) == []
        Bundle(bundle, strict=True)
    assert bundle_text(session_bundle(db, kinds["test:bess"])) == written[-1].read_text()


def test_wobble_export_format_fhir_from_the_command_line(tmp_path, monkeypatch, capsys):
    from test_reports_data import store_session

    from wobble_trainer.storage import open_database

    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "state"))
    with open_database() as db:
        person = db.profiles.create("P-9", 1970, 1.7, "left")
        store_session(db, person, "hold", metrics={"osi": 1.5, "score": 7.0})
    assert cli.main(["export", "--all", "--format", "fhir", "--out", str(tmp_path / "o")]) == 0
    (path,) = (tmp_path / "o").rglob("*.fhir.json")
    bundle = json.loads(path.read_text())
    assert check_bundle(bundle) == []
    assert quantity(resources(bundle, "Observation")[0], "osi") == 1.5


def test_a_test_stopped_early_is_a_partial_report_and_unknown_protocols_get_the_generic_code(
    tmp_path,
):
    from test_reports_data import store_session

    from wobble_trainer.storage import open_database

    with open_database(tmp_path) as db:
        person = db.profiles.create("P-2", 1975, 1.6, "left")
        trial = {
            "label": "only",
            "practice": False,
            "time_s": 4.0,
            "ended_by": "clinician",
            "osi": 1.25,
        }
        session = store_session(
            db,
            person,
            "test:sway_walk",
            metrics={"protocol": "sway_walk", "completed": False, "trials": [trial]},
        )
        bundle = session_bundle(db, session.id, with_pdf=False)
    assert check_bundle(bundle) == []
    Bundle(bundle, strict=True)
    (report,) = resources(bundle, "DiagnosticReport")
    assert report["status"] == "partial"
    trial_obs, summary = resources(bundle, "Observation")
    assert trial_obs["code"]["coding"][0]["code"] == "protocol-trial"
    assert summary["code"]["coding"][0]["code"] == "protocol"
    assert quantity(trial_obs, "osi") == 1.25
    assert component(trial_obs, "ended-by")["valueString"] == "clinician"
    assert component(summary, "protocol-completed")["valueBoolean"] is False
    assert "CarePlan" not in [e["resource"]["resourceType"] for e in bundle["entry"]]
