"""A calibration run on a live sample stream, shared by ``wobble calibrate`` and the app.

:class:`CalibrationSession` feeds every new sample of a sampler's ring into a
:class:`~wobble_trainer.tilt.calibration.CalibrationProcedure` and, on the simulated board, makes
the simulated person do what the instruction asks (the person on a real board reads it), then
stores the result per device in the state directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wobble_trainer.tilt.calibration import (
    Calibration,
    CalibrationProcedure,
    DeviceIdentity,
    LoadResult,
    StepId,
    calibration_path,
    load,
    save,
)
from wobble_trainer.units import DEG

SIM_POSES: dict[StepId, tuple[float, float]] = {
    StepId.LEVEL: (0.0, 0.0),
    StepId.FORWARD_TILT: (8.0 * DEG, 0.0),
    # Beyond any board's edge angle, so the rim is on the floor.
    StepId.EDGE_FRONT: (30.0 * DEG, 0.0),
    StepId.EDGE_BACK: (-30.0 * DEG, 0.0),
    StepId.EDGE_LEFT: (0.0, -30.0 * DEG),
    StepId.EDGE_RIGHT: (0.0, 30.0 * DEG),
    StepId.DONE: (0.0, 0.0),
}
"""Board pitch and roll the simulated person aims at for each step (roll > 0: right edge down)."""


def device_identity(info: dict[str, Any]) -> DeviceIdentity | None:
    """The calibration key of the chip a sampler reports (None before it is connected)."""
    if not info.get("chip") or info.get("address") is None:
        return None
    return DeviceIdentity(str(info["chip"]), str(info.get("bus")), int(info["address"]))


def load_for_device(directory: Path, device: DeviceIdentity | None) -> LoadResult:
    """The stored calibration of ``device`` (or the flagged uncalibrated default, with why)."""
    return load(calibration_path(directory, device), device)


@dataclass
class CalibrationSession:
    """One pass of the procedure over a :class:`~wobble_trainer.sampling.runner.SamplerRunner`."""

    runner: Any
    procedure: CalibrationProcedure
    simulated: bool = False

    def __post_init__(self) -> None:
        self._reader = self.runner.ring.reader(from_now=True)
        self._guided_step: StepId | None = None

    def update(self) -> None:
        """Feed what arrived since the last call; steer the simulated person."""
        samples = self._reader.read_new()
        if len(samples):
            self.procedure.feed_batch(samples["t"], samples["acc"], samples["gyr"])
        if self.simulated and self.procedure.step != self._guided_step:
            self._guided_step = self.procedure.step
            self.runner.set_lean_target(*SIM_POSES[self.procedure.step])

    @property
    def done(self) -> bool:
        return self.procedure.done

    def save(self, directory: Path, *, overwrite_newer: bool = False) -> Path:
        result: Calibration | None = self.procedure.result
        if result is None:
            raise RuntimeError("the calibration is not finished")
        path = calibration_path(directory, self.procedure.device)
        save(result, path, overwrite_newer=overwrite_newer)
        return path
