import numpy as np
import pytest
from conftest import assert_renders, autopilot_script, confirm_stop, drive

from wobble_trainer.app.activities.hold import HoldChallenge, HoldSetupScene
from wobble_trainer.app.controls import Command
from wobble_trainer.app.scenes.calibrate import CalibrationScene
from wobble_trainer.app.scenes.menus import (
    ActivityMenuScene,
    HomeScene,
    MoreMenuScene,
    RestScene,
    ResultsScene,
    SafetyScene,
    StartScene,
    WarmUpScene,
)
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.tilt.calibration import Calibration


def choose(app, index):
    """Lean to ``index`` and confirm by holding forward, as a person would."""
    scene = app.scene
    drive(app, 0.6, lambda t: (0.0, 0.0))
    while scene.menu.highlight != index:
        drive(app, 0.5, lambda t: (0.0, 10.0))
        drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (12.0, 0.0))


def test_home_flow_by_leaning(app_context):
    app = app_context
    app.calibration = Calibration(uncalibrated=False)
    app.push(StartScene(app))
    choose(app, 0)
    assert isinstance(app.scene, SafetyScene)
    choose(app, 0)  # "No": not injured
    assert isinstance(app.scene, WarmUpScene)
    choose(app, 0)
    assert isinstance(app.scene, HomeScene)
    choose(app, app.scene.options.index("Train"))
    assert isinstance(app.scene, ActivityMenuScene)
    names = [a.name for a in app.scene.activities]
    choose(app, names.index("hold"))
    assert isinstance(app.scene, HoldSetupScene)
    choose(app, 0)  # "Start" with the settings shown
    assert isinstance(app.scene, HoldChallenge)
    assert Cue.SELECT in app.feedback.cues


def test_an_injured_ankle_gets_rest_advice_and_no_session(app_context):
    app = app_context
    app.push(StartScene(app))
    choose(app, 0)
    choose(app, 1)  # "Yes": swollen, painful or freshly injured
    assert isinstance(app.scene, RestScene)
    choose(app, 0)
    assert isinstance(app.scene, StartScene)
    assert len(app.stack) == 1


def test_uncalibrated_board_is_calibrated_before_a_standing_activity(app_context):
    app = app_context
    app.push(ActivityMenuScene(app))
    names = [a.name for a in app.scene.activities]
    app.scene.menu.touch(names.index("hold"))
    drive(app, 0.05, lambda t: (0.0, 0.0))
    assert isinstance(app.scene, CalibrationScene)
    assert app.scene.then.name == "hold"


def test_calibration_scene_runs_the_procedure_on_raw_samples(app_context):
    from wobble_trainer.units import STANDARD_GRAVITY

    class Reader:
        """Raw samples of a board held level, then tilted as asked, 200 Hz."""

        def __init__(self):
            self.t = 0.0

        def read_new(self):
            from wobble_trainer.sampling.samples import make_samples

            scene = app_context.scene
            pitch, roll = scene.autopilot(None)
            n = 2  # 10 ms of samples per logic step
            t = self.t + np.arange(1, n + 1) / 200.0
            self.t = float(t[-1])
            g = STANDARD_GRAVITY
            up = np.array(
                [-np.sin(pitch), np.sin(roll) * np.cos(pitch), np.cos(roll) * np.cos(pitch)]
            )
            rng = np.random.default_rng(int(self.t * 1000))
            acc = np.tile(up * g, (n, 1)) + rng.normal(0, 0.005, (n, 3))
            return make_samples(t, acc, np.zeros((n, 3)))

    saved = []
    app_context.sample_reader = Reader
    app_context.save_calibration = saved.append
    app_context.push(StartScene(app_context))
    scene = CalibrationScene(app_context)
    app_context.push(scene)
    # 15° edges in every direction: clamp the asked 30° poses at the rim
    drive(app_context, 60.0, lambda t: (0.0, 0.0))
    assert saved, scene.procedure.hint
    assert isinstance(app_context.scene, StartScene)
    assert Cue.END in app_context.feedback.cues


def test_results_and_every_menu_render(app_context):
    app = app_context
    for scene in (
        StartScene(app),
        SafetyScene(app),
        RestScene(app),
        WarmUpScene(app),
        ActivityMenuScene(app),
        CalibrationScene(app),
        ResultsScene(app, "Hold complete", ["Time in zone: 20 s"], best=True),
        ResultsScene(app, "Hold complete", ["Time in zone: 20 s"], warning="The disk is full."),
    ):
        app.push(scene)
        assert_renders(scene)


def test_menu_autopilot_chooses(app_context):
    app = app_context
    app.push(StartScene(app))
    drive(app, 5.0, autopilot_script(app))
    assert isinstance(app.scene, SafetyScene)


def test_long_press_menu_goes_home(app_context):
    app = app_context
    app.push(StartScene(app))
    app.push(SafetyScene(app))
    app.scene.command(Command.MENU)
    assert isinstance(app.scene, StartScene)


def test_menu_entries_besides_activities_open_their_screens(app_context, tmp_path):
    from wobble_trainer.app.protocols import ProtocolMenuScene
    from wobble_trainer.app.scenes.export import ExportScene
    from wobble_trainer.app.scenes.history import HistoryScene
    from wobble_trainer.app.scenes.profiles import ProfileSelectScene
    from wobble_trainer.app.scenes.programme import TodayPlanScene
    from wobble_trainer.storage import open_database

    with open_database(tmp_path / "db") as db:
        app = app_context
        app.db = db
        app.safety_cleared_for = ("guest", None)
        home = HomeScene(app)
        app.push(home)
        more = MoreMenuScene(app)
        for menu, title, kind in (
            (home, "Train", ActivityMenuScene),
            (home, "Today's plan", TodayPlanScene),
            (home, "Tests", ProtocolMenuScene),
            (home, "My progress", HistoryScene),
            (home, "More", MoreMenuScene),
            (more, "Switch person", ProfileSelectScene),
            (more, "Export to USB", ExportScene),
        ):
            if menu is more and app.scene is not more:
                app.push(more)
            menu.menu.touch(menu.options.index(title))
            drive(app, 0.02, lambda t: (0.0, 0.0))
            assert isinstance(app.scene, kind), title
            assert_renders(app.scene)
            app.pop()


def test_in_kiosk_mode_the_patient_menu_has_no_export(app_context, tmp_path):
    from wobble_trainer.storage import open_database

    with open_database(tmp_path / "db") as db:
        app_context.db = db
        app_context.kiosk = object()
        assert "Export to USB" not in MoreMenuScene(app_context).options


def test_the_safety_question_has_no_answer_until_the_person_leans_to_one(app_context):
    app = app_context
    app.push(StartScene(app))
    app.push(SafetyScene(app))
    scene = app.scene
    assert scene.menu.highlight is None
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 5.0, lambda t: (12.0, 0.0))  # a long forward lean answers nothing
    scene.command(Command.SELECT)  # nor does a key or the button
    scene.command(Command.PAUSE)
    drive(app, 0.1, lambda t: (0.0, 0.0))
    assert app.scene is scene and scene.menu.highlight is None
    drive(app, 0.5, lambda t: (0.0, -10.0))  # lean left: "No" highlighted, not chosen
    assert scene.menu.highlight == 0 and app.scene is scene
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (12.0, 0.0))
    assert isinstance(app.scene, WarmUpScene)


def test_the_safety_question_is_asked_again_for_every_new_person(app_context):
    app = app_context
    app.push(StartScene(app))
    choose(app, 0)
    choose(app, 0)  # "No"
    choose(app, 0)  # warmed up
    home = app.scene
    assert isinstance(home, HomeScene)
    app.push(ResultsScene(app, "Done", []))
    app.profile = type("P", (), {"id": 42})()  # switched person
    app.pop()
    assert isinstance(app.scene, SafetyScene)
    choose(app, 0)  # "No"
    choose(app, 0)  # warmed up: back home, not asked again
    assert app.scene is home
    home.resume()
    assert app.scene is home


def leans_to(menu_count: int, index: int) -> int:
    """Sideways leans from the first option to ``index`` in a wrapping menu."""
    return min(index, menu_count - index)


def test_everything_is_at_most_three_leans_and_a_hold_away(app_context, tmp_path):
    """From home, each entry of each menu: at most three leans on every screen on the way,
    one hold per screen, at most two screens deep; the home screen has at most five."""
    from wobble_trainer.app.protocols import ProtocolMenuScene
    from wobble_trainer.storage import open_database

    with open_database(tmp_path / "db") as db:
        app = app_context
        app.db = db
        app.kiosk = type("K", (), {"open_clinician_menu": lambda self: None, "gate": None})()
        app.safety_cleared_for = ("guest", None)
        home = HomeScene(app)
        assert len(home.options) <= 5
        reached = {}
        for i, title in enumerate(home.options):
            reached[title] = [leans_to(len(home.options), i)]
        for title, sub in (
            ("Train", ActivityMenuScene(app)),
            ("Tests", ProtocolMenuScene(app)),
            ("More", MoreMenuScene(app)),
        ):
            n = len(sub.options)
            for i, entry in enumerate(sub.options):
                reached[f"{title} / {entry}"] = [*reached[title], leans_to(n, i)]
        assert len(reached) >= 15
        for path, leans in reached.items():
            assert all(k <= 3 for k in leans), (path, leans)
            assert len(leans) <= 2, path
        assert reached["My progress"] == [1]


def test_leaving_a_running_activity_asks_first_and_keep_going_loses_nothing(app_context):
    from wobble_trainer.app.activities.base import COUNTDOWN_S
    from wobble_trainer.app.scenes.menus import ConfirmStopScene

    app = app_context
    app.push(StartScene(app))
    hold = HoldChallenge(app)
    app.push(hold)
    drive(app, COUNTDOWN_S + 4, lambda t: (0.0, 0.0))
    held = hold.hold_time
    hold.command(Command.MENU)  # one key: a question, not the end
    assert isinstance(app.scene, ConfirmStopScene)
    assert app.scene.menu.highlight == 0  # "Keep going"
    drive(app, 5, lambda t: (0.0, 0.0))  # the question waits; the hold's clock stands still
    assert hold.hold_time == held
    app.scene.command(Command.BACK)  # BACK keeps going too
    assert app.scene is hold and not hold.paused
    drive(app, 1, lambda t: (0.0, 0.0))
    assert hold.hold_time > held
    hold.command(Command.BACK)
    confirm_stop(app)
    assert isinstance(app.scene, StartScene)


def test_leaving_a_running_test_asks_first_and_the_question_time_is_left_out(app_with_db):
    from test_app_protocols_helpers import Driver

    from wobble_trainer.app.protocols.base import Phase
    from wobble_trainer.app.protocols.mctsib import Mctsib, MctsibSettings
    from wobble_trainer.app.scenes.menus import ConfirmStopScene

    app = app_with_db
    app.push(StartScene(app))
    runner = Mctsib(app, MctsibSettings(duration_s=10, rest_s=0))
    app.push(runner)
    driver = Driver(app)
    while runner.phase is not Phase.RUNNING:
        if runner.phase is Phase.SETUP:
            runner.command(Command.SELECT)
        driver.step(lambda t: (0.5, 0.3))
    for _ in range(200):
        driver.step(lambda t: (0.5, 0.3))
    elapsed = runner.elapsed
    runner.command(Command.MENU)
    assert isinstance(app.scene, ConfirmStopScene)
    assert "will not be kept" in app.scene.message
    driver.run(3, lambda t: (0.5, 0.3))
    assert runner.elapsed == elapsed
    app.scene.menu.touch(0)  # "Keep going"
    driver.step(lambda t: (0.5, 0.3))
    assert app.scene is runner and runner.phase is Phase.RUNNING and not runner.paused
    driver.until(lambda: runner.index == 1, lambda t: (0.5, 0.3))
    assert runner.results[0].time_s == pytest.approx(10.0)
    # the 3 s of the question are left out of the trial's metrics (kept in its raw trace)
    (start, stop), *_ = runner.trial.excluded
    assert stop - start >= 299


def test_a_test_waits_for_its_pose_hands_free_and_shows_how_close_the_person_is(app_context):
    import pygame

    from wobble_trainer.app.layout import Layout
    from wobble_trainer.app.protocols.base import READY_HOLD_S, Phase
    from wobble_trainer.app.protocols.postural_stability import (
        PosturalStability,
        PosturalStabilitySettings,
    )

    app = app_context
    app.push(StartScene(app))
    runner = PosturalStability(app, PosturalStabilitySettings())
    app.push(runner)
    layout = Layout(800, 480)
    surface = pygame.Surface((800, 480))

    def texts():
        layout.begin_frame()
        runner.render(surface, layout)
        return " | ".join(d.text for d in layout.drawn)

    drive(app, 3, lambda t: (8.0, 0.0))  # tilted: nothing starts
    assert runner.phase is Phase.INSTRUCT
    shown = texts()
    assert "Hold the board level for 2 s to start" in shown and "Tilted 8°" in shown
    assert "tap" not in shown.lower()
    drive(app, 1, lambda t: (1.0, 0.0))
    assert "Good: hold still" in texts()
    drive(app, READY_HOLD_S, lambda t: (1.0, 0.0))
    assert runner.phase is Phase.COUNTDOWN  # no key, no tap
