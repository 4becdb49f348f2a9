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

Surface: on the board (the default), or on the floor — the board LOCKED on its flat mat (the
person stands on it; it cannot tilt) or stepped off and set aside (the person stands on the floor
beside it). On the floor the board cannot see a loss of balance (a locked board does not tilt, a
board set aside rests on its rim), so edge touches and a "step-off" neither count nor end a
trial: the clinician stops it with "Stop trial" (a set-aside board never reads level, so its
trials start with a tap or the button instead of the level hold).

Only this protocol shows age reference values: Springer 2007's, for single-leg stance on a firm
floor, labelled "reference values (Springer 2007)" with the citation, never as a verdict
(:mod:`wobble_trainer.norms`), and only on the floor: on the wobble board times are shorter than
on the floor, and the norms are not shown as a comparison. Like with like
(:func:`wobble_trainer.norms.comparable`): the best of 3 beside the best-of-3 value, the mean of
3 beside the mean-of-3 value, for a run of 3 trials of at most 45 s; another number of trials or
maximum shows the reference values without the person's times beside them.

Limb symmetry (:func:`wobble_trainer.metrics.limb_symmetry`): the injured leg's best time against
the other leg's (the profile's injured side), or, with no single injured side, the non-dominant
leg's against the dominant one's; not the smaller against the larger.
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
SURFACES = ("board", "floor")
FLOOR_SETUP = "On the FLOOR: board LOCKED on its flat mat, or stepped off and set aside"


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
    surface: str = "board"
    """"board", or "floor" (board locked or stepped off): what the reference values compare with."""

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField("legs", "Legs", (LEGS, ("left",), ("right",)), _names),
        SettingField("eyes", "Eyes", (EYES, ("open",), ("closed",)), _names),
        SettingField("trials", "Trials each", (1, 2, 3, 4, 5)),
        SettingField("max_s", "Maximum", (10.0, 20.0, 30.0, 45.0, 60.0), seconds),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
        SettingField(
            "stop_at_edge", "Edge touch ends", (True, False), lambda v: "yes" if v else "no"
        ),
        SettingField("surface", "Surface", SURFACES),
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
        if self.surface not in SURFACES:
            raise ValueError(f"surface must be one of {SURFACES}")

    @property
    def on_floor(self) -> bool:
        return self.surface == "floor"


def condition_key(leg: str, eyes: str) -> str:
    return f"{leg}/eyes-{eyes}"


class SingleLegStance(ProtocolRunner):
    name = "single_leg_stance"
    title = "Single-leg stance"
    off_board = OffBoard.END

    def __init__(self, app: AppContext, settings: SingleLegStanceSettings | None = None) -> None:
        super().__init__(app, settings or SingleLegStanceSettings())
        if self.settings.on_floor:
            # The board sees nothing of a floor stance: only the clinician ends a trial.
            self.off_board = OffBoard.CONTINUE
            self.track_edges = False

    def build_plan(self) -> list[TrialSpec]:
        s = self.settings
        where = " on the floor" if s.on_floor else ""
        setup = FLOOR_SETUP if s.on_floor else ""
        plan = []
        for eyes in s.eyes:
            for k in range(1, s.trials + 1):
                for leg in s.legs:
                    plan.append(
                        TrialSpec(
                            label=f"{condition_key(leg, eyes)}/trial {k}",
                            instruction=(
                                f"Stand on your {leg.upper()} leg{where}, eyes {eyes.upper()}. "
                                "Arms crossed; lift the other foot at GO."
                            ),
                            duration_s=s.max_s,
                            eyes_closed=eyes == "closed",
                            setup=setup,
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
        """Springer 2007 reference values for the profile's age, per eyes condition run (none on
        the board: the norms were measured on a floor)."""
        profile = self.app.profile
        birth_year = getattr(profile, "birth_year", None)
        out = {}
        for eyes in self.settings.eyes:
            ref = norms.reference_for(
                self.name, birth_year, eyes == "closed", day, surface=self.settings.surface
            )
            if ref is not None:
                out[f"eyes-{eyes}"] = ref
        return out

    @property
    def comparable(self) -> bool:
        """Run as the norms were measured (floor, 3 trials, 45 s): times may sit beside them."""
        s = self.settings
        return norms.comparable(s.surface, s.trials, s.max_s)

    def symmetry(self) -> tuple[dict[str, float | None], metrics.SymmetrySides | None]:
        """Limb symmetry of the best times per eyes condition, and which leg was compared with
        which (from the profile); ({}, None) without a side to compare."""
        profile = self.app.profile
        sides = metrics.symmetry_sides(
            getattr(profile, "injured_side", None), getattr(profile, "dominant_leg", None)
        )
        conditions = self.conditions()
        out: dict[str, float | None] = {}
        if sides is None:
            return out, None
        for eyes in self.settings.eyes:
            involved = conditions.get(condition_key(sides.involved, eyes))
            other = conditions.get(condition_key(sides.reference, eyes))
            if involved and other:
                out[f"eyes-{eyes}"] = metrics.limb_symmetry_index(
                    involved["best_s"], other["best_s"]
                )
        return out, sides

    def summary(self) -> dict[str, Any]:
        conditions = self.conditions()
        symmetry, sides = self.symmetry()
        refs = self.references()
        return {
            "conditions": conditions,
            "surface": self.settings.surface,
            "limb_symmetry_pct": symmetry,
            "limb_symmetry": None if sides is None else sides.as_dict(),
            "reference": {k: v.as_dict() for k, v in refs.items()} or None,
            "reference_comparable": bool(refs) and self.comparable,
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
        symmetry, sides = self.symmetry()
        for eyes, lsi in symmetry.items():
            if lsi is not None and sides is not None:
                lines.append(f"Symmetry {sides.title}, {eyes.replace('-', ' ')}: {lsi:.0f}%")
        notes: list[str] = []
        if sides is None and set(self.settings.legs) == set(LEGS):
            notes.append(
                "No limb symmetry: the profile gives neither a single injured side nor a "
                "dominant leg."
            )
        refs = self.references()
        conditions = self.conditions()
        if refs:
            lines.append(norms.SOURCE[0].upper() + norms.SOURCE[1:] + ":")
            for key, ref in refs.items():
                lines.append("  " + ref.describe())
                if not self.comparable:
                    continue
                for leg in self.settings.legs:
                    c = conditions.get(condition_key(leg, key.split("-", 1)[1]))
                    if c and c["trials"] == norms.NORM_TRIALS:
                        lines.append(f"    {leg}: " + ref.compare(c["best_s"], c["mean_s"]))
            notes.append(
                "Reference values for standing on one leg on a firm floor, shown for context, "
                "not as a pass/fail cut-off. " + norms.CITATION
            )
            if not self.comparable:
                notes.append(
                    f"Times not set beside them: the norms are best and mean of "
                    f"{norms.NORM_TRIALS} trials of at most {norms.NORM_MAX_S:g} s."
                )
        elif not self.settings.on_floor:
            notes.append(
                "On the board: no reference values (Springer 2007 measured on a firm floor; "
                "choose Surface: floor to compare)."
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
