"""The ankle-sprain prevention programme as data, day plans, and TODAY'S PLAN on screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from conftest import assert_renders, confirm_stop, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S
from wobble_trainer.app.activities.circles import CircleTracing
from wobble_trainer.app.activities.hold import HoldChallenge
from wobble_trainer.app.controls import Command
from wobble_trainer.app.scenes.menus import ResultsScene, StartScene
from wobble_trainer.app.scenes.programme import (
    GET_READY_S,
    FloorPhase,
    FloorStanceScene,
    HomeProgrammeScene,
    PlanStage,
    TodayPlanScene,
    bout_activity,
)
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.programme import (
    ANKLE_SPRAIN_PREVENTION,
    CIRCLES_KIND,
    FLOOR_KIND,
    HOLD_KIND,
    HOME_PROGRAMME,
    PROGRAMMES,
    DayType,
    Surface,
    get_programme,
    plan_for,
    today_plan,
)
from wobble_trainer.storage import open_database
from wobble_trainer.tilt.calibration import Calibration

P = ANKLE_SPRAIN_PREVENTION
START = date(2024, 1, 1)


@dataclass
class FakeSession:
    kind: str
    day: date
    settings: dict = field(default_factory=dict)
    finished: bool = True


def sessions_for(bouts, day, **overrides):
    return [FakeSession(b.exercise.kind, day, {**b.settings(), **overrides}) for b in bouts]


# --- the programme as data ---------------------------------------------------------------------


def test_weeks_follow_mcguine_keene():
    weeks = [P.stage_for_week(w) for w in range(1, 5)]
    assert [(ex.surface, ex.eyes_closed, ex.kind) for ex in weeks[0].exercises] == [
        (Surface.FLOOR, False, FLOOR_KIND)
    ]
    assert [(ex.surface, ex.eyes_closed) for ex in weeks[1].exercises] == [(Surface.FLOOR, True)]
    assert [(ex.kind, ex.eyes_closed) for ex in weeks[2].exercises] == [
        (HOLD_KIND, False),
        (CIRCLES_KIND, False),
    ]
    assert [(ex.kind, ex.eyes_closed) for ex in weeks[3].exercises] == [(HOLD_KIND, True)]
    assert all(s.days_per_week == 5 for s in weeks)
    # 30 s per leg, 30 s rest; single-leg work has a bout per leg, rotations one on both feet.
    for stage in weeks:
        for ex in stage.exercises:
            assert ex.work_s == 30.0 and ex.rest_s == 30.0
    assert [b.leg for b in weeks[2].bouts] == ["left", "right", "both"]
    for week in (5, 6, 52):
        assert P.stage_for_week(week) is P.maintenance
        assert P.is_maintenance(week)
    assert P.maintenance.days_per_week == 3
    assert "McGuine" in P.citation and "2006" in P.citation
    assert get_programme(P.id) is P and PROGRAMMES[P.id] is P
    with pytest.raises(KeyError, match="unknown programme"):
        get_programme("nope")
    with pytest.raises(ValueError):
        P.stage_for_week(0)


def test_bouts_map_to_the_activities_with_their_settings():
    left_ec = P.stage_for_week(4).bouts[0]
    assert left_ec.settings() == {"duration_s": 30.0, "stance": "left", "eyes_closed": True}
    activity = bout_activity(left_ec)
    assert activity.name == "hold"
    rotations = P.stage_for_week(3).bouts[2]
    assert rotations.settings()["laps"] == 4
    assert bout_activity(rotations).name == "circles"
    floor = P.stage_for_week(1).bouts[1]
    assert bout_activity(floor).seated  # no board, so no calibration first
    assert floor.label == "Right leg - floor, eyes open, 30 s"


def test_a_bout_is_done_only_by_a_finished_session_with_its_settings():
    bout = P.stage_for_week(4).bouts[0]  # left leg, board, eyes closed
    day = START

    def session(**kw):
        settings = {"duration_s": 30.0, "stance": "left", "eyes_closed": True}
        finished = kw.pop("finished", True)
        kind = kw.pop("kind", "hold")
        return FakeSession(kind, day, {**settings, **kw}, finished)

    assert bout.matches(session())
    assert bout.matches(session(duration_s=45))  # longer counts
    assert not bout.matches(session(duration_s=20))
    assert not bout.matches(session(eyes_closed=False))
    assert not bout.matches(session(stance="right"))
    assert not bout.matches(session(finished=False))
    assert not bout.matches(session(kind="floor_stance"))


# --- day plans ---------------------------------------------------------------------------------


def test_day_plan_week_day_type_and_maintenance():
    plan = plan_for(P, START, START, [])
    assert (plan.week, plan.day_in_week, plan.maintenance) == (1, 1, False)
    assert plan.day_type is DayType.TRAINING and not plan.done_today
    assert plan.heading == "Week 1 of 4: Floor, eyes open"
    assert plan.days_target == 5 and plan.days_left_in_week == 6

    day = START + timedelta(days=16)  # week 3, day 3
    stage = P.stage_for_week(3)
    half = sessions_for(stage.bouts[:1], day)
    plan = plan_for(P, START, day, half)
    assert plan.week == 3 and plan.day_in_week == 3
    assert [b.done for b in plan.bouts] == [True, False, False]
    assert plan.next_bout() == stage.bouts[1]
    plan = plan_for(P, START, day, sessions_for(stage.bouts, day))
    assert plan.done_today and plan.day_type is DayType.DONE and plan.next_bout() is None
    assert plan.days_done == 1

    maintenance_day = START + timedelta(days=7 * 6 + 2)
    plan = plan_for(P, START, maintenance_day, [])
    assert plan.week == 7 and plan.maintenance and plan.days_target == 3
    assert plan.heading.startswith("Maintenance")

    with pytest.raises(ValueError, match="starts on"):
        plan_for(P, START, START - timedelta(days=1), [])


def test_days_done_count_complete_days_of_this_week_only():
    stage = P.stage_for_week(2)
    sessions = []
    # Week 1: five complete days (another stage: do not count for week 2).
    for d in range(5):
        sessions += sessions_for(P.stage_for_week(1).bouts, START + timedelta(days=d))
    # Week 2: days 8-12 complete, day 13 only the left leg.
    for d in range(7, 12):
        sessions += sessions_for(stage.bouts, START + timedelta(days=d))
    sessions += sessions_for(stage.bouts[:1], START + timedelta(days=12))
    day = START + timedelta(days=13)  # week 2, day 7
    plan = plan_for(P, START, day, sessions)
    assert plan.week == 2 and plan.days_done == 5
    assert plan.day_type is DayType.REST  # this week's five days are done
    plan = plan_for(P, START, START + timedelta(days=10), sessions)
    assert plan.days_done == 4 and plan.day_type is DayType.DONE


def test_today_plan_from_the_database(tmp_path):
    today = date.today()
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-100", 1980, 1.7, "right").id
        assert today_plan(db, pid, today) is None
        db.programmes.assign(pid, P.id, today - timedelta(days=7))  # week 2: floor eyes closed
        left = P.stage_for_week(2).bouts[0]
        s = db.sessions.start(pid, FLOOR_KIND, settings=left.settings())
        db.sessions.finish(s.id, metrics={"duration_s": 30.0})
        unfinished = db.sessions.start(
            pid, FLOOR_KIND, settings=P.stage_for_week(2).bouts[1].settings()
        )
        plan = today_plan(db, pid, today)
        assert plan.week == 2
        assert [b.done for b in plan.bouts] == [True, False]
        db.sessions.finish(unfinished.id)
        assert today_plan(db, pid, today).done_today
        db.programmes.assign(pid, "retired-programme", today)
        assert today_plan(db, pid, today) is None  # unknown to this version


# --- TODAY'S PLAN on screen --------------------------------------------------------------------


@pytest.fixture
def trainee(app_context, tmp_path):
    """A profile with the programme assigned, the board calibrated, a database."""
    with open_database(tmp_path / "db") as db:
        app = app_context
        app.db = db
        app.calibration = Calibration(uncalibrated=False)
        app.profile = db.profiles.create("P-200", 1985, 1.7, "left")
        app.push(StartScene(app))
        yield app


def assign(app, week: int) -> None:
    app.db.programmes.assign(app.profile.id, P.id, date.today() - timedelta(days=7 * (week - 1)))


def lean_choose(app, index):
    scene = app.scene
    drive(app, 0.6, lambda t: (0.0, 0.0))
    while scene.menu.highlight != index:
        drive(app, 0.5, lambda t: (0.0, 10.0))
        drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (12.0, 0.0))


def bout_row(plan_scene, i: int) -> int:
    """The plan row of board bout ``i`` (the home routine's warm-up and strength steps come
    first)."""
    return plan_scene.entries.index(plan_scene.plan.bouts[i])


def finish_results(app):
    assert isinstance(app.scene, ResultsScene)
    app.scene.menu.touch(0)
    drive(app, 0.02, lambda t: (0.0, 0.0))


def test_plan_runs_both_legs_with_the_rest_between(trainee):
    app = trainee
    assign(app, 3)
    plan_scene = TodayPlanScene(app)
    app.push(plan_scene)
    assert plan_scene.plan.week == 3
    assert plan_scene.menu.highlight == 0  # the warm-up first
    lean_choose(app, bout_row(plan_scene, 0))
    hold = app.scene
    assert isinstance(hold, HoldChallenge)
    assert (hold.settings.stance, hold.settings.eyes_closed, hold.settings.duration_s) == (
        "left",
        False,
        30.0,
    )
    drive(app, COUNTDOWN_S + 30.5, lambda t: (0.5, 0.0))
    finish_results(app)
    assert app.scene is plan_scene
    assert [b.done for b in plan_scene.plan.bouts] == [True, False, False]
    assert plan_scene.stage is PlanStage.REST
    assert plan_scene.queue[0].leg == "right"
    assert_renders(plan_scene)
    drive(app, 29.0, lambda t: (0.0, 0.0))
    assert plan_scene.stage is PlanStage.REST and app.scene is plan_scene
    drive(app, 1.1, lambda t: (0.0, 0.0))
    right = app.scene
    assert isinstance(right, HoldChallenge) and right.settings.stance == "right"
    drive(app, COUNTDOWN_S + 30.5, lambda t: (0.0, 0.5))
    finish_results(app)
    assert app.scene is plan_scene and plan_scene.stage is PlanStage.LIST
    assert [b.done for b in plan_scene.plan.bouts] == [True, True, False]
    lean_choose(app, bout_row(plan_scene, 2))
    assert isinstance(app.scene, CircleTracing)
    assert app.scene.settings.laps == 4


def test_leaving_a_bout_early_stops_the_sequence(trainee):
    app = trainee
    assign(app, 4)
    plan_scene = TodayPlanScene(app)
    app.push(plan_scene)
    plan_scene.menu.touch(bout_row(plan_scene, 0))
    drive(app, 0.02, lambda t: (0.0, 0.0))
    assert isinstance(app.scene, HoldChallenge) and app.scene.settings.eyes_closed
    drive(app, COUNTDOWN_S + 5, lambda t: (0.0, 0.0))
    app.scene.command(Command.MENU)  # leaves the hold, once confirmed
    confirm_stop(app)
    assert app.scene is plan_scene
    assert plan_scene.stage is PlanStage.LIST and plan_scene.queue == []
    assert not any(b.done for b in plan_scene.plan.bouts)


def test_rest_can_be_skipped_or_stopped(trainee):
    app = trainee
    assign(app, 1)
    plan_scene = TodayPlanScene(app)
    app.push(plan_scene)
    plan_scene.menu.touch(bout_row(plan_scene, 0))
    drive(app, 0.02, lambda t: None)
    floor = app.scene
    assert isinstance(floor, FloorStanceScene)  # no calibration needed, board not used
    drive(app, GET_READY_S + 3 + 30 + floor.DONE_SHOWN_S + 0.1, lambda t: None)
    assert app.scene is plan_scene and plan_scene.stage is PlanStage.REST
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (-12.0, 0.0))  # lean back: stop
    assert plan_scene.stage is PlanStage.LIST and app.scene is plan_scene
    plan_scene.menu.touch(bout_row(plan_scene, 1))  # the right leg
    drive(app, 0.02, lambda t: None)
    assert isinstance(app.scene, FloorStanceScene) and app.scene.bout.leg == "right"


def test_floor_bout_times_cues_and_is_stored(trainee):
    app = trainee
    assign(app, 2)
    bout = P.stage_for_week(2).bouts[0]
    scene = FloorStanceScene(app, bout)
    app.push(scene)
    assert_renders(scene)
    drive(app, GET_READY_S + 1.5, lambda t: None)
    assert scene.phase is FloorPhase.COUNTDOWN
    assert_renders(scene)
    drive(app, 1.5 + 10, lambda t: None)
    assert scene.phase is FloorPhase.RUNNING and scene.elapsed == pytest.approx(10.0, abs=0.02)
    assert_renders(scene)
    scene.command(Command.PAUSE)
    drive(app, 20, lambda t: None)
    assert scene.elapsed == pytest.approx(10.0, abs=0.02)
    assert_renders(scene)
    scene.command(Command.PAUSE)
    drive(app, 20.1, lambda t: None)
    assert scene.phase is FloorPhase.DONE
    assert_renders(scene)
    assert app.feedback.cues == [Cue.COUNTDOWN] * 3 + [Cue.GO, Cue.END]
    (session,) = app.db.history.sessions(app.profile.id)
    assert session.kind == FLOOR_KIND and session.finished
    assert session.settings == {"duration_s": 30.0, "stance": "left", "eyes_closed": True}
    assert session.metrics["completed"] is True
    assert bout.matches(session)
    drive(app, scene.DONE_SHOWN_S, lambda t: None)
    assert isinstance(app.scene, StartScene)


def test_a_stopped_floor_bout_does_not_count(trainee):
    app = trainee
    bout = P.stage_for_week(1).bouts[0]
    scene = FloorStanceScene(app, bout)
    app.push(scene)
    drive(app, GET_READY_S + 3 + 5, lambda t: None)
    scene.command(Command.BACK)
    assert isinstance(app.scene, StartScene)
    (session,) = app.db.history.sessions(app.profile.id)
    assert not session.finished  # cut short, as an activity left early
    assert not bout.matches(session)


def test_plan_without_profile_or_programme_explains_and_offers_the_guide(app_context, tmp_path):
    app = app_context
    app.push(StartScene(app))
    scene = TodayPlanScene(app)
    app.push(scene)
    assert "database" in scene.message
    with open_database(tmp_path) as db:
        app.db = db
        scene.refresh()
        assert "profile" in scene.message
        assert_renders(scene)
        app.profile = db.profiles.create("P-300", 1950, 1.6, "right")
        scene.refresh()
        assert "No programme" in scene.message
        assert scene.options == ["Home exercises guide"]
        assert_renders(scene)
        scene.menu.touch(0)
        drive(app, 0.02, lambda t: (0.0, 0.0))
        assert isinstance(app.scene, HomeProgrammeScene)


def test_every_plan_state_renders(trainee):
    app = trainee
    for week in (5, 3, 1):
        assign(app, week)
        scene = TodayPlanScene(app)
        app.push(scene)
        assert_renders(scene)
        app.pop()


def test_home_guide_pages_and_renders(app_context):
    app = app_context
    app.push(StartScene(app))
    scene = HomeProgrammeScene(app)
    app.push(scene)
    for page in range(len(HOME_PROGRAMME.stages)):
        assert scene.page == page
        assert_renders(scene)
        drive(app, 0.6, lambda t: (0.0, 0.0))
        drive(app, 0.3, lambda t: (0.0, 10.0))  # lean right: next page
    assert scene.page == 0  # wrapped round
    titles = [s.title for s in HOME_PROGRAMME.stages]
    assert titles[:3] == ["1. Non-weight-bearing", "2. Weight-bearing", "3. Balance"]
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (-12.0, 0.0))
    assert isinstance(app.scene, StartScene)


def test_sessions_of_another_day_do_not_count_today(tmp_path):
    today = date.today()
    with open_database(tmp_path) as db:
        pid = db.profiles.create("P-400", 1980, 1.7, "right").id
        db.programmes.assign(pid, P.id, today - timedelta(days=1))
        yesterday = datetime.now().astimezone() - timedelta(days=1)
        for bout in P.stage_for_week(1).bouts:
            s = db.sessions.start(pid, FLOOR_KIND, settings=bout.settings(), started_at=yesterday)
            db.sessions.finish(s.id)
        plan = today_plan(db, pid, today)
        assert not plan.done_today and plan.days_done == 1


def test_todays_plan_guides_the_whole_routine_and_logs_it(trainee):
    from wobble_trainer.app.scenes.routine import GuidedStepScene

    app = trainee
    assign(app, 1)  # programme day 1: a band day
    plan_scene = TodayPlanScene(app)
    app.push(plan_scene)
    labels = plan_scene.options
    assert labels[0].startswith("Warm-up: march on the spot")
    assert any(label.startswith("Band: foot up") for label in labels)
    first_bout = bout_row(plan_scene, 0)
    assert all("Warm-up" not in label for label in labels[first_bout:])  # warm-up before board
    assert labels[-2].startswith("Wall stretch") and labels[-1] == "Home exercises guide"
    lean_choose(app, 0)
    assert isinstance(app.scene, GuidedStepScene)
    app.scene.command(Command.SELECT)
    drive(app, 2, lambda t: None)
    assert app.scene is plan_scene
    assert plan_scene.options[0].endswith("- done") and plan_scene.menu.highlight == 1
    (row,) = app.db.plan_steps.on_day(app.profile.id, date.today())
    assert (row.step_key, row.programme_id, row.week) == ("warm-up-march", P.id, 1)
    assert not plan_scene.routine_done
    assert_renders(plan_scene)
