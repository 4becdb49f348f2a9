"""The configuration file: what a maker or clinic sets once per device (TOML).

Looked for, first found wins: ``$WOBBLE_CONFIG``, ``/etc/wobble-trainer/config.toml``, then
``config.toml`` in the state directory. Every key is optional::

    [imu]
    bus = 1            # I2C bus number (default: probe all)
    rate_hz = 1000     # IMU data rate

    [display]
    size = "800x480"   # window size when not full screen
    fullscreen = false

    [gpio]             # BCM numbers; leave a part out or set it to -1 when it is not fitted
    enabled = true
    zone_red = 17
    zone_green = 27
    zone_blue = 22
    front = 5
    back = 6
    left = 13
    right = 26
    buzzer = 12
    buzzer_kind = "active"   # or "passive"
    button = 16

    [kiosk]            # clinic mode: full screen, no way out without the clinician PIN
    enabled = false
    inactivity_s = 120         # idle time before a patient is logged out
    clinician_timeout_s = 300  # idle time before the clinician menu locks again
    step_on_s = 2.5            # time on the board that wakes the attract screen

A damaged file or a wrong value never stops the trainer: :func:`load_config` returns the
defaults with a message naming the file, the line or key, and what to fix.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wobble_trainer.feedback.gpio import GpioPins
from wobble_trainer.options import IMU_RATE_RANGE_HZ
from wobble_trainer.paths import state_dir

SYSTEM_CONFIG = Path("/etc/wobble-trainer/config.toml")


@dataclass
class Config:
    imu_bus: int | None = None
    imu_rate_hz: float = 1000.0
    display_size: tuple[int, int] = (800, 480)
    fullscreen: bool = False
    gpio_enabled: bool = True
    gpio_pins: GpioPins = field(default_factory=GpioPins)
    kiosk: dict[str, Any] = field(default_factory=dict)
    """The ``[kiosk]`` keys given (read by :func:`wobble_trainer.app.kiosk.kiosk_settings`)."""
    path: Path | None = None
    """The file read, if any."""


@dataclass
class ConfigResult:
    config: Config
    message: str = ""
    """Empty when the file (or its absence) was fine."""


def config_path() -> Path | None:
    candidates = []
    if os.environ.get("WOBBLE_CONFIG"):
        candidates.append(Path(os.environ["WOBBLE_CONFIG"]))
    candidates += [SYSTEM_CONFIG, state_dir(create=False) / "config.toml"]
    return next((p for p in candidates if p.is_file()), None)


MIN_DISPLAY_SIZE = (320, 240)
"""The smallest window the screens are laid out for (smaller: text and buttons would overlap)."""


def parse_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` as two ints; ValueError with the reason (bad form, or too small)."""
    w, sep, h = str(text).lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise ValueError(f"a size is WIDTHxHEIGHT, e.g. 800x480, not {text!r}")
    width, height = int(w), int(h)
    min_w, min_h = MIN_DISPLAY_SIZE
    if width < min_w or height < min_h:
        raise ValueError(
            f"{width}x{height} is too small: the screens need at least {min_w}x{min_h} "
            "(e.g. 800x480, the 7-inch display)"
        )
    return width, height


def load_config(path: Path | None = None) -> ConfigResult:
    """The configuration (defaults when there is no file, or when it is unusable)."""
    path = path or config_path()
    if path is None:
        return ConfigResult(Config())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        config = _from_dict(data)
    except tomllib.TOMLDecodeError as exc:
        return ConfigResult(Config(), f"Config {path}: not valid TOML ({exc}); using defaults.")
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigResult(Config(), f"Config {path}: cannot be read ({exc}); using defaults.")
    except RecursionError:
        return ConfigResult(
            Config(), f"Config {path}: nested far too deeply to be a configuration; using defaults."
        )
    except (ValueError, TypeError) as exc:
        return ConfigResult(Config(), f"Config {path}: {exc}; using defaults. Fix that value.")
    config.path = path
    return ConfigResult(config)


def _from_dict(data: dict[str, Any]) -> Config:
    unknown = sorted(set(data) - {"imu", "display", "gpio", "kiosk"})
    if unknown:
        raise ValueError(f"unknown section(s) [{'], ['.join(unknown)}]")
    imu = dict(data.get("imu", {}))
    display = dict(data.get("display", {}))
    gpio = dict(data.get("gpio", {}))
    kiosk = dict(data.get("kiosk", {}))
    for name, section, keys in (
        ("imu", imu, {"bus", "rate_hz"}),
        ("display", display, {"size", "fullscreen"}),
        ("kiosk", kiosk, {"enabled", "inactivity_s", "clinician_timeout_s", "step_on_s"}),
    ):
        extra = sorted(set(section) - keys)
        if extra:
            raise ValueError(f"unknown key(s) in [{name}]: {', '.join(extra)}")
    config = Config()
    if "bus" in imu:
        config.imu_bus = int(imu["bus"])
    if "rate_hz" in imu:
        config.imu_rate_hz = float(imu["rate_hz"])
        low, high = IMU_RATE_RANGE_HZ
        if not low <= config.imu_rate_hz <= high:
            raise ValueError(f"[imu] rate_hz must be {low:g}-{high:g}")
    if "size" in display:
        config.display_size = parse_size(display["size"])
    if "fullscreen" in display:
        config.fullscreen = _bool(display["fullscreen"], "[display] fullscreen")
    if "enabled" in kiosk:
        _bool(kiosk["enabled"], "[kiosk] enabled")
    for key in ("inactivity_s", "clinician_timeout_s", "step_on_s"):
        value = kiosk.get(key, 1.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"[kiosk] {key} must be a number of seconds above 0")
    config.kiosk = kiosk
    config.gpio_enabled = _bool(gpio.pop("enabled", True), "[gpio] enabled")
    pins = {k: (None if v == -1 else v) for k, v in gpio.items()}
    config.gpio_pins = GpioPins.from_dict(pins)
    return config


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value
