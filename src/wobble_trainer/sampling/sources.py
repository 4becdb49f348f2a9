"""Building a sample producer from a :class:`~wobble_trainer.sampling.runner.SourceSpec`.

Three kinds, one interface (:class:`~wobble_trainer.sampling.runner.Producer`):

* ``"i2c"``: the real chip on ``/dev/i2c-N`` through smbus2, identified by its id register;
* ``"sim"``: the simulated board (:mod:`wobble_trainer.sim.device`) on a simulated bus, read by the
  very same driver and sampler code;
* ``"replay"``: a recording (:mod:`wobble_trainer.sampling.recording`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from wobble_trainer.clock import Clock
from wobble_trainer.hardware.imu import ImuDriver
from wobble_trainer.sampling.recording import ReplayProducer, read_recording
from wobble_trainer.sampling.runner import SourceSpec
from wobble_trainer.sampling.sampler import SamplerCore


class ChipProducer:
    """A :class:`SamplerCore` on a chip (real or simulated), as a runner producer."""

    def __init__(self, core: SamplerCore, *, source: str, bus: Any, simulated: Any = None):
        self.core = core
        self.source = source
        self.bus = bus
        self.simulated = simulated
        self._step_off = False
        self._info_key: tuple[Any, ...] | None = None
        self._info: dict[str, Any] = {}

    def poll(self) -> np.ndarray:
        return self.core.poll()

    def stats_dict(self) -> dict[str, float]:
        st = self.core.stats
        return {
            "samples": st.samples,
            "lost_samples": st.lost_samples,
            "gaps": st.gaps,
            "fifo_overflows": st.fifo_overflows,
            "i2c_errors": st.i2c_errors,
            "reconnects": st.reconnects,
            "stalls": st.stalls,
            "resyncs": st.resyncs,
            "connected": 1.0 if st.connected else 0.0,
            "clock_error_ppm": st.clock_error_ppm,
            "odr_hz": st.odr_hz,
        }

    def info(self) -> dict[str, Any]:
        # Rebuilt only when something it shows changed: this runs on every poll.
        key = (self.core.driver, self.core.stats.connected, self.core.stats.last_error)
        if key != self._info_key:
            self._info_key = key
            self._info = self._build_info()
        return self._info

    def _build_info(self) -> dict[str, Any]:
        driver = self.core.driver
        return {
            "source": self.source,
            "chip": driver.chip_name if driver else "",
            "bus": getattr(driver, "bus_number", None) if driver else None,
            "address": driver.address if driver else None,
            "config": self.core.config.as_dict() if self.core.config else {},
            "connected": self.core.stats.connected,
            "last_error": self.core.stats.last_error,
        }

    def apply_control(self, lean_pitch: float, lean_roll: float, step_off: bool) -> None:
        if self.simulated is None:
            return
        board = self.simulated.board
        board.set_lean_target(lean_pitch, lean_roll)
        if step_off != self._step_off:
            board.step_off() if step_off else board.step_on()
            self._step_off = step_off

    def sim_cpu_s(self) -> float:
        return float(getattr(self.bus, "sim_cpu_s", 0.0))

    @property
    def finished(self) -> bool:
        return False

    def close(self) -> None:
        self.core.close()
        self.bus.close()


def build_producer(spec: SourceSpec, clock: Clock) -> Any:
    """The producer a spec describes (raises with a clear message when it cannot be built)."""
    if spec.kind == "replay":
        recording = read_recording(spec.replay_path)
        return ReplayProducer(
            recording, clock, realtime=spec.replay_realtime, loop=spec.replay_loop
        )
    if spec.kind == "sim":
        return build_sim_producer(spec, clock)
    if spec.kind == "i2c":
        return build_i2c_producer(spec, clock)
    raise ValueError(f"unknown source kind {spec.kind!r} (use 'i2c', 'sim' or 'replay')")


def build_sim_producer(spec: SourceSpec, clock: Clock) -> ChipProducer:
    from wobble_trainer.hardware.detect import driver_for
    from wobble_trainer.sim.board import PersonParams
    from wobble_trainer.sim.device import make_simulated_imu

    sim = spec.sim
    person = PersonParams(
        skill=sim.skill,
        stance=sim.stance,
        eyes_closed=sim.eyes_closed,
        autopilot=sim.autopilot,
        return_after_s=sim.return_after_s,
    )
    device = make_simulated_imu(
        sim.chip,
        person=person,
        mounting=sim.mounting,
        seed=sim.seed,
        clock=clock,
        clock_ppm=sim.clock_ppm,
    )

    def open_driver() -> ImuDriver:
        return driver_for(device.bus, device.address, bus_number="sim", sleep=clock.sleep)

    def truth(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        started = time.thread_time()
        state = device.board.truth_at(times)
        device.bus.sim_cpu_s += time.thread_time() - started  # simulation, not sampling
        return state.pitch_rad, state.roll_rad

    core = SamplerCore(open_driver, spec.settings, clock, truth=truth)
    core.connect()
    return ChipProducer(core, source="sim", bus=device.bus, simulated=device)


def build_i2c_producer(spec: SourceSpec, clock: Clock) -> ChipProducer:
    from smbus2 import SMBus

    from wobble_trainer.hardware.detect import driver_for, find_imu

    bus_number = spec.bus
    address = spec.address
    if address is None:
        found = find_imu(bus_number)
        address = found.address
    bus = SMBus(bus_number)

    def open_driver() -> ImuDriver:
        return driver_for(bus, address, bus_number=bus_number, sleep=time.sleep)

    core = SamplerCore(open_driver, spec.settings, clock)
    core.connect()
    return ChipProducer(core, source="i2c", bus=bus)
