"""The clinician web view over HTTP (SQLite and PostgreSQL): login, lockout, CSRF, pages,
edits, downloads and the audit log."""

from __future__ import annotations

import re

import pytest
from conftest import quantised_trace
from sqlalchemy import func, select
from starlette.testclient import TestClient

from wobble_trainer.hub import accounts, sync
from wobble_trainer.hub.app import create_app
from wobble_trainer.hub.tables import trial_views
from wobble_trainer.hub.web import SESSION_COOKIE
from wobble_trainer.storage.compact import encode_trace
from wobble_trainer.tilt.calibration import Calibration, to_json_dict

PASSWORD = "tardis-blue"


@pytest.fixture
def hub(hub_db):
    with hub_db.begin() as conn:
        accounts.create_clinician(conn, "dr who", PASSWORD)
        link = accounts.link_board(conn, accounts.enrol_board(conn, "Room 1"))
        board = accounts.authenticate_board(conn, link.board_id, link.secret)
        trials = []
        for k in range(2):
            t, acc, gyr = quantised_trace(1500, seed=k)
            trials.append(
                {
                    "columns": {
                        "idx": k,
                        "label": f"trial {k + 1}",
                        "events": "[]",
                        "started_at": None,
                        "ended_at": None,
                    },
                    "sample_count": 1500,
                    "trace": encode_trace(t, acc, gyr).blob,
                }
            )
        import json

        for n, (day, osi) in enumerate([("2026-11-02", 3.0), ("2026-11-30", 2.0)]):
            sync.receive_session(
                conn,
                board,
                {
                    "uid": f"s{n}",
                    "trials": trials,
                    "profile": {
                        "uid": "p1",
                        "fields": {
                            "name": "Ann Smith",
                            "birth_year": 1960,
                            "height_m": 1.65,
                            "injured_side": "none",
                            "dominant_leg": "left",
                            "sex": None,
                        },
                        "assignments": [],
                    },
                    "columns": {
                        "kind": "test:postural_stability",
                        "settings": "{}",
                        "started_at": f"{day}T10:00:00.000+01:00",
                        "ended_at": f"{day}T10:03:00.000+01:00",
                        "calibration": json.dumps(to_json_dict(Calibration.default())),
                        "edge_angles": None,
                        "software_version": "0.1.0",
                        "metrics": json.dumps({"osi": osi, "sd": {"ap": 1.0}}),
                        "metrics_software_version": "0.1.0",
                        "events": "[]",
                        "kept": 1,
                    },
                },
            )
    with TestClient(create_app(hub_db)) as client:
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def log_in(client, password=PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"name": "dr who", "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )


def test_pages_need_a_login(hub):
    for path in (
        "/",
        "/patients/p1",
        "/sessions/s0",
        "/sessions/s0/session.json",
        "/boards",
        "/audit",
    ):
        answer = hub.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_login_sets_an_httponly_cookie_and_pages_render(hub, hub_db):
    answer = log_in(hub)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    listing = hub.get("/?q=ann")
    assert "Ann Smith" in listing.text and "(-1.00)" in listing.text  # change from the first
    assert "Bob" not in hub.get("/?q=bob").text
    patient = hub.get("/patients/p1")
    assert patient.status_code == 200 and "Postural stability" in patient.text
    session = hub.get("/sessions/s0")
    assert "<th>osi</th><td>3.0</td>" in session.text and "<th>sd.ap</th>" in session.text
    assert "polyline" in session.text
    with hub_db.begin() as conn:  # the plotted angles are cached for the next view
        assert conn.execute(select(func.count()).select_from(trial_views)).scalar_one() == 2
    assert hub.get("/sessions/s0").text == session.text
    data = hub.get("/sessions/s0/session.json").json()
    assert data["metrics"]["osi"] == 3.0 and len(data["trials"]) == 2
    csv = hub.get("/sessions/s0/trial-0.csv").text.splitlines()
    assert csv[0].startswith("t_s,ax_m_s2") and len(csv) == 1501
    assert "Room 1" in hub.get("/boards").text
    audit = hub.get("/audit").text
    for action in (
        "login",
        "viewed patient",
        "viewed session",
        "exported session JSON",
        "exported trial CSV",
    ):
        assert action in audit


def test_wrong_passwords_lock_the_account(hub):
    for _ in range(accounts.FREE_FAILURES):
        assert log_in(hub, "wrong-password").status_code == 401
    answer = log_in(hub)
    assert answer.status_code == 401 and "try again in" in answer.text


def test_forms_without_the_csrf_token_are_refused(hub):
    log_in(hub)
    answer = hub.post(
        "/patients/p1/programme",
        data={"programme_id": "ankle-sprain-prevention", "start_date": "2026-12-01"},
    )
    assert answer.status_code == 403
    assert (
        hub.post(
            "/login", data={"name": "dr who", "password": PASSWORD, "csrf": "forged"}
        ).status_code
        == 403
    )


def test_assign_edit_and_delete_from_the_patient_page(hub, hub_db):
    log_in(hub)
    token = csrf_of(hub.get("/patients/p1").text)
    answer = hub.post(
        "/patients/p1/programme",
        data={"csrf": token, "programme_id": "ankle-sprain-prevention", "start_date": "2026-12-01"},
    )
    assert answer.status_code == 200, re.findall(r"alert\">([^<]*)", answer.text)
    assert "(current), by dr who" in answer.text
    bad = hub.post(
        "/patients/p1/profile",
        data={
            "csrf": token,
            "name": "Ann Smith",
            "birth_year": "1960",
            "height_m": "7",
            "injured_side": "none",
            "dominant_leg": "left",
        },
    )
    assert bad.status_code == 400 and "height" in bad.text
    ok = hub.post(
        "/patients/p1/profile",
        data={
            "csrf": token,
            "name": "Ann Smith",
            "birth_year": "1960",
            "height_m": "1.7",
            "injured_side": "left",
            "dominant_leg": "left",
        },
    )
    assert ok.status_code == 200
    with hub_db.begin() as conn:
        board = accounts.list_boards(conn)[0]
        doc = sync.pull(conn, board, {"p1": 1})["profiles"][0]
    assert doc["fields"]["height_m"] == 1.7 and doc["revision"] == 3
    assert (
        hub.post("/patients/p1/delete", data={"csrf": token, "confirm": "Ann"}).status_code == 400
    )
    hub.post("/patients/p1/delete", data={"csrf": token, "confirm": "Ann Smith"})
    assert hub_db.stats()["sessions"] == 0


def test_in_a_real_browser_a_programme_assigned_on_the_hub_arrives_on_the_board(
    make_board, hub_server, browser, tmp_path
):
    """Log in, find a patient, open a session, assign a programme; the board's next sync has it.
    (Debian's Chromium, headless, through chromedriver; the hub is a real server on loopback.)"""
    from datetime import date

    from conftest import record_session
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from wobble_trainer.hub.db import HubDatabase

    board = make_board()
    ann = board.db.profiles.create("Ann Smith", 1960, 1.65, "left")
    record_session(board.db, ann.id)
    board.db.profiles.create("Bob Jones", 1970, 1.8, "right")
    board.sync()
    with HubDatabase(hub_server.database) as hub, hub.begin() as conn:
        accounts.create_clinician(conn, "dr who", PASSWORD)

    browser.get(hub_server.url + "/")
    assert browser.current_url.endswith("/login")
    browser.find_element(By.NAME, "name").send_keys("dr who")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    browser.find_element(By.ID, "find").send_keys("smith")
    browser.find_element(By.ID, "find").submit()
    assert "Bob Jones" not in browser.page_source
    browser.find_element(By.LINK_TEXT, "Ann Smith").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, date.today().isoformat()[:4]).click()
    metrics = browser.find_element(By.ID, "metrics").text
    assert "osi" in metrics and "1.5" in metrics
    browser.find_element(By.PARTIAL_LINK_TEXT, "Ann Smith").click()
    Select(browser.find_element(By.ID, "programme")).select_by_value("ankle-sprain-prevention")
    browser.find_element(By.ID, "assign").click()
    assert "(current), by dr who" in browser.page_source
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies[SESSION_COOKIE]["httpOnly"] is True

    report = board.sync()
    assert report.profiles_down == ["Ann Smith"]
    current = board.db.programmes.current(ann.id)
    assert current is not None and current.programme_id == "ankle-sprain-prevention"
    assert current.assigned_by == "dr who"


def test_the_patient_list_pages_through_many_patients(hub, hub_db):
    from wobble_trainer.hub.views import PAGE_SIZE

    with hub_db.begin() as conn:
        board = accounts.list_boards(conn)[0]
        for n in range(PAGE_SIZE + 5):
            sync.receive_profile(
                conn, board, {"uid": f"x{n}", "fields": {"name": f"Zed {n:03d}"}, "assignments": []}
            )
    log_in(hub)
    first = hub.get("/").text
    assert "Ann Smith" in first and 'id="next"' in first and "Zed 054" not in first
    second = hub.get("/?page=1").text
    assert "Zed 054" in second and 'id="next"' not in second
