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
