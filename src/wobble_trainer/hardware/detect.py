"""Finding the IMU: probe the I2C buses at the supported addresses and identify chips by id.

Probing only reads id registers (the ICM-20948 probe writes its bank-select register only when
that register already looks like an ICM's left on another bank), so it is safe on a bus with
other devices. When nothing is found, :func:`explain_nothing_found` says what a maker should check
(I2C enabled, permissions, wiring), naming the buses and addresses probed.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wobble_trainer.hardware.icm20948 import ICM20948Driver
from wobble_trainer.hardware.imu import ImuDriver, ImuError
from wobble_trainer.hardware.lsm6ds import Lsm6dsDriver
from wobble_trainer.hardware.mpu6050 import Mpu6050Driver

DRIVER_CLASSES: tuple[type[ImuDriver], ...] = (Mpu6050Driver, Lsm6dsDriver, ICM20948Driver)
"""Probed in this order: the MPU and LSM ids are plain reads; the ICM probe may select bank 0."""

SUPPORTED_ADDRESSES = tuple(sorted({a for cls in DRIVER_CLASSES for a in cls.ADDRESSES}))


class ImuNotFoundError(ImuError):
    """No supported IMU answered; the message says what to check."""


@dataclass(frozen=True)
class FoundImu:
    """One identified chip."""

    bus: int | str
    address: int
    chip: str
    chip_id: int
    driver_class: type[ImuDriver]

    def describe(self) -> str:
        return (
            f"{self.chip:<12} bus {self.bus}  address 0x{self.address:02X}  id 0x{self.chip_id:02X}"
        )


@dataclass
class ProbeReport:
    """What a probe of every bus found, and what got in the way."""

    buses: list[int] = field(default_factory=list)
    found: list[FoundImu] = field(default_factory=list)
    permission_denied: list[str] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)


def identify(bus: Any, address: int, bus_number: int | str = "?") -> FoundImu | None:
    """The supported chip at ``address``, or None when nothing supported answers there."""
    for cls in DRIVER_CLASSES:
        if address not in cls.ADDRESSES:
            continue
        try:
            chip_id = cls.read_id(bus, address)
        except OSError:
            return None  # nothing answers at this address: no other family will get an answer
        if chip_id in cls.CHIP_IDS:
            return FoundImu(bus_number, address, cls.CHIP_IDS[chip_id], chip_id, cls)
    return None


def driver_for(
    bus: Any,
    address: int,
    *,
    bus_number: int | str = "?",
    sleep: Callable[[float], None] = time.sleep,
) -> ImuDriver:
    """Identify the chip at ``address`` and return its driver (not yet configured)."""
    found = identify(bus, address, bus_number)
    if found is None:
        raise ImuNotFoundError(
            f"no supported IMU answers at bus {bus_number}, address 0x{address:02X}. "
            "Run `wobble detect` to see what is connected."
        )
    return found.driver_class(bus, address, bus_number=bus_number, sleep=sleep)


def scan_bus(bus: Any, bus_number: int | str, addresses: Iterable[int] = SUPPORTED_ADDRESSES):
    """Every supported chip on one open bus."""
    return [f for a in addresses if (f := identify(bus, a, bus_number)) is not None]


def i2c_buses(dev_dir: str = "/dev") -> list[int]:
    """Numbers of the I2C buses present (``/dev/i2c-N``)."""
    numbers = []
    for path in glob.glob(os.path.join(dev_dir, "i2c-*")):
        match = re.fullmatch(r"i2c-(\d+)", os.path.basename(path))
        if match:
            numbers.append(int(match.group(1)))
    return sorted(numbers)


def probe_buses(dev_dir: str = "/dev", open_bus: Callable[[int], Any] | None = None) -> ProbeReport:
    """Probe every ``/dev/i2c-N`` at the supported addresses."""
    if open_bus is None:
        from smbus2 import SMBus

        open_bus = SMBus
    report = ProbeReport(buses=i2c_buses(dev_dir))
    for number in report.buses:
        try:
            bus = open_bus(number)
        except PermissionError:
            report.permission_denied.append(os.path.join(dev_dir, f"i2c-{number}"))
            continue
        except OSError as exc:
            report.other_errors.append(f"/dev/i2c-{number}: {exc.strerror or exc}")
            continue
        try:
            report.found += scan_bus(bus, number)
        finally:
            bus.close()
    return report


def find_imu(bus_number: int | None = None, dev_dir: str = "/dev") -> FoundImu:
    """The first supported IMU (on ``bus_number`` if given), or :class:`ImuNotFoundError`."""
    report = probe_buses(dev_dir)
    found = [f for f in report.found if bus_number is None or f.bus == bus_number]
    if found:
        return found[0]
    raise ImuNotFoundError(explain_nothing_found(report))


def explain_nothing_found(report: ProbeReport) -> str:
    """What to do when no IMU was found, for the person who built the device."""
    addresses = ", ".join(f"0x{a:02X}" for a in SUPPORTED_ADDRESSES)
    lines = ["No supported IMU found."]
    if not report.buses:
        lines += [
            "No I2C bus exists on this machine (/dev/i2c-* is missing).",
            "- On a Raspberry Pi, enable I2C: `sudo raspi-config nonint do_i2c 0`, or add",
            "  `dtparam=i2c_arm=on` to /boot/firmware/config.txt, then reboot.",
            "- No IMU at hand? `wobble --sim` runs the trainer on the simulated board.",
        ]
        return "\n".join(lines)
    probed = ", ".join(f"/dev/i2c-{n}" for n in report.buses)
    lines.append(f"Probed {probed} at addresses {addresses}.")
    if report.permission_denied:
        lines += [
            f"Permission denied on {', '.join(report.permission_denied)}: add your user to the",
            "group i2c (`sudo usermod -aG i2c $USER`), then log out and in again.",
        ]
    for error in report.other_errors:
        lines.append(f"Could not open {error}.")
    lines += [
        "- Check the wiring: IMU VCC to 3V3 (header pin 1), GND to pin 9, SDA to GPIO2 (pin 3),",
        "  SCL to GPIO3 (pin 5); see hardware/README.md.",
        "- `i2cdetect -y 1` should show 68 or 69 (MPU-6050/6500/9250, ICM-20948) or 6a or 6b",
        "  (LSM6DS3/DSO/DSOX). If it shows nothing, the chip is not powered or not connected.",
        "- No IMU at hand? `wobble --sim` runs the trainer on the simulated board.",
    ]
    return "\n".join(lines)
