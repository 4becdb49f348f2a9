"""The latest gyro bias the trainer trusts, kept across restarts.

A calibration measures the gyroscope's zero-rate output once; the chip's real bias then moves with
temperature and from one power-on to the next (an MPU-6050 by several °/s), and the estimator
learns it again at every rest. What it learnt is worth keeping: the next start then begins from
last week's bias, not the calibration's of a month ago. This module saves that bias (rad/s, with
its standard deviation, the sensor it belongs to and when it was learnt) atomically in the state
directory, and picks the seed for the next start: the trusted bias when it is newer than the
calibration and belongs to the same sensor, else the calibration's.

File ``gyro-bias-<device key>.json`` (``gyro-bias.json`` without a device identity)::

    {"format": "wobble-trainer-gyro-bias", "format_version": 1,
     "saved": "2026-12-04T20:00:00+00:00", "device": {"chip": "MPU-6050", "bus": "/dev/i2c-1",
     "address": 104}, "gyro_bias_dps": [1.2, -0.4, 0.3], "sigma_dps": 0.03}

A damaged file is reported (``message``) and ignored: the calibration's seed is used.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wobble_trainer.files import write_atomically
from wobble_trainer.paths import state_dir
from wobble_trainer.tilt.calibration import Calibration, DeviceIdentity
from wobble_trainer.units import DEG

FORMAT_NAME = "wobble-trainer-gyro-bias"
FORMAT_VERSION = 1

TRUSTED_SIGMA_DPS = 0.1
"""A bias estimate whose standard deviation is at most this (°/s) is worth keeping: the rest
update gets there within a second of rest; the motion update within a minute or two."""

RESTART_SIGMA_DPS = 0.5
"""Uncertainty added to a kept bias at the next start, °/s: a consumer MEMS gyroscope's
zero-rate output changes from one power-on to the next and with temperature (PS-MPU-6000A §6.1
gives only the ±20 °/s range; a few tenths of a °/s between starts at room temperature is
typical [D]). The estimator learns the rest within seconds of the next rest."""


CALIBRATION_SIGMA_DPS = 0.1
"""Uncertainty of a calibration's bias when it was measured, °/s: the mean gyroscope reading
over a level hold with a person standing on the board, whose sway does not quite average out
(≈0.1 °/s on the simulator)."""


@dataclass(frozen=True)
class TrustedBias:
    """A gyro bias the estimator learnt and trusts."""

    bias_rad_s: tuple[float, float, float]
    """rad/s per sensor axis."""
    sigma_dps: float
    """Standard deviation of the estimate, °/s."""
    device: DeviceIdentity | None
    saved: str
    """ISO 8601 UTC time it was learnt."""


@dataclass(frozen=True)
class BiasLoadResult:
    """What :func:`load` found: a trusted bias, or None and (if something was wrong) why."""

    trusted: TrustedBias | None
    message: str
    """Empty when fine or simply absent; else what is wrong, for the log and the clinician."""
    path: Path


def bias_path(
    device: DeviceIdentity | None, directory: str | os.PathLike[str] | None = None
) -> Path:
    """Where ``device``'s trusted bias lives (``directory`` defaults to the state directory)."""
    base = Path(directory) if directory is not None else state_dir()
    name = f"gyro-bias-{device.key()}.json" if device else "gyro-bias.json"
    return base / name


def now_iso() -> str:
    """The current UTC time as ISO 8601, seconds resolution."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def save(trusted: TrustedBias, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``trusted`` atomically (a power cut leaves the old file or the new one)."""
    if not all(math.isfinite(v) for v in trusted.bias_rad_s) or not (
        math.isfinite(trusted.sigma_dps) and trusted.sigma_dps >= 0.0
    ):
        raise ValueError("a trusted bias must be finite, with a sigma >= 0")
    path = bias_path(trusted.device, directory)
    dev = trusted.device
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "saved": trusted.saved,
        "device": None
        if dev is None
        else {"chip": dev.chip, "bus": dev.bus, "address": dev.address},
        "gyro_bias_dps": [v / DEG for v in trusted.bias_rad_s],
        "sigma_dps": trusted.sigma_dps,
    }
    write_atomically(path, json.dumps(doc, indent=1) + "\n")
    return path


class _Damaged(ValueError):
    pass


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Damaged(f"{what} should be a finite number, found {value!r}")
    return float(value)


def _parse(data: object) -> TrustedBias:
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise _Damaged("it is not a Wobble Trainer gyro-bias file")
    if data.get("format_version") != FORMAT_VERSION:
        raise _Damaged(f"its format_version is {data.get('format_version')!r}, not 1")
    saved = data.get("saved")
    if not isinstance(saved, str):
        raise _Damaged("'saved' should be a date and time")
    try:
        datetime.fromisoformat(saved)
    except ValueError:
        raise _Damaged(f"'saved' is not a date and time: {saved!r}") from None
    raw = data.get("gyro_bias_dps")
    if not isinstance(raw, list) or len(raw) != 3:
        raise _Damaged("'gyro_bias_dps' should be a list of 3 numbers")
    bias = tuple(_finite(v, "gyro_bias_dps") * DEG for v in raw)
    sigma = _finite(data.get("sigma_dps"), "sigma_dps")
    if sigma < 0.0:
        raise _Damaged("'sigma_dps' must be >= 0")
    dev = data.get("device")
    device = None
    if dev is not None:
        if not isinstance(dev, dict):
            raise _Damaged("'device' should be an object or null")
        chip, bus, address = dev.get("chip"), dev.get("bus"), dev.get("address")
        if (
            not isinstance(chip, str)
            or not isinstance(bus, str)
            or isinstance(address, bool)
            or not isinstance(address, int)
        ):
            raise _Damaged("'device' should hold chip, bus and address")
        device = DeviceIdentity(chip=chip, bus=bus, address=address)
    return TrustedBias((bias[0], bias[1], bias[2]), sigma, device, saved)


def load(
    device: DeviceIdentity | None, directory: str | os.PathLike[str] | None = None
) -> BiasLoadResult:
    """Read ``device``'s trusted bias; never raises. Missing: None, no message. Damaged or of
    another sensor: None and a message saying the calibration's bias is used instead."""
    path = bias_path(device, directory)
    fallback = "the calibration's gyro bias is used instead (it is learnt again at the next rest)"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BiasLoadResult(None, "", path)
    except (OSError, UnicodeDecodeError) as exc:
        return BiasLoadResult(None, f"Gyro bias {path} cannot be read ({exc}); {fallback}.", path)
    try:
        trusted = _parse(json.loads(text))
    except (ValueError, RecursionError) as exc:
        return BiasLoadResult(None, f"Gyro bias {path} is damaged ({exc}); {fallback}.", path)
    if device is not None and trusted.device is not None and trusted.device != device:
        return BiasLoadResult(
            None, f"Gyro bias {path} belongs to another sensor; {fallback}.", path
        )
    return BiasLoadResult(trusted, "", path)


def _when(iso: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def seed_for(
    calibration: Calibration, trusted: TrustedBias | None
) -> tuple[tuple[float, float, float], float | None]:
    """(bias rad/s, sigma °/s or None for the estimator's default) to seed the next start with.

    The trusted bias wins when it is at least as new as the calibration (a calibration made
    after it measured the bias afresh) and of the same sensor; its sigma grows by
    :data:`RESTART_SIGMA_DPS` (a restart moves the zero-rate output). Otherwise the
    calibration's bias, with the estimator's default (wide) uncertainty.
    """
    cal_bias = tuple(float(v) for v in calibration.gyro_bias)
    calibration_seed = (
        (cal_bias[0], cal_bias[1], cal_bias[2]),
        None if calibration.uncalibrated else math.hypot(CALIBRATION_SIGMA_DPS, RESTART_SIGMA_DPS),
    )
    if trusted is None:
        return calibration_seed
    if (
        calibration.device is not None
        and trusted.device is not None
        and calibration.device != trusted.device
    ):
        return calibration_seed
    t_trusted = _when(trusted.saved)
    t_cal = _when(calibration.created) if calibration.created else None
    if t_trusted is None or (t_cal is not None and t_trusted < t_cal):
        return calibration_seed
    return trusted.bias_rad_s, math.hypot(trusted.sigma_dps, RESTART_SIGMA_DPS)


__all__ = [
    "BiasLoadResult",
    "CALIBRATION_SIGMA_DPS",
    "RESTART_SIGMA_DPS",
    "TRUSTED_SIGMA_DPS",
    "TrustedBias",
    "bias_path",
    "load",
    "now_iso",
    "save",
    "seed_for",
]
