"""Physical constants and unit conversions (SI inside, degrees only at the edges; DOMAIN.md §1)."""

import math

STANDARD_GRAVITY = 9.80665
"""Standard gravity in m/s²: the factor between the datasheets' g and m/s²."""

DEG = math.pi / 180.0
"""One degree in radians: ``angle_rad = angle_deg * DEG``."""


def g_to_ms2(value_g: float) -> float:
    """Acceleration in g to m/s²."""
    return value_g * STANDARD_GRAVITY


def dps_to_rads(value_dps: float) -> float:
    """Angular rate in °/s to rad/s."""
    return value_dps * DEG
