"""Tests of wobble_trainer.storage.codec: JSON, times and packed traces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from wobble_trainer.storage import StorageError
from wobble_trainer.storage.codec import (
    iso,
    json_text,
    jsonable,
    pack_trace,
    parse_iso,
    to_json,
    trace_dtype,
    unpack_trace,
)


def test_jsonable_and_to_json() -> None:
    value = {"a": np.float32(1.5), "b": np.int64(3), "c": np.array([1.0, np.nan]),
             "d": (1, float("inf")), "e": [np.bool_(True)], 5: "x"}
    assert jsonable(value) == {"a": 1.5, "b": 3, "c": [1.0, None], "d": [1, None],
                               "e": [True], "5": "x"}
    assert json.loads(to_json(value, "m")) == jsonable(value)
    with pytest.raises(ValueError, match="m cannot be stored"):
        to_json({"x": object()}, "m")


def test_json_text_keeps_text_as_given() -> None:
    text = '{ "b": 1,  "a": [1, 2] }'
    assert json_text(text, "cal") == text
    assert json_text(None, "cal") is None
    assert json_text({"a": 1}, "cal") == '{"a":1}'
    with pytest.raises(ValueError, match="cal is not valid JSON"):
        json_text("{", "cal")


def test_iso_round_trip_keeps_offset() -> None:
    moment = datetime(2025, 5, 1, 23, 30, 1, 234567, tzinfo=timezone(timedelta(hours=-5)))
    text = iso(moment)
    assert text == "2025-05-01T23:30:01.234-05:00"  # local date first: what history counts
    assert parse_iso(text) == moment.replace(microsecond=234000)
    assert parse_iso(None) is None
    assert iso(datetime(2025, 1, 1, tzinfo=UTC)).endswith("+00:00")
    with pytest.raises(ValueError, match="time zone"):
        iso(datetime(2025, 1, 1))


@pytest.mark.parametrize(("precision", "itemsize"), [("float32", 32), ("float64", 56)])
def test_pack_unpack(precision: str, itemsize: int) -> None:
    rng = np.random.default_rng(1)
    n = 257
    t = 1.0e6 + np.arange(n) / 833.0  # a large monotonic time base keeps float64 resolution
    acc, gyr = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    fmt, blob, count, crc = pack_trace(t, acc, gyr, precision)
    assert count == n and len(blob) == n * itemsize == n * trace_dtype(precision).itemsize
    spec = json.loads(fmt)
    assert [(f["name"], f["shape"], f["unit"]) for f in spec["fields"]] == [
        ("t", [], "s"), ("acc", [3], "m/s^2"), ("gyr", [3], "rad/s")]
    assert spec["fields"][0]["dtype"] == "<f8"
    t2, acc2, gyr2 = unpack_trace(fmt, blob, count, crc, "trial")
    np.testing.assert_array_equal(t2, t)
    tol = 1e-6 if precision == "float32" else 0.0
    np.testing.assert_allclose(acc2, acc, rtol=tol, atol=tol)
    np.testing.assert_allclose(gyr2, gyr, rtol=tol, atol=tol)
    assert acc2.dtype == np.float64 and acc2.flags.writeable


def test_empty_trace() -> None:
    fmt, blob, count, crc = pack_trace(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
    t, acc, gyr = unpack_trace(fmt, blob, count, crc, "trial")
    assert t.shape == (0,) and acc.shape == (0, 3) and gyr.shape == (0, 3)


def test_damage_is_detected() -> None:
    fmt, blob, count, crc = pack_trace(np.arange(4.0), np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(StorageError, match="expected 3 samples"):
        unpack_trace(fmt, blob, 3, crc, "trial 1")
    damaged = bytearray(blob)
    damaged[5] ^= 0x10
    with pytest.raises(StorageError, match="trial 1: .*CRC-32"):
        unpack_trace(fmt, bytes(damaged), count, crc, "trial 1")


def test_bad_shapes_and_precision() -> None:
    with pytest.raises(ValueError, match="gyr"):
        pack_trace(np.arange(4.0), np.ones((4, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="trace needs"):
        pack_trace(np.ones((4, 1)), np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="precision"):
        trace_dtype("float16")
