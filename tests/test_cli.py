"""The ``wobble`` command line, run in-process (the sampler still gets its own process)."""

import json

import pytest

from wobble_trainer import cli
from wobble_trainer.hardware import detect
from wobble_trainer.sampling.recording import read_recording


def test_detect_sim_reports_the_simulated_chip(capsys):
    assert cli.main(["detect", "--sim", "--chip", "LSM6DSO", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found == [{"chip": "LSM6DSO/LSM6DSOX", "bus": "sim", "address": 0x6A, "id": 0x6C}]


def test_detect_sim_prints_chip_bus_address_and_id(capsys):
    assert cli.main(["detect", "--sim"]) == 0
    out = capsys.readouterr().out
    assert "MPU-6050" in out and "bus sim" in out and "0x68" in out and "id 0x68" in out


def test_detect_without_i2c_says_what_to_do(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [])
    assert cli.main(["detect"]) == 2
    err = capsys.readouterr().err
    assert "No I2C bus" in err and "dtparam=i2c_arm=on" in err and "--sim" in err


def test_detect_with_permission_denied_names_the_group(capsys, monkeypatch):
    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [1])

    def denied(number):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("smbus2.SMBus", denied)
    assert cli.main(["detect"]) == 2
    err = capsys.readouterr().err
    assert "/dev/i2c-1" in err and "group" in err and "i2c" in err and "0x68" in err


def test_detect_with_an_empty_bus_lists_what_was_probed(capsys, monkeypatch):
    from wobble_trainer.sim.bus import SimulatedBus

    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [1, 20])
    monkeypatch.setattr("smbus2.SMBus", lambda n: SimulatedBus(n))
    assert cli.main(["detect"]) == 2
    err = capsys.readouterr().err
    assert "/dev/i2c-1, /dev/i2c-20" in err and "0x6A" in err and "wiring" in err


@pytest.mark.parametrize("chip", ["MPU-6500", "LSM6DS3"])
def test_record_sim_writes_every_sample_with_truth(tmp_path, capsys, chip):
    out = tmp_path / "rec.csv"
    assert (
        cli.main(
            [
                "record",
                "--sim",
                "--chip",
                chip,
                "--seconds",
                "1.5",
                "--rate",
                "200",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rec = read_recording(out)
    meta = rec.metadata
    assert meta["source"] == "sim" and meta["chip"].startswith(chip[:6])
    assert meta["config"]["odr_hz"] > 100
    assert meta["simulator"]["chip"] == chip
    assert meta["stats"]["lost_samples"] == 0
    n = len(rec.samples)
    assert n == meta["stats"]["samples"]
    assert n >= 1.4 * meta["config"]["odr_hz"]
    assert (rec.samples["true_pitch"] == rec.samples["true_pitch"]).all()  # no NaN truth
    assert "Wrote" in capsys.readouterr().out


def test_record_without_imu_explains(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [])
    assert cli.main(["record", "--seconds", "1", "--out", str(tmp_path / "x.csv")]) == 2
    assert "No I2C bus" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
