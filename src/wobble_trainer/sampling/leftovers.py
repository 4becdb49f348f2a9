"""What a killed run leaves behind, and cleaning it up at the next start.

A sampler runner lives in two processes joined by POSIX shared memory (``/dev/shm/psm_*``) and a
named semaphore (``/dev/shm/sem.mp-*``). Python's resource tracker frees them when both processes
end normally, or when the app dies and the sampler follows it; but when every process of the
service is SIGKILLed at once (systemd's watchdog, the OOM killer) nothing is left to free them,
and a sampler that outlived the app would keep reading the chip beside the next one.

So each runner writes a :class:`RunRecord` (a small JSON file in
:func:`~wobble_trainer.paths.runtime_dir`) naming its blocks and its worker, removed by a clean
close. :func:`clean_leftovers`, called before a new runner starts, goes through the records whose
app is gone: it kills the orphaned worker (only if it is still the same process: same start
time), unlinks the blocks and removes the record.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wobble_trainer.paths import runtime_dir

RECORD_GLOB = "sampler-*.json"
SHM_DIR = Path("/dev/shm")


def process_start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, from ``/proc``), or None if there is no
    such process. Where there is no ``/proc``, 0 for a living process (no reuse check)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        text = ""
    if text:
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        return int(fields[19])  # field 22 of stat(5)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return 0


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError, ValueError, IndexError):
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2] == "Z"
    return False


def process_alive(pid: int, start_time: int | None) -> bool:
    """True when ``pid`` runs and is the process that started at ``start_time`` (not a reused
    number), and is not a zombie."""
    now = process_start_time(pid)
    if now is None or _is_zombie(pid):
        return False
    return start_time is None or now == start_time or now == 0


@dataclass
class RunRecord:
    """One running sampler runner's record file."""

    path: Path

    @classmethod
    def create(cls, directory: Path | None = None) -> RunRecord:
        directory = directory or runtime_dir()
        return cls(directory / f"sampler-{os.getpid()}-{secrets.token_hex(4)}.json")

    def save(self, *, shared_memory: list[str], semaphores: list[str], worker_pid: int) -> None:
        data = {
            "app_pid": os.getpid(),
            "app_start": process_start_time(os.getpid()),
            "worker_pid": worker_pid,
            "worker_start": process_start_time(worker_pid),
            "shared_memory": shared_memory,
            "semaphores": semaphores,
        }
        # Not worth an fsync: it only matters until the next boot, which clears /dev/shm anyway.
        try:
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(data), encoding="utf-8")
            temp.replace(self.path)
        except OSError as exc:  # a full or read-only disk must not stop the sampler
            print(f"Could not note the sampler's shared memory in {self.path}: {exc}",
                  file=sys.stderr)  # fmt: skip

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


@dataclass
class LeftoverReport:
    """What :func:`clean_leftovers` found and freed."""

    killed: list[int] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.killed or self.freed)

    def describe(self) -> str:
        parts = []
        if self.killed:
            parts.append(f"stopped {len(self.killed)} orphaned sampler(s) (pid {self.killed})")
        if self.freed:
            parts.append(f"freed {len(self.freed)} shared-memory block(s) and semaphore(s)")
        return "A killed earlier run was cleaned up: " + "; ".join(parts) + "."


def _unlink_shared_memory(name: str) -> bool:
    path = SHM_DIR / name.lstrip("/")
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


def _unlink_semaphore(name: str) -> bool:
    return _unlink_shared_memory("sem." + name.lstrip("/"))


def clean_leftovers(directory: Path | None = None) -> LeftoverReport:
    """Free what runs whose app is gone left behind (see the module's docstring)."""
    report = LeftoverReport()
    try:
        directory = directory or runtime_dir()
        paths = sorted(directory.glob(RECORD_GLOB))
    except OSError:
        return report
    for path in paths:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            app_pid, app_start = int(data["app_pid"]), data.get("app_start")
            worker_pid, worker_start = int(data["worker_pid"]), data.get("worker_start")
            blocks = [str(n) for n in data.get("shared_memory", [])]
            semaphores = [str(n) for n in data.get("semaphores", [])]
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            with contextlib.suppress(OSError):
                path.unlink()  # a damaged record cannot be acted on
            continue
        if process_alive(app_pid, app_start):
            continue  # a run in progress (perhaps another instance's)
        if worker_pid != os.getpid() and process_alive(worker_pid, worker_start):
            with contextlib.suppress(OSError):
                os.kill(worker_pid, signal.SIGKILL)
                report.killed.append(worker_pid)
        for name in blocks:
            if _unlink_shared_memory(name):
                report.freed.append(name)
        for name in semaphores:
            if _unlink_semaphore(name):
                report.freed.append(name)
        with contextlib.suppress(OSError):
            path.unlink()
    return report
