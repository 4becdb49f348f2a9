"""Wobble Trainer: a Raspberry Pi wobble-board balance trainer and balance-testing station.

The package is laid out as the data flows: ``hardware`` (IMU drivers over I2C) → ``sampling``
(fixed-rate sampler, recording, replay) → ``tilt`` (orientation and board angles) → consumers.
``sim`` holds the register-accurate simulated IMUs and the board/person physics that stand in for
real hardware in tests and demos.
"""

import os

# pygame-ce prints a banner on import; the command line's output (e.g. --json) must stay clean.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

__version__ = "0.1.0"
