"""The balance programmes a clinician can assign, as data, and what each day of them asks for.

The ankle-sprain prevention programme follows McGuine & Keene 2006 (DOMAIN.md §6): 30 s per leg
with 30 s rest, 5 days a week for 4 weeks — week 1 single-leg stance on the floor with eyes open,
week 2 the same with eyes closed, week 3 on the board with eyes open (plus two-leg board
rotations), week 4 single-leg on the board with eyes closed — then 3 days a week as maintenance.
The published programme has five phases with more drills (UW Health's summary: from single-leg
stance on the floor, a wobble board from phase 3, single-leg on the board with sport movements
such as dribbling by phase 5); this is the four-stage core DOMAIN.md describes, which is
what the board can run and measure. Maintenance repeats the hardest stage (week 4).

Each exercise maps to what the app runs: board work to the ``hold`` challenge (stance and eyes
settings) and the ``circles`` activity (rotations); floor work to the ``floor_stance`` timer
(instructions and a timed bout, the board only shows the clock). A :class:`Bout` is one leg of
one exercise: one 30 s effort, one stored session, one line of TODAY'S PLAN, done when a finished
session of the same kind and settings exists on that day.

Days are flexible, as a person's week is: a programme week (7 days from the start date) asks
for ``days_per_week`` complete training days, whichever days they are. :func:`plan_for` works out
where the person is (week, stage, maintenance), what today asks for and what is done already,
from plain dates and session records, so it is easy to test; :func:`today_plan` fetches those
from the database.

The home ankle programme (non-weight-bearing → weight-bearing → balance, and mobility) is
guidance text for the screen: :data:`HOME_PROGRAMME`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wobble_trainer.storage import Database

MCGUINE_KEENE_2006 = (
    "McGuine TA, Keene JS. The effect of a balance training program on the risk of ankle "
    "sprains in high school athletes. Am J Sports Med. 2006;34(7):1103-1111. "
    "(RCT, n = 765; ankle sprains 6.1% with the programme vs 9.9% without.)"
)

WORK_S = 30.0
"""Each leg's effort (McGuine & Keene 2006)."""
REST_S = 30.0
"""Rest between efforts (McGuine & Keene 2006)."""

FLOOR_KIND = "floor_stance"
"""Session kind of a timed single-leg stance on the floor (no board measurement)."""
HOLD_KIND = "hold"
CIRCLES_KIND = "circles"

LEGS = ("left", "right")


class Surface(StrEnum):
    FLOOR = "floor"
    BOARD = "board"


class DayType(StrEnum):
    """What today is in the programme."""

    TRAINING = "training"
    """Today's plan is still to do."""
    DONE = "done"
    """Today's plan is complete."""
    REST = "rest"
    """This week's training days are done already: today is a rest day (training is optional)."""


class SessionLike(Protocol):
    """What :func:`plan_for` needs of a stored session (``storage.SessionRecord`` has it)."""

    kind: str
    settings: dict[str, Any]

    @property
    def finished(self) -> bool: ...

    @property
    def day(self) -> date: ...


@dataclass(frozen=True)
class Exercise:
    """One exercise of a programme stage, done once per leg (or once with both feet)."""

    key: str
    title: str
    """Short, for the plan list."""
    instructions: str
    """What to do, for the screen."""
    kind: str
    """Session kind that implements it: :data:`FLOOR_KIND`, :data:`HOLD_KIND`, ..."""
    surface: Surface
    eyes_closed: bool = False
    legs: tuple[str, ...] = LEGS
    """``("left", "right")``: one bout per leg; ``("both",)``: one two-leg bout."""
    work_s: float = WORK_S
    rest_s: float = REST_S
    laps: int | None = None
    """Board rotations: laps of the circle activity."""

    @property
    def bouts(self) -> tuple[Bout, ...]:
        return tuple(Bout(self, leg) for leg in self.legs)


@dataclass(frozen=True)
class Bout:
    """One leg of one exercise: one effort, one stored session."""

    exercise: Exercise
    leg: str

    @property
    def label(self) -> str:
        """The plan line, e.g. "Left leg - floor, eyes open, 30 s"."""
        ex = self.exercise
        if ex.kind == CIRCLES_KIND:
            return f"Both feet - board rotations, {ex.laps} laps"
        who = "Both feet" if self.leg == "both" else f"{self.leg.capitalize()} leg"
        eyes = "eyes closed" if ex.eyes_closed else "eyes open"
        return f"{who} - {ex.surface.value}, {eyes}, {ex.work_s:g} s"

    def settings(self) -> dict[str, Any]:
        """The settings of the session that implements it (the activity's settings fields)."""
        ex = self.exercise
        if ex.kind == CIRCLES_KIND:
            return {"laps": ex.laps, "start_level": 1, "direction": "alternate"}
        stance = "both" if self.leg == "both" else self.leg
        return {"duration_s": ex.work_s, "stance": stance, "eyes_closed": ex.eyes_closed}

    def matches(self, session: SessionLike) -> bool:
        """True if ``session`` (finished) carried out this bout."""
        ex = self.exercise
        if not session.finished or session.kind != ex.kind:
            return False
        if ex.kind == CIRCLES_KIND:
            return True
        s = session.settings or {}
        stance = "both" if self.leg == "both" else self.leg
        duration = s.get("duration_s")
        return (
            s.get("stance") == stance
            and bool(s.get("eyes_closed")) == ex.eyes_closed
            and isinstance(duration, int | float)
            and duration >= ex.work_s - 1e-9
        )


@dataclass(frozen=True)
class Stage:
    """What a programme week (or the maintenance phase) asks for."""

    label: str
    """"Week 1", "Maintenance"."""
    focus: str
    """One line: "Floor, eyes open"."""
    exercises: tuple[Exercise, ...]
    days_per_week: int

    @property
    def bouts(self) -> tuple[Bout, ...]:
        return tuple(b for ex in self.exercises for b in ex.bouts)


@dataclass(frozen=True)
class Programme:
    """A programme: its stages week by week, then maintenance, with its source."""

    id: str
    title: str
    short_title: str
    """For tight places (the profile form)."""
    summary: str
    citation: str
    weeks: tuple[Stage, ...]
    """Stage of week 1, 2, ... of the progression."""
    maintenance: Stage
    """Every week after the progression."""

    def stage_for_week(self, week: int) -> Stage:
        """The stage of 1-based ``week`` (maintenance after the progression)."""
        if week < 1:
            raise ValueError(f"week {week}: the programme has not started")
        return self.weeks[week - 1] if week <= len(self.weeks) else self.maintenance

    def is_maintenance(self, week: int) -> bool:
        return week > len(self.weeks)


def _stance(surface: Surface, eyes_closed: bool) -> Exercise:
    where = "on the floor" if surface is Surface.FLOOR else "on the board"
    eyes = "eyes closed" if eyes_closed else "eyes open"
    how = (
        "Stand on one leg beside the board, near a wall or chair you can touch. "
        if surface is Surface.FLOOR
        else "Stand on the middle of the board on one leg, near a wall or rail you can grab. "
    )
    closed = "Close your eyes after GO; the tones tell you when to stop. " if eyes_closed else ""
    return Exercise(
        key=f"{surface.value}-{'ec' if eyes_closed else 'eo'}",
        title=f"Single-leg stance {where}, {eyes}",
        instructions=how + closed + f"Hold {WORK_S:g} s per leg, rest {REST_S:g} s between.",
        kind=FLOOR_KIND if surface is Surface.FLOOR else HOLD_KIND,
        surface=surface,
        eyes_closed=eyes_closed,
    )


BOARD_ROTATIONS = Exercise(
    key="board-rotations",
    title="Two-leg board rotations",
    instructions="Both feet on the board: roll the rim round in slow circles, both ways, "
    "following the target.",
    kind=CIRCLES_KIND,
    surface=Surface.BOARD,
    legs=("both",),
    laps=4,
)

ANKLE_SPRAIN_PREVENTION = Programme(
    id="ankle-sprain-prevention",
    title="Ankle sprain prevention, 4 weeks + maintenance",
    short_title="Ankle sprain prevention",
    summary=(
        f"{WORK_S:g} s per leg, {REST_S:g} s rest, 5 days a week for 4 weeks, "
        "then 3 days a week. Floor first, then the board; eyes open, then closed."
    ),
    citation=MCGUINE_KEENE_2006,
    weeks=(
        Stage("Week 1", "Floor, eyes open", (_stance(Surface.FLOOR, False),), 5),
        Stage("Week 2", "Floor, eyes closed", (_stance(Surface.FLOOR, True),), 5),
        Stage(
            "Week 3",
            "Board, eyes open, and board rotations",
            (_stance(Surface.BOARD, False), BOARD_ROTATIONS),
            5,
        ),
        Stage("Week 4", "Board, single leg, eyes closed", (_stance(Surface.BOARD, True),), 5),
    ),
    maintenance=Stage(
        "Maintenance", "Board, single leg, eyes closed", (_stance(Surface.BOARD, True),), 3
    ),
)

PROGRAMMES: dict[str, Programme] = {ANKLE_SPRAIN_PREVENTION.id: ANKLE_SPRAIN_PREVENTION}
"""Every programme a clinician can assign, by id (the id stored with the assignment)."""


def get_programme(programme_id: str) -> Programme:
    """The programme with this id (``KeyError`` with a clear message if unknown)."""
    try:
        return PROGRAMMES[programme_id]
    except KeyError:
        raise KeyError(
            f"unknown programme {programme_id!r}; known: {', '.join(sorted(PROGRAMMES))}"
        ) from None


# --- where the person is ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoutStatus:
    bout: Bout
    done: bool


@dataclass(frozen=True)
class DayPlan:
    """One day of an assigned programme: where it is, what it asks for, what is done."""

    programme: Programme
    start_date: date
    day: date
    week: int
    """1-based programme week."""
    day_in_week: int
    """1-7."""
    stage: Stage
    maintenance: bool
    bouts: tuple[BoutStatus, ...]
    days_done: int
    """Complete training days in this programme week so far (today included if complete)."""

    @property
    def days_target(self) -> int:
        return self.stage.days_per_week

    @property
    def done_today(self) -> bool:
        return all(b.done for b in self.bouts)

    @property
    def day_type(self) -> DayType:
        if self.done_today:
            return DayType.DONE
        if self.days_done >= self.days_target:
            return DayType.REST
        return DayType.TRAINING

    @property
    def days_left_in_week(self) -> int:
        """Days of this programme week after today."""
        return 7 - self.day_in_week

    @property
    def heading(self) -> str:
        """E.g. "Week 2 of 4: Floor, eyes closed" or "Maintenance: ..."."""
        if self.maintenance:
            return f"Maintenance: {self.stage.focus}"
        return f"Week {self.week} of {len(self.programme.weeks)}: {self.stage.focus}"

    def next_bout(self) -> Bout | None:
        """The first bout not done yet today."""
        return next((b.bout for b in self.bouts if not b.done), None)


def day_complete(stage: Stage, sessions: Iterable[SessionLike]) -> bool:
    """True if ``sessions`` (of one day) carry out every bout of ``stage``."""
    sessions = list(sessions)
    return all(any(b.matches(s) for s in sessions) for b in stage.bouts)


def plan_for(
    programme: Programme, start_date: date, day: date, sessions: Iterable[SessionLike]
) -> DayPlan:
    """The plan of ``day`` for a programme started on ``start_date``.

    ``sessions``: the profile's sessions (any range; only this programme week's are used).
    Raises ``ValueError`` before the start date.
    """
    if day < start_date:
        raise ValueError(f"the programme starts on {start_date}, after {day}")
    offset = (day - start_date).days
    week = offset // 7 + 1
    week_start = start_date + timedelta(days=7 * (week - 1))
    stage = programme.stage_for_week(week)
    by_day: dict[date, list[SessionLike]] = {}
    for s in sessions:
        if week_start <= s.day <= day:
            by_day.setdefault(s.day, []).append(s)
    today = by_day.get(day, [])
    bouts = tuple(BoutStatus(b, any(b.matches(s) for s in today)) for b in stage.bouts)
    days_done = sum(1 for d, group in by_day.items() if day_complete(stage, group))
    return DayPlan(
        programme=programme,
        start_date=start_date,
        day=day,
        week=week,
        day_in_week=offset % 7 + 1,
        stage=stage,
        maintenance=programme.is_maintenance(week),
        bouts=bouts,
        days_done=days_done,
    )


def today_plan(db: Database, profile_id: int, today: date | None = None) -> DayPlan | None:
    """Today's plan of the profile's current programme; None when none is assigned (or it is
    unknown to this version)."""
    day = today or date.today()
    assignment = db.programmes.current(profile_id, on=day)
    if assignment is None or assignment.programme_id not in PROGRAMMES:
        return None
    week_start = assignment.start_date + timedelta(days=7 * (assignment.week_on(day) - 1))
    sessions = db.history.sessions(profile_id, start=week_start, end=day)
    return plan_for(get_programme(assignment.programme_id), assignment.start_date, day, sessions)


# --- home programme guidance --------------------------------------------------------------------


@dataclass(frozen=True)
class GuidanceStage:
    """One stage of the home programme: when, and what to do."""

    title: str
    items: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Guidance:
    title: str
    stages: tuple[GuidanceStage, ...]
    source: str


HOME_PROGRAMME = Guidance(
    title="Home ankle programme",
    stages=(
        GuidanceStage(
            "1. Non-weight-bearing",
            (
                "Ankle alphabet: seated, trace A to Z in the air with your big toe as the pen.",
                "Ankle circles, both ways.",
                "Resistance band in four directions: foot up, foot down, sole in, sole out.",
            ),
            "First, while standing still hurts. Seated with the board under one foot, the "
            "alphabet and circles are measured.",
        ),
        GuidanceStage(
            "2. Weight-bearing",
            (
                "Calf raises with a slow lowering, later on one leg.",
                "Heel walks and toe walks.",
                "Step-ups.",
            ),
            "When standing and walking are comfortable.",
        ),
        GuidanceStage(
            "3. Balance",
            (
                "Single-leg stance, 30 s at a time.",
                "Harder: eyes closed, or on a cushion.",
                "Wobble board or balance pad.",
                "Athletes: side-to-side hops.",
            ),
            "Stand near a wall, rail or chair.",
        ),
        GuidanceStage(
            "Mobility",
            (
                "Ankle circles.",
                "Knee-to-wall stretch: knee to the wall, heel down.",
            ),
            "When the ankle feels stiff.",
        ),
        GuidanceStage(
            "Routine and safety",
            (
                "Bands 2-3 times a week; calf raises and balance daily.",
                "Warm up first: march on the spot, move the ankle gently.",
                "Swollen, painful or freshly injured: rest instead.",
                "Start easy and progress gradually.",
                "Repeated sprains, or an ankle that gives way: see a physiotherapist.",
            ),
            "Most people improve within 4-6 weeks.",
        ),
    ),
    source="Typical physiotherapy clinic guidance for home ankle strengthening (DOMAIN.md §6).",
)
