"""Feedback to the person on the board: zone light, direction LEDs, buzzer cues, button.

Games use the :class:`Feedback` protocol only (``set_targets``, ``cue``, ``close``); the GPIO
implementation (:func:`open_gpio_feedback`) runs its own thread so the lights never wait for the
render loop. :class:`NullFeedback` stands in where there is no hardware.
"""

from wobble_trainer.feedback.base import Feedback, FeedbackTargets, NullFeedback
from wobble_trainer.feedback.button import ButtonEvent, GpioButton, PressClassifier
from wobble_trainer.feedback.controller import FeedbackController, FeedbackState
from wobble_trainer.feedback.cues import CUE_PATTERNS, Cue, CuePlayer, Note
from wobble_trainer.feedback.gpio import (
    GpioOutputs,
    GpioPins,
    GpioSetupError,
    open_gpio_feedback,
)
from wobble_trainer.feedback.zones import (
    DirectionLevels,
    DirectionScale,
    Zone,
    ZoneThresholds,
    classify_zone,
    direction_levels,
)

__all__ = [
    "CUE_PATTERNS",
    "ButtonEvent",
    "Cue",
    "CuePlayer",
    "DirectionLevels",
    "DirectionScale",
    "Feedback",
    "FeedbackController",
    "FeedbackState",
    "FeedbackTargets",
    "GpioButton",
    "GpioOutputs",
    "GpioPins",
    "GpioSetupError",
    "Note",
    "NullFeedback",
    "PressClassifier",
    "Zone",
    "ZoneThresholds",
    "classify_zone",
    "direction_levels",
    "open_gpio_feedback",
]
