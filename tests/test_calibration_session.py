"""Calibration on the live path: simulated person → chip → driver → sampler → procedure."""

import numpy as np
import pytest

from wobble_trainer.clock import ManualClock
from wobble_trainer.hardware.detect import driver_for
from wobble_trainer.hardware.imu import ImuSettings
from wobble_trainer.sampling.ring import SampleRing
from wobble_trainer.sampling.runner import SimSpec
from wobble_trainer.sampling.sampler import SamplerCore
from wobble_trainer.sim.board import PersonParams
from wobble_trainer.sim.device import make_simulated_imu
from wobble_trainer.tilt.board_angles import quat_angle_between
from wobble_trainer.tilt.calibration import CalibrationProcedure, load
from wobble_trainer.tilt.calibration_session import (
    CalibrationSession,
    device_identity,
    load_for_device,
)
from wobble_trainer.units import DEG


class InProcessRunner:
    """The parts of SamplerRunner a session uses, stepped by a manual clock."""

    def __init__(self, chip: str, mounting, clock: ManualClock, errors=None):
        self.clock = clock
        self.device = make_simulated_imu(
            chip,
            person=PersonParams(skill=0.8),
            mounting=mounting,
            seed=3,
            clock=clock,
            errors=errors,
        )
        self.core = SamplerCore(
            lambda: driver_for(
                self.device.bus, self.device.address, bus_number="sim", sleep=clock.sleep
            ),
            ImuSettings(odr_hz=200.0),
            clock,
        )
        assert self.core.connect()
        self.ring = SampleRing(20000)
        self.info = {
            "chip": self.core.driver.chip_name,
            "bus": "sim",
            "address": self.device.address,
        }

    def set_lean_target(self, pitch: float, roll: float) -> None:
        self.device.board.set_lean_target(pitch, roll)

    def step(self, dt: float = 0.01) -> None:
        self.clock.advance(dt)
        self.ring.write(self.core.poll())


@pytest.mark.parametrize("chip", ["MPU-6050", "LSM6DSO"])
def test_simulated_person_completes_calibration_and_mounting_is_recovered(chip, tmp_path):
    mounting = SimSpec().mounting
    runner = InProcessRunner(chip, mounting, ManualClock())
    device = device_identity(runner.info)
    session = CalibrationSession(runner, CalibrationProcedure(device), simulated=True)
    for _ in range(12000):  # two simulated minutes at most
        runner.step()
        session.update()
        if session.done:
            break
    assert session.done, session.procedure.hint
    cal = session.procedure.result
    error = quat_angle_between(np.asarray(cal.sensor_to_board), np.asarray(mounting))
    assert error < 2.0 * DEG
    edges = cal.edge_angles.as_dict()
    true_edge = runner.device.board.board.edge_angle_rad
    for value in edges.values():
        assert value == pytest.approx(true_edge, abs=1.5 * DEG)
    path = session.save(tmp_path)
    loaded = load_for_device(tmp_path, device)
    assert loaded.ok and not loaded.calibration.uncalibrated
    assert load(path).calibration.sensor_to_board == pytest.approx(cal.sensor_to_board)
    runner.ring.close()


def test_missing_calibration_is_the_flagged_default(tmp_path):
    result = load_for_device(tmp_path, None)
    assert not result.ok
    assert result.calibration.uncalibrated
    assert "wobble calibrate" in result.message


def test_live_angles_after_calibration_follow_the_simulated_board():
    """The whole chain: person → chip → driver → sampler → calibration → estimator → angles."""
    from wobble_trainer.tilt.stream import TiltStream

    runner = InProcessRunner("MPU-6050", SimSpec().mounting, ManualClock())
    session = CalibrationSession(
        runner, CalibrationProcedure(device_identity(runner.info)), simulated=True
    )
    while not session.done:
        runner.step()
        session.update()
    runner.set_lean_target(0.0, 0.0)

    def truth(times):
        state = runner.device.board.truth_at(times)
        return state.pitch_rad, state.roll_rad

    runner.core.truth = truth
    stream = TiltStream(runner.ring.reader(), 200.0, session.procedure.result)
    reader = runner.ring.reader()
    errors = []
    for i in range(2000):  # 20 s
        runner.step()
        samples = reader.read_new()
        angles = stream.update()
        if i > 500 and len(angles):
            errors.append(
                np.hypot(
                    angles["pitch"] - samples["true_pitch"], angles["roll"] - samples["true_roll"]
                )
            )
    error = np.concatenate(errors)
    assert np.sqrt(np.mean(error**2)) < 0.3 * DEG
    runner.ring.close()
