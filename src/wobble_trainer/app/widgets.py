"""Drawing pieces every scene uses: the tilt view, lean menus with dwell progress, a pause veil."""

from __future__ import annotations

import math

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import ACCENT, GREEN, HIGHLIGHT, MUTED, PANEL, RED, TEXT, Layout
from wobble_trainer.tilt.board_angles import BoardAngles


def tilt_to_screen(
    pitch: float, roll: float, center: tuple[int, int], radius: float, full_scale: float
) -> tuple[int, int]:
    """Board tilt to a point: forward (toes down) is up the screen, right edge down is right."""
    x = center[0] + roll / full_scale * radius
    y = center[1] - pitch / full_scale * radius
    return round(x), round(y)


def draw_tilt_view(
    surface: pygame.Surface,
    center: tuple[int, int],
    radius: int,
    angles: BoardAngles | None,
    full_scale: float,
    *,
    target: tuple[float, float] | None = None,
    target_radius: float | None = None,
    target_color: tuple[int, int, int] = GREEN,
) -> None:
    """The board seen from above: a disc out to ``full_scale`` tilt, a target and the cursor."""
    pygame.draw.circle(surface, PANEL, center, radius)
    pygame.draw.circle(surface, MUTED, center, radius, max(2, radius // 60))
    for fraction in (1 / 3, 2 / 3):
        pygame.draw.circle(surface, (60, 70, 95), center, int(radius * fraction), 1)
    if target is not None and target_radius is not None:
        tc = tilt_to_screen(target[0], target[1], center, radius, full_scale)
        pygame.draw.circle(
            surface,
            target_color,
            tc,
            max(4, int(target_radius / full_scale * radius)),
            max(2, radius // 40),
        )
    if angles is not None:
        pos = tilt_to_screen(angles.pitch, angles.roll, center, radius, full_scale)
        pygame.draw.circle(surface, ACCENT, pos, max(6, radius // 12))


def draw_progress_ring(
    surface: pygame.Surface,
    center: tuple[int, int],
    radius: int,
    fraction: float,
    color: tuple[int, int, int] = ACCENT,
) -> None:
    """A ring filling clockwise from the top: dwell and hold progress."""
    if fraction <= 0:
        return
    rect = pygame.Rect(0, 0, 2 * radius, 2 * radius)
    rect.center = center
    start = math.pi / 2 - 2 * math.pi * min(fraction, 1.0)
    pygame.draw.arc(surface, color, rect, start, math.pi / 2, max(3, radius // 6))


def draw_choice(
    surface: pygame.Surface,
    layout: Layout,
    rect: pygame.Rect,
    chosen: bool,
    menu: LeanMenu | None = None,
    *,
    ring_at: tuple[int, int] | None = None,
    ring_radius: int | None = None,
) -> None:
    """An option's panel: highlighted and framed when ``chosen``, with the dwell ring (at the
    right end, or at ``ring_at``) while the person holds a forward lean on it."""
    m = layout.margin
    pygame.draw.rect(surface, HIGHLIGHT if chosen else PANEL, rect, border_radius=m)
    if not chosen:
        return
    pygame.draw.rect(surface, ACCENT, rect, max(3, m // 3), border_radius=m)
    if menu is not None and menu.holding is Command.SELECT:
        size = layout.body_size
        center = ring_at or (rect.right - size, rect.centery)
        draw_progress_ring(surface, center, ring_radius or size // 2, menu.progress)


def draw_lean_menu(
    surface: pygame.Surface,
    layout: Layout,
    options: list[str],
    menu: LeanMenu,
    top: int,
    buttons: list,
) -> None:
    """Options stacked (portrait) or in a row, the highlighted one framed, with the dwell ring and
    how to choose spelled out. Registers each option as a touch button."""
    m = layout.margin
    n = len(options)
    size = layout.body_size
    first = 0
    shown = list(range(n))
    if layout.portrait or n > 4:
        row = int(size * 1.7)
        # Room below for the hint line and a line the scene may add (a description).
        room = max(row, layout.height - top - 4 * layout.small_size - 2 * m)
        visible = max(2, min(n, room // (row + m // 2)))
        # A window of the list that keeps the highlight in view (long menus scroll).
        first = min(max(0, menu.highlight - visible // 2), n - visible)
        shown = list(range(first, first + visible))
        rects = [
            pygame.Rect(m * 2, top + k * (row + m // 2), layout.width - 4 * m, row)
            for k in range(visible)
        ]
    else:
        w = (layout.width - (n + 1) * m) // n
        h = size * 3
        rects = [pygame.Rect(m + i * (w + m), top, w, h) for i in range(n)]
    for rect, i in zip(rects, shown, strict=True):
        text = options[i]
        draw_choice(surface, layout, rect, i == menu.highlight, menu)
        layout.text(surface, text, size, rect.center)
        buttons.append((rect, _choose(menu, i)))
    # Arrows at the right end of the first and last rows when the list goes on.
    arrow = max(6, size // 4)
    if shown and shown[0] > 0:
        r = rects[0]
        tip = (r.right - 2 * arrow, r.top + arrow)
        pygame.draw.polygon(
            surface,
            MUTED,
            [tip, (tip[0] - arrow, tip[1] + arrow), (tip[0] + arrow, tip[1] + arrow)],
        )
    if shown and shown[-1] < n - 1:
        r = rects[-1]
        tip = (r.right - 2 * arrow, r.bottom - arrow)
        pygame.draw.polygon(
            surface,
            MUTED,
            [tip, (tip[0] - arrow, tip[1] - arrow), (tip[0] + arrow, tip[1] - arrow)],
        )
    hint_y = max(r.bottom for r in rects) + m + layout.small_size
    if menu.holding is Command.BACK:
        layout.text(surface, "Going back…", layout.small_size, (layout.width // 2, hint_y), RED)
    elif not menu.armed:
        layout.text(
            surface,
            "Hold the board level to choose",
            layout.small_size,
            (layout.width // 2, hint_y),
            MUTED,
        )
    else:
        layout.text(
            surface,
            "Lean left/right to move, lean forward and hold to choose",
            layout.small_size,
            (layout.width // 2, hint_y),
            TEXT,
        )


def _choose(menu: LeanMenu, index: int):
    return lambda: menu.touch(index)


def draw_pause_veil(surface: pygame.Surface, layout: Layout, text: str, detail: str = "") -> None:
    veil = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
    veil.fill((0, 0, 0, 170))
    surface.blit(veil, (0, 0))
    layout.text(
        surface, text, layout.title_size, (layout.width // 2, layout.height // 2 - 20), ACCENT
    )
    if detail:
        layout.text(
            surface,
            detail,
            layout.small_size,
            (layout.width // 2, layout.height // 2 + layout.title_size // 2 + 10),
        )


def draw_notice(surface: pygame.Surface, layout: Layout, text: str) -> int:
    """A problem the person must see (a session that could not be saved): a red banner across
    the top, in body-size text wrapped to fit; returns its height."""
    m = layout.margin
    box = pygame.Rect(2 * m, m, layout.width - 4 * m, layout.height)
    height = layout.wrapped(pygame.Surface((1, 1)), text, layout.small_size, box) + m
    banner = pygame.Rect(m, m // 2, layout.width - 2 * m, height)
    pygame.draw.rect(surface, (150, 30, 30), banner, border_radius=m // 2)
    pygame.draw.rect(surface, (255, 255, 255), banner, 2, border_radius=m // 2)
    box.top = banner.top + m // 2
    layout.wrapped(surface, text, layout.small_size, box, (255, 255, 255))
    return banner.height
