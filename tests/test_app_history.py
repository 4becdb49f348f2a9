"""History and progress: chart data from stored sessions, baseline comparison, streaks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from conftest import assert_renders, drive

import wobble_trainer.app.activities.hold  # noqa: F401  (registers "hold": its title is used)
from wobble_trainer.app.controls import Command
from wobble_trainer.app.scenes.history import (
    KIND_METRICS,
    OSI,
    HistoryScene,
    MetricSpec,
    compare_to_baseline,
    history_pages,
    kind_title,
    overview,
    week_start,
    weekly_counts,
)
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.reliability import Mdc, Origin, Verdict
from wobble_trainer.storage import DailyCount, open_database

TODAY = date(2024, 5, 15)  # a Wednesday


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour).astimezone()


def seed(db, profile_id, kind, day, metrics, settings=None, finished=True):
    s = db.sessions.start(profile_id, kind, settings=settings or {}, started_at=at(day))
    if finished:
        db.sessions.finish(s.id, metrics=metrics, ended_at=at(day, 11))
    return s.id


@pytest.fixture
def db(tmp_path):
    with open_database(tmp_path / "db") as database:
        yield database


@pytest.fixture
def trainee(db):
    """Four weeks of holds getting better, two sessions of another game, a floor bout."""
    p = db.profiles.create("P-500", 1970, 1.75, "right")
    for i in range(8):
        day = TODAY - timedelta(days=28 - 4 * i)
        seed(db, p.id, "hold", day, {"score": 10.0 + i, "osi": 4.0 - 0.25 * i})
    seed(db, p.id, "marbles", TODAY - timedelta(days=2), {"score": 300})
    seed(db, p.id, "marbles", TODAY - timedelta(days=1), {"score": 240, "osi": None})
    seed(db, p.id, "floor_stance", TODAY, {"duration_s": 30.0, "completed": True})
    return p


def test_baseline_comparison_knows_which_way_is_better():
    small = Mdc(0.5, False, Origin.PUBLISHED, "test")
    up = compare_to_baseline([10.0, 12.0, 15.0], True, small)
    assert up.change == 5.0 and up.change_pct == pytest.approx(50.0) and up.better is True
    assert up.words(MetricSpec(("score",), "Time", "s", True)) == (
        "50% better than the first session (10.0 s)"
    )
    osi_down = compare_to_baseline([4.0, 3.0], False, small)
    assert osi_down.change_pct == pytest.approx(-25.0) and osi_down.better is True
    assert osi_down.words(OSI) == "25% better than the first session (4.00°)"
    osi_up = compare_to_baseline([2.0, 3.0], False, small)
    assert osi_up.better is False and "worse" in osi_up.words(OSI)
    same = compare_to_baseline([2.0, 5.0, 2.0], True, small)
    assert same.better is None and same.words(OSI).startswith("Same")
    zero = compare_to_baseline([0.0, 3.0], True, small)
    assert zero.change_pct is None and zero.words(OSI) == (
        "3.00° better than the first session (0.00°)"
    )
    assert compare_to_baseline([1.0], True) is None
    assert compare_to_baseline([], True) is None


def test_a_change_smaller_than_the_mdc_is_within_normal_variation_not_coloured():
    mdc = Mdc(1.0, False, Origin.PUBLISHED, "Someone 2020")
    within = compare_to_baseline([4.0, 3.2], False, mdc)
    assert within.verdict is Verdict.WITHIN and within.better is None
    assert within.words(OSI) == "Within normal variation of the first session (4.00°)"
    assert within.mdc_words(OSI) == "MDC95 1.00° (Someone 2020)"
    unknown = compare_to_baseline([4.0, 3.0], False, None)
    assert unknown.better is None and "no reliability figure" in unknown.words(OSI)


def test_the_history_screen_shows_within_variation_in_plain_text(app_context, db, monkeypatch):
    from wobble_trainer.app.layout import GREEN, RED, Layout
    from wobble_trainer.app.scenes.history import HistoryScene

    p = db.profiles.create("P-502", 1970, 1.75, "right")
    seed(db, p.id, "hold", TODAY - timedelta(days=7), {"edge_touches": 10})
    seed(db, p.id, "hold", TODAY, {"edge_touches": 4})  # 6 fewer: below SMARTwobble's 9
    app_context.db = db
    scene = HistoryScene(app_context, p, today=TODAY)
    (page,) = scene.pages
    assert page.spec.keys == ("edge_touches",)
    assert page.comparison.verdict is Verdict.WITHIN
    drawn = []
    real_text = Layout.text

    def spy(self, surface, text, *args, **kwargs):
        drawn.append((text, args[2] if len(args) > 2 else kwargs.get("color")))
        return real_text(self, surface, text, *args, **kwargs)

    monkeypatch.setattr(Layout, "text", spy)
    scene.turn(1)
    assert_renders(scene)
    line = [(t, c) for t, c in drawn if "Within normal variation" in t]
    assert line and all(c not in (GREEN, RED) for _, c in line)
    assert any("MDC95 9 (Williams & Bentman 2014)" in t for t, _ in drawn)


def test_the_value_axis_of_a_measure_that_cannot_be_negative_stays_at_or_above_zero():
    from wobble_trainer.app.scenes.history import value_axis

    lo, hi = value_axis([0.4, 0.3, 0.35], higher_is_better=False)  # an OSI, lower is better
    assert lo >= 0.0 and hi > 0.4
    assert value_axis([0.5], higher_is_better=False)[0] == 0.0  # one session: padded, not < 0
    assert value_axis([12.0, 20.0], higher_is_better=True)[0] == 0.0  # times from zero
    lo, hi = value_axis([2.5, 2.6, 2.4], higher_is_better=False)
    assert 0.0 < lo < 2.4 < 2.6 < hi  # zoomed on the values when they are far from zero
    assert value_axis([-3.0, 2.0], higher_is_better=True)[0] < -3.0  # signed values keep theirs


def test_chart_pages_from_seeded_sessions(db, trainee):
    pages = history_pages(db, trainee.id)
    assert [(p.kind, p.spec.keys) for p in pages] == [
        ("hold", ("score",)),
        ("hold", ("osi",)),
        ("marbles", ("score",)),
    ]  # most used kind first; the floor bout has nothing to chart; a None OSI is left out
    hold_time, hold_osi, marbles = pages
    assert [v for _, v in hold_time.points] == [10.0 + i for i in range(8)]
    assert hold_time.points[0][0].date() == TODAY - timedelta(days=28)
    assert hold_time.spec.label == "Time in zone" and hold_time.spec.higher_is_better
    assert hold_time.comparison.change_pct == pytest.approx(70.0)
    assert hold_osi.comparison.better is True  # OSI fell: steadier
    assert hold_osi.best == pytest.approx(4.0 - 0.25 * 7)
    assert marbles.comparison.better is False  # the score fell
    assert hold_time.title == "Hold challenge: Time in zone"


def test_unkept_guest_and_other_profiles_sessions_are_not_in_the_history(db, trainee):
    other = db.profiles.create("P-501", 1970, 1.75, "right")
    seed(db, other.id, "hold", TODAY, {"score": 99.0})
    guest = db.profiles.guest()
    seed(db, guest.id, "hold", TODAY, {"score": 99.0})
    hold = [p for p in history_pages(db, trainee.id) if p.kind == "hold"]
    assert hold and all(v < 99 for p in hold for _, v in p.points)
    assert history_pages(db, guest.id) == []


def test_weekly_counts_fill_empty_weeks():
    counts = [
        DailyCount(TODAY, "hold", 2),
        DailyCount(TODAY - timedelta(days=1), "marbles", 1),  # Tuesday, same week
        DailyCount(TODAY - timedelta(days=3), "hold", 1),  # Sunday: the week before
        DailyCount(TODAY - timedelta(weeks=20), "hold", 5),  # too old to show
    ]
    weeks = weekly_counts(counts, TODAY, weeks=4)
    assert [w for w, _ in weeks] == [week_start(TODAY) - timedelta(weeks=k) for k in (3, 2, 1, 0)]
    assert [n for _, n in weeks] == [0, 0, 1, 3]
    assert week_start(TODAY).weekday() == 0


def test_overview_streaks_and_totals(db, trainee):
    summary = overview(db, trainee, TODAY)
    # Sessions on TODAY-2, -1 and TODAY (and every 4 days before): a 3-day streak now.
    assert summary.current_streak == 3 and summary.longest_streak == 3
    assert summary.total_sessions == 11
    assert sum(n for _, n in summary.weeks) == 11
    later = overview(db, trainee, TODAY + timedelta(days=2))
    assert later.current_streak == 0 and later.longest_streak == 3


def test_scene_pages_by_leaning_and_leaves_by_leaning_back(app_context, db, trainee):
    app = app_context
    app.db = db
    app.profile = trainee
    app.push(StartScene(app))
    scene = HistoryScene(app, today=TODAY)
    app.push(scene)
    assert scene.page == 0 and len(scene.pages) == 3
    assert_renders(scene)
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 0.3, lambda t: (0.0, 10.0))  # lean right
    assert scene.page == 1
    assert_renders(scene)
    scene.command(Command.LEFT)
    scene.command(Command.LEFT)
    assert scene.page == 3  # wraps round to the last chart
    assert_renders(scene)
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (-12.0, 0.0))  # lean back and hold: leave
    assert isinstance(app.scene, StartScene)


def test_scene_touch_buttons(app_context, db, trainee):
    import pygame

    from wobble_trainer.app.layout import Layout

    app = app_context
    app.db = db
    app.push(StartScene(app))
    scene = HistoryScene(app, trainee, today=TODAY)
    app.push(scene)
    pygame.init()
    scene.render(pygame.Surface((800, 480)), Layout(800, 480))
    next_rect = scene.buttons[1][0]
    assert scene.click(next_rect.center) and scene.page == 1
    done_rect = scene.buttons[2][0]
    assert scene.click(done_rect.center)
    assert isinstance(app.scene, StartScene)


def test_guest_empty_and_single_session_histories_render(app_context, db):
    app = app_context
    app.db = db
    guest_scene = HistoryScene(app, None, today=TODAY)
    assert "Guest" in guest_scene.message
    assert_renders(guest_scene)
    p = db.profiles.create("P-502", 1970, 1.75, "right")
    empty = HistoryScene(app, p, today=TODAY)
    assert empty.pages == [] and empty.summary.total_sessions == 0
    assert_renders(empty)
    seed(db, p.id, "hold", TODAY, {"score": 12.0, "osi": 2.0})
    one = HistoryScene(app, p, today=TODAY)
    assert one.pages[0].comparison is None  # the first session is the baseline
    one.turn(1)
    assert_renders(one)
    app.db = None
    assert "database" in HistoryScene(app, p, today=TODAY).message


def test_kind_titles_and_metric_registry():
    assert kind_title("hold") == "Hold challenge"
    assert kind_title("test:postural_stability") == "Postural stability (test)"
    assert kind_title("floor_stance") == "Floor stance"
    assert KIND_METRICS["floor_stance"] == ()
