"""Password hashes and secret digests."""

from __future__ import annotations

import pytest

from wobble_trainer.hub import credentials


def test_password_hashes_verify_and_are_salted():
    a = credentials.hash_password("correct horse")
    b = credentials.hash_password("correct horse")
    assert a != b and a.startswith("scrypt$")
    assert credentials.verify_password("correct horse", a)
    assert not credentials.verify_password("correct hors", a)
    assert not credentials.verify_password("x", "garbage")
    with pytest.raises(ValueError, match="8 characters"):
        credentials.hash_password("short")


def test_codes_are_typable_and_normalised():
    code = credentials.new_code()
    assert len(code) == 14 and code.count("-") == 2
    assert set(code.replace("-", "")) <= set(credentials.CODE_ALPHABET)
    assert credentials.normalise_code(code.lower().replace("-", " ")) == code


def test_digests_compare():
    token = credentials.new_token()
    assert credentials.same_digest(token, credentials.digest(token))
    assert not credentials.same_digest(token + "x", credentials.digest(token))
    assert not credentials.same_digest(token, None)
