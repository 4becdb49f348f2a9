"""Inclination: the 6-axis orientation estimator (and, beside it, calibration and board angles)."""

from wobble_trainer.tilt.estimator import TiltEstimator, TiltParams, estimate_orientation

__all__ = ["TiltEstimator", "TiltParams", "estimate_orientation"]
