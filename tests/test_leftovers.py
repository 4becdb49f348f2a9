"""The next start cleans up what a killed run left (issue 14, item 3)."""

from __future__ import annotations

import json
import os
import signal

from test_runner import start_app, wait_gone

from wobble_trainer.sampling.leftovers import (
    SHM_DIR,
    RunRecord,
    clean_leftovers,
    process_alive,
    process_start_time,
)


def _left(info: dict) -> list[str]:
    names = [*info["shm"], "sem." + info["sem"].lstrip("/")]
    return [n for n in names if (SHM_DIR / n).exists()]


def test_everything_killed_at_once_leaves_blocks_that_the_next_start_frees(tmp_path):
    # systemd's watchdog or the OOM killer: the app, its sampler and Python's resource tracker
    # all get SIGKILL at the same instant, so nobody frees the shared memory.
    app, info = start_app(tmp_path, start_new_session=True)
    os.killpg(app.pid, signal.SIGKILL)
    app.wait()
    wait_gone(info["worker"], 5.0)
    assert len(_left(info)) == 3, "the attack did not leave anything behind"
    report = clean_leftovers(tmp_path / "run")
    assert sorted(report.freed) == sorted([*info["shm"], info["sem"]])
    assert _left(info) == []
    assert list((tmp_path / "run").glob("sampler-*.json")) == []
    assert "freed 3" in report.describe()


def test_an_orphaned_sampler_is_stopped_before_a_new_one_reads_the_chip(tmp_path):
    app, info = start_app(tmp_path, start_new_session=True)
    os.kill(info["worker"], signal.SIGSTOP)  # cannot act on its parent's death
    app.kill()
    app.wait()
    assert process_alive(info["worker"], None)
    report = clean_leftovers(tmp_path / "run")
    assert report.killed == [info["worker"]]
    wait_gone(info["worker"], 5.0)
    assert not process_alive(info["worker"], None)
    os.killpg(app.pid, signal.SIGKILL)  # the resource tracker, if still there


def test_a_live_run_and_a_reused_pid_are_left_alone(tmp_path):
    record = RunRecord.create(tmp_path)
    record.save(shared_memory=["psm_not_there"], semaphores=[], worker_pid=os.getpid())
    assert not clean_leftovers(tmp_path)  # this process is alive: its run is in progress
    assert record.path.exists()
    # A record whose app pid now belongs to another process (started at another time).
    data = json.loads(record.path.read_text())
    data["app_start"] = process_start_time(os.getpid()) - 1
    data["worker_start"] = data["app_start"]
    record.path.write_text(json.dumps(data))
    report = clean_leftovers(tmp_path)
    assert report.killed == [], "a process that merely has the same number was not killed"
    assert not record.path.exists()


def test_damaged_records_are_dropped(tmp_path):
    (tmp_path / "sampler-1-x.json").write_text("[" * 100_000)
    (tmp_path / "sampler-2-x.json").write_text('{"app_pid": "x"}')
    assert not clean_leftovers(tmp_path)
    assert list(tmp_path.iterdir()) == []
