"""Tests of the kept gyro bias: atomic save, load, damaged files, the seed for the next start."""

from __future__ import annotations

import json
import math

import pytest

from wobble_trainer.tilt import bias_store
from wobble_trainer.tilt.bias_store import TrustedBias, bias_path, load, save, seed_for
from wobble_trainer.tilt.calibration import Calibration, DeviceIdentity
from wobble_trainer.units import DEG

DEVICE = DeviceIdentity("MPU-6050", "/dev/i2c-1", 0x68)
TRUSTED = TrustedBias(
    (1.5 * DEG, -0.25 * DEG, 0.125 * DEG), 0.03, DEVICE, "2026-12-04T20:00:00+00:00"
)


def test_save_and_load_round_trip(tmp_path) -> None:
    path = save(TRUSTED, tmp_path)
    assert path == bias_path(DEVICE, tmp_path) and path.name == "gyro-bias-mpu-6050_i2c-1_0x68.json"
    got = load(DEVICE, tmp_path)
    assert got.message == "" and got.trusted is not None
    assert got.trusted.bias_rad_s == pytest.approx(TRUSTED.bias_rad_s, abs=1e-15)
    assert got.trusted.sigma_dps == TRUSTED.sigma_dps and got.trusted.device == DEVICE
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_default_directory_is_the_state_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "state"))
    assert save(TRUSTED).parent == tmp_path / "state"
    assert load(DEVICE).trusted is not None


def test_missing_file_is_no_message(tmp_path) -> None:
    got = load(DEVICE, tmp_path)
    assert got.trusted is None and got.message == ""


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"format": "other"}),
        json.dumps({"format": bias_store.FORMAT_NAME, "format_version": 1, "saved": "x"}),
        json.dumps(
            {
                "format": bias_store.FORMAT_NAME,
                "format_version": 1,
                "saved": "2026-12-04T20:00:00+00:00",
                "device": None,
                "gyro_bias_dps": [1, "a", 3],
                "sigma_dps": 0.1,
            }
        ),
        '{"format": "wobble-trainer-gyro-bias", "format_version": 1, "gyro_bias_dps": [NaN, 0, 0]}',
    ],
)
def test_damaged_file_gives_a_message_and_the_calibration_seed(tmp_path, text) -> None:
    bias_path(DEVICE, tmp_path).write_text(text)
    got = load(DEVICE, tmp_path)
    assert got.trusted is None
    assert "damaged" in got.message and "calibration" in got.message
    cal = Calibration(
        gyro_bias=(0.01, 0.0, 0.0), device=DEVICE, created="2026-11-01T00:00:00+00:00"
    )
    assert seed_for(cal, got.trusted)[0] == (0.01, 0.0, 0.0)


def test_another_sensors_file_is_refused(tmp_path) -> None:
    other = DeviceIdentity("MPU-6050", "/dev/i2c-1", 0x69)
    save(TrustedBias(TRUSTED.bias_rad_s, 0.03, other, TRUSTED.saved), tmp_path)
    bias_path(other, tmp_path).rename(bias_path(DEVICE, tmp_path))
    got = load(DEVICE, tmp_path)
    assert got.trusted is None and "another sensor" in got.message


def test_seed_prefers_the_newer_of_calibration_and_kept_bias() -> None:
    old_cal = Calibration(
        gyro_bias=(0.01, 0.0, 0.0), device=DEVICE, created="2026-11-01T00:00:00+00:00"
    )
    bias, sigma = seed_for(old_cal, TRUSTED)
    assert bias == TRUSTED.bias_rad_s
    assert sigma == pytest.approx(math.hypot(0.03, bias_store.RESTART_SIGMA_DPS))
    new_cal = Calibration(
        gyro_bias=(0.01, 0.0, 0.0), device=DEVICE, created="2026-12-05T00:00:00+00:00"
    )
    cal_sigma = math.hypot(bias_store.CALIBRATION_SIGMA_DPS, bias_store.RESTART_SIGMA_DPS)
    assert seed_for(new_cal, TRUSTED) == ((0.01, 0.0, 0.0), pytest.approx(cal_sigma))
    assert seed_for(old_cal, None) == ((0.01, 0.0, 0.0), pytest.approx(cal_sigma))
    # Uncalibrated: the estimator's own (wide) default.
    assert seed_for(Calibration.default(DEVICE), None) == ((0.0, 0.0, 0.0), None)


def test_non_finite_bias_is_not_saved(tmp_path) -> None:
    with pytest.raises(ValueError):
        save(TrustedBias((math.nan, 0.0, 0.0), 0.1, DEVICE, TRUSTED.saved), tmp_path)
