"""Tests of wobble_trainer.app.person_badge: who is training, on every screen."""

from __future__ import annotations

import types

import numpy as np
import pygame

from wobble_trainer.app.kiosk import AttractScene
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.person_badge import draw_person_badge, person_label
from wobble_trainer.app.scenes.menus import StartScene


def test_label_is_the_name_or_guest():
    assert person_label(None) == "Guest"
    assert person_label(types.SimpleNamespace(name="P-017", is_guest=False)) == "P-017"
    assert person_label(types.SimpleNamespace(name="Guest", is_guest=True)) == "Guest"


def test_badge_is_drawn_in_the_top_left_except_where_nobody_is_chosen(app_context):
    pygame.init()
    layout = Layout(800, 480)
    surface = pygame.Surface((800, 480))
    app_context.profile = types.SimpleNamespace(name="A very long name " * 4, is_guest=False)
    app_context.push(StartScene(app_context))
    rect = draw_person_badge(surface, layout, app_context)
    assert rect is not None and rect.left < 10 and rect.top < 10
    assert rect.right <= layout.width // 4 + 4  # never reaches a centred title
    pixels = pygame.surfarray.array3d(surface.subsurface(rect))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2
    app_context.push(AttractScene(app_context))
    assert draw_person_badge(surface, layout, app_context) is None
