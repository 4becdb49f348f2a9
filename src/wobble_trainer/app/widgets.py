"""Drawing pieces every scene uses: the tilt view, lean menus with dwell progress, a pause veil."""

from __future__ import annotations

import math

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import (
    ACCENT,
    BACKGROUND,
    GREEN,
    HIGHLIGHT,
    MUTED,
    PANEL,
    RED,
    TEXT,
    Layout,
)
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


def draw_pose_wait(
    surface: pygame.Surface,
    center: tuple[int, int],
    radius: int,
    angles: BoardAngles | None,
    pose: tuple[float, float, float] | None,
    held: float,
    edges: object,
) -> None:
    """A wait for a pose: the board from above out to its edge, the wanted pose (pitch, roll,
    tolerance) as a circle that turns green while the dot is in it, the live tilt as the dot,
    and the hold's progress as a ring round it all."""
    full = max(edges.front, edges.back, edges.left, edges.right)  # type: ignore[attr-defined]
    inside = False
    if angles is not None and pose is not None:
        inside = math.hypot(angles.pitch - pose[0], angles.roll - pose[1]) <= pose[2]
    draw_tilt_view(
        surface,
        center,
        radius,
        angles,
        full,
        target=None if pose is None else (pose[0], pose[1]),
        target_radius=None if pose is None else pose[2],
        target_color=GREEN if inside else ACCENT,
    )
    pygame.draw.circle(surface, PANEL, center, radius + max(4, radius // 8), max(3, radius // 8))
    draw_progress_ring(surface, center, radius + max(4, radius // 8), held, GREEN)


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
        visible = max(1, min(n, room // (row + m // 2)))
        # A window of the list that keeps the highlight in view (long menus scroll).
        highlight = 0 if menu.highlight is None else menu.highlight
        first = min(max(0, highlight - visible // 2), n - visible)
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
        layout.text(surface, text, size, rect.center, max_width=rect.width - 2 * m)
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
    draw_hint(surface, layout, menu, max(r.bottom for r in rects) + m)


def lean_hint(
    menu: LeanMenu | None,
    action: str | None = "choose",
    *,
    move: str = "move",
    back: str | None = None,
) -> tuple[str, tuple[int, int, int]]:
    """THE wording of how to work a lean menu, and its colour, for every screen: what to do
    now (level first, then lean), or that a back lean is going back. ``menu`` None: a screen
    that only waits for a forward hold; ``action`` None: forward does nothing there; ``back``:
    what a back hold does, when the screen says so."""
    if menu is not None and menu.holding is Command.BACK:
        return "Going back…", RED
    if menu is not None and not menu.armed:
        return "Hold the board level first", MUTED
    parts = []
    if menu is not None and menu.count > 1:
        parts.append(f"left or right to {move}")
    if action:
        parts.append(f"forward and hold to {action}")
    if back:
        parts.append(f"back and hold to {back}")
    return "Lean " + ", ".join(parts), TEXT


def draw_hint(
    surface: pygame.Surface,
    layout: Layout,
    menu: LeanMenu | None,
    top: int,
    action: str = "choose",
) -> int:
    """The hint of :func:`lean_hint` from ``top`` down, wrapped to the screen's width (never
    clipped at the edges); returns the height used."""
    text, colour = lean_hint(menu, action)
    m = layout.margin
    area = pygame.Rect(m, top, layout.width - 2 * m, layout.height - top)
    return layout.wrapped(surface, text, layout.small_size, area, colour)


def hint_height(layout: Layout, menu: LeanMenu | None, action: str = "choose") -> int:
    """How tall :func:`draw_hint` will draw (lines × line height)."""
    text, _ = lean_hint(menu, action)
    return layout.wrapped_height(text, layout.small_size, layout.width - 2 * layout.margin)


def _choose(menu: LeanMenu, index: int):
    return lambda: menu.touch(index)


def draw_pause_veil(surface: pygame.Surface, layout: Layout, text: str, detail: str = "") -> None:
    """A dark veil over the screen with why it waits. A second veil in the same frame (the
    shell's "Sensor lost" over a scene's "Paused") hides the first completely, so their texts
    never show through each other."""
    if layout.veils:
        surface.fill(BACKGROUND)
    else:
        veil = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        veil.fill((0, 0, 0, 200))
        surface.blit(veil, (0, 0))
    layout.cover()
    m = layout.margin
    y = layout.height // 2 - layout.title_size
    rect = layout.text(
        surface,
        text,
        layout.title_size,
        (layout.width // 2, y),
        ACCENT,
        max_width=layout.width - 2 * m,
    )
    if detail:
        area = pygame.Rect(2 * m, rect.bottom + m, layout.width - 4 * m, layout.height)
        layout.wrapped(surface, detail, layout.small_size, area)


def star_count(score: float, previous_best: float | None, new_best: bool) -> int:
    """Stars for a result (0-3): three for a personal best, else by how near the best it came."""
    if new_best or previous_best is None or previous_best <= 0:
        return 3
    ratio = score / previous_best
    return 2 if ratio >= 0.9 else 1 if ratio >= 0.6 else 0


def draw_star(surface: pygame.Surface, center: tuple[int, int], radius: int, filled: bool) -> None:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.45
        a = -math.pi / 2 + k * math.pi / 5
        points.append((center[0] + r * math.cos(a), center[1] + r * math.sin(a)))
    if filled:
        pygame.draw.polygon(surface, ACCENT, points)
    else:
        pygame.draw.polygon(surface, MUTED, points, max(2, radius // 10))


def draw_results_picture(
    surface: pygame.Surface,
    layout: Layout,
    area: pygame.Rect,
    score: float,
    previous_best: float | None,
    new_best: bool,
) -> int:
    """A result as a picture: up to three stars, and a bar of this score with the personal best
    marked on it (a flag when it is a new best). Returns the height used."""
    m = layout.margin
    stars = star_count(score, previous_best, new_best)
    radius = max(12, min(area.height // 5, layout.body_size * 3 // 4))
    cy = area.top + radius
    for k in range(3):
        cx = area.centerx + (k - 1) * (2 * radius + m)
        draw_star(surface, (cx, cy), radius, k < stars)
    y = cy + radius + m
    bar_h = max(layout.small_size, area.height // 8)
    bar = pygame.Rect(area.left + 2 * m, y, area.width - 4 * m, bar_h)
    top = max(score, previous_best or 0.0, 1e-9) * 1.15
    pygame.draw.rect(surface, PANEL, bar, border_radius=m // 2)
    fill = bar.copy()
    fill.width = max(2, round(bar.width * score / top))
    pygame.draw.rect(surface, GREEN if new_best else ACCENT, fill, border_radius=m // 2)
    if previous_best is not None and previous_best > 0:
        x = bar.left + round(bar.width * previous_best / top)
        pygame.draw.line(surface, TEXT, (x, bar.top - m // 2), (x, bar.bottom + m // 2), 3)
        label = "Best before" if new_best else "Your best"
        layout.text(
            surface,
            label,
            layout.caption_size,
            (
                min(
                    max(x, bar.left + layout.caption_size * 3), bar.right - layout.caption_size * 3
                ),
                bar.bottom + m // 2 + layout.caption_size // 2 + 2,
            ),
            TEXT,
        )
    used = bar.bottom + m // 2 + layout.caption_size + m - area.top
    return used


def banner_height(layout: Layout, title: str, detail: str) -> int:
    """Height of :func:`draw_banner` at this layout's width."""
    m = layout.margin
    width = layout.width - 2 * m
    return (
        layout.wrapped_height(title, layout.small_size, width)
        + layout.wrapped_height(detail, layout.caption_size, width)
        + m
    )


def draw_banner(
    surface: pygame.Surface, layout: Layout, rect: pygame.Rect, title: str, detail: str
) -> None:
    """A strip that stays on every screen (e.g. "Simulated board" and how to fit a real IMU)."""
    m = layout.margin
    pygame.draw.rect(surface, PANEL, rect)
    pygame.draw.line(surface, ACCENT, rect.topleft, rect.topright, 2)
    area = pygame.Rect(rect.x + m, rect.y + m // 2, rect.width - 2 * m, rect.height)
    area.y += layout.wrapped(surface, title, layout.small_size, area, ACCENT)
    layout.wrapped(surface, detail, layout.caption_size, area, TEXT)


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
