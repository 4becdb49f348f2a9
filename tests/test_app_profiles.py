"""Choosing who trains (hands-free or touch), the clinician's profile form, guest sessions."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import assert_renders, drive

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.scenes.menus import StartScene
from wobble_trainer.app.scenes.profiles import (
    ConfirmScene,
    GuestSessionsScene,
    ProfileEditScene,
    ProfileSelectScene,
    TextEntryScene,
)
from wobble_trainer.programme import ANKLE_SPRAIN_PREVENTION
from wobble_trainer.storage import open_database

SIZE = (800, 480)


@pytest.fixture
def app(app_context, tmp_path):
    with open_database(tmp_path / "db") as db:
        app_context.db = db
        app_context.push(StartScene(app_context))
        yield app_context


def people(db):
    return [
        db.profiles.create("P-017", 1961, 1.68, "right", "left", "female"),
        db.profiles.create("Anna", 1990, 1.72, "left"),
    ]


def render(scene):
    import pygame

    pygame.init()
    surface = pygame.Surface(SIZE)
    scene.render(surface, Layout(*SIZE))
    return surface


def press(app, label):
    """Tap the top scene's control labelled ``label`` (rendered first, as on screen)."""
    scene = app.scene
    render(scene)
    matches = [c for c in scene.controls if c.label == label]
    assert matches, f"no {label!r} among {[c.label for c in scene.controls]}"
    assert scene.click(matches[0].rect.center)


def test_choose_a_profile_by_leaning(app):
    first, second = people(app.db)
    chosen = []
    scene = ProfileSelectScene(app, then=lambda a: chosen.append(a.profile))
    app.push(scene)
    assert scene.options == ["Anna", "P-017", "Guest"]  # sorted by name, Guest last
    assert scene.menu.highlight == 0
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 0.4, lambda t: (0.0, 10.0))  # lean right: next
    drive(app, 0.6, lambda t: (0.0, 0.0))
    drive(app, 1.7, lambda t: (12.0, 0.0))  # lean forward and hold: choose
    assert app.profile.id == first.id
    assert chosen == [app.profile]


def test_guest_by_touch_and_the_default_continues_by_popping(app):
    people(app.db)
    app.profile = app.db.profiles.find("Anna")
    scene = ProfileSelectScene(app)
    app.push(scene)
    assert scene.menu.highlight == 0  # the current profile
    render(scene)
    guest_row = scene.buttons[2][0]
    assert scene.click(guest_row.center)
    drive(app, 0.02, lambda t: None)  # sensor lost: touch still works
    assert app.profile is None
    assert isinstance(app.scene, StartScene)


def test_hardware_button_and_keys_choose(app):
    people(app.db)
    scene = ProfileSelectScene(app)
    app.push(scene)
    scene.command(Command.RIGHT)
    scene.command(Command.PAUSE)  # the button's short press confirms
    drive(app, 0.02, lambda t: (0.0, 0.0))
    assert app.profile.name == "P-017"


def test_no_database_offers_only_guest(app_context):
    app_context.push(StartScene(app_context))
    scene = ProfileSelectScene(app_context)
    app_context.push(scene)
    assert scene.options == ["Guest"]
    assert_renders(scene)


def test_new_profile_through_the_form_and_keyboard(app):
    scene = ProfileSelectScene(app)
    app.push(scene)
    render(scene)
    new = [r for r, a in scene.buttons if getattr(a, "__name__", "") == "new_profile"]
    assert scene.click(new[0].center)
    form = app.scene
    assert isinstance(form, ProfileEditScene)
    press(app, "(tap to type)")
    assert isinstance(app.scene, TextEntryScene)
    for key in "P-023":
        press(app, key)
    press(app, "abc")  # the keys stay as shown until switched (no automatic small letters)
    press(app, "a")
    assert app.scene.text == "P-023a"
    press(app, "ABC")
    press(app, "B")
    press(app, "Delete")
    press(app, "Delete")
    press(app, "OK")
    assert app.scene is form and form.form.name == "P-023"
    press(app, "-10")  # born 1960
    for _ in range(3):
        press(app, ">")  # the sex row's: not given -> female -> male -> other
    assert form.form.sex == "other"
    form.form.injured_side = "right"
    form.form.height_cm = 181
    press(app, "Save")
    assert app.scene is scene
    saved = app.db.profiles.find("P-023")
    assert (saved.birth_year, saved.sex, saved.height_m, saved.injured_side) == (
        1960,
        "other",
        1.81,
        "right",
    )
    assert "P-023" in scene.options


def test_the_form_works_with_keys_too(app):
    form = ProfileEditScene(app)
    app.push(form)
    render(form)
    assert form.focus == 0  # the name
    form.command(Command.SELECT)
    keyboard = app.scene
    assert isinstance(keyboard, TextEntryScene)
    render(keyboard)
    keyboard.command(Command.DOWN)  # "2"
    keyboard.command(Command.SELECT)
    assert keyboard.text == "2"
    keyboard.command(Command.BACK)  # cancel: the name stays as it was
    assert app.scene is form and form.form.name == ""
    render(form)
    form.command(Command.DOWN)  # "-10" of the birth year
    form.command(Command.SELECT)
    assert form.form.birth_year == 1960


def test_refused_fields_show_the_error_and_stay(app):
    people(app.db)
    form = ProfileEditScene(app)
    app.push(form)
    press(app, "Save")
    assert app.scene is form and "name" in form.error
    form.form.name = "anna"  # taken (names are case-insensitive)
    press(app, "Save")
    assert "already used" in form.error
    assert_renders(form)


def test_limits_of_the_number_fields(app):
    form = ProfileEditScene(app)
    for _ in range(20):
        form.form.step_year(10)
        form.form.step_height(-10)
    assert form.form.birth_year == date.today().year
    assert form.form.height_cm == 50


def test_edit_updates_the_current_profile_and_assigns_the_programme(app):
    p017, _ = people(app.db)
    app.profile = p017
    form = ProfileEditScene(app, p017)
    app.push(form)
    assert f"patient code {p017.patient_code}" in form.title  # what the clinician hands out
    assert form.form.programme is None
    form.form.injured_side = "both"
    render(form)
    # ">" of: sex, injured side, dominant leg, programme
    assert [c.label for c in form.controls].count(">") == 4
    programme_next = [c for c in form.controls if c.label == ">"][3]
    form.click(programme_next.rect.center)
    assert form.form.programme == ANKLE_SPRAIN_PREVENTION.id
    press(app, "Save")
    assert app.profile.injured_side == "both"
    current = app.db.programmes.current(p017.id)
    assert current.programme_id == ANKLE_SPRAIN_PREVENTION.id
    assert current.start_date == date.today()
    # Opening again shows it; choosing none ends it.
    form = ProfileEditScene(app, app.profile)
    app.push(form)
    assert form.form.programme == ANKLE_SPRAIN_PREVENTION.id
    assert_renders(form)
    form.form.programme = None
    press(app, "Save")
    assert app.db.programmes.current(p017.id) is None


def test_delete_asks_first_and_removes_everything(app):
    p017, anna = people(app.db)
    s = app.db.sessions.start(p017.id, "hold")
    app.db.sessions.finish(s.id, metrics={"score": 3})
    app.db.programmes.assign(p017.id, ANKLE_SPRAIN_PREVENTION.id, date.today())
    app.profile = p017
    select = ProfileSelectScene(app)
    app.push(select)
    select.menu.highlight = 1  # P-017
    render(select)
    edit = [r for r, a in select.buttons if getattr(a, "__name__", "") == "edit_highlighted"]
    select.click(edit[0].center)
    assert isinstance(app.scene, ProfileEditScene) and app.scene.profile.id == p017.id
    press(app, "Delete")
    confirm = app.scene
    assert isinstance(confirm, ConfirmScene) and "1 sessions" in confirm.message
    assert_renders(confirm)
    assert confirm.focus == 0
    confirm.command(Command.SELECT)  # the focused button is Cancel
    assert isinstance(app.scene, ProfileEditScene)
    assert app.db.profiles.find("P-017") is not None
    press(app, "Delete")
    press(app, "Delete")  # confirm
    assert app.scene is select
    assert app.db.profiles.find("P-017") is None
    assert list(app.db.sessions.iter_sessions()) == []
    assert app.db.programmes.history(p017.id) == []
    assert app.profile is None
    assert select.options == ["Anna", "Guest"]


def test_guest_sessions_are_kept_for_a_profile_or_discarded(app):
    p017, anna = people(app.db)
    guest = app.db.profiles.guest()
    ids = []
    for score in (1, 2, 3):
        s = app.db.sessions.start(guest.id, "hold")
        app.db.sessions.finish(s.id, metrics={"score": score})
        ids.append(s.id)
    select = ProfileSelectScene(app)
    app.push(select)
    assert select.guest_waiting == 3
    render(select)
    button = [r for r, a in select.buttons if getattr(a, "__name__", "") == "guest_sessions"]
    select.click(button[0].center)
    scene = app.scene
    assert isinstance(scene, GuestSessionsScene) and len(scene.sessions) == 3
    assert_renders(scene)
    press(app, ">")  # keep for: Anna (profiles sorted by name after the guest)
    assert scene.targets[scene.target].name == "Anna"
    press(app, "Keep")
    kept = app.db.sessions.get(ids[0])
    assert kept.kept and kept.profile_id == anna.id
    press(app, "Discard")
    assert len(scene.sessions) == 1
    press(app, "<")  # back to the guest
    press(app, "Keep")
    assert app.db.sessions.get(ids[2]).kept and app.db.sessions.get(ids[2]).profile_id == guest.id
    assert scene.sessions == []
    assert_renders(scene)
    press(app, "Done")
    assert app.scene is select and select.guest_waiting == 0


def test_discard_all(app):
    guest = app.db.profiles.guest()
    for _ in range(2):
        app.db.sessions.start(guest.id, "hold")
    scene = GuestSessionsScene(app)
    app.push(scene)
    press(app, "Discard all")
    assert list(app.db.sessions.iter_sessions()) == []


def test_clinician_gate_guards_the_clinician_buttons(app):
    people(app.db)
    asked = []
    select = ProfileSelectScene(app, clinician_gate=asked.append)
    app.push(select)
    select.new_profile()
    select.edit_highlighted()
    assert len(asked) == 2 and app.scene is select  # nothing opened without the gate
    asked[1]()  # the gate lets the clinician in
    assert isinstance(app.scene, ProfileEditScene) and app.scene.profile.name == "Anna"


def test_every_profile_screen_renders(app):
    p017, _ = people(app.db)
    for scene in (
        ProfileSelectScene(app),
        ProfileEditScene(app),
        ProfileEditScene(app, p017),
        TextEntryScene(app, "Name or pseudonymous ID", "P-01", lambda text: None),
        ConfirmScene(app, "Delete P-017?", "All of it.", "Delete", lambda: None),
        GuestSessionsScene(app),
    ):
        app.push(scene)
        assert_renders(scene)


def test_a_long_profile_list_scrolls_to_the_highlight(app):
    for i in range(15):
        app.db.profiles.create(f"P-{i:03d}", 1980, 1.7, "right")
    scene = ProfileSelectScene(app)
    app.push(scene)
    scene.menu.highlight = 14
    render(scene)
    rows = [r for r, a in scene.buttons if getattr(a, "__name__", "") == "<lambda>"]
    assert all(r.bottom <= SIZE[1] for r in rows)
    assert len(rows) < 16  # not all rows fit: the window follows the highlight
    assert_renders(scene)


def test_the_on_screen_keyboard_keeps_the_case_shown_and_takes_a_physical_keyboard(app_context):
    import pygame

    typed = []
    entry = TextEntryScene(app_context, "Name or pseudonymous ID", "", typed.append)
    app_context.push(entry)
    entry.type("P")
    entry.type("T")
    assert entry.text == "PT"  # not "Pt"
    entry.toggle_case()
    entry.type("A")
    assert entry.text == "PTa"
    for char in "-9x":
        key = pygame.K_a if char == "x" else pygame.K_0
        assert entry.handle_key(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=0))
    assert entry.text == "PTa-9x"
    assert entry.handle_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE,
                                               unicode="\b", mod=0))  # fmt: skip
    assert not entry.handle_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F1, unicode="",
                                                   mod=0))  # fmt: skip
    entry.handle_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r", mod=0))
    assert typed == ["PTa-9"]
