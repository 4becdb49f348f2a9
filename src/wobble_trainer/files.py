"""Writing files so that a power cut never leaves half of one, and saying plainly why a write
failed (a full or read-only disk is a normal event on an SD card, not a crash)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from wobble_trainer.paths import PRIVATE_FILE_MODE


def disk_problem(exc: OSError, where: Path | str) -> str:
    """What went wrong writing to ``where``, and what to do, in words for the screen."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk at {where} is full: free some space or use a bigger one"
    if exc.errno == errno.EROFS:
        return f"{where} is read-only: check its write-protect switch, or the disk has failed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to write to {where}"
    if exc.errno == errno.EIO:
        return f"the disk at {where} reported an I/O error: check the SD card or disk"
    return f"could not write to {where}: {exc.strerror or exc}"


class SaveError(OSError):
    """A file could not be saved; ``str()`` says why (the old file, if any, is intact)."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.path = path
        self.message = f"Could not save {path.name}: {disk_problem(cause, path.parent)}."

    def __str__(self) -> str:
        return self.message


def write_atomically(path: Path, text: str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write ``text`` to ``path`` so a power cut leaves the old file or the new one, never half:
    a temporary file in the same directory, flushed to disk, then renamed over the old one.

    A full or read-only disk raises :class:`SaveError` (an ``OSError``) and leaves the old file
    as it was. Files are ``0600`` by default: they hold health data."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise SaveError(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise SaveError(path, exc) from exc
        raise
    # The rename itself must reach the disk too.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
