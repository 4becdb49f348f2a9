"""How values are written into and read back from the database: JSON, times and raw traces.

* JSON: settings, metrics and events are stored as compact JSON text. numpy scalars and arrays are
  turned into plain numbers and lists; NaN and ±inf (which JSON cannot hold) become ``null``, so
  a metric that does not exist for a session (say, time to first edge touch when the edge was never
  touched) is stored as "no value" instead of failing the save.
* Times: timezone-aware :class:`~datetime.datetime` only (a naive one is ambiguous across a
  daylight-saving change or a moved device), stored as ISO 8601 with the UTC offset of the moment,
  milliseconds resolution. The first ten characters are then the local calendar date, which is
  what history queries and streaks count.
* Raw traces: one trial's samples packed as a little-endian numpy structured array in one BLOB.
  ``t`` is float64 (seconds on the sampler's time base, which can be a large monotonic value that
  float32 would round to milliseconds); ``acc`` (m/s²) and ``gyr`` (rad/s) are float32 by default:
  its relative resolution, 6e-8, is over a thousand times finer than one LSB of a 16-bit MEMS
  sensor at its smallest range, so it loses nothing measurable and halves the size (32 instead of
  56 bytes per sample). The field names, dtypes and shapes go into ``trace_format`` next to it
  and a CRC-32 of the bytes into ``trace_crc32``, so a reader never has to guess the layout and
  can prove the bytes are the ones written.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

import numpy as np

from wobble_trainer.storage.errors import StorageError

TracePrecision = Literal["float32", "float64"]

TRACE_UNITS = {"t": "s", "acc": "m/s^2", "gyr": "rad/s"}


def jsonable(value: Any) -> Any:
    """``value`` with numpy types made plain and non-finite floats made ``None`` (see above)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(value: Any, what: str) -> str:
    """Compact JSON text for ``value`` (after :func:`jsonable`); ``what`` names it in errors."""
    try:
        return json.dumps(jsonable(value), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} cannot be stored as JSON: {exc}") from exc


def json_text(value: str | Mapping[str, Any] | list[Any] | None, what: str) -> str | None:
    """JSON text for a column kept "as given": a string is checked and stored unchanged."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{what} is not valid JSON text: {exc}") from exc
        return value
    return to_json(value, what)


def from_json(text: str | None) -> Any:
    """The value of a JSON column (``None`` for SQL NULL)."""
    return None if text is None else json.loads(text)


def iso(moment: datetime) -> str:
    """ISO 8601 text of an aware datetime, with its UTC offset (refuses naive datetimes)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"time {moment!r} has no time zone; use an aware datetime, "
            "e.g. datetime.now().astimezone()"
        )
    return moment.isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    """The datetime of :func:`iso` text (``None`` for SQL NULL)."""
    return None if text is None else datetime.fromisoformat(text)


def now() -> datetime:
    """The current wall-clock time, aware, in the local time zone."""
    return datetime.now().astimezone()


def trace_dtype(precision: TracePrecision) -> np.dtype:
    """The packed dtype of one sample for a given sensor-value precision."""
    if precision not in ("float32", "float64"):
        raise ValueError(f"trace precision must be 'float32' or 'float64', not {precision!r}")
    value = "<f4" if precision == "float32" else "<f8"
    return np.dtype([("t", "<f8"), ("acc", value, (3,)), ("gyr", value, (3,))])


def _format_json(dtype: np.dtype) -> str:
    fields = []
    for name in dtype.names or ():
        sub, _offset = dtype.fields[name][:2]
        base = sub.base if sub.shape else sub
        fields.append(
            {"name": name, "dtype": base.str, "shape": list(sub.shape),
             "unit": TRACE_UNITS.get(name)}
        )
    return json.dumps({"fields": fields}, separators=(",", ":"))


def _dtype_from_format(text: str) -> np.dtype:
    spec = json.loads(text)
    return np.dtype([(f["name"], f["dtype"], tuple(f["shape"])) for f in spec["fields"]])


def pack_trace(
    t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, precision: TracePrecision = "float32"
) -> tuple[str, bytes, int, int]:
    """Pack one trial's samples: returns (trace_format JSON, blob, sample count, CRC-32)."""
    t = np.asarray(t, dtype=float)
    acc = np.asarray(acc, dtype=float)
    gyr = np.asarray(gyr, dtype=float)
    n = t.shape[0] if t.ndim == 1 else -1
    if n < 0 or acc.shape != (n, 3) or gyr.shape != (n, 3):
        raise ValueError(
            f"a trace needs t (n,), acc (n, 3) and gyr (n, 3); got t {t.shape}, "
            f"acc {acc.shape}, gyr {gyr.shape}"
        )
    dtype = trace_dtype(precision)
    packed = np.empty(n, dtype=dtype)
    packed["t"] = t
    packed["acc"] = acc
    packed["gyr"] = gyr
    blob = packed.tobytes()
    return _format_json(dtype), blob, n, zlib.crc32(blob)


def unpack_trace(
    format_json: str, blob: bytes, count: int, crc32: int, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (t, acc, gyr) float64 arrays of a packed trace, after checking its length and CRC."""
    dtype = _dtype_from_format(format_json)
    if len(blob) != count * dtype.itemsize:
        raise StorageError(
            f"{what}: the stored trace has {len(blob)} bytes, expected {count} samples × "
            f"{dtype.itemsize} bytes; the database is damaged (restore it from a backup)"
        )
    if zlib.crc32(blob) != crc32:
        raise StorageError(
            f"{what}: the stored trace fails its CRC-32 check; the database is damaged "
            "(restore it from a backup)"
        )
    packed = np.frombuffer(blob, dtype=dtype, count=count)
    return (
        packed["t"].astype(np.float64),
        packed["acc"].astype(np.float64).reshape(count, 3),
        packed["gyr"].astype(np.float64).reshape(count, 3),
    )
