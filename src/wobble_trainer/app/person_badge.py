"""Who is training, on every screen: a small badge with the person's name or pseudonymous ID.

The shell draws it over every scene (a scene with ``person_badge = False`` has nobody to show:
the attract screen, "Who is training?", the PIN pad), in the top-left corner where no title
starts (titles are centred) and away from the kiosk's padlock (top right). Never the patient
code: it is what lets a patient in, and someone may be watching.
"""

from __future__ import annotations

from typing import Any

import pygame

from wobble_trainer.app.layout import ACCENT, PANEL, TEXT, Layout

GUEST_LABEL = "Guest"


def person_label(profile: Any) -> str:
    """The badge's text: the profile's name, or "Guest" when nobody (or the guest) is chosen."""
    if profile is None or getattr(profile, "is_guest", False):
        return GUEST_LABEL
    return str(getattr(profile, "name", "") or GUEST_LABEL)


def badge_rect(layout: Layout, label: str) -> pygame.Rect:
    """Where the badge goes: top left, at most a quarter of the width."""
    size = layout.small_size
    width = min(layout.font(size).size(label)[0] + 2 * size, layout.width // 4)
    return pygame.Rect(4, 4, width, size * 3 // 2)


def draw_person_badge(surface: pygame.Surface, layout: Layout, app: Any) -> pygame.Rect | None:
    """Draw the badge for ``app.profile`` over the top scene; returns its rectangle (None when
    the scene shows nobody)."""
    scene = app.scene
    if scene is None or not getattr(scene, "person_badge", True):
        return None
    label = person_label(app.profile)
    rect = badge_rect(layout, label)
    size = layout.small_size
    font = layout.font(size)
    while len(label) > 1 and font.size(label)[0] > rect.width - size:
        label = label[:-2] + "…"
    pygame.draw.rect(surface, PANEL, rect, border_radius=rect.height // 2)
    pygame.draw.rect(surface, ACCENT, rect, 2, border_radius=rect.height // 2)
    layout.text(surface, label, size, rect.center, TEXT)
    return rect
