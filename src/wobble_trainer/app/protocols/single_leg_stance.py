"""Timed single-leg stance on the board (after Springer et al. 2007, DOMAIN.md §6).

Left and right leg, eyes open and closed, arms crossed; each condition has 3 trials (best of 3
and mean of 3 are reported) of at most 45 s. A trial stops at the first edge touch (the rim
reaches the floor: the person lost balance) or when the person steps off the board, and the
score is the stance time up to that moment; the clinician can also stop it with a tap for the
rules the board cannot see (arms uncrossed, the lifted foot touching the standing leg or the
floor, eyes opened). Eyes closed, everything is sound: 3-2-1 beeps, GO (lift the foot, close the
eyes), the edge sound and the end tone (open the eyes).

Order: eyes open before eyes closed; within a condition the legs alternate trial by trial
(L1 R1 L2 R2 L3 R3) so neither leg does its trials back to back tired.

Only this protocol shows age reference values: Springer 2007's, for single-leg stance on a firm
floor, labelled "reference values (Springer 2007)" with the citation, never as a verdict
(:mod:`wobble_trainer.norms`). On the wobble board times are shorter than on the floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pygame

from wobble_trainer import metrics, norms
from wobble_trainer.app.layout import ACCENT, MUTED, Layout
from wobble_trainer.app.protocols.base import (
    REST_CHOICES,
    OffBoard,
    Protocol,
    ProtocolRunner,
    SettingField,
    TrialResult,
    TrialSpec,
    register_protocol,
    seconds,
)
from wobble_trainer.app.scene import AppContext, Tick

LEGS = ("left", "right")
EYES = ("open", "closed")


def _names(value: tuple[str, ...]) -> str:
    return " + ".join(value)


@dataclass(frozen=True)
class SingleLegStanceSettings:
    legs: tuple[str, ...] = LEGS
    eyes: tuple[str, ...] = EYES
    trials: int = 3
    """Trials per leg and eyes condition (best of / mean of these)."""
    max_s: float = 45.0
    rest_s: float = 10.0
    stop_at_edge: bool = True
    """An edge touch ends the trial (off: only a step-off or the clinician ends it)."""

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField("legs", "Legs", (LEGS, ("left",), ("right",)), _names),
        SettingField("eyes", "Eyes", (EYES, ("open",), ("closed",)), _names),
        SettingField("trials", "Trials each", (1, 2, 3, 4, 5)),
        SettingField("max_s", "Maximum", (10.0, 20.0, 30.0, 45.0, 60.0), seconds),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
        SettingField(
            "stop_at_edge", "Edge touch ends", (True, False), lambda v: "yes" if v else "no"
        ),
    )

    def __post_init__(self) -> None:
        if not self.legs or len(set(self.legs)) != len(self.legs) or set(self.legs) - set(LEGS):
            raise ValueError(f"legs must be some of {LEGS}, each once")
        if not self.eyes or len(set(self.eyes)) != len(self.eyes) or set(self.eyes) - set(EYES):
            raise ValueError(f"eyes must be some of {EYES}, each once")
        if not 1 <= self.trials <= 5:
            raise ValueError("trials must be 1-5")
        if not 5.0 <= self.max_s <= 120.0:
            raise ValueError("the maximum stance time must be 5-120 s")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")


def condition_key(leg: str, eyes: str) -> str:
    return f"{leg}/eyes-{eyes}"


class SingleLegStance(ProtocolRunner):
    name = "single_leg_stance"
    title = "Single-leg stance"
    off_board = OffBoard.END

    def __init__(self, app: AppContext, settings: SingleLegStanceSettings | None = None) -> None:
        super().__init__(app, settings or SingleLegStanceSettings())

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        plan = []
        for eyes in s.eyes:
            for k in range(1, s.trials + 1):
                for leg in s.legs:
                    plan.append(
                        TrialSpec(
                            label=f"{condition_key(leg, eyes)}/trial {k}",
                            instruction=(
                                f"Stand on your {leg.upper()} leg, eyes {eyes.upper()}. "
                                "Arms crossed; lift the other foot at GO."
                            ),
                            duration_s=s.max_s,
                            eyes_closed=eyes == "closed",
                            params={"leg": leg, "eyes": eyes, "trial": k},
                        )
                    )
        return plan

    def on_edge_touch(self, tick: Tick) -> None:
        if self.settings.stop_at_edge:
            self.end_trial("edge")

    def stop_by_clinician(self) -> None:
        self.events.append({"t": round(self.elapsed, 3), "event": "clinician-stop"})
        self.end_trial("clinician")

    def running_buttons(self) -> list[tuple[str, Callable[[], None]]]:
        return [("Stop trial", self.stop_by_clinician)]

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        return {
            "stance_time_s": round(result.time_s, 3),
            **self.balance_metrics(),
        }

    # -- scoring -----------------------------------------------------------------------------
    def conditions(self) -> dict[str, dict[str, Any]]:
        """Per leg/eyes condition: the trial times, best of and mean of them."""
        out: dict[str, dict[str, Any]] = {}
        for eyes in self.settings.eyes:
            for leg in self.settings.legs:
                times = [
                    r.time_s
                    for r in self.results
                    if r.spec.params["leg"] == leg and r.spec.params["eyes"] == eyes
                ]
                if not times:
                    continue
                out[condition_key(leg, eyes)] = {
                    "times_s": [round(t, 3) for t in times],
                    "best_s": round(max(times), 3),
                    "mean_s": round(sum(times) / len(times), 3),
                    "trials": len(times),
                }
        return out

    def references(self, day: date | None = None) -> dict[str, norms.StanceReference]:
        """Springer 2007 reference values for the profile's age, per eyes condition run."""
        profile = self.app.profile
        birth_year = getattr(profile, "birth_year", None)
        out = {}
        for eyes in self.settings.eyes:
            ref = norms.reference_for(self.name, birth_year, eyes == "closed", day)
            if ref is not None:
                out[f"eyes-{eyes}"] = ref
        return out

    def summary(self) -> dict[str, Any]:
        conditions = self.conditions()
        symmetry = {}
        for eyes in self.settings.eyes:
            left = conditions.get(condition_key("left", eyes))
            right = conditions.get(condition_key("right", eyes))
            if left and right:
                symmetry[f"eyes-{eyes}"] = metrics.limb_symmetry_index(
                    left["best_s"], right["best_s"]
                )
        refs = self.references()
        return {
            "conditions": conditions,
            "limb_symmetry_pct": symmetry,
            "reference": {k: v.as_dict() for k, v in refs.items()} or None,
        }

    def result_lines(self) -> tuple[list[str], list[str]]:
        lines = []
        for key, c in self.conditions().items():
            leg, eyes = key.split("/")
            times = " / ".join(f"{t:.1f}" for t in c["times_s"])
            lines.append(
                f"{leg.capitalize()}, {eyes.replace('-', ' ')}: best {c['best_s']:.1f} s, "
                f"mean {c['mean_s']:.1f} s ({times})"
            )
        summary = self.summary()
        for eyes, lsi in summary["limb_symmetry_pct"].items():
            if lsi is not None:
                lines.append(f"Left/right symmetry, {eyes.replace('-', ' ')}: {lsi:.0f}%")
        notes: list[str] = []
        refs = self.references()
        if refs:
            lines.append(norms.SOURCE[0].upper() + norms.SOURCE[1:] + ":")
            lines.extend("  " + ref.describe() for ref in refs.values())
            notes.append(
                "Reference values for standing on one leg on a firm floor, shown for context, "
                "not as a pass/fail cut-off. " + norms.CITATION
            )
        elif getattr(self.app.profile, "birth_year", None) is None:
            notes.append("No reference values: the profile has no birth year.")
        return lines, notes

    # -- drawing -----------------------------------------------------------------------------
    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        p = self.spec.params
        text = f"{p['leg'].upper()} leg, eyes {p['eyes'].upper()}"
        y = layout.text(
            surface, text, layout.body_size, (area.centerx, area.y + layout.body_size // 2), MUTED
        ).bottom
        layout.text(
            surface,
            f"{self.elapsed:4.1f} s",
            layout.title_size * 3 // 2,
            (area.centerx, y + layout.title_size),
            ACCENT,
        )
        y += layout.title_size * 2
        rest = pygame.Rect(area.x, y, area.width, area.bottom - y)
        if self.spec.eyes_closed:
            layout.text(
                surface, "Eyes closed: listen for the tones", layout.small_size, rest.center, MUTED
            )
        elif rest.height > 40:
            self.draw_board(surface, layout, rest)


register_protocol(
    Protocol(
        "single_leg_stance",
        "Single-leg stance",
        "Left and right, eyes open and closed: best of 3, up to 45 s",
        SingleLegStanceSettings,
        lambda app, settings: SingleLegStance(app, settings),
    )
)
