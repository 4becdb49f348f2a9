"""The boards' HTTP API: nothing but /healthz and linking answers without credentials."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from wobble_trainer.hub import accounts
from wobble_trainer.hub.api import parse_board_auth
from wobble_trainer.hub.app import create_app


@pytest.fixture
def client(hub_db):
    with TestClient(create_app(hub_db)) as c:
        yield c


def test_health_check_answers_without_credentials(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["ok"] is True


@pytest.mark.parametrize("path", ["/api/profiles", "/api/sessions", "/api/deletions", "/api/pull"])
def test_every_api_route_needs_a_board(client, path):
    assert client.post(path, json={}).status_code == 401
    bad = client.post(path, json={}, headers={"Authorization": "Board 1:nope"})
    assert bad.status_code == 401 and "link it again" in bad.json()["error"]


def test_linking_then_using_the_secret(client, hub_db):
    with hub_db.begin() as conn:
        code = accounts.enrol_board(conn, "Room 1")
    assert client.post("/api/link", json={"code": "WRONG"}).status_code == 400
    answer = client.post("/api/link", json={"code": code}).json()
    auth = {"Authorization": f"Board {answer['board_id']}:{answer['secret']}"}
    pulled = client.post("/api/pull", json={"known": {}}, headers=auth)
    assert pulled.status_code == 200 and pulled.json() == {"profiles": [], "deleted": []}
    bad = client.post("/api/sessions", json={"trials": [{}]}, headers=auth)
    assert bad.status_code == 422
    assert client.post("/api/pull", content=b"{", headers=auth).status_code == 400


def test_parse_board_auth():
    assert parse_board_auth("Board 12:abc") == (12, "abc")
    for bad in (None, "", "Bearer x", "Board x:y", "Board 1", "Board 1:"):
        assert parse_board_auth(bad) is None
