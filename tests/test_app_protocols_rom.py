from datetime import date

import numpy as np
import pytest
from conftest import assert_renders, autopilot_script
from test_app_protocols_helpers import Driver

from wobble_trainer.app.protocols.ankle_rom import (
    AnkleRom,
    AnkleRomSettings,
    held_max,
    rom_axis,
)
from wobble_trainer.app.protocols.base import Phase, ProtocolResultsScene
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.storage import Profile


def start(app, **settings):
    app.push(StartScene(app))
    runner = AnkleRom(app, AnkleRomSettings(**settings))
    app.push(runner)
    return runner, Driver(app)


def hold(d, rest=(0.0, 0.0), moves=()):
    """A script relative to the trial's GO: ``moves`` = [(from_s, to_s, (pitch, roll))], the
    rest posture otherwise (also before GO)."""
    go = {}

    def script(t):
        runner = d.app.scene
        if getattr(runner, "phase", None) is not Phase.RUNNING:
            go.clear()
            return rest
        go.setdefault("t", t)
        s = t - go["t"]
        for a, b, angles in moves:
            if a <= s < b:
                return angles
        return rest

    return script


def test_directions_and_signs_per_side():
    # dorsiflexion = toes up = pitch < 0; plantarflexion = toes down = pitch > 0
    assert rom_axis("right", "dorsiflexion") == rom_axis("left", "dorsiflexion") == ("pitch", -1)
    assert rom_axis("right", "plantarflexion") == ("pitch", 1)
    # inversion: the outer edge goes down: right foot → right edge down (roll > 0)
    assert rom_axis("right", "inversion") == ("roll", 1)
    assert rom_axis("right", "eversion") == ("roll", -1)
    assert rom_axis("left", "inversion") == ("roll", -1)
    assert rom_axis("left", "eversion") == ("roll", 1)
    with pytest.raises(ValueError):
        rom_axis("middle", "inversion")


def test_held_max_is_the_best_value_kept_for_the_whole_window():
    values = np.array([0, 5, 12, 12, 12, 14, 3, 20, 0], dtype=float)
    assert held_max(values, 3) == (12.0, 2)
    assert held_max(values, 1) == (20.0, 7)
    assert held_max(values, 20) == (None, None)
    gap = np.array([12, 12, np.nan, 12, 12, 5, 5, 5], dtype=float)  # a pause splits the hold
    assert held_max(gap, 3) == (5.0, 3)  # [12, 12, 5]: no window of three 12s
    assert held_max(np.array([np.nan, np.nan]), 1) == (None, None)


def test_rom_per_direction_from_scripted_holds_right_foot(app_context):
    runner, d = start(app_context, sides=("right",), rest_s=0)
    assert [s.label for s in runner.plan] == [
        "right/dorsiflexion",
        "right/plantarflexion",
        "right/inversion",
        "right/eversion",
    ]
    scripts = [
        # toes up 12° for 3 s, a brief 14° overshoot for 1 s: 12° held
        hold(d, moves=[(1.0, 4.0, (-12.0, 0.0)), (4.0, 5.0, (-14.0, 0.0))]),
        # toes down to the board's 15° edge for 3 s
        hold(d, moves=[(1.0, 4.0, (15.0, 0.0))]),
        # inversion: right edge down 9° for 2.5 s; a 1 s 13° spike does not count
        hold(d, moves=[(1.0, 3.5, (0.0, 9.0)), (5.0, 6.0, (0.0, 13.0))]),
        # eversion: left edge down 6° for 2.2 s
        hold(d, moves=[(1.0, 3.2, (0.0, -6.0))]),
    ]
    for script in scripts:
        d.to_running(runner, script)
        d.finish_trial(runner, script)
    assert all(r.time_s == pytest.approx(10.0, abs=0.011) for r in runner.results)
    rom = runner.summary()["rom_deg"]["right"]
    assert rom["dorsiflexion"] == pytest.approx(12.0, abs=1e-6)
    assert rom["plantarflexion"] == pytest.approx(15.0, abs=1e-6)
    assert rom["inversion"] == pytest.approx(9.0, abs=1e-6)
    assert rom["eversion"] == pytest.approx(6.0, abs=1e-6)
    peaks = [r.metrics["peak_deg"] for r in runner.results]
    assert peaks == pytest.approx([14.0, 15.0, 13.0, 6.0], abs=1e-6)
    assert runner.summary()["at_edge"] == {"right": ["plantarflexion"]}
    scene = app_context.scene
    assert isinstance(scene, ProtocolResultsScene)
    assert "Right plantarflexion: ≥ 15.0° (board edge)" in scene.lines
    assert "Right dorsiflexion: 12.0°" in scene.lines
    assert not any("Springer" in x or "reference" in x.lower() for x in scene.lines + scene.notes)


def test_left_foot_signs_and_the_neutral_of_the_resting_foot(app_context):
    runner, d = start(app_context, sides=("left",), rest_s=0)
    rest = (3.0, -2.0)  # the relaxed foot rests toes down 3°, left edge down 2°
    scripts = [
        hold(d, rest, [(1.0, 4.0, (-9.0, -2.0))]),  # toes up to -9°: 12° from neutral
        hold(d, rest, [(1.0, 4.0, (10.0, -2.0))]),  # toes down to 10°: 7°
        hold(d, rest, [(1.0, 4.0, (3.0, -10.0))]),  # left (outer) edge down: inversion 8°
        hold(d, rest, [(1.0, 4.0, (3.0, 3.0))]),  # right (inner) edge down: eversion 5°
    ]
    for script in scripts:
        d.to_running(runner, script)
        assert runner.neutral == pytest.approx((np.radians(3.0), np.radians(-2.0)), abs=1e-12)
        d.finish_trial(runner, script)
    rom = runner.summary()["rom_deg"]["left"]
    assert rom == pytest.approx(
        {"dorsiflexion": 12.0, "plantarflexion": 7.0, "inversion": 8.0, "eversion": 5.0},
        abs=1e-6,
    )


def test_moving_the_wrong_way_gives_no_range(app_context):
    runner, d = start(app_context, sides=("left",), directions=("inversion", "eversion"), rest_s=0)
    script = hold(d, moves=[(1.0, 4.0, (0.0, 8.0))])  # right edge down: EVERSION on the left
    d.to_running(runner, script)
    d.finish_trial(runner, script)
    assert runner.results[0].metrics["rom_deg"] == pytest.approx(0.0, abs=1e-9)


def test_seated_foot_on_the_rim_does_not_pause_but_sensor_loss_does(app_context):
    runner, d = start(app_context, sides=("right",), directions=("plantarflexion",), rest_s=0)
    d.to_running(runner)
    d.on_board = False  # presence would say "nobody on the board": irrelevant seated
    d.run(3.0, lambda t: (15.0, 0.0))
    assert not runner.auto_paused and runner.elapsed == pytest.approx(3.01, abs=0.015)
    d.run(2.0, lambda t: None)
    assert runner.auto_paused and runner.elapsed == pytest.approx(3.01, abs=0.015)
    assert runner.live_best == pytest.approx(np.radians(15.0), abs=1e-9)


def test_reading_best_hold_and_bar_share_one_scale_and_are_labelled(app_context):
    import pygame

    from wobble_trainer.app.layout import Layout

    runner, d = start(app_context, sides=("left",), directions=("plantarflexion",), rest_s=0)
    rest = (3.0, 0.0)  # the relaxed foot rests toes down 3°: the rim is 12° from it
    d.to_running(runner, hold(d, rest))
    d.run(2.5, lambda t: (15.0, 0.0))  # toes down onto the front rim (15°)
    assert runner.edge_excursion() == pytest.approx(np.radians(12.0))
    assert runner.current == pytest.approx(np.radians(12.0))
    assert runner.bar_fractions() == pytest.approx((1.0, 1.0))  # number, bar, marker agree
    d.run(1.0, lambda t: (9.0, 0.0))  # back to 6° from rest: the bar halves, the best stays
    now, best = runner.bar_fractions()
    assert now == pytest.approx(0.5) and best == pytest.approx(1.0)

    shown = []

    class Seen(Layout):
        def text(self, surface, text, *args, **kwargs):
            shown.append(text)
            return super().text(surface, text, *args, **kwargs)

    pygame.init()
    layout = Seen(800, 480)
    runner.draw_running(pygame.Surface((800, 480)), layout, pygame.Rect(0, 0, 800, 480))
    assert "now 6.0°" in shown and "best held 2 s: 12.0°" in shown
    assert "rest 0°" in shown and "edge 12°" in shown  # the bar's ends are labelled


def test_autopilot_and_stored_session(app_with_db):  # noqa: F811
    app = app_with_db
    app.profile = Profile(1, "P", 1990, None, 1.8, "left", "right", False, date.today())
    runner, d = start(app, rest_s=0, trial_s=6)
    d.until(lambda: runner.phase is Phase.DONE, autopilot_script(app), limit_s=300)
    session = next(iter(app.db.sessions.iter_sessions()))
    assert session.kind == "test:ankle_rom" and session.finished
    labels = [t.label for t in app.db.sessions.load_trace(session.id)]
    assert labels == [
        f"{side}/{d}"
        for side in ("left", "right")
        for d in ("dorsiflexion", "plantarflexion", "inversion", "eversion")
    ]
    rom = session.metrics["rom_deg"]
    assert rom["left"]["inversion"] == pytest.approx(12.0, abs=1e-6)  # the autopilot's 12°
    assert session.metrics["limb_symmetry_pct"]["eversion"] == pytest.approx(100.0)
    assert session.metrics["limb_symmetry"] == {
        "involved": "left",
        "reference": "right",
        "basis": "injured",
    }


def test_settings_validation_and_rendering(app_context):
    with pytest.raises(ValueError):
        AnkleRomSettings(sides=())
    with pytest.raises(ValueError):
        AnkleRomSettings(directions=("twist",))
    with pytest.raises(ValueError):
        AnkleRomSettings(trial_s=3.0, hold_s=2.0)
    runner, d = start(app_context, rest_s=0)
    assert_renders(runner)
    d.to_running(runner)
    d.run(3.0, lambda t: (-10.0, 0.0))
    assert_renders(runner)
