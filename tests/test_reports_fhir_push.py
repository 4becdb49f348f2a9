"""Tests of wobble_trainer.reports.fhir_push against the in-test FHIR server on 127.0.0.1:
Bundles posted and read back by patient and code, retries while the server is down, no
duplicates after a lost answer, refusals kept for a person, the outbox surviving a restart."""

from __future__ import annotations

import json

import pytest

from wobble_trainer import cli
from wobble_trainer.reports.fhir import session_bundle
from wobble_trainer.reports.fhir_codes import CODE_SYSTEM_URL
from wobble_trainer.reports.fhir_push import (
    BASE_BACKOFF_S,
    FhirOutbox,
    FhirPusher,
    FhirPushError,
    FhirTarget,
    backoff_s,
    check_url,
    post_transaction,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def two_bundles(sessions_of_every_kind):
    db, kinds = sessions_of_every_kind
    return [session_bundle(db, kinds[k], with_pdf=False) for k in ("hold", "test:bess")]


def pusher(tmp_path, server, clock=None, token="test-token"):
    clock = clock or Clock()
    target = FhirTarget(server.url, token, timeout_s=5)
    return FhirPusher(FhirOutbox(tmp_path / "outbox"), target, clock=clock, sleep=clock.sleep)


def test_bundles_are_posted_and_read_back_by_patient_and_code(tmp_path, fhir_server, two_bundles):
    p = pusher(tmp_path, fhir_server)
    for bundle in two_bundles:
        p.outbox.put(bundle)
    result = p.push()
    assert (result.sent, result.failed, result.waiting) == (2, 0, 0)
    assert p.outbox.items() == []
    patient_key = two_bundles[0]["entry"][0]["resource"]["identifier"][0]
    found = fhir_server.get(f"Patient?identifier={patient_key['system']}|{patient_key['value']}")
    assert found["total"] == 1  # both sessions' Bundles name the same patient: created once
    patient_id = found["entry"][0]["resource"]["id"]
    bess = fhir_server.get(f"Observation?patient=Patient/{patient_id}&code={CODE_SYSTEM_URL}|bess")
    (summary,) = [e["resource"] for e in bess["entry"]]
    assert summary["subject"]["reference"] == f"Patient/{patient_id}"
    assert summary["device"]["reference"].startswith("Device/")
    members = [m["reference"] for m in summary["hasMember"]]
    assert len(members) == 6 and all(m.startswith("Observation/") for m in members)
    trial = fhir_server.get(members[0])
    assert trial["code"]["coding"][0]["code"] == "bess-condition"
    reports = fhir_server.get(f"DiagnosticReport?patient=Patient/{patient_id}")
    assert reports["total"] == 2


def test_a_retry_after_a_lost_answer_makes_no_duplicate(tmp_path, fhir_server, two_bundles):
    p = pusher(tmp_path, fhir_server)
    p.outbox.put(two_bundles[1])
    fhir_server.drop_answers = 1  # committed on the server, the answer never arrives
    first = p.flush()
    assert first.sent == 0 and first.waiting == 1 and fhir_server.store.transactions == 1
    counts = {t: fhir_server.store.count(t) for t in ("Patient", "Observation", "DiagnosticReport")}
    result = p.push(retries=1)
    assert result.sent == 1 and fhir_server.store.transactions == 2
    assert {t: fhir_server.store.count(t) for t in counts} == counts  # nothing created twice
    assert counts == {"Patient": 1, "Observation": 7, "DiagnosticReport": 1}


def test_server_down_then_up_the_bundle_waits_and_is_sent(tmp_path, fhir_server, two_bundles):
    clock = Clock()
    p = pusher(tmp_path, fhir_server, clock)
    fhir_server.stop()  # the server is down (connection refused)
    p.outbox.put(two_bundles[0])
    p.outbox.put(two_bundles[1])
    result = p.push(retries=2)
    assert result.sent == 0 and result.waiting == 2
    assert clock.slept == [BASE_BACKOFF_S, 2 * BASE_BACKOFF_S]  # backoff doubles
    assert sum(i.attempts for i in p.outbox.items()) == 3  # one try per round, no hammering
    # a restart: a new process on the same outbox directory still has both
    fhir_server.start()  # up again on the same port
    again = FhirPusher(FhirOutbox(tmp_path / "outbox"), p.target, clock=clock, sleep=clock.sleep)
    clock.now += backoff_s(3)
    assert again.flush().sent == 2 and again.outbox.items() == []
    assert fhir_server.store.count("DiagnosticReport") == 2


def test_503_is_retried_and_a_refusal_is_kept_for_a_person(tmp_path, fhir_server, two_bundles):
    clock = Clock()
    p = pusher(tmp_path, fhir_server, clock)
    p.outbox.put(two_bundles[0])
    fhir_server.fail_status = 503
    assert p.flush().waiting == 1
    fhir_server.fail_status = 422
    clock.now += 10 * BASE_BACKOFF_S
    result = p.flush()
    assert result.failed == 1 and p.outbox.items() == []
    (kept,) = (tmp_path / "outbox" / "failed").glob("*.json")
    assert json.loads(kept.read_text())["bundle"] == two_bundles[0]
    assert "422" in kept.with_suffix(".error.txt").read_text()


def test_a_wrong_token_is_refused_and_nothing_is_stored(tmp_path, fhir_server, two_bundles):
    with pytest.raises(FhirPushError) as caught:
        post_transaction(FhirTarget(fhir_server.url, "wrong"), two_bundles[0])
    assert caught.value.status == 401 and not caught.value.retryable
    assert fhir_server.store.count("Patient") == 0


def test_queueing_the_same_session_twice_keeps_one(tmp_path, two_bundles):
    outbox = FhirOutbox(tmp_path)
    outbox.put(two_bundles[0])
    outbox.put(two_bundles[0])
    assert len(outbox.items()) == 1
    assert (tmp_path / f"{two_bundles[0]['identifier']['value']}.json").stat().st_mode & 0o077 == 0


def test_a_damaged_queue_file_is_set_aside(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    assert FhirOutbox(tmp_path).items() == []
    assert (tmp_path / "failed" / "x.json").exists()


def test_plain_http_only_to_this_machine():
    check_url("http://127.0.0.1:8080/fhir")
    check_url("https://fhir.example.org/r4")
    with pytest.raises(ValueError, match="unencrypted"):
        check_url("http://fhir.example.org/r4")
    with pytest.raises(ValueError, match="base URL"):
        check_url("ftp://x")
    with pytest.raises(ValueError, match="token"):
        FhirTarget("https://fhir.example.org", "")


def test_wobble_fhir_push_command(tmp_path, monkeypatch, capsys, fhir_server):
    from test_reports_data import store_session

    from wobble_trainer.storage import open_database

    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "state"))
    with open_database() as db:
        person = db.profiles.create("P-5", 1980, 1.7, "left")
        store_session(db, person, "hold", metrics={"osi": 2.5, "score": 3.0})
    token = tmp_path / "token"
    token.write_text("test-token\n")
    argv = ["fhir", "push", "--url", fhir_server.url, "--token-file", str(token), "--all"]
    assert cli.main(argv) == 0
    assert "sent 1" in capsys.readouterr().out
    assert fhir_server.store.count("Observation") == 1
    assert cli.main(argv) == 0  # again: same identifiers, nothing new on the server
    assert fhir_server.store.count("Observation") == 1
    assert cli.main(["fhir", "status"]) == 0
    assert "0 Bundles waiting" in capsys.readouterr().out
    token.write_text("")
    assert cli.main(argv) == 1
    assert "token" in capsys.readouterr().err
