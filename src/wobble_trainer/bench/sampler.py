"""``wobble bench sampler``: does the sampler keep up beside a busy display?

For each configuration (MPU-6050 at 1 kHz and 200 Hz, LSM6DSO at 208 Hz) the sampler runs in its
own process on the simulated bus — the real driver and sampler code — while this process runs a
pygame render loop at 60 fps with about 5 ms of Python work per frame and reads every sample
from the ring, as the app does. Reported per configuration: delivered rate, lost samples, FIFO
overflows, gaps seen by the consumer, p50/p99/max read-loop lateness, and the sampler process's
CPU seconds per second of sampling, in total and without the board simulation's own cost (which a
real chip does not have). Target: zero lost samples and overflows over 60 s, and sampling CPU
≤ 5% of one core at 1 kHz.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from wobble_trainer.bench import report
from wobble_trainer.hardware.imu import ImuSettings
from wobble_trainer.sampling.runner import SamplerRunner, SimSpec, SourceSpec

CONFIGURATIONS = (("MPU-6050", 1000.0), ("MPU-6050", 200.0), ("LSM6DSO", 208.0))
FRAME_WORK_S = 0.005
FPS = 60


@dataclass
class SamplerBenchResult:
    chip: str
    odr_hz: float
    seconds: float
    delivered: int
    delivered_rate_hz: float
    lost_samples: int
    fifo_overflows: int
    consumer_gaps: int
    consumer_overruns: int
    i2c_errors: int
    lateness_p50_ms: float
    lateness_p99_ms: float
    lateness_max_ms: float
    cpu_per_s: float
    cpu_per_s_without_sim: float
    frames: int
    frame_p99_ms: float


def _busy_python(seconds: float) -> None:
    """Pure-Python work holding the GIL, like game logic and drawing code."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for i in range(200):
            x += i * i
    return None


def run_one(chip: str, odr_hz: float, seconds: float) -> SamplerBenchResult:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    spec = SourceSpec(kind="sim", settings=ImuSettings(odr_hz=odr_hz), sim=SimSpec(chip=chip))
    pygame.init()
    screen = pygame.display.set_mode((800, 480))
    font = pygame.font.Font(None, 48)
    clock = pygame.time.Clock()
    frame_times: list[float] = []
    with SamplerRunner(spec, mode="process") as runner:
        if not runner.wait_until_alive(30.0):
            raise RuntimeError(f"the sampler did not start: {runner.crash}")
        reader = runner.ring.reader(from_now=False)
        delivered = 0
        consumer_gaps = 0
        last_t = None
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            frame_start = time.perf_counter()
            new = reader.read_new()
            delivered += len(new)
            if len(new):
                consumer_gaps += int(np.count_nonzero(new["gap_before"] > 0))
                if last_t is not None and new["t"][0] <= last_t:
                    raise RuntimeError("samples out of order")
                last_t = float(new["t"][-1])
            latest = runner.ring.latest()
            _busy_python(FRAME_WORK_S)
            screen.fill((20, 20, 30))
            if latest is not None:
                text = font.render(f"{float(latest['acc'][2]):.2f}", True, (255, 255, 255))
                screen.blit(text, (20, 20))
            pygame.display.flip()
            pygame.event.pump()
            frame_times.append(time.perf_counter() - frame_start)
            clock.tick(FPS)
        runner.stop()
        delivered += len(reader.read_new())
        stats = runner.stats()
    pygame.quit()
    elapsed = stats["elapsed_s"] or seconds
    return SamplerBenchResult(
        chip=chip,
        odr_hz=stats["odr_hz"],
        seconds=round(elapsed, 2),
        delivered=delivered,
        delivered_rate_hz=round(delivered / elapsed, 2),
        lost_samples=int(stats["lost_samples"]),
        fifo_overflows=int(stats["fifo_overflows"]),
        consumer_gaps=consumer_gaps,
        consumer_overruns=reader.overruns,
        i2c_errors=int(stats["i2c_errors"]),
        lateness_p50_ms=round(stats["lateness_p50_s"] * 1e3, 3),
        lateness_p99_ms=round(stats["lateness_p99_s"] * 1e3, 3),
        lateness_max_ms=round(stats["lateness_max_s"] * 1e3, 3),
        cpu_per_s=round(stats["cpu_s"] / elapsed, 4),
        cpu_per_s_without_sim=round((stats["cpu_s"] - stats["sim_cpu_s"]) / elapsed, 4),
        frames=len(frame_times),
        frame_p99_ms=round(float(np.percentile(frame_times, 99)) * 1e3, 2),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=60.0, help="per configuration (60)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only", metavar="CHIP@HZ", help="one configuration, e.g. MPU-6050@1000")


def run(args: argparse.Namespace) -> int:
    configurations: tuple[tuple[str, float], ...] = CONFIGURATIONS
    if args.only:
        chip, _, rate = args.only.partition("@")
        configurations = ((chip, float(rate or 1000)),)
    results = [run_one(chip, rate, args.seconds) for chip, rate in configurations]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(format_table(results))
    ok = all(r.lost_samples == 0 and r.fifo_overflows == 0 for r in results)
    return 0 if ok else 1


def format_table(results: list[SamplerBenchResult]) -> str:
    header = (
        "chip",
        "ODR Hz",
        "s",
        "rate Hz",
        "lost",
        "ovf",
        "gaps",
        "late p50/p99/max ms",
        "CPU/s",
        "CPU/s no sim",
        "frame p99 ms",
    )
    rows = [
        (
            r.chip,
            f"{r.odr_hz:g}",
            f"{r.seconds:g}",
            f"{r.delivered_rate_hz:.1f}",
            r.lost_samples,
            r.fifo_overflows,
            r.consumer_gaps,
            f"{r.lateness_p50_ms:.2f}/{r.lateness_p99_ms:.2f}/{r.lateness_max_ms:.2f}",
            f"{r.cpu_per_s:.1%}",
            f"{r.cpu_per_s_without_sim:.1%}",
            f"{r.frame_p99_ms:.1f}",
        )
        for r in results
    ]
    return report.format_table(header, rows)
