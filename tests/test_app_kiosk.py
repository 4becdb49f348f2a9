"""Kiosk mode: no way out without the PIN, PIN lockout on a manual clock, first-run PIN,
inactivity logout with scripted ticks, the attract screen and patient data scoping."""

import json
import os
import signal
import stat
import sys
import types

import numpy as np
import pygame
import pytest
from conftest import assert_renders, board_angles

from wobble_trainer.app import kiosk as kiosk_module
from wobble_trainer.app.kiosk import (
    AttractScene,
    Kiosk,
    KioskSettings,
    PinPadScene,
    PinStore,
    PowerControl,
    can_see_profile,
    kiosk_settings,
    require_clinician,
)
from wobble_trainer.app.scene import Scene, Tick
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.app.shell import TrainerApp
from wobble_trainer.appliance.pin import ScryptParams
from wobble_trainer.clock import ManualClock
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.tilt.stream import ANGLE_DTYPE

FAST = ScryptParams(log2_n=4, r=1, p=1)
"""Cheap scrypt for tests (the real cost: ``python -m wobble_trainer.appliance.pin``)."""
PIN = "2468"


class FakeFeed:
    simulated = False

    def __init__(self):
        self.angles = board_angles(1.0, 0.0)
        self.new_angles = np.empty(0, dtype=ANGLE_DTYPE)
        self.new_samples = np.empty(0, dtype=SAMPLE_DTYPE)

    def poll(self):
        return self.angles

    def lean(self, pitch, roll):
        pass


class Patient:
    def __init__(self, id, name="Pat"):
        self.id = id
        self.name = name


@pytest.fixture(autouse=True)
def no_profile_screen(monkeypatch):
    # The profiles screen is another module's: tests that need one install a fake.
    monkeypatch.setattr(kiosk_module, "PROFILE_SELECT", ("no_such_module_here", "X"))


def make_kiosk(app, tmp_path, *, pin=PIN, clock=None, **settings):
    store = PinStore(tmp_path / "clinician-pin", FAST)
    if pin is not None:
        store.set_pin(pin)
    app.push(StartScene(app))
    kiosk = Kiosk(
        app,
        store=store,
        settings=KioskSettings(enabled=True, **settings),
        clock=clock or ManualClock(100.0),
        power=PowerControl(run=lambda argv: types.SimpleNamespace(returncode=0, stderr="")),
    )
    kiosk.start()
    return kiosk


@pytest.fixture
def shell(app_context, tmp_path):
    kiosk = make_kiosk(app_context, tmp_path)
    app = TrainerApp(FakeFeed(), app_context, kiosk=kiosk)
    return app, kiosk


def key(k, mod=0, unicode=""):
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode=unicode, scancode=0)


def post_and_frame(app, *events):
    pygame.event.clear()
    for event in events:
        pygame.event.post(event)
    app.frame(0.02)


def type_pin(app, digits):
    post_and_frame(app, *[key(getattr(pygame, f"K_{d}"), unicode=d) for d in digits],
                   key(pygame.K_RETURN))  # fmt: skip
    app.frame(0.02)  # Enter confirms at the next logic step, like every menu


# -- no way out ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event, source",
    [
        (pygame.event.Event(pygame.QUIT), "window close"),
        (key(pygame.K_q, pygame.KMOD_LCTRL, "q"), "Ctrl-Q"),
        (key(pygame.K_c, pygame.KMOD_LCTRL, "c"), "Ctrl-C"),
        (key(pygame.K_F4, pygame.KMOD_LALT), "Alt-F4"),
    ],
)
def test_escape_attempts_do_not_quit_they_ask_for_the_pin(shell, event, source):
    app, kiosk = shell
    post_and_frame(app, event)
    assert app.running() and not app.app.quit_requested
    assert isinstance(app.app.scene, PinPadScene) and kiosk.escape_attempts == [source]
    # A second attempt while the pad is up does not stack another pad.
    post_and_frame(app, event)
    assert sum(isinstance(s, PinPadScene) for s in app.app.stack) == 1
    app.app.scene.cancel()
    assert app.running() and not isinstance(app.app.scene, PinPadScene)


def test_escape_key_never_quits(shell):
    app, kiosk = shell
    for _ in range(5):
        post_and_frame(app, key(pygame.K_ESCAPE))
        app.frame(0.02)
    assert app.running() and isinstance(app.app.scene, StartScene)
    assert app.app.stack and kiosk.escape_attempts == []


def test_a_quit_request_or_an_empty_stack_is_refused(shell):
    app, kiosk = shell
    app.app.quit_requested = True
    assert app.running() and isinstance(app.app.scene, PinPadScene)
    assert kiosk.escape_attempts == ["quit request"]
    app.app.stack.clear()
    assert app.running() and isinstance(app.app.scene, StartScene)


def test_console_signals_are_escape_attempts_and_handlers_are_restored(shell):
    app, kiosk = shell
    with app.signal_handlers():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGQUIT)
        assert app.running()
    assert kiosk.escape_attempts == ["SIGINT", "SIGQUIT"]
    assert isinstance(app.app.scene, PinPadScene)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sigterm_from_systemd_still_stops_cleanly(shell):
    app, kiosk = shell
    with app.signal_handlers():
        os.kill(os.getpid(), signal.SIGTERM)
        assert not app.running()
    assert app.stop_reason == "SIGTERM" and kiosk.exit_allowed and kiosk.stop_reason == "SIGTERM"


def test_the_right_pin_quits_a_wrong_one_does_not(shell):
    app, kiosk = shell
    post_and_frame(app, pygame.event.Event(pygame.QUIT))
    pad = app.app.scene
    type_pin(app, "1111")
    assert app.running() and app.app.scene is pad
    assert pad.message == "Wrong PIN. 2 more tries before a wait."
    type_pin(app, PIN)
    assert not app.running() and kiosk.exit_allowed and kiosk.stop_reason == "clinician"


def test_pin_pad_shows_dots_and_backspace_deletes(shell):
    app, _ = shell
    post_and_frame(app, pygame.event.Event(pygame.QUIT))
    pad = app.app.scene
    post_and_frame(app, key(pygame.K_1, unicode="1"), key(pygame.K_KP_2), key(pygame.K_BACKSPACE))
    assert pad.entered == "1"
    for digit in "234567890":
        pad.press(digit)
    assert pad.entered == "12345678"  # at most 8 digits
    pad.press("OK")
    assert app.running()
    assert_renders(pad)


# -- lockout --------------------------------------------------------------------------------------
def test_lockout_delays_grow_and_are_measured_on_the_injected_clock(app_context, tmp_path):
    clock = ManualClock(100.0)
    kiosk = make_kiosk(app_context, tmp_path, clock=clock)
    for failures in (1, 2):
        result = kiosk.try_pin("0000")
        assert not result.accepted and result.failures == failures and kiosk.retry_after() == 0
    result = kiosk.try_pin("0000")
    assert result.retry_after_s == 30.0 and kiosk.retry_after() == 30.0
    # While locked even the right PIN is refused unchecked, and nothing is counted.
    refused = kiosk.try_pin(PIN)
    assert refused.locked and not refused.accepted and refused.failures == 3
    clock.advance(29.9)
    assert kiosk.try_pin(PIN).locked
    clock.advance(0.2)
    assert kiosk.try_pin("0000").retry_after_s == 60.0
    clock.advance(60.0)
    assert kiosk.try_pin("0000").retry_after_s == 120.0
    # The count survives a restart: a new kiosk on the same file starts locked.
    again = Kiosk(app_context, store=kiosk.store, clock=ManualClock(0.0))
    assert again.retry_after() == 120.0
    clock.advance(120.0)
    ok = kiosk.try_pin(PIN)
    assert ok.accepted and ok.failures == 0
    assert json.loads(kiosk.store.path.read_text())["failures"] == 0


def test_locked_pad_ignores_digits_and_counts_down(app_context, tmp_path):
    clock = ManualClock(0.0)
    kiosk = make_kiosk(app_context, tmp_path, clock=clock)
    kiosk.escape_attempt("test")
    pad = app_context.scene
    for _ in range(3):
        for d in "9999":
            pad.press(d)
        pad.press("OK")
    assert pad.message == "Wrong PIN. Locked for 30 s."
    pad.press("1")
    assert pad.entered == ""  # digits are ignored while locked
    clock.advance(12.2)
    pad.press("OK")
    assert pad.message == "Too many wrong PINs. Try again in 18 s."
    assert_renders(pad)


# -- first run and the PIN file -------------------------------------------------------------------
def test_first_run_asks_for_a_new_pin_twice_and_stores_only_its_hash(app_context, tmp_path):
    kiosk = make_kiosk(app_context, tmp_path, pin=None)
    pad = app_context.scene
    assert isinstance(pad, PinPadScene) and pad.mode == "set" and not kiosk.has_pin
    pad.cancel()
    assert app_context.scene is pad  # cannot be skipped
    for attempt in ("12", "1234", "1235"):
        for d in attempt:
            pad.press(d)
        pad.press("OK")
    assert "differ" in pad.message
    for attempt in ("5678", "5678"):
        for d in attempt:
            pad.press(d)
        pad.press("OK")
    assert isinstance(app_context.scene, AttractScene) and kiosk.has_pin
    path = tmp_path / "clinician-pin"
    data = json.loads(path.read_text())
    assert data["hash"].startswith("$scrypt$ln=4,") and "5678" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["clinician-pin"]  # no temp file left
    assert kiosk.try_pin("5678").accepted


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[" * 100_000 + "]" * 100_000,
        '{"hash": "$scrypt$ln=4,r=8,p=1$AAAA$AAAA", "failures": Infinity}',
        '{"hash": "$scrypt$ln=4,r=8,p=1$AAAA$AAAA", "failures": 1e400}',
        '{"hash": "$scrypt$ln=4,r=8,p=1$AAAA$AAAA", "failures": 2.5}',
        '["hash"]',
    ],
)
def test_a_damaged_pin_file_is_reported_not_bypassed(app_context, tmp_path, text):
    (tmp_path / "clinician-pin").write_text(text)
    store = PinStore(tmp_path / "clinician-pin", FAST)
    app_context.push(StartScene(app_context))
    kiosk = Kiosk(app_context, store=store, clock=ManualClock())
    kiosk.start()
    assert "damaged" in kiosk.pin_error and "sudo rm" in kiosk.pin_error
    kiosk.escape_attempt("Ctrl-Q")
    assert type(app_context.scene).__name__ == "MessageScene"
    assert not kiosk.exit_allowed and not kiosk.clinician_unlocked


# -- inactivity and the attract screen -------------------------------------------------------------
def idle(kiosk, seconds, *, on_board=False):
    angles = board_angles(14.0, 0.0)
    for _ in range(round(seconds / 0.01)):
        kiosk.update(0.01, Tick(0.0, angles, on_board))


def test_inactivity_logs_the_patient_out_behind_the_attract_screen(app_context, tmp_path):
    kiosk = make_kiosk(app_context, tmp_path, inactivity_s=60.0)
    app_context.scene.leave()  # someone stepped on
    app_context.profile = Patient(7)
    app_context.push(Scene(app_context))  # somewhere in an activity
    idle(kiosk, 59.0)
    kiosk.note_activity()  # a tap resets the timer
    idle(kiosk, 59.0)
    idle(kiosk, 30.0, on_board=True)  # standing on the board is activity
    idle(kiosk, 59.0)
    assert app_context.profile is not None and type(app_context.scene) is Scene
    idle(kiosk, 1.01)
    assert app_context.profile is None
    assert isinstance(app_context.scene, AttractScene)
    assert [type(s) for s in app_context.stack] == [StartScene, AttractScene]
    idle(kiosk, 600.0)  # the attract screen itself never times out
    assert len(app_context.stack) == 2


def test_an_unlocked_clinician_gets_a_timeout_of_their_own(app_context, tmp_path):
    kiosk = make_kiosk(app_context, tmp_path, inactivity_s=60.0, clinician_timeout_s=300.0)
    app_context.scene.leave()
    kiosk.open_clinician_menu()
    pad = app_context.scene
    for d in PIN:
        pad.press(d)
    pad.press("OK")
    assert kiosk.clinician_unlocked
    idle(kiosk, 299.0)
    assert kiosk.clinician_unlocked
    idle(kiosk, 1.01)
    assert not kiosk.clinician_unlocked and isinstance(app_context.scene, AttractScene)


def test_attract_screen_leaves_when_someone_stays_on_the_board(app_context):
    app_context.push(StartScene(app_context))
    attract = AttractScene(app_context)
    app_context.push(attract)
    angles = board_angles(2.0, 1.0)
    for _ in range(200):
        attract.update(0.01, Tick(0.0, angles, True))
    attract.update(0.01, Tick(0.0, angles, False))  # the board came to rest: nobody after all
    for _ in range(240):
        attract.update(0.01, Tick(0.0, angles, True))
    assert app_context.scene is attract
    assert_renders(attract)
    for _ in range(11):
        attract.update(0.01, Tick(0.0, angles, True))
    assert isinstance(app_context.scene, StartScene)
    tapped = AttractScene(app_context)
    app_context.push(tapped)
    assert tapped.click((5, 5)) and isinstance(app_context.scene, StartScene)


# -- clinician access and patient data -----------------------------------------------------------
@pytest.fixture
def fake_profiles(monkeypatch):
    module = types.ModuleType("fake_profiles")

    class ProfileSelectScene(Scene):
        def __init__(self, app, then=None, *, clinician_gate=None, allow_back=False):
            super().__init__(app)
            self.gate = clinician_gate
            self.allow_back = allow_back

    module.ProfileSelectScene = ProfileSelectScene
    monkeypatch.setitem(sys.modules, "fake_profiles", module)
    monkeypatch.setattr(kiosk_module, "PROFILE_SELECT", ("fake_profiles", "ProfileSelectScene"))
    return ProfileSelectScene


def test_logout_lands_on_profile_selection_whose_clinician_buttons_need_the_pin(
    app_context, tmp_path, fake_profiles
):
    kiosk = make_kiosk(app_context, tmp_path)
    app_context.scene.leave()
    select = app_context.scene
    assert isinstance(select, fake_profiles) and select.gate == kiosk.gate
    done = []
    select.gate(lambda: done.append("edit"))
    assert done == [] and isinstance(app_context.scene, PinPadScene)
    for d in PIN:
        app_context.scene.press(d)
    app_context.scene.press("OK")
    assert done == ["edit"] and kiosk.clinician_unlocked and app_context.scene is select


def test_patients_see_only_their_own_data(app_context, tmp_path):
    assert can_see_profile(app_context, Patient(3))  # no kiosk: a desk machine
    ran = []
    require_clinician(app_context, lambda: ran.append(1))
    assert ran == [1]
    kiosk = make_kiosk(app_context, tmp_path)
    app_context.profile = Patient(3)
    assert can_see_profile(app_context, Patient(3)) and can_see_profile(app_context, 3)
    assert not can_see_profile(app_context, Patient(4)) and not can_see_profile(app_context, None)
    require_clinician(app_context, lambda: ran.append(2))
    assert ran == [1] and isinstance(app_context.scene, PinPadScene)
    kiosk.clinician_unlocked = True
    assert can_see_profile(app_context, Patient(4))


def test_the_corner_padlock_and_f12_open_the_clinician_menu_after_the_pin(shell):
    from wobble_trainer.app.scenes.clinician import ClinicianMenuScene

    app, kiosk = shell
    app.app.scene.leave()  # past the attract screen
    app.frame(0.02)  # drawn once: the padlock's place is known
    corner = kiosk._corner.center
    post_and_frame(app, pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=corner))
    assert isinstance(app.app.scene, PinPadScene)
    type_pin(app, PIN)
    assert isinstance(app.app.scene, ClinicianMenuScene) and kiosk.clinician_unlocked
    app.app.scene.close()
    assert not kiosk.clinician_unlocked  # leaving the menu locks again
    post_and_frame(app, key(pygame.K_F12))
    assert isinstance(app.app.scene, PinPadScene)


def test_kiosk_settings_are_read_defensively():
    assert kiosk_settings(object()) == KioskSettings()
    flat = types.SimpleNamespace(kiosk_enabled=True, kiosk_inactivity_s=90)
    assert kiosk_settings(flat) == KioskSettings(enabled=True, inactivity_s=90)
    section = types.SimpleNamespace(kiosk={"enabled": "yes", "inactivity_s": -1, "step_on_s": 3})
    assert kiosk_settings(section) == KioskSettings(step_on_s=3)
    with pytest.raises(ValueError):
        KioskSettings(inactivity_s=0)


def test_power_control_runs_systemctl_through_the_injected_runner():
    seen = []

    def runner(argv):
        seen.append(argv)
        return types.SimpleNamespace(returncode=1, stderr="Access denied")

    power = PowerControl(run=runner)
    assert power.reboot() == (False, "systemctl reboot failed: Access denied")
    assert seen == [["systemctl", "reboot"]]


# -- clinician-only screens and the walk of everything a patient can reach -------------------------
class ClinicianThing(Scene):
    title = "Clinician thing"
    clinician_only = True


def test_a_clinician_only_screen_is_shown_only_after_the_pin_and_locks_when_closed(
    app_context, tmp_path
):
    kiosk = make_kiosk(app_context, tmp_path)
    app_context.scene.leave()  # past the attract screen
    thing = ClinicianThing(app_context)
    app_context.push(thing)  # e.g. "Clinical tests" chosen from the patient's menu
    assert thing not in app_context.stack and isinstance(app_context.scene, PinPadScene)
    app_context.scene.cancel()
    assert thing not in app_context.stack and not kiosk.clinician_unlocked
    app_context.push(thing)
    for d in PIN:
        app_context.scene.press(d)
    app_context.scene.press("OK")
    assert app_context.scene is thing and kiosk.clinician_unlocked
    kiosk.guard()
    assert kiosk.clinician_unlocked  # still on the clinician's screen
    app_context.pop()
    kiosk.guard()  # back on the patient's screens: locked again
    assert not kiosk.clinician_unlocked


def test_outside_kiosk_mode_clinician_screens_open_at_once(app_context):
    app_context.push(StartScene(app_context))
    thing = ClinicianThing(app_context)
    app_context.push(thing)
    assert app_context.scene is thing


def test_the_first_start_pad_says_it_sets_the_clinics_pin(app_context, tmp_path):
    make_kiosk(app_context, tmp_path, pin=None)
    pad = app_context.scene
    assert isinstance(pad, PinPadScene) and pad.mode == "set" and not pad.cancellable
    assert "clinic's clinician PIN" in pad.title
    assert "clinic's clinician PIN" in pad.hint and "wobble pin set" in pad.hint


def test_progress_and_plan_show_only_the_patients_own(app_with_db, tmp_path):
    from wobble_trainer.app.scenes.history import HistoryScene

    app = app_with_db
    ann, zed = _patients_with_data(app.db)
    kiosk = make_kiosk(app, tmp_path)
    app.profile = ann
    assert HistoryScene(app).summary is not None  # her own progress
    other = HistoryScene(app, profile=zed)
    assert other.summary is None and other.pages == []
    assert other.message == "Only your own progress can be shown here."
    kiosk.clinician_unlocked = True  # the clinician may look at anybody's
    assert HistoryScene(app, profile=zed).summary is not None


class TextSeen:
    """Every string drawn through the layout's fonts (what a screen shows)."""

    def __init__(self, monkeypatch):
        from wobble_trainer.app.layout import Layout

        self.texts: list[str] = []
        original = Layout.font
        seen = self.texts

        class Font:
            def __init__(self, font):
                self._font = font

            def render(self, text, *args, **kwargs):
                seen.append(str(text))
                return self._font.render(text, *args, **kwargs)

            def __getattr__(self, name):
                return getattr(self._font, name)

        monkeypatch.setattr(Layout, "font", lambda layout, size: Font(original(layout, size)))


def _patients_with_data(db):
    from datetime import date

    ann = db.profiles.create("Ann Own", 1960, 1.65, "right")
    zed = db.profiles.create("Zed Other", 1950, 1.80, "left")
    for who in (ann, zed):
        db.programmes.assign(who.id, "ankle-sprain-prevention", date(2020, 1, 1))
        s = db.sessions.start(who.id, "hold", settings={"duration_s": 30})
        db.sessions.finish(s.id, metrics={"score": 4321 if who is zed else 55})
    db.plan_steps.complete(zed.id, date.today(), "warm-up-march", duration_s=60)
    return ann, zed


def _zed_data(db, zed):
    from datetime import date, timedelta

    return (
        [(s.id, s.kind, s.metrics) for s in db.history.sessions(zed.id, include_unkept=True)],
        db.programmes.history(zed.id),
        db.plan_steps.between(zed.id, date.today() - timedelta(days=400), date.today()),
        db.profiles.get(zed.id),
    )


def test_nothing_reachable_without_the_pin_shows_or_writes_another_patients_data(
    app_with_db, tmp_path, monkeypatch
):
    """A seeded random walk through every scene a patient reaches in kiosk mode without the
    PIN (leans, keys, the button, taps on every button drawn, codes typed, logouts): no screen
    shows the other patient's name, code or score, nothing of theirs is written, and no
    clinician-only screen is ever shown."""
    import random

    from conftest import drive

    from wobble_trainer.app.controls import Command
    from wobble_trainer.app.layout import Layout
    from wobble_trainer.app.person_badge import draw_person_badge
    from wobble_trainer.app.scenes.patient_code import PatientCodeScene
    from wobble_trainer.tilt.calibration import Calibration, DeviceIdentity

    app = app_with_db
    db = app.db
    app.calibration = Calibration(
        device=DeviceIdentity("MPU-6050", "1", 0x68), created="2025-04-30T08:00:00+00:00"
    )
    ann, zed = _patients_with_data(db)
    before = _zed_data(db, zed)
    real = ("wobble_trainer.app.scenes.patient_code", "PatientCodeScene")
    monkeypatch.setattr(kiosk_module, "PROFILE_SELECT", real)
    kiosk = make_kiosk(app, tmp_path)
    seen = TextSeen(monkeypatch)
    pygame.init()
    rng = random.Random(14)
    surface = pygame.Surface((800, 480))
    layout = Layout(800, 480)
    forbidden = [zed.name, zed.patient_code, "4321"]
    visited: set[str] = set()
    leans = [(0.0, 0.0), (12.0, 0.0), (-12.0, 0.0), (0.0, 12.0), (0.0, -12.0)]

    def look() -> None:
        kiosk.guard()
        scene = app.scene
        assert not kiosk.clinician_unlocked
        assert not any(s.clinician_only for s in app.stack), [type(s) for s in app.stack]
        assert app.profile is None or app.profile.id == ann.id
        visited.add(type(scene).__name__)
        seen.texts.clear()
        scene.render(surface, layout)
        draw_person_badge(surface, layout, app)
        shown = " | ".join(seen.texts)
        for word in forbidden:
            assert word not in shown, f"{type(scene).__name__} shows {word!r}: {shown}"

    look()
    # Every entry of the patient's menu, chosen in turn (as a held lean would)...
    from wobble_trainer.app.scenes.menus import ActivityMenuScene

    app.scene.leave()  # past the attract screen: "Who is training?"
    for d in ann.patient_code:
        app.scene.press(d)
    app.scene.press("OK")
    menu = ActivityMenuScene(app)
    app.push(menu)
    for index in range(len(menu.options)):
        menu.choose(index)
        look()
        while app.scene is not menu and menu in app.stack:
            app.scene.command(Command.BACK) if isinstance(app.scene, PinPadScene) else app.pop()
            look()
    # ... then anything at all, at random.
    for _ in range(500):
        scene = app.scene
        roll = rng.random()
        if isinstance(scene, PinPadScene):
            scene.press(str(rng.randrange(10)))  # never the PIN: it is not this person's
            scene.cancel() if rng.random() < 0.7 else None
        elif isinstance(scene, PatientCodeScene) and roll < 0.5:
            code = ann.patient_code if rng.random() < 0.6 else f"{rng.randrange(10**6):06d}"
            if code != zed.patient_code:
                for d in code:
                    scene.press(d)
                scene.press("OK")
            kiosk.codes.succeeded()  # the lockout is tested elsewhere; keep the walk moving
        elif roll < 0.2 and getattr(scene, "options", None) and hasattr(scene, "choose"):
            scene.choose(rng.randrange(len(scene.options)))  # as a held lean on that option
        elif roll < 0.4:
            scene.command(rng.choice(list(Command)))
        elif roll < 0.7 and scene.buttons:
            rect, _ = rng.choice(scene.buttons)
            scene.click(rect.center)
        elif roll < 0.98:
            lean = rng.choice(leans)
            drive(app, rng.choice([0.5, 1.5, 3.0]), lambda t, lean=lean: lean)
        else:
            kiosk.logout("inactivity")
        if app.scene is None:
            kiosk.guard()
        look()
    assert _zed_data(db, zed) == before
    for reached in ("PatientCodeScene", "StartScene", "PinPadScene", "HistoryScene",
                    "TodayPlanScene", "ActivityMenuScene"):  # fmt: skip
        assert reached in visited, sorted(visited)
    assert len(visited) >= 12, sorted(visited)
