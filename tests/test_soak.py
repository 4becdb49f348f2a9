"""Soak test (issue 14, item 9): a simulated session loop under random faults of every kind.

A stand-in for the app (a child process running the real pieces: database, SessionLog, personal
bests, calibration and config loading, a SamplerRunner with its supervisor) records sessions of
three short trials for ever and acknowledges each trial once it is committed. Meanwhile the test
attacks it at random: SIGKILL of the app, SIGKILL or SIGSTOP of the sampler, the disk filling up
under a trial (the app's own random draw: SQLite's file may not grow for that trial), damaged
state files between runs, and, in this process, sensor faults (NACKs, I/O errors, a stuck bus, an
unplugged chip) on a simulated chip run on a manual clock.

At the end: no orphan process, no leaked shared memory, the database intact and every
acknowledged trial in it. ``WOBBLE_SOAK_S`` sets the length (CI: 30 s), ``WOBBLE_SOAK_SEED`` the
random seed.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from test_runner import SRC, wait_gone
from test_sampler import run as run_core
from test_sampler import sim_sampler

from wobble_trainer.clock import ManualClock
from wobble_trainer.sampling.leftovers import SHM_DIR, process_alive
from wobble_trainer.storage import open_database

APP = r"""
import json, os, random, sys, time
from pathlib import Path
import numpy as np
from wobble_trainer.app.records import Records
from wobble_trainer.app.scene import AppContext
from wobble_trainer.app.session_log import SessionLog
from wobble_trainer.config import load_config
from wobble_trainer.sampling.runner import ImuSettings, SamplerRunner, SourceSpec
from wobble_trainer.sampling.supervisor import SamplerSupervisor
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.calibration import load
from wobble_trainer.tilt.stream import ANGLE_DTYPE

state = Path(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
load_config()
load(state / "calibration.json")
runner = SamplerRunner(SourceSpec(kind="sim", settings=ImuSettings(odr_hz=200.0))).start()
assert runner.wait_until_alive(60)
supervisor = SamplerSupervisor(runner)
db = open_database(state)
app = AppContext(db=db, records=Records(state / "records.json"), sample_reader=runner.ring.reader)
say = lambda *words: print(*words, flush=True)
say("up", runner.pid)
nothing = np.empty(0, dtype=ANGLE_DTYPE)
while True:
    log = SessionLog(app, "soak", {})
    log.start()
    for k in range(3):
        log.begin_trial()
        end = time.monotonic() + 0.25
        while time.monotonic() < end:
            supervisor.check()
            app.publish_angles(nothing)
            time.sleep(0.02)
        full = rng.random() < 0.25
        if full:
            pages = db.query("PRAGMA page_count")[0][0]
            db.query(f"PRAGMA max_page_count = {pages}")
        before = log.trials
        log.end_trial(label=f"trial {k}")
        if full:
            db.query("PRAGMA max_page_count = 1000000000")
            say("full", len(log.unsaved))
        if log.session_id is not None:
            for index in range(before, log.trials):
                say("ack", log.session_id, index)
    log.finish({"trials": 3})
    app.records.submit("soak", rng.random())
"""

DAMAGE = {
    "records.json": "[" * 100_000 + "]" * 100_000,
    "calibration.json": '{"format_version": 1, "edge_angles_deg": ' + "[" * 50_000,
    "config.toml": "a = " + "{x=" * 5000 + "1" + "}" * 5000,
}


class App:
    """The app stand-in's process, its sampler and what it acknowledged."""

    def __init__(self, state: Path, seed: int, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", APP, str(state), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.acked: set[tuple[int, int]] = set()
        self.fulls = 0
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._buffer = b""
        self.sampler = 0
        deadline = time.monotonic() + 90
        while not self.sampler:
            assert time.monotonic() < deadline, "the app did not start"
            assert self.proc.poll() is None, f"the app died on its own ({self.proc.returncode})"
            self.read(0.5)

    def _take(self, data: bytes) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            words = line.decode().split()
            if not words:
                continue
            if words[0] == "ack":
                self.acked.add((int(words[1]), int(words[2])))
            elif words[0] == "full":
                self.fulls += 1
            elif words[0] == "up":
                self.sampler = int(words[1])

    def read(self, seconds: float) -> None:
        """Take in what the app says for ``seconds`` (never waiting for the pipe's end: the
        sampler and Python's resource tracker hold it open too)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                return
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                return
            self._take(data)

    def current_sampler(self, run_dir: Path, names: set[str]) -> int:
        """The sampler's pid now (it changes with each restart); notes its blocks' names."""
        for record in run_dir.glob("sampler-*.json"):
            data = json.loads(record.read_text())
            if data["app_pid"] == self.proc.pid:
                names.update(data["shared_memory"])
                names.update("sem." + n.lstrip("/") for n in data["semaphores"])
                return int(data["worker_pid"])
        return self.sampler

    def kill(self) -> None:
        """SIGKILL, then take the acknowledgements still in the pipe."""
        self.proc.kill()
        self.proc.wait()
        self.read(0.2)


def sensor_fault_round(rng: random.Random) -> str:
    """A simulated chip under a random fault; it must come back with the outage as a gap."""
    chip = rng.choice(["MPU-6050", "MPU-6500", "LSM6DS3", "LSM6DSO", "ICM-20948"])
    clock = ManualClock(100.0)
    core, device = sim_sampler(chip, clock, odr=200.0)
    run_core(core, clock, 0.2)
    fault = rng.choice(["nack", "io", "stuck", "unplug", "overflow"])
    if fault == "nack":
        device.bus.inject_nack(rng.randint(1, 3))
    elif fault == "io":
        device.bus.inject_io_error(rng.randint(1, 3))
    elif fault == "stuck":
        device.bus.set_stuck(True)
        run_core(core, clock, rng.uniform(0.5, 1.5))
        device.bus.set_stuck(False)
    elif fault == "unplug":
        device.bus.unplug()
        run_core(core, clock, rng.uniform(0.5, 1.5))
        device.bus.replug()
    else:
        device.chip.force_fifo_overflow()
    after = run_core(core, clock, 2.0)
    assert core.stats.connected and len(after) > 100, f"{chip} did not recover from {fault}"
    assert np.all(np.diff(after["t"]) > 0)
    if fault in ("stuck", "unplug", "overflow"):
        assert core.stats.gaps >= 1
    core.close()
    return f"sensor:{fault}"


def check_database(state: Path, acked: set[tuple[int, int]]) -> int:
    with open_database(state) as db:
        assert db.integrity_check() == "ok"
        present = set()
        for session in db.sessions.iter_sessions():
            trials = db.sessions.load_trace(session.id)  # checks each trace's length and CRC
            present |= {(session.id, t.index) for t in trials}
        missing = acked - present
        assert not missing, f"acknowledged trials lost: {sorted(missing)}"
        return len(present)


def test_soak_every_fault_at_random(tmp_path):
    seconds = float(os.environ.get("WOBBLE_SOAK_S", "30"))
    seed = int(os.environ.get("WOBBLE_SOAK_SEED", "14"))
    rng = random.Random(seed)
    state, run_dir = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=SRC,
        WOBBLE_RUNTIME_DIR=str(run_dir),
        WOBBLE_CONFIG=str(state / "config.toml"),
    )
    acked: set[tuple[int, int]] = set()
    names: set[str] = set()
    samplers: list[int] = []
    counts: dict[str, int] = {}
    app = App(state, rng.randrange(1 << 30), env)
    samplers.append(app.current_sampler(run_dir, names))
    fulls = 0
    order: list[str] = []
    damages: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        app.read(rng.uniform(0.5, 2.0))
        if not order:  # every kind of fault in each round of five, in a random order
            order = ["kill app", "kill sampler", "freeze sampler", "sensor", "damage"]
            rng.shuffle(order)
        fault = order.pop()
        if fault == "sensor":
            fault = sensor_fault_round(rng)
        elif fault in ("kill sampler", "freeze sampler"):
            worker = app.current_sampler(run_dir, names)
            samplers.append(worker)
            os.kill(worker, signal.SIGKILL if fault == "kill sampler" else signal.SIGSTOP)
        else:  # the app dies (perhaps leaving damaged files for the next start)
            worker = app.current_sampler(run_dir, names)
            app.kill()
            if fault == "damage":
                damages = damages or sorted(DAMAGE)
                name = damages.pop(rng.randrange(len(damages)))
                (state / name).write_text(DAMAGE[name])
                fault = f"damage:{name}"
            acked |= app.acked
            fulls += app.fulls
            check_database(state, acked)
            app = App(state, rng.randrange(1 << 30), env)
            samplers.append(app.current_sampler(run_dir, names))
            # Gone by itself within a second, or (frozen, so deaf to its parent's death)
            # stopped by the new start's cleanup before the new sampler ran.
            assert not process_alive(worker, None), "a sampler outlived its app"
        counts[fault] = counts.get(fault, 0) + 1
    app.read(1.0)
    worker = app.current_sampler(run_dir, names)
    app.kill()
    acked |= app.acked
    fulls += app.fulls
    samplers.append(worker)
    os.killpg(app.proc.pid, signal.SIGKILL)  # the resource tracker and anything else left
    for pid in samplers:
        wait_gone(pid, 3.0)
    orphans = [pid for pid in samplers if process_alive(pid, None)]
    assert not orphans, f"samplers outlived their app: {orphans}"
    # What the last (killed) run left is cleaned by the next start; nothing else stays.
    from wobble_trainer.sampling.leftovers import clean_leftovers

    clean_leftovers(run_dir)
    assert list(run_dir.glob("sampler-*.json")) == []
    assert names, "the runs' shared memory was never seen"
    deadline = time.monotonic() + 5.0  # the last resource tracker may still be at work
    while (leaked := [n for n in names if (SHM_DIR / n).exists()]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leaked, f"shared memory left behind: {leaked}"
    stored = check_database(state, acked)
    print(
        f"\nsoak {seconds:.0f} s, seed {seed}: {sum(counts.values())} faults {counts}, "
        f"{fulls} full-disk trials, {len(acked)} acknowledged trials, {stored} stored"
    )
    assert len(acked) > 0 and stored >= len(acked)

