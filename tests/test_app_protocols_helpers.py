"""Shared drivers for the protocol tests (imported by tests/test_app_protocols_*.py).

:class:`Driver` steps the top scene like ``conftest.drive`` but keeps one absolute logic time
across calls and can run until a condition holds, so a test can walk a protocol trial by trial.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from conftest import board_angles

from wobble_trainer.app.protocols.base import Phase, ProtocolRunner
from wobble_trainer.app.scene import LOGIC_DT, Tick
from wobble_trainer.tilt.stream import ANGLE_DTYPE

Script = Callable[[float], "tuple[float, float] | None"]


def level(t: float) -> tuple[float, float]:
    return (0.0, 0.0)


class Driver:
    def __init__(self, app) -> None:
        self.app = app
        self.t = 0.0
        self.on_board = True

    def step(self, script: Script) -> None:
        self.t += LOGIC_DT
        scene = self.app.scene
        value = script(self.t)
        angles = None if value is None else board_angles(*value)
        if angles is not None:
            row = np.array([(self.t, angles.pitch, angles.roll)], dtype=ANGLE_DTYPE)
            self.app.publish_angles(row)
        scene.update(LOGIC_DT, Tick(self.t, angles, self.on_board))

    def run(self, seconds: float, script: Script = level) -> None:
        for _ in range(round(seconds / LOGIC_DT)):
            if self.app.scene is None:
                return
            self.step(script)

    def until(self, done: Callable[[], bool], script: Script = level, limit_s: float = 600.0):
        for _ in range(round(limit_s / LOGIC_DT)):
            if done():
                return
            self.step(script)
        raise AssertionError("condition not reached in time")

    def to_running(self, runner: ProtocolRunner, script: Script = level) -> None:
        """Through the ready hold and countdown (and a rest) to the next trial's first step."""
        self.until(lambda: runner.phase is Phase.RUNNING, script, limit_s=120.0)

    def finish_trial(self, runner: ProtocolRunner, script: Script = level) -> None:
        count = len(runner.results)
        self.until(lambda: len(runner.results) > count, script)
