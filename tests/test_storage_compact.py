"""Compact traces: bit-exact round trips, ≤ 12 bytes per sample on sensor data, exceptions."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import quantised_trace

from wobble_trainer.storage.codec import pack_trace, unpack_trace
from wobble_trainer.storage.compact import (
    TraceCodecError,
    decode_trace,
    encode_trace,
    trace_precision,
)
from wobble_trainer.units import DEG, STANDARD_GRAVITY


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def stored(t, acc, gyr, precision="float64"):
    fmt, blob, n, crc = pack_trace(t, acc, gyr, precision)
    return unpack_trace(fmt, blob, n, crc, "x")


def test_sensor_trace_round_trips_bit_for_bit_in_at_most_12_bytes_per_sample():
    t, acc, gyr = quantised_trace(60_000, seed=3)
    compact = encode_trace(t, acc, gyr)
    assert compact.bytes_per_sample <= 12.0
    for mine, back in zip((t, acc, gyr), decode_trace(compact.blob), strict=True):
        assert same_bits(mine, back)


@pytest.mark.parametrize(
    "acc_scale, gyr_scale",
    [
        (STANDARD_GRAVITY / 16384.0, DEG / 131.0),  # MPU-6050 ±2 g, ±250 °/s
        (STANDARD_GRAVITY / 2048.0, DEG / 16.4),  # ±16 g, ±2000 °/s
        (0.122 * 1e-3 * STANDARD_GRAVITY, 8.75 * 1e-3 * DEG),  # LSM6DS ±4 g, ±250 °/s
    ],
)
def test_every_chip_range_is_stored_as_counts_without_exceptions(acc_scale, gyr_scale):
    rng = np.random.default_rng(1)
    n = 5000
    t = np.arange(n) / 833.0
    acc = rng.integers(-32768, 32767, (n, 3)) * acc_scale
    gyr = rng.integers(-2000, 2000, (n, 3)) * gyr_scale
    t, acc, gyr = stored(t, acc, gyr)
    compact = encode_trace(t, acc, gyr)
    header = compact.blob[8:].split(b"}}")[0]
    assert b'"mode":"raw"' not in header and b'"exceptions":0' in header
    assert compact.bytes_per_sample <= 12.0
    back = decode_trace(compact.blob)
    assert all(same_bits(a, b) for a, b in zip((t, acc, gyr), back, strict=True))


def test_values_that_are_not_counts_travel_exactly_as_exceptions():
    t, acc, gyr = quantised_trace(3000, seed=4)
    acc = acc.copy()
    acc[10, 0] = np.float32(0.1234567)
    acc[20, 2] = np.nan
    acc[30, 1] = -0.0
    back = decode_trace(encode_trace(t, acc, gyr).blob)
    assert same_bits(back[1], acc)


def test_unquantised_data_falls_back_to_raw_bits_and_float64_is_kept():
    rng = np.random.default_rng(5)
    n = 2000
    t = np.cumsum(rng.uniform(0.0009, 0.0011, n))
    acc = rng.normal(0, 3, (n, 3))
    gyr = rng.normal(0, 1, (n, 3))
    compact = encode_trace(t, acc, gyr, "float64")
    assert trace_precision(compact.blob) == "float64"
    back = decode_trace(compact.blob)
    assert all(same_bits(a, b) for a, b in zip((t, acc, gyr), back, strict=True))
    t32, a32, g32 = stored(t, acc, gyr)
    back = decode_trace(encode_trace(t32, a32, g32).blob)
    assert same_bits(back[1], a32)


def test_empty_and_constant_traces():
    empty = encode_trace(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
    t, acc, gyr = decode_trace(empty.blob)
    assert t.shape == (0,) and acc.shape == (0, 3)
    t, acc, gyr = stored(np.arange(5) * 0.01, np.tile([0.0, 0.0, 9.81], (5, 1)), np.zeros((5, 3)))
    back = decode_trace(encode_trace(t, acc, gyr).blob)
    assert same_bits(back[1], acc) and same_bits(back[2], gyr)


def test_refuses_values_finer_than_the_stated_precision():
    with pytest.raises(ValueError, match="float32"):
        encode_trace(np.zeros(1), np.full((1, 3), 0.1), np.zeros((1, 3)), "float32")


def test_damaged_blobs_are_refused_with_a_clear_error():
    t, acc, gyr = quantised_trace(100)
    blob = encode_trace(t, acc, gyr).blob
    with pytest.raises(TraceCodecError):
        decode_trace(b"nope" + blob[4:])
    with pytest.raises(TraceCodecError):
        decode_trace(blob[:-10])
