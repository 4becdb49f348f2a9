"""The live view: a board's publisher, the hub's newest state, the viewer's page and JSON."""

from __future__ import annotations

import re
import time

import pytest
from starlette.testclient import TestClient

from wobble_trainer.hub import accounts, live
from wobble_trainer.hub.app import create_app
from wobble_trainer.hub.db import HubDatabase
from wobble_trainer.sync.live import LivePublisher


def test_publish_keeps_only_the_newest_state(hub_db):
    with hub_db.begin() as conn:
        link = accounts.link_board(conn, accounts.enrol_board(conn, "Room 1"))
        board = accounts.authenticate_board(conn, link.board_id, link.secret)
        assert live.latest(conn, board.id) is None
        assert live.publish(conn, board, {"pitch_deg": 1.0, "roll_deg": 2.0}) == 1
        assert (
            live.publish(
                conn, board, {"pitch_deg": 3.0, "roll_deg": -4.0, "activity": "hold", "junk": "x"}
            )
            == 2
        )
        state = live.latest(conn, board.id)
        assert (state["pitch_deg"], state["roll_deg"], state["seq"]) == (3.0, -4.0, 2)
        assert "junk" not in state
        with pytest.raises(live.LiveError):
            live.publish(conn, board, {"pitch_deg": float("nan"), "roll_deg": 0.0})


def test_a_board_publishes_and_a_clinician_watches(make_board, hub_server):
    board = make_board()
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        accounts.create_clinician(conn, "dr who", "tardis-blue")
    publisher = LivePublisher(board.link).start()
    try:
        deadline = time.monotonic() + 30
        k = 0
        while publisher.sent < 10 and time.monotonic() < deadline:
            k += 1
            publisher.offer(0.1 * k, -0.05 * k, "hold", "running")
            time.sleep(0.01)
    finally:
        publisher.stop()
    assert publisher.sent >= 10 and not publisher.running
    with TestClient(create_app(hub_server.db)) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        client.post("/login", data={"name": "dr who", "password": "tardis-blue", "csrf": csrf})
        assert client.get(f"/boards/{board.link.board_id}/live").status_code == 200
        state = client.get(f"/boards/{board.link.board_id}/live.json").json()
        assert state["activity"] == "hold" and state["seq"] == publisher.sent
        assert state["pitch_deg"] > 0 > state["roll_deg"]
        assert "setTimeout(poll, 50)" in client.get("/static/live.js").text
    with TestClient(create_app(hub_server.db)) as anonymous:
        assert (
            anonymous.get(
                f"/boards/{board.link.board_id}/live.json", follow_redirects=False
            ).status_code
            == 303
        )


def test_a_hub_that_does_not_answer_never_blocks_the_offer(tmp_path):
    from conftest import free_port

    from wobble_trainer.sync.link import HubLink

    publisher = LivePublisher(HubLink(f"http://127.0.0.1:{free_port()}", 1, "x", "s")).start()
    try:
        for k in range(1000):
            publisher.offer(k, k)  # returns at once, whatever the network does
        deadline = time.monotonic() + 10
        while publisher.failures == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert publisher.failures >= 1 and publisher.sent == 0
    finally:
        publisher.stop()


def test_the_live_page_moves_the_cursor_in_a_real_browser(make_board, hub_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    board = make_board()
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        accounts.create_clinician(conn, "dr who", "tardis-blue")
    browser.get(hub_server.url + "/login")
    browser.find_element(By.NAME, "name").send_keys("dr who")
    browser.find_element(By.NAME, "password").send_keys("tardis-blue")
    browser.find_element(By.ID, "login").click()
    # The login's answer (and its cookie) first: navigating away at once could race it.
    WebDriverWait(browser, 20).until(lambda d: "/login" not in d.current_url)
    browser.get(f"{hub_server.url}/boards/{board.link.board_id}/live")
    publisher = LivePublisher(board.link).start()
    try:

        def moved(driver) -> bool:
            publisher.offer(7.5, -7.5, "hold", "running")  # the board's newest state, again
            cursor = driver.find_element(By.ID, "cursor")
            return cursor.get_attribute("cy") == "52.5" and cursor.get_attribute("cx") == "52.5"

        WebDriverWait(browser, 20, poll_frequency=0.05).until(moved)
        assert "hold · running" in browser.find_element(By.ID, "state").text
    finally:
        publisher.stop()
