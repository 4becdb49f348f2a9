"""sd_notify client against a real local AF_UNIX datagram socket, and the Watchdog helper."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from wobble_trainer.appliance import notify
from wobble_trainer.appliance.notify import Notifier, Watchdog, socket_address
from wobble_trainer.clock import ManualClock


@pytest.fixture
def sock_path() -> Iterator[Path]:
    # A short directory: AF_UNIX paths are limited to 108 bytes and pytest's tmp_path can be long.
    directory = Path(tempfile.mkdtemp(prefix="wt-", dir="/tmp"))
    try:
        yield directory / "notify.sock"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def receiver(sock_path: Path) -> Iterator[socket.socket]:
    """A bound datagram socket standing in for systemd."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(1.0)
    try:
        yield sock
    finally:
        sock.close()


def drain(sock: socket.socket) -> list[bytes]:
    """Every datagram waiting on ``sock``, without blocking."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096))
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(1.0)
    return out


@pytest.fixture(autouse=True)
def fresh_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # The module-level helpers cache a notifier built from the environment on first use.
    monkeypatch.setattr(notify, "_default", None)
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)


def test_module_functions_send_exact_datagrams(
    monkeypatch: pytest.MonkeyPatch, sock_path: Path, receiver: socket.socket
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock_path))
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))

    assert notify.ready() is True
    assert notify.status("sensor MPU-6050 at 0x68") is True
    assert notify.watchdog() is True
    assert notify.stopping() is True
    assert notify.watchdog_interval() == pytest.approx(10.0)
    assert notify.extend_timeout(2.5) is True

    assert drain(receiver) == [
        b"READY=1",
        b"STATUS=sensor MPU-6050 at 0x68",
        b"WATCHDOG=1",
        b"STOPPING=1",
        b"EXTEND_TIMEOUT_USEC=2500000",
    ]


def test_ready_with_status_is_one_datagram_and_newlines_cannot_inject(
    sock_path: Path, receiver: socket.socket
) -> None:
    with Notifier(str(sock_path)) as n:
        assert n.ready("up\nWATCHDOG=trigger")
        assert n.stopping("bye")
    assert drain(receiver) == [
        b"READY=1\nSTATUS=up WATCHDOG=trigger",
        b"STOPPING=1\nSTATUS=bye",
    ]


def test_abstract_namespace_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"wobble-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(1.0)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        n = Notifier.from_environment()
        assert n.enabled
        assert n.ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_socket_address_forms() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@abc") == "\0abc"
    assert socket_address("@") is None
    assert socket_address("vsock:2:1234") is None
    assert socket_address("relative/path") is None


def test_disabled_without_notify_socket() -> None:
    n = Notifier.from_environment(env={})
    assert not n.enabled
    assert n.ready() is False
    assert n.status("x") is False
    assert n.watchdog() is False
    assert n.watchdog_interval is None


def test_watchdog_only_when_watchdog_usec_set(sock_path: Path, receiver: socket.socket) -> None:
    n = Notifier.from_environment(env={"NOTIFY_SOCKET": str(sock_path)})
    assert n.watchdog_interval is None
    assert n.watchdog() is False
    assert n.status("still sends other messages")
    assert drain(receiver) == [b"STATUS=still sends other messages"]


def test_watchdog_pid_must_be_ours(sock_path: Path) -> None:
    env = {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "4000000"}

    def interval(extra: dict[str, str], pid: int = 42) -> float | None:
        return Notifier.from_environment(env={**env, **extra}, pid=pid).watchdog_interval

    assert interval({"WATCHDOG_PID": "1"}) is None
    assert interval({"WATCHDOG_PID": "42"}) == 4.0
    assert interval({}) == 4.0
    assert interval({"WATCHDOG_USEC": "junk"}) is None
    assert interval({"WATCHDOG_USEC": "0"}) is None


def test_missing_socket_reports_failure_without_raising(sock_path: Path) -> None:
    n = Notifier(str(sock_path))  # nothing bound there
    assert n.enabled
    assert n.ready() is False


def test_send_rejects_non_assignments(sock_path: Path) -> None:
    with pytest.raises(ValueError):
        Notifier(str(sock_path)).send("READY")


def test_watchdog_pets_at_half_interval_only_while_healthy(
    sock_path: Path, receiver: socket.socket
) -> None:
    clock = ManualClock(100.0)
    n = Notifier(str(sock_path), watchdog_interval_s=10.0)
    dog = Watchdog(n, clock)
    assert dog.enabled and dog.interval == 10.0 and dog.pet_period == 5.0

    frame = 1 / 60
    sent_at = []
    # 12 s of healthy frames, then 12 s unhealthy, then healthy again.
    for i in range(int(36 / frame)):
        t = i * frame
        healthy = not 12.0 <= t < 24.0
        if dog.tick(healthy):
            sent_at.append(round(clock.now() - 100.0, 6))
        clock.advance(frame)

    # Healthy: at once, then every 5 s (to the next frame). Unhealthy: nothing at all, which lets
    # systemd's 10 s timer expire. Recovery pets immediately.
    assert len(sent_at) == 3 + 3
    assert sent_at[0] == 0.0
    # Accumulated float steps may land a frame late, never early.
    assert sent_at[1] == pytest.approx(5.0, abs=1.5 * frame)
    assert sent_at[2] == pytest.approx(10.0, abs=3 * frame)
    assert not any(12.0 <= t < 24.0 for t in sent_at)
    assert sent_at[3] == pytest.approx(24.0, abs=frame)
    assert all(b - a >= 5.0 for a, b in zip(sent_at, sent_at[1:], strict=False))
    assert drain(receiver) == [b"WATCHDOG=1"] * 6
    assert dog.stats.pets == 6
    assert dog.stats.unhealthy_frames == pytest.approx(12.0 / frame, abs=2)


def test_watchdog_retries_next_frame_after_failed_send(sock_path: Path) -> None:
    clock = ManualClock()
    dog = Watchdog(Notifier(str(sock_path), watchdog_interval_s=2.0), clock)
    assert dog.tick(True) is False  # no listener yet
    assert dog.stats.failed_sends == 1
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(sock_path))
    try:
        clock.advance(0.02)
        assert dog.tick(True) is True  # not a full period later: the failed one did not count
        assert receiver.recv(64) == b"WATCHDOG=1"
    finally:
        receiver.close()


def test_watchdog_disabled_without_interval(sock_path: Path, receiver: socket.socket) -> None:
    dog = Watchdog(Notifier(str(sock_path)), ManualClock())
    assert not dog.enabled and dog.pet_period is None
    assert dog.tick(True) is False
    assert drain(receiver) == []


def test_watchdog_interval_override_and_validation(sock_path: Path) -> None:
    n = Notifier(str(sock_path), watchdog_interval_s=10.0)
    assert Watchdog(n, ManualClock(), interval_s=4.0).pet_period == 2.0
    with pytest.raises(ValueError):
        Watchdog(n, ManualClock(), interval_s=0.0)
    with pytest.raises(ValueError):
        Notifier(str(sock_path), watchdog_interval_s=-1.0)
