"""The live angle stream: samples from the sampler in, calibrated board angles out.

:class:`TiltStream` is what games, tests and feedback consume. Each call of :meth:`update`
(once per display frame) runs the estimator over every sample that arrived since the last call,
in order, and returns their board pitch and roll at full rate (for metrics and recording);
:attr:`latest` is the newest angle for drawing. A gap in the stream longer than
:data:`RESET_GAP_S` (the chip was unplugged, say) restarts the estimator's orientation, which
re-levels from the accelerometer within a second, rather than integrating over a hole; the gyro
bias it has learnt is kept (it belongs to the chip, not to the orientation).

The gyro bias: the stream starts from the calibration's, or from a bias learnt in an earlier run
(:meth:`TiltStream.seed_trusted_bias`, see :mod:`wobble_trainer.tilt.bias_store`), and
:attr:`TiltStream.trusted_bias` is the latest estimate good enough to keep for the next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from wobble_trainer.sampling.ring import RingReader
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.tilt.bias_store import TRUSTED_SIGMA_DPS, TrustedBias, now_iso, seed_for
from wobble_trainer.tilt.board_angles import BoardAngles, BoardFrame
from wobble_trainer.tilt.calibration import Calibration
from wobble_trainer.tilt.estimator import TiltEstimator
from wobble_trainer.units import DEG

RESET_GAP_S = 0.5
"""Gaps longer than this restart the estimator."""

KEEP_ESTIMATOR_BIAS_DPS = 1.0
"""A new calibration keeps the running estimator when its gyro bias is this close to the learnt
one (°/s per axis); see :meth:`TiltStream.use_calibration`."""

ANGLE_DTYPE = np.dtype([("t", "f8"), ("pitch", "f8"), ("roll", "f8")])
"""Full-rate board angles: time (s, sampler time base), pitch and roll (rad)."""


@dataclass
class TiltStream:
    """Board angles from a :class:`~wobble_trainer.sampling.ring.RingReader` (live), or from
    sample batches handed to :meth:`process` (a recording)."""

    reader: RingReader | None
    rate_hz: float
    calibration: Calibration
    wall_clock: Callable[[], str] = field(default=now_iso, repr=False)
    """ISO 8601 UTC time for :attr:`trusted_bias` (injected: tests use a fixed one)."""

    def __post_init__(self) -> None:
        self.estimator = TiltEstimator(self.rate_hz)
        self.estimator.seed_gyro_bias(*seed_for(self.calibration, None))
        self.frame: BoardFrame = self.calibration.board_frame()
        self.latest: BoardAngles | None = None
        self.latest_t: float | None = None
        self.resets = 0
        self.last_samples: np.ndarray = np.empty(0, dtype=SAMPLE_DTYPE)
        """The raw samples of the last :meth:`update`, in the order the estimator took them."""
        self.trusted_bias: TrustedBias | None = None
        """The latest bias estimate with σ ≤ :data:`TRUSTED_SIGMA_DPS` in this run (None until
        there is one): what to save for the next start (:func:`bias_store.save`)."""

    @classmethod
    def resumed(
        cls,
        reader: RingReader | None,
        calibration: Calibration,
        state: dict[str, Any],
    ) -> TiltStream:
        """A stream that continues exactly from ``state`` (what :meth:`stream_state` returned,
        possibly through JSON): fed the same samples, it gives bit for bit the angles the
        original stream gave. The state's own mounting is used (a calibration file rounds it);
        ``calibration`` gives the rest. Raises ValueError for a state of another estimator
        version or a damaged one."""
        if not isinstance(state, dict) or "estimator" not in state:
            raise ValueError("a stream state needs its 'estimator' state")
        estimator = TiltEstimator.from_state(state["estimator"])
        mounting = state.get("sensor_to_board")
        if mounting is not None:
            try:
                q = tuple(float(v) for v in mounting)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"stream state: bad sensor_to_board {mounting!r}") from exc
            if len(q) != 4:
                raise ValueError(f"stream state: bad sensor_to_board {mounting!r}")
            calibration = replace(calibration, sensor_to_board=q)
        stream = cls(reader, estimator.rate_hz, calibration)
        stream.estimator = estimator
        return stream

    def use_calibration(self, calibration: Calibration) -> None:
        """Compute angles with a new calibration from now on, keeping the running estimator
        when the calibration's gyro bias agrees with what it has learnt (within
        :data:`KEEP_ESTIMATOR_BIAS_DPS` per axis): it has been running all along, and a restart
        would spend the next trial's first seconds converging again. A calibration that finds a
        very different bias reseeds it."""
        self.calibration = calibration
        self.frame = calibration.board_frame()
        learnt = self.estimator.gyro_bias
        if any(
            abs(a - b) > KEEP_ESTIMATOR_BIAS_DPS * DEG
            for a, b in zip(learnt, calibration.gyro_bias, strict=True)
        ):
            self.estimator.seed_gyro_bias(*seed_for(calibration, None))

    def stream_state(self) -> dict[str, Any]:
        """What a trial starting with the next sample needs to be replayed exactly, JSON-ready:
        the estimator's full state (:meth:`TiltEstimator.get_state`) and the exact mounting
        the angles are computed with."""
        return {
            "estimator": self.estimator.get_state(),
            "sensor_to_board": [float(v) for v in self.frame.sensor_to_board],
        }

    def seed_trusted_bias(self, trusted: TrustedBias | None) -> None:
        """Start from a bias kept from an earlier run (``bias_store.load(...).trusted``) when it
        is newer than the calibration and of the same sensor; else from the calibration's.
        Restarts the estimator: call it before the first samples."""
        bias, sigma = seed_for(self.calibration, trusted)
        self.estimator.seed_gyro_bias(bias, sigma)

    def _note_trusted_bias(self) -> None:
        est = self.estimator
        sigma = est.gyro_bias_sigma / DEG
        if sigma <= TRUSTED_SIGMA_DPS:
            self.trusted_bias = TrustedBias(
                est.gyro_bias, sigma, self.calibration.device, self.wall_clock()
            )

    def update(self) -> np.ndarray:
        """Process every new sample; returns their angles (:data:`ANGLE_DTYPE` rows). The
        samples themselves are kept in :attr:`last_samples`."""
        assert self.reader is not None, "a TiltStream without a reader takes process()"
        self.last_samples = self.reader.read_new()
        return self.process(self.last_samples)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Run the estimator over ``samples`` (:data:`SAMPLE_DTYPE` rows) in order."""
        n = len(samples)
        out = np.empty(n, dtype=ANGLE_DTYPE)
        if n == 0:
            return out
        estimator = self.estimator
        update = estimator.update
        ups = np.empty((n, 3))
        acc = samples["acc"].tolist()
        gyr = samples["gyr"].tolist()
        gaps = samples["gap_before"]
        for i in range(n):
            if gaps[i] > RESET_GAP_S:
                estimator.reset(keep_bias=True, elapsed_s=float(gaps[i]))
                self.resets += 1
            a = acc[i]
            g = gyr[i]
            update(a[0], a[1], a[2], g[0], g[1], g[2])
            ups[i] = estimator.up
        angles = self.frame.angles_from_sensor_up_array(ups)
        out["t"] = samples["t"]
        out["pitch"] = angles.pitch
        out["roll"] = angles.roll
        self.latest = angles[n - 1]
        self.latest_t = float(samples["t"][-1])
        self._note_trusted_bias()
        return out


def angles_for_samples(samples: np.ndarray, rate_hz: float, calibration: Calibration) -> np.ndarray:
    """Board angles of a whole recording, exactly as the live path computes them."""
    return TiltStream(None, rate_hz, calibration).process(samples)
