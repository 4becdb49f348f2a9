"""A whole simulated IMU in one call: board physics → chip model → simulated I2C bus.

This is what ``--sim`` means everywhere: the real driver then talks to ``SimulatedImu.bus`` at
``SimulatedImu.address`` exactly as it would talk to ``smbus2.SMBus(1)`` on a Pi.
"""

from __future__ import annotations

from dataclasses import dataclass

from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.sim.board import BoardGeometry, BoardSimulator, PersonParams
from wobble_trainer.sim.bus import SimulatedBus
from wobble_trainer.sim.chip import ChipModel
from wobble_trainer.sim.chips import CHIP_MODELS
from wobble_trainer.sim.sensor_errors import SensorErrors

SIM_BUS_NUMBER = 1


@dataclass
class SimulatedImu:
    """A simulated device's parts: for a driver (``bus``, ``address``) and a test (the rest)."""

    bus: SimulatedBus
    address: int
    chip: ChipModel
    board: BoardSimulator


def simulated_chip_names() -> list[str]:
    """Names accepted by :func:`make_simulated_imu`."""
    return sorted(CHIP_MODELS)


def make_simulated_imu(
    chip: str = "MPU-6050",
    *,
    person: PersonParams | None = None,
    board: BoardGeometry | None = None,
    mounting: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
    seed: int = 1,
    clock: Clock | None = None,
    clock_ppm: float = 0.0,
    errors: SensorErrors | None = None,
) -> SimulatedImu:
    """A person on a board with an IMU of type ``chip``, on simulated bus 1."""
    if chip not in CHIP_MODELS:
        raise ValueError(
            f"no simulated chip {chip!r}; choose one of: {', '.join(simulated_chip_names())}"
        )
    clock = clock or MonotonicClock()
    start = clock.now()
    simulator = BoardSimulator(
        person=person or PersonParams(),
        board=board or BoardGeometry(),
        mounting=mounting,
        seed=seed,
        start_time=start,
    )
    model_class = CHIP_MODELS[chip]
    model = model_class(simulator, errors=errors, seed=seed, clock_ppm=clock_ppm, start_time=start)
    address = model_class.DEFAULT_ADDRESS
    bus = SimulatedBus(SIM_BUS_NUMBER, devices={address: model}, clock=clock)
    return SimulatedImu(bus=bus, address=address, chip=model, board=simulator)
