"""A whole simulated session, end to end, whose stored metrics are recomputed independently.

Simulated person → chip → driver → sampler → calibration → estimator → hold challenge →
SessionLog → SQLite; then the stored raw trace is turned into angles again and the stability
indices are recomputed with the plain formulas of DOMAIN.md §5 (not with metrics.compute).
"""

import json

import numpy as np
import pytest
from test_calibration_session import InProcessRunner

from wobble_trainer.app.activities.base import COUNTDOWN_S
from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings
from wobble_trainer.app.scene import LOGIC_DT, Tick
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.clock import ManualClock
from wobble_trainer.sampling.runner import SimSpec
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.calibration import (
    CalibrationProcedure,
    from_json_dict,
)
from wobble_trainer.tilt.calibration_session import CalibrationSession, device_identity
from wobble_trainer.tilt.stream import TiltStream, angles_for_samples


def test_simulated_hold_session_is_stored_and_its_metrics_recompute(app_context, tmp_path):
    runner = InProcessRunner("MPU-6050", SimSpec().mounting, ManualClock())
    calibrating = CalibrationSession(
        runner, CalibrationProcedure(device_identity(runner.info)), simulated=True
    )
    while not calibrating.done:
        runner.step()
        calibrating.update()
    calibration = calibrating.procedure.result
    runner.set_lean_target(0.0, 0.0)

    with open_database(tmp_path / "db") as db:
        app = app_context
        app.db = db
        app.calibration = calibration
        app.sample_reader = runner.ring.reader
        stream = TiltStream(runner.ring.reader(), 200.0, calibration)
        app.push(StartScene(app))
        scene = HoldChallenge(app, HoldSettings(duration_s=20))
        app.push(scene)
        t = 0.0
        while app.scene is scene and t < COUNTDOWN_S + 25:
            runner.step(LOGIC_DT)  # the sampler: 10 ms of samples
            app.publish_angles(stream.update())  # the frame: angles for session logs
            t += LOGIC_DT
            scene.update(LOGIC_DT, Tick(t, stream.latest))
        assert app.scene is not scene, "the hold did not finish"

        (session,) = list(db.sessions.iter_sessions())
        stored = session.metrics
        (trial,) = db.sessions.load_trace(session.id)
        assert trial.sample_count == pytest.approx(20 * 200, rel=0.02)

        # Independently: the stored raw trace and calibration → angles → DOMAIN.md §5 formulas.
        samples = np.zeros(
            trial.sample_count,
            dtype=[("t", "f8"), ("acc", "f8", 3), ("gyr", "f8", 3), ("gap_before", "f8")],
        )
        samples["t"], samples["acc"], samples["gyr"] = trial.t, trial.acc, trial.gyr
        recal = from_json_dict(json.loads(session.calibration))
        # The live estimator had run since calibration; start this one warm as recompute does:
        # on the trial's first second, then keep only the trial.
        warm = np.concatenate([samples[:200], samples])
        warm["t"][:200] -= 1.0
        angles = angles_for_samples(warm, 200.0, recal)[200:]
        y = np.degrees(angles["pitch"])  # antero-posterior
        x = np.degrees(angles["roll"])  # medio-lateral
        osi = np.sqrt(np.sum(x**2 + y**2) / len(x))
        apsi = np.sqrt(np.sum(y**2) / len(y))
        mlsi = np.sqrt(np.sum(x**2) / len(x))
        assert stored["osi"] == pytest.approx(osi, abs=0.05)
        assert stored["apsi"] == pytest.approx(apsi, abs=0.05)
        assert stored["mlsi"] == pytest.approx(mlsi, abs=0.05)
        path = np.sum(np.hypot(np.diff(x), np.diff(y)))
        assert stored["path_length_deg"] == pytest.approx(path, rel=0.1)
        assert stored["score"] == pytest.approx(20.0, abs=0.5)  # a skilled person stays in zone
    runner.ring.close()
