"""``wobble bench render``: frame time per scene, and latency from sample to screen.

1. Every scene (menus, calibration, results, each activity while running) is stepped at the
   fixed logic rate with scripted sway and drawn under SDL's dummy video driver at 800×480 and
   1280×720; p50/p99 of the time per frame (the logic steps of one 60 Hz frame + drawing +
   flip). Target p99 ≤ 4 ms here (a Pi is several times slower; the display runs at 60 Hz).
2. End to end: the simulated board, the sampler process and the app all running; for every
   frame, the time from the newest sample's timestamp (the sampler's chip-clock stamp, on the
   same monotonic clock) to the end of the flip that showed it. Target p95 ≤ 25 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass

import numpy as np

from wobble_trainer.bench import report

SIZES = ((800, 480), (1280, 720))
FRAMES = 300
FRAME_TARGET_P99_MS = 4.0
LATENCY_TARGET_P95_MS = 25.0


@dataclass
class SceneTiming:
    scene: str
    size: str
    p50_ms: float
    p99_ms: float


def _scenes(app):
    """(name, factory) for every screen worth timing."""
    from wobble_trainer.app.activities.hold import HoldChallenge
    from wobble_trainer.app.protocols import PROTOCOLS
    from wobble_trainer.app.scene import ACTIVITIES
    from wobble_trainer.app.scenes.calibrate import CalibrationScene
    from wobble_trainer.app.scenes.menus import (
        ActivityMenuScene,
        ResultsScene,
        SafetyScene,
        StartScene,
    )

    yield "start", lambda: StartScene(app)
    yield "safety", lambda: SafetyScene(app)
    yield "activity menu", lambda: ActivityMenuScene(app)
    yield "calibration", lambda: CalibrationScene(app)
    yield "results", lambda: ResultsScene(app, "Results", ["Score: 12", "Edge touches: 1"])
    from wobble_trainer.app.scenes.patient_code import PatientCodeScene
    from wobble_trainer.app.scenes.routine import GuidedStepScene
    from wobble_trainer.home_routine import routine_for

    yield "who is training (code)", lambda: PatientCodeScene(app)
    for key in ("calf-raises", "step-ups"):  # the home routine's animations
        step = next(s for s in routine_for(3, 1) if s.key == key)
        yield f"routine: {key}", lambda st=step: GuidedStepScene(app, st)
    for name, activity in sorted(ACTIVITIES.items()):
        yield name, lambda a=activity: a.factory(app)
    yield "hold (running)", lambda: HoldChallenge(app)
    for name, protocol in PROTOCOLS.items():
        yield f"test: {name}", lambda p=protocol: p.factory(app, p.settings_type())


def time_scenes(frames: int = FRAMES) -> list[SceneTiming]:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    import wobble_trainer.app.activities  # noqa: F401  (registers the activities)
    from wobble_trainer.app.layout import Layout
    from wobble_trainer.app.scene import LOGIC_DT, AppContext, Tick
    from wobble_trainer.feedback.base import NullFeedback
    from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll

    pygame.init()
    out = []
    for size in SIZES:
        screen = pygame.display.set_mode(size)
        layout = Layout(*size)
        app = AppContext(feedback=NullFeedback(), rng=random.Random(1))
        for name, factory in _scenes(app):
            app.stack.clear()
            scene = factory()
            app.push(scene)
            t = 0.0
            # Past the countdown, so activities are timed while running.
            for _ in range(int(4.0 / LOGIC_DT)):
                t += LOGIC_DT
                if app.scene is scene:
                    scene.update(LOGIC_DT, Tick(t, angles_from_up(up_from_pitch_roll(0, 0))))
            times = []
            steps = round(1 / 60 / LOGIC_DT) or 1
            for _ in range(frames):
                start = time.perf_counter()
                for _ in range(steps):
                    t += LOGIC_DT
                    sway = 0.03 * math.sin(2 * math.pi * 0.4 * t)
                    angles = angles_from_up(up_from_pitch_roll(sway, 0.7 * sway))
                    if app.scene is scene:
                        scene.update(LOGIC_DT, Tick(t, angles))
                layout.begin_frame()
                scene.render(screen, layout)
                pygame.display.flip()
                times.append(time.perf_counter() - start)
            out.append(
                SceneTiming(
                    name,
                    f"{size[0]}x{size[1]}",
                    round(float(np.percentile(times, 50)) * 1e3, 3),
                    round(float(np.percentile(times, 99)) * 1e3, 3),
                )
            )
    pygame.quit()
    return out


@dataclass
class LatencyResult:
    frames: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def time_latency(seconds: float) -> LatencyResult:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from wobble_trainer.app.activities.hold import HoldChallenge
    from wobble_trainer.app.scene import AppContext
    from wobble_trainer.app.shell import LiveAngles, TrainerApp
    from wobble_trainer.feedback.base import NullFeedback
    from wobble_trainer.hardware.imu import ImuSettings
    from wobble_trainer.sampling.runner import SamplerRunner, SimSpec, SourceSpec
    from wobble_trainer.tilt.calibration import Calibration

    spec = SourceSpec(kind="sim", settings=ImuSettings(odr_hz=1000.0), sim=SimSpec())
    latencies: list[float] = []
    with SamplerRunner(spec) as runner:
        if not runner.wait_until_alive(30.0):
            raise RuntimeError(f"the sampler did not start: {runner.crash}")
        deadline = time.monotonic() + 10
        while not runner.info.get("connected") and time.monotonic() < deadline:
            runner.poll_events()
            time.sleep(0.02)
        feed = LiveAngles(runner, Calibration.default())
        context = AppContext(feedback=NullFeedback())
        context.push(HoldChallenge(context))

        def after_flip(app: TrainerApp) -> None:
            if feed.last_sample_t is not None and app.frames > 30:
                latencies.append(time.monotonic() - feed.last_sample_t)

        TrainerApp(feed, context, on_frame=after_flip).run(seconds=seconds)
    values = np.array(latencies) * 1e3
    return LatencyResult(
        len(values),
        round(float(np.percentile(values, 50)), 2),
        round(float(np.percentile(values, 95)), 2),
        round(float(values.max()), 2),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=FRAMES, help=f"frames per scene ({FRAMES})")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run length (20 s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def run(args: argparse.Namespace) -> int:
    scenes = time_scenes(args.frames)
    latency = time_latency(args.seconds)
    worst = max(s.p99_ms for s in scenes)
    ok = worst <= FRAME_TARGET_P99_MS and latency.p95_ms <= LATENCY_TARGET_P95_MS
    if args.json:
        print(
            json.dumps(
                {
                    "scenes": [asdict(s) for s in scenes],
                    "latency": asdict(latency),
                    "targets_met": ok,
                },
                indent=2,
            )
        )
    else:
        print(
            report.format_table(
                ("scene", "size", "p50 ms", "p99 ms"),
                [(s.scene, s.size, f"{s.p50_ms:.2f}", f"{s.p99_ms:.2f}") for s in scenes],
            )
        )
        print(f"\nworst frame p99 {worst:.2f} ms (target ≤ {FRAME_TARGET_P99_MS:g} ms)")
        print(
            f"sample → screen latency over {latency.frames} frames: p50 {latency.p50_ms} ms, "
            f"p95 {latency.p95_ms} ms, max {latency.max_ms} ms "
            f"(target p95 ≤ {LATENCY_TARGET_P95_MS:g} ms)"
        )
    return 0 if ok else 1
