"""The record every consumer receives: one timestamped IMU sample.

Samples travel as rows of a numpy structured array with :data:`SAMPLE_DTYPE`, so a batch costs one
copy however many samples it holds, and the same layout works inside a shared-memory ring.
"""

from __future__ import annotations

import numpy as np

SAMPLE_DTYPE = np.dtype(
    [
        ("t", "f8"),  # s, sampler time base: t0 + k/ODR (the chip's clock), monotonic
        ("acc", "f8", (3,)),  # m/s², sensor frame
        ("gyr", "f8", (3,)),  # rad/s, sensor frame
        ("true_pitch", "f8"),  # rad, simulator ground truth (NaN on real hardware)
        ("true_roll", "f8"),  # rad, simulator ground truth (NaN on real hardware)
        ("gap_before", "f8"),  # s of samples missing right before this one (0 when none)
    ]
)


def empty_samples(n: int = 0) -> np.ndarray:
    """A batch of ``n`` samples with no truth (NaN) and no gaps."""
    out = np.zeros(n, dtype=SAMPLE_DTYPE)
    out["true_pitch"] = np.nan
    out["true_roll"] = np.nan
    return out


def make_samples(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    true_pitch: np.ndarray | None = None,
    true_roll: np.ndarray | None = None,
) -> np.ndarray:
    """Pack arrays into a sample batch."""
    out = empty_samples(len(t))
    out["t"] = t
    out["acc"] = acc
    out["gyr"] = gyr
    if true_pitch is not None:
        out["true_pitch"] = true_pitch
    if true_roll is not None:
        out["true_roll"] = true_roll
    return out
