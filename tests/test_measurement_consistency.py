"""One trial, one set of numbers: every place that shows a trial's balance metrics shows the same.

Simulated sessions run through the real app: the simulated person on the simulated chip, its
driver and the sampler core (stepped on a manual clock, so no real time passes), the app's own
:class:`~wobble_trainer.app.shell.TrainerApp` frames with the live estimator
(:class:`~wobble_trainer.app.shell.LiveAngles`), the scenes and their session logs, and SQLite.
For a hold, a game and every clinical protocol, each trial's numbers are then read from every
place a person sees them: the live results (what the results screen is built from), the stored
metrics, the history charts (and progress PDF, which read the same series), the session PDF's
table, the JSON export and ``wobble recompute``; all must agree to 1e-9 relative. The stored
trial also replays to the live angles bit for bit.

The real sampler *process* is covered by ``test_a_hold_through_the_sampler_process``.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_calibration_session import InProcessRunner

from wobble_trainer import recompute
from wobble_trainer.analysis import BALANCE_KEYS, stored_trial_angles
from wobble_trainer.app.activities import hold, reach  # noqa: F401 (registers the activities)
from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings
from wobble_trainer.app.protocols import PROTOCOLS
from wobble_trainer.app.protocols.base import ProtocolRunner
from wobble_trainer.app.scene import ACTIVITIES, AppContext
from wobble_trainer.app.scenes.history import history_pages
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.app.shell import LiveAngles, TrainerApp
from wobble_trainer.clock import ManualClock
from wobble_trainer.feedback.base import NullFeedback
from wobble_trainer.reports import pdf
from wobble_trainer.reports.data import load_bundle, session_calibration
from wobble_trainer.reports.export import summary_json
from wobble_trainer.sampling.runner import SimSpec
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.calibration import CalibrationProcedure
from wobble_trainer.tilt.calibration_session import CalibrationSession, device_identity

FRAME_S = 1 / 60
RATE = 200.0

SHORT_PROTOCOL_SETTINGS: dict[str, dict[str, Any]] = {
    "postural_stability": {"practice_trials": 1, "test_trials": 2, "duration_s": 5.0,
                           "rest_s": 0.0},
    "single_leg_stance": {"legs": ("left",), "eyes": ("open",), "trials": 2, "max_s": 5.0,
                          "rest_s": 0.0},
    "limits_of_stability": {"time_limit_s": 3.0, "rest_s": 0.0},
    "mctsib": {"duration_s": 5.0, "rest_s": 0.0},
    "bess": {"duration_s": 5.0, "rest_s": 0.0},
    "ankle_rom": {"trial_s": 4.0, "rest_s": 0.0, "sides": ("left",)},
}
"""Every protocol, with its trials made short (the numbers' paths are the same)."""


class SimRunner(InProcessRunner):
    """The in-process sampler with what :class:`LiveAngles` reads of a runner."""

    def __init__(self) -> None:
        super().__init__("MPU-6050", SimSpec().mounting, ManualClock())
        self.info["config"] = {"odr_hz": RATE}
        self.spec = SimpleNamespace(kind="sim")
        self.mode = "in-process"


def app_context_for(feed: LiveAngles, calibration, db, person) -> AppContext:
    """The app's context as ``app.main`` builds it: the live feed's samples and estimator state,
    the database and who is training; the home screen underneath."""
    context = AppContext(
        calibration=calibration,
        feedback=NullFeedback(),
        db=db,
        profile=person,
        sample_reader=feed.sample_reader,
        tilt_state=feed.tilt_state,
        tilt_rate_hz=feed.rate_hz,
    )
    context.push(StartScene(context))
    return context


@pytest.fixture(scope="module")
def calibrated_runner():
    runner = SimRunner()
    calibrating = CalibrationSession(
        runner, CalibrationProcedure(device_identity(runner.info)), simulated=True
    )
    while not calibrating.done:
        runner.step()
        calibrating.update()
    yield runner, calibrating.procedure.result
    runner.ring.close()


@pytest.fixture
def trainer(calibrated_runner, tmp_path):
    runner, calibration = calibrated_runner
    with open_database(tmp_path / "db") as db:
        person = db.profiles.create("P-042", 1975, 1.70, "right", injured_side="left")
        feed = LiveAngles(runner, calibration)
        context = app_context_for(feed, calibration, db, person)
        app = TrainerApp(feed, context, size=(800, 480))
        yield SimpleNamespace(app=app, context=context, db=db, runner=runner, person=person)


def play(t, scene, limit_s: float) -> None:
    """Frames of the real app, the sampler stepped by each frame's time, until ``scene`` ends."""
    t.context.push(scene)
    for _ in range(round(limit_s / FRAME_S)):
        if scene not in t.context.stack:
            return
        t.runner.step(FRAME_S)
        t.app.frame(FRAME_S)
    raise AssertionError(f"{type(scene).__name__} did not finish in {limit_s} s")


def numbers(metrics: dict[str, Any] | None) -> dict[str, float]:
    """The balance metrics' numeric leaves, flattened (``zone_pct.0-5`` …)."""
    out: dict[str, float] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)

    for key in BALANCE_KEYS:
        if metrics and key in metrics:
            walk(metrics[key], key)
    return out


def assert_same(a: dict[str, float], b: dict[str, float], where: str) -> None:
    """Every number ``a`` (the live results) shows, ``b`` shows too, with the same value (``b``
    may show more: the session PDF lists every balance metric of every trial)."""
    assert a, f"{where}: no numbers"
    assert a.keys() <= b.keys(), (where, a.keys() - b.keys())
    for key in a:
        assert math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-12), (
            f"{where}: {key} {a[key]!r} != {b[key]!r}"
        )


def check_every_place(t, session_id: int, live: list[dict[str, Any]], last_live_angles) -> None:
    """Every consumer of the session's trials reports the live numbers."""
    session = t.db.sessions.get(session_id)
    stored = session.metrics or {}
    entries = stored.get("trials")
    stored_trials = entries if isinstance(entries, list) else [stored]
    measured_entries = [e for e in stored_trials if numbers(e)]
    assert len(measured_entries) == len(live)

    bundle = load_bundle(t.db, session_id)
    assert all(a.exact for a in bundle.angles)
    columns = [m for _, m, _practice in pdf.metric_columns(bundle)]
    trials = t.db.sessions.load_trace(session_id)
    profile = t.db.profiles.get(session.profile_id)
    exported = summary_json(profile, session, trials, datetime.now().astimezone())
    exported_entries = exported["session"]["metrics"].get("trials") or [
        exported["session"]["metrics"]
    ]
    exported_entries = [e for e in exported_entries if numbers(e)]
    again = recompute.recompute_session(t.db, session_id)
    assert again.changes == [], again.changes
    for i, expected in enumerate(live):
        want = numbers(expected)
        assert_same(want, numbers(measured_entries[i]), f"stored, trial {i + 1}")
        assert_same(want, numbers(columns[i]), f"session PDF, trial {i + 1}")
        assert_same(want, numbers(exported_entries[i]), f"JSON export, trial {i + 1}")
    # History and progress charts plot the stored top-level numbers of each session.
    charted = 0
    for page in history_pages(t.db, t.person.id):
        if page.kind != session.kind:
            continue
        value: Any = stored
        for key in page.spec.keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert any(v == value for _, v in page.points), page.title
            charted += 1
    # The stored trial replays to the angles the live path gave, bit for bit.
    calibration, _ = session_calibration(session)
    replayed = stored_trial_angles(trials[-1], calibration)
    assert np.array_equal(replayed.pitch_deg, last_live_angles.pitch_deg)
    assert np.array_equal(replayed.roll_deg, last_live_angles.roll_deg)


def latest_session_id(t) -> int:
    return max(s.id for s in t.db.sessions.iter_sessions())


def test_a_hold_reports_one_set_of_numbers(trainer):
    from wobble_trainer.analysis import trial_metrics

    scene = HoldChallenge(trainer.context, HoldSettings(duration_s=10))
    play(trainer, scene, 30)
    live = scene.log.last_trial
    session_id = latest_session_id(trainer)
    check_every_place(
        trainer, session_id, [trial_metrics(live, trainer.context.edge_angles)], live
    )


def test_a_game_reports_one_set_of_numbers(trainer):
    from wobble_trainer.analysis import trial_metrics

    scene = ACTIVITIES["reach"].factory(trainer.context)
    play(trainer, scene, 240)
    live = scene.log.last_trial
    check_every_place(
        trainer, latest_session_id(trainer), [trial_metrics(live, trainer.context.edge_angles)],
        live,
    )


@pytest.mark.parametrize("name", sorted(SHORT_PROTOCOL_SETTINGS))
def test_every_protocol_reports_one_set_of_numbers(trainer, name):
    assert set(SHORT_PROTOCOL_SETTINGS) == set(PROTOCOLS), "a protocol is missing here"
    protocol = PROTOCOLS[name]
    settings = protocol.settings_type(**SHORT_PROTOCOL_SETTINGS[name])
    scene = protocol.factory(trainer.context, settings)
    assert isinstance(scene, ProtocolRunner)
    play(trainer, scene, 400)
    live = [r.metrics for r in scene.results if numbers(r.metrics)]
    check_every_place(trainer, latest_session_id(trainer), live, scene.trial)


def test_a_hold_through_the_sampler_process_is_right_from_the_first_second(tmp_path):
    """The same, with the sampler in its own process and the app's real-time loop, and the
    numbers are right."""
    from wobble_trainer.analysis import trial_metrics, truth_error
    from wobble_trainer.hardware.imu import ImuSettings
    from wobble_trainer.sampling.runner import SamplerRunner, SourceSpec
    from wobble_trainer.tilt.calibration import Calibration

    spec = SourceSpec(kind="sim", settings=ImuSettings(odr_hz=RATE), sim=SimSpec())
    with SamplerRunner(spec, mode="process") as runner, open_database(tmp_path / "db") as db:
        assert runner.wait_until_alive(30.0), runner.crash
        for _ in range(500):
            runner.poll_events()
            if runner.info.get("connected"):
                break
            time.sleep(0.02)
        person = db.profiles.create("P-043", 1980, 1.80, "left")
        # As the app does: the live stream runs from the start, through the calibration.
        feed = LiveAngles(runner, Calibration.default())
        calibrating = CalibrationSession(
            runner, CalibrationProcedure(device_identity(runner.info)), simulated=True
        )
        deadline = time.monotonic() + 120
        while not calibrating.done and time.monotonic() < deadline:
            time.sleep(0.01)
            calibrating.update()
            feed.poll()
        assert calibrating.done, calibrating.procedure.hint
        calibration = calibrating.procedure.result
        feed.set_calibration(calibration)
        context = app_context_for(feed, calibration, db, person)
        scene = HoldChallenge(context, HoldSettings(duration_s=10))
        context.push(scene)

        def stop_after_the_hold(app: TrainerApp) -> None:
            if scene not in context.stack:
                context.quit_requested = True

        TrainerApp(feed, context, on_frame=stop_after_the_hold).run(seconds=60)
        assert scene not in context.stack, "the hold did not finish"
        t = SimpleNamespace(db=db, person=person)
        live = scene.log.last_trial
        session_id = max(s.id for s in db.sessions.iter_sessions())
        check_every_place(t, session_id, [trial_metrics(live, calibration.edge_angles)], live)
        # Right, not only consistent: the first trial after the app started, from its first
        # sample, against the simulator's truth stored beside the raw trace.
        (trial,) = db.sessions.load_trace(session_id)
        assert trial.true_pitch is not None
        stored_calibration, _ = session_calibration(db.sessions.get(session_id))
        error = truth_error(stored_trial_angles(trial, stored_calibration), calibration.edge_angles)
        replay = stored_trial_angles(trial, stored_calibration)
        miss = np.hypot(replay.pitch_deg - replay.true_pitch_deg,
                        replay.roll_deg - replay.true_roll_deg)
        # Known shortfall (issue 9 item 3): while the board swings off the rim into the hold
        # (its first ~2 s) the error reaches ~0.45° RMS; from then on it is within target.
        settled = replay.t >= 2.0
        assert float(np.sqrt(np.mean(miss[settled] ** 2))) <= 0.15, error
        assert abs(error["osi"] - error["true_osi"]) <= max(0.05, 0.05 * error["true_osi"]), error
