"""Recordings: every raw sample in a documented CSV, and replay of such a file as a sample source.

File format (version 1), UTF-8 text:

* Metadata lines first, each ``# key: value`` with ``value`` in JSON. Always present:
  ``format`` (``"wobble-trainer recording"``), ``version`` (1), ``created`` (ISO 8601),
  ``software`` (version). Present when known: ``source`` (``"i2c"``, ``"sim"`` or ``"replay"``),
  ``chip``, ``bus``, ``address``, ``config`` (data rate, ranges and filters the chip was set to),
  ``calibration`` (the calibration in use), ``simulator`` (the simulated person and board),
  ``stats`` (sampler counters at the end, written as trailing ``#`` lines).
* One header line: ``t,ax,ay,az,gx,gy,gz,true_pitch,true_roll,gap_before``.
* One line per sample: ``t`` in s (the sampler's time base, chip clock), ``ax ay az`` in m/s²
  (specific force, sensor frame), ``gx gy gz`` in rad/s (sensor frame), ``true_pitch true_roll``
  in rad (the simulator's ground truth; empty on real hardware), ``gap_before`` in s (samples
  missing just before this one; 0 normally).

Lines starting with ``#`` after the data (end-of-recording stats) are metadata too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from wobble_trainer import __version__
from wobble_trainer.clock import Clock
from wobble_trainer.files import disk_problem
from wobble_trainer.sampling.samples import SAMPLE_DTYPE, empty_samples

FORMAT_NAME = "wobble-trainer recording"
FORMAT_VERSION = 1
COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz", "true_pitch", "true_roll", "gap_before")
FLUSH_INTERVAL_S = 1.0
"""Data is flushed to the OS at least this often, so a crash loses at most about a second."""


MAX_RECORDING_BYTES = 100_000_000
"""Larger files are refused before reading (a 1 kHz recording of 16 minutes is 75 MB)."""

MAX_RECORDING_SAMPLES = 1_000_000
"""Samples read from one file at most (16 minutes at 1 kHz), whatever its line lengths. Set by
measurement: ``wobble metrics`` keeps about 150 bytes a sample in :func:`metrics.compute`, and
stays under 300 MB at this limit (``wobble bench memory``)."""

READ_CHUNK = 8192
"""Lines parsed into one numpy block at a time (reading streams through the file)."""

MAX_ABS_VALUE = {"t": 1e10, "acc": 2000.0, "gyr": 200.0, "truth": 10.0, "gap": 1e6}
"""Bounds far beyond any chip's full scale (16 g = 157 m/s², 2000 °/s = 35 rad/s): a value past
them is damage (e.g. 1e308), which would only break the maths later."""

MAX_ODR_HZ = 10_000.0


class RecordingError(ValueError):
    """A recording file cannot be read; the message names the file and line."""


@dataclass
class Recording:
    """A recording in memory: metadata and the samples (:data:`SAMPLE_DTYPE` rows)."""

    metadata: dict[str, Any]
    samples: np.ndarray = field(default_factory=empty_samples)

    @property
    def rate_hz(self) -> float:
        config = self.metadata.get("config") or {}
        if "odr_hz" in config:
            return float(config["odr_hz"])
        t = self.samples["t"]
        return float((len(t) - 1) / (t[-1] - t[0])) if len(t) > 1 else 0.0


def _format_row(row: np.void) -> str:
    def num(v: float) -> str:
        return "" if math.isnan(v) else f"{v:.9g}"

    acc, gyr = row["acc"], row["gyr"]
    return ",".join(
        (
            f"{row['t']:.6f}",
            f"{acc[0]:.6f}",
            f"{acc[1]:.6f}",
            f"{acc[2]:.6f}",
            f"{gyr[0]:.7f}",
            f"{gyr[1]:.7f}",
            f"{gyr[2]:.7f}",
            num(float(row["true_pitch"])),
            num(float(row["true_roll"])),
            f"{row['gap_before']:.6g}",
        )
    )


class RecordingWriteError(OSError):
    """A recording could not be written (full or read-only disk); the message says what was kept.
    """

    def __init__(self, cause: OSError, message: str) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RecordingWriter:
    """Writes a recording incrementally: metadata at the start, samples as they come.

    When the disk fills up (or turns read-only) the file is cut back to the last whole line that
    reached the disk, so it stays a readable recording of the samples before the problem; a file
    that got no sample at all is removed rather than left empty. :class:`RecordingWriteError`
    then says which.
    """

    def __init__(self, path: str | os.PathLike[str], metadata: dict[str, Any]) -> None:
        self.path = Path(path)
        self.count = 0
        self._last_flush = 0.0
        self._kept_bytes = 0
        self._kept_count = 0
        self._created = False
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "software": __version__,
            **metadata,
        }
        try:
            self._file: TextIO = open(  # noqa: SIM115 - kept open across write() calls, closed in close()
                self.path, "w", encoding="utf-8", newline="\n"
            )
            self._created = True
            for key, value in header.items():
                self._file.write(f"# {key}: {json.dumps(value)}\n")
            self._file.write(",".join(COLUMNS) + "\n")
            self._flush(fsync=False)
        except OSError as exc:
            self._fail(exc)

    def _flush(self, fsync: bool) -> None:
        self._file.flush()
        if fsync:
            os.fsync(self._file.fileno())
        self._kept_bytes = os.fstat(self._file.fileno()).st_size
        self._kept_count = self.count

    def _fail(self, exc: OSError) -> None:
        """Cut the file back to what reached the disk whole (or remove it), then say so."""
        file = getattr(self, "_file", None)
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()  # its buffer cannot be written either
            if not file.closed:
                with contextlib.suppress(OSError, ValueError):
                    os.close(file.fileno())
        problem = disk_problem(exc, self.path.parent)
        kept = ""
        if self._created:
            try:
                if self._kept_count == 0:
                    self.path.unlink()
                    kept = "nothing was recorded, and the empty file was removed"
                else:
                    os.truncate(self.path, self._kept_bytes)
                    kept = f"the file keeps the first {self._kept_count} samples"
            except OSError:
                kept = "the file may be incomplete"
        else:
            kept = "nothing was recorded"
        raise RecordingWriteError(
            exc, f"Recording to {self.path} stopped: {problem}; {kept}."
        ) from exc

    def write(self, samples: np.ndarray, now: float | None = None) -> None:
        try:
            if len(samples):
                self._file.write("\n".join(_format_row(row) for row in samples) + "\n")
                self.count += len(samples)
            if now is None or now - self._last_flush >= FLUSH_INTERVAL_S:
                self._flush(fsync=False)
                self._last_flush = now or 0.0
        except OSError as exc:
            self._fail(exc)

    def close(self, trailer: dict[str, Any] | None = None) -> None:
        if self._file.closed:
            return
        try:
            for key, value in (trailer or {}).items():
                self._file.write(f"# {key}: {json.dumps(value)}\n")
            self._flush(fsync=True)
            self._file.close()
        except OSError as exc:
            self._fail(exc)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_recording(
    path: str | os.PathLike[str], samples: np.ndarray, metadata: dict[str, Any]
) -> None:
    """Write a whole recording at once."""
    with RecordingWriter(path, metadata) as writer:
        writer.write(samples)


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a whole recording; a malformed file raises :class:`RecordingError` naming the line,
    a file beyond :data:`MAX_RECORDING_BYTES` or :data:`MAX_RECORDING_SAMPLES` is refused with
    the limit. (To keep less in memory, go through :class:`RecordingReader` block by block.)"""
    with RecordingReader(path) as reader:
        blocks = list(reader.blocks())
        samples = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        return Recording(reader.metadata, samples)


class RecordingReader:
    """Streams through a recording: :attr:`metadata` once opened (the header lines), then
    :meth:`blocks` yields the samples :data:`READ_CHUNK` at a time, so memory does not grow with
    the file. Trailing ``#`` lines are added to :attr:`metadata` as they are read."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise RecordingError(f"{self.path}: no such recording file") from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        if size > MAX_RECORDING_BYTES:
            raise RecordingError(
                f"{self.path}: the file is {size / 1e6:.0f} MB; recordings of up to "
                f"{MAX_RECORDING_BYTES / 1e6:.0f} MB can be read (cut it into parts)"
            )
        self.metadata: dict[str, Any] = {}
        self._meta_lines: dict[str, int] = {}
        self.count = 0
        with self._reading():
            self._file: TextIO = self.path.open(encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._lines = enumerate(self._file, start=1)
        try:
            with self._reading():
                self._read_header()
        except BaseException:
            self._file.close()
            raise

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{self.path}: not a text file ({exc.reason})") from None
        except IsADirectoryError:
            raise RecordingError(f"{self.path}: is a directory, not a recording") from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None

    @property
    def rate_hz(self) -> float | None:
        """The data rate the metadata states (None when it states none)."""
        config = self.metadata.get("config") or {}
        return float(config["odr_hz"]) if "odr_hz" in config else None

    def _fail(self, line_no: int, problem: str) -> RecordingError:
        return RecordingError(
            f"{self.path}, line {line_no}: {problem}. "
            "A recording starts with '# key: value' lines, then the header "
            f"'{','.join(COLUMNS)}', then one sample per line."
        )

    def _metadata_line(self, line_no: int, line: str) -> None:
        key, sep, value = line[1:].partition(":")
        if not sep:
            raise self._fail(line_no, "a metadata line needs 'key: value'")
        try:
            self.metadata[key.strip()] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise self._fail(line_no, f"metadata value is not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise self._fail(line_no, "metadata value is nested far too deeply") from None
        self._meta_lines[key.strip()] = line_no

    def _read_header(self) -> None:
        for line_no, raw in self._lines:
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                self._metadata_line(line_no, line)
                continue
            if tuple(c.strip() for c in line.split(",")) != COLUMNS:
                raise self._fail(line_no, f"expected the header line, found {line[:60]!r}")
            if self.metadata.get("format") != FORMAT_NAME:
                raise self._fail(line_no, "the '# format' metadata line is missing or wrong")
            version = self.metadata.get("version")
            if version != FORMAT_VERSION:
                raise self._fail(
                    line_no,
                    f"recording format version {version!r} is not supported "
                    f"(this software reads version {FORMAT_VERSION}; update wobble-trainer)",
                )
            _check_config(self.metadata, self._meta_lines, self._fail)
            return
        raise RecordingError(
            f"{self.path}: no header line found; this is not a wobble-trainer recording"
        )

    def blocks(self) -> Iterator[np.ndarray]:
        """The samples (:data:`SAMPLE_DTYPE` blocks of at most :data:`READ_CHUNK` rows); at
        least one block, perhaps empty."""
        rows: list[tuple[float, ...]] = []
        previous_t = -math.inf
        yielded = False
        with self._reading():
            for line_no, raw in self._lines:
                line = raw.strip()
                if not line:
                    continue
                if line.startswith("#"):
                    self._metadata_line(line_no, line)
                    continue
                values = _parse_row(line, line_no, self._fail)
                if values[0] <= previous_t:
                    raise self._fail(
                        line_no, f"time {values[0]} does not increase (previous {previous_t})"
                    )
                previous_t = values[0]
                rows.append(values)
                self.count += 1
                if self.count > MAX_RECORDING_SAMPLES:
                    raise self._fail(
                        line_no,
                        f"more than {MAX_RECORDING_SAMPLES} samples, the most one recording may "
                        "hold (cut it into parts)",
                    )
                if len(rows) == READ_CHUNK:
                    yield _samples_of(rows)
                    yielded = True
                    rows = []
        if rows or not yielded:
            yield _samples_of(rows)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_config(metadata: dict[str, Any], meta_lines: dict[str, int], fail: Any) -> None:
    """``config`` must be an object and its ``odr_hz`` a usable rate."""
    if "config" not in metadata or metadata["config"] is None:
        return
    line = meta_lines.get("config", 0)
    config = metadata["config"]
    if not isinstance(config, dict):
        raise fail(line, f"'config' must be an object, not {type(config).__name__}")
    if "odr_hz" in config:
        odr = config["odr_hz"]
        if (
            not isinstance(odr, int | float)
            or isinstance(odr, bool)
            or not math.isfinite(odr)
            or not 0 < odr <= MAX_ODR_HZ
        ):
            raise fail(line, f"'odr_hz' must be a rate in Hz, 0-{MAX_ODR_HZ:.0f}, not {odr!r}")


def _parse_row(line: str, line_no: int, fail: Any) -> tuple[float, ...]:
    cells = line.split(",")
    if len(cells) != len(COLUMNS):
        raise fail(line_no, f"expected {len(COLUMNS)} comma-separated values, found {len(cells)}")
    try:
        values = tuple(float(c) if c.strip() else math.nan for c in cells)
    except ValueError:
        bad = next(c for c in cells if not _is_number(c))
        raise fail(line_no, f"{bad!r} is not a number") from None
    if any(math.isnan(v) or math.isinf(v) for v in values[:7]):
        raise fail(line_no, "t, ax..gz must all be finite numbers")
    limits = (
        [MAX_ABS_VALUE["t"]]
        + [MAX_ABS_VALUE["acc"]] * 3
        + [MAX_ABS_VALUE["gyr"]] * 3
        + [MAX_ABS_VALUE["truth"]] * 2
        + [MAX_ABS_VALUE["gap"]]
    )
    for name, value, limit in zip(COLUMNS, values, limits, strict=True):
        if abs(value) > limit:  # NaN compares False: an empty truth or gap cell is fine
            raise fail(line_no, f"{name} = {value:g} is out of range (at most ±{limit:g})")
    if values[9] < 0:
        raise fail(line_no, "gap_before cannot be negative")
    return values


def _samples_of(rows: list[tuple[float, ...]]) -> np.ndarray:
    data = np.array(rows, dtype=float).reshape(-1, len(COLUMNS))
    samples = np.zeros(len(data), dtype=SAMPLE_DTYPE)
    samples["t"] = data[:, 0]
    samples["acc"] = data[:, 1:4]
    samples["gyr"] = data[:, 4:7]
    samples["true_pitch"] = data[:, 7]
    samples["true_roll"] = data[:, 8]
    samples["gap_before"] = np.nan_to_num(data[:, 9])
    return samples


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return bool(not cell.strip())
    return True


class ReplayProducer:
    """Plays a recording back as a sample source: in real time, or as fast as it is polled.

    Time stamps are shifted so the replay starts at the clock's present, so consumers see the
    same time base as with a live sampler. ``loop`` starts over at the end (demos).
    """

    CHUNK = 2000
    """Samples handed out per poll when not in real time."""

    def __init__(
        self, recording: Recording, clock: Clock, *, realtime: bool = True, loop: bool = False
    ) -> None:
        if len(recording.samples) == 0:
            raise RecordingError("the recording holds no samples")
        self.recording = recording
        self.clock = clock
        self.realtime = realtime
        self.loop = loop
        self._samples = recording.samples
        self._position = 0
        self._offset = clock.now() - float(self._samples["t"][0])
        self._period = 1.0 / recording.rate_hz if recording.rate_hz > 0 else 0.0
        self.delivered = 0
        self.loops = 0
        self._done = False
        meta = recording.metadata
        self._info: dict[str, Any] = {
            "source": "replay",
            "chip": meta.get("chip", "recording"),
            "bus": meta.get("bus"),
            "address": meta.get("address"),
            "config": meta.get("config", {}),
            "connected": True,
        }

    def poll(self) -> np.ndarray:
        if self._done:
            return empty_samples()
        samples = self._samples
        if self.realtime:
            now_in_file = self.clock.now() - self._offset
            end = int(np.searchsorted(samples["t"], now_in_file, side="right"))
        else:
            end = min(self._position + self.CHUNK, len(samples))
        out = samples[self._position : end].copy()
        out["t"] += self._offset
        self._position = end
        self.delivered += len(out)
        if self._position >= len(samples):
            if self.loop:
                self.loops += 1
                last_t = float(samples["t"][-1]) + self._offset
                self._offset = last_t + self._period - float(samples["t"][0])
                self._position = 0
            else:
                self._done = True
        return out

    @property
    def finished(self) -> bool:
        return self._done

    def stats_dict(self) -> dict[str, float]:
        return {
            "samples": float(self.delivered),
            "connected": 1.0,
            "odr_hz": self.recording.rate_hz,
        }

    def info(self) -> dict[str, Any]:
        return self._info

    def apply_control(self, lean_pitch: float, lean_roll: float, step_off: bool) -> None:
        """A recording cannot be steered."""

    def sim_cpu_s(self) -> float:
        return 0.0

    def close(self) -> None:
        self._done = True
