"""``wobble bench memory``: peak memory of ``wobble metrics`` on long and oversized recordings.

The target (issue 14): whatever the file, reading and measuring a recording stays under
300 MB, so a Pi with 1 GB never swaps or gets OOM-killed. Each case runs ``wobble metrics`` in a
fresh process and reads its peak resident size (``ru_maxrss`` of the child), so the figure is
the whole command's: interpreter, numpy, the reader and the metrics.

Cases: a recording of ``--samples`` samples (default: the most one recording may hold), one of
twice that many (refused while reading, with the limit), and a sparse 2 GB file (refused before
reading).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from wobble_trainer.sampling.recording import (
    MAX_RECORDING_SAMPLES,
    RecordingWriter,
)
from wobble_trainer.sampling.samples import make_samples

TARGET_MB = 300.0


def write_long_recording(path: Path, n: int, rate_hz: float = 1000.0) -> None:
    """A recording of ``n`` samples of a board rocking gently (written in blocks)."""
    block = 100_000
    rng = np.random.default_rng(1)
    with RecordingWriter(path, {"source": "bench", "config": {"odr_hz": rate_hz}}) as writer:
        for start in range(0, n, block):
            k = min(block, n - start)
            t = (start + np.arange(k)) / rate_hz
            pitch = 0.05 * np.sin(2 * np.pi * 0.3 * t)
            acc = np.column_stack(
                [9.81 * np.sin(pitch), np.zeros(k), 9.81 * np.cos(pitch)]
            ) + rng.normal(0, 0.05, (k, 3))
            gyr = rng.normal(0, 0.01, (k, 3))
            writer.write(make_samples(t, acc, gyr))


def peak_of_metrics(path: Path) -> tuple[float, int, str, float]:
    """(peak MB, exit code, last line of stderr, seconds) of ``wobble metrics path``."""
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "wobble_trainer", "metrics", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:
        peak_kb = before  # ru_maxrss is the largest child so far: run the biggest case last
    lines = (done.stderr or "").strip().splitlines()
    return peak_kb / 1024, done.returncode, lines[-1][:110] if lines else "", (
        time.monotonic() - started
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples",
        type=int,
        default=MAX_RECORDING_SAMPLES,
        help=f"samples in the long recording ({MAX_RECORDING_SAMPLES}, the limit)",
    )
    parser.add_argument("--dir", help="where to write the test files (a temporary directory)")


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        sparse = folder / "sparse.csv"
        with sparse.open("wb") as f:
            f.truncate(2_000_000_000)
        long = folder / "long.csv"
        print(f"writing {args.samples} samples ...", flush=True)
        write_long_recording(long, args.samples)
        cases = [("sparse 2 GB file", sparse), (f"{args.samples} samples", long)]
        print(f"{'case':<28} {'file MB':>8} {'peak MB':>8} {'exit':>5} {'s':>6}  message")
        worst = 0.0
        for name, path in cases:
            peak, code, message, took = peak_of_metrics(path)
            worst = max(worst, peak)
            size = path.stat().st_size / 1e6
            print(f"{name:<28} {size:8.0f} {peak:8.0f} {code:5d} {took:6.1f}  {message}")
        verdict = "within" if worst < TARGET_MB else "OVER"
        print(f"peak {worst:.0f} MB: {verdict} the {TARGET_MB:.0f} MB target")
        return 0 if worst < TARGET_MB else 1
