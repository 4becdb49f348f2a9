"""The whole home routine around the board work: warm-up, seated ankle work, band work, calf
raises, heel and toe walks, step-ups and the wall stretch, as guided steps of "Today's plan".

Source: the typical physiotherapy clinic guidance for home ankle strengthening summarised in
DOMAIN.md §6 — warm up first (marching on the spot, light ankle movement); non-weight-bearing work
first (seated ankle alphabet with the big toe as the pen, ankle circles both ways, a resistance
band in four directions: dorsiflexion, plantarflexion, inversion, eversion), then weight-bearing
work (calf raises with a slow lowering phase, progressing to one leg; heel and toe walks;
step-ups), balance (the board work of the programme), and mobility (ankle circles, the
knee-to-wall dorsiflexion stretch when the ankle is stiff). Routine: bands 2-3 times a week,
calf raises and balance daily, mobility when stiff; start easy, progress gradually; most people
improve within 4-6 weeks. The week-by-week amounts below (reps, seconds) are this project's
gradual progression over those weeks, not a published dose; they sit within what public patient
handouts give: Alberta Health Services, "Ankle Sprain: Rehab Exercises" (MyHealth.Alberta.ca:
ankle alphabet with each foot, stretches held 15-30 s), Aurora BayCare "Ankle Home Exercise
Program" (ankle circles and alphabet, band in four directions, calf stretch against a wall held
20-30 s), and heel raises "about 10 at first" then more.

:func:`routine_for` gives the steps of one programme day; the app shows each as a guided step
(an animation of the movement, a timer or a rep count) and logs it in ``db.plan_steps`` when done.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SOURCE = (
    "Typical physiotherapy clinic guidance for home ankle strengthening (DOMAIN.md §6): warm up, "
    "non-weight-bearing then weight-bearing work, bands 2-3x/week, calf raises daily, mobility "
    "when stiff, progress gradually over 4-6 weeks."
)

BAND_DAYS = (1, 3, 5)
"""Days of a programme week (1-7) with band work: three times a week, a day apart."""


class Measure(StrEnum):
    """How a step is counted."""

    TIMER = "timer"
    """For a number of seconds (the clock runs by itself)."""
    REPS = "reps"
    """A number of repetitions (paced by the animation, counted on screen)."""


class Movement(StrEnum):
    """Which animation shows the movement."""

    MARCH = "march"
    ANKLE_PUMP = "ankle_pump"
    ALPHABET = "alphabet"
    CIRCLES = "circles"
    BAND = "band"
    CALF_RAISE = "calf_raise"
    HEEL_TOE_WALK = "heel_toe_walk"
    STEP_UP = "step_up"
    WALL_STRETCH = "wall_stretch"


class Placement(StrEnum):
    """Where in the day's plan a step goes, relative to the board work."""

    BEFORE = "before"
    AFTER = "after"


@dataclass(frozen=True)
class RoutineStep:
    """One guided step: what to do, how much, and the animation that shows it."""

    key: str
    """Stable id, stored in the adherence log (``plan_steps.step_key``)."""
    title: str
    instructions: str
    measure: Measure
    amount: float
    """Seconds (timer) or repetitions (reps), per side when :attr:`per_side`."""
    movement: Movement
    per_side: bool = False
    rep_s: float = 3.0
    """Pace of one repetition (reps steps): the animation's cycle."""
    optional: bool = False
    """Not needed for the day to count as done (the stretch: only when stiff)."""
    placement: Placement = Placement.BEFORE

    @property
    def label(self) -> str:
        """The plan line, e.g. "Calf raises, slow lowering - 10 reps each leg"."""
        unit = "s" if self.measure is Measure.TIMER else "reps"
        amount = f"{self.amount:g} {unit}" + (" each side" if self.per_side else "")
        extra = " (if stiff)" if self.optional else ""
        return f"{self.title} - {amount}{extra}"

    @property
    def total(self) -> float:
        """The whole amount (both sides for a per-side step)."""
        return self.amount * (2 if self.per_side else 1)


def _stage(week: int) -> int:
    """0: weeks 1-2 (easy), 1: weeks 3-4, 2: week 5 on (the 4-6 week progression)."""
    return 0 if week <= 2 else 1 if week <= 4 else 2


def routine_for(week: int, day_in_week: int) -> tuple[RoutineStep, ...]:
    """The home-routine steps of a programme day (1-based ``week``, ``day_in_week`` 1-7)."""
    if week < 1 or not 1 <= day_in_week <= 7:
        raise ValueError(f"week {week}, day {day_in_week}: not a programme day")
    stage = _stage(week)
    calf_reps = (10, 15, 10)[stage]
    one_leg = stage == 2
    steps = [
        RoutineStep(
            "warm-up-march",
            "Warm-up: march on the spot",
            "March on the spot, knees up, arms swinging. Near a wall or chair.",
            Measure.TIMER,
            60,
            Movement.MARCH,
        ),
        RoutineStep(
            "warm-up-ankles",
            "Warm-up: ankle pumps",
            "Seated or standing: point the foot down, then pull it up, gently, both feet.",
            Measure.REPS,
            10,
            Movement.ANKLE_PUMP,
            rep_s=2.0,
        ),
        RoutineStep(
            "seated-alphabet",
            "Seated ankle alphabet",
            "Sit with the foot off the floor: trace A to Z in the air with your big toe as the "
            "pen. Move only the ankle.",
            Measure.TIMER,
            60 if stage == 0 else 45,
            Movement.ALPHABET,
            per_side=True,
        ),
        RoutineStep(
            "seated-circles",
            "Seated ankle circles",
            "Sit with the foot off the floor: draw slow, big circles with the toes, both ways.",
            Measure.REPS,
            10,
            Movement.CIRCLES,
            per_side=True,
        ),
    ]
    if day_in_week in BAND_DAYS:
        reps = (10, 15, 20)[stage]
        for key, direction, how in (
            ("up", "foot up", "pull the foot up towards you against the band"),
            ("down", "foot down", "push the foot down, like pressing a pedal"),
            ("in", "sole in", "turn the sole inwards against the band"),
            ("out", "sole out", "turn the sole outwards against the band"),
        ):
            steps.append(
                RoutineStep(
                    f"band-{key}",
                    f"Band: {direction}",
                    f"Seated, band round the foot: {how}, then back slowly.",
                    Measure.REPS,
                    reps,
                    Movement.BAND,
                    per_side=True,
                )
            )
    steps += [
        RoutineStep(
            "calf-raises",
            "Calf raises on one leg, slow lowering" if one_leg else "Calf raises, slow lowering",
            (
                "Hold a wall or chair. "
                + ("On one leg: " if one_leg else "")
                + "Up on your toes in 1 s, down slowly in 3 s."
            ),  # fmt: skip
            Measure.REPS,
            calf_reps,
            Movement.CALF_RAISE,
            per_side=one_leg,
            rep_s=4.0,
        ),
        RoutineStep(
            "heel-toe-walks",
            "Heel walks and toe walks",
            "Walk on your heels, toes up, then on your toes, heels up. Near a wall.",
            Measure.TIMER,
            (30, 45, 60)[stage],
            Movement.HEEL_TOE_WALK,
        ),
    ]
    if stage >= 1:
        steps.append(
            RoutineStep(
                "step-ups",
                "Step-ups",
                "Step up onto a low step or stair with one foot, stand tall, step down slowly. "
                "Hold the rail.",
                Measure.REPS,
                (0, 10, 15)[stage],
                Movement.STEP_UP,
                per_side=True,
            )
        )
    steps.append(
        RoutineStep(
            "wall-stretch",
            "Wall stretch",
            "Facing a wall, the stiff foot behind: knee towards the wall, heel down, until the "
            "calf stretches. Hold, no bouncing.",
            Measure.TIMER,
            30,
            Movement.WALL_STRETCH,
            per_side=True,
            optional=True,
            placement=Placement.AFTER,
        )
    )
    return tuple(steps)
