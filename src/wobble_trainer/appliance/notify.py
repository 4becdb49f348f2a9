"""A dependency-free client for systemd's service notification protocol (``sd_notify``).

The kiosk runs as a ``Type=notify`` unit with ``WatchdogSec=`` (see ``systemd/``). systemd passes
the address of a datagram socket in ``$NOTIFY_SOCKET``; the service sends newline-separated
``KEY=VALUE`` assignments to it:

- ``READY=1`` once the sensor answers and the first frame is on screen, so ``systemctl start``
  and boot ordering mean "the trainer is usable", not "python started";
- ``STATUS=...`` free text shown by ``systemctl status``;
- ``WATCHDOG=1`` keep-alive pings; systemd kills and restarts the service when they stop for
  ``$WATCHDOG_USEC`` microseconds;
- ``STOPPING=1`` when shutting down on purpose.

Why not the ``systemd`` Python bindings: they are a compiled extension that a venv on the Pi would
have to build; the protocol is one ``sendto`` on an ``AF_UNIX``/``SOCK_DGRAM`` socket. A leading
``@`` in the address means Linux's abstract socket namespace (a NUL byte in the real address).

Outside systemd (development, tests) ``$NOTIFY_SOCKET`` is unset and every call is a cheap no-op
that returns ``False``. Sending never raises into the caller: a full or vanished socket must not
crash the kiosk's main loop; the failure is logged once and reported by the return value.

:class:`Watchdog` is what the main loop uses: it is called every frame with the sampler's health
and pets systemd's watchdog at half the interval, only while healthy, so a stalled sampler (or a
hung main loop) makes systemd restart the service.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from wobble_trainer.clock import Clock, MonotonicClock

__all__ = [
    "Notifier",
    "Watchdog",
    "default_notifier",
    "ready",
    "status",
    "stopping",
    "watchdog",
    "watchdog_interval",
    "extend_timeout",
]

log = logging.getLogger(__name__)

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"


def socket_address(raw: str) -> str | None:
    """The ``AF_UNIX`` address for a ``$NOTIFY_SOCKET`` value, or None if unsupported.

    ``/path`` is a file-system socket; ``@name`` is an abstract one (``\\0name``). Newer systemd
    versions may also pass ``vsock:`` addresses (for virtual machines), which a kiosk never sees:
    they, and anything else not starting with ``/`` or ``@``, are reported as unsupported.
    """
    if raw.startswith("/"):
        return raw
    if raw.startswith("@") and len(raw) > 1:
        return "\0" + raw[1:]
    return None


def _watchdog_interval_from(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds of ``$WATCHDOG_USEC`` if the watchdog is enabled for process ``pid``, else None.

    Mirrors ``sd_watchdog_enabled``: ``$WATCHDOG_PID``, when set, names the one process the
    watchdog is meant for (a child that inherited the environment must not ping for its parent).
    """
    usec_text = env.get(WATCHDOG_USEC_ENV)
    if not usec_text:
        return None
    try:
        usec = int(usec_text)
    except ValueError:
        log.warning("ignoring malformed %s=%r", WATCHDOG_USEC_ENV, usec_text)
        return None
    if usec <= 0:
        return None
    pid_text = env.get(WATCHDOG_PID_ENV)
    if pid_text:
        try:
            if int(pid_text) != pid:
                return None
        except ValueError:
            log.warning("ignoring malformed %s=%r", WATCHDOG_PID_ENV, pid_text)
            return None
    return usec / 1_000_000.0


class Notifier:
    """Sends notifications to systemd over ``$NOTIFY_SOCKET``.

    Build one with :meth:`from_environment` (what the app does) or directly with an address
    (tests). Each method returns True when the datagram was handed to the socket.
    """

    def __init__(self, address: str | None, watchdog_interval_s: float | None = None) -> None:
        """``address``: a ``$NOTIFY_SOCKET`` value (``/path`` or ``@abstract``) or None (off).

        ``watchdog_interval_s``: systemd's watchdog timeout in seconds, or None when the unit has
        no watchdog; :meth:`watchdog` only sends when it is set.
        """
        self._raw_address = address
        self._address = socket_address(address) if address else None
        if address and self._address is None:
            log.warning("unsupported %s=%r: notifications disabled", NOTIFY_SOCKET_ENV, address)
        if watchdog_interval_s is not None and watchdog_interval_s <= 0:
            raise ValueError(f"watchdog interval must be positive, got {watchdog_interval_s}")
        self._watchdog_interval_s = watchdog_interval_s
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str] | None = None, pid: int | None = None
    ) -> Notifier:
        """A notifier configured from ``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``, ``$WATCHDOG_PID``."""
        env = os.environ if env is None else env
        pid = os.getpid() if pid is None else pid
        return cls(env.get(NOTIFY_SOCKET_ENV) or None, _watchdog_interval_from(env, pid))

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify (running under systemd with Type=notify)."""
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """systemd's watchdog timeout in seconds (``WatchdogSec=``), or None when disabled.

        Ping at least every half of this (what :class:`Watchdog` does).
        """
        return self._watchdog_interval_s if self.enabled else None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` assignments as one datagram; True when it was sent."""
        if self._address is None:
            return False
        for assignment in assignments:
            if "=" not in assignment:
                raise ValueError(f"not a KEY=VALUE assignment: {assignment!r}")
        payload = "\n".join(assignments).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # MSG_DONTWAIT: never block the 60 Hz main loop on a backed-up socket; a lost ping is
            # retried on the next frame by Watchdog.
            self._sock.sendto(payload, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL, self._address)
        except OSError as exc:
            if not self._warned:
                log.warning("sd_notify to %s failed: %s", self._raw_address, exc)
                self._warned = True
            self.close()
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (optionally with a status line): start-up is complete."""
        fields = ["READY=1"]
        if status is not None:
            fields.append(_status_field(status))
        return self.send(*fields)

    def status(self, text: str) -> bool:
        """``STATUS=text``: one line shown by ``systemctl status``."""
        return self.send(_status_field(text))

    def watchdog(self) -> bool:
        """``WATCHDOG=1`` if the unit has a watchdog (``$WATCHDOG_USEC``); otherwise nothing."""
        if self.watchdog_interval is None:
            return False
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: a deliberate shutdown has begun."""
        fields = ["STOPPING=1"]
        if status is not None:
            fields.append(_status_field(status))
        return self.send(*fields)

    def extend_timeout(self, seconds: float) -> bool:
        """``EXTEND_TIMEOUT_USEC``: ask for ``seconds`` more before the start timeout fires.

        For a slow start (e.g. waiting for the user to plug in the sensor cable).
        """
        if seconds <= 0:
            raise ValueError(f"timeout extension must be positive, got {seconds}")
        return self.send(f"EXTEND_TIMEOUT_USEC={round(seconds * 1_000_000)}")

    def close(self) -> None:
        """Close the socket (a later send opens a new one)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _status_field(text: str) -> str:
    # The protocol is line based: a newline would start a new (bogus) assignment.
    return "STATUS=" + " ".join(text.splitlines())


@dataclass
class WatchdogStats:
    """Counters for diagnostics (``wobble selftest``, logs)."""

    pets: int = 0
    unhealthy_frames: int = 0
    failed_sends: int = 0


class Watchdog:
    """Pets systemd's watchdog from the main loop, at half the interval, only while healthy.

    Call :meth:`tick` every frame with the sampler's health. The first healthy tick pets at
    once; later ones pet when half the interval has passed since the last successful pet. An
    unhealthy sampler (or a main loop that stops calling) therefore lets the timer run out and
    systemd restarts the service; a failed send is retried on the next frame rather than after
    another half interval.
    """

    def __init__(
        self,
        notifier: Notifier,
        clock: Clock | None = None,
        interval_s: float | None = None,
    ) -> None:
        """``interval_s`` overrides ``notifier.watchdog_interval`` (None: use the notifier's)."""
        self._notifier = notifier
        self._clock: Clock = MonotonicClock() if clock is None else clock
        interval = notifier.watchdog_interval if interval_s is None else interval_s
        if interval is not None and interval <= 0:
            raise ValueError(f"watchdog interval must be positive, got {interval}")
        self._interval_s = interval
        self._last_pet: float | None = None
        self.stats = WatchdogStats()

    @property
    def enabled(self) -> bool:
        """True when systemd expects pings (a watchdog interval is known and notify works)."""
        return self._interval_s is not None and self._notifier.enabled

    @property
    def interval(self) -> float | None:
        """The watchdog timeout in seconds, or None when disabled."""
        return self._interval_s if self.enabled else None

    @property
    def pet_period(self) -> float | None:
        """Seconds between pings while healthy: half the watchdog timeout."""
        return None if self._interval_s is None or not self.enabled else self._interval_s / 2.0

    def tick(self, healthy: bool) -> bool:
        """One main-loop frame; pets if healthy and due. Returns True when a ping was sent."""
        period = self.pet_period
        if period is None:
            return False
        if not healthy:
            self.stats.unhealthy_frames += 1
            return False
        now = self._clock.now()
        if self._last_pet is not None and now - self._last_pet < period:
            return False
        if not self._notifier.send("WATCHDOG=1"):
            self.stats.failed_sends += 1
            return False
        self._last_pet = now
        self.stats.pets += 1
        return True


_default: Notifier | None = None


def default_notifier() -> Notifier:
    """The process-wide notifier, built from the environment on first use."""
    global _default
    if _default is None:
        _default = Notifier.from_environment()
    return _default


def ready(status: str | None = None) -> bool:
    """``READY=1`` through :func:`default_notifier`."""
    return default_notifier().ready(status)


def status(text: str) -> bool:
    """``STATUS=text`` through :func:`default_notifier`."""
    return default_notifier().status(text)


def watchdog() -> bool:
    """``WATCHDOG=1`` through :func:`default_notifier` (only when the watchdog is enabled)."""
    return default_notifier().watchdog()


def watchdog_interval() -> float | None:
    """The watchdog timeout of :func:`default_notifier` in seconds, or None."""
    return default_notifier().watchdog_interval


def stopping(status: str | None = None) -> bool:
    """``STOPPING=1`` through :func:`default_notifier`."""
    return default_notifier().stopping(status)


def extend_timeout(seconds: float) -> bool:
    """``EXTEND_TIMEOUT_USEC`` through :func:`default_notifier`."""
    return default_notifier().extend_timeout(seconds)
