"""Numbers given on the command line: finite and within what makes sense, or a clear error.

``float()`` accepts "nan", "inf" and "1e300", and each used to crash a command later (a ring
of 1e9 Hz × 30 s, a slice at NaN samples). These argparse types refuse them at once; argparse
then names the option and exits with code 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

IMU_RATE_RANGE_HZ = (10.0, 2000.0)
"""Data rates the sampler is built for (also the config file's ``[imu] rate_hz``)."""

MAX_SECONDS = 7 * 24 * 3600.0
"""A week: longer than any run, short enough to stay an ordinary number."""


def bounded_float(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high]."""
    suffix = f" {unit}" if unit else ""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not usable: give a number from {low:g} to {high:g}{suffix}"
            )
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


rate_hz = bounded_float(*IMU_RATE_RANGE_HZ, "Hz")
seconds = bounded_float(0.0, MAX_SECONDS, "s")
fraction = bounded_float(0.0, 1.0)
