"""HTTP to the hub: clear errors for a bad address, no answer, refusal."""

from __future__ import annotations

import pytest
from conftest import free_port

from wobble_trainer.sync.client import HubClient, HubError, HubRefused, HubUnreachable


def test_bad_addresses_are_refused():
    for bad in ("hub.clinic", "ftp://hub", "http://"):
        with pytest.raises(HubError, match="not a hub address"):
            HubClient(bad)


def test_no_answer_is_unreachable():
    with pytest.raises(HubUnreachable, match="did not answer"):
        HubClient(f"http://127.0.0.1:{free_port()}", timeout_s=2).post("/api/pull", {})


def test_health_and_refusal_from_a_real_hub(hub_server):
    assert HubClient(hub_server.url).get("/healthz")["ok"] is True
    with pytest.raises(HubRefused, match="link it again"):
        HubClient(hub_server.url, 1, "wrong").post("/api/pull", {})
    with pytest.raises(HubError, match="wrong, expired"):
        HubClient(hub_server.url).post("/api/link", {"code": "nope"})
