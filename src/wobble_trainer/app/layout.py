"""Screen geometry, fonts and palette for 800×480 up to 1280×720, landscape or portrait.

Everything scales with the shorter side, so text stays readable from 2 m on a 7-inch screen (the
body text is 1/12 of the short side: ~7 mm there) and nothing overlaps in portrait. No text is
ever drawn smaller than :data:`MIN_TEXT_PX`, status lines and hints are at least
:data:`STATUS_TEXT_PX`, and every text colour of the palette on every fill it is drawn on has a
WCAG 2.x contrast ratio of at least 4.5:1 (AA), which tests compute from these colours.

:class:`Layout` records every text it draws this frame (:attr:`Layout.drawn`), so tests can check
from the drawn rectangles that nothing leaves the screen or overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

MIN_TEXT_PX = 20
"""No text is smaller (font size in px, about the line height): legible from 2 m at 800×480."""
STATUS_TEXT_PX = 28
"""Instructions, status lines and hints a person on the board must read are at least this."""

BACKGROUND = (18, 22, 34)
PANEL = (34, 42, 62)
HIGHLIGHT = (70, 84, 120)
"""Fill of the option or button a lean, key or tap would choose."""
TEXT = (236, 240, 248)
MUTED = (170, 180, 200)
ACCENT = (255, 196, 60)
GREEN = (60, 200, 110)
AMBER = (250, 170, 40)
RED = (245, 95, 95)
BLUE = (80, 150, 255)


TEXT_COLOURS = (TEXT, MUTED, ACCENT, GREEN, AMBER, RED, BLUE)
"""Every colour text is drawn in."""
FILLS = (BACKGROUND, PANEL, HIGHLIGHT)
"""Every fill text is drawn on (screen, panel, highlighted option)."""


def relative_luminance(colour: tuple[int, int, int]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 black … 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2.x contrast ratio of two colours, 1 … 21 (AA body text needs 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class DrawnText:
    """One text drawn this frame: what, where, how big, in which colour."""

    text: str
    rect: pygame.Rect
    size: int
    colour: tuple[int, int, int]
    fill: tuple[int, int, int] | None = None
    """The commonest colour under the text before it was drawn (with :attr:`Layout.audit`)."""


@dataclass
class Layout:
    """Sizes derived from the window size, and the texts drawn in the current frame."""

    width: int
    height: int
    _fonts: dict[int, pygame.font.Font] = field(default_factory=dict, repr=False)
    drawn: list[DrawnText] = field(default_factory=list, repr=False)
    """Texts drawn since :meth:`begin_frame` (minus those a veil covered)."""
    veils: int = 0
    """Veils drawn since :meth:`begin_frame` (a second one must hide the first)."""
    audit: bool = False
    """Tests: also record the fill each text is drawn on (:attr:`DrawnText.fill`; slow)."""

    def begin_frame(self) -> None:
        """A new frame: forget what was drawn in the last one."""
        self.drawn.clear()
        self.veils = 0

    def cover(self) -> None:
        """Everything drawn so far was covered (a veil or a dialog went over it)."""
        self.drawn.clear()
        self.veils += 1

    @property
    def short(self) -> int:
        return min(self.width, self.height)

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def margin(self) -> int:
        return max(8, self.short // 30)

    @property
    def title_size(self) -> int:
        return max(24, self.short // 8)

    @property
    def body_size(self) -> int:
        return max(18, self.short // 12)

    @property
    def small_size(self) -> int:
        """Status lines, hints, labels: what the person reads while balancing."""
        return max(STATUS_TEXT_PX, self.short // 17)

    @property
    def caption_size(self) -> int:
        """The smallest text: notes and citations nobody needs to read from the board."""
        return max(MIN_TEXT_PX, self.short // 24)

    def font(self, size: int) -> pygame.font.Font:
        size = max(MIN_TEXT_PX, size)
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]

    def text(
        self,
        surface: pygame.Surface,
        text: str,
        size: int,
        center: tuple[int, int],
        color: tuple[int, int, int] = TEXT,
        *,
        max_width: int | None = None,
    ) -> pygame.Rect:
        """Draw one line centred at ``center``; with ``max_width``, smaller (never below
        :data:`MIN_TEXT_PX`) until it fits that width."""
        if max_width is not None:
            size = self.fit(text, size, max_width)
        image = self.font(size).render(text, True, color)
        rect = image.get_rect(center=center)
        self.blit(surface, text, image, rect, size, color)
        return rect

    def blit(
        self,
        surface: pygame.Surface,
        text: str,
        image: pygame.Surface,
        rect: pygame.Rect,
        size: int,
        colour: tuple[int, int, int],
    ) -> None:
        """Draw a rendered text and record it (scenes that render text themselves use it)."""
        fill = self._fill_under(surface, rect) if self.audit else None
        surface.blit(image, rect)
        if text.strip():
            self.drawn.append(DrawnText(text, rect.copy(), max(MIN_TEXT_PX, size), colour, fill))

    @staticmethod
    def _fill_under(surface: pygame.Surface, rect: pygame.Rect) -> tuple[int, int, int] | None:
        import numpy as np

        area = rect.clip(surface.get_rect())
        if area.width == 0 or area.height == 0:
            return None
        pixels = pygame.surfarray.array3d(surface.subsurface(area))[::3, ::3].reshape(-1, 3)
        values, counts = np.unique(pixels, axis=0, return_counts=True)
        return tuple(int(c) for c in values[counts.argmax()])

    def fit(self, text: str, size: int, width: int) -> int:
        """The largest size ≤ ``size`` (and ≥ :data:`MIN_TEXT_PX`) at which ``text`` fits
        ``width`` pixels."""
        size = max(MIN_TEXT_PX, size)
        while size > MIN_TEXT_PX and self.font(size).size(text)[0] > width:
            size = max(
                MIN_TEXT_PX, min(size - 1, size * width // max(1, self.font(size).size(text)[0]))
            )
        return size

    def wrap(self, text: str, size: int, width: int) -> list[str]:
        """``text`` broken into lines that fit ``width`` at ``size`` (a word longer than the
        width gets a line of its own); newlines start new lines."""
        font = self.font(size)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split():
                trial = f"{line} {word}".strip()
                if font.size(trial)[0] <= width or not line:
                    line = trial
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
        return lines

    def wrapped_height(self, text: str, size: int, width: int) -> int:
        """The height :meth:`wrapped` will use for ``text`` in ``width``."""
        return len(self.wrap(text, size, width)) * self.font(size).get_linesize()

    def wrapped(
        self,
        surface: pygame.Surface,
        text: str,
        size: int,
        rect: pygame.Rect,
        color: tuple[int, int, int] = TEXT,
    ) -> int:
        """Draw ``text`` word-wrapped and centred in ``rect``; returns the height used."""
        font = self.font(size)
        y = rect.top
        for line in self.wrap(text, size, rect.width):
            image = font.render(line, True, color)
            self.blit(surface, line, image, image.get_rect(midtop=(rect.centerx, y)), size, color)
            y += font.get_linesize()
        return y - rect.top

    def title(self, surface: pygame.Surface, text: str) -> int:
        """A title across the top; returns the y below it."""
        rect = self.text(
            surface,
            text,
            self.title_size,
            (self.width // 2, self.margin + self.title_size // 2),
            max_width=self.width - 2 * self.margin,
        )
        return rect.bottom + self.margin
