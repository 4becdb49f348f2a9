import pytest
from conftest import assert_renders, board_angles, drive

from wobble_trainer.app.activities.base import COUNTDOWN_S, Phase
from wobble_trainer.app.activities.hold import HoldChallenge, HoldSettings, virtual_tilt
from wobble_trainer.app.scenes.menus import ResultsScene, StartScene
from wobble_trainer.feedback.cues import Cue


def start_hold(app, **settings):
    app.push(StartScene(app))
    scene = HoldChallenge(app, HoldSettings(**settings))
    app.push(scene)
    return scene


def test_steady_hold_scores_the_full_time_and_cues_countdown_go_end(app_context):
    scene = start_hold(app_context, duration_s=10)
    drive(app_context, COUNTDOWN_S + 10.5, lambda t: (0.5, -0.3))
    assert isinstance(app_context.scene, ResultsScene)
    assert scene.time_in_zone == pytest.approx(10.0, abs=0.011)
    assert scene.edge_touches == 0 and scene.first_touch_s is None
    cues = app_context.feedback.cues
    assert cues[:4] == [Cue.COUNTDOWN] * 3 + [Cue.GO]
    assert cues[-1] == Cue.END
    assert app_context.records.get(HoldSettings(duration_s=10).key()) == pytest.approx(10.0)


def test_time_outside_the_zone_is_not_counted(app_context):
    scene = start_hold(app_context, duration_s=20, zone_deg=3.0, stability_level=12)
    # 10 s level, then 10 s at 8° (cursor 0.6·(8-1.5) = 3.9° > 3°: outside)
    drive(
        app_context,
        COUNTDOWN_S + 20.5,
        lambda t: (0.0, 0.0) if t < COUNTDOWN_S + 10 else (8.0, 0.0),
    )
    assert scene.time_in_zone == pytest.approx(10.0, abs=0.05)
    assert scene.hold_time == pytest.approx(20.0, abs=0.011)


def test_edge_touch_pauses_the_timer_and_is_scored(app_context):
    scene = start_hold(app_context, duration_s=10)

    def script(t):
        return (15.0, 0.0) if COUNTDOWN_S + 2 <= t < COUNTDOWN_S + 4 else (0.0, 0.0)

    drive(app_context, COUNTDOWN_S + 8, script)
    assert scene.edge_touches == 1
    assert scene.first_touch_s == pytest.approx(2.0, abs=0.02)
    assert scene.hold_time == pytest.approx(6.0, abs=0.05)  # 2 s on the rim did not count
    assert Cue.EDGE in app_context.feedback.cues


def test_edge_touch_can_end_the_hold(app_context):
    scene = start_hold(app_context, duration_s=30, edge_ends_hold=True)
    drive(app_context, COUNTDOWN_S + 5, lambda t: (0.0, 16.0) if t > COUNTDOWN_S + 1 else (0, 0))
    assert scene.failed and scene.phase is Phase.DONE
    assert isinstance(app_context.scene, ResultsScene)


def test_sensor_loss_and_stepping_off_pause(app_context):
    scene = start_hold(app_context, duration_s=10)
    drive(app_context, COUNTDOWN_S + 1, lambda t: (0.0, 0.0))
    drive(app_context, 5, lambda t: None)  # sensor lost for 5 s
    assert scene.auto_paused
    assert scene.hold_time == pytest.approx(1.0, abs=0.02)
    drive(app_context, 3, lambda t: (0.0, 0.0), on_board=False)
    assert scene.hold_time == pytest.approx(1.0, abs=0.02)
    drive(app_context, 2, lambda t: (0.0, 0.0))
    assert scene.hold_time == pytest.approx(3.0, abs=0.02)


def test_stability_level_sets_gain_and_dead_band():
    easy, hard = HoldSettings(stability_level=12), HoldSettings(stability_level=1)
    assert easy.gain < hard.gain and easy.dead_band > hard.dead_band == 0.0
    assert virtual_tilt(board_angles(1.0, 0.0), easy) == (0.0, 0.0)  # inside the dead band
    pitch, _ = virtual_tilt(board_angles(4.0, 0.0), hard)
    assert pitch == pytest.approx(4.0 * hard.gain * 3.14159265 / 180, rel=1e-3)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        HoldSettings(duration_s=25)
    with pytest.raises(ValueError):
        HoldSettings(stability_level=13)


def test_hold_renders_in_every_phase_and_size(app_context):
    scene = start_hold(app_context, duration_s=10)
    assert_renders(scene)
    drive(app_context, COUNTDOWN_S + 1, lambda t: (1.0, 1.0))
    assert_renders(scene)
    eyes = start_hold(app_context, duration_s=10, eyes_closed=True)
    drive(app_context, COUNTDOWN_S + 1, lambda t: (1.0, 1.0))
    assert_renders(eyes)


def test_the_setup_names_the_level_virtual_and_says_what_it_changes(app_context):
    from wobble_trainer import virtual_level
    from wobble_trainer.app.activities.hold import HoldSetupScene

    scene = HoldSetupScene(app_context)
    assert any(o.startswith("Virtual stability level: 8") for o in scene.options)
    assert scene.message == virtual_level.NOTE
    assert_renders(scene)


def test_personal_bests_are_each_persons_own(app_context):
    import types

    from wobble_trainer.app.records import personal_key

    key = HoldSettings(duration_s=10).key()
    ann = types.SimpleNamespace(id=1, is_guest=False)
    zed = types.SimpleNamespace(id=2, is_guest=False)
    app_context.profile = zed
    start_hold(app_context, duration_s=10)
    drive(app_context, COUNTDOWN_S + 10.5, lambda t: (0.5, -0.3))  # Zed: the full 10 s
    assert app_context.scene.best
    app_context.profile = ann
    start_hold(app_context, duration_s=10)
    drive(app_context, COUNTDOWN_S + 3, lambda t: (0.5, -0.3))
    drive(app_context, 7.5, lambda t: (9.0, 0.0))  # Ann: out of the zone for the rest
    assert isinstance(app_context.scene, ResultsScene)
    assert app_context.scene.best  # her own first best, not measured against Zed's
    assert app_context.records.get(personal_key(zed, key)) == pytest.approx(10.0)
    assert app_context.records.get(personal_key(ann, key)) < 10.0
    assert app_context.records.get(key) is None  # nobody's shared best
    assert personal_key(None, key) == key
