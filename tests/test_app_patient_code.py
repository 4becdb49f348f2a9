"""Tests of wobble_trainer.app.scenes.patient_code: a patient reaches their own profile only."""

from __future__ import annotations

import types

import pygame
from conftest import assert_renders

from wobble_trainer.app.kiosk import Kiosk, KioskSettings, PinPadScene, PinStore, PowerControl
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.app.scenes.patient_code import PatientCodeScene
from wobble_trainer.app.scenes.profiles import ProfileSelectScene
from wobble_trainer.appliance.pin import ScryptParams
from wobble_trainer.clock import ManualClock

PIN = "2468"


def kiosk_for(app, tmp_path, clock):
    store = PinStore(tmp_path / "clinician-pin", ScryptParams(log2_n=4, r=1, p=1))
    store.set_pin(PIN)
    app.push(StartScene(app))
    return Kiosk(
        app,
        store=store,
        settings=KioskSettings(enabled=True),
        clock=clock,
        power=PowerControl(run=lambda argv: types.SimpleNamespace(returncode=0, stderr="")),
    )


def type_code(scene, code):
    for d in code:
        scene.press(d)
    scene.press("OK")


def test_a_patient_code_reaches_that_profile_and_nothing_else(app_with_db, tmp_path):
    app = app_with_db
    ann = app.db.profiles.create("Ann", 1960, 1.65, "right")
    app.db.profiles.create("Zed", 1950, 1.80, "left")
    clock = ManualClock(100.0)
    kiosk = kiosk_for(app, tmp_path, clock)
    scene = PatientCodeScene(app)
    app.push(scene)
    assert_renders(scene)
    type_code(scene, "12")
    assert "6 digits" in scene.message and app.scene is scene
    wrong = "000000" if ann.patient_code != "000000" else "111111"
    for _ in range(3):
        type_code(scene, wrong)
    assert "No patient has that code" in scene.message and app.profile is None
    assert kiosk.codes.retry_after() > 0  # after 3 wrong codes: a wait
    type_code(scene, ann.patient_code)
    assert "Try again in" in scene.message and app.profile is None
    clock.advance(kiosk.codes.retry_after() + 0.1)
    type_code(scene, ann.patient_code)
    assert app.profile == ann and isinstance(app.scene, StartScene)
    assert kiosk.codes.failures == 0


def test_keyboard_digits_type_the_code(app_with_db):
    app = app_with_db
    ann = app.db.profiles.create("Ann", 1960, 1.65, "right")
    app.push(StartScene(app))
    scene = PatientCodeScene(app)
    app.push(scene)
    for d in ann.patient_code:
        event = pygame.event.Event(pygame.KEYDOWN, key=getattr(pygame, f"K_{d}"), mod=0)
        assert scene.handle_key(event)
    from wobble_trainer.app.controls import Command

    scene.command(Command.SELECT)
    assert app.profile == ann


def test_guest_and_the_clinician_picking_the_patient_behind_the_pin(app_with_db, tmp_path):
    app = app_with_db
    ann = app.db.profiles.create("Ann", 1960, 1.65, "right")
    zed = app.db.profiles.create("Zed", 1950, 1.80, "left")
    kiosk = kiosk_for(app, tmp_path, ManualClock(100.0))
    scene = PatientCodeScene(app, clinician_gate=kiosk.gate)
    app.push(scene)
    scene.guest()
    assert app.profile is None and isinstance(app.scene, StartScene)
    scene = PatientCodeScene(app, clinician_gate=kiosk.gate)
    app.push(scene)
    scene.clinician()
    pad = app.scene
    assert isinstance(pad, PinPadScene)
    for d in PIN:
        pad.press(d)
    pad.press("OK")
    select = app.scene
    assert isinstance(select, ProfileSelectScene) and kiosk.clinician_unlocked
    assert [p.name for p in select.profiles] == ["Ann", "Zed"]  # the clinician sees everybody
    select.choose(1)
    assert app.profile == zed and isinstance(app.scene, StartScene)
    kiosk.guard()
    assert not kiosk.clinician_unlocked  # handed over: locked
    # A patient's own list (switching person without the PIN) shows only themselves.
    app.profile = ann
    own = ProfileSelectScene(app)
    assert [p.name for p in own.profiles] == ["Ann"]


def test_a_patient_chosen_by_the_clinician_meanwhile_needs_no_code(app_with_db, tmp_path):
    from wobble_trainer.app.scenes.clinician import ClinicianMenuScene

    app = app_with_db
    ann = app.db.profiles.create("Ann", 1960, 1.65, "right")
    zed = app.db.profiles.create("Zed", 1950, 1.80, "left")
    kiosk = kiosk_for(app, tmp_path, ManualClock(100.0))
    scene = PatientCodeScene(app, clinician_gate=kiosk.gate)
    app.push(scene)
    kiosk.open_clinician_menu()  # the padlock, over "Who is training?"
    type_code(app.scene, PIN)  # the PIN pad takes digits the same way
    assert isinstance(app.scene, ClinicianMenuScene)
    app.profile = ann  # chosen in the menu's Profiles screen
    app.scene.close()  # Lock
    assert app.profile == ann and isinstance(app.scene, StartScene)
    # Switching person: cancelling the PIN pad keeps the code screen for the next person.
    switch = PatientCodeScene(app, clinician_gate=kiosk.gate, allow_back=True)
    app.push(switch)
    switch.clinician()
    app.scene.cancel()
    assert app.scene is switch and app.profile == ann
    type_code(switch, zed.patient_code)
    assert app.profile == zed and isinstance(app.scene, StartScene)
