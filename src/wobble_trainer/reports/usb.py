"""Finding a USB stick to export to, and checking that it can take the export.

Raspberry Pi OS mounts a stick under ``/media/<user>/<label>`` (udisks2, desktop), others use
``/run/media/<user>/<label>``, ``/media/usb0`` (usbmount) or ``/mnt/<name>`` (by hand, or a
kiosk's automounter). :func:`find_drives` looks at exactly those places, and keeps only real
mount points (read from the kernel's mount table) that are not the system's own disks: the SD
card (``/dev/mmcblk*``), RAM and loop file systems, and whatever holds the app's own data
directory are never offered, so an export cannot land on the partition it comes from.

Everything takes a ``root`` (and the mount table's text) so tests run against a fake tree.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MOUNT_GLOBS = ("media/*/*", "media/*", "run/media/*/*", "mnt/*")
"""Where sticks get mounted, relative to the root."""

SYSTEM_DEVICE_PREFIXES = ("/dev/mmcblk", "/dev/loop", "/dev/zram", "/dev/ram", "/dev/nvme")
"""Devices that are the Pi's own storage, never a stick."""

PSEUDO_FILESYSTEMS = frozenset(
    {
        "tmpfs",
        "devtmpfs",
        "proc",
        "sysfs",
        "overlay",
        "squashfs",
        "autofs",
        "cgroup",
        "cgroup2",
        "devpts",
        "mqueue",
        "debugfs",
        "tracefs",
        "securityfs",
        "pstore",
        "configfs",
        "ramfs",
        "fusectl",
        "binfmt_misc",
        "bpf",
        "efivarfs",
        "nsfs",
    }
)


@dataclass(frozen=True)
class MountEntry:
    """One line of ``/proc/self/mounts``."""

    device: str
    path: str
    fstype: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


@dataclass(frozen=True)
class UsbDrive:
    """A mounted stick (or other removable disk) an export could go to."""

    path: Path
    device: str
    """The block device (``/dev/sda1``), or "" when the mount table was not available."""
    fstype: str
    read_only: bool
    """Mounted read-only (or refuses writes: see :func:`check_writable`)."""
    free_bytes: int
    total_bytes: int

    @property
    def label(self) -> str:
        """The name the person knows it by (the mount folder's name, usually the volume label)."""
        return self.path.name


def _unescape(field: str) -> str:
    """Mount paths in the table escape space, tab, newline and backslash as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mounts(text: str) -> list[MountEntry]:
    """The entries of a ``/proc/self/mounts`` text (malformed lines skipped)."""
    entries = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        entries.append(
            MountEntry(
                _unescape(parts[0]), _unescape(parts[1]), parts[2], tuple(parts[3].split(","))
            )
        )
    return entries


def read_mount_table() -> str | None:
    """The kernel's mount table, or None where there is none (not Linux)."""
    for name in ("/proc/self/mounts", "/proc/mounts"):
        try:
            return Path(name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return None


def _is_system(entry: MountEntry) -> bool:
    return entry.fstype in PSEUDO_FILESYSTEMS or entry.device.startswith(SYSTEM_DEVICE_PREFIXES)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def _usage(path: Path) -> tuple[int, int]:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return 0, 0
    return usage.free, usage.total


def find_drives(
    root: str | Path = "/",
    *,
    mounts: str | None = None,
    exclude: Iterable[str | Path] = (),
) -> list[UsbDrive]:
    """Mounted sticks under ``root``'s media folders (:data:`MOUNT_GLOBS`), sorted by path.

    ``mounts`` is the mount table's text; by default the kernel's when ``root`` is ``/``. With a
    table, only mount points in it count, and the Pi's own disks and pseudo file systems are
    left out. Without one (a fake tree in a test) every leaf folder found counts, writable when
    the folder is. A drive holding any path of ``exclude`` (the data directory) is left out.
    Read-only drives are listed (with ``read_only``) so the caller can say why it cannot write.
    """
    root = Path(root)
    if mounts is None and root == Path("/"):
        mounts = read_mount_table()
    table: dict[Path, MountEntry] | None = None
    if mounts is not None:
        table = {}
        for entry in parse_mounts(mounts):
            # A mount table lists absolute paths; under a fake root they sit below it.
            table[root / entry.path.lstrip("/")] = entry
    candidates: set[Path] = set()
    for pattern in MOUNT_GLOBS:
        candidates.update(p for p in root.glob(pattern) if p.is_dir())
    excluded = [Path(p) for p in exclude]
    drives = []
    for path in sorted(candidates):
        if table is not None:
            entry = table.get(path)
            if entry is None or _is_system(entry):
                continue
            device, fstype, read_only = entry.device, entry.fstype, entry.read_only
        else:
            if any(other != path and _inside(other, path) for other in candidates):
                continue  # /media/pi holding /media/pi/STICK: the stick is the leaf
            device, fstype, read_only = "", "", not os.access(path, os.W_OK)
        if any(_inside(ex, path) for ex in excluded):
            continue
        free, total = _usage(path)
        drives.append(UsbDrive(path, device, fstype, read_only, free, total))
    return drives


def check_writable(path: str | Path) -> str | None:
    """Try to write and delete a small file; None when that works, else the reason as a
    person-readable sentence (write-protected, full, not allowed)."""
    probe = Path(path) / f".wobble-write-test-{uuid.uuid4().hex[:8]}"
    try:
        with probe.open("wb") as f:
            f.write(b"wobble trainer write test\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        return describe_write_error(exc)
    try:
        probe.unlink()
    except OSError as exc:
        return describe_write_error(exc)
    return None


def describe_write_error(exc: OSError) -> str:
    """What a write error means for a person holding a stick."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "The USB stick is full."
    if exc.errno == errno.EROFS:
        return "The USB stick is read-only (is its write-protect switch on?)."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "This USB stick does not allow writing."
    return f"The USB stick cannot be written ({exc.strerror or exc})."
