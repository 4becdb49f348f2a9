"""The ``wobble`` command line, run in-process (the sampler still gets its own process)."""

import json

import numpy as np
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


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    directory = tmp_path / "state"
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(directory))
    return directory


def test_calibrate_sim_stores_a_calibration_the_tilt_command_then_uses(state_dir, capsys):
    assert cli.main(["calibrate", "--sim", "--rate", "200", "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert "Calibration saved" in out and "Edge angles" in out
    files = list(state_dir.glob("calibration-*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    assert data["format"] == "wobble-trainer-calibration"
    assert cli.main(["tilt", "--sim", "--rate", "200", "--seconds", "1.5"]) == 0
    captured = capsys.readouterr()
    assert "UNCALIBRATED" not in captured.err
    rows = [line.split() for line in captured.out.splitlines()[1:]]
    assert rows and all(len(r) == 5 for r in rows)
    # the simulated person stands level: a few degrees at most once calibrated
    assert all(abs(float(r[1])) < 5 and abs(float(r[2])) < 5 for r in rows)


def test_tilt_without_calibration_says_so(state_dir, capsys):
    assert cli.main(["tilt", "--sim", "--rate", "200", "--seconds", "0.5"]) == 0
    assert "UNCALIBRATED" in capsys.readouterr().err


def test_metrics_of_a_recording(tmp_path, state_dir, capsys):
    out = tmp_path / "rec.csv"
    assert cli.main(["record", "--sim", "--seconds", "3", "--rate", "200", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["metrics", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    for key in (
        "osi",
        "apsi",
        "mlsi",
        "sd",
        "path_length_deg",
        "mean_velocity_deg_s",
        "ellipse95_area_deg2",
        "zone_pct",
        "edge_touches",
    ):
        assert key in result
    assert "holds no calibration" in captured.err
    assert result["duration_s"] == pytest.approx(2.0, abs=0.2)  # 3 s minus the 1 s settling


def test_metrics_of_a_damaged_recording_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        '# format: "wobble-trainer recording"\n# version: 1\n'
        "t,ax,ay,az,gx,gy,gz,true_pitch,true_roll,gap_before\n1,2,3\n"
    )
    assert cli.main(["metrics", str(bad)]) == 2
    assert "line 4" in capsys.readouterr().err


def test_run_headless_plays_an_activity_and_saves_the_last_frame(state_dir, tmp_path):
    shot = tmp_path / "frame.png"
    assert (
        cli.main(
            [
                "run",
                "--sim",
                "--headless",
                "--rate",
                "200",
                "--activity",
                "hold",
                "--seconds",
                "4",
                "--screenshot",
                str(shot),
            ]
        )
        == 0
    )
    import pygame

    image = pygame.image.load(str(shot))
    assert image.get_size() == (800, 480)


def test_run_without_imu_starts_on_the_simulated_board(monkeypatch, capsys, state_dir):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [])
    assert cli.main(["--headless", "--rate", "200", "--seconds", "1"]) == 0
    err = capsys.readouterr().err
    assert "simulated board" in err and "\\n" not in err


@pytest.mark.parametrize("how", ["kiosk", "service"])
def test_the_appliance_without_imu_waits_for_it_and_never_simulates(
    monkeypatch, capsys, state_dir, how
):
    import wobble_trainer.app.scenes.sensor as sensor
    from wobble_trainer.sampling import runner

    monkeypatch.setattr(detect, "i2c_buses", lambda dev_dir="/dev": [])
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("INVOCATION_ID", "x") if how == "service" else None
    monkeypatch.setattr(sensor, "RETRY_S", 0.2)
    started = []
    monkeypatch.setattr(runner.SamplerRunner, "start", lambda self: started.append(self))
    argv = ["--headless", "--seconds", "1"] + (["--kiosk"] if how == "kiosk" else [])
    assert cli.main(argv) == 1  # time up before the sensor appeared
    err = capsys.readouterr().err
    assert "No supported IMU found" in err and "Waiting for the IMU" in err
    assert started == []  # no sampler at all: not the simulator either


def test_run_help_lists_the_activities(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    assert "activities: " in out
    assert "hold" in out.split("activities: ")[1]


def test_record_on_a_full_disk_exits_with_a_clear_message_and_no_empty_file(
    tmp_path, capsys, monkeypatch
):
    from conftest import TinyDisk

    from wobble_trainer.sampling import recording

    monkeypatch.setenv("WOBBLE_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(recording, "open", TinyDisk(free=0), raising=False)
    out = tmp_path / "rec.csv"
    argv = ["record", "--sim", "--seconds", "0.5", "--rate", "200", "--out", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "wobble record: Recording to" in err and "is full" in err and "Traceback" not in err
    assert not out.exists()


def test_run_starts_whatever_damaged_state_files_it_finds(state_dir, tmp_path, monkeypatch, capsys):
    """Every state file damaged at once (issue 14, item 4): the app starts, says what it found
    and uses the safe default for each; it must not boot-loop under systemd."""
    nested = "[" * 100_000 + "]" * 100_000
    state_dir.mkdir(parents=True)
    (state_dir / "records.json").write_text(nested)
    (state_dir / "calibration-mpu-6050_sim_0x68.json").write_text(nested)
    (state_dir / "clinician-pin").write_text('{"hash": "$scrypt$x", "failures": Infinity}')
    (state_dir / "wobble-trainer.sqlite3").mkdir()  # the database path is a directory
    config = tmp_path / "config.toml"
    config.write_text("a = " + "{x=" * 5000 + "1" + "}" * 5000)
    monkeypatch.setenv("WOBBLE_CONFIG", str(config))
    monkeypatch.setenv("WOBBLE_RUNTIME_DIR", str(tmp_path / "run"))
    argv = ["run", "--sim", "--headless", "--kiosk", "--rate", "200", "--seconds", "2"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "nested far too deeply to be a configuration" in err
    assert "is a directory" in err and "Sessions will not be saved" in err
    assert (state_dir / "records.damaged").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["metrics", "{rec}", "--skip", "nan"], "--skip: 'nan' is not usable"),
        (["metrics", "{rec}", "--skip", "1e300"], "--skip: '1e300' is not usable"),
        (["metrics", "{rec}", "--skip", "100"], "--skip 100: the recording"),
        (["record", "--sim", "--seconds", "1", "--out", "x", "--rate", "nan"], "--rate: 'nan'"),
        (["record", "--sim", "--seconds", "1", "--out", "x", "--rate", "inf"], "--rate: 'inf'"),
        (["run", "--sim", "--rate", "1e9"], "--rate: '1e9' is not usable"),
        (["run", "--replay", "{bad}", "--headless"], "bad.csv, line 4: ax = 1e+308"),
        (["metrics", "{bad}"], "bad.csv, line 4: ax = 1e+308"),
    ],
)
def test_malformed_input_is_a_clear_error_with_exit_code_2(tmp_path, capsys, argv, words):
    from wobble_trainer.sampling.recording import write_recording
    from wobble_trainer.sampling.samples import make_samples

    rec = tmp_path / "rec.csv"
    t = np.arange(200) / 100.0
    write_recording(rec, make_samples(t, np.tile([0, 0, 9.81], (200, 1)), np.zeros((200, 3))),
                    {"config": {"odr_hz": 100.0}})  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text('# format: "wobble-trainer recording"\n# version: 1\n'
                   "t,ax,ay,az,gx,gy,gz,true_pitch,true_roll,gap_before\n"
                   "1.0,1e308,0,9.81,0,0,0,,,0\n")  # fmt: skip
    argv = [a.format(rec=rec, bad=bad) for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    assert words in capsys.readouterr().err


def test_the_kiosk_starts_the_trainer_when_the_imu_appears(monkeypatch, capsys, state_dir):
    import wobble_trainer.app.scenes.sensor as sensor
    from wobble_trainer.hardware.detect import ImuNotFoundError
    from wobble_trainer.hardware.imu import ImuSettings
    from wobble_trainer.sampling.runner import SimSpec, SourceSpec

    monkeypatch.setattr(sensor, "RETRY_S", 0.1)
    tries = []

    def appears_on_the_third_look(args):
        tries.append(1)
        if len(tries) < 3:
            raise ImuNotFoundError("No supported IMU found.\n- Check the wiring: ...")
        return SourceSpec(kind="sim", settings=ImuSettings(odr_hz=200), sim=SimSpec())

    monkeypatch.setattr(cli, "source_spec_from_args", appears_on_the_third_look)
    assert cli.main(["--kiosk", "--headless", "--seconds", "2"]) == 0
    assert len(tries) == 3
