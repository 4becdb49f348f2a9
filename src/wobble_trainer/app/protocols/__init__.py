"""Standardised clinical test protocols (DOMAIN.md §6), run hands-free with sounds and countdowns:
single-leg stance, postural stability, limits of stability, m-CTSIB, BESS (clinician-assisted)
and seated ankle range of motion.

Importing this package registers every protocol in :data:`PROTOCOLS`;
:class:`ProtocolMenuScene` lists them (each opens its clinician settings screen, then runs).
"""

from __future__ import annotations

import pygame

from wobble_trainer.app.layout import Layout
from wobble_trainer.app.protocols import (  # noqa: F401  (each registers its protocol)
    ankle_rom,
    bess,
    limits_of_stability,
    mctsib,
    postural_stability,
    single_leg_stance,
)
from wobble_trainer.app.protocols.base import (
    PROTOCOLS,
    Protocol,
    ProtocolRunner,
    ProtocolSettingsScene,
    register_protocol,
    start_protocol,
)
from wobble_trainer.app.scene import AppContext
from wobble_trainer.app.scenes.menus import MenuScene, draw_description

__all__ = [
    "PROTOCOLS",
    "Protocol",
    "ProtocolMenuScene",
    "ProtocolRunner",
    "ProtocolSettingsScene",
    "register_protocol",
    "start_protocol",
]


MENU_ORDER = (
    "single_leg_stance",
    "postural_stability",
    "limits_of_stability",
    "mctsib",
    "bess",
    "ankle_rom",
)
"""How the Tests menu lists them (protocols registered elsewhere come after, by name)."""


def _menu_rank(protocol: Protocol) -> tuple[int, str]:
    name = protocol.name
    return (MENU_ORDER.index(name) if name in MENU_ORDER else len(MENU_ORDER), name)


class ProtocolMenuScene(MenuScene):
    """The Tests menu: every registered protocol; choosing one opens its settings screen."""

    title = "Clinical tests"
    clinician_only = True
    """A clinician sets a clinical test up: in a clinic's kiosk only after the PIN."""

    def __init__(self, app: AppContext) -> None:
        self.protocols = sorted(PROTOCOLS.values(), key=_menu_rank)
        self.options = [p.title for p in self.protocols]
        super().__init__(app)

    def choose(self, index: int) -> None:
        self.app.push(ProtocolSettingsScene(self.app, self.protocols[index]))

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        super().render(surface, layout)
        draw_description(surface, layout, self.protocols[self.menu.highlight].description)
