"""Syncing in the background while the trainer runs, without touching a frame or the sampler.

Every :attr:`BackgroundSync.interval_s` a waiting thread starts ``wobble sync --json`` as a
separate, low-priority (``nice``) process and waits for it. The round's work — reading traces,
compressing them, the network — happens in that process, so it never holds the app's
interpreter lock, and the sampler is a process of its own anyway. Stopping the app ends a
round in flight; that is safe, because a round cut anywhere is finished by the next one.
Nothing happens while the board is not linked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from wobble_trainer.sync.link import link_path

DEFAULT_INTERVAL_S = 120.0
ROUND_TIMEOUT_S = 600.0
NICENESS = 10


class BackgroundSync:
    """Periodic sync rounds in a child process (use :meth:`start` and :meth:`stop`)."""

    def __init__(
        self, state_dir: Path, interval_s: float = DEFAULT_INTERVAL_S, first_after_s: float = 10.0
    ) -> None:
        self.state_dir = Path(state_dir)
        self.interval_s = interval_s
        self.first_after_s = first_after_s
        self.last_report: dict[str, Any] | None = None
        self.last_error = ""
        self.rounds = 0
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="hub-sync", daemon=True)

    def start(self) -> BackgroundSync:
        self._thread.start()
        return self

    def _loop(self) -> None:
        delay = self.first_after_s
        while not self._stop.wait(delay):
            delay = self.interval_s
            if link_path(self.state_dir).exists():
                self._round()

    def _round(self) -> None:
        env = {**os.environ, "WOBBLE_STATE_DIR": str(self.state_dir)}
        with self._lock:
            if self._stop.is_set():
                return
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "wobble_trainer", "sync", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=lambda: os.nice(NICENESS),  # noqa: PLW1509 - only os.nice
            )
        try:
            out, err = self._proc.communicate(timeout=ROUND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            out, err = self._proc.communicate()
        self.rounds += 1
        try:
            self.last_report = json.loads(out)
            self.last_error = self.last_report.get("error", "")
        except json.JSONDecodeError:
            self.last_error = err.decode(errors="replace").strip()[-500:]
        with self._lock:
            self._proc = None

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop syncing; a round in flight is ended (the next start finishes it)."""
        self._stop.set()
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
