"""Clinicians (login, growing lockout, login sessions) and boards (codes, secrets, revoking)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wobble_trainer.hub import accounts
from wobble_trainer.hub.accounts import AccountError, LoginRefused


def test_clinician_login_and_session(hub_db):
    with hub_db.begin() as conn:
        accounts.create_clinician(conn, "dr who", "tardis-blue")
        with pytest.raises(AccountError, match="already"):
            accounts.create_clinician(conn, "dr who", "another-one")
        login = accounts.login(conn, "dr who", "tardis-blue")
        assert accounts.session_for_token(conn, login.token).name == "dr who"
        assert accounts.session_for_token(conn, "forged") is None
        later = accounts.utcnow() + timedelta(hours=accounts.LOGIN_SESSION_HOURS + 1)
        assert accounts.session_for_token(conn, login.token, later) is None
        accounts.logout(conn, login.token)
        assert accounts.session_for_token(conn, login.token) is None


def test_lockout_grows_and_a_locked_account_checks_no_password(hub_db):
    assert [accounts.lock_seconds(n) for n in range(1, 7)] == [0, 0, 30, 60, 120, 240]
    assert accounts.lock_seconds(30) == accounts.MAX_LOCK_S
    with hub_db.begin() as conn:
        accounts.create_clinician(conn, "dr who", "tardis-blue")
    now = accounts.utcnow()
    for _ in range(accounts.FREE_FAILURES):
        with hub_db.begin() as conn, pytest.raises(LoginRefused):
            accounts.login(conn, "dr who", "wrong-password", now)
    with hub_db.begin() as conn, pytest.raises(LoginRefused, match="try again") as locked:
        accounts.login(conn, "dr who", "tardis-blue", now + timedelta(seconds=10))
    assert locked.value.retry_after_s == pytest.approx(20, abs=1)
    with hub_db.begin() as conn:
        accounts.login(conn, "dr who", "tardis-blue", now + timedelta(seconds=31))
    with hub_db.begin() as conn, pytest.raises(LoginRefused, match="wrong name"):
        accounts.login(conn, "nobody", "tardis-blue")


def test_enrolment_codes_are_single_use_and_expire(hub_db):
    with hub_db.begin() as conn:
        code = accounts.enrol_board(conn, "Room 1", minutes=5)
        link = accounts.link_board(conn, code, "0.1.0")
        assert link.name == "Room 1"
        assert accounts.authenticate_board(conn, link.board_id, link.secret).name == "Room 1"
        assert accounts.authenticate_board(conn, link.board_id, "wrong") is None
        with pytest.raises(AccountError, match="already used"):
            accounts.link_board(conn, code)
        old = accounts.enrol_board(conn, "Room 2", minutes=5)
        with pytest.raises(AccountError, match="expired"):
            accounts.link_board(conn, old, now=accounts.utcnow() + timedelta(minutes=6))


def test_a_revoked_board_is_refused_until_it_is_enrolled_again(hub_db):
    with hub_db.begin() as conn:
        link = accounts.link_board(conn, accounts.enrol_board(conn, "Room 1"))
        accounts.revoke_board(conn, "Room 1", "dr who")
        assert accounts.authenticate_board(conn, link.board_id, link.secret) is None
        again = accounts.link_board(conn, accounts.enrol_board(conn, "Room 1"))
        assert again.board_id == link.board_id and again.secret != link.secret
        assert accounts.authenticate_board(conn, again.board_id, again.secret) is not None
        with pytest.raises(AccountError, match="no board"):
            accounts.revoke_board(conn, "Room 9", "dr who")
