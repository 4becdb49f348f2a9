"""The sampler process lives and dies with the app (issue 14, item 3).

The attacks: SIGKILL of the app (the sampler must end within a second), a frozen (SIGSTOPped) or
killed sampler while the app runs (restarted within 2 s, the gap reported), quitting with a frozen
sampler (never hangs, nothing left running).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wobble_trainer.sampling.leftovers import SHM_DIR, process_alive
from wobble_trainer.sampling.runner import SamplerRunner, SourceSpec
from wobble_trainer.sampling.supervisor import SamplerSupervisor

SRC = str(Path(__file__).resolve().parents[1] / "src")

APP = """
import json, sys, time
from wobble_trainer.sampling.runner import SamplerRunner, SourceSpec
runner = SamplerRunner(SourceSpec(kind="sim")).start()
assert runner.wait_until_alive(60)
print(json.dumps({"worker": runner.pid, "shm": [runner.ring.name, runner.status.name],
                  "sem": runner.ring.lock_name}), flush=True)
time.sleep(120)
"""


def start_app(tmp_path: Path, **popen) -> tuple[subprocess.Popen, dict]:
    """A stand-in for the app: a process that starts a sampler and waits."""
    env = dict(os.environ, PYTHONPATH=SRC, WOBBLE_RUNTIME_DIR=str(tmp_path / "run"))
    app = subprocess.Popen(
        [sys.executable, "-c", APP], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, text=True, **popen,
    )  # fmt: skip
    return app, json.loads(app.stdout.readline())


def wait_gone(pid: int, limit_s: float) -> float:
    """Seconds until ``pid`` no longer runs (a zombie waiting for its reaper does not run)."""
    started = time.monotonic()
    while process_alive(pid, None) and time.monotonic() - started < limit_s:
        time.sleep(0.01)
    return time.monotonic() - started


def test_sampler_ends_within_a_second_of_the_app_being_killed(tmp_path):
    app, info = start_app(tmp_path)
    assert process_alive(info["worker"], None)
    app.kill()
    app.wait()
    wait_gone(info["worker"], 5.0)
    assert not process_alive(info["worker"], None), "the sampler outlived the app"
    # Once both are gone, nothing of theirs stays in /dev/shm (the resource tracker frees it).
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any((SHM_DIR / n).exists() for n in info["shm"]):
        time.sleep(0.05)
    assert not any((SHM_DIR / n).exists() for n in info["shm"])


@pytest.mark.parametrize("signum", [signal.SIGUSR1, signal.SIGSEGV])
def test_other_deaths_of_the_app_end_the_sampler_too(tmp_path, signum):
    app, info = start_app(tmp_path)
    app.send_signal(signum)
    app.wait()
    wait_gone(info["worker"], 5.0)
    assert not process_alive(info["worker"], None)


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("WOBBLE_RUNTIME_DIR", str(tmp_path / "run"))
    with SamplerRunner(SourceSpec(kind="sim")) as r:
        assert r.wait_until_alive(60)
        yield r


def supervise_until_restart(supervisor: SamplerSupervisor, limit_s: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if supervisor.check() is not None:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("the sampler was not restarted")


def read_some(reader, at_least: int = 10, limit_s: float = 20.0):
    """What the reader gets until it holds ``at_least`` samples (a busy machine is slow)."""
    got = [reader.read_new()]
    deadline = time.monotonic() + limit_s
    while sum(len(g) for g in got) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
        got.append(reader.read_new())
    return np.concatenate(got)


def test_a_frozen_then_a_killed_sampler_is_restarted_with_the_gap_reported(runner):
    supervisor = SamplerSupervisor(runner, retry_after_s=0.0)
    reader = runner.ring.reader()
    time.sleep(0.3)
    assert supervisor.check() is None
    reader.read_new()
    frozen = runner.pid
    os.kill(frozen, signal.SIGSTOP)
    frozen_at = time.monotonic()
    detected = supervise_until_restart(supervisor)
    assert detected < 2.0
    assert not process_alive(frozen, None), "the frozen sampler was left beside the new one"
    assert runner.wait_until_alive(60)
    samples = read_some(reader)
    assert len(samples) > 10
    missed = time.monotonic() - frozen_at
    gap = float(samples["gap_before"].max())
    assert 0.5 < gap <= missed, "the time the sampler was frozen is reported as a gap"
    assert runner.stats()["restarts"] == 1 and runner.stats()["restart_gap_s"] >= gap - 1e-9
    assert "not turned" in supervisor.events[0].reason

    os.kill(runner.pid, signal.SIGKILL)
    assert supervise_until_restart(supervisor) < 2.0
    assert "died" in supervisor.events[1].reason
    assert runner.wait_until_alive(60)
    assert len(read_some(reader)) > 10 and runner.stats()["restarts"] == 2


def test_a_sampler_killed_holding_the_ring_lock_does_not_freeze_the_reader(runner):
    reader = runner.ring.reader()
    assert runner.ring.handle.lock.acquire(timeout=1.0)  # taken, never given back
    os.kill(runner.pid, signal.SIGKILL)
    assert len(reader.read_new()) == 0  # waits a moment, then nothing new this frame
    supervisor = SamplerSupervisor(runner)
    supervise_until_restart(supervisor)
    assert runner.wait_until_alive(60)
    assert len(read_some(reader, 1)) > 0


def test_quitting_never_hangs_on_a_frozen_sampler(runner):
    worker = runner.pid
    os.kill(worker, signal.SIGSTOP)
    started = time.monotonic()
    runner.close()
    took = time.monotonic() - started
    assert not process_alive(worker, None), "a frozen sampler was left running"
    assert took < 5.0, f"closing took {took:.1f} s"


def test_a_replay_that_ended_is_not_restarted(tmp_path, monkeypatch):
    from wobble_trainer.sampling.recording import write_recording
    from wobble_trainer.sampling.samples import make_samples

    monkeypatch.setenv("WOBBLE_RUNTIME_DIR", str(tmp_path / "run"))
    t = np.arange(50) / 100.0
    path = tmp_path / "r.csv"
    samples = make_samples(t, np.tile([0.0, 0.0, 9.81], (50, 1)), np.zeros((50, 3)))
    write_recording(path, samples, {"config": {"odr_hz": 100.0}})
    spec = SourceSpec(kind="replay", replay_path=str(path), replay_realtime=False)
    with SamplerRunner(spec) as r:
        r.wait_until_alive(60)
        deadline = time.monotonic() + 30
        while r.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert SamplerSupervisor(r, retry_after_s=0.0).check() is None
