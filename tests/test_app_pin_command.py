"""Tests of wobble_trainer.app.pin_command: `wobble pin set` stores the kiosk's PIN."""

from __future__ import annotations

import io
import stat

import pytest

from wobble_trainer.app.kiosk import PinStore
from wobble_trainer.app.pin_command import read_pin
from wobble_trainer.cli import main


def test_pin_set_from_stdin_is_the_pin_the_kiosk_checks(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("135790\n"))
    assert main(["pin", "set", "--pin-stdin", "--state-dir", str(tmp_path / "state")]) == 0
    store = PinStore.in_state_dir(tmp_path / "state")
    record = store.load()
    assert record is not None and record.failures == 0
    assert record.pin_hash.matches("135790") and not record.pin_hash.matches("135791")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert "Clinician PIN set" in capsys.readouterr().out


def test_pin_set_uses_the_state_directory_of_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["pin", "set", "--pin-stdin"]) == 0
    assert PinStore.in_state_dir(tmp_path).load().pin_hash.matches("2468")


@pytest.mark.parametrize("text", ["12\n", "12ab\n", "\n", "123456789\n"])
def test_a_refused_pin_changes_nothing_and_exits_2(tmp_path, monkeypatch, capsys, text):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main(["pin", "set", "--pin-stdin", "--state-dir", str(tmp_path)]) == 2
    assert "Nothing was changed" in capsys.readouterr().err
    assert not PinStore.in_state_dir(tmp_path).exists()


def test_prompt_asks_twice_and_refuses_two_different_pins():
    answers = iter(["2468", "2468"])
    assert read_pin(False, prompt=lambda _: next(answers)) == "2468"
    answers = iter(["2468", "2469"])
    with pytest.raises(ValueError, match="differ"):
        read_pin(False, prompt=lambda _: next(answers))


def test_an_unwritable_state_directory_says_what_to_do(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["pin", "set", "--pin-stdin", "--state-dir", str(blocker / "state")]) == 1
    err = capsys.readouterr().err
    assert "could not save the PIN" in err and "--state-dir" in err
