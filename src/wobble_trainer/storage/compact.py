"""Compact raw traces: lossless with respect to the sensor's resolution, a few bytes per sample.

A stored trial holds, per sample, ``t`` (float64 s) and ``acc``/``gyr`` (float32 or float64, see
:mod:`wobble_trainer.storage.codec`): 32 bytes. Every acc/gyr value the drivers produce is a
16-bit raw count times the chip's LSB size (``count * scale`` with ``scale`` = standard gravity /
LSB-per-g, DEG / LSB-per-°/s, or mg/mdps-per-LSB × 1e-3 × the same constants), rounded to the
stored precision. So the values can travel and be kept as int16 counts plus one float64 ``scale``
per sensor, and decoded back *bit for bit*: ``float32(count * scale)`` is exactly the stored
value. The scale is found from the data (least squares, then snapped to the constants above when
that reproduces more values exactly), the decode is checked value by value while encoding, and any
value it does not reproduce exactly (a NaN, a value that was never a raw count) is carried as an
*exception* with its exact bits. When more than 1 % of a sensor's values are exceptions (data that
was never quantised, e.g. a synthetic test trace), that sensor is stored as its raw float bits.
Whatever the mode, :func:`decode_trace` returns exactly the arrays :func:`encode_trace` was given.

Layout of a blob (all little-endian): ``b"WTC1"``, uint32 header length, the JSON header
(sample count, precision, per sensor mode/scale/exception count, section lengths), then one zlib
stream holding the sections. ``t`` is stored as the second differences of its float64 bit
patterns (a regular sampler clock makes them almost all 0 or ±1 ulp); counts as first differences
along time (tilt changes slowly); every section byte-shuffled (high bytes together) before zlib.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from wobble_trainer.units import DEG, STANDARD_GRAVITY

MAGIC = b"WTC1"
MAX_EXCEPTION_FRACTION = 0.01
"""Above this share of inexact values a sensor is stored as raw float bits instead of counts."""

_PRECISIONS = {"float32": (np.float32, np.uint32, "<u4"), "float64": (np.float64, np.uint64, "<u8")}


class TraceCodecError(ValueError):
    """A compact trace that cannot be decoded (damaged or not ours)."""


@dataclass(frozen=True)
class CompactTrace:
    """One encoded trace and what it costs."""

    blob: bytes
    sample_count: int

    @property
    def bytes_per_sample(self) -> float:
        return len(self.blob) / self.sample_count if self.sample_count else 0.0


def _shuffle(a: np.ndarray) -> bytes:
    """Bytes of ``a`` grouped by byte position (all lowest bytes, then the next, …)."""
    raw = np.ascontiguousarray(a).view(np.uint8).reshape(-1, a.dtype.itemsize)
    return raw.T.tobytes()


def _unshuffle(data: bytes, dtype: np.dtype, count: int) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    if len(data) != count * size:
        raise TraceCodecError("a section of the compact trace has the wrong length")
    raw = np.frombuffer(data, dtype=np.uint8).reshape(size, count).T
    return np.ascontiguousarray(raw).view(dtype).reshape(count)


def _scale_candidates(q: float) -> list[float]:
    """``q`` and the driver-style constants near it (K / LSB-per-unit, sensitivity × 1e-3 × K)."""
    out = [q]
    for k in (STANDARD_GRAVITY, DEG):
        per_unit = k / q
        for digits in (0, 1, 2):
            lsb = round(per_unit, digits)
            if lsb > 0:
                out.append(k / lsb)
        milli = q / k * 1e3
        for digits in range(0, 5):
            sens = round(milli, digits)
            if sens > 0:
                out.append(sens * 1e-3 * k)
    return out


def _encode_counts(v: np.ndarray, ftype: type) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(scale, int16 counts, flat indices of inexact values) for values ``v`` (n, 3), or None."""
    flat = v.reshape(-1)
    finite = flat[np.isfinite(flat)]
    nonzero = np.unique(np.abs(finite[finite != 0]))
    if nonzero.size == 0:
        return 1.0, np.zeros(flat.shape, np.int16), np.flatnonzero(~(flat == 0) | np.signbit(flat))
    # The smallest step between values near zero is one LSB (small values carry tiny rounding).
    small = nonzero[: min(nonzero.size, 64)]
    q0 = float(min(small[0], np.min(np.diff(small))) if small.size > 1 else small[0])
    counts = np.rint(finite / q0)
    if np.max(np.abs(counts)) > 32767:
        return None
    q_ls = float(np.dot(finite, counts) / np.dot(counts, counts))
    best: tuple[int, float, np.ndarray, np.ndarray] | None = None
    for q in _scale_candidates(q_ls):
        with np.errstate(invalid="ignore"):
            c = np.rint(flat / q)
        ok_range = np.isfinite(c) & (np.abs(c) <= 32767)
        c = np.where(ok_range, c, 0).astype(np.int16)
        decoded = (c.astype(np.float64) * q).astype(ftype).astype(np.float64)
        bad = ~ok_range | (decoded.view(np.uint64) != flat.view(np.uint64))
        n_bad = int(np.count_nonzero(bad))
        if best is None or n_bad < best[0]:
            best = (n_bad, q, c, np.flatnonzero(bad))
        if n_bad == 0:
            break
    assert best is not None
    n_bad, q, c, bad_idx = best
    if n_bad > MAX_EXCEPTION_FRACTION * flat.size:
        return None
    return q, c, bad_idx


def encode_trace(
    t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, precision: str = "float64"
) -> CompactTrace:
    """Encode one trial's trace (the float64 arrays the board's store returns) losslessly."""
    if precision not in _PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}, not {precision!r}")
    ftype, utype, ustr = _PRECISIONS[precision]
    t = np.ascontiguousarray(t, dtype=np.float64)
    n = t.shape[0]
    acc = np.ascontiguousarray(acc, dtype=np.float64).reshape(n, 3)
    gyr = np.ascontiguousarray(gyr, dtype=np.float64).reshape(n, 3)
    for name, arr in (("acc", acc), ("gyr", gyr)):
        as_stored = arr.astype(ftype).astype(np.float64)
        if not np.array_equal(as_stored.view(np.uint64), arr.view(np.uint64)):
            raise ValueError(f"{name} holds values that are not {precision} values")
    sections: list[bytes] = []
    header: dict[str, Any] = {"n": n, "precision": precision, "sections": []}

    def add(name: str, data: bytes) -> None:
        sections.append(data)
        header["sections"].append([name, len(data)])

    bits = t.view(np.int64)
    add("t", _shuffle(np.diff(bits, n=2, prepend=np.zeros(2, np.int64))))
    for name, arr in (("acc", acc), ("gyr", gyr)):
        found = _encode_counts(arr, ftype)
        if found is None:
            raw = arr.astype(ftype).view(utype).reshape(-1)
            previous = np.zeros_like(raw)
            previous[1:] = raw[:-1]  # (np.concatenate with a Python 0 would go via float64)
            add(name, _shuffle(np.bitwise_xor(raw, previous)))
            header[name] = {"mode": "raw"}
            continue
        q, counts, bad = found
        c2 = counts.reshape(n, 3)
        delta = np.diff(c2, axis=0, prepend=np.zeros((1, 3), np.int16))  # wraps modulo 2^16
        add(name, _shuffle(delta.astype("<i2").reshape(-1)))
        exact = arr.reshape(-1)[bad].astype(ftype).view(utype).astype(ustr)
        add(f"{name}_exc_idx", bad.astype("<u4").tobytes())
        add(f"{name}_exc_val", exact.tobytes())
        header[name] = {"mode": "counts", "scale": q.hex(), "exceptions": int(bad.size)}
    head = json.dumps(header, separators=(",", ":")).encode()
    body = zlib.compress(b"".join(sections), 6)
    return CompactTrace(MAGIC + struct.pack("<I", len(head)) + head + body, n)


def _header(blob: bytes) -> tuple[dict[str, Any], int]:
    if len(blob) < 8 or blob[:4] != MAGIC:
        raise TraceCodecError("not a compact Wobble Trainer trace")
    (head_len,) = struct.unpack("<I", blob[4:8])
    try:
        return json.loads(blob[8 : 8 + head_len]), 8 + head_len
    except ValueError as exc:
        raise TraceCodecError(f"the compact trace is damaged ({exc})") from exc


def trace_precision(blob: bytes) -> str:
    """The stored precision (float32/float64) of a compact trace's acc and gyr values."""
    return str(_header(blob)[0]["precision"])


def decode_trace(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact (t, acc, gyr) float64 arrays that were encoded into ``blob``."""
    header, start = _header(blob)
    try:
        body = zlib.decompress(blob[start:])
    except zlib.error as exc:
        raise TraceCodecError(f"the compact trace is damaged ({exc})") from exc
    n = int(header["n"])
    ftype, utype, ustr = _PRECISIONS[header["precision"]]
    parts: dict[str, bytes] = {}
    pos = 0
    for name, length in header["sections"]:
        parts[name] = body[pos : pos + length]
        pos += length
    if pos != len(body):
        raise TraceCodecError("the compact trace's sections do not add up")
    dd = _unshuffle(parts["t"], np.dtype(np.int64), n)
    t = np.cumsum(np.cumsum(dd)).view(np.float64) if n else np.zeros(0)
    out = [t]
    for name in ("acc", "gyr"):
        spec = header[name]
        if spec["mode"] == "raw":
            x = _unshuffle(parts[name], np.dtype(utype), 3 * n)
            raw = np.bitwise_xor.accumulate(x) if n else x
            out.append(raw.view(ftype).astype(np.float64).reshape(n, 3))
            continue
        delta = _unshuffle(parts[name], np.dtype("<i2"), 3 * n).reshape(n, 3)
        counts = np.cumsum(delta, axis=0, dtype=np.int16).reshape(-1)
        q = float.fromhex(spec["scale"])
        values = (counts.astype(np.float64) * q).astype(ftype).astype(np.float64)
        idx = np.frombuffer(parts[f"{name}_exc_idx"], dtype="<u4").astype(np.intp)
        exact = np.frombuffer(parts[f"{name}_exc_val"], dtype=ustr).astype(utype)
        if idx.size != spec["exceptions"] or exact.size != idx.size:
            raise TraceCodecError("the compact trace's exception list is damaged")
        values[idx] = exact.view(ftype).astype(np.float64)
        out.append(values.reshape(n, 3))
    return out[0], out[1], out[2]
