"""Tests of the in-app export to a USB stick (wobble_trainer.app.scenes.export): finding the
stick under a fake root, each message a person can meet, writing with progress, the flush
before "safe to remove", stopping and failing half-way."""

from __future__ import annotations

import errno
from datetime import datetime, timedelta, timezone

import pytest
from conftest import assert_renders, drive
from test_reports_data import T0, store_session

from wobble_trainer.app.controls import Command
from wobble_trainer.app.scenes.export import ExportScene, Stage, size_text
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.reports import export as export_module
from wobble_trainer.reports import usb as usb_module
from wobble_trainer.storage import open_database

NOW = datetime(2025, 6, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=2)))
STICK = "/dev/sda1 /media/pi/STICK vfat rw,nosuid,nodev 0 0\n"
LOCKED = "/dev/sda1 /media/pi/STICK vfat ro,nosuid,nodev 0 0\n"


class Flush:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1


@pytest.fixture
def app(app_context, tmp_path):
    with open_database(tmp_path / "data") as db:
        app_context.db = db
        app_context.push(StartScene(app_context))
        yield app_context


@pytest.fixture
def stick(tmp_path):
    root = tmp_path / "root"
    (root / "media/pi/STICK").mkdir(parents=True)
    return root


def scene_for(app, root, mounts=STICK, **kw):
    flush = Flush()
    scene = ExportScene(app, usb_root=root, mounts=mounts, sync=flush, now=lambda: NOW, **kw)
    app.push(scene)
    return scene, flush


def two_sessions(app):
    person = app.db.profiles.create("P-017", 1958, 1.68, "right", injured_side="left")
    store_session(app.db, person, seconds=2)
    store_session(app.db, person, started_at=T0 + timedelta(days=1), seconds=2)
    return person


def run_until(app, scene, stages, seconds=30.0):
    """Step the app (board level) until the scene reaches one of ``stages``."""
    for _ in range(int(seconds / 0.05)):
        if scene.stage in stages:
            return
        drive(app, 0.05, lambda t: (0.0, 0.0))
    raise AssertionError(f"stuck in {scene.stage}: {scene.message}")


def test_without_a_database_there_is_nothing_to_export(app_context, stick):
    app_context.push(StartScene(app_context))
    scene, _ = scene_for(app_context, stick)
    assert scene.stage is Stage.NO_DATA and "nothing to export" in scene.message
    assert scene.options == ["Back"]
    scene.choose(0)
    assert app_context.scene is not scene


def test_no_sessions_yet(app, stick):
    scene, _ = scene_for(app, stick)
    assert scene.stage is Stage.NOTHING
    assert scene.message == "There are no sessions of every profile to export yet."


def test_no_stick_then_one_is_plugged_in(app, stick):
    two_sessions(app)
    scene, _ = scene_for(app, stick, mounts="")
    assert scene.stage is Stage.NO_STICK
    assert scene.message.startswith("Plug a USB stick into the trainer.")
    assert_renders(scene)
    drive(app, 0.5, lambda t: (0.0, 0.0))
    scene.mounts = STICK  # the stick is mounted: found at the next look, without a tap
    drive(app, 0.6, lambda t: (0.0, 0.0))
    assert scene.stage is Stage.READY
    assert scene.message.startswith(
        '2 sessions of every profile will be saved to the USB stick "STICK" ('
    )
    assert scene.message.endswith("free) as data files (CSV) and PDF reports.")
    assert scene.options == ["Export", "Cancel"]


def test_export_writes_flushes_and_says_safe_to_remove(app, stick):
    two_sessions(app)
    scene, flush = scene_for(app, stick)
    assert scene.stage is Stage.READY
    scene.menu.touch(0)  # "Export"
    drive(app, 0.02, lambda t: (0.0, 0.0))
    assert scene.stage is Stage.WRITING and scene.message == "Do not remove the USB stick."
    assert_renders(scene)
    seen = []
    while scene.stage is Stage.WRITING:
        drive(app, 0.01, lambda t: (0.0, 0.0))
        seen.append(scene.job.fraction)
    assert seen == sorted(seen) and len(seen) > 5  # a step per tick: the screen kept moving
    assert flush.calls == 0  # not yet: "Finishing" is shown first
    assert scene.stage is Stage.FINISHING and "Do not remove" in scene.message
    assert_renders(scene)  # draws "Finishing" once...
    drive(app, 0.01, lambda t: (0.0, 0.0))
    assert scene.stage is Stage.DONE and flush.calls == 1  # ...then flushes, then "safe"
    assert scene.message == (
        "Done: you can remove the USB stick safely.\n2 sessions saved on "
        '"STICK" in wobble-trainer / 2025-06-01_100000.'
    )
    out = stick / "media/pi/STICK/wobble-trainer/2025-06-01_100000"
    assert (out / "index.csv").exists() and (out / "p-017-2" / "progress.pdf").exists()
    assert len(list((out / "p-017-2").glob("session-*.pdf"))) == 2
    assert len(list((out / "p-017-2").glob("session-*/samples.csv"))) == 2
    assert_renders(scene)
    scene.choose(0)  # "Done"
    assert isinstance(app.scene, StartScene)


def test_a_second_export_the_same_second_gets_its_own_folder(app, stick):
    two_sessions(app)
    for _ in range(2):
        scene, _ = scene_for(app, stick)
        scene.start_writing()
        run_until(app, scene, {Stage.DONE})
        scene.choose(0)
    folders = sorted(p.name for p in (stick / "media/pi/STICK/wobble-trainer").iterdir())
    assert folders == ["2025-06-01_100000", "2025-06-01_100000-2"]


def test_only_the_current_profiles_sessions(app, stick):
    two_sessions(app)
    other = app.db.profiles.create("Ann", 1970, 1.6, "left")
    store_session(app.db, other, seconds=1)
    app.profile = other
    scene, _ = scene_for(app, stick, formats=("csv",))
    assert scene.message.startswith("1 session of Ann will be saved")
    assert scene.message.endswith("as data files (CSV).")
    assert scene.options == ["Export", "All profiles", "Cancel"]
    scene.choose(1)  # everybody's instead
    assert scene.message.startswith("3 sessions of every profile will be saved")
    assert scene.options == ["Export", "Only Ann", "Cancel"]
    scene.choose(1)
    assert scene.message.startswith("1 session of Ann")


def test_leaning_forward_exports_hands_free(app, stick):
    two_sessions(app)
    scene, _ = scene_for(app, stick)
    drive(app, 0.6, lambda t: (0.0, 0.0))  # level: arms the menu
    drive(app, 1.7, lambda t: (12.0, 0.0))  # lean forward and hold: "Export"
    assert scene.stage in (Stage.WRITING, Stage.FINISHING, Stage.DONE)


def test_read_only_stick_and_try_again(app, stick):
    two_sessions(app)
    scene, _ = scene_for(app, stick, mounts=LOCKED)
    assert scene.stage is Stage.READ_ONLY
    assert scene.message == (
        "The USB stick is read-only (is its write-protect switch on?). "
        "Switch its write protection off or use another stick, then try "
        "again."
    )
    assert scene.options == ["Try again", "Back"]
    assert_renders(scene)
    scene.mounts = STICK  # write protection switched off, stick plugged in again
    scene.choose(0)
    assert scene.stage is Stage.READY


def test_a_stick_refusing_writes_is_reported(app, stick, monkeypatch):
    two_sessions(app)
    monkeypatch.setattr(
        "wobble_trainer.app.scenes.export.check_writable",
        lambda path: "This USB stick does not allow writing.",
    )
    scene, _ = scene_for(app, stick)
    assert scene.stage is Stage.READ_ONLY
    assert scene.message.startswith("This USB stick does not allow writing.")


def test_full_stick_says_how_much_room_is_needed(app, stick, monkeypatch):
    two_sessions(app)
    monkeypatch.setattr(usb_module, "_usage", lambda path: (2_000, 8_000_000_000))
    scene, _ = scene_for(app, stick)
    assert scene.stage is Stage.FULL
    assert scene.message.startswith(
        'The USB stick "STICK" is full: it has 2 kB free and the export needs about '
    )
    assert scene.message.endswith("Free some space or use a bigger stick.")
    assert_renders(scene)


def test_stick_filling_up_half_way(app, stick, monkeypatch):
    two_sessions(app)
    scene, flush = scene_for(app, stick)
    real = export_module._write_text
    writes = []

    def filling(path, text):
        writes.append(path)
        if len(writes) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(export_module, "_write_text", filling)
    scene.start_writing()
    run_until(app, scene, {Stage.FAILED})
    assert flush.calls == 1
    assert (
        "is full: free some space or use a bigger one. The unfinished session was removed; "
        "the 1 session(s) finished before are complete." in scene.message
    )
    assert scene.message.endswith(
        '\n1 of 2 sessions were saved on "STICK" in '
        "wobble-trainer / 2025-06-01_100000. You can remove the USB "
        "stick safely."
    )
    assert scene.options == ["Try again", "Back"]
    assert_renders(scene)


def test_stopping_half_way_flushes_and_stays(app, stick):
    two_sessions(app)
    scene, flush = scene_for(app, stick)
    scene.start_writing()
    drive(app, 0.03, lambda t: (0.0, 0.0))
    scene.command(Command.MENU)  # never leaves with the stick half written
    assert app.scene is scene
    assert scene.stage is Stage.STOPPED and flush.calls == 1
    assert scene.message.startswith(
        "Export stopped. You can remove the USB stick safely.\n0 of 2 sessions were saved"
    )
    scene.command(Command.BACK)
    drive(app, 0.01, lambda t: (0.0, 0.0))
    assert isinstance(app.scene, StartScene)


def test_sizes_for_people():
    assert size_text(740_000) == "740 kB"
    assert size_text(12_500_000) == "12.5 MB"
    assert size_text(3_200_000_000) == "3.2 GB"


def test_a_session_with_no_completed_trial_gets_no_pdf_and_the_screen_says_so(app, stick):
    person = two_sessions(app)
    empty = app.db.sessions.start(person.id, "hold", started_at=T0 + timedelta(days=2))
    app.db.sessions.finish(empty.id, metrics={"score": None}, ended_at=T0 + timedelta(days=2))
    scene, _ = scene_for(app, stick)
    scene.menu.touch(0)  # "Export"
    run_until(app, scene, {Stage.DONE})
    assert scene.message.endswith("No PDF for 1 session with no completed trial.")
    out = stick / "media/pi/STICK/wobble-trainer/2025-06-01_100000"
    assert len(list((out / "p-017-2").glob("session-*.pdf"))) == 2
    assert len(list((out / "p-017-2").glob("session-*/samples.csv"))) == 3
