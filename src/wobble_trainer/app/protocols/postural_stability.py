"""Postural stability test (Biodex style, DOMAIN.md §5-§6): 3 practice and 3 test trials of 20 s
standing on the board, keeping it level.

The "virtual stability level" 1-12 (:mod:`wobble_trainer.virtual_level`) is a software gain: a
wobble board's stiffness cannot change, so the level sets how the on-screen cursor follows the
board (gain and dead band of :func:`wobble_trainer.app.activities.hold.virtual_tilt`, exactly as
the hold challenge): 12 is the calmest cursor, 1 the liveliest. The indices are always of the REAL
board tilt, about level (Arnold & Schmitz 1998): OSI, APSI, MLSI, with the SD about the mean beside
them (Biodex's manual shows both) and the time in the 0-5/5-10/10-15/15-20° zones. Practice trials
are stored but the summary is the mean of the test trials. Stepping off pauses the trial; edge
touches are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pygame

from wobble_trainer import virtual_level
from wobble_trainer.app.activities.hold import HoldSettings, virtual_tilt
from wobble_trainer.app.layout import MUTED, Layout
from wobble_trainer.app.protocols.base import (
    REST_CHOICES,
    Protocol,
    ProtocolRunner,
    SettingField,
    TrialSpec,
    fmt_deg,
    register_protocol,
    seconds,
)
from wobble_trainer.app.scene import AppContext
from wobble_trainer.metrics import ZONE_KEYS
from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.units import DEG

STANCES = ("both", "left", "right")
INDEX_KEYS = ("osi", "apsi", "mlsi")
SD_KEYS = ("ap", "ml", "combined")


@dataclass(frozen=True)
class PosturalStabilitySettings:
    practice_trials: int = 3
    test_trials: int = 3
    duration_s: float = 20.0
    stability_level: int = 8
    """Virtual stability level 1-12 of the cursor (12 calmest), as in the hold challenge."""
    stance: str = "both"
    eyes_closed: bool = False
    rest_s: float = 10.0

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField("practice_trials", "Practice trials", (0, 1, 2, 3, 4, 5)),
        SettingField("test_trials", "Test trials", (1, 2, 3, 4, 5)),
        SettingField("duration_s", "Trial length", (10.0, 15.0, 20.0, 30.0), seconds),
        SettingField("stability_level", virtual_level.LABEL, tuple(range(1, 13))),
        SettingField("stance", "Stance", STANCES),
        SettingField("eyes_closed", "Eyes", (False, True), lambda v: "closed" if v else "open"),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
    )

    def __post_init__(self) -> None:
        if not 0 <= self.practice_trials <= 5:
            raise ValueError("practice trials must be 0-5")
        if not 1 <= self.test_trials <= 5:
            raise ValueError("test trials must be 1-5")
        if not 5.0 <= self.duration_s <= 60.0:
            raise ValueError("trial length must be 5-60 s")
        virtual_level.check(self.stability_level)
        if self.stance not in STANCES:
            raise ValueError(f"stance must be one of {STANCES}")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")

    @property
    def cursor(self) -> HoldSettings:
        """The hold challenge's settings for this level (its gain and dead band)."""
        return HoldSettings(stability_level=self.stability_level)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class PosturalStability(ProtocolRunner):
    name = "postural_stability"
    title = "Postural stability"

    def __init__(self, app: AppContext, settings: PosturalStabilitySettings | None = None) -> None:
        super().__init__(app, settings or PosturalStabilitySettings())
        self.cursor: tuple[float, float] | None = None

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        stance = "both feet" if s.stance == "both" else f"your {s.stance.upper()} leg"
        eyes = "CLOSED" if s.eyes_closed else "OPEN"
        instruction = f"Stand on {stance}, eyes {eyes}. Keep the board level."
        plan = []
        for practice, count in ((True, s.practice_trials), (False, s.test_trials)):
            for k in range(1, count + 1):
                kind = "practice" if practice else "test"
                plan.append(
                    TrialSpec(
                        label=f"{kind} {k}",
                        instruction=f"{kind.capitalize()} trial {k}: {instruction}",
                        duration_s=s.duration_s,
                        eyes_closed=s.eyes_closed,
                        practice=practice,
                    )
                )
        return plan

    def step_trial(self, dt: float, tick: Any) -> None:
        self.cursor = virtual_tilt(tick.angles, self.settings.cursor)

    def test_results(self) -> list[Any]:
        return [r for r in self.results if not r.spec.practice and r.metrics]

    def summary(self) -> dict[str, Any]:
        tests = self.test_results()
        out: dict[str, Any] = {
            "stability_level": self.settings.stability_level,
            "test_trials": len(tests),
        }
        for key in INDEX_KEYS:
            out[key] = _mean([r.metrics[key] for r in tests])
        out["sd"] = {k: _mean([r.metrics["sd"][k] for r in tests]) for k in SD_KEYS}
        out["zone_pct"] = {k: _mean([r.metrics["zone_pct"][k] for r in tests]) for k in ZONE_KEYS}
        out["edge_touches"] = sum(r.metrics["edge_touches"] for r in tests)
        return out

    def result_lines(self) -> tuple[list[str], list[str]]:
        s = self.summary()
        n = s["test_trials"]
        lines = [
            f"Mean of {n} test trial{'s' if n != 1 else ''}, "
            f"{virtual_level.LABEL.lower()} {s['stability_level']}:",
            f"Overall (OSI) {fmt_deg(s['osi'])}   AP {fmt_deg(s['apsi'])}   "
            f"ML {fmt_deg(s['mlsi'])}",
            f"SD about the mean: AP {fmt_deg(s['sd']['ap'])}   ML {fmt_deg(s['sd']['ml'])}   "
            f"overall {fmt_deg(s['sd']['combined'])}",
            "Time in zones: "
            + "   ".join(
                f"{k}° {v:.0f}%" for k, v in s["zone_pct"].items() if v is not None and k != ">20"
            ),
            f"Edge touches: {s['edge_touches']}",
        ]
        for r in self.test_results():
            lines.append(
                f"{r.spec.label}: OSI {r.metrics['osi']:.1f}°  AP {r.metrics['apsi']:.1f}°  "
                f"ML {r.metrics['mlsi']:.1f}°"
            )
        notes = [
            "Indices: RMS board tilt from level, degrees (lower is steadier).",
            virtual_level.NOTE,
        ]
        return lines, notes

    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        y = self.draw_clock(surface, layout, area)
        rest = pygame.Rect(area.x, y, area.width, area.bottom - y)
        if self.spec.eyes_closed:
            layout.text(
                surface, "Eyes closed: listen for the tones", layout.body_size, rest.center, MUTED
            )
            return
        cursor = None
        if self.cursor is not None:
            cursor = BoardAngles(self.cursor[0], self.cursor[1], 0.0, 0.0)
        self.draw_board(
            surface, layout, rest, cursor=cursor, target=(0.0, 0.0), target_radius=2.0 * DEG
        )


register_protocol(
    Protocol(
        "postural_stability",
        "Postural stability",
        "3 practice + 3 test trials of 20 s: OSI, APSI, MLSI, zones",
        PosturalStabilitySettings,
        lambda app, settings: PosturalStability(app, settings),
    )
)
