"""Shared fixtures: headless SDL and mock GPIO for every test, and scene drivers for the app."""

from __future__ import annotations

import os
import random

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")

from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from wobble_trainer.units import DEG  # noqa: E402

SCREEN_SIZES = [(800, 480), (1280, 720), (720, 1280), (1024, 600)]
"""Landscape small and large, portrait, and a size between."""


@pytest.fixture
def app_context(tmp_path):
    """An AppContext with no hardware: NullFeedback, a seeded random generator, bests on disk."""
    from wobble_trainer.app.records import Records
    from wobble_trainer.app.scene import AppContext
    from wobble_trainer.feedback.base import NullFeedback

    return AppContext(
        feedback=NullFeedback(), rng=random.Random(7), records=Records(tmp_path / "records.json")
    )


class SteadyReader:
    """Raw samples at 100 Hz, 1 per logic step (what the app's ring would hold): a level board."""

    def __init__(self):
        self.t = 0.0

    def read_new(self):
        from wobble_trainer.sampling.samples import make_samples

        self.t += 0.01
        return make_samples(np.array([self.t]), np.array([[0.0, 0.0, 9.81]]), np.zeros((1, 3)))


@pytest.fixture
def app_with_db(app_context, tmp_path):
    """``app_context`` with a real database and a raw-sample stream, for stored sessions."""
    from wobble_trainer.storage import open_database

    with open_database(tmp_path / "db") as db:
        app_context.db = db
        app_context.sample_reader = SteadyReader
        yield app_context


def board_angles(pitch_deg: float, roll_deg: float):
    """BoardAngles of a pitch and roll in degrees (through the one conversion)."""
    from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll

    return angles_from_up(up_from_pitch_roll(pitch_deg * DEG, roll_deg * DEG))


AngleScript = Callable[[float], tuple[float, float] | None]
"""t (s since start) → (pitch°, roll°), or None for "sensor lost"."""


def drive(app, seconds: float, script: AngleScript, *, on_board: bool = True) -> float:
    """Step the top scene of ``app`` for ``seconds`` of logic time with scripted angles.

    The script gets the time since this call started; the scenes see logic time running on
    across calls, as in the app (angle timestamps never go backwards). Follows scene changes
    (the script keeps running on whichever scene is on top). Returns the time stepped in this
    call. No real time passes.
    """
    from wobble_trainer.app.scene import LOGIC_DT, Tick
    from wobble_trainer.tilt.stream import ANGLE_DTYPE

    start = getattr(app, "_drive_time", 0.0)
    elapsed = 0.0
    for _ in range(round(seconds / LOGIC_DT)):
        scene = app.scene
        if scene is None:
            break
        elapsed += LOGIC_DT
        t = start + elapsed
        value = script(elapsed)
        angles = None if value is None else board_angles(*value)
        if angles is not None:
            # as the app does once a frame: this step's full-rate angles for session logs
            row = np.array([(t, angles.pitch, angles.roll)], dtype=ANGLE_DTYPE)
            app.publish_angles(row)
        scene.update(LOGIC_DT, Tick(t, angles, on_board))
    app._drive_time = start + elapsed
    return elapsed


def confirm_stop(app) -> None:
    """Answer "Stop" on the question a running test or activity asks before it is left."""
    from wobble_trainer.app.scenes.menus import ConfirmStopScene

    assert isinstance(app.scene, ConfirmStopScene), type(app.scene).__name__
    app.scene.menu.touch(app.scene.options.index("Stop"))
    drive(app, 0.01, lambda t: (0.0, 0.0))


def autopilot_script(app, noise_deg: float = 0.0, seed: int = 0) -> AngleScript:
    """Angles that follow the top scene's own autopilot (a competent player), plus noise."""
    from wobble_trainer.app.scene import Tick

    rng = np.random.default_rng(seed)

    def script(t: float) -> tuple[float, float]:
        scene = app.scene
        target = scene.autopilot(Tick(t, None)) if scene is not None else None
        pitch, roll = target or (0.0, 0.0)
        return (pitch / DEG + rng.normal(0, noise_deg), roll / DEG + rng.normal(0, noise_deg))

    return script


def assert_renders(scene, sizes=SCREEN_SIZES) -> None:
    """The scene draws something (not one flat colour) at every supported size."""
    import pygame

    from wobble_trainer.app.layout import Layout

    pygame.init()
    for size in sizes:
        surface = pygame.Surface(size)
        scene.render(surface, Layout(*size))
        pixels = pygame.surfarray.array3d(surface).reshape(-1, 3)
        colours = np.unique(pixels[:: max(1, len(pixels) // 20000)], axis=0)
        assert len(colours) > 3, f"{type(scene).__name__} renders blank at {size}"


def _run_protocol(app, runner, script=None) -> None:
    """Run a protocol to its end hands-free (the clinician taps Ready at each setup)."""
    from test_app_protocols_helpers import Driver

    from wobble_trainer.app.controls import Command
    from wobble_trainer.app.protocols.base import Phase
    from wobble_trainer.app.scenes.menus import StartScene

    app.push(StartScene(app))
    app.push(runner)
    driver = Driver(app)
    step = script or (lambda t: (0.5, 0.3))
    for _ in range(200_000):
        if runner.phase is Phase.DONE:
            return
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        driver.step(step)
    raise AssertionError(f"{type(runner).__name__} did not finish")


@pytest.fixture(scope="session")
def sessions_of_every_kind(tmp_path_factory):
    """A database with one stored session of every kind, recorded through the app: a hold, a
    game (circles) and each clinical protocol, for "P-017" (calibrated board, a programme
    assigned). Returns (db, {kind: session id}); treat it as read-only."""
    from datetime import date

    from wobble_trainer.app.activities.base import COUNTDOWN_S
    from wobble_trainer.app.activities.circles import CircleSettings, CircleTracing
    from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings
    from wobble_trainer.app.protocols.ankle_rom import AnkleRom, AnkleRomSettings
    from wobble_trainer.app.protocols.bess import Bess, BessSettings
    from wobble_trainer.app.protocols.limits_of_stability import (
        LimitsOfStability,
        LimitsOfStabilitySettings,
    )
    from wobble_trainer.app.protocols.mctsib import Mctsib, MctsibSettings
    from wobble_trainer.app.protocols.postural_stability import (
        PosturalStability,
        PosturalStabilitySettings,
    )
    from wobble_trainer.app.protocols.single_leg_stance import (
        SingleLegStance,
        SingleLegStanceSettings,
    )
    from wobble_trainer.app.records import Records
    from wobble_trainer.app.scene import AppContext
    from wobble_trainer.app.scenes.menus import StartScene
    from wobble_trainer.feedback.base import NullFeedback
    from wobble_trainer.storage import open_database
    from wobble_trainer.tilt.calibration import Calibration, DeviceIdentity

    base = tmp_path_factory.mktemp("every-kind")
    db = open_database(base / "db")
    app = AppContext(feedback=NullFeedback(), rng=random.Random(7), records=Records(base / "r"))
    app.db = db
    app.sample_reader = SteadyReader
    app.calibration = Calibration(
        device=DeviceIdentity("MPU-6050", "1", 0x68), created="2025-04-30T08:00:00+00:00"
    )
    app.profile = db.profiles.create("P-017", 1958, 1.68, "right", sex="female")
    db.programmes.assign(app.profile.id, "ankle-sprain-prevention", date(2020, 1, 1))
    app.push(StartScene(app))
    app.push(HoldChallenge(app, HoldSettings(duration_s=10)))
    drive(app, COUNTDOWN_S + 3, lambda t: (0.0, 0.0))
    drive(app, 2, lambda t: (15.0, 0.0))  # on the rim: an edge touch
    drive(app, 10, lambda t: (1.0, -1.0))
    app.push(StartScene(app))
    app.push(CircleTracing(app, CircleSettings(laps=4)))
    drive(app, COUNTDOWN_S + 80, autopilot_script(app))
    _run_protocol(app, Mctsib(app, MctsibSettings(duration_s=10, rest_s=0)))
    _run_protocol(app, Bess(app, BessSettings(duration_s=10, rest_s=0)))
    _run_protocol(
        app, LimitsOfStability(app, LimitsOfStabilitySettings(rest_s=0)), autopilot_script(app)
    )
    _run_protocol(app, AnkleRom(app, AnkleRomSettings(rest_s=0, trial_s=6)), autopilot_script(app))
    _run_protocol(
        app,
        PosturalStability(
            app,
            PosturalStabilitySettings(practice_trials=1, test_trials=2, duration_s=10, rest_s=0),
        ),
    )
    _run_protocol(app, SingleLegStance(app, SingleLegStanceSettings(trials=1, max_s=10, rest_s=0)))
    kinds = {s.kind: s.id for s in db.sessions.iter_sessions()}
    yield db, kinds
    db.close()


@pytest.fixture
def fhir_server():
    """The in-test FHIR server (tests/fhir_test_server.py) on 127.0.0.1, stopped afterwards."""
    from fhir_test_server import FhirTestServer

    server = FhirTestServer().start()
    yield server
    server.stop()


# -- clinic hub: a real PostgreSQL, hub databases, hub server processes, boards -----------------

import contextlib  # noqa: E402
import glob  # noqa: E402
import itertools  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from wobble_trainer.sim.trace import quantised_trace  # noqa: E402, F401 - for the tests

REPO_SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (Debian's server binaries), trust auth.

    Run as the ``postgres`` system user when the tests run as root (the server refuses root),
    else as the current user. ``fsync=off``: the data is thrown away afterwards.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wobble-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.root, self.user, self.user)
        self._names = itertools.count()

    def _run(self, *args: str) -> None:
        subprocess.run([str(self.bindir / args[0]), *args[1:]], check=True, user=self.user,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh, empty database; its ``postgresql://`` URL."""
        import psycopg

        name = f"hub_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` (its connections are ended)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server; skipped outside CI when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": CI must test the hub on PostgreSQL")
        pytest.skip(message)
    server = PostgresServer(Path(found[-1]).parent)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


def fill_database(db, full: bool = True) -> None:
    """Make SQLite's file unable to grow (a full disk, as SQLite sees it: SQLITE_FULL), or let
    it grow again. Deterministic, and the real error path."""
    pages = db.query("PRAGMA page_count")[0][0]
    db.query(f"PRAGMA max_page_count = {pages if full else 1_000_000_000}")


class TinyDisk:
    """A stand-in for ``open`` whose files live on a disk with ``free`` bytes left: writes that
    do not fit fail at flush with ENOSPC (or EROFS for a disk gone read-only), after the part
    that fits reached the file, as on a real disk."""

    def __init__(self, free: int, code: int = 28) -> None:
        self.free = free
        self.code = code

    def __call__(self, path, mode="r", **kwargs):
        import builtins

        real = builtins.open(path, mode, **kwargs)  # noqa: SIM115 - closed by its _TinyFile
        if "w" not in mode:
            return real
        return _TinyFile(real, self)


class _TinyFile:
    def __init__(self, real, disk: TinyDisk) -> None:
        self._real = real
        self._disk = disk
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        return len(text)

    def flush(self) -> None:
        data, self._pending = self._pending, ""
        fits = data[: max(0, self._disk.free)]
        self._real.write(fits)
        self._real.flush()
        self._disk.free -= len(fits)
        if len(fits) < len(data):
            raise OSError(self._disk.code, os.strerror(self._disk.code))

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def closed(self) -> bool:
        return self._real.closed

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._real.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_url(request, tmp_path):
    """A fresh hub database URL, on the embedded SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def hub_db(hub_url):
    """A migrated HubDatabase on ``hub_url``."""
    from wobble_trainer.hub.db import HubDatabase

    with HubDatabase(hub_url) as db:
        yield db


class HubProcess:
    """``wobble hub serve`` in its own process on 127.0.0.1, stoppable and restartable."""

    def __init__(self, url: str, state_dir: Path, port: int | None = None) -> None:
        self.database = url
        self.state_dir = state_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> HubProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO_SRC), "WOBBLE_HUB_STATE_DIR":
               str(self.state_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wobble_trainer", "hub", "serve", "--port", str(self.port),
             "--database", self.database],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited: {self.proc.stderr.read().decode()}")
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.5
            ):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("hub did not start listening")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        """An abrupt stop (SIGKILL), as a crash or power cut of the hub's machine."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None


class HubThread:
    """The hub's real HTTP server (uvicorn on 127.0.0.1) in a thread of the test process:
    the same application as ``wobble hub serve``, started in a fraction of the time."""

    def __init__(self, url: str) -> None:
        import threading

        import uvicorn

        from wobble_trainer.hub.app import create_app
        from wobble_trainer.hub.db import HubDatabase

        self.database = url
        self.port = free_port()
        self.db = HubDatabase(url)
        config = uvicorn.Config(create_app(self.db), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30.0
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            self.stop()
            raise RuntimeError("the hub server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.db.close()


@pytest.fixture
def hub_server(hub_url):
    """A started hub server on ``hub_url`` (stopped afterwards)."""
    hub = HubThread(hub_url)
    yield hub
    hub.stop()


def record_session(db, profile_id: int, kind: str = "test:postural_stability",
                   trials: int = 2, samples: int = 2000, seed: int = 0, metrics=None):
    """A finished session with quantised trials in board database ``db``; its record."""
    from wobble_trainer.tilt.calibration import Calibration, to_json_dict

    session = db.sessions.start(profile_id, kind, settings={"seconds": 20},
                                calibration=to_json_dict(Calibration.default()))
    for k in range(trials):
        t, acc, gyr = quantised_trace(samples, seed=seed * 100 + k)
        db.sessions.add_trial(session.id, t, acc, gyr, label=f"trial {k + 1}",
                              events=[{"t": 1.0, "what": "start"}])
    return db.sessions.finish(session.id, metrics=metrics or {"osi": 1.5 + seed, "apsi": 1.0})


class SimBoard:
    """A board for hub tests: its own state directory and database, linked to a hub."""

    def __init__(self, directory: Path, hub_database: str, hub_address: str, name: str) -> None:
        from wobble_trainer.hub import accounts
        from wobble_trainer.hub.db import HubDatabase
        from wobble_trainer.storage import open_database
        from wobble_trainer.sync.link import link_board

        self.directory = directory
        with HubDatabase(hub_database) as hub, hub.begin() as conn:
            code = accounts.enrol_board(conn, name)
        self.link = link_board(hub_address, code, directory)
        self.db = open_database(directory)
        self.name = name

    def sync(self, client=None):
        from wobble_trainer.sync.round import sync_once

        return sync_once(self.db, client or self.link.client(timeout_s=10.0))

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def make_board(hub_server, tmp_path):
    """Factory of boards linked to ``hub_server`` (closed afterwards)."""
    made: list[SimBoard] = []

    def make(name: str = "Room 1", address: str | None = None) -> SimBoard:
        board = SimBoard(tmp_path / f"board-{len(made)}", hub_server.database,
                         address or hub_server.url, name)
        made.append(board)
        return board

    yield make
    for board in made:
        board.close()


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that breaks connections on purpose (seeded, so repeatable).

    Each new connection draws one fate: pass, delay (every chunk held 0-200 ms), drop (closed
    before anything is forwarded), or reset (an RST after a random number of bytes either way).
    ``upstream_port`` may change while it runs (a hub restarted on another port). Its threads
    end when :meth:`close` is called.
    """

    FATES = ("pass", "pass", "delay", "drop", "reset")

    def __init__(self, upstream_port: int, seed: int = 0, faulty: bool = True) -> None:
        import random as _random
        import threading

        self.upstream_port = upstream_port
        self.faulty = faulty
        self.rng = _random.Random(seed)
        self.lock = threading.Lock()
        self.fates: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.closing = threading.Event()
        self.threads: list[threading.Thread] = []
        self._spawn(self._accept)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, target, *args) -> None:
        import threading

        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            with self.lock:
                fate = self.rng.choice(self.FATES) if self.faulty else "pass"
                budget = self.rng.randrange(1, 200_000)
                self.fates.append(fate)
            self._spawn(self._serve, client, fate, budget)

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        import struct as _struct

        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _struct.pack("ii", 1, 0))
        sock.close()

    def _serve(self, client: socket.socket, fate: str, budget: int) -> None:
        import random as _random
        import selectors

        if fate == "drop":
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            self._reset(client)
            return
        rng = _random.Random(budget)
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        moved = 0
        deadline = time.monotonic() + 120.0
        try:
            while not self.closing.is_set() and time.monotonic() < deadline:
                events = sel.select(0.2)
                for key, _ in events:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if fate == "delay":
                        time.sleep(rng.uniform(0.0, 0.2))
                    moved += len(data)
                    if fate == "reset" and moved > budget:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            if fate == "reset":
                self._reset(client)
                self._reset(upstream)
            else:
                client.close()
                upstream.close()

    def close(self) -> None:
        self.closing.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(5)


@pytest.fixture
def fault_proxy():
    """Factory of :class:`FaultProxy` instances, all closed afterwards."""
    made: list[FaultProxy] = []

    def make(upstream_port: int, seed: int = 0) -> FaultProxy:
        proxy = FaultProxy(upstream_port, seed)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture
def browser():
    """Debian's Chromium driven through its chromedriver by Selenium (nothing is downloaded)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        message = "Chromium and its driver are not installed (apt-get install chromium " \
                  "chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": CI must test the web view in a real browser")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1024,768"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(30)
    # A busy CI machine: look for an element for up to 10 s before calling it missing.
    session.implicitly_wait(10)
    try:
        yield session
    finally:
        session.quit()
