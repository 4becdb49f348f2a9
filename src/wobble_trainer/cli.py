"""The ``wobble`` command: one entry point, a sub-command per job.

``wobble`` alone is ``wobble run``. Every sub-command that reads the IMU takes ``--sim`` for the
simulated board, so everything can be tried on a laptop.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from wobble_trainer import __version__, options
from wobble_trainer.hardware.imu import ImuSettings
from wobble_trainer.units import DEG as DEG_


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sim", action="store_true", help="use the simulated board instead of a real IMU"
    )
    parser.add_argument(
        "--chip",
        default="MPU-6050",
        help="simulated chip with --sim (MPU-6050, MPU-6500, MPU-9250, ICM-20948, LSM6DS3, "
        "LSM6DS3TR-C, LSM6DSO, LSM6DSOX)",
    )
    parser.add_argument("--bus", type=int, default=None, help="I2C bus number (default: probe)")
    parser.add_argument(
        "--rate", type=options.rate_hz, default=1000.0, help="IMU data rate, Hz (1000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="simulator random seed (1)")
    parser.add_argument(
        "--skill", type=options.fraction, default=0.6, help="simulated person's skill 0..1 (0.6)"
    )


def source_spec_from_args(args: argparse.Namespace):
    """The sample source the common options describe (probing the buses for real hardware)."""
    from wobble_trainer.hardware.detect import find_imu
    from wobble_trainer.sampling.runner import SimSpec, SourceSpec

    settings = ImuSettings(odr_hz=args.rate)
    if args.sim:
        return SourceSpec(
            kind="sim",
            settings=settings,
            sim=SimSpec(chip=args.chip, seed=args.seed, skill=args.skill),
        )
    found = find_imu(args.bus)
    return SourceSpec(kind="i2c", settings=settings, bus=int(found.bus), address=found.address)


# -- run (the app) -----------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from wobble_trainer.app.main import run_app

    return run_app(args)


# -- detect ------------------------------------------------------------------------------------
def cmd_detect(args: argparse.Namespace) -> int:
    from wobble_trainer.hardware.detect import (
        explain_nothing_found,
        probe_buses,
        scan_bus,
    )

    if args.sim:
        from wobble_trainer.sim.device import make_simulated_imu

        device = make_simulated_imu(args.chip)
        found = scan_bus(device.bus, "sim")
    else:
        report = probe_buses()
        found = report.found
        if not found:
            print(explain_nothing_found(report), file=sys.stderr)
            return 2
    if args.json:
        print(
            json.dumps(
                [
                    {"chip": f.chip, "bus": f.bus, "address": f.address, "id": f.chip_id}
                    for f in found
                ]
            )
        )
    else:
        for f in found:
            print(f.describe())
    return 0


# -- record ------------------------------------------------------------------------------------
def cmd_record(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from wobble_trainer.sampling.recording import RecordingWriter

    spec = source_spec_from_args(args)
    metadata: dict[str, object] = {"source": spec.kind}
    if spec.kind == "sim":
        metadata["simulator"] = asdict(spec.sim)
    runner = _start_runner(spec)
    if runner is None:
        return 1
    try:
        reader = runner.ring.reader(from_now=False)
        info = runner.info
        metadata.update(
            chip=info.get("chip"),
            bus=info.get("bus"),
            address=info.get("address"),
            config=info.get("config"),
        )
        loaded = _load_calibration(info)
        if not loaded.calibration.uncalibrated:
            from wobble_trainer.tilt.calibration import to_json_dict

            metadata["calibration"] = to_json_dict(loaded.calibration)
        writer = RecordingWriter(args.out, metadata)
        started = time.monotonic()
        try:
            while time.monotonic() - started < args.seconds:
                time.sleep(0.05)
                writer.write(reader.read_new(), time.monotonic())
        except KeyboardInterrupt:
            print("Stopped early.", file=sys.stderr)
        runner.stop()
        writer.write(reader.read_new())
        stats = runner.stats()
        trailer = {
            "stats": {
                k: stats[k]
                for k in (
                    "samples",
                    "lost_samples",
                    "gaps",
                    "fifo_overflows",
                    "i2c_errors",
                    "reconnects",
                )
            }
        }
        writer.close(trailer)
    finally:
        runner.close()
    print(
        f"Wrote {writer.count} samples to {args.out} "
        f"({stats['lost_samples']:.0f} lost, {stats['fifo_overflows']:.0f} FIFO overflows)."
    )
    return 0


def _load_calibration(info: dict[str, object]):
    """The stored calibration of the connected chip, or the flagged uncalibrated default."""
    from wobble_trainer.paths import state_dir
    from wobble_trainer.tilt.calibration_session import device_identity, load_for_device

    return load_for_device(state_dir(), device_identity(info))


# -- tilt --------------------------------------------------------------------------------------
def cmd_tilt(args: argparse.Namespace) -> int:
    from wobble_trainer.tilt.stream import TiltStream

    spec = source_spec_from_args(args)
    runner = _start_runner(spec)
    if runner is None:
        return 1
    try:
        loaded = _load_calibration(runner.info)
        if loaded.calibration.uncalibrated:
            print(f"UNCALIBRATED: {loaded.message}", file=sys.stderr)
        stream = TiltStream(
            runner.ring.reader(), runner.info["config"]["odr_hz"], loaded.calibration
        )
        started = time.monotonic()
        next_print = started
        print(" time s   pitch °    roll °    tilt °  low side °")
        while time.monotonic() - started < args.seconds:
            time.sleep(0.02)
            stream.update()
            now = time.monotonic()
            if now >= next_print and stream.latest is not None:
                next_print += args.interval
                a = stream.latest
                print(
                    f"{now - started:7.2f} {a.pitch_deg:+9.2f} {a.roll_deg:+9.2f} "
                    f"{a.tilt_deg:9.2f} {a.direction_deg:+11.1f}",
                    flush=True,
                )
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
    return 0


# -- metrics -----------------------------------------------------------------------------------
def calibration_for_recording(recording, calibration_file: str | None):
    """The calibration to analyse a recording with, and a warning when it is not the real one."""
    from wobble_trainer.tilt.calibration import Calibration, CalibrationError, from_json_dict, load

    if calibration_file:
        loaded = load(calibration_file)
        return loaded.calibration, ("" if loaded.ok else loaded.message)
    data = recording.metadata.get("calibration")
    if data is None:
        return Calibration.default(), (
            "The recording holds no calibration: angles are in the sensor's frame and edge "
            "angles are the 15° default. Pass --calibration FILE to use one."
        )
    try:
        return from_json_dict(data), ""
    except CalibrationError as exc:
        return Calibration.default(), f"The recording's calibration is not usable ({exc})."


def cmd_metrics(args: argparse.Namespace) -> int:
    """Balance metrics of a recording, streaming through it: only pitch and roll are kept
    (16 bytes a sample), so memory stays bounded however long the file is (bench memory)."""
    import numpy as np

    from wobble_trainer import metrics
    from wobble_trainer.sampling.recording import RecordingReader
    from wobble_trainer.tilt.stream import TiltStream

    with RecordingReader(args.file) as recording:
        calibration, warning = calibration_for_recording(recording, args.calibration)
        if warning:
            print(warning, file=sys.stderr)
        stream = None
        rate = recording.rate_hz
        pitch: list[np.ndarray] = []
        roll: list[np.ndarray] = []
        first_t = last_t = 0.0
        for block in recording.blocks():
            if not len(block):
                continue
            if stream is None:
                first_t = float(block["t"][0])
                if rate is None:  # no stated rate: the first block's spacing
                    t = block["t"]
                    rate = (len(t) - 1) / float(t[-1] - t[0]) if len(t) > 1 else 0.0
                stream = TiltStream(None, rate, calibration)
            last_t = float(block["t"][-1])
            angles = stream.process(block)
            pitch.append(np.degrees(angles["pitch"]))
            roll.append(np.degrees(angles["roll"]))
    count = sum(len(p) for p in pitch)
    if count < 2 or not rate:
        print(f"{args.file}: too few samples to measure.", file=sys.stderr)
        return 2
    start = int(args.skip * rate)
    if count - start < 2:
        print(
            f"--skip {args.skip:g}: the recording {args.file} lasts only "
            f"{last_t - first_t:.1f} s; skip less.",
            file=sys.stderr,
        )
        return 2
    pitch_deg = np.concatenate(pitch)[start:]
    pitch.clear()
    roll_deg = np.concatenate(roll)[start:]
    roll.clear()
    result = metrics.compute(pitch_deg, roll_deg, rate, calibration.edge_angles)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key in (
            "duration_s",
            "osi",
            "apsi",
            "mlsi",
            "path_length_deg",
            "mean_velocity_deg_s",
            "ellipse95_area_deg2",
            "edge_touches",
        ):
            value = result[key]
            print(f"{key:>22}  {value:.3f}" if isinstance(value, float) else f"{key:>22}  {value}")
        print(f"{'sd':>22}  " + "  ".join(f"{k} {v:.3f}" for k, v in result["sd"].items()))
        print(
            f"{'zone_pct':>22}  "
            + "  ".join(f"{k}: {v:.1f}%" for k, v in result["zone_pct"].items())
        )
    return 0


# -- calibrate ---------------------------------------------------------------------------------
def _start_runner(spec):
    """Start the sampler process and wait for the chip; None (after saying why) on failure."""
    from wobble_trainer.sampling.runner import SamplerRunner

    runner = SamplerRunner(spec, mode="process").start()
    if not runner.wait_until_alive(30.0):
        print(
            f"The sampler did not start: {runner.crash and runner.crash['error']}", file=sys.stderr
        )
        runner.close()
        return None
    deadline = time.monotonic() + 10.0
    while not runner.info.get("connected") and time.monotonic() < deadline:
        runner.poll_events()
        time.sleep(0.02)
    if not runner.info.get("connected"):
        print(
            f"The IMU did not answer: {runner.info.get('last_error', 'no reply')}", file=sys.stderr
        )
        runner.close()
        return None
    return runner


def cmd_calibrate(args: argparse.Namespace) -> int:
    from wobble_trainer.paths import state_dir
    from wobble_trainer.tilt.calibration import CalibrationProcedure
    from wobble_trainer.tilt.calibration_session import CalibrationSession, device_identity

    spec = source_spec_from_args(args)
    runner = _start_runner(spec)
    if runner is None:
        return 1
    try:
        device = device_identity(runner.info)
        session = CalibrationSession(runner, CalibrationProcedure(device), simulated=args.sim)
        print(
            f"Calibrating {runner.info.get('chip')} (bus {runner.info.get('bus')}, address "
            f"0x{runner.info.get('address', 0):02X}). Follow the instructions; holding still "
            "moves on. Ctrl-C stops."
        )
        started = time.monotonic()
        step = None
        tty = sys.stdout.isatty()
        last_print = 0.0
        while not session.done:
            if time.monotonic() - started > args.timeout:
                print(
                    f"\nStopped: not finished within {args.timeout:.0f} s. Nothing was saved.",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.05)
            session.update()
            proc = session.procedure
            if proc.step != step:
                step = proc.step
                if tty:
                    print()
                print(f"Step {proc.step_number}: {proc.instruction}")
                print(f"        {proc.detail}")
            now = time.monotonic()
            if tty or now - last_print > 1.0:
                last_print = now
                bar = "#" * int(proc.step_progress * 30)
                line = f"  [{bar:<30}] {proc.step_progress:4.0%}  {proc.hint}"
                print(
                    ("\r" + line.ljust(100)) if tty else line, end="" if tty else "\n", flush=True
                )
        path = session.save(state_dir(), overwrite_newer=args.force)
        cal = session.procedure.result
        assert cal is not None
        edges = cal.edge_angles.as_dict()
        print("\nCalibration saved to", path)
        print("Edge angles: " + ", ".join(f"{k} {v / DEG_:.1f}°" for k, v in edges.items()))
        bias = [b / DEG_ for b in cal.gyro_bias]
        print(f"Gyro bias: {bias[0]:+.2f} {bias[1]:+.2f} {bias[2]:+.2f} °/s")
        return 0
    finally:
        runner.close()


# -- bench -------------------------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace) -> int:
    return args.bench_run(args)


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wobble",
        description="Wobble Trainer: a wobble-board balance trainer and balance-testing station.",
    )
    parser.add_argument("--version", action="version", version=f"wobble-trainer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from wobble_trainer.app.main import add_run_arguments

    add_run_arguments(parser)  # `wobble` alone is `wobble run`
    run = sub.add_parser(
        "run",
        help="start the trainer (the default command)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(run)
    run.set_defaults(func=cmd_run)

    detect = sub.add_parser("detect", help="find the IMU on the I2C buses")
    detect.add_argument("--sim", action="store_true", help="report the simulated chip")
    detect.add_argument("--chip", default="MPU-6050", help="simulated chip with --sim")
    detect.add_argument("--json", action="store_true")
    detect.set_defaults(func=cmd_detect)

    record = sub.add_parser("record", help="record every raw sample to a CSV file")
    record.add_argument("--seconds", type=options.seconds, required=True)
    record.add_argument("--out", required=True, help="CSV file to write")
    _add_source_arguments(record)
    record.set_defaults(func=cmd_record)

    met = sub.add_parser("metrics", help="balance metrics of a recording")
    met.add_argument("file", help="a recording made with `wobble record`")
    met.add_argument("--json", action="store_true", help="print every metric as JSON")
    met.add_argument("--calibration", help="calibration file to use instead of the recording's")
    met.add_argument(
        "--skip",
        type=options.seconds,
        default=1.0,
        help="seconds at the start left out while the estimator settles (1)",
    )
    met.set_defaults(func=cmd_metrics)

    tilt = sub.add_parser(
        "tilt", help="print the live board angles (pitch > 0 toes down, roll > 0 right down)"
    )
    _add_source_arguments(tilt)
    tilt.add_argument("--seconds", type=options.seconds, default=10.0, help="how long (10 s)")
    tilt.add_argument(
        "--interval", type=options.seconds, default=0.2, help="print every (0.2 s)"
    )
    tilt.set_defaults(func=cmd_tilt)

    calibrate = sub.add_parser(
        "calibrate", help="find how the IMU sits on the board, its gyro bias and the edge angles"
    )
    _add_source_arguments(calibrate)
    calibrate.add_argument("--timeout", type=float, default=300.0, help="give up after (300 s)")
    calibrate.add_argument(
        "--force", action="store_true", help="overwrite a calibration from a newer version"
    )
    calibrate.set_defaults(func=cmd_calibrate)

    from wobble_trainer import selftest

    check = sub.add_parser(
        "selftest",
        help="check the IMU, LEDs, buzzer, button and display one by one (--sim: no hardware)",
    )
    selftest.add_arguments(check)
    check.set_defaults(func=selftest.run)

    from wobble_trainer import recompute
    from wobble_trainer.reports import export

    exporting = sub.add_parser("export", help="export sessions: CSV/JSON data and PDF reports")
    export.add_arguments(exporting)
    exporting.set_defaults(func=export.run)
    from wobble_trainer.reports import fhir_push

    fhir = sub.add_parser("fhir", help="send sessions to a FHIR server (HL7 FHIR R4 Bundles)")
    fhir_push.add_arguments(fhir)
    fhir.set_defaults(func=fhir_push.run)
    from wobble_trainer.app import pin_command

    pin = sub.add_parser("pin", help="the clinic's clinician PIN (set it before handing over)")
    pin_command.add_arguments(pin)
    again = sub.add_parser(
        "recompute", help="recompute stored sessions' metrics from their raw traces"
    )
    recompute.add_arguments(again)
    again.set_defaults(func=recompute.run)

    from wobble_trainer.hub import cli as hub_cli
    from wobble_trainer.sync import cli as sync_cli

    hub_cli.add_commands(sub)
    sync_cli.add_commands(sub)

    bench = sub.add_parser("bench", help="benchmarks (speed and accuracy targets)")
    bench_sub = bench.add_subparsers(dest="bench", metavar="BENCH", required=True)
    from wobble_trainer.bench import hub as bench_hub
    from wobble_trainer.bench import memory as bench_memory
    from wobble_trainer.bench import reliability as bench_reliability
    from wobble_trainer.bench import render as bench_render
    from wobble_trainer.bench import sampler as bench_sampler
    from wobble_trainer.bench import tilt as bench_tilt

    for name, module, text in (
        ("sampler", bench_sampler, "sampler beside a busy 60 fps render loop"),
        ("tilt", bench_tilt, "tilt accuracy on real recordings and speed per sample"),
        ("render", bench_render, "frame time per scene and sample-to-screen latency"),
        ("reliability", bench_reliability, "simulated test-retest MDC95 of compared measures"),
        ("memory", bench_memory, "peak memory of `wobble metrics` on the longest recordings"),
        ("hub", bench_hub, "hub upload rate of a clinic day, bytes per sample, page times"),
    ):
        p = bench_sub.add_parser(name, help=text)
        module.add_arguments(p)
        p.set_defaults(func=cmd_bench, bench_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_run
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message, not a traceback, for the known error types
        from wobble_trainer.hardware.imu import ImuError
        from wobble_trainer.sampling.recording import RecordingError

        if isinstance(exc, ImuError | RecordingError):
            print(str(exc), file=sys.stderr)
            return 2
        if isinstance(exc, OSError):  # a full or read-only disk, a missing directory, ...
            print(f"wobble {args.command or 'run'}: {exc}", file=sys.stderr)
            return 1
        raise
