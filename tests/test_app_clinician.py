"""The clinician menu: its screens (or "not available"), live sensor diagnostics, power off and
reboot through an injected command runner (never run here), leaving the kiosk, changing the PIN."""

import sys
import types

import pytest
from conftest import assert_renders

from wobble_trainer.app.controls import Command
from wobble_trainer.app.kiosk import Kiosk, PinPadScene, PinStore, PowerControl
from wobble_trainer.app.layout import RED
from wobble_trainer.app.scene import Scene, Tick
from wobble_trainer.app.scenes import clinician
from wobble_trainer.app.scenes.clinician import (
    ClinicianMenuScene,
    ConfirmScene,
    DiagnosticsScene,
    MessageScene,
)
from wobble_trainer.appliance.pin import ScryptParams
from wobble_trainer.clock import ManualClock


class Runner:
    def __init__(self, returncode=0, stderr=""):
        self.commands = []
        self.returncode = returncode
        self.stderr = stderr

    def __call__(self, argv):
        self.commands.append(argv)
        return types.SimpleNamespace(returncode=self.returncode, stderr=self.stderr)


class Sampler:
    """Stats of a 1000 Hz sampler that lost 4 samples, advanced by the scene's logic steps."""

    def __init__(self):
        self.samples = 0.0

    def stats(self):
        self.samples += 10.0
        return {"samples": self.samples, "odr_hz": 1000.0, "connected": 1.0,
                "lost_samples": 4.0, "gaps": 1.0, "i2c_errors": 0.0, "reconnects": 0.0,
                "clock_error_ppm": 183.0, "lateness_p99_s": 0.0031}  # fmt: skip


@pytest.fixture
def menu(app_context, tmp_path):
    store = PinStore(tmp_path / "clinician-pin", ScryptParams(log2_n=4, r=1, p=1))
    store.set_pin("1357")
    runner = Runner()
    sampler = Sampler()
    app_context.push(Scene(app_context))
    kiosk = Kiosk(
        app_context,
        store=store,
        clock=ManualClock(),
        power=PowerControl(run=runner),
        sampler_stats=sampler.stats,
        sampler_info=lambda: {
            "chip": "MPU-6050",
            "address": 0x68,
            "bus": 1,
            "config": {"odr_hz": 1000.0},
        },  # fmt: skip
    )
    kiosk.clinician_unlocked = True
    scene = ClinicianMenuScene(app_context, kiosk)
    app_context.push(scene)
    return scene, kiosk, runner


def choose(scene, label):
    labels = [text for text, _ in scene.items()]
    scene.activate(labels.index(label))


def test_menu_offers_every_clinician_tool_and_renders(menu):
    scene, _, _ = menu
    assert [label for label, _ in scene.items()] == [
        "Calibrate board", "Profiles", "Assign programme", "Protocol settings", "Export to USB",
        "Sensor diagnostics", "Change PIN", "Leave kiosk", "Reboot", "Shut down", "Lock",
    ]  # fmt: skip
    assert_renders(scene)


def test_keys_move_the_highlight_and_enter_chooses(menu):
    scene, kiosk, _ = menu
    scene.command(Command.LEFT)
    assert scene.highlight == len(scene.items()) - 1  # wraps to "Lock"
    scene.command(Command.SELECT)
    assert scene.app.scene is not scene and not kiosk.clinician_unlocked  # closed and locked


def test_a_missing_screen_says_so(menu, monkeypatch):
    scene, _, _ = menu
    monkeypatch.setitem(
        clinician.CLINICIAN_SCREENS, "export", ("Export to USB", (("no_such_mod", "X"),))
    )
    choose(scene, "Export to USB")
    shown = scene.app.scene
    assert isinstance(shown, MessageScene) and shown.title == "Export to USB: not available"
    assert_renders(shown)
    shown.activate(0)
    assert scene.app.scene is scene


def test_another_parts_screen_opens_with_the_options_it_accepts(menu, monkeypatch):
    scene, kiosk, _ = menu
    module = types.ModuleType("fake_export")

    class ExportScene(Scene):
        def __init__(self, app, *, allow_back=False):
            super().__init__(app)
            self.allow_back = allow_back

    module.ExportScene = ExportScene
    monkeypatch.setitem(sys.modules, "fake_export", module)
    monkeypatch.setitem(
        clinician.CLINICIAN_SCREENS, "export", ("Export to USB", (("fake_export", "ExportScene"),))
    )
    choose(scene, "Export to USB")
    assert isinstance(scene.app.scene, ExportScene) and scene.app.scene.allow_back


def test_diagnostics_measure_the_rate_and_flag_lost_samples(menu):
    scene, _, _ = menu
    choose(scene, "Sensor diagnostics")
    diag = scene.app.scene
    assert isinstance(diag, DiagnosticsScene)
    assert "Rate: measuring…" in [text for text, _ in diag.report()]
    for _ in range(300):
        diag.update(0.01, Tick(0.0, None))
    assert diag.rate_hz == pytest.approx(1000.0)
    lines = dict(diag.report())
    assert "MPU-6050 at 0x68 on bus 1, 1000 Hz — connected" in lines
    assert "Rate: 1000.0 Hz (set 1000 Hz)" in lines
    assert lines["Lost samples: 4 in 1 gaps, FIFO overflows 0"] == RED
    assert "Chip clock error: +183 ppm   resyncs: 0" in lines
    assert_renders(diag)


def test_shut_down_and_reboot_ask_first_and_run_systemctl(menu):
    scene, kiosk, runner = menu
    choose(scene, "Shut down")
    confirm = scene.app.scene
    assert isinstance(confirm, ConfirmScene) and confirm.highlight == 1  # Cancel is the default
    assert_renders(confirm)
    confirm.command(Command.SELECT)
    assert runner.commands == [] and scene.app.scene is scene
    choose(scene, "Shut down")
    scene.app.scene.activate(0)
    assert runner.commands == [["systemctl", "poweroff"]]
    assert scene.app.scene.title == "Shutting down…"
    scene.app.scene.close()
    runner.returncode, runner.stderr = 1, "Interactive authentication required."
    choose(scene, "Reboot")
    scene.app.scene.activate(0)
    assert runner.commands[-1] == ["systemctl", "reboot"]
    failed = scene.app.scene
    assert failed.title == "Rebooting failed" and "authentication" in failed.message


def test_leave_kiosk_lets_the_loop_end(menu):
    scene, kiosk, _ = menu
    choose(scene, "Leave kiosk")
    scene.app.scene.activate(0)
    assert kiosk.exit_allowed and scene.app.quit_requested
    kiosk.guard()
    assert scene.app.quit_requested  # the guard lets an allowed exit through


def test_change_pin(menu):
    scene, kiosk, _ = menu
    choose(scene, "Change PIN")
    pad = scene.app.scene
    assert isinstance(pad, PinPadScene) and pad.mode == "set"
    for attempt in ("86420", "86420"):
        for d in attempt:
            pad.press(d)
        pad.press("OK")
    assert scene.app.scene.title == "PIN changed"
    assert kiosk.try_pin("86420").accepted and not kiosk.try_pin("1357").accepted


def test_calibrate_needs_a_live_sensor(menu):
    scene, _, _ = menu
    choose(scene, "Calibrate board")
    assert isinstance(scene.app.scene, MessageScene)
    assert scene.app.scene.message == "No live sensor to calibrate."
