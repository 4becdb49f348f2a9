"""Layout and legibility of every screen, from the rectangles of the texts drawn (not by eye):
at 800×480, 1280×720 and 480×800 no text leaves the screen or overlaps another, none is
below 20 px, and every text has WCAG AA contrast (4.5:1) on what it is drawn on."""

from __future__ import annotations

import itertools

import pygame
import pytest
from conftest import autopilot_script, drive

import wobble_trainer.app.activities  # noqa: F401  (registers the activities)
from wobble_trainer.app import layout as palette
from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import MIN_TEXT_PX, STATUS_TEXT_PX, Layout, contrast_ratio

SIZES = [(800, 480), (1280, 720), (480, 800)]
AA = 4.5


def test_wcag_contrast_ratio_of_known_pairs():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    # WebAIM's example: #777777 on white is 4.48:1 (just fails AA)
    assert contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


def test_every_text_colour_of_the_palette_is_aa_on_the_screen_and_panels():
    fills = (palette.BACKGROUND, palette.PANEL)
    for colour, fill in itertools.product(palette.TEXT_COLOURS, fills):
        assert contrast_ratio(colour, fill) >= AA, (colour, fill)
    for colour in (palette.TEXT, palette.ACCENT):  # what is drawn on a highlighted option
        assert contrast_ratio(colour, palette.HIGHLIGHT) >= AA, colour


def test_status_and_hint_text_is_big_enough_at_800x480():
    pygame.init()
    layout = Layout(800, 480)
    assert layout.small_size >= STATUS_TEXT_PX
    assert layout.caption_size >= MIN_TEXT_PX
    assert layout.font(8).get_height() == layout.font(MIN_TEXT_PX).get_height()


def _states(app):
    """(name, scene) for every screen, in the states a person meets: each yielded scene is
    on top of the stack when rendered."""
    from wobble_trainer.app.activities.base import TimedActivity
    from wobble_trainer.app.activities.hold import HoldChallenge, HoldSetupScene
    from wobble_trainer.app.protocols import PROTOCOLS, ProtocolMenuScene
    from wobble_trainer.app.protocols.base import (
        Phase,
        ProtocolResultsScene,
        ProtocolSettingsScene,
    )
    from wobble_trainer.app.scene import ACTIVITIES
    from wobble_trainer.app.scenes.calibrate import CalibrationScene
    from wobble_trainer.app.scenes.menus import (
        ActivityMenuScene,
        ConfirmStopScene,
        HomeScene,
        MoreMenuScene,
        RestScene,
        ResultsScene,
        SafetyScene,
        StartScene,
        WarmUpScene,
    )
    from wobble_trainer.app.scenes.sensor import SensorSearchScene
    from wobble_trainer.hardware.detect import ProbeReport, explain_nothing_found

    def fresh(scene):
        app.stack.clear()
        app.push(StartScene(app))
        app.push(scene)
        return scene

    app.safety_cleared_for = ("guest", None)
    for cls in (StartScene, SafetyScene, RestScene, WarmUpScene, HomeScene, ActivityMenuScene):
        yield cls.__name__, fresh(cls(app))
    safety = fresh(SafetyScene(app))
    safety.menu.move(-1)
    yield "safety, No highlighted", safety
    yield "one-option menu", fresh(ResultsScene(app, "Hold complete", []))
    yield (
        "results",
        fresh(
            ResultsScene(
                app,
                "Hold complete",
                ["Time in zone: 20.0 s of 30.0 s (67%)", "Edge touches: 1", "Time to first: 4 s"],
                True,
                score=20.0,
                previous_best=17.5,
            )
        ),
    )
    yield (
        "results, not a best",
        fresh(ResultsScene(app, "Score", ["Score 10"], score=10.0, previous_best=17.5)),
    )
    yield (
        "stop?",
        fresh(
            ConfirmStopScene(
                app,
                "Stop this test?",
                "The trial in progress will not be kept. The 2 finished trials are kept.",
                lambda: None,
            )
        ),
    )
    yield "calibration", fresh(CalibrationScene(app))
    yield "tests menu", fresh(ProtocolMenuScene(app))
    yield (
        "sensor not found",
        fresh(SensorSearchScene(app, lambda: None, explain_nothing_found(ProbeReport(buses=[1])))),
    )
    yield "hold setup", fresh(HoldSetupScene(app))
    activities = [("hold", HoldChallenge)] + [
        (name, a.factory) for name, a in ACTIVITIES.items() if name != "hold"
    ]
    for name, factory in activities:
        scene = factory(app)
        if not isinstance(scene, TimedActivity):
            continue
        fresh(scene)
        yield f"{name} countdown", scene
        drive(app, 5.0, autopilot_script(app))
        if app.scene is scene:
            yield f"{name} running", scene
            scene.command(Command.PAUSE)
            yield f"{name} paused", scene
    for name, protocol in PROTOCOLS.items():
        yield f"{name} settings", fresh(ProtocolSettingsScene(app, protocol))
        runner = fresh(protocol.factory(app, protocol.settings_type()))
        yield f"{name} {runner.phase}", runner
        for _ in range(3000):
            if runner.phase is Phase.RUNNING and runner.elapsed > 1:
                break
            if runner.phase is Phase.SETUP:
                runner.command(Command.SELECT)
            drive(app, 0.01, autopilot_script(app))
        yield f"{name} running", runner
        runner.command(Command.BACK)
        yield f"{name} stop?", app.scene
        app.scene.command(Command.BACK)  # keep going
        if getattr(runner.settings, "rest_s", 0):
            for _ in range(200_000):
                if runner.phase in (Phase.REST, Phase.DONE):
                    break
                if runner.phase is Phase.SETUP:
                    runner.command(Command.SELECT)
                drive(app, 0.01, autopilot_script(app))
            if runner.phase is Phase.REST:
                yield f"{name} rest", runner
    yield (
        "test results",
        fresh(
            ProtocolResultsScene(
                app,
                "Postural stability: results",
                [f"Trial {i}: OSI 1.{i}°  APSI 0.{i}°  MLSI 0.{i}°" for i in range(1, 9)],
                ["Reference values: Arnold and Schmitz 1998, J Athl Train 33(4):323-327."],
            )
        ),
    )
    if app.db is not None:
        from wobble_trainer.app.scenes.history import HistoryScene
        from wobble_trainer.app.scenes.profiles import ProfileSelectScene
        from wobble_trainer.app.scenes.programme import TodayPlanScene

        yield "more", fresh(MoreMenuScene(app))
        yield "switch person", fresh(ProfileSelectScene(app, allow_back=True))
        yield "my progress", fresh(HistoryScene(app))
        yield "today's plan", fresh(TodayPlanScene(app))


def _overlaps(drawn):
    for a, b in itertools.combinations(drawn, 2):
        clip = a.rect.clip(b.rect)
        # glyph boxes include the font's line gap: a couple of pixels is not an overlap
        if clip.width > 2 and clip.height > 2:
            yield a, b


def test_a_one_option_menu_draws_its_option_once_in_portrait(app_context):
    from wobble_trainer.app.scenes.menus import ResultsScene

    pygame.init()
    scene = ResultsScene(app_context, "Results", [])
    app_context.push(scene)
    layout = Layout(480, 800)
    scene.render(pygame.Surface((480, 800)), layout)
    assert [d.text for d in layout.drawn].count("Done") == 1


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_leaves_the_screen_or_overlaps_and_all_is_legible(app_with_db, size):
    pygame.init()
    problems = []
    screen = pygame.Rect(0, 0, *size)
    app_with_db.profile = app_with_db.db.profiles.create("P-017", 1958, 1.68, "right")
    for name, scene in _states(app_with_db):
        surface = pygame.Surface(size)
        layout = Layout(*size, audit=True)
        scene.render(surface, layout)
        assert layout.drawn, name
        for d in layout.drawn:
            if not screen.contains(d.rect):
                problems.append(f"{name}: {d.text!r} leaves the screen at {d.rect}")
            if d.size < MIN_TEXT_PX:
                problems.append(f"{name}: {d.text!r} is {d.size} px")
            if d.fill is not None and contrast_ratio(d.colour, d.fill) < AA:
                ratio = contrast_ratio(d.colour, d.fill)
                problems.append(f"{name}: {d.text!r} {d.colour} on {d.fill} is {ratio:.2f}:1")
        for a, b in _overlaps(layout.drawn):
            problems.append(f"{name}: {a.text!r} {a.rect} overlaps {b.text!r} {b.rect}")
    assert not problems, "\n".join(problems)
