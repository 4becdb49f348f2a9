"""BESS, assisted by the board: 6 × 20 s stances, errors counted (DOMAIN.md §6).

The Balance Error Scoring System: double-leg, single-leg (non-dominant leg) and tandem
(non-dominant foot behind) stances, hands on the hips, eyes closed, first on a firm surface and
then on foam. Adapted here: "board locked" (on the flat mat) is the firm surface, "board free"
the foam; on a 40 cm disc the tandem stance is heel-to-toe as close as the board allows.

Errors, at most 10 per condition (BESS): the board counts the ones it sees —
  * an edge touch (the rim reaches the floor) = 1 error;
  * a step off the board = 1 error. A step-off that comes from an edge touch still going on is
    the same event: that touch's error becomes the step.
The clinician adds the others by tapping on-screen buttons while the condition runs: hands off the
hips, eyes opened, step/stumble/fall, forefoot or heel lifted, hip flexion or abduction > 30°, out
of the test position > 5 s (keys: UP adds an unspecified error, DOWN undoes the last tap). A tap's
"Undo" removes the clinician's last error.

Simultaneous errors count once. The BESS instructions (Guskiewicz's group, University of North
Carolina Sports Medicine Research Laboratory: "If multiple errors occur simultaneously, only one
error is recorded", e.g. a stumble with eyes opening and hands leaving the hips) set no time
window, and a board error and a clinician's tap for the same stumble never land on the same
step: the clinician sees the stumble, picks one of seven buttons and taps (a choice reaction of
several hundred ms, Hick-Hyman), or taps first and the board's step-off detection follows. So a
board error and a clinician error within :data:`SAME_MOMENT_S` of each other (either order) are
one error: the later one is kept in the events as ``"same_as"`` the first and not counted. Two
taps of the clinician always count twice (the clinician saw two errors), as do two board errors
(they are separate touches by construction). The 20 s keep running while the person steps off and
back on (as in BESS); if the person stood in the stance less than 5 s in all, the condition scores
the maximum 10. Eyes closed throughout: 3-2-1 beeps, GO, edge sound, end tone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import ACCENT, RED, TEXT, Layout
from wobble_trainer.app.protocols.base import (
    REST_CHOICES,
    OffBoard,
    Phase,
    Protocol,
    ProtocolRunner,
    SettingField,
    TrialResult,
    TrialSpec,
    register_protocol,
    seconds,
)
from wobble_trainer.app.scene import AppContext, Tick

MAX_ERRORS = 10
MIN_STANCE_S = 5.0
SAME_MOMENT_S = 1.0
"""A board error and a clinician's tap this close in time are one error (see the module note)."""
STANCES = ("double", "single", "tandem")
SURFACES = ("locked", "free")
SETUPS = {
    "locked": "Board LOCKED (firm): set it on the flat mat so it cannot tilt",
    "free": "Board FREE (unstable): take it off the mat, onto the floor",
}
CLINICIAN_ERRORS: tuple[tuple[str, str], ...] = (
    ("hands", "Hands off hips"),
    ("eyes", "Opened eyes"),
    ("stumble", "Step/stumble/fall"),
    ("forefoot-heel", "Forefoot/heel up"),
    ("hip", "Hip flexion or abduction > 30°"),
    ("position", "Out of position >5 s"),
)
TEST_LEGS = ("non-dominant", "left", "right")


@dataclass(frozen=True)
class BessSettings:
    surfaces: tuple[str, ...] = SURFACES
    duration_s: float = 20.0
    test_leg: str = "non-dominant"
    """Leg for the single stance and the rear foot of the tandem stance."""
    rest_s: float = 10.0

    FIELDS: ClassVar[tuple[SettingField, ...]] = (
        SettingField(
            "surfaces", "Surfaces", (SURFACES, ("locked",), ("free",)), lambda v: " + ".join(v)
        ),
        SettingField("duration_s", "Each", (10.0, 20.0, 30.0), seconds),
        SettingField("test_leg", "Test leg", TEST_LEGS),
        SettingField("rest_s", "Rest", tuple(float(r) for r in REST_CHOICES), seconds),
    )

    def __post_init__(self) -> None:
        if not self.surfaces or set(self.surfaces) - set(SURFACES):
            raise ValueError(f"surfaces must be some of {SURFACES}")
        if len(set(self.surfaces)) != len(self.surfaces):
            raise ValueError("each surface once")
        if not 5.0 <= self.duration_s <= 60.0:
            raise ValueError("condition length must be 5-60 s")
        if self.test_leg not in TEST_LEGS:
            raise ValueError(f"test leg must be one of {TEST_LEGS}")
        if not 0.0 <= self.rest_s <= 300.0:
            raise ValueError("rest must be 0-300 s")


class Bess(ProtocolRunner):
    name = "bess"
    title = "BESS (assisted)"
    off_board = OffBoard.CONTINUE

    def __init__(self, app: AppContext, settings: BessSettings | None = None) -> None:
        self.errors: list[dict[str, Any]] = []
        """Counted errors of the condition running: {"t", "kind", "by": "board" | "clinician"},
        with "also": the other counter's same-moment errors merged into it."""
        self._taps: list[dict[str, Any]] = []
        """The clinician's taps of this condition, newest last (what Undo takes back)."""
        self.was_on_board = True
        self.stance_s = 0.0
        super().__init__(app, settings or BessSettings())

    @property
    def leg(self) -> str:
        """The test leg, the non-dominant one resolved from the profile (left if unknown)."""
        if self.settings.test_leg != "non-dominant":
            return self.settings.test_leg
        dominant = getattr(self.app.profile, "dominant_leg", None)
        return "right" if dominant == "left" else "left"

    def build_plan(self) -> list[TrialSpec]:
        leg = self.leg.upper()
        texts = {
            "double": "Feet together",
            "single": f"Stand on your {leg} leg",
            "tandem": f"{leg} foot behind, heel to toe",
        }
        plan = []
        for surface in self.settings.surfaces:
            for stance in STANCES:
                plan.append(
                    TrialSpec(
                        label=f"{surface}/{stance}",
                        instruction=f"{texts[stance]}, hands on hips, eyes CLOSED",
                        duration_s=self.settings.duration_s,
                        eyes_closed=True,
                        setup=SETUPS[surface],
                        params={"surface": surface, "stance": stance, "leg": self.leg},
                    )
                )
        return plan

    # -- errors ------------------------------------------------------------------------------
    @property
    def score(self) -> int:
        """Errors of the running condition as scored (capped at 10)."""
        return min(MAX_ERRORS, len(self.errors))

    def add_error(self, kind: str, by: str = "clinician") -> None:
        """Count an error now (the clinician's taps call this with their kind), unless it is the
        same moment's error from the other counter (:data:`SAME_MOMENT_S`): then it is noted
        beside the counted one, not counted."""
        if self.phase is not Phase.RUNNING or self.paused:
            return
        t = round(self.elapsed, 3)
        error: dict[str, Any] = {"t": t, "event": "error", "kind": kind, "by": by}
        same = self._same_moment(t, by)
        if same is not None:
            error["same_as"] = {"t": same["t"], "kind": same["kind"], "by": same["by"]}
            same.setdefault("also", []).append(error)
        else:
            self.errors.append(error)
        self.events.append(error)
        if by == "clinician":
            self._taps.append(error)

    def _same_moment(self, t: float, by: str) -> dict[str, Any] | None:
        """The counted error of the other counter within :data:`SAME_MOMENT_S` of ``t`` that no
        error of ``by`` was merged into yet, if any."""
        for e in reversed(self.errors):
            if t - e["t"] > SAME_MOMENT_S + 1e-9:
                break
            if e["by"] != by and not any(a["by"] == by for a in e.get("also", [])):
                return e
        return None

    def undo(self) -> None:
        """Take back the clinician's last tap of this condition (counted or merged)."""
        if not self._taps:
            return
        tap = self._taps.pop()
        if "same_as" in tap:
            for e in self.errors:
                also = e.get("also", [])
                if any(a is tap for a in also):
                    also[:] = [a for a in also if a is not tap]
                    if not also:
                        del e["also"]
                    break
        else:
            self.errors.remove(tap)
        self.events.remove(tap)
        self.events.append({"t": round(self.elapsed, 3), "event": "undo", "kind": tap["kind"]})

    def running_buttons(self) -> list[tuple[str, Callable[[], None]]]:
        buttons = [(label, _adder(self, kind)) for kind, label in CLINICIAN_ERRORS]
        return [*buttons, ("Undo", self.undo)]

    def protocol_command(self, command: Command) -> None:
        if command is Command.UP:
            self.add_error("other")
        elif command is Command.DOWN:
            self.undo()

    def start_trial(self, spec: TrialSpec) -> None:
        self.errors = []
        self._taps = []
        self.was_on_board = True
        self.stance_s = 0.0

    def on_edge_touch(self, tick: Tick) -> None:
        if tick.on_board:
            self.add_error("edge", by="board")

    def step_trial(self, dt: float, tick: Tick) -> None:
        if tick.on_board:
            self.stance_s += dt
        elif self.was_on_board:
            touch = self._touch_going_on()
            if touch is not None:
                touch["kind"] = "step-off"  # one event: the touch was the step off
            else:
                self.add_error("step-off", by="board")
        self.was_on_board = tick.on_board

    def _touch_going_on(self) -> dict[str, Any] | None:
        """The board's error of the edge touch still going on (counted or merged), if any."""
        if not self.edge.on_edge:
            return None
        since = round(self.edge_since, 3)
        for e in reversed(self.events):
            if e.get("event") == "error" and e["by"] == "board" and e["t"] == since:
                return e if e["kind"] == "edge" else None
        return None

    def trial_metrics(self, result: TrialResult, angles: np.ndarray) -> dict[str, Any]:
        raw = len(self.errors)
        short = self.stance_s < MIN_STANCE_S - 1e-9
        return {
            "errors": raw,
            "score": MAX_ERRORS if short else min(MAX_ERRORS, raw),
            "stance_s": round(self.stance_s, 3),
            "under_5_s": short,
            "by_kind": _count_kinds(self.errors),
            "board_errors": sum(1 for e in self.errors if e["by"] == "board"),
            "clinician_errors": sum(1 for e in self.errors if e["by"] == "clinician"),
            "same_moment": sum(len(e.get("also", [])) for e in self.errors),
            **self.balance_metrics(),
        }

    def summary(self) -> dict[str, Any]:
        per = {
            r.spec.label: {
                k: r.metrics[k]
                for k in (
                    "errors",
                    "score",
                    "stance_s",
                    "under_5_s",
                    "by_kind",
                    "board_errors",
                    "clinician_errors",
                )
            }
            for r in self.results
        }
        totals = {
            surface: sum(c["score"] for label, c in per.items() if label.startswith(surface))
            for surface in self.settings.surfaces
        }
        return {
            "conditions": per,
            "surface_totals": totals,
            "total": sum(totals.values()),
            "test_leg": self.leg,
        }

    def result_lines(self) -> tuple[list[str], list[str]]:
        s = self.summary()
        lines = [f"BESS total: {s['total']} errors"]
        for surface, total in s["surface_totals"].items():
            lines.append(f"Board {surface}: {total}")
        for label, c in s["conditions"].items():
            surface, stance = label.split("/")
            kinds = ", ".join(f"{k} {n}" for k, n in c["by_kind"].items())
            text = f"  {stance} ({surface}): {c['score']}"
            if c["under_5_s"]:
                text += " (under 5 s in stance)"
            elif kinds:
                text += f"  [{kinds}]"
            lines.append(text)
        return lines, [
            f"Single and tandem stances on the {s['test_leg']} leg. "
            "At most 10 errors per condition."
        ]

    def draw_running(self, surface: pygame.Surface, layout: Layout, area: pygame.Rect) -> None:
        y = self.draw_clock(surface, layout, area)
        p = self.spec.params
        y = layout.text(
            surface,
            f"{p['stance']} stance, board {p['surface']}",
            layout.small_size,
            (area.centerx, y + layout.small_size // 2),
            TEXT,
        ).bottom
        colour = RED if self.score >= MAX_ERRORS else ACCENT
        y = layout.text(
            surface,
            f"Errors: {self.score}",
            layout.title_size,
            (area.centerx, y + layout.title_size // 2 + layout.margin),
            colour,
        ).bottom
        recent = [e["kind"] for e in self.errors[-3:]]
        if recent:
            layout.text(
                surface,
                "last: " + ", ".join(recent),
                layout.small_size,
                (area.centerx, y + layout.small_size),
                TEXT,
            )


def _adder(scene: Bess, kind: str) -> Callable[[], None]:
    return lambda: scene.add_error(kind)


def _count_kinds(errors: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in errors:
        out[e["kind"]] = out.get(e["kind"], 0) + 1
    return out


register_protocol(
    Protocol(
        "bess",
        "BESS (assisted)",
        "6 x 20 s stances; the board counts steps and edge touches, you tap the rest",
        BessSettings,
        lambda app, settings: Bess(app, settings),
    )
)
