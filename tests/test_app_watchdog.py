"""systemd from the app loop: READY=1 after the first healthy frame, WATCHDOG=1 only while the
sampler is healthy, STATUS= on change, STOPPING=1 on exit — received on a local AF_UNIX datagram
socket, with TrainerApp frames driven by a fake feed and a manual clock."""

import os
import signal
import socket
import types
import uuid

import numpy as np
import pytest
from conftest import board_angles

from wobble_trainer.app.kiosk import (
    Kiosk,
    PinStore,
    ServiceLink,
    describe_sensor,
    sampler_health,
    sensor_up,
)
from wobble_trainer.app.scene import Scene
from wobble_trainer.app.shell import TrainerApp
from wobble_trainer.appliance.notify import Notifier
from wobble_trainer.appliance.pin import ScryptParams
from wobble_trainer.clock import ManualClock
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.tilt.stream import ANGLE_DTYPE


class FakeFeed:
    simulated = False

    def __init__(self):
        self.angles = board_angles(0.5, 0.0)
        self.new_angles = np.empty(0, dtype=ANGLE_DTYPE)
        self.new_samples = np.empty(0, dtype=SAMPLE_DTYPE)

    def poll(self):
        return self.angles

    def lean(self, pitch, roll):
        pass


class Idle(Scene):
    pass


@pytest.fixture
def receiver():
    """A datagram socket in the abstract namespace, as systemd's $NOTIFY_SOCKET."""
    name = f"@wobble-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    sock.setblocking(False)
    yield name, sock
    sock.close()


def received(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


@pytest.fixture
def looped(app_context, receiver):
    name, sock = receiver
    env = {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "10000000"}
    notifier = Notifier.from_environment(env, pid=os.getpid())
    clock = ManualClock(50.0)
    state = {"healthy": False}
    link = ServiceLink(
        notifier,
        health=lambda: state["healthy"],
        describe=lambda: "MPU-6050 at 0x68 on bus 1, 1000 Hz",
        clock=clock,
    )
    app_context.push(Idle(app_context))
    app = TrainerApp(FakeFeed(), app_context, service=link)
    yield app, sock, clock, state
    notifier.close()


def test_ready_once_the_sensor_is_up_and_a_frame_is_drawn(looped):
    app, sock, clock, state = looped
    app.frame(0.016)
    assert received(sock) == []  # drawn, but no samples yet: not ready
    state["healthy"] = True
    app.frame(0.016)
    assert received(sock) == [
        "READY=1\nSTATUS=Running: MPU-6050 at 0x68 on bus 1, 1000 Hz; screen Idle",
        "WATCHDOG=1",
    ]
    app.frame(0.016)
    assert received(sock) == []  # one READY only


def test_watchdog_is_petted_at_half_the_interval_only_while_healthy(looped):
    app, sock, clock, state = looped
    state["healthy"] = True
    app.frame(0.016)
    received(sock)
    clock.advance(4.9)
    app.frame(0.016)
    assert received(sock) == []
    clock.advance(0.2)
    app.frame(0.016)
    assert received(sock) == ["WATCHDOG=1"]
    state["healthy"] = False  # sampler stalled: no pets, so systemd restarts us after 10 s
    for _ in range(30):
        clock.advance(0.5)
        app.frame(0.016)
    assert received(sock) == ["STATUS=Sensor lost: check the cable to the board"]
    assert app.service.watchdog.stats.unhealthy_frames == 30
    state["healthy"] = True
    app.frame(0.016)
    assert received(sock) == [
        "WATCHDOG=1",
        "STATUS=Running: MPU-6050 at 0x68 on bus 1, 1000 Hz; screen Idle",
    ]


def test_stopping_is_sent_when_the_loop_ends(looped):
    app, sock, clock, state = looped
    assert app.run(seconds=0.0) == 0
    assert received(sock)[-1] == "STOPPING=1\nSTATUS=Stopping (time up)"


def test_sigterm_ends_the_loop_with_stopping_even_in_kiosk_mode(app_context, receiver, tmp_path):
    name, sock = receiver
    store = PinStore(tmp_path / "clinician-pin", ScryptParams(log2_n=4, r=1, p=1))
    store.set_pin("1234")
    app_context.push(Idle(app_context))
    kiosk = Kiosk(app_context, store=store, clock=ManualClock())
    link = ServiceLink(Notifier(name, 10.0), health=lambda: True, clock=ManualClock())

    def on_frame(app):
        if app.frames == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    app = TrainerApp(FakeFeed(), app_context, kiosk=kiosk, service=link, on_frame=on_frame)
    assert app.run(seconds=30.0) == 0
    messages = received(sock)
    assert messages[0].startswith("READY=1\nSTATUS=Running (kiosk): sensor up")
    assert messages[-1] == "STOPPING=1\nSTATUS=Stopping (SIGTERM)"
    assert app.frames == 3 and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_outside_systemd_nothing_is_sent_and_nothing_breaks(app_context):
    app_context.push(Idle(app_context))
    link = ServiceLink(Notifier(None), health=lambda: True, clock=ManualClock())
    app = TrainerApp(FakeFeed(), app_context, service=link)
    app.frame(0.016)
    assert link.ready_sent and link.watchdog.stats.pets == 0
    assert app.run(seconds=0.0) == 0 and link.stopped


class FakeRunner:
    def __init__(self, alive=True, connected=1.0):
        self.alive = alive
        self.connected = connected
        self.polls = 0.0

    def is_alive(self):
        return self.alive

    def stats(self):
        return {"connected": self.connected, "polls": self.polls}


def test_sensor_up_needs_a_live_connected_sampler_with_fresh_samples():
    feed = types.SimpleNamespace(last_sample_t=12.0, sample_age=lambda: 0.05)
    assert sensor_up(FakeRunner(), feed)()
    assert not sensor_up(FakeRunner(alive=False), feed)()
    assert not sensor_up(FakeRunner(connected=0.0), feed)()
    stale = types.SimpleNamespace(last_sample_t=12.0, sample_age=lambda: 1.5)
    assert not sensor_up(FakeRunner(), stale)()
    never = types.SimpleNamespace(last_sample_t=None, sample_age=lambda: 0.0)
    assert not sensor_up(FakeRunner(), never)()


def test_sampler_health_is_a_living_turning_sampler_loop_even_without_a_chip():
    clock = ManualClock()
    runner = FakeRunner(connected=0.0)  # the cable is out: the sampler keeps trying
    healthy = sampler_health(runner, clock)
    for _ in range(10):
        runner.polls += 200
        clock.advance(1.0)
        assert healthy()
    clock.advance(3.0)  # the loop stopped turning: hung
    assert not healthy()
    runner.alive = False
    assert not healthy()


def test_the_watchdog_is_petted_only_while_samples_arrive():
    clock = ManualClock()
    runner = FakeRunner(connected=0.0)
    age = {"s": 0.0}
    healthy = sampler_health(runner, clock, sample_age=lambda: age["s"])
    runner.polls += 200
    clock.advance(1.0)
    assert healthy()
    age["s"] = 2.5  # the loop turns, but nothing reaches the app (the cable is out)
    runner.polls += 200
    clock.advance(1.0)
    assert not healthy()
    age["s"] = 0.01  # samples again
    assert healthy()


def test_status_describes_the_sensor_without_personal_data():
    info = {"chip": "LSM6DSO/LSM6DSOX", "address": 0x6A, "bus": 1, "config": {"odr_hz": 416.0}}
    assert describe_sensor(info) == "LSM6DSO/LSM6DSOX at 0x6A on bus 1, 416 Hz"
    assert describe_sensor({}) == "sensor"
