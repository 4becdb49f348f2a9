"""Clinician PIN: hashing, serialised form, right/wrong PIN, lockout timing on a manual clock."""

from __future__ import annotations

import hashlib

import pytest

from wobble_trainer.appliance.pin import (
    DEFAULT_PARAMS,
    LockoutPolicy,
    PinFormatError,
    PinGate,
    PinHash,
    ScryptParams,
    hash_pin,
    validate_pin,
    verify_pin,
)
from wobble_trainer.clock import ManualClock

# Cheap parameters keep the suite fast; the default (slow) ones are exercised once below.
FAST = ScryptParams(log2_n=4, r=1, p=1)


def test_default_parameters_are_the_documented_ones() -> None:
    assert (DEFAULT_PARAMS.n, DEFAULT_PARAMS.r, DEFAULT_PARAMS.p) == (16384, 8, 1)
    assert DEFAULT_PARAMS.memory_bytes == 16 * 2**20


def test_default_hash_right_and_wrong_pin() -> None:
    stored = hash_pin("2468")
    text = stored.to_string()
    assert text.startswith("$scrypt$ln=14,r=8,p=1$")
    assert verify_pin("2468", text)
    assert not verify_pin("2469", text)


def test_hash_is_plain_scrypt_of_the_utf8_pin() -> None:
    salt = bytes(range(16))
    stored = hash_pin("1234", FAST, salt=salt)
    expected = hashlib.scrypt(b"1234", salt=salt, n=16, r=1, p=1, dklen=32)
    assert stored.key == expected


def test_salt_is_random_per_hash() -> None:
    a, b = hash_pin("1234", FAST), hash_pin("1234", FAST)
    assert a.salt != b.salt and a.key != b.key
    assert verify_pin("1234", a) and verify_pin("1234", b)


def test_serialised_form_round_trips() -> None:
    stored = hash_pin("98765432", FAST)
    text = stored.to_string()
    assert "=" not in text.split("$")[-1]  # PHC: base64 without padding
    parsed = PinHash.parse(text)
    assert parsed == stored
    assert parsed.matches("98765432")
    assert not parsed.matches("98765431")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1234",
        "$pbkdf2$ln=4,r=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=40,r=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # salt too short
        "$scrypt$ln=4,r=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",  # key too short
        "$scrypt$ln=4,r=1,p=1$A$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # bad base64 length
    ],
)
def test_malformed_stored_hash_is_rejected(text: str) -> None:
    with pytest.raises(PinFormatError):
        PinHash.parse(text)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234", "１２３４", ""])
def test_new_pin_rules(pin: str) -> None:
    with pytest.raises(PinFormatError):
        validate_pin(pin)
    with pytest.raises(PinFormatError):
        hash_pin(pin, FAST)


def test_any_input_is_checked_without_error() -> None:
    stored = hash_pin("1234", FAST)
    for attempt in ["", "12345", "abcd", "ü" * 50]:
        assert verify_pin(attempt, stored) is False


def test_lockout_policy_delays() -> None:
    policy = LockoutPolicy()  # 3 free, then 30 s doubling, capped at 900 s
    expected = [0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert [policy.delay_after(n) for n in range(10)] == expected
    assert policy.delay_after(100_000) == 900
    with pytest.raises(ValueError):
        LockoutPolicy(free_attempts=0)
    with pytest.raises(ValueError):
        LockoutPolicy(first_delay_s=60, max_delay_s=30)
    with pytest.raises(ValueError):
        LockoutPolicy(growth=0.5)


def test_gate_lockout_timing_with_manual_clock() -> None:
    clock = ManualClock(1000.0)
    gate = PinGate(hash_pin("4321", FAST), clock)

    # Three free failures.
    for n in (1, 2):
        r = gate.attempt("0000")
        assert (r.accepted, r.locked, r.retry_after_s, r.failures) == (False, False, 0.0, n)
    r = gate.attempt("0000")
    assert (r.accepted, r.locked, r.retry_after_s, r.failures) == (False, False, 30.0, 3)
    assert gate.locked and gate.retry_after() == 30.0

    # While locked even the right PIN is refused unchecked, and the refusal does not count.
    clock.advance(29.0)
    r = gate.attempt("4321")
    assert (r.accepted, r.locked, r.failures) == (False, True, 3)
    assert r.retry_after_s == pytest.approx(1.0)

    # Lock over: a wrong PIN now doubles the delay.
    clock.advance(1.0)
    assert not gate.locked
    r = gate.attempt("1111")
    assert (r.locked, r.retry_after_s, r.failures) == (False, 60.0, 4)
    clock.advance(59.999)
    assert gate.locked
    clock.advance(0.001)
    r = gate.attempt("2222")
    assert (r.retry_after_s, r.failures) == (120.0, 5)

    # The right PIN, once allowed, is accepted and resets everything.
    clock.advance(120.0)
    r = gate.attempt("4321")
    assert (r.accepted, r.locked, r.retry_after_s, r.failures) == (True, False, 0.0, 0)
    assert not gate.locked
    r = gate.attempt("0000")
    assert (r.retry_after_s, r.failures) == (0.0, 1)


def test_gate_delay_is_capped() -> None:
    clock = ManualClock()
    policy = LockoutPolicy(free_attempts=1, first_delay_s=10.0, growth=3.0, max_delay_s=100.0)
    gate = PinGate(hash_pin("1234", FAST), clock, policy)
    delays = []
    for _ in range(6):
        r = gate.attempt("9999")
        delays.append(r.retry_after_s)
        clock.advance(r.retry_after_s)
    assert delays == [10.0, 30.0, 90.0, 100.0, 100.0, 100.0]


def test_restored_failure_count_starts_locked() -> None:
    clock = ManualClock(5.0)
    gate = PinGate(hash_pin("1234", FAST), clock, failures=4)  # e.g. saved before a reboot
    assert gate.locked and gate.retry_after() == 60.0
    assert gate.attempt("1234").locked
    clock.advance(60.0)
    assert gate.attempt("1234").accepted
    assert PinGate(hash_pin("1234", FAST), clock, failures=2).locked is False
    with pytest.raises(ValueError):
        PinGate(hash_pin("1234", FAST), clock, failures=-1)


def test_change_pin_needs_the_current_one() -> None:
    clock = ManualClock()
    gate = PinGate(hash_pin("1234", FAST), clock)
    assert gate.change_pin("0000", "5678", FAST) is False
    assert gate.failures == 1
    with pytest.raises(PinFormatError):
        gate.change_pin("1234", "12", FAST)
    assert gate.change_pin("1234", "5678", FAST) is True
    assert gate.stored.matches("5678") and not gate.stored.matches("1234")
    assert gate.failures == 0
