"""Publishing a running session to the hub's live view, without ever making the app wait.

The app calls :meth:`LivePublisher.offer` from its frame loop with the newest tilt and activity
state; that only stores the values (under a lock, no I/O). A thread of its own sends the newest
state to the hub at most :data:`RATE_HZ` times a second over one kept-alive connection, dropping
states it had no time to send (only the newest matters to a viewer). A hub that does not answer
makes the thread back off; the app never notices.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from wobble_trainer.sync.link import HubLink

RATE_HZ = 30.0
BACKOFF_S = 2.0


class LivePublisher:
    """Send the newest live state of this board to its hub (``start`` … ``stop``)."""

    def __init__(self, link: HubLink, rate_hz: float = RATE_HZ, timeout_s: float = 2.0) -> None:
        self.link = link
        self.interval_s = 1.0 / rate_hz
        self.timeout_s = timeout_s
        self.sent = 0
        self.failures = 0
        self._state: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._new = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hub-live", daemon=True)
        parts = urlsplit(link.hub_url)
        self._parts = parts
        self._conn: http.client.HTTPConnection | None = None

    def start(self) -> LivePublisher:
        self._thread.start()
        return self

    def offer(
        self,
        pitch_deg: float,
        roll_deg: float,
        activity: str = "",
        state: str = "",
        t: float | None = None,
    ) -> None:
        """The newest state (called from the frame loop: no I/O, no waiting)."""
        with self._lock:
            self._state = {
                "pitch_deg": float(pitch_deg),
                "roll_deg": float(roll_deg),
                "activity": activity,
                "state": state,
                "t": t,
            }
        self._new.set()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            p = self._parts
            cls = http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(p.hostname, p.port, timeout=self.timeout_s)
        return self._conn

    def _send(self, state: dict[str, Any]) -> None:
        body = json.dumps({**state, "sent_at": time.time()}).encode()
        conn = self._connection()
        conn.request(
            "POST",
            self._parts.path.rstrip("/") + "/api/live",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Board {self.link.board_id}:{self.link.secret}",
            },
        )
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise OSError(f"the hub answered {response.status}")

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._new.wait(0.5):
                continue
            started = time.monotonic()
            with self._lock:
                state, self._state = self._state, None
                self._new.clear()
            if state is None:
                continue
            try:
                self._send(state)
                self.sent += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                self._stop.wait(BACKOFF_S)
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._new.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._conn is not None:
            self._conn.close()
