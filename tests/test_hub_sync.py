"""The hub's sync rules, called directly (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import quantised_trace

from wobble_trainer.hub import accounts, sync
from wobble_trainer.storage.compact import encode_trace


@pytest.fixture
def board(hub_db):
    with hub_db.begin() as conn:
        link = accounts.link_board(conn, accounts.enrol_board(conn, "Room 1"))
        return accounts.authenticate_board(conn, link.board_id, link.secret)


def profile(uid="p1", name="Ann", base=0):
    return {
        "uid": uid,
        "base_revision": base,
        "fields": {"name": name, "birth_year": 1960, "height_m": 1.6},
        "assignments": [],
    }


def session(uid="s1", trials=2, metrics='{"osi":1.0}'):
    docs = []
    for k in range(trials):
        t, acc, gyr = quantised_trace(200, seed=k)
        docs.append(
            {
                "columns": {"idx": k, "label": f"t{k}"},
                "sample_count": 200,
                "trace": encode_trace(t, acc, gyr).blob,
            }
        )
    return {
        "uid": uid,
        "profile": profile(),
        "trials": docs,
        "columns": {
            "kind": "game:marbles",
            "started_at": "2026-01-01T10:00:00.000+01:00",
            "ended_at": "2026-01-01T10:02:00.000+01:00",
            "metrics": metrics,
        },
    }


def test_sessions_are_stored_once_and_updated_in_place(hub_db, board):
    with hub_db.begin() as conn:
        assert sync.receive_session(conn, board, session()) == "stored"
        assert sync.receive_session(conn, board, session()) == "unchanged"
        assert sync.receive_session(conn, board, session(metrics='{"osi":2.0}')) == "updated"
    assert hub_db.stats()["sessions"] == 1 and hub_db.stats()["trials"] == 2
    assert hub_db.stats()["samples"] == 400 and hub_db.stats()["patients"] == 1


def test_a_bad_trace_is_refused_and_nothing_stored(hub_db, board):
    doc = session()
    doc["trials"][0]["trace"] = b"garbage"
    with hub_db.begin() as conn, pytest.raises(sync.SyncError, match="cannot be read"):
        sync.receive_session(conn, board, doc)
    doc = session()
    doc["trials"][0]["sample_count"] = 5
    with hub_db.begin() as conn, pytest.raises(sync.SyncError, match="sample count"):
        sync.receive_session(conn, board, doc)
    assert hub_db.stats()["sessions"] == 0


def test_profile_revisions_first_edit_wins(hub_db, board):
    with hub_db.begin() as conn:
        first = sync.receive_profile(conn, board, profile())
        assert (first["status"], first["patient"]["revision"]) == ("accepted", 1)
        ok = sync.receive_profile(conn, board, profile(name="Ann B", base=1))
        assert (ok["status"], ok["patient"]["revision"]) == ("accepted", 2)
        stale = sync.receive_profile(conn, board, profile(name="Ann C", base=1))
        assert stale["status"] == "conflict" and stale["patient"]["fields"]["name"] == "Ann B"
        doc = sync.assign_programme(
            conn, "p1", "ankle-sprain-prevention", date(2026, 1, 5), "dr who"
        )
        assert doc["revision"] == 3 and doc["assignments"][0]["end_date"] is None
        doc = sync.assign_programme(conn, "p1", "other", date(2026, 2, 5), "dr who")
        assert doc["assignments"][0]["end_date"] == "2026-02-05"
        with pytest.raises(sync.SyncError, match="end it first"):
            sync.assign_programme(conn, "p1", "x", date(2026, 1, 1), "dr who")


def test_pull_sends_newer_revisions_and_deletions(hub_db, board):
    with hub_db.begin() as conn:
        sync.receive_profile(conn, board, profile("p1"))
        sync.receive_profile(conn, board, profile("p2", "Bob"))
        assert sync.pull(conn, board, {"p1": 1, "p2": 1}) == {"profiles": [], "deleted": []}
        sync.edit_patient(conn, "p1", {"height_m": 1.7}, "dr who")
        sync.delete_patient(conn, "p2", "dr who")
        answer = sync.pull(conn, board, {"p1": 1, "p2": 1}, {"software_version": "9"})
        assert [p["uid"] for p in answer["profiles"]] == ["p1"]
        assert answer["deleted"] == ["p2"]
        assert sync.receive_profile(conn, board, profile("p2", "Bob", 1))["status"] == "deleted"
        assert accounts.list_boards(conn)[0].software_version == "9"
