"""``wobble run``: put the pieces together and start the trainer app."""

from __future__ import annotations

import argparse
import os
import random
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wobble_trainer import options
from wobble_trainer.app.scene import ACTIVITIES


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    import wobble_trainer.app.activities  # noqa: F401  (registers the activities)

    names = ", ".join(sorted(ACTIVITIES))
    parser.epilog = (parser.epilog or "") + f"activities: {names}"
    parser.add_argument(
        "--sim",
        action="store_true",
        help="the simulated board: the simulated person follows the autopilot, "
        "W/A/S/D or the right mouse button (P toggles the autopilot)",
    )
    parser.add_argument("--chip", default="MPU-6050", help="simulated chip with --sim")
    parser.add_argument(
        "--skill", type=options.fraction, default=0.7, help="simulated person's skill 0..1"
    )
    parser.add_argument("--seed", type=int, default=1, help="simulator random seed")
    parser.add_argument("--replay", metavar="FILE", help="play a recording instead of the IMU")
    parser.add_argument("--bus", type=int, default=None, help="I2C bus number (default: probe)")
    parser.add_argument(
        "--rate", type=options.rate_hz, default=None, help="IMU data rate, Hz (config, else 1000)"
    )
    parser.add_argument("--fullscreen", action="store_true", help="use the whole screen")
    parser.add_argument(
        "--kiosk",
        action="store_true",
        help="appliance mode: full screen, no way out without the clinician PIN, attract "
        "screen, patients logged out when idle (also `[kiosk] enabled = true` in the config)",
    )
    parser.add_argument("--size", default=None, help="window size WxH (config, else 800x480)")
    parser.add_argument(
        "--headless", action="store_true", help="draw off-screen, no sound (tests and demos)"
    )
    parser.add_argument(
        "--activity",
        metavar="NAME",
        choices=sorted(ACTIVITIES),
        help=f"start this activity at once: {names}",
    )
    from wobble_trainer.app.protocols import PROTOCOLS

    tests = ", ".join(PROTOCOLS)
    parser.epilog += f"; clinical tests: {tests}"
    parser.add_argument(
        "--protocol",
        metavar="NAME",
        choices=list(PROTOCOLS),
        help=f"start this clinical test at once: {tests}",
    )
    parser.add_argument(
        "--seconds", type=options.seconds, default=None, help="quit after this long"
    )
    parser.add_argument("--screenshot", metavar="FILE.png", help="save the last frame")


SIM_BANNER = (
    "Simulated board: no IMU found",
    "To use a real one: wire it to the I2C pins (3V3, GND, SDA pin 3, SCL pin 5), check it "
    "with `wobble detect`, then restart the trainer.",
)
"""The strip below every screen when an interactive start fell back to the simulated board."""


def under_service(environ: Mapping[str, str] = os.environ) -> bool:
    """Started by systemd (the appliance's service): $NOTIFY_SOCKET or $INVOCATION_ID set."""
    return bool(environ.get("NOTIFY_SOCKET") or environ.get("INVOCATION_ID"))


@dataclass(frozen=True)
class SourceChoice:
    """Where the trainer's samples come from, as decided at start-up."""

    spec: Any = None
    """The source to start; None: no IMU, and the appliance must wait for one."""
    banner: tuple[str, str] | None = None
    """Shown below every screen (the simulated board's fallback)."""
    not_found: str = ""
    """Why no IMU was found (the wiring checks), when none was."""


def choose_source(
    args: argparse.Namespace,
    appliance: bool,
    detect: Callable[[], Any],
    sim_spec: Callable[[], Any],
) -> SourceChoice:
    """The IMU if one answers. If none does, an interactive start runs on the simulated board
    (with a banner); the appliance (kiosk mode, or under the service) never does: it gets no
    spec and the wiring checks, and waits for the sensor."""
    from wobble_trainer.hardware.detect import ImuNotFoundError

    try:
        return SourceChoice(detect())
    except ImuNotFoundError as exc:
        if appliance:
            return SourceChoice(None, None, str(exc))
        return SourceChoice(sim_spec(), SIM_BANNER, str(exc))


def wait_for_sensor(
    detect: Callable[[], Any], message: str, size: tuple[int, int], args: argparse.Namespace
) -> Any:
    """Show "Sensor not found" with the wiring checks, retrying ``detect`` until the IMU
    answers; returns its source spec, or None when the loop ended first (time up, quit)."""
    from wobble_trainer.app.scene import AppContext
    from wobble_trainer.app.scenes.sensor import SensorSearchScene
    from wobble_trainer.app.shell import NoSensor, TrainerApp
    from wobble_trainer.appliance.notify import Notifier

    print(message, file=sys.stderr)
    print("Waiting for the IMU (looking again every few seconds)...", file=sys.stderr)
    context = AppContext()
    scene = SensorSearchScene(context, detect, message, notifier=Notifier.from_environment())
    context.push(scene)
    app = TrainerApp(NoSensor(), context, size=size, fullscreen=not args.headless)
    app.run(seconds=args.seconds, screenshot=args.screenshot)
    return scene.found


def open_db(directory):
    """The clinical database, or None (and why): the trainer still runs without it."""
    from wobble_trainer.storage import StorageError, open_database

    try:
        return open_database(directory)
    except StorageError as exc:
        print(f"Sessions will not be saved: {exc}", file=sys.stderr)
        return None


def open_gpio(config, feed):
    """The LEDs, buzzer and button, or None (and why) where there are none."""
    if not config.gpio_enabled:
        return None
    from wobble_trainer.feedback.gpio import open_gpio_feedback

    try:
        with warnings.catch_warnings():  # gpiozero lists every pin library it could not load
            warnings.simplefilter("ignore")
            return open_gpio_feedback(feed.latest_pitch_roll, config.gpio_pins)
    except Exception as exc:  # no GPIO on this machine, or a pin in use: run without it
        print(f"No GPIO feedback ({type(exc).__name__}: {exc}).", file=sys.stderr)
        return None


def run_app(args: argparse.Namespace) -> int:
    from wobble_trainer.app.shell import use_headless_drivers

    if args.headless:
        use_headless_drivers()
    from wobble_trainer.app.kiosk import (
        Kiosk,
        PinStore,
        ServiceLink,
        describe_sensor,
        kiosk_settings,
        sampler_health,
        sensor_up,
    )
    from wobble_trainer.app.records import Records
    from wobble_trainer.app.scene import AppContext
    from wobble_trainer.app.scenes.menus import StartScene, activity_flow
    from wobble_trainer.app.shell import LiveAngles, TrainerApp
    from wobble_trainer.app.sound import SoundFeedback
    from wobble_trainer.appliance.notify import Notifier
    from wobble_trainer.cli import _load_calibration, _start_runner, calibration_for_recording
    from wobble_trainer.config import load_config, parse_size
    from wobble_trainer.feedback.base import FeedbackGroup
    from wobble_trainer.hardware.imu import ImuSettings
    from wobble_trainer.paths import state_dir
    from wobble_trainer.sampling.runner import SimSpec, SourceSpec
    from wobble_trainer.tilt.calibration import calibration_path, save
    from wobble_trainer.tilt.calibration_session import device_identity

    loaded_config = load_config()
    config = loaded_config.config
    if loaded_config.message:
        print(loaded_config.message, file=sys.stderr)
    kiosk_config = kiosk_settings(config)
    kiosk_mode = bool(getattr(args, "kiosk", False)) or kiosk_config.enabled
    if args.rate is None:
        args.rate = config.imu_rate_hz
    if args.bus is None:
        args.bus = config.imu_bus
    try:
        size = parse_size(args.size) if args.size else config.display_size
    except ValueError as exc:
        print(f"--size: {exc}", file=sys.stderr)
        return 2
    settings = ImuSettings(odr_hz=args.rate)

    def simulated():
        return SourceSpec(
            kind="sim",
            settings=settings,
            sim=SimSpec(chip=args.chip, seed=args.seed, skill=args.skill),
        )

    banner = None
    if args.replay:
        from wobble_trainer.sampling.recording import read_recording

        spec = SourceSpec(
            kind="replay", settings=settings, replay_path=args.replay, replay_loop=True
        )
        calibration, warning = calibration_for_recording(read_recording(args.replay), None)
        if warning:
            print(warning, file=sys.stderr)
    elif args.sim:
        spec = simulated()
        calibration = None
    else:
        from wobble_trainer.cli import source_spec_from_args

        def detect():
            return source_spec_from_args(args)

        appliance = kiosk_mode or under_service()
        choice = choose_source(args, appliance, detect, simulated)
        spec, banner = choice.spec, choice.banner
        if banner is not None:
            print(
                "No IMU found: running on the simulated board (`wobble detect` shows what to "
                "check).",
                file=sys.stderr,
            )
        elif spec is None:
            spec = wait_for_sensor(detect, choice.not_found, size, args)
            if spec is None:
                return 1  # stopped before the sensor appeared (the service starts it again)
        calibration = None
    runner = _start_runner(spec)
    if runner is None:
        return 1
    try:
        device = device_identity(runner.info) if spec.kind != "replay" else None
        if calibration is None:
            loaded = _load_calibration(runner.info)
            if not loaded.ok:
                print(loaded.message, file=sys.stderr)
            calibration = loaded.calibration
        feed = LiveAngles(runner, calibration, bias_dir=state_dir())
        sound = SoundFeedback()
        gpio = open_gpio(config, feed)
        directory = state_dir()
        db = open_db(directory)
        context = AppContext(
            calibration=calibration,
            feedback=FeedbackGroup(sound, gpio) if gpio else FeedbackGroup(sound),
            rng=random.Random(),
            records=Records(directory / "records.json"),
            sample_reader=feed.sample_reader,
            tilt_state=feed.tilt_state,
            tilt_rate_hz=feed.rate_hz,
            sound=sound,
            device=device,
            db=db,
        )

        def store(new_calibration) -> None:
            context.calibration = new_calibration
            feed.set_calibration(new_calibration)
            try:
                save(new_calibration, calibration_path(directory, device))
            except OSError as exc:  # full or read-only disk: use it now, say it is not kept
                context.warn(f"{exc} The new calibration is used until the trainer restarts.")

        context.save_calibration = store
        context.push(StartScene(context))
        start_at_once = args.activity or args.protocol
        if not kiosk_mode and not start_at_once:
            if db is not None:
                from wobble_trainer.app.scenes.profiles import ProfileSelectScene

                context.push(ProfileSelectScene(context))
            if calibration.uncalibrated:
                # First of all: until the board is calibrated, "level" is wherever the IMU
                # happens to point, and the lean menus could not work.
                from wobble_trainer.app.scenes.calibrate import CalibrationScene

                context.push(CalibrationScene(context))
        kiosk = None
        if kiosk_mode:

            def sampler_info():
                runner.poll_events()  # keeps the chip info and last error current
                return runner.info

            kiosk = Kiosk(
                context,
                store=PinStore.in_state_dir(directory),
                settings=kiosk_config,
                sampler_stats=runner.stats,
                sampler_info=sampler_info,
                home_factory=StartScene,
            )
            kiosk.start()
        service = ServiceLink(
            Notifier.from_environment(),
            health=sampler_health(runner, sample_age=feed.sample_age),
            sensor=sensor_up(runner, feed),
            describe=lambda: describe_sensor(runner.info),
        )
        if args.activity:
            activity_flow(context, ACTIVITIES[args.activity])()
        elif args.protocol:
            from wobble_trainer.app.protocols import PROTOCOLS

            activity_flow(context, PROTOCOLS[args.protocol].activity())()
        button = gpio.button.events if gpio is not None and gpio.button is not None else None
        app = TrainerApp(
            feed,
            context,
            size=size,
            fullscreen=args.fullscreen or config.fullscreen or (kiosk_mode and not args.headless),
            button_events=button,
            kiosk=kiosk,
            service=service,
            banner=banner,
        )
        from wobble_trainer.sync.background import BackgroundSync

        # Rounds with the clinic hub run in a child process (nothing while not linked).
        hub_sync = BackgroundSync(directory).start() if db is not None else None
        try:
            return app.run(seconds=args.seconds, screenshot=args.screenshot)
        finally:
            feed.keep_trusted_bias(force=True)
            if hub_sync is not None:
                hub_sync.stop()
            if db is not None:
                db.close()
    finally:
        runner.close()
