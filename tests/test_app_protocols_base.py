from dataclasses import replace
from datetime import date

import pygame
import pytest
from conftest import assert_renders, autopilot_script
from test_app_protocols_helpers import Driver

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.protocols import PROTOCOLS, ProtocolMenuScene, ProtocolSettingsScene
from wobble_trainer.app.protocols.base import (
    Phase,
    ProtocolResultsScene,
    ProtocolRunner,
    step_setting,
)
from wobble_trainer.app.protocols.postural_stability import PosturalStabilitySettings
from wobble_trainer.app.protocols.single_leg_stance import SingleLegStanceSettings
from wobble_trainer.app.scenes.calibrate import CalibrationScene
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.storage import Profile
from wobble_trainer.tilt.calibration import Calibration

NAMES = [
    "single_leg_stance",
    "postural_stability",
    "limits_of_stability",
    "mctsib",
    "bess",
    "ankle_rom",
]


def calibrated(app):
    app.calibration = Calibration()  # not the uncalibrated default
    return app


def test_registry_and_menu_order(app_context):
    assert set(PROTOCOLS) == set(NAMES)
    assert PROTOCOLS["ankle_rom"].seated and not PROTOCOLS["bess"].seated
    menu = ProtocolMenuScene(app_context)
    assert [p.name for p in menu.protocols] == NAMES
    assert menu.options[0] == "Single-leg stance"
    assert_renders(menu)


def test_menu_opens_the_settings_screen_hands_free(app_context):
    app = calibrated(app_context)
    app.push(StartScene(app))
    app.push(ProtocolMenuScene(app))
    d = Driver(app)
    d.until(lambda: isinstance(app.scene, ProtocolSettingsScene), autopilot_script(app), 10)
    assert app.scene.protocol.name == "single_leg_stance"
    # the settings screen starts hands-free too (a forward lean held), replacing itself
    d.until(lambda: isinstance(app.scene, ProtocolRunner), autopilot_script(app), 10)
    assert app.scene.name == "single_leg_stance"
    assert app.stack[-2].__class__ is ProtocolMenuScene


def test_step_setting_clamps_and_skips_refused_values():
    s = SingleLegStanceSettings()
    row = {r.name: r for r in SingleLegStanceSettings.FIELDS}
    assert step_setting(s, row["trials"], 1).trials == 4
    assert step_setting(SingleLegStanceSettings(trials=5), row["trials"], 1).trials == 5
    assert step_setting(SingleLegStanceSettings(trials=1), row["trials"], -1).trials == 1
    assert step_setting(s, row["legs"], 1).legs == ("left",)
    assert step_setting(s, row["max_s"], -1).max_s == 30.0
    off_list = SingleLegStanceSettings(max_s=50.0)
    assert step_setting(off_list, row["max_s"], 1).max_s == 60.0
    assert step_setting(off_list, row["max_s"], -1).max_s == 45.0
    # a value the settings refuse is skipped (here: odd numbers)
    from dataclasses import dataclass

    from wobble_trainer.app.protocols.base import SettingField

    @dataclass(frozen=True)
    class Even:
        n: int = 2

        def __post_init__(self):
            if self.n % 2:
                raise ValueError("odd")

    even_row = SettingField("n", "N", (1, 2, 3, 4, 5))
    assert step_setting(Even(2), even_row, 1) == Even(4)
    assert step_setting(Even(4), even_row, 1) == Even(4)  # 5 refused, nothing beyond
    assert step_setting(Even(2), even_row, -1) == Even(2)


def test_settings_screen_rows_by_touch_and_keys(app_context):
    app = calibrated(app_context)
    app.push(StartScene(app))
    scene = ProtocolSettingsScene(app, PROTOCOLS["postural_stability"])
    app.push(scene)
    pygame.init()
    scene.render(pygame.Surface((800, 480)), Layout(800, 480))
    fields = [f.name for f in PosturalStabilitySettings.FIELDS]
    level_row = fields.index("stability_level")
    minus, plus = scene.buttons[2 * level_row][0], scene.buttons[2 * level_row + 1][0]
    assert scene.click(plus.center) and scene.click(plus.center)
    assert scene.settings.stability_level == 10
    assert scene.click(minus.center)
    assert scene.settings.stability_level == 9
    scene.command(Command.DOWN)  # the row after the level: stance
    scene.command(Command.RIGHT)
    assert scene.settings.stance == "left"
    scene.command(Command.SELECT)
    Driver(app).run(0.02)
    runner = app.scene
    assert runner.name == "postural_stability"
    assert runner.settings.stability_level == 9 and runner.settings.stance == "left"
    assert "LEFT leg" in runner.plan[0].instruction
    for size in ((800, 480), (720, 1280), (1280, 720)):
        assert_renders(scene, [size])


def test_an_uncalibrated_board_is_calibrated_first_except_seated(app_context):
    app = app_context
    app.push(StartScene(app))
    app.push(ProtocolSettingsScene(app, PROTOCOLS["bess"]))
    app.scene.start()
    assert isinstance(app.scene, CalibrationScene)
    app.pop()
    app.push(ProtocolSettingsScene(app, PROTOCOLS["ankle_rom"]))
    app.scene.start()
    assert app.scene.name == "ankle_rom"


def test_pause_command_and_announcement(app_context):
    app = calibrated(app_context)
    app.push(StartScene(app))
    runner = PROTOCOLS["postural_stability"].factory(app, PosturalStabilitySettings(rest_s=0))
    said = []
    app.sound = type("Speaker", (), {"say": lambda self, text: said.append(text)})()
    app.push(runner)
    assert app.feedback.cues == [Cue.SELECT] and said == [runner.plan[0].instruction]
    d = Driver(app)
    d.to_running(runner)
    d.run(1.0)
    runner.command(Command.PAUSE)
    d.run(3.0)
    assert runner.user_paused and runner.elapsed == pytest.approx(1.01, abs=0.015)
    runner.command(Command.SELECT)  # resumes
    d.run(1.0)
    assert runner.elapsed == pytest.approx(2.01, abs=0.015)
    assert_renders(runner)


SHORT = {
    "single_leg_stance": {"trials": 1, "max_s": 10.0, "surface": "floor"},
    "postural_stability": {"practice_trials": 0, "test_trials": 1, "duration_s": 10.0},
    "limits_of_stability": {},
    "mctsib": {"duration_s": 10.0},
    "bess": {"duration_s": 10.0},
    "ankle_rom": {"trial_s": 6.0},
}


def run_protocol(app, name):
    """Run a whole protocol (short trials, no rests) on the autopilot."""
    protocol = PROTOCOLS[name]
    settings = replace(protocol.default_settings(), rest_s=0.0, **SHORT[name])
    runner = protocol.factory(app, settings)
    app.push(runner)
    d = Driver(app)
    script = autopilot_script(app)
    while runner.phase is not Phase.DONE:
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        d.step(script)
    return runner


@pytest.mark.parametrize("name", NAMES)
def test_only_single_leg_stance_shows_reference_values(app_context, name):
    app = calibrated(app_context)
    app.profile = Profile(
        1, "P", date.today().year - 72, None, 1.7, "none", "right", False, date.today()
    )
    app.push(StartScene(app))
    runner = run_protocol(app, name)
    scene = app.scene
    assert isinstance(scene, ProtocolResultsScene)
    text = "\n".join(scene.lines + scene.notes)
    shown = "Springer" in text or "reference values" in text.lower()
    assert shown == (name == "single_leg_stance")
    stored = runner.summary_metrics
    assert stored["completed"] is True and stored["protocol"] == name
    assert (stored.get("reference") is not None) == (name == "single_leg_stance")
    assert_renders(scene)
