"""``wobble bench reliability``: the device's own test-retest figures, from the simulator.

Where no published minimal detectable change fits a measure the history and the reports compare
over time, :mod:`wobble_trainer.reliability` uses the figures this procedure measures. They say
how much a measure moves between two sessions of the SAME simulated person (same skill, new
random sway): the variation of the person model and of the activity, not of a real person's
day-to-day form, so they are a lower bound and are labelled "simulated" wherever shown.

Procedure (deterministic for a given ``--seed``):

1. People: skills 0.2, 0.3 … 0.9 (``--people`` of them, evenly spaced), eyes open, on the
   default simulated board (:class:`wobble_trainer.sim.board.BoardSimulator`, true board angles:
   the sensor and the estimator add little next to the sway).
2. For every activity of the app (:data:`wobble_trainer.app.scene.ACTIVITIES`), each person plays
   two sessions (seeds differing) on two feet and two on one leg (:data:`ACTIVITY_STANCES`: the
   range of people the device serves, from a steady two-footed stance to a rehab single-leg one;
   on two feet alone every simulated person holds the hold challenge's full 30 s, a ceiling that
   says nothing about variation) through the real scenes with default settings, leaning where
   the scene's autopilot aims, exactly as the simulated person of ``wobble-trainer --sim`` does;
   the score is what the activity stores (``app.results``). A measure on which every session
   scores the same (a ceiling) gets no figure: it is listed, not written.
3. OSI: each person stands level for 3 trials of 20 s per session (the postural-stability test
   and the hold), the session value being the mean of the trial OSIs (as stored), once on two
   feet and once on one leg, eyes open and closed.
4. Per measure: ``d_i`` = session 2 − session 1 of person i, as a percentage of the person's
   mean; MDC95 = 1.96 · SD(d) (= 1.96·√2·SEM with SEM = SD(d)/√2, DOMAIN.md §9). Percentages
   because the measures scale with how well the person balances. The ICC(3,1) of the two
   sessions is printed beside it.

``--write`` rewrites the constants in :mod:`wobble_trainer.reliability` (``SIMULATED_MDC_PCT``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wobble_trainer import metrics
from wobble_trainer.bench import report
from wobble_trainer.sim.board import BoardSimulator, PersonParams
from wobble_trainer.units import DEG

PEOPLE = 8
SEED = 2026
MAX_SESSION_S = 600.0
"""A session that has not ended by then is left out (an activity the autopilot cannot finish)."""
ACTIVITY_STANCES = ("double", "left")
OSI_TRIAL_S = 20.0
OSI_TRIALS = 3
OSI_CONDITIONS: tuple[tuple[str, bool], ...] = (
    ("double", False),
    ("double", True),
    ("left", False),
    ("left", True),
)
COMMAND = "wobble bench reliability --write"
"""The command that regenerates the constants (quoted in :mod:`wobble_trainer.reliability`)."""


@dataclass(frozen=True)
class TestRetest:
    """One measure's test-retest result over the simulated people."""

    measure: str
    people: int
    mean: float
    mdc95_pct: float
    icc: float | None


def skills(people: int) -> list[float]:
    """``people`` skills evenly from 0.2 to 0.9."""
    if people < 2:
        raise ValueError("test-retest needs at least 2 people")
    return [round(0.2 + 0.7 * k / (people - 1), 3) for k in range(people)]


def test_retest(measure: str, pairs: Sequence[tuple[float, float]]) -> TestRetest:
    """MDC95 (% of the person's mean) and ICC(3,1) of (session 1, session 2) pairs."""
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    if len(a) < 2:
        raise ValueError(f"{measure}: fewer than 2 people finished both sessions")
    mean = (a + b) / 2.0
    keep = mean != 0
    rel = 100.0 * (b - a)[keep] / np.abs(mean[keep])
    mdc = 1.96 * float(np.std(rel, ddof=1))
    # ICC(3,1), two-way mixed, consistency: (MS_subjects − MS_error) / (MS_subjects + MS_error)
    data = np.stack((a, b), axis=1)
    n, k = data.shape
    grand = data.mean()
    ms_subjects = k * float(np.sum((data.mean(axis=1) - grand) ** 2)) / (n - 1)
    resid = data - data.mean(axis=1, keepdims=True) - data.mean(axis=0, keepdims=True) + grand
    ms_error = float(np.sum(resid**2)) / ((n - 1) * (k - 1))
    icc = (ms_subjects - ms_error) / (ms_subjects + ms_error) if ms_subjects + ms_error else None
    return TestRetest(measure, n, float(np.mean(mean)), round(mdc, 1), icc)


def _sim(skill: float, seed: int, stance: str = "double", eyes_closed: bool = False):
    person = PersonParams(skill=skill, stance=stance, eyes_closed=eyes_closed, can_step_off=False)
    return BoardSimulator(person, seed=seed)


def session_osi(skill: float, seed: int, stance: str, eyes_closed: bool) -> float:
    """Mean OSI (°) of :data:`OSI_TRIALS` trials standing level (true board angles, 100 Hz)."""
    sim = _sim(skill, seed, stance, eyes_closed)
    values = []
    t0 = 2.0  # settle first
    for _ in range(OSI_TRIALS):
        t = t0 + np.arange(1, int(OSI_TRIAL_S * 100) + 1) / 100.0
        pitch, roll = [], []
        for i in range(0, len(t), 100):
            truth = sim.truth_at(t[i : i + 100])
            pitch.append(truth.pitch_rad)
            roll.append(truth.roll_rad)
        p, r = np.degrees(np.concatenate(pitch)), np.degrees(np.concatenate(roll))
        values.append(metrics.stability_indices(p, r)["osi"])
        t0 = float(t[-1]) + 10.0  # a rest between trials
    return float(np.mean(values))


def session_score(kind: str, skill: float, seed: int, stance: str = "double") -> float | None:
    """The score one simulated session of activity ``kind`` stores, or None if it never ended."""
    import wobble_trainer.app.activities  # noqa: F401  (registers the activities)
    from wobble_trainer.app.scene import ACTIVITIES, LOGIC_DT, AppContext, Tick
    from wobble_trainer.feedback.base import NullFeedback
    from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll

    app = AppContext(feedback=NullFeedback(), rng=random.Random(seed))
    sim = _sim(skill, seed, stance)
    app.push(ACTIVITIES[kind].factory(app))
    steps = int(MAX_SESSION_S / LOGIC_DT)
    angles = None
    for step in range(1, steps + 1):
        scene = app.scene
        if scene is None or app.results:
            break
        t = step * LOGIC_DT
        aim = scene.autopilot(Tick(t, angles)) or (0.0, 0.0)
        sim.set_lean_target(*aim)
        truth = sim.truth_at(np.array([t]))
        angles = angles_from_up(up_from_pitch_roll(truth.pitch_rad[0], truth.roll_rad[0]))
        scene.update(LOGIC_DT, Tick(t, angles, True))
    if not app.results:
        return None
    score = app.results[-1].get("score")
    return float(score) if isinstance(score, int | float) and math.isfinite(score) else None


def measure_all(people: int = PEOPLE, seed: int = SEED) -> list[TestRetest]:
    """Every simulated figure: each activity's score, and the OSI per stance and eyes."""
    import wobble_trainer.app.activities  # noqa: F401
    from wobble_trainer.app.scene import ACTIVITIES

    out = []
    for kind in sorted(ACTIVITIES):
        pairs = []
        for i, skill in enumerate(skills(people)):
            for j, stance in enumerate(ACTIVITY_STANCES):
                base = seed + 1000 * i + 100 * j
                first = session_score(kind, skill, base, stance)
                second = session_score(kind, skill, base + 1, stance)
                if first is not None and second is not None:
                    pairs.append((first, second))
        if len(pairs) >= 2:
            out.append(test_retest(f"{kind}:score", pairs))
    for stance, closed in OSI_CONDITIONS:
        pairs = [
            (
                session_osi(skill, seed + 1000 * i, stance, closed),
                session_osi(skill, seed + 1000 * i + 1, stance, closed),
            )
            for i, skill in enumerate(skills(people))
        ]
        out.append(test_retest(f"osi:{stance}/eyes-{'closed' if closed else 'open'}", pairs))
    return out


def usable(result: TestRetest) -> bool:
    """A figure worth keeping: the sessions varied (no ceiling where everyone scores the same)."""
    return result.icc is not None and result.mdc95_pct > 0.0


def constants_source(results: Sequence[TestRetest], people: int, seed: int) -> str:
    """The ``SIMULATED_MDC_PCT`` block of :mod:`wobble_trainer.reliability` (usable figures)."""
    lines = [
        "SIMULATED_MDC_PCT: dict[str, float] = {",
        *(f'    "{r.measure}": {r.mdc95_pct},' for r in results if usable(r)),
        "}",
    ]
    return "\n".join(lines) + f"\nSIMULATED_WITH = \"{COMMAND} --people {people} --seed {seed}\"\n"


def write_constants(path: Path, block: str) -> None:
    """Replace the generated block (between its markers) in ``path``."""
    text = path.read_text()
    start, end = "# --- generated by wobble bench reliability ---\n", "# --- end generated ---\n"
    i, j = text.index(start) + len(start), text.index(end)
    path.write_text(text[:i] + block + text[j:])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"simulated people ({PEOPLE})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"first seed ({SEED})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--write", action="store_true", help="rewrite the constants in wobble_trainer.reliability"
    )


def run(args: argparse.Namespace) -> int:
    results = measure_all(args.people, args.seed)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        rows = [
            (
                r.measure,
                r.people,
                f"{r.mean:.3g}",
                f"{r.mdc95_pct:.1f}" if usable(r) else "ceiling",
                _fmt_icc(r.icc),
            )
            for r in results
        ]
        print(report.format_table(("measure", "pairs", "mean", "MDC95 %", "ICC(3,1)"), rows))
    if args.write:
        from wobble_trainer import reliability

        block = constants_source(results, args.people, args.seed)
        write_constants(Path(reliability.__file__), block)
        print(f"wrote {reliability.__file__}")
    return 0


def _fmt_icc(icc: float | None) -> str:
    return "-" if icc is None else f"{icc:.2f}"


__all__ = ["DEG", "TestRetest", "measure_all", "session_osi", "session_score", "test_retest"]
