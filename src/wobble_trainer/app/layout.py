"""Screen geometry and fonts for 800×480 up to 1280×720, landscape or portrait.

Everything scales with the shorter side, so text stays readable from 2 m on a 7-inch screen (the
body text is 1/12 of the short side: ~7 mm there) and nothing overlaps in portrait.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

BACKGROUND = (18, 22, 34)
PANEL = (34, 42, 62)
HIGHLIGHT = (70, 84, 120)
"""Fill of the option or button a lean, key or tap would choose."""
TEXT = (236, 240, 248)
MUTED = (150, 160, 180)
ACCENT = (255, 196, 60)
GREEN = (60, 200, 110)
AMBER = (250, 170, 40)
RED = (235, 70, 70)
BLUE = (80, 150, 255)


@dataclass
class Layout:
    """Sizes derived from the window size."""

    width: int
    height: int
    _fonts: dict[int, pygame.font.Font] = field(default_factory=dict, repr=False)

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
        return max(14, self.short // 18)

    def font(self, size: int) -> pygame.font.Font:
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
    ) -> pygame.Rect:
        image = self.font(size).render(text, True, color)
        rect = image.get_rect(center=center)
        surface.blit(image, rect)
        return rect

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
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split():
                trial = f"{line} {word}".strip()
                if font.size(trial)[0] <= rect.width or not line:
                    line = trial
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
        y = rect.top
        for line in lines:
            image = font.render(line, True, color)
            surface.blit(image, image.get_rect(midtop=(rect.centerx, y)))
            y += font.get_linesize()
        return y - rect.top

    def title(self, surface: pygame.Surface, text: str) -> int:
        """A title across the top; returns the y below it."""
        rect = self.text(
            surface, text, self.title_size, (self.width // 2, self.margin + self.title_size // 2)
        )
        return rect.bottom + self.margin
